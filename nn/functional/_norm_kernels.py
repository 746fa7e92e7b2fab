"""Compiled batch-norm kernels (numba, the ``fast`` extra; see ``autograd._numba``).

The NumPy reference (``Normalize`` in ``normalization.py``) makes about six passes over the
activations in forward and ten in backward, each a separate array. These kernels work on the
input viewed as (N, C, S) (S: every spatial position), channels c0..c1 per call, with float64
accumulators; a channel's N x S values are read three times in forward and twice in backward,
the later passes from cache. ``normalization.py`` gives each engine thread a range of
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

from autograd._numba import kernel

_FM = {"reassoc", "contract"}


@kernel(fastmath=_FM)
def bn_forward(x, w, b, eps, y, mean, var, rstd, c0, c1):  # pragma: no cover - compiled
    n_, c_, s_ = x.shape
    m_ = n_ * s_
    for c in range(c0, c1):
        s = 0.0
        for n in range(n_):
            for i in range(s_):
                s += x[n, c, i]
        mu = s / m_
        q = 0.0
        for n in range(n_):
            for i in range(s_):
                d = x[n, c, i] - mu
                q += d * d
        v = q / m_
        r = 1.0 / math.sqrt(v + eps)
        mean[c], var[c], rstd[c] = mu, v, r
        a, sh = r * w[c], b[c]
        for n in range(n_):
            for i in range(s_):
                y[n, c, i] = (x[n, c, i] - mu) * a + sh


@kernel(fastmath=_FM)
def bn_backward(gy, x, mean, rstd, w, need_gx, gx, gw, gb, c0, c1):  # pragma: no cover
    n_, c_, s_ = x.shape
    m_ = n_ * s_
    for c in range(c0, c1):
        mu = mean[c]
        sg = 0.0
        sgx = 0.0
        for n in range(n_):
            for i in range(s_):
                g = gy[n, c, i]
                sg += g
                sgx += g * (x[n, c, i] - mu)
        r = rstd[c]
        gb[c] = sg
        gw[c] = sgx * r
        if need_gx:
            a = r * w[c]
            k1 = sg / m_
            k2 = sgx * r * r / m_
            for n in range(n_):
                for i in range(s_):
                    gx[n, c, i] = (gy[n, c, i] - k1 - (x[n, c, i] - mu) * k2) * a
