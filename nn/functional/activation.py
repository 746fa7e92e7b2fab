"""Activations. ``log_softmax``/``softmax`` are fused for numerical stability; GELU, SiLU,
Softplus, ELU, LeakyReLU and Hardtanh are fused into one ``Op`` each (one pass each way
instead of several). Each fused backward is written with op wrappers, so it is
differentiable too, and each fused op is tested against its composite version."""

from __future__ import annotations

import math

import numpy as np

from autograd import fused
from autograd.backend import get_array_module
from autograd.function import Op
from autograd.ops import elementwise as E
from autograd.ops import reduction as R
from autograd.tensor import Tensor

from ._utils import _inplace_or

_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715


relu = E.relu
sigmoid = E.sigmoid
tanh = E.tanh


def relu_(x):
    return x.relu_()


class LogSoftmax(Op):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        m = x.max(axis=dim, keepdims=True)
        z = x - m
        y = z - get_array_module(x).log(get_array_module(x).exp(z).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy - E.exp(y) * R.sum(gy, dim=ctx.dim, keepdim=True)


class Softmax(Op):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        xp = get_array_module(x)
        z = xp.exp(x - x.max(axis=dim, keepdims=True))
        y = z / z.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        gyy = gy * y
        return gyy - y * R.sum(gyy, dim=ctx.dim, keepdim=True)


def _softmax_dim(x, dim):
    if dim is None:
        dim = 0 if x.ndim in (0, 1, 3) else 1  # PyTorch's legacy implicit choice
    return dim % max(x.ndim, 1)


def log_softmax(input, dim=None, dtype=None):
    """log(softmax(x)) computed stably (max subtracted)."""
    if dtype is not None:
        input = input.to(dtype)
    return LogSoftmax.apply(input, dim=_softmax_dim(input, dim))


def softmax(input, dim=None, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``, stable."""
    if dtype is not None:
        input = input.to(dtype)
    return Softmax.apply(input, dim=_softmax_dim(input, dim))



class LeakyRelu(Op):
    """max(x, 0) + slope * min(x, 0); the gradient is 1 or slope."""

    @staticmethod
    def forward(ctx, x, slope):
        ctx.slope = slope
        ctx.save_for_backward(x)
        xp = get_array_module(x)
        return xp.maximum(x, 0) + xp.minimum(x, 0) * slope  # exact, and faster than where

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return E.where(x > 0, gy, gy * ctx.slope)


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    """``x`` where ``x > 0`` else ``negative_slope * x``."""

    def leaky_relu_(x):
        return LeakyRelu.apply(x, slope=negative_slope)

    return _inplace_or(input, leaky_relu_, inplace)


class Elu(Op):
    """x for x > 0, alpha * expm1(x) otherwise."""

    @staticmethod
    def forward(ctx, x, alpha):
        xp = get_array_module(x)
        ctx.alpha = alpha
        ctx.save_for_backward(x)
        return xp.maximum(x, 0) + xp.expm1(xp.minimum(x, 0)) * alpha

    @staticmethod
    def backward(ctx, gy):
        # alpha * exp(x) on the negative side; clamped so that the unused branch stays finite
        (x,) = ctx.saved_tensors
        return E.where(x > 0, gy, gy * E.exp(E.clamp(x, max=0.0)) * ctx.alpha)


def elu(input, alpha: float = 1.0, inplace: bool = False):
    """``x`` where ``x > 0`` else ``alpha * (exp(x) - 1)``."""

    def elu_(x):
        return Elu.apply(x, alpha=alpha)

    return _inplace_or(input, elu_, inplace)


class Gelu(Op):
    """x * Phi(x) (``approximate='none'``) or its tanh approximation, fused."""

    @staticmethod
    def forward(ctx, x, approximate):
        xp = get_array_module(x)
        ctx.approximate = approximate
        ctx.save_for_backward(x)
        if approximate == "tanh":
            t = xp.tanh((x + x * x * x * _GELU_C) * _SQRT_2_OVER_PI)
            return x * 0.5 * (t + 1)
        cdf = (E.erf(x * _SQRT1_2) + 1) * 0.5
        if ctx.next_edges:
            ctx.cdf = cdf  # erf is the costly part: reused by a first-order backward
        return x * cdf

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        if not isinstance(x, Tensor) and get_array_module(x) is not np:  # GPU: fused kernel
            if ctx.approximate == "tanh":
                return fused.gelu_tanh_grad(gy, x)
            return fused.gelu_grad(gy, x, ctx.cdf)
        if ctx.approximate == "tanh":
            t = E.tanh((x + x * x * x * _GELU_C) * _SQRT_2_OVER_PI)
            d = (t + 1) * 0.5 + x * 0.5 * (1 - t * t) * _SQRT_2_OVER_PI * (
                x * x * (3 * _GELU_C) + 1)
        else:
            # under create_graph, Phi(x) is recomputed from x so that it is differentiable
            cdf = (E.erf(x * _SQRT1_2) + 1) * 0.5 if isinstance(x, Tensor) else ctx.cdf
            d = cdf + x * E.exp(x * x * -0.5) * _INV_SQRT_2PI
        return gy * d


def gelu(input, approximate: str = "none"):
    """Gaussian error linear unit ``x * Phi(x)``; ``approximate='tanh'`` uses
    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(
            f"gelu: approximate argument must be either 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(input, approximate=approximate)


class Silu(Op):
    """x * sigmoid(x); the gradient is s (1 + x (1 - s))."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * (get_array_module(x).tanh(x * 0.5) * 0.5 + 0.5)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        if not isinstance(x, Tensor) and get_array_module(x) is not np:  # GPU: fused kernel
            return fused.silu_grad(gy, x)
        s = E.sigmoid(x)
        return gy * s * (x * (1 - s) + 1)


def silu(input, inplace: bool = False):
    """``x * sigmoid(x)`` (also called swish)."""
    return _inplace_or(input, Silu.apply, inplace)


class Softplus(Op):
    """log(1 + exp(beta x)) / beta (stable form), x where beta x > threshold."""

    @staticmethod
    def forward(ctx, x, beta, threshold):
        xp = get_array_module(x)
        ctx.beta, ctx.threshold = beta, threshold
        ctx.save_for_backward(x)
        bx = x * beta
        sp = xp.log1p(xp.exp(-xp.abs(bx))) + xp.maximum(bx, 0)  # log(1 + exp(bx)), stable
        return xp.where(bx > threshold, x, sp / beta).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        bx = x * ctx.beta
        return E.where(bx > ctx.threshold, gy, gy * E.sigmoid(bx))


def softplus(input, beta: float = 1.0, threshold: float = 20.0):
    """``log(1 + exp(beta x)) / beta``, linear where ``beta x > threshold``."""
    return Softplus.apply(input, beta=beta, threshold=threshold)


def logsigmoid(input):
    """``log(sigmoid(x)) = -softplus(-x)``, stable."""
    return -Softplus.apply(-input, beta=1.0, threshold=math.inf)


class Hardtanh(Op):
    """clip(x, lo, hi)."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.lo, ctx.hi = lo, hi
        ctx.save_for_backward(x)
        return get_array_module(x).clip(x, lo, hi).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        # PyTorch's choice: no gradient at the boundaries themselves
        (x,) = ctx.saved_tensors
        return E.where((x > ctx.lo) & (x < ctx.hi), gy, 0.0)


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    """Clamp into ``[min_val, max_val]``; the gradient is 1 strictly inside, 0 elsewhere."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")

    def hardtanh_(x):
        return Hardtanh.apply(x, lo=min_val, hi=max_val)

    return _inplace_or(input, hardtanh_, inplace)


def relu6(input, inplace: bool = False):
    """``min(max(0, x), 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)
