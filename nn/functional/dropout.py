"""Dropout (inverted: the kept elements are scaled by ``1 / (1 - p)``), with the package
RNG (``ag.manual_seed``)."""

from __future__ import annotations

import math
import warnings

import numpy as np

from autograd.function import Op
from autograd.ops import elementwise as E
from autograd.random import _gen_for
from autograd.tensor import Tensor

from ._utils import _inplace_or, _xp


def _uniform(xp, shape):
    g = _gen_for(xp)
    return g.random(shape) if xp is np else g.random_sample(shape)


def _dropout_mask(input, p: float, mask_shape):
    xp = _xp(input)
    keep = _uniform(xp, mask_shape) >= p
    return keep.astype(input.dtype) * input.dtype.type(1.0 / (1.0 - p))


def _zero_out(x):
    return x * 0.0


def _check_p(p) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``
    (training only; identity otherwise). Uses the package RNG (``ag.manual_seed``)."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return _inplace_or(input, _zero_out, inplace)
    scale = _dropout_mask(input, p, tuple(input.shape))

    def dropout_(x):
        return E.mul(x, scale)

    return _inplace_or(input, dropout_, inplace)


class _AffineNoise(Op):
    """``x * a + b`` with constant arrays ``a`` (the mask times its scale) and ``b``
    (alpha dropout's shift; None for plain dropout); the gradient is ``gy * a``."""

    @staticmethod
    def forward(ctx, x, a, b):
        ctx.a = a
        y = x * a
        return y if b is None else y + b

    @staticmethod
    def backward(ctx, gy):
        return gy * ctx.a


_ALPHA = 1.7580993408473766  # -SELU's scale * alpha: the value a dropped unit takes


def _dropout_impl(input, p: float, training: bool, inplace: bool, feature: bool,
                  alpha: bool, batched: bool = True):
    """PyTorch's ``_dropout_impl``: plain/alpha dropout of elements or of whole channels
    (``feature``: one draw per (N, C), or per C of an unbatched input, broadcast over the
    other dims)."""
    _check_p(p)
    if feature and input.ndim + (not batched) < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    xd = input._data if isinstance(input, Tensor) else input
    if not training or p == 0.0 or xd.size == 0:
        return input
    if p == 1.0:
        return _inplace_or(input, _zero_out, inplace)
    xp = _xp(input)
    shape = tuple(xd.shape)
    if feature:
        lead = 2 if batched else 1
        shape = shape[:lead] + (1,) * (len(shape) - lead)
    keep = (_uniform(xp, shape) >= p).astype(xd.dtype)
    if alpha:
        a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
        b = ((keep - 1) * (_ALPHA * a) + _ALPHA * a * p).astype(xd.dtype, copy=False)
        noise = (keep * a).astype(xd.dtype, copy=False)
    else:
        b, noise = None, keep * xd.dtype.type(1.0 / (1.0 - p))

    def dropout_(x):
        return _AffineNoise.apply(x, a=noise, b=b)

    return _inplace_or(input, dropout_, inplace)


def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of (N, C, L) or (C, L) inputs with probability ``p`` (one draw
    per channel) and scale the others by ``1 / (1 - p)``."""
    _check_p(p)
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note "
            "that dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            "inputs).")
    return _dropout_impl(input, p, training, inplace, True, False, batched=input.ndim == 3)


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of (N, C, H, W) inputs with probability ``p`` (one draw per
    (N, C)). As in PyTorch, a 3-D input is taken as (N, C, L) (with a warning), and other
    ranks are deprecated (a warning) but dropped channel-wise along dim 1."""
    _check_p(p)
    nd = input.ndim
    if nd not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {nd}-D input to dropout2d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead. Note that dropout2d exists to provide "
            "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, "
            "and an optional batch dimension (i.e. 3D or 4D inputs).", UserWarning,
            stacklevel=2)
    if nd == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C "
            "is the channel dim. This behavior will change in a future release to interpret "
            "the input as one without a batch dimension, i.e. shape (C, H, W). To maintain "
            "the 1D channel-wise dropout behavior, please switch to using dropout1d instead.",
            UserWarning, stacklevel=2)
    return _dropout_impl(input, p, training, inplace, True, False)


def dropout3d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs with probability
    ``p`` (one draw per channel); other ranks are deprecated (a warning)."""
    _check_p(p)
    nd = input.ndim
    if nd not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {nd}-D input to dropout3d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead. Note that dropout3d exists to provide "
            "channel-wise dropout on inputs with 3 spatial dimensions, a channel dimension, "
            "and an optional batch dimension (i.e. 4D or 5D inputs).", UserWarning,
            stacklevel=2)
    return _dropout_impl(input, p, training, inplace, True, False, batched=nd == 5)


def alpha_dropout(input, p: float = 0.5, training: bool = False, inplace: bool = False):
    """Alpha dropout (for SELU networks): dropped units take SELU's negative saturation
    value and an affine correction keeps the mean and variance of the input (zero mean,
    unit variance). Training only; note ``training=False`` by default, as in PyTorch."""
    return _dropout_impl(input, p, training, inplace, False, True)


def feature_alpha_dropout(input, p: float = 0.5, training: bool = False,
                          inplace: bool = False):
    """Alpha dropout of whole channels (one draw per (N, C) of an input of 2 or more
    dims)."""
    return _dropout_impl(input, p, training, inplace, True, True)


def _dropout(x, p: float):
    """Inverted dropout of an array or Tensor, always on (recurrent layers between layers,
    attention weights); ``p >= 1`` zeroes everything."""
    if p <= 0:
        return x
    return dropout(x, min(float(p), 1.0))
