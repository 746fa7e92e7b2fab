"""Reductions over ``dim`` (an int, a tuple, or None for all) with ``keepdim``."""

from __future__ import annotations

import numbers

import numpy as np

from ..backend import get_array_module
from ..function import Op
from ..tensor import Tensor


def _dims(dim, ndim: int):
    """Normalise ``dim`` to a sorted tuple of non-negative axes, or None for all."""
    if dim is None:
        return None
    if isinstance(dim, numbers.Integral):
        dim = (int(dim),)
    dim = tuple(dim)
    if not dim:
        return None
    out = []
    for d in dim:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-max(ndim, 1)}, "
                f"{max(ndim, 1) - 1}], but got {d})"
            )
        out.append(d % max(ndim, 1))
    return tuple(sorted(set(out))) if ndim else None


def _keep_shape(in_shape, axes):
    """The shape with reduced axes kept as size 1."""
    if axes is None:
        return (1,) * len(in_shape)
    return tuple(1 if i in axes else s for i, s in enumerate(in_shape))


def _expand_grad(gy, in_shape, axes, keepdim):
    """Bring a reduced gradient back to the input's shape (reshape, then broadcast)."""
    from .shape import broadcast_to, reshape

    if not keepdim:
        gy = reshape(gy, _keep_shape(in_shape, axes))
    return broadcast_to(gy, in_shape)


class Sum(Op):
    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype=None):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        ctx.in_dtype = x.dtype
        if dtype is None and x.dtype.kind in "biu":
            dtype = np.int64
        return x.sum(axis=axes, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, gy):
        g = _expand_grad(gy, ctx.in_shape, ctx.axes, ctx.keepdim)
        if g.dtype != ctx.in_dtype and ctx.in_dtype.kind == "f":
            from .elementwise import cast

            g = cast(g, ctx.in_dtype)
        return g


class Mean(Op):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        n = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
        ctx.n = n
        return x.mean(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, gy):
        return _expand_grad(gy / ctx.n if ctx.n else gy * float("nan"), ctx.in_shape,
                            ctx.axes, ctx.keepdim)


def sum(x, dim=None, keepdim: bool = False, dtype=None):  # noqa: A001
    """Sum over ``dim`` (all dims when None)."""
    axes = _dims(dim, x.ndim)
    if not isinstance(x, Tensor):
        return x.sum(axis=axes, keepdims=keepdim)
    return Sum.apply(x, axes=axes, keepdim=keepdim, dtype=dtype)


def mean(x, dim=None, keepdim: bool = False, dtype=None):
    """Arithmetic mean over ``dim``; floating dtypes only (like PyTorch)."""
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind not in "fc":
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating "
            f"point or complex dtype. Got: {x.dtype}"
        )
    axes = _dims(dim, x.ndim)
    if not isinstance(x, Tensor):
        return x.mean(axis=axes, keepdims=keepdim)
    return Mean.apply(x, axes=axes, keepdim=keepdim)


_ = get_array_module
