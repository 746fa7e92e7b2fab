"""Argument and layout helpers shared by the ``nn.functional`` families (the lowest layer of
``nn``: it imports only ``autograd``)."""

from __future__ import annotations

import math
import numbers
import sys

import numpy as np

from autograd.backend import get_array_module
from autograd.ops import shape as S
from autograd.tensor import Tensor


def _data(x):
    """The raw array of a Tensor (anything else unchanged)."""
    return x._data if isinstance(x, Tensor) else x


def _xp(x):
    return get_array_module(_data(x))


def _shape(x) -> list:
    return list(getattr(x, "shape", ()))


def _shape_str(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


def _inplace_or(x, fn, inplace: bool):
    """``fn(x)``, written back into ``x`` when ``inplace`` (version counter bumped)."""
    return x._inplace(fn) if inplace and isinstance(x, Tensor) else fn(x)


def _ntuple(v, n: int, name: str, op: str) -> tuple:
    """An int or a sequence of ``n`` ints, as a tuple of ``n`` ints."""
    if isinstance(v, numbers.Integral):
        return (int(v),) * n
    try:
        t = tuple(int(a) for a in v)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}") from None
    if len(t) == 1:
        t = t * n
    if len(t) != n:
        raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}")
    return t


def _positive(t: tuple, name: str, op: str) -> None:
    if any(a <= 0 for a in t):
        raise ValueError(f"{op}: {name} must be positive, got {t}")


# ---- convolution wrappers -----------------------------------------------------------------


def _batch(op: str, x, nd: int, channels: int | None = None, what: str | None = None):
    """Check the rank (and channels) of a (N, C, *spatial) or unbatched (C, *spatial)
    input; returns (input with a batch dim, whether one was added)."""
    sp = ("L",) if nd == 1 else ("H", "W")
    ch = "C" if channels is None else str(channels)
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"{what or op}: expected input of shape (N, {ch}, {', '.join(sp)}) or "
            f"({ch}, {', '.join(sp)}), got {_shape_str(x.shape)} ({x.ndim}-D)"
        )
    unbatched = x.ndim == nd + 1
    c = x.shape[0] if unbatched else x.shape[1]
    if channels is not None and c != channels:
        raise RuntimeError(
            f"{what or op}: expected input of shape (N, {ch}, {', '.join(sp)}) or "
            f"({ch}, {', '.join(sp)}), got {_shape_str(x.shape)} ({c} channels instead of "
            f"{channels})"
        )
    if unbatched:
        x = S.unsqueeze(x, 0)
    return x, unbatched



# ---- layout helpers -----------------------------------------------------------------------


def _order(a) -> tuple:
    """The dims of ``a`` from the outermost in memory to the innermost."""
    return tuple(sorted(range(a.ndim), key=lambda d: -abs(a.strides[d])))


def _zeros_in_order(xp, shape, order, dtype):
    """Zeros of ``shape`` laid out in memory in dim ``order`` (see ``_order``): a backward
    keeps the layout of the forward input it is the gradient of."""
    buf = xp.zeros(tuple(shape[d] for d in order), dtype=dtype)
    return buf.transpose(tuple(int(i) for i in np.argsort(order)))


# Big buffers (im2col columns, their gradient, pool-backward outputs) come from a small cache
# of NumPy arrays: glibc returns freed multi-megabyte blocks to the OS and page-faults them
# back in on the next step, which cost ~20% of a small CNN's training step. A cached array is
# handed out again only when nothing else references it (its views, e.g. columns saved for
# backward or a gradient held anywhere, count), so reuse is safe whatever the graph or the
# user does (retain_graph, create_graph, several models, arrays kept from .numpy()).
_SCRATCH: list = []  # cached buffers, oldest first
_SCRATCH_MIN = 1 << 20  # bytes: smaller arrays come cheaply from malloc
_SCRATCH_CAP = 128 << 20  # bytes kept in all (a larger buffer is never kept)


def _scratch(xp, shape, dtype):
    """An uninitialised array, reused across calls once unreferenced (NumPy only)."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if xp is not np or not _SCRATCH_MIN <= nbytes <= _SCRATCH_CAP:
        return xp.empty(shape, dtype=dtype)
    for b in _SCRATCH:
        # referenced only by the list, the loop variable and getrefcount's argument: free
        if b.shape == shape and b.dtype == dtype and sys.getrefcount(b) == 3:
            return b
    b = np.empty(shape, dtype=dtype)
    kept = sum(a.nbytes for a in _SCRATCH)
    i = 0
    while kept + nbytes > _SCRATCH_CAP and i < len(_SCRATCH):
        if sys.getrefcount(_SCRATCH[i]) == 2:  # the list and the argument: free, evict
            kept -= _SCRATCH.pop(i).nbytes
        else:
            i += 1
    if kept + nbytes <= _SCRATCH_CAP:
        _SCRATCH.append(b)
    return b


def _as_strided(xp, a, shape, strides):
    return xp.lib.stride_tricks.as_strided(a, shape=shape, strides=strides)
