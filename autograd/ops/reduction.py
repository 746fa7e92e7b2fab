"""Reductions over ``dim`` (an int, a tuple, or None for all) with ``keepdim``: sum, mean,
prod, var/std, max/min/amax/amin, argmax/argmin, logsumexp, norm, median/kthvalue, cumsum,
cumprod, all, any.

Like every op, each ``backward`` is written once with operators and op wrappers, so it runs
on raw arrays (first order) or on Tensors (``create_graph=True``, higher order). Gradients
that select elements (``max(x, dim)``, ``median``) go through ``TakeAlongDim`` whose backward
is ``ScatterAlongDim`` and vice versa, so they are twice differentiable; gradients of full
reductions with ties (``amax``) are split evenly with constant masks.
"""

from __future__ import annotations

import builtins
import math
import numbers

import numpy as np

from ..backend import add_at, get_array_module
from ..dtypes import get_default_dtype
from ..function import Op, named
from ..registry import get as _registry_get
from ..registry import register
from ..return_types import structseq
from ..tensor import Tensor, _make
from .elementwise import abs as _abs
from .elementwise import cast, exp, maximum, minimum, sign, where
from .shape import broadcast_to, cat, flip, reshape

_RD = "reduction"

_bmax, _bmin = builtins.max, builtins.min

# PyTorch's torch.return_types: tuples with .values and .indices
_max_rt = structseq("max", ["values", "indices"])
_min_rt = structseq("min", ["values", "indices"])
_median_rt = structseq("median", ["values", "indices"])
_kthvalue_rt = structseq("kthvalue", ["values", "indices"])


# ---- helpers ------------------------------------------------------------------------------

def _range_error(op: str, d, ndim: int):
    n = _bmax(ndim, 1)
    pre = f"{op}(): " if op else ""
    return IndexError(
        f"{pre}Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
        f"but got {d})"
    )


def _half(dtype) -> bool:
    """float16 or bfloat16 (ml_dtypes' kind "V"): the 2-byte floats PyTorch accumulates in
    float32."""
    return dtype.itemsize == 2 and dtype.kind in "fV"


def _dims(dim, ndim: int, op: str = ""):
    """Normalise ``dim`` to a sorted tuple of non-negative axes, or None for all."""
    if dim is None:
        return None
    if isinstance(dim, numbers.Integral):
        dim = (int(dim),)
    dim = tuple(dim)
    if not dim:
        return None
    out = []
    n = _bmax(ndim, 1)
    for d in dim:
        if isinstance(d, Tensor) or not isinstance(d, numbers.Integral) or isinstance(d, bool):
            raise TypeError(f"{op or 'reduction'}(): dim must be an int or a tuple of ints, "
                            f"got {d!r}")
        if not -n <= d < n:
            raise _range_error(op, d, ndim)
        a = d % n
        if a in out:
            raise RuntimeError(f"{op or 'reduction'}(): dim {a} appears multiple times in the "
                               "list of dims")
        out.append(a)
    return tuple(sorted(out)) if ndim else None


def _dim1(dim, ndim: int, op: str) -> int:
    """A single dim, normalised (0-d tensors accept 0 and -1)."""
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise TypeError(f"{op}(): dim must be an int, got {type(dim).__name__} ({dim!r})")
    n = _bmax(ndim, 1)
    if not -n <= dim < n:
        raise _range_error(op, dim, ndim)
    return int(dim) % n


def _keep_shape(in_shape, axes):
    """The shape with reduced axes kept as size 1."""
    if axes is None:
        return (1,) * len(in_shape)
    return tuple(1 if i in axes else s for i, s in enumerate(in_shape))


def _out_shape(in_shape, axes, keepdim):
    """The shape of a reduction's result."""
    if keepdim:
        return _keep_shape(in_shape, axes)
    if axes is None:
        return ()
    return tuple(s for i, s in enumerate(in_shape) if i not in axes)


def _count(in_shape, axes) -> int:
    """Number of elements reduced into each output element."""
    if axes is None:
        return math.prod(in_shape)
    return math.prod(in_shape[a] for a in axes)


def _keep(g, in_shape, axes, keepdim):
    """A reduced gradient/result reshaped to keep the reduced axes as size 1."""
    return g if keepdim else reshape(g, _keep_shape(in_shape, axes))


def _expand_grad(gy, in_shape, axes, keepdim):
    """Bring a reduced gradient back to the input's shape (reshape, then broadcast)."""
    return broadcast_to(_keep(gy, in_shape, axes, keepdim), in_shape)


def _data(x):
    return x._data if isinstance(x, Tensor) else x


def _wrap(x, r):
    """Non-differentiable result: a Tensor for Tensor input, the raw array otherwise."""
    if not isinstance(x, Tensor):
        return r
    return _make(get_array_module(r).asarray(r))


def _is_float(dtype) -> bool:
    return dtype.kind in "fcV"


def _check_nonempty(op: str, shape, axes, cls=IndexError) -> None:
    """max-like reductions have no identity: reduced dims must not be empty."""
    for a in (range(len(shape)) if axes is None else axes):
        if shape[a] == 0:
            raise cls(f"{op}(): Expected reduction dim {a} to have non-zero size; the "
                      f"input has shape {list(shape)} (a max/min of nothing is undefined)")


def _cast_back(g, dtype):
    """Cast a gradient back to the input's floating dtype (after a dtype= argument)."""
    if dtype is not None and _is_float(dtype) and g.dtype != dtype:
        return cast(g, dtype)
    return g


# ---- sum / mean / prod ---------------------------------------------------------------------

class Sum(Op):
    def _overload_name(self) -> str:
        """PyTorch's overloads: ``sum()`` is SumBackward0, ``sum(dim)`` SumBackward1."""
        return "SumBackward0" if self.axes is None else "SumBackward1"

    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype=None):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        ctx.in_dtype = x.dtype
        if dtype is None and x.dtype.kind in "biu":
            dtype = np.int64
        if dtype is None and _half(x.dtype):  # accumulated in float32, as PyTorch
            return x.sum(axis=axes, keepdims=keepdim, dtype=np.float32).astype(x.dtype)
        return x.sum(axis=axes, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, gy):
        g = _expand_grad(gy, ctx.in_shape, ctx.axes, ctx.keepdim)
        return _cast_back(g, ctx.in_dtype)


class Mean(Op):
    def _overload_name(self) -> str:
        """PyTorch's overloads: ``mean()`` is MeanBackward0, ``mean(dim)`` MeanBackward1."""
        return "MeanBackward0" if self.axes is None else "MeanBackward1"

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        n = ctx.n = _count(x.shape, axes)
        if n == 0:  # NaN like PyTorch, without NumPy's "mean of empty slice" warning
            with np.errstate(invalid="ignore", divide="ignore"):
                return x.sum(axis=axes, keepdims=keepdim) / x.dtype.type(0)
        if _half(x.dtype):  # accumulated in float32, as PyTorch
            return x.mean(axis=axes, keepdims=keepdim, dtype=np.float32).astype(x.dtype)
        return x.mean(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, gy):
        g = _expand_grad(gy, ctx.in_shape, ctx.axes, ctx.keepdim)
        return g / ctx.n if ctx.n else g


class Prod(Op):
    """Product. The gradient of element i is the product of the others: prod(x)/x_i where
    a slice has no zero. With zeros, it is assembled from the product of the nonzeros
    (``pnz``), the product of the zeros (``pz``: 1 or 0) and, for a zero, the product of
    the other zeros (1 for one zero, the other zero itself for two, 0 for more), written
    with ops and constant masks so that second derivatives are exact too."""

    def _overload_name(self) -> str:
        """PyTorch's overloads: ``prod()`` is ProdBackward0, ``prod(dim)`` ProdBackward1."""
        return "ProdBackward0" if self.axes is None else "ProdBackward1"

    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype=None):
        ctx.in_shape, ctx.axes, ctx.keepdim, ctx.in_dtype = x.shape, axes, keepdim, x.dtype
        if dtype is None and x.dtype.kind in "biu":
            dtype = np.int64
        y = x.prod(axis=axes, keepdims=keepdim, dtype=dtype)
        if ctx.next_edges:
            zero = x == 0
            ctx.zero = zero if bool(zero.any()) else None
            if ctx.zero is not None:
                nz = zero.sum(axis=axes, keepdims=True)
                ctx.one, ctx.two = nz == 1, nz == 2
            ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        shape, axes, keepdim = ctx.in_shape, ctx.axes, ctx.keepdim
        gk = _keep(gy, shape, axes, keepdim)
        if ctx.zero is None:
            g = broadcast_to(gk * _keep(y, shape, axes, keepdim), shape) / x
            return _cast_back(g, ctx.in_dtype)
        zero = ctx.zero
        if axes is None or len(axes) == 1:  # PyTorch's prod_safe_zeros_backward
            d = 0 if axes is None else axes[0]
            xs = reshape(x, (-1,)) if axes is None else x
            g = broadcast_to(gk if axes is not None else reshape(gk, (1,)), xs.shape) * \
                _exclusive_prod(xs, d)
            return _cast_back(reshape(g, shape), ctx.in_dtype)
        xnz = where(zero, 1.0, x)
        gp = gk * Prod.apply(xnz, axes=axes, keepdim=True)  # gy * pnz
        pz = Prod.apply(where(zero, x, 1.0), axes=axes, keepdim=True)
        zsum = Sum.apply(where(zero, x, 0.0), axes=axes, keepdim=True)
        others = where(ctx.one, 1.0, where(ctx.two, zsum - x, 0.0))  # the other zeros' product
        g = where(zero, gp * others, gp * pz / xnz)
        return _cast_back(g, ctx.in_dtype)


def _exclusive_prod(x, d):
    """The product of all the other elements along dim ``d``, from the products before and
    after each element (exact with zeros, infinities and nans; PyTorch's formula)."""
    n = x.shape[d]
    if n == 1:
        return x * 0.0 + 1.0
    one_shape = tuple(1 if i == d else s for i, s in enumerate(x.shape))
    ones = _make(get_array_module(_data(x)).ones(one_shape, dtype=x.dtype)) \
        if isinstance(x, Tensor) else get_array_module(x).ones(one_shape, dtype=x.dtype)
    before = [slice(None)] * x.ndim
    after = [slice(None)] * x.ndim
    before[d], after[d] = slice(0, n - 1), slice(1, n)
    left = cumprod(cat([ones, x[tuple(before)]], d), d)
    right = flip(cumprod(cat([ones, flip(x[tuple(after)], (d,))], d), d), (d,))
    return left * right


@register(family=_RD, op=Sum, numpy="sum")
def sum(x, dim=None, keepdim: bool = False, dtype=None):  # noqa: A001
    """Sum over ``dim`` (all dims when None); integers and bools sum to int64."""
    axes = _dims(dim, x.ndim, "sum")
    if not isinstance(x, Tensor):
        return x.sum(axis=axes, keepdims=keepdim, dtype=dtype)
    return Sum.apply(x, axes=axes, keepdim=keepdim, dtype=dtype)


@register(family=_RD, op=Mean, numpy="mean")
def mean(x, dim=None, keepdim: bool = False, dtype=None):
    """Arithmetic mean over ``dim``; floating dtypes only (like PyTorch)."""
    if dtype is not None:
        x = cast(x, dtype) if not isinstance(x, Tensor) else x.to(dtype)
    if x.dtype.kind not in "fcV":
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating "
            f"point or complex dtype. Got: {x.dtype}"
        )
    axes = _dims(dim, x.ndim, "mean")
    return Mean.apply(x, axes=axes, keepdim=keepdim)


@register(family=_RD, op=Prod, numpy="prod")
def prod(x, dim=None, keepdim: bool = False, dtype=None):
    """Product over ``dim`` (all when None); integers and bools give int64.

    The gradient is exact with zeros in the input (one zero: it gets the product of the
    others; several zeros: all zero)."""
    axes = _dims(dim, x.ndim, "prod")
    return Prod.apply(x, axes=axes, keepdim=keepdim,
                      dtype=None if dtype is None else np.dtype(dtype))


# ---- var / std -----------------------------------------------------------------------------

class Var(Op):
    """Variance (``sqrt=False``) or standard deviation (``sqrt=True``) with a correction."""

    def _overload_name(self) -> str:
        return "StdBackward0" if self.sqrt else "VarBackward0"

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim, sqrt):
        xp = get_array_module(x)
        n = _count(x.shape, axes)
        den = _bmax(n - correction, 0)
        ctx.in_shape, ctx.axes, ctx.keepdim, ctx.sqrt = x.shape, axes, keepdim, sqrt
        ctx.n, ctx.den = n, den
        x16 = x.dtype if _half(x.dtype) or x.dtype == np.float32 else None
        if x16 is not None:  # accumulated in PyTorch's CPU accumulation type (float16 in
            x = x.astype(np.float32 if _half(x16) else np.float64)  # float32, float32
        # in float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            m = x.sum(axis=axes, keepdims=True) / x.dtype.type(n)
            d = x - m
            ss = (d * xp.conj(d)).real if x.dtype.kind == "c" else d * d
            y = ss.sum(axis=axes, keepdims=keepdim) / ss.dtype.type(den)
            if sqrt:
                y = xp.sqrt(y)
        if x16 is not None:
            x, y = x.astype(x16), y.astype(x16)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        shape, axes, keepdim = ctx.in_shape, ctx.axes, ctx.keepdim
        if ctx.n == 0:
            return _expand_grad(gy, shape, axes, keepdim) * 0.0
        d = x - Mean.apply(x, axes=axes, keepdim=True)
        scale = 1.0 / ctx.den if ctx.den else math.inf
        if not ctx.sqrt:
            return _expand_grad(gy, shape, axes, keepdim) * d * (2.0 * scale)
        # d std = d var / (2 std); where std == 0 (constant input) the gradient is 0
        yk = _keep(y, shape, axes, keepdim)
        c = _keep(gy, shape, axes, keepdim) / where(yk == 0, math.inf, yk)
        return broadcast_to(c, shape) * d * scale


def _var_args(op, x, dim, unbiased, keepdim, correction):
    if isinstance(dim, bool):  # var(x, unbiased) overload
        if unbiased is not None:
            raise TypeError(f"{op}(): got both a positional unbiased and unbiased=")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise RuntimeError(f"{op}(): cannot specify both unbiased and correction")
    if correction is None:
        correction = 1 if unbiased is None else int(builtins.bool(unbiased))
    if x.dtype.kind not in "fcV":
        raise RuntimeError(
            f"{op}(): std and var only support floating point and complex dtypes, got "
            f"{x.dtype} (convert with .float() or .double() first)"
        )
    return _dims(dim, x.ndim, op), correction


@register(family=_RD, op=Var, numpy="var")
def var(x, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """Variance over ``dim`` with Bessel's ``correction`` (default 1; ``unbiased=False``
    means 0). Also callable as ``var(x, unbiased)`` and ``var(x, dim, unbiased, keepdim)``."""
    axes, correction = _var_args("var", x, dim, unbiased, keepdim, correction)
    return Var.apply(x, axes=axes, correction=correction, keepdim=keepdim, sqrt=False)


@register(family=_RD, op=Var, numpy="std")
def std(x, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """Standard deviation over ``dim`` (see ``var``); its gradient is 0 where std is 0."""
    axes, correction = _var_args("std", x, dim, unbiased, keepdim, correction)
    return Var.apply(x, axes=axes, correction=correction, keepdim=keepdim, sqrt=True)


@register(family=_RD, op=Var, method=False)
def var_mean(x, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """``(var(x, ...), mean(x, ...))``."""
    axes, correction = _var_args("var_mean", x, dim, unbiased, keepdim, correction)
    return (Var.apply(x, axes=axes, correction=correction, keepdim=keepdim, sqrt=False),
            Mean.apply(x, axes=axes, keepdim=keepdim))


@register(family=_RD, op=Var, method=False)
def std_mean(x, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """``(std(x, ...), mean(x, ...))``."""
    axes, correction = _var_args("std_mean", x, dim, unbiased, keepdim, correction)
    return (Var.apply(x, axes=axes, correction=correction, keepdim=keepdim, sqrt=True),
            Mean.apply(x, axes=axes, keepdim=keepdim))


# ---- selecting elements along a dim (max/min with dim, median, kthvalue) -------------------

def _grid(index, axis: int):
    """Full fancy index addressing ``index`` (positions along ``axis``) in a larger array."""
    xp = get_array_module(index)
    out = []
    for i, n in enumerate(index.shape):
        if i == axis:
            out.append(index)
        else:
            sh = [1] * index.ndim
            sh[i] = n
            out.append(xp.arange(n).reshape(sh))
    return tuple(out)


class TakeAlongDim(Op):
    """``take_along_axis(x, index, axis)``; backward scatters (adds) into zeros."""

    @staticmethod
    def forward(ctx, x, index, axis):
        ctx.in_shape, ctx.index, ctx.axis = x.shape, index, axis
        return get_array_module(x).take_along_axis(x, index, axis=axis)

    @staticmethod
    def backward(ctx, gy):
        return ScatterAlongDim.apply(gy, index=ctx.index, axis=ctx.axis, shape=ctx.in_shape)


class ScatterAlongDim(Op):
    """Zeros of ``shape`` with ``src`` added at ``index`` along ``axis`` (repeated indices
    accumulate); backward is ``TakeAlongDim``, so selections are twice differentiable."""

    @staticmethod
    def forward(ctx, src, index, axis, shape):
        ctx.index, ctx.axis = index, axis
        xp = get_array_module(src)
        out = xp.zeros(shape, dtype=src.dtype)
        add_at(xp, out, _grid(index, axis), src)
        return out

    @staticmethod
    def backward(ctx, gz):
        return TakeAlongDim.apply(gz, index=ctx.index, axis=ctx.axis)


def _select(x, idx, d: int, keepdim: bool, rt):
    """(values, indices) for indices ``idx`` (kept dim, int64) along dim ``d`` of ``x``."""
    values = TakeAlongDim.apply(x, index=idx, axis=d)
    if not keepdim:
        shape = tuple(s for i, s in enumerate(idx.shape) if i != d)
        values = reshape(values, shape)
        idx = idx.reshape(shape)
    return rt(values, _wrap(x, idx))


def _dim_reduce(x, dim, keepdim, op, index_fn, rt):
    """Shared body of max/min/median/kthvalue/mode along one dim."""
    d = _dim1(dim, x.ndim, op)
    if x.ndim == 0:
        x1 = reshape(x, (1,))
        v, i = _dim_reduce(x1, 0, True, op, index_fn, rt)
        return rt(reshape(v, ()), _wrap(x, _data(i).reshape(())))
    xd = _data(x)
    _check_nonempty(op, xd.shape, (d,))
    idx = index_fn(xd, d)
    xp = get_array_module(xd)
    idx = xp.asarray(idx).astype(np.int64, copy=False)
    return _select(x, idx, d, keepdim, rt)


def _arg_keep(name):
    def fn(a, d):
        return get_array_module(a).expand_dims(getattr(a, name)(axis=d), d)

    return fn


class Amax(Op):
    """``amax``/``amin`` over ``axes``: the gradient is split evenly among tied extremes."""

    _torch_name = "AmaxBackward0"  # amin, max() and min() name theirs

    @staticmethod
    def forward(ctx, x, axes, keepdim, fn):
        y = getattr(x, fn)(axis=axes, keepdims=keepdim)
        if ctx.next_edges:
            ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
            yk = y if keepdim else y.reshape(_keep_shape(x.shape, axes))
            # ties share the gradient; a nan result goes to the nan inputs (PyTorch's rule)
            ctx.mask = (x == yk) | (x != x) & (yk != yk) if x.dtype.kind in "fV" else x == yk
            ctx.cnt = ctx.mask.sum(axis=axes, keepdims=True).astype(x.dtype)
        return y

    @staticmethod
    def backward(ctx, gy):
        g = _keep(gy, ctx.in_shape, ctx.axes, ctx.keepdim) / ctx.cnt
        return broadcast_to(g, ctx.in_shape) * ctx.mask


def _amax(x, dim, keepdim, fn, op):
    axes = _dims(dim, x.ndim, op)
    if axes is None and 0 in x.shape:  # PyTorch: RuntimeError without a dim, else IndexError
        raise RuntimeError(
            f"{op}(): Expected reduction dim to be specified for input.numel() == 0 (shape "
            f"{list(x.shape)}); specify the reduction dim with the 'dim' argument")
    _check_nonempty(op, x.shape, axes)
    return Amax.apply(x, axes=axes, keepdim=keepdim, fn=fn)


@register(family=_RD, op=Amax, numpy=("amax", "max"))
def amax(x, dim=(), keepdim: bool = False):
    """Maximum over ``dim`` (an int or tuple; all dims when empty/None). The gradient is
    split evenly among tied maxima."""
    return _amax(x, dim, keepdim, "max", "amax")


@register(family=_RD, op=Amax, numpy=("amin", "min"))
def amin(x, dim=(), keepdim: bool = False):
    """Minimum over ``dim`` (an int or tuple; all dims when empty/None). The gradient is
    split evenly among tied minima."""
    return named(_amax(x, dim, keepdim, "min", "amin"), "AminBackward0")


def _max_min(x, dim, keepdim, other, op, fn, binary, rt):
    if isinstance(dim, Tensor) or (dim is not None and hasattr(dim, "shape")):
        other, dim = dim, None
    if other is not None:
        return binary(x, other)
    if dim is None:
        if math.prod(x.shape) == 0:
            raise RuntimeError(
                f"{op}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        # PyTorch's overloads: max() is MaxBackward1 (max(dim) is MaxBackward0)
        return named(Amax.apply(x, axes=None, keepdim=False, fn=fn),
                     "MaxBackward1" if fn == "max" else "MinBackward1")
    r = _dim_reduce(x, dim, keepdim, op, _arg_keep("arg" + fn), rt)
    named(r[0], "MaxBackward0" if fn == "max" else "MinBackward0")
    return r


@register(family=_RD, op=Amax)
def max(x, dim=None, keepdim: bool = False, *, other=None):  # noqa: A001
    """``max(x)``: the largest element (0-d; the gradient is split evenly among ties).
    ``max(x, dim, keepdim=False)``: ``(values, indices)`` along ``dim``; the gradient goes
    to the returned index only (the first maximum). ``max(x, other)``: ``maximum``."""
    return _max_min(x, dim, keepdim, other, "max", "max", maximum, _max_rt)


@register(family=_RD, op=Amax)
def min(x, dim=None, keepdim: bool = False, *, other=None):  # noqa: A001
    """``min(x)``, ``min(x, dim, keepdim=False)`` -> ``(values, indices)``, or
    ``min(x, other)`` (= ``minimum``); see ``max``."""
    return _max_min(x, dim, keepdim, other, "min", "min", minimum, _min_rt)


def _arg(x, dim, keepdim, op, fn):
    xd = _data(x)
    if xd.dtype.kind == "b":
        raise RuntimeError(f"{op}(): does not support bool input")
    xp = get_array_module(xd)
    if dim is None:
        if xd.size == 0:
            raise IndexError(
                f"{op}(): Expected reduction dim to be specified for input.numel() == 0 (the "
                f"input has shape {list(xd.shape)}); pass dim=..."
            )
        r = getattr(xd.reshape(-1), fn)()
        r = xp.asarray(r, dtype=np.int64)
        if keepdim:
            r = r.reshape((1,) * xd.ndim)
        return _wrap(x, r)
    d = _dim1(dim, xd.ndim, op)
    if xd.ndim == 0:
        return _wrap(x, xp.zeros((), dtype=np.int64))
    _check_nonempty(op, xd.shape, (d,))
    r = getattr(xd, fn)(axis=d).astype(np.int64, copy=False)
    if keepdim:
        r = xp.expand_dims(r, d)
    return _wrap(x, r)


@register(family=_RD, numpy="argmax", differentiable=False)
def argmax(x, dim=None, keepdim: bool = False):
    """Index (int64, no gradient) of the first maximum along ``dim``; of the flattened
    tensor when ``dim`` is None."""
    return _arg(x, dim, keepdim, "argmax", "argmax")


@register(family=_RD, numpy="argmin", differentiable=False)
def argmin(x, dim=None, keepdim: bool = False):
    """Index (int64, no gradient) of the first minimum along ``dim``; of the flattened
    tensor when ``dim`` is None."""
    return _arg(x, dim, keepdim, "argmin", "argmin")


def _kth_index(k0):
    """Index function: position of the k0-th smallest (0-based) along a dim; NaN sorts last."""
    def fn(a, d):
        xp = get_array_module(a)
        kw = {"kind": "stable"} if xp is np else {}  # CuPy's sort is always stable
        order = xp.argsort(a, axis=d, **kw)
        return xp.take(order, xp.asarray([k0]), axis=d)

    return fn


class Median(Op):
    """``median(x)``/``nanmedian(x)`` of a non-empty x: the element at the flat position
    ``index_fn`` picks, 0-d. The gradient is split evenly among the elements equal to it, NaN
    matching NaN (PyTorch's ``evenly_distribute_backward``, the rule of ``max()`` and
    ``amax``)."""

    @staticmethod
    def forward(ctx, x, index_fn):
        flat = x.reshape(-1)
        i = int(index_fn(flat, 0)[0])
        y = flat[i:i + 1].reshape(()).copy()
        if ctx.next_edges:
            ctx.in_shape = x.shape
            ctx.mask = x != x if y != y else x == y
            ctx.cnt = ctx.mask.sum().astype(x.dtype)
        return y

    @staticmethod
    def backward(ctx, gy):
        return broadcast_to(gy / ctx.cnt, ctx.in_shape) * ctx.mask


def _median_index(a, d):
    xp = get_array_module(a)
    idx = _kth_index((a.shape[d] - 1) // 2)(a, d)
    if a.dtype.kind in "fcV":  # NaN propagates: pick the first NaN of such slices
        nan = xp.isnan(a)
        if bool(nan.any()):
            first = xp.expand_dims(nan.argmax(axis=d), d)
            idx = xp.where(xp.expand_dims(nan.any(axis=d), d), first, idx)
    return idx


@register(family=_RD, op=TakeAlongDim)
def median(x, dim=None, keepdim: bool = False):
    """``median(x)``: the lower median of all elements (0-d; NaN if any is NaN).
    ``median(x, dim, keepdim=False)``: ``(values, indices)``. The gradient of ``median(x)``
    is split evenly among the elements equal to the median; along ``dim`` it goes to the
    returned index."""
    _no_bool_select("median", x)
    if dim is None:
        xd = _data(x)
        if xd.size == 0:
            xp = get_array_module(xd)
            return _wrap(x, xp.asarray(xp.nan, dtype=xd.dtype))
        return Median.apply(x, index_fn=_median_index)
    return _dim_reduce(x, dim, keepdim, "median", _median_index, _median_rt)


def _no_bool_select(op, x):
    if x.dtype.kind == "b":
        raise NotImplementedError(f"{op}(): not implemented for bool tensors (as in "
                                  "PyTorch); convert first (x.int())")


@register(family=_RD, op=TakeAlongDim)
def kthvalue(x, k: int, dim: int = -1, keepdim: bool = False):
    """``(values, indices)`` of the ``k``-th smallest element (1-based) along ``dim``."""
    _no_bool_select("kthvalue", x)
    d = _dim1(dim, x.ndim, "kthvalue")
    n = x.shape[d] if x.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k={k} out of range for dimension {d} "
                         f"of size {n}")
    return _dim_reduce(x, d, keepdim, "kthvalue", _kth_index(k - 1), _kthvalue_rt)


# ---- logsumexp -----------------------------------------------------------------------------

class LogSumExp(Op):
    """``log(sum(exp(x)))`` computed stably as ``m + log(sum(exp(x - m)))`` with
    ``m = max(x)``; the gradient is ``exp(x - y)`` (the softmax)."""

    _torch_name = "LogsumexpBackward0"

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        xp = get_array_module(x)
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        ks = _keep_shape(x.shape, axes)
        if x.size == 0:
            m = xp.zeros(ks, dtype=x.dtype)
        else:
            m = x.max(axis=axes, keepdims=True)
            m = xp.where(xp.isfinite(m), m, 0).astype(x.dtype, copy=False)
        with np.errstate(divide="ignore"):
            y = xp.log(xp.exp(x - m).sum(axis=axes, keepdims=True)) + m
        if not keepdim:
            y = y.reshape(_out_shape(x.shape, axes, False))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        shape, axes, keepdim = ctx.in_shape, ctx.axes, ctx.keepdim
        return _expand_grad(gy, shape, axes, keepdim) * exp(x - _keep(y, shape, axes, keepdim))


@register(family=_RD, op=LogSumExp, int_to_float=True)
def logsumexp(x, dim=None, keepdim: bool = False):
    """``log(sum(exp(x), dim))``, numerically stable; integers are promoted to the default
    float dtype. ``dim`` None or () reduces all dims."""
    if x.dtype.kind in "biu":
        x = cast(x, get_default_dtype())
    axes = _dims(dim, x.ndim, "logsumexp")
    return LogSumExp.apply(x, axes=axes, keepdim=keepdim)


# ---- norm ----------------------------------------------------------------------------------

class Norm(Op):
    """Vector p-norm over ``axes``: ``(sum |x|^p)^(1/p)``, with p = 0 (count of nonzeros),
    1, 2, inf and -inf special-cased. The gradient is 0 where the norm is 0 (p > 0)."""

    _torch_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, x, p, axes, keepdim):
        xp = get_array_module(x)
        ctx.in_shape, ctx.axes, ctx.keepdim, ctx.p = x.shape, axes, keepdim, p
        a = xp.abs(x)
        if p == 2:
            y = xp.sqrt((a * a).sum(axis=axes, keepdims=keepdim))
        elif p == 1:
            y = a.sum(axis=axes, keepdims=keepdim)
        elif p == math.inf or p == -math.inf:
            y = (a.max if p > 0 else a.min)(axis=axes, keepdims=keepdim)
            if ctx.next_edges:
                yk = y if keepdim else y.reshape(_keep_shape(x.shape, axes))
                ctx.mask = (a == yk) | (a != a) & (yk != yk)  # a nan norm: the nan inputs
                ctx.cnt = ctx.mask.sum(axis=axes, keepdims=True).astype(a.dtype)
        elif p == 0:
            y = (x != 0).sum(axis=axes, keepdims=keepdim).astype(a.dtype)
        else:
            y = ((a ** p).sum(axis=axes, keepdims=keepdim)) ** (1.0 / p)
        y = y.astype(a.dtype, copy=False)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        shape, axes, keepdim, p = ctx.in_shape, ctx.axes, ctx.keepdim, ctx.p
        gk = _keep(gy, shape, axes, keepdim)
        if p == 0:
            return broadcast_to(gk, shape) * 0.0
        if p == 1:
            return broadcast_to(gk, shape) * sign(x)
        if p == math.inf or p == -math.inf:
            return broadcast_to(gk / ctx.cnt, shape) * ctx.mask * sign(x)
        yk = _keep(y, shape, axes, keepdim)
        if p == 2:
            return broadcast_to(gk / where(yk == 0, math.inf, yk), shape) * x
        ypm = yk ** (p - 1)
        c = gk / where(ypm == 0, math.inf, ypm)
        return broadcast_to(c, shape) * sign(x) * _abs(x) ** (p - 1)


@register(family=_RD, op=Norm, numpy="linalg.norm")
def norm(x, p="fro", dim=None, keepdim: bool = False, dtype=None):
    """Vector norm of all elements (``dim`` None) or over ``dim`` (int or tuple), like
    ``torch.norm``: ``p`` is 'fro' (= 2), a number, ``inf`` or ``-inf``. The p = 2
    gradient is 0 (not NaN) at x = 0."""
    if dtype is not None:
        x = cast(x, dtype)
    if isinstance(p, str):
        if p == "nuc":  # the sum of singular values: the SVD op of ops/linalg.py (above)
            if dim is None and x.ndim != 2:
                raise RuntimeError("linalg.matrix_norm: dim must be a 2-tuple. Got "
                                   + " ".join(str(d) for d in range(x.ndim)))
            return _registry_get("nuclear_norm").fn(x, dim, keepdim)
        if p != "fro":
            raise ValueError(f"norm(): p must be 'fro', 'nuc' or a number, got {p!r}")
        if dim is not None and not isinstance(dim, numbers.Integral) and len(dim) > 2:
            raise RuntimeError(f"norm(): p='fro' expects at most 2 dims, got dim={dim!r}")
        p = 2.0
    elif p is None:
        p = 2.0
    else:
        p = float(p)
    if x.dtype.kind not in "fcV":
        raise RuntimeError(
            f"norm(): Expected a floating point or complex tensor as input. Got {x.dtype}"
        )
    axes = _dims(dim, x.ndim, "norm")
    if p in (math.inf, -math.inf):
        _check_nonempty("norm", x.shape, axes)
    return Norm.apply(x, p=p, axes=axes, keepdim=keepdim)


# ---- cumulative --------------------------------------------------------------------------

class Cumsum(Op):
    @staticmethod
    def forward(ctx, x, axis, dtype=None):
        ctx.axis, ctx.in_dtype = axis, x.dtype
        if dtype is None and x.dtype.kind in "biu":
            dtype = np.int64
        xp = get_array_module(x)
        if dtype is None and (_half(x.dtype) or x.dtype == np.float32):
            # PyTorch's CPU running sum accumulates float16 in float32, float32 in float64
            acc = np.float32 if _half(x.dtype) else np.float64
            y = xp.cumsum(x, axis=axis, dtype=acc).astype(x.dtype)
        else:
            y = xp.cumsum(x, axis=axis, dtype=dtype)
        if y.dtype.kind in "fV":
            y += 0.0  # its sum starts from +0.: a leading -0. gives 0.
        return y

    @staticmethod
    def backward(ctx, gy):
        return _cast_back(_rev_cumsum(gy, ctx.axis), ctx.in_dtype)


def _rev_cumsum(a, axis):
    """``out[i] = sum_{j >= i} a[j]`` along ``axis`` (the backward of cumsum)."""
    return flip(Cumsum.apply(flip(a, (axis,)), axis=axis), (axis,))


class Cumprod(Op):
    """Cumulative product. Gradient: reverse-cumsum(gy * y) / x before the first zero of
    each slice; at the first zero, the sum of gy_j times the products with that zero left
    out; 0 after it (exact with zeros)."""

    @staticmethod
    def forward(ctx, x, axis, dtype=None):
        xp = get_array_module(x)
        ctx.axis, ctx.in_dtype = axis, x.dtype
        if dtype is None and x.dtype.kind in "biu":
            dtype = np.int64
        y = xp.cumprod(x, axis=axis, dtype=dtype)
        if ctx.next_edges:
            zero = x == 0
            ctx.before = None
            if bool(zero.any()):
                nz = xp.cumsum(zero, axis=axis)
                ctx.before = nz == 0  # strictly before the first zero of the slice
                ctx.first = zero & (nz == 1)
            ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        axis = ctx.axis
        a = _rev_cumsum(gy * y, axis)
        if ctx.before is None:
            return _cast_back(a / x, ctx.in_dtype)
        before, first = ctx.before, ctx.first
        g = where(before, a / where(before, x, 1.0), 0.0)
        c = Cumprod.apply(where(first, 1.0, x), axis=axis)  # products leaving the zero out
        s = Sum.apply(where(before, 0.0, gy * c), axes=(axis,), keepdim=True)
        return _cast_back(where(first, s, g), ctx.in_dtype)


def _cum(op_cls, name, x, dim, dtype):
    d = _dim1(dim, x.ndim, name)
    dt = None if dtype is None else np.dtype(dtype)
    if x.ndim == 0:
        return reshape(op_cls.apply(reshape(x, (1,)), axis=0, dtype=dt), ())
    return op_cls.apply(x, axis=d, dtype=dt)


@register(family=_RD, op=Cumsum, numpy="cumsum")
def cumsum(x, dim: int, *, dtype=None):
    """Cumulative sum along ``dim``; integers and bools give int64."""
    return _cum(Cumsum, "cumsum", x, dim, dtype)


@register(family=_RD, op=Cumprod)
def cumprod(x, dim: int, *, dtype=None):
    """Cumulative product along ``dim``; integers and bools give int64. The gradient is
    exact also when the input contains zeros."""
    return _cum(Cumprod, "cumprod", x, dim, dtype)


# ---- logical -------------------------------------------------------------------------------

def _logical(x, dim, keepdim, op):
    xd = _data(x)
    axes = _dims(dim, xd.ndim, op)
    xp = get_array_module(xd)
    r = getattr(xp, op)(xd, axis=axes, keepdims=keepdim)
    r = xp.asarray(r)
    if xd.dtype == np.uint8:  # PyTorch keeps uint8 for uint8 input
        r = r.astype(np.uint8)
    return _wrap(x, r)


@register(family=_RD, differentiable=False)
def all(x, dim=None, keepdim: bool = False):  # noqa: A001
    """True where every element along ``dim`` (all when None) is nonzero; bool, no grad."""
    return _logical(x, dim, keepdim, "all")


@register(family=_RD, differentiable=False)
def any(x, dim=None, keepdim: bool = False):  # noqa: A001
    """True where some element along ``dim`` (all when None) is nonzero; bool, no grad."""
    return _logical(x, dim, keepdim, "any")



# ---- softmax / log_softmax -----------------------------------------------------------------
# (moved here from nn.functional.activation so that ag.softmax and Tensor.softmax exist below
# nn, as in PyTorch; nn.functional re-exports them)

def _acc(x):
    """float16 and bfloat16 computed in float32 (PyTorch's CPU kernels accumulate them in
    float)."""
    return x.astype(np.float32) if _half(x.dtype) else x


# NumPy reduces a short innermost axis one row at a time (slow for (N, 10) logits): along
# the last dim, the max is taken over a transposed copy and the sum with einsum
_SHORT = 128


def _max_keep(xp, a, dim):
    if dim is not None and dim == a.ndim - 1 and a.ndim > 1 and a.shape[-1] <= _SHORT:
        return xp.ascontiguousarray(xp.moveaxis(a, -1, 0)).max(axis=0)[..., None]
    return a.max(axis=dim, keepdims=True)


def _sum_keep(xp, a, dim):
    if dim is not None and dim == a.ndim - 1 and a.ndim > 1 and a.dtype.kind in "fV":
        # accumulated in float64 (einsum adds in order; NumPy's and PyTorch's sums are
        # pairwise/vectorised): the rounded result agrees with theirs
        acc = xp.float64 if a.dtype != xp.float64 else None
        return xp.einsum("...i->...", a, dtype=acc).astype(a.dtype, copy=False)[..., None]
    return a.sum(axis=dim, keepdims=True)


def _sum_dim(g, dim):
    """``sum(g, dim, keepdim=True)``: ops on Tensors (create_graph), fast path on arrays."""
    if isinstance(g, Tensor):
        return sum(g, dim=dim, keepdim=True)
    return _sum_keep(get_array_module(g), g, dim if g.ndim else None)


class LogSoftmax(Op):
    """``x - max - log(sum(exp(x - max)))`` along ``dim``; the gradient is
    ``gy - exp(y) * sum(gy)``."""

    @staticmethod
    def forward(ctx, x, dim):
        xp = get_array_module(x)
        ctx.dim = dim
        a = _acc(x)
        dim = dim if a.ndim else None
        if a.size == 0:
            y = a.copy()
        else:
            # a row that is all -inf (every position masked) gives NaN like PyTorch, without
            # NumPy's "invalid value" warning for its -inf - -inf
            with np.errstate(invalid="ignore"):
                z = a - _max_keep(xp, a, dim)
                se = _sum_keep(xp, xp.exp(z), dim)
                if x.dtype == np.float16 and dim == x.ndim - 1:
                    se = se.astype(np.float16).astype(np.float32)  # PyTorch's last-dim kernel
                z -= xp.log(se)
            y = z
        y = y.astype(x.dtype, copy=False)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy - exp(y) * _sum_dim(gy, ctx.dim)


class Softmax(Op):
    """``exp(x - max) / sum(exp(x - max))`` along ``dim``; the gradient is
    ``y * (gy - sum(gy * y))``."""

    @staticmethod
    def forward(ctx, x, dim):
        xp = get_array_module(x)
        ctx.dim = dim
        a = _acc(x)
        dim = dim if a.ndim else None
        if a.size == 0:
            y = a.copy()
        else:
            # a row that is all -inf (every position masked) gives NaN like PyTorch, without
            # NumPy's "invalid value" warning for its -inf - -inf
            with np.errstate(invalid="ignore"):
                z = xp.exp(a - _max_keep(xp, a, dim))
                z /= _sum_keep(xp, z, dim)
            y = z
        y = y.astype(x.dtype, copy=False)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        gyy = gy * y
        return gyy - y * _sum_dim(gyy, ctx.dim)


def _softmax_args(op: str, x, dim, dtype):
    d = _dim1(dim, x.ndim, op)
    if dtype is not None:
        x = cast(x, dtype) if not isinstance(x, Tensor) else x.to(dtype)
    if not _is_float(x.dtype):
        name = "Bool" if x.dtype.kind == "b" else {
            1: "Byte" if x.dtype.kind == "u" else "Char", 2: "Short", 4: "Int",
            8: "Long"}.get(x.dtype.itemsize, str(x.dtype))
        raise NotImplementedError(f'"{op}_lastdim_kernel_impl" not implemented for '
                                  f"'{name}'")
    return x, d


@register(family=_RD, op=Softmax, arity=1)
def softmax(x, dim: int, dtype=None):
    """``exp(x) / sum(exp(x))`` along ``dim``, computed stably (the maximum subtracted);
    ``dtype`` casts the input first. Floating inputs only, as in PyTorch."""
    x, d = _softmax_args("softmax", x, dim, dtype)
    return Softmax.apply(x, dim=d)


@register(family=_RD, op=LogSoftmax, arity=1)
def log_softmax(x, dim: int, dtype=None):
    """``log(softmax(x, dim))``, computed stably; ``dtype`` casts the input first."""
    x, d = _softmax_args("log_softmax", x, dim, dtype)
    return LogSoftmax.apply(x, dim=d)
