"""The compiled im2col + GEMM convolution kernels (``nn/functional/_gemm_conv.py``, NumPy's
BLAS called from numba through ``autograd._blas``): all three passes against PyTorch and
against the NumPy chunked path they replace, over strides, dilations, paddings, groups,
dtypes, empty batches, chunk sizes and thread counts; the fallbacks when a kernel cannot
run. Skipped without numba."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn.functional as F
from autograd import _blas, _numba, parallel
from nn.functional import conv

pytestmark = pytest.mark.skipif(not _numba.enabled(), reason="numba (the fast extra), switched on")

GEOMS = [  # (n, c, o, h, w, kh, kw, stride, padding, dilation, groups)
    (3, 2, 4, 7, 9, 3, 3, 1, 1, 1, 1),
    (2, 6, 16, 14, 14, 5, 5, 1, 0, 1, 1),  # LeNet's second layer, shrunk in batch
    (4, 4, 6, 9, 8, 3, 2, (2, 3), (0, 2), 1, 2),
    (2, 3, 3, 10, 11, 3, 3, 1, 2, (2, 1), 3),  # depthwise, dilated
    (1, 2, 2, 5, 5, 5, 5, 2, 2, 2, 1),  # padding wider than the image reach
    (0, 2, 3, 6, 6, 3, 3, 1, 1, 1, 1),  # an empty batch
    (5, 8, 4, 6, 7, 1, 1, 1, 0, 1, 2),  # 1x1, grouped
]


def _spy(monkeypatch):
    used = []
    for name in ("_conv_gemm", "_weight_grad_gemm", "_input_grad_gemm"):
        real = getattr(conv, name)
        monkeypatch.setattr(conv, name, lambda *a, _r=real, _n=name: used.append(_n) or _r(*a))
    return used


def _run(x, w, b, geom, gy):
    *_, stride, padding, dilation, groups = geom
    xs = ag.tensor(x, requires_grad=True)
    ws = ag.tensor(w, requires_grad=True)
    bs = None if b is None else ag.tensor(b, requires_grad=True)
    y = F.conv2d(xs, ws, bs, stride=stride, padding=padding, dilation=dilation, groups=groups)
    y.backward(ag.tensor(gy))
    out = [y.detach().numpy(), xs.grad.numpy(), ws.grad.numpy()]
    return out + ([] if b is None else [bs.grad.numpy()])


def _case(geom, dtype, bias, seed=0):
    n, c, o, h, w, kh, kw, stride, padding, dilation, groups = geom
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    wt = rng.standard_normal((o, c // groups, kh, kw)).astype(dtype)
    b = rng.standard_normal(o).astype(dtype) if bias else None
    t = F.conv2d(ag.tensor(x), ag.tensor(wt), None, stride=stride, padding=padding,
                 dilation=dilation, groups=groups)
    gy = rng.standard_normal(t.shape).astype(dtype)
    return x, wt, b, gy


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("chunk_bytes", [1, 1 << 20])
@pytest.mark.parametrize("geom", GEOMS)
def test_the_kernels_match_the_numpy_path(monkeypatch, geom, chunk_bytes, threads):
    """Forward and both gradients equal the NumPy chunked path's (float64, 1e-12), one
    sample per chunk or all at once, on 1 or 3 threads; the kernels did run."""
    monkeypatch.setattr(conv, "_direct_ok", lambda *a: False)
    monkeypatch.setattr(conv, "_wino_ok", lambda *a: False)
    monkeypatch.setattr(conv, "_CHUNK_BYTES", chunk_bytes)
    monkeypatch.setattr(conv, "_KERNEL_MIN_WORK", 1)
    monkeypatch.setattr(parallel, "_requested", threads)
    x, w, b, gy = _case(geom, np.float64, bias=True)
    used = _spy(monkeypatch)
    got = _run(x, w, b, geom, gy)
    assert sorted(set(used)) == ["_conv_gemm", "_input_grad_gemm", "_weight_grad_gemm"]
    monkeypatch.setattr(conv, "_gemm_fn", lambda *arrays: None)
    want = _run(x, w, b, geom, gy)
    for g, r in zip(got, want):
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("geom", GEOMS)
def test_the_kernels_match_pytorch(monkeypatch, geom, dtype, bias):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(conv, "_direct_ok", lambda *a: False)
    monkeypatch.setattr(conv, "_wino_ok", lambda *a: False)
    x, w, b, gy = _case(geom, dtype, bias, seed=3)
    got = _run(x, w, b, geom, gy)
    *_, stride, padding, dilation, groups = geom
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    tb = None if b is None else torch.tensor(b, requires_grad=True)
    ty = torch.nn.functional.conv2d(tx, tw, tb, stride=stride, padding=padding,
                                    dilation=dilation, groups=groups)
    ty.backward(torch.tensor(gy))
    want = [ty.detach().numpy(), tx.grad.numpy(), tw.grad.numpy()]
    want += [] if tb is None else [tb.grad.numpy()]
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for g, r in zip(got, want):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, r, rtol=tol, atol=tol * max(1.0, np.abs(r).max(initial=0)))


def test_gradcheck_through_the_kernels(monkeypatch):
    monkeypatch.setattr(conv, "_direct_ok", lambda *a: False)
    monkeypatch.setattr(conv, "_wino_ok", lambda *a: False)
    rng = np.random.default_rng(5)
    x = ag.tensor(rng.standard_normal((2, 4, 6, 5)), requires_grad=True)
    w = ag.tensor(rng.standard_normal((4, 2, 3, 2)), requires_grad=True)
    b = ag.tensor(rng.standard_normal(4), requires_grad=True)
    assert ag.gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1,
                                                 dilation=(1, 2), groups=2), (x, w, b))


def test_mixed_dtypes_and_switched_off_kernels_take_the_numpy_path(monkeypatch):
    x32, x64 = np.ones((1, 1, 3, 3), np.float32), np.ones((1, 1, 3, 3))
    assert conv._gemm_fn(x32, x32) is _blas.gemm(np.float32) is not None
    assert conv._gemm_fn(x32, x64) is None
    assert conv._gemm_fn(x32.astype(np.float16), x32.astype(np.float16)) is None
    with _numba.disabled():
        assert _blas.gemm(np.float32) is None
        assert conv._gemm_fn(x64, x64) is None


def test_gemm_binding_multiplies_like_numpy():
    """The ctypes entry point, called from a compiled kernel (the convolution's forward on
    one 1x1 channel-mixing layer: a plain product), gives NumPy's product."""
    rng = np.random.default_rng(2)
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal((3, 5, 4, 4)).astype(dtype)
        w = rng.standard_normal((7, 5, 1, 1)).astype(dtype)
        g = conv.ConvGeom(1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1)
        y = conv._conv_gemm(_blas.gemm(dtype), x, w, None, g, 4, 4)
        want = np.einsum("oc,nchw->nohw", w[:, :, 0, 0], x)
        tol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(y, want, rtol=tol, atol=tol)
