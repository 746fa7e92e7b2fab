"""CuPy fast path for the convolutions: col2im as one ``cupy.ElementwiseKernel``.

Why not cuDNN: CuPy 14 removed it (``cupy.cuda.cudnn`` and ``cupyx.cudnn`` no longer exist;
see CuPy's upgrade guide), so the convolutions stay im2col GEMMs on the GPU too. Of their
parts, im2col is already one kernel on CuPy (``copyto`` of an ``as_strided`` view) and the
GEMMs are cuBLAS; col2im is ``kh*kw`` strided adds into a zeroed, padded buffer plus a
cropping copy, i.e. ``kh*kw + 2`` launches over the whole image. The kernel below is one
launch that gathers: each output pixel sums, over the kernel taps that reach it, the columns
that hold it, with no atomics and no padded buffer.

The kernel is written in the small subset of CUDA C that the CuPy stand-in of the tests
(``tests/cupy_sim``) interprets (declarations, ``for``, ``if (...) continue;``, ``+=``,
integer arithmetic with C's division), so ``pytest --cuda-sim`` runs its logic.
"""

from __future__ import annotations

COL2IM_IN = ("raw T cols, int32 N, int32 C, int32 H, int32 W, int32 HO, int32 WO, "
             "int32 KH, int32 KW, int32 SH, int32 SW, int32 DH, int32 DW, int32 PT, int32 PL, "
             "int64 P, int64 SN, int64 SOH, int64 SOW")
COL2IM_OUT = "T img"
COL2IM_BODY = """
const int w = i % W;
const int h = (i / W) % H;
const int c = (i / (W * H)) % C;
const int n = i / (W * H * C);
T s = 0;
for (int ki = 0; ki < KH; ++ki) {
    const int hs = h + PT - ki * DH;
    if (hs < 0 || hs % SH != 0) continue;
    const int oh = hs / SH;
    if (oh >= HO) continue;
    for (int kj = 0; kj < KW; ++kj) {
        const int ws = w + PL - kj * DW;
        if (ws < 0 || ws % SW != 0) continue;
        const int ow = ws / SW;
        if (ow >= WO) continue;
        const long long k = ((c * KH + ki) * KW + kj) * P + n * SN + oh * SOH + ow * SOW;
        s += cols[k];
    }
}
img = s;
"""

_built: dict = {}  # (name, id(cupy module)) -> kernel


def _kernel(cp):
    key = ("col2im", id(cp))
    k = _built.get(key)
    if k is None:
        k = _built[key] = cp.ElementwiseKernel(COL2IM_IN, COL2IM_OUT, COL2IM_BODY,
                                               name="autograd_col2im")
    return k


def usable(cp, dtype) -> bool:
    """Whether the kernel serves arrays of ``dtype`` on the CuPy module ``cp`` (float32 and
    float64; other dtypes keep the strided adds)."""
    return getattr(cp, "ElementwiseKernel", None) is not None and dtype.char in "fd"


def col2im(cp, cols, out, g, ho: int, wo: int, chwn: bool):
    """Sum the columns ``cols`` ((C*kh*kw, P), P ordered (ho, wo, n) when ``chwn`` else
    (n, ho, wo); see ``conv._im2col``) into ``out``, a C-contiguous (N, C, H, W) array of the
    columns' dtype; returns ``out``. ``g`` is the ``ConvGeom``."""
    n, c, h, w = out.shape
    cols = cp.ascontiguousarray(cols)
    p = cols.shape[1]
    if chwn:
        sn, soh, sow = 1, wo * n, n
    else:
        sn, soh, sow = ho * wo, wo, 1
    _kernel(cp)(cols, n, c, h, w, ho, wo, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl,
                p, sn, soh, sow, out)
    return out
