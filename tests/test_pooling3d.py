"""3-D pooling, adaptive and fractional max pooling, LP pooling and max unpooling against
PyTorch (values, indices, gradients), float64 gradcheck, the layers, and PyTorch's errors."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def rng(seed=0):
    return np.random.default_rng(seed)


def compare(fn, tfn, a, rtol=1e-10, atol=1e-10, outputs=1):
    """fn(x) vs tfn(xt): values (and indices when ``outputs`` is 2) and input gradients."""
    x, xt = ag.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, yt = fn(x), tfn(xt)
    if outputs == 2:
        (y, i), (yt, it) = y, yt
        np.testing.assert_array_equal(i.numpy(), it.numpy())
        assert i.dtype == ag.int64
    assert tuple(y.shape) == tuple(yt.shape)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=rtol, atol=atol)
    g = rng(5).standard_normal(tuple(yt.shape)).astype(a.dtype)
    y.backward(ag.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=rtol, atol=atol)


POOL3 = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(2, 3, 1), stride=(1, 2, 3), padding=(1, 1, 0), ceil_mode=True),
    dict(kernel_size=3, stride=1, padding=1),
]


@pytest.mark.parametrize("kw", POOL3 + [dict(kernel_size=2, dilation=2, padding=1),
                                        dict(kernel_size=3, stride=2, dilation=(1, 2, 1),
                                             ceil_mode=True)])
@pytest.mark.parametrize("unbatched", [False, True])
def test_max_pool3d(kw, unbatched):
    shape = (3, 5, 6, 7) if unbatched else (2, 3, 5, 6, 7)
    a = rng().standard_normal(shape)
    compare(lambda x: F.max_pool3d(x, **kw, return_indices=True),
            lambda x: TF.max_pool3d(x, **kw, return_indices=True), a, outputs=2)
    compare(lambda x: F.max_pool3d_with_indices(x, **kw)[0],
            lambda x: TF.max_pool3d_with_indices(x, **kw)[0], a)


@pytest.mark.parametrize("kw", POOL3 + [dict(kernel_size=3, stride=2, padding=1,
                                             count_include_pad=False),
                                        dict(kernel_size=3, stride=2, padding=1,
                                             ceil_mode=True, count_include_pad=False),
                                        dict(kernel_size=2, divisor_override=3)])
def test_avg_pool3d(kw):
    a = rng().standard_normal((2, 3, 5, 6, 7))
    compare(lambda x: F.avg_pool3d(x, **kw), lambda x: TF.avg_pool3d(x, **kw), a)
    compare(lambda x: F.avg_pool3d(x, **kw), lambda x: TF.avg_pool3d(x, **kw), a[0])


def test_pool3d_float32_and_int():
    a = rng().standard_normal((2, 3, 4, 5, 6)).astype(np.float32)
    compare(lambda x: F.avg_pool3d(x, 2, 1), lambda x: TF.avg_pool3d(x, 2, 1), a, 1e-5, 1e-6)
    compare(lambda x: F.max_pool3d(x, 2, 1), lambda x: TF.max_pool3d(x, 2, 1), a, 1e-6, 1e-7)
    i = np.arange(2 * 4 * 4 * 4).reshape(1, 2, 4, 4, 4)
    np.testing.assert_array_equal(F.max_pool3d(ag.tensor(i), 2).numpy(),
                                  TF.max_pool3d(torch.tensor(i), 2).numpy())


def test_max_pool_nan_and_ties():
    a = np.array([[[[[1.0, np.nan], [np.nan, 2]], [[3, 4], [5, 6]]]]])
    y, i = F.max_pool3d(ag.tensor(a), 2, return_indices=True)
    yt, it = TF.max_pool3d(torch.tensor(a), 2, return_indices=True)
    np.testing.assert_array_equal(i.numpy(), it.numpy())
    assert np.isnan(y.numpy()).all() and np.isnan(yt.numpy()).all()
    b = np.ones((1, 1, 3, 3, 3))
    compare(lambda x: F.max_pool3d(x, 2, 1, return_indices=True),
            lambda x: TF.max_pool3d(x, 2, 1, return_indices=True), b, outputs=2)
    c = np.array([[[1.0, np.nan, np.nan, 2, -np.inf]]])
    for out in (1, 2):
        y, i = F.adaptive_max_pool1d(ag.tensor(c), out, return_indices=True)
        yt, it = TF.adaptive_max_pool1d(torch.tensor(c), out, return_indices=True)
        np.testing.assert_array_equal(i.numpy(), it.numpy())


@pytest.mark.parametrize("nd,shape,out", [
    (1, (2, 3, 7), 3), (1, (3, 10), 4), (2, (2, 3, 7, 5), (3, 2)), (2, (3, 7, 5), (4, None)),
    (2, (1, 2, 5, 5), 5), (3, (2, 2, 5, 6, 7), (2, 4, 3)), (3, (2, 5, 4, 3), 2)])
def test_adaptive_max_pool(nd, shape, out):
    a = rng().standard_normal(shape)
    f, tf = getattr(F, f"adaptive_max_pool{nd}d"), getattr(TF, f"adaptive_max_pool{nd}d")
    compare(lambda x: f(x, out, return_indices=True),
            lambda x: tf(x, out, return_indices=True), a, outputs=2)
    fw = getattr(F, f"adaptive_max_pool{nd}d_with_indices")
    compare(lambda x: fw(x, out)[0], lambda x: tf(x, out), a)


@pytest.mark.parametrize("shape,out", [((2, 3, 5, 6, 7), (2, 4, 3)), ((3, 4, 5, 6), 2),
                                       ((1, 2, 5, 6, 7), (5, None, 1))])
def test_adaptive_avg_pool3d(shape, out):
    a = rng().standard_normal(shape)
    compare(lambda x: F.adaptive_avg_pool3d(x, out), lambda x: TF.adaptive_avg_pool3d(x, out),
            a, 1e-12, 1e-12)


@pytest.mark.parametrize("nd,shape,kw", [
    (2, (2, 3, 9, 8), dict(kernel_size=2, output_size=(4, 5))),
    (2, (2, 3, 9, 8), dict(kernel_size=(3, 2), output_ratio=(0.5, 0.6))),
    (2, (3, 9, 8), dict(kernel_size=2, output_size=4)),
    (2, (2, 3, 7, 7), dict(kernel_size=3, output_size=1)),
    (3, (2, 2, 7, 8, 9), dict(kernel_size=2, output_size=(3, 4, 5))),
    (3, (2, 7, 8, 9), dict(kernel_size=(2, 3, 2), output_ratio=0.5)),
])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fractional_max_pool(nd, shape, kw, dtype):
    a = rng().standard_normal(shape).astype(dtype)
    n = 1 if len(shape) == nd + 1 else shape[0]
    u = rng(3).uniform(0, 1, (n, shape[-nd - 1], nd)).astype(dtype)
    f, tf = getattr(F, f"fractional_max_pool{nd}d"), getattr(TF, f"fractional_max_pool{nd}d")
    tol = 1e-10 if dtype == np.float64 else 1e-6
    compare(lambda x: f(x, **kw, return_indices=True, _random_samples=ag.tensor(u)),
            lambda x: tf(x, **kw, return_indices=True, _random_samples=torch.tensor(u)), a,
            tol, tol, outputs=2)
    fw = getattr(F, f"fractional_max_pool{nd}d_with_indices")
    y, i = fw(ag.tensor(a), **kw)  # samples drawn here: shape and range only
    assert i.numpy().max() < np.prod(shape[-nd:]) and y.shape == i.shape


def test_fractional_max_pool_errors_and_layers():
    x = ag.zeros(1, 1, 5, 5)
    with pytest.raises(ValueError, match="output_size or an output_ratio"):
        F.fractional_max_pool2d(x, 2)
    with pytest.raises(RuntimeError, match="too large"):
        F.fractional_max_pool2d(x, 2, output_size=5)
    with pytest.raises(RuntimeError, match="channel size"):
        F.fractional_max_pool2d(x, 2, output_size=2, _random_samples=ag.rand(1, 2, 2))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.FractionalMaxPool2d(2, output_ratio=1.5)
    with pytest.raises(ValueError, match="pooling ratio"):
        nn.FractionalMaxPool2d(2)
    u = rng().uniform(0, 1, (2, 3, 3))
    a = rng(1).standard_normal((2, 3, 6, 7, 8))
    m = nn.FractionalMaxPool3d(2, output_size=(3, 4, 5), _random_samples=ag.tensor(u))
    mt = torch.nn.FractionalMaxPool3d(2, output_size=(3, 4, 5),
                                      _random_samples=torch.tensor(u))
    np.testing.assert_array_equal(m(ag.tensor(a)).numpy(), mt(torch.tensor(a)).numpy())
    assert nn.FractionalMaxPool2d(3, output_ratio=0.5)(ag.randn(2, 3, 10, 12)).shape == \
        (2, 3, 5, 6)


@pytest.mark.parametrize("nd,shape,kw", [
    (1, (2, 3, 9), dict(norm_type=2, kernel_size=3)),
    (1, (3, 9), dict(norm_type=3, kernel_size=2, stride=1, ceil_mode=True)),
    (2, (2, 3, 6, 7), dict(norm_type=2, kernel_size=(2, 3), stride=2)),
    (2, (2, 3, 6, 7), dict(norm_type=1.5, kernel_size=3, ceil_mode=True)),
    (3, (2, 2, 5, 6, 4), dict(norm_type=2, kernel_size=2)),
    (3, (2, 5, 6, 4), dict(norm_type=4, kernel_size=(2, 3, 2), stride=1)),
])
def test_lp_pool(nd, shape, kw):
    a = np.abs(rng().standard_normal(shape)) + 0.1
    f, tf = getattr(F, f"lp_pool{nd}d"), getattr(TF, f"lp_pool{nd}d")
    compare(lambda x: f(x, **kw), lambda x: tf(x, **kw), a, 1e-10, 1e-10)
    m, mt = getattr(nn, f"LPPool{nd}d")(**kw), getattr(torch.nn, f"LPPool{nd}d")(**kw)
    assert repr(m) == repr(mt)
    np.testing.assert_allclose(m(ag.tensor(a)).numpy(), mt(torch.tensor(a)).numpy(),
                               rtol=1e-10)


@pytest.mark.parametrize("nd,shape,kw", [
    (1, (2, 3, 9), dict(kernel_size=3, stride=2, ceil_mode=True)),
    (2, (2, 3, 6, 7), dict(kernel_size=(2, 3), stride=2)),
    (3, (1, 2, 4, 5, 4), dict(kernel_size=2)),
])
@pytest.mark.parametrize("p", [float("inf"), -float("inf")])
def test_lp_pool_infinite_norm(nd, shape, kw, p):
    # PyTorch's limits: the max (p = inf) or min (p = -inf) of |x| over each window, signed
    # inputs included (x ** inf would give 1s)
    a = rng().standard_normal(shape) * 2
    f, tf = getattr(F, f"lp_pool{nd}d"), getattr(TF, f"lp_pool{nd}d")
    compare(lambda x: f(x, p, **kw), lambda x: tf(x, p, **kw), a, 1e-12, 1e-12)


@pytest.mark.parametrize("nd,shape,kw,out", [
    (1, (2, 3, 8), dict(kernel_size=2), None),
    (1, (3, 9), dict(kernel_size=3, stride=2, padding=1), (9,)),
    (2, (2, 3, 6, 7), dict(kernel_size=2), (6, 7)),
    (2, (3, 6, 7), dict(kernel_size=3, stride=2, padding=1), (6, 7)),
    (3, (2, 2, 4, 6, 5), dict(kernel_size=2), (1, 1, 4, 6, 5)),
    (3, (2, 4, 6, 5), dict(kernel_size=2, stride=1), None),
])
def test_max_unpool(nd, shape, kw, out):
    a = rng().standard_normal(shape)
    pool = getattr(TF, f"max_pool{nd}d")
    yt, it = pool(torch.tensor(a), **kw, return_indices=True)
    y, i = getattr(F, f"max_pool{nd}d")(ag.tensor(a), **kw, return_indices=True)
    np.testing.assert_array_equal(i.numpy(), it.numpy())
    f, tf = getattr(F, f"max_unpool{nd}d"), getattr(TF, f"max_unpool{nd}d")
    compare(lambda x: f(x, i, **kw, output_size=out), lambda x: tf(x, it, **kw, output_size=out),
            yt.numpy())
    m, mt = getattr(nn, f"MaxUnpool{nd}d")(**kw), getattr(torch.nn, f"MaxUnpool{nd}d")(**kw)
    assert repr(m) == repr(mt)
    np.testing.assert_array_equal(m(y, i, out).numpy(), mt(yt, it, out).numpy())


def test_max_unpool_errors():
    y = ag.zeros(1, 1, 2, 2)
    with pytest.raises(RuntimeError, match="invalid max index"):
        F.max_unpool2d(y, ag.tensor(np.array([[[[0, 1], [2, 99]]]])), 2)
    with pytest.raises(ValueError, match="invalid output_size"):
        F.max_unpool2d(y, ag.tensor(np.array([[[[0, 1], [2, 3]]]])), 2, output_size=(9, 9))
    # the size printed as passed, as PyTorch does
    with pytest.raises(ValueError, match=r'output_size "torch.Size\(\[9, 9\]\)"'):
        F.max_unpool2d(y, ag.tensor(np.array([[[[0, 1], [2, 3]]]])), 2,
                       output_size=ag.zeros(9, 9).shape)
    with pytest.raises(ValueError, match=r'output_size "\[9, 9\]"'):
        F.max_unpool2d(y, ag.tensor(np.array([[[[0, 1], [2, 3]]]])), 2, output_size=[1, 1, 9, 9])


@pytest.mark.parametrize("fn,args", [
    (lambda x: F.max_pool3d(x, 2, 1, 1), (1, 2, 3, 3, 3)),
    (lambda x: F.avg_pool3d(x, 3, 2, 1, True, False), (1, 2, 4, 3, 3)),
    (lambda x: F.adaptive_max_pool2d(x, (2, 3)), (1, 2, 5, 4)),
    (lambda x: F.adaptive_avg_pool3d(x, (2, 3, 2)), (1, 1, 3, 4, 3)),
    (lambda x: F.lp_pool2d(x, 2, 2), (1, 2, 4, 4)),
    (lambda x: F.fractional_max_pool2d(x, 2, output_size=3, _random_samples=ag.tensor(
        np.full((1, 2, 2), 0.4))), (1, 2, 5, 6)),
])
def test_pool_gradcheck(fn, args):
    a = rng().standard_normal(args)
    if fn.__code__.co_names.count("lp_pool2d"):
        a = np.abs(a) + 0.5
    x = ag.tensor(a, requires_grad=True)
    assert ag.gradcheck(fn, (x,))
    assert ag.gradgradcheck(fn, (x,))


@pytest.mark.parametrize("fn,tfn,shape", [
    (F.max_pool3d, TF.max_pool3d, (1, 1, 4, 4)),
    (lambda x: F.max_pool3d(x, 2, padding=2), lambda x: TF.max_pool3d(x, 2, padding=2),
     (1, 1, 4, 4, 4)),
    (lambda x: F.avg_pool3d(x, 5), lambda x: TF.avg_pool3d(x, 5), (1, 1, 4, 4, 4)),
    (lambda x: F.max_pool3d(x, 5), lambda x: TF.max_pool3d(x, 5), (1, 1, 4, 4, 4)),
    (lambda x: F.avg_pool3d(x, 2, divisor_override=0),
     lambda x: TF.avg_pool3d(x, 2, divisor_override=0), (1, 1, 4, 4, 4)),
    (lambda x: F.adaptive_avg_pool3d(x, (2, 2)), lambda x: TF.adaptive_avg_pool3d(x, (2, 2)),
     (1, 2, 2, 2)),
])
def test_pool3d_errors(fn, tfn, shape):
    if fn is F.max_pool3d:
        fn, tfn = (lambda x: F.max_pool3d(x, 2, 1, 0, 1, False)), \
            (lambda x: TF.max_pool3d(x, 2, 1, 0, 1, False))
        shape = (1, 1, 4)
    with pytest.raises(RuntimeError):
        tfn(torch.zeros(shape))
    with pytest.raises(RuntimeError):
        fn(ag.zeros(*shape))


LAYERS = [
    ("MaxPool3d", (2,), {}, (2, 2, 4, 4, 4)),
    ("MaxPool3d", (3,), dict(stride=2, padding=1, return_indices=True), (2, 4, 5, 6)),
    ("AvgPool3d", (3,), dict(stride=2, padding=1, count_include_pad=False), (2, 2, 4, 5, 6)),
    ("AdaptiveAvgPool3d", ((2, 3, None),), {}, (2, 2, 4, 5, 6)),
    ("AdaptiveMaxPool1d", (3,), dict(return_indices=True), (2, 3, 7)),
    ("AdaptiveMaxPool2d", ((2, None),), {}, (2, 3, 7, 5)),
    ("AdaptiveMaxPool3d", (2,), dict(return_indices=True), (2, 3, 5, 4, 3)),
]


@pytest.mark.parametrize("name,args,kw,shape", LAYERS)
def test_pool_layers(name, args, kw, shape):
    m, mt = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(m) == repr(mt)
    a = rng().standard_normal(shape)
    y, yt = m(ag.tensor(a)), mt(torch.tensor(a))
    if isinstance(yt, tuple):
        np.testing.assert_array_equal(y[1].numpy(), yt[1].numpy())
        y, yt = y[0], yt[0]
    np.testing.assert_allclose(y.numpy(), yt.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("nd", [1, 2])
def test_with_indices_1d_2d(nd):
    a = rng().standard_normal((2, 3) + (7,) * nd)
    f, tf = getattr(F, f"max_pool{nd}d_with_indices"), getattr(TF, f"max_pool{nd}d_with_indices")
    compare(lambda x: f(x, 3, 2, 1), lambda x: tf(x, 3, 2, 1), a, outputs=2)


@pytest.mark.parametrize("fn,shapes", [
    (lambda x: F.avg_pool3d(x, 2, 1, 1), [(1, 2, 3, 3, 3)]),
    (lambda x: F.max_pool3d(x, 2, 1), [(1, 2, 3, 3, 3)]),
    (lambda x: F.adaptive_max_pool2d(x, 2), [(1, 2, 5, 4)]),
    (lambda x, w, b: F.conv3d(x, w, b, padding=1), [(1, 2, 3, 3, 3), (3, 2, 2, 2, 2), (3,)]),
    (lambda x, w: F.conv_transpose3d(x, w, stride=2), [(1, 2, 2, 3, 2), (2, 3, 2, 2, 2)]),
    (lambda x, g: F.grid_sample(x, g, align_corners=False), [(1, 2, 3, 4), (1, 2, 3, 2)]),
])
def test_forward_mode_matches_finite_differences(fn, shapes):
    from autograd.func import jvp

    r = rng(7)
    xs = [r.standard_normal(s) for s in shapes]
    ts = [r.standard_normal(s) for s in shapes]
    _, tan = jvp(fn, tuple(ag.tensor(a) for a in xs), tuple(ag.tensor(t) for t in ts))
    eps = 1e-6
    hi = fn(*[ag.tensor(a + eps * t) for a, t in zip(xs, ts)]).numpy()
    lo = fn(*[ag.tensor(a - eps * t) for a, t in zip(xs, ts)]).numpy()
    np.testing.assert_allclose(tan.numpy(), (hi - lo) / (2 * eps), rtol=1e-5, atol=1e-6)
