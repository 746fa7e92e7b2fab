"""Dropout (inverted: the kept elements are scaled by ``1 / (1 - p)``), with the package
RNG (``ag.manual_seed``)."""

from __future__ import annotations

import warnings

from autograd.ops import dropout as D


def _check_p(p) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``
    (training only; identity otherwise). Uses the package RNG (``ag.manual_seed``)."""
    return _dropout_impl(input, p, training, inplace, False, False)


def _dropout_impl(input, p: float, training: bool, inplace: bool, feature: bool,
                  alpha: bool, batched: bool = True):
    """``autograd.ops.dropout.dropout_impl`` (PyTorch's ``_dropout_impl``) after
    ``nn.functional``'s ValueError for ``p`` out of [0, 1]."""
    _check_p(p)
    return D.dropout_impl(input, p, training, inplace, feature, alpha, batched)


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
