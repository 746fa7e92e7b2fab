"""Parameter initialisation (``nn.init``), with PyTorch's formulas and defaults."""

from __future__ import annotations

import math
import warnings

import numpy as np

from autograd.backend import get_array_module
from autograd.grad_mode import no_grad
from autograd.random import _gen_for
from autograd.tensor import Tensor


def _fill(t: Tensor, arr) -> Tensor:
    with no_grad():
        xp = get_array_module(t._data)
        t._data[...] = xp.asarray(arr, dtype=t.dtype)
        t._vc[0] += 1
    return t


def _fans(t: Tensor):
    if t.ndim < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"
        )
    recept = int(np.prod(t.shape[2:])) if t.ndim > 2 else 1
    return t.shape[1] * recept, t.shape[0] * recept


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended gain for an activation (PyTorch's table)."""
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "sigmoid",
                        "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _rng():
    return _gen_for(np)


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with U(a, b)."""
    return _fill(t, _rng().uniform(a, b, size=t.shape))


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with N(mean, std²)."""
    return _fill(t, _rng().normal(mean, std, size=t.shape))


def constant_(t: Tensor, val: float) -> Tensor:
    return _fill(t, np.full(t.shape, val))


def zeros_(t: Tensor) -> Tensor:
    return constant_(t, 0.0)


def ones_(t: Tensor) -> Tensor:
    return constant_(t, 1.0)


def xavier_uniform_(t: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot uniform: U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out))."""
    fi, fo = _fans(t)
    a = gain * math.sqrt(6.0 / (fi + fo))
    return uniform_(t, -a, a)


def xavier_normal_(t: Tensor, gain: float = 1.0) -> Tensor:
    fi, fo = _fans(t)
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fi + fo)))


def kaiming_uniform_(t: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu") -> Tensor:
    """He uniform: U(-b, b), b = gain * sqrt(3 / fan)."""
    if 0 in tuple(t.shape):  # PyTorch's: nothing to fill (and no fan to divide by)
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return t
    fi, fo = _fans(t)
    fan = fi if mode == "fan_in" else fo
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(t, -bound, bound)


def kaiming_normal_(t: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu") -> Tensor:
    if 0 in tuple(t.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return t
    fi, fo = _fans(t)
    fan = fi if mode == "fan_in" else fo
    return normal_(t, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan))


def orthogonal_(t: Tensor, gain: float = 1.0) -> Tensor:
    """A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one."""
    rows = t.shape[0]
    cols = int(np.prod(t.shape[1:])) if t.ndim > 1 else 1
    flat = _rng().normal(size=(rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(t, gain * q.reshape(t.shape))


def _calculate_fan_in_and_fan_out(t: Tensor):
    return _fans(t)
