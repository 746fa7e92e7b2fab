"""The compiled cross-entropy kernels (``nn/functional/_loss_kernels.py``) against the NumPy
reference path of ``CrossEntropy`` (``autograd._numba.disabled()``) and PyTorch: loss and
gradient, ignored rows, an all-ignored batch, NaN and infinite logits, bad targets, double
backward and forward-mode AD through the fast forward."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import autograd._numba as anb
import nn.functional as F
import nn.functional._loss_kernels as LK

needs_numba = pytest.mark.skipif(not anb.enabled(), reason="numba missing or switched off")


def _ce(x, t, dtype, reduction="mean", ignore_index=-100, compiled=True):
    ctx = (lambda: _Null()) if compiled else anb.disabled
    with ctx():
        xt = ag.tensor(x.astype(dtype), requires_grad=True)
        loss = F.cross_entropy(xt, ag.tensor(t), reduction=reduction,
                               ignore_index=ignore_index)
        loss.backward()
    return loss.detach().numpy(), xt.grad.numpy()


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def _case(n=37, c=11, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, c)) * 3, rng.integers(0, c, n)


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("ignore", [None, 3, "all"])
def test_kernels_match_the_numpy_path(dtype, reduction, ignore):
    x, t = _case()
    ii = -100
    if ignore == 3:
        ii = 3  # rows whose target is class 3 are ignored (a class index as ignore_index)
    elif ignore == "all":
        t = np.full_like(t, -100)
    on = _ce(x, t, dtype, reduction, ii)
    off = _ce(x, t, dtype, reduction, ii, compiled=False)
    tol = 1e-12 if dtype == "float64" else 2e-6
    for a, b in zip(on, off):
        assert a.dtype == b.dtype == np.dtype(dtype)
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol, equal_nan=True)
    if ignore == "all" and reduction == "mean":
        assert np.isnan(on[0]) and not on[1].any()  # PyTorch: nan loss, zero gradient


@needs_numba
def test_the_fast_path_runs(monkeypatch):
    calls = []
    for name in ("xent_shift", "xent_finish", "xent_grad"):
        k = getattr(LK, name)

        class Spy:
            def __init__(self, k=k, name=name):
                self.k, self.name = k, name

            def get(self):
                calls.append(self.name)
                return self.k.get()

        monkeypatch.setattr(LK, name, Spy())
    x, t = _case()
    _ce(x, t, "float32")
    assert {"xent_shift", "xent_finish", "xent_grad"} <= set(calls)


@pytest.mark.parametrize("compiled", [True, False])
def test_nan_and_inf_logits(compiled):
    if compiled and not anb.enabled():
        pytest.skip("numba missing or switched off")
    x, t = _case(n=4, c=5)
    x[1, 2] = np.nan
    x[2, 0] = np.inf
    x[3, 4] = -np.inf
    torch = pytest.importorskip("torch")
    tx = torch.tensor(x, requires_grad=True)
    tl = torch.nn.functional.cross_entropy(tx, torch.tensor(t), reduction="sum")
    tl.backward()
    got = _ce(x, t, "float64", "sum", compiled=compiled)
    np.testing.assert_allclose(got[0], tl.detach().numpy(), equal_nan=True)
    np.testing.assert_allclose(got[1], tx.grad.numpy(), equal_nan=True, atol=1e-12)


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("bad", [11, -1])
def test_out_of_range_target_raises_index_error(compiled, bad):
    if compiled and not anb.enabled():
        pytest.skip("numba missing or switched off")
    x, t = _case()
    t[5] = bad
    with pytest.raises(IndexError, match=f"target {bad} is out of bounds for 11 classes"):
        _ce(x, t, "float32", compiled=compiled)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_against_torch(dtype, reduction):
    torch = pytest.importorskip("torch")
    x, t = _case(n=64, c=10, seed=3)
    t[7] = -100
    got = _ce(x, t, dtype, reduction)
    tx = torch.tensor(x.astype(dtype), requires_grad=True)
    tl = torch.nn.functional.cross_entropy(tx, torch.tensor(t), reduction=reduction)
    tl.backward()
    tol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(got[0], tl.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(got[1], tx.grad.numpy(), rtol=tol, atol=tol)


def test_double_backward_and_forward_ad_through_the_fast_forward():
    """create_graph: the gradient is rebuilt from the input (the fast forward keeps what
    that needs); forward-mode AD runs the op's backward. Both against finite differences,
    with an ignored row."""
    x, t = _case(n=5, c=4, seed=4)
    t[2] = -100
    xt = ag.tensor(x, requires_grad=True)
    tt = ag.tensor(t)
    assert ag.gradcheck(lambda a: F.cross_entropy(a, tt), (xt,))
    assert ag.gradgradcheck(lambda a: F.cross_entropy(a, tt), (xt,))
    import autograd.forward_ad as fwAD  # noqa: PLC0415

    v = np.random.default_rng(5).standard_normal(x.shape)
    with fwAD.dual_level():
        d = fwAD.make_dual(ag.tensor(x), ag.tensor(v))
        jvp = fwAD.unpack_dual(F.cross_entropy(d, tt)).tangent.numpy()
    h = 1e-6
    fd = (F.cross_entropy(ag.tensor(x + h * v), tt).numpy()
          - F.cross_entropy(ag.tensor(x - h * v), tt).numpy()) / (2 * h)
    np.testing.assert_allclose(jvp, fd, rtol=1e-6, atol=1e-8)
