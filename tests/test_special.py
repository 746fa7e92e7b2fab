"""Element-wise special functions and the rest of PyTorch's element-wise math
(autograd/ops/special.py, ``autograd.special``): forward against PyTorch in float32/float64
and for integer inputs, values at the edges (poles, negative arguments, inf, nan), float64
gradcheck/gradgradcheck with broadcasting, gradients against PyTorch, methods and in-place
forms, errors.

One row per op in ``UNARY``/``BINARY``: the name, our function, PyTorch's, the sampled
domain (kept away from poles and kinks for the gradient checks).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag
from autograd import registry

torch = pytest.importorskip("torch")

SETTINGS = settings(max_examples=6, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
PAIRS = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1,
                                          max_side=3)
SHAPES = hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3)
SEEDS = st.integers(0, 2**32 - 1)


def t64(a, requires_grad=True):
    return ag.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def tt(a, requires_grad=False):
    return torch.tensor(np.asarray(a), requires_grad=requires_grad)


# ---- domains ------------------------------------------------------------------------------

def d_real(rng, shape):
    return rng.uniform(-3.0, 3.0, shape)


def d_wide(rng, shape):
    return rng.uniform(-40.0, 40.0, shape)


def d_pos(rng, shape):
    return rng.uniform(0.3, 6.0, shape)


def d_gamma(rng, shape):
    """Positive and negative non-integers (away from the poles of the gamma function)."""
    return rng.integers(-4, 5, shape) + rng.uniform(0.15, 0.85, shape)


def d_unit(rng, shape):
    return rng.uniform(-0.95, 0.95, shape)


def d_prob(rng, shape):
    return rng.uniform(0.02, 0.98, shape)


def d_nonzero(rng, shape):
    return rng.uniform(0.3, 3.0, shape) * rng.choice([-1.0, 1.0], shape)


def d_gt_m1(rng, shape):
    return rng.uniform(-0.7, 3.0, shape)


def _sp(name):
    return lambda M, *xs: getattr(M.special, name)(*xs)


def _fn(name):
    return lambda M, *xs: getattr(M, name)(*xs)


# name, call(M, *xs), domain, tolerance in float64
UNARY = [
    ("cosh", _fn("cosh"), d_real, 1e-14),
    ("sinh", _fn("sinh"), d_real, 1e-14),
    ("exp2", _fn("exp2"), d_real, 1e-14),
    ("deg2rad", _fn("deg2rad"), d_wide, 1e-14),
    ("rad2deg", _fn("rad2deg"), d_real, 1e-14),
    ("erfc", _fn("erfc"), d_real, 1e-13),
    ("erfinv", _fn("erfinv"), d_unit, 1e-13),
    ("lgamma", _fn("lgamma"), d_gamma, 1e-10),
    ("digamma", _fn("digamma"), d_gamma, 1e-12),
    ("i0", _fn("i0"), d_wide, 1e-13),
    ("sinc", _fn("sinc"), d_nonzero, 1e-13),
    ("frac", _fn("frac"), d_gamma, 1e-14),
    ("logit", _fn("logit"), d_prob, 1e-13),
    ("nan_to_num", _fn("nan_to_num"), d_real, 0.0),
    ("sgn", _fn("sgn"), d_nonzero, 0.0),
    ("fix", _fn("fix"), d_gamma, 0.0),
    ("positive", _fn("positive"), d_real, 0.0),
    ("polygamma1", lambda M, x: M.polygamma(1, x), d_gamma, 1e-12),
    ("polygamma3", lambda M, x: M.polygamma(3, x), d_gamma, 1e-12),
    ("mvlgamma", lambda M, x: M.mvlgamma(x, 3), d_pos, 1e-10),
    ("special.erfcx", _sp("erfcx"), d_wide, 1e-13),
    ("special.i0e", _sp("i0e"), d_wide, 1e-13),
    ("special.i1", _sp("i1"), d_wide, 1e-13),
    ("special.i1e", _sp("i1e"), d_wide, 1e-13),
    ("special.ndtr", _sp("ndtr"), d_real, 1e-13),
    ("special.ndtri", _sp("ndtri"), d_prob, 1e-13),
    ("special.log_ndtr", _sp("log_ndtr"), d_wide, 1e-12),
    ("special.entr", _sp("entr"), d_pos, 1e-14),
    ("special.expit", _sp("expit"), d_real, 1e-14),
    ("special.gammaln", _sp("gammaln"), d_gamma, 1e-10),
    ("special.psi", _sp("psi"), d_gamma, 1e-12),
    ("special.multigammaln", lambda M, x: M.special.multigammaln(x, 2), d_pos, 1e-10),
    ("special.sinc", _sp("sinc"), d_nonzero, 1e-13),
    ("special.exp2", _sp("exp2"), d_real, 1e-14),
    ("special.expm1", _sp("expm1"), d_real, 1e-14),
    ("special.log1p", _sp("log1p"), d_gt_m1, 1e-14),
    ("special.erf", _sp("erf"), d_real, 1e-14),
    ("special.logit", _sp("logit"), d_prob, 1e-13),
]
UNARY_IDS = [u[0] for u in UNARY]
# ops that are piecewise constant (no second derivative to check) or not smooth
NOT_SMOOTH = {"frac", "fix", "sgn", "nan_to_num", "positive"}

BINARY = [
    ("copysign", _fn("copysign"), d_nonzero, d_nonzero, 0.0),
    ("logaddexp", _fn("logaddexp"), d_wide, d_wide, 1e-14),
    ("logaddexp2", _fn("logaddexp2"), d_wide, d_wide, 1e-14),
    ("hypot", _fn("hypot"), d_nonzero, d_nonzero, 1e-14),
    ("xlogy", _fn("xlogy"), d_real, d_pos, 1e-14),
    ("special.xlogy", _sp("xlogy"), d_real, d_pos, 1e-14),
    ("special.xlog1py", _sp("xlog1py"), d_real, d_gt_m1, 1e-14),
    ("fmax", _fn("fmax"), d_real, d_real, 0.0),
    ("fmin", _fn("fmin"), d_real, d_real, 0.0),
    ("clamp_min", _fn("clamp_min"), d_real, d_real, 0.0),
    ("clamp_max", _fn("clamp_max"), d_real, d_real, 0.0),
    ("float_power", _fn("float_power"), d_pos, d_real, 1e-14),
    ("ldexp", _fn("ldexp"), d_real, d_real, 1e-14),
    ("rsub", _fn("rsub"), d_real, d_real, 0.0),
    ("nextafter", _fn("nextafter"), d_real, d_real, 0.0),
    ("igamma_x", lambda M, a, x: M.igamma(a.detach(), x), d_pos, d_pos, 1e-9),
    ("igammac_x", lambda M, a, x: M.igammac(a.detach(), x), d_pos, d_pos, 1e-9),
    ("special.gammainc_x", lambda M, a, x: M.special.gammainc(a.detach(), x), d_pos, d_pos,
     1e-9),
    ("special.zeta_q", lambda M, s, q: M.special.zeta(s.detach() + 1.5, q), d_pos, d_pos,
     1e-13),
    ("lerp_scalar", lambda M, a, b: M.lerp(a, b, 0.3), d_real, d_real, 1e-14),
    ("lerp_scalar_hi", lambda M, a, b: M.lerp(a, b, 0.8), d_real, d_real, 1e-14),
    ("lerp_weight", lambda M, a, w: M.lerp(a, a * 2 + 1, w), d_real, d_real, 1e-13),
]
BINARY_IDS = [b[0] for b in BINARY]
# a kink on the sampled domain (ties are measure zero, but gradgradcheck needs smoothness)
NOT_SMOOTH_B = {"copysign", "fmax", "fmin", "clamp_min", "clamp_max", "nextafter"}


def _close(ours, theirs, tol, what="", atol=None):
    a = np.asarray(ours.detach().numpy() if hasattr(ours, "detach") else ours)
    e = np.asarray(theirs.detach().numpy() if hasattr(theirs, "detach") else theirs)
    assert a.shape == e.shape, what
    assert str(a.dtype) == str(e.dtype), (what, a.dtype, e.dtype)
    if a.dtype.kind != "f":
        np.testing.assert_array_equal(a, e, err_msg=what)
        return
    if atol is None:  # float32 kernels round to ~1e-7 absolute (digamma near its root)
        atol = 1e-6 if a.dtype == np.float32 else tol * 1e-3
    np.testing.assert_allclose(a.astype(np.float64), e.astype(np.float64), rtol=tol,
                               atol=atol, equal_nan=True, err_msg=what)


# ---- forward ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name,call,dom,tol", UNARY, ids=UNARY_IDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unary_forward_matches_torch(name, call, dom, tol, dtype):
    x = dom(np.random.default_rng(0), (4, 50)).astype(dtype)
    tol = max(tol, 5e-6) if dtype == "float32" else tol
    _close(call(ag, ag.tensor(x)), call(torch, tt(x)), tol, name)


@pytest.mark.parametrize("name,call,dom,tol", UNARY, ids=UNARY_IDS)
@pytest.mark.parametrize("dtype", ["int32", "int64", "bool"])
def test_unary_integer_inputs(name, call, dom, tol, dtype):
    """Integers give PyTorch's result dtype (the default float for most), or its error."""
    x = np.array([0, 1, 2, 3, 5, -1, -2], dtype=dtype) if dtype != "bool" else \
        np.array([True, False])
    try:
        want = call(torch, tt(x))
    except Exception as e:  # noqa: BLE001 - the class is what is compared
        with pytest.raises(type(e)):
            call(ag, ag.tensor(x))
        return
    _close(call(ag, ag.tensor(x)), want, max(tol, 5e-6), name)


EDGES = np.array([0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, -2.5, 1e-300, -1e-300, 1e-8,
                  30.0, -30.0, 700.0, 1e10, -1e10, math.inf, -math.inf, math.nan, 1.5, 10.0])


@pytest.mark.parametrize("name,call,dom,tol", UNARY, ids=UNARY_IDS)
def test_unary_edges_match_torch(name, call, dom, tol):
    """Poles, zeros of both signs, infinities, nan, huge and tiny arguments."""
    if name in ("special.multigammaln",):
        pytest.skip("multigammaln's domain check needs finite inputs")
    want = call(torch, tt(EDGES))
    got = call(ag, ag.tensor(EDGES))
    _close(got, want, max(tol, 1e-12), name)
    zero = (want.numpy() == 0) & (got.numpy() == 0)
    assert (np.signbit(got.numpy()[zero]) == np.signbit(want.numpy()[zero])).all(), name


@pytest.mark.parametrize("name,call,da,db,tol", BINARY, ids=BINARY_IDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_binary_forward_matches_torch(name, call, da, db, tol, dtype):
    rng = np.random.default_rng(1)
    a, b = da(rng, (3, 1, 20)).astype(dtype), db(rng, (4, 20)).astype(dtype)
    tol = max(tol, 5e-6) if dtype == "float32" else tol
    _close(call(ag, ag.tensor(a), ag.tensor(b)), call(torch, tt(a), tt(b)), tol, name)


@pytest.mark.parametrize("name,call,da,db,tol", BINARY, ids=BINARY_IDS)
def test_binary_edges_match_torch(name, call, da, db, tol):
    a, b = np.meshgrid(EDGES, EDGES, indexing="ij")
    try:
        want = call(torch, tt(a), tt(b))
    except Exception as e:  # noqa: BLE001
        with pytest.raises(type(e)):
            call(ag, ag.tensor(a), ag.tensor(b))
        return
    _close(call(ag, ag.tensor(a), ag.tensor(b)), want, max(tol, 1e-12), name)


@pytest.mark.parametrize("name,call,da,db,tol", BINARY, ids=BINARY_IDS)
@pytest.mark.parametrize("dts", [("int64", "int64"), ("int32", "float32"), ("bool", "int64"),
                                 ("float32", "float64")])
def test_binary_promotion_matches_torch(name, call, da, db, tol, dts):
    a = np.array([[1, 2, 0], [3, 1, 2]]).astype(dts[0])
    b = np.array([2, 1, 3]).astype(dts[1])
    try:
        want = call(torch, tt(a), tt(b))
    except Exception as e:  # noqa: BLE001
        with pytest.raises(type(e)):
            call(ag, ag.tensor(a), ag.tensor(b))
        return
    _close(call(ag, ag.tensor(a), ag.tensor(b)), want, max(tol, 5e-6), name)


def test_igamma_zeta_wide_ranges():
    """The incomplete gamma functions and Hurwitz zeta over wide ranges, both tails."""
    rng = np.random.default_rng(3)
    a = np.concatenate([rng.uniform(0.01, 3, 300), rng.uniform(3, 200, 300)])
    x = a * rng.uniform(0.05, 3.0, a.shape)
    # PyTorch's uniform asymptotic expansion (a > 20 near x = a) is good to ~1e-9 there;
    # this project's series and continued fraction to ~1e-15 (checked with mpmath below)
    for f in ("igamma", "igammac"):
        _close(getattr(ag, f)(ag.tensor(a), ag.tensor(x)),
               getattr(torch, f)(tt(a), tt(x)), 1e-8, f)
    mpmath = pytest.importorskip("mpmath")
    pts = [(0.5, 0.1), (2.5, 3.0), (30.0, 30.0), (700.0, 700.0), (10.0, 25.0), (120.0, 80.0)]
    for av, xv in pts:
        want = float(mpmath.gammainc(av, 0, xv, regularized=True))
        got = ag.igamma(ag.tensor(av, dtype=ag.float64), ag.tensor(xv, dtype=ag.float64))
        assert abs(got.item() - want) <= 1e-13 * abs(want), (av, xv)
        wantc = float(mpmath.gammainc(av, xv, mpmath.inf, regularized=True))
        gotc = ag.igammac(ag.tensor(av, dtype=ag.float64), ag.tensor(xv, dtype=ag.float64))
        assert abs(gotc.item() - wantc) <= 1e-13 * abs(wantc), (av, xv)
    s = rng.uniform(1.01, 30, 300)
    q = np.concatenate([rng.uniform(0.01, 50, 200), -rng.integers(1, 9, 100) + 0.5])
    _close(ag.special.zeta(ag.tensor(s), ag.tensor(q[:300])),
           torch.special.zeta(tt(s), tt(q[:300])), 1e-12, "zeta")
    sint = rng.integers(2, 9, 100).astype(np.float64)  # negative q needs an integer s
    _close(ag.special.zeta(ag.tensor(sint), ag.tensor(q[200:])),
           torch.special.zeta(tt(sint), tt(q[200:])), 1e-12, "zeta neg q")


def test_polygamma_orders_and_poles():
    x = np.concatenate([np.linspace(-4.7, 8.3, 61), [0.0, -0.0, -1.0, -3.0, math.inf,
                                                      -math.inf, math.nan, 1e-8]])
    for n in range(6):
        _close(ag.polygamma(n, ag.tensor(x)), torch.polygamma(n, tt(x)), 1e-12, f"n={n}")
    _close(ag.tensor(x).polygamma(2), tt(x).polygamma(2), 1e-12, "method")
    y = ag.tensor(x.copy())
    y.polygamma_(1)
    _close(y, tt(x).polygamma_(1), 1e-12, "in-place")
    with pytest.raises(RuntimeError):
        ag.polygamma(-1, ag.tensor(x))


def test_erfinv_ndtri_tails():
    """Near +-1 (erfinv) and 0 (ndtri, down to subnormals): inverse of erf/ndtr."""
    y = 1 - 10.0 ** -np.arange(1, 16)
    x = ag.erfinv(ag.tensor(np.concatenate([y, -y]))).numpy()
    back = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(back, np.concatenate([y, -y]), rtol=1e-15)
    p = np.concatenate([10.0 ** -np.arange(1, 300, 7), [5e-324, 0.5, 1 - 1e-16]])
    z = ag.special.ndtri(ag.tensor(p)).numpy()
    _close(ag.special.ndtri(ag.tensor(p)), torch.special.ndtri(tt(p)), 1e-12, "ndtri")
    assert np.all(np.diff(z[:-3]) < 0)


# ---- gradients -----------------------------------------------------------------------------

@pytest.mark.parametrize("name,call,dom,tol", UNARY, ids=UNARY_IDS)
@SETTINGS
@given(shape=SHAPES, seed=SEEDS)
def test_unary_gradcheck(name, call, dom, tol, shape, seed):
    dom = d_real if dom is d_wide else dom  # large values swamp the finite differences
    x = t64(dom(np.random.default_rng(seed), shape))
    assert ag.gradcheck(lambda v: call(ag, v), (x,))
    if name not in NOT_SMOOTH:
        assert ag.gradgradcheck(lambda v: call(ag, v), (x,))


@pytest.mark.parametrize("name,call,dom,tol", UNARY, ids=UNARY_IDS)
def test_unary_grad_matches_torch(name, call, dom, tol):
    x = dom(np.random.default_rng(7), (3, 7))
    a, b = t64(x), tt(x, requires_grad=True)
    ya, yb = call(ag, a), call(torch, b)
    if not yb.requires_grad:
        return
    g = np.random.default_rng(8).uniform(-1, 1, ya.shape)
    ga, = ag.grad(ya, a, ag.tensor(g))
    gb, = torch.autograd.grad(yb, b, tt(g))
    if gb._is_zerotensor():  # sgn: PyTorch's symbolic zero
        gb = torch.zeros_like(b)
    _close(ga, gb, max(tol, 1e-11), name)


@pytest.mark.parametrize("name,call,da,db,tol", BINARY, ids=BINARY_IDS)
@SETTINGS
@given(shapes=PAIRS, seed=SEEDS)
def test_binary_gradcheck_broadcast(name, call, da, db, tol, shapes, seed):
    rng = np.random.default_rng(seed)
    sa, sb = shapes.input_shapes
    a, b = t64(da(rng, sa)), t64(db(rng, sb))
    y = call(ag, a, b)
    assert tuple(y.shape) == shapes.result_shape
    if name.endswith(("_x", "_q")):  # differentiable in the second argument only
        a = a.detach()
        assert ag.gradcheck(lambda v: call(ag, a, v), (b,))
        assert ag.gradgradcheck(lambda v: call(ag, a, v), (b,))
        return
    assert ag.gradcheck(lambda u, v: call(ag, u, v), (a, b))
    if name not in NOT_SMOOTH_B:
        assert ag.gradgradcheck(lambda u, v: call(ag, u, v), (a, b))


@pytest.mark.parametrize("name,call,da,db,tol", BINARY, ids=BINARY_IDS)
def test_binary_grads_match_torch(name, call, da, db, tol):
    rng = np.random.default_rng(9)
    x, y = da(rng, (3, 1)), db(rng, (1, 4))
    a, b = t64(x), t64(y)
    ta, tb = tt(x, True), tt(y, True)
    out, tout = call(ag, a, b), call(torch, ta, tb)
    g = rng.uniform(-1, 1, out.shape)
    ours = ag.grad(out, [a, b], ag.tensor(g), allow_unused=True)
    theirs = torch.autograd.grad(tout, [ta, tb], tt(g), allow_unused=True)
    for i, (o, t) in enumerate(zip(ours, theirs)):
        if t is None:
            assert o is None or not np.any(o.numpy()), (name, i)
            continue
        _close(o, t, max(tol, 1e-11), f"{name} grad[{i}]")


def test_edge_gradients_match_torch():
    """Gradients where PyTorch defines them by a rule: sinc at 0, i1/i1e at 0, xlogy at
    x = 0, logit outside [eps, 1 - eps], nan_to_num at inf/nan, copysign at 0."""
    x = np.array([0.0, -0.0, 1e-300, 0.5, -2.0, math.inf, 1.0, 3.0])
    # (at nan, PyTorch's logit(eps) gradient is nan in its scalar loop and 0 in its
    # vectorised one; this project gives 0)
    cases = [lambda M, v: M.sinc(v), lambda M, v: M.special.i1(v),
             lambda M, v: M.special.i1e(v), lambda M, v: M.logit(v, 0.25),
             lambda M, v: M.nan_to_num(v), lambda M, v: M.copysign(v, -1.0 + 0 * v),
             lambda M, v: M.xlogy(v, v * 0), lambda M, v: M.special.xlog1py(v, v * 0 - 1)]
    for k, c in enumerate(cases):
        a, b = t64(x), tt(x, True)
        ga, = ag.grad(c(ag, a).sum(), a)
        gb, = torch.autograd.grad(c(torch, b).sum(), b)
        _close(ga, gb, 1e-12, f"case {k}")


def test_derivative_not_implemented_like_torch():
    a, x = t64([2.0, 3.0]), t64([1.0, 4.0])
    for f in (ag.igamma, ag.igammac, ag.special.zeta):
        y = f(a, x)
        with pytest.raises(NotImplementedError, match="not implemented"):
            y.sum().backward()
    h = ag.heaviside(a, x)
    assert not h.requires_grad


# ---- methods, in-place forms, aliases --------------------------------------------------------

def _methods():
    out = []
    for e in registry.ops():
        if e.fn.__module__ == "autograd.ops.special" and e.method_fn is not None and \
                e.function and e.arity in (1, 2) and e.family == "elementwise" and \
                e.name not in ("polygamma", "mvlgamma"):  # extra arguments: tested below
            out.append(e)
    return out


@pytest.mark.parametrize("info", _methods(), ids=lambda e: e.name)
def test_method_and_inplace_forms(info):
    rng = np.random.default_rng(4)
    ints = info.name in ("gcd", "lcm", "bitwise_left_shift", "bitwise_right_shift")
    x = rng.integers(1, 9, (3, 4)) if ints else rng.uniform(0.2, 0.8, (3, 4))
    y = rng.integers(1, 5, (4,)) if ints else rng.uniform(0.2, 0.8, (4,))
    args = (ag.tensor(y),) if info.arity == 2 else ()
    targs = (tt(y),) if info.arity == 2 else ()
    want = getattr(torch, info.name)(tt(x), *targs)
    got = getattr(ag.tensor(x), info.name)(*args)
    _close(got, want, 1e-12, info.name)
    if info.inplace:
        t = ag.tensor(x.copy())
        r = getattr(t, info.name + "_")(*args)
        assert r is t
        _close(t, getattr(tt(x.copy()), info.name + "_")(*targs), 1e-12, info.name + "_")


def test_torch_namespace_and_torch_special():
    names = ["cosh", "sinh", "exp2", "deg2rad", "rad2deg", "erfc", "erfinv", "lgamma",
             "digamma", "polygamma", "mvlgamma", "i0", "sinc", "frac", "fix", "float_power",
             "fmax", "fmin", "heaviside", "logit", "nan_to_num", "signbit", "sgn", "positive",
             "gcd", "lcm", "ldexp", "frexp", "nextafter", "igamma", "igammac", "isneginf",
             "isposinf", "isreal", "bitwise_left_shift", "bitwise_right_shift", "clamp_min",
             "clamp_max", "rsub", "copysign", "logaddexp", "logaddexp2", "hypot", "xlogy",
             "lerp"]
    missing = [n for n in names if not callable(getattr(ag, n, None))]
    assert not missing
    sp = ["expit", "logit", "erf", "erfc", "erfcx", "erfinv", "gammaln", "digamma", "psi",
          "polygamma", "multigammaln", "i0", "i0e", "i1", "i1e", "ndtr", "ndtri", "log_ndtr",
          "sinc", "round", "entr", "xlogy", "xlog1py", "zeta", "logsumexp", "exp2", "expm1",
          "log1p", "gammainc", "gammaincc", "softmax", "log_softmax"]
    assert not [n for n in sp if not callable(getattr(ag.special, n, None))]
    x = np.array([[0.25, -1.5], [2.75, 0.5]])
    _close(ag.special.round(ag.tensor(x)), torch.special.round(tt(x)), 0, "round")
    _close(ag.special.round(ag.tensor(x), decimals=1), torch.special.round(tt(x), decimals=1),
           1e-15, "round decimals")
    _close(ag.special.logsumexp(ag.tensor(x), 1), torch.special.logsumexp(tt(x), 1), 1e-14,
           "logsumexp")
    for f in ("softmax", "log_softmax"):
        _close(getattr(ag.special, f)(ag.tensor(x), 1), getattr(torch.special, f)(tt(x), 1),
               1e-14, f)
        _close(getattr(ag.special, f)(ag.tensor(x).float(), 0, dtype=ag.float64),
               getattr(torch.special, f)(tt(x).float(), 0, dtype=torch.float64), 1e-14, f)


def test_comparison_inplace_keeps_dtype():
    x = np.array([1.5, -2.0, 3.0])
    y = np.array([1.5, 0.0, 4.0])
    for op in ("eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less",
               "less_equal", "not_equal"):
        for dt in ("float32", "int64"):
            a, b = ag.tensor(x.astype(dt)), tt(x.astype(dt))
            r = getattr(a, op + "_")(ag.tensor(y))
            assert r is a
            _close(a, getattr(b, op + "_")(tt(y)), 0, op)
    for op in ("bitwise_and", "bitwise_or", "bitwise_xor", "logical_and", "logical_or",
               "logical_xor"):
        i, j = np.array([1, 6, 3]), np.array([3, 2, 0])
        a = ag.tensor(i.copy())
        getattr(a, op + "_")(ag.tensor(j))
        _close(a, getattr(tt(i.copy()), op + "_")(tt(j)), 0, op)
    for op in ("bitwise_not", "logical_not"):
        a = ag.tensor(np.array([1, 0, -3]))
        getattr(a, op + "_")()
        _close(a, getattr(tt(np.array([1, 0, -3])), op + "_")(), 0, op)
    with pytest.raises(RuntimeError):
        ag.tensor([True, False]).bitwise_and_(ag.tensor([1, 2]))


def test_shift_operators():
    i = np.array([1, -8, 100, 7], dtype=np.int32)
    s = np.array([0, 2, 31, 40], dtype=np.int32)
    a, t = ag.tensor(i), tt(i)
    _close(a << ag.tensor(s), t << tt(s), 0, "<<")
    _close(a >> ag.tensor(s), t >> tt(s), 0, ">>")
    _close(a << 3, t << 3, 0, "<< int")
    _close(2 << a.abs() % 8, 2 << t.abs() % 8, 0, "int <<")
    _close(64 >> ag.tensor(s), 64 >> tt(s), 0, "int >>")
    b, u = ag.tensor(i.copy()), tt(i.copy())
    b <<= 2
    u <<= 2
    _close(b, u, 0, "<<=")
    b >>= 1
    u >>= 1
    _close(b, u, 0, ">>=")
    with pytest.raises(NotImplementedError):
        ag.tensor([1.5]) << 1


def test_frexp_float_power_lerp_heaviside():
    x = np.array([0.0, -0.0, 3.0, -0.375, 1e-310, math.inf, math.nan, 1024.0])
    m, e = ag.frexp(ag.tensor(x))
    tm, te = torch.frexp(tt(x))
    _close(m, tm, 0, "mantissa")
    _close(e, te, 0, "exponent")
    r = ag.frexp(ag.tensor(x))
    assert r.mantissa is r[0] and r.exponent is r[1]
    with pytest.raises(RuntimeError):
        ag.frexp(ag.tensor([1, 2]))
    a = t64([0.5, 2.0])
    mm, _ = ag.frexp(a)
    (g,) = ag.grad(mm.sum(), a)
    ta = tt([0.5, 2.0], True)
    (tg,) = torch.autograd.grad(torch.frexp(ta).mantissa.sum(), ta)
    _close(g, tg, 0, "frexp grad")
    # float_power: always float64; in place only into float64
    f = np.array([1.5, 2.0], dtype=np.float32)
    _close(ag.float_power(ag.tensor(f), 2), torch.float_power(tt(f), 2), 1e-15, "fp")
    _close(ag.float_power(2, ag.tensor(f)), torch.float_power(2, tt(f)), 1e-15, "fp scalar")
    with pytest.raises(RuntimeError):
        ag.tensor(f).float_power_(2)
    d = ag.tensor(f.astype(np.float64))
    d.float_power_(ag.tensor(f))
    _close(d, tt(f.astype(np.float64)).float_power_(tt(f)), 1e-15, "fp_")
    # lerp: scalar and tensor weights, in place, dtype check
    s, en, w = np.array([1.0, -2.0, 3.0]), np.array([2.0, 5.0, -1.0]), np.array([0.2, 0.5, 0.9])
    _close(ag.lerp(ag.tensor(s), ag.tensor(en), ag.tensor(w)),
           torch.lerp(tt(s), tt(en), tt(w)), 1e-15, "lerp")
    z = ag.tensor(s.copy())
    z.lerp_(ag.tensor(en), 0.75)
    _close(z, tt(s.copy()).lerp_(tt(en), 0.75), 1e-15, "lerp_")
    with pytest.raises(RuntimeError):
        ag.lerp(ag.tensor(s), ag.tensor(en.astype(np.float32)), 0.5)
    # heaviside: same dtypes only
    hv = np.array([-1.0, 0.0, 2.0, math.nan])
    _close(ag.heaviside(ag.tensor(hv), ag.tensor(np.array([0.5]))),
           torch.heaviside(tt(hv), tt([0.5])),
           0, "heaviside")
    with pytest.raises(RuntimeError):
        ag.heaviside(ag.tensor(hv), ag.tensor([1]))


def test_nan_to_num_logit_mvlgamma_arguments():
    x = np.array([math.nan, math.inf, -math.inf, 1.0], dtype=np.float32)
    for kw in ({}, {"nan": 2.0}, {"posinf": 7.0, "neginf": -9.0}):
        _close(ag.nan_to_num(ag.tensor(x), **kw), torch.nan_to_num(tt(x), **kw), 0, str(kw))
    y = ag.tensor(x.copy())
    y.nan_to_num_(1.0)
    _close(y, tt(x.copy()).nan_to_num_(1.0), 0, "nan_to_num_")
    p = np.array([-0.5, 0.0, 0.1, 0.5, 0.95, 1.0, 1.5])
    for eps in (None, 0.0, 0.2):
        _close(ag.logit(ag.tensor(p), eps), torch.logit(tt(p), eps), 1e-14, f"eps={eps}")
    _close(ag.tensor(p).logit(0.2), tt(p).logit(0.2), 1e-14, "method")
    with pytest.raises(RuntimeError):
        ag.mvlgamma(ag.tensor([2.0]), 0)
    with pytest.raises(RuntimeError):
        ag.mvlgamma(ag.tensor([True]), 1)
    v = np.array([2.5, 3.0, 7.25])
    _close(ag.tensor(v).mvlgamma(4), tt(v).mvlgamma(4), 1e-12, "mvlgamma method")
    q = ag.tensor(v.copy())
    q.mvlgamma_(2)
    _close(q, tt(v.copy()).mvlgamma_(2), 1e-12, "mvlgamma_")


def test_errors_match_torch():
    f, i, b = ag.tensor([1.0, 2.0]), ag.tensor([1, 2]), ag.tensor([True, False])
    cases = [
        (lambda: ag.logaddexp(i, i), NotImplementedError),
        (lambda: ag.hypot(i, i), NotImplementedError),
        (lambda: ag.frac(i), NotImplementedError),
        (lambda: ag.gcd(f, f), NotImplementedError),
        (lambda: ag.gcd(b, b), NotImplementedError),
        (lambda: ag.igamma(i, i), NotImplementedError),
        (lambda: ag.nextafter(i, i), NotImplementedError),
        (lambda: ag.positive(b), RuntimeError),
        (lambda: ag.special.erfcx(f.half()), NotImplementedError),
        (lambda: ag.special.zeta(f.half(), f.half()), NotImplementedError),
        (lambda: ag.bitwise_left_shift(b, b), NotImplementedError),
    ]
    for fn, cls in cases:
        with pytest.raises(cls):
            fn()
    assert ag.positive(f) is f


def test_clamp_min_max_and_rsub():
    x = np.array([-1.0, 0.5, 2.0])
    lo = np.array([0.0, 0.5, 3.0])
    _close(ag.clamp_min(ag.tensor(x), 0.25), torch.clamp_min(tt(x), 0.25), 0, "min scalar")
    _close(ag.clamp_max(ag.tensor(x), 1), torch.clamp_max(tt(x), 1), 0, "max int")
    _close(ag.clamp_min(ag.tensor([1, 5]), 1.5), torch.clamp_min(tt([1, 5]), 1.5), 0, "prom")
    a, ta = t64(x), tt(x, True)
    lo_a, lo_t = t64(lo), tt(lo, True)
    ga = ag.grad(ag.clamp_min(a, lo_a).sum(), [a, lo_a])
    gt = torch.autograd.grad(torch.clamp_min(ta, lo_t).sum(), [ta, lo_t])
    for o, t in zip(ga, gt):
        _close(o, t, 0, "clamp_min ties")
    y = ag.tensor(x.copy())
    y.clamp_max_(0.0)
    _close(y, tt(x.copy()).clamp_max_(0.0), 0, "clamp_max_")
    _close(ag.rsub(ag.tensor([1, 2]), 5, alpha=2), torch.rsub(tt([1, 2]), 5, alpha=2), 0,
           "rsub")


def test_forward_mode_and_vmap():
    """The ops' JVP rules (forward_ad) and batching rules (vmap) agree with reverse mode
    and with a Python loop."""
    from autograd.func import jvp, vmap

    rng = np.random.default_rng(11)
    x, v = rng.uniform(0.3, 2.0, 5), rng.standard_normal(5)
    fns = [lambda t: ag.special.i1e(t), lambda t: ag.polygamma(2, t),
           lambda t: ag.lerp(t, t * 3, 0.7), lambda t: ag.igamma(ag.tensor(np.full(5, 1.5)), t),
           lambda t: ag.special.log_ndtr(t), lambda t: ag.hypot(t, t + 1)]
    for k, f in enumerate(fns):
        _, tan = jvp(f, [ag.tensor(x)], [ag.tensor(v)])
        a = t64(x)
        (g,) = ag.grad(f(a), a, ag.tensor(np.ones(5)))
        np.testing.assert_allclose(tan.numpy(), g.numpy() * v, rtol=1e-12, err_msg=str(k))
        b = rng.uniform(0.3, 2.0, (3, 5))
        got = vmap(f)(ag.tensor(b)).numpy()
        want = np.stack([f(ag.tensor(r)).numpy() for r in b])
        np.testing.assert_allclose(got, want, rtol=1e-13, err_msg=str(k))
