"""Compiled cross-entropy kernels (numba, the ``fast`` extra; see ``autograd._numba``).

Why: ``cross_entropy`` of a (batch, classes) input is ~15 NumPy calls forward and ~5
backward on small arrays (a batch of 64 by 10 classes: 29 us forward, 24 us backward, most
of it per-call overhead; a step of the MLP benchmark takes ~1 ms). For the common case (a
2-D float32/float64 input, class-index targets, no class weights, no label smoothing) the
forward is two kernels around NumPy's SIMD ``exp`` and the backward one kernel after it:

- ``xent_shift(x, z)``: z = x - max(x) per row (a NaN in a row makes the row's max NaN, as
  ``np.max``).
- ``xent_finish(z, e, t, ignore_index, res)`` with e = exp(z): per row lse = log(sum(e))
  (the sum in float64), z becomes log_softmax = z - lse in place; res[0] = the sum of
  -z[i, t[i]] over the rows whose target is not ``ignore_index`` and res[1] = their count
  (the caller's mean or sum reduction). A target outside [0, C)
  that is not ``ignore_index`` stops the kernel: it returns that row's index (else -1), and
  the caller raises PyTorch's IndexError.
- ``xent_grad(p, t, ignore_index, scale, g)`` with p = exp(logp): g = (p - onehot(t)) * scale,
  rows of ignored targets +0 (g may be p itself).

The NumPy reference is ``CrossEntropy`` in ``loss.py``, which runs every other case (class
weights, label smoothing, more than two dims, CuPy, create_graph) and, without numba or with
the kernels switched off, this one too; the tests compare the two.
"""

from __future__ import annotations

import math

from autograd._numba import kernel

_FM = {"contract"}


@kernel(fastmath=_FM, error_model="numpy")
def xent_shift(x, z):  # pragma: no cover - compiled
    n, c = x.shape
    for i in range(n):
        row, out = x[i], z[i]
        m = row[0]
        for j in range(1, c):
            v = row[j]
            if v > m or v != v:  # a NaN wins, as in np.max
                m = v
        for j in range(c):
            out[j] = row[j] - m


@kernel(fastmath=_FM, error_model="numpy")
def xent_finish(z, e, t, ignore_index, res):  # pragma: no cover - compiled
    """res[0] = sum of the NLL over counted rows, res[1] = their count; returns -1, or the
    first row whose target is out of range."""
    n, c = z.shape
    total = 0.0
    count = 0
    for i in range(n):
        s = 0.0
        er = e[i]
        for j in range(c):
            s += er[j]
        lse = z.dtype.type(math.log(s))
        zr = z[i]
        for j in range(c):
            zr[j] = zr[j] - lse
        k = t[i]
        if k == ignore_index:
            continue
        if k < 0 or k >= c:
            return i
        total -= zr[k]
        count += 1
    res[0] = total
    res[1] = count
    return -1


@kernel(fastmath=_FM, error_model="numpy")
def xent_grad(p, t, ignore_index, scale, g):  # pragma: no cover - compiled
    n, c = p.shape
    zero = p.dtype.type(0)
    for i in range(n):
        pr, gr = p[i], g[i]
        k = t[i]
        if k == ignore_index:
            for j in range(c):
                gr[j] = zero
            continue
        pk = pr[k]  # read first: g may be p itself
        for j in range(c):
            gr[j] = pr[j] * scale
        gr[k] = (pk - 1) * scale
