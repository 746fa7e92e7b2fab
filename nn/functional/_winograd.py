"""Winograd F(2x2, 3x3) convolution on the CPU: compiled transforms (numba, the ``fast``
extra; see ``autograd._numba``) around batched BLAS GEMMs.

Why: a 3x3 convolution by im2col + GEMM spends 9 multiply-adds per output pixel, input
channel and output channel, and copies each input value 9 times into the columns. Winograd's
minimal filtering algorithm computes a 2x2 output tile from a 4x4 input tile with 16
element-wise products instead of 36 (Lavin & Gray, "Fast Algorithms for Convolutional Neural
Networks", 2016). Over channels the 16 products become 16 GEMMs, so the GEMM work drops
2.25x; the transforms are a few additions per value and run in one compiled pass each.

For one tile (d: the 4x4 input tile at rows 2ty.., columns 2tx.. of the zero-padded input,
g: the 3x3 kernel, Y: the 2x2 output tile)::

    Y = A^T [ (G g G^T) (.) (B^T d B) ] A          ((.) element-wise)

    B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
    G   = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]
    A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]

and with channels, U = G g G^T (16, O, C) and V = B^T d B (16, C, tiles), the 16 products
summed over input channels are M = U @ V (16 GEMMs) and Y = A^T M A per tile. V and M are
stored transposed, (16, tiles, C) and (16, tiles, O), and the GEMM is M^T = V^T U^T: the
transforms then run channels-last, their loops unit-stride over the channels (the
channel-first walk, a few tiles per row, ran 3.5x slower for V and 1.7x for M), and this
GEMM is as fast as U @ V (U @ V^T, with BLAS's transpose flag, was 1.4-2x slower).

The three passes of a convolution, each by the same transforms:

* forward: ``input_transform`` -> GEMM -> ``output_transform``;
* input gradient: a convolution of the output gradient with the kernel flipped and its
  channels swapped, padded by 2 - p (for p <= 2): the forward's code;
* weight gradient: Y is linear in U, so dL/dU = sum over tiles of (A dY A^T) (.) V and
  dL/dg = G^T (dL/dU) G; ``grad_transform`` makes Z = A dY A^T (16, O, tiles) and the sum is
  16 GEMMs Z @ V^T.

The transforms are exact in binary floating point (additions and halvings), so float64
results agree with im2col to rounding; in float32 the error against a float64 reference is
lower than im2col's (fewer products summed). The NumPy reference is the im2col path in
``conv.py``: without numba, or with it switched off, ``conv.py`` runs that instead.

The kernels are serial: ``conv.py`` runs chunks of samples on the engine's threads, each
chunk's arrays sized to stay in cache. With NumPy BLAS's GEMM at hand (``autograd._blas``)
a thread's whole range of chunks is ONE call, ``forward`` or ``weight_grad``, the 16 GEMMs
called from the compiled loop (the cnn-bn model's passes, interleaved A/B: 3-6% faster on 1
and 2 threads than the Python chunk loop, which returned to the interpreter three times per
chunk); otherwise ``conv.py`` runs that Python loop around the transforms.
"""

from __future__ import annotations

import numpy as np

from autograd._blas import NO_TRANS, ROW_MAJOR
from autograd._numba import kernel

_FM = {"reassoc", "contract"}

_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])


def weight_transform(w, flip: bool = False):
    """U = G g G^T for every (out, in) channel pair of w (O, C, 3, 3): (16, O, C), in w's
    dtype. ``flip``: of the kernel the input gradient convolves with (w rotated by 180
    degrees, channels swapped): (16, C, O)."""
    if flip:
        w = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
    u = np.einsum("ai,ocij,bj->aboc", _G.astype(w.dtype), w, _G.astype(w.dtype), optimize=True)
    return np.ascontiguousarray(u.reshape(16, w.shape[0], w.shape[1]))


def weight_untransform(p, dtype):
    """dL/dg = G^T P G for P = dL/dU (16, O, C): the weight gradient (O, C, 3, 3)."""
    p4 = p.reshape(4, 4, p.shape[1], p.shape[2])
    g = _G.astype(dtype)
    return np.einsum("ai,aboc,bj->ocij", g, p4, g, optimize=True).astype(dtype, copy=False)


@kernel(fastmath=_FM)
def input_transform(xp, v):  # pragma: no cover - compiled
    """V = B^T d B of every 4x4 tile of xp (m, 2*th + 2, 2*tw + 2, C), the zero-padded input
    channels-last: v (16, m * th * tw, C), tiles ordered (sample, tile row, tile column).
    Channels innermost on both sides, so every step is one unit-stride loop over C (a
    channel-first walk, 7 tiles per row of a 14x14 image, ran 3.5x slower). Per tile: the 4
    columns' B^T d first (over rows), then (B^T d) B."""
    m_, hp, wp, c_ = xp.shape
    th = (hp - 2) // 2
    tw = (wp - 2) // 2
    t = np.empty((4, 4, c_), xp.dtype)  # t[i, j] = (B^T d)[i] of column j, every channel
    for n in range(m_):
        for ty in range(th):
            r = 2 * ty
            for tx in range(tw):
                q = 2 * tx
                for j in range(4):
                    d0, d1 = xp[n, r, q + j], xp[n, r + 1, q + j]
                    d2, d3 = xp[n, r + 2, q + j], xp[n, r + 3, q + j]
                    t0, t1, t2, t3 = t[0, j], t[1, j], t[2, j], t[3, j]
                    for c in range(c_):
                        t0[c] = d0[c] - d2[c]
                        t1[c] = d1[c] + d2[c]
                        t2[c] = d2[c] - d1[c]
                        t3[c] = d1[c] - d3[c]
                tile = (n * th + ty) * tw + tx
                for i in range(4):
                    a0, a1, a2, a3 = t[i, 0], t[i, 1], t[i, 2], t[i, 3]
                    v0, v1 = v[4 * i, tile], v[4 * i + 1, tile]
                    v2, v3 = v[4 * i + 2, tile], v[4 * i + 3, tile]
                    for c in range(c_):
                        v0[c] = a0[c] - a2[c]
                        v1[c] = a1[c] + a2[c]
                        v2[c] = a2[c] - a1[c]
                        v3[c] = a1[c] - a3[c]


@kernel(fastmath=_FM)
def padded_input_transform(x, s, pt, pl, buf, v):  # pragma: no cover - compiled
    """``input_transform`` of samples s..s+m of x (N, C, H, W), first copied channels-last
    and zero-padded by pt rows on top and pl columns on the left into buf (m, 2*th + 2,
    2*tw + 2, C) (rows and columns past what the tiles read dropped): one call for the
    copy and the transform (in NumPy, several calls, each a GIL hand-off when the engine's
    threads run chunks side by side)."""
    m_, hp, wp, c_ = buf.shape
    h, w = x.shape[2], x.shape[3]
    for n in range(m_):
        for r in range(hp):
            ih = r - pt
            for q in range(wp):
                iw = q - pl
                dst = buf[n, r, q]
                if ih < 0 or ih >= h or iw < 0 or iw >= w:
                    for c in range(c_):
                        dst[c] = 0
                else:
                    for c in range(c_):
                        dst[c] = x[s + n, c, ih, iw]
    input_transform(buf, v)


@kernel(fastmath=_FM)
def output_transform(mm, th, tw, bias, has_bias, out):  # pragma: no cover - compiled
    """Y = A^T M A (+ bias[o] when ``has_bias``) of every tile of mm (16, m * th * tw, O),
    M stored transposed (tiles by output channels: the GEMM V U^T is the fast one), into
    out (m, O, Ho, Wo), which may be smaller than 2*th x 2*tw by one row and column (odd
    sizes: cropped). Per tile, unit-stride loops over O (the channel-first walk over 7-tile
    rows ran 1.7x slower at 64 channels)."""
    m_, o_, ho, wo = out.shape
    s = np.empty((8, o_), mm.dtype)  # A^T M: rows 0 and 1 of the 2x4 intermediate
    zero = mm.dtype.type(0)
    for n in range(m_):
        for ty in range(th):
            for tx in range(tw):
                tile = (n * th + ty) * tw + tx
                for j in range(4):
                    m0, m1, m2, m3 = mm[j, tile], mm[4 + j, tile], mm[8 + j, tile], \
                        mm[12 + j, tile]
                    s0, s1 = s[j], s[4 + j]
                    for o in range(o_):
                        s0[o] = m0[o] + m1[o] + m2[o]
                        s1[o] = m1[o] - m2[o] - m3[o]
                x0 = 2 * tx
                for a in range(2):  # (A^T M) A
                    y = 2 * ty + a
                    if y >= ho:
                        break
                    k = 4 * a
                    for o in range(o_):
                        b = bias[o] if has_bias else zero
                        out[n, o, y, x0] = s[k, o] + s[k + 1, o] + s[k + 2, o] + b
                    if x0 + 1 < wo:
                        for o in range(o_):
                            b = bias[o] if has_bias else zero
                            out[n, o, y, x0 + 1] = s[k + 1, o] - s[k + 2, o] - s[k + 3, o] + b


@kernel(fastmath=_FM)
def grad_transform(gy, th, tw, z):  # pragma: no cover - compiled
    """Z = A dY A^T of every 2x2 tile of gy (m, O, Ho, Wo) (zero beyond Ho, Wo): z (16, O,
    m * th * tw). A = [[1, 0], [1, 1], [1, -1], [0, -1]]."""
    m_, o_, ho, wo = gy.shape
    zero = gy.dtype.type(0)
    for n in range(m_):
        for o in range(o_):
            for ty in range(th):
                y = 2 * ty
                base = (n * th + ty) * tw
                for tx in range(tw):
                    x = 2 * tx
                    g00 = gy[n, o, y, x] if x < wo else zero
                    g01 = gy[n, o, y, x + 1] if x + 1 < wo else zero
                    g10 = zero
                    g11 = zero
                    if y + 1 < ho:
                        g10 = gy[n, o, y + 1, x] if x < wo else zero
                        g11 = gy[n, o, y + 1, x + 1] if x + 1 < wo else zero
                    k = base + tx
                    for i in range(4):  # A dY: rows g0, g0 + g1, g0 - g1, -g1 (each a pair)
                        if i == 0:
                            r0, r1 = g00, g01
                        elif i == 1:
                            r0, r1 = g00 + g10, g01 + g11
                        elif i == 2:
                            r0, r1 = g00 - g10, g01 - g11
                        else:
                            r0, r1 = -g10, -g11
                        z[4 * i, o, k] = r0  # (A dY) A^T: r0, r0 + r1, r0 - r1, -r1
                        z[4 * i + 1, o, k] = r0 + r1
                        z[4 * i + 2, o, k] = r0 - r1
                        z[4 * i + 3, o, k] = -r1


# ---- whole chunk loops with the GEMMs inside (NumPy's BLAS through ``autograd._blas``) ----
# What ``conv.py``'s Python chunk loop does, as ONE call per thread over its range of
# samples: on two threads the Python loop's three calls per chunk took turns at the GIL.


@kernel()
def _gemms16(gemm, m, n, k, a, lda, sa, b, ldb, sb, beta, c, ldc,
             sc):  # pragma: no cover - compiled
    """The 16 products of the transformed tiles: c[i] = a[i] @ b[i] + beta * c[i], matrix
    i of a, b and c starting i*sa, i*sb and i*sc elements into the flat arrays (row-major
    CBLAS)."""
    isz = a.itemsize
    for i in range(16):
        gemm(ROW_MAJOR, NO_TRANS, NO_TRANS, m, n, k, 1.0, a.ctypes.data + i * sa * isz, lda,
             b.ctypes.data + i * sb * isz, ldb, beta, c.ctypes.data + i * sc * isz, ldc)


@kernel()
def _buffers(x, o_, th, tw, chunk):  # pragma: no cover - compiled
    """The flat buffers of a chunk loop over up to ``chunk`` samples of x (N, C, H, W):
    V^T (16 x tiles x C), the GEMM's other side (16 x tiles x O: M^T, or Z) and the
    channels-last padded input."""
    c_ = x.shape[1]
    k = chunk * th * tw
    return (np.empty(16 * c_ * k, x.dtype), np.empty(16 * o_ * k, x.dtype),
            np.empty(chunk * c_ * (2 * th + 2) * (2 * tw + 2), x.dtype))


@kernel()
def _chunk_tiles(x, s0, e0, pt, pl, th, tw, vf, pf):  # pragma: no cover - compiled
    """V^T (16, tiles, C) of samples s0..e0 of x into the front of the flat ``vf``
    (``padded_input_transform``, ``pf`` its padded input); returns the chunk's tile count."""
    c_, m = x.shape[1], e0 - s0
    k = m * th * tw
    hp, wp = 2 * th + 2, 2 * tw + 2
    padded_input_transform(x, s0, pt, pl, pf[:m * hp * wp * c_].reshape((m, hp, wp, c_)),
                           vf[:16 * k * c_].reshape((16, k, c_)))
    return k


@kernel(fastmath=_FM)
def forward(gemm, x, ut, bias, has_bias, pt, pl, th, tw, out, s, e,
            chunk):  # pragma: no cover - compiled
    """out[s:e] (N, O, Ho, Wo) = the 3x3 correlation of samples s..e of x (N, C, H, W),
    zero-padded by pt rows and pl columns, with the transformed kernel, given transposed as
    ut (16, C, O) (plus bias), ``chunk`` samples at a time: input transform, 16 GEMMs
    M^T = V^T U^T (tiles by channels on both sides), output transform."""
    c_, o_ = x.shape[1], ut.shape[2]
    vf, mf, pf = _buffers(x, o_, th, tw, chunk)
    for s0 in range(s, e, chunk):
        e0 = min(e, s0 + chunk)
        k = _chunk_tiles(x, s0, e0, pt, pl, th, tw, vf, pf)
        _gemms16(gemm, k, o_, c_, vf, c_, k * c_, ut, o_, c_ * o_, 0.0, mf, o_, k * o_)
        output_transform(mf[:16 * k * o_].reshape((16, k, o_)), th, tw, bias, has_bias,
                         out[s0:e0])


@kernel(fastmath=_FM)
def weight_grad(gemm, x, gy, pt, pl, th, tw, p, s, e, chunk):  # pragma: no cover - compiled
    """p (16, O, C) += dL/dU of samples s..e: per chunk of ``chunk`` samples, V = B^T d B of
    x's tiles (stored tiles by channels: V^T) and Z = A dY A^T of gy's (N, O, Ho, Wo), then
    the 16 GEMMs Z @ V^T."""
    c_, o_ = x.shape[1], gy.shape[1]
    vf, zf, pf = _buffers(x, o_, th, tw, chunk)
    for s0 in range(s, e, chunk):
        e0 = min(e, s0 + chunk)
        k = _chunk_tiles(x, s0, e0, pt, pl, th, tw, vf, pf)
        grad_transform(gy[s0:e0], th, tw, zf[:16 * o_ * k].reshape((16, o_, k)))
        _gemms16(gemm, o_, c_, k, zf, k, o_ * k, vf, c_, k * c_, 1.0, p, c_, o_ * c_)
