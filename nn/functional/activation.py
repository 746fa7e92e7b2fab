"""Activations. ``log_softmax``/``softmax`` are fused for numerical stability; GELU, SiLU,
Softplus, ELU, LeakyReLU and Hardtanh are fused into one ``Op`` each (one pass each way
instead of several). Each fused backward is written with op wrappers, so it is
differentiable too, and each fused op is tested against its composite version."""

from __future__ import annotations

import math
import warnings

import numpy as np

from autograd import fused
from autograd.backend import get_array_module
from autograd.function import Op, named
from autograd.ops import activation as A
from autograd.ops import elementwise as E
from autograd.ops import reduction as R
from autograd.ops import shape as S
from autograd.random import _gen_for
from autograd.tensor import Tensor, _make

from ._utils import _data, _inplace_or

_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715
_SIXTH32 = float(np.float32(1.0 / 6.0))  # PyTorch's hardsigmoid backward uses 1.0f / 6.0f


sigmoid = E.sigmoid
tanh = E.tanh


def relu(input, inplace: bool = False):
    """``max(0, x)``; written into ``input`` when ``inplace``."""
    return input.relu_() if inplace else E.relu(input)


def relu_(input):
    """In-place ``relu``."""
    return input.relu_()


# Op classes that live below nn (in autograd.ops), reachable here as before
LeakyRelu, Elu, Threshold, Hardshrink = A.LeakyRelu, A.Elu, A.Threshold, A.Hardshrink

# softmax/log_softmax live below nn (ag.softmax, Tensor.softmax); the Op classes stay
# reachable here (F.Softmax, F.LogSoftmax)
LogSoftmax = R.LogSoftmax
Softmax = R.Softmax


def _softmax_dim(x, dim, name: str = "softmax", stacklevel: int = 3):
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the "
                      "call to include dim=X as an argument.", UserWarning,
                      stacklevel=stacklevel)
        dim = 0 if x.ndim in (0, 1, 3) else 1  # PyTorch's legacy implicit choice
    return dim


def log_softmax(input, dim=None, _stacklevel: int = 3, dtype=None):
    """``log(softmax(x))`` along ``dim``, computed stably (the maximum subtracted)."""
    return R.log_softmax(input, _softmax_dim(input, dim, "log_softmax", _stacklevel), dtype)


def softmax(input, dim=None, _stacklevel: int = 3, dtype=None):
    """``exp(x) / sum(exp(x))`` along ``dim``, computed stably."""
    return R.softmax(input, _softmax_dim(input, dim, "softmax", _stacklevel), dtype)


def softmin(input, dim=None, _stacklevel: int = 3, dtype=None):
    """``softmax(-x)`` along ``dim``."""
    d = _softmax_dim(input, dim, "softmin", _stacklevel)
    if dtype is not None:
        input = input.to(dtype)
    return R.softmax(-input, d)


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    """``x`` where ``x > 0`` else ``negative_slope * x``."""
    A.float_only("leaky_relu_cpu", input)

    def leaky_relu_(x):
        return LeakyRelu.apply(x, slope=negative_slope)

    return _inplace_or(input, leaky_relu_, inplace)


def leaky_relu_(input, negative_slope: float = 0.01):
    """In-place ``leaky_relu``."""
    return leaky_relu(input, negative_slope, inplace=True)


def elu(input, alpha: float = 1.0, inplace: bool = False):
    """``x`` where ``x > 0`` else ``alpha * (exp(x) - 1)``."""
    A.float_only("elu_cpu", input)

    def elu_(x):
        return Elu.apply(x, alpha=alpha)

    return _inplace_or(input, elu_, inplace)


def elu_(input, alpha: float = 1.0):
    """In-place ``elu``."""
    return elu(input, alpha, inplace=True)


def celu(input, alpha: float = 1.0, inplace: bool = False):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    return A.celu_(input, alpha) if inplace else A.celu(input, alpha)


def celu_(input, alpha: float = 1.0):
    """In-place ``celu``."""
    return celu(input, alpha, inplace=True)


def selu(input, inplace: bool = False):
    """``scale * (max(0, x) + min(0, alpha * (exp(x) - 1)))`` with alpha ~ 1.6733 and
    scale ~ 1.0507 (self-normalising)."""
    return A.selu_(input) if inplace else A.selu(input)


def selu_(input):
    """In-place ``selu``."""
    return selu(input, inplace=True)


def _ndtr_low(x):
    """Phi(x) = erfc(-x / sqrt(2)) / 2 for float32/float16 NumPy arrays, without the
    cancellation of ``1 + erf(x / sqrt(2))`` for negative x: Numerical Recipes' erfc
    Chebyshev fit evaluated in float64 (relative error < 1.2e-7)."""
    xs = x.astype(np.float64)
    z = np.abs(xs) * _SQRT1_2
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (
        0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (
            1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))
    half_erfc = 0.5 * t * np.exp(poly)  # Phi(-|x|)
    return np.where(xs < 0, half_erfc, 1.0 - half_erfc).astype(x.dtype, copy=False)


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
        if xp is np and x.dtype != np.float64:
            cdf = _ndtr_low(x)
        else:
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
    A.float_only("GeluKernelImpl", input)
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
    A.float_only("silu_cpu", input)
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
    A.float_only("softplus_cpu", input)
    return Softplus.apply(input, beta=beta, threshold=threshold)


def logsigmoid(input):
    """``log(sigmoid(x)) = -softplus(-x)``, stable."""
    A.float_only("log_sigmoid_cpu", input)
    return named(-Softplus.apply(-input, beta=1.0, threshold=math.inf), "LogSigmoidBackward0")


class Hardtanh(Op):
    """clip(x, lo, hi)."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.lo, ctx.hi = lo, hi
        ctx.save_for_backward(x)
        return get_array_module(x).clip(x, lo, hi).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        # PyTorch's choice: no gradient at the boundaries themselves (nan passes gy)
        (x,) = ctx.saved_tensors
        return E.where((x <= ctx.lo) | (x >= ctx.hi), 0.0, gy)


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    """Clamp into ``[min_val, max_val]``; the gradient is 1 strictly inside, 0 elsewhere."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")

    def hardtanh_(x):
        return Hardtanh.apply(x, lo=min_val, hi=max_val)

    return _inplace_or(input, hardtanh_, inplace)


def hardtanh_(input, min_val: float = -1.0, max_val: float = 1.0):
    """In-place ``hardtanh``."""
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace: bool = False):
    """``min(max(0, x), 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


# ---- piecewise-linear and shrinking activations ---------------------------------------------

class Hardsigmoid(Op):
    """``relu6(x + 3) / 6``; the gradient is 1/6 strictly inside (-3, 3), 0 elsewhere."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        xp = get_array_module(x)
        return (xp.clip(x + 3, 0, 6) / 6).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return E.where((x > -3) & (x < 3), gy * _SIXTH32, 0.0)


def hardsigmoid(input, inplace: bool = False):
    """``0`` below -3, ``1`` above 3, ``x / 6 + 1 / 2`` between."""
    A.float_only("hardsigmoid_cpu", input)
    return _inplace_or(input, Hardsigmoid.apply, inplace)


class Hardswish(Op):
    """``x * relu6(x + 3) / 6``; the gradient is 0 up to -3, ``x / 3 + 1/2`` on (-3, 3)
    and 1 from 3 (PyTorch's choice at the kinks)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        xp = get_array_module(x)
        return (x * xp.clip(x + 3, 0, 6) / 6).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        inner = E.where(x < 3, gy * (x / 3 + 0.5), gy)
        return E.where(x <= -3, 0.0, inner)


def hardswish(input, inplace: bool = False):
    """``x * relu6(x + 3) / 6`` (MobileNetV3)."""
    A.float_only("hardswish_cpu", input)
    return _inplace_or(input, Hardswish.apply, inplace)


def threshold(input, threshold: float, value: float, inplace: bool = False):
    """``x`` where ``x > threshold`` else ``value`` (NaN passes through)."""
    if inplace:
        return A.threshold_(input, threshold, value)
    return A.threshold(input, threshold, value)


threshold_ = A.threshold_


def _check_lambd(op: str, x, lambd) -> None:
    if lambd < 0:
        name = {"float32": "Float", "float64": "Double", "float16": "Half"}.get(
            np.dtype(x.dtype).name, str(x.dtype))
        hi = "3.40282e+38" if name == "Float" else "1.79769e+308" if name == "Double" \
            else "65504"
        raise RuntimeError(f"lambda must be in range [0, {hi}] for input dtype {name}, but "
                           f"found {lambd}")


class Softshrink(Op):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, 0 between (NaN
    passes through); the gradient is 0 on ``[-lambd, lambd]``."""

    @staticmethod
    def forward(ctx, x, lambd):
        ctx.lambd = lambd
        ctx.save_for_backward(x)
        # x - clip(x): x -+ lambd outside, 0 inside, nan for nan; with x's sign, so that a
        # negative x inside gives -0, as PyTorch's x * 0 (outside, the signs already agree)
        xp = get_array_module(x)
        return xp.copysign(x - xp.clip(x, -lambd, lambd), x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return E.where((x >= -ctx.lambd) & (x <= ctx.lambd), 0.0, gy)


def hardshrink(input, lambd: float = 0.5):
    """``x`` where ``|x| > lambd``, else 0."""
    return A.hardshrink(input, lambd)


def softshrink(input, lambd: float = 0.5):
    """Shrink toward 0 by ``lambd``: ``sign(x) * max(|x| - lambd, 0)``."""
    A.float_only("softshrink_check", input)
    _check_lambd("softshrink", input, lambd)
    return Softshrink.apply(input, lambd=lambd)


def tanhshrink(input):
    """``x - tanh(x)``."""
    return input - E.tanh(input)


def softsign(input):
    """``x / (1 + |x|)``."""
    return input / (E.abs(input) + 1)


# ---- smooth activations ---------------------------------------------------------------------

class Mish(Op):
    """``x * tanh(softplus(x))``; the gradient is ``t + x * sigmoid(x) * (1 - t^2)`` with
    ``t = tanh(softplus(x))``."""

    @staticmethod
    def forward(ctx, x):
        xp = get_array_module(x)
        ctx.save_for_backward(x)
        sp = xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(x, 0)
        # PyTorch's softplus is linear above 20 (tanh is 1 there anyway)
        return (x * xp.tanh(xp.where(x > 20, x, sp))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        t = E.tanh(Softplus.apply(x, beta=1.0, threshold=20.0))
        return gy * (t + x * E.sigmoid(x) * (1 - t * t))


def mish(input, inplace: bool = False):
    """``x * tanh(softplus(x))`` (Misra 2019)."""
    A.float_only("mish_cpu", input)
    return _inplace_or(input, Mish.apply, inplace)


def glu(input, dim: int = -1):
    """Gated linear unit: the input halved along ``dim`` into ``a, b``; ``a * sigmoid(b)``."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = dim % input.ndim if -input.ndim <= dim < input.ndim else None
    if d is None:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-input.ndim}, {input.ndim - 1}], but got {dim})")
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    a, b = S.split(input, [n // 2, n // 2], d)
    return named(a * E.sigmoid(b), "GluBackward0")


# ---- randomised and parametric -------------------------------------------------------------

def rrelu(input, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False):
    """Randomised leaky ReLU: in training each negative element gets a slope drawn
    uniformly from ``[lower, upper]`` (package RNG); in eval the slope is
    ``(lower + upper) / 2``."""
    if inplace:
        return A.rrelu_(input, lower, upper, training)
    return A.rrelu(input, lower, upper, training)


rrelu_ = A.rrelu_


prelu = A.prelu


def gumbel_softmax(logits, tau: float = 1.0, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1):
    """Samples from the Gumbel-softmax distribution: ``softmax((logits + g) / tau)`` with
    ``g = -log(Exponential(1))`` noise; ``hard`` returns one-hot vectors whose gradient is
    the soft sample's (straight-through)."""
    xd = _data(logits)
    xp = get_array_module(xd)
    g = _gen_for(xp)
    u = g.random(xd.shape) if xp is np else g.random_sample(xd.shape)
    # PyTorch's: -log of exponential_() (drawn in double, rounded to the dtype)
    gumbels = -xp.log((-xp.log1p(-u)).astype(xd.dtype, copy=False))
    y = R.softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y
    yd = _data(y)
    d = dim % max(yd.ndim, 1)
    idx = yd.argmax(axis=d) if yd.ndim else None
    onehot = xp.zeros_like(yd)
    if yd.ndim:
        xp.put_along_axis(onehot, xp.expand_dims(idx, d), 1.0, axis=d)
    else:
        onehot[...] = 1.0
    if not isinstance(y, Tensor):
        return onehot
    return _make(onehot) - y.detach() + y  # PyTorch's order (the same rounding)
