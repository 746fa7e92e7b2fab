"""Indexing: ``t[...]`` (basic and advanced), index assignment, gather/scatter and friends.

Gradients of indexing scatter-add into a zero tensor, so repeated indices accumulate.

Most ops here are ``t[index]`` in disguise: ``gather``, ``index_select``, ``take_along_dim``
and the values of ``sort``/``topk`` build a full advanced index (one integer array per dim)
and run ``GetItem``, whose backward is ``IndexGrad`` (a scatter-add) and vice versa, so all of
them are differentiable any number of times with two formulas. ``scatter`` is ``SetItem``
with such an index; ``scatter_add`` adds at it (its backward is a gather).
"""

from __future__ import annotations

import numbers
from collections import namedtuple

import numpy as np

from ..backend import add_at, get_array_module
from ..function import Op
from ..registry import register
from ..tensor import Tensor, _make
from .elementwise import cast, where
from .shape import _norm_dim, broadcast_to, reshape, sum_to

_IX = "indexing"


def _convert_index(index):
    """Turn Tensors inside an index into arrays; return (index, is_basic)."""
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    basic = True
    for ix in index:
        if isinstance(ix, Tensor):
            ix = ix._data
        if isinstance(ix, list):
            ix = np.asarray(ix)
            if ix.size == 0:
                ix = ix.astype(np.int64)  # x[[]]: an empty integer index
        if hasattr(ix, "dtype") and hasattr(ix, "shape"):
            if ix.ndim == 0 and ix.dtype.kind in "iu":
                ix = int(ix)
            else:
                basic = False
                if ix.dtype.kind not in "biu":
                    raise IndexError(
                        f"tensors used as indices must be long, int or bool tensors; got "
                        f"{ix.dtype}"
                    )
        elif not (ix is None or ix is Ellipsis or isinstance(ix, (int, slice, np.integer))):
            raise IndexError(f"index of type {type(ix).__name__} is not supported")
        out.append(ix)
    return tuple(out), basic


class GetItem(Op):
    @staticmethod
    def forward(ctx, x, index, basic):
        ctx.in_shape, ctx.dtype, ctx.index, ctx.basic = x.shape, x.dtype, index, basic
        try:
            return x[index]
        except IndexError as e:
            raise IndexError(f"index {index!r} is invalid for a tensor of shape "
                             f"{list(x.shape)}: {e}") from None

    @staticmethod
    def backward(ctx, gy):
        return _index_grad(gy, ctx.in_shape, ctx.index, ctx.basic)


class IndexGrad(Op):
    """Scatter ``gy`` into zeros of ``shape`` at ``index`` (the backward of GetItem); its own
    backward is GetItem, so indexing is twice differentiable."""

    @staticmethod
    def forward(ctx, gy, shape, index, basic):
        ctx.index, ctx.basic = index, basic
        xp = get_array_module(gy)
        gx = xp.zeros(shape, dtype=gy.dtype)
        if basic:
            gx[index] = gy
        else:
            add_at(xp, gx, index, gy)
        return gx

    @staticmethod
    def backward(ctx, ggx):
        return getitem_raw(ggx, ctx.index, ctx.basic)


def _index_grad(gy, shape, index, basic):
    return IndexGrad.apply(gy, shape=shape, index=index, basic=basic)


def getitem_raw(x, index, basic):
    if not isinstance(x, Tensor):
        return x[index]
    return GetItem.apply(x, index=index, basic=basic)


def getitem(x, index):
    """``x[index]`` with ints, slices, None, Ellipsis, integer or boolean tensors/arrays."""
    idx, basic = _convert_index(index)
    if len(idx) == 1 and not isinstance(index, tuple):
        idx_use = idx[0] if basic is False else idx
    else:
        idx_use = idx
    out = GetItem.apply(x, index=idx_use, basic=basic)
    if basic:
        # a view: in-place ops on it must update x's graph too (see ops/inplace.py)
        out._vc = x._vc
        if x._exposed:
            out._exposed = True
        out._base = x
        out._view_index = idx_use
    return out


class SetItem(Op):
    """``x[index] = v`` recorded as an op: the gradient of the overwritten part is zero."""

    @staticmethod
    def forward(ctx, x, v, index, basic):
        ctx.index, ctx.basic = index, basic
        ctx.v_shape = getattr(v, "shape", ())
        ctx.v_dtype = getattr(v, "dtype", None)
        y = x.copy()
        y[index] = v
        return y

    @staticmethod
    def backward(ctx, gy):
        gx = gv = None
        if ctx.next_edges[0] is not None:
            gx = gy * _mask_out(gy, ctx.index)
        if ctx.next_edges[1] is not None:
            gv = getitem_raw(gy, ctx.index, ctx.basic)
            gv = sum_to(gv, ctx.v_shape)
            if ctx.v_dtype is not None and gv.dtype != ctx.v_dtype:
                gv = cast(gv, ctx.v_dtype)
        return gx, gv


def _mask_out(g, index):
    d = g._data if isinstance(g, Tensor) else g
    xp = get_array_module(d)
    m = xp.ones(d.shape, dtype=d.dtype)
    m[index] = 0
    return m


# ---- gather / scatter family ---------------------------------------------------------------

def _arr(a):
    return a._data if isinstance(a, Tensor) else a


def _as_index(op: str, index, xp):
    """An integer index array from a Tensor, array, list or int; anything else is an error."""
    d = index._data if isinstance(index, Tensor) else index
    if isinstance(d, (list, tuple, numbers.Integral)):
        d = np.asarray(d)
    if not hasattr(d, "dtype") or d.dtype.kind not in "iu":
        got = getattr(d, "dtype", type(d).__name__)
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index, but got {got}")
    return xp.asarray(d)


def _check_range(op: str, idx, size: int, dim: int, negative: bool = False,
                 exc=RuntimeError) -> None:
    """Every value of ``idx`` must be in [0, size) (or [-size, size) when ``negative``)."""
    if idx.size == 0:
        return
    lo, hi = int(idx.min()), int(idx.max())
    low = -size if negative else 0
    if lo < low or hi >= size:
        bad = lo if lo < low else hi
        raise exc(f"{op}(): index {bad} is out of bounds for dimension {dim} with size {size}")


def _dim_index(index, dim: int) -> tuple:
    """The full advanced index that picks ``x[..., index[i, j, k], ...]`` along ``dim``:
    ``index`` at ``dim`` and a broadcastable ``arange`` at every other dim."""
    xp = get_array_module(index)
    n = index.ndim
    out = []
    for d in range(n):
        if d == dim:
            out.append(index)
        else:
            shp = [1] * n
            shp[d] = index.shape[d]
            out.append(xp.arange(index.shape[d]).reshape(shp))
    return tuple(out)


def _norm(dim: int, ndim: int, op: str) -> int:
    return _norm_dim(dim, ndim, op)


class Gather(GetItem):
    """``gather``, ``index_select``, ``take_along_dim``, ``sort``/``topk`` values: a GetItem
    with a full advanced index; backward scatter-adds (IndexGrad)."""


class IndexSelect(GetItem):
    pass


@register(family=_IX, op=Gather)
def gather(x, dim: int, index, *, sparse_grad: bool = False):
    """``out[i][j][k] = x[index[i][j][k]][j][k]`` (for ``dim=0``); ``index`` has x's ndim
    and is no larger than x outside ``dim``. Gradients of repeated indices accumulate."""
    xd = _arr(x)
    xp = get_array_module(xd)
    idx = _as_index("gather", index, xp)
    if xd.ndim == 0 and idx.ndim <= 1:
        return reshape(gather(reshape(x, (1,)), 0, idx.reshape(-1)), idx.shape)
    d = _norm(dim, xd.ndim, "gather")
    if idx.ndim != xd.ndim:
        raise RuntimeError(
            f"gather(): Index tensor must have the same number of dimensions as input tensor "
            f"(index shape {list(idx.shape)}, input shape {list(xd.shape)})"
        )
    for k in range(xd.ndim):
        if k != d and idx.shape[k] > xd.shape[k]:
            raise RuntimeError(
                f"gather(): Size does not match at dimension {k} expected index "
                f"{list(idx.shape)} to be no larger than self {list(xd.shape)} apart from "
                f"dimension {d}"
            )
    _check_range("gather", idx, xd.shape[d], d)
    return Gather.apply(x, index=_dim_index(idx, d), basic=False)


def _scatter_checks(op: str, x, dim: int, index, src):
    xd = _arr(x)
    xp = get_array_module(xd)
    idx = _as_index(op, index, xp)
    d = _norm(dim, xd.ndim, op)
    if idx.ndim != xd.ndim and not (xd.ndim == 0 and idx.ndim <= 1):
        raise RuntimeError(
            f"{op}(): Index tensor must have the same number of dimensions as self tensor "
            f"(index shape {list(idx.shape)}, self shape {list(xd.shape)})"
        )
    if src is not None and hasattr(src, "shape"):
        sd = _arr(src)
        if sd.dtype != xd.dtype:
            raise RuntimeError(
                f"{op}(): Expected self.dtype to be equal to src.dtype (self is {xd.dtype}, "
                f"src is {sd.dtype})"
            )
        if sd.ndim != idx.ndim or any(i > s for i, s in zip(idx.shape, sd.shape)):
            raise RuntimeError(
                f"{op}(): Expected index {list(idx.shape)} to be no larger than src "
                f"{list(sd.shape)} in every dimension (and to have as many dims)"
            )
    for k in range(xd.ndim):
        if k != d and idx.shape[k] > xd.shape[k]:
            raise RuntimeError(
                f"{op}(): Expected index {list(idx.shape)} to be no larger than self "
                f"{list(xd.shape)} apart from dimension {d}"
            )
    if xd.ndim == 0:
        _check_range(op, idx, 1, 0)
        return (), None
    _check_range(op, idx, xd.shape[d], d)
    return _dim_index(idx, d), idx.shape


def _slice_to(src, shape):
    """``src[:shape[0], :shape[1], ...]`` (the part of src that scatter reads)."""
    if shape is None or tuple(src.shape) == tuple(shape):
        return src
    return getitem_raw(src, tuple(slice(0, n) for n in shape), True)


class Scatter(SetItem):
    """``scatter``: a SetItem at a full advanced index (the gradient of overwritten elements
    of x is zero; src's gradient is gathered from the output gradient)."""


class ScatterAdd(Op):
    @staticmethod
    def forward(ctx, x, src, index):
        ctx.index = index
        y = x.copy()
        add_at(get_array_module(x), y, index, src)
        return y

    @staticmethod
    def backward(ctx, gy):
        gx = gy if ctx.next_edges[0] is not None else None
        gs = getitem_raw(gy, ctx.index, False) if ctx.next_edges[1] is not None else None
        return gx, gs


class ScatterReduce(Op):
    """``scatter(..., reduce='add'|'multiply')``: forward only, like PyTorch."""

    @staticmethod
    def forward(ctx, x, src, index, reduce):
        ctx.reduce = reduce
        xp = get_array_module(x)
        y = x.copy()
        if reduce == "add":
            add_at(xp, y, index, src)
        else:
            xp.multiply.at(y, index, src)
        return y

    @staticmethod
    def backward(ctx, gy):
        raise RuntimeError(
            f"the derivative for scatter with reduce={ctx.reduce!r} is not implemented (as in "
            "PyTorch); use scatter_add, or scatter without reduce"
        )


@register(family=_IX, op=Scatter, inplace=True)
def scatter(x, dim: int, index, src=None, value=None, *, reduce=None):
    """Out-of-place ``scatter``: a copy of x with ``out[index[i][j]][j] = src[i][j]`` (for
    ``dim=0``); pass a Tensor ``src`` or a number ``value``. ``reduce`` is 'add' or
    'multiply' (not differentiable, like PyTorch)."""
    if src is not None and value is not None:
        raise TypeError("scatter(): pass either src or value, not both")
    if src is not None and not isinstance(src, Tensor) and not hasattr(src, "shape"):
        src, value = None, src  # scatter(dim, index, 1.5)
    if src is None and value is None:
        raise TypeError("scatter(): missing the src tensor or the value to scatter")
    if reduce is not None and reduce not in ("add", "multiply"):
        raise RuntimeError(f"scatter(): reduce argument must be either add or multiply, got "
                           f"{reduce!r}")
    full, ishape = _scatter_checks("scatter", x, dim, index, src)
    v = value if src is None else _slice_to(src, ishape)
    if reduce is not None:
        return ScatterReduce.apply(x, v, index=full, reduce=reduce)
    return Scatter.apply(x, v, index=full, basic=False)


@register(family=_IX, op=ScatterAdd, inplace=True)
def scatter_add(x, dim: int, index, src):
    """Out-of-place ``scatter_add``: a copy of x with ``out[index[i][j]][j] += src[i][j]``
    (for ``dim=0``); repeated indices accumulate. src's gradient is a gather."""
    if not hasattr(src, "shape"):
        raise TypeError(f"scatter_add(): src must be a tensor, got {type(src).__name__}")
    full, ishape = _scatter_checks("scatter_add", x, dim, index, src)
    return ScatterAdd.apply(x, _slice_to(src, ishape), index=full)


@register(family=_IX, op=IndexSelect)
def index_select(x, dim: int, index):
    """The entries of x at positions ``index`` (a 1-D integer tensor) along ``dim``."""
    xd = _arr(x)
    xp = get_array_module(xd)
    idx = _as_index("index_select", index, xp)
    if idx.ndim > 1:
        raise IndexError(
            f"index_select(): Index is supposed to be a vector, got index of shape "
            f"{list(idx.shape)}"
        )
    idx = idx.reshape(-1)
    if xd.ndim == 0:
        _check_range("index_select", idx, 1, 0, exc=IndexError)
        return reshape(index_select(reshape(x, (1,)), 0, idx), ()) if idx.size == 1 else \
            index_select(reshape(x, (1,)), 0, idx)
    d = _norm(dim, xd.ndim, "index_select")
    _check_range("index_select", idx, xd.shape[d], d, exc=IndexError)
    return IndexSelect.apply(x, index=(slice(None),) * d + (idx,), basic=False)


@register(family=_IX, op=Gather)
def take_along_dim(x, indices, dim=None):
    """Pick values along ``dim`` at ``indices`` (broadcast with x outside ``dim``; negative
    indices count from the end), like ``numpy.take_along_axis``. With ``dim=None`` both are
    flattened first."""
    xd = _arr(x)
    xp = get_array_module(xd)
    idx = _as_index("take_along_dim", indices, xp)
    if dim is None:
        x = reshape(x, (-1,))
        idx = idx.reshape(-1)
        d = 0
    else:
        if idx.ndim != xd.ndim:
            raise RuntimeError(
                f"take_along_dim(): input and indices should have the same number of "
                f"dimensions, but got {xd.ndim} dimensions for input (shape {list(xd.shape)}) "
                f"and {idx.ndim} dimensions for indices (shape {list(idx.shape)})"
            )
        d = _norm(dim, xd.ndim, "take_along_dim")
        if xd.ndim == 0:
            x, idx = reshape(x, (1,)), idx.reshape(1)
    n = x.shape[d]
    _check_range("take_along_dim", idx, n, d, negative=True)
    idx = xp.where(idx < 0, idx + n, idx)
    xs, ks = list(x.shape), list(idx.shape)
    xs[d] = ks[d] = 1
    try:
        b = list(np.broadcast_shapes(tuple(xs), tuple(ks)))
    except ValueError:
        raise RuntimeError(
            f"take_along_dim(): input of shape {list(x.shape)} and indices of shape "
            f"{list(idx.shape)} cannot be broadcast together outside dim {d}"
        ) from None
    bx, bi = list(b), list(b)
    bx[d], bi[d] = x.shape[d], idx.shape[d]
    if tuple(bx) != tuple(x.shape):
        x = broadcast_to(x, tuple(bx))
    idx = xp.broadcast_to(idx, tuple(bi))
    out = Gather.apply(x, index=_dim_index(idx, d), basic=False)
    if dim is not None and xd.ndim == 0:
        out = reshape(out, ())
    return out


# ---- masked_fill, tril/triu ---------------------------------------------------------------

class MaskedFill(Op):
    """``where(mask, value, x)`` in x's dtype; value's gradient is the sum of the output
    gradient over the masked positions, x's is the output gradient elsewhere."""

    @staticmethod
    def forward(ctx, mask, value, x):
        xp = get_array_module(x)
        ctx.save_for_backward(mask)
        ctx.x_shape = x.shape
        v = value.astype(x.dtype) if hasattr(value, "dtype") else xp.asarray(value, x.dtype)
        return xp.where(mask, v, x)

    @staticmethod
    def backward(ctx, gy):
        (mask,) = ctx.saved_tensors
        gv = gx = None
        if ctx.next_edges[1] is not None:
            gv = sum_to(where(mask, gy, 0.0), ())
        if ctx.next_edges[2] is not None:
            gx = sum_to(where(mask, 0.0, gy), ctx.x_shape)
        return None, gv, gx


@register(family=_IX, op=MaskedFill, inplace=True)
def masked_fill(x, mask, value):
    """A copy of x with ``value`` (a number or a 0-d tensor) where the bool ``mask`` is
    True; ``mask`` broadcasts with x."""
    xd, md = _arr(x), _arr(mask)
    if not hasattr(md, "dtype"):
        md = np.asarray(md)
        mask = md
    if md.dtype.kind != "b":
        raise RuntimeError(
            f"masked_fill: only supports boolean masks, but got mask with dtype {md.dtype}"
        )
    try:
        np.broadcast_shapes(tuple(md.shape), tuple(xd.shape))
    except ValueError:
        raise RuntimeError(
            f"masked_fill: the mask of shape {list(md.shape)} is not broadcastable with the "
            f"tensor of shape {list(xd.shape)}"
        ) from None
    if isinstance(value, Tensor) or hasattr(value, "shape"):
        if value.ndim != 0:
            raise RuntimeError(
                f"masked_fill only supports a 0-dimensional value tensor, but got tensor with "
                f"{value.ndim} dimension(s)."
            )
        if not isinstance(value, Tensor):
            value = value.item()
        elif value.dtype != xd.dtype:
            value = cast(value, xd.dtype)
    elif not isinstance(value, numbers.Number):
        raise TypeError(f"masked_fill: value must be a number or a 0-d tensor, got "
                        f"{type(value).__name__}")
    return MaskedFill.apply(mask, value, x)


class Tril(Op):
    """The lower triangle of the last two dims; its backward is itself (``Triu`` likewise)."""

    _upper = False

    @staticmethod
    def forward(ctx, x, diagonal):
        ctx.diagonal = diagonal
        xp = get_array_module(x)
        r, c = x.shape[-2:]
        if ctx._upper:
            m = ~xp.tri(r, c, diagonal - 1, dtype=bool)
        else:
            m = xp.tri(r, c, diagonal, dtype=bool)
        return xp.where(m, x, xp.zeros((), dtype=x.dtype))

    @staticmethod
    def backward(ctx, gy):
        return type(ctx).apply(gy, diagonal=ctx.diagonal)


class Triu(Tril):
    _upper = True


def _tri(x, diagonal, op):
    name = op.__name__.lower()
    if x.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions (got shape "
                           f"{list(x.shape)})")
    return op.apply(x, diagonal=int(diagonal))


@register(family=_IX, op=Tril, inplace=True)
def tril(x, diagonal: int = 0):
    """The lower triangle of the last two dims (elements with ``col - row <= diagonal``)."""
    return _tri(x, diagonal, Tril)


@register(family=_IX, op=Triu, inplace=True)
def triu(x, diagonal: int = 0):
    """The upper triangle of the last two dims (elements with ``col - row >= diagonal``)."""
    return _tri(x, diagonal, Triu)


# ---- sorting ------------------------------------------------------------------------------

SortResult = namedtuple("sort", ["values", "indices"])
TopkResult = namedtuple("topk", ["values", "indices"])


def _argsort_array(a, axis: int, descending: bool):
    """Stable argsort along ``axis``; descending keeps equal elements in index order and
    puts NaN first (PyTorch's order: NaN is larger than everything)."""
    xp = get_array_module(a)
    kw = {"kind": "stable"} if xp is np else {}
    if not descending:
        return xp.argsort(a, axis=axis, **kw)
    n = a.shape[axis]
    r = xp.flip(xp.argsort(xp.flip(a, axis), axis=axis, **kw), axis)
    return (n - 1) - r


def _sorted_indices(op: str, x, dim: int, descending: bool):
    """(int64 indices that sort x along dim, the normalised dim); x has at least 1 dim."""
    xd = _arr(x)
    d = _norm(dim, xd.ndim, op)
    return _argsort_array(xd, d, descending).astype(np.int64), d


def _wrap_index(x, idx):
    return _make(idx) if isinstance(x, Tensor) else idx


def _on_1d(op: str, fn, x, dim):
    """Run a sorting op ``fn(x1d)`` on a 0-d tensor as on a 1-element 1-D one."""
    _norm(dim, 0, op)
    out = fn(reshape(x, (1,)))
    if out[1].shape[0] != 1:
        return out
    return type(out)(*(reshape(o, ()) for o in out))


@register(family=_IX, op=Gather)
def sort(x, dim: int = -1, descending: bool = False, stable: bool = False):
    """Sort along ``dim``; returns ``(values, indices)`` (``.values``, ``.indices``). The
    sort is always stable; values are differentiable (a gather)."""
    if x.ndim == 0:
        return _on_1d("sort", lambda t: sort(t, 0, descending), x, dim)
    idx, d = _sorted_indices("sort", x, dim, descending)
    return SortResult(Gather.apply(x, index=_dim_index(idx, d), basic=False),
                      _wrap_index(x, idx))


@register(family=_IX, differentiable=False)
def argsort(x, dim: int = -1, descending: bool = False, stable: bool = False):
    """The indices that sort x along ``dim`` (an int64 tensor; no gradient)."""
    if x.ndim == 0:
        return sort(x, dim, descending).indices
    idx, _ = _sorted_indices("argsort", x, dim, descending)
    return _wrap_index(x, idx)


@register(family=_IX, op=Gather)
def topk(x, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The ``k`` largest (or smallest) entries along ``dim``; returns ``(values, indices)``,
    always sorted. Values are differentiable (a gather)."""
    if x.ndim == 0:
        return _on_1d("topk", lambda t: topk(t, k, 0, largest), x, dim)
    d = _norm(dim, x.ndim, "topk")
    n = x.shape[d]
    k = int(k)
    if not 0 <= k <= n:
        raise RuntimeError(
            f"topk(): selected index k out of range (k={k}, but dim {dim} of the input of "
            f"shape {list(x.shape)} has size {n})"
        )
    idx, d = _sorted_indices("topk", x, d, largest)
    idx = idx[(slice(None),) * d + (slice(0, k),)]
    return TopkResult(Gather.apply(x, index=_dim_index(idx, d), basic=False),
                      _wrap_index(x, idx))


@register(family=_IX, differentiable=False)
def nonzero(x, as_tuple: bool = False):
    """Indices of the non-zero entries: an ``(n, ndim)`` int64 tensor, or with
    ``as_tuple=True`` one 1-D tensor per dim (a 0-d input counts as 1-D)."""
    xd = _arr(x)
    xp = get_array_module(xd)
    if as_tuple:
        parts = tuple(p.astype(np.int64) for p in xp.nonzero(xp.atleast_1d(xd)))
        return tuple(_make(p) for p in parts) if isinstance(x, Tensor) else parts
    r = xp.argwhere(xd).astype(np.int64)
    return _make(r) if isinstance(x, Tensor) else r


@register(family=_IX, differentiable=False)
def argwhere(x):
    return nonzero(x)


_ = _make
