"""Element-wise ops: arithmetic, unary math, comparisons.

Binary ops set ``_broadcast``: ``Op.apply`` promotes dtypes the PyTorch way and the engine
sums each gradient back to its input's shape and dtype, so the formulas here ignore
broadcasting. Each ``backward`` works on raw arrays or on Tensors (see function.py).
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..backend import get_array_module
from ..dtypes import (
    get_default_dtype,
    promote,
    result_type,
    scalar_as,
    scalar_result,
    scalar_type_name,
)
from ..function import BinaryOp, Op
from ..parallel import KERNEL_MIN, flat_ranges, parallel_slices
from ..registry import REAL, register
from ..registry import add as _reg
from ..tensor import Tensor, _make, _torch_layout
from . import _relu_kernels

_INF = math.inf
_POS = ((0.0, _INF),)


def _keep(g, mask, out=None):
    """``where(mask, g, 0)`` on raw arrays, branch-free (a multiply: masks from real data
    make where() mispredict every other element); where() only when g holds inf or nan,
    whose product with 0 would be nan. Written into ``out`` when given."""
    xp = _xp(g)
    res = xp.multiply(g, mask, out=out)
    if g.dtype.kind in "fV" and not bool(xp.isfinite(g).all()):
        kept = xp.where(mask, g, g.dtype.type(0))
        if out is None:
            return kept
        out[...] = kept
    return res


def _xp(*xs):
    return get_array_module(*xs)


def _need(ctx, i: int) -> bool:
    return ctx.next_edges[i] is not None


def _int_to_float(a):
    """Integer/bool arrays become the default float dtype (true division, exp, log...)."""
    if hasattr(a, "dtype") and a.dtype.kind in "biu":
        return a.astype(get_default_dtype())
    return a


def _int_result(a, b) -> bool:
    """True when a binary op of these (promoted) operands has an integer result."""
    d = a.dtype if hasattr(a, "dtype") else (b.dtype if hasattr(b, "dtype") else None)
    return d is not None and d.kind in "biu" and not isinstance(a, float) \
        and not isinstance(b, float)


def _no_int_zero(op: str, b, a=None) -> None:
    """Integer division by zero is an error (PyTorch's RuntimeError 'ZeroDivisionError')
    unless the result is empty."""
    if getattr(a, "size", 1) == 0 or getattr(b, "size", 1) == 0:
        return
    if (b == 0).any() if hasattr(b, "dtype") else b == 0:
        raise RuntimeError(
            f"{op}: ZeroDivisionError: integer division by zero; divide floats (x.float()) "
            "to get inf/nan instead")


def _no_bool(op: str, x, what="Boolean inputs not supported", cls=RuntimeError) -> None:
    if x.dtype.kind == "b":
        raise cls(f"{op}: {what} for bool tensors (as in PyTorch); convert first "
                  "(x.int() or x.float())")


# ---- arithmetic ---------------------------------------------------------------------------

class Add(BinaryOp):
    _opmath = 2

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, gy):
        return gy, gy


class Sub(BinaryOp):
    _opmath = 1
    _bool_error = ("sub: subtraction, the `-` operator, with a bool tensor is not supported. "
                   "To invert a mask use `~` or logical_not(); to subtract, convert it first "
                   "(x.int() - y)")

    @staticmethod
    def forward(ctx, a, b):
        if getattr(a, "dtype", None) == np.bool_:  # bool - bool (mixed dtypes: promotion)
            raise RuntimeError(Sub._bool_error)
        return a - b

    @staticmethod
    def backward(ctx, gy):
        return gy, (-gy if _need(ctx, 1) else None)


class Mul(BinaryOp):
    _opmath = 2

    @staticmethod
    def forward(ctx, a, b):
        e = ctx.next_edges
        if e:  # save only what the needed gradients use (save_for_backward, inlined)
            ctx.saved = (a if e[1] is not None else None, b if e[0] is not None else None)
        return a * b

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        return (gy * b if b is not None else None), (gy * a if a is not None else None)


class Div(BinaryOp):
    _opmath = 1
    _float_result = True

    @staticmethod
    def forward(ctx, a, b):
        a = _int_to_float(a)
        if hasattr(b, "dtype") and b.dtype.kind in "biu":
            b = b.astype(a.dtype if hasattr(a, "dtype") else get_default_dtype())
        y = a / b
        if ctx.next_edges:
            ctx.save_for_backward(b, y if ctx.next_edges[1] is not None else None)
        return y

    @staticmethod
    def backward(ctx, gy):
        b, y = ctx.saved_tensors
        ga = gy / b if _need(ctx, 0) else None
        gb = -gy * y / b if _need(ctx, 1) else None
        return ga, gb


class DivTrunc(BinaryOp):
    """``trunc(a / b)`` for floats; its gradient is zero everywhere (PyTorch's rule for a
    rounding division), also where b is 0."""

    _float_result = True

    @staticmethod
    def forward(ctx, a, b):
        return _xp(a, b).trunc(a / b)

    @staticmethod
    def backward(ctx, gy):
        z = gy * 0.0 if isinstance(gy, Tensor) else _xp(gy).zeros_like(gy)
        return z, z


class DivFloor(DivTrunc):
    """``floor(a / b)`` (Python's ``//``) for floats, with a zero gradient."""

    @staticmethod
    def forward(ctx, a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            return _xp(a, b).floor_divide(a, b)


class Pow(BinaryOp):

    @staticmethod
    def forward(ctx, a, b):
        if not hasattr(a, "dtype") and hasattr(b, "dtype") and b.dtype.kind in "biu":
            a = _xp(b).asarray(scalar_as(a, b.dtype), dtype=b.dtype)  # 2 ** int_tensor
        if hasattr(a, "dtype") and a.dtype.kind in "biu":
            y = _int_pow(a, b)
        else:
            y = a ** b
        if ctx.next_edges:
            ctx.save_for_backward(a, b, y if ctx.next_edges[1] is not None else None)
            if hasattr(b, "dtype"):  # PyTorch's overloads: tensor ** number is PowBackward0
                ctx._torch_name = "PowBackward1" if hasattr(a, "dtype") else "PowBackward2"
        return y

    @staticmethod
    def backward(ctx, gy):
        # PyTorch's rules (derivatives.yaml): d/da = b * a**(b-1), taken as 0 where b == 0
        # (so x**0 has gradient 0 at x = 0); d/db = a**b * log(a), taken as 0 where a == 0
        # and b >= 0 (at a == 0, b < 0 it is inf * -inf = -inf)
        a, b, y = ctx.saved_tensors
        ga = gb = None
        if _need(ctx, 0):
            if hasattr(b, "dtype"):
                ga = where(b == 0, 0.0, gy * b * a ** (b - 1))
            elif b == 0:
                ga = gy * 0.0
            else:
                ga = gy * b * a ** (b - 1)
        if _need(ctx, 1):
            if hasattr(a, "dtype"):
                with np.errstate(divide="ignore", invalid="ignore"):  # log(0), log(-1)
                    gb = where((a == 0) & (b >= 0), 0.0, gy * y * log(a))
            elif a == 0:  # a Python base: 0 ** b
                gb = where(b >= 0, 0.0, gy * y * -math.inf)
            else:
                gb = gy * y * (math.log(a) if a > 0 else math.nan)
        return ga, gb


def _int_pow(a, b):
    """Integer powers as PyTorch computes them: a negative exponent gives 1 / a**|b|
    truncated (0, or +-1 for a base of +-1); a negative Python exponent is an error."""
    xp = _xp(a)
    if not hasattr(b, "dtype"):
        if a.dtype.kind == "b" and b.__class__ is bool:  # as PyTorch: a ** True is a
            return a.copy() if b else xp.ones_like(a)
        if b.__class__ is int and b < 0:
            raise RuntimeError(
                "pow: integers to negative integer powers are not allowed; use a float base "
                "(x.float() ** -1)")
        return a ** scalar_as(b, a.dtype) if b.__class__ is int else a ** b
    if a.dtype.kind == "b":
        _no_bool("pow", a, '"pow" not implemented', NotImplementedError)
    neg = b < 0
    if not neg.any():
        return a ** b
    y = a ** xp.where(neg, 0, b)
    inv = xp.where(a == 1, 1, xp.where(a == -1, xp.where(b % 2 == 0, 1, -1), 0))
    return xp.where(neg, inv, y).astype(y.dtype, copy=False)


class Remainder(BinaryOp):

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        xp = _xp(a, b)
        if _int_result(a, b):
            _no_bool("remainder", a if hasattr(a, "dtype") else b, '"remainder" not '
                     "implemented", NotImplementedError)
            _no_int_zero("remainder", b, a)
            return xp.remainder(a, b)
        # PyTorch's formula: fmod, then the divisor added when the signs differ (so the
        # sign of a zero result is the dividend's, as in C, not the divisor's as in NumPy)
        m = xp.fmod(a, b)
        return xp.where((m != 0) & ((b < 0) != (m < 0)), m + b, m)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        # PyTorch's rule: -gy * div(a, b, rounding_mode="floor") (1 // -inf is -1)
        gb = -gy * floor_divide(a, b) if _need(ctx, 1) else None
        return gy, gb


class Fmod(BinaryOp):
    """C-style remainder: the result has the sign of the dividend (``torch.fmod``)."""


    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        if _int_result(a, b):
            _no_bool("fmod", a if hasattr(a, "dtype") else b, '"fmod" not implemented',
                     NotImplementedError)
            _no_int_zero("fmod", b, a)
        return _xp(a, b).fmod(a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        gb = -gy * trunc(a / b) if _need(ctx, 1) else None
        return gy, gb


class Maximum(BinaryOp):

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _xp(a, b).maximum(b, a)  # ties give b (maximum(0., -0.) is -0., as PyTorch)

    @staticmethod
    def backward(ctx, gy):
        # PyTorch's rule: ties split the gradient evenly; where either input is nan both
        # get the whole gradient
        a, b = ctx.saved_tensors
        half = where(a == b, gy * 0.5, gy)
        ga = where(a < b, 0.0, half) if _need(ctx, 0) else None
        gb = where(a > b, 0.0, half) if _need(ctx, 1) else None
        return ga, gb


class Minimum(BinaryOp):

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _xp(a, b).minimum(b, a)  # ties give b, as PyTorch

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        half = where(a == b, gy * 0.5, gy)
        ga = where(a > b, 0.0, half) if _need(ctx, 0) else None
        gb = where(a < b, 0.0, half) if _need(ctx, 1) else None
        return ga, gb


class Where(Op):
    """``where(cond, a, b)``: cond carries no gradient; a and b broadcast with it."""

    @staticmethod
    def forward(ctx, cond, a, b):
        xp = _xp(cond, a, b)
        # NumPy scalars (0-d results inside backward formulas) are 0-d arrays here
        if isinstance(a, np.generic):
            a = np.asarray(a)
        if isinstance(b, np.generic):
            b = np.asarray(b)
        # the engine reduces each gradient back to its input's own shape and dtype
        pa = (a.shape, a.dtype) if hasattr(a, "shape") else None
        pb = (b.shape, b.dtype) if hasattr(b, "shape") else None
        ha = hasattr(a, "dtype") and not isinstance(a, np.generic)
        hb = hasattr(b, "dtype") and not isinstance(b, np.generic)
        if ha and hb:
            if a.dtype != b.dtype:
                dt = promote(a, b)
                a, b = a.astype(dt), b.astype(dt)
        else:  # PyTorch's promotion with Python scalars (where(c, int_tensor, 2.5): float)
            a = a.item() if not ha and hasattr(a, "item") else a
            b = b.item() if not hb and hasattr(b, "item") else b
            if ha:
                dt = scalar_result(a.dtype, b)
            elif hb:
                dt = scalar_result(b.dtype, a)
            else:
                dt = scalar_result(scalar_result(np.dtype(bool), a), b)
            a = a.astype(dt, copy=False) if ha else xp.asarray(a, dtype=dt)
            b = b.astype(dt, copy=False) if hb else xp.asarray(b, dtype=dt)
        y = xp.where(cond, a, b)
        ctx.save_for_backward(cond)
        post = (None, pa if pa is not None and pa != (y.shape, y.dtype) else None,
                pb if pb is not None and pb != (y.shape, y.dtype) else None)
        if post[1] is not None or post[2] is not None:
            ctx._post = post
        return y

    @staticmethod
    def backward(ctx, gy):
        (cond,) = ctx.saved_tensors
        ga = where(cond, gy, 0.0) if _need(ctx, 1) else None
        gb = where(cond, 0.0, gy) if _need(ctx, 2) else None
        return None, ga, gb


# ---- unary ----------------------------------------------------------------------------

class Neg(Op):
    @staticmethod
    def forward(ctx, x):
        _no_bool("neg", x, "negation, the `-` operator, is not supported; use `~` or "
                 "logical_not() to invert a mask")
        return -x

    @staticmethod
    def backward(ctx, gy):
        return -gy


class Exp(Op):
    @staticmethod
    def forward(ctx, x):
        y = _xp(x).exp(_int_to_float(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy * y


class Expm1(Op):
    @staticmethod
    def forward(ctx, x):
        y = _xp(x).expm1(_int_to_float(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy * (y + 1)


class Log(Op):
    @staticmethod
    def forward(ctx, x):
        x = _int_to_float(x)
        ctx.save_for_backward(x)
        return _xp(x).log(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy / x


class Log2(Op):
    @staticmethod
    def forward(ctx, x):
        x = _int_to_float(x)
        ctx.save_for_backward(x)
        return _xp(x).log2(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy / (x * math.log(2.0))


class Log10(Op):
    @staticmethod
    def forward(ctx, x):
        x = _int_to_float(x)
        ctx.save_for_backward(x)
        return _xp(x).log10(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy / (x * math.log(10.0))


class Log1p(Op):
    _torch_name = "Log1PBackward0"
    @staticmethod
    def forward(ctx, x):
        x = _int_to_float(x)
        ctx.save_for_backward(x)
        return _xp(x).log1p(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy / (x + 1)


class Sqrt(Op):
    @staticmethod
    def forward(ctx, x):
        y = _xp(x).sqrt(_int_to_float(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy / (y * 2)


class Rsqrt(Op):
    @staticmethod
    def forward(ctx, x):
        x = _int_to_float(x)
        # the saved array must be the very object returned (0-d results are NumPy scalars)
        y = (1 / _xp(x).sqrt(x)).astype(x.dtype, copy=False)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy * (y * y * y) * -0.5


class Angle(Op):
    """The argument of each element: pi for negative reals, 0 for the others (nan stays
    nan), ``atan2(imag, real)`` for complex values (those never record a graph here). The
    gradient of the real case is 0, as PyTorch's."""

    @staticmethod
    def forward(ctx, x):
        xp = _xp(x)
        if x.dtype.kind == "c":
            return xp.angle(x)
        x = _int_to_float(x)
        y = xp.where(x < 0, x.dtype.type(math.pi), x.dtype.type(0))
        return xp.where(x != x, x, y)  # nan stays nan

    @staticmethod
    def backward(ctx, gy):
        return gy * 0


class Sin(Op):
    @staticmethod
    def forward(ctx, x):
        x = _int_to_float(x)
        ctx.save_for_backward(x)
        return _xp(x).sin(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * cos(x)


class Cos(Op):
    @staticmethod
    def forward(ctx, x):
        x = _int_to_float(x)
        ctx.save_for_backward(x)
        return _xp(x).cos(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return -gy * sin(x)


class Tan(Op):
    @staticmethod
    def forward(ctx, x):
        y = _xp(x).tan(_int_to_float(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy * (y * y + 1)


class Tanh(Op):
    @staticmethod
    def forward(ctx, x):
        y = _xp(x).tanh(_int_to_float(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy * (1 - y * y)


class Sigmoid(Op):
    @staticmethod
    def forward(ctx, x):
        x = _int_to_float(x)
        # 1 / (1 + exp(-x)) for x >= 0 and exp(x) / (1 + exp(x)) below: never overflows,
        # and 1 - y keeps its relative accuracy for large x (the gradient y * (1 - y))
        # 1 / (1 + exp(-x)), PyTorch's formula: exp(-x) overflows to inf for very negative
        # x, which gives the correct 0. Branch-free (a where() on signs costs 10x more).
        xp = _xp(x)
        # 2-byte floats in float32, rounded once (PyTorch's CPU kernel for half/bfloat16)
        xf = x.astype(np.float32) if x.dtype.itemsize == 2 else x
        with np.errstate(over="ignore"):
            y = 1 / (1 + xp.exp(-xf))
        y = y.astype(x.dtype, copy=False)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy * y * (1 - y)


def _flat_kernel(kern, *arrays):
    """``kern``'s compiled form when every array is a C-contiguous NumPy float32/float64
    array (viewed flat by the element-wise kernels), else None: the NumPy code runs."""
    for a in arrays:
        if not (isinstance(a, np.ndarray) and a.flags.c_contiguous
                and a.dtype in (np.float32, np.float64)):
            return None
    return kern.get()


def _slices(fn, size: int) -> None:
    """``fn(a, b)`` over [0, size), a slice per engine thread when ``flat_ranges`` splits it
    (at the compiled kernels' threshold)."""
    ranges = flat_ranges(size, KERNEL_MIN)
    if ranges is None:
        fn(0, size)
    else:
        parallel_slices(fn, ranges)


class Relu(Op):
    @staticmethod
    def forward(ctx, x):
        _no_bool("relu", x)
        xp = _xp(x)
        if xp is not np:  # on a GPU where() is as fast as arithmetic, and asks the host nothing
            y = xp.where(x < 0, x.dtype.type(0), x)  # relu(-0.) is -0., relu(nan) nan
        elif (kern := _flat_kernel(_relu_kernels.relu_forward, x)) is not None:
            y = np.empty_like(x)
            xf, yf = x.reshape(-1), y.reshape(-1)
            _slices(lambda a, b: kern(xf[a:b], yf[a:b]), x.size)
        else:
            ranges = flat_ranges(x.size) if x.flags.c_contiguous else None
            if ranges is None:
                y = np.asarray(np.maximum(x, x.dtype.type(0)))  # nan stays nan
                zero = bool((x == 0).any())
            else:  # a large array: a slice per engine thread
                y = np.empty_like(x)
                xf, yf = x.reshape(-1), y.reshape(-1)

                def part(a, b):
                    np.maximum(xf[a:b], x.dtype.type(0), out=yf[a:b])
                    return bool((xf[a:b] == 0).any())

                zero = any(parallel_slices(part, ranges))
            if x.dtype.kind in "fV" and zero:
                y = np.where(x == 0, x, y)  # relu(-0.) is -0. (PyTorch keeps x there); rare
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        # Non-differentiable at 0: the subgradient 0 is used there (as PyTorch does); a nan
        # output passes the gradient, as PyTorch's threshold_backward (y <= 0 is False).
        (y,) = ctx.saved_tensors
        if isinstance(gy, Tensor) or isinstance(y, Tensor) or _xp(gy) is not np:
            return where(y <= 0, 0.0, gy)
        if gy.shape == y.shape and gy.dtype == y.dtype and \
                (kern := _flat_kernel(_relu_kernels.relu_backward, gy, y)) is not None:
            out = np.empty_like(gy)
            gf, yf, of = gy.reshape(-1), y.reshape(-1), out.reshape(-1)
            _slices(lambda a, b: kern(gf[a:b], yf[a:b], of[a:b]), gy.size)
            return out
        ranges = flat_ranges(gy.size) if gy.shape == y.shape and \
            gy.flags.c_contiguous and y.flags.c_contiguous else None
        if ranges is None:
            return _keep(gy, ~(y <= 0))
        out = np.empty_like(gy)
        gf, yf, of = gy.reshape(-1), y.reshape(-1), out.reshape(-1)
        parallel_slices(lambda a, b: _keep(gf[a:b], ~(yf[a:b] <= 0), out=of[a:b]), ranges)
        return out


class Abs(Op):
    @staticmethod
    def forward(ctx, x):
        _no_bool("abs", x, '"abs" not implemented', NotImplementedError)
        ctx.save_for_backward(x)
        return _xp(x).abs(x)

    @staticmethod
    def backward(ctx, gy):
        # Non-differentiable at 0: sign(0) = 0 is used there.
        (x,) = ctx.saved_tensors
        return gy * sign(x)


class Square(Op):
    _torch_name = "PowBackward0"  # x ** 2 and x.square(), as PyTorch
    @staticmethod
    def forward(ctx, x):
        if x.dtype.kind == "b":
            x = x.astype(np.int64)  # as PyTorch: square(bool) is int64
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * x * 2


class Reciprocal(Op):
    @staticmethod
    def forward(ctx, x):
        x = _int_to_float(x)
        y = (1 / x).astype(x.dtype, copy=False)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return -gy * y * y


class Erf(Op):
    @staticmethod
    def forward(ctx, x):
        x = _int_to_float(x)
        ctx.save_for_backward(x)
        return _erf(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * exp(-(x * x)) * (2.0 / math.sqrt(math.pi))


_erf_f64 = np.vectorize(math.erf, otypes=[np.float64])


def _erf(x):
    xp = _xp(x)
    if xp is not np:
        return backend.cupyx().scipy.special.erf(x)
    if x.dtype == np.float64:
        # exact to double precision (the C library's erf), element by element
        return _erf_f64(x) if x.size else x.copy()
    # lower precisions: Numerical Recipes' erfc Chebyshev fit evaluated in float64,
    # |relative error| < 1.2e-7 (below float32's resolution)
    z = np.abs(x).astype(np.float64)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (
        0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (
            1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))
    erfc = t * np.exp(poly)
    approx = np.where(x >= 0, 1.0 - erfc, erfc - 1.0)
    # near 0 the fit's absolute error (~3e-8) would dominate: use the Taylor series there
    xs = x.astype(np.float64)
    small = xs * (2.0 / math.sqrt(math.pi)) * (1.0 - xs * xs / 3.0)
    return np.where(z < 1e-3, small, approx).astype(x.dtype, copy=False)


class Clamp(Op):
    def _overload_name(self) -> str:
        """PyTorch's overloads: number bounds ClampBackward1, tensor bounds ClampBackward0."""
        tensor = hasattr(self.lo, "shape") or hasattr(self.hi, "shape")
        return "ClampBackward0" if tensor else "ClampBackward1"

    @staticmethod
    def forward(ctx, x, min=None, max=None):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = min, max
        xp = _xp(x)
        dt = x.dtype  # PyTorch's promotion: clamp(int_tensor, min=1.5) is float32
        for v in (min, max):
            if v is not None:
                dt = scalar_result(dt, v.item() if hasattr(v, "item") else v)
        if dt != x.dtype:
            x = x.astype(dt)
        y = x
        if min is not None:
            y = xp.maximum(y, scalar_as(min, dt))
        if max is not None:
            y = xp.minimum(y, scalar_as(max, dt))
        if y is x:
            y = x.copy()
        return y.astype(dt, copy=False)

    @staticmethod
    def backward(ctx, gy):
        # the gradient passes where min <= x <= max (boundaries included, like PyTorch)
        (x,) = ctx.saved_tensors
        mask = None
        if ctx.lo is not None:
            mask = x >= ctx.lo
        if ctx.hi is not None:
            m2 = x <= ctx.hi
            mask = m2 if mask is None else (mask & m2)
        return gy if mask is None else gy * mask


class Cast(Op):
    _torch_name = "ToCopyBackward0"
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.src = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, gy):
        if ctx.src.kind not in "fcV":
            return None
        return cast(gy, ctx.src)


class Clone(Op):
    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, gy):
        return gy


class _Rounding(Op):
    """floor/ceil/round/trunc/sign: piecewise constant, zero gradient almost everywhere."""

    fn = "floor"

    @classmethod
    def forward(cls, ctx, x, **kw):
        _no_bool(cls.fn, x, f'"{cls.fn}" not implemented', NotImplementedError)
        if x.dtype.kind in "iu":  # integers are already whole: PyTorch returns a copy
            if kw.get("decimals"):
                raise NotImplementedError(
                    f"round: decimals are not implemented for integer tensors ({x.dtype})")
            return x.copy()
        if x.dtype == np.float16:  # computed in float32 and rounded once, as PyTorch does
            return getattr(_xp(x), cls.fn)(x.astype(np.float32), **kw).astype(x.dtype)
        return getattr(_xp(x), cls.fn)(x, **kw)

    @staticmethod
    def backward(ctx, gy):
        return gy * 0


class Floor(_Rounding):
    fn = "floor"


class Ceil(_Rounding):
    fn = "ceil"


class Round(_Rounding):
    fn = "round"


class Trunc(_Rounding):
    fn = "trunc"


class Sign(_Rounding):
    fn = "sign"

    @staticmethod
    def forward(ctx, x):
        # (x > 0) - (x < 0), as PyTorch: sign(nan) is 0, sign(-0.) is 0.; bool maps to itself
        if x.dtype.kind == "b":
            return x.copy()
        xp = _xp(x)
        return (xp.greater(x, 0).astype(x.dtype) - xp.less(x, 0).astype(x.dtype)).astype(
            x.dtype, copy=False)


# ---- inverse trigonometric and hyperbolic ---------------------------------------------------
# Each saves its input; the derivatives are infinite at the ends of the domain (asin at +-1,
# acosh at 1, atanh at +-1), as in PyTorch; outside it the values are nan.

class Asin(Op):
    @staticmethod
    def forward(ctx, x):
        x = _int_to_float(x)
        ctx.save_for_backward(x)
        return _xp(x).arcsin(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy / sqrt(1 - x * x)


class Acos(Op):
    @staticmethod
    def forward(ctx, x):
        x = _int_to_float(x)
        ctx.save_for_backward(x)
        return _xp(x).arccos(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return -gy / sqrt(1 - x * x)


class Atan(Op):
    @staticmethod
    def forward(ctx, x):
        x = _int_to_float(x)
        ctx.save_for_backward(x)
        return _xp(x).arctan(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy / (x * x + 1)


class Asinh(Op):
    @staticmethod
    def forward(ctx, x):
        x = _int_to_float(x)
        ctx.save_for_backward(x)
        return _xp(x).arcsinh(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy / sqrt(x * x + 1)


class Acosh(Op):
    @staticmethod
    def forward(ctx, x):
        x = _int_to_float(x)
        ctx.save_for_backward(x)
        return _xp(x).arccosh(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy / sqrt(x * x - 1)


class Atanh(Op):
    @staticmethod
    def forward(ctx, x):
        x = _int_to_float(x)
        ctx.save_for_backward(x)
        return _xp(x).arctanh(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy / (1 - x * x)


class Atan2(BinaryOp):
    """``atan2(a, b)``: the angle of the point (b, a); integers give the default float."""

    _float_result = True

    @staticmethod
    def forward(ctx, a, b):
        a, b = _int_to_float(a), _int_to_float(b)
        if ctx.next_edges:
            ctx.save_for_backward(a, b)
        return _xp(a, b).arctan2(a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        d = a * a + b * b
        g = where(d == 0, 0.0, gy / where(d == 0, 1.0, d))  # 0 at the origin, as PyTorch
        return (g * b if _need(ctx, 0) else None), (-g * a if _need(ctx, 1) else None)


# ---- wrappers ---------------------------------------------------------------------------
# Each accepts Tensors or raw arrays; raw in, raw out (used by backward formulas). Each is
# registered once (autograd/registry.py): namespace, Tensor method, in-place form, NumPy.

_EW = "elementwise"


def _scaled(op, a, b, alpha):
    """``alpha * b`` in the result dtype of ``a`` and ``b`` (PyTorch scales after promotion:
    an int32 ``b`` with a float ``a`` is not multiplied in int32 first)."""
    dt = result_type(a, b)
    if dt.kind in "biu" and isinstance(alpha, float):
        raise RuntimeError(f"{op}: for integral input tensors, argument alpha must not be a "
                           f"floating point number (got {alpha})")
    if hasattr(b, "dtype") and b.dtype != dt:
        b = cast(b, dt)
    if dt.kind == "b":
        alpha = bool(alpha)  # bool tensors: alpha is a bool too
        if not hasattr(b, "dtype"):
            return bool(b) and alpha
    return mul(b, alpha)


@register(family=_EW, op=Add, arity=2, inplace=True, numpy="add")
def add(a, b, alpha=1):
    """``a + alpha * b`` with broadcasting."""
    if alpha != 1:
        b = _scaled("add", a, b, alpha)
    return Add.apply(a, b)


@register(family=_EW, op=Sub, arity=2, aliases="subtract", inplace=True, numpy="subtract")
def sub(a, b, alpha=1):
    """``a - alpha * b`` with broadcasting."""
    if alpha != 1:
        b = _scaled("sub", a, b, alpha)
    return Sub.apply(a, b)


subtract = sub


@register(family=_EW, op=Mul, arity=2, aliases="multiply", inplace=True, numpy="multiply")
def mul(a, b):
    """Element-wise product with broadcasting."""
    return Mul.apply(a, b)


multiply = mul


@register(family=_EW, op=Div, arity=2, aliases=("divide", "true_divide"), inplace=True,
          numpy="true_divide", int_to_float=True)
def div(a, b, rounding_mode=None):
    """True division (integers give floats); ``rounding_mode='floor'|'trunc'``."""
    if rounding_mode is None:
        return Div.apply(a, b)
    if rounding_mode == "floor":
        if result_type(a, b).kind in "fV" and (isinstance(a, Tensor) or isinstance(b, Tensor)):
            return DivFloor.apply(a, b)  # differentiable, with a zero gradient (PyTorch's)
        return floor_divide(a, b)
    if rounding_mode == "trunc":
        return _int_div(a, b, "trunc")
    raise RuntimeError(
        f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
        f"{rounding_mode!r}")


divide = true_divide = div


@register(family=_EW, op=Pow, arity=2, inplace=True, numpy="power",
          domain=((0.0, _INF), REAL))
def pow(a, b):  # noqa: A001 - PyTorch's name
    """``a ** b``."""
    if b.__class__ is int and isinstance(a, Tensor):
        if b == 2:
            return Square.apply(a)
        if b < 0 and a.dtype.kind in "biu":
            raise RuntimeError(
                f"pow: integers to negative integer powers are not allowed ({a.dtype} tensor "
                f"** {b}); use a float base (x.float() ** {b})")
    return Pow.apply(a, b)


@register(family=_EW, op=Remainder, arity=2, inplace=True, numpy="remainder")
def remainder(a, b):
    """Python-style remainder (the sign of the divisor)."""
    return Remainder.apply(a, b)


@register(family=_EW, op=Fmod, arity=2, inplace=True)
def fmod(a, b):
    """C-style remainder (the sign of the dividend), like ``torch.fmod``."""
    return Fmod.apply(a, b)


def _promoted(op, a, b):
    """(a, b, dtype): raw operands converted to PyTorch's ``result_type`` of ``a`` and
    ``b`` (Python numbers stay numbers, ready for that dtype)."""
    ad = a._data if isinstance(a, Tensor) else a
    bd = b._data if isinstance(b, Tensor) else b
    if not hasattr(ad, "dtype") and not hasattr(bd, "dtype"):
        raise TypeError(f"{op}: expected at least one Tensor argument, got "
                        f"{type(a).__name__} and {type(b).__name__}")
    dt = result_type(ad, bd)
    with np.errstate(over="ignore", invalid="ignore"):  # int -> float16 may give inf
        return _promote_to(ad, bd, dt)


def _promote_to(ad, bd, dt):
    if hasattr(ad, "dtype") and not isinstance(ad, np.generic):
        ad = ad if ad.dtype == dt else ad.astype(dt)
    else:
        ad = scalar_as(ad.item() if hasattr(ad, "item") else ad, dt)
    if hasattr(bd, "dtype") and not isinstance(bd, np.generic):
        bd = bd if bd.dtype == dt else bd.astype(dt)
    else:
        bd = scalar_as(bd.item() if hasattr(bd, "item") else bd, dt)
    return ad, bd, dt


def _check_broadcast(op, a, b) -> None:
    sa, sb = getattr(a, "shape", ()), getattr(b, "shape", ())
    if sa != sb:
        try:
            np.broadcast_shapes(sa, sb)
        except ValueError:
            raise RuntimeError(
                f"{op}: the shapes {list(sa)} and {list(sb)} cannot be broadcast together "
                "(sizes must match or be 1, aligned from the right)") from None


def _int_div(a, b, mode):
    """``div(a, b, rounding_mode=mode)`` in the promoted dtype (integers stay integers);
    no gradient for integers, and floor division has none (as in PyTorch)."""
    ad, bd, dt = _promoted(f"div(rounding_mode={mode!r})", a, b)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # inf/nan as PyTorch
        return _int_div_raw(a, b, ad, bd, dt, mode)


def _int_div_raw(a, b, ad, bd, dt, mode):
    xp = _xp(ad, bd)
    if dt.kind in "biu":
        if dt.kind == "b":
            raise NotImplementedError(f"div(rounding_mode={mode!r}): not implemented for "
                                      "bool tensors; convert them first (x.int())")
        _check_broadcast("div", ad, bd)
        _no_int_zero(f"div(rounding_mode={mode!r})", bd, ad)
        q = xp.floor_divide(ad, bd)
        if mode == "trunc":  # floor rounds negative quotients down: step back up
            r = ad - q * bd
            q = q + ((r != 0) & ((ad < 0) != (bd < 0))).astype(q.dtype)
    elif mode == "trunc":
        return DivTrunc.apply(a, b)
    else:
        _check_broadcast("floor_divide", ad, bd)
        q = xp.floor_divide(ad, bd)
    q = xp.asarray(q).astype(dt, copy=False)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        return q
    return _make(q)


@register(family=_EW, arity=2, inplace=True, numpy="floor_divide", differentiable=False)
def floor_divide(a, b):
    """``floor(a / b)`` in PyTorch's promoted dtype; integer division by zero is an error;
    not differentiable (like PyTorch)."""
    return _int_div(a, b, "floor")


@register(family=_EW, op=Neg, aliases="negative", inplace=True, numpy="negative")
def neg(x):
    if not hasattr(x, "dtype"):
        raise TypeError(f"neg(): expected a Tensor, got {type(x).__name__}")
    return Neg.apply(x)


negative = neg


def _unary(op, fast):
    name = op.__name__.lower()

    def fn(x):
        if x.__class__ is np.ndarray and fast is not None:
            return fast(x)
        if not hasattr(x, "dtype"):
            raise TypeError(f"{name}(): expected a Tensor, got {type(x).__name__}; convert "
                            "with autograd.tensor(...)")
        return op.apply(x)

    return fn


def _u(op, name, fast=None, numpy=(), domain=None, inplace=True, **kw):
    """Register the unary wrapper of ``op`` (fast path: ``fast`` on raw NumPy arrays)."""
    return _reg(_unary(op, fast), name, family=_EW, op=op, inplace=inplace, numpy=numpy,
                domain=domain, **kw)


exp = _u(Exp, "exp", np.exp, "exp", int_to_float=True)
exp.__doc__ = "Element-wise exponential."
expm1 = _u(Expm1, "expm1", numpy="expm1", int_to_float=True)
log = _u(Log, "log", np.log, "log", _POS, int_to_float=True)
log.__doc__ = "Element-wise natural logarithm."
log2 = _u(Log2, "log2", numpy="log2", domain=_POS, int_to_float=True)
log10 = _u(Log10, "log10", numpy="log10", domain=_POS, int_to_float=True)
log1p = _u(Log1p, "log1p", numpy="log1p", domain=((-1.0, _INF),), int_to_float=True)
sqrt = _u(Sqrt, "sqrt", np.sqrt, "sqrt", _POS, int_to_float=True)
rsqrt = _u(Rsqrt, "rsqrt", domain=_POS, int_to_float=True)
sin = _u(Sin, "sin", np.sin, "sin", int_to_float=True)
angle = _u(Angle, "angle", inplace=False, int_to_float=True)
cos = _u(Cos, "cos", np.cos, "cos", int_to_float=True)
tan = _u(Tan, "tan", numpy="tan", domain=((-math.pi / 2, math.pi / 2),), int_to_float=True)
tanh = _u(Tanh, "tanh", np.tanh, "tanh", int_to_float=True)
sigmoid = _u(Sigmoid, "sigmoid", int_to_float=True)
relu = _u(Relu, "relu")
abs = _u(Abs, "abs", np.abs, "absolute", aliases="absolute")  # noqa: A001
absolute = abs
square = _u(Square, "square", np.square, "square")
reciprocal = _u(Reciprocal, "reciprocal", numpy="reciprocal", int_to_float=True)
erf = _u(Erf, "erf", int_to_float=True)
floor = _u(Floor, "floor", np.floor, "floor")
ceil = _u(Ceil, "ceil", np.ceil, "ceil")
trunc = _u(Trunc, "trunc", np.trunc, "trunc")
sign = _u(Sign, "sign", numpy="sign")


def _clone_fn():
    f = _unary(Clone, None)
    f.__name__ = f.__qualname__ = "clone"
    # PyTorch's memory_format= (clone(memory_format=torch.contiguous_format) in code copied
    # from PyTorch's own): every format gives the same values here
    return _torch_layout(f)


clone = _reg(_clone_fn(), "clone", family=_EW, op=Clone, inplace=True)

_UNIT = ((-1.0, 1.0),)
asin = _u(Asin, "asin", aliases="arcsin", numpy="arcsin", domain=_UNIT, int_to_float=True)
acos = _u(Acos, "acos", aliases="arccos", numpy="arccos", domain=_UNIT, int_to_float=True)
atan = _u(Atan, "atan", aliases="arctan", numpy="arctan", int_to_float=True)
asinh = _u(Asinh, "asinh", aliases="arcsinh", numpy="arcsinh", int_to_float=True)
acosh = _u(Acosh, "acosh", aliases="arccosh", numpy="arccosh", domain=((1.0, _INF),),
           int_to_float=True)
atanh = _u(Atanh, "atanh", aliases="arctanh", numpy="arctanh", domain=_UNIT,
           int_to_float=True)


@register(family=_EW, op=Atan2, arity=2, aliases="arctan2", inplace=True, numpy="arctan2",
          int_to_float=True)
def atan2(a, b):
    """The angle of the point (b, a), in [-pi, pi], with broadcasting."""
    return Atan2.apply(a, b)


@register(family=_EW, op=Round, inplace=True, numpy=("rint", "round", "around"))
def round(x, decimals: int = 0):  # noqa: A001
    return Round.apply(x, decimals=decimals) if decimals else Round.apply(x)


@register(family=_EW, op=Clamp, aliases="clip", inplace=True, numpy="clip")
def clamp(x, min=None, max=None):  # noqa: A002
    """Clip values into [min, max]; the gradient passes where min <= x <= max."""
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        y = x
        if min is not None:
            y = maximum(y, min)
        if max is not None:
            y = minimum(y, max)
        return y
    return Clamp.apply(x, min=min, max=max)


clip = clamp


@register(family=_EW, op=Maximum, arity=2, numpy="maximum")
def maximum(a, b):
    """Element-wise maximum; ties split the gradient evenly."""
    return Maximum.apply(a, b)


@register(family=_EW, op=Minimum, arity=2, numpy="minimum")
def minimum(a, b):
    """Element-wise minimum; ties split the gradient evenly."""
    return Minimum.apply(a, b)


def _where_method(self, condition, other):
    """``Tensor.where(condition, other)``: ``self`` where ``condition`` else ``other``."""
    return where(condition, self, other)


@register(family=_EW, op=Where, arity=3, method=_where_method, numpy="where")
def where(condition, a=None, b=None):
    """``a`` where ``condition`` else ``b``; ``where(cond)`` alone returns the indices of the
    nonzero elements, one int64 tensor per dim (``nonzero(cond, as_tuple=True)``)."""
    c = condition._data if isinstance(condition, Tensor) else condition
    if a is None and b is None:
        xp = _xp(c)
        parts = tuple(p.astype(np.int64) for p in xp.nonzero(xp.atleast_1d(c)))
        return tuple(_make(p) for p in parts) if isinstance(condition, Tensor) else parts
    if not isinstance(condition, Tensor) and not isinstance(a, Tensor) \
            and not isinstance(b, Tensor):
        return Where.apply(c, a, b)  # raw arrays in (backward formulas), raw array out
    if isinstance(condition, Tensor) and c.dtype.kind != "b" and c.dtype != np.uint8:
        raise RuntimeError("where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {scalar_type_name(c.dtype)}")
    try:
        return Where.apply(condition if isinstance(condition, Tensor) else c, a, b)
    except ValueError:
        shapes = [list(np.shape(v._data if isinstance(v, Tensor) else v))
                  for v in (condition, a, b)]
        try:
            np.broadcast_shapes(*map(tuple, shapes))
        except ValueError:  # PyTorch's error for shapes that do not broadcast
            raise RuntimeError(f"where: the shapes {shapes} of the condition, input and other "
                               f"cannot be broadcast together") from None
        raise


@register(family="conversion", op=Cast, method=False)
def cast(x, dtype):
    """Convert to ``dtype`` (differentiable for floating dtypes)."""
    if not isinstance(x, Tensor):
        return x.astype(dtype)
    dt = np.dtype(dtype)
    if dt.kind not in "fcV":  # integer/bool results carry no gradient (as in PyTorch)
        return _make(x._data.astype(dt))
    return Cast.apply(x, dtype=dt)


# ---- comparisons and logic (no gradient) --------------------------------------------------

_BITWISE = ("bitwise_and", "bitwise_or", "bitwise_xor")


def _compare(name):
    def fn(a, b):
        ad = a._data if isinstance(a, Tensor) else a
        bd = b._data if isinstance(b, Tensor) else b
        if ad.__class__ is not bd.__class__ or getattr(ad, "dtype", None) != getattr(
                bd, "dtype", None):  # PyTorch's promotion first (float16 == int32...)
            ad, bd, _ = _promoted(name, ad, bd)
        if name in _BITWISE and (ad if hasattr(ad, "dtype") else bd).dtype.kind in "fcV":
            raise NotImplementedError(
                f"{name}: not implemented for floating tensors; bitwise ops take integer "
                "or bool tensors")
        _check_broadcast(name, ad, bd)
        r = getattr(_xp(ad, bd), name)(ad, bd)
        if not isinstance(a, Tensor) and not isinstance(b, Tensor):
            return r
        return _make(_xp(r).asarray(r))

    fn.__doc__ = f"Element-wise ``{name}``; returns a bool tensor (no gradient)."
    return fn


def _c(name, npname, aliases=(), numpy=True):
    # in-place forms (x.lt_(y)) keep x's dtype, as PyTorch
    return _reg(_compare(npname), name, family=_EW, arity=2, aliases=aliases,
                numpy=npname if numpy else (), differentiable=False, inplace=True)


eq = _c("eq", "equal")
ne = _c("ne", "not_equal", "not_equal")
lt = _c("lt", "less", "less")
le = _c("le", "less_equal", "less_equal")
gt = _c("gt", "greater", "greater")
ge = _c("ge", "greater_equal", "greater_equal")
logical_and = _c("logical_and", "logical_and")
logical_or = _c("logical_or", "logical_or")
logical_xor = _c("logical_xor", "logical_xor")
bitwise_and = _c("bitwise_and", "bitwise_and", numpy=False)
bitwise_or = _c("bitwise_or", "bitwise_or", numpy=False)
bitwise_xor = _c("bitwise_xor", "bitwise_xor", numpy=False)
greater, greater_equal, less, less_equal = gt, ge, lt, le
not_equal = ne


@register(family=_EW, numpy="logical_not", differentiable=False, inplace=True)
def logical_not(x):
    d = x._data if isinstance(x, Tensor) else x
    r = _xp(d).logical_not(d)
    return _make(_xp(r).asarray(r)) if isinstance(x, Tensor) else r


@register(family=_EW, numpy="invert", differentiable=False, inplace=True)
def bitwise_not(x):
    if not hasattr(x, "dtype"):
        raise TypeError(f"bitwise_not(): expected a Tensor, got {type(x).__name__}")
    d = x._data if isinstance(x, Tensor) else x
    if d.dtype.kind in "fcV":
        raise NotImplementedError(
            f"bitwise_not: not implemented for floating tensors ({d.dtype}); it takes "
            "integer or bool tensors")
    r = _xp(d).invert(d)
    return _make(_xp(r).asarray(r)) if isinstance(x, Tensor) else r


def _test(name):
    def fn(x):
        d = x._data if isinstance(x, Tensor) else x
        r = getattr(_xp(d), name)(d)
        return _make(_xp(r).asarray(r)) if isinstance(x, Tensor) else r

    return _reg(fn, name, family=_EW, numpy=name, differentiable=False)


isnan = _test("isnan")
isinf = _test("isinf")
isfinite = _test("isfinite")


@register(family=_EW, arity=2, differentiable=False)
def equal(a, b) -> bool:
    """True when both tensors have the same shape and values."""
    return tuple(a.shape) == tuple(b.shape) and bool((a._data == b._data).all())


@register(family=_EW, arity=2, numpy="allclose", differentiable=False)
def allclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False) -> bool:
    ad = a._data if isinstance(a, Tensor) else a
    bd = b._data if isinstance(b, Tensor) else b
    return bool(_xp(ad, bd).allclose(ad, bd, rtol=rtol, atol=atol, equal_nan=equal_nan))


@register(family=_EW, arity=2, numpy="isclose", differentiable=False)
def isclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
    ad = a._data if isinstance(a, Tensor) else a
    bd = b._data if isinstance(b, Tensor) else b
    xp = _xp(ad, bd)
    return _make(xp.asarray(xp.isclose(ad, bd, rtol=rtol, atol=atol, equal_nan=equal_nan)))
