"""Scans, sorting, searching and statistics (autograd/ops/scan.py): values, dtypes, shapes
and errors against PyTorch (float32/float64/int dtypes, dims, keepdim, empty and 0-d
inputs), float64 gradcheck/gradgradcheck of the differentiable ones, and gradients against
PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag

torch = pytest.importorskip("torch")

# cov with fewer observations than the correction warns in both libraries (checked below)
pytestmark = pytest.mark.filterwarnings("ignore:cov.*degrees of freedom:UserWarning")

NAN = float("nan")


# ---- helpers ------------------------------------------------------------------------------


def rnd(shape, seed=0, dtype="float64"):
    a = np.random.default_rng(seed).standard_normal(shape)
    if np.dtype(dtype).kind in "iu":
        a = np.round(a * 3) % 5 if np.dtype(dtype).kind == "u" else np.round(a * 3)
    return a.astype(dtype)


def pair(a, requires_grad=False):
    a = np.asarray(a)
    rg = requires_grad and a.dtype.kind == "f"
    return (ag.tensor(a.copy(), requires_grad=rg),
            torch.tensor(a.copy(), requires_grad=rg))


def to_np(v):
    if isinstance(v, (tuple, list)):
        return [to_np(u) for u in v]
    if hasattr(v, "detach"):
        return v.detach().numpy()
    return np.asarray(v)


def assert_same(ours, theirs, rtol=1e-6, atol=1e-7):
    """Same structure, shapes, dtypes and (NaN-aware) values as PyTorch's result."""
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs)
        if hasattr(theirs, "_fields"):  # torch.return_types: the same field names
            assert tuple(ours._fields) == tuple(theirs._fields)
        for o, t in zip(ours, theirs):
            assert_same(o, t, rtol, atol)
        return
    assert isinstance(ours, ag.Tensor)
    a, e = to_np(ours), to_np(theirs)
    assert a.shape == e.shape, (a.shape, e.shape)
    assert str(a.dtype) == str(e.dtype), (a.dtype, e.dtype)
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, equal_nan=True)


def both(fn, *arrays, rtol=1e-6, atol=1e-7):
    """``fn(M, *tensors)`` for both libraries: the same result, or the same exception."""
    ours = [pair(a)[0] for a in arrays]
    theirs = [pair(a)[1] for a in arrays]
    try:
        t = fn(torch, *theirs)
    except Exception as e:  # noqa: BLE001 - the class is compared
        with pytest.raises(type(e)):
            fn(ag, *ours)
        return None
    o = fn(ag, *ours)
    assert_same(o, t, rtol, atol)
    return o


def grads_match(fn, *arrays, rtol=1e-6, atol=1e-8):
    """The gradient of sum(fn(x) * w) (a fixed random ``w``) matches PyTorch's."""
    ours = [pair(a, True)[0] for a in arrays]
    theirs = [pair(a, True)[1] for a in arrays]
    yo, yt = fn(ag, *ours), fn(torch, *theirs)
    yo = yo if isinstance(yo, (tuple, list)) else (yo,)
    yt = yt if isinstance(yt, (tuple, list)) else (yt,)
    lo, lt = 0, 0
    for k, (a, b) in enumerate(zip(yo, yt)):
        if not b.dtype.is_floating_point:
            continue
        w = rnd(tuple(b.shape), 100 + k)
        lo = lo + (a * ag.tensor(w)).sum()
        lt = lt + (b * torch.tensor(w)).sum()
    go = ag.grad(lo, ours, allow_unused=True)
    gt = torch.autograd.grad(lt, theirs, allow_unused=True)
    for g1, g2 in zip(go, gt):
        if g2 is None:
            continue
        np.testing.assert_allclose(to_np(g1), g2.numpy(), rtol=rtol, atol=atol)


def check_grads(fn, *arrays):
    xs = [ag.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    assert ag.gradcheck(fn, tuple(xs))
    assert ag.gradgradcheck(fn, tuple(xs))


DTYPES = ("float32", "float64", "int64", "int32")


# ---- cummax / cummin / logcumsumexp / cumsum_ / cumprod_ ---------------------------------


@pytest.mark.parametrize("op", ["cummax", "cummin"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,dim", [((7,), 0), ((3, 5), 1), ((3, 5), -2), ((), 0),
                                       ((0, 3), 0), ((2, 3, 4), 2)])
def test_cummax_cummin_forward(op, dtype, shape, dim):
    both(lambda M, x: getattr(M, op)(x, dim), rnd(shape, 1, dtype))


@pytest.mark.parametrize("op", ["cummax", "cummin"])
def test_cummax_ties_and_nan(op):
    both(lambda M, x: getattr(M, op)(x, 0), np.array([1.0, 3, 3, 2, NAN, 5, NAN, 1]))
    both(lambda M, x: getattr(M, op)(x, 0), np.array([2, 2, 1, 2, 1, 1]))
    both(lambda M, x: getattr(M, op)(x, 1), np.array([[True, False, True]]))
    both(lambda M, x: x.__getattribute__(op)(0), np.array([1.0, 0.5]))  # the method
    both(lambda M, x: getattr(M, op)(x, 2), rnd((2, 3)))  # dim out of range


@pytest.mark.parametrize("op", ["cummax", "cummin"])
def test_cummax_gradients(op):
    x = rnd((3, 6), 2)
    check_grads(lambda t: getattr(ag, op)(t, 1).values, x)
    grads_match(lambda M, t: getattr(M, op)(t, 1).values, x)
    grads_match(lambda M, t: getattr(M, op)(t, 0).values, np.array([[1.0, 1.0], [1.0, 2.0]]))


@pytest.mark.parametrize("dtype", ("float32", "float64"))
@pytest.mark.parametrize("shape,dim", [((7,), 0), ((3, 5), 1), ((3, 5), 0), ((), 0),
                                       ((0, 3), 1)])
def test_logcumsumexp_forward(dtype, shape, dim):
    both(lambda M, x: M.logcumsumexp(x, dim), rnd(shape, 3, dtype), rtol=2e-6)


def test_logcumsumexp_stable_and_errors():
    big = np.array([1000.0, 1000.0, -1000.0, -np.inf, np.inf, NAN])
    both(lambda M, x: M.logcumsumexp(x, 0), big)
    both(lambda M, x: M.logcumsumexp(x, 0), np.array([-np.inf, -np.inf, 0.0]))
    both(lambda M, x: M.logcumsumexp(x, 0), np.array([1, 2, 3]))  # integers: PyTorch raises
    x = rnd((3, 4), 4)
    check_grads(lambda t: ag.logcumsumexp(t, 1), x)
    grads_match(lambda M, t: M.logcumsumexp(t, 0), x * 30)  # large values: no overflow


@pytest.mark.parametrize("dtype", DTYPES)
def test_cumsum_cumprod_inplace(dtype):
    a = rnd((3, 4), 5, dtype)
    both(lambda M, x: x.cumsum_(1), a)
    both(lambda M, x: x.cumprod_(0), a)
    both(lambda M, x: x.cumsum_(0, dtype=M.float64), a)
    x = ag.tensor(a)
    assert x.cumsum_(1) is x  # in place, returns self
    both(lambda M, x: x.cumsum_(0), np.array([True, False]))  # bool: PyTorch raises


def test_cumsum_inplace_in_graph():
    x = rnd((3, 4), 6)

    def f(M, t):
        y = t * 2
        y.cumsum_(1)
        return y

    grads_match(f, x)


# ---- aminmax / nansum / nanmean / nanmedian / mode / msort / count_nonzero ---------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", [{}, {"dim": 1}, {"dim": 0, "keepdim": True},
                                {"keepdim": True}])
def test_aminmax(dtype, kw):
    both(lambda M, x: M.aminmax(x, **kw), rnd((3, 4), 7, dtype))
    both(lambda M, x: M.aminmax(x, **kw), np.zeros((0, 4), dtype))  # no identity: raises


def test_aminmax_gradient():
    x = rnd((3, 4), 8)
    grads_match(lambda M, t: M.aminmax(t, dim=1), x)
    grads_match(lambda M, t: M.aminmax(t), np.array([[1.0, 3.0], [3.0, 1.0]]))  # ties
    check_grads(lambda t: ag.aminmax(t, dim=0).max, x)


WITH_NAN = np.array([[1.0, NAN, 3.0, 2.0], [NAN, NAN, NAN, NAN], [0.5, -1.0, NAN, 4.0]])


@pytest.mark.parametrize("op", ["nansum", "nanmean"])
@pytest.mark.parametrize("args", [(), (1,), (0, True), ((0, 1),)])
def test_nansum_nanmean(op, args):
    both(lambda M, x: getattr(M, op)(x, *args), WITH_NAN)
    both(lambda M, x: getattr(M, op)(x, *args), WITH_NAN.astype(np.float32))
    both(lambda M, x: getattr(M, op)(x, *args), rnd((3, 4), 9, "int32"))
    both(lambda M, x: getattr(M, op)(x, *args), np.zeros((0, 3)))
    grads_match(lambda M, t: getattr(M, op)(t, *args), WITH_NAN)
    check_grads(lambda t: getattr(ag, op)(t, *args), rnd((3, 4), 10))


def test_nansum_dtype():
    both(lambda M, x: M.nansum(x, dtype=M.float64), rnd((3, 4), 11, "float32"))
    both(lambda M, x: M.nanmean(x, dtype=M.float64), rnd((3, 4), 11, "int64"))


@pytest.mark.parametrize("args", [(), (1,), (0, True), (-1,)])
@pytest.mark.parametrize("dtype", ("float32", "float64", "int64"))
def test_nanmedian(args, dtype):
    # (the index PyTorch returns for an all-NaN slice is not specified: no such row here)
    a = WITH_NAN[[0, 2]] if dtype != "int64" else rnd((3, 5), 12, "int64")
    both(lambda M, x: M.nanmedian(x, *args), a.astype(dtype))
    if dtype != "int64":
        r = ag.nanmedian(ag.tensor(WITH_NAN.astype(dtype)), 1)
        assert np.isnan(r.values.numpy()[1]) and 0 <= int(r.indices[1]) < 4
    both(lambda M, x: M.nanmedian(x, *args), np.zeros((0, 3), dtype))


def test_nanmedian_gradient():
    x = np.array([[1.0, NAN, 3.0, 2.0], [0.5, -1.0, NAN, 4.0]])
    grads_match(lambda M, t: M.nanmedian(t, 1).values, x)
    grads_match(lambda M, t: M.nanmedian(t), x)
    check_grads(lambda t: ag.nanmedian(t, 1).values, rnd((3, 5), 13))


@pytest.mark.parametrize("a,args", [
    (np.array([[1, 2, 2, 1, 1], [5, 5, 4, 4, 0]]), (1,)),
    (np.array([3.0, 1, 3, 1, 2]), ()),
    (np.array([1.0, NAN, NAN, 2]), ()),
    (np.array([[1.0, 1.0], [2.0, 3.0], [2.0, 3.0]]), (0, True)),
    (np.array(4.0), ()),
])
def test_mode(a, args):
    both(lambda M, x: M.mode(x, *args), a)


def test_mode_long_slices():
    # which occurrence PyTorch returns is unspecified beyond 16 elements (an unstable
    # sort): the values match, and the index points at the value
    a = np.round(rnd((4, 30), 14) * 2)
    ours, theirs = ag.mode(ag.tensor(a), 1), torch.mode(torch.tensor(a), 1)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(a[np.arange(4), ours.indices.numpy()], ours.values.numpy())


def test_mode_gradient_and_errors():
    x = np.array([[1.0, 2.0, 2.0, 1.5], [3.0, 3.0, 0.5, 3.0]])
    grads_match(lambda M, t: M.mode(t, 1).values, x)
    both(lambda M, x: M.mode(x, 0), np.zeros((0, 3)))
    both(lambda M, x: M.mode(x, 3), np.zeros((2, 3)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_msort(dtype):
    both(lambda M, x: M.msort(x), rnd((5, 3), 15, dtype))
    both(lambda M, x: x.msort(), rnd((4,), 15, dtype))
    grads_match(lambda M, t: M.msort(t), rnd((5, 3), 16))


@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1), -1])
@pytest.mark.parametrize("dtype", DTYPES + ("bool",))
def test_count_nonzero(dim, dtype):
    a = rnd((3, 4), 17, "int64").astype(dtype)
    both(lambda M, x: M.count_nonzero(x, dim), a)
    both(lambda M, x: M.count_nonzero(x, dim), np.zeros((0, 4), dtype))


QUANT = np.array([[1.0, 5.0, 2.0, 8.0, -1.0], [3.0, NAN, 1.0, 0.0, 2.5],
                  [NAN, NAN, NAN, NAN, NAN]])


@pytest.mark.parametrize("op", ["quantile", "nanquantile"])
@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
@pytest.mark.parametrize("kw", [{}, {"dim": 1}, {"dim": 0, "keepdim": True},
                                {"keepdim": True}, {"dim": -1, "keepdim": True}])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_quantile(op, interpolation, kw, dtype):
    a = QUANT.astype(dtype)
    for q in (0.5, 0.0, 1.0, 0.37, np.array([0.1, 0.5, 0.9], dtype), np.array(0.25, dtype)):
        if isinstance(q, np.ndarray):
            both(lambda M, x, q: getattr(M, op)(x, q, interpolation=interpolation, **kw), a, q)
        else:
            both(lambda M, x: getattr(M, op)(x, q, interpolation=interpolation, **kw), a)


def test_quantile_gradients_and_errors():
    x = rnd((3, 7), 50)
    q = np.array([0.1, 0.5, 0.85])
    for op in ("quantile", "nanquantile"):
        check_grads(lambda t: getattr(ag, op)(t, ag.tensor(q), dim=1), x)
        check_grads(lambda t: getattr(ag, op)(t, 0.3, interpolation="midpoint"), x)
        grads_match(lambda M, t: getattr(M, op)(t, M.tensor(q), dim=0, keepdim=True), x)
    grads_match(lambda M, t: M.nanquantile(t, 0.4, 1), QUANT[:2])
    both(lambda M, x: M.quantile(x, 0.5), np.array([1, 2]))
    both(lambda M, x: M.quantile(x, 1.5), x)
    both(lambda M, x: M.quantile(x, 0.5), np.zeros(0))
    both(lambda M, x, q: M.quantile(x, q), x, np.array([0.5], np.float32))
    both(lambda M, x: M.quantile(x, 0.5, interpolation="foo"), x)
    both(lambda M, x, q: M.quantile(x, q), x, np.full((2, 2), 0.5))
    both(lambda M, x: M.quantile(x, 0.5), np.array(3.0))


# ---- bincount / histc / histogram --------------------------------------------------------


def test_bincount():
    idx = np.array([0, 3, 3, 1, 7, 3])
    both(lambda M, x: M.bincount(x), idx)
    both(lambda M, x: M.bincount(x, minlength=12), idx)
    both(lambda M, x: M.bincount(x, minlength=2), idx.astype(np.int32))
    both(lambda M, x: M.bincount(x), np.zeros(0, np.int64))
    for w in (np.linspace(0, 1, 6), np.linspace(0, 1, 6).astype(np.float32),
              np.arange(6), np.linspace(0, 1, 6).astype(np.float16)):
        both(lambda M, x, y: M.bincount(x, y), idx, w)
    both(lambda M, x: M.bincount(x), np.array([0, -1]))  # negative: raises
    both(lambda M, x: M.bincount(x), np.array([[0, 1]]))  # 2-D: raises
    both(lambda M, x: M.bincount(x), np.array([0.0, 1.0]))  # float: raises
    both(lambda M, x, y: M.bincount(x, y), idx, np.ones(5))  # weights length: raises


@pytest.mark.parametrize("dtype", ("float32", "float64"))
@pytest.mark.parametrize("kw", [{}, {"bins": 7}, {"bins": 5, "min": -1, "max": 1},
                                {"bins": 3, "min": 2, "max": 2}])
def test_histc(dtype, kw):
    a = rnd((400,), 18, dtype)
    both(lambda M, x: M.histc(x, **kw), a)
    both(lambda M, x: M.histc(x, **kw), np.full((5,), 2.0, dtype))
    both(lambda M, x: M.histc(x, **kw), np.zeros((0,), dtype))


def test_histc_errors():
    both(lambda M, x: M.histc(x, 4), np.array([1.0, np.inf]))
    both(lambda M, x: M.histc(x, 4, min=3, max=1), np.array([1.0, 2.0]))
    both(lambda M, x: M.histc(x, 4), np.array([1, 2]))
    both(lambda M, x: M.histc(x, 0), np.array([1.0, 2.0]))
    both(lambda M, x: M.histc(x, 4, min=0, max=2), np.array([0.5, NAN, 2.0, 3.0]))


@pytest.mark.parametrize("dtype", ("float32", "float64"))
def test_histogram(dtype):
    a = rnd((500,), 19, dtype)
    w = np.abs(rnd((500,), 20, dtype))
    both(lambda M, x: M.histogram(x, 9), a)
    both(lambda M, x: M.histogram(x, 4, range=(-1.0, 2.0)), a)
    both(lambda M, x, y: M.histogram(x, 6, weight=y, density=True), a, w, rtol=1e-5)
    both(lambda M, x, e: M.histogram(x, e), a, np.array([-3.0, -0.5, 0.0, 0.1, 2.0], dtype))
    both(lambda M, x, e, y: M.histogram(x, e, weight=y, density=True), a,
         np.array([-1.0, 0.0, 3.0], dtype), w, rtol=1e-5)
    both(lambda M, x: M.histogram(x, 3), np.array([2.0, 2.0], dtype))
    both(lambda M, x: M.histogram(x, 3), np.zeros((0,), dtype))
    both(lambda M, x: M.histogram(x, 3), np.array([1, 2]))  # integers: raises


@pytest.mark.parametrize("dtype", ("float32", "float64"))
def test_histogramdd(dtype):
    pts = rnd((300, 3), 60, dtype)
    w = np.abs(rnd((300,), 61, dtype))
    e = [np.array([-2.0, 0.0, 1.0], dtype), np.array([-1.0, 1.0], dtype),
         np.array([-3.0, -1.0, 0.0, 0.5, 3.0], dtype)]
    both(lambda M, x: M.histogramdd(x, 4), pts)
    both(lambda M, x, y: M.histogramdd(x, [2, 3, 5], range=[-1.0, 1, -2, 2, 0, 1], weight=y,
                                       density=True), pts, w, rtol=1e-5)
    both(lambda M, x, a, b, c: M.histogramdd(x, [a, b, c]), pts, *e)
    both(lambda M, x: M.histogramdd(x, 3), pts.reshape(10, 30, 3)[:, :, :2])
    both(lambda M, x: M.histogramdd(x, 2), np.zeros((0, 2), dtype))
    both(lambda M, x: M.histogramdd(x, 2), np.ones(3, dtype))  # 1-D: raises
    both(lambda M, x: M.histogramdd(x, [2, 2]), pts)  # one bins entry per dim: raises
    both(lambda M, x: M.histogramdd(x, 2), np.ones((3, 2), np.int64))


# ---- searchsorted / bucketize / isin ----------------------------------------------------


@pytest.mark.parametrize("right", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_searchsorted(right, dtype):
    seq = np.sort(rnd((20,), 21, dtype))
    vals = rnd((3, 7), 22, dtype)
    both(lambda M, s, v: M.searchsorted(s, v, right=right), seq, vals)
    both(lambda M, s, v: M.searchsorted(s, v, side="right" if right else "left",
                                        out_int32=True), seq, vals)
    seq2 = np.sort(rnd((3, 6), 23, dtype), axis=1)
    both(lambda M, s, v: M.searchsorted(s, v, right=right), seq2, vals)
    both(lambda M, s: M.searchsorted(s, 0, right=right), seq)
    unsorted = rnd((3, 6), 24, dtype)
    order = np.argsort(unsorted, axis=1, kind="stable")
    both(lambda M, s, v, o: M.searchsorted(s, v, sorter=o, right=right), unsorted, vals, order)
    both(lambda M, s, v: M.searchsorted(s, v), np.zeros((0,), dtype), vals)


def test_searchsorted_nan_and_errors():
    seq = np.array([[1.0, 3.0, NAN], [2.0, 2.0, 5.0]])
    vals = np.array([[3.0, NAN, 9.0], [2.0, 9.0, -np.inf]])
    both(lambda M, s, v: M.searchsorted(s, v), seq, vals)
    both(lambda M, s, v: M.searchsorted(s, v, right=True), seq, vals)
    both(lambda M, s, v: M.searchsorted(s, v), np.ones((2, 3)), np.ones((3, 3)))
    both(lambda M, s, v: M.searchsorted(s, v, right=True, side="left"), np.ones(3), np.ones(2))
    both(lambda M, s, v: M.searchsorted(s, v), np.array(1.0), np.ones(2))


def test_bucketize():
    b = np.array([-1.0, 0.0, 0.5, 2.0])
    x = rnd((4, 5), 25)
    for right in (False, True):
        both(lambda M, x, b: M.bucketize(x, b, right=right), x, b)
        both(lambda M, x, b: M.bucketize(x, b, out_int32=True, right=right),
             np.array([-1.0, 0.5, 3.0]), b)
    both(lambda M, x, b: M.bucketize(x, b), x, np.ones((2, 2)))  # 2-D boundaries: raises


def test_isin():
    a = rnd((4, 5), 26, "int64")
    t = np.array([0, 2, -1])
    both(lambda M, x, y: M.isin(x, y), a, t)
    both(lambda M, x, y: M.isin(x, y, invert=True), a, t)
    both(lambda M, x, y: M.isin(x, y, assume_unique=True), np.array([1, 2, 3]), t)
    both(lambda M, x: M.isin(x, 2), a)
    both(lambda M, y: M.isin(2, y), t)
    both(lambda M, x, y: M.isin(x, y), np.array([1.0, NAN, 2.5]), np.array([NAN, 2.5]))
    both(lambda M, x, y: M.isin(x, y), np.array([1.0, 2.0]), np.array([2, 3]))
    both(lambda M, x, y: M.isin(x, y), np.zeros((0, 2)), np.ones(3))


# ---- unique / unique_consecutive ---------------------------------------------------------

FLAGS = [{}, {"return_inverse": True}, {"return_counts": True},
         {"return_inverse": True, "return_counts": True}]


@pytest.mark.parametrize("kw", FLAGS)
@pytest.mark.parametrize("dtype", DTYPES + ("bool",))
def test_unique(kw, dtype):
    a = np.round(rnd((4, 6), 27)).astype(dtype)
    both(lambda M, x: M.unique(x, **kw), a)
    both(lambda M, x: x.unique(**kw), a)
    both(lambda M, x: M.unique(x, sorted=False, **kw), a)  # PyTorch on CPU: sorted anyway
    both(lambda M, x: M.unique(x, dim=0, **kw), a[[0, 1, 0, 2]])
    both(lambda M, x: M.unique(x, dim=1, **kw), a[:, [0, 3, 3, 1]])
    both(lambda M, x: M.unique_consecutive(x, **kw), np.array([1, 1, 2, 2, 3, 1, 1, 2], dtype))
    both(lambda M, x: M.unique_consecutive(x, dim=0, **kw), a[[0, 0, 1, 2, 2, 0]])
    both(lambda M, x: M.unique(x, **kw), np.zeros((0, 3), dtype))


def test_unique_nan_and_errors():
    both(lambda M, x: M.unique(x, return_inverse=True, return_counts=True),
         np.array([3.0, NAN, 1.0, NAN, 3.0]))
    both(lambda M, x: M.unique(x, dim=1), np.zeros((0, 3)))  # zero-sized other dim
    both(lambda M, x: M.unique(x, dim=2), np.zeros((2, 3)))


# ---- diff / trace ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES + ("bool", "uint8"))
@pytest.mark.parametrize("args", [(), (2,), (1, 0), (3, -1), (0,)])
def test_diff(dtype, args):
    a = rnd((4, 5), 28, "int64").astype(dtype)
    both(lambda M, x: M.diff(x, *args), a)
    both(lambda M, x, p, q: M.diff(x, *args, prepend=p, append=q) if len(args) < 2 or
         args[1] != 0 else M.diff(x, *args), a, a[:, :2], a[:, :1])


def test_diff_gradients_and_errors():
    x = rnd((4, 5), 29)
    check_grads(lambda t: ag.diff(t, 2, 0), x)
    check_grads(lambda t, p: ag.diff(t, 1, 1, prepend=p), x, x[:, :2])
    grads_match(lambda M, t, p: M.diff(t, 2, -1, append=p), x, x[:, :3])
    both(lambda M, x: M.diff(x), np.array(1.0))
    both(lambda M, x: M.diff(x, -1), np.ones(3))
    both(lambda M, x: M.diff(x, 1, 0, prepend=x), np.zeros((0, 3)))


@pytest.mark.parametrize("dtype", DTYPES + ("bool",))
@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (5, 2), (0, 3), (3,), (2, 2, 2)])
def test_trace(dtype, shape):
    both(lambda M, x: M.trace(x), rnd(shape, 30, "int64").astype(dtype))


def test_trace_gradient():
    check_grads(lambda t: ag.trace(t), rnd((3, 4), 31))
    grads_match(lambda M, t: M.trace(t), rnd((4, 3), 32))


# ---- cov / corrcoef / renorm -------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 6), (6,), (1, 5), (2, 1)])
@pytest.mark.parametrize("correction", [0, 1, 2])
def test_cov(dtype, shape, correction):
    both(lambda M, x: M.cov(x, correction=correction), rnd(shape, 33, dtype), rtol=1e-5)
    if dtype in ("float32", "float64") and len(shape) == 2 and shape[1] > 2:
        both(lambda M, x: M.corrcoef(x), rnd(shape, 34, dtype), rtol=1e-5)


def test_cov_weights():
    x = rnd((3, 5), 35)
    fw = np.array([1, 2, 0, 3, 1])
    aw = np.array([0.5, 1.0, 2.0, 1.0, 0.25])
    for corr in (0, 1):
        both(lambda M, x, f, a: M.cov(x, correction=corr, fweights=f, aweights=a), x, fw, aw)
        both(lambda M, x, f: M.cov(x, correction=corr, fweights=f), x, fw)
        both(lambda M, x, a: M.cov(x, correction=corr, aweights=a), x, aw)
    both(lambda M, x, f: M.cov(x, fweights=f), x, np.array([1, 2, 0, -3, 1]))
    both(lambda M, x, f: M.cov(x, fweights=f), x, np.array([1.0, 2, 0, 3, 1]))
    both(lambda M, x, a: M.cov(x, aweights=a), x, np.array([1.0, 2.0]))
    both(lambda M, x: M.cov(x), np.ones((2, 2, 2)))
    with pytest.warns(UserWarning, match="degrees of freedom"):
        r = ag.cov(ag.ones(2, 1))
    assert np.isinf(r.numpy()).all() or np.isnan(r.numpy()).all()


def test_cov_corrcoef_gradients():
    x = rnd((3, 6), 36)
    aw = np.abs(rnd((6,), 37)) + 0.5
    check_grads(lambda t: ag.cov(t), x)
    check_grads(lambda t, a: ag.cov(t, aweights=a), x, aw)
    check_grads(lambda t: ag.corrcoef(t), x)
    grads_match(lambda M, t, a: M.cov(t, correction=0, aweights=a), x, aw)
    grads_match(lambda M, t: M.corrcoef(t), x)


@pytest.mark.parametrize("dtype", ("float32", "float64"))
@pytest.mark.parametrize("p,dim,maxnorm", [(2, 0, 1.5), (1, 1, 2.0), (3.5, -1, 0.5),
                                           (2, 2, 1.0)])
def test_renorm(dtype, p, dim, maxnorm):
    a = rnd((3, 4, 2), 38, dtype)
    both(lambda M, x: M.renorm(x, p, dim, maxnorm), a, rtol=1e-5)
    both(lambda M, x: x.renorm_(p, dim, maxnorm), a, rtol=1e-5)
    grads_match(lambda M, t: M.renorm(t, p, dim, maxnorm), a.astype(np.float64))
    check_grads(lambda t: ag.renorm(t, p, dim, maxnorm), a)


def test_renorm_errors():
    both(lambda M, x: M.renorm(x, 0, 0, 1.0), np.ones((2, 2)))
    both(lambda M, x: M.renorm(x, 2, 0, -1.0), np.ones((2, 2)))
    both(lambda M, x: M.renorm(x, 2, 0, 1.0), np.ones(3))
    both(lambda M, x: M.renorm(x, 2, 0, 1.0), np.ones((2, 2), np.int64))
    both(lambda M, x: M.renorm(x, 2, 0, 1.0), np.array([[NAN, 1.0], [3.0, 4.0]]))


# ---- trapezoid / cumulative_trapezoid / gradient -----------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_trapezoid(dtype):
    y = rnd((3, 5), 39, dtype)
    x1 = np.cumsum(np.abs(rnd((5,), 40))).astype(dtype)
    xs = np.cumsum(np.abs(rnd((3, 5), 41)), axis=1).astype(dtype)
    for op in ("trapezoid", "cumulative_trapezoid"):
        both(lambda M, y: getattr(M, op)(y), y, rtol=1e-5)
        both(lambda M, y: getattr(M, op)(y, dx=0.5, dim=0), y, rtol=1e-5)
        both(lambda M, y: getattr(M, op)(y, 2, dim=0), y, rtol=1e-5)  # a number for x: dx
        both(lambda M, y, x: getattr(M, op)(y, x), y, x1, rtol=1e-5)
        both(lambda M, y, x: getattr(M, op)(y, x, dim=1), y, xs, rtol=1e-5)
        both(lambda M, y: getattr(M, op)(y), np.zeros((3, 0), dtype))
        both(lambda M, y, x: getattr(M, op)(y, x), y, x1[:3])  # x of the wrong size
    both(lambda M, y: M.trapz(y, dx=2.0), y, rtol=1e-5)
    both(lambda M, y, x: M.trapz(y, x), y, x1, rtol=1e-5)


def test_trapezoid_gradients():
    y = rnd((3, 5), 42)
    x = np.cumsum(np.abs(rnd((5,), 43)))
    for op in ("trapezoid", "cumulative_trapezoid"):
        check_grads(lambda t, s: getattr(ag, op)(t, s), y, x)
        check_grads(lambda t: getattr(ag, op)(t, dx=0.3, dim=0), y)
        grads_match(lambda M, t, s: getattr(M, op)(t, s), y, x)


@pytest.mark.parametrize("dtype", ("float32", "float64", "int64", "int32"))
@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient(dtype, edge_order):
    f = rnd((4, 6), 44, dtype)
    both(lambda M, x: M.gradient(x, edge_order=edge_order), f, rtol=1e-5)
    both(lambda M, x: M.gradient(x, spacing=2.0, dim=1, edge_order=edge_order), f, rtol=1e-5)
    both(lambda M, x: M.gradient(x, spacing=[0.5, 3.0], dim=[1, 0], edge_order=edge_order), f,
         rtol=1e-5)
    c0 = np.cumsum(np.abs(rnd((4,), 45)) + 0.1)
    c1 = np.cumsum(np.abs(rnd((6,), 46)) + 0.1)
    both(lambda M, x, a, b: M.gradient(x, spacing=[a, b], edge_order=edge_order), f, c0, c1,
         rtol=1e-5)


def test_gradient_gradients_and_errors():
    f = rnd((4, 6), 47)
    c1 = np.cumsum(np.abs(rnd((6,), 48)) + 0.1)
    check_grads(lambda t: ag.gradient(t, edge_order=2), f)
    check_grads(lambda t, c: ag.gradient(t, spacing=[c], dim=1), f, c1)
    grads_match(lambda M, t: M.gradient(t, spacing=[2.0, 0.5], edge_order=2), f)
    both(lambda M, x: M.gradient(x, edge_order=3), f)
    both(lambda M, x: M.gradient(x, edge_order=2), np.ones((2, 4)))
    both(lambda M, x: M.gradient(x, spacing=[1.0, 2.0, 3.0]), f)
    both(lambda M, x: M.gradient(x), np.ones(4, np.uint8))


# ---- hypothesis: shapes, dims, dtypes ----------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(shape=st.lists(st.integers(0, 4), min_size=1, max_size=3), seed=st.integers(0, 99),
       dtype=st.sampled_from(DTYPES), data=st.data())
def test_scans_hypothesis(shape, seed, dtype, data):
    a = rnd(tuple(shape), seed, dtype)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    both(lambda M, x: M.cummax(x, dim), a)
    both(lambda M, x: M.cummin(x, dim), a)
    both(lambda M, x: M.diff(x, 1, dim), a)
    both(lambda M, x: M.count_nonzero(x, dim), a)
    both(lambda M, x: M.unique(x, return_inverse=True, return_counts=True), a)
    if dtype.startswith("float"):
        both(lambda M, x: M.logcumsumexp(x, dim), a, rtol=1e-5)
        both(lambda M, x: M.nansum(x, dim), a, rtol=1e-5)
        both(lambda M, x: M.nanmean(x, dim, True), a, rtol=1e-5)


def test_quantile_ranks_in_the_input_dtype_as_torch():
    """The rank ``q * (n - 1)`` is computed in the input's dtype: float32 0.1 * 5 is 0.5
    exactly, which "nearest" rounds (half to even) to 0; float64 arithmetic gave 1."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for n in (2, 3, 6, 11, 21):
        x = rng.standard_normal(n).astype(np.float32)
        q = np.array([0.05, 0.1, 0.15, 0.3, 0.5, 0.7, 0.9], dtype=np.float32)
        for mode in ("nearest", "lower", "higher", "linear", "midpoint"):
            for fn in ("quantile", "nanquantile"):
                want = getattr(torch, fn)(torch.tensor(x), torch.tensor(q), interpolation=mode)
                got = getattr(ag, fn)(ag.tensor(x), ag.tensor(q), interpolation=mode)
                np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
                s = getattr(ag, fn)(ag.tensor(x), 0.1, interpolation=mode)
                np.testing.assert_allclose(
                    s.numpy(), getattr(torch, fn)(torch.tensor(x), 0.1,
                                                  interpolation=mode).numpy(), rtol=1e-6)
