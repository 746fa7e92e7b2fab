"""The adjoint of im2col on the CPU for batch-innermost columns, compiled (numba, the ``fast``
extra; see ``autograd._numba``).

``conv.py``'s NumPy ``_col2im`` sums the columns back with one strided add of the whole
tensor per kernel offset: for a 5x5 kernel, 25 read-modify-write passes over the input-sized
buffer, then a transposing copy to (N, C, H, W). LeNet's second layer, batch 64: 0.44-0.49 ms,
more than the GEMM that made the columns. Here each input pixel gathers its kernel offsets'
columns in one pass, one row of the image at a time in a small buffer, and writes the row
straight into the (N, C, H, W) result. Rows of the image are independent, so the caller
spreads ranges of them over the engine's threads.
"""

from __future__ import annotations

import numpy as np

from autograd._numba import kernel


@kernel()
def col2im_chwn(cols, sh, sw, dh, dw, pt, pl, out, a, b):  # pragma: no cover - compiled
    """out[n, c, y, x] = the sum of cols[c, i, j, r, q, n] over the kernel offsets (i, j)
    and output positions (r, q) that read input pixel (y, x): r*sh + i*dh = y + pt and
    q*sw + j*dw = x + pl. cols (C, kh, kw, ho, wo, N); out (N, C, H, W); the image rows
    c*H + y for a <= c*H + y < b."""
    c_, kh, kw, ho, wo, n_ = cols.shape
    h, w = out.shape[2], out.shape[3]
    row = np.empty((w, n_), out.dtype)
    for cy in range(a, b):
        c = cy // h
        y = cy % h
        row[:] = 0
        for i in range(kh):
            t = y + pt - i * dh
            if t < 0 or t % sh != 0 or t // sh >= ho:
                continue
            r = t // sh
            for j in range(kw):
                for x in range(w):
                    u = x + pl - j * dw
                    if u < 0 or u % sw != 0 or u // sw >= wo:
                        continue
                    src = cols[c, i, j, r, u // sw]
                    dst = row[x]
                    for k in range(len(dst)):
                        dst[k] += src[k]
        for k in range(n_):
            for x in range(w):
                out[k, c, y, x] = row[x, k]
