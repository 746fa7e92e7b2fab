"""Element-wise ops (autograd/ops/elementwise.py) and the Python operators bound to them:
forward against NumPy, float64 gradcheck/gradgradcheck on hypothesis-drawn (broadcast)
shapes, type promotion against PyTorch, subgradients, in-place forms, memory ownership.

The op table (``UNARY``, ``BINARY``) has one row per op. A row names the op; the rest comes
from its registration (autograd/registry.py): the NumPy reference (its ``numpy=`` name), the
sampled domain, its method, aliases, in-place variant and NumPy protocol mapping. Every row
is run through: forward against NumPy and PyTorch, float64 gradcheck (broadcast shapes for
binary ops) and gradgradcheck, gradients against PyTorch, values and gradients at the edges
of the domain against PyTorch, integer inputs, the Tensor bindings and ``np.<name>(t)``.
"""

from __future__ import annotations

import math
import operator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag
from autograd import registry

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])
SETTINGS_GG = settings(max_examples=10, deadline=None,
                       suppress_health_check=[HealthCheck.too_slow])

SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
PAIRS = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=0,
                                          max_side=3)
TRIPLES = hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3,
                                            min_side=0, max_side=3)
SEEDS = st.integers(0, 2**32 - 1)


def t64(a, requires_grad=True):
    return ag.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def arr(t):
    return t.detach().numpy()


# ---- value domains (kept away from singularities and kinks) -------------------------------

def d_real(rng, shape):
    return rng.uniform(-2.0, 2.0, shape)


def d_pos(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def d_nonzero(rng, shape):
    return rng.uniform(0.3, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def d_unit(rng, shape):
    return rng.uniform(-0.9, 0.9, shape)


def d_gt_m1(rng, shape):
    return rng.uniform(-0.5, 2.0, shape)


def d_frac(rng, shape):
    """k + 0.2..0.4: away from integers (floor/ceil/trunc/sign jumps) and from .5 (round)."""
    return rng.integers(-2, 3, shape) + rng.uniform(0.2, 0.4, shape)


def d_odd(rng, shape):
    """Odd multiples of 0.3: never equal to an even multiple (no ties)."""
    return 0.3 * (2 * rng.integers(-3, 4, shape) + 1)


def d_even(rng, shape):
    return 0.6 * rng.integers(-3, 4, shape)


def d_rem_a(rng, shape):
    """a / b has fractional part 0.25, 0.5 or 0.75 for every b of d_rem_b."""
    return 1.25 * (rng.integers(-3, 3, shape) + 0.5)


def d_rem_b(rng, shape):
    return rng.choice([-2.5, -1.25, 1.25, 2.5], shape)


def np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


np_erf = np.vectorize(math.erf, otypes=[np.float64])


def d_registered(lo, hi):
    """Values inside the registered domain (lo, hi), clipped to [-2, 2] and kept a tenth of
    its width away from its ends (where derivatives blow up)."""
    lo, hi = max(lo, -2.0), min(hi, 2.0)
    m = 0.1 * (hi - lo)

    def d(rng, shape):
        return rng.uniform(lo + m, hi - m, shape)

    return d


def U(name, dom=None, ref=None, smooth=True):
    """A unary row: (name, autograd fn, NumPy reference, domain, smooth enough for
    gradgradcheck); the reference and domain default to the op's registration."""
    info = registry.get(name)
    ref = ref if ref is not None else getattr(np, info.numpy[0])
    return (name, getattr(ag, name), ref, dom or d_registered(*info.domain[0]), smooth)


def B(name, da=None, db=None, ref=None, smooth=True):
    """A binary row: (name, fn, NumPy reference, domain of a, domain of b, smooth)."""
    info = registry.get(name)
    ref = ref if ref is not None else getattr(np, info.numpy[0])
    return (name, getattr(ag, name), ref, da or d_registered(*info.domain[0]),
            db or d_registered(*info.domain[1]), smooth)


UNARY = [
    U("neg"),
    U("exp"),
    U("expm1"),
    U("log", d_pos),
    U("log2", d_pos),
    U("log10", d_pos),
    U("log1p", d_gt_m1),
    U("sqrt", d_pos),
    U("rsqrt", d_pos, lambda x: 1.0 / np.sqrt(x)),
    U("sin"),
    U("cos"),
    U("tan", d_unit),
    U("tanh"),
    U("sigmoid", ref=np_sigmoid),
    U("relu", d_nonzero, lambda x: np.maximum(x, 0.0)),
    U("abs", d_nonzero),
    U("square"),
    U("reciprocal", d_nonzero),
    U("erf", ref=np_erf),
    U("floor", d_frac),
    U("ceil", d_frac),
    U("round", d_frac),
    U("trunc", d_frac),
    U("sign", d_frac),
    U("clone", ref=lambda x: x.copy()),
    U("asin"),
    U("acos"),
    U("atan"),
    U("asinh"),
    U("acosh"),
    U("atanh"),
]
UNARY_IDS = [u[0] for u in UNARY]

# named ops (rows made by B), then the Python operators bound to them
BINARY = [
    B("add"),
    B("sub"),
    B("mul"),
    B("div", d_real, d_nonzero),
    B("pow", d_pos, d_real),
    B("remainder", d_rem_a, d_rem_b),
    B("maximum", d_odd, d_even),
    B("minimum", d_odd, d_even),
    B("atan2"),
    ("op_add", operator.add, np.add, d_real, d_real, True),
    ("op_sub", operator.sub, np.subtract, d_real, d_real, True),
    ("op_mul", operator.mul, np.multiply, d_real, d_real, True),
    ("op_truediv", operator.truediv, np.true_divide, d_real, d_nonzero, True),
    ("op_pow", operator.pow, np.power, d_pos, d_real, True),
    ("op_mod", operator.mod, np.remainder, d_rem_a, d_rem_b, True),
]
BINARY_IDS = [b[0] for b in BINARY]


# ---- forward ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name,fn,ref,dom,smooth", UNARY, ids=UNARY_IDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_unary_forward_matches_numpy(name, fn, ref, dom, smooth, dtype):
    rng = np.random.default_rng(0)
    x = dom(rng, (3, 4)).astype(dtype)
    y = fn(ag.tensor(x))
    assert isinstance(y, ag.Tensor)
    assert y.dtype == dtype
    assert y.shape == x.shape
    tol = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(arr(y), ref(x.astype(np.float64)), rtol=tol, atol=tol)


@pytest.mark.parametrize("name,fn,ref,dom,smooth", UNARY, ids=UNARY_IDS)
def test_unary_forward_0d_and_empty(name, fn, ref, dom, smooth):
    rng = np.random.default_rng(1)
    for shape in [(), (0,), (2, 0, 3)]:
        x = dom(rng, shape)
        y = fn(t64(x, requires_grad=False))
        assert y.shape == shape
        np.testing.assert_allclose(arr(y), ref(x), rtol=1e-12, atol=1e-12)


def test_erf_matches_math_erf():
    xs = np.linspace(-4.0, 4.0, 101)
    got = arr(ag.erf(t64(xs, requires_grad=False)))
    assert np.allclose(got, [math.erf(v) for v in xs], rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("name,fn,ref,da,db,smooth", BINARY, ids=BINARY_IDS)
def test_binary_forward_matches_numpy(name, fn, ref, da, db, smooth):
    rng = np.random.default_rng(2)
    a, b = da(rng, (2, 3)), db(rng, (3,))
    y = fn(t64(a, False), t64(b, False))
    assert y.dtype == np.float64 and y.shape == (2, 3)
    np.testing.assert_allclose(arr(y), ref(a, b), rtol=1e-12, atol=1e-12)
    # with a Python scalar on either side (the reflected operators)
    s = float(db(rng, ()))
    np.testing.assert_allclose(arr(fn(t64(a, False), s)), ref(a, s), rtol=1e-12)
    s = float(da(rng, ()))
    np.testing.assert_allclose(arr(fn(s, t64(b, False))), ref(s, b), rtol=1e-12)


def test_remainder_sign_follows_divisor():
    a = np.array([-3.0, 4.0, -7.5, 7.5])
    b = np.array([2.0, -3.0, 2.0, -2.0])
    got = arr(ag.remainder(t64(a, False), t64(b, False)))
    np.testing.assert_allclose(got, np.remainder(a, b))
    np.testing.assert_allclose(arr(t64(a, False) % t64(b, False)), np.remainder(a, b))
    np.testing.assert_allclose(arr(5.5 % t64(b, False)), np.remainder(5.5, b))


def test_where_forward():
    rng = np.random.default_rng(3)
    c = rng.random((2, 3)) > 0.5
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3,))
    y = ag.where(ag.tensor(c), t64(a, False), t64(b, False))
    np.testing.assert_array_equal(arr(y), np.where(c, a, b))
    y = ag.where(ag.tensor(c), t64(a, False), 0.0)
    np.testing.assert_array_equal(arr(y), np.where(c, a, 0.0))
    y = ag.where(ag.tensor(c), 1.5, t64(a, False))
    np.testing.assert_array_equal(arr(y), np.where(c, 1.5, a))
    y = t64(a, False).where(ag.tensor(c), t64(b, False))
    np.testing.assert_array_equal(arr(y), np.where(c, a, b))


@pytest.mark.parametrize("lo,hi", [(-0.5, None), (None, 0.5), (-0.5, 0.5)])
def test_clamp_forward(lo, hi):
    x = np.linspace(-2, 2, 9)
    y = ag.clamp(t64(x, False), min=lo, max=hi)
    np.testing.assert_array_equal(arr(y), np.clip(x, lo, hi))
    np.testing.assert_array_equal(arr(t64(x, False).clip(lo, hi)), np.clip(x, lo, hi))
    assert y.dtype == np.float64


def test_clamp_tensor_bounds_forward():
    x = np.linspace(-2, 2, 9)
    lo = np.full(9, -1.0)
    hi = np.linspace(0.0, 1.0, 9)
    y = ag.clamp(t64(x, False), t64(lo, False), t64(hi, False))
    np.testing.assert_array_equal(arr(y), np.minimum(np.maximum(x, lo), hi))


def test_clamp_needs_a_bound():
    with pytest.raises(RuntimeError, match="min"):
        ag.clamp(t64([1.0], False))


def test_rounding_of_halves_and_decimals():
    x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 1.234567])
    np.testing.assert_array_equal(arr(ag.round(t64(x, False))), np.round(x))
    np.testing.assert_allclose(arr(ag.round(t64(x, False), decimals=2)), np.round(x, 2))


def test_sign_of_zero_and_inf_nan_forward():
    x = np.array([-np.inf, -1.0, 0.0, 1.0, np.inf])
    np.testing.assert_array_equal(arr(ag.sign(t64(x, False))), np.sign(x))
    np.testing.assert_array_equal(arr(ag.relu(t64(x, False))), np.maximum(x, 0))
    with np.errstate(invalid="ignore"):
        assert np.isnan(arr(ag.sqrt(t64([-1.0], False)))[0])


@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparisons(op):
    rng = np.random.default_rng(4)
    a = rng.integers(0, 3, (2, 3)).astype(np.float64)
    b = rng.integers(0, 3, (3,)).astype(np.float64)
    ref = getattr(operator, op)
    ta = t64(a, True)
    tb = t64(b, False)
    for got in (getattr(ag, op)(ta, tb), ref(ta, tb), getattr(ta, op)(tb)):
        assert got.dtype == np.bool_
        assert not got.requires_grad and got.grad_fn is None
        np.testing.assert_array_equal(arr(got), ref(a, b))
    np.testing.assert_array_equal(arr(ref(ta, 1.0)), ref(a, 1.0))
    np.testing.assert_array_equal(arr(ref(1.0, ta)), ref(1.0, a))  # reflected


def test_logical_and_predicates():
    a = ag.tensor([True, False, True])
    b = ag.tensor([True, True, False])
    np.testing.assert_array_equal(arr(ag.logical_and(a, b)), [True, False, False])
    np.testing.assert_array_equal(arr(ag.logical_or(a, b)), [True, True, True])
    np.testing.assert_array_equal(arr(ag.logical_xor(a, b)), [False, True, True])
    np.testing.assert_array_equal(arr(ag.logical_not(a)), [False, True, False])
    np.testing.assert_array_equal(arr(a & b), [True, False, False])
    np.testing.assert_array_equal(arr(a | b), [True, True, True])
    np.testing.assert_array_equal(arr(a ^ b), [False, True, True])
    np.testing.assert_array_equal(arr(~a), [False, True, False])
    x = t64([1.0, np.nan, np.inf, -np.inf], False)
    np.testing.assert_array_equal(arr(ag.isnan(x)), [False, True, False, False])
    np.testing.assert_array_equal(arr(ag.isinf(x)), [False, False, True, True])
    np.testing.assert_array_equal(arr(ag.isfinite(x)), [True, False, False, False])


def test_floor_divide_and_unary_operators():
    a = t64([-3.5, 4.0, 7.0], False)
    np.testing.assert_array_equal(arr(a // 2), np.floor_divide([-3.5, 4.0, 7.0], 2))
    np.testing.assert_array_equal(arr(10 // a), np.floor_divide(10, [-3.5, 4.0, 7.0]))
    np.testing.assert_array_equal(arr(-a), [3.5, -4.0, -7.0])
    np.testing.assert_array_equal(arr(+a), arr(a))
    np.testing.assert_array_equal(arr(abs(a)), [3.5, 4.0, 7.0])


# ---- gradients ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name,fn,ref,dom,smooth", UNARY, ids=UNARY_IDS)
@SETTINGS
@given(shape=SHAPES, seed=SEEDS)
def test_unary_gradcheck(name, fn, ref, dom, smooth, shape, seed):
    x = t64(dom(np.random.default_rng(seed), shape))
    assert ag.gradcheck(fn, (x,))


@pytest.mark.parametrize("name,fn,ref,dom,smooth", [u for u in UNARY if u[4]],
                         ids=[u[0] for u in UNARY if u[4]])
@SETTINGS_GG
@given(shape=hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3), seed=SEEDS)
def test_unary_gradgradcheck(name, fn, ref, dom, smooth, shape, seed):
    x = t64(dom(np.random.default_rng(seed), shape))
    assert ag.gradgradcheck(fn, (x,))


@pytest.mark.parametrize("name,fn,ref,da,db,smooth", BINARY, ids=BINARY_IDS)
@SETTINGS
@given(shapes=PAIRS, seed=SEEDS)
def test_binary_gradcheck_broadcast(name, fn, ref, da, db, smooth, shapes, seed):
    rng = np.random.default_rng(seed)
    sa, sb = shapes.input_shapes
    a, b = t64(da(rng, sa)), t64(db(rng, sb))
    y = fn(a, b)
    assert y.shape == shapes.result_shape
    assert ag.gradcheck(fn, (a, b))
    y.backward(ag.ones_like(y))
    assert a.grad.shape == a.shape and b.grad.shape == b.shape
    assert a.grad.dtype == np.float64 and b.grad.dtype == np.float64


@pytest.mark.parametrize("name,fn,ref,da,db,smooth", [b for b in BINARY if b[5]],
                         ids=[b[0] for b in BINARY if b[5]])
@SETTINGS_GG
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2,
                                                min_side=0, max_side=3), seed=SEEDS)
def test_binary_gradgradcheck(name, fn, ref, da, db, smooth, shapes, seed):
    rng = np.random.default_rng(seed)
    sa, sb = shapes.input_shapes
    a, b = t64(da(rng, sa)), t64(db(rng, sb))
    assert ag.gradgradcheck(fn, (a, b))


@pytest.mark.parametrize("name,fn,ref,da,db,smooth", BINARY, ids=BINARY_IDS)
def test_binary_gradcheck_one_side(name, fn, ref, da, db, smooth):
    """Only one operand requires grad; the other is a constant tensor or a Python scalar."""
    rng = np.random.default_rng(5)
    a, b = t64(da(rng, (2, 3))), t64(db(rng, (3,)))
    assert ag.gradcheck(lambda x: fn(x, b.detach()), (a,))
    assert ag.gradcheck(lambda y: fn(a.detach(), y), (b,))
    sb, sa = float(db(rng, ())), float(da(rng, ()))
    assert ag.gradcheck(lambda x: fn(x, sb), (a,))
    assert ag.gradcheck(lambda y: fn(sa, y), (b,))


@pytest.mark.parametrize("exponent", [2, 3, 0, 1, -1, 0.5, -1.5, 2.5])
def test_pow_tensor_scalar(exponent):
    rng = np.random.default_rng(6)
    x = t64(d_pos(rng, (2, 3)))
    y = x ** exponent
    np.testing.assert_allclose(arr(y), arr(x) ** exponent, rtol=1e-12)
    assert ag.gradcheck(lambda t: t ** exponent, (x,))
    assert ag.gradgradcheck(lambda t: ag.pow(t, exponent), (x,))
    if isinstance(exponent, int):  # integer powers of negative bases are fine
        xn = t64(d_nonzero(rng, (4,)))
        assert ag.gradcheck(lambda t: t ** exponent, (xn,))


@pytest.mark.parametrize("base", [2.0, 0.5, np.e, 3])
def test_pow_scalar_tensor(base):
    rng = np.random.default_rng(7)
    x = t64(d_real(rng, (2, 3)))
    np.testing.assert_allclose(arr(base ** x), np.power(float(base), arr(x)), rtol=1e-12)
    assert ag.gradcheck(lambda t: base ** t, (x,))
    assert ag.gradgradcheck(lambda t: ag.pow(base, t), (x,))


def test_pow_tensor_tensor_zero_base():
    """d(a**b)/db at a == 0 is defined as 0 (PyTorch), not nan."""
    a = t64([0.0, 2.0])
    b = t64([2.0, 3.0])
    (a ** b).sum().backward()
    np.testing.assert_allclose(arr(b.grad), [0.0, 8.0 * math.log(2.0)])
    np.testing.assert_allclose(arr(a.grad), [0.0, 12.0])


@SETTINGS
@given(shapes=TRIPLES, seed=SEEDS)
def test_where_gradcheck(shapes, seed):
    rng = np.random.default_rng(seed)
    sc, sa, sb = shapes.input_shapes
    cond = ag.tensor(rng.random(sc) > 0.5)
    a, b = t64(d_real(rng, sa)), t64(d_real(rng, sb))
    assert ag.gradcheck(lambda x, y: ag.where(cond, x, y), (a, b))
    assert ag.gradcheck(lambda x: ag.where(cond, x, 0.5), (a,))
    assert ag.gradcheck(lambda y: ag.where(cond, -1.0, y), (b,))
    y = ag.where(cond, a, b)
    y.backward(ag.ones_like(y))
    assert a.grad.shape == a.shape and b.grad.shape == b.shape


def test_where_gradgradcheck():
    rng = np.random.default_rng(8)
    cond = ag.tensor(rng.random((3, 1)) > 0.5)
    a, b = t64(d_real(rng, (3, 4))), t64(d_real(rng, (4,)))
    assert ag.gradgradcheck(lambda x, y: ag.where(cond, x * x, y * y * y), (a, b))


@pytest.mark.parametrize("lo,hi", [(-0.6, None), (None, 0.6), (-0.6, 1.2), (0.0, 0.0)])
@SETTINGS
@given(shape=SHAPES, seed=SEEDS)
def test_clamp_scalar_bounds_gradcheck(lo, hi, shape, seed):
    x = t64(d_odd(np.random.default_rng(seed), shape))  # never on a bound
    assert ag.gradcheck(lambda t: ag.clamp(t, min=lo, max=hi), (x,))
    assert ag.gradgradcheck(lambda t: ag.clamp(t * t, min=lo, max=hi), (x,))


@SETTINGS
@given(shapes=TRIPLES, seed=SEEDS)
def test_clamp_tensor_bounds_gradcheck(shapes, seed):
    rng = np.random.default_rng(seed)
    sx, sl, sh = shapes.input_shapes
    x = t64(d_odd(rng, sx))
    lo = t64(-0.6 * rng.integers(0, 3, sl))  # even multiples of 0.3 in [-1.2, 0]
    hi = t64(0.6 * rng.integers(1, 4, sh))  # [0.6, 1.8]: always above lo
    assert ag.gradcheck(lambda a, b, c: ag.clamp(a, b, c), (x, lo, hi))
    assert ag.gradcheck(lambda a, b: ag.clamp(a, min=b), (x, lo))
    assert ag.gradcheck(lambda a, c: ag.clamp(a, max=c), (x, hi))


def test_clamp_gradient_passes_on_the_boundary():
    x = t64([-1.0, 0.0, 1.0, 2.0])
    ag.clamp(x, min=0.0, max=1.0).sum().backward()
    np.testing.assert_array_equal(arr(x.grad), [0.0, 1.0, 1.0, 0.0])


def test_cast_gradient_dtype():
    x = t64([1.0, 2.0, 3.0])
    y = ag.cast(x, ag.float32)
    assert y.dtype == np.float32 and y.requires_grad
    (y * ag.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(arr(x.grad), [1.0, 2.0, 3.0])
    x32 = ag.tensor([1.0, 2.0], requires_grad=True)
    x32.double().sum().backward()
    assert x32.grad.dtype == np.float32
    assert ag.gradcheck(lambda t: ag.cast(t, ag.float64) * t, (t64([0.5, -1.5]),))


def test_cast_to_integer_is_not_differentiable():
    x = t64([1.7, -2.2])
    for y in (x.long(), x.int(), x.bool(), ag.cast(x, ag.int64), x.to(ag.int32)):
        assert not y.requires_grad and y.grad_fn is None
    np.testing.assert_array_equal(arr(x.long()), [1, -2])


def test_int_and_float_operands_gradient():
    i = ag.tensor([1, 2, 3])
    f = ag.tensor([0.5, 1.5, 2.5], requires_grad=True)
    y = i * f
    assert y.dtype == np.float32
    y.sum().backward()
    assert f.grad.dtype == np.float32
    np.testing.assert_array_equal(arr(f.grad), [1.0, 2.0, 3.0])


def test_mixed_float_dtypes_gradients_keep_input_dtypes():
    a = ag.tensor([1.0, 2.0], dtype=ag.float32, requires_grad=True)
    b = ag.tensor([3.0, 4.0], dtype=ag.float64, requires_grad=True)
    y = a * b
    assert y.dtype == np.float64
    y.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(arr(a.grad), [3.0, 4.0])
    np.testing.assert_array_equal(arr(b.grad), [1.0, 2.0])


@pytest.mark.parametrize("name,fn,ref,dom,smooth", UNARY, ids=UNARY_IDS)
def test_unary_float32_gradient_dtype(name, fn, ref, dom, smooth):
    x = ag.tensor(dom(np.random.default_rng(9), (3,)).astype(np.float32), requires_grad=True)
    fn(x).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.shape == (3,)


# ---- broadcasting shapes (explicit) ------------------------------------------------------------

@pytest.mark.parametrize("name,fn,ref,da,db,smooth", BINARY, ids=BINARY_IDS)
@pytest.mark.parametrize("sa,sb", [((3, 1), (1, 4)), ((4,), (2, 3, 4)), ((2, 3, 4), (4,)),
                                   ((), (2, 3)), ((1, 0), (3, 1))])
def test_binary_broadcast_grad_shapes(name, fn, ref, da, db, smooth, sa, sb):
    rng = np.random.default_rng(10)
    a, b = t64(da(rng, sa)), t64(db(rng, sb))
    y = fn(a, b)
    assert y.shape == np.broadcast_shapes(sa, sb)
    y.sum().backward()
    assert a.grad.shape == a.shape and b.grad.shape == b.shape
    assert ag.gradcheck(fn, (a.detach().requires_grad_(), b.detach().requires_grad_()))


def test_add_broadcast_grad_values():
    x = t64(np.zeros((3, 1)))
    y = t64(np.zeros((1, 4)))
    (x + y).sum().backward()
    np.testing.assert_array_equal(arr(x.grad), np.full((3, 1), 4.0))
    np.testing.assert_array_equal(arr(y.grad), np.full((1, 4), 3.0))
    x = t64(np.zeros(4))
    y = t64(np.zeros((2, 3, 4)))
    (x + y).sum().backward()
    assert x.grad.shape == (4,)
    np.testing.assert_array_equal(arr(x.grad), np.full(4, 6.0))
    np.testing.assert_array_equal(arr(y.grad), np.ones((2, 3, 4)))


def test_mul_broadcast_grad_values():
    rng = np.random.default_rng(11)
    a, b = rng.standard_normal((4,)), rng.standard_normal((2, 3, 4))
    x, y = t64(a), t64(b)
    (x * y).sum().backward()
    np.testing.assert_allclose(arr(x.grad), b.sum(axis=(0, 1)))
    np.testing.assert_allclose(arr(y.grad), np.broadcast_to(a, (2, 3, 4)))


# ---- subgradients and ties ----------------------------------------------------------------------

@pytest.mark.parametrize("fn,ga,gb", [(ag.maximum, [0.5, 0.0, 1.0], [0.5, 1.0, 0.0]),
                                      (ag.minimum, [0.5, 1.0, 0.0], [0.5, 0.0, 1.0])])
def test_max_min_ties_split_gradient(fn, ga, gb):
    a = t64([1.0, 2.0, 5.0])
    b = t64([1.0, 3.0, 4.0])
    fn(a, b).sum().backward()
    np.testing.assert_array_equal(arr(a.grad), ga)
    np.testing.assert_array_equal(arr(b.grad), gb)


def test_max_min_ties_match_torch():
    torch = pytest.importorskip("torch")
    for name in ("maximum", "minimum"):
        a = t64([1.0, 2.0, 2.0])
        b = t64([1.0, 3.0, 2.0])
        getattr(ag, name)(a, b).sum().backward()
        ta = torch.tensor([1.0, 2.0, 2.0], dtype=torch.float64, requires_grad=True)
        tb = torch.tensor([1.0, 3.0, 2.0], dtype=torch.float64, requires_grad=True)
        getattr(torch, name)(ta, tb).sum().backward()
        np.testing.assert_array_equal(arr(a.grad), ta.grad.numpy())
        np.testing.assert_array_equal(arr(b.grad), tb.grad.numpy())


def test_max_with_scalar_tie():
    x = t64([0.0, 1.0, -1.0])
    ag.maximum(x, 0.0).sum().backward()
    np.testing.assert_array_equal(arr(x.grad), [0.5, 1.0, 0.0])


@pytest.mark.parametrize("fn", [ag.relu, ag.abs], ids=["relu", "abs"])
def test_subgradient_zero_at_zero(fn):
    x = t64([-1.0, 0.0, 2.0])
    fn(x).sum().backward()
    expected = [0.0, 0.0, 1.0] if fn is ag.relu else [-1.0, 0.0, 1.0]
    np.testing.assert_array_equal(arr(x.grad), expected)
    x = t64([0.0])
    fn(x).backward(ag.tensor([1.0], dtype=ag.float64))
    assert arr(x.grad)[0] == 0.0


@pytest.mark.parametrize("fn", [ag.floor, ag.ceil, ag.round, ag.trunc, ag.sign])
def test_rounding_gradient_is_zero(fn):
    x = t64([-1.3, 0.0, 0.5, 2.7])
    fn(x).sum().backward()
    np.testing.assert_array_equal(arr(x.grad), np.zeros(4))


# ---- type promotion against PyTorch -------------------------------------------------------------

def _spec_to_both(spec, torch):
    """('t', dtype, value) -> tensor; a Python scalar stays a scalar."""
    if isinstance(spec, tuple):
        _, dtype, value = spec
        npv = np.asarray(value, dtype=dtype)
        return ag.tensor(npv), torch.tensor(npv)
    return spec, spec


PROMOTION_CASES = [
    # (a, b, ops)
    (("t", "int64", [1, 2, 3]), 2.5, "add mul div sub"),
    (("t", "int64", [1, 2, 3]), ("t", "float32", 2.5), "add mul div sub"),
    (("t", "int64", [1, 2, 3]), ("t", "int64", [2, 2, 2]), "div"),
    (("t", "int32", [1, 2, 3]), ("t", "int32", [2, 4, 2]), "div add mul"),
    (("t", "int64", [4, 5, 6]), 2, "div remainder"),
    (("t", "float32", [1, 2, 3]), ("t", "float64", 2.0), "add mul div sub"),
    (("t", "float64", 2.0), ("t", "float32", [1, 2, 3]), "add mul div sub"),
    (("t", "float64", 2.0), ("t", "int64", [1, 2, 3]), "add mul div"),
    (("t", "float16", 2.0), ("t", "int64", [1, 2, 3]), "add mul"),
    (("t", "bool", [True, False, True]), ("t", "int64", [1, 2, 3]), "add mul"),
    (("t", "bool", [True, False, True]), 1, "add mul"),
    (("t", "bool", [True, False, True]), True, "add mul"),
    (("t", "bool", [True, False, True]), 2.5, "add mul div"),
    (("t", "bool", [True, False, True]), ("t", "bool", [True, True, False]), "add mul"),
    (("t", "int32", [1, 2, 3]), ("t", "int64", 5), "add mul sub"),
    (("t", "int32", [1, 2, 3]), ("t", "int64", [5, 6, 7]), "add mul sub"),
    (("t", "int32", [1, 2, 3]), 7, "add mul sub"),
    (("t", "int8", [1, 2, 3]), 5, "add mul"),
    (("t", "uint8", [1, 2, 3]), ("t", "int8", [1, -2, 3]), "add mul"),
    (("t", "uint8", [10, 20, 30]), ("t", "int64", 5), "add sub"),
    (("t", "float16", [1, 2, 3]), ("t", "float32", [1, 2, 3]), "add mul div"),
    (("t", "int64", [1, 2, 3]), 2.0, "mul pow"),
    (("t", "int64", [1, 2, 3]), 2, "pow"),
    (("t", "int64", [1, 2, 3]), 0.5, "pow"),
    (2, ("t", "int64", [1, 2, 3]), "pow sub div"),
    (2.0, ("t", "int64", [1, 2, 3]), "pow sub div"),
    (("t", "int64", [1, 2, 3]), ("t", "int64", [2, 3, 1]), "pow remainder maximum"),
    (("t", "int64", [3, 4, 5]), 2.5, "remainder maximum minimum"),
    (("t", "int32", [1, 2, 3]), ("t", "float32", [2.5, 1.5, 0.5]), "maximum minimum"),
    (("t", "int64", [1, 2, 3]), ("t", "float64", 1.5), "maximum minimum"),
]
_OPS = {
    "add": (ag.add, lambda t, a, b: t.add(a, b)),
    "sub": (ag.sub, lambda t, a, b: t.sub(a, b)),
    "mul": (ag.mul, lambda t, a, b: t.mul(a, b)),
    "div": (ag.div, lambda t, a, b: t.div(a, b)),
    "pow": (ag.pow, lambda t, a, b: t.pow(a, b)),
    "remainder": (ag.remainder, lambda t, a, b: t.remainder(a, b)),
    "maximum": (ag.maximum, lambda t, a, b: t.maximum(a if hasattr(a, "dtype") else
                                                      t.tensor(a), b)),
    "minimum": (ag.minimum, lambda t, a, b: t.minimum(a, b if hasattr(b, "dtype") else
                                                      t.tensor(b))),
}
_OP_SYMBOLS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
               "div": operator.truediv, "pow": operator.pow, "remainder": operator.mod}


@pytest.mark.parametrize("a,b,ops", PROMOTION_CASES,
                         ids=[f"case{i}" for i in range(len(PROMOTION_CASES))])
def test_binary_type_promotion_matches_torch(a, b, ops):
    torch = pytest.importorskip("torch")
    ga, ta = _spec_to_both(a, torch)
    gb, tb = _spec_to_both(b, torch)
    for op in ops.split():
        if op in ("sub",) and (getattr(ta, "dtype", None) == torch.bool
                               or getattr(tb, "dtype", None) == torch.bool
                               or isinstance(a, bool) or isinstance(b, bool)):
            continue  # torch forbids subtracting booleans
        agfn, tfn = _OPS[op]
        if op in ("maximum", "minimum") and not (hasattr(ga, "dtype") and hasattr(gb, "dtype")):
            # torch.maximum takes tensors only: compare with a 0-d tensor of the default dtype
            tb_ = torch.tensor(tb) if not hasattr(tb, "dtype") else tb
            expected = getattr(torch, op)(ta, tb_)
        else:
            expected = tfn(torch, ta, tb)
        results = [agfn(ga, gb)]
        if op in _OP_SYMBOLS:
            results.append(_OP_SYMBOLS[op](ga, gb))
        for got in results:
            assert isinstance(got, ag.Tensor)
            assert str(got.dtype) == str(expected.dtype), (op, a, b)
            np.testing.assert_allclose(arr(got).astype(np.float64),
                                       expected.numpy().astype(np.float64), rtol=1e-6)


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "rsqrt", "sin", "tanh", "sigmoid",
                                  "reciprocal", "erf", "expm1", "log1p", "abs", "neg",
                                  "floor", "ceil", "round", "trunc", "sign", "square",
                                  "relu"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "float16", "float64"])
def test_unary_type_promotion_matches_torch(name, dtype):
    torch = pytest.importorskip("torch")
    values = np.asarray([1, 2, 3] if dtype != "bool" else [True, False, True], dtype=dtype)
    tt = torch.tensor(values)
    try:
        expected = getattr(torch, name)(tt)
    except (RuntimeError, TypeError) as e:  # unsupported dtype: ours raises the same class
        with pytest.raises(type(e)):
            getattr(ag, name)(ag.tensor(values))
        return
    with np.errstate(divide="ignore", invalid="ignore"):  # log(0), 1/0 with bool False
        got = getattr(ag, name)(ag.tensor(values))
    assert str(got.dtype) == str(expected.dtype)
    np.testing.assert_allclose(arr(got).astype(np.float64),
                               expected.numpy().astype(np.float64), rtol=2e-3)


def test_where_and_clamp_promotion_match_torch():
    torch = pytest.importorskip("torch")
    c = np.array([True, False, True])
    i = np.array([1, 2, 3])
    f = np.array([0.5, 1.5, 2.5], dtype=np.float32)
    cases = [
        (ag.where(ag.tensor(c), ag.tensor(i), ag.tensor(f)),
         torch.where(torch.tensor(c), torch.tensor(i), torch.tensor(f))),
        (ag.where(ag.tensor(c), ag.tensor(i), 2.5),
         torch.where(torch.tensor(c), torch.tensor(i), 2.5)),
        (ag.where(ag.tensor(c), ag.tensor(f), 7),
         torch.where(torch.tensor(c), torch.tensor(f), 7)),
        (ag.clamp(ag.tensor(i), min=1.5), torch.clamp(torch.tensor(i), min=1.5)),
        (ag.clamp(ag.tensor(i), max=2), torch.clamp(torch.tensor(i), max=2)),
        (ag.clamp(ag.tensor(f), min=1, max=2), torch.clamp(torch.tensor(f), min=1, max=2)),
    ]
    for got, expected in cases:
        assert str(got.dtype) == str(expected.dtype)
        np.testing.assert_allclose(arr(got).astype(np.float64),
                                   expected.numpy().astype(np.float64))


def test_comparison_promotion_matches_torch():
    torch = pytest.importorskip("torch")
    i = np.array([1, 2, 3])
    f = np.array([1.5, 2.0, 2.5], dtype=np.float32)
    for op in (operator.lt, operator.le, operator.eq, operator.ne, operator.gt, operator.ge):
        got = op(ag.tensor(i), ag.tensor(f))
        expected = op(torch.tensor(i), torch.tensor(f))
        assert got.dtype == np.bool_
        np.testing.assert_array_equal(arr(got), expected.numpy())
        np.testing.assert_array_equal(arr(op(ag.tensor(i), 2.0)), op(torch.tensor(i), 2.0))


# ---- Python operators: reflected and in-place ----------------------------------------------------

@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv,
                                operator.pow])
def test_reflected_operators_gradients(op):
    x = t64([0.5, 1.0, 2.0])
    for fn in (lambda t: op(2.0, t), lambda t: op(t, 2.0), lambda t: op(3, t),
               lambda t: op(np.float64(1.5), t)):
        y = fn(x)
        assert isinstance(y, ag.Tensor)
        assert ag.gradcheck(fn, (x,))


@pytest.mark.parametrize("name,op,ref", [("iadd", operator.iadd, np.add),
                                         ("isub", operator.isub, np.subtract),
                                         ("imul", operator.imul, np.multiply),
                                         ("itruediv", operator.itruediv, np.true_divide)])
@SETTINGS
@given(data=st.data())
def test_inplace_operators_gradcheck(name, op, ref, data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
    k = data.draw(st.integers(0, len(shape)))
    bshape = tuple(1 if data.draw(st.booleans()) else s for s in shape[k:])
    rng = np.random.default_rng(data.draw(SEEDS))
    a = t64(d_real(rng, shape))
    b = t64(d_nonzero(rng, bshape))

    def f(x, y):
        z = x * 1.0  # a non-leaf: in-place on a leaf that requires grad is an error
        z0 = z
        z = op(z, y)
        assert z is z0  # same tensor object, updated in place
        return z

    out = f(a, b)
    np.testing.assert_allclose(arr(out), ref(arr(a), arr(b)), rtol=1e-12)
    assert ag.gradcheck(f, (a, b))
    assert ag.gradgradcheck(f, (a, b))


@pytest.mark.parametrize("op", [operator.iadd, operator.isub, operator.imul,
                                operator.itruediv])
def test_inplace_on_plain_tensor(op):
    a = np.array([1.0, 2.0, 4.0], dtype=np.float32)
    x = ag.tensor(a)
    view = x.numpy()
    v0 = x._version
    x2 = op(x, 2.0)
    assert x2 is x
    np.testing.assert_allclose(view, op(a.copy(), 2.0))  # the memory itself was written
    assert x._version == v0 + 1
    assert x.dtype == np.float32
    y = ag.tensor([1.0, 1.0, 1.0])
    op(x, y)
    assert x._version == v0 + 2


def test_inplace_on_int_tensor():
    x = ag.tensor([1, 2, 3])
    x += 2
    x *= 3
    x -= 1
    np.testing.assert_array_equal(arr(x), [8, 11, 14])
    assert x.dtype == np.int64
    with pytest.raises(RuntimeError, match="can't be cast"):
        x /= 2
    with pytest.raises(RuntimeError, match="can't be cast"):
        x += 1.5


def test_inplace_on_leaf_requiring_grad_raises():
    x = t64([1.0, 2.0])
    for op in (operator.iadd, operator.isub, operator.imul, operator.itruediv):
        with pytest.raises(RuntimeError, match="leaf"):
            op(x, 1.0)
    with ag.no_grad():
        x += 1.0  # allowed without grad recording (an optimizer step)
    np.testing.assert_array_equal(arr(x), [2.0, 3.0])
    assert x.requires_grad and x.is_leaf


def test_inplace_broadcast_result_shape_mismatch_raises():
    x = ag.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="shape"):
        x += ag.ones(3, 2)


def test_inplace_invalidates_saved_tensor():
    x = t64([0.5, 1.0])
    y = x.exp()  # saves its output y
    y += 1.0
    with pytest.raises(RuntimeError, match="inplace|in-place"):
        y.sum().backward()


def test_inplace_then_backward_uses_new_graph():
    a = t64([1.0, 2.0, 3.0])
    b = t64([4.0, 5.0, 6.0])
    z = a * 2.0
    z *= b
    z += a
    z.sum().backward()
    np.testing.assert_allclose(arr(a.grad), 2.0 * arr(b) + 1.0)
    np.testing.assert_allclose(arr(b.grad), 2.0 * arr(a))


def test_unary_inplace_methods():
    x = ag.tensor([0.25, 1.0, 4.0])
    y = x.sqrt_()
    assert y is x
    np.testing.assert_allclose(arr(x), [0.5, 1.0, 2.0])
    a = t64([0.1, 0.2])
    z = a * 1.0
    z.exp_()
    z.sum().backward()
    np.testing.assert_allclose(arr(a.grad), np.exp([0.1, 0.2]))


# ---- memory ownership and immutability ----------------------------------------------------------

def _all_arrays(*ts):
    return [t.detach().numpy() if isinstance(t, ag.Tensor) else t for t in ts]


def _no_sharing(arrays):
    for i in range(len(arrays)):
        for j in range(i + 1, len(arrays)):
            assert not np.shares_memory(arrays[i], arrays[j]), (i, j)


@pytest.mark.parametrize("name,fn,ref,dom,smooth", UNARY, ids=UNARY_IDS)
def test_unary_grad_memory_and_inputs_untouched(name, fn, ref, dom, smooth):
    rng = np.random.default_rng(12)
    x = t64(dom(rng, (2, 3)))
    x0 = arr(x).copy()
    g = ag.tensor(rng.standard_normal((2, 3)))
    g0 = arr(g).copy()
    y = fn(x)
    y.backward(g)
    np.testing.assert_array_equal(arr(x), x0)
    np.testing.assert_array_equal(arr(g), g0)
    _no_sharing(_all_arrays(x.grad, x, g, y))
    gx = x.grad.numpy().copy()
    g.numpy()[...] = 123.0  # writing into the upstream gradient must not change x.grad
    np.testing.assert_array_equal(arr(x.grad), gx)


@pytest.mark.parametrize("name,fn,ref,da,db,smooth", BINARY, ids=BINARY_IDS)
@pytest.mark.parametrize("sb", [(2, 3), (3,)])
def test_binary_grad_memory_and_inputs_untouched(name, fn, ref, da, db, smooth, sb):
    rng = np.random.default_rng(13)
    a, b = t64(da(rng, (2, 3))), t64(db(rng, sb))
    a0, b0 = arr(a).copy(), arr(b).copy()
    g = ag.tensor(rng.standard_normal((2, 3)))
    g0 = arr(g).copy()
    y = fn(a, b)
    y.backward(g)
    np.testing.assert_array_equal(arr(a), a0)
    np.testing.assert_array_equal(arr(b), b0)
    np.testing.assert_array_equal(arr(g), g0)
    _no_sharing(_all_arrays(a.grad, b.grad, a, b, g, y))


def test_autograd_grad_results_do_not_alias():
    a, b = t64([1.0, 2.0]), t64([3.0, 4.0])
    g = ag.tensor([1.0, 1.0], dtype=ag.float64)
    ga, gb = ag.grad(a + b, (a, b), g)
    _no_sharing(_all_arrays(ga, gb, g, a, b))
    ga.numpy()[...] = 7.0
    np.testing.assert_array_equal(arr(gb), [1.0, 1.0])
    np.testing.assert_array_equal(arr(g), [1.0, 1.0])


def test_same_tensor_twice_accumulates():
    x = t64([1.0, 2.0])
    (x + x).sum().backward()
    np.testing.assert_array_equal(arr(x.grad), [2.0, 2.0])
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_array_equal(arr(x.grad), [2.0, 4.0])
    x.grad = None
    ag.maximum(x, x).sum().backward()
    np.testing.assert_array_equal(arr(x.grad), [1.0, 1.0])


def test_second_backward_accumulates_without_aliasing():
    x = t64([1.0, 2.0])
    y = x + 0.0
    g = ag.tensor([1.0, 1.0], dtype=ag.float64)
    y.backward(g, retain_graph=True)
    first = x.grad
    y.backward(g)
    np.testing.assert_array_equal(arr(x.grad), [2.0, 2.0])
    np.testing.assert_array_equal(arr(g), [1.0, 1.0])
    np.testing.assert_array_equal(arr(first), [1.0, 1.0])


def test_where_mixed_dtypes_gradients_keep_input_dtypes():
    c = ag.tensor([True, False, True])
    a = ag.tensor([1.0, 2.0, 3.0], dtype=ag.float32, requires_grad=True)
    b = ag.tensor([4.0, 5.0, 6.0], dtype=ag.float64, requires_grad=True)
    y = ag.where(c, a, b)
    assert y.dtype == np.float64
    y.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(arr(a.grad), [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(arr(b.grad), [0.0, 1.0, 0.0])
    y = ag.where(c, a, np.float64(0.5))  # a NumPy scalar acts like a Python scalar
    assert y.dtype == np.float32


@pytest.mark.parametrize("name,fn,ref,dom,smooth", UNARY, ids=UNARY_IDS)
def test_zero_dim_gradients_are_arrays(name, fn, ref, dom, smooth):
    """NumPy returns scalars for 0-d arithmetic; gradients must still be 0-d arrays."""
    x = t64(dom(np.random.default_rng(14), ()))
    seen = []
    x.register_hook(lambda g: seen.append(type(g.detach().numpy())))
    y = fn(x)
    y.retain_grad()
    (y * 2.0).backward()
    for g in (x.grad, y.grad):
        assert isinstance(g.numpy(), np.ndarray) and g.shape == ()
    assert seen == [np.ndarray]
    (gx,) = ag.grad(fn(x), x)
    assert isinstance(gx.numpy(), np.ndarray)
    (gx,) = ag.grad(fn(x), x, create_graph=True)
    assert isinstance(gx.detach().numpy(), np.ndarray)
    assert seen == [np.ndarray] * 3


# ---- every row against PyTorch and its registration -------------------------------------------

NAMED_BINARY = [b for b in BINARY if not b[0].startswith("op_")]
NAMED_BINARY_IDS = [b[0] for b in NAMED_BINARY]
EDGES = np.array([-np.inf, -2.0, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 2.0, np.inf, np.nan])
# at nan, these follow NumPy's nan propagation where PyTorch returns a number: relu's and
# abs's gradients, sign's value (PyTorch: sign(nan) = 0)
EDGE_NAN_DIFFERS = {"relu", "abs", "sign"}


def _torch_fn(torch, name):
    return getattr(torch, name)


@pytest.mark.parametrize("name,fn,ref,dom,smooth", UNARY, ids=UNARY_IDS)
def test_unary_matches_torch_values_and_gradients(name, fn, ref, dom, smooth):
    torch = pytest.importorskip("torch")
    tfn = _torch_fn(torch, name)
    rng = np.random.default_rng(20)
    x = dom(rng, (3, 4))
    for dtype, tol in ((np.float32, 1e-6), (np.float64, 1e-12)):
        y = fn(ag.tensor(x.astype(dtype)))
        ty = tfn(torch.tensor(x.astype(dtype)))
        assert str(y.dtype) == str(ty.dtype)
        np.testing.assert_allclose(arr(y), ty.numpy(), rtol=tol, atol=tol)
    g = rng.standard_normal((3, 4))
    xa, xt = t64(x), torch.tensor(x, requires_grad=True)
    fn(xa).backward(ag.tensor(g))
    tfn(xt).backward(torch.tensor(g))
    np.testing.assert_allclose(arr(xa.grad), xt.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,fn,ref,dom,smooth", UNARY, ids=UNARY_IDS)
def test_unary_edges_match_torch(name, fn, ref, dom, smooth):
    """Values (and gradients) at 0, +-1, +-2, +-inf and nan, in and out of the domain."""
    torch = pytest.importorskip("torch")
    tfn = _torch_fn(torch, name)
    x, xt = t64(EDGES), torch.tensor(EDGES, requires_grad=True)
    with np.errstate(all="ignore"):
        y = fn(x)
        y.backward(ag.ones_like(y))
    ty = tfn(xt)
    ty.backward(torch.ones_like(ty))
    keep = ~np.isnan(EDGES) if name in EDGE_NAN_DIFFERS else slice(None)
    np.testing.assert_allclose(arr(y)[keep], ty.detach().numpy()[keep], rtol=1e-12,
                               equal_nan=True)
    np.testing.assert_allclose(arr(x.grad)[keep], xt.grad.numpy()[keep], rtol=1e-12,
                               equal_nan=True)


@pytest.mark.parametrize("name,fn,ref,da,db,smooth", BINARY, ids=BINARY_IDS)
@pytest.mark.parametrize("sa,sb", [((3, 1), (1, 4)), ((2, 3, 4), (4,))])
def test_binary_matches_torch_values_and_gradients(name, fn, ref, da, db, smooth, sa, sb):
    torch = pytest.importorskip("torch")
    tfn = fn if name.startswith("op_") else _torch_fn(torch, name)
    rng = np.random.default_rng(21)
    a, b = da(rng, sa), db(rng, sb)
    ta, tb = t64(a), t64(b)
    qa, qb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    y, ty = fn(ta, tb), tfn(qa, qb)
    np.testing.assert_allclose(arr(y), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(y.shape)
    y.backward(ag.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(arr(ta.grad), qa.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(arr(tb.grad), qb.grad.numpy(), rtol=1e-10, atol=1e-12)


def _row_inputs(row, shape=(2, 3), requires_grad=False):
    rng = np.random.default_rng(22)
    doms = row[3:-1]
    return [t64(d(rng, shape), requires_grad) for d in doms]


@pytest.mark.parametrize("row", UNARY + NAMED_BINARY, ids=UNARY_IDS + NAMED_BINARY_IDS)
def test_registered_bindings(row):
    """The registration's promises: Tensor method, aliases (namespace and method), the
    in-place variant of each name, ``np.<name>(t)`` on the graph, int inputs."""
    name, fn = row[0], row[1]
    info = registry.get(name)
    assert info.fn is fn and info.family == "elementwise"
    xs = _row_inputs(row)
    want = arr(fn(*xs))
    assert getattr(ag.Tensor, name) is fn
    np.testing.assert_array_equal(arr(getattr(xs[0], name)(*xs[1:])), want)
    for alias in info.aliases:
        assert getattr(ag, alias) is fn
        assert getattr(ag.Tensor, alias) is fn
    for n in info.names:
        if not info.inplace:
            assert not hasattr(ag.Tensor, n + "_"), n
            continue
        t = xs[0].clone()
        v = t._version
        assert getattr(t, n + "_")(*xs[1:]) is t
        assert t._version == v + 1
        np.testing.assert_array_equal(arr(t), want)
    for n in info.numpy:
        np_fn = getattr(np, n)
        if not isinstance(np_fn, np.ufunc):
            continue
        gs = _row_inputs(row, requires_grad=True)
        y = np_fn(*gs)
        assert isinstance(y, ag.Tensor) and y.grad_fn is not None
        np.testing.assert_array_equal(arr(y), want)
    if info.int_to_float:
        ints = [ag.tensor([[1, 2], [0, 1]]) for _ in xs]
        with np.errstate(all="ignore"):
            assert fn(*ints).dtype == ag.get_default_dtype()


@pytest.mark.parametrize("row", UNARY + NAMED_BINARY, ids=UNARY_IDS + NAMED_BINARY_IDS)
def test_registered_inplace_matches_torch(row):
    """An in-place variant is registered exactly where PyTorch has one."""
    torch = pytest.importorskip("torch")
    info = registry.get(row[0])
    for n in info.names:
        if n == "clone":  # clone_ is this engine's own (kept for compatibility)
            continue
        assert hasattr(torch.Tensor, n + "_") == info.inplace, n
