"""Scans, sorting, searching and statistics (cummax, unique, histc, searchsorted...).

Differentiable ops are either ``Op`` subclasses whose backward is written with op wrappers
(so it runs on raw arrays or, under ``create_graph=True``, on Tensors), or composites of
differentiable ops (``diff``, ``cov``, ``trapezoid``, ``gradient``...), which get their
gradients of every order from the ops they are made of. Selections (``cummax``, ``mode``,
``nanmedian``) go through ``TakeAlongDim``: the gradient flows to the returned index only.
The rest (``unique``, ``bincount``, ``histc``, ``searchsorted``...) returns integer or
counted results without a gradient, as in PyTorch.
"""

from __future__ import annotations

import builtins
import math
import numbers
import warnings

import numpy as np

from ..backend import get_array_module
from ..dtypes import get_default_dtype
from ..function import Op, named
from ..registry import register
from ..return_types import structseq
from ..tensor import Tensor, _make
from .elementwise import abs as _abs
from .elementwise import cast, clamp, exp, isnan, log, ne, sqrt, where
from .indexing import sort, take_along_dim
from .inplace import apply_inplace
from .linalg import matmul
from .reduction import (
    Median,
    TakeAlongDim,
    _check_nonempty,
    _data,
    _dim1,
    _dim_reduce,
    _dims,
    _wrap,
    amax,
    amin,
    cumprod,
    cumsum,
    norm,
)
from .reduction import prod as _prod
from .reduction import sum as _sum
from .shape import cat, flip, movedim, reshape, stack

_SC = "scan"
_bmax, _bmin = builtins.max, builtins.min

_cummax_rt = structseq("cummax", ["values", "indices"])
_cummin_rt = structseq("cummin", ["values", "indices"])
_aminmax_rt = structseq("aminmax", ["min", "max"])
_nanmedian_rt = structseq("nanmedian", ["values", "indices"])
_mode_rt = structseq("mode", ["values", "indices"])
_histogram_rt = structseq("histogram", ["hist", "bin_edges"])
_histogramdd_rt = structseq("histogramdd", ["hist", "bin_edges"])


def _xp_of(x):
    return get_array_module(_data(x))


def _along(xp, n: int, d: int, ndim: int):
    """``arange(n)`` shaped to broadcast along dim ``d`` of an ``ndim``-d array."""
    sh = [1] * ndim
    sh[d] = n
    return xp.arange(n, dtype=np.int64).reshape(sh)


def _sl(ndim: int, d: int, s: slice):
    idx = [slice(None)] * ndim
    idx[d] = s
    return tuple(idx)


# ---- cummax / cummin ---------------------------------------------------------------------

def _cum_scan(a, d: int, fn: str):
    """(running max/min along ``d``, its indices): the latest position holding the running
    extreme (PyTorch's ``>=`` rule); a NaN is the extreme from where it appears on."""
    xp = get_array_module(a)
    acc = getattr(xp, "maximum" if fn == "max" else "minimum").accumulate(a, axis=d)
    mask = a == acc
    if a.dtype.kind in "fV":
        nan = xp.isnan(acc)
        if bool(nan.any()):
            mask |= xp.isnan(a) & nan
    pos = xp.where(mask, _along(xp, a.shape[d], d, a.ndim), 0)
    return acc, xp.maximum.accumulate(pos, axis=d)


def _cumext(x, dim, op, fn, rt):
    d = _dim1(dim, x.ndim, op)
    if x.ndim == 0:
        v, i = _cumext(reshape(x, (1,)), 0, op, fn, rt)
        return rt(reshape(v, ()), _wrap(x, _data(i).reshape(())))
    xd = _data(x)
    if xd.size == 0:
        xp = get_array_module(xd)
        return rt(x * 1 if xd.dtype.kind != "b" else x, _wrap(x, xp.zeros(xd.shape, np.int64)))
    _, idx = _cum_scan(xd, d, fn)
    return rt(TakeAlongDim.apply(x, index=idx, axis=d), _wrap(x, idx))


@register(family=_SC, op=TakeAlongDim)
def cummax(x, dim: int):
    """``(values, indices)`` of the running maximum along ``dim``; the gradient goes to the
    element each running maximum was taken from."""
    return _cumext(x, dim, "cummax", "max", _cummax_rt)


@register(family=_SC, op=TakeAlongDim)
def cummin(x, dim: int):
    """``(values, indices)`` of the running minimum along ``dim`` (see ``cummax``)."""
    return _cumext(x, dim, "cummin", "min", _cummin_rt)


# ---- logcumsumexp ------------------------------------------------------------------------

class LogCumSumExp(Op):
    """``log(cumsum(exp(x)))`` along ``axis``, computed stably with ``logaddexp``. The
    backward is PyTorch's: reverse log-cum-sum-exps of the positive and the negative parts
    of ``log|gy| - y``, so it neither overflows nor loses the gradient's sign."""

    @staticmethod
    def forward(ctx, x, axis):
        xp = get_array_module(x)
        ctx.axis = axis
        x16 = x.dtype == np.float16
        a = x.astype(np.float32) if x16 else x
        acc = getattr(xp.logaddexp, "accumulate", None)
        with np.errstate(all="ignore"):
            if acc is not None:
                y = acc(a, axis=axis)
            else:  # no ufunc.accumulate (CuPy): shift by the slice's finite maximum
                m = xp.nan_to_num(a.max(axis=axis, keepdims=True), posinf=0, neginf=0)
                y = xp.log(xp.cumsum(xp.exp(a - m), axis=axis)) + m
        y = y.astype(x.dtype, copy=False)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        ax = ctx.axis
        lowest = float(np.finfo(np.dtype(gy.dtype)).min)
        pos, neg = gy > 0, gy < 0
        la = log(where(pos | neg, _abs(gy), 1.0))

        def rev(t):
            return flip(LogCumSumExp.apply(flip(t, (ax,)), axis=ax), (ax,))

        with np.errstate(over="ignore", invalid="ignore"):  # inf gradients, as PyTorch
            out_p = exp(rev(where(pos, la, lowest) - y) + x)
            out_n = exp(rev(where(neg, la, lowest) - y) + x)
            return out_p - out_n


@register(family=_SC, op=LogCumSumExp)
def logcumsumexp(x, dim: int):
    """``log(cumsum(exp(x), dim))``, computed without overflow (floating dtypes only)."""
    d = _dim1(dim, x.ndim, "logcumsumexp")
    if x.dtype.kind not in "fcV":
        raise NotImplementedError(f"\"logcumsumexp_out_cpu\" not implemented for "
                                  f"'{x.dtype}': logcumsumexp takes floating tensors")
    if x.ndim == 0:
        return reshape(LogCumSumExp.apply(reshape(x, (1,)), axis=0), ())
    return LogCumSumExp.apply(x, axis=d)


# ---- in-place cumulative methods ---------------------------------------------------------

def _same_dtype(op, self, dtype):
    if dtype is not None and np.dtype(dtype) != self.dtype:
        raise RuntimeError(f"{op}: Bad in-place call: input tensor dtype {self.dtype} and "
                           f"output tensor dtype {np.dtype(dtype)} should match")


@register("cumsum_", family=_SC, function=False)
def cumsum_(self, dim: int, *, dtype=None):
    """In-place ``cumsum`` along ``dim`` (the result is written into this tensor)."""
    if self.dtype.kind == "b" and dtype is None:  # int64 results cannot go back into bool
        raise NotImplementedError("\"cumsum_out_cpu\" not implemented for 'Bool'")
    _same_dtype("cumsum_", self, dtype)
    return apply_inplace(self, cumsum, (dim,), {"dtype": dtype})


@register("cumprod_", family=_SC, function=False)
def cumprod_(self, dim: int, *, dtype=None):
    """In-place ``cumprod`` along ``dim`` (the result is written into this tensor)."""
    if self.dtype.kind == "b" and dtype is None:  # int64 results cannot go back into bool
        raise NotImplementedError("\"cumprod_out_cpu\" not implemented for 'Bool'")
    _same_dtype("cumprod_", self, dtype)
    return apply_inplace(self, cumprod, (dim,), {"dtype": dtype})


# ---- aminmax / nansum / nanmean / count_nonzero ------------------------------------------

@register(family=_SC, op=None)
def aminmax(x, *, dim=None, keepdim: bool = False):
    """``(min, max)`` over ``dim`` (all elements when None), as ``amin`` and ``amax``."""
    if dim is None:
        if 0 in x.shape:
            raise RuntimeError(
                "aminmax(): cannot compute aminmax over an empty dimension as the operation "
                f"has no identity (input shape {list(x.shape)}); pass dim=...")
        if keepdim:
            return _aminmax_rt(reshape(amin(x), (1,) * x.ndim), reshape(amax(x), (1,) * x.ndim))
        return _aminmax_rt(amin(x), amax(x))
    d = _dim1(dim, x.ndim, "aminmax")
    if x.ndim:
        _check_nonempty("aminmax", x.shape, (d,))
    return _aminmax_rt(amin(x, d, keepdim), amax(x, d, keepdim))


class NanToZero(Op):
    """NaNs replaced by zeros; the gradient is ``gy * ~isnan(x)`` (PyTorch's nansum
    backward: an infinite incoming gradient gives NaN at the NaNs, as there)."""

    @staticmethod
    def forward(ctx, x):
        xp = get_array_module(x)
        nan = xp.isnan(x)
        if not bool(nan.any()):  # nothing to replace: the input, gradient passed through
            ctx.keep = None
            return x
        ctx.keep = (~nan).astype(x.dtype)
        return xp.where(nan, x.dtype.type(0), x)

    @staticmethod
    def backward(ctx, gy):
        if ctx.keep is None:
            return gy
        with np.errstate(invalid="ignore"):  # an infinite gradient at a NaN: NaN
            return gy * ctx.keep


@register(family=_SC, op=NanToZero)
def nansum(x, dim=None, keepdim: bool = False, *, dtype=None):
    """Sum over ``dim`` treating NaN as zero (NaN inputs get a zero gradient)."""
    if x.dtype.kind in "fV":
        x = NanToZero.apply(x)
    return _sum(x, dim, keepdim, dtype=dtype)


@register(family=_SC, op=None)
def nanmean(x, dim=None, keepdim: bool = False, *, dtype=None):
    """Mean over ``dim`` of the non-NaN elements (NaN where all are NaN); floating only."""
    if x.dtype.kind not in "fcV":
        raise RuntimeError("nanmean(): expected input to have floating point or complex "
                           f"dtype but got {x.dtype}")
    if dtype is not None:
        x = cast(x, dtype)
    keep = ~isnan(x)
    cnt = _sum(keep, dim, keepdim)
    with np.errstate(invalid="ignore", divide="ignore"):  # all NaN: NaN, silently
        return nansum(x, dim, keepdim) / cast(cnt, x.dtype)


@register(family=_SC, differentiable=False)
def count_nonzero(x, dim=None):
    """Number of nonzero elements over ``dim`` (an int, a tuple, or None for all); int64."""
    xd = _data(x)
    axes = _dims(dim, xd.ndim, "count_nonzero")
    xp = get_array_module(xd)
    r = xp.asarray(xp.count_nonzero(xd, axis=axes)).astype(np.int64)
    return _wrap(x, r)


# ---- nanmedian / mode / msort ------------------------------------------------------------

def _nanmedian_index(a, d):
    xp = get_array_module(a)
    kw = {"kind": "stable"} if xp is np else {}
    order = xp.argsort(a, axis=d, **kw)  # NaN sorts last
    if a.dtype.kind in "fV":
        cnt = (~xp.isnan(a)).sum(axis=d, keepdims=True)
    else:
        cnt = xp.full(order.shape[:d] + (1,) + order.shape[d + 1:], a.shape[d], np.int64)
    k = xp.maximum(cnt - 1, 0) // 2  # no non-NaN element: the first (a NaN)
    return xp.take_along_axis(order, k, axis=d)


@register(family=_SC, op=TakeAlongDim)
def nanmedian(x, dim=None, keepdim: bool = False):
    """The lower median ignoring NaNs: ``nanmedian(x)`` (0-d), or ``(values, indices)``
    along ``dim``; NaN where a slice holds only NaNs."""
    if x.dtype.kind == "b":
        raise NotImplementedError("nanmedian(): not implemented for bool tensors")
    if dim is None:
        xd = _data(x)
        if xd.size == 0:  # NaN (an integer dtype: NaN converted, as PyTorch)
            xp = get_array_module(xd)
            with np.errstate(invalid="ignore"):
                return _wrap(x, xp.asarray(xp.nan).astype(xd.dtype))
        return Median.apply(x, index_fn=_nanmedian_index)
    return _dim_reduce(x, dim, keepdim, "nanmedian", _nanmedian_index, _nanmedian_rt)


def _mode_index(a, d):
    """Position of the most frequent value along ``d`` (the smallest of tied values; its
    last occurrence, as PyTorch). Runs of equal values in the stably sorted slice are
    counted with a running maximum of their start positions."""
    xp = get_array_module(a)
    kw = {"kind": "stable"} if xp is np else {}
    order = xp.argsort(a, axis=d, **kw)
    s = xp.take_along_axis(a, order, axis=d)
    n = a.shape[d]
    new = xp.ones(s.shape, dtype=bool)
    new[_sl(s.ndim, d, slice(1, None))] = s[_sl(s.ndim, d, slice(1, None))] != \
        s[_sl(s.ndim, d, slice(None, -1))]
    ar = _along(xp, n, d, s.ndim)
    start = xp.maximum.accumulate(xp.where(new, ar, 0), axis=d)
    cnt = ar - start
    pos = xp.expand_dims(cnt.argmax(axis=d), d)
    return xp.take_along_axis(order, pos, axis=d)


@register(family=_SC, op=TakeAlongDim)
def mode(x, dim: int = -1, keepdim: bool = False):
    """``(values, indices)``: the most frequent value along ``dim`` (the smallest among
    ties) and the index of its last occurrence; the gradient goes to that element."""
    if x.ndim and x.shape[_dim1(dim, x.ndim, "mode")] == 0:
        raise IndexError(f"mode(): Expected reduction dim {dim} to have non-zero size")
    return _dim_reduce(x, dim, keepdim, "mode", _mode_index, _mode_rt)


@register(family=_SC, op=None)
def msort(x):
    """Sorted along the first dim (``sort(x, 0).values``); differentiable."""
    return sort(x, 0).values


_INTERP = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(x, q, dim, keepdim, interpolation, ignore_nan, op):
    """PyTorch's quantile_compute: sort (NaN last), rank ``q * (n - 1)`` (n: the non-NaN
    count with ``ignore_nan``; a slice with a NaN gives NaN otherwise), gather below and
    above and ``lerp``. Differentiable in ``x`` (a gather of the sorted values)."""
    if x.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype")
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise RuntimeError(f"{op}() q must be a scalar or 1D tensor")
        if q.dtype != x.dtype:
            raise RuntimeError(f"{op}() q tensor must be same dtype as the input tensor")
        qd, q_vec = q._data.astype(np.float64), q.ndim == 1
    else:
        qd, q_vec = np.asarray(float(q)), False
    if interpolation not in _INTERP:
        raise RuntimeError(f"{op}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    if x.numel() == 0:
        raise RuntimeError(f"{op}() input tensor must be non-empty")
    if qd.size and not bool(((qd >= 0) & (qd <= 1)).all()):
        bad = qd[~((qd >= 0) & (qd <= 1))].reshape(-1)[0]
        raise RuntimeError(f"{op}() q must be in the range [0, 1] but got {bad:g}")
    if dim is None:
        src, d = reshape(x, (-1,)), None
    else:
        d = _dim1(dim, x.ndim, op)
        src = x if x.ndim else reshape(x, (1,))
        src = movedim(src, d, -1)
    srt = sort(src, -1).values
    sd = _data(srt)
    xp = get_array_module(sd)
    n = sd.shape[-1]
    # the ranks are computed in the input's dtype, as PyTorch's: for float32, 0.1 * 5 is
    # 0.5 exactly and "nearest" rounds it to 0 (in float64 it is a little over 0.5)
    ft = sd.dtype.type
    qv = xp.asarray(qd.reshape(-1)).astype(sd.dtype)
    nan = xp.isnan(sd)
    if ignore_nan:
        cnt = (~nan).sum(axis=-1, keepdims=True)
        ranks = qv * (cnt - 1).astype(sd.dtype)
        ranks = xp.where(ranks < 0, ft(0), ranks)
    else:
        ranks = xp.broadcast_to(qv * ft(n - 1), sd.shape[:-1] + qv.shape)
        ranks = xp.where(nan.any(axis=-1, keepdims=True), ft(n - 1), ranks)
    if interpolation == "lower":
        ranks = xp.floor(ranks)
    elif interpolation == "higher":
        ranks = xp.ceil(ranks)
    elif interpolation == "nearest":
        ranks = xp.round(ranks)  # half to even, as PyTorch's round_
    below = ranks.astype(np.int64)
    out = take_along_dim(srt, _make(below), -1)
    if interpolation in ("linear", "midpoint"):
        above = xp.ceil(ranks).astype(np.int64)
        hi = take_along_dim(srt, _make(above), -1)
        w = xp.full(ranks.shape, 0.5) if interpolation == "midpoint" else ranks - below
        w = w.astype(sd.dtype)  # (ranks - below: float32 minus int64 is float64 in NumPy)
        small = w < 0.5
        # PyTorch's lerp: self + w * (end - self) below 1/2, end - (end - self) * (1 - w)
        out = where(small, out + (hi - out) * w, hi - (hi - out) * (1 - w))
    # (..., nq): the q dim goes first; keepdim keeps the reduced dims as size 1
    out = movedim(out, -1, 0)
    rest = tuple(out.shape[1:])
    if keepdim:
        if d is None:
            rest = (1,) * x.ndim
        elif x.ndim:
            rest = tuple(rest[:d]) + (1,) + tuple(rest[d:])
    return reshape(out, ((qv.shape[0],) if q_vec else ()) + rest)


@register(family=_SC, op=None, arity=2)
def quantile(x, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear"):
    """The ``q``-quantiles (a number or a 1-D tensor in [0, 1]; a 1-D ``q`` adds a first
    dim) of all elements or along ``dim``; ``interpolation`` between the two nearest
    ranks: linear, lower, higher, midpoint or nearest. NaN where a slice has a NaN."""
    return _quantile(x, q, dim, keepdim, interpolation, False, "quantile")


@register(family=_SC, op=None, arity=2)
def nanquantile(x, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear"):
    """``quantile`` ignoring NaNs (NaN where a slice holds only NaNs)."""
    return _quantile(x, q, dim, keepdim, interpolation, True, "nanquantile")


# ---- bincount / histc / histogram --------------------------------------------------------

@register(family=_SC, differentiable=False, arity=2)
def bincount(x, weights=None, minlength: int = 0):
    """Counts of each value of a 1-D non-negative integer tensor (int64), or the sums of
    ``weights`` per value (float32/float64 weights keep their dtype, others give float64)."""
    xd = _data(x)
    xp = get_array_module(xd)
    if xd.dtype.kind not in "iu":
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{xd.dtype}': "
                                  "bincount takes integer tensors")
    if xd.ndim != 1:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if xd.size and int(xd.min()) < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        r = xp.bincount(xd.astype(np.int64), minlength=minlength).astype(np.int64)
        return _wrap(x, r)
    wd = _data(weights)
    if wd.ndim != 1 or wd.shape[0] != xd.shape[0]:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    out_dt = wd.dtype if wd.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    r = xp.bincount(xd.astype(np.int64), weights=wd.astype(np.float64), minlength=minlength)
    return _wrap(x, r.astype(out_dt))


def _bin_positions(a, edges, how: str):
    """(bin index, in-range mask) of every element of ``a`` for ``edges`` (the last bin is
    closed; elements outside the edges, NaN included, get the index ``bins``), as
    PyTorch's histogram kernel: ``how`` is "linear" (histc: the position
    ``(a - lo) * bins / (hi - lo)`` in the input's dtype), "local" (that position corrected
    by the upper bound among the neighbouring edges) or "search" (binary search)."""
    xp = get_array_module(a)
    nb = edges.shape[0] - 1
    lo, hi = edges[0], edges[-1]
    with np.errstate(all="ignore"):
        inside = (a >= lo) & (a <= hi)
        if how == "search":
            pos = xp.searchsorted(edges, a, side="right") - 1
        else:
            lin = (a - lo) * a.dtype.type(nb) / (hi - lo)
            pos = xp.where(inside, lin, 0).astype(np.int64)
            if how == "local":  # upper_bound(edges[pos - 1 : pos + 2], a) - 1
                pos = xp.minimum(pos, nb)
                start = xp.maximum(pos - 1, 0)
                stop = xp.minimum(pos + 2, nb + 1)
                ext = xp.concatenate([edges, xp.full(3, xp.inf, dtype=edges.dtype)])
                cnt = xp.zeros(pos.shape, dtype=np.int64)
                for k in builtins.range(3):  # three neighbours, each a vector operation
                    cnt += ((start + k) < stop) & (ext[start + k] <= a)
                pos = start + cnt - 1
    pos = xp.where(pos >= nb, nb - 1, pos)
    return xp.where(inside, pos, nb), inside


def _hist(a, edges, weights, how: str, out_dt):
    xp = get_array_module(a)
    nb = edges.shape[0] - 1
    a = a.reshape(-1)
    pos, _ = _bin_positions(a, edges, how)
    w = None if weights is None else weights.reshape(-1).astype(np.float64)
    h = xp.bincount(pos, weights=w, minlength=nb + 1)[:nb]  # bin nb: the outside
    return h.astype(out_dt)


def _float_only(op, x, half=False):
    if x.dtype.kind not in "fV" or (x.dtype == np.float16 and not half):
        raise NotImplementedError(f"\"{op}\" not implemented for '{x.dtype}': {op} takes "
                                  "floating tensors; convert with .float() first")


@register(family=_SC, differentiable=False)
def histc(x, bins: int = 100, min=0, max=0):  # noqa: A002
    """Histogram of ``bins`` equal bins over ``[min, max]`` (the data's range when both
    are 0); elements outside are ignored; the result has the input's dtype."""
    xd = _data(x)
    xp = get_array_module(xd)
    _float_only("histogram_cpu", xd, half=True)
    if bins <= 0:
        raise RuntimeError("torch.histc(): bins must be > 0")
    lo, hi = xd.dtype.type(min), xd.dtype.type(max)
    if min == max and xd.size:
        lo, hi = xd.min(), xd.max()
    if not (math.isfinite(float(lo)) and math.isfinite(float(hi))):
        raise RuntimeError(f"torch.histc: range of [{lo}, {hi}] is not finite")
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    edges = xp.linspace(lo, hi, bins + 1, dtype=xd.dtype)
    return _wrap(x, _hist(xd, edges, None, "linear", xd.dtype))


def _edges(op, col, bins, rng, dtype):
    """(bin edges, how to find the bins) for the values ``col``: ``bins`` a tensor of
    edges, or a number of equal bins over ``rng`` (the data's range by default; a
    single value v: [v - 0.5, v + 0.5]; no data: [0, 1])."""
    xp = get_array_module(col)
    if isinstance(bins, Tensor) or hasattr(bins, "shape"):
        edges = _data(bins).astype(dtype)
        if edges.ndim != 1 or edges.shape[0] < 1:
            raise RuntimeError(f"torch.{op}(): bins tensor should have one dimension and at "
                               "least 1 element")
        return edges, "search"
    if isinstance(bins, bool) or not isinstance(bins, numbers.Integral):
        raise TypeError(f"{op}(): bins must be an int or a Tensor, got {bins!r}")
    if bins <= 0:
        raise RuntimeError(f"torch.{op}(): bins must be > 0, but got {bins}")
    if rng is not None:
        lo, hi = float(rng[0]), float(rng[1])
    elif col.size:
        if col.dtype == np.float16:  # PyTorch's aminmax of the data has no Half kernel
            raise NotImplementedError(f"\"{op}\" not implemented for 'Half' without a range")
        lo, hi = float(col.min()), float(col.max())
    else:  # an empty input: PyTorch's default range
        lo, hi = 0.0, 1.0
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.{op}(): range of [{lo}, {hi}] is not finite")
    if lo > hi:
        raise RuntimeError(f"torch.{op}(): min should not exceed max, but got min {lo} max "
                           f"{hi}")
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    return xp.linspace(lo, hi, int(bins) + 1).astype(dtype), "local"


@register(family=_SC, differentiable=False, arity=2)
def histogram(x, bins=100, *, range=None, weight=None, density: bool = False):  # noqa: A002
    """``(hist, bin_edges)``: ``bins`` equal bins over ``range`` (the data's range by
    default), or the given 1-D tensor of increasing edges; ``weight`` per element;
    ``density`` divides by the total and the bin widths."""
    xd = _data(x)
    xp = get_array_module(xd)
    _float_only("histogramdd", xd, half=True)
    wd = None if weight is None else _data(weight)
    if wd is not None and wd.shape != xd.shape:
        raise RuntimeError("torch.histogram: if weight tensor is provided, it should have "
                           "the same shape as the input tensor")
    edges, how = _edges("histogram", xd.reshape(-1), bins, range, xd.dtype)
    nb = _bmax(edges.shape[0] - 1, 0)
    if nb == 0:
        h = xp.zeros((0,), dtype=xd.dtype)
    else:
        h = _hist(xd, edges, wd, how, np.float64)
        if density:
            with np.errstate(all="ignore"):
                h = h / (h.sum() * xp.diff(edges.astype(np.float64)))
        h = h.astype(xd.dtype)
    if not isinstance(x, Tensor):
        return _histogram_rt(h, edges)
    return _histogram_rt(_make(h), _make(xp.asarray(edges)))


@register(family=_SC, differentiable=False, method=False)
def histogramdd(x, bins=10, *, range=None, weight=None, density: bool = False):  # noqa: A002
    """``(hist, bin_edges)`` of the points in the rows of ``x`` (its last dim holds the D
    coordinates): ``bins`` is an int, D ints or D tensors of edges; ``range`` is
    ``[lo_0, hi_0, lo_1, hi_1, ...]``; ``weight`` one per point; ``density`` divides by
    the total and the bin volumes. ``bin_edges`` is a tuple of D tensors."""
    xd = _data(x)
    xp = get_array_module(xd)
    if xd.ndim == 0:
        raise IndexError("Dimension specified as -1 but tensor has no dimensions")
    _float_only("histogramdd", xd, half=True)
    if xd.ndim < 2:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 2 dimensions")
    dims = xd.shape[-1]
    pts = xd.reshape(-1, dims)
    if isinstance(bins, (list, tuple)):
        if len(bins) != dims:
            raise RuntimeError(f"torch.histogramdd: expected {dims} sequences of bin edges for "
                               f"each of the {dims} dimensions of the input, but got "
                               f"{len(bins)}")
        per = list(bins)
    else:
        per = [bins] * dims
    if range is not None and len(range) != 2 * dims:
        raise RuntimeError(f"torch.histogramdd: for a {dims}-dimensional histogram, range "
                           f"should have {2 * dims} elements, but got {len(range)}")
    wd = None if weight is None else _data(weight).reshape(-1)
    if wd is not None and wd.shape[0] != pts.shape[0]:
        raise RuntimeError("torch.histogramdd: if weight tensor is provided it should have "
                           "the same shape as the input tensor excluding its innermost "
                           "dimension")
    edges, flat = [], None
    inside = xp.ones(pts.shape[0], dtype=bool)
    for i in builtins.range(dims):
        col = pts[:, i]
        rng = None if range is None else (range[2 * i], range[2 * i + 1])
        e, how = _edges("histogramdd", col, per[i], rng, xd.dtype)
        edges.append(e)
        nb = _bmax(e.shape[0] - 1, 0)
        if nb == 0:
            pos, ok = xp.zeros(col.shape, np.int64), xp.zeros(col.shape, bool)
        else:
            pos, ok = _bin_positions(col, e, how)
        inside &= ok
        flat = pos if flat is None else flat * nb + pos
    shape = tuple(_bmax(e.shape[0] - 1, 0) for e in edges)
    size = math.prod(shape)
    if size == 0:
        h = xp.zeros(shape, dtype=np.float64)
    else:
        w = None if wd is None else wd.astype(np.float64)[inside]
        h = xp.bincount(flat[inside], weights=w, minlength=size)[:size].reshape(shape)
        if density:
            vol = 1.0
            for i, e in enumerate(edges):
                sh = [1] * dims
                sh[i] = shape[i]
                vol = vol * xp.diff(e.astype(np.float64)).reshape(sh)
            with np.errstate(all="ignore"):
                h = h / (h.sum() * vol)
    h = h.astype(xd.dtype)
    if not isinstance(x, Tensor):
        return _histogramdd_rt(h, tuple(edges))
    return _histogramdd_rt(_make(h), tuple(_make(xp.asarray(e)) for e in edges))


# ---- searchsorted / bucketize / isin -----------------------------------------------------

def _binary_search(seq, v, right: bool):
    """PyTorch's lower/upper bound, vectorised: ``seq`` (rows, n), ``v`` (rows, m); the
    same comparisons (``!(mid >= v)`` / ``!(mid > v)``), so NaNs land where PyTorch's."""
    xp = get_array_module(seq)
    rows, n = seq.shape
    lo = xp.zeros(v.shape, dtype=np.int64)
    hi = xp.full(v.shape, n, dtype=np.int64)
    if n == 0:
        return lo
    for _ in builtins.range(int(n).bit_length() + 1):
        active = lo < hi
        if not bool(active.any()):
            break
        mid = lo + ((hi - lo) >> 1)
        mv = xp.take_along_axis(seq, xp.minimum(mid, n - 1), axis=1)
        with np.errstate(invalid="ignore"):
            go = ~(mv > v) if right else ~(mv >= v)
        lo = xp.where(active & go, mid + 1, lo)
        hi = xp.where(active & ~go, mid, hi)
    return lo


@register(family=_SC, differentiable=False, arity=2, method=False)
def searchsorted(sorted_sequence, input, *, out_int32: bool = False,  # noqa: A002
                 right: bool = False, side=None, sorter=None):
    """Indices where the values of ``input`` would be inserted into the last dim of
    ``sorted_sequence`` to keep it sorted (``right``/``side='right'``: after equal
    values); a 1-D sequence serves every value, otherwise its leading dims match
    ``input``'s. ``sorter`` sorts an unsorted sequence. int64 (int32 with
    ``out_int32``)."""
    sd = _data(sorted_sequence)
    xp = get_array_module(sd)
    scalar = not isinstance(input, Tensor) and not hasattr(input, "shape")
    vd = xp.asarray(input) if scalar else _data(input)
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but "
                               f"got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites,"
                               " got side of left while right was True")
        right = side == "right"
    if sd.dtype.kind == "b" and vd.dtype.kind == "b":
        raise NotImplementedError("\"searchsorted_out_cpu\" not implemented for 'Bool'")
    if sd.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive "
                           "dimension, but got 0 dimension")
    if sd.ndim > 1 and (scalar or sd.shape[:-1] != vd.shape[:-1] or vd.ndim != sd.ndim):
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
            "dimensions of boundaries tensor and input value tensor must match, but we got "
            f"boundaries tensor {list(sd.shape)} and input value tensor {list(vd.shape)}")
    if sorter is not None:
        so = _data(sorter)
        if so.shape != sd.shape or so.dtype != np.int64:
            raise RuntimeError("torch.searchsorted(): sorter must be an int64 tensor of the "
                               "boundaries' shape")
        if so.size and (int(so.min()) < 0 or int(so.max()) >= sd.shape[-1]):
            raise RuntimeError("torch.searchsorted(): sorter index out of range")
        sd = xp.take_along_axis(sd, so, axis=-1)
    if sd.dtype != vd.dtype:  # compared in the common dtype
        common = np.promote_types(sd.dtype, vd.dtype)
        sd, vd = sd.astype(common), vd.astype(common)
    n = sd.shape[-1]
    if sd.size == 0 or vd.size == 0:  # nothing to search in, or nothing to search
        r = xp.zeros(vd.shape, dtype=np.int32 if out_int32 else np.int64)
        return _make(xp.asarray(r)) if isinstance(sorted_sequence, Tensor) or isinstance(
            input, Tensor) else r
    rows = sd.reshape(-1, n)
    vals = vd.reshape(1, -1) if sd.ndim == 1 else vd.reshape(rows.shape[0], -1)
    with np.errstate(invalid="ignore"):
        # sorted without NaN (the usual case): NumPy's binary search gives PyTorch's answer
        fast = n > 0 and bool((rows[:, 1:] >= rows[:, :-1]).all()) and (
            rows.dtype.kind not in "fV" or not bool(xp.isnan(rows[:, :1]).any()))
    if fast and (rows.shape[0] == 1 or vals.shape[1] >= 64):
        side = "right" if right else "left"
        r = xp.stack([xp.searchsorted(rows[i], vals[i], side=side)  # one call per row
                      for i in builtins.range(rows.shape[0])]).reshape(vd.shape)
    else:
        r = _binary_search(rows, vals, right).reshape(vd.shape)
    r = r.astype(np.int32 if out_int32 else np.int64)
    if isinstance(sorted_sequence, Tensor) or isinstance(input, Tensor):
        return _make(xp.asarray(r))
    return r


@register(family=_SC, differentiable=False, arity=2, method=False)
def bucketize(input, boundaries, *, out_int32: bool = False, right: bool = False):  # noqa: A002
    """Index of the bucket of each element for the increasing 1-D ``boundaries``:
    ``boundaries[i-1] < x <= boundaries[i]`` (with ``right``: ``<= x <``)."""
    bd = _data(boundaries)
    if bd.ndim != 1:
        raise RuntimeError(f"bucketize(): boundaries tensor must be 1 dimension but got dim("
                           f"{bd.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


@register(family=_SC, differentiable=False, arity=2, method=False)
def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False):
    """True where an element of ``elements`` is in ``test_elements`` (either may be a
    number); bool, no gradient. NaN is in nothing."""
    et, tt = isinstance(elements, Tensor), isinstance(test_elements, Tensor)
    if not et and not tt:
        raise TypeError("isin(): at least one of elements and test_elements must be a Tensor")
    ref = elements if et else test_elements
    xp = _xp_of(ref)
    ed = _data(elements) if et else xp.asarray(elements)
    td = _data(test_elements) if tt else xp.asarray(test_elements)
    if ed.dtype.kind == "b" or td.dtype.kind == "b":
        raise RuntimeError("Unsupported input type encountered for isin(): Bool")
    if ed.dtype != td.dtype:
        dt = np.promote_types(ed.dtype, td.dtype)
        ed, td = ed.astype(dt), td.astype(dt)
    r = xp.isin(ed, td, assume_unique=assume_unique, invert=invert)
    return _make(xp.asarray(r))


# ---- unique / unique_consecutive ---------------------------------------------------------

def _runs(s, d):
    """True at the start of every run of equal entries (slices along dim ``d``)."""
    xp = get_array_module(s)
    n = s.shape[d]
    new = xp.ones(n, dtype=bool)
    if n > 1:
        a, b = s[_sl(s.ndim, d, slice(1, None))], s[_sl(s.ndim, d, slice(None, -1))]
        neq = a != b
        if s.ndim > 1:
            neq = xp.moveaxis(neq, d, 0).reshape(n - 1, -1).any(axis=1)
        new[1:] = neq
    return new


def _unique_result(x, vals, inverse, counts, return_inverse, return_counts):
    if not return_inverse and not return_counts:
        return _wrap(x, vals)
    out = [_wrap(x, vals)]
    if return_inverse:
        out.append(_wrap(x, inverse))
    if return_counts:
        out.append(_wrap(x, counts))
    return tuple(out)


def _unique_impl(x, sorted_, return_inverse, return_counts, dim, op):
    xd = _data(x)
    xp = get_array_module(xd)
    if dim is None:
        a = xd.reshape(-1)
        d, ishape = 0, xd.shape
    else:
        d = _dim1(dim, xd.ndim, op)
        a = xd if xd.ndim else xd.reshape(1)
        ishape = (a.shape[d],)
        if any(s == 0 for i, s in enumerate(a.shape) if i != d):
            raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so "
                               f"{op} cannot be applied")
    n = a.shape[d]
    if sorted_:
        if a.ndim == 1:
            kw = {"kind": "stable"} if xp is np else {}
            order = xp.argsort(a, **kw)
        else:  # lexicographic order of the slices along d
            m = xp.moveaxis(a, d, 0).reshape(n, -1)
            order = xp.lexsort(m.T[::-1]) if m.shape[1] else xp.arange(n)
        s = xp.take(a, order, axis=d)
    else:
        order, s = None, a
    new = _runs(s, d)
    vals = xp.compress(new, s, axis=d) if n else s
    starts = xp.nonzero(new)[0]
    counts = xp.diff(xp.concatenate([starts, xp.asarray([n])])).astype(np.int64)
    ids = xp.cumsum(new) - 1
    if order is None:
        inverse = ids
    else:
        inverse = xp.empty(n, dtype=np.int64)
        inverse[order] = ids
    inverse = inverse.astype(np.int64).reshape(ishape)
    return _unique_result(x, vals, inverse, counts, return_inverse, return_counts)


@register(family=_SC, differentiable=False)
def unique(x, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim=None):
    """The distinct elements (of the flattened tensor, or the distinct slices along
    ``dim``), in ascending order; with ``return_inverse`` the index of each input element
    in them, with ``return_counts`` how often each occurs. NaNs are all distinct."""
    return _unique_impl(x, True, return_inverse, return_counts, dim, "unique")


@register(family=_SC, differentiable=False)
def unique_consecutive(x, return_inverse: bool = False, return_counts: bool = False,
                       dim=None):
    """Collapse runs of equal consecutive elements (or slices along ``dim``); see
    ``unique`` for ``return_inverse``/``return_counts``."""
    return _unique_impl(x, False, return_inverse, return_counts, dim, "unique_consecutive")


# ---- diff / trace ------------------------------------------------------------------------

@register(family=_SC, op=None)
def diff(x, n: int = 1, dim: int = -1, prepend=None, append=None):
    """The ``n``-th forward difference along ``dim`` (``out[i] = x[i+1] - x[i]``; for bool,
    ``!=``), after concatenating ``prepend``/``append``; differentiable."""
    if x.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = _dim1(dim, x.ndim, "diff")
    if n == 0:  # PyTorch: the input itself, prepend/append ignored
        return x.clone()
    parts = [p for p in (prepend, x, append) if p is not None]
    for p in parts:
        if not isinstance(p, Tensor) or p.ndim != x.ndim:
            raise RuntimeError("diff expects prepend or append to be the same dimension as "
                               "input")
    if len(parts) > 1:
        x = cat(parts, d)
    nd = x.ndim
    for _ in builtins.range(n):
        m = x.shape[d]
        if m == 0:
            break
        a, b = x[_sl(nd, d, slice(1, None))], x[_sl(nd, d, slice(None, m - 1))]
        x = ne(a, b) if x.dtype.kind == "b" else a - b
    return x


@register(family=_SC, op=None)
def trace(x):
    """Sum of the main diagonal of a matrix (integers give int64); differentiable."""
    if x.dtype.kind == "b":
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    if x.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x.ndim}")
    r, c = x.shape
    k = _bmin(r, c)
    flat = reshape(x, (-1,))
    return named(_sum(flat[0:k * (c + 1):c + 1]), "TraceBackward0")


# ---- cov / corrcoef ----------------------------------------------------------------------

@register(family=_SC, op=None)
def cov(x, *, correction: int = 1, fweights=None, aweights=None):
    """Covariance matrix of the variables in the rows of ``x`` (a 1-D ``x``: one variable),
    observations in the columns, with ``correction``, integer frequency weights
    ``fweights`` and observation weights ``aweights`` (PyTorch's formula)."""
    if x.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {x.ndim} dimensions")
    xin = reshape(x, (1, -1)) if x.ndim < 2 else x
    nobs = xin.shape[1]
    w = None
    if fweights is not None:
        if fweights.ndim > 1:
            raise RuntimeError(f"cov(): expected fweights to have one or fewer dimensions but "
                               f"got fweights with {fweights.ndim} dimensions")
        if fweights.dtype.kind not in "iu":
            raise RuntimeError(f"cov(): expected fweights to have integral dtype but got "
                               f"fweights with {fweights.dtype} dtype")
        if fweights.numel() != nobs:
            raise RuntimeError(f"cov(): expected fweights to have the same numel as there are "
                               f"observations in the input but got {fweights.numel()} != "
                               f"{nobs}")
        if fweights.numel() and bool((fweights < 0).any()):
            raise RuntimeError("cov(): fweights cannot be negative")
        w = fweights
    if aweights is not None:
        if aweights.ndim > 1:
            raise RuntimeError(f"cov(): expected aweights to have one or fewer dimensions but "
                               f"got aweights with {aweights.ndim} dimensions")
        if aweights.dtype.kind not in "fV":
            raise RuntimeError(f"cov(): expected aweights to have floating point dtype but got"
                               f" aweights with {aweights.dtype} dtype")
        if aweights.numel() != nobs:
            raise RuntimeError(f"cov(): expected aweights to have the same numel as there are "
                               f"observations in the input but got {aweights.numel()} != "
                               f"{nobs}")
        if aweights.numel() and bool((aweights < 0).any()):
            raise RuntimeError("cov(): aweights cannot be negative")
        w = aweights if w is None else w * aweights
    if w is not None:
        w = reshape(w, (-1,))
        w_sum = _sum(w)
        avg = _sum(xin * w, 1) / w_sum
    else:
        w_sum = nobs
        avg = _sum(xin, 1) / float(nobs) if xin.dtype.kind in "fV" else \
            _sum(xin, 1) / cast(_make(np.asarray(nobs)), get_default_dtype())
    if w is not None and aweights is not None and correction != 0:
        norm_factor = w_sum - correction * _sum(w * aweights) / w_sum
    else:
        norm_factor = w_sum - correction
    nf = float(_data(norm_factor)) if isinstance(norm_factor, Tensor) else float(norm_factor)
    if nf <= 0:
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the number of observations.", UserWarning, stacklevel=2)
        norm_factor = norm_factor * 0 if isinstance(norm_factor, Tensor) else 0.0
    xc = xin - reshape(avg, (-1, 1))
    c = matmul(xc, (xc * w if w is not None else xc).mH)  # conjugated when complex
    if not isinstance(norm_factor, Tensor):
        with np.errstate(all="ignore"):
            out = c / (float(norm_factor) if c.dtype.kind in "fV" else norm_factor)
    else:
        out = c / cast(norm_factor, c.dtype) if norm_factor.dtype != c.dtype else c / norm_factor
    if out.shape == (1, 1):
        return reshape(out, ())
    return out


@register(family=_SC, op=None)
def corrcoef(x):
    """Pearson correlation coefficients of the rows of ``x`` (``cov`` normalised by the
    standard deviations, clipped to [-1, 1])."""
    c = cov(x)
    if c.ndim == 0:
        return c / c
    n = c.shape[0]
    dvec = reshape(c, (-1,))[0:n * n:n + 1]
    sd = sqrt(dvec)
    c = c / reshape(sd, (-1, 1))
    c = c / reshape(sd, (1, -1))
    return clamp(c, -1, 1)


# ---- renorm ------------------------------------------------------------------------------

@register(family=_SC, op=None, inplace=True)
def renorm(x, p, dim: int, maxnorm):
    """Each slice along ``dim`` whose ``p``-norm exceeds ``maxnorm`` is scaled to norm
    ``maxnorm`` (PyTorch's ``maxnorm / (norm + 1e-7)``); differentiable."""
    if x.dtype.kind not in "fcV":
        raise RuntimeError(f"\"renorm\" not implemented for '{x.dtype}'")
    if float(p) <= 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported (p={p})")
    if float(maxnorm) < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if x.ndim <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {x.ndim} "
                           "dimensions")
    d = _dim1(dim, x.ndim, "renorm")
    others = tuple(i for i in builtins.range(x.ndim) if i != d)
    xa = cast(x, np.float32) if x.dtype == np.float16 else x  # float16: norm in float32
    with np.errstate(all="ignore"):
        big = _data(norm(_data(xa), float(p), others, keepdim=True)) > maxnorm
    # slices within maxnorm are passed through untouched (their gradient is the incoming
    # one, as PyTorch's renorm_backward), so their norm must not enter the graph at all
    xs = where(big, xa, 0.0)
    nrm = norm(xs, float(p), others, keepdim=True)
    out = where(big, xs * (maxnorm / (nrm + 1e-7)), xa)
    return cast(out, x.dtype) if out.dtype != x.dtype else out


# ---- trapezoid / cumulative_trapezoid / gradient -----------------------------------------

def _trap_args(y, x, dx, dim, op):
    """(dim, spacing): a number, or the differences of the sample points ``x`` shaped to
    broadcast against ``y`` (PyTorch's ``x.view`` rules)."""
    if x is not None and dx is not None:
        raise TypeError(f"{op}() received an invalid combination of arguments: pass either x "
                        "or dx, not both")
    if x is not None and not isinstance(x, Tensor):
        raise TypeError(f"{op}() received an invalid combination of arguments: x must be a "
                        f"Tensor (a constant spacing goes in dx=), got {type(x).__name__}")
    d = _dim1(dim, y.ndim, op)
    if y.dtype.kind == "b" or (isinstance(x, Tensor) and x.dtype.kind == "b"):
        raise RuntimeError(f"{op}: received a bool input for `y`, but bool is not supported")
    if x is None:
        if isinstance(dx, bool):
            raise RuntimeError(f"{op}: Currently, we only support dx as a real number.")
        return d, 1.0 if dx is None else float(dx)
    if x.ndim == 1:
        if x.shape[0] != y.shape[d]:
            raise RuntimeError(f"{op}: There must be one `x` value for each sample point")
        sh = [1] * y.ndim
        sh[d] = x.shape[0]
        xv = reshape(x, tuple(sh))
    elif x.ndim < y.ndim:
        xv = reshape(x, (1,) * (y.ndim - x.ndim) + tuple(x.shape))
    else:
        xv = x
    m = xv.shape[d]
    return d, xv[_sl(xv.ndim, d, slice(1, None))] - xv[_sl(xv.ndim, d, slice(None, m - 1))]


def _zeros_except(y, d):
    xp = _xp_of(y)
    sh = tuple(s for i, s in enumerate(y.shape) if i != d)
    return _make(xp.zeros(sh, dtype=y.dtype))


@register(family=_SC, op=None, aliases=("trapz",), arity=2, method=False)
def trapezoid(y, x=None, *, dx=None, dim: int = -1):
    """The trapezoidal rule along ``dim``: with sample points ``x`` (a tensor) or a
    constant spacing ``dx`` (default 1); differentiable in ``y`` and ``x``."""
    d, step = _trap_args(y, x, dx, dim, "trapezoid")
    n = y.shape[d]
    if n == 0:
        return _zeros_except(y, d)
    lo, hi = y[_sl(y.ndim, d, slice(None, n - 1))], y[_sl(y.ndim, d, slice(1, None))]
    if isinstance(step, Tensor):
        return _sum(step * (hi + lo), d) / 2.0
    first, last = y[_sl(y.ndim, d, 0)], y[_sl(y.ndim, d, -1)]
    return (_sum(y, d) - (first + last) * 0.5) * step


@register(family=_SC, op=None, arity=2, method=False)
def cumulative_trapezoid(y, x=None, *, dx=None, dim: int = -1):
    """The running trapezoidal integral along ``dim`` (one fewer element than ``y``)."""
    d, step = _trap_args(y, x, dx, dim, "cumulative_trapezoid")
    n = y.shape[d]
    lo = y[_sl(y.ndim, d, slice(None, _bmax(n - 1, 0)))]
    hi = y[_sl(y.ndim, d, slice(1, None))]
    if isinstance(step, Tensor):  # PyTorch's order of operations (in y's dtype first)
        return cumsum(step * (lo + hi), d) / 2.0
    return cumsum(step / 2.0 * (lo + hi), d)


def _grad_uniform(f, d, h, edge_order):
    """PyTorch's formulas (in the input's dtype until the division, as PyTorch)."""
    n, nd = f.shape[d], f.ndim

    def s(a, b=None):
        return f[_sl(nd, d, slice(a, b))]

    center = (s(2, None) - s(None, n - 2)) / h
    if edge_order == 1:
        first = (s(1, 2) - s(0, 1)) / h
        last = (s(n - 1, n) - s(n - 2, n - 1)) / h
    else:
        first = (-1.5 * s(0, 1) + 2 * s(1, 2) - 0.5 * s(2, 3)) / h
        last = (0.5 * s(n - 3, n - 2) - 2 * s(n - 2, n - 1) + 1.5 * s(n - 1, n)) / h
    return cat([first, center / 2, last], d)


def _grad_coords(f, d, xc, edge_order):
    """NumPy's second-order accurate differences for sample coordinates ``xc`` (1-D)."""
    n, nd = f.shape[d], f.ndim
    sh = [1] * nd

    def s(a, b=None):
        return f[_sl(nd, d, slice(a, b))]

    def c(t):
        sh[d] = t.shape[0]
        return reshape(t, tuple(sh))

    dx = diff(xc)
    m = dx.shape[0]
    dx1, dx2 = dx[:m - 1], dx[1:]
    a = c(-dx2 / (dx1 * (dx1 + dx2)))
    b = c((dx2 - dx1) / (dx1 * dx2))
    cc = c(dx1 / (dx2 * (dx1 + dx2)))
    interior = a * s(None, n - 2) + b * s(1, n - 1) + cc * s(2, None)
    if edge_order == 1:
        first = (s(1, 2) - s(0, 1)) / c(dx[0:1])
        last = (s(n - 1, n) - s(n - 2, n - 1)) / c(dx[n - 2:n - 1])
    else:
        h1, h2 = dx[0:1], dx[1:2]
        a0 = -(2.0 * h1 + h2) / (h1 * (h1 + h2))
        b0 = (h1 + h2) / (h1 * h2)
        c0 = (-h1) / (h2 * (h1 + h2))
        first = c(a0) * s(0, 1) + c(b0) * s(1, 2) + c(c0) * s(2, 3)
        h1, h2 = dx[n - 3:n - 2], dx[n - 2:n - 1]
        a1 = h2 / (h1 * (h2 + h1))
        b1 = -(h2 + h1) / (h2 * h1)
        c1 = (2 * h2 + h1) / (h2 * (h2 + h1))
        last = c(a1) * s(n - 3, n - 2) + c(b1) * s(n - 2, n - 1) + c(c1) * s(n - 1, n)
    return cat([first, interior, last], d)


@register(family=_SC, op=None, method=False)
def gradient(x, *, spacing=1, dim=None, edge_order: int = 1):
    """Central differences of ``x`` along each of ``dim`` (all dims when None), one-sided
    (``edge_order`` 1 or 2) at the ends; ``spacing`` is a number, one number per dim, or
    one 1-D tensor of sample coordinates per dim. Returns a tuple; differentiable."""
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    if dim is None:
        dims = list(builtins.range(x.ndim))
    elif isinstance(dim, numbers.Integral):
        dims = [_dim1(dim, x.ndim, "gradient")]
    else:
        dims = [_dim1(d, x.ndim, "gradient") for d in dim]
    if len(set(dims)) != len(dims):
        raise RuntimeError("torch.gradient: dim {} appears multiple times in the list of dims")
    if isinstance(spacing, (list, tuple)):
        sp = list(spacing)
        if len(sp) != len(dims):
            raise RuntimeError(
                f"torch.gradient expected spacing to be unspecified, a scalar or it's spacing "
                f"and dim arguments to have the same length, but got a spacing argument of "
                f"length {len(sp)} and a dim argument of length {len(dims)}.")
    else:
        sp = [spacing] * len(dims)
    if x.dtype == np.uint8:
        raise RuntimeError("torch.gradient does not support uint8 input.")
    if x.dtype.kind == "b":
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    xf = x
    out = []
    for d, h in zip(dims, sp):
        if x.shape[d] < edge_order + 1:
            raise RuntimeError(
                "torch.gradient expected each dimension size to be at least edge_order+1")
        if isinstance(h, Tensor):
            if h.ndim == 0:
                out.append(_grad_uniform(xf, d, float(h.item()), edge_order))
                continue
            if h.ndim != 1 or h.shape[0] != x.shape[d]:
                raise RuntimeError("torch.gradient expected each tensor to be on the same "
                                   "device and of one dimension matching the input's size")
            out.append(_grad_coords(xf, d, h, edge_order))
        else:
            out.append(_grad_uniform(xf, d, float(h), edge_order))
    return tuple(out)


# ---- hash_tensor ---------------------------------------------------------------------------

@register(family=_SC, differentiable=False)
def hash_tensor(input, dim=None, *, keepdim: bool = False, mode: int = 0) -> Tensor:
    """A uint64 hash of the elements (over ``dim``, or all): each element widened to float64
    or int64, its bits read as uint64, and the words combined by XOR (mode 0, PyTorch's only
    mode). Equal tensors hash equal; ``0.`` and ``-0.`` do not."""
    if mode != 0:
        raise RuntimeError(f"hash_tensor: only mode=0 (xor reduction) is supported, got "
                           f"mode={mode}")
    a = _data(input)
    if a.size == 0 and dim is None:
        raise RuntimeError("hash_tensor: Expected reduction dim to be specified for "
                           "input.numel() == 0. Specify the reduction dim with the 'dim' "
                           "argument.")
    xp = get_array_module(a)
    wide = a.astype(np.float64) if a.dtype.kind in "fV" else a.astype(np.int64)
    bits = wide.view(np.uint64)
    axes = _dims(dim, a.ndim, "hash_tensor")
    out = xp.bitwise_xor.reduce(bits, axis=axes if axes is not None else None,
                                keepdims=keepdim) if a.ndim else bits
    if axes is None and a.ndim and keepdim:
        out = out.reshape((1,) * a.ndim)
    return _make(xp.asarray(out, dtype=np.uint64))


# ---- vander, segment_reduce ----------------------------------------------------------------

@register(family=_SC, arity=1)
def vander(x, N=None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix of the 1-D ``x``: columns ``x**(N-1), ..., x, 1`` (or
    increasing powers), by repeated products (exact gradients at 0)."""
    if x.ndim != 1:
        raise RuntimeError(f"vander: x must be a one-dimensional tensor, got shape "
                           f"{list(x.shape)}")
    n = x.shape[0] if N is None else int(N)
    if n < 0:
        raise RuntimeError(f"vander: N must be non-negative, got {N}")
    if n == 0:
        return _make(get_array_module(_data(x)).empty((x.shape[0], 0), dtype=x.dtype)
                     if x.dtype.kind in "fcV" else
                     get_array_module(_data(x)).empty((x.shape[0], 0), dtype=np.int64))
    col = reshape(x, (-1, 1))
    if x.dtype.kind in "biu":
        col = cast(col, np.int64)
    cols = [col * 0 + 1]  # x**0, x**1, ... by repeated products: exact gradients at 0
    for _ in range(n - 1):
        cols.append(cols[-1] * col)
    out = cat(cols, dim=1)
    return out if increasing else flip(out, (1,))


_SEGMENT_REDUCTIONS = ("sum", "mean", "max", "min", "prod")


@register(family=_SC, arity=1)
def segment_reduce(data, reduce: str, *, lengths=None, indices=None, offsets=None,
                   axis: int = 0, unsafe: bool = False, initial=None) -> Tensor:
    """Reduce ``data`` along ``axis`` over consecutive segments given by ``lengths`` (shape
    ``data.shape[:axis] + (segments,)``) or ``offsets`` (one more than segments): sum, mean,
    max, min or prod of each segment, ``initial`` included when given (for mean, PyTorch's
    ``(sum + initial) / length``). An empty segment gives the reduction's identity
    (``initial`` when given; nan for mean)."""
    if reduce not in _SEGMENT_REDUCTIONS:
        raise RuntimeError(f"segment_reduce(): unsupported reduce {reduce!r}; expected one of "
                           f"{', '.join(_SEGMENT_REDUCTIONS)}")
    if data.dtype.kind not in "fV":
        raise NotImplementedError(f'"segment_reduce" not implemented for {data.dtype} data')
    if indices is not None:
        raise RuntimeError("segment_reduce(): indices based reduction is not supported yet.")
    if lengths is None and offsets is None:
        raise RuntimeError("segment_reduce(): Either lengths or offsets must be defined")
    ax = axis % data.ndim if data.ndim else 0
    if lengths is not None:
        lens = np.asarray(_data(lengths).get() if hasattr(_data(lengths), "get")
                          else _data(lengths)).astype(np.int64)
    else:
        off = np.asarray(_data(offsets).get() if hasattr(_data(offsets), "get")
                         else _data(offsets)).astype(np.int64)
        lens = off[..., 1:] - off[..., :-1]
    if lens.ndim - 1 != ax:
        raise RuntimeError(f"segment_reduce(): Expected axis to be the last dimension of "
                           f"lengths but got {axis}.")
    if not unsafe and ((lens < 0).any() or (lens.sum(-1) != data.shape[ax]).any()):
        raise RuntimeError("segment_reduce(): Expected all rows of lengths along axis to sum "
                           "to data.size(lengths.dim()-1) when !unsafe.")
    rest = tuple(data.shape[ax + 1:])
    empty = {"sum": 0.0, "mean": math.nan, "max": -math.inf, "min": math.inf, "prod": 1.0}
    rows = []
    for idx in np.ndindex(*lens.shape[:-1]):
        row = data[idx] if idx else data
        segs, start = [], 0
        for n in lens[idx].tolist():
            part = row[start:start + n]
            start += n
            if n == 0:
                v = initial if initial is not None else empty[reduce]
                segs.append(_make(get_array_module(_data(data)).full(rest, v,
                                                                     dtype=data.dtype)))
                continue
            if reduce == "sum":
                v = _sum(part, 0) + (initial if initial is not None else 0)
            elif reduce == "mean":
                v = (_sum(part, 0) + (initial if initial is not None else 0)) / n
            elif reduce == "prod":
                v = _prod(part, 0) * (initial if initial is not None else 1)
            else:
                v = amax(part, 0) if reduce == "max" else amin(part, 0)
                if initial is not None:
                    v = clamp(v, min=initial) if reduce == "max" else clamp(v, max=initial)
            segs.append(v)
        rows.append(stack(segs, 0) if segs else _make(get_array_module(_data(data)).empty(
            (0,) + rest, dtype=data.dtype)))
    if not lens.shape[:-1]:
        return rows[0]
    out = stack(rows, 0)
    return reshape(out, tuple(lens.shape[:-1]) + tuple(out.shape[1:]))
