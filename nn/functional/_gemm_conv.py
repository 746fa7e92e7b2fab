"""im2col + GEMM convolution on the CPU as compiled kernels (numba, the ``fast`` extra) that
call NumPy's BLAS themselves (``autograd._blas``).

The three passes of ``y = conv2d(x, w) + b`` (any stride, dilation, padding and groups) are
the ones ``conv.py`` describes: columns of the input (C*kh*kw, pixels), one GEMM with the
weight, and the way back. Here each runs as one call per thread over a range of samples,
chunk by chunk (a chunk's columns take about ``conv._CHUNK_BYTES``, so that im2col, GEMM and
the scatter work in the core's cache), with the GEMM called from the compiled loop. The
Python form of the same chunks returned to the interpreter for every NumPy call and, on two
threads, took turns at the GIL (see ``autograd/_blas.py``).

Layouts. Within a chunk the work runs batch-innermost, as ``conv.py``'s ``_layout`` explains:
the chunk of x is first transposed to (C, H, W, m), so that im2col copies runs of Wo*m values
instead of Wo (LeNet's second layer: 10-value runs made im2col 7x slower than the GEMM it
feeds). For a chunk of m samples of P = Ho*Wo output pixels and K = C*kh*kw rows (rows
ordered (c, i, j) like the weight's flattened (C, kh, kw); per group g the rows
[g*Kg, (g+1)*Kg) and the output channels [g*Og, (g+1)*Og))::

    xt   (C, H, W, m)  = x[s+t, c, h, w]
    cols (K, P*m)   column (r*Wo + q)*m + t = xt[c, r*sh - pt + i*dh, q*sw - pl + j*dw, t]
    Y    (O, P*m)   = W (O, Kg) @ cols, per group      -> out[s+t, o, p] = Y[o, p*m + t] + b[o]
    G    (O, P*m)   = gy[s+t, o, p]                      (the output gradient, same layout)
    dW^T (Kg, Og)  += cols (Kg, P*m) @ G^T, per group    (transposed: see _weight_grad_raw)
    cols (Kg, P*m)  = W^T (Kg, Og) @ G, per group        -> col2im adds into xt -> dx[s+t]

Each thread writes only its own samples of ``out`` and ``dx``; the weight gradient is one
accumulator per thread, summed by the caller in range order (deterministic for a thread
count). The NumPy reference is ``conv.py``'s chunked path, which runs without numba.
"""

from __future__ import annotations

import numpy as np

from autograd._blas import NO_TRANS, ROW_MAJOR, TRANS
from autograd._numba import kernel


@kernel()
def _valid_q(off, sw, w, wo):  # pragma: no cover - compiled
    """[q0, q1): the output columns q whose input column q*sw + off lies in [0, w)."""
    q0 = min(wo, max(0, -(off // sw)))
    q1 = min(wo, (w - 1 - off) // sw + 1)
    if q1 < q0:
        q1 = q0
    return q0, q1


@kernel()
def _transfer(img, col, back):  # pragma: no cover - compiled
    """One run between the image and the columns (1-D views of equal length): ``col[:] =
    img`` (im2col), or ``img += col`` when ``back`` (col2im). An indexed loop over views,
    which the compiler vectorises (a slice assignment ran 3x slower on runs of 160 values)."""
    if back:
        for u in range(len(img)):
            img[u] += col[u]
    else:
        for u in range(len(img)):
            col[u] = img[u]


@kernel()
def _zero(dst):  # pragma: no cover - compiled
    for u in range(len(dst)):
        dst[u] = 0


@kernel()
def _to_chwn(x3, s, e, xt):  # pragma: no cover - compiled
    """xt[idx*m + t] = x3[s+t, idx]: samples s..e of x3 (N, C*H*W) batch-innermost."""
    m = e - s
    for t in range(m):
        for idx in range(x3.shape[1]):
            xt[idx * m + t] = x3[s + t, idx]


@kernel()
def _from_chwn(xt, s, e, x3):  # pragma: no cover - compiled
    """x3[s+t, idx] = xt[idx*m + t]: the inverse of ``_to_chwn``."""
    m = e - s
    for t in range(m):
        for idx in range(x3.shape[1]):
            x3[s + t, idx] = xt[idx * m + t]


@kernel()
def _columns(xt, cols, ld, m, c_in, h, w, kh, kw, sh, sw, dh, dw, pt, pl, ho, wo, back):
    """im2col: cols[row*ld + (r*wo + q)*m + t] = the columns of the batch-innermost chunk
    xt (layout above; ``ld`` the row stride of the flat ``cols``), zero where a window
    leaves the image. col2im when ``back``: the columns added back into xt (zeroed by the
    caller), the adjoint."""  # pragma: no cover - compiled
    run = wo * m
    for c in range(c_in):
        for i in range(kh):
            for j in range(kw):
                row = (c * kh + i) * kw + j
                off = j * dw - pl
                q0, q1 = _valid_q(off, sw, w, wo)
                for r in range(ho):
                    cb = row * ld + r * run
                    ih = r * sh - pt + i * dh
                    if ih < 0 or ih >= h:
                        if not back:
                            _zero(cols[cb:cb + run])
                        continue
                    xb = (c * h + ih) * w * m
                    if sw == 1:
                        _transfer(xt[xb + (q0 + off) * m:xb + (q1 + off) * m],
                                  cols[cb + q0 * m:cb + q1 * m], back)
                    else:
                        for q in range(q0, q1):
                            at = xb + (q * sw + off) * m
                            _transfer(xt[at:at + m], cols[cb + q * m:cb + (q + 1) * m], back)
                    if not back:
                        _zero(cols[cb:cb + q0 * m])
                        _zero(cols[cb + q1 * m:cb + run])


@kernel()
def _gather(gy3, s, e, g, ld):  # pragma: no cover - compiled
    """g[o*ld + p*m + t] = gy3[s+t, o, p] (flat g, row stride ``ld``)."""
    m = e - s
    for t in range(m):
        for o in range(gy3.shape[1]):
            for q in range(gy3.shape[2]):
                g[o * ld + q * m + t] = gy3[s + t, o, q]


@kernel()
def _scatter(y, ld, bias, has_bias, s, e, out3):  # pragma: no cover - compiled
    """out3[s+t, o, p] = y[o*ld + p*m + t] (+ bias[o]): the inverse of ``_gather``."""
    m = e - s
    for t in range(m):
        for o in range(out3.shape[1]):
            yo = o * ld + t
            if has_bias:
                b = bias[o]
                for q in range(out3.shape[2]):
                    out3[s + t, o, q] = y[yo + q * m] + b
            else:  # no + 0: a -0. stays -0., as PyTorch's
                for q in range(out3.shape[2]):
                    out3[s + t, o, q] = y[yo + q * m]


@kernel()
def _grouped_gemm(gemm, groups, ta, tb, m, n, k, a, sa, lda, b, sb, ldb, beta, c, sc,
                  ldc):  # pragma: no cover - compiled
    """c = op(a) @ op(b) + beta * c for each group g, the matrices starting g*sa, g*sb and
    g*sc elements into the flat arrays a, b and c (row-major CBLAS, ``ta``/``tb`` the
    transposes)."""
    isz = a.itemsize
    for gi in range(groups):
        gemm(ROW_MAJOR, ta, tb, m, n, k, 1.0, a.ctypes.data + gi * sa * isz, lda,
             b.ctypes.data + gi * sb * isz, ldb, beta, c.ctypes.data + gi * sc * isz, ldc)


@kernel()
def _buffers(like, image, rows, outs, chunk, ld):  # pragma: no cover - compiled
    """The flat buffers of a chunk loop, in ``like``'s dtype: the batch-innermost image of
    up to ``chunk`` samples (``image`` values each), the columns (``rows`` by ``ld``) and
    the GEMM's other side (``outs`` by ``ld``: the output, or the output gradient)."""
    return (np.empty(image * chunk, like.dtype), np.empty(rows * ld, like.dtype),
            np.empty(outs * ld, like.dtype))


@kernel()
def forward(gemm, x3, c_in, h, w, w2, bias, has_bias, kh, kw, sh, sw, dh, dw, pt, pl, groups,
            ho, wo, out3, s, e, chunk):  # pragma: no cover - compiled
    """out3[s:e] (N, O, Ho*Wo) = the convolution of samples s..e of x3 (N, C*H*W) with w2
    (O, Kg), plus the bias when ``has_bias``, ``chunk`` samples at a time."""
    o_n, kg = w2.shape
    og, p = o_n // groups, ho * wo
    ld = chunk * p
    xt, cols, y = _buffers(x3, x3.shape[1], kg * groups, o_n, chunk, ld)
    for s0 in range(s, e, chunk):
        e0 = min(e, s0 + chunk)
        m = e0 - s0
        _to_chwn(x3, s0, e0, xt)
        _columns(xt, cols, ld, m, c_in, h, w, kh, kw, sh, sw, dh, dw, pt, pl, ho, wo, False)
        _grouped_gemm(gemm, groups, NO_TRANS, NO_TRANS, og, p * m, kg, w2, og * kg, kg,
                      cols, kg * ld, ld, 0.0, y, og * ld, ld)
        _scatter(y, ld, bias, has_bias, s0, e0, out3)


@kernel()
def weight_grad(gemm, x3, c_in, h, w, gy3, kh, kw, sh, sw, dh, dw, pt, pl, groups, ho, wo,
                gwt, s, e, chunk):  # pragma: no cover - compiled
    """gwt (groups, Kg, Og) += the weight gradient (transposed per group) of samples s..e:
    the columns of x3 (N, C*H*W) times the output gradient gy3 (N, O, Ho*Wo), ``chunk``
    samples at a time."""
    kg, og = gwt.shape[1], gwt.shape[2]
    p = ho * wo
    ld = chunk * p
    xt, cols, g = _buffers(x3, x3.shape[1], kg * groups, og * groups, chunk, ld)
    for s0 in range(s, e, chunk):
        e0 = min(e, s0 + chunk)
        m = e0 - s0
        _to_chwn(x3, s0, e0, xt)
        _columns(xt, cols, ld, m, c_in, h, w, kh, kw, sh, sw, dh, dw, pt, pl, ho, wo, False)
        _gather(gy3, s0, e0, g, ld)
        _grouped_gemm(gemm, groups, NO_TRANS, TRANS, kg, og, p * m, cols, kg * ld, ld,
                      g, og * ld, ld, 1.0, gwt, kg * og, og)


@kernel()
def input_grad(gemm, gy3, w2, c_in, h, w, kh, kw, sh, sw, dh, dw, pt, pl, groups, ho, wo,
               dx3, s, e, chunk):  # pragma: no cover - compiled
    """dx3[s:e] (N, C*H*W) = the input gradient of samples s..e: the weight w2 (O, Kg)
    transposed times the output gradient gy3 (N, O, Ho*Wo), added back from columns into
    the image (col2im), ``chunk`` samples at a time."""
    o_n, kg = w2.shape
    og, p = o_n // groups, ho * wo
    ld = chunk * p
    xt, cols, g = _buffers(gy3, dx3.shape[1], kg * groups, o_n, chunk, ld)
    for s0 in range(s, e, chunk):
        e0 = min(e, s0 + chunk)
        m = e0 - s0
        _gather(gy3, s0, e0, g, ld)
        _grouped_gemm(gemm, groups, TRANS, NO_TRANS, kg, p * m, og, w2, og * kg, kg,
                      g, og * ld, ld, 0.0, cols, kg * ld, ld)
        _zero(xt[:dx3.shape[1] * m])
        _columns(xt, cols, ld, m, c_in, h, w, kh, kw, sh, sw, dh, dw, pt, pl, ho, wo, True)
        _from_chwn(xt, s0, e0, dx3)
