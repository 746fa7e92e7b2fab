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


def _calculate_fan_in_and_fan_out(t: Tensor):
    """(fan_in, fan_out) of a weight: size(1) and size(0) times the receptive field."""
    return _fans(t)


def _calculate_correct_fan(t: Tensor, mode: str) -> int:
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fi, fo = _fans(t)
    return fi if mode == "fan_in" else fo


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended gain for an activation (PyTorch's table).

    Args:
        nonlinearity: 'linear', 'conv{1,2,3}d', 'conv_transpose{1,2,3}d', 'sigmoid', 'tanh',
            'relu', 'leaky_relu' or 'selu'.
        param: the negative slope of 'leaky_relu' (0.01 when None).

    Example:
        >>> nn.init.calculate_gain("leaky_relu", 0.2)
    """
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "sigmoid",
                        "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"):
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif (not isinstance(param, bool) and isinstance(param, int)) \
                or isinstance(param, float):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _rng(generator=None):
    return _gen_for(np, generator)


def _draw_dtype(tensor):
    """The dtype PyTorch draws in for ``tensor`` (its own; an integer tensor: double)."""
    dt = np.dtype(tensor.dtype)
    return dt if dt.kind in "fV" else np.float64


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with U(a, b) in place.

    Example:
        >>> nn.init.uniform_(ag.empty(3, 5), -0.1, 0.1)
    """
    return _fill(tensor, _rng(generator).uniform(a, b, size=tensor.shape,
                                                 dtype=_draw_dtype(tensor)))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with N(mean, std²) in place.

    Example:
        >>> nn.init.normal_(ag.empty(3, 5), std=0.02)
    """
    return _fill(tensor, _rng(generator).normal(mean, std, size=tensor.shape,
                                                dtype=_draw_dtype(tensor)))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator=None) -> Tensor:
    """Fill with N(mean, std²) truncated to [a, b] (PyTorch's rejection sampling: normal draws
    when the interval holds more than 30 % of the mass, else uniform proposals on [a, b]
    accepted with the normal density's ratio to its peak in the interval).

    Example:
        >>> nn.init.trunc_normal_(ag.empty(3, 5), std=0.02)
    """
    def norm_cdf(x: float) -> float:
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if (mean < a - 2 * std) or (mean > b + 2 * std):
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)
    rng = _rng(generator)
    shape = tuple(tensor.shape)
    dt = _draw_dtype(tensor)
    p = norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std)
    if p > 0.3:  # PyTorch's draws: whole-tensor normal_ rounds, kept where rejected before
        lo, hi = float(dt.type(a)), float(dt.type(b))  # bounds as the tensor holds them
        out = rng.normal(mean, std, size=shape, dtype=dt)
        bad = (out < lo) | (out > hi)
        while bad.any():
            out = np.where(bad, rng.normal(mean, std, size=shape, dtype=dt), out)
            bad = (out < lo) | (out > hi)
    else:  # uniform proposals on [a, b], accepted with the density's ratio to its peak
        mode = max(a, min(mean, b))
        log_peak = -0.5 * ((mode - mean) / std) ** 2

        def log_ratio(c):  # in the tensor's dtype, as PyTorch's in-place chain
            return ((c - dt.type(mean)) / dt.type(std)) ** 2 * dt.type(-0.5) - \
                dt.type(log_peak)

        out = rng.uniform(a, b, size=shape, dtype=dt)
        pending = np.log(rng.uniform(size=shape, dtype=dt)) > log_ratio(out)
        while pending.any():
            cand = rng.uniform(a, b, size=shape, dtype=dt)
            out = np.where(pending, cand, out)
            pending = np.where(pending, np.log(rng.uniform(size=shape, dtype=dt))
                               > log_ratio(cand), pending)
    return _fill(tensor, out)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val`` in place."""
    return _fill(tensor, np.full(tensor.shape, val))


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with zeros in place."""
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with ones in place."""
    return constant_(tensor, 1.0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity (ones on the diagonal, as many as fit).

    Example:
        >>> nn.init.eye_(ag.empty(3, 5))
    """
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, np.eye(*tensor.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3-, 4- or 5-D convolution weight with the Dirac delta: the convolution keeps
    its input (per group, as many channels as fit).

    Example:
        >>> nn.init.dirac_(ag.empty(3, 16, 5, 5))
    """
    dims = tensor.ndim
    if dims not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tuple(tensor.shape)
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    per = sizes[0] // groups
    k = min(per, sizes[1])
    out = np.zeros(sizes)
    d = np.arange(k)
    centre = tuple(s // 2 for s in sizes[2:])
    for g in range(groups):
        out[(g * per + d, d) + centre] = 1
    return _fill(tensor, out)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot uniform: U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)).

    Example:
        >>> nn.init.xavier_uniform_(ag.empty(3, 5), gain=nn.init.calculate_gain("relu"))
    """
    fi, fo = _fans(tensor)
    a = math.sqrt(3.0) * (gain * math.sqrt(2.0 / float(fi + fo)))  # PyTorch's rounding
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot normal: N(0, std²), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fi, fo = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fi + fo)), generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He uniform: U(-b, b), b = gain * sqrt(3 / fan).

    Example:
        >>> nn.init.kaiming_uniform_(ag.empty(3, 5), mode="fan_in", nonlinearity="relu")
    """
    if 0 in tuple(tensor.shape):  # PyTorch's: nothing to fill (and no fan to divide by)
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    bound = math.sqrt(3.0) * (calculate_gain(nonlinearity, a) / math.sqrt(fan))
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He normal: N(0, std²), std = gain / sqrt(fan)."""
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan), generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """A (semi-)orthogonal matrix (the trailing dims flattened) from the QR decomposition of a
    Gaussian one, times ``gain``.

    Example:
        >>> nn.init.orthogonal_(ag.empty(3, 5))
    """
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor  # no-op
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = _rng(generator).normal(0.0, 1.0, size=(rows, cols), dtype=_draw_dtype(tensor))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator=None) -> Tensor:
    """N(0, std²) with ``ceil(sparsity * rows)`` zeros in every column, at random rows (a
    dense tensor).

    Example:
        >>> nn.init.sparse_(ag.empty(3, 5), sparsity=0.1)
    """
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = math.ceil(sparsity * rows)
    out = _rng(generator).normal(0.0, std, size=(rows, cols), dtype=_draw_dtype(tensor))
    for col in range(cols):  # PyTorch's: a permutation of the rows per column, from the
        out[_rng(None).permutation(rows)[:num_zeros], col] = 0  # global generator
    return _fill(tensor, out)


def _make_deprecate(meth):
    new_name = meth.__name__
    old_name = new_name[:-1]

    def deprecated_init(*args, **kwargs):
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of "
                      f"`nn.init.{new_name}`.", FutureWarning, stacklevel=2)
        return meth(*args, **kwargs)

    deprecated_init.__doc__ = (f"{old_name}(...): deprecated in favor of "
                               f"``nn.init.{new_name}`` (warns).")
    deprecated_init.__name__ = old_name
    return deprecated_init


uniform = _make_deprecate(uniform_)
normal = _make_deprecate(normal_)
constant = _make_deprecate(constant_)
eye = _make_deprecate(eye_)
dirac = _make_deprecate(dirac_)
xavier_uniform = _make_deprecate(xavier_uniform_)
xavier_normal = _make_deprecate(xavier_normal_)
kaiming_uniform = _make_deprecate(kaiming_uniform_)
kaiming_normal = _make_deprecate(kaiming_normal_)
orthogonal = _make_deprecate(orthogonal_)
sparse = _make_deprecate(sparse_)
