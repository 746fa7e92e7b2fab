"""``nn.utils.clip_grad``: gradient clipping (PyTorch's ``torch.nn.utils.clip_grad``)."""

from __future__ import annotations

import math
import warnings

import numpy as np

from autograd.backend import get_array_module
from autograd.grad_mode import no_grad
from autograd.ops import reduction as R
from autograd.ops import shape as S
from autograd.ops.inplace import _write
from autograd.tensor import Tensor, tensor


def _params(parameters) -> list:
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def _grads(parameters) -> list:
    return [p.grad for p in _params(parameters) if p.grad is not None]


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach=None):
    """The ``norm_type``-norm of all ``tensors`` together (as if concatenated)."""
    tensors = _params(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return tensor(0.0)
    dev = tensors[0].device
    with no_grad():
        norms = [R.norm(t.detach(), norm_type).to(dev) for t in tensors]
        if norm_type == math.inf:
            total = R.amax(S.stack(norms))
        else:
            total = R.norm(S.stack(norms), norm_type)
    if error_if_nonfinite and not bool(get_array_module(total._data).isfinite(total._data)):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    return total


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None):
    """Scale the gradients of ``parameters`` in place so that their total ``norm_type``-norm
    (as if all were one vector) is at most ``max_norm``; returns the norm before clipping.

    The scale is ``min(1, max_norm / (total_norm + 1e-6))`` (PyTorch's).

    Example:
        >>> total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    """
    grads = _grads(parameters)
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    if not grads:
        return total
    _scale_grads(grads, max_norm, total)
    return total


def _scale_grads(grads, max_norm, total: Tensor) -> None:
    if isinstance(total._data, np.ndarray):
        coef = min(float(max_norm) / (float(total.item()) + 1e-6), 1.0)
    else:  # on the GPU the coefficient stays on the device (no host sync)
        coef = get_array_module(total._data).minimum(float(max_norm) / (total._data + 1e-6), 1.0)
    with no_grad():
        for g in grads:
            _write(g, None, (g._data * coef).astype(g.dtype, copy=False))


def clip_grads_with_norm_(parameters, max_norm: float, total_norm: Tensor,
                          foreach=None) -> None:
    """Scale the gradients of ``parameters`` in place by ``min(1, max_norm / (total_norm +
    1e-6))``, with ``total_norm`` given (e.g. from ``get_total_norm``), PyTorch's.

    Example:
        >>> norm = nn.utils.get_total_norm([p.grad for p in model.parameters()])
        >>> nn.utils.clip_grads_with_norm_(model.parameters(), 1.0, norm)
    """
    if not isinstance(total_norm, Tensor):
        raise TypeError(f"clip_grads_with_norm_: total_norm must be a Tensor, got "
                        f"{type(total_norm).__name__}")
    grads = _grads(parameters)
    if grads:
        _scale_grads(grads, max_norm, total_norm)


def clip_grad_norm(parameters, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Deprecated alias of ``clip_grad_norm_`` (warns, as PyTorch does).

    Example:
        >>> nn.utils.clip_grad_norm(model.parameters(), 1.0)  # FutureWarning
    """
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient of ``parameters`` into ``[-clip_value, clip_value]`` in place.

    Example:
        >>> nn.utils.clip_grad_value_(model.parameters(), 0.5)
    """
    clip_value = float(clip_value)
    with no_grad():
        for g in _grads(parameters):
            xp = get_array_module(g._data)
            _write(g, None, xp.clip(g._data, -clip_value, clip_value))
