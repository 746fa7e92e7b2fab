"""Activation functions that PyTorch exposes in the ``torch`` namespace as well as in
``nn.functional`` (``torch.celu``, ``torch.selu``, ``torch.threshold``, ``torch.hardshrink``,
``torch.rrelu``, ``torch.prelu`` and their in-place forms): they live here, below ``nn``,
and ``nn.functional`` re-exports their Op classes.

Each Op's backward is written with op wrappers (differentiable, for higher-order
gradients). Integer and bool inputs are refused as PyTorch's CPU kernels refuse them
(``threshold`` alone accepts integers).
"""

from __future__ import annotations

import numpy as np

from ..backend import get_array_module
from ..function import Op, named
from ..random import _gen_for
from ..registry import register
from ..tensor import Tensor
from . import elementwise as E
from . import shape as S

_ACT = "activation"

_KERNEL_NAMES = {"b": "Bool", "u1": "Byte", "i1": "Char", "i2": "Short", "i4": "Int",
                 "i8": "Long"}


def float_only(kernel: str, x) -> None:
    """PyTorch's refusal of integer/bool inputs (``"elu_cpu" not implemented for 'Long'``);
    also used by the activations of ``nn.functional``."""
    k = x.dtype.kind
    if k in "fc":
        return
    name = _KERNEL_NAMES.get("b" if k == "b" else f"{k}{x.dtype.itemsize}", str(x.dtype))
    raise NotImplementedError(f'"{kernel}" not implemented for \'{name}\'')


def _inplace(x, fn):
    """``fn(x)`` written into ``x`` (the registry's in-place path for a namespace
    function)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"in-place activation expects a Tensor, got {type(x).__name__}")
    return x._inplace(fn)


# ---- leaky ReLU / ELU family ----------------------------------------------------------------

class LeakyRelu(Op):
    """max(x, 0) + slope * min(x, 0); the gradient is 1 or slope."""

    @staticmethod
    def forward(ctx, x, slope):
        ctx.slope = slope
        ctx.save_for_backward(x)
        xp = get_array_module(x)
        return xp.where(x > 0, x, x * slope)  # -0. stays -0., as PyTorch's

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return E.where(x > 0, gy, gy * ctx.slope)


class Elu(Op):
    """``scale * (x if x > 0 else alpha * expm1(x * input_scale))``: ELU (scale =
    input_scale = 1), CELU (input_scale = 1 / alpha) and SELU (fixed alpha and scale), one
    kernel as in PyTorch."""

    @staticmethod
    def forward(ctx, x, alpha, scale=1.0, input_scale=1.0, bw_input_scale=None):
        xp = get_array_module(x)
        ctx.alpha, ctx.scale = alpha, scale
        ctx.input_scale = input_scale if bw_input_scale is None else bw_input_scale
        ctx.save_for_backward(x)
        # elu(-0.) is -0. (alpha * expm1(-0.)), as PyTorch's; positive x masked to 0 so
        # that the unused branch does not overflow
        neg = xp.where(x > 0, xp.zeros((), x.dtype), x)
        y = xp.where(x > 0, x, xp.expm1(neg * input_scale) * alpha)
        return y if scale == 1.0 else y * scale

    @staticmethod
    def backward(ctx, gy):
        # alpha * input_scale * exp(x * input_scale) on the negative side; clamped so that
        # the unused branch stays finite
        (x,) = ctx.saved_tensors
        a, s, i = ctx.alpha, ctx.scale, ctx.input_scale
        neg = E.exp(E.clamp(x, max=0.0) * i) * (a * i * s)
        return E.where(x <= 0, gy * neg, gy * s if s != 1.0 else gy)  # nan: gy, as PyTorch


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


@register(family=_ACT, op=Elu, method=False)
def celu(x, alpha: float = 1.0):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    float_only("elu_cpu", x)
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    # PyTorch's backward uses 1 / float32(alpha) (derivatives.yaml: 1.0/alpha.toFloat())
    return named(Elu.apply(x, alpha=alpha, input_scale=1.0 / alpha,
                           bw_input_scale=1.0 / float(np.float32(alpha))), "CeluBackward0")


@register(family=_ACT, op=Elu, method=False)
def celu_(x, alpha: float = 1.0):
    """In-place ``celu``."""
    float_only("elu_cpu", x)
    return _inplace(x, lambda t: celu(t, alpha))


@register(family=_ACT, op=Elu, method=False)
def selu(x):
    """``scale * (max(0, x) + min(0, alpha * (exp(x) - 1)))`` with alpha ~ 1.6733 and
    scale ~ 1.0507 (self-normalising)."""
    float_only("elu_cpu", x)
    return Elu.apply(x, alpha=SELU_ALPHA, scale=SELU_SCALE)


@register(family=_ACT, op=Elu, method=False)
def selu_(x):
    """In-place ``selu``."""
    float_only("elu_cpu", x)
    return _inplace(x, selu)


# ---- threshold / hardshrink ----------------------------------------------------------------

class Threshold(Op):
    """``x`` where ``x > threshold`` else ``value``; the gradient is 0 where replaced."""

    @staticmethod
    def forward(ctx, x, threshold, value):
        ctx.threshold = threshold
        ctx.save_for_backward(x)
        xp = get_array_module(x)
        return xp.where(x <= threshold, xp.asarray(value).astype(x.dtype), x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return E.where(x <= ctx.threshold, 0.0, gy)


def _int_scalar(v, dtype):
    """A Python number converted to an integer dtype as PyTorch's checked conversion does:
    truncated, and refused when out of the dtype's range."""
    info = np.iinfo(dtype)
    if not info.min <= v <= info.max or v != v:
        ctype = ("u" if dtype.kind == "u" else "") + f"int{8 * dtype.itemsize}_t"
        raise RuntimeError(f"value cannot be converted to type {ctype} without overflow")
    return int(v)


def _threshold_args(x, threshold, value):
    if x.dtype.kind == "b":
        float_only("threshold_cpu", x)
    if x.dtype.kind in "iu":  # PyTorch converts both numbers to the integer dtype
        threshold, value = _int_scalar(threshold, x.dtype), _int_scalar(value, x.dtype)
    return threshold, value


@register(family=_ACT, op=Threshold, method=False)
def threshold(x, threshold, value):
    """``x`` where ``x > threshold`` else ``value`` (NaN passes through); integers are
    accepted (the numbers converted to their dtype), bool is not."""
    threshold, value = _threshold_args(x, threshold, value)
    return Threshold.apply(x, threshold=threshold, value=value)


@register(family=_ACT, op=Threshold, method=False)
def threshold_(x, threshold, value):
    """In-place ``threshold``."""
    threshold, value = _threshold_args(x, threshold, value)
    return _inplace(x, lambda t: Threshold.apply(t, threshold=threshold, value=value))


class Hardshrink(Op):
    """``x`` where ``|x| > lambd`` else 0; the gradient is 0 on ``[-lambd, lambd]``."""

    @staticmethod
    def forward(ctx, x, lambd):
        ctx.lambd = lambd
        ctx.save_for_backward(x)
        xp = get_array_module(x)
        return xp.where((x >= -lambd) & (x <= lambd), xp.zeros((), x.dtype), x)

    @staticmethod
    def backward(ctx, gy):
        # PyTorch's: gy where |x| > lambd, 0 elsewhere and at nan
        (x,) = ctx.saved_tensors
        return E.where((x < -ctx.lambd) | (x > ctx.lambd), gy, 0.0)


@register(family=_ACT, op=Hardshrink)
def hardshrink(x, lambd: float = 0.5):
    """``x`` where ``|x| > lambd``, else 0."""
    float_only("hardshrink_cpu", x)
    return Hardshrink.apply(x, lambd=lambd)


# ---- randomised and parametric -------------------------------------------------------------

class _Scale(Op):
    """``x * s`` for a constant array ``s`` of x's shape (RReLU's slopes)."""

    @staticmethod
    def forward(ctx, x, s):
        ctx.s = s
        return x * s

    @staticmethod
    def backward(ctx, gy):
        return gy * ctx.s


def rrelu_noise(xd, lower: float, upper: float, generator=None):
    """RReLU's training slopes for the array ``xd``: uniform in ``[lower, upper]`` where
    ``xd < 0``, 1 elsewhere (the package RNG, or ``generator``)."""
    xp = get_array_module(xd)
    g = _gen_for(xp, generator)
    if xp is np:  # PyTorch's draws: one double uniform per element <= 0, in C order
        neg = xd <= 0  # (nan: slope 1)
        noise = np.ones(xd.shape, xd.dtype)
        noise[neg] = g.uniform(lower, upper, int(neg.sum()), dtype=np.float64).astype(xd.dtype)
        return noise
    u = g.random_sample(xd.shape)
    noise = (u * (upper - lower) + lower).astype(xd.dtype, copy=False)
    return xp.where(xd <= 0, noise, xp.ones((), xd.dtype))  # PyTorch's: x <= 0 (nan: 1)


@register(family=_ACT, op=LeakyRelu, method=False)
def rrelu(x, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          generator=None):
    """Randomised leaky ReLU: in training each negative element gets a slope drawn
    uniformly from ``[lower, upper]``; otherwise the slope is ``(lower + upper) / 2``."""
    float_only("leaky_relu_cpu", x)
    if not training:
        return LeakyRelu.apply(x, slope=(lower + upper) / 2)
    if x.dtype == np.float16:
        raise NotImplementedError('"rrelu_with_noise_out_cpu" not implemented for \'Half\'')
    xd = x._data if isinstance(x, Tensor) else x
    return _Scale.apply(x, s=rrelu_noise(xd, lower, upper, generator))


@register(family=_ACT, op=LeakyRelu, method=False)
def rrelu_(x, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
           generator=None):
    """In-place ``rrelu``."""
    float_only("leaky_relu_cpu", x)
    return _inplace(x, lambda t: rrelu(t, lower, upper, training, generator))


_PRELU_NAMES = {"float64": "Double", "float32": "Float", "float16": "Half", "int64": "Long",
                "int32": "Int", "uint8": "Byte", "bool": "Bool", "int16": "Short",
                "int8": "Char"}


class Prelu(Op):
    """``x`` where ``x > 0`` else ``w * x`` (``w`` pre-shaped to broadcast); the gradients
    are ``gy`` or ``w * gy`` for x, and ``x * gy`` summed where ``x <= 0`` for w (no
    ``0 * inf`` where x is infinite and positive)."""

    @staticmethod
    def forward(ctx, x, w):
        xp = get_array_module(x)
        ctx.save_for_backward(x, w)
        return xp.where(x > 0, x, w * x)

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        pos = x > 0
        gx = E.where(pos, gy, w * gy) if ctx.next_edges[0] is not None else None
        gw = None
        if ctx.next_edges[1] is not None:
            gw = S.sum_to(E.where(pos, 0.0, x * gy), tuple(w.shape))
        return gx, gw


@register(family=_ACT, op=Prelu, arity=2)
def prelu(x, weight):
    """``x`` where ``x > 0`` else ``weight * x``, with one slope or one per channel (dim 1;
    inputs of fewer than 2 dims have one channel)."""
    if weight.dtype != x.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got "
                           f"{_PRELU_NAMES.get(np.dtype(x.dtype).name, x.dtype)} and "
                           f"{_PRELU_NAMES.get(np.dtype(weight.dtype).name, weight.dtype)}")
    float_only("prelu_cpu", x)
    c = 1 if x.ndim < 2 else x.shape[1]
    nw = int(np.prod(weight.shape))
    if nw != 1 and nw != c:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {nw} and channel size = {c}.")
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.ndim}")
    w = weight
    if nw != 1 and x.ndim >= 2:
        w = S.reshape(weight, (c,) + (1,) * (x.ndim - 2))
    elif x.ndim <= 1:
        w = S.reshape(weight, ())
    return named(Prelu.apply(x, w), "PreluKernelBackward0")
