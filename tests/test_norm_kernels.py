"""The compiled batch-norm kernels (``nn/functional/_norm_kernels.py``, numba) against the
NumPy reference path and PyTorch: outputs, running statistics and every gradient."""

import contextlib

import numpy as np
import pytest

import autograd as ag
import nn
from autograd import _numba

SHAPES = [(8, 3, 5, 7), (16, 4), (6, 5, 9), (4, 2, 3, 2, 3)]


def _module(shape, affine, dtype):
    cls = {2: nn.BatchNorm1d, 3: nn.BatchNorm1d, 4: nn.BatchNorm2d, 5: nn.BatchNorm3d}
    m = cls[len(shape)](shape[1], affine=affine)
    return m.double() if dtype == np.float64 else m


def _run(shape, affine, dtype, compiled, transpose=False):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 3 + 5).astype(dtype)
    gy = rng.standard_normal(shape).astype(dtype)
    m = _module(shape, affine, dtype)
    ctx = contextlib.nullcontext() if compiled else _numba.disabled()
    with ctx:
        xt = ag.tensor(x, requires_grad=True)
        inp = xt
        if transpose:  # a non-contiguous input
            inp = xt.transpose(0, 1).contiguous().transpose(0, 1)
        y = m(inp)
        y.backward(ag.tensor(gy))
    out = [y.detach().numpy(), xt.grad.numpy(), m.running_mean.numpy(), m.running_var.numpy()]
    if affine:
        out += [m.weight.grad.numpy(), m.bias.grad.numpy()]
    return out


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_compiled_matches_numpy_reference(shape, affine, dtype):
    pytest.importorskip("numba")
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-5)
    on = _run(shape, affine, dtype, True, transpose=len(shape) == 4)
    off = _run(shape, affine, dtype, False)
    for a, b in zip(on, off):
        np.testing.assert_allclose(a, b, **tol)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("compiled", [True, False])
def test_against_torch(shape, compiled):
    torch = pytest.importorskip("torch")
    if compiled:
        pytest.importorskip("numba")
    ours = _run(shape, True, np.float64, compiled)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) * 3 + 5
    gy = rng.standard_normal(shape)
    cls = {2: torch.nn.BatchNorm1d, 3: torch.nn.BatchNorm1d, 4: torch.nn.BatchNorm2d,
           5: torch.nn.BatchNorm3d}[len(shape)]
    m = cls(shape[1]).double()
    xt = torch.tensor(x, requires_grad=True)
    y = m(xt)
    y.backward(torch.tensor(gy))
    theirs = [y.detach().numpy(), xt.grad.numpy(), m.running_mean.numpy(),
              m.running_var.numpy(), m.weight.grad.numpy(), m.bias.grad.numpy()]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_double_backward_with_kernels_on():
    """create_graph: the backward falls back to the differentiable formulas."""
    pytest.importorskip("numba")
    rng = np.random.default_rng(1)
    x = ag.tensor(rng.standard_normal((4, 3, 2, 2)), requires_grad=True)
    w = ag.tensor(rng.standard_normal(3) + 2, requires_grad=True)
    b = ag.tensor(rng.standard_normal(3), requires_grad=True)
    f = lambda x, w, b: nn.functional.batch_norm(x, None, None, w, b, training=True)  # noqa: E731
    assert ag.gradcheck(f, (x, w, b))
    assert ag.gradgradcheck(f, (x, w, b))


def test_kernel_runs_only_when_enabled(monkeypatch):
    """The switch is honoured: disabled, the NumPy path runs (the kernel is not called)."""
    from nn.functional import _norm_kernels

    calls = []
    real = _norm_kernels.bn_forward

    class Spy:
        def get(self):
            k = real.get()
            if k is None:
                return None
            return lambda *a: (calls.append(1), k(*a))[1]

    monkeypatch.setattr(_norm_kernels, "bn_forward", Spy())
    x = ag.randn(4, 3, 2, 2)
    with _numba.disabled():
        nn.BatchNorm2d(3)(x)
    assert calls == []
    nn.BatchNorm2d(3)(x)
    assert calls == ([1] if _numba.enabled() else [])


@pytest.mark.parametrize("shape", [(8, 5, 6, 7), (16, 3)])
def test_channel_ranges_on_threads(shape, monkeypatch):
    """The kernels take a range of channels per call; split over 3 engine threads (forced
    for a small input) they give the same numbers as one call over every channel."""
    if not _numba.enabled():
        pytest.skip("numba is not installed or AUTOGRAD_NUMBA=0")
    from autograd import parallel  # noqa: PLC0415
    from nn.functional import normalization as NZ  # noqa: PLC0415

    one = _run(shape, True, np.float64, True)
    splits = []
    real = NZ.parallel_slices
    monkeypatch.setattr(parallel, "engine_threads", lambda: 3)
    monkeypatch.setattr(NZ, "flat_ranges", lambda size: [(0, 1), (1, 2), (2, 3)])
    monkeypatch.setattr(NZ, "parallel_slices",
                        lambda fn, r: splits.append(r) or real(fn, r))
    three = _run(shape, True, np.float64, True)
    assert len(splits) == 2 and all(len(r) == 3 for r in splits)  # forward and backward
    for a, b in zip(one, three):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-14)


def test_parallel_kernels_are_refused():
    """numba's own pool is not used (its workers slowed the work after each kernel): a
    kernel asking for it is refused with the way to do it instead."""
    with pytest.raises(ValueError, match="parallel_slices"):
        _numba.kernel(parallel=True)


def test_float32_large_mean_does_not_cancel():
    """Inputs far from zero (mean 10^4, std 1) in float32: the compiled kernels subtract the
    mean before scaling (forward and backward), so output and input gradient stay as close
    to the float64 result as the data's own rounding allows."""
    if not _numba.enabled():  # the NumPy path subtracts the mean rounded to float32 (PyTorch's
        # x * a + (b - mean * a) loses as much): only the kernels promise this
        pytest.skip("the compiled kernels are off")
    rng = np.random.default_rng(5)
    x64 = rng.standard_normal((16, 3, 6, 6)) + 1e4
    gy64 = rng.standard_normal(x64.shape)
    x32 = x64.astype(np.float32)
    xr = x32.astype(np.float64)  # the float32 data, exactly, in float64
    mean = xr.mean(axis=(0, 2, 3), keepdims=True)
    xhat = (xr - mean) / np.sqrt(xr.var(axis=(0, 2, 3), keepdims=True) + 1e-5)
    gb = gy64.astype(np.float32).astype(np.float64)
    gx_ref = (gb - gb.mean(axis=(0, 2, 3), keepdims=True)
              - xhat * (gb * xhat).mean(axis=(0, 2, 3), keepdims=True))
    gx_ref /= np.sqrt(xr.var(axis=(0, 2, 3), keepdims=True) + 1e-5)
    m = nn.BatchNorm2d(3)
    xt = ag.tensor(x32, requires_grad=True)
    y = m(xt)
    y.backward(ag.tensor(gy64.astype(np.float32)))
    np.testing.assert_allclose(y.detach().numpy(), xhat, atol=2e-4)
    np.testing.assert_allclose(xt.grad.numpy(), gx_ref, atol=2e-4)
