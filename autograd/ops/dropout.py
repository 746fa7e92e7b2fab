"""Dropout in the ``torch`` namespace (``torch.dropout``, ``alpha_dropout``,
``feature_dropout``, ``feature_alpha_dropout``, their in-place forms, ``native_dropout``),
below ``nn``: ``nn.functional``'s dropout variants call the same ``dropout_impl`` (PyTorch's
``_dropout_impl``). Random draws come from the package RNG (``ag.manual_seed``)."""

from __future__ import annotations

import math

import numpy as np

from ..backend import get_array_module
from ..function import Op, named
from ..random import _gen_for, draw_like
from ..registry import register
from ..tensor import Tensor, _make

_DR = "dropout"

_NAMES = {"b": "Bool", "u1": "Byte", "i1": "Char", "i2": "Short", "i4": "Int", "i8": "Long"}


class _AffineNoise(Op):
    """``x * a * scale + b`` with constant arrays ``a`` and ``b`` and a constant scalar
    ``scale`` (None: 1). Plain dropout passes its boolean keep-mask as ``a`` and
    ``1 / (1 - p)`` as ``scale``: the graph keeps one byte per element, not a float mask;
    alpha dropout a float ``a`` and its shift ``b``. The gradient is ``gy * a * scale``."""

    _torch_name = "MulBackward0"  # PyTorch's dropout multiplies by the scaled mask

    @staticmethod
    def forward(ctx, x, a, b, scale=None):
        ctx.a, ctx.scale = a, scale
        y = x * a
        if scale is not None:
            y *= scale  # x * 1 is exact: the same numbers as x * (a * scale)
        return y if b is None else y + b

    @staticmethod
    def backward(ctx, gy):
        g = gy * ctx.a
        return g if ctx.scale is None else g * ctx.scale

    @staticmethod
    def jvp(ctx, prims, tans, ys):
        """Forward mode: ``tx * a * scale`` (the shift is constant)."""
        t = tans[0] * ctx.a
        return t if ctx.scale is None else t * ctx.scale


ALPHA = 1.7580993408473766  # -SELU's scale * alpha: the value a dropped unit takes


def uniform(xp, shape, generator=None):
    """Uniform [0, 1) draws of ``shape`` from the package RNG (or ``generator``)."""
    g = _gen_for(xp, generator)
    return xp.asarray(g.random(shape) if xp is np else g.random_sample(shape))


def _data(x):
    return x._data if isinstance(x, Tensor) else x


def _apply(x, fn, inplace: bool):
    if inplace and isinstance(x, Tensor):
        return x._inplace(fn)
    return fn(x)


def _zero_out(x):
    xd = _data(x)
    return x * get_array_module(xd).zeros((), dtype=xd.dtype)


def dropout_impl(input, p: float, train: bool, inplace: bool = False, feature: bool = False,
                 alpha: bool = False, batched: bool = True, mask_out=None):
    """PyTorch's ``_dropout_impl``: plain or alpha dropout of elements, or of whole channels
    (``feature``: one draw per (N, C), or per C of an unbatched input). ``mask_out`` (a
    list) receives the boolean keep-mask (``native_dropout``)."""
    if p < 0.0 or p > 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
    xd = _data(input)
    if not train or p == 0.0 or xd.size == 0:
        return input
    xp = get_array_module(xd)
    if p == 1.0:  # input * 0 (in its own dtype; -0. for negative inputs, nan stays nan)
        if mask_out is not None:
            mask_out.append(xp.zeros(xd.shape, dtype=bool))
        return _apply(input, _zero_out, inplace)
    if feature and xd.ndim + (not batched) < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if xd.dtype.kind not in "fcV":
        name = _NAMES.get("b" if xd.dtype.kind == "b" else f"{xd.dtype.kind}{xd.dtype.itemsize}")
        raise RuntimeError(f"result type Float can't be cast to the desired output type {name}")
    shape = tuple(xd.shape)
    if feature:
        lead = 2 if batched else 1
        shape = shape[:lead] + (1,) * (len(shape) - lead)
    # PyTorch's mask: bernoulli_(1 - p), u < 1 - p, on empty_like(input) (filled in its
    # memory order) or on a fresh (N, C, 1...) tensor (asarray: 0-d comparisons give scalars)
    u = draw_like(xd, lambda sh: uniform(xp, sh)) if shape == xd.shape else uniform(xp, shape)
    keep = xp.asarray(u < 1 - p)
    if mask_out is not None:
        mask_out.append(xp.broadcast_to(keep, xd.shape).copy())
    if alpha:
        keep = keep.astype(xd.dtype)
        a = 1.0 / math.sqrt((ALPHA * ALPHA * p + 1) * (1 - p))
        b = ((keep - 1) * (ALPHA * a) + ALPHA * a * p).astype(xd.dtype, copy=False)
        noise, scale = (keep * a).astype(xd.dtype, copy=False), None
    else:  # the boolean mask itself: a quarter of a float32 mask's memory
        b, noise, scale = None, keep, xd.dtype.type(1.0 / (1.0 - p))

    def dropout_(x):
        y = _AffineNoise.apply(x, a=noise, b=b, scale=scale)
        return y if b is None else named(y, "AddBackward0")  # alpha: PyTorch's last op adds

    return _apply(input, dropout_, inplace)


@register(family=_DR, op=_AffineNoise, method=False)
def dropout(input, p: float, train: bool):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)`` when
    ``train``; the input itself otherwise."""
    return dropout_impl(input, p, train)


@register(family=_DR, op=_AffineNoise, method=False)
def dropout_(input, p: float, train: bool):
    """In-place ``dropout``."""
    return dropout_impl(input, p, train, inplace=True)


@register(family=_DR, op=_AffineNoise, method=False)
def feature_dropout(input, p: float, train: bool):
    """Zero whole channels (dim 1) with probability ``p``, scale the rest by
    ``1 / (1 - p)``."""
    return dropout_impl(input, p, train, feature=True)


@register(family=_DR, op=_AffineNoise, method=False)
def feature_dropout_(input, p: float, train: bool):
    """In-place ``feature_dropout``."""
    return dropout_impl(input, p, train, inplace=True, feature=True)


@register(family=_DR, op=_AffineNoise, method=False)
def alpha_dropout(input, p: float, train: bool):
    """Alpha dropout (SELU networks): dropped units take SELU's negative saturation value
    and an affine correction keeps zero mean and unit variance."""
    return dropout_impl(input, p, train, alpha=True)


@register(family=_DR, op=_AffineNoise, method=False)
def alpha_dropout_(input, p: float, train: bool):
    """In-place ``alpha_dropout``."""
    return dropout_impl(input, p, train, inplace=True, alpha=True)


@register(family=_DR, op=_AffineNoise, method=False)
def feature_alpha_dropout(input, p: float, train: bool):
    """Alpha dropout of whole channels (dim 1)."""
    return dropout_impl(input, p, train, feature=True, alpha=True)


@register(family=_DR, op=_AffineNoise, method=False)
def feature_alpha_dropout_(input, p: float, train: bool):
    """In-place ``feature_alpha_dropout``."""
    return dropout_impl(input, p, train, inplace=True, feature=True, alpha=True)


@register(family=_DR, op=_AffineNoise, method=False)
def native_dropout(input, p: float, train):
    """``(output, mask)``: ``input * mask / (1 - p)`` with a boolean keep-mask drawn with
    probability ``1 - p`` (``p == 1``: scale 0) when ``train``; otherwise a copy of the input
    and an all-True mask. As PyTorch's kernel: integer inputs are refused in training, and
    an empty input gives an empty mask of its own dtype."""
    xd = _data(input)
    xp = get_array_module(xd)
    copy = input.clone() if isinstance(input, Tensor) else xd.copy()
    if xd.size == 0:
        return copy, _make(xp.empty(xd.shape, dtype=xd.dtype))
    if not train:
        return copy, _make(xp.ones(xd.shape, dtype=bool))
    if xd.dtype.kind not in "fcV":
        name = _NAMES.get("b" if xd.dtype.kind == "b" else f"{xd.dtype.kind}{xd.dtype.itemsize}")
        raise RuntimeError(f"result type Float can't be cast to the desired output type {name}")
    keep = xp.asarray(uniform(xp, xd.shape) < 1 - p)
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    noise = keep.astype(xd.dtype) * xd.dtype.type(scale)
    return named(_AffineNoise.apply(input, a=noise, b=None), "NativeDropoutBackward0"), _make(keep)
