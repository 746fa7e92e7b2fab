"""Argument and layout helpers shared by the ``nn.functional`` families (the lowest layer of
``nn``: it imports only ``autograd``)."""

from __future__ import annotations

import functools
import numbers

import numpy as np

from autograd.backend import get_array_module
from autograd.function import Op
from autograd.ops import shape as S
from autograd.tensor import Tensor


def torch_node(name):
    """Decorator: the graph node of the function's result gets PyTorch's name, for functions
    built of several ops where PyTorch records one (``UpsampleBilinear2DBackward0``...).
    ``name`` is a string, or a function of the call's arguments giving one (or None: keep
    the last op's name). An input passed through unchanged is never renamed."""

    def deco(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            out = fn(*args, **kwargs)
            y = out[0] if out.__class__ is tuple else out
            node = getattr(y, "grad_fn", None)
            first = args[0] if args else next(iter(kwargs.values()), None)
            if node is not None and node is not getattr(first, "grad_fn", None):
                n = name(*args, **kwargs) if callable(name) else name
                if n:
                    node._torch_name = n
            return out

        return wrapper

    return deco


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
    if isinstance(v, str):  # iterable, but never ints (PyTorch's argument parser's message)
        raise TypeError(f"{op}(): argument '{name}' must be tuple of ints, not str")
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


def _as_strided(xp, a, shape, strides):
    return xp.lib.stride_tricks.as_strided(a, shape=shape, strides=strides)


class _Attach(Op):
    """Identity on its first input, connected to the others with zero gradients: a gradient
    that does not depend on them (a bias's, ``sum(gy)``) computed under ``create_graph``
    stays part of the graph of its op's inputs, as in PyTorch (where it comes out of the
    op's double-backward node)."""

    @staticmethod
    def forward(ctx, g, *others):
        ctx.shapes = [(o.shape, o.dtype) for o in others]
        return g

    @staticmethod
    def backward(ctx, gg):
        xp = get_array_module(gg._data if isinstance(gg, Tensor) else gg)
        zs = tuple(None if e is None else xp.zeros(s, dtype=d)
                   for e, (s, d) in zip(ctx.next_edges[1:], ctx.shapes))
        return (gg,) + zs


def attach_grad(g, *others):
    """``g`` itself, made part of the graph of ``others`` when backward runs with
    ``create_graph`` (``g`` and the others are Tensors there); raw arrays pass through."""
    if not isinstance(g, Tensor):
        return g
    live = [o for o in others if isinstance(o, Tensor) and o.requires_grad]
    if not live:
        return g
    return _Attach.apply(g, *live)
