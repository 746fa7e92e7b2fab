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


def test_complex_from_real_parts_like_torch():
    r, i = [1.0, -2.0, 0.5], [3.0, 0.0, -1.0]
    for dt in ("float32", "float64"):
        a, b = ag.tensor(r, dtype=getattr(ag, dt)), ag.tensor(i, dtype=getattr(ag, dt))
        ta = torch.tensor(r, dtype=getattr(torch, dt))
        tb = torch.tensor(i, dtype=getattr(torch, dt))
        _same(ag.complex(a, b), torch.complex(ta, tb))
        _same(ag.polar(a.abs(), b), torch.polar(ta.abs(), tb))
    x, t = ag.arange(6.0).reshape(3, 2), torch.arange(6.0).reshape(3, 2)
    _same(ag.view_as_complex(x), torch.view_as_complex(t))
    _same(ag.view_as_real(ag.view_as_complex(x)), torch.view_as_real(torch.view_as_complex(t)))
    c = ag.view_as_complex(x)  # a view: writes go through
    c[0] = 5 + 5j
    assert x[0].tolist() == [5.0, 5.0]
    for bad in (lambda M: M.view_as_complex(M.arange(6.0).reshape(2, 3)),
                lambda M: M.view_as_real(M.zeros(2)),
                lambda M: M.complex(M.zeros(2), M.zeros(2, dtype=M.float64))):
        msgs = []
        for M in (ag, torch):
            with pytest.raises(RuntimeError) as e:
                bad(M)
            msgs.append(str(e.value))
        assert msgs[0] == msgs[1]


def test_rope_in_the_llama_style_without_gradients():
    """Rotary embeddings as LLaMA's reference code writes them (polar, view_as_complex,
    view_as_real), in inference."""
    rng = np.random.default_rng(0)
    q = rng.standard_normal((2, 5, 4, 8)).astype(np.float32)
    outs = []
    for M in (ag, torch):
        freqs = 1.0 / (10000 ** (M.arange(0, 8, 2)[: 4].float() / 8))
        f = M.outer(M.arange(5).float(), freqs)
        cis = M.polar(M.ones_like(f), f)
        with M.no_grad():
            xq = M.view_as_complex(M.tensor(q).float().reshape(2, 5, 4, -1, 2))
            out = M.view_as_real(xq * cis.view(1, 5, 1, 4)).flatten(3)
        outs.append(out.numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-6)
    with pytest.raises(RuntimeError, match="view_as_complex: gradients of complex"):
        ag.view_as_complex(ag.zeros(3, 2, requires_grad=True))


def test_conjugate_transposes_conjugate_complex_tensors():
    """``H``, ``mH`` and ``adjoint()`` conjugate a complex tensor as they transpose (they
    returned the bare transpose); real tensors get the transpose."""
    a = np.array([[1 + 2j, 3j, -1], [1, 2 - 1j, 0.5j]])
    b = np.arange(24.0).reshape(2, 3, 4) + 1j * np.arange(24.0).reshape(2, 3, 4)[::-1]
    for f in (lambda t: t.H, lambda t: t.mH, lambda t: t.adjoint()):
        np.testing.assert_array_equal(f(ag.tensor(a)).numpy(), a.T.conj())
        np.testing.assert_array_equal(f(ag.tensor(a.real)).numpy(), a.real.T)
    for f in (lambda t: t.mH, lambda t: t.adjoint()):
        np.testing.assert_array_equal(f(ag.tensor(b)).numpy(), np.swapaxes(b, -1, -2).conj())
        want = f(torch.tensor(b)).resolve_conj().numpy()
        np.testing.assert_array_equal(f(ag.tensor(b)).numpy(), want)


@pytest.mark.parametrize("name", ["sgn", "vdot", "cov", "lerp", "div0d", "rdiv", "divint",
                                  "dist"])
def test_complex_values_of_more_ops_match_torch(name):
    """Complex tensors gave silently wrong values here: sgn (the real sign), vdot (no
    conjugate), cov (no conjugate, and its division by a 0-d float tensor dropped the
    imaginary part: true division promoted complex / float to the default float dtype),
    lerp (computed in float64); dist refused complex."""
    a = np.array([[1 + 2j, -3j, 0.5, 0], [2 - 1j, 1j, -1 + 1j, 4]])
    b = np.array([[0.5 - 1j, 2, 1j, 1], [1, -1j, 3 + 0.5j, 0]])
    f = {"sgn": lambda M, x, y: M.sgn(x), "vdot": lambda M, x, y: M.vdot(x[0], y[0]),
         "cov": lambda M, x, y: M.cov(x), "lerp": lambda M, x, y: M.lerp(x, y, 0.3),
         "div0d": lambda M, x, y: x / M.tensor(3.0), "rdiv": lambda M, x, y: 2 / y[0, :3],
         "divint": lambda M, x, y: M.tensor([1, 2]) / M.tensor(1j),
         "dist": lambda M, x, y: M.dist(x, y)}[name]
    got = f(ag, ag.tensor(a), ag.tensor(b))
    want = f(torch, torch.tensor(a), torch.tensor(b)).resolve_conj()
    assert str(got.dtype) == str(want.dtype)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)
