"""Compiled optimizer updates (numba, the ``fast`` extra; see ``autograd._numba``): Adam/AdamW
and SGD with momentum.

The NumPy update in ``adam.py`` makes about ten passes over each parameter's arrays (the
two moment updates, the square root, the bias correction, the division, the step), each a
separate temporary; SGD with momentum three. Each kernel here is one pass over flat
C-contiguous arrays (a slice of them, so large parameters can be spread over the engine's
threads). ``adam_step`` evaluates the same
formulas in the same order, in the arrays' dtype (every scalar is cast to it first, as
NumPy casts a Python float next to a float32 array) and without ``fastmath`` (no fused
multiply-adds), so it gives the NumPy update's numbers bit for bit. ``error_model="numpy"``:
a division by zero gives inf or nan as in NumPy, and without Python's per-element
zero check the loop vectorises (6x faster than NumPy on 800k float32 parameters, against
1.6x slower with the check)::

    g = -g if maximize;  g = g + wd * p (L2 decay)  or  p = p * decay (AdamW)
    m = m + (1 - beta1) * (g - m)
    v = v * beta2 + (1 - beta2) * (g * g)
    vmax = max(vmax, v) (AMSGrad);  denom = sqrt(v or vmax) / bc2 + eps
    p = p + (-step_size) * (m / denom)
"""

from __future__ import annotations

import math

import numpy as np

from autograd._numba import kernel
from autograd.parallel import KERNEL_MIN, flat_ranges, parallel_slices


def compiled(kern, arrays):
    """``kern``'s compiled form when every array is a C-contiguous NumPy array of the first
    one's dtype, float32 or float64, and numba is on; else None (the NumPy update runs)."""
    dt = arrays[0].dtype
    if dt not in (np.float32, np.float64):
        return None
    for a in arrays:
        if type(a) is not np.ndarray or a.dtype != dt or not a.flags.c_contiguous:
            return None
    return kern.get()


def over_slices(fn, size: int) -> None:
    """``fn(a, b)`` over [0, size): a slice per engine thread for very large parameters."""
    ranges = flat_ranges(size, KERNEL_MIN)
    if ranges is None:
        fn(0, size)
    else:
        parallel_slices(fn, ranges)


@kernel(error_model="numpy")
def adam_step(p, g, m, v, vmax, amsgrad, maximize, wd, decay, omb1, b2, omb2, neg_step,
              bc2, eps):  # pragma: no cover - compiled
    """One Adam update of the flat arrays (``vmax`` unused unless ``amsgrad``; ``wd`` is
    the L2 coefficient, 0 for AdamW, whose ``decay`` = 1 - lr * weight_decay)."""
    t = p.dtype.type
    wd_, decay_, omb1_, b2_, omb2_ = t(wd), t(decay), t(omb1), t(b2), t(omb2)
    neg_, bc2_, eps_ = t(neg_step), t(bc2), t(eps)
    for i in range(p.shape[0]):
        gi = -g[i] if maximize else g[i]
        pi = p[i]
        if wd != 0.0:
            gi = gi + wd_ * pi
        if decay != 1.0:
            pi = pi * decay_
        mi = m[i] + omb1_ * (gi - m[i])
        vi = v[i] * b2_ + omb2_ * (gi * gi)
        m[i] = mi
        v[i] = vi
        if amsgrad:
            vi = max(vmax[i], vi)
            vmax[i] = vi
        denom = t(math.sqrt(vi)) / bc2_ + eps_
        p[i] = pi + neg_ * (mi / denom)


@kernel(error_model="numpy")
def sgd_step(p, g, buf, maximize, wd, momentum, dampening, nesterov, lr):  # pragma: no cover
    """One SGD update with an existing momentum buffer (``sgd`` in ``sgd.py``, the same
    order and dtype)::

        g = -g if maximize;  g = g + wd * p
        buf = buf * momentum + g  (or + (1 - dampening) * g)
        p = p - lr * (g + momentum * buf if nesterov else buf)
    """
    t = p.dtype.type
    wd_, mom_, omd_, lr_ = t(wd), t(momentum), t(1 - dampening), t(lr)
    for i in range(p.shape[0]):
        gi = -g[i] if maximize else g[i]
        if wd != 0.0:
            gi = gi + wd_ * p[i]
        b = buf[i] * mom_
        b = b + omd_ * gi if dampening != 0.0 else b + gi
        buf[i] = b
        d = gi + mom_ * b if nesterov else b
        p[i] = p[i] - lr_ * d
