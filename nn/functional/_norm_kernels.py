"""Compiled batch-norm kernels (numba, the ``fast`` extra; see ``autograd._numba``).

The NumPy reference (``Normalize`` in ``normalization.py``) makes about six passes over the
activations in forward and ten in backward, each a separate array. These kernels work on the
input viewed as (N, C, S) (S: every spatial position), channels c0..c1 per call, sample by
sample (the channels c0..c1 of one sample are one contiguous run; a channel at a time read
runs of S values a whole sample apart, 2-2.5x slower), with float64 sums of terms computed in
the input's dtype (as PyTorch's CPU kernels accumulate in double); the input is read three
times in forward and twice in backward. ``normalization.py`` gives each engine thread a range of
channels (the kernels release the GIL). They were ``parallel=True`` (numba's own pool): on 2
threads the cnn-bn step took 125 ms with them against 81 ms now (A/B in one process; equal
on 1 thread): numba's workers slowed the convolutions that followed each batch norm.

Forward (training statistics, biased variance; two-pass, so a large mean does not cancel)::

    mean = sum(x) / M;  var = sum((x - mean)^2) / M;  rstd = 1 / sqrt(var + eps)
    y = (x - mean) * (rstd * w) + b

Backward (``xhat = (x - mean) * rstd``; the classic formula of the reference, per channel)::

    gb = sum(gy);  gw = rstd * sum(gy * (x - mean))
    gx = w * rstd * (gy - gb / M - (x - mean) * rstd * gw / M)

``fastmath`` allows only reassociation and contraction (vectorised sums, FMAs); NaN and inf
keep IEEE semantics, as in the reference.
"""

from __future__ import annotations

import math

import numpy as np

from autograd._numba import kernel

_FM = {"reassoc", "contract"}


@kernel()
def _split(mean, c0, c1, hi, lo):  # pragma: no cover - compiled
    """The float64 means of channels c0..c1 as hi + lo in the arrays' dtype (hi = the mean
    rounded, lo = the rest rounded): ``(x - hi) - lo`` is x - mean to x's own precision,
    where ``x - float32(mean)`` lost up to half an ulp of the mean (3.8e-4 for a mean of 1e4,
    as much as the normalised value's error allows)."""
    for j in range(c1 - c0):
        hi[j] = mean[c0 + j]
        lo[j] = mean[c0 + j] - hi[j]


@kernel(fastmath=_FM)
def _row_sums(x, c0, c1, hi, lo, acc):  # pragma: no cover - compiled
    """acc[j] = sum over samples and positions of x[:, c0 + j] (``hi`` None), or of
    (x[:, c0 + j] - mean)^2, the mean given as hi[j] + lo[j] (``_split``): sample by
    sample, so that the channels c0..c1 of a sample are one contiguous run (a channel at a
    time read runs of S values a whole sample apart and ran 2-2.5x slower); float64 sums of
    element-wise terms in x's dtype."""
    n_, s_ = x.shape[0], x.shape[2]
    for j in range(c1 - c0):
        acc[j] = 0.0
    for n in range(n_):
        for j in range(c1 - c0):
            row = x[n, c0 + j]
            a = 0.0
            if hi is None:
                for i in range(s_):
                    a += row[i]
            else:
                h, lw = hi[j], lo[j]
                for i in range(s_):
                    d = (row[i] - h) - lw
                    a += d * d
            acc[j] += a


@kernel(fastmath=_FM)
def bn_forward(x, w, b, eps, y, mean, var, rstd, c0, c1):  # pragma: no cover - compiled
    n_, c_, s_ = x.shape
    m_ = n_ * s_
    k = c1 - c0
    acc = np.empty(k)
    hi = np.empty(k, x.dtype)  # the mean in x's dtype, as hi + lo (``_split``)
    lo = np.empty(k, x.dtype)
    _row_sums(x, c0, c1, None, None, acc)
    for j in range(k):
        mean[c0 + j] = acc[j] / m_
    _split(mean, c0, c1, hi, lo)
    _row_sums(x, c0, c1, hi, lo, acc)
    a = np.empty(k, x.dtype)
    for j in range(k):
        c = c0 + j
        v = acc[j] / m_
        r = 1.0 / math.sqrt(v + eps)
        var[c], rstd[c] = v, r
        a[j] = r * w[c]
    for n in range(n_):
        for j in range(k):
            row, out = x[n, c0 + j], y[n, c0 + j]
            aj, bj, h, lw = a[j], b[c0 + j], hi[j], lo[j]
            for i in range(s_):  # x - mean first: a large mean does not cancel
                out[i] = ((row[i] - h) - lw) * aj + bj


@kernel(fastmath=_FM)
def bn_backward(gy, x, mean, rstd, w, need_gx, gx, gw, gb, c0, c1):  # pragma: no cover
    n_, c_, s_ = x.shape
    m_ = n_ * s_
    k = c1 - c0
    sg = np.zeros(k)
    sgx = np.zeros(k)
    hi = np.empty(k, x.dtype)
    lo = np.empty(k, x.dtype)
    _split(mean, c0, c1, hi, lo)
    for n in range(n_):  # sample by sample: channels c0..c1 of a sample are contiguous
        if s_ == 1:  # (N, C) input: one loop over the channels (a row loop each was 1.4x)
            for j in range(k):
                g = gy[n, c0 + j, 0]
                sg[j] += g
                sgx[j] += g * ((x[n, c0 + j, 0] - hi[j]) - lo[j])
            continue
        for j in range(k):
            gr, xr, h, lw = gy[n, c0 + j], x[n, c0 + j], hi[j], lo[j]
            a1 = 0.0
            a2 = 0.0
            for i in range(s_):
                g = gr[i]
                a1 += g
                a2 += g * ((xr[i] - h) - lw)
            sg[j] += a1
            sgx[j] += a2
    a = np.empty(k, x.dtype)
    k1 = np.empty(k, x.dtype)
    k2 = np.empty(k, x.dtype)
    for j in range(k):
        c = c0 + j
        r = rstd[c]
        gb[c] = sg[j]
        gw[c] = sgx[j] * r
        a[j], k1[j], k2[j] = r * w[c], sg[j] / m_, sgx[j] * r * r / m_
    if need_gx:
        for n in range(n_):
            for j in range(k):
                gr, xr, out = gy[n, c0 + j], x[n, c0 + j], gx[n, c0 + j]
                aj, b1, b2, h, lw = a[j], k1[j], k2[j], hi[j], lo[j]
                for i in range(s_):
                    out[i] = (gr[i] - b1 - ((xr[i] - h) - lw) * b2) * aj
