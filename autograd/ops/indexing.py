"""Indexing: ``t[...]`` (basic and advanced), index assignment, gather/scatter and friends.

Gradients of indexing scatter-add into a zero tensor, so repeated indices accumulate.
"""

from __future__ import annotations

import numpy as np

from ..backend import add_at, get_array_module
from ..function import Op
from ..grad_mode import state
from ..tensor import Tensor, _make


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
        from .elementwise import cast
        from .shape import sum_to

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


def setitem(x: Tensor, index, value) -> None:
    """``x[index] = value``; recorded for autograd like PyTorch's index_put_."""
    from .inplace import apply_inplace

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
    if not recording:
        vd = value._data if isinstance(value, Tensor) else value
        from .inplace import _write

        _write(x, idx, vd)
        return
    apply_inplace(x, _set, (value,), {})


_ = _make
