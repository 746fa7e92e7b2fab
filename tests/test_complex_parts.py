"""Complex tensors: values as PyTorch's (``real``, ``imag``, ``conj``, ``angle``...), and a
clear error, never a wrong gradient, where autograd would need complex (Wirtinger) calculus,
which this engine does not implement. Also PyTorch's queries about kinds of tensor that do
not exist here (``is_sparse``, ``layout``...)."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag

torch = pytest.importorskip("torch")

Z = [1 + 2j, -3 - 1j, 0.5 + 0j, -0.0 - 2.5j]


def _same(a, t):
    assert str(a.dtype) == str(t.dtype) and tuple(a.shape) == tuple(t.shape)
    np.testing.assert_allclose(a.numpy(), t.resolve_conj().numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_parts_and_conjugate_match_torch(dtype):
    z, tz = ag.tensor(Z, dtype=getattr(ag, dtype)), torch.tensor(Z, dtype=getattr(torch, dtype))
    for f in (lambda M, x: x.real, lambda M, x: x.imag, lambda M, x: x.conj(),
              lambda M, x: M.conj(x), lambda M, x: M.real(x), lambda M, x: M.imag(x),
              lambda M, x: M.conj_physical(x), lambda M, x: x.angle(), lambda M, x: M.angle(x),
              lambda M, x: x.abs(), lambda M, x: x * x.conj(), lambda M, x: x.resolve_conj()):
        _same(f(ag, z), f(torch, tz))
    assert z.is_complex() and not z.real.is_complex()


def test_parts_are_views():
    z, tz = ag.tensor(Z), torch.tensor(Z)
    for x in (z, tz):
        x.real[0] = 10.0
        x.imag[1] = 7.0
    _same(z, tz)


def test_real_tensors():
    x, t = ag.tensor([-2.0, 0.0, 3.0]), torch.tensor([-2.0, 0.0, 3.0])
    assert x.real is x and x.conj() is x and x.resolve_conj() is x
    _same(ag.conj_physical(x), torch.conj_physical(t))
    assert ag.conj_physical(x) is not x
    with pytest.raises(RuntimeError, match="imag is not implemented"):
        _ = x.imag
    v = [-2.0, -0.0, 0.0, 3.0, float("nan"), float("inf"), -float("inf")]
    _same(ag.angle(ag.tensor(v)), torch.angle(torch.tensor(v)))
    _same(ag.tensor([-1, 2]).angle(), torch.tensor([-1, 2]).angle())
    xg = ag.tensor([-1.0, 2.0], requires_grad=True)
    xg.angle().sum().backward()
    assert xg.grad.tolist() == [0.0, 0.0]  # PyTorch's: 0 for real inputs


def test_complex_gradients_are_refused_not_wrong():
    with pytest.raises(RuntimeError, match="complex tensors are not supported"):
        ag.tensor([1 + 2j], requires_grad=True)
    with pytest.raises(RuntimeError, match="complex tensors are not supported"):
        ag.tensor([1 + 2j]).requires_grad_()
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="Mul: gradients of complex tensors"):
        x * ag.tensor([1j, 2j])
    with ag.no_grad():  # no graph: complex values are fine
        assert (x * ag.tensor([1j, 2j])).dtype == ag.complex64


def test_kinds_of_tensor_that_do_not_exist_here():
    x, t = ag.zeros(2), torch.zeros(2)
    for name in ("is_sparse", "is_sparse_csr", "is_quantized", "is_meta", "is_nested",
                 "is_mkldnn", "is_xpu", "is_mps"):
        assert getattr(x, name) is getattr(t, name) is False, name
    assert repr(x.layout) == repr(t.layout) == "torch.strided"
    assert x.to_dense() is x and x.to_dense(ag.float64).dtype is ag.float64
