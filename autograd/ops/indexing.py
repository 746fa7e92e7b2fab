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
import warnings

import numpy as np

from ..backend import add_at, get_array_module, to_numpy
from ..function import Op, named
from ..registry import register
from ..return_types import structseq
from ..tensor import Tensor, _make
from .elementwise import Clone, cast, where
from .shape import _norm_dim, broadcast_to, meshgrid, permute, reshape, stack, sum_to

_IX = "indexing"


def _convert_index(index):
    """Turn Tensors inside an index into arrays; return (index, is_basic)."""
    if isinstance(index, list) and _sequence_as_tuple(index):
        warnings.warn("Using a non-tuple sequence for multidimensional indexing is deprecated "
                      "and will be changed in pytorch 2.9; use x[tuple(seq)] instead of "
                      "x[seq]. In pytorch 2.9 this will be interpreted as tensor index, "
                      "x[torch.tensor(seq)], which will result either in an error or a "
                      "different result", UserWarning, stacklevel=3)
        index = tuple(index)  # x[[0, [1, 2]]] is x[0, [1, 2]], as PyTorch (and old NumPy)
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    basic = True
    for ix in index:
        if isinstance(ix, Tensor):
            ix = ix._data
            # PyTorch takes int64, int32, uint8 and bool index tensors only (a NumPy array
            # of another integer type is converted to int64 first, so it indexes)
            if ix.ndim and ix.dtype.kind in "iu" and ix.dtype not in _INDEX_DTYPES:
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 f"tensors; got {ix.dtype}")
        elif isinstance(ix, slice) and ix.step is not None and ix.step < 0:
            raise ValueError("step must be greater than zero")
        if isinstance(ix, (list, tuple, range)):  # a sequence in an index is an index tensor
            ix = np.asarray([v._data if isinstance(v, Tensor) else v for v in ix]
                            if any(isinstance(v, Tensor) for v in ix) else ix)
            if ix.size == 0:
                ix = ix.astype(np.int64)  # x[[]]: an empty integer index
        if hasattr(ix, "dtype") and hasattr(ix, "shape"):
            if ix.dtype == np.uint8:  # a byte tensor is a mask (even 0-d), as in PyTorch
                warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use "
                              "a dtype torch.bool instead.", UserWarning, stacklevel=3)
                ix = ix.astype(bool)
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


_INDEX_DTYPES = (np.dtype(np.int64), np.dtype(np.int32), np.dtype(np.uint8))


def _sequence_as_tuple(seq) -> bool:
    """PyTorch's rule (python_variable_indexing.cpp ``treatSequenceAsTuple``): a list index
    shorter than 32 that holds a Tensor, a sequence, a slice, Ellipsis or None is a tuple."""
    if len(seq) >= 32:
        return False
    return any(isinstance(v, (Tensor, list, tuple, slice)) or v is None or v is Ellipsis
               or (hasattr(v, "ndim") and v.ndim > 0) for v in seq)


class TwoStep:
    """An index applied in two steps, ``a[first][second]`` (``first`` basic, so the second
    step reads and writes through a view): PyTorch's integers-before-tensors rule."""

    __slots__ = ("first", "second")

    def __init__(self, first, second):
        self.first, self.second = first, second

    def __repr__(self) -> str:
        return f"[{self.first!r}][{self.second!r}]"


def _get(a, index):
    return a[index.first][index.second] if index.__class__ is TwoStep else a[index]


def _set(a, index, v) -> None:
    """``a[index] = v``. A value that cannot be written there (a shape that does not
    broadcast to the indexed part, NaN into an integer tensor) raises RuntimeError, as in
    PyTorch, not NumPy's ValueError."""
    try:
        if index.__class__ is TwoStep:
            a[index.first][index.second] = v
        else:
            a[index] = v
    except ValueError as e:
        raise RuntimeError(
            f"index assignment: a value of shape {list(getattr(v, 'shape', ()))} cannot be "
            f"written into the indexing result of shape {list(_get(a, index).shape)}: {e}"
        ) from None


class GetItem(Op):
    def _overload_name(self) -> str:
        """PyTorch's name for ``x[index]``: it applies a basic index dim by dim (an int
        selects, a slice that is not the whole dim slices, None unsqueezes) and names the
        node after the last step; an advanced index (tensors, lists, masks) is IndexBackward0;
        nothing but whole slices and ``...`` is AliasBackward0, a lone slice SliceBackward0."""
        index = self.index
        if not self.basic or any(ix is True or ix is False for ix in index):
            return "IndexBackward0"
        if len(index) == 1 and index[0].__class__ is slice:
            return "SliceBackward0"
        shape = self.in_shape
        rest = len(shape) - sum(ix is not None and ix is not Ellipsis for ix in index)
        name, d = "AliasBackward0", 0
        for ix in index:
            if ix is None:
                name = "UnsqueezeBackward0"
            elif ix is Ellipsis:
                d += rest
            elif ix.__class__ is slice:
                if ix.indices(shape[d]) != (0, shape[d], 1):
                    name = "SliceBackward0"
                d += 1
            else:
                name, d = "SelectBackward0", d + 1
        return name

    @staticmethod
    def forward(ctx, x, index, basic):
        ctx.in_shape, ctx.dtype, ctx.index, ctx.basic = x.shape, x.dtype, index, basic
        try:
            y = _get(x, index)
        except IndexError as e:
            raise IndexError(f"index {index!r} is invalid for a tensor of shape "
                             f"{list(x.shape)}: {e}") from None
        if not basic and not y.flags.c_contiguous:  # NumPy may lay x[:, [0, 2]] out with
            y = get_array_module(y).ascontiguousarray(y)  # the index dim last; PyTorch: C
        return y

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
        elif index.__class__ is TwoStep:
            add_at(xp, gx[index.first], index.second, gy)
        else:
            _ufunc_at(xp, "add", gx, index, gy)
        return gx

    @staticmethod
    def backward(ctx, ggx):
        return getitem_raw(ggx, ctx.index, ctx.basic)


def _index_grad(gy, shape, index, basic):
    return IndexGrad.apply(gy, shape=shape, index=index, basic=basic)


def getitem_raw(x, index, basic):
    if not isinstance(x, Tensor):
        return _get(x, index)
    return GetItem.apply(x, index=index, basic=basic)


def _split_ints(idx):
    """PyTorch applies the integers of an index with tensors in it as plain selections
    first (they are not advanced indices, as NumPy counts them): ``x[1, :, idx]`` is
    ``x[1][:, idx]``, which decides where the indexed dims go. Returns (first, second) or
    None when there is nothing to split."""
    if not any(isinstance(ix, (int, np.integer)) and not isinstance(ix, bool) for ix in idx):
        return None
    first, second = [], []
    for ix in idx:
        if isinstance(ix, (int, np.integer)) and not isinstance(ix, bool):
            first.append(ix)
        elif hasattr(ix, "dtype"):
            k = ix.ndim if ix.dtype.kind == "b" else 1
            first += [slice(None)] * k
            second.append(ix)
        elif ix is None:
            first.append(None)
            second.append(slice(None))
        elif ix is Ellipsis:
            first.append(Ellipsis)
            second.append(Ellipsis)
        else:  # a slice: applied in the first step
            first.append(ix)
            second.append(slice(None))
    return tuple(first), tuple(second)


def getitem(x, index):
    """``x[index]`` with ints, slices, None, Ellipsis, integer or boolean tensors/arrays
    (PyTorch's rules: integers select before tensors index, see ``_split_ints``)."""
    idx, basic = _convert_index(index)
    if not basic:
        parts = _split_ints(idx)
        if parts is not None:
            return getitem(getitem(x, parts[0]), parts[1])
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
        _set(y, index, v)
        return y

    @staticmethod
    def backward(ctx, gy):
        gx = gv = None
        if ctx.next_edges[0] is not None:
            # where, not a product: the overwritten part gets +0, as PyTorch (not -0)
            gx = where(_mask_out(gy, ctx.index) != 0, gy, 0.0)
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
    _set(m, index, 0)
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

    _torch_name = "GatherBackward0"


class IndexSelect(GetItem):
    _torch_name = "IndexSelectBackward0"


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
        _ufunc_at(get_array_module(x), "add", y, index, src)
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
    # PyTorch's scatter.src is ScatterBackward0, scatter.value ScatterBackward1
    return named(Scatter.apply(x, v, index=full, basic=False),
                 "ScatterBackward0" if src is not None else "ScatterBackward1")


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



def _bool_mask(op: str, torch_op: str, xd, mask):
    """``mask``'s array and the shape it broadcasts to with ``xd``; PyTorch's RuntimeErrors
    (named ``torch_op``, as PyTorch names them) for a mask that is not bool or does not
    broadcast."""
    md = _arr(mask)
    if not hasattr(md, "dtype"):
        md = np.asarray(md)
    if md.dtype.kind != "b":
        raise RuntimeError(
            f"{torch_op}: expected BoolTensor for mask, but got mask with dtype {md.dtype}")
    try:
        return md, np.broadcast_shapes(tuple(md.shape), tuple(xd.shape))
    except ValueError:
        raise RuntimeError(
            f"{op}: the mask of shape {list(md.shape)} is not broadcastable with the tensor "
            f"of shape {list(xd.shape)}") from None

@register(family=_IX, op=GetItem)
def masked_select(x, mask):
    """The elements of x where the bool ``mask`` is True, as a new 1-D tensor (row-major
    order); ``mask`` and x broadcast with each other. It is ``x[mask]`` after broadcasting,
    so its gradient scatters back into the selected positions."""
    xd = _arr(x)
    md, shape = _bool_mask("masked_select", "masked_select", xd, mask)
    if tuple(xd.shape) != shape:
        x = broadcast_to(x, shape)
    md = get_array_module(md).broadcast_to(md, shape)
    return GetItem.apply(reshape(x, (-1,)), index=md.reshape(-1), basic=False)


@register(family=_IX, op=Scatter, inplace=True)
def masked_scatter(x, mask, source):
    """A copy of x with the first elements of ``source`` (in row-major order) written, one
    by one, where the bool ``mask`` is True; ``mask`` and x broadcast with each other. The
    gradient of ``source`` is the incoming one at the used elements, zero past them."""
    xd = _arr(x)
    md, shape = _bool_mask("masked_scatter", "masked_scatter_", xd, mask)
    xp = get_array_module(md)
    flat = xp.flatnonzero(xp.broadcast_to(md, shape))
    if source.numel() < flat.size:
        raise RuntimeError(f"masked_scatter: expected source to have at least as many "
                           f"elements as the ones in mask ({flat.size}), got {source.numel()}")
    if source.dtype != xd.dtype:
        raise RuntimeError(f"masked_scatter_: expected self and source to have same dtypes "
                           f"but got {xd.dtype} and {source.dtype}")
    if tuple(xd.shape) != shape:
        x = broadcast_to(x, shape)
    src = reshape(source, (-1,))[:flat.size]
    return reshape(Scatter.apply(reshape(x, (-1,)), src, index=flat, basic=False), shape)


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

SortResult = structseq("sort", ["values", "indices"])
TopkResult = structseq("topk", ["values", "indices"])


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
    return SortResult(named(Gather.apply(x, index=_dim_index(idx, d), basic=False),
                            "SortBackward0"), _wrap_index(x, idx))


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
    if x.dtype.kind == "b":
        raise RuntimeError("topk(): does not support bool tensors (as PyTorch on CPU); "
                           "convert first (x.int())")
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
    # the first k of the sorted indices, in their own contiguous array (as PyTorch's: a
    # user's idx.view(-1) works)
    idx = get_array_module(idx).ascontiguousarray(idx[(slice(None),) * d + (slice(0, k),)])
    return TopkResult(named(Gather.apply(x, index=_dim_index(idx, d), basic=False),
                            "TopkBackward0"), _wrap_index(x, idx))


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


# ---- views by index: narrow, select, diagonal, unfold, as_strided (helper 'shape') --------

def _int_arg(v, what="index"):
    if isinstance(v, Tensor):
        if v.numel() != 1 or v.dtype.kind not in "iu":
            raise RuntimeError(f"{what} must be an integer scalar tensor")
        return int(v.item())
    return int(v)


def _clone(t):
    return Clone.apply(t) if isinstance(t, Tensor) else t.copy()


@register(family=_IX, op=GetItem)
def narrow(x, dim: int, start, length: int):
    """The view ``x[..., start:start + length, ...]`` along ``dim`` (``start`` may be
    negative or a 0-d integer tensor)."""
    if x.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _norm(dim, x.ndim, "narrow")
    n = x.shape[d]
    start, length = _int_arg(start, "start"), int(length)
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but "
                         f"got {start})")
    if start < 0:
        start += n
    if length < 0 or start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return getitem(x, (slice(None),) * d + (slice(start, start + length),))


@register(family=_IX, op=GetItem)
def narrow_copy(x, dim: int, start, length: int):
    """A contiguous copy of ``narrow(x, dim, start, length)``."""
    return _clone(narrow(x, dim, start, length))


@register(family=_IX, op=GetItem)
def select(x, dim: int, index):
    """The view of x at ``index`` along ``dim`` (that dim removed)."""
    if x.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _norm(dim, x.ndim, "select")
    i = _int_arg(index)
    n = x.shape[d]
    if not -n <= i < n:
        raise IndexError(f"select(): index {i} out of range for tensor of size "
                         f"{list(x.shape)} at dimension {d}")
    return getitem(x, (slice(None),) * d + (i % n,))


def _diag_dims(x_ndim, dim1, dim2, op="diagonal"):
    d1, d2 = _norm(dim1, x_ndim, op), _norm(dim2, x_ndim, op)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


def _diag_rc(r, c, offset, xp):
    """Row and column indices of the ``offset`` diagonal of an (r, c) matrix."""
    if offset >= 0:
        n = max(0, min(r, c - offset))
        i = xp.arange(n)
        return i, i + offset
    n = max(0, min(r + offset, c))
    i = xp.arange(n)
    return i - offset, i


def _to_end(n, d1, d2):
    """The permutation moving dims d1, d2 to the end (in that order)."""
    return [k for k in range(n) if k not in (d1, d2)] + [d1, d2]


def _diag_view(xp, x, offset, d1, d2):
    """The ``offset`` diagonal of the (d1, d2) planes of ``x`` as a strided view (a new
    last dim), writable when x is: PyTorch's ``diagonal`` is a view."""
    r, c = x.shape[d1], x.shape[d2]
    r0, c0 = (0, offset) if offset >= 0 else (-offset, 0)
    n = max(0, min(r - r0, c - c0))
    perm = _to_end(x.ndim, d1, d2)
    xt = x.transpose(perm)
    sl = xt[..., r0:r0 + n, c0:c0 + n] if n else xt[..., :0, :0]
    shape = sl.shape[:-2] + (n,)
    strides = sl.strides[:-2] + (sl.strides[-2] + sl.strides[-1],)
    return xp.lib.stride_tricks.as_strided(sl, shape, strides)


class Diagonal(Op):
    """``diagonal``: a strided view; its backward writes the gradient onto the diagonal of
    zeros (``DiagonalGrad``), whose backward is this op again."""

    _view = True

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        ctx.in_shape, ctx.offset, ctx.dim1, ctx.dim2 = x.shape, offset, dim1, dim2
        return _diag_view(get_array_module(x), x, offset, dim1, dim2)

    @staticmethod
    def backward(ctx, gy):
        return DiagonalGrad.apply(gy, shape=ctx.in_shape, offset=ctx.offset, dim1=ctx.dim1,
                                  dim2=ctx.dim2)


class DiagonalGrad(Op):
    @staticmethod
    def forward(ctx, gy, shape, offset, dim1, dim2):
        ctx.offset, ctx.dim1, ctx.dim2 = offset, dim1, dim2
        xp = get_array_module(gy)
        gx = xp.zeros(shape, dtype=gy.dtype)
        _diag_view(xp, gx, offset, dim1, dim2)[...] = gy
        return gx

    @staticmethod
    def backward(ctx, ggx):
        return Diagonal.apply(ggx, offset=ctx.offset, dim1=ctx.dim1, dim2=ctx.dim2)


@register(family=_IX, op=Diagonal)
def diagonal(x, offset: int = 0, dim1: int = 0, dim2: int = 1):
    """The diagonal of the (dim1, dim2) planes as a new last dim (``offset`` > 0 above the
    main diagonal), a view (writes through it change x). Gradients go back onto the
    diagonal."""
    d1, d2 = _diag_dims(x.ndim, dim1, dim2)
    if not isinstance(x, Tensor):
        return _diag_view(get_array_module(x), x, int(offset), d1, d2)
    return Diagonal.apply(x, offset=int(offset), dim1=d1, dim2=d2)


_diagonal = diagonal  # (diag's argument is named diagonal, as in PyTorch)


@register(family=_IX, op=IndexGrad)
def diag_embed(x, offset: int = 0, dim1: int = -2, dim2: int = -1):
    """Tensors whose (dim1, dim2) planes have the last dim of x on their ``offset``
    diagonal, zeros elsewhere; its gradient is ``diagonal``."""
    n = x.ndim + 1
    d1, d2 = _diag_dims(n, dim1, dim2)
    offset = int(offset)
    m = x.shape[-1] + abs(offset)
    xp = get_array_module(_arr(x))
    r, c = _diag_rc(m, m, offset, xp)
    zeros = _make(xp.zeros(tuple(x.shape[:-1]) + (m, m), dtype=x.dtype))
    y = SetItem.apply(zeros, x, index=(Ellipsis, r, c), basic=False)  # (keeps -0.)
    perm = [0] * n
    rest = iter(range(n - 2))
    for k in range(n):
        perm[k] = n - 2 if k == d1 else n - 1 if k == d2 else next(rest)
    return y if perm == list(range(n)) else permute(y, perm)


@register(family=_IX, op=IndexGrad)
def diag(x, diagonal: int = 0):
    """A 1-D x as the ``diagonal``-th diagonal of a square matrix, or the ``diagonal``-th
    diagonal of a 2-D x."""
    if x.ndim == 1:
        return diag_embed(x, diagonal, 0, 1)
    if x.ndim == 2:
        return _diagonal(x, diagonal, 0, 1)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {x.ndim}D")


@register(family=_IX, op=IndexGrad)
def diagflat(x, offset: int = 0):
    """The flattened x on the ``offset`` diagonal of a square matrix."""
    return diag_embed(reshape(x, (-1,)), offset, 0, 1)


@register(family=_IX, op=SetItem)
def diagonal_scatter(x, src, offset: int = 0, dim1: int = 0, dim2: int = 1):
    """A copy of x with ``src`` written onto ``diagonal(x, offset, dim1, dim2)``."""
    d1, d2 = _diag_dims(x.ndim, dim1, dim2)
    xp = get_array_module(_arr(x))
    r, c = _diag_rc(x.shape[d1], x.shape[d2], int(offset), xp)
    perm = _to_end(x.ndim, d1, d2)
    want = tuple(x.shape[k] for k in perm[:-2]) + (len(r),)
    _check_src("diagonal_scatter", src, want)
    xt = permute(x, perm)
    y = SetItem.apply(xt, src, index=(Ellipsis, r, c), basic=False)
    return permute(y, [int(k) for k in np.argsort(perm)])


def _check_src(op, src, want):
    if tuple(src.shape) != tuple(want):
        raise RuntimeError(f"{op}(): expected src to have a size equal to the slice of self. "
                           f"src size = {list(src.shape)}, slice size = {list(want)}")


@register(family=_IX, op=SetItem)
def select_scatter(x, src, dim: int, index: int):
    """A copy of x with ``src`` written at ``index`` along ``dim``."""
    if x.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _norm(dim, x.ndim, "select_scatter")
    n = x.shape[d]
    i = _int_arg(index)
    if not -n <= i < n:
        raise IndexError(f"select(): index {i} out of range for tensor of size "
                         f"{list(x.shape)} at dimension {d}")
    _check_src("select_scatter", src, x.shape[:d] + x.shape[d + 1:])
    return SetItem.apply(x, src, index=(slice(None),) * d + (i % n,), basic=True)


@register(family=_IX, op=SetItem)
def slice_scatter(x, src, dim: int = 0, start=None, end=None, step: int = 1):
    """A copy of x with ``src`` written at ``start:end:step`` along ``dim``."""
    if x.ndim == 0:
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    d = _norm(dim, x.ndim, "slice_scatter")
    if int(step) <= 0:
        raise RuntimeError("slice step must be positive")
    sl = (slice(None),) * d + (slice(start, end, int(step)),)
    want = np.broadcast_to(np.empty((), bool), x.shape)[sl].shape
    _check_src("slice_scatter", src, want)
    return SetItem.apply(x, src, index=sl, basic=True)


def _strided_index(xp, size, stride, offset):
    """Flat positions of an as_strided view: offset + sum_k arange(size_k) * stride_k."""
    idx = xp.full((), int(offset), dtype=np.int64)
    for k, (n, s) in enumerate(zip(size, stride)):
        shp = [1] * len(size)
        shp[k] = n
        idx = idx + (xp.arange(n, dtype=np.int64) * int(s)).reshape(shp)
    return xp.broadcast_to(idx, tuple(size))


def _strided_args(x, size, stride, storage_offset, op="as_strided"):
    size = tuple(int(s) for s in size)
    stride = tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape ({len(stride)} strides, "
                           f"{len(size)} sizes)")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"{op}: Negative strides are not supported at the moment, got "
                           f"strides: {list(stride)}")
    if any(s < 0 for s in size):
        raise RuntimeError(f"{op}: negative size in {list(size)}")
    off = 0 if storage_offset is None else int(storage_offset)
    if off < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {off}")
    need = off + 1 + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else 0
    if need > x.numel():
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {off} require {need} elements, but the storage has "
                           f"{x.numel()}")
    xp = get_array_module(_arr(x))
    return size, _strided_index(xp, size, stride, off)


@register(family=_IX, op=GetItem)
def as_strided(x, size, stride, storage_offset=None):
    """The elements of x's contiguous copy at ``storage_offset + sum_k i_k * stride_k`` (a
    copy here, not a view of the storage); gradients scatter-add back, so overlapping
    windows accumulate."""
    size, idx = _strided_args(x, size, stride, storage_offset)
    return getitem_raw(reshape(x, (-1,)), idx, False)


@register(family=_IX, op=SetItem)
def as_strided_scatter(x, src, size, stride, storage_offset=None):
    """A copy of x (as its contiguous storage) with ``src`` written where
    ``as_strided(x, size, stride, storage_offset)`` reads."""
    size, idx = _strided_args(x, size, stride, storage_offset, "as_strided_scatter")
    _check_src("as_strided_scatter", src, size)
    y = SetItem.apply(reshape(x, (-1,)), src, index=idx, basic=False)
    return reshape(y, tuple(x.shape))


def _unfold(x, dimension: int, size: int, step: int):
    """``Tensor.unfold``: the windows of ``size`` elements every ``step`` along
    ``dimension`` as a new last dim (gradients of overlapping windows accumulate)."""
    if x.ndim == 0:
        d = _norm(dimension, 0, "unfold")
        n = 1
    else:
        d = _norm(dimension, x.ndim, "unfold")
        n = x.shape[d]
    size, step = int(size), int(step)
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is "
                           f"{size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if x.ndim == 0:
        return reshape(x, (1,))
    return TensorUnfold.apply(x, dim=d, size=size, step=step)


class TensorUnfold(Op):
    """``Tensor.unfold``: a (read-only) strided view of the windows; its backward sums the
    window gradients back (``TensorUnfoldGrad``), whose backward is this op again."""

    _view = True

    @staticmethod
    def forward(ctx, x, dim, size, step):
        ctx.in_shape, ctx.dim, ctx.size, ctx.step = x.shape, dim, size, step
        n = x.shape[dim]
        nw = (n - size) // step + 1
        shape = x.shape[:dim] + (nw,) + x.shape[dim + 1:] + (size,)
        st = x.strides
        strides = st[:dim] + (st[dim] * step,) + st[dim + 1:] + (st[dim],)
        xp = get_array_module(x)
        return xp.lib.stride_tricks.as_strided(x, shape, strides, writeable=False) \
            if xp is np else xp.lib.stride_tricks.as_strided(x, shape, strides)

    @staticmethod
    def backward(ctx, gy):
        return TensorUnfoldGrad.apply(gy, shape=ctx.in_shape, dim=ctx.dim, size=ctx.size,
                                      step=ctx.step)


class TensorUnfoldGrad(Op):
    """The windows' gradients ``gy`` summed into a tensor of ``shape`` (one strided add per
    window offset); its backward is ``TensorUnfold``."""

    @staticmethod
    def forward(ctx, gy, shape, dim, size, step):
        ctx.dim, ctx.size, ctx.step = dim, size, step
        xp = get_array_module(gy)
        gx = xp.zeros(shape, dtype=gy.dtype)
        nw = gy.shape[dim]
        pre = (slice(None),) * dim
        for j in range(size):  # (a loop over the window offsets, each a whole-tensor add)
            gx[pre + (slice(j, j + step * (nw - 1) + 1, step),)] += gy[..., j]
        return gx

    @staticmethod
    def backward(ctx, ggx):
        return TensorUnfold.apply(ggx, dim=ctx.dim, size=ctx.size, step=ctx.step)


register("unfold", family=_IX, op=GetItem, function=False)(_unfold)


# ---- scatter_reduce / index_reduce and the index_* family ---------------------------------

_REDUCE_NAMES = ("sum", "prod", "mean", "amax", "amin")


def _reduce_init(reduce, dtype):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind in "fV":
        return -np.inf if reduce == "amax" else np.inf
    if dtype.kind == "b":
        return reduce == "amin"
    info = np.iinfo(dtype)
    return info.min if reduce == "amax" else info.max


def _dim_form(index):
    """``d`` when ``index`` is ``(slice(None),) * d + (idx,)`` with a 1-D integer ``idx``
    (the index_* ops' form), else None."""
    if hasattr(index, "ndim") and index.ndim == 1 and index.dtype.kind in "iu":
        return 0  # a bare 1-D index array: along dim 0
    if index.__class__ is not tuple or not index:
        return None
    *head, last = index
    if not (hasattr(last, "ndim") and last.ndim == 1 and last.dtype.kind in "iu"):
        return None
    for h in head:
        if not (h.__class__ is slice and h == slice(None)):
            return None
    return len(head)


def _reduce_at(xp, y, index, src, ufunc) -> bool:
    """``ufunc.at(y, index, src)`` for the index_* form (whole slices along ``dim``) in
    rounds: round k applies the k-th occurrence of every index at once, so each round is a
    vectorised gather/``ufunc``/scatter of whole slices, in the same order as ``ufunc.at``
    (bit-identical results, several times faster on NumPy). False when the index, the
    arrays or the repetition counts do not suit it (the caller uses ``ufunc.at``)."""
    d = _dim_form(index)
    if d is None or xp is not np or getattr(src, "ndim", 0) != y.ndim:
        return False
    idx = index[-1] if index.__class__ is tuple else index
    n = idx.size
    inner = y.size // max(y.shape[d], 1)
    if n < 2 or inner < 8:
        return False
    if idx.dtype.kind == "i" and idx.min() < 0:  # -1 and size-1 are the same slice
        idx = np.where(idx < 0, idx + y.shape[d], idx)
    order = xp.argsort(idx, kind="stable")
    si = idx[order]
    starts = xp.flatnonzero(xp.concatenate((xp.ones(1, bool), si[1:] != si[:-1])))
    lengths = xp.diff(xp.concatenate((starts, xp.asarray([n]))))
    rounds = int(lengths.max())
    if rounds > 64 and rounds * 4 > n:  # a few heavily repeated indices: ufunc.at
        return False
    rank = xp.empty(n, np.int64)
    rank[order] = xp.arange(n) - xp.repeat(starts, lengths)
    by_rank = xp.argsort(rank, kind="stable")
    bounds = np.concatenate(([0], np.cumsum(_np_of(xp.bincount(rank)))))
    pre = (slice(None),) * d
    for k in range(rounds):
        sel = by_rank[bounds[k]:bounds[k + 1]]
        at = pre + (idx[sel],)
        y[at] = ufunc(y[at], xp.take(src, sel, axis=d))
    return True


def _np_of(a):
    return a if isinstance(a, np.ndarray) else a.get()


def _flat_at(xp, y, index, src, ufunc) -> bool:
    """``ufunc.at(y, index, src)`` for a tuple of integer arrays (one per dim of a
    C-contiguous ``y``) as one 1-D ``ufunc.at`` on flat positions: NumPy's fast path,
    the same order, so bit-identical results. False for any other index."""
    if xp is not np or index.__class__ is not tuple or len(index) != y.ndim or \
            not y.flags.c_contiguous or y.ndim < 2:
        return False
    for ix in index:
        if not (hasattr(ix, "dtype") and ix.dtype.kind in "iu"):
            return False
    flat = None
    mult = 1
    for ix, n in zip(index[::-1], y.shape[::-1]):
        if ix.dtype.kind == "i" and ix.size and ix.min() < 0:
            ix = np.where(ix < 0, ix + n, ix)
        term = ix * mult
        flat = term if flat is None else flat + term
        mult *= n
    flat = flat.astype(np.intp, copy=False)
    vals = np.broadcast_to(src, flat.shape) if hasattr(src, "shape") else \
        np.full(flat.shape, src, dtype=y.dtype)
    ufunc.at(y.reshape(-1), flat.reshape(-1), np.ascontiguousarray(vals).reshape(-1))
    return True


def _ufunc_at(xp, name, y, index, src) -> None:
    ufunc = getattr(xp, name)
    if _reduce_at(xp, y, index, src, ufunc) or _flat_at(xp, y, index, src, ufunc):
        return
    if name == "add":
        add_at(xp, y, index, src)
    elif xp is np:
        ufunc.at(y, index, src)
    else:
        d = _dim_form(index)
        if d is not None:  # whole slices: one integer array per dim
            idx = index[-1] if index.__class__ is tuple else index
            shp = [1] * y.ndim
            shp[d] = idx.size
            full = list(src.shape)
            full[d] = idx.size
            index = _dim_index(xp.broadcast_to(idx.reshape(shp), tuple(full)), d)
        _cupy_at(xp, name, y, index, src)


def _counts(xp, shape, index, include_self, dtype):
    """How many values each entry of a ``shape`` tensor receives (self included)."""
    d = _dim_form(index)
    if d is not None:
        c = xp.bincount(index[-1], minlength=shape[d]).astype(dtype)
        c = c.reshape((-1,) + (1,) * (len(shape) - d - 1))
        return xp.broadcast_to(c + (1 if include_self else 0), shape)
    n = xp.full(shape, 1 if include_self else 0, dtype=dtype)
    add_at(xp, n, index, 1)
    return n


def _scatter_reduce_array(xp, x, index, src, reduce, include_self):
    y = x.copy()
    if not include_self:
        y[index] = _reduce_init(reduce, x.dtype)
    if reduce in ("sum", "mean"):
        _ufunc_at(xp, "add", y, index, src)
        if reduce == "mean":
            cnt = xp.maximum(_counts(xp, x.shape, index, include_self, np.int64), 1)
            if y.dtype.kind in "fV":
                y = (y / cnt).astype(x.dtype)
            else:
                y = xp.floor_divide(y, cnt).astype(x.dtype)
    elif reduce == "prod":
        _ufunc_at(xp, "multiply", y, index, src)
    elif reduce == "amax":
        _ufunc_at(xp, "maximum", y, index, src)
    else:
        _ufunc_at(xp, "minimum", y, index, src)
    return y


def _cupy_at(xp, name, y, index, src):  # pragma: no cover - CuPy only
    """CuPy has no ``ufunc.at`` for multiply/minimum/maximum: reduce duplicates by sorting."""
    flat = xp.ravel_multi_index(tuple(xp.broadcast_arrays(*index)), y.shape).ravel()
    vals = xp.broadcast_to(src, flat.shape if src.ndim == 0 else src.shape).ravel()
    order = xp.argsort(flat, kind="stable")
    flat, vals = flat[order], vals[order]
    yf = y.reshape(-1)
    fn = getattr(xp, name)
    for _ in range(int(xp.bincount(flat).max()) if flat.size else 0):
        first = xp.ones(flat.shape, dtype=bool)
        first[1:] = flat[1:] != flat[:-1]
        yf[flat[first]] = fn(yf[flat[first]], vals[first])
        flat, vals = flat[~first], vals[~first]


class ScatterReduceAll(Op):
    """``scatter_reduce``/``index_reduce``: reduce ``src`` into a copy of x at a full
    advanced index with sum/prod/mean/amax/amin; gradients as PyTorch's
    ``scatter_reduce_backward`` (ties of amax/amin share the gradient evenly)."""

    @staticmethod
    def forward(ctx, x, src, index, reduce, include_self):
        xp = get_array_module(x)
        y = _scatter_reduce_array(xp, x, index, src, reduce, include_self)
        ctx.index, ctx.reduce, ctx.include_self = index, reduce, include_self
        if reduce != "sum":
            ctx.save_for_backward(x, src, y)
        ctx.src_shape = src.shape
        return y

    @staticmethod
    def weights(x, src, y, index, reduce, include_self):
        """Arrays ``(wx, ws)`` with ``d out / d x = wx`` (element-wise) and ``d out[index] /
        d src = ws``: the backward is ``(gy * wx, gy[index] * ws)``, the forward-mode
        derivative ``tx * wx + scatter_add(ts * ws)``."""
        xp = get_array_module(x)
        dt = x.dtype if x.dtype.kind in "fV" else np.float64
        if reduce == "sum":
            wx, ws = xp.ones(x.shape, dt), xp.ones(src.shape, dt)
        elif reduce == "mean":
            wx = 1 / xp.maximum(_counts(xp, x.shape, index, include_self, dt), 1)
            ws = xp.broadcast_to(wx[index], src.shape)
        elif reduce == "prod":
            with np.errstate(divide="ignore", invalid="ignore"):
                mx = xp.where(x == 0, 1, x)
                mres = _scatter_reduce_array(xp, mx, index, src, "prod", include_self)
                wx = mres / mx
                szero = src == 0
                nz = xp.zeros(x.shape, dtype=np.int64)
                add_at(xp, nz, index, szero.astype(np.int64))
                single = szero & (nz[index] == 1)
                mres_s = _scatter_reduce_array(xp, x, index, xp.where(single, 1, src), "prod",
                                               include_self)
                ws = xp.where(single, mres_s[index], y[index] / xp.where(szero, 1, src))
        else:
            x_is = (x == y).astype(dt)
            s_is = (src == y[index]).astype(dt)
            cnt = x_is.copy()
            _ufunc_at(xp, "add", cnt, index, s_is)
            wx = x_is / cnt
            ws = s_is / cnt[index]
        if not include_self:
            wx = wx.copy() if wx.base is not None else wx
            wx[index] = 0
        return wx, ws

    @staticmethod
    def backward(ctx, gy):
        index, reduce, inc = ctx.index, ctx.reduce, ctx.include_self
        if reduce == "sum":
            gx = gy
            if not inc:  # (where, not a product: nan * 0 is nan)
                gx = where(_mask_out(gy, index) != 0, gy, 0.0)
            gs = getitem_raw(gy, index, False)
        else:
            x, src, y = ctx.saved_tensors
            if reduce == "prod" and isinstance(x, Tensor):
                gx, gs = _prod_grads_graph(gy, x, src, y, index, inc)
            else:
                wx, ws = ScatterReduceAll.weights(_arr(x), _arr(src), _arr(y), index, reduce,
                                                  inc)
                gx = where(wx != 0, gy * wx, 0.0) if not inc else gy * wx
                gs = getitem_raw(gy, index, False) * ws
        return (gx if ctx.next_edges[0] is not None else None,
                gs if ctx.next_edges[1] is not None else None)


def _prod_grads_graph(gy, x, src, y, index, inc):
    """The gradients of the prod reduction as a graph (create_graph=True): PyTorch's
    formula, with the products of the others computed by the op itself."""
    xa, sa = _arr(x), _arr(src)
    mx = where(xa == 0, 1.0, x)
    mres = ScatterReduceAll.apply(mx, src, index=index, reduce="prod", include_self=inc)
    gx = gy * mres / mx
    if not inc:
        gx = where(_mask_out(_arr(gx), index) != 0, gx, 0.0)
    xp = get_array_module(xa)
    szero = sa == 0
    nz = xp.zeros(xa.shape, dtype=np.int64)
    add_at(xp, nz, index, szero.astype(np.int64))
    single = szero & (nz[index] == 1)
    mres_s = ScatterReduceAll.apply(x, where(single, 1.0, src), index=index, reduce="prod",
                                    include_self=inc)
    gs = where(single, getitem_raw(gy * mres_s, index, False),
               getitem_raw(gy * y, index, False) / where(szero, 1.0, src))
    return gx, gs


def _check_reduce(op, reduce, names=_REDUCE_NAMES):
    if reduce not in names:
        raise RuntimeError(f"{op}(): reduce argument must be one of {list(names)}, got "
                           f"{reduce!r}")


@register(family=_IX, op=ScatterReduceAll, inplace=True)
def scatter_reduce(x, dim: int, index, src, reduce: str, *, include_self: bool = True):
    """A copy of x where ``src`` is reduced (sum, prod, mean, amax, amin) into the entries
    ``index`` names along ``dim``, with x's own values when ``include_self``."""
    # PyTorch's scatter_reduce also takes "max" and "min" (its legacy names of amax/amin)
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)
    _check_reduce("scatter_reduce", reduce)
    if reduce == "mean" and x.dtype.kind == "b":
        raise NotImplementedError('"scatter_gather_tensor_cpu_reduce_mean" not implemented '
                                  "for 'Bool'")
    if not hasattr(src, "shape"):
        raise TypeError(f"scatter_reduce(): src must be a tensor, got {type(src).__name__}")
    full, ishape = _scatter_checks("scatter_reduce", x, dim, index, src)
    if x.ndim == 0:
        xp = get_array_module(_arr(x))
        idx = _as_index("scatter_reduce", index, xp).reshape(-1)
        y = scatter_reduce(reshape(x, (1,)), 0, idx, reshape(src, (-1,))[:idx.size], reduce,
                           include_self=include_self)
        return reshape(y, ())
    return ScatterReduceAll.apply(x, _slice_to(src, ishape), index=full, reduce=reduce,
                                  include_self=bool(include_self))


def _index_arg(op, x, dim, index, source=None, negative=False, exc=IndexError):
    """(normalised dim, 1-D index array, full index) for the index_* ops (x may be 0-d).
    ``negative``: indices may count from the end; ``exc``: the class of the range error
    (PyTorch's differ per op)."""
    xd = _arr(x)
    xp = get_array_module(xd)
    idx = _as_index(op, index, xp)
    if idx.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector, but got dim: {idx.ndim}")
    idx = idx.reshape(-1)
    d = _norm(dim, xd.ndim, op)
    n = xd.shape[d] if xd.ndim else 1
    if source is not None and hasattr(source, "shape"):
        sd = _arr(source)
        want = list(xd.shape)
        if want:
            want[d] = idx.size
        if tuple(sd.shape) != tuple(want) and not (sd.ndim == 0 and idx.size == 1 and
                                                   xd.ndim <= 1):
            raise RuntimeError(f"{op}(): source/src of shape {list(sd.shape)} does not match "
                               f"the indexed shape {want} of self {list(xd.shape)}")
        if sd.dtype != xd.dtype:
            raise RuntimeError(f"{op}(): self ({xd.dtype}) and source ({sd.dtype}) must have "
                               "the same scalar type")
    _check_range(op, idx, n, d, negative=negative, exc=exc)
    if negative:
        idx = xp.where(idx < 0, idx + n, idx)
    return d, idx, (slice(None),) * d + (idx,) if xd.ndim else ()


def _fill_value(value, dtype):
    """A Python number as a 0-d array of ``dtype``, wrapping like PyTorch's integer casts
    (-1 in uint8 is 255)."""
    if isinstance(value, numbers.Number) and not isinstance(value, bool) and \
            np.dtype(dtype).kind in "iu":
        return np.asarray(int(value)).astype(dtype)
    return value


def _src_for(x, source, idx):
    """``source`` shaped as ``x[..., idx, ...]`` (a 0-d x with a 1-element index)."""
    if x.ndim == 0:
        return reshape(source, ())
    return source


@register(family=_IX, op=ScatterAdd, inplace=True)
def index_add(x, dim: int, index, source, *, alpha=1):
    """A copy of x with ``alpha * source`` added at ``index`` along ``dim`` (repeated
    indices accumulate)."""
    d, idx, full = _index_arg("index_add", x, dim, index, source, exc=RuntimeError)
    src = _src_for(x, source, idx)
    if alpha != 1:
        if x.dtype.kind in "biu" and not isinstance(alpha, numbers.Integral):
            raise RuntimeError("For integral input tensors, argument alpha must not be a "
                               "floating point number.")
        src = src * alpha
        if src.dtype != x.dtype:
            src = cast(src, x.dtype)
    if x.ndim == 0:
        return ScatterAdd.apply(x, sum_to(src, ()) if src.ndim else src, index=())
    return ScatterAdd.apply(x, src, index=full)


@register(family=_IX, op=Scatter, inplace=True)
def index_copy(x, dim: int, index, source):
    """A copy of x with the slices of ``source`` written at ``index`` along ``dim``."""
    d, idx, full = _index_arg("index_copy", x, dim, index, source)
    return Scatter.apply(x, _src_for(x, source, idx), index=full, basic=not full)


@register(family=_IX, op=Scatter, inplace=True)
def index_fill(x, dim: int, index, value):
    """A copy of x with ``value`` (a number or a 0-d tensor) at ``index`` along ``dim``."""
    d, idx, full = _index_arg("index_fill", x, dim, index, negative=True)
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but "
                               f"got tensor with {value.ndim} dimension(s).")
        if value.dtype != x.dtype:
            value = cast(value, x.dtype)
    else:
        value = _fill_value(value, x.dtype)
    return Scatter.apply(x, value, index=full, basic=not full)


@register(family=_IX, op=ScatterReduceAll, inplace=True)
def index_reduce(x, dim: int, index, source, reduce: str, *, include_self: bool = True):
    """A copy of x where the slices of ``source`` are reduced (prod, mean, amax, amin) into
    the slices ``index`` names along ``dim``."""
    _check_reduce("index_reduce", reduce, ("prod", "mean", "amax", "amin"))
    if x.dtype.kind == "b" and (reduce == "mean" or not include_self):
        raise NotImplementedError(f'"index_reduce" with reduce={reduce!r}' +
                                  ("" if include_self else " and include_self=False") +
                                  " not implemented for 'Bool' (as in PyTorch)")
    d, idx, full = _index_arg("index_reduce", x, dim, index, source)
    src = _src_for(x, source, idx)
    if x.ndim == 0:
        return ScatterReduceAll.apply(x, src, index=(), reduce=reduce,
                                      include_self=bool(include_self))
    return ScatterReduceAll.apply(x, src, index=full, reduce=reduce,
                                  include_self=bool(include_self))


def _put_index(op, x, indices):
    idx, basic = _convert_index(tuple(indices))
    if basic:
        idx = tuple(np.asarray(i) if isinstance(i, int) else i for i in idx)
    xp = get_array_module(_arr(x))
    out = []
    for i in idx:
        if hasattr(i, "dtype") and i.dtype.kind == "b":
            out += list(xp.nonzero(i))
        elif hasattr(i, "dtype"):
            out.append(xp.asarray(i))
        else:
            out.append(i)
    return tuple(out)


@register(family=_IX, op=Scatter, inplace=True)
def index_put(x, indices, values, accumulate: bool = False):
    """A copy of x with ``values`` (broadcast) at ``x[indices]`` (a tuple of index
    tensors), added there when ``accumulate``."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError("index_put(): argument 'indices' must be tuple of Tensors")
    if len(indices) > max(x.ndim, 1):
        raise IndexError(f"too many indices for tensor of dimension {x.ndim} (got "
                         f"{len(indices)})")
    idx = _put_index("index_put", x, indices)
    if isinstance(values, Tensor) and values.dtype != x.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{x.dtype} for the destination and {values.dtype} for the source.")
    try:
        host = tuple(to_numpy(i) if hasattr(i, "dtype") else i for i in idx)
        tshape = np.broadcast_to(np.empty((), bool), x.shape)[host].shape
    except IndexError as e:
        raise IndexError(str(e)) from None
    if not accumulate:
        return named(Scatter.apply(x, values, index=idx, basic=False), "IndexPutBackward0")
    if not isinstance(values, Tensor):
        values = _make(np.asarray(values, dtype=x.dtype))
    try:
        values = broadcast_to(values, tshape)
    except RuntimeError:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(values.shape)} "
                           f"cannot be broadcast to indexing result of shape {list(tshape)}"
                           ) from None
    return named(ScatterAdd.apply(x, values, index=idx), "IndexPutBackward0")


def _flat_index(op, x, index):
    xd = _arr(x)
    xp = get_array_module(xd)
    idx = _as_index(op, index, xp)
    n = xd.size
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if lo < -n or hi >= n:
            bad = hi if hi >= n else lo
            raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} "
                             "elements.")
    return xp.where(idx < 0, idx + n, idx)


@register(family=_IX, op=Gather)
def take(x, index):
    """The elements of x (as a flattened tensor) at ``index`` (negative counts from the
    end); the result has index's shape."""
    idx = _flat_index("take", x, index)
    return getitem_raw(reshape(x, (-1,)), idx, False)


@register(family=_IX, op=Scatter, inplace=True)
def put(x, index, source, accumulate: bool = False):
    """A copy of x (as a flattened tensor) with ``source`` written (or added, when
    ``accumulate``) at ``index``."""
    idx = _flat_index("put", x, index)
    if source.numel() != idx.size:
        raise IndexError(f"put_(): Expected source and index to have the same number of "
                           f"elements, but got source.numel() = {source.numel()}, "
                           f"index.numel() = {idx.size}")
    if source.dtype != x.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got "
                           f"self.dtype = {x.dtype} and source.dtype = {source.dtype}")
    flat, src = reshape(x, (-1,)), reshape(source, (-1,))
    idx = idx.reshape(-1)
    if accumulate:
        y = ScatterAdd.apply(flat, src, index=idx)
    else:
        y = Scatter.apply(flat, src, index=idx, basic=False)
    return reshape(y, tuple(x.shape))


@register(family=_IX, op=IndexSelect)
def repeat_interleave(x, repeats=None, dim=None, *, output_size=None):
    """Repeat each element (or each slice along ``dim``) ``repeats`` times (an int, or a
    tensor with one count per element); the flattened tensor when ``dim`` is None.
    ``repeat_interleave(counts)`` alone repeats ``arange(len(counts))``."""
    if repeats is None:  # torch.repeat_interleave(repeats)
        r = _arr(x)
        if r.ndim > 1 or r.dtype.kind not in "iu":
            raise RuntimeError("repeat_interleave: repeats must be 0-dim or 1-dim tensor of "
                               "integers")
        r = r.reshape(-1)
        if r.size and int(r.min()) < 0:
            raise RuntimeError("repeats can not be negative")
        xp = get_array_module(r)
        rh = to_numpy(r)  # (CuPy's repeat takes no array of counts)
        out = xp.asarray(np.repeat(np.arange(rh.size, dtype=np.int64), rh))
        return _make(out) if isinstance(x, Tensor) else out
    xd = _arr(x)
    xp = get_array_module(xd)
    if dim is None:
        x = reshape(x, (-1,))
        d = 0
    else:
        d = _norm(dim, xd.ndim, "repeat_interleave")
        if xd.ndim == 0:
            x = reshape(x, (1,))
    n = x.shape[d]
    if isinstance(repeats, Tensor) or hasattr(repeats, "dtype"):
        r = _arr(repeats)
        if r.dtype.kind not in "iu":
            raise NotImplementedError(f'"repeat_interleave_cpu" not implemented for '
                                      f"'{r.dtype}'")
        if r.ndim > 1:
            raise RuntimeError("repeat_interleave: repeats must be 0-dim or 1-dim tensor")
        r = r.reshape(-1)
        if r.size == 1:
            r = xp.full((n,), int(r[0]), dtype=np.int64)
        elif r.size != n:
            raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {r.size} and input.size({d}) = {n}")
    else:
        r = xp.full((n,), int(repeats), dtype=np.int64)
    if r.size and int(r.min()) < 0:
        raise RuntimeError("repeats can not be negative" if isinstance(repeats, Tensor) else
                           "Repeats must be non-negative")
    idx = xp.asarray(np.repeat(np.arange(n, dtype=np.int64), to_numpy(r)))
    if output_size is not None and int(output_size) != idx.size:
        raise RuntimeError(f"allocated size does not match required size (output_size="
                           f"{output_size}, required {idx.size})")
    return IndexSelect.apply(x, index=(slice(None),) * d + (idx,), basic=False)


@register(family=_IX, op=Gather)
def combinations(x, r: int = 2, with_replacement: bool = False):
    """The length-``r`` combinations of the elements of a 1-D tensor as the rows of an
    (N, r) tensor, in lexicographic order of positions (like ``itertools.combinations``,
    or ``combinations_with_replacement``)."""
    if x.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(x.shape)}")
    r = int(r)
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return Clone.apply(x[:0]) if isinstance(x, Tensor) else x[:0].copy()
    n = x.shape[0]
    xp = get_array_module(_arr(x))
    # every r-tuple of positions (n**r of them, as PyTorch builds them), kept when ordered
    grids = np.indices((n,) * r).reshape(r, -1)
    keep = np.all(grids[1:] >= grids[:-1], axis=0) if with_replacement else \
        np.all(grids[1:] > grids[:-1], axis=0)
    idx = xp.asarray(grids[:, keep].T.astype(np.int64))
    return getitem_raw(x, idx, False)


@register(family=_IX, op=GetItem, method=False, arity=None)
def cartesian_prod(*tensors):
    """Every combination of one element of each 1-D tensor as the rows of an
    (N, len(tensors)) tensor (a single tensor is returned as it is)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for t in tensors:
        if t.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    if len({t.dtype for t in tensors}) > 1:
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(g, (-1,)) for g in grids], 1)


@register(family=_IX, differentiable=False)
def nonzero_static(x, *, size: int, fill_value: int = -1):
    """``nonzero(x)`` padded with ``fill_value`` rows (or truncated) to ``size`` rows."""
    size = int(size)
    if size < 0:
        raise RuntimeError(f"nonzero_static: 'size' must be an non-negative integer, got {size}")
    nz = _arr(nonzero(x))
    xp = get_array_module(nz)
    out = xp.full((size, nz.shape[1]), int(fill_value), dtype=np.int64)
    k = min(size, nz.shape[0])
    out[:k] = nz[:k]
    return _make(out) if isinstance(x, Tensor) else out
