"""Special functions the distributions need, as differentiable ops on arrays (NumPy/CuPy):
``lgamma``, ``digamma``, ``trigamma``, ``erfinv``, the regularised lower incomplete gamma
``igamma`` (gradient to ``x``) and the reparameterised standard gamma draw, whose gradient to
the concentration is the implicit one (PyTorch's ``_standard_gamma_grad``):
``dx/da = -(dP(a, x)/da) / p(x; a)``, with ``P`` the gamma CDF.

All are vectorised: the loops below run over series terms or recurrence steps, never over
elements.
"""

from __future__ import annotations

import math

import numpy as np

from ..backend import get_array_module
from ..forward_ad import jvp_rule
from ..function import Op
from ..ops.elementwise import _erf
from ..ops.elementwise import sigmoid as _sigmoid
from ..random import _gen_for
from ..tensor import Tensor

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _f(x):
    xp = get_array_module(x)
    x = xp.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64), xp


def _lgamma_arr(x):
    """log|Gamma(x)|: Stirling's series after shifting x up to >= 10 by the recurrence, and
    the reflection formula below 0.5."""
    x, xp = _f(x)
    dt = x.dtype
    x = x.astype(np.float64)
    refl = x < 0.5
    with np.errstate(all="ignore"):
        y = xp.where(refl, 1.0 - x, x)
        prod = xp.ones_like(y)
        for _ in range(10):
            small = y < 10.0
            prod = xp.where(small, prod * y, prod)
            y = xp.where(small, y + 1.0, y)
        z = 1.0 / (y * y)
        ser = (1 / 12 - z * (1 / 360 - z * (1 / 1260 - z * (1 / 1680 - z * (
            1 / 1188 - z * (691 / 360360 - z / 156)))))) / y
        lg = (y - 0.5) * xp.log(y) - y + _HALF_LOG_2PI + ser - xp.log(prod)
        sinpx = xp.abs(xp.sin(math.pi * (x - xp.floor(x))))
        out = xp.where(refl, math.log(math.pi) - xp.log(sinpx) - lg, lg)
        out = xp.where((x == 1.0) | (x == 2.0), 0.0, out)
        out = xp.where(refl & (x == xp.floor(x)), xp.inf, out)
        out = xp.where(xp.isinf(x), xp.inf, out)
    return out.astype(dt)


def _digamma_arr(x):
    x, xp = _f(x)
    dt = x.dtype
    x = x.astype(np.float64)
    refl = x <= 0
    with np.errstate(all="ignore"):
        y = xp.where(refl, 1.0 - x, x)
        acc = xp.zeros_like(y)
        for _ in range(10):
            small = y < 10.0
            acc = acc - xp.where(small, 1.0 / y, 0.0)
            y = xp.where(small, y + 1.0, y)
        z = 1.0 / (y * y)
        ser = z * (1 / 12 - z * (1 / 120 - z * (1 / 252 - z * (1 / 240 - z * (
            1 / 132 - z * (691 / 32760 - z / 12))))))
        out = xp.log(y) - 0.5 / y - ser + acc
        out = xp.where(refl, out - math.pi / xp.tan(math.pi * x), out)
        out = xp.where(refl & (x == xp.floor(x)), xp.nan, out)
        out = xp.where(x == xp.inf, xp.inf, out)
    return out.astype(dt)


def _trigamma_arr(x):
    x, xp = _f(x)
    dt = x.dtype
    x = x.astype(np.float64)
    refl = x <= 0
    with np.errstate(all="ignore"):
        y = xp.where(refl, 1.0 - x, x)
        acc = xp.zeros_like(y)
        for _ in range(10):
            small = y < 10.0
            acc = acc + xp.where(small, 1.0 / (y * y), 0.0)
            y = xp.where(small, y + 1.0, y)
        z = 1.0 / (y * y)
        ser = (1.0 / y + z / 2 + z / y * (1 / 6 - z * (1 / 30 - z * (1 / 42 - z * (
            1 / 30 - z * (5 / 66 - z * (691 / 2730 - z * 7 / 6)))))))
        out = ser + acc
        out = xp.where(refl, -out + (math.pi / xp.sin(math.pi * x)) ** 2, out)
    return out.astype(dt)


def _tetragamma_arr(x):
    """psi''(x), for x > 0 (the gradient of trigamma)."""
    x, xp = _f(x)
    dt = x.dtype
    y = x.astype(np.float64)
    acc = xp.zeros_like(y)
    with np.errstate(all="ignore"):
        for _ in range(10):
            small = y < 10.0
            acc = acc - xp.where(small, 2.0 / (y * y * y), 0.0)
            y = xp.where(small, y + 1.0, y)
        z = 1.0 / (y * y)
        ser = -(1.0 / y ** 2 + 1.0 / y ** 3 + z * z * (0.5 - z * (1 / 6 - z * (1 / 6 - z * (
            3 / 10 - z * 5 / 6)))))
    return (ser + acc).astype(dt)


def _erfinv_arr(y):
    """Inverse error function: Giles' approximation refined by two Halley steps."""
    y, xp = _f(y)
    dt = y.dtype
    y = y.astype(np.float64)
    with np.errstate(all="ignore"):
        w = -xp.log((1.0 - y) * (1.0 + y))
        w1 = w - 2.5
        p1 = 2.81022636e-08
        for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                  -0.00125372503, -0.00417768164, 0.246640727, 1.50140941):
            p1 = c + p1 * w1
        w2 = xp.sqrt(w) - 3.0
        p2 = -0.000200214257
        for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                  -0.0076224613, 0.00943887047, 1.00167406, 2.83297682):
            p2 = c + p2 * w2
        x = xp.where(w < 5.0, p1, p2) * y
        for _ in range(2):
            err = _erf(x) - y
            d = (2.0 / math.sqrt(math.pi)) * xp.exp(-x * x)
            step = err / d
            x = x - step / (1.0 + x * step)
        x = xp.where(xp.abs(y) == 1.0, xp.copysign(xp.inf, y), x)
        x = xp.where(xp.abs(y) > 1.0, xp.nan, x)
    return x.astype(dt)


def _igamma_series(a, x):
    """P(a, x) by its power series (for x < a + 1)."""
    xp = get_array_module(a)
    ap = a.copy()
    term = 1.0 / a
    tot = term.copy()
    for _ in range(5000):
        ap = ap + 1.0
        term = term * x / ap
        tot = tot + term
        if not bool(xp.any(xp.abs(term) > xp.abs(tot) * 1e-16)):
            break
    return tot * xp.exp(a * xp.log(x) - x - _lgamma_arr(a))


def _igammac_cf(a, x):
    """Q(a, x) by Lentz's continued fraction (for x >= a + 1)."""
    xp = get_array_module(a)
    tiny = 1e-300
    b = x + 1.0 - a
    c = xp.full(a.shape, 1.0 / tiny)
    d = 1.0 / xp.where(b == 0, tiny, b)
    h = d.copy()
    for i in range(1, 5000):
        an = -i * (i - a)
        b = b + 2.0
        d = an * d + b
        d = xp.where(xp.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = xp.where(xp.abs(c) < tiny, tiny, c)
        d = 1.0 / d
        delta = d * c
        h = h * delta
        if not bool(xp.any(xp.abs(delta - 1.0) > 1e-15)):
            break
    return xp.exp(a * xp.log(x) - x - _lgamma_arr(a)) * h


def _igamma_arr(a, x):
    """Regularised lower incomplete gamma P(a, x): the series for x < a + 1, the continued
    fraction for Q otherwise, each on its own elements; iterations stop once every element
    converged."""
    xp = get_array_module(a, x)
    a, x = xp.broadcast_arrays(xp.asarray(a, dtype=np.float64), xp.asarray(x, dtype=np.float64))
    out = xp.zeros(a.shape)
    with np.errstate(all="ignore"):
        ok = (x > 0) & (a > 0) & xp.isfinite(x)
        ser = ok & (x < a + 1.0)
        cf = ok & ~ser
        if bool(ser.any()):
            out[ser] = _igamma_series(a[ser], x[ser])
        if bool(cf.any()):
            out[cf] = 1.0 - _igammac_cf(a[cf], x[cf])
        out = xp.where(x == xp.inf, 1.0, out)
        out = xp.where(xp.isnan(x) | xp.isnan(a) | (a < 0), xp.nan, out)
    return out


def _standard_gamma_grad_arr(a, x):
    """dx/da of a standard gamma draw x held at a fixed CDF value (implicit
    reparameterisation): -(dP/da) / density, dP/da by a central difference of P."""
    xp = get_array_module(a, x)
    a64 = a.astype(np.float64)
    x64 = x.astype(np.float64)
    h = 1e-5 * xp.maximum(a64, 1e-3)
    with np.errstate(all="ignore"):
        dp = (_igamma_arr(a64 + h, x64) - _igamma_arr(a64 - h, x64)) / (2.0 * h)
        logpdf = (a64 - 1.0) * xp.log(x64) - x64 - _lgamma_arr(a64)
        g = -dp / xp.exp(logpdf)
        g = xp.where(xp.isfinite(g), g, 0.0)
    return g.astype(x.dtype)


# ---- ops ------------------------------------------------------------------------------------

class _Lgamma(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _lgamma_arr(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * digamma(x)


class _Digamma(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _digamma_arr(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * trigamma(x)


class _Trigamma(Op):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _trigamma_arr(x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * _Tetragamma.apply(x)


class _Tetragamma(Op):
    @staticmethod
    def forward(ctx, x):
        return _tetragamma_arr(x)

    @staticmethod
    def backward(ctx, gy):  # pragma: no cover - fourth derivatives are not needed
        raise RuntimeError("the derivative of polygamma(2, x) is not implemented")


class _Erfinv(Op):
    @staticmethod
    def forward(ctx, y):
        x = _erfinv_arr(y)
        ctx.save_for_backward(x)
        return x

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * (math.sqrt(math.pi) / 2.0) * _exp(x * x)


class _Igamma(Op):
    """P(a, x), differentiable in ``x`` (as PyTorch, which has no gradient to ``a``)."""

    @staticmethod
    def forward(ctx, a, x):
        ctx.save_for_backward(a, x)
        return _igamma_arr(a, x).astype(x.dtype)

    @staticmethod
    def backward(ctx, gy):
        a, x = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise NotImplementedError(
                "derivative for aten::igamma is not implemented for the argument 'self'")
        return None, gy * _exp((a - 1.0) * _log(x) - x - lgamma(a))


class _StandardGamma(Op):
    """A draw of Gamma(alpha, 1), reparameterised: its gradient to ``alpha`` is the implicit
    one, so ``Gamma.rsample`` is differentiable."""

    @staticmethod
    def forward(ctx, alpha, generator=None):
        xp = get_array_module(alpha)
        alpha = xp.asarray(alpha)
        g = _gen_for(xp, generator)
        x = xp.asarray(g.standard_gamma(alpha.astype(np.float64))).astype(alpha.dtype)
        x = xp.asarray(xp.maximum(x, np.finfo(alpha.dtype).tiny))
        ctx.save_for_backward(alpha, x)
        return x

    @staticmethod
    def backward(ctx, gy):
        alpha, x = ctx.saved_tensors
        a = alpha._data if isinstance(alpha, Tensor) else alpha
        xx = x._data if isinstance(x, Tensor) else x
        xp = get_array_module(xx)
        return gy * _standard_gamma_grad_arr(xp.asarray(a), xp.asarray(xx))


class _Softplus(Op):
    """log(1 + exp(x)), stable; its gradient is sigmoid(x) (also at 0)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).logaddexp(x.dtype.type(0), x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * _sigmoid(x)


def softplus(x):
    return _Softplus.apply(x)


def _exp(x):
    return x.exp() if isinstance(x, Tensor) else get_array_module(x).exp(x)


def _log(x):
    return x.log() if isinstance(x, Tensor) else get_array_module(x).log(x)


def lgamma(x):
    return _Lgamma.apply(x)


def digamma(x):
    return _Digamma.apply(x)


def trigamma(x):
    return _Trigamma.apply(x)


def erfinv(x):
    return _Erfinv.apply(x)


def igamma(a, x):
    return _Igamma.apply(a, x)


def standard_gamma(alpha, generator=None):
    return _StandardGamma.apply(alpha, generator=generator)


# ---- forward-mode rules (autograd.forward_ad), on raw arrays ---------------------------------

def _no_tangent_to(cls, tans, i):
    if tans[i] is not None:
        raise NotImplementedError(f"forward AD: {cls.__name__[1:].lower()} has no derivative "
                                  f"for input {i}")


@jvp_rule("_Lgamma")
def _lgamma_jvp(cls, ctx, prims, tans, ys, kwargs):
    return tans[0] * _digamma_arr(prims[0])


@jvp_rule("_Digamma")
def _digamma_jvp(cls, ctx, prims, tans, ys, kwargs):
    return tans[0] * _trigamma_arr(prims[0])


@jvp_rule("_Trigamma")
def _trigamma_jvp(cls, ctx, prims, tans, ys, kwargs):
    return tans[0] * _tetragamma_arr(prims[0])


@jvp_rule("_Erfinv")
def _erfinv_jvp(cls, ctx, prims, tans, ys, kwargs):
    return tans[0] * (math.sqrt(math.pi) / 2.0) * get_array_module(ys).exp(ys * ys)


@jvp_rule("_Softplus")
def _softplus_jvp(cls, ctx, prims, tans, ys, kwargs):
    x = prims[0]
    return tans[0] / (1.0 + get_array_module(x).exp(-x))


@jvp_rule("_Igamma")
def _igamma_jvp(cls, ctx, prims, tans, ys, kwargs):
    _no_tangent_to(cls, tans, 0)
    a, x = prims
    xp = get_array_module(x)
    return tans[1] * xp.exp((a - 1.0) * xp.log(x) - x - _lgamma_arr(a))


@jvp_rule("_StandardGamma")
def _standard_gamma_jvp(cls, ctx, prims, tans, ys, kwargs):
    return tans[0] * _standard_gamma_grad_arr(prims[0], ys)
