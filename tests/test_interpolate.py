"""F.interpolate in every mode (nearest, nearest-exact, linear, bilinear, bicubic, trilinear,
area) for 3-D to 5-D inputs against PyTorch (values and gradients), float64 gradcheck,
uint8 images, the deprecated upsample functions, the Upsample layers, and PyTorch's errors."""

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


def compare(kw, shape, rtol=1e-10, atol=1e-10, dtype=np.float64):
    a = rng().standard_normal(shape).astype(dtype)
    x, xt = ag.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, yt = F.interpolate(x, **kw), TF.interpolate(xt, **kw)
    assert tuple(y.shape) == tuple(yt.shape)
    assert y.dtype == x.dtype
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=rtol, atol=atol)
    g = rng(1).standard_normal(tuple(yt.shape)).astype(dtype)
    y.backward(ag.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=rtol, atol=atol)


CASES = [
    ("bicubic", (2, 3, 5, 6), dict(scale_factor=2)),
    ("bicubic", (2, 3, 5, 6), dict(size=(7, 4), align_corners=True)),
    ("bicubic", (2, 3, 5, 6), dict(scale_factor=(1.7, 0.6))),
    ("bicubic", (1, 2, 8, 9), dict(size=(3, 4))),
    ("bicubic", (1, 2, 5, 6), dict(scale_factor=1.5, recompute_scale_factor=True)),
    ("trilinear", (2, 2, 3, 4, 5), dict(scale_factor=2)),
    ("trilinear", (2, 2, 3, 4, 5), dict(size=(5, 3, 7), align_corners=True)),
    ("trilinear", (1, 2, 3, 4, 5), dict(scale_factor=(1.5, 0.7, 2.2))),
    ("nearest", (2, 2, 3, 4, 5), dict(scale_factor=2)),
    ("nearest", (2, 2, 3, 4, 5), dict(size=(5, 3, 7))),
    ("nearest-exact", (2, 2, 3, 4, 5), dict(scale_factor=(1.5, 0.7, 2.2))),
    ("area", (2, 2, 6, 4, 5), dict(size=(3, 2, 4))),
    ("area", (2, 2, 6, 4, 5), dict(scale_factor=0.5)),
    ("area", (2, 3, 7, 6), dict(scale_factor=0.6)),
    ("linear", (2, 3, 7), dict(scale_factor=1.3, recompute_scale_factor=True)),
    ("bilinear", (2, 3, 7, 6), dict(scale_factor=(0.6, 1.5), recompute_scale_factor=False)),
    ("nearest", (2, 3, 7), dict(scale_factor=0.45)),
    # a dim whose size the scale_factor leaves unchanged (floor(4 * 1.2) = 4): the linear
    # modes copy it whatever the scale, bicubic applies the scale
    ("bilinear", (2, 3, 4, 5), dict(scale_factor=(1.2, 2.6))),
    ("bilinear", (1, 2, 4, 5), dict(scale_factor=1.1)),
    ("linear", (2, 3, 7), dict(scale_factor=1.1)),
    ("trilinear", (1, 2, 3, 4, 5), dict(scale_factor=(1.3, 1.6, 1.1))),
    ("bicubic", (1, 2, 4, 5), dict(scale_factor=(1.2, 1.6))),
]


@pytest.mark.parametrize("mode,shape,kw", CASES)
def test_interpolate_vs_torch(mode, shape, kw):
    compare(dict(kw, mode=mode), shape)


@pytest.mark.parametrize("mode,shape,kw", CASES[::3])
def test_interpolate_float32(mode, shape, kw):
    compare(dict(kw, mode=mode), shape, rtol=1e-5, atol=1e-5, dtype=np.float32)


@pytest.mark.parametrize("mode,shape,kw", [c for c in CASES if c[0] != "nearest"][::2])
def test_interpolate_gradcheck(mode, shape, kw):
    small = shape[:1] and (1, 1) + shape[2:]
    x = ag.tensor(rng().standard_normal(small), requires_grad=True)
    assert ag.gradcheck(lambda t: F.interpolate(t, mode=mode, **kw), (x,))


def test_interpolate_gradgrad_bicubic():
    x = ag.tensor(rng().standard_normal((1, 1, 3, 4)), requires_grad=True)
    assert ag.gradgradcheck(lambda t: F.interpolate(t, scale_factor=1.5, mode="bicubic"), (x,))


@pytest.mark.parametrize("mode,kw", [("bicubic", dict(scale_factor=2)),
                                     ("bicubic", dict(size=(7, 13), align_corners=True)),
                                     ("bicubic", dict(size=(4, 5))),
                                     ("nearest", dict(scale_factor=1.7)),
                                     ("nearest-exact", dict(size=(7, 13)))])
@pytest.mark.parametrize("channels", [3, 5])
def test_interpolate_uint8(mode, kw, channels):
    img = rng(5).integers(0, 256, (2, channels, 10, 12)).astype(np.uint8)
    a = F.interpolate(ag.tensor(img), mode=mode, **kw)
    b = TF.interpolate(torch.tensor(img), mode=mode, **kw)
    assert a.dtype == ag.uint8
    np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("shape", [(2, 2, 4), (2, 2, 4, 5), (1, 1, 4, 5), (1, 2, 3, 4, 4)])
@pytest.mark.parametrize("sf", [1.1, 1.2, 2.1, 0.9])
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
def test_interpolate_nearest_unchanged_or_doubled_size(shape, sf, mode):
    # PyTorch's 2-D nearest kernel copies an unchanged dim (and halves the index of a
    # doubled one) whatever the scale_factor; its 1-D and 3-D kernels apply the scale
    # (forward only: PyTorch's own 1-D backward takes the shortcuts)
    a = rng().standard_normal(shape)
    y = F.interpolate(ag.tensor(a), scale_factor=sf, mode=mode)
    yt = TF.interpolate(torch.tensor(a), scale_factor=sf, mode=mode)
    np.testing.assert_array_equal(y.numpy(), yt.numpy())


@pytest.mark.parametrize("shape,kw,exc", [
    ((1, 1, 4), dict(scale_factor=2, mode="bilinear"), NotImplementedError),
    ((1, 1, 4, 4), dict(scale_factor=2, mode="trilinear"), NotImplementedError),
    ((1, 1, 4, 4, 4), dict(scale_factor=2, mode="bicubic"), NotImplementedError),
    ((1, 4), dict(scale_factor=2), NotImplementedError),
    ((1, 1, 4, 4), dict(scale_factor=2, mode="foo"), NotImplementedError),
    ((1, 1, 4, 4), dict(scale_factor=2, size=3), ValueError),
    ((1, 1, 4, 4), dict(), ValueError),
    ((1, 1, 4, 4), dict(size=(2, 3, 4)), ValueError),
    ((1, 1, 4, 4), dict(scale_factor=(2, 3, 4)), ValueError),
    ((1, 1, 4, 4), dict(size=3, recompute_scale_factor=True), ValueError),
    ((1, 1, 4, 4), dict(size=3, align_corners=True), ValueError),
    ((1, 1, 4, 4), dict(size=3, mode="nearest", antialias=True), ValueError),
])
def test_interpolate_errors(shape, kw, exc):
    with pytest.raises(exc):
        TF.interpolate(torch.zeros(shape), **kw)
    with pytest.raises(exc):
        F.interpolate(ag.zeros(*shape), **kw)


@pytest.mark.parametrize("dtype,mode", [(np.int64, "nearest"), (np.uint8, "area"),
                                        (np.uint8, "linear")])
def test_interpolate_int_dtypes_rejected(dtype, mode):
    shape = (1, 1, 4) if mode == "linear" else (1, 1, 4, 4)
    with pytest.raises(NotImplementedError):
        TF.interpolate(torch.zeros(shape, dtype=torch.from_numpy(np.zeros(1, dtype)).dtype),
                       scale_factor=2, mode=mode)
    with pytest.raises(NotImplementedError):
        F.interpolate(ag.tensor(np.zeros(shape, dtype)), scale_factor=2, mode=mode)


def test_deprecated_upsample_functions():
    a = rng().standard_normal((1, 2, 3, 4))
    for fn, kw in [("upsample", dict(scale_factor=2, mode="bilinear", align_corners=False)),
                   ("upsample_nearest", dict(size=(5, 7))),
                   ("upsample_bilinear", dict(scale_factor=2))]:
        with pytest.warns(UserWarning, match="deprecated"):
            y = getattr(F, fn)(ag.tensor(a), **kw)
        with pytest.warns(UserWarning, match="deprecated"):
            yt = getattr(TF, fn)(torch.tensor(a), **kw)
        np.testing.assert_allclose(y.numpy(), yt.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cls,args,kw,shape", [
    ("Upsample", (), dict(scale_factor=2, mode="bicubic"), (1, 2, 3, 4)),
    ("Upsample", (), dict(size=(4, 5, 6), mode="trilinear", align_corners=True), (1, 2, 2, 3, 4)),
    ("Upsample", (), dict(scale_factor=(2.0, 1.5), mode="nearest-exact"), (1, 2, 3, 4)),
    ("Upsample", (), dict(scale_factor=0.5, mode="area"), (1, 2, 4, 6)),
    ("UpsamplingNearest2d", (), dict(scale_factor=2), (1, 2, 3, 4)),
    ("UpsamplingNearest2d", (), dict(size=(5, 7)), (1, 2, 3, 4)),
    ("UpsamplingBilinear2d", (), dict(scale_factor=2), (1, 2, 3, 4)),
    ("UpsamplingBilinear2d", (), dict(size=(5, 7)), (1, 2, 3, 4)),
])
def test_upsample_layers(cls, args, kw, shape):
    m, mt = getattr(nn, cls)(*args, **kw), getattr(torch.nn, cls)(*args, **kw)
    assert repr(m) == repr(mt)
    a = rng().standard_normal(shape)
    x, xt = ag.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, yt = m(x), mt(xt)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
