"""In-place ops (``x += y``, ``x.mul_(y)``, ``x[i] = v``...).

The result is computed out of place (recording a node as usual) and then written into the
tensor's own memory, so views and NumPy handles see the change. The tensor's version counter
(shared with its views) is bumped, so a node that saved the old values refuses to run
backward; the tensor's ``grad_fn`` becomes the new node. An in-place op on a basic-indexing
view of a tensor in the graph also records the write on the base (PyTorch's CopySlices).
"""

from __future__ import annotations

import numpy as np

from ..backend import lock, unlock
from ..grad_mode import no_grad, state
from ..registry import register
from ..tensor import Tensor
from .indexing import SetItem, _convert_index
from .shape import broadcast_to

_IP = "inplace"


def _write(t: Tensor, index, src) -> None:
    """Write ``src`` into ``t._data[index]``, unlocking a read-only saved array for the
    duration (the version counter is what protects the graph here)."""
    arr = t._data
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
            arr[index] = src
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
    if out.dtype != t.dtype and out.dtype.kind in "fc" and t.dtype.kind in "biu":
        raise RuntimeError(
            f"{name}: result type {out.dtype} can't be cast to the desired output type "
            f"{t.dtype}"
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
            f"a leaf Variable that requires grad (shape {list(t.shape)}) is being used in an "
            f"in-place operation ({name}). Use an out-of-place op, or wrap the update in "
            "`with ag.no_grad():` (as optimizers do)."
        )
    base = t._base
    if base is not None and base._rg:
        if t._view_index is None:
            raise RuntimeError(
                f"in-place operation ({name}) on a view (made by reshape/transpose/expand/...) "
                "of a tensor that requires grad is not supported; use an out-of-place op or "
                "clone() the view first"
            )
        out = fn(t, *args, **kwargs)
        _check_result(t, out, name)
        # write through the base so that its graph records the change (CopySlices)
        setitem(base, t._view_index, out)
        t.grad_fn, t._rg, t._nr = out.grad_fn, True, out._nr
        _take_tangent(t, out)
        return t
    arr = t._data
    out = fn(t, *args, **kwargs)
    _check_result(t, out, name)
    node = out.grad_fn
    if node is not None and node.saved:
        # the node saved the values we are about to overwrite: give it its own copy
        saved = list(node.saved)
        versions = list(node._versions) if node._versions is not None else None
        for j, a in enumerate(saved):
            if a is arr:
                saved[j] = a.copy()
                if versions is not None:
                    versions[j] = (None, 0)
        node.saved = tuple(saved)
        node._versions = versions
    src = out._data
    if src.dtype != arr.dtype:
        src = src.astype(arr.dtype)
    _write(t, None, src)
    t.grad_fn, t._rg, t._nr = node, out._rg, out._nr
    _take_tangent(t, out)
    return t


def _take_tangent(t: Tensor, out: Tensor) -> None:
    """Forward AD (autograd.forward_ad): the tensor updated in place takes the tangent the
    op computed for its result."""
    fw = out.__dict__.get("_fw")
    if fw is not None or "_fw" in t.__dict__:
        t._fw = fw


def setitem(x: Tensor, index, value) -> None:
    """``x[index] = value``; recorded for autograd like PyTorch's index_put_."""
    idx, basic = _convert_index(index)
    if len(idx) == 1 and not isinstance(index, tuple) and not basic:
        idx = idx[0]
    if isinstance(value, Tensor) and value.device != x.device:
        raise RuntimeError(
            f"index assignment: the value is on {value.device} but the tensor is on {x.device}"
        )

    def _set(t, v):
        return SetItem.apply(t, v, index=idx, basic=basic)

    recording = state.enabled and (x._rg or (isinstance(value, Tensor) and value._rg))
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

@register(family=_IP, function=False, differentiable=False)
def zero_(self: Tensor) -> Tensor:
    """Fill with zeros, in place."""
    _write(self, None, 0)
    return self


@register(family=_IP, function=False, differentiable=False)
def fill_(self: Tensor, value) -> Tensor:
    """Fill with ``value`` (a number or a one-element tensor), in place."""
    if isinstance(value, Tensor):
        value = value.item()
    _write(self, None, value)
    return self


def _copy(t, s):
    src = s.to(t.device).to(t.dtype) if isinstance(s, Tensor) else Tensor(s, dtype=t.dtype)
    return broadcast_to(src, tuple(t.shape)) * 1


_copy.__name__ = "copy_"


@register(family=_IP, function=False, arity=2)
def copy_(self: Tensor, src, non_blocking=False) -> Tensor:
    """Copy ``src`` (broadcast, converted to our dtype and device) into this tensor; the
    copy is differentiable with respect to ``src``."""
    return apply_inplace(self, _copy, (src,), {})
