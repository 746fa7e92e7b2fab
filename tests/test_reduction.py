"""Reductions: values and dtypes against NumPy, gradients against finite differences
(gradcheck / gradgradcheck on hypothesis-drawn shapes, dims and keepdim), tie and zero
handling against closed forms, and values/gradients against PyTorch when it is installed."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import autograd as ag

# ---- helpers ------------------------------------------------------------------------------


def f64(a, requires_grad=True):
    return ag.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def npy(t):
    return t.detach().numpy()


def np_axis(dim, ndim):
    """The NumPy ``axis`` for a PyTorch ``dim`` (0-d tensors accept dim 0/-1: all)."""
    if dim is None or ndim == 0:
        return None
    if isinstance(dim, int):
        return dim % ndim
    return tuple(d % ndim for d in dim) or None


def count(shape, dim):
    ax = np_axis(dim, len(shape))
    if ax is None:
        return math.prod(shape)
    ax = (ax,) if isinstance(ax, int) else ax
    return math.prod(shape[a] for a in ax)


def normal(shape, seed, scale=1.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


def distinct(shape, seed):
    """Values with distinct absolute values, at least 1 from 0 and from each other (no ties,
    no kinks within a finite-difference step)."""
    rng = np.random.default_rng(seed)
    n = math.prod(shape)
    mag = 1.0 + rng.permutation(n) + rng.uniform(0, 0.1, n)
    return (mag * rng.choice([-1.0, 1.0], n)).reshape(shape)


def near_one(shape, seed):
    """Nonzero values of moderate size (products stay well scaled)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


@st.composite
def cases(draw, min_side=0, max_side=3, max_dims=3, tuple_dims=True, none_dim=True):
    """(shape, dim, keepdim, seed): dims may be negative, a tuple, or None."""
    shape = tuple(draw(st.lists(st.integers(min_side, max_side), max_size=max_dims)))
    n = len(shape)
    kinds = ["int"] + (["none"] if none_dim else []) + (["tuple"] if tuple_dims and n else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        dim = None
    elif kind == "int":
        m = max(n, 1)
        dim = draw(st.integers(-m, m - 1))
    else:
        axes = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
        dim = tuple(a - n if draw(st.booleans()) else a for a in axes)
    return shape, dim, draw(st.booleans()), draw(st.integers(0, 2**16))


def check_forward(y, ref, dtype=None):
    ref = np.asarray(ref)
    assert isinstance(y, ag.Tensor)
    assert tuple(y.shape) == ref.shape
    assert y.dtype == (ref.dtype if dtype is None else np.dtype(dtype))
    np.testing.assert_allclose(npy(y), ref, rtol=1e-10, atol=1e-12, equal_nan=True)


quiet = pytest.mark.filterwarnings("ignore::RuntimeWarning")

# ---- sum / mean / prod ---------------------------------------------------------------------


@quiet
@given(cases())
def test_sum_mean_forward_and_grad(case):
    shape, dim, keepdim, seed = case
    a = normal(shape, seed)
    ax = np_axis(dim, len(shape))
    check_forward(ag.sum(f64(a), dim, keepdim), np.sum(a, axis=ax, keepdims=keepdim))
    check_forward(ag.tensor(a).mean(dim, keepdim),
                  np.mean(a, axis=ax, keepdims=keepdim) if count(shape, dim) else
                  np.full(np.sum(a, axis=ax, keepdims=keepdim).shape, np.nan))
    x = f64(a)
    assert ag.gradcheck(lambda t: ag.sum(t, dim, keepdim), (x,))
    assert ag.gradgradcheck(lambda t: ag.sum(t * t, dim, keepdim), (x,))
    if count(shape, dim):
        assert ag.gradcheck(lambda t: ag.mean(t, dim, keepdim), (x,))
        assert ag.gradgradcheck(lambda t: ag.mean(t * t, dim, keepdim), (x,))


def test_sum_mean_dtypes():
    i32 = ag.tensor(np.arange(6, dtype=np.int32).reshape(2, 3))
    assert ag.sum(i32).dtype == np.int64
    assert ag.sum(ag.tensor([True, False, True])).item() == 2
    assert ag.sum(ag.tensor([True, False, True])).dtype == np.int64
    f32 = ag.tensor(np.ones((2, 3), np.float32))
    assert ag.sum(f32, 1).dtype == np.float32
    assert ag.mean(f32, (0, 1)).dtype == np.float32
    assert ag.mean(i32, dtype=ag.float64).item() == pytest.approx(2.5)
    assert ag.sum(i32, dtype=ag.float64).dtype == np.float64


@given(cases(tuple_dims=True))
def test_prod_forward_and_grads(case):
    shape, dim, keepdim, seed = case
    a = near_one(shape, seed)
    ax = np_axis(dim, len(shape))
    check_forward(ag.prod(f64(a), dim, keepdim), np.prod(a, axis=ax, keepdims=keepdim))
    x = f64(a)
    assert ag.gradcheck(lambda t: ag.prod(t, dim, keepdim), (x,))
    assert ag.gradgradcheck(lambda t: ag.prod(t, dim, keepdim), (x,))


@given(cases(min_side=1), st.integers(1, 3))
def test_prod_with_zeros_gradcheck(case, nzeros):
    # prod is linear in each element, so central differences are exact even at zeros
    shape, dim, keepdim, seed = case
    a = near_one(shape, seed).reshape(-1)
    rng = np.random.default_rng(seed + 1)
    a[rng.choice(a.size, min(nzeros, a.size), replace=False)] = 0.0
    x = f64(a.reshape(shape))
    assert ag.gradcheck(lambda t: ag.prod(t, dim, keepdim), (x,))
    # the gradient (products of the others) is multilinear too: second order is exact
    assert ag.gradgradcheck(lambda t: ag.prod(t, dim, keepdim), (x,))


def test_prod_zeros_closed_form():
    x = f64([[2.0, 0.0, 3.0], [0.0, 0.0, 1.0], [1.0, 2.0, 4.0]])
    ag.prod(x, 1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 6, 0], [0, 0, 0], [8, 4, 2]])
    x = f64([2.0, 0.0, 3.0, 4.0])
    x.prod().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 24, 0, 0])
    x = f64([0.0, 0.0, 5.0])
    x.prod().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 0])
    assert np.isfinite(x.grad.numpy()).all()


def test_prod_dtypes():
    assert ag.prod(ag.tensor(np.array([2, 3], np.int32))).dtype == np.int64
    assert ag.prod(ag.tensor([True, True])).dtype == np.int64
    assert ag.prod(ag.tensor(np.ones(3, np.float32))).dtype == np.float32
    assert ag.prod(ag.zeros(0)).item() == 1.0


# ---- var / std -----------------------------------------------------------------------------


@quiet
@given(cases(), st.sampled_from([0, 1, 2]))
def test_var_std_forward(case, correction):
    shape, dim, keepdim, seed = case
    a = normal(shape, seed)
    ax = np_axis(dim, len(shape))
    n = count(shape, dim)
    s2 = np.sum((a - np.mean(a, axis=ax, keepdims=True)) ** 2 if n else a, axis=ax,
                keepdims=keepdim)
    with np.errstate(divide="ignore", invalid="ignore"):
        ref = s2 / max(n - correction, 0) if n else np.full(s2.shape, np.nan)
    check_forward(ag.var(f64(a), dim, keepdim=keepdim, correction=correction), ref)
    check_forward(ag.std(f64(a), dim, keepdim=keepdim, correction=correction), np.sqrt(ref))
    v, m = ag.var_mean(f64(a), dim, keepdim=keepdim, correction=correction)
    check_forward(v, ref)


@given(cases(), st.sampled_from([0, 1]))
def test_var_std_grads(case, correction):
    shape, dim, keepdim, seed = case
    assume(count(shape, dim) > correction)
    x = f64(normal(shape, seed))
    for fn in (ag.var, ag.std):
        def f(t):
            return fn(t, dim, keepdim=keepdim, correction=correction)
        assert ag.gradcheck(f, (x,))
        assert ag.gradgradcheck(f, (x,))


def test_var_unbiased_overloads():
    a = np.arange(6.0).reshape(2, 3) ** 2
    x = f64(a)
    np.testing.assert_allclose(npy(ag.var(x)), np.var(a, ddof=1))
    np.testing.assert_allclose(npy(ag.var(x, False)), np.var(a))  # var(x, unbiased)
    np.testing.assert_allclose(npy(ag.var(x, 0, True, True)), np.var(a, 0, ddof=1,
                                                                      keepdims=True))
    np.testing.assert_allclose(npy(x.std(1, unbiased=False)), np.std(a, 1))
    np.testing.assert_allclose(npy(ag.std(x, 1, correction=0)), np.std(a, 1))
    with pytest.raises(RuntimeError, match="both"):
        ag.var(x, 0, unbiased=True, correction=1)


def test_std_zero_gradient_is_zero():
    x = f64(np.full((2, 3), 4.0))
    ag.std(x).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))


# ---- max / min / amax / amin / argmax / argmin --------------------------------------------


@given(cases(min_side=1))
def test_amax_amin(case):
    shape, dim, keepdim, seed = case
    a = distinct(shape, seed)
    ax = np_axis(dim, len(shape))
    d = () if dim is None else dim
    check_forward(ag.amax(f64(a), d, keepdim), np.amax(a, axis=ax, keepdims=keepdim))
    check_forward(ag.amin(f64(a), d, keepdim), np.amin(a, axis=ax, keepdims=keepdim))
    x = f64(a)
    assert ag.gradcheck(lambda t: ag.amax(t, d, keepdim), (x,))
    assert ag.gradcheck(lambda t: ag.amin(t, d, keepdim), (x,))
    assert ag.gradgradcheck(lambda t: ag.amax(t, d, keepdim) ** 2, (x,))


@given(cases(min_side=1, tuple_dims=False, none_dim=False))
def test_max_min_with_dim(case):
    shape, dim, keepdim, seed = case
    a = distinct(shape, seed)
    ax = np_axis(dim, len(shape))
    for fn, npf, npa in ((ag.max, np.max, np.argmax), (ag.min, np.min, np.argmin)):
        r = fn(f64(a), dim, keepdim)
        values, indices = r
        assert r.values is values and r.indices is indices
        ref_i = np.asarray(npa(a, axis=ax))
        if keepdim:
            ref_i = ref_i.reshape(np.max(a, axis=ax, keepdims=True).shape)
        check_forward(values, npf(a, axis=ax, keepdims=keepdim))
        check_forward(indices, ref_i, dtype=np.int64)
        assert not indices.requires_grad
        x = f64(a)
        assert ag.gradcheck(lambda t, fn=fn: fn(t, dim, keepdim).values, (x,))
        assert ag.gradgradcheck(lambda t, fn=fn: fn(t, dim, keepdim).values ** 2, (x,))


@given(cases(min_side=1, tuple_dims=False))
def test_full_max_min(case):
    shape, _, _, seed = case
    a = distinct(shape, seed)
    check_forward(ag.max(f64(a)), np.max(a))
    check_forward(f64(a).min(), np.min(a))
    x = f64(a)
    assert ag.gradcheck(lambda t: ag.max(t), (x,))
    assert ag.gradcheck(lambda t: t.min(), (x,))


def test_max_min_ties_closed_form():
    x = f64([1.0, 3.0, 3.0, 2.0])
    ag.max(x).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0.5, 0.5, 0])
    x = f64([[3.0, 1.0], [3.0, 3.0]])
    ag.amax(x, (0, 1)).backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1 / 3, 0], [1 / 3, 1 / 3]])
    x = f64([[3.0, 1.0, 1.0], [0.0, 0.0, 5.0]])
    ag.amin(x, 1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0.5, 0.5], [0.5, 0.5, 0]])
    # with dim: the whole gradient goes to the returned (first) index
    x = f64([1.0, 3.0, 3.0, 2.0])
    v, i = ag.max(x, 0)
    assert i.item() == 1
    v.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 1, 0, 0])
    x = f64([[2.0, 1.0, 1.0], [4.0, 4.0, 4.0]])
    v, i = x.min(1, keepdim=True)
    np.testing.assert_array_equal(i.numpy(), [[1], [0]])
    v.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0], [1, 0, 0]])


def test_max_of_two_tensors_and_zero_size():
    a, b = f64([1.0, 5.0]), f64([3.0, 2.0])
    np.testing.assert_array_equal(npy(ag.max(a, b)), [3, 5])
    np.testing.assert_array_equal(npy(a.min(b)), [1, 2])
    np.testing.assert_array_equal(npy(ag.max(a, other=b)), [3, 5])
    v, i = ag.max(f64(np.zeros((0, 3))), 1)
    assert v.shape == (0,) and i.shape == (0,) and i.dtype == np.int64
    assert ag.amax(f64(np.zeros((2, 0))), 0).shape == (0,)
    v, i = ag.max(f64(7.0), 0)
    assert v.shape == () and i.item() == 0


def test_max_nan_propagates():
    a = np.array([1.0, np.nan, 3.0])
    v, i = ag.max(ag.tensor(a), 0)
    assert math.isnan(v.item()) and i.item() == 1
    assert math.isnan(ag.max(ag.tensor(a)).item())
    assert ag.argmax(ag.tensor(a)).item() == 1


@given(cases(min_side=1, tuple_dims=False))
def test_argmax_argmin(case):
    shape, dim, keepdim, seed = case
    a = np.random.default_rng(seed).integers(0, 3, shape).astype(np.float64)  # with ties
    for fn, npf in ((ag.argmax, np.argmax), (ag.argmin, np.argmin)):
        r = fn(ag.tensor(a), dim, keepdim)
        if dim is None:
            ref = np.asarray(npf(a))
            if keepdim:
                ref = ref.reshape((1,) * a.ndim)
        else:
            ref = np.asarray(npf(a, axis=np_axis(dim, a.ndim), keepdims=keepdim))
        check_forward(r, ref, dtype=np.int64)
        assert not r.requires_grad
    assert ag.argmax(f64(a)).requires_grad is False


def test_argmax_int_and_methods():
    x = ag.tensor(np.array([[3, 9, 9], [1, 0, 2]], dtype=np.int32))
    assert x.argmax().item() == 1
    np.testing.assert_array_equal(x.argmin(1).numpy(), [0, 1])
    np.testing.assert_array_equal(x.amax(1).numpy(), [9, 2])
    assert x.max().dtype == np.int32


# ---- median / kthvalue -----------------------------------------------------------------


@given(cases(min_side=1, tuple_dims=False))
def test_median_kthvalue(case):
    shape, dim, keepdim, seed = case
    a = distinct(shape, seed)
    x = f64(a)
    if dim is None:
        y = ag.median(x)
        check_forward(y, np.sort(a.reshape(-1))[(a.size - 1) // 2])
        assert ag.gradcheck(ag.median, (x,))
        return
    ax = np_axis(dim, a.ndim)
    b = a.reshape(1) if a.ndim == 0 else a
    ax = 0 if ax is None else ax
    n = b.shape[ax]
    ref = np.take(np.sort(b, axis=ax), [(n - 1) // 2], axis=ax)
    v, i = ag.median(x, dim, keepdim)
    check_forward(v, ref.reshape(v.shape))
    np.testing.assert_array_equal(np.take_along_axis(b, i.numpy().reshape(ref.shape), ax), ref)
    assert ag.gradcheck(lambda t: ag.median(t, dim, keepdim).values, (x,))
    k = n
    v, i = ag.kthvalue(x, k, dim, keepdim)
    check_forward(v, np.max(a, axis=np_axis(dim, a.ndim), keepdims=keepdim))
    assert ag.gradcheck(lambda t: ag.kthvalue(t, k, dim, keepdim).values, (x,))


def test_median_closed_form():
    x = f64([1.0, 3.0, 3.0, 2.0])
    m = ag.median(x)
    assert m.item() == 2.0
    m.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 0, 1])
    assert math.isnan(ag.median(ag.tensor([1.0, np.nan, 3.0])).item())
    assert math.isnan(ag.median(ag.zeros(0)).item())


# ---- logsumexp -------------------------------------------------------------------------------


@given(cases())
def test_logsumexp(case):
    shape, dim, keepdim, seed = case
    a = normal(shape, seed, 3.0)
    ax = np_axis(dim, len(shape))
    with np.errstate(divide="ignore"):
        ref = np.log(np.sum(np.exp(a), axis=ax, keepdims=keepdim))
    check_forward(ag.logsumexp(f64(a), dim, keepdim), ref)
    assume(count(shape, dim) > 0 or math.prod(shape) == 0)
    x = f64(a)
    assert ag.gradcheck(lambda t: ag.logsumexp(t, dim, keepdim), (x,))
    assert ag.gradgradcheck(lambda t: ag.logsumexp(t, dim, keepdim), (x,))


def test_logsumexp_stable_and_dtypes():
    x = f64([1000.0, 1000.0, -1000.0])
    y = ag.logsumexp(x, 0)
    assert y.item() == pytest.approx(1000.0 + math.log(2.0))
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.5, 0.0])
    assert ag.logsumexp(ag.tensor([-np.inf, -np.inf]), 0).item() == -np.inf
    assert ag.logsumexp(ag.tensor([np.inf, 1.0]), 0).item() == np.inf
    assert ag.logsumexp(ag.tensor([1, 2]), 0).dtype == ag.get_default_dtype()
    assert ag.logsumexp(ag.tensor(np.ones(3, np.float32)), 0).dtype == np.float32


# ---- norm ----------------------------------------------------------------------------------


def np_norm(a, p, axis, keepdim):
    b = np.abs(a)
    if p in ("fro", 2):
        return np.sqrt(np.sum(b * b, axis=axis, keepdims=keepdim))
    if p == math.inf:
        return np.max(b, axis=axis, keepdims=keepdim)
    if p == -math.inf:
        return np.min(b, axis=axis, keepdims=keepdim)
    if p == 0:
        return np.sum(b != 0, axis=axis, keepdims=keepdim).astype(a.dtype)
    return np.sum(b ** p, axis=axis, keepdims=keepdim) ** (1.0 / p)


@given(cases(), st.sampled_from(["fro", 2, 1, 3, 1.5, 0, math.inf, -math.inf]))
def test_norm(case, p):
    shape, dim, keepdim, seed = case
    if p in (math.inf, -math.inf):
        assume(count(shape, dim) > 0)
    if p == "fro" and isinstance(dim, tuple):
        assume(len(dim) <= 2)
    a = distinct(shape, seed)
    check_forward(ag.norm(f64(a), p, dim, keepdim), np_norm(a, p, np_axis(dim, a.ndim),
                                                              keepdim))
    x = f64(a)
    assert ag.gradcheck(lambda t: ag.norm(t, p, dim, keepdim), (x,))
    if p not in (1, 0, math.inf, -math.inf):
        assert ag.gradgradcheck(lambda t: t.norm(p, dim, keepdim), (x,))


def test_norm_gradient_at_zero_and_errors():
    for p in (2, "fro", 3, 1, math.inf):
        x = f64(np.zeros((2, 3)))
        ag.norm(x, p).backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))
    x = f64([[0.0, 0.0], [3.0, 4.0]])
    ag.norm(x, dim=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0], [0.6, 0.8]])
    with pytest.raises(RuntimeError, match="floating point"):
        ag.norm(ag.tensor([1, 2]))
    x = f64([[3.0, 0.0], [0.0, -4.0]])  # the nuclear norm: the sum of singular values
    ag.norm(x, "nuc").backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1.0, 0.0], [0.0, -1.0]])
    with pytest.raises(RuntimeError, match="2-tuple"):
        ag.norm(f64(np.ones((2, 2, 2))), "nuc")
    assert ag.norm(ag.tensor([3, 4]), dtype=ag.float64).item() == 5.0


# ---- cumsum / cumprod ----------------------------------------------------------------------


@given(cases(tuple_dims=False, none_dim=False))
def test_cumsum_cumprod(case):
    shape, dim, _, seed = case
    a = near_one(shape, seed)
    ax = np_axis(dim, len(shape))
    b = a.reshape(1) if a.ndim == 0 else a
    check_forward(ag.cumsum(f64(a), dim), np.cumsum(b, axis=ax or 0).reshape(a.shape))
    check_forward(f64(a).cumprod(dim), np.cumprod(b, axis=ax or 0).reshape(a.shape))
    x = f64(a)
    assert ag.gradcheck(lambda t: ag.cumsum(t, dim), (x,))
    assert ag.gradgradcheck(lambda t: ag.cumsum(t, dim) ** 2, (x,))
    assert ag.gradcheck(lambda t: ag.cumprod(t, dim), (x,))
    assert ag.gradgradcheck(lambda t: ag.cumprod(t, dim), (x,))


@given(cases(min_side=1, tuple_dims=False, none_dim=False), st.integers(1, 3))
def test_cumprod_with_zeros_gradcheck(case, nzeros):
    # cumprod is linear in each element: central differences are exact at zeros
    shape, dim, _, seed = case
    a = near_one(shape, seed).reshape(-1)
    rng = np.random.default_rng(seed + 1)
    a[rng.choice(a.size, min(nzeros, a.size), replace=False)] = 0.0
    x = f64(a.reshape(shape))
    assert ag.gradcheck(lambda t: ag.cumprod(t, dim), (x,))


def test_cumulative_dtypes_and_closed_form():
    assert ag.cumsum(ag.tensor(np.array([1, 2], np.int32)), 0).dtype == np.int64
    assert ag.cumprod(ag.tensor([True, True]), 0).dtype == np.int64
    assert ag.cumsum(ag.tensor(np.ones(2, np.float32)), 0).dtype == np.float32
    assert ag.cumsum(f64(np.ones(3)), 0, dtype=ag.float32).dtype == np.float32
    x = f64([1.0, 2.0, 0.0, 3.0, 0.0, 2.0])
    ag.cumprod(x, 0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 1, 8, 0, 0, 0])


# ---- all / any -----------------------------------------------------------------------------


@given(cases())
def test_all_any(case):
    shape, dim, keepdim, seed = case
    a = np.random.default_rng(seed).integers(0, 2, shape).astype(np.float64)
    ax = np_axis(dim, len(shape))
    check_forward(ag.all(f64(a), dim, keepdim), np.all(a, axis=ax, keepdims=keepdim))
    check_forward(f64(a).any(dim, keepdim), np.any(a, axis=ax, keepdims=keepdim))
    assert not ag.any(f64(a)).requires_grad


def test_all_any_dtypes():
    assert ag.all(ag.tensor(np.array([1, 2], np.uint8))).dtype == np.uint8
    assert ag.any(ag.tensor([0, 2])).dtype == np.bool_
    assert ag.all(ag.zeros(0)).item() is True


# ---- errors --------------------------------------------------------------------------------


def test_errors():
    x = f64(np.ones((2, 3)))
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range "
                                         r"of \[-2, 1\], but got 5\)"):
        ag.sum(x, 5)
    for fn in (ag.mean, ag.prod, ag.amax, ag.argmax, ag.logsumexp, ag.all, ag.var):
        with pytest.raises(IndexError, match="out of range"):
            fn(x, -3)
    with pytest.raises(IndexError, match="out of range"):
        ag.max(x, 2)
    with pytest.raises(IndexError, match="out of range"):
        ag.cumsum(x, 2)
    with pytest.raises(RuntimeError, match="mean.*Long|mean.*int64"):
        ag.mean(ag.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="floating point"):
        ag.var(ag.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="numel\\(\\) == 0"):
        ag.max(ag.zeros(0))
    with pytest.raises(IndexError, match="non-zero size"):
        ag.amax(ag.zeros(0, 3), 0)
    with pytest.raises(IndexError, match="non-zero size"):
        ag.max(ag.zeros(0, 3), 0)
    with pytest.raises(RuntimeError, match="bool"):
        ag.argmax(ag.tensor([True, False]))
    with pytest.raises(RuntimeError, match="multiple times"):
        ag.sum(x, (0, -2))
    with pytest.raises(TypeError, match="dim must be an int"):
        ag.max(x, (0, 1))
    with pytest.raises(RuntimeError, match="out of range"):  # PyTorch's class here
        ag.kthvalue(x, 4, 1)


def test_methods_bound():
    x = f64([[1.0, 2.0], [3.0, 4.0]])
    assert x.prod().item() == 24.0
    assert x.max().item() == 4.0 and x.max(0).indices.tolist() == [1, 1]
    assert x.amax(1).tolist() == [2.0, 4.0] and x.amin(0).tolist() == [1.0, 2.0]
    assert x.argmax().item() == 3 and x.argmin(1).tolist() == [0, 0]
    assert x.logsumexp(1).shape == (2,)
    assert x.norm().item() == pytest.approx(math.sqrt(30))
    assert x.var().item() == pytest.approx(np.var([1, 2, 3, 4], ddof=1))
    assert x.std(1).shape == (2,)
    assert x.cumsum(0).tolist() == [[1, 2], [4, 6]]
    assert x.cumprod(1).tolist() == [[1, 2], [3, 12]]
    assert x.all().item() and x.any(0).tolist() == [True, True]
    assert x.median().item() == 2.0 and x.kthvalue(1, 0).values.tolist() == [1.0, 2.0]


def test_raw_arrays_pass_through():
    # wrappers called on raw arrays (as backward formulas do) return raw arrays
    a = np.arange(6.0).reshape(2, 3) + 1
    assert isinstance(ag.prod(a, 1), np.ndarray)
    np.testing.assert_allclose(ag.logsumexp(a, 1), np.log(np.exp(a).sum(1)))
    np.testing.assert_allclose(ag.amax(a, 0), a.max(0))
    np.testing.assert_allclose(ag.cumsum(a, 1), np.cumsum(a, 1))


# ---- against PyTorch -----------------------------------------------------------------------

TORCH_CASES = [
    ("sum", lambda m, x: m.sum(x, 1, keepdim=True)),
    ("mean", lambda m, x: m.mean(x, (0, 2))),
    ("prod", lambda m, x: m.prod(x, -1)),
    ("prod_all", lambda m, x: m.prod(x)),
    ("var", lambda m, x: m.var(x, 1)),
    ("var_c0", lambda m, x: m.var(x, (0, 2), correction=0, keepdim=True)),
    ("std", lambda m, x: m.std(x, 0, keepdim=True)),
    ("max", lambda m, x: m.max(x)),
    ("max_dim", lambda m, x: m.max(x, 1).values),
    ("min_dim", lambda m, x: m.min(x, -1, keepdim=True)[0]),
    ("amax", lambda m, x: m.amax(x, (0, 2))),
    ("amin", lambda m, x: m.amin(x, 1, keepdim=True)),
    ("logsumexp", lambda m, x: m.logsumexp(x, (1, 2))),
    ("norm", lambda m, x: m.norm(x)),
    ("norm_p3", lambda m, x: m.norm(x, 3, 1)),
    ("norm_inf", lambda m, x: m.norm(x, float("inf"), (0, 1))),
    ("norm_p1", lambda m, x: m.norm(x, 1, -1, True)),
    ("cumsum", lambda m, x: m.cumsum(x, 1)),
    ("cumprod", lambda m, x: m.cumprod(x, 2)),
    ("median", lambda m, x: m.median(x)),
    ("median_dim", lambda m, x: m.median(x, 1).values),
]


@pytest.mark.parametrize("name,fn", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
@pytest.mark.parametrize("with_ties", [False, True])
def test_against_torch(name, fn, with_ties):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    if with_ties:  # ties and zeros: max/amax split, prod/cumprod zero handling
        if name.startswith("median"):
            pytest.skip("torch's median index among ties is unspecified")
        a = rng.integers(-1, 2, (3, 4, 2)).astype(np.float64)
    else:
        a = distinct((3, 4, 2), 7) / 10
    x = f64(a)
    tx = torch.tensor(a, requires_grad=True)
    y, ty = fn(ag, x), fn(torch, tx)
    np.testing.assert_allclose(npy(y), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(ty.shape)
    y.backward(ag.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_against_torch_second_order():
    torch = pytest.importorskip("torch")
    a = distinct((3, 4), 3) / 5
    for name in ("logsumexp", "var", "std", "norm", "prod", "max_dim", "cumprod"):
        def fn(m, x, name=name):
            if name == "max_dim":
                return (m.max(x, 1).values ** 2).sum()
            if name == "cumprod":
                return m.cumprod(x, 1).sum()
            if name == "logsumexp":
                return m.logsumexp(x, 1).sum()
            return getattr(m, name)(x, dim=0).sum()
        x = f64(a)
        tx = torch.tensor(a, requires_grad=True)
        (g,) = ag.grad(fn(ag, x), (x,), create_graph=True)
        (tg,) = torch.autograd.grad(fn(torch, tx), (tx,), create_graph=True)
        w = np.cos(np.arange(a.size)).reshape(a.shape)
        (gg,) = ag.grad((g * ag.tensor(w)).sum(), (x,))
        (tgg,) = torch.autograd.grad((tg * torch.tensor(w)).sum(), (tx,))
        np.testing.assert_allclose(npy(gg), tgg.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


def test_no_warnings_on_edge_cases():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(ag.var(ag.tensor([1.0])).item())
        assert math.isnan(ag.mean(ag.zeros(0)).item())
        assert ag.std(ag.tensor([1.0, 2.0]), correction=3).item() == math.inf
        assert ag.logsumexp(ag.zeros(0), 0).item() == -math.inf



# ---- devices -------------------------------------------------------------------------------

HAS_GPU = ag.cuda.is_available()
DEVICES = ["cpu", pytest.param("cuda", marks=[
    pytest.mark.gpu, pytest.mark.skipif(not HAS_GPU, reason="needs CuPy and a CUDA GPU")])]
DEVICE_CASES = TORCH_CASES + [
    ("kthvalue", lambda m, x: m.kthvalue(x, 2, 1).values),
    ("std_all", lambda m, x: m.std(x)),
    ("amax_all", lambda m, x: m.amax(x)),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("with_ties", [False, True])
def test_on_device_matches_cpu(device, with_ties):
    rng = np.random.default_rng(11)
    if with_ties:
        a = rng.integers(-1, 2, (3, 4, 2)).astype(np.float64)
    else:
        a = distinct((3, 4, 2), 11) / 10
    for name, fn in DEVICE_CASES:
        if with_ties and name.startswith(("median", "kthvalue")):
            continue
        outs = []
        for dev in ("cpu", device):
            x = ag.tensor(a, device=dev, requires_grad=True)
            y = fn(ag, x)
            y.backward(ag.tensor(np.cos(np.arange(y.numel())).reshape(y.shape), device=dev))
            outs.append((y.detach().cpu().numpy(), x.grad.cpu().numpy()))
        (y0, g0), (y1, g1) = outs
        np.testing.assert_allclose(y1, y0, rtol=1e-10, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(g1, g0, rtol=1e-10, atol=1e-12, err_msg=name)
    x = ag.tensor(a, device=device)
    assert x.argmax(1).device == device and x.all().device == device
    np.testing.assert_array_equal(x.argmax(1).cpu().numpy(), np.argmax(a, 1))
    np.testing.assert_array_equal(ag.any(x > 0, 0).cpu().numpy(), np.any(a > 0, 0))


@pytest.mark.parametrize("op", ["median", "nanmedian"])
def test_full_median_gradient_is_split_among_ties(op):
    """PyTorch's median()/nanmedian() over all elements (evenly_distribute_backward)."""
    torch = pytest.importorskip("torch")
    for vals in ([1.0, 3.0, 3.0], [2.0, 2.0, 2.0, 5.0], [1.0, math.nan, math.nan], [4.0, 1.0]):
        x = ag.tensor(vals, dtype=ag.float64, requires_grad=True)
        xt = torch.tensor(vals, dtype=torch.float64, requires_grad=True)
        getattr(ag, op)(x).backward()
        getattr(torch, op)(xt).backward()
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())
