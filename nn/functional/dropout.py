"""Dropout (inverted: the kept elements are scaled by ``1 / (1 - p)``), with the package
RNG (``ag.manual_seed``)."""

from __future__ import annotations

import numpy as np

from autograd.ops import elementwise as E
from autograd.random import _gen_for

from ._utils import _inplace_or, _shape, _xp


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


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels: input (N, C, H, W) or (C, H, W); one draw per (N, C)."""
    _check_p(p)
    if input.ndim not in (3, 4):
        raise RuntimeError(
            f"dropout2d: expected a 3D (C, H, W) or 4D (N, C, H, W) input, got shape "
            f"{_shape(input)}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return _inplace_or(input, _zero_out, inplace)
    lead = 2 if input.ndim == 4 else 1
    scale = _dropout_mask(input, p, tuple(input.shape[:lead]) + (1,) * (input.ndim - lead))

    def dropout2d_(x):
        return E.mul(x, scale)

    return _inplace_or(input, dropout2d_, inplace)



def _dropout(x, p: float):
    """Inverted dropout of an array or Tensor, always on (recurrent layers between layers,
    attention weights); ``p >= 1`` zeroes everything."""
    if p <= 0:
        return x
    return dropout(x, min(float(p), 1.0))
