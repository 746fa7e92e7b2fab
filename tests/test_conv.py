"""Convolution and pooling: float64 gradcheck of every op and option (stride, padding incl.
'same', dilation, groups incl. depthwise, no bias, ceil_mode, count_include_pad, non-square
kernels, unbatched inputs), second derivatives, forward values and gradients against PyTorch
(a table of configs plus hypothesis-drawn ones), layer defaults (shapes, initialisation,
state_dict keys), errors, and a LeNet-5 training run against PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import autograd as ag
import nn
import nn.functional as F

# PyTorch warns that padding='same' with even kernels copies the input; the oracle's business
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")

# ---- helpers ------------------------------------------------------------------------------


@pytest.fixture(params=["chwn", "nchw", "nchw-chunks", "nchw-threads", "numpy-threads"])
def layout(request, monkeypatch):
    """Run a test with the conv ops forced to work batch-innermost or in C order inside (the
    choice is by image width otherwise: the small test images would only see one); C order
    also one sample per chunk (the small test images would otherwise fit in one), and that on
    3 engine threads (``parallel_groups``: 3 groups of chunks at once, whatever the cores).
    With numba the CPU passes run the compiled im2col + GEMM kernels (``_gemm_conv``);
    ``numpy-threads`` runs the NumPy chunks they replace, on 3 threads."""
    from autograd import parallel
    from nn.functional import conv

    monkeypatch.setattr(conv, "_layout", lambda n, wo: request.param == "chwn")
    if request.param in ("nchw-chunks", "nchw-threads", "numpy-threads"):
        monkeypatch.setattr(conv, "_CHUNK_BYTES", 1)
        monkeypatch.setattr(conv, "_SPLIT_MIN_MACS", 1)  # the test sizes split too
        monkeypatch.setattr(conv, "_KERNEL_MIN_WORK", 1)
    if request.param == "numpy-threads":
        monkeypatch.setattr(conv, "_gemm_fn", lambda *arrays: None)
    monkeypatch.setattr(parallel, "_requested", 3 if request.param.endswith("-threads") else 1)
    return request.param


def rnd(*shape, seed=0, requires_grad=True):
    a = np.random.default_rng(seed).standard_normal(shape)
    return ag.tensor(a, requires_grad=requires_grad)


def npy(t):
    return t.detach().numpy()


def torch_check(fn, tfn, *arrays, rtol=1e-10, atol=1e-10, seed=1):
    """fn(*tensors) equals tfn(*torch tensors) in value and in the gradients of every input
    for a random upstream gradient (float64)."""
    torch = pytest.importorskip("torch")
    xs = [ag.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, yt = fn(*xs), tfn(*ts)
    assert tuple(y.shape) == tuple(yt.shape)
    np.testing.assert_allclose(npy(y), yt.detach().numpy(), rtol=rtol, atol=atol)
    g = np.random.default_rng(seed).standard_normal(tuple(yt.shape))
    y.backward(ag.tensor(g))
    yt.backward(torch.tensor(g))
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(npy(x.grad), t.grad.numpy(), rtol=rtol, atol=atol)


def arrays(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


# ---- conv2d -------------------------------------------------------------------------------

CONV2D = [  # (x shape, weight shape, kwargs)
    ((2, 3, 6, 5), (4, 3, 3, 3), {}),
    ((2, 3, 7, 6), (4, 3, 3, 2), dict(stride=2, padding=1)),
    ((1, 2, 7, 7), (3, 2, 2, 3), dict(stride=(2, 1), padding=(1, 2), dilation=(2, 1))),
    ((2, 4, 6, 6), (6, 2, 3, 3), dict(groups=2, padding="same")),
    ((2, 4, 5, 6), (4, 1, 3, 2), dict(groups=4, padding="same", dilation=2)),  # depthwise
    ((2, 3, 5, 5), (2, 3, 4, 2), dict(padding="same")),  # even kernels: extra pad at the end
    ((2, 3, 5, 6), (2, 3, 3, 3), dict(padding="valid", stride=(1, 2))),
    ((2, 4, 5, 5), (6, 2, 1, 1), dict(groups=2)),  # 1x1
    ((2, 3, 4, 5), (4, 3, 1, 1), dict(padding=(1, 2))),  # 1x1 padded: col2im crops
    ((2, 2, 4, 4), (3, 2, 4, 4), dict()),  # kernel = input
]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("xs, ws, kw", CONV2D)
def test_conv2d_gradcheck(xs, ws, kw, bias, layout):
    x, w = rnd(*xs), rnd(*ws, seed=1)
    args = (x, w, rnd(ws[0], seed=2)) if bias else (x, w)
    assert ag.gradcheck(lambda *a: F.conv2d(*a, **kw), args)


@pytest.mark.parametrize("xs, ws, kw", CONV2D)
def test_conv2d_torch(xs, ws, kw, layout):
    torch = pytest.importorskip("torch")
    x, w, b = arrays(xs, ws, (ws[0],))
    torch_check(lambda x, w, b: F.conv2d(x, w, b, **kw),
                lambda x, w, b: torch.nn.functional.conv2d(x, w, b, **kw), x, w, b)


def test_conv2d_unbatched():
    torch = pytest.importorskip("torch")
    x, w, b = arrays((3, 6, 5), (4, 3, 3, 2), (4,))
    torch_check(lambda x, w, b: F.conv2d(x, w, b, padding=1),
                lambda x, w, b: torch.nn.functional.conv2d(x, w, b, padding=1), x, w, b)
    assert ag.gradcheck(lambda x, w: F.conv2d(x, w, stride=2), (rnd(3, 5, 5), rnd(2, 3, 2, 2)))


@pytest.mark.parametrize("kw", [
    dict(stride=(2, 1), padding=1, dilation=(1, 2), groups=2),
    dict(padding="same", groups=2),
])
def test_conv2d_gradgradcheck(kw, layout):
    x, w, b = rnd(2, 4, 5, 6), rnd(6, 2, 3, 2, seed=1), rnd(6, seed=2)
    assert ag.gradgradcheck(lambda x, w, b: F.conv2d(x, w, b, **kw), (x, w, b))


def test_conv2d_third_order():
    """Conv's three ops differentiate each other: a third derivative is right too."""
    x, w = rnd(1, 2, 4, 4), rnd(2, 2, 2, 2, seed=1)

    def f(x, w):
        y = F.conv2d(x, w, padding=1)
        return (y * y * y).sum()

    (gx,) = ag.grad(f(x, w), [x], create_graph=True)
    (gw,) = ag.grad((gx * gx).sum(), [w], create_graph=True)
    assert gw.requires_grad

    def second(x, w):
        (gx,) = ag.grad(f(x, w), [x], create_graph=True)
        return (gx * gx).sum()

    assert ag.gradgradcheck(second, (x, w))


# ---- conv1d -------------------------------------------------------------------------------

CONV1D = [
    ((2, 3, 9), (4, 3, 3), dict(stride=2, padding=1)),
    ((2, 4, 8), (4, 2, 3), dict(groups=2, dilation=2, padding="same")),
    ((2, 4, 7), (4, 1, 4), dict(groups=4, padding="same")),
    ((2, 3, 7), (2, 3, 2), dict(padding="valid")),
]


@pytest.mark.parametrize("xs, ws, kw", CONV1D)
def test_conv1d(xs, ws, kw, layout):
    torch = pytest.importorskip("torch")
    x, w, b = arrays(xs, ws, (ws[0],))
    torch_check(lambda x, w, b: F.conv1d(x, w, b, **kw),
                lambda x, w, b: torch.nn.functional.conv1d(x, w, b, **kw), x, w, b)
    assert ag.gradcheck(lambda x, w: F.conv1d(x, w, **kw), (rnd(*xs), rnd(*ws, seed=1)))


def test_conv1d_unbatched_and_gradgrad():
    x, w = rnd(3, 7), rnd(2, 3, 3, seed=1)
    y = F.conv1d(x, w, padding=1)
    assert tuple(y.shape) == (2, 7)
    assert ag.gradcheck(lambda x, w: F.conv1d(x, w, padding=1), (x, w))
    assert ag.gradgradcheck(lambda x, w: F.conv1d(x, w, stride=2), (rnd(2, 3, 7), w))


# ---- conv_transpose -----------------------------------------------------------------------

CONVT2D = [  # weight (C_in, C_out / groups, kh, kw)
    ((2, 4, 3, 4), (4, 3, 3, 3), {}),
    ((2, 4, 3, 4), (4, 3, 3, 2), dict(stride=2, padding=1, output_padding=1)),
    ((1, 4, 4, 3), (4, 2, 2, 3), dict(stride=(1, 2), padding=(0, 1), groups=2, dilation=2)),
    ((2, 3, 3, 3), (3, 1, 3, 3), dict(groups=3, stride=3, output_padding=(2, 0))),
    ((2, 2, 4, 4), (2, 2, 2, 2), dict(dilation=(2, 1), output_padding=(1, 0), stride=(1, 2))),
]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("xs, ws, kw", CONVT2D)
def test_conv_transpose2d_gradcheck(xs, ws, kw, bias, layout):
    x, w = rnd(*xs), rnd(*ws, seed=1)
    c_out = ws[1] * kw.get("groups", 1)
    args = (x, w, rnd(c_out, seed=2)) if bias else (x, w)
    assert ag.gradcheck(lambda *a: F.conv_transpose2d(*a, **kw), args)


@pytest.mark.parametrize("xs, ws, kw", CONVT2D)
def test_conv_transpose2d_torch(xs, ws, kw, layout):
    torch = pytest.importorskip("torch")
    x, w, b = arrays(xs, ws, (ws[1] * kw.get("groups", 1),))
    torch_check(lambda x, w, b: F.conv_transpose2d(x, w, b, **kw),
                lambda x, w, b: torch.nn.functional.conv_transpose2d(x, w, b, **kw), x, w, b)


def test_conv_transpose2d_is_conv2d_adjoint():
    """<conv2d(x, w), g> == <x, conv_transpose2d(g, w)> with the same options."""
    x, w = rnd(2, 4, 7, 6), rnd(6, 2, 3, 2, seed=1)
    kw = dict(stride=2, padding=1, dilation=(1, 2), groups=2)
    y = F.conv2d(x, w, **kw)
    g = rnd(*y.shape, seed=3)
    op = tuple(a - b for a, b in zip(x.shape[2:], F.conv_transpose2d(g, w, **kw).shape[2:]))
    xt = F.conv_transpose2d(g, w, output_padding=op, **kw)
    assert tuple(xt.shape) == tuple(x.shape)
    np.testing.assert_allclose(float((y * g).sum().item()), float((x * xt).sum().item()))


def test_conv_transpose_gradgrad_and_unbatched(layout):
    x, w = rnd(2, 4, 3, 3), rnd(4, 3, 2, 3, seed=1)
    assert ag.gradgradcheck(
        lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=(1, 0), output_padding=1),
        (x, w))
    assert ag.gradcheck(lambda x, w: F.conv_transpose2d(x, w, stride=2), (rnd(4, 3, 2), w))
    assert ag.gradcheck(lambda x, w: F.conv_transpose1d(x, w, stride=2, output_padding=1),
                        (rnd(2, 3, 4), rnd(3, 2, 3, seed=1)))


def test_conv_transpose1d_torch():
    torch = pytest.importorskip("torch")
    x, w, b = arrays((2, 4, 5), (4, 3, 3), (6,))
    kw = dict(stride=2, padding=1, output_padding=1, groups=2, dilation=1)
    torch_check(lambda x, w, b: F.conv_transpose1d(x, w, b, **kw),
                lambda x, w, b: torch.nn.functional.conv_transpose1d(x, w, b, **kw), x, w, b)


# ---- hypothesis: random conv configurations against PyTorch -------------------------------


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # fixed per run
@given(data=st.data())
def test_conv2d_random_configs_torch(data, layout):
    torch = pytest.importorskip("torch")
    d = data.draw
    groups = d(st.sampled_from([1, 2, 3]))
    cin, cout = groups * d(st.integers(1, 2)), groups * d(st.integers(1, 2))
    kh, kw_, sh, sw = d(st.integers(1, 3)), d(st.integers(1, 3)), d(st.integers(1, 3)), \
        d(st.integers(1, 2))
    dh, dw = d(st.integers(1, 2)), d(st.integers(1, 2))
    ph, pw = d(st.integers(0, 2)), d(st.integers(0, 2))
    h, w = d(st.integers(1, 7)), d(st.integers(1, 7))
    assume(h + 2 * ph >= dh * (kh - 1) + 1 and w + 2 * pw >= dw * (kw_ - 1) + 1)
    x, wt, b = arrays((2, cin, h, w), (cout, cin // groups, kh, kw_), (cout,),
                      seed=d(st.integers(0, 99)))
    kw = dict(stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw), groups=groups)
    torch_check(lambda x, w, b: F.conv2d(x, w, b, **kw),
                lambda x, w, b: torch.nn.functional.conv2d(x, w, b, **kw), x, wt, b)
    # the transposed convolution of the same geometry
    if max(sh, dh) > 1:
        op = (d(st.integers(0, max(sh, dh) - 1)), 0)
        assume(op[0] < sh or op[0] < dh)
    else:
        op = (0, 0)
    kt = dict(stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw), groups=groups,
              output_padding=op)
    ho = (h - 1) * sh - 2 * ph + dh * (kh - 1) + op[0] + 1
    wo = (w - 1) * sw - 2 * pw + dw * (kw_ - 1) + 1
    assume(ho >= 1 and wo >= 1)
    x2, w2 = arrays((2, cin, h, w), (cin, cout // groups, kh, kw_), seed=5)
    torch_check(lambda x, w: F.conv_transpose2d(x, w, **kt),
                lambda x, w: torch.nn.functional.conv_transpose2d(x, w, **kt), x2, w2)


# ---- pooling ------------------------------------------------------------------------------

MAXPOOL = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=(3, 2), stride=(1, 2), dilation=(2, 1)),
    dict(kernel_size=(2, 3), stride=1, padding=(1, 1), dilation=2, ceil_mode=True),
    dict(kernel_size=2, stride=3, ceil_mode=True),
]


@pytest.mark.parametrize("kw", MAXPOOL)
def test_max_pool2d(kw):
    torch = pytest.importorskip("torch")
    (x,) = arrays((2, 3, 7, 6))
    torch_check(lambda x: F.max_pool2d(x, **kw),
                lambda x: torch.nn.functional.max_pool2d(x, **kw), x)
    assert ag.gradcheck(lambda x: F.max_pool2d(x, **kw), (ag.tensor(x, requires_grad=True),))
    y, idx = F.max_pool2d(ag.tensor(x), return_indices=True, **kw)
    yt, it = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **kw)
    np.testing.assert_array_equal(idx.numpy(), it.numpy())
    assert idx.dtype == np.int64


def test_max_pool_ties_go_to_first_maximum():
    """After a ReLU whole windows are 0: the gradient goes to the first element, as in
    PyTorch, not split nor duplicated."""
    torch = pytest.importorskip("torch")
    x = np.maximum(np.random.default_rng(0).standard_normal((2, 3, 8, 8)), 0)
    x[0, 0, :2, :2] = 0.0
    x[0, 1, 2:4, 2:4] = 1.5
    for kw in (dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)):
        torch_check(lambda x: F.max_pool2d(x, **kw),
                    lambda x: torch.nn.functional.max_pool2d(x, **kw), x)
        _, idx = F.max_pool2d(ag.tensor(x), return_indices=True, **kw)
        _, it = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **kw)
        np.testing.assert_array_equal(idx.numpy(), it.numpy())


def test_max_pool_unbatched_1d_and_gradgrad():
    torch = pytest.importorskip("torch")
    (x,) = arrays((3, 7, 6))
    torch_check(lambda x: F.max_pool2d(x, 2, ceil_mode=True),
                lambda x: torch.nn.functional.max_pool2d(x, 2, ceil_mode=True), x)
    (x1,) = arrays((2, 3, 9))
    for kw in (dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, dilation=1,
                                         ceil_mode=True), dict(kernel_size=2, dilation=3)):
        torch_check(lambda x: F.max_pool1d(x, **kw),
                    lambda x: torch.nn.functional.max_pool1d(x, **kw), x1)
    _, idx = F.max_pool1d(ag.tensor(x1), 3, 2, 1, return_indices=True)
    _, it = torch.nn.functional.max_pool1d(torch.tensor(x1), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), it.numpy())
    assert ag.gradgradcheck(lambda x: F.max_pool2d(x, 3, 2, 1), (rnd(2, 2, 5, 5),))


AVGPOOL = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0)),
    dict(kernel_size=2, stride=3, ceil_mode=True),
    dict(kernel_size=(3, 2), divisor_override=4),
]


@pytest.mark.parametrize("kw", AVGPOOL)
def test_avg_pool2d(kw):
    torch = pytest.importorskip("torch")
    (x,) = arrays((2, 3, 7, 6))
    torch_check(lambda x: F.avg_pool2d(x, **kw),
                lambda x: torch.nn.functional.avg_pool2d(x, **kw), x)
    assert ag.gradcheck(lambda x: F.avg_pool2d(x, **kw), (ag.tensor(x, requires_grad=True),))


def test_avg_pool_unbatched_1d_and_gradgrad():
    torch = pytest.importorskip("torch")
    (x,) = arrays((3, 7, 6))
    torch_check(lambda x: F.avg_pool2d(x, 3, 2, 1),
                lambda x: torch.nn.functional.avg_pool2d(x, 3, 2, 1), x)
    (x1,) = arrays((2, 3, 9))
    for args in ((2,), (3, 2, 1, True, False), (3, 2, 1, False, True)):
        torch_check(lambda x: F.avg_pool1d(x, *args),
                    lambda x: torch.nn.functional.avg_pool1d(x, *args), x1)
    assert ag.gradgradcheck(lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True),
                            (rnd(2, 2, 5, 6),))


@pytest.mark.parametrize("size", [1, 3, (2, 3), (4, None), (5, 4), (7, 6)])
def test_adaptive_avg_pool2d(size):
    torch = pytest.importorskip("torch")
    (x,) = arrays((2, 3, 7, 6))
    torch_check(lambda x: F.adaptive_avg_pool2d(x, size),
                lambda x: torch.nn.functional.adaptive_avg_pool2d(x, size), x)
    assert ag.gradcheck(lambda x: F.adaptive_avg_pool2d(x, size), (rnd(1, 2, 7, 6),))


def test_adaptive_avg_pool_unbatched_1d_and_gradgrad():
    torch = pytest.importorskip("torch")
    (x,) = arrays((3, 7, 6))
    torch_check(lambda x: F.adaptive_avg_pool2d(x, (3, 4)),
                lambda x: torch.nn.functional.adaptive_avg_pool2d(x, (3, 4)), x)
    (x1,) = arrays((2, 3, 9))
    for size in (1, 3, 4):
        torch_check(lambda x: F.adaptive_avg_pool1d(x, size),
                    lambda x: torch.nn.functional.adaptive_avg_pool1d(x, size), x1)
    assert ag.gradgradcheck(lambda x: F.adaptive_avg_pool2d(x, (3, 4)), (rnd(1, 2, 5, 6),))


@given(data=st.data())
def test_pool_random_configs_torch(data):
    torch = pytest.importorskip("torch")
    d = data.draw
    kh, kw_ = d(st.integers(1, 3)), d(st.integers(1, 3))
    sh, sw = d(st.integers(1, 3)), d(st.integers(1, 3))
    ph, pw = d(st.integers(0, kh // 2)), d(st.integers(0, kw_ // 2))
    dil = (d(st.integers(1, 2)), d(st.integers(1, 2)))
    ceil = d(st.booleans())
    h, w = d(st.integers(1, 8)), d(st.integers(1, 8))
    assume(h + 2 * ph >= dil[0] * (kh - 1) + 1 and w + 2 * pw >= dil[1] * (kw_ - 1) + 1)
    (x,) = arrays((2, 2, h, w), seed=d(st.integers(0, 99)))
    kw = dict(kernel_size=(kh, kw_), stride=(sh, sw), padding=(ph, pw), ceil_mode=ceil)
    # a window entirely in the padding: PyTorch's max-pool backward then writes out of its
    # plane (a bug); skip that degenerate case
    for n, k, s_, p, dl in ((h, kh, sh, ph, dil[0]), (w, kw_, sw, pw, dil[1])):
        num = n + 2 * p - dl * (k - 1) - 1
        o = (num + (s_ - 1 if ceil else 0)) // s_ + 1
        o -= ceil and (o - 1) * s_ >= n + p
        assume(all(any(0 <= i * s_ - p + j * dl < n for j in range(k)) for i in range(o)))
    torch_check(lambda x: F.max_pool2d(x, dilation=dil, **kw),
                lambda x: torch.nn.functional.max_pool2d(x, dilation=dil, **kw), x)
    assume(h + 2 * ph >= kh and w + 2 * pw >= kw_)
    cip = d(st.booleans())
    torch_check(lambda x: F.avg_pool2d(x, count_include_pad=cip, **kw),
                lambda x: torch.nn.functional.avg_pool2d(x, count_include_pad=cip, **kw), x)


# ---- interpolate --------------------------------------------------------------------------

INTERP = [
    dict(scale_factor=2),
    dict(scale_factor=3, mode="nearest"),
    dict(size=(11, 4)),
    dict(scale_factor=1.7),
    dict(scale_factor=(0.5, 1.5)),
    dict(size=(5, 13), mode="nearest-exact"),
    dict(scale_factor=2, mode="bilinear"),
    dict(size=(11, 4), mode="bilinear", align_corners=True),
    dict(scale_factor=(0.6, 1.5), mode="bilinear"),
    dict(size=(9, 8), mode="bilinear", align_corners=False),
    dict(size=(3, 4), mode="area"),
]


@pytest.mark.parametrize("kw", INTERP)
def test_interpolate(kw):
    torch = pytest.importorskip("torch")
    (x,) = arrays((2, 3, 7, 6))
    torch_check(lambda x: F.interpolate(x, **kw),
                lambda x: torch.nn.functional.interpolate(x, **kw), x)
    assert ag.gradcheck(lambda x: F.interpolate(x, **kw), (rnd(1, 2, 7, 6),))


@pytest.mark.parametrize("kw", [dict(scale_factor=2.5, mode="linear"),
                                dict(size=4, mode="linear", align_corners=True),
                                dict(scale_factor=2), dict(size=5, mode="nearest-exact")])
def test_interpolate_1d(kw):
    torch = pytest.importorskip("torch")
    (x,) = arrays((2, 3, 7))
    torch_check(lambda x: F.interpolate(x, **kw),
                lambda x: torch.nn.functional.interpolate(x, **kw), x)
    assert ag.gradcheck(lambda x: F.interpolate(x, **kw), (rnd(1, 2, 7),))


def test_interpolate_gradgrad_and_upsample():
    assert ag.gradgradcheck(lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear"),
                            (rnd(1, 2, 4, 3),))
    up = nn.Upsample(scale_factor=2, mode="nearest")
    assert tuple(up(rnd(1, 1, 2, 3)).shape) == (1, 1, 4, 6)
    with pytest.raises(ValueError, match="either size or scale_factor"):
        F.interpolate(rnd(1, 1, 2, 2))
    with pytest.raises(NotImplementedError, match="bilinear mode needs 4D input"):
        F.interpolate(rnd(1, 1, 4), scale_factor=2, mode="bilinear")
    with pytest.raises(NotImplementedError, match="bicubic"):
        F.interpolate(rnd(1, 1, 2, 2, 2), scale_factor=2, mode="bicubic")


# ---- unfold / fold ------------------------------------------------------------------------


def test_unfold_fold():
    torch = pytest.importorskip("torch")
    (x,) = arrays((2, 3, 6, 5))
    kw = dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=(2, 1))
    torch_check(lambda x: F.unfold(x, **kw), lambda x: torch.nn.functional.unfold(x, **kw), x)
    (c,) = arrays((2, 3 * 6, 24))
    fk = dict(output_size=(5, 6), kernel_size=(2, 3), padding=(1, 0))
    torch_check(lambda c: F.fold(c, **fk), lambda c: torch.nn.functional.fold(c, **fk), c)
    assert ag.gradgradcheck(lambda x: F.unfold(x, 2, padding=1), (rnd(1, 2, 3, 3),))
    assert ag.gradcheck(lambda c: F.fold(c, **fk), (rnd(1, 18, 24),))
    assert tuple(nn.Unfold(2)(rnd(3, 4, 4)).shape) == (12, 9)
    assert tuple(nn.Fold((4, 5), 2)(rnd(1, 12, 12)).shape) == (1, 3, 4, 5)


# ---- layers -------------------------------------------------------------------------------


@pytest.mark.parametrize("cls, args, wshape", [
    (nn.Conv1d, (4, 6, 3), (6, 4, 3)),
    (nn.Conv2d, (4, 6, (3, 2)), (6, 4, 3, 2)),
    (nn.Conv2d, (4, 6, 3, 1, 0, 1, 2), (6, 2, 3, 3)),
    (nn.ConvTranspose1d, (4, 6, 3), (4, 6, 3)),
    (nn.ConvTranspose2d, (4, 6, (3, 2)), (4, 6, 3, 2)),
    (nn.ConvTranspose2d, (4, 6, 3, 1, 0, 0, 2), (4, 3, 3, 3)),
])
def test_layer_shapes_and_state_dict_like_torch(cls, args, wshape):
    m = cls(*args)
    assert tuple(m.weight.shape) == wshape
    assert tuple(m.bias.shape) == (6,)
    assert list(m.state_dict()) == ["weight", "bias"]
    assert list(cls(*args, bias=False).state_dict()) == ["weight"]
    torch = pytest.importorskip("torch")
    tm = getattr(torch.nn, cls.__name__)(*args)
    assert {k: tuple(v.shape) for k, v in tm.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in m.state_dict().items()}


def test_conv_default_init_bounds():
    m = nn.Conv2d(32, 64, 3)
    fan_in = 32 * 9
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(fan_in), ...)
    w, b = npy(m.weight), npy(m.bias)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.03 * bound
    assert np.abs(b).max() <= bound
    assert m.weight.dtype == np.float32
    t = nn.ConvTranspose2d(8, 12, 3, groups=2)  # fan_in from weight.shape[1] * k * k
    assert np.abs(npy(t.weight)).max() <= 1 / math.sqrt(6 * 9)
    assert nn.Conv2d(1, 2, 3, dtype=ag.float64).weight.dtype == np.float64


LAYERS = [  # (name, args, kwargs, input shape): built the same way in both libraries
    ("Conv2d", (3, 4, 3), dict(stride=2, padding=1), (2, 3, 7, 6)),
    ("Conv2d", (4, 4, 3), dict(padding="same", groups=4, bias=False), (2, 4, 5, 5)),
    ("Conv2d", (3, 4, (3, 2)), dict(padding=(1, 1), padding_mode="reflect"), (2, 3, 6, 6)),
    ("Conv2d", (3, 2, 3), dict(padding=1, padding_mode="circular"), (3, 5, 5)),
    ("Conv2d", (3, 2, 4), dict(padding="same", padding_mode="replicate"), (2, 3, 5, 5)),
    ("Conv1d", (3, 4, 3), dict(padding=2, dilation=2), (2, 3, 9)),
    ("Conv1d", (3, 4, 3), dict(padding=1, padding_mode="reflect"), (2, 3, 9)),
    ("ConvTranspose2d", (3, 4, 3), dict(stride=2, padding=1, output_padding=1), (2, 3, 4, 5)),
    ("ConvTranspose1d", (4, 2, 3), dict(stride=2, groups=2), (2, 4, 5)),
    ("MaxPool2d", (2,), {}, (2, 3, 6, 6)),
    ("MaxPool2d", (3, 2, 1), dict(ceil_mode=True), (2, 3, 6, 6)),
    ("MaxPool1d", (2,), {}, (2, 3, 7)),
    ("AvgPool2d", (3, 2, 1), dict(count_include_pad=False), (2, 3, 6, 6)),
    ("AvgPool2d", (2,), dict(ceil_mode=True, divisor_override=3), (2, 3, 5, 5)),
    ("AvgPool1d", (3, 2, 1), {}, (2, 3, 7)),
    ("AdaptiveAvgPool2d", ((2, 3),), {}, (2, 3, 5, 7)),
    ("AdaptiveAvgPool1d", (3,), {}, (2, 3, 7)),
    ("Upsample", (), dict(scale_factor=2, mode="bilinear"), (2, 3, 3, 4)),
    ("Upsample", ((5, 7),), dict(mode="nearest"), (2, 3, 3, 4)),
]


@pytest.mark.parametrize("name, args, kw, shape", LAYERS)
def test_layers_like_torch(name, args, kw, shape):
    torch = pytest.importorskip("torch")
    m = getattr(nn, name)(*args, **kw).double()
    tm = getattr(torch.nn, name)(*args, **kw).double()
    with torch.no_grad():
        for (k, p), (k2, q) in zip(m.named_parameters(), tm.named_parameters()):
            assert k == k2
            q.copy_(torch.tensor(npy(p)))
    (x,) = arrays(shape)
    xa, xt = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = m(xa), tm(xt)
    np.testing.assert_allclose(npy(y), yt.detach().numpy(), rtol=1e-10, atol=1e-10)
    g = np.random.default_rng(1).standard_normal(tuple(yt.shape))
    y.backward(ag.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(npy(xa.grad), xt.grad.numpy(), rtol=1e-10, atol=1e-10)
    for p, q in zip(m.parameters(), tm.parameters()):
        np.testing.assert_allclose(npy(p.grad), q.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_conv_transpose_output_size():
    m = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)
    x = rnd(1, 4, 5, 5, requires_grad=False).float()
    assert tuple(m(x).shape) == (1, 2, 9, 9)
    assert tuple(m(x, output_size=[10, 10]).shape) == (1, 2, 10, 10)
    assert tuple(m(x, output_size=(1, 2, 9, 10)).shape) == (1, 2, 9, 10)
    with pytest.raises(ValueError, match="valid sizes range from 9 to 10"):
        m(x, output_size=(12, 12))


def test_repr():
    assert repr(nn.Conv2d(1, 6, 5, padding=2)) == \
        "Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))"
    assert repr(nn.Conv2d(4, 4, 3, padding="same", groups=4, bias=False)) == \
        "Conv2d(4, 4, kernel_size=(3, 3), stride=(1, 1), padding=same, groups=4, bias=False)"
    assert repr(nn.MaxPool2d(2)) == \
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"


# ---- errors -------------------------------------------------------------------------------


def test_layer_input_errors_name_layer_and_shapes():
    conv = nn.Conv2d(3, 8, 3)
    msg = r"Conv2d\(in_channels=3, out_channels=8, kernel_size=\(3, 3\)\): expected input " \
          r"of shape \(N, 3, H, W\) or \(3, H, W\), got \(8, 1, 28, 28\)"
    with pytest.raises(RuntimeError, match=msg):
        conv(ag.zeros(8, 1, 28, 28))
    with pytest.raises(RuntimeError, match=r"got \(28, 28\)"):
        conv(ag.zeros(28, 28))
    with pytest.raises(RuntimeError, match=r"Conv1d\(in_channels=2.*\(N, 2, L\).*\(4, 3, 9\)"):
        nn.Conv1d(2, 4, 3)(ag.zeros(4, 3, 9))
    with pytest.raises(RuntimeError, match=r"ConvTranspose2d\(in_channels=4.*got \(1, 3, 5"):
        nn.ConvTranspose2d(4, 2, 3)(ag.zeros(1, 3, 5, 5))
    with pytest.raises(RuntimeError, match=r"max_pool2d: expected input of shape .*got \(5,"):
        nn.MaxPool2d(2)(ag.zeros(5, 5))


def test_functional_errors():
    x = ag.zeros(2, 3, 5, 5)
    with pytest.raises(RuntimeError, match=r"conv2d: expected input with 4 channels"):
        F.conv2d(x, ag.zeros(2, 2, 3, 3), groups=2)
    with pytest.raises(RuntimeError, match=r"kernel can't be greater"):
        F.conv2d(x, ag.zeros(2, 3, 6, 6))
    # PyTorch: RuntimeError from the functional form, ValueError from the modules
    with pytest.raises(RuntimeError, match="not supported for strided"):
        F.conv2d(x, ag.zeros(2, 3, 3, 3), padding="same", stride=2)
    with pytest.raises(RuntimeError, match="Invalid padding string: 'full'"):
        F.conv2d(x, ag.zeros(2, 3, 3, 3), padding="full")
    with pytest.raises(RuntimeError, match="not supported for strided"):
        F.conv1d(ag.zeros(2, 3, 5), ag.zeros(2, 3, 3), padding="same", stride=2)
    with pytest.raises(ValueError, match="not supported for strided"):
        nn.Conv2d(3, 2, 3, padding="same", stride=2)
    with pytest.raises(ValueError, match="Invalid padding string 'full'"):
        nn.Conv2d(3, 2, 3, padding="full")
    with pytest.raises(TypeError, match=r"conv_transpose2d\(\): argument 'padding' must be"):
        F.conv_transpose2d(x, ag.zeros(3, 2, 3, 3), padding="same")
    with pytest.raises(RuntimeError, match=r"expected bias of shape \(2,\)"):
        F.conv2d(x, ag.zeros(2, 3, 3, 3), ag.zeros(3))
    with pytest.raises(RuntimeError, match="same dtype"):
        F.conv2d(x, ag.zeros(2, 3, 3, 3, dtype=ag.float64))
    with pytest.raises(ValueError, match="output padding must be smaller"):
        F.conv_transpose2d(x, ag.zeros(3, 2, 3, 3), stride=2, output_padding=2)
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(RuntimeError, match="too small"):
        F.avg_pool2d(x, 6)
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")


# ---- engine integration -------------------------------------------------------------------


def test_saved_columns_survive_reuse_of_scratch_buffers():
    """The im2col buffers are cached across calls: a graph kept for a second backward must
    still hold its own columns after other convolutions of the same shape ran."""
    x = ag.tensor(np.random.default_rng(0).standard_normal((64, 3, 32, 32)).astype(np.float32))
    w = ag.tensor(np.random.default_rng(1).standard_normal((8, 3, 3, 3)).astype(np.float32),
                  requires_grad=True)
    y = F.conv2d(x, w, padding=1).sum()
    y.backward(retain_graph=True)
    g1 = npy(w.grad).copy()
    w.grad = None
    for s in range(3):  # same shapes, other values
        F.conv2d(x * (s + 2.0), w, padding=1).sum().backward()
    w.grad = None
    y.backward()
    np.testing.assert_allclose(npy(w.grad), g1, rtol=1e-6)


@pytest.mark.parametrize("shape", [(2, 3, 5, 5), (3, 3, 20, 18), (1, 3, 5, 5)])
def test_conv_tensors_are_c_contiguous_like_torch(shape):
    """What users see is what it looks like (PyTorch): conv outputs and gradients report
    is_contiguous() and .numpy() is in C order, whatever layout the op used inside."""
    x, w = rnd(*shape), rnd(4, 3, 3, 3, seed=1)
    b = rnd(4, seed=2)
    y = F.conv2d(x, w, b, padding=1)
    yt = F.conv_transpose2d(y, rnd(4, 2, 3, 3, seed=3), stride=2)
    u = F.unfold(x, 3, padding=1)
    f = F.fold(u, shape[2:], 3, padding=1)
    p = F.max_pool2d(F.relu(y), 2)
    for t in (y, yt, u, f, p, F.conv1d(x[:, :, 0], w[:, :, 0], padding=1)):
        assert t.is_contiguous() and t.detach().numpy().flags.c_contiguous
        assert t.contiguous() is t
    (y.sum() + yt.sum() + f.sum() + p.sum()).backward()
    for t in (x, w, b):
        assert t.grad.is_contiguous() and t.grad.numpy().flags.c_contiguous


def test_conv_outputs_feed_ordinary_ops():
    """Conv outputs (C order outside, whatever the layout inside): every other op must see
    plain values."""
    x, w = rnd(2, 3, 5, 5), rnd(4, 3, 3, 3, seed=1)
    y = F.conv2d(x, w, padding=1)
    ref = npy(y).copy()
    np.testing.assert_array_equal(npy(y.reshape(2, -1)), ref.reshape(2, -1))
    np.testing.assert_array_equal(npy(y[1, 2]), ref[1, 2])
    np.testing.assert_array_equal(npy(y.permute(0, 2, 3, 1)), ref.transpose(0, 2, 3, 1))
    assert ag.gradcheck(lambda x: F.conv2d(x, w, padding=1).flatten(1)[:, ::3], (x,))


def test_lenet_training_matches_torch():
    torch = pytest.importorskip("torch")
    tn = torch.nn

    def net(m):
        return m.Sequential(m.Conv2d(1, 6, 5, padding=2), m.ReLU(), m.MaxPool2d(2),
                            m.Conv2d(6, 16, 5), m.ReLU(), m.MaxPool2d(2), m.Flatten(),
                            m.Linear(400, 120), m.ReLU(), m.Linear(120, 84), m.ReLU(),
                            m.Linear(84, 10))

    import optim

    em, tm = net(nn), net(tn)
    with torch.no_grad():
        for p, q in zip(em.parameters(), tm.parameters()):
            q.copy_(torch.tensor(npy(p)))
    eo = optim.SGD(em.parameters(), lr=0.05, momentum=0.9)
    to = torch.optim.SGD(tm.parameters(), lr=0.05, momentum=0.9)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 1, 28, 28)).astype(np.float32)
    t = rng.integers(0, 10, 16)
    for _ in range(4):
        le = F.cross_entropy(em(ag.tensor(x)), ag.tensor(t))
        eo.zero_grad()
        le.backward()
        eo.step()
        lt = tn.functional.cross_entropy(tm(torch.tensor(x)), torch.tensor(t))
        to.zero_grad()
        lt.backward()
        to.step()
        assert abs(float(le.item()) - float(lt.item())) < 1e-4
    for p, q in zip(em.parameters(), tm.parameters()):
        np.testing.assert_allclose(npy(p), q.detach().numpy(), rtol=1e-3, atol=1e-4)


# ---- 3-D convolutions and conv_tbc ---------------------------------------------------------

CONV3D = [
    ((2, 4, 5, 6, 7), (6, 4, 3, 2, 3), {}),
    ((2, 4, 5, 6, 7), (6, 2, 3, 2, 3), dict(stride=2, padding=1, dilation=(1, 2, 1), groups=2)),
    ((4, 5, 6, 7), (3, 4, 2, 3, 1), dict(stride=(1, 2, 3), padding=(1, 0, 2))),
    ((1, 2, 5, 4, 6), (2, 2, 2, 3, 3), dict(padding="same")),
    ((1, 2, 5, 4, 6), (2, 1, 3, 3, 3), dict(padding="valid", groups=2)),
]


@pytest.mark.parametrize("xs,ws,kw", CONV3D)
@pytest.mark.parametrize("bias", [True, False])
def test_conv3d_vs_torch(xs, ws, kw, bias):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(xs), rng.standard_normal(ws)]
    if bias:
        arrays.append(rng.standard_normal(ws[0]))
    torch_check(lambda *t: F.conv3d(*t, **kw), lambda *t: torch.nn.functional.conv3d(*t, **kw),
                *arrays)


CONVT3D = [
    ((2, 4, 3, 4, 2), (4, 3, 3, 2, 3), {}),
    ((2, 4, 3, 4, 2), (4, 2, 3, 2, 3), dict(stride=2, padding=1, output_padding=1, groups=2)),
    ((4, 3, 4, 2), (4, 3, 2, 3, 2), dict(stride=(1, 2, 3), padding=(1, 0, 1),
                                          dilation=(2, 1, 1), output_padding=(1, 1, 2))),
    ((1, 2, 3, 3, 3), (2, 2, 2, 2, 2), dict(stride=1, dilation=3, output_padding=2)),
]


@pytest.mark.parametrize("xs,ws,kw", CONVT3D)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_transpose3d_vs_torch(xs, ws, kw, bias):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(xs), rng.standard_normal(ws)]
    if bias:
        g = kw.get("groups", 1)
        arrays.append(rng.standard_normal(ws[1] * g))
    torch_check(lambda *t: F.conv_transpose3d(*t, **kw),
                lambda *t: torch.nn.functional.conv_transpose3d(*t, **kw), *arrays)


def test_conv3d_gradcheck_and_double_backward():
    x, w, b = rnd(1, 2, 3, 4, 3), rnd(4, 1, 2, 2, 2, seed=1), rnd(4, seed=2)
    fn = lambda x, w, b: F.conv3d(x, w, b, stride=(1, 2, 1), padding=1, groups=2)  # noqa: E731
    assert ag.gradcheck(fn, (x, w, b))
    assert ag.gradgradcheck(fn, (x, w, b))
    x2, w2 = rnd(1, 2, 2, 3, 2), rnd(2, 1, 2, 2, 2, seed=3)
    ft = lambda x, w: F.conv_transpose3d(x, w, stride=2, output_padding=1)  # noqa: E731
    assert ag.gradcheck(ft, (x2, w2))
    assert ag.gradgradcheck(ft, (x2, w2))


def test_conv3d_float32():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 6, 7, 8)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3, 3)).astype(np.float32)
    y = F.conv3d(ag.tensor(x), ag.tensor(w), stride=2, padding=1)
    assert y.dtype == ag.float32
    yt = torch.nn.functional.conv3d(torch.tensor(x), torch.tensor(w), stride=2, padding=1)
    np.testing.assert_allclose(y.numpy(), yt.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kw", [dict(padding=1), dict(padding="same", padding_mode="reflect"),
                                dict(stride=2, padding=(1, 2, 1), padding_mode="circular"),
                                dict(padding=1, padding_mode="replicate", groups=2)])
def test_conv3d_layer_vs_torch(kw):
    torch = pytest.importorskip("torch")
    m = nn.Conv3d(4, 6, 3, **kw)
    mt = torch.nn.Conv3d(4, 6, 3, **kw).double()
    assert repr(m) == repr(mt)
    assert m.weight.shape == tuple(mt.weight.shape)
    with torch.no_grad():
        mt.weight.copy_(torch.tensor(npy(m.weight)))
        mt.bias.copy_(torch.tensor(npy(m.bias)))
    m = m.double()
    a = np.random.default_rng(0).standard_normal((2, 4, 4, 5, 6))
    x, xt = ag.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, yt = m(x), mt(xt)
    np.testing.assert_allclose(npy(y), yt.detach().numpy(), rtol=1e-10, atol=1e-10)
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(npy(x.grad), xt.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(npy(m.weight.grad), mt.weight.grad.numpy(), rtol=1e-10,
                               atol=1e-10)


def test_conv_transpose3d_layer_vs_torch():
    torch = pytest.importorskip("torch")
    m = nn.ConvTranspose3d(4, 6, 3, stride=2, padding=1, groups=2)
    mt = torch.nn.ConvTranspose3d(4, 6, 3, stride=2, padding=1, groups=2).double()
    assert repr(m) == repr(mt)
    with torch.no_grad():
        mt.weight.copy_(torch.tensor(npy(m.weight)))
        mt.bias.copy_(torch.tensor(npy(m.bias)))
    m = m.double()
    a = np.random.default_rng(0).standard_normal((4, 3, 4, 2))
    y = m(ag.tensor(a), output_size=(6, 8, 4))
    yt = mt(torch.tensor(a), output_size=(6, 8, 4))
    np.testing.assert_allclose(npy(y), yt.detach().numpy(), rtol=1e-10, atol=1e-10)


def test_conv3d_errors():
    x = ag.zeros(1, 2, 3, 3, 3)
    with pytest.raises(RuntimeError, match="5-D weight"):
        F.conv3d(x, ag.zeros(2, 2, 2, 2))
    with pytest.raises(RuntimeError, match="channels"):
        F.conv3d(x, ag.zeros(2, 3, 2, 2, 2))
    with pytest.raises(RuntimeError, match="kernel can't be greater"):
        F.conv3d(x, ag.zeros(2, 2, 4, 2, 2))
    with pytest.raises(RuntimeError, match="strided"):
        F.conv3d(x, ag.zeros(2, 2, 2, 2, 2), stride=2, padding="same")
    with pytest.raises(RuntimeError, match="expected input"):
        F.conv3d(ag.zeros(2, 3, 3), ag.zeros(2, 2, 2, 2, 2))
    with pytest.raises(ValueError, match="output padding"):
        F.conv_transpose3d(x, ag.zeros(2, 2, 2, 2, 2), stride=2, output_padding=2)


def test_conv_tbc_vs_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((7, 2, 3)), rng.standard_normal((3, 3, 4)),
              rng.standard_normal(4)]
    for pad in (0, 1, 2):
        torch_check(lambda x, w, b: F.conv_tbc(x, w, b, pad),
                    lambda x, w, b: torch.conv_tbc(x, w, b, pad), *arrays)
    with pytest.raises(RuntimeError, match="Input must have 3 dims"):
        F.conv_tbc(ag.zeros(5, 2), ag.zeros(2, 3, 4), ag.zeros(4))
    with pytest.raises(RuntimeError, match="input channels"):
        F.conv_tbc(ag.zeros(5, 2, 3), ag.zeros(2, 4, 4), ag.zeros(4))
    with pytest.raises(RuntimeError, match="Bias size"):
        F.conv_tbc(ag.zeros(5, 2, 3), ag.zeros(2, 3, 4), ag.zeros(5))


@pytest.mark.parametrize("fn,xs,ws", [
    ("conv1d", (0, 4, 20), (5, 4, 3)), ("conv3d", (0, 2, 6, 6, 6), (3, 2, 3, 3, 3)),
    ("conv_transpose2d", (0, 4, 9, 9), (4, 5, 3, 3)),
    ("conv_transpose3d", (0, 2, 5, 5, 5), (2, 3, 3, 3, 3)),
])
def test_empty_batch_other_convs(fn, xs, ws):
    """0 samples: PyTorch's output shape, an empty input gradient and a zero weight gradient
    (the N-d path once reshaped the empty columns with an ambiguous -1)."""
    x = ag.tensor(np.zeros(xs, np.float32), requires_grad=True)
    w = ag.tensor(np.ones(ws, np.float32), requires_grad=True)
    y = getattr(F, fn)(x, w, padding=1)
    y.sum().backward()
    assert tuple(x.grad.shape) == xs and not w.grad.numpy().any()
    torch = pytest.importorskip("torch")
    ty = getattr(torch.nn.functional, fn)(torch.zeros(xs), torch.ones(ws), padding=1)
    assert tuple(y.shape) == tuple(ty.shape)
