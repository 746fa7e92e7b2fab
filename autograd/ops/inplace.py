"""In-place ops (``x += y``, ``x.mul_(y)``, ``x[i] = v``...).

The result is computed out of place (recording a node as usual) and then written into the
tensor's own memory, so views and NumPy handles see the change. The tensor's version counter
(shared with its views) is bumped, so a node that saved the old values refuses to run
backward; the tensor's ``grad_fn`` becomes the new node. An in-place op on a view (basic
indexing, or any view op: reshape, transpose, diagonal...) also records the write on the base
as an indexed write (PyTorch's CopySlices).
"""

from __future__ import annotations

import numpy as np

from ..backend import get_array_module, lock, unlock
from ..dtypes import can_cast, scalar_type_name
from ..function import Op, named
from ..grad_mode import no_grad, state
from ..registry import register
from ..tensor import Tensor, _make
from . import indexing as _ix
from . import shape as _sh
from .elementwise import Clone
from .indexing import SetItem, TwoStep, _convert_index, _set, _split_ints
from .shape import _norm_dim, broadcast_to, reshape, sum_to

_IP = "inplace"


_OVERLAP_MSG = (
    "unsupported operation: more than one element of the written-to tensor refers to a "
    "single memory location. Please clone() the tensor before performing the operation.")


def _write(t: Tensor, index, src) -> None:
    """Write ``src`` into ``t._data[index]``, unlocking a read-only saved array for the
    duration (the version counter is what protects the graph here)."""
    arr = t._data
    if arr.size > 1 and 0 in arr.strides and any(
            st == 0 and n > 1 for n, st in zip(arr.shape, arr.strides)):
        # an expanded tensor: PyTorch refuses in-place writes into it (internal overlap)
        raise RuntimeError(_OVERLAP_MSG)
    if arr.__class__ is np.ndarray and not arr.flags.writeable:
        try:
            unlock(arr)
        except ValueError:
            pass
        if not arr.flags.writeable:
            raise RuntimeError(
                f"in-place write into a read-only tensor of shape {list(arr.shape)} (an "
                "expanded/broadcast tensor, or memory owned by someone else); clone() it first"
            )
        relock = True
    else:
        relock = False
    try:
        if index is None:
            arr[...] = src
        else:
            _set(arr, index, src)
    finally:
        if relock:
            lock(arr)
    t._vc[0] += 1


def _check_result(t: Tensor, out: Tensor, name: str) -> None:
    if tuple(out.shape) != tuple(t.shape):
        raise RuntimeError(
            f"{name}: output with shape {list(t.shape)} doesn't match the broadcast shape "
            f"{list(out.shape)}"
        )
    if out.dtype != t.dtype and not can_cast(out.dtype, t.dtype):
        raise RuntimeError(
            f"{name}: result type {out.dtype} can't be cast to the desired output type "
            f"{t.dtype} (PyTorch's rule: never to a lower category, float -> int -> bool); "
            "use the out-of-place op, or convert first"
        )


def apply_inplace(t: Tensor, fn, args, kwargs) -> Tensor:
    name = getattr(fn, "__name__", "inplace op")
    recording = state.enabled and (
        t._rg or any(isinstance(a, Tensor) and a._rg for a in args)
    )
    if not recording:
        with no_grad():
            out = fn(t, *args, **kwargs)
        _check_result(t, out, name)
        _write(t, None, out._data)
        _take_tangent(t, out)
        return t
    if t._rg and t.grad_fn is None:
        raise RuntimeError(
            f"a leaf Variable that requires grad is being used in an in-place operation. "
            f"({name} on a tensor of shape {list(t.shape)}: use an out-of-place op, or wrap "
            "the update in `with torch.no_grad():` as optimizers do)"
        )
    base = t._base
    index = None
    if base is not None:
        index = t._view_index
        if index is None:  # a view made by reshape/transpose/expand/...: find its elements
            index = _positions_in(base, t)  # (None: a reshape that had to copy)
    if index is not None:
        root = base
        while root._base is not None:
            root = root._base
        if root._rg and root.grad_fn is None:
            raise RuntimeError(
                f"a view of a leaf Variable that requires grad is being used in an in-place "
                f"operation. ({name} on a view of shape {list(t.shape)} of a leaf of shape "
                f"{list(root.shape)})"
            )
        out = fn(t, *args, **kwargs)
        _check_result(t, out, name)
        _unalias_saved(out.grad_fn, t._data)
        # write through the base so that its graph records the change (CopySlices)
        setitem(base, index, out)
        if base.grad_fn is not None:
            base.grad_fn._torch_name = "CopySlices"  # PyTorch's name for this node
        t.grad_fn, t._rg, t._nr = out.grad_fn, True, out._nr
        _take_tangent(t, out)
        return t
    arr = t._data
    out = fn(t, *args, **kwargs)
    _check_result(t, out, name)
    node = out.grad_fn
    _unalias_saved(node, arr)
    src = out._data
    if src.dtype != arr.dtype:
        src = src.astype(arr.dtype)
    _write(t, None, src)
    t.grad_fn, t._rg, t._nr = node, out._rg, out._nr
    _take_tangent(t, out)
    return t


def _unalias_saved(node, arr) -> None:
    """The in-place op's node saved ``arr``, whose values are about to be overwritten: give
    the node its own copy (the op computed its result from the old values)."""
    if node is None or not node.saved:
        return
    saved = list(node.saved)
    versions = list(node._versions) if node._versions is not None else None
    for j, a in enumerate(saved):
        if a is arr:
            saved[j] = a.copy()
            if versions is not None:
                versions[j] = (None, 0)
    node.saved = tuple(saved)
    node._versions = versions


def _address_grid(a):
    """The address of every element of array ``a`` (an int64 array of a's shape)."""
    ptr = a.__array_interface__["data"][0] if a.__class__ is np.ndarray else a.data.ptr
    addr = np.full(a.shape, ptr, dtype=np.int64)
    for k, (n, st) in enumerate(zip(a.shape, a.strides)):
        shape = [1] * a.ndim
        shape[k] = n
        addr = addr + (np.arange(n, dtype=np.int64) * st).reshape(shape)
    return addr


def _positions_in(base: Tensor, view: Tensor):
    """The index into ``base`` (a tuple of integer Tensors, one per dim, of ``view``'s shape)
    of every element of ``view``, a view of base's memory made by any view op (reshape,
    transpose, expand, diagonal...): an in-place op on the view becomes an indexed write
    into the base, which records it in the base's graph (PyTorch's CopySlices). None when
    ``view`` does not lie in base's memory (a reshape of a non-contiguous tensor copies)."""
    if base.ndim == 0:
        return ...
    b, v = base._data, view._data
    addr_b = _address_grid(b).ravel()
    order = np.argsort(addr_b, kind="stable")
    sorted_b = addr_b[order]
    addr_v = _address_grid(v).ravel()
    pos = np.searchsorted(sorted_b, addr_v)
    pos = np.minimum(pos, len(sorted_b) - 1)
    if addr_v.size and not np.array_equal(sorted_b[pos], addr_v):
        return None  # not base's memory: a reshape that copied, not a view
    flat = order[pos]
    if len(np.unique(flat)) != flat.size:
        raise RuntimeError(_OVERLAP_MSG)
    xp = get_array_module(b)
    return tuple(_make(xp.asarray(i.reshape(v.shape)))
                 for i in np.unravel_index(flat, b.shape))


def _take_tangent(t: Tensor, out: Tensor) -> None:
    """Forward AD (autograd.forward_ad): the tensor updated in place takes the tangent the
    op computed for its result."""
    fw = out.__dict__.get("_fw")
    if fw is not None or "_fw" in t.__dict__:
        t._fw = fw


def _check_put_dtype(x: Tensor, idx, value: Tensor) -> None:
    """An advanced-index assignment is PyTorch's ``index_put_``, which takes a value of
    ``x``'s own dtype only (a Python number is made one); the exception is one boolean mask
    with a one-element value, which PyTorch runs as ``masked_fill_`` (a cast)."""
    arrays = [ix for ix in idx if hasattr(ix, "dtype")]
    if len(arrays) == 1 and arrays[0].dtype.kind == "b" and value.numel() == 1:
        return
    raise RuntimeError("Index put requires the source and destination dtypes match, got "
                       f"{scalar_type_name(x.dtype)} for the destination and "
                       f"{scalar_type_name(value.dtype)} for the source.")


def setitem(x: Tensor, index, value) -> None:
    """``x[index] = value``; recorded for autograd like PyTorch's index_put_."""
    idx, basic = _convert_index(index)
    if not basic and isinstance(value, Tensor) and value.dtype != x.dtype:
        _check_put_dtype(x, idx, value)
    parts = None if basic else _split_ints(idx)
    if parts is not None:  # PyTorch: integers select first, then the tensors index
        idx = TwoStep(*parts)
    elif len(idx) == 1 and not isinstance(index, tuple) and not basic:
        idx = idx[0]
    if isinstance(value, Tensor) and value.device != x.device:
        raise RuntimeError(
            f"index assignment: the value is on {value.device} but the tensor is on {x.device}"
        )

    def _set(t, v):
        return SetItem.apply(t, v, index=idx, basic=basic)

    recording = state.enabled and (x._rg or (isinstance(value, Tensor) and value._rg))
    if recording and basic and x._rg and x.grad_fn is None:
        # PyTorch writes x[basic index] = v through a view of x
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place "
            f"operation. (x[...] = value on a leaf of shape {list(x.shape)})")
    dual = "_fw" in x.__dict__ or (isinstance(value, Tensor) and "_fw" in value.__dict__)
    if not recording and not dual:
        vd = value._data if isinstance(value, Tensor) else value
        _write(x, idx, vd)
        return
    apply_inplace(x, _set, (value,), {})


def inplace(self: Tensor, fn, *args, **kwargs) -> Tensor:
    """``Tensor._inplace``: run out-of-place ``fn(self, *args)``, then write the result into
    ``self``'s memory (see the module docstring)."""
    return apply_inplace(self, fn, args, kwargs)


# ---- Tensor-only in-place methods ---------------------------------------------------------

class Overwrite(Op):
    """``x`` replaced by ``src`` (broadcast, in x's dtype): the old values get a zero
    gradient, ``src`` the incoming one (PyTorch's fill_/zero_/copy_ in a graph)."""

    @staticmethod
    def forward(ctx, x, src):
        xp = get_array_module(x)
        out = xp.empty_like(x)
        out[...] = src
        ctx.src_shape = getattr(src, "shape", None)
        return out

    @staticmethod
    def backward(ctx, gy):
        gsrc = None
        if ctx.next_edges[1] is not None:
            gsrc = sum_to(gy, ctx.src_shape) if ctx.src_shape != tuple(gy.shape) else gy
        return gy * 0.0, gsrc


def _fill(t, value):
    # PyTorch's node names: fill_(number) FillBackward2, fill_(tensor) FillBackward3
    return named(Overwrite.apply(t, value),
                 "FillBackward3" if isinstance(value, Tensor) else "FillBackward2")


def _zero(t, value):
    return named(Overwrite.apply(t, value), "ZeroBackward0")


_fill.__name__, _zero.__name__ = "fill_", "zero_"


@register(family=_IP, method=True, differentiable=False)
def zero_(self: Tensor) -> Tensor:
    """Fill with zeros, in place (in a graph, the old values get a zero gradient)."""
    if state.enabled and self._rg:
        return apply_inplace(self, _zero, (0,), {})
    _write(self, None, 0)
    return self


@register(family=_IP, differentiable=False)
def fill_(self: Tensor, value) -> Tensor:
    """Fill with ``value`` (a number or a one-element tensor), in place."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise RuntimeError(
                f"fill_ only supports 0-dimension value tensor but got tensor with "
                f"{value.ndim} dimensions (shape {list(value.shape)})")
        if state.enabled and (self._rg or value._rg):
            return apply_inplace(self, _fill, (reshape(value, ()),), {})
        value = value.item()
    if state.enabled and self._rg:
        return apply_inplace(self, _fill, (value,), {})
    _write(self, None, value)
    return self


def _copy(t, s):
    src = s.to(t.device).to(t.dtype) if isinstance(s, Tensor) else Tensor(s, dtype=t.dtype)
    if tuple(src.shape) != tuple(t.shape):
        src = broadcast_to(src, tuple(t.shape))
    return named(Overwrite.apply(t, src), "CopyBackwards")


_copy.__name__ = "copy_"


@register(family=_IP, function=False, arity=2)
def copy_(self: Tensor, src, non_blocking=False) -> Tensor:
    """Copy ``src`` (broadcast, converted to our dtype and device) into this tensor; the
    copy is differentiable with respect to ``src``."""
    return apply_inplace(self, _copy, (src,), {})


# ---- fill / fill_diagonal_ / in-place view ops (helper 'shape') ----------------------------

@register(family=_IP, op=Overwrite, method=False, arity=1)
def fill(x, value) -> Tensor:
    """A new tensor of x's shape and dtype filled with ``value`` (a number or a 0-d tensor,
    which receives the summed gradient)."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"fill only supports 0-dimension value tensor but got tensor "
                               f"with {value.ndim} dimensions.")
        if value.dtype != x.dtype:
            value = value.to(x.dtype)
    return Overwrite.apply(x, value)


@register(family=_IP, function=False, differentiable=False)
def fill_diagonal_(self: Tensor, fill_value, wrap: bool = False) -> Tensor:
    """Fill the main diagonal (all indices equal) with ``fill_value``, in place; a tall
    2-D matrix with ``wrap`` restarts the diagonal every ``cols + 1`` rows (NumPy's
    ``fill_diagonal``)."""
    n = self.ndim
    if n < 2:
        raise RuntimeError("dimensions must larger than 1")
    h, w = self.shape[0], self.shape[1]
    if n > 2 and len(set(self.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    xp = get_array_module(self._data)
    size = min(h, w)
    i = xp.arange(size)
    coords = [i] * n
    if wrap and n == 2 and h > w + 1:
        step = w + 1
        extra = (self.numel() + step - 1) // step - size
        p = w * (w + 1) + xp.arange(extra) * step
        coords = [xp.concatenate([i, p // w]), xp.concatenate([i, p % w])]
    setitem(self, tuple(_make(c) for c in coords), _ix._fill_value(fill_value, self.dtype))
    return self


def _view_inplace(self: Tensor, fn, name, *args):
    """An in-place view op (``t_``, ``unsqueeze_``...): ``self`` takes the view's data and
    node; its memory is untouched, so the version counter is not bumped."""
    if state.enabled and self._rg and self.grad_fn is None:
        raise RuntimeError(f"a leaf Variable that requires grad is being used in an in-place "
                           f"operation ({name}).")
    out = fn(self, *args)
    self._data = out._data
    if out._rg:
        self.grad_fn, self._rg, self._nr = out.grad_fn, True, out._nr
    self._view_index = None
    return self


@register(family=_IP, function=False, op=_sh.Reshape)
def squeeze_(self: Tensor, dim=None) -> Tensor:
    """``squeeze``, in place (the tensor's shape changes; its memory does not)."""
    return _view_inplace(self, _sh.squeeze, "squeeze_", dim)


@register(family=_IP, function=False, op=_sh.Reshape)
def unsqueeze_(self: Tensor, dim: int) -> Tensor:
    """``unsqueeze``, in place."""
    return _view_inplace(self, _sh.unsqueeze, "unsqueeze_", dim)


@register(family=_IP, function=False, op=_sh.Permute)
def t_(self: Tensor) -> Tensor:
    """``t``, in place."""
    return _view_inplace(self, _sh.t, "t_")


@register(family=_IP, function=False, op=_sh.Permute, aliases=("swapaxes_", "swapdims_"))
def transpose_(self: Tensor, dim0: int, dim1: int) -> Tensor:
    """``transpose``, in place."""
    return _view_inplace(self, _sh.transpose, "transpose_", dim0, dim1)


@register(family=_IP, op=_ix.GetItem)
def as_strided_(self: Tensor, size, stride, storage_offset=None) -> Tensor:
    """``as_strided``, in place (on the contiguous layout, as ``as_strided`` here)."""
    return _view_inplace(self, _ix.as_strided, "as_strided_", size, stride, storage_offset)


# ---- the *_copy variants: the op's result as a new contiguous tensor ----------------------

def _copies(out):
    if isinstance(out, (tuple, list)):
        return type(out)(_copies(o) for o in out) if type(out) in (tuple, list) else \
            tuple(_copies(o) for o in out)
    return Clone.apply(out)


def _copy_variant(name, fn, doc, differentiable=True):
    def f(x, *args, **kwargs):
        return _copies(fn(x, *args, **kwargs))

    f.__doc__ = f"A copy of ``{doc}`` (PyTorch's ``{name}``): new memory, same gradient."
    return register(name, family=_sh._SH, op=Clone if differentiable else None, method=False,
                    differentiable=differentiable)(f)


def _slice(x, dim: int = 0, start=None, end=None, step: int = 1):
    if x.ndim == 0:
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    d = _norm_dim(dim, x.ndim, "slice")
    if int(step) <= 0:
        raise RuntimeError("slice step must be positive")
    return _ix.getitem(x, (slice(None),) * d + (slice(start, end, int(step)),))


def _expand(x, size, *, implicit: bool = False):
    return _sh.expand(x, size)


def _view(x, *size):
    return _sh.reshape(x, *size)


alias_copy = _copy_variant("alias_copy", lambda x: x, "x")
as_strided_copy = _copy_variant("as_strided_copy", _ix.as_strided, "as_strided")
detach_copy = _copy_variant("detach_copy", lambda x: x.detach(), "x.detach()", False)
diagonal_copy = _copy_variant("diagonal_copy", _ix.diagonal, "diagonal")
expand_copy = _copy_variant("expand_copy", _expand, "expand")
permute_copy = _copy_variant("permute_copy", _sh.permute, "permute")
select_copy = _copy_variant("select_copy", _ix.select, "select")
slice_copy = _copy_variant("slice_copy", _slice, "x[start:end:step] along dim")
split_copy = _copy_variant("split_copy", _sh.split, "split")
split_with_sizes_copy = _copy_variant("split_with_sizes_copy", _sh.split_with_sizes,
                                      "split_with_sizes")
squeeze_copy = _copy_variant("squeeze_copy", _sh.squeeze, "squeeze")
t_copy = _copy_variant("t_copy", _sh.t, "t")
transpose_copy = _copy_variant("transpose_copy", _sh.transpose, "transpose")
unbind_copy = _copy_variant("unbind_copy", _sh.unbind, "unbind")
unsqueeze_copy = _copy_variant("unsqueeze_copy", _sh.unsqueeze, "unsqueeze")
unfold_copy = _copy_variant("unfold_copy", _ix._unfold, "Tensor.unfold")
view_copy = _copy_variant("view_copy", _view, "view")


@register(family=_IP, method=False, differentiable=False)
def detach(x: Tensor) -> Tensor:
    """``x.detach()``: the same data, cut from the graph."""
    return x.detach()


@register(family=_IP, method=False, differentiable=False)
def detach_(x: Tensor) -> Tensor:
    """``x.detach_()``: cut x from the graph, in place."""
    return x.detach_()


@register(family=_IP, op=_ix.Scatter, method=False, arity=2)
def index_put_(x: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    """``x.index_put_(indices, values, accumulate)``: ``index_put`` written into x."""
    return apply_inplace(x, _ix.index_put, (indices, values, accumulate), {})


# ---- PyTorch's CPU-only element-wise Python callables and resize_ --------------------------

def _no_grad_target(self: Tensor, what: str) -> None:
    if self._rg:
        raise RuntimeError(f"Can't call {what}() on Variable that requires grad. Use "
                           f"var.detach().{what}() instead.")
    if self.device.type != "cpu":
        raise TypeError(f"{what}() is only implemented on CPU tensors (this one is on "
                        f"{self.device})")


@register(family=_IP, function=False, differentiable=False)
def apply_(self: Tensor, callable) -> Tensor:
    """Replace each element ``v`` by ``callable(v)`` (a Python function of a Python number),
    in place; CPU tensors that do not require grad only, as in PyTorch. Slow: one Python
    call per element."""
    _no_grad_target(self, "apply_")
    flat = self._data.reshape(-1).tolist()
    _write(self, None, np.array([callable(v) for v in flat], dtype=self._data.dtype)
           .reshape(self._data.shape))
    return self


@register(family=_IP, function=False, differentiable=False, arity=2)
def map_(self: Tensor, tensor, callable) -> Tensor:
    """``self[i] = callable(self[i], tensor[i])`` for every element (``tensor`` broadcast to
    this shape), in place; CPU tensors that do not require grad only."""
    _no_grad_target(self, "map_")
    other = np.broadcast_to(tensor._data if isinstance(tensor, Tensor) else
                            np.asarray(tensor), self._data.shape)
    vals = [callable(a, b) for a, b in zip(self._data.reshape(-1).tolist(),
                                           other.reshape(-1).tolist())]
    _write(self, None, np.array(vals, dtype=self._data.dtype).reshape(self._data.shape))
    return self


@register(family=_IP, function=False, differentiable=False)
def resize_(self: Tensor, *sizes, memory_format=None) -> Tensor:
    """Give this tensor the shape ``sizes``, in place: the first elements (in C order) keep
    their values, new ones are uninitialised (zeros here). Shrinking keeps the memory (a
    view of it); growing allocates new memory, as PyTorch does when its storage is too
    small. Not for tensors that require grad."""
    if self._rg:
        raise RuntimeError("cannot resize variables that require grad")
    shape = _sh._shape_arg(sizes)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(shape)}")
    arr = self._data
    xp = get_array_module(arr)
    n = int(np.prod(shape, dtype=np.int64))
    if n <= arr.size and arr.flags.c_contiguous:
        new = arr.reshape(-1)[:n].reshape(shape)
    else:
        new = xp.zeros(shape, arr.dtype)
        k = min(n, arr.size)
        new.reshape(-1)[:k] = arr.reshape(-1)[:k]
    self._data = new
    self._vc[0] += 1
    return self


@register(family=_IP, function=False, differentiable=False, arity=2)
def resize_as_(self: Tensor, the_template, memory_format=None) -> Tensor:
    """``resize_`` to the shape of ``the_template``."""
    return resize_(self, *the_template.shape)
