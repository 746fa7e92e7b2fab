"""Direct 2-D convolution on the CPU for layers with few input channels (the first layer of a
network: one grey or three colour channels): compiled loops (numba, the ``fast`` extra; see
``autograd._numba``), no im2col and no GEMM.

Why: with C input channels and a kh x kw kernel, im2col + GEMM multiplies an (O, C*kh*kw)
weight matrix by a (C*kh*kw, pixels) column matrix. For C = 1 that GEMM is thin (K = 25 for a
5x5 kernel), so BLAS runs at a fraction of its speed while the columns, 25 copies of the
input, are written to memory and read back: LeNet's first layer, batch 64, spent ~1 ms in its
forward pass, twice PyTorch's time, and it did not get faster on two threads (its many small
NumPy calls per chunk of samples took turns at the GIL). Here each thread makes ONE call for
its range of samples, and the arithmetic runs where the data is, in the L1 cache.

"Wide rows". A sample's channel is zero-padded into a flat buffer of ``hp * wp`` values (the
padded image, row after row). Output pixel (r, q) is at flat position ``t = r * wp + q``, and
kernel tap (i, j) reads the input at ``t + i * wp + j``. Computing the output for every t in
``range(ho * wp)`` (``wp - wo`` extra "wide" columns per row, thrown away) makes each tap one
multiply-add over a contiguous run of values: a loop the compiler vectorises. Per kernel row
i, the kw taps are fused into one pass (``_row_fma``: kw products per stored value instead of
one, for kw in 3, 5, 7).

The three passes of ``y = conv2d(x, w) + b`` for one sample, in flat wide coordinates (x the
padded input, gy the output gradient with its wide columns set to 0)::

    forward         y[o, t]            = b[o] + sum_{c,i,j} w[o, c, i, j] x[c, t + i*wp + j]
    weight gradient dw[o, c, i, j]    += sum_t gy[o, t] x[c, t + i*wp + j]
    input gradient  dx[c, u + i*wp]   += sum_{o,j} w[o, c, i, j] gy[o, u - j]

The kernels cover stride 1 and dilation 1 without groups (``conv.py``'s ``_direct_ok``); the
NumPy reference is the im2col path of ``conv.py``, which runs without numba.
"""

from __future__ import annotations

import numpy as np

from autograd._numba import kernel

_FM = {"reassoc", "contract"}


@kernel(fastmath=_FM)
def _row_fma(acc, src, wrow):  # pragma: no cover - compiled
    """acc[t] += sum_j wrow[j] * src[t + j] for t in range(len(acc)) (src is at least
    len(acc) + len(wrow) - 1 long): one pass for the common widths, else one per tap."""
    k = len(wrow)
    if k == 5:
        w0, w1, w2, w3, w4 = wrow[0], wrow[1], wrow[2], wrow[3], wrow[4]
        for t in range(len(acc)):
            acc[t] += (w0 * src[t] + w1 * src[t + 1] + w2 * src[t + 2] + w3 * src[t + 3]
                       + w4 * src[t + 4])
    elif k == 3:
        w0, w1, w2 = wrow[0], wrow[1], wrow[2]
        for t in range(len(acc)):
            acc[t] += w0 * src[t] + w1 * src[t + 1] + w2 * src[t + 2]
    elif k == 7:
        w0, w1, w2, w3, w4, w5, w6 = (wrow[0], wrow[1], wrow[2], wrow[3], wrow[4], wrow[5],
                                      wrow[6])
        for t in range(len(acc)):
            acc[t] += (w0 * src[t] + w1 * src[t + 1] + w2 * src[t + 2] + w3 * src[t + 3]
                       + w4 * src[t + 4] + w5 * src[t + 5] + w6 * src[t + 6])
    else:
        for j in range(k):
            wj = wrow[j]
            s = src[j:j + len(acc)]
            for t in range(len(s)):
                acc[t] += wj * s[t]


@kernel(fastmath=_FM)
def _row_dots(g, src, out):  # pragma: no cover - compiled
    """out[j] += sum_t g[t] * src[t + j] for j in range(len(out)) (src is at least
    len(g) + len(out) - 1 long): the kw dot products in one pass for the common widths."""
    k = len(out)
    z = out.dtype.type(0)
    if k == 5:
        a0 = a1 = a2 = a3 = a4 = z
        for t in range(len(g)):
            gt = g[t]
            a0 += gt * src[t]
            a1 += gt * src[t + 1]
            a2 += gt * src[t + 2]
            a3 += gt * src[t + 3]
            a4 += gt * src[t + 4]
        out[0] += a0
        out[1] += a1
        out[2] += a2
        out[3] += a3
        out[4] += a4
    elif k == 3:
        a0 = a1 = a2 = z
        for t in range(len(g)):
            gt = g[t]
            a0 += gt * src[t]
            a1 += gt * src[t + 1]
            a2 += gt * src[t + 2]
        out[0] += a0
        out[1] += a1
        out[2] += a2
    else:
        for j in range(k):
            s = src[j:j + len(g)]
            a = z
            for t in range(len(s)):
                a += g[t] * s[t]
            out[j] += a


@kernel(fastmath=_FM)
def _pad_sample(x, n, pt, pl, wp, buf):  # pragma: no cover - compiled
    """Sample n of x (N, C, H, W) zero-padded into buf (C, F), each channel flat: rows of
    wp values, pt rows on top, pl columns on the left, zeros after the image up to F."""
    c_, h, w = x.shape[1], x.shape[2], x.shape[3]
    buf[:] = 0
    for c in range(c_):
        for r in range(h):
            at = (pt + r) * wp + pl
            buf[c, at:at + w] = x[n, c, r]


@kernel(fastmath=_FM)
def forward(x, w, b, pt, pl, hp, wp, out, s, e):  # pragma: no cover - compiled
    """out[s:e] = conv2d(x[s:e], w) + b, stride 1: x (N, C, H, W) padded by pt rows on top
    and pl columns on the left into rows of wp (hp rows, the bottom and right padding being
    what the output size asks for); w (O, C, kh, kw); b (O,) (zeros for no bias); out
    (N, O, ho, wo)."""
    o_, c_, kh, kw = w.shape
    ho, wo = out.shape[2], out.shape[3]
    run = ho * wp
    buf = np.empty((c_, hp * wp + kw), x.dtype)
    acc = np.empty(run, x.dtype)
    for n in range(s, e):
        _pad_sample(x, n, pt, pl, wp, buf)
        for o in range(o_):
            acc[:] = b[o]
            for c in range(c_):
                for i in range(kh):
                    _row_fma(acc, buf[c, i * wp:i * wp + run + kw - 1], w[o, c, i])
            for r in range(ho):
                out[n, o, r] = acc[r * wp:r * wp + wo]


@kernel(fastmath=_FM)
def weight_grad(x, gy, pt, pl, hp, wp, gw, s, e):  # pragma: no cover - compiled
    """gw (O, C, kh, kw) = the weight gradient of samples s..e (x, gy: (N, O, ho, wo)),
    accumulated in place (the caller zeroes it)."""
    o_, c_, kh, kw = gw.shape
    ho, wo = gy.shape[2], gy.shape[3]
    run = ho * wp
    buf = np.empty((c_, hp * wp + kw), x.dtype)
    g = np.zeros(run, gy.dtype)  # the wide columns stay 0
    for n in range(s, e):
        _pad_sample(x, n, pt, pl, wp, buf)
        for o in range(o_):
            for r in range(ho):
                g[r * wp:r * wp + wo] = gy[n, o, r]
            for c in range(c_):
                for i in range(kh):
                    _row_dots(g, buf[c, i * wp:i * wp + run + kw - 1], gw[o, c, i])


@kernel(fastmath=_FM)
def input_grad(gy, w, pt, pl, hp, wp, dx, s, e):  # pragma: no cover - compiled
    """dx[s:e] (N, C, H, W) = the input gradient of samples s..e, written (not added)."""
    o_, c_, kh, kw = w.shape
    ho, wo = gy.shape[2], gy.shape[3]
    h, wd = dx.shape[2], dx.shape[3]
    run = ho * wp
    g = np.zeros((o_, run + 2 * (kw - 1)), gy.dtype)  # kw - 1 zeros before and after
    acc = np.empty(hp * wp + kw, dx.dtype)
    wr = np.empty(kw, w.dtype)
    for n in range(s, e):
        for o in range(o_):
            for r in range(ho):
                at = kw - 1 + r * wp
                g[o, at:at + wo] = gy[n, o, r]
        for c in range(c_):
            acc[:] = 0
            for o in range(o_):
                for i in range(kh):
                    for j in range(kw):
                        wr[j] = w[o, c, i, kw - 1 - j]
                    _row_fma(acc[i * wp:i * wp + run + kw - 1], g[o], wr)
            for r in range(h):
                at = (pt + r) * wp + pl
                dx[n, c, r] = acc[at:at + wd]
