"""autograd.functional: vjp, jvp, jacobian, hessian, hvp, vhp (PyTorch's semantics, checked
against torch.autograd.functional when torch is installed) and the JAX-style grad."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag
from autograd import functional as F

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
SHAPES = hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3)
SEEDS = st.integers(0, 2**32 - 1)


def t64(a, requires_grad=False):
    return ag.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def arr(t):
    return t.detach().numpy()


def rnd(shape, seed=0, lo=-1.0, hi=1.0):
    return t64(np.random.default_rng(seed).uniform(lo, hi, shape))


# Test functions written once for both libraries (M is autograd or torch).
def f_unary(M, x):
    return M.sin(x) * (x * x).sum() + x.exp()


def f_binary(M, x, y):
    return (x * y.tanh()).sum() * x + M.exp(x)


def f_two_outputs(M, x, y):
    return x * y.sum(), (x ** 3).sum() + y.sin().sum()


def f_scalar(M, x):
    return (x.sin() * x).sum() + (x ** 3).sum() * x.sum()


def f_scalar2(M, x, y):
    return (x.exp() * y.sum()).sum() + (y ** 3).sum() * (x * x).sum()


def _torch():
    return pytest.importorskip("torch")


def _to_torch(torch, x):
    if isinstance(x, tuple):
        return tuple(_to_torch(torch, e) for e in x)
    return torch.tensor(arr(x))


def _assert_close(got, expected, rtol=1e-10, atol=1e-12):
    """Compare nested tuples of ag Tensors with torch tensors, structure included."""
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and len(got) == len(expected)
        for g, e in zip(got, expected):
            _assert_close(g, e, rtol, atol)
        return
    assert isinstance(got, ag.Tensor), type(got)
    e = expected.detach().numpy()
    assert tuple(got.shape) == e.shape
    np.testing.assert_allclose(arr(got), e, rtol=rtol, atol=atol)


# ---- vjp --------------------------------------------------------------------------------------

def test_vjp_matches_torch():
    torch = _torch()
    x, v = rnd((2, 3), 0), rnd((2, 3), 1)
    out, vjp = F.vjp(lambda t: f_unary(ag, t), x, v)
    tout, tvjp = torch.autograd.functional.vjp(lambda t: f_unary(torch, t),
                                               _to_torch(torch, x), _to_torch(torch, v))
    _assert_close(out, tout)
    _assert_close(vjp, tvjp)
    assert not out.requires_grad and not vjp.requires_grad


def test_vjp_tuples_match_torch():
    torch = _torch()
    x, y = rnd((3,), 2), rnd((2,), 3)
    v = (rnd((3,), 4), rnd((), 5))
    out, vjp = F.vjp(lambda a, b: f_two_outputs(ag, a, b), (x, y), v)
    tout, tvjp = torch.autograd.functional.vjp(lambda a, b: f_two_outputs(torch, a, b),
                                               _to_torch(torch, (x, y)), _to_torch(torch, v))
    _assert_close(out, tout)
    _assert_close(vjp, tvjp)


def test_vjp_v_none_for_scalar_output():
    x = rnd((3,), 6)
    out, g = F.vjp(lambda t: (t * t).sum(), x)
    np.testing.assert_allclose(arr(g), 2 * arr(x))
    np.testing.assert_allclose(arr(out), (arr(x) ** 2).sum())
    with pytest.raises(RuntimeError, match="v can only be None"):
        F.vjp(lambda t: t * 2, x)


def test_vjp_v_validation():
    x = rnd((3,), 7)
    with pytest.raises(RuntimeError, match="invalid size"):
        F.vjp(lambda t: t * 2, x, rnd((4,)))
    with pytest.raises(RuntimeError, match="invalid length"):
        F.vjp(lambda t: (t, t), x, (rnd((3,)),))
    with pytest.raises(TypeError, match="Tensor"):
        F.vjp(lambda t: t * 2, [1.0, 2.0, 3.0], rnd((3,)))
    with pytest.raises(TypeError, match="Tensor"):
        F.vjp(lambda t: 3.0, x)


def test_vjp_independent_input_strict_and_not():
    x, y = rnd((2,), 8), rnd((3,), 9)
    _, (gx, gy) = F.vjp(lambda a, b: (a * 2).sum(), (x, y))
    np.testing.assert_array_equal(arr(gx), [2.0, 2.0])
    np.testing.assert_array_equal(arr(gy), np.zeros(3))
    with pytest.raises(RuntimeError, match="independent of input 1"):
        F.vjp(lambda a, b: (a * 2).sum(), (x, y), strict=True)
    with pytest.raises(RuntimeError, match="does not require gradients"):
        F.vjp(lambda a: ag.ones(()), x, strict=True)
    _, g = F.vjp(lambda a: ag.ones((), dtype=ag.float64), x)
    np.testing.assert_array_equal(arr(g), np.zeros(2))


def test_vjp_create_graph_is_differentiable():
    x = rnd((3,), 10)
    v = rnd((3,), 11)

    def fn(a):
        _, g = F.vjp(lambda t: t.sin() * t, a, v, create_graph=True)
        return g

    _, g = F.vjp(lambda t: t.sin() * t, x, v, create_graph=True)
    assert g.requires_grad
    assert ag.gradcheck(fn, (x.detach().requires_grad_(),))
    # through an outer graph: x requires grad, the result stays connected to it
    xr = x.detach().requires_grad_()
    _, g = F.vjp(lambda t: (t ** 3).sum(), xr, create_graph=True)
    g.sum().backward()
    np.testing.assert_allclose(arr(xr.grad), 6 * arr(x))


def test_inputs_untouched():
    x = t64([1.0, 2.0], requires_grad=True)
    x0 = arr(x).copy()
    F.vjp(lambda t: (t * t).sum(), x)
    F.jvp(lambda t: t * t, x, t64([1.0, 1.0]))
    F.jacobian(lambda t: t * t, x)
    F.hessian(lambda t: (t ** 3).sum(), x)
    F.grad(lambda t: (t * t).sum())(x)
    assert x.grad is None and x.is_leaf and x.requires_grad
    np.testing.assert_array_equal(arr(x), x0)
    y = t64([1.0, 2.0])
    F.vjp(lambda t: (t * t).sum(), y)
    assert not y.requires_grad and y.grad is None


# ---- jvp --------------------------------------------------------------------------------------

def test_jvp_matches_torch():
    torch = _torch()
    x, y = rnd((2, 3), 12), rnd((3,), 13)
    v = (rnd((2, 3), 14), rnd((3,), 15))
    out, jv = F.jvp(lambda a, b: f_binary(ag, a, b), (x, y), v)
    tout, tjv = torch.autograd.functional.jvp(lambda a, b: f_binary(torch, a, b),
                                              _to_torch(torch, (x, y)), _to_torch(torch, v))
    _assert_close(out, tout)
    _assert_close(jv, tjv)
    assert not jv.requires_grad


def test_jvp_two_outputs_match_torch():
    torch = _torch()
    x, y = rnd((3,), 16), rnd((2,), 17)
    v = (rnd((3,), 18), rnd((2,), 19))
    out, jv = F.jvp(lambda a, b: f_two_outputs(ag, a, b), (x, y), v)
    tout, tjv = torch.autograd.functional.jvp(lambda a, b: f_two_outputs(torch, a, b),
                                              _to_torch(torch, (x, y)), _to_torch(torch, v))
    _assert_close(out, tout)
    _assert_close(jv, tjv)


def test_jvp_v_none_single_element():
    x = t64(0.5)
    out, jv = F.jvp(lambda t: t.exp(), x)
    np.testing.assert_allclose(arr(jv), np.exp(0.5))
    with pytest.raises(RuntimeError, match="v can only be None"):
        F.jvp(lambda t: t.exp(), rnd((2,)))


def test_jvp_linear_and_independent():
    x, y = rnd((3,), 20), rnd((2,), 21)
    v = (rnd((3,), 22), rnd((2,), 23))
    # output depends on x only: y's direction contributes nothing
    _, jv = F.jvp(lambda a, b: a * 3.0, (x, y), v)
    np.testing.assert_allclose(arr(jv), 3.0 * arr(v[0]))
    _, jv = F.jvp(lambda a, b: ag.zeros(2, dtype=ag.float64), (x, y), v)
    np.testing.assert_array_equal(arr(jv), np.zeros(2))
    with pytest.raises(RuntimeError, match="independent|does not require"):
        F.jvp(lambda a, b: a * 3.0, (x, y), v, strict=True)


def test_jvp_create_graph():
    x, v = rnd((3,), 24), rnd((3,), 25)
    _, jv = F.jvp(lambda t: t.sin() * t, x, v, create_graph=True)
    assert jv.requires_grad

    def fn(a):
        return F.jvp(lambda t: t.sin() * t, a, v, create_graph=True)[1]

    assert ag.gradcheck(fn, (x.detach().requires_grad_(),))


@SETTINGS
@given(shape=SHAPES, seed=SEEDS)
def test_jvp_equals_jacobian_times_v(shape, seed):
    x = rnd(shape, seed)
    v = rnd(shape, seed + 1)
    J = F.jacobian(lambda t: f_unary(ag, t), x)
    _, jv = F.jvp(lambda t: f_unary(ag, t), x, v)
    n = int(np.prod(shape))
    expected = arr(J).reshape(n, n) @ arr(v).reshape(n)
    np.testing.assert_allclose(arr(jv).reshape(n), expected, rtol=1e-10, atol=1e-12)
    # vjp is the transpose
    _, uj = F.vjp(lambda t: f_unary(ag, t), x, v)
    np.testing.assert_allclose(arr(uj).reshape(n), arr(v).reshape(n) @ arr(J).reshape(n, n),
                               rtol=1e-10, atol=1e-12)


# ---- jacobian ---------------------------------------------------------------------------------

def test_jacobian_single_matches_torch():
    torch = _torch()
    x = rnd((2, 3), 26)
    J = F.jacobian(lambda t: f_unary(ag, t), x)
    tJ = torch.autograd.functional.jacobian(lambda t: f_unary(torch, t), _to_torch(torch, x))
    _assert_close(J, tJ)
    assert J.shape == (2, 3, 2, 3)
    assert not J.requires_grad


@pytest.mark.parametrize("tuple_in,tuple_out", [(False, False), (True, False), (False, True),
                                                (True, True)])
def test_jacobian_structure_matches_torch(tuple_in, tuple_out):
    torch = _torch()
    x, y = rnd((3,), 27), rnd((2,), 28)

    def make(M):
        def fn(*args):
            a = args[0]
            b = args[1] if tuple_in else a[:2]
            outs = f_two_outputs(M, a, b)
            return outs if tuple_out else outs[0]
        return fn

    inp = (x, y) if tuple_in else x
    J = F.jacobian(make(ag), inp)
    tJ = torch.autograd.functional.jacobian(make(torch), _to_torch(torch, inp))
    _assert_close(J, tJ)
    for strategy_J in (F.jacobian(make(ag), inp, strategy="forward-mode"),
                       F.jacobian(make(ag), inp, vectorize=True)):
        _assert_close(strategy_J, tJ)


@SETTINGS
@given(sx=SHAPES, sy=SHAPES, seed=SEEDS)
def test_jacobian_shapes_and_modes_agree(sx, sy, seed):
    x, y = rnd(sx, seed), rnd(sy, seed + 1)

    def fn(a, b):
        return a.sin() * b.sum(), (a * a).sum() + b.exp()

    J = F.jacobian(fn, (x, y))
    Jf = F.jacobian(fn, (x, y), strategy="forward-mode")
    outs = fn(x, y)
    for i in range(2):
        for j, inp in enumerate((x, y)):
            assert J[i][j].shape == tuple(outs[i].shape) + tuple(inp.shape)
            np.testing.assert_allclose(arr(J[i][j]), arr(Jf[i][j]), rtol=1e-10, atol=1e-12)
    # J[0][0] is the diagonal derivative of sin(a) * sum(b)
    n = int(np.prod(sx))
    np.testing.assert_allclose(arr(J[0][0]).reshape(n, n),
                               np.diag(np.cos(arr(x)).reshape(n) * arr(y).sum()),
                               rtol=1e-10, atol=1e-12)


def test_jacobian_unused_input_and_constant_output():
    x, y = rnd((2,), 29), rnd((3,), 30)
    J = F.jacobian(lambda a, b: a * 2.0, (x, y))
    np.testing.assert_array_equal(arr(J[0]), 2.0 * np.eye(2))
    np.testing.assert_array_equal(arr(J[1]), np.zeros((2, 3)))
    with pytest.raises(RuntimeError, match="independent"):
        F.jacobian(lambda a, b: a * 2.0, (x, y), strict=True)
    J = F.jacobian(lambda a: ag.ones(4, dtype=ag.float64), x)
    np.testing.assert_array_equal(arr(J), np.zeros((4, 2)))


def test_jacobian_empty_output_and_input():
    x = rnd((0,), 31)
    J = F.jacobian(lambda t: t * 2, x)
    assert J.shape == (0, 0)
    y = rnd((3,), 32)
    J = F.jacobian(lambda t: t[:0] * 2, y)
    assert J.shape == (0, 3)


def test_jacobian_create_graph():
    x = rnd((3,), 33)
    J = F.jacobian(lambda t: t ** 3, x, create_graph=True)
    assert J.requires_grad

    def fn(a):
        return F.jacobian(lambda t: t ** 3 + t.sin(), a, create_graph=True)

    assert ag.gradcheck(fn, (x.detach().requires_grad_(),))


def test_jacobian_bad_strategy():
    with pytest.raises(ValueError, match="strategy"):
        F.jacobian(lambda t: t, rnd((2,)), strategy="sideways")


# ---- hessian, hvp, vhp -------------------------------------------------------------------------

def test_hessian_matches_torch():
    torch = _torch()
    x = rnd((2, 2), 34)
    H = F.hessian(lambda t: f_scalar(ag, t), x)
    tH = torch.autograd.functional.hessian(lambda t: f_scalar(torch, t), _to_torch(torch, x))
    _assert_close(H, tH)
    assert H.shape == (2, 2, 2, 2)


def test_hessian_tuple_matches_torch():
    torch = _torch()
    x, y = rnd((2,), 35), rnd((3,), 36)
    H = F.hessian(lambda a, b: f_scalar2(ag, a, b), (x, y))
    tH = torch.autograd.functional.hessian(lambda a, b: f_scalar2(torch, a, b),
                                           _to_torch(torch, (x, y)))
    _assert_close(H, tH)
    assert H[0][1].shape == (2, 3) and H[1][0].shape == (3, 2)
    np.testing.assert_allclose(arr(H[0][1]), arr(H[1][0]).T, rtol=1e-10)


@SETTINGS
@given(shape=SHAPES, seed=SEEDS)
def test_hessian_symmetric_and_matches_products(shape, seed):
    x, v = rnd(shape, seed), rnd(shape, seed + 1)
    n = int(np.prod(shape))
    H = arr(F.hessian(lambda t: f_scalar(ag, t), x)).reshape(n, n)
    np.testing.assert_allclose(H, H.T, rtol=1e-10, atol=1e-12)
    out, hv = F.hvp(lambda t: f_scalar(ag, t), x, v)
    _, vh = F.vhp(lambda t: f_scalar(ag, t), x, v)
    np.testing.assert_allclose(arr(hv).reshape(n), H @ arr(v).reshape(n), rtol=1e-9,
                               atol=1e-12)
    np.testing.assert_allclose(arr(vh).reshape(n), arr(v).reshape(n) @ H, rtol=1e-9,
                               atol=1e-12)
    np.testing.assert_allclose(arr(out), arr(f_scalar(ag, x)))


def test_hessian_linear_function():
    x = rnd((3,), 37)
    H = F.hessian(lambda t: (t * 2.0).sum(), x)
    np.testing.assert_array_equal(arr(H), np.zeros((3, 3)))
    with pytest.raises(RuntimeError, match="independent"):
        F.hessian(lambda t: (t * 2.0).sum(), x, strict=True)


def test_hessian_requires_scalar_output():
    with pytest.raises(RuntimeError, match="single element"):
        F.hessian(lambda t: t * t, rnd((3,)))
    with pytest.raises(RuntimeError, match="single Tensor"):
        F.hessian(lambda t: ((t * t).sum(), t.sum()), rnd((3,)))


def test_hessian_create_graph():
    x = rnd((2,), 38)
    H = F.hessian(lambda t: (t ** 4).sum(), x, create_graph=True)
    assert H.requires_grad

    def fn(a):
        return F.hessian(lambda t: (t ** 4).sum() + (t.sin() * t).sum(), a, create_graph=True)

    assert ag.gradcheck(fn, (x.detach().requires_grad_(),))


@pytest.mark.parametrize("name", ["hvp", "vhp"])
def test_hvp_vhp_match_torch(name):
    torch = _torch()
    x, y = rnd((2,), 39), rnd((3,), 40)
    v = (rnd((2,), 41), rnd((3,), 42))
    out, r = getattr(F, name)(lambda a, b: f_scalar2(ag, a, b), (x, y), v)
    tout, tr = getattr(torch.autograd.functional, name)(
        lambda a, b: f_scalar2(torch, a, b), _to_torch(torch, (x, y)), _to_torch(torch, v))
    _assert_close(out, tout)
    _assert_close(r, tr)
    out, r = getattr(F, name)(lambda t: f_scalar(ag, t), x, v[0])
    tout, tr = getattr(torch.autograd.functional, name)(
        lambda t: f_scalar(torch, t), _to_torch(torch, x), _to_torch(torch, v[0]))
    _assert_close(r, tr)
    assert isinstance(r, ag.Tensor) and not r.requires_grad


@pytest.mark.parametrize("name", ["hvp", "vhp"])
def test_hvp_vhp_errors_and_create_graph(name):
    fn = getattr(F, name)
    x = rnd((3,), 43)
    with pytest.raises(RuntimeError, match="v can only be None"):
        fn(lambda t: (t ** 3).sum(), x)
    with pytest.raises(RuntimeError, match="single element"):
        fn(lambda t: t ** 3, x, rnd((3,)))
    _, r = fn(lambda t: (t ** 3).sum(), t64([2.0]))
    np.testing.assert_allclose(arr(r), [12.0])
    _, r = fn(lambda t: (t ** 2).sum(), x, rnd((3,), 44))
    np.testing.assert_allclose(arr(r), 2.0 * arr(rnd((3,), 44)))
    v = rnd((3,), 45)

    def prod(a):
        return fn(lambda t: (t ** 4).sum(), a, v, create_graph=True)[1]

    assert ag.gradcheck(prod, (x.detach().requires_grad_(),))


# ---- JAX-style grad ------------------------------------------------------------------------------

def test_grad_single_argument():
    df = F.grad(lambda x: (x ** 3).sum())
    x = rnd((2, 3), 46)
    g = df(x)
    assert isinstance(g, ag.Tensor) and g.shape == (2, 3)
    np.testing.assert_allclose(arr(g), 3 * arr(x) ** 2)
    assert not g.requires_grad and x.grad is None


def test_grad_argnums_and_kwargs():
    def f(x, y, scale=1.0):
        return scale * (x * y.exp()).sum()

    x, y = rnd((3,), 47), rnd((3,), 48)
    gy = F.grad(f, argnums=1)(x, y, scale=2.0)
    np.testing.assert_allclose(arr(gy), 2.0 * arr(x) * np.exp(arr(y)))
    gx, gy2 = F.grad(f, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(arr(gx), np.exp(arr(y)))
    np.testing.assert_allclose(arr(gy2), arr(x) * np.exp(arr(y)))
    (gl,) = F.grad(f, argnums=(-1,))(x, y)
    np.testing.assert_allclose(arr(gl), arr(gy2))


def test_grad_has_aux():
    def f(x):
        loss = (x * x).sum()
        return loss, {"loss": loss, "twice": x * 2}

    g, aux = F.grad(f, has_aux=True)(rnd((3,), 49))
    np.testing.assert_allclose(arr(g), 2 * arr(rnd((3,), 49)))
    assert set(aux) == {"loss", "twice"}
    assert not aux["loss"].requires_grad
    with pytest.raises(TypeError, match="pair"):
        F.grad(lambda x: x.sum(), has_aux=True)(rnd((3,)))


def test_grad_python_numbers_and_arrays():
    g = F.grad(lambda x: x * x * x)(2.0)
    assert isinstance(g, ag.Tensor)
    np.testing.assert_allclose(g.item(), 12.0)
    g = F.grad(lambda x: (x.sin()).sum())(np.array([0.0, 1.0]))
    assert g.dtype == np.float64
    np.testing.assert_allclose(arr(g), np.cos([0.0, 1.0]))
    with pytest.raises(TypeError, match="floating"):
        F.grad(lambda x: x.sum())(ag.tensor([1, 2]))


def test_grad_composes():
    d2 = F.grad(F.grad(lambda x: x ** 3))
    np.testing.assert_allclose(d2(2.0).item(), 12.0)
    d3 = F.grad(F.grad(F.grad(lambda x: x.sin())))
    np.testing.assert_allclose(d3(t64(0.3)).item(), -np.cos(0.3))
    # mixed partials: d/dy d/dx (x^2 y^3) = 6 x y^2
    dxy = F.grad(lambda x, y: F.grad(lambda a, b: a * a * b ** 3)(x, y), argnums=1)
    np.testing.assert_allclose(dxy(t64(2.0), t64(3.0)).item(), 6 * 2.0 * 9.0)
    # a tensor captured by a closure keeps the result differentiable with respect to it
    w = t64(3.0, requires_grad=True)
    g = F.grad(lambda x: x * x * w)(t64(2.0))
    np.testing.assert_allclose(g.item(), 12.0)
    assert g.requires_grad
    g.backward()
    np.testing.assert_allclose(w.grad.item(), 4.0)


def test_grad_unused_argument_and_errors():
    g = F.grad(lambda x, y: (x * 2).sum(), argnums=1)(rnd((2,)), rnd((3,)))
    np.testing.assert_array_equal(arr(g), np.zeros(3))
    with pytest.raises(RuntimeError, match="scalar"):
        F.grad(lambda x: x * 2)(rnd((3,)))
    with pytest.raises(TypeError, match="Tensor"):
        F.grad(lambda x: 3.0)(rnd((3,)))
    with pytest.raises(TypeError, match="argnums"):
        F.grad(lambda x: x.sum(), argnums="0")
    with pytest.raises(IndexError, match="argnums"):
        F.grad(lambda x: x.sum(), argnums=2)(rnd((3,)))


def test_grad_under_no_grad():
    with ag.no_grad():
        g = F.grad(lambda x: (x * x).sum())(t64([1.0, 2.0]))
    np.testing.assert_allclose(arr(g), [2.0, 4.0])
    with ag.no_grad():
        J = F.jacobian(lambda t: t * t, t64([1.0, 2.0]))
    np.testing.assert_allclose(arr(J), np.diag([2.0, 4.0]))


def test_functional_is_a_submodule():
    assert ag.functional is F
    for name in ("vjp", "jvp", "jacobian", "hessian", "hvp", "vhp", "grad"):
        assert callable(getattr(F, name))
        assert getattr(F, name).__doc__
