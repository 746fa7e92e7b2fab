"""Element-wise special functions and the rest of PyTorch's element-wise math.

Gamma family (lgamma, digamma, polygamma, mvlgamma, zeta, igamma/igammac), error functions
(erfc, erfinv, erfcx, ndtr, ndtri, log_ndtr), Bessel functions (i0, i0e, i1, i1e), and
cosh, sinh, exp2, logaddexp, hypot, xlogy, lerp, copysign, fmax/fmin, bit shifts...

The kernels run in float64 on raw arrays and round once to the input's dtype (PyTorch
computes float16 in float32; float64 here is at least as accurate). Where PyTorch's own
algorithm is an approximation whose error shows in float64 (trigamma, zeta's Euler-Maclaurin
sum, digamma's shift), the same sequence of operations is used, so the numbers agree.
Every backward is written with the op wrappers, so double backward works (function.py).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from .. import backend
from ..backend import get_array_module
from ..dtypes import get_default_dtype
from ..function import BinaryOp, Op
from ..registry import add as _reg
from ..registry import register
from ..return_types import structseq
from ..tensor import Tensor, _make
from . import elementwise as E
from .inplace import apply_inplace

_EW = "elementwise"
_INF = math.inf
_NAN = math.nan
_PI = math.pi
_F64 = np.dtype(np.float64)


def _xp(*xs):
    return get_array_module(*xs)


def _need(ctx, i: int) -> bool:
    return ctx.next_edges[i] is not None


_float = E._int_to_float


def _dt(x):
    return x.dtype if hasattr(x, "dtype") else None


def _f64(x):
    """x as a float64 array (Python numbers too)."""
    xp = _xp(x)
    return xp.asarray(x, dtype=np.float64)


def _back(y, like):
    """The float64 result ``y`` rounded to the dtype of ``like`` (an array)."""
    dt = like.dtype if hasattr(like, "dtype") else _F64
    with np.errstate(over="ignore", invalid="ignore"):
        return _xp(y).asarray(y).astype(dt, copy=False)


def _float_only(op: str, *xs) -> None:
    """PyTorch's kernels that exist for floating dtypes only refuse integers and bools."""
    for x in xs:
        d = _dt(x)
        if d is not None and d.kind in "biu":
            name = {"b": "Bool", "u": "Byte"}.get(d.kind, {4: "Int", 8: "Long", 2: "Short",
                                                            1: "Char"}[d.itemsize])
            raise NotImplementedError(f'"{op}_cpu" not implemented for \'{name}\'; this op '
                                      "takes floating tensors (convert with x.float())")


def _no_half(op: str, *xs) -> None:
    for x in xs:
        if _dt(x) == np.float16:
            raise NotImplementedError(f'"{op}_cpu" not implemented for \'Half\'; convert to '
                                      "float32 first (x.float())")


def _int_only(op: str, *xs, bool_ok=False) -> None:
    for x in xs:
        d = _dt(x)
        if d is not None and (d.kind in "fcV" or (d.kind == "b" and not bool_ok)):
            raise NotImplementedError(f'"{op}_cpu" not implemented for {d}; this op takes '
                                      "integer tensors")


def _frompy(f):
    """A float64 kernel from a scalar libm function (the C library's accuracy)."""
    uf = np.frompyfunc(f, 1, 1)

    def g(x):
        if _xp(x) is not np:
            return None
        return np.asarray(uf(x), dtype=np.float64) if x.size else x.astype(np.float64)

    return g


def _lgamma_scalar(v):
    try:
        return math.lgamma(v)
    except (ValueError, OverflowError):  # the poles 0, -1, -2...
        return _INF


_lgamma_np = _frompy(_lgamma_scalar)
_erf_np = _frompy(math.erf)
_erfc_np = _frompy(math.erfc)


def _lgamma64(x):
    y = _lgamma_np(x)
    return backend.cupyx().scipy.special.gammaln(x) if y is None else y


def _erf64(x):
    y = _erf_np(x)
    return backend.cupyx().scipy.special.erf(x) if y is None else y


def _erfc64(x):
    y = _erfc_np(x)
    return backend.cupyx().scipy.special.erfc(x) if y is None else y


# ---- kernels (float64 arrays in, float64 arrays out) -------------------------------------

def _bernoulli(n: int) -> list:
    """B_0..B_n as Fractions (the Akiyama-Tanigawa algorithm)."""
    a, out = [Fraction(0)] * (n + 1), []
    for m in range(n + 1):
        a[m] = Fraction(1, m + 1)
        for j in range(m, 0, -1):
            a[j - 1] = j * (a[j - 1] - a[j])
        out.append(a[0])
    return out  # B_1 = +1/2 in this convention; only the even ones are used


_B = _bernoulli(26)
# digamma's asymptotic series: sum_k B_2k / (2k x^2k), k = 1..7 (highest first, for Horner)
_PSI_A = [float(_B[2 * k] / (2 * k)) for k in range(7, 0, -1)]
_PSI_10 = math.fsum(1.0 / k for k in range(1, 10)) - 0.57721566490153286061
# zeta's Euler-Maclaurin terms: (2k)! / B_2k, k = 1..12
_ZETA_A = [float(math.factorial(2 * k) / _B[2 * k]) for k in range(1, 13)]
_MACHEP = 1.11022302462515654042e-16
_MAXLOG = 7.09782712893383996843e2


def _digamma64(x, dt=_F64):
    """PyTorch's digamma (Cephes psi): reflection below 0, shift to x >= 10, then the
    asymptotic series; digamma(0) is -inf, digamma(-0.) inf, negative integers nan.
    float32/float16 inputs run in float32 arithmetic, as PyTorch."""
    xp = _xp(x)
    dt = np.dtype(np.float32) if dt != _F64 else dt
    c = dt.type
    x = xp.array(x, dtype=dt)
    with np.errstate(all="ignore"):
        neg = x < 0
        refl = xp.zeros_like(x)
        if neg.any():
            r = x - xp.trunc(x)  # the fractional part: tan(pi r) is the accurate one
            refl = xp.where(neg, -c(_PI) / xp.tan(c(_PI) * r), c(0))
            x = xp.where(neg, c(1) - x, x)
        res = xp.zeros_like(x)
        hit10 = x == 10
        for _ in range(10):  # x >= 0 here: at most 10 steps reach 10
            m = x < 10
            if not m.any():
                break
            res = xp.where(m, res - c(1) / x, res)
            hit10 = xp.where(m, x + c(1) == 10, hit10)
            x = xp.where(m, x + c(1), x)
        z = c(1) / (x * x)
        poly = xp.zeros_like(x)
        for k in _PSI_A:
            poly = poly * z + c(k)
        y = xp.where(x < 1e17, z * poly, c(0))
        out = res + xp.log(x) - c(0.5) / x - y
        out = xp.where(hit10, res + c(_PSI_10), out) + refl
        out = xp.where(neg & (refl != refl), _NAN, out)
    return out


def _digamma(x, dt=_F64):
    """digamma with PyTorch's special values (on the original argument)."""
    xp = _xp(x)
    x = xp.asarray(x, dtype=np.float64)
    y = _digamma64(x, dt).astype(np.float64)
    with np.errstate(invalid="ignore"):
        y = xp.where((x < 0) & (x == xp.floor(x)), _NAN, y)  # -1, -2..., -inf
        y = xp.where(x == 0, xp.copysign(_INF, -x), y)
    return y


def _trigamma(x, dt=_F64):
    """PyTorch's trigamma (reflection below 1/2, six shifts, four asymptotic terms), in
    float32 arithmetic for float32/float16 as PyTorch (sin(pi * x) near the poles)."""
    xp = _xp(x)
    dt = np.dtype(np.float32) if dt != _F64 else dt
    x = xp.array(x, dtype=dt)
    c = dt.type
    with np.errstate(all="ignore"):
        one = c(1)
        low = x < c(0.5)
        s = xp.sin(c(_PI) * x)
        res = xp.where(low, -(c(_PI) * c(_PI)) / (s * s), c(0))
        x = xp.where(low, one - x, x)
        for _ in range(6):
            res = res + one / (x * x)
            x = x + one
        ixx = one / (x * x)
        res = res + (one + one / (c(2) * x) + ixx * (c(1.0 / 6.0) - ixx * (
            c(1.0 / 30.0) - ixx * c(1.0 / 42.0)))) / x
        return xp.where(low, -res, res)


def _zeta(s, q):
    """Hurwitz zeta(s, q) as PyTorch computes it (Cephes: direct sum to q + 9 at least,
    then Euler-Maclaurin), element-wise with masks instead of early returns."""
    xp = _xp(s, q)
    s, q = xp.broadcast_arrays(xp.asarray(s, dtype=np.float64),
                               xp.asarray(q, dtype=np.float64))
    with np.errstate(all="ignore"):
        out = xp.full(s.shape, _NAN)
        done = xp.zeros(s.shape, dtype=bool)
        out = xp.where(s == 1, _INF, out)
        done |= (s == 1) | (s < 1)
        qint = q == xp.floor(q)
        bad = (q <= 0) & ~done
        out = xp.where(bad & qint, _INF, out)
        done |= bad & (qint | (s != xp.floor(s)))
        sm = xp.power(q, -s)
        a = q.copy()
        b = xp.zeros_like(s)
        i = 0
        active = ~done
        # the direct sum: at least 9 terms, and on until a > 9 (bounded for safety)
        while i < 10000:
            go = active & ((i < 9) | (a <= 9.0))
            if not go.any():
                break
            i += 1
            a = xp.where(go, a + 1.0, a)
            b = xp.where(go, xp.power(a, -s), b)
            sm = xp.where(go, sm + b, sm)
            conv = go & (-_MACHEP * sm < b) & (b < _MACHEP * sm)
            out = xp.where(conv, sm, out)
            active &= ~conv
        w = a
        sm = sm + b * w / (s - 1.0)
        sm = sm - 0.5 * b
        a = xp.ones_like(s)
        k = xp.zeros_like(s)
        for c in _ZETA_A:
            a = a * (s + k)
            b = b / w
            t = a * b / c
            sm = sm + t
            conv = active & (xp.abs(t / sm) < _MACHEP)
            out = xp.where(conv, sm, out)
            active &= ~conv
            k = k + 1.0
            a = a * (s + k)
            b = b / w
            k = k + 1.0
        out = xp.where(active, sm, out)
    return out


def _polygamma(n: int, x, dt=_F64):
    """PyTorch's polygamma: digamma, trigamma, else (-1)^(n+1) n! zeta(n + 1, x)."""
    if n == 0:
        return _digamma(x)
    if n == 1:
        return _trigamma(x, dt)
    fact = math.exp(math.lgamma(n + 1.0))
    with np.errstate(all="ignore"):
        return (1.0 if n % 2 else -1.0) * fact * _zeta(n + 1.0, x)


def _erfcinv_pos(q):
    """erfcinv(q) for 0 < q <= 1 (x >= 0): Winitzki's estimate, then Halley steps on
    erfc (no cancellation near q = 0)."""
    xp = _xp(q)
    with np.errstate(all="ignore"):
        a = 0.147
        ln = xp.log(q * (2.0 - q))  # log(1 - y^2)
        t = 2.0 / (_PI * a) + ln / 2.0
        x = xp.sqrt(xp.maximum(xp.sqrt(t * t - ln / a) - t, 0.0))
        tail = q < 0.1
        xh = xp.where(tail, 1.0, x)
        for _ in range(4):
            f = _erfc64(xh) - q
            d = -2.0 / math.sqrt(_PI) * xp.exp(-xh * xh)
            step = f / d
            xh = xh - step / (1.0 + xh * step)  # Halley: f'' / f' = -2x
        # the tail: Newton on log(erfc(x)) = log(erfcx(x)) - x^2 (q may be subnormal)
        xt = xp.where(tail, x, 2.0)
        lq = xp.log(xp.where(tail, q, 0.01))
        for _ in range(6):
            ex = _erfcx64(xt)
            h = xp.log(ex) - xt * xt - lq
            xt = xt + h * ex * (math.sqrt(_PI) / 2.0)
        return xp.where(tail, xt, xh)


def _erfinv64(y):
    xp = _xp(y)
    y = xp.asarray(y, dtype=np.float64)
    with np.errstate(all="ignore"):
        ay = xp.abs(y)
        big = ay > 0.5
        # |y| > 1/2: on erfc, with q = 1 - |y| exact (Sterbenz)
        xb = _erfcinv_pos(xp.where(big, 1.0 - ay, 0.5))
        # |y| <= 1/2: Newton/Halley on erf, from the Taylor start
        x = ay * (math.sqrt(_PI) / 2.0) * (1.0 + _PI / 12.0 * ay * ay)
        for _ in range(4):
            f = _erf64(x) - ay
            d = 2.0 / math.sqrt(_PI) * xp.exp(-x * x)
            step = f / d
            x = x - step / (1.0 + x * step)
        x = xp.where(big, xb, x)
        x = xp.where(ay == 1, _INF, x)
        x = xp.where((ay > 1) | xp.isnan(y), _NAN, x)
        return xp.copysign(x, y)


def _erfcinv(q):
    """erfcinv(q) for q in [0, 2] (ndtri): accurate near 0."""
    xp = _xp(q)
    q = xp.asarray(q, dtype=np.float64)
    with np.errstate(all="ignore"):
        lo = q <= 1.0
        x = _erfcinv_pos(xp.where(lo, q, 2.0 - q))  # 2 - q is exact for q in [1, 2]
        x = xp.where(lo, x, -x)
        x = xp.where(q == 0, _INF, xp.where(q == 2, -_INF, x))
        return xp.where((q < 0) | (q > 2) | xp.isnan(q), _NAN, x)


def _bessel_i(nu: int, x, scaled: bool):
    """I_nu(|x|) (times exp(-|x|) when scaled) for nu in {0, 1}: the power series below 30,
    Hankel's asymptotic series above (both converge to float64 rounding there)."""
    xp = _xp(x)
    ax = xp.abs(xp.asarray(x, dtype=np.float64))
    with np.errstate(all="ignore"):
        small = ax < 30.0
        xs = xp.where(small, ax, 0.0)
        q = xs * xs / 4.0
        term = xp.ones_like(xs) if nu == 0 else xs / 2.0
        ser = term.copy()
        for k in range(1, 80):
            term = term * q / (k * (k + nu))
            ser = ser + term
        if scaled:
            ser = ser * xp.exp(-xs)
        xl = xp.where(small, 60.0, ax)
        mu = 4.0 * nu * nu
        term = xp.ones_like(xl)
        asym = term.copy()
        for k in range(1, 30):
            term = term * -(mu - (2 * k - 1) ** 2) / (k * 8.0 * xl)
            asym = asym + term
        # exp(x) * S / sqrt(2 pi x): at x = inf this is inf / inf = nan, as in PyTorch
        big = asym / math.sqrt(2 * _PI) / xp.sqrt(xl)
        if not scaled:
            big = xp.exp(xl) * big
        return xp.where(small, ser, big)


def _igamma_parts(a, x, maxlog=_MAXLOG):
    """(P, Q): the regularized incomplete gamma functions, by the series where x < a + 1
    and the continued fraction elsewhere (each to float64 rounding); PyTorch's values at
    the edges (a = 0, x = 0, infinities, negatives give nan)."""
    xp = _xp(a, x)
    a, x = xp.broadcast_arrays(xp.asarray(a, dtype=np.float64),
                               xp.asarray(x, dtype=np.float64))
    with np.errstate(all="ignore"):
        ok = (a > 0) & (x > 0) & xp.isfinite(a) & xp.isfinite(x)
        aa = xp.where(ok, a, 1.0)
        xx = xp.where(ok, x, 1.0)
        lg = _lgamma64(aa)
        logpre = aa * xp.log(xx) - xx - lg
        # PyTorch's (Cephes') choice: the continued fraction for Q where x > 1 and x > a
        use_ser = ~((xx > 1.0) & (xx > aa)) & (aa <= 1e5)
        # series: P = x^a e^-x / Gamma(a+1) * sum x^k / ((a+1)...(a+k))
        xs, as_ = xp.where(use_ser, xx, 0.5), xp.where(use_ser, aa, 1.0)
        cf = ~use_ser & (aa <= 1e5)
        term = xp.ones_like(xs)
        ser = term.copy()
        r = as_.copy()
        for _ in range(100000):
            r = r + 1.0
            term = term * xs / r
            ser = ser + term
            if not bool((term > ser * 1e-17).any()):
                break
        # x^a e^-x / Gamma(a) below e^-709.78 is taken as 0, as Cephes/PyTorch
        p_ser = xp.where(logpre < -maxlog, 0.0, xp.exp(logpre) * ser / aa)
        # continued fraction (modified Lentz) for Q
        xc, ac = xp.where(cf, xx, 2.0), xp.where(cf, aa, 1.0)
        tiny = 1e-300
        b = xc + 1.0 - ac
        c = xp.full_like(xc, 1.0 / tiny)
        d = 1.0 / b
        h = d.copy()
        live = xp.ones(h.shape, dtype=bool)
        for i in range(1, 100000):
            an = -i * (i - ac)
            b = b + 2.0
            d = an * d + b
            d = xp.where(xp.abs(d) < tiny, tiny, d)
            c = b + an / c
            c = xp.where(xp.abs(c) < tiny, tiny, c)
            d = 1.0 / d
            delta = d * c
            h = xp.where(live, h * delta, h)  # converged elements stay put
            live &= xp.abs(delta - 1.0) > 1e-16
            if not bool(live.any()):
                break
        q_cf = xp.where(logpre < -maxlog, 0.0, xp.exp(logpre) * h)
        p = xp.where(use_ser, p_ser, 1.0 - q_cf)
        q = xp.where(use_ser, 1.0 - p_ser, q_cf)
        # a > 1e5: Temme's uniform expansion (DLMF 8.12), where the series would need
        # ~sqrt(a) terms: Q = erfc(eta sqrt(a/2)) / 2 + e^(-a eta^2/2) / sqrt(2 pi a) *
        # (c0(eta) + c1(eta) / a), lambda = x / a, eta^2 / 2 = lambda - 1 - log(lambda)
        huge = aa > 1e5
        if bool(huge.any()):
            at = xp.where(huge, aa, 1e6)
            lam = xp.where(huge, xx, 1e6) / at
            lm1 = lam - 1.0
            eta = xp.sign(lm1) * xp.sqrt(2.0 * (lm1 - xp.log1p(lm1)))
            near = xp.abs(eta) < 1e-3
            es = xp.where(near, 1.0, eta)
            c0 = xp.where(near, -1.0 / 3.0 + eta / 12.0 - eta * eta / 1080.0,
                          1.0 / xp.where(near, 1.0, lm1) - 1.0 / es)
            c1 = -1.0 / 540.0 - eta / 288.0
            r = xp.exp(-at * eta * eta / 2.0) / xp.sqrt(2 * _PI * at) * (c0 + c1 / at)
            r = xp.where(xp.isfinite(eta), r, 0.0)  # x / a below the smallest float
            qt = 0.5 * _erfc64(eta * xp.sqrt(at / 2.0)) + r
            pt = 0.5 * _erfc64(-eta * xp.sqrt(at / 2.0)) - r
            p = xp.where(huge, pt, p)
            q = xp.where(huge, qt, q)
        # lgamma(a) overflows (a > 2.5e305) with log(x) > 0: inf - inf, nan in PyTorch
        p = xp.where(xp.isnan(logpre), _NAN, p)
        q = xp.where(xp.isnan(logpre), _NAN, q)
        # the edges, as PyTorch
        # PyTorch's special cases, in its order (the last applied here wins)
        p = xp.where(ok, p, _NAN)
        q = xp.where(ok, q, _NAN)
        infx, infa = xp.isinf(x), xp.isinf(a)
        p = xp.where(infx, 1.0, p)
        q = xp.where(infx, 0.0, q)
        p = xp.where(infa, xp.where(infx, _NAN, 0.0), p)
        q = xp.where(infa, xp.where(infx, _NAN, 1.0), q)
        p = xp.where(x == 0, 0.0, p)
        q = xp.where(x == 0, 1.0, q)
        p = xp.where(a == 0, xp.where(x > 0, 1.0, _NAN), p)
        q = xp.where(a == 0, xp.where(x > 0, 0.0, _NAN), q)
        neg = (x < 0) | (a < 0)
        p = xp.where(neg, _NAN, p)
        q = xp.where(neg, _NAN, q)
    return p, q


# ---- unary ops ------------------------------------------------------------------------------

class _Unary(Op):
    """``y = f(x)`` element-wise: integers and bools give the default float dtype; the
    kernel ``f`` runs on the float array; saves x and y for ``grad(x, y, gy)``."""

    _half = True  # False: PyTorch has no float16 kernel (NotImplementedError)

    @classmethod
    def forward(cls, ctx, x):
        x = _float(x)
        if not cls._half and x.dtype == np.float16:
            _no_half(cls.__name__.lower(), x)
        with np.errstate(all="ignore"):
            y = cls.f(x)
        y = _back(y, x)
        if ctx.next_edges:
            ctx.save_for_backward(x, y)
        return y

    @classmethod
    def backward(cls, ctx, gy):
        x, y = ctx.saved_tensors
        with np.errstate(all="ignore"):  # in the input's dtype, as PyTorch
            return cls.grad(x, y, gy)


def _k64(fn):
    """A float64 kernel applied to any float array (rounded back by the caller)."""
    return staticmethod(lambda x: fn(_f64(x)))


class Cosh(_Unary):
    f = staticmethod(lambda x: _xp(x).cosh(x))
    grad = staticmethod(lambda x, y, gy: gy * sinh(x))


class Sinh(_Unary):
    f = staticmethod(lambda x: _xp(x).sinh(x))
    grad = staticmethod(lambda x, y, gy: gy * cosh(x))


class Exp2(_Unary):
    f = staticmethod(lambda x: _xp(x).exp2(x))
    grad = staticmethod(lambda x, y, gy: gy * y * math.log(2.0))


_D2R = _PI / 180.0


class Deg2rad(_Unary):
    f = staticmethod(lambda x: _f64(x) * _D2R)
    grad = staticmethod(lambda x, y, gy: gy * _D2R)


class Rad2deg(_Unary):
    f = staticmethod(lambda x: _f64(x) * (180.0 / _PI))
    grad = staticmethod(lambda x, y, gy: gy * (180.0 / _PI))


_TWO_SQRTPI = 2.0 / math.sqrt(_PI)


class Erfc(_Unary):
    f = _k64(_erfc64)
    grad = staticmethod(lambda x, y, gy: -gy * E.exp(-(x * x)) * _TWO_SQRTPI)


class Erfinv(_Unary):
    f = _k64(_erfinv64)
    grad = staticmethod(lambda x, y, gy: gy * (math.sqrt(_PI) / 2.0) * E.exp(y * y))


class Lgamma(_Unary):
    f = _k64(_lgamma64)
    grad = staticmethod(lambda x, y, gy: gy * digamma(x))


class Digamma(_Unary):
    f = _k64(_digamma)
    grad = staticmethod(lambda x, y, gy: gy * polygamma(1, x))


class Polygamma(Op):
    @staticmethod
    def forward(ctx, x, n):
        x = _float(x)
        ctx.n = n
        if ctx.next_edges:
            ctx.save_for_backward(x)
        with np.errstate(all="ignore"):
            return _back(_polygamma(n, _f64(x), x.dtype), x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * polygamma(ctx.n + 1, x)


class I0(_Unary):
    f = staticmethod(lambda x: _bessel_i(0, x, False))
    grad = staticmethod(lambda x, y, gy: gy * special_i1(x))


class I0e(_Unary):
    f = staticmethod(lambda x: _bessel_i(0, x, True))
    grad = staticmethod(lambda x, y, gy: gy * (special_i1e(x) - E.sign(x) * y))


class I1(_Unary):
    @staticmethod
    def f(x):
        xp = _xp(x)
        r = _bessel_i(1, x, False)
        return xp.where(x < 0, -r, r)  # i1(-0.) is 0., as PyTorch

    @staticmethod
    def grad(x, y, gy):
        # PyTorch's rule: 0.5 where |x| <= eps (nan included), i0(x) - i1(x) / x elsewhere
        big = E.abs(x) > float(np.finfo(x.dtype).eps)
        safe = E.where(big, x, float(np.finfo(x.dtype).eps))
        return gy * E.where(big, i0(safe) - y / safe, 0.5)


class I1e(_Unary):
    @staticmethod
    def f(x):
        xp = _xp(x)
        r = _bessel_i(1, x, True)
        return xp.where(x < 0, -r, r)

    @staticmethod
    def grad(x, y, gy):
        big = E.abs(x) > float(np.finfo(x.dtype).eps)
        safe = E.where(big, x, float(np.finfo(x.dtype).eps))
        return gy * E.where(big, special_i0e(safe) - y * (E.sign(safe) + 1 / safe), 0.5)


def _erfcx64(x):
    xp = _xp(x)
    x = xp.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        ax = xp.abs(x)
        big = ax >= 10.0
        xm = xp.where(big, 1.0, ax)
        mid = _erfc64(xm) * xp.exp(xm * xm)
        xb = xp.where(big, ax, 10.0)
        z = 1.0 / (2.0 * xb * xb)
        term = xp.ones_like(xb)
        s = term.copy()
        for k in range(1, 40):  # 1/(x sqrt(pi)) * sum (-1)^k (2k-1)!! / (2x^2)^k
            term = -term * (2 * k - 1) * z
            s = s + term
        asym = s / xb / math.sqrt(_PI)
        pos = xp.where(big, asym, mid)
        neg = 2.0 * xp.exp(x * x) - pos  # erfcx(-x) = 2 exp(x^2) - erfcx(x)
        y = xp.where(x < 0, neg, pos)
        return xp.where(x == _INF, 0.0, y)


class Erfcx(_Unary):
    _half = False
    f = _k64(_erfcx64)
    grad = staticmethod(lambda x, y, gy: gy * (2.0 * x * y - _TWO_SQRTPI))


_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * _PI)


def _ndtr(x):
    # PyTorch's formula, in the input's precision (its erf-based value underflows to 0
    # below about -8.3 in float64)
    e = _erf64(_f64(x) * math.sqrt(0.5)).astype(x.dtype)
    return (x.dtype.type(1) + e) * x.dtype.type(0.5)


class Ndtr(_Unary):
    f = staticmethod(_ndtr)
    grad = staticmethod(lambda x, y, gy: gy * E.exp(-(x * x) * 0.5) / _SQRT2PI)


def _log_ndtr64(x):
    xp = _xp(x)
    x = _f64(x)
    with np.errstate(all="ignore"):
        lo = x < -1.0
        t = xp.where(lo, x, -2.0)
        low = xp.log(_erfcx64(-t / _SQRT2) / 2.0) - t * t / 2.0
        h = xp.where(lo, 0.0, x)
        high = xp.log1p(-_erfc64(h / _SQRT2) / 2.0)
        return xp.where(lo, low, high)


class LogNdtr(_Unary):
    _half = False
    f = _k64(_log_ndtr64)
    grad = staticmethod(lambda x, y, gy: gy / (_SQRT2PI * E.exp(y + x * x * 0.5)))


def _ndtri64(p):
    return -_SQRT2 * _erfcinv(2.0 * _f64(p)) + 0.0  # ndtri(0.5) is +0.


class Ndtri(_Unary):
    _half = False
    f = _k64(_ndtri64)
    grad = staticmethod(lambda x, y, gy: gy * _SQRT2PI * E.exp(y * y * 0.5))


class Sinc(_Unary):
    @staticmethod
    def f(x):
        xp = _xp(x)
        if x.dtype == np.float16:  # PyTorch computes float16 in float32
            x = x.astype(np.float32)
        px = x * x.dtype.type(_PI)
        return xp.where(x == 0, x.dtype.type(1), xp.sin(px) / px)

    @staticmethod
    def grad(x, y, gy):
        px = x * _PI
        sq = x * x * _PI
        g = (px * E.cos(px) - E.sin(px)) / sq
        return E.where(sq == 0, 0.0, gy * g)  # PyTorch's mask: where x * x * pi underflows


class Entr(_Unary):
    @staticmethod
    def f(x):
        xp = _xp(x)
        y = xp.where(x > 0, -x * xp.log(xp.where(x > 0, x, 1)), -_INF)
        y = xp.where(x == 0, 0.0, y)
        return xp.where(xp.isnan(x), x, y).astype(x.dtype, copy=False)

    @staticmethod
    def grad(x, y, gy):
        return gy * -(E.log(x) + 1)


class Frac(_Unary):
    @staticmethod
    def forward(ctx, x):
        _float_only("frac", x)
        with np.errstate(invalid="ignore"):
            return x - _xp(x).trunc(x)

    @staticmethod
    def backward(ctx, gy):
        return gy


class Logit(Op):
    @staticmethod
    def forward(ctx, x, eps=None):
        x = _float(x)
        ctx.eps = eps
        if ctx.next_edges:
            ctx.save_for_backward(x)
        xp = _xp(x)
        z = x if eps is None else xp.clip(x, x.dtype.type(eps), x.dtype.type(1 - eps))
        with np.errstate(all="ignore"):
            return _back(xp.log(z / (1 - z)), x)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        eps = ctx.eps
        with np.errstate(all="ignore"):
            g = gy / (x * (1 - x))
            if eps is None:
                return E.where((x < 0) | (x > 1), _NAN, g)
            return E.where((x >= eps) & (x <= 1 - eps), g, 0.0)  # nan: 0, as PyTorch


class NanToNum(Op):
    @staticmethod
    def forward(ctx, x, nan=0.0, posinf=None, neginf=None):
        if x.dtype.kind not in "fcV":
            return x.copy()
        ctx.save_for_backward(x)
        xp = _xp(x)
        fi = np.finfo(x.dtype)
        with np.errstate(over="ignore"):
            return xp.nan_to_num(x, nan=nan, posinf=fi.max if posinf is None else posinf,
                                 neginf=fi.min if neginf is None else neginf)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * E.isfinite(x)


# ---- binary ops ---------------------------------------------------------------------------

class Copysign(BinaryOp):
    _float_result = True

    @staticmethod
    def forward(ctx, a, b):
        a, b = _float(a), _float(b)
        y = _xp(a, b).copysign(a, b)
        if ctx.next_edges:
            ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        # PyTorch's rule: result / self (0 where self is 0); none for the sign source
        a, b, y = ctx.saved_tensors
        ga = gb = None
        if _need(ctx, 0):
            with np.errstate(all="ignore"):
                ga = gy * E.where(a == 0, 0.0, y / E.where(a == 0, 1.0, a))
        if _need(ctx, 1):
            gb = gy * 0.0
        return ga, gb


class Logaddexp(BinaryOp):
    @staticmethod
    def forward(ctx, a, b):
        _float_only("logaddexp", a, b)
        xp = _xp(a, b)
        if ctx.next_edges:
            ctx.save_for_backward(a, b)
        with np.errstate(all="ignore"):  # PyTorch's formula
            m = xp.maximum(a, b)
            y = m + xp.log1p(xp.exp(-xp.abs(a - b)))
            return xp.where(xp.isinf(a) & (a == b), a, y)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        ga = gy / (1 + E.exp(b - a)) if _need(ctx, 0) else None
        gb = gy / (1 + E.exp(a - b)) if _need(ctx, 1) else None
        return ga, gb


class Logaddexp2(BinaryOp):
    @staticmethod
    def forward(ctx, a, b):
        _float_only("logaddexp2", a, b)
        xp = _xp(a, b)
        if ctx.next_edges:
            ctx.save_for_backward(a, b)
        with np.errstate(all="ignore"):  # PyTorch's formula
            m = xp.maximum(a, b)
            d = -xp.abs(a - b)
            y = m + xp.log1p(xp.exp2(d)) * d.dtype.type(1 / math.log(2.0)) if hasattr(
                d, "dtype") else m + xp.log1p(xp.exp2(d)) / math.log(2.0)
            return xp.where(xp.isinf(a) & (a == b), a, y)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        ga = gy / (1 + exp2(b - a)) if _need(ctx, 0) else None
        gb = gy / (1 + exp2(a - b)) if _need(ctx, 1) else None
        return ga, gb


class Hypot(BinaryOp):
    @staticmethod
    def forward(ctx, a, b):
        _float_only("hypot", a, b)
        y = _xp(a, b).hypot(a, b)
        if ctx.next_edges:
            ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        a, b, y = ctx.saved_tensors
        ga = gy * a / y if _need(ctx, 0) else None
        gb = gy * b / y if _need(ctx, 1) else None
        return ga, gb


class Xlogy(BinaryOp):
    """``x * log(y)``, 0 where x is 0 (unless y is nan)."""

    _float_result = True
    _log = "log"

    @classmethod
    def forward(cls, ctx, a, b):
        a, b = _float(a), _float(b)
        xp = _xp(a, b)
        if ctx.next_edges:
            ctx.save_for_backward(a, b)
        dt = a.dtype if hasattr(a, "dtype") else b.dtype
        with np.errstate(all="ignore"):
            y = a * getattr(xp, cls._log)(b)
            return xp.asarray(xp.where((a == 0) & ~xp.isnan(b), 0, y)).astype(dt, copy=False)

    @classmethod
    def backward(cls, ctx, gy):
        a, b = ctx.saved_tensors
        lim = 0.0 if cls._log == "log" else -1.0
        ga = gb = None
        with np.errstate(all="ignore"):
            if _need(ctx, 0):
                f = xlogy if cls._log == "log" else xlog1py
                ga = E.where((a == 0) & (b <= lim), 0.0, f(gy, b))
            if _need(ctx, 1):
                gb = gy * a / (b + 1.0 if cls._log == "log1p" else b)
        return ga, gb


class Xlog1py(Xlogy):
    _log = "log1p"


class Fmax(BinaryOp):
    _fn = "fmax"

    @classmethod
    def forward(cls, ctx, a, b):
        if ctx.next_edges:
            ctx.save_for_backward(a, b)
        return getattr(_xp(a, b), cls._fn)(a, b)

    @classmethod
    def backward(cls, ctx, gy):
        # PyTorch's rule: the gradient goes to the input chosen (ties and nan others: a)
        a, b = ctx.saved_tensors
        xp_isnan = E.isnan
        first = ((a >= b) if cls._fn == "fmax" else (a <= b)) | xp_isnan(b)
        ga = E.where(first, gy, 0.0) if _need(ctx, 0) else None
        gb = E.where(first, 0.0, gy) if _need(ctx, 1) else None
        return ga, gb


class Fmin(Fmax):
    _fn = "fmin"


class ClampMin(BinaryOp):
    _fn = "maximum"

    @classmethod
    def forward(cls, ctx, a, b):
        if ctx.next_edges:
            ctx.save_for_backward(a, b)
        xp = _xp(a, b)
        return getattr(xp, cls._fn)(a, b)

    @classmethod
    def backward(cls, ctx, gy):
        # PyTorch's clamp_min(Tensor) rule: self where self >= min, min where self < min
        a, b = ctx.saved_tensors
        lo = cls._fn == "maximum"
        ga = E.where((a >= b) if lo else (a <= b), gy, 0.0) if _need(ctx, 0) else None
        gb = E.where((a < b) if lo else (a > b), gy, 0.0) if _need(ctx, 1) else None
        return ga, gb  # (nan on either side: neither gets the gradient, as PyTorch)


class ClampMax(ClampMin):
    _fn = "minimum"


class Igamma(BinaryOp):
    _upper = False

    @classmethod
    def forward(cls, ctx, a, b):
        _float_only("igammac" if cls._upper else "igamma", a, b)
        if ctx.next_edges:
            ctx.save_for_backward(a, b)
        # PyTorch's underflow threshold of x^a e^-x / Gamma(a) is float32's in float32
        d = a.dtype if hasattr(a, "dtype") else b.dtype
        p, q = _igamma_parts(a, b, _MAXLOG if d == _F64 else 88.72283905206835)
        return _back(q if cls._upper else p, a if hasattr(a, "dtype") else b)

    @classmethod
    def backward(cls, ctx, gy):
        name = "igammac" if cls._upper else "igamma"
        if _need(ctx, 0):
            raise NotImplementedError(
                f"the derivative for '{name}' with respect to its first argument (self) is "
                "not implemented (as in PyTorch); detach() it")
        return None, cls.grad_other(ctx, gy)

    @classmethod
    def grad_other(cls, ctx, gy):
        """The gradient (or, in forward mode, the tangent) through ``other``."""
        a, b = ctx.saved_tensors
        with np.errstate(all="ignore"):
            g = gy * E.exp((a - 1) * E.log(b) - b - lgamma(a))
        return -g if cls._upper else g


class Igammac(Igamma):
    _upper = True


class Nextafter(BinaryOp):
    """PyTorch's gradients: the identity for ``input``, zero for ``other``."""

    @staticmethod
    def forward(ctx, a, b):
        _float_only("nextafter", a, b)
        if ctx.next_edges:
            ctx.save_for_backward(a, b)
        return _xp(a, b).nextafter(a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors  # PyTorch's: 0 where input == other (the result is other)
        return E.where(a == b, 0.0, gy), (gy * 0.0 if _need(ctx, 1) else None)


class Zeta(BinaryOp):
    _float_result = True

    @staticmethod
    def forward(ctx, a, b):
        a, b = _float(a), _float(b)
        _no_half("zeta", a, b)
        if ctx.next_edges:
            ctx.save_for_backward(a, b)
        return _back(_zeta(a, b), a if hasattr(a, "dtype") else b)

    @classmethod
    def backward(cls, ctx, gy):
        if _need(ctx, 0):
            raise NotImplementedError(
                "the derivative for 'special_zeta' with respect to its first argument (x) is "
                "not implemented (as in PyTorch); detach() it")
        return None, cls.grad_other(ctx, gy)

    @staticmethod
    def grad_other(ctx, gy):
        """The gradient (or, in forward mode, the tangent) through ``other`` (q)."""
        a, b = ctx.saved_tensors
        return gy * -a * special_zeta(a + 1.0, b)


def _nograd(op_name, fn):
    """A binary op without a gradient (nextafter, heaviside, gcd...): runs on arrays,
    returns a Tensor when a Tensor came in."""

    def wrapper(a, b):
        ad = a._data if isinstance(a, Tensor) else a
        bd = b._data if isinstance(b, Tensor) else b
        ad, bd, dt = E._promoted(op_name, ad, bd)
        E._check_broadcast(op_name, ad, bd)
        with np.errstate(all="ignore"):
            r = fn(ad, bd, dt)
        r = _xp(r).asarray(r)
        if r.dtype != dt and dt is not None:
            r = r.astype(dt)
        if not isinstance(a, Tensor) and not isinstance(b, Tensor):
            return r
        return _make(r)

    wrapper.__name__ = op_name
    return wrapper


def _heaviside(a, b, dt):
    xp = _xp(a, b)
    return xp.where(a == 0, b, (a > 0).astype(dt))


def _gcd(a, b, dt):
    """Euclid's algorithm on |a|, |b| with C remainders, as PyTorch (|min int| stays
    negative, so gcd(max int, min int) is -1 there too)."""
    _int_only("gcd", a, b)
    xp = _xp(a, b)
    a, b = xp.broadcast_arrays(xp.asarray(a, dtype=dt), xp.asarray(b, dtype=dt))
    a, b = xp.abs(a), xp.abs(b)
    while True:
        nz = a != 0
        if not nz.any():
            return b
        safe = xp.where(nz, a, 1)
        a, b = xp.where(nz, xp.fmod(b, safe), a), xp.where(nz, a, b)


def _lcm(a, b, dt):
    _int_only("lcm", a, b)
    xp = _xp(a, b)
    g = _gcd(a, b, dt)
    with np.errstate(all="ignore"):
        q = xp.where(g == 0, 0, a // xp.where(g == 0, 1, g))
        return xp.abs(q * b)


def _shift(left):
    def fn(a, b, dt):
        _int_only("lshift" if left else "rshift", a, b)
        xp = _xp(a, b)
        bits = dt.itemsize * 8
        a = xp.asarray(a, dtype=dt)
        b = xp.asarray(b, dtype=dt)
        bad = (b < 0) | (b >= bits)
        bs = xp.where(bad, 0, b).astype(dt)
        if left:
            return xp.where(bad, 0, xp.left_shift(a, bs)).astype(dt)
        return xp.where(bad, xp.right_shift(a, dt.type(bits - 1)) if dt.kind == "i" else 0,
                        xp.right_shift(a, bs)).astype(dt)

    return fn


# ---- wrappers -----------------------------------------------------------------------------

def _unary(op, name):
    def fn(x):
        if not hasattr(x, "dtype"):
            raise TypeError(f"{name}(): argument 'input' must be Tensor, not "
                            f"{type(x).__name__}")
        return op.apply(x)

    fn.__name__ = fn.__qualname__ = name
    return fn


def _u(op, name, inplace=True, numpy=(), domain=None, function=True, method=True,
       int_to_float=True, **kw):
    return _reg(_unary(op, name), name, family=_EW, op=op, inplace=inplace, numpy=numpy,
                domain=domain, function=function, method=method, int_to_float=int_to_float,
                **kw)


_POS = ((0.0, _INF),)
cosh = _u(Cosh, "cosh", numpy="cosh")
sinh = _u(Sinh, "sinh", numpy="sinh")
exp2 = _u(Exp2, "exp2", numpy="exp2")
deg2rad = _u(Deg2rad, "deg2rad", numpy=("deg2rad", "radians"))
rad2deg = _u(Rad2deg, "rad2deg", numpy=("rad2deg", "degrees"))
erfc = _u(Erfc, "erfc")
erfinv = _u(Erfinv, "erfinv", domain=((-1.0, 1.0),))
lgamma = _u(Lgamma, "lgamma", domain=_POS)
digamma = _u(Digamma, "digamma", domain=_POS)
i0 = _u(I0, "i0", numpy="i0")
sinc = _u(Sinc, "sinc", numpy="sinc")
frac = _u(Frac, "frac", int_to_float=False)

# torch.special only (no torch.<name>, no method): registered for the sweep and tools
special_erfcx = _u(Erfcx, "special_erfcx", inplace=False, function=False, method=False)
special_i0e = _u(I0e, "special_i0e", inplace=False, function=False, method=False)
special_i1 = _u(I1, "special_i1", inplace=False, function=False, method=False)
special_i1e = _u(I1e, "special_i1e", inplace=False, function=False, method=False)
special_ndtr = _u(Ndtr, "special_ndtr", inplace=False, function=False, method=False)
special_ndtri = _u(Ndtri, "special_ndtri", inplace=False, function=False, method=False,
                   domain=((0.0, 1.0),))
special_log_ndtr = _u(LogNdtr, "special_log_ndtr", inplace=False, function=False,
                      method=False)
special_entr = _u(Entr, "special_entr", inplace=False, function=False, method=False,
                  domain=_POS)


@register(family=_EW, op=E.Trunc, inplace=True)
def fix(x):
    """``trunc`` under NumPy's name (``torch.fix``)."""
    return E.trunc(x)


@register(family=_EW, op=E.Sign, inplace=True)
def sgn(x):
    """The sign of each element: ``x / |x|`` for a complex tensor (0 at 0; no gradient, as
    every complex value here), ``sign`` for a real one."""
    if isinstance(x, Tensor) and x.dtype.is_complex:
        a = x._data
        xp = _xp(a)
        m = xp.abs(a)
        with np.errstate(all="ignore"):
            return _make(xp.where(m == 0, 0, a / xp.where(m == 0, 1, m)).astype(a.dtype))
    return E.sign(x)


@register(family=_EW)
def positive(x):
    """``+x``: returns ``x`` itself (bool tensors are refused, as in PyTorch)."""
    if not hasattr(x, "dtype"):
        raise TypeError(f"positive(): argument 'input' must be Tensor, not {type(x).__name__}")
    if x.dtype == np.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return x


def _predicate(name, f):
    def fn(x):
        if not hasattr(x, "dtype"):
            raise TypeError(f"{name}(): argument 'input' must be Tensor, not "
                            f"{type(x).__name__}")
        d = x._data if isinstance(x, Tensor) else x
        r = _xp(d).asarray(f(_xp(d), d))
        return _make(r) if isinstance(x, Tensor) else r

    fn.__name__ = name
    return _reg(fn, name, family=_EW, differentiable=False)


def _signbit(xp, d):
    if d.dtype.kind in "fV":
        return xp.signbit(d)
    if d.dtype.kind == "i":
        return d < 0
    return xp.zeros(d.shape, dtype=bool)


signbit = _predicate("signbit", _signbit)
isposinf = _predicate("isposinf", lambda xp, d: (d == _INF) if d.dtype.kind in "fV" else
                      xp.zeros(d.shape, dtype=bool))
isneginf = _predicate("isneginf", lambda xp, d: (d == -_INF) if d.dtype.kind in "fV" else
                      xp.zeros(d.shape, dtype=bool))
isreal = _predicate("isreal", lambda xp, d: xp.ones(d.shape, dtype=bool))


@register(family=_EW, op=Polygamma, arity=1, int_to_float=True,
          method=lambda self, n: polygamma(n, self))
def polygamma(n, input):  # noqa: A002 - PyTorch's name
    """The n-th derivative of digamma at ``input`` (``torch.polygamma(n, input)``)."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"polygamma(): argument 'n' must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return Polygamma.apply(input, int(n))


@register(family=_EW, arity=1, int_to_float=True, inplace=True)
def mvlgamma(input, p):  # noqa: A002
    """The multivariate log-gamma function of dimension ``p``:
    ``sum_j lgamma(x - j / 2) + p (p - 1) / 4 log(pi)``."""
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    d = input._data if isinstance(input, Tensor) else input
    if d.dtype.kind == "b":
        raise RuntimeError("The input tensor may not be a boolean tensor.")
    if d.dtype.kind in "biu":
        input = E.cast(input, get_default_dtype())
        d = input._data if isinstance(input, Tensor) else input
    y = None
    for j in range(p):
        t = lgamma(input - j / 2.0 if j else input)
        y = t if y is None else y + t
    return y + p * (p - 1) / 4.0 * math.log(_PI)


def _logit_method(self, eps=None):
    return logit(self, eps)


@register(family=_EW, op=Logit, inplace=True, int_to_float=True, domain=((0.0, 1.0),))
def logit(input, eps=None):  # noqa: A002
    """``log(p / (1 - p))``; with ``eps`` the input is clamped to ``[eps, 1 - eps]``."""
    if not hasattr(input, "dtype"):
        raise TypeError(f"logit(): argument 'input' must be Tensor, not {type(input).__name__}")
    return Logit.apply(input, eps=eps) if eps is not None else Logit.apply(input)


@register(family=_EW, op=NanToNum, inplace=True)
def nan_to_num(input, nan=0.0, posinf=None, neginf=None):  # noqa: A002
    """nan, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (default: the
    dtype's largest and smallest finite values)."""
    if not hasattr(input, "dtype"):
        raise TypeError(f"nan_to_num(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    return NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf)


@register(family=_EW, op=Copysign, arity=2, inplace=True, numpy="copysign", int_to_float=True)
def copysign(input, other):  # noqa: A002
    """``|input|`` with the sign of ``other``."""
    return Copysign.apply(input, other)


@register(family=_EW, op=Logaddexp, arity=2, numpy="logaddexp")
def logaddexp(input, other):  # noqa: A002
    """``log(exp(input) + exp(other))`` without overflow."""
    return Logaddexp.apply(input, other)


@register(family=_EW, op=Logaddexp2, arity=2, numpy="logaddexp2")
def logaddexp2(input, other):  # noqa: A002
    """``log2(2**input + 2**other)`` without overflow."""
    return Logaddexp2.apply(input, other)


@register(family=_EW, op=Hypot, arity=2, inplace=True, numpy="hypot")
def hypot(input, other):  # noqa: A002
    """``sqrt(input**2 + other**2)`` without overflow."""
    return Hypot.apply(input, other)


@register(family=_EW, op=Xlogy, arity=2, inplace=True, int_to_float=True)
def xlogy(input, other):  # noqa: A002
    """``input * log(other)``, 0 where ``input`` is 0 (unless ``other`` is nan)."""
    return Xlogy.apply(input, other)


@register(family=_EW, op=Xlog1py, arity=2, int_to_float=True, function=False, method=False)
def special_xlog1py(input, other):  # noqa: A002
    """``input * log1p(other)``, 0 where ``input`` is 0 (unless ``other`` is nan)."""
    return Xlog1py.apply(input, other)


xlog1py = special_xlog1py


@register(family=_EW, op=Zeta, arity=2, int_to_float=True, function=False, method=False)
def special_zeta(input, other):  # noqa: A002
    """The Hurwitz zeta function ``sum_k (other + k) ** -input``."""
    return Zeta.apply(input, other)


@register(family=_EW, op=Fmax, arity=2, numpy="fmax")
def fmax(input, other):  # noqa: A002
    """Element-wise maximum that ignores nan (nan only where both are nan)."""
    return Fmax.apply(input, other)


@register(family=_EW, op=Fmin, arity=2, numpy="fmin")
def fmin(input, other):  # noqa: A002
    """Element-wise minimum that ignores nan (nan only where both are nan)."""
    return Fmin.apply(input, other)


@register(family=_EW, op=ClampMin, arity=2, inplace=True)
def clamp_min(input, min):  # noqa: A002
    """``clamp(input, min=min)``; ``min`` may be a tensor."""
    if isinstance(min, Tensor):
        return ClampMin.apply(input, min)
    if getattr(input, "dtype", None) == np.bool_ and isinstance(min, bool):
        raise NotImplementedError('"clamp_min_scalar_cpu" not implemented for \'Bool\'')
    return E.clamp(input, min=min)


@register(family=_EW, op=ClampMax, arity=2, inplace=True)
def clamp_max(input, max):  # noqa: A002
    """``clamp(input, max=max)``; ``max`` may be a tensor."""
    if isinstance(max, Tensor):
        return ClampMax.apply(input, max)
    if getattr(input, "dtype", None) == np.bool_ and isinstance(max, bool):
        raise NotImplementedError('"clamp_max_scalar_cpu" not implemented for \'Bool\'')
    return E.clamp(input, max=max)


@register(family=_EW, op=Igamma, arity=2, inplace=True)
def igamma(input, other):  # noqa: A002
    """The regularized lower incomplete gamma function P(input, other)."""
    return Igamma.apply(input, other)


@register(family=_EW, op=Igammac, arity=2, inplace=True)
def igammac(input, other):  # noqa: A002
    """The regularized upper incomplete gamma function Q(input, other)."""
    return Igammac.apply(input, other)




@register(family=_EW, op=Nextafter, arity=2, inplace=True, numpy="nextafter")
def nextafter(input, other):  # noqa: A002
    """The next float after ``input`` towards ``other``."""
    return Nextafter.apply(input, other)


gcd = _reg(_nograd("gcd", _gcd), "gcd", family=_EW, arity=2, inplace=True, numpy="gcd",
           differentiable=False)
lcm = _reg(_nograd("lcm", _lcm), "lcm", family=_EW, arity=2, inplace=True, numpy="lcm",
           differentiable=False)
bitwise_left_shift = _reg(_nograd("bitwise_left_shift", _shift(True)), "bitwise_left_shift",
                          family=_EW, arity=2, inplace=True, numpy="left_shift",
                          differentiable=False)
bitwise_right_shift = _reg(_nograd("bitwise_right_shift", _shift(False)),
                           "bitwise_right_shift", family=_EW, arity=2, inplace=True,
                           numpy="right_shift", differentiable=False)


@register(family=_EW, arity=2, inplace=True, numpy="heaviside", differentiable=False)
def heaviside(input, values):  # noqa: A002
    """0 where ``input < 0``, 1 where ``input > 0``, ``values`` where ``input == 0``."""
    di, dv = _dt(input), _dt(values)
    if di is None or dv is None:
        raise TypeError("heaviside(): arguments 'input' and 'values' must be Tensors")
    if di != dv:
        raise RuntimeError("heaviside is not yet implemented for tensors with different "
                           "dtypes.")
    return _nograd("heaviside", _heaviside)(input, values)


@register(family=_EW, arity=2, inplace=True, int_to_float=True)
def ldexp(input, other):  # noqa: A002
    """``input * 2 ** other`` (PyTorch's composite: an integer ``other`` gives an integer
    power of 2, 0 for negative exponents)."""
    d, di = _dt(other), _dt(input)
    if d is not None and d.kind == "b" and di is not None and di.kind in "fV":
        raise NotImplementedError('"ldexp_cpu_exp" not implemented for \'Bool\'')
    if d is not None and d.kind in "fV":  # 2 ** other in other's dtype, then the product
        return E.mul(input, exp2(other))
    if di is None or di.kind in "biu":
        input = E.cast(input, get_default_dtype())
    if d is None:
        return E.mul(input, 2.0 ** other)
    return Ldexp.apply(input, other)  # integer exponents: exact, as C's ldexp


@register(family=_EW, arity=2)
def float_power(input, exponent):  # noqa: A002
    """``input ** exponent`` computed in float64 (the result is always float64)."""
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError("float_power(): expected a Tensor argument")
    for v in (input, exponent):
        if not isinstance(v, (Tensor, int, float, np.number)):
            raise TypeError(f"float_power(): expected a Tensor or a number, got "
                            f"{type(v).__name__}")
    a = E.cast(input, _F64) if isinstance(input, Tensor) else float(input)
    b = E.cast(exponent, _F64) if isinstance(exponent, Tensor) else float(exponent)
    if not isinstance(a, Tensor):  # a Python base: a 0-d float64 tensor
        a = _make(np.asarray(a, dtype=np.float64)) if _xp(b._data) is np else a
    return E.pow(a, b)


@register(family=_EW, arity=3, inplace=True)
def lerp(input, end, weight):  # noqa: A002
    """``input + weight * (end - input)`` (PyTorch's two-sided formula for accuracy)."""
    for nm, t in (("end", end), ("weight", weight)):
        if isinstance(t, Tensor) and t.dtype != input.dtype:
            raise RuntimeError(f"expected dtype {input.dtype} for `{nm}` but got dtype "
                               f"{t.dtype}")
    _float_only("lerp_kernel_scalar" if not isinstance(weight, Tensor) else
                "lerp_kernel_tensor", input)
    if isinstance(weight, Tensor):
        return Lerp.apply(input, end, weight)
    return Lerp.apply(input, end, weight=weight)


@register(family=_EW, arity=2)
def rsub(input, other, alpha=1):  # noqa: A002
    """``other - alpha * input`` (``sub`` with the operands swapped)."""
    return E.sub(other, input, alpha=alpha)


class Frexp(Op):
    """The mantissa of ``frexp``; the exponent rides along as an attribute (no gradient)."""

    @staticmethod
    def forward(ctx, x):
        if x.dtype.kind not in "fV":
            raise RuntimeError("torch.frexp() only supports floating-point dtypes")
        m, e = _xp(x).frexp(x)
        ctx.e = e.astype(x.dtype)  # 2 ** e in the input's dtype, as PyTorch's backward
        ctx.exponent = e.astype(np.int32)
        return m

    @staticmethod
    def backward(ctx, gy):
        with np.errstate(all="ignore"):
            return gy / _xp(ctx.e).exp2(ctx.e)


class Lerp(Op):
    """``start + w (end - start)`` for |w| < 1/2, ``end - (end - start)(1 - w)`` otherwise
    (PyTorch's formula; float16/float32 in float64, as its fused multiply-add in opmath)."""

    @staticmethod
    def forward(ctx, a, b, w=None, weight=None):
        xp = _xp(a, b)
        dt = np.result_type(a, b)
        ins = (a, b) if w is None else (a, b, w)
        shape = np.broadcast_shapes(*(x.shape for x in ins))
        if any(x.shape != shape for x in ins):
            ctx._post = tuple((x.shape, x.dtype) for x in ins)
        ww = weight if w is None else w
        if ctx.next_edges:
            ctx.save_for_backward(a, b, w)
            ctx.weight = weight
        wide = np.complex128 if dt.kind == "c" else _F64  # (complex: keep the imaginary part)
        ca, cb, cw = (x.astype(wide) if dt != wide else x for x in (
            a, b, xp.asarray(ww, dtype=dt)))
        with np.errstate(all="ignore"):
            d = cb - ca
            y = xp.where(xp.abs(cw) < 0.5, ca + cw * d, cb - d * (1 - cw))
        return xp.broadcast_to(y, shape).astype(dt)

    @staticmethod
    def backward(ctx, gy):
        a, b, w = ctx.saved_tensors
        ww = ctx.weight if w is None else w
        ga = gy * (1 - ww) if _need(ctx, 0) else None
        gb = gy * ww if _need(ctx, 1) else None
        out = (ga, gb)
        if w is not None:
            out += ((gy * (b - a)) if _need(ctx, 2) else None,)
        return out


class Ldexp(Op):
    """``x * 2 ** e`` for an integer ``e`` by C's ldexp (no overflow of ``2 ** e`` first)."""

    @staticmethod
    def forward(ctx, x, e):
        xp = _xp(x, e)
        E._check_broadcast("ldexp", x, e)
        shape = np.broadcast_shapes(x.shape, e.shape)
        if x.shape != shape:
            ctx._post = ((x.shape, x.dtype), None)
        e = xp.clip(e.astype(np.int64), -4096, 4096).astype(np.int32)
        ctx.e = e
        with np.errstate(all="ignore"):
            return xp.broadcast_to(xp.ldexp(x, e), shape).astype(x.dtype)

    @staticmethod
    def backward(ctx, gy):
        with np.errstate(all="ignore"):
            p = _xp(ctx.e).ldexp(np.ones((), dtype=gy.dtype), ctx.e)
        return gy * p, None


# PyTorch's torch.return_types.frexp: a tuple with .mantissa and .exponent
_FrexpResult = structseq("frexp", ["mantissa", "exponent"])


@register(family=_EW, op=Frexp, numpy="frexp")
def frexp(input):  # noqa: A002
    """(mantissa, exponent) with ``input = mantissa * 2 ** exponent``, ``|mantissa|`` in
    [0.5, 1); the exponent is int32."""
    if not hasattr(input, "dtype"):
        raise TypeError(f"frexp(): argument 'input' must be Tensor, not {type(input).__name__}")
    x = input._data if isinstance(input, Tensor) else input
    if x.dtype.kind not in "fV":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    m = Frexp.apply(input)
    e = _xp(x).asarray(_xp(x).frexp(x)[1]).astype(np.int32)
    return _FrexpResult(m, _make(e) if isinstance(input, Tensor) else e)


# ---- in-place forms whose arguments differ from the function's -----------------------------

def _polygamma_(self, n):
    """In-place ``polygamma(n, self)``."""
    return apply_inplace(self, _polygamma_swapped, (n,), {})


def _polygamma_swapped(x, n):
    return polygamma(n, x)


_polygamma_swapped.__name__ = "polygamma_"


def _float_power_(self, exponent):
    """In-place ``float_power``: only a float64 tensor can hold the float64 result."""
    if self.dtype != _F64:
        raise RuntimeError(f"the base given to float_power_ has dtype {self.dtype} but the "
                           "operation's result requires dtype Double")
    return apply_inplace(self, float_power, (exponent,), {})


_reg(_polygamma_, "polygamma_", family="inplace", function=False, arity=1)
_reg(_float_power_, "float_power_", family="inplace", function=False, arity=2)
