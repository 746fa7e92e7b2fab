"""Fused element-wise kernels for CuPy: one GPU kernel (``cupy.fuse``) instead of a chain of
full-size temporaries, for the hot element-wise tails of training: the Adam/AdamW update,
the softmax-cross-entropy gradient, the normalisation (BatchNorm/LayerNorm) affine forward
and its input gradient, and the SiLU/GELU backward.

Each kernel is written once, in Python with ufuncs, operators and scalars only (what
``cupy.fuse`` compiles); it is built per CuPy module on first use and cached. NumPy callers
keep their own code (these are GPU paths): the callers check ``xp is not np`` first. The
tests' CuPy stand-in runs the same Python under ``cupy.fuse``'s restrictions (no indexing, no
host copies, no non-ufunc calls), so the logic is tested on the CPU against the NumPy path.
"""

from __future__ import annotations

import math

from .backend import get_array_module

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_C = 0.044715


def _adam(cp):
    def adam(p, g, m, v, beta1, beta2, step_size, bc2_sqrt, eps, decay, l2):
        p = p * decay  # AdamW's decoupled decay (1.0 for Adam)
        g = g + l2 * p  # Adam's L2 weight decay (0.0 for AdamW)
        m = m + (1 - beta1) * (g - m)
        v = v * beta2 + (1 - beta2) * (g * g)
        p = p - step_size * (m / (cp.sqrt(v) / bc2_sqrt + eps))
        return p, m, v

    return adam


def _xent_grad(cp):
    def xent_grad(logp, cols, target, scale):
        return (cp.exp(logp) - (cols == target)) * scale

    return xent_grad


def _norm_affine(cp):
    def norm_affine(x, mean, rstd, weight, bias):
        return (x - mean) * rstd * weight + bias

    return norm_affine


def _norm_grad(cp):
    def norm_grad(g, xhat, rstd, mean_g, mean_gx):
        return (g - mean_g - xhat * mean_gx) * rstd

    return norm_grad


def _silu_grad(cp):
    def silu_grad(gy, x):
        s = 1 / (1 + cp.exp(-x))
        return gy * s * (x * (1 - s) + 1)

    return silu_grad


def _gelu_tanh_grad(cp):
    def gelu_tanh_grad(gy, x):
        t = cp.tanh((x + x * x * x * _GELU_C) * _SQRT_2_OVER_PI)
        return gy * ((t + 1) * 0.5 + x * 0.5 * (1 - t * t) * _SQRT_2_OVER_PI
                     * (x * x * (3 * _GELU_C) + 1))

    return gelu_tanh_grad


def _gelu_grad(cp):
    def gelu_grad(gy, x, cdf):
        return gy * (cdf + x * cp.exp(x * x * -0.5) * _INV_SQRT_2PI)

    return gelu_grad


KERNELS = {f.__name__[1:]: f for f in (_adam, _xent_grad, _norm_affine, _norm_grad,
                                        _silu_grad, _gelu_tanh_grad, _gelu_grad)}
_built: dict = {}


def kernel(name: str, cp):
    """The fused kernel ``name`` for the CuPy module ``cp`` (built once)."""
    key = (name, id(cp))
    f = _built.get(key)
    if f is None:
        f = _built[key] = cp.fuse(kernel_name=name)(KERNELS[name](cp))
    return f


def adam_update(p, g, m, v, beta1, beta2, step_size, bc2_sqrt, eps, decay=1.0, l2=0.0):
    """One Adam/AdamW step, in place on ``p``, ``m``, ``v`` (CuPy arrays)."""
    cp = get_array_module(p)
    pn, mn, vn = kernel("adam", cp)(p, g, m, v, float(beta1), float(beta2), float(step_size),
                                    float(bc2_sqrt), float(eps), float(decay), float(l2))
    p[...] = pn
    m[...] = mn
    v[...] = vn


def xent_grad(logp, cols, target, scale):
    """``(softmax - onehot(target)) * scale``: the cross-entropy gradient (``cols`` the
    class indices as a (1, C) row, ``target`` a (N, 1) column)."""
    return kernel("xent_grad", get_array_module(logp))(logp, cols, target, scale)


def norm_affine(x, mean, rstd, weight, bias):
    return kernel("norm_affine", get_array_module(x))(x, mean, rstd, weight, bias)


def norm_grad(g, xhat, rstd, mean_g, mean_gx):
    return kernel("norm_grad", get_array_module(g))(g, xhat, rstd, mean_g, mean_gx)


def silu_grad(gy, x):
    return kernel("silu_grad", get_array_module(x))(gy, x)


def gelu_tanh_grad(gy, x):
    return kernel("gelu_tanh_grad", get_array_module(x))(gy, x)


def gelu_grad(gy, x, cdf):
    return kernel("gelu_grad", get_array_module(x))(gy, x, cdf)
