"""pixel_shuffle / pixel_unshuffle / channel_shuffle, affine_grid and grid_sample against
PyTorch (values and gradients with respect to input, grid and theta), float64 gradcheck,
the layers, and PyTorch's errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def rng(seed=0):
    return np.random.default_rng(seed)


def compare(fn, tfn, arrays, rtol=1e-10, atol=1e-10, grad=True):
    xs = [ag.tensor(a, requires_grad=grad) for a in arrays]
    ts = [torch.tensor(a, requires_grad=grad) for a in arrays]
    y, yt = fn(*xs), tfn(*ts)
    assert tuple(y.shape) == tuple(yt.shape)
    assert str(y.dtype).split(".")[-1] == str(yt.dtype).split(".")[-1]
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=rtol, atol=atol)
    if not grad:
        return
    g = rng(9).standard_normal(tuple(yt.shape)).astype(arrays[0].dtype)
    y.backward(ag.tensor(g))
    yt.backward(torch.tensor(g))
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol)


# ---- shuffles -------------------------------------------------------------------------------


@pytest.mark.parametrize("shape,r", [((1, 8, 3, 2), 2), ((9, 2, 3), 3), ((2, 2, 4, 3, 2), 1),
                                     ((2, 3, 4, 5, 8), 2)])
def test_pixel_shuffle(shape, r):
    a = rng().standard_normal(shape)
    compare(lambda x: F.pixel_shuffle(x, r), lambda x: TF.pixel_shuffle(x, r), [a])
    b = rng(1).standard_normal(shape[:-3] + (shape[-3] // (r * r) if shape[-3] % (r * r) == 0
                                              else 1, shape[-2] * r, shape[-1] * r))
    compare(lambda x: F.pixel_unshuffle(x, r), lambda x: TF.pixel_unshuffle(x, r), [b])
    x = ag.tensor(a)
    np.testing.assert_array_equal(F.pixel_unshuffle(F.pixel_shuffle(x, r), r).numpy(), a)


@pytest.mark.parametrize("shape,g", [((2, 6, 3), 2), ((1, 6, 2, 2), 3), ((2, 4, 1, 2, 2), 4)])
def test_channel_shuffle(shape, g):
    a = rng().standard_normal(shape)
    compare(lambda x: F.channel_shuffle(x, g), lambda x: TF.channel_shuffle(x, g), [a])
    compare(lambda x: F.native_channel_shuffle(x, g),
            lambda x: TF.native_channel_shuffle(x, g), [a], grad=False)


def test_shuffle_gradcheck_and_int():
    x = ag.tensor(rng().standard_normal((1, 8, 2, 3)), requires_grad=True)
    assert ag.gradcheck(lambda t: F.pixel_shuffle(t, 2), (x,))
    assert ag.gradcheck(lambda t: F.channel_shuffle(t, 4), (x,))
    i = np.arange(16).reshape(1, 4, 2, 2)
    np.testing.assert_array_equal(F.pixel_shuffle(ag.tensor(i), 2).numpy(),
                                  TF.pixel_shuffle(torch.tensor(i), 2).numpy())


@pytest.mark.parametrize("fn,shape,arg", [
    ("pixel_shuffle", (3, 5), 2), ("pixel_shuffle", (1, 3, 5, 5), 2),
    ("pixel_shuffle", (4, 5, 5), 0), ("pixel_unshuffle", (1, 4, 5, 5), 2),
    ("pixel_unshuffle", (4, 5), 2), ("channel_shuffle", (1, 4, 5, 5), 3),
    ("channel_shuffle", (4,), 2), ("channel_shuffle", (1, 4, 5), 0),
    ("channel_shuffle", (4, 2), 2)])
def test_shuffle_errors(fn, shape, arg):
    with pytest.raises(RuntimeError):
        getattr(TF, fn)(torch.zeros(shape), arg)
    with pytest.raises(RuntimeError):
        getattr(F, fn)(ag.zeros(*shape), arg)


@pytest.mark.parametrize("name,arg,shape", [("PixelShuffle", 2, (1, 8, 2, 3)),
                                            ("PixelUnshuffle", 2, (1, 2, 4, 6)),
                                            ("ChannelShuffle", 2, (2, 4, 3))])
def test_shuffle_layers(name, arg, shape):
    m, mt = getattr(nn, name)(arg), getattr(torch.nn, name)(arg)
    assert repr(m) == repr(mt)
    a = rng().standard_normal(shape)
    np.testing.assert_array_equal(m(ag.tensor(a)).numpy(), mt(torch.tensor(a)).numpy())


# ---- affine_grid --------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 1, 1, 3), (2, 3, 2, 4, 3), (2, 1, 1, 1, 2)])
@pytest.mark.parametrize("align", [False, True])
def test_affine_grid(size, align):
    nd = len(size) - 2
    th = rng().standard_normal((2, nd, nd + 1))
    with pytest.warns(UserWarning) if align and min(size[2:]) == 1 else _nowarn():
        compare(lambda t: F.affine_grid(t, size, align_corners=align),
                lambda t: TF.affine_grid(t, size, align_corners=align), [th])


class _nowarn:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def test_affine_grid_errors_and_warning():
    th = ag.zeros(2, 2, 3)
    with pytest.warns(UserWarning, match="align_corners=False"):
        F.affine_grid(th, (2, 3, 4, 5))
    with pytest.raises(ValueError):
        F.affine_grid(th, (2, 3, 4, 5, 6), align_corners=False)
    with pytest.raises(ValueError):
        F.affine_grid(ag.zeros(2, 2, 3, dtype=ag.int32), (2, 3, 4, 5), align_corners=False)
    x = ag.tensor(rng().standard_normal((1, 2, 3)), requires_grad=True)
    assert ag.gradcheck(lambda t: F.affine_grid(t, (1, 1, 3, 4), align_corners=False), (x,))


# ---- grid_sample --------------------------------------------------------------------------

GS = list(itertools.product(["bilinear", "nearest", "bicubic"],
                            ["zeros", "border", "reflection"], [False, True]))


def _grid(shape, seed=1, spread=1.4):
    return rng(seed).uniform(-spread, spread, shape)


@pytest.mark.parametrize("mode,pad,align", GS)
def test_grid_sample_2d(mode, pad, align):
    x = rng().standard_normal((2, 3, 4, 5))
    g = _grid((2, 3, 6, 2))
    compare(lambda a, b: F.grid_sample(a, b, mode, pad, align),
            lambda a, b: TF.grid_sample(a, b, mode, pad, align), [x, g], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("mode,pad,align", [c for c in GS if c[0] != "bicubic"])
def test_grid_sample_3d(mode, pad, align):
    x = rng().standard_normal((2, 2, 3, 4, 5))
    g = _grid((2, 2, 3, 4, 3))
    compare(lambda a, b: F.grid_sample(a, b, mode, pad, align),
            lambda a, b: TF.grid_sample(a, b, mode, pad, align), [x, g], rtol=1e-9, atol=1e-9)


def test_grid_sample_float32():
    x = rng().standard_normal((2, 3, 4, 5)).astype(np.float32)
    g = _grid((2, 3, 6, 2)).astype(np.float32)
    compare(lambda a, b: F.grid_sample(a, b, "bilinear", "reflection", False),
            lambda a, b: TF.grid_sample(a, b, "bilinear", "reflection", False), [x, g],
            rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode,pad,align", [("bilinear", "zeros", False),
                                            ("bilinear", "reflection", True),
                                            ("bicubic", "border", False),
                                            ("bilinear", "border", True)])
def test_grid_sample_gradcheck(mode, pad, align):
    x = ag.tensor(rng().standard_normal((1, 2, 3, 4)), requires_grad=True)
    g = ag.tensor(_grid((1, 2, 3, 2), spread=1.2), requires_grad=True)
    assert ag.gradcheck(lambda a, b: F.grid_sample(a, b, mode, pad, align), (x, g))


def test_grid_sample_identity_affine():
    x = rng().standard_normal((1, 2, 4, 5))
    th = ag.tensor(np.array([[[1.0, 0, 0], [0, 1.0, 0]]]))
    grid = F.affine_grid(th, (1, 2, 4, 5), align_corners=False)
    y = F.grid_sample(ag.tensor(x), grid, align_corners=False)
    np.testing.assert_allclose(y.numpy(), x, atol=1e-12)


@pytest.mark.parametrize("xs,gs,kw,exc", [
    ((2, 3, 4, 5), (2, 2, 2, 3), {}, RuntimeError),
    ((2, 3, 4, 5), (1, 2, 2, 2), {}, RuntimeError),
    ((2, 3, 4, 5), (2, 2, 2, 2, 2), {}, RuntimeError),
    ((2, 3, 4, 5, 6), (2, 2, 2, 2, 3), {"mode": "bicubic"}, RuntimeError),
    ((2, 3, 4, 5), (2, 2, 2, 2), {"mode": "foo"}, ValueError),
    ((2, 3, 4, 5), (2, 2, 2, 2), {"padding_mode": "foo"}, ValueError),
])
def test_grid_sample_errors(xs, gs, kw, exc):
    with pytest.raises(exc):
        TF.grid_sample(torch.zeros(xs), torch.zeros(gs), align_corners=False, **kw)
    with pytest.raises(exc):
        F.grid_sample(ag.zeros(*xs), ag.zeros(*gs), align_corners=False, **kw)


# ---- the same code on CuPy (the strict stand-in of tests/cupy_sim) ----------------------------

SIM_CASES = [
    ("grid_sample", lambda x, g: F.grid_sample(x, g, "bilinear", "reflection", False),
     [(1, 2, 3, 4), (1, 2, 3, 2)]),
    ("grid_sample_bicubic", lambda x, g: F.grid_sample(x, g, "bicubic", "border", True),
     [(1, 2, 3, 4), (1, 2, 3, 2)]),
    ("affine_grid", lambda t: F.affine_grid(t, (1, 1, 3, 4), align_corners=False), [(1, 2, 3)]),
    ("pixel_shuffle", lambda x: F.pixel_shuffle(x, 2), [(1, 4, 2, 3)]),
    ("conv3d", lambda x, w: F.conv3d(x, w, padding=1, stride=(1, 2, 1)),
     [(1, 2, 3, 4, 3), (3, 2, 2, 2, 2)]),
    ("conv_transpose3d", lambda x, w: F.conv_transpose3d(x, w, stride=2),
     [(1, 2, 2, 3, 2), (2, 3, 2, 2, 2)]),
    ("max_pool3d", lambda x: F.max_pool3d(x, 2, 1, 1), [(1, 2, 3, 4, 3)]),
    ("avg_pool3d", lambda x: F.avg_pool3d(x, 2, 1, 1, count_include_pad=False),
     [(1, 2, 3, 4, 3)]),
    ("adaptive_max_pool2d", lambda x: F.adaptive_max_pool2d(x, (2, 3)), [(1, 2, 5, 4)]),
    ("adaptive_avg_pool3d", lambda x: F.adaptive_avg_pool3d(x, 2), [(1, 2, 3, 4, 3)]),
    ("lp_pool2d", lambda x: F.lp_pool2d(x * x + 1, 2, 2), [(1, 2, 4, 4)]),
    ("interpolate_bicubic", lambda x: F.interpolate(x, scale_factor=1.5, mode="bicubic"),
     [(1, 2, 3, 4)]),
    ("interpolate_trilinear", lambda x: F.interpolate(x, size=(3, 2, 5), mode="trilinear"),
     [(1, 2, 2, 3, 4)]),
    ("pad_reflect", lambda x: F.pad(x, (1, 2, 0, 1, 1, 1), "reflect"), [(1, 2, 3, 4, 3)]),
    ("fractional_max_pool2d", lambda x: F.fractional_max_pool2d(
        x, 2, output_size=3, _random_samples=ag.tensor(np.full((1, 2, 2), 0.3))), [(1, 2, 5, 6)]),
    ("max_unpool2d", lambda x: F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2),
     [(1, 2, 4, 6)]),
]


@pytest.mark.parametrize("name,fn,shapes", SIM_CASES, ids=[c[0] for c in SIM_CASES])
def test_runs_on_cupy_stand_in(sim, name, fn, shapes):
    arrays = [rng(i).standard_normal(s) for i, s in enumerate(shapes)]
    cpu = [ag.tensor(a, requires_grad=True) for a in arrays]
    gpu = [ag.tensor(a, device="cuda").requires_grad_() for a in arrays]
    y, yg = fn(*cpu), fn(*gpu)
    assert yg.device.type == "cuda"
    np.testing.assert_allclose(yg.detach().cpu().numpy(), y.detach().numpy(), rtol=1e-12,
                               atol=1e-12)
    y.sum().backward()
    yg.sum().backward()
    for a, b in zip(cpu, gpu):
        np.testing.assert_allclose(b.grad.cpu().numpy(), a.grad.numpy(), rtol=1e-12,
                                   atol=1e-12)
