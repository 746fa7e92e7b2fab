"""Convolutions: ``conv1d``, ``conv2d``, ``conv3d``, ``conv_transpose1d``,
``conv_transpose2d``, ``conv_transpose3d``, ``conv_tbc``, and im2col / col2im as ops:
``unfold`` and ``fold``.

Memory layout (why the code transposes so much)
-----------------------------------------------
What these ops return is what it looks like: a C-contiguous (N, C, H, W) array, as in
PyTorch (``is_contiguous()`` is True, ``.numpy()`` is in C order, ``contiguous()`` is free).
Inside an op the work may run batch-innermost instead, on (C, H, W, N) arrays (``_layout``
decides per call): NumPy copies and adds through strided views run near memcpy speed only
when the innermost contiguous run is long; with N innermost every im2col copy and every
col2im add moves runs of ``Wo * N`` elements instead of ``Wo``, 3 to 6 times faster on narrow
images (LeNet's 10x10). The price is a transposing copy of the input on the way in and of the
output on the way out (and of the gradients in backward), which costs more than it saves on
wider images: from a width of 12 the ops work in C order.

Convolution = im2col + GEMM
---------------------------
Forward: the zero-padded input is viewed with ``as_strided`` as (C, kh, kw, Ho, Wo, N)
(batch-innermost) or (C, kh, kw, N, Ho, Wo) (C order) windows, copied once into columns
(C*kh*kw, Ho*Wo*N) or (C*kh*kw, N*Ho*Wo) and multiplied by the weight (O, C*kh*kw):
batch-innermost in one GEMM (batched over groups) followed by the transposing copy to
(N, O, Ho, Wo), fused with the bias add. Backward-weight is one GEMM of the output gradient
with the columns saved by forward; backward-input is a GEMM back to columns followed by
col2im: kh*kw strided adds of whole tensors (no ``np.add.at``). That is the whole-batch form
CuPy runs. On the CPU, in either layout, the same steps run on chunks of samples whose
columns fit in L2 (see ``_conv_chunked``), and the weight gradient recomputes the columns
instead of keeping them (whole-batch columns were most of LeNet's step memory: 7.3 of 12.5
MiB). Large temporaries come from
``autograd.backend.scratch_pool`` (``borrow_flat``: one power-of-two buffer shared by all the
chunks and layers); results (outputs, gradients) are plain arrays.

Three ops close under differentiation, as in PyTorch, so convolution is differentiable any
number of times (each backward is written with the other two):

* ``Conv2dOp(x, w)``: the convolution.
* ``ConvTranspose2dOp(g, w)``: its adjoint in x (the input gradient; ``conv_transpose2d``).
* ``ConvWeightOp(x, g)``: its adjoint in w (the weight gradient).

On the CPU, 3x3 stride-1 convolutions with 16+ channels in and out skip im2col: Winograd's
F(2x2, 3x3) (``_winograd``, compiled transforms around 16 batched GEMMs, 2.25x fewer
multiply-adds) runs all three passes when numba is available (``_wino_ok``). Stride-1
layers with few input channels (C*kh*kw <= 27: a network's first layer) skip it too: direct
compiled loops over "wide rows" (``_direct_conv``, ``_direct_ok``), a range of samples per
thread. The batch-innermost col2im is one compiled gather (``_col2im_kernel``).

1-D versions reshape to 2-D with a height of 1. 3-D convolutions run the same three-op
scheme on N-d geometry (``ConvNdOp``, ``ConvTransposeNdOp``, ``ConvWeightNdOp``): im2col of
an (N, C, D, H, W) input into (C*kd*kh*kw, N*Do*Ho*Wo) columns, grouped GEMMs, and col2im
as one strided add per kernel offset; the tuned 2-D paths above are left as they are.
"""

from __future__ import annotations

import contextlib
import itertools
import math
from typing import NamedTuple

import numpy as np

from autograd import _blas
from autograd.backend import get_array_module, scratch_empty, scratch_pool
from autograd.forward_ad import jvp_rule
from autograd.function import Op, named
from autograd.ops import reduction as R
from autograd.ops import shape as S
from autograd.parallel import (
    KERNEL_MIN,
    engine_threads,
    even_ranges,
    parallel_groups,
    parallel_slices,
)
from autograd.tensor import Tensor

from . import _col2im_kernel, _conv_kernels, _direct_conv, _gemm_conv, _winograd
from ._utils import _as_strided, _batch, _ntuple, _positive, _shape_str, attach_grad, torch_node


def _layout(n: int, wo: int) -> bool:
    """Whether an op works batch-innermost ((C, H, W, N), True) or in C order ((N, C, H, W),
    False) for n samples and output rows of wo: batch-innermost pays two transposing copies
    to make im2col/col2im move runs of ``wo * n`` instead of ``wo``; it wins for narrow
    images (LeNet's 10x10), C order (in L2-sized chunks on the CPU) for wider ones: measured
    at 14 wide (the cnn-bn model's second block) C order is as fast and keeps 90 MB less."""
    return wo < _CHWN_BELOW and n > 1


_CHWN_BELOW = 12  # a module constant: bench experiments may move it


def _padded(xp, x, pads, chwn: bool):
    """x (N, C, H, W) zero-padded, as a C-contiguous (C, Hp, Wp, N) array when ``chwn``,
    else (N, C, Hp, Wp); a recycled buffer with only the borders zeroed (x itself when no
    copy is needed)."""
    pt, pb, pl, pr = pads
    src = x.transpose(1, 2, 3, 0) if chwn else x
    if not (pt or pb or pl or pr) and src.flags.c_contiguous:
        return src
    lead = src.shape[:-3] if chwn else src.shape[:2]
    h, w = (src.shape[1], src.shape[2]) if chwn else (src.shape[2], src.shape[3])
    if chwn:
        buf = scratch_empty(xp, (src.shape[0], h + pt + pb, w + pl + pr, src.shape[3]),
                            x.dtype)
        hw = buf  # (C, Hp, Wp, N): rows and columns are dims 1 and 2
    else:
        buf = scratch_empty(xp, tuple(lead) + (h + pt + pb, w + pl + pr), x.dtype)
        hw = buf.transpose(1, 2, 3, 0)  # the same dims 1 and 2 as above
    if pt or pb or pl or pr:
        hw[:, :pt] = 0
        hw[:, pt + h:] = 0
        hw[:, pt:pt + h, :pl] = 0
        hw[:, pt:pt + h, pl + w:] = 0
    xp.copyto(hw[:, pt:pt + h, pl:pl + w], x.transpose(1, 2, 3, 0))
    return buf


def _nchw(xp, a, b=None):
    """A C-contiguous copy of the (N, C, H, W) array ``a`` (any layout), plus the
    per-channel bias ``b``, in a recycled buffer (a fresh multi-megabyte array page-faults in,
    as slow as the copy). Copy, then add in place: faster than one broadcasting add."""
    out = xp.empty(a.shape, a.dtype)
    xp.copyto(out, a)
    if b is not None:
        out += b.reshape(-1, 1, 1)
    return out


def _grad2(xp, gy, chwn: bool):
    """An output gradient (N, O, Ho, Wo) as the (O, Ho*Wo*N) (``chwn``) or (O, N*Ho*Wo)
    matrix the GEMMs take (free when ``_grad_in`` prepared it)."""
    t = gy.transpose(1, 2, 3, 0) if chwn else gy.transpose(1, 0, 2, 3)
    if not t.flags.c_contiguous:
        buf = scratch_empty(xp, t.shape, gy.dtype)
        xp.copyto(buf, t)
        t = buf
    return t.reshape(gy.shape[1], -1)


def _grad_in(xp, gy, chwn: bool):
    """gy (N, O, Ho, Wo) as a view of memory laid out the way ``_grad2`` wants it: copied
    once in a backward that runs both GEMMs."""
    g2 = _grad2(xp, gy, chwn)
    o = gy.shape[1]
    if chwn:
        return g2.reshape(o, gy.shape[2], gy.shape[3], gy.shape[0]).transpose(3, 0, 1, 2)
    return g2.reshape(o, gy.shape[0], gy.shape[2], gy.shape[3]).transpose(1, 0, 2, 3)


class ConvGeom(NamedTuple):
    """Geometry of a 2-D convolution: kernel, stride, dilation, padding (top, bottom, left,
    right) and groups."""

    kh: int
    kw: int
    sh: int
    sw: int
    dh: int
    dw: int
    pt: int
    pb: int
    pl: int
    pr: int
    groups: int

    @property
    def pads(self):
        return (self.pt, self.pb, self.pl, self.pr)

    def out_hw(self, h: int, w: int) -> tuple:
        ho = (h + self.pt + self.pb - self.dh * (self.kh - 1) - 1) // self.sh + 1
        wo = (w + self.pl + self.pr - self.dw * (self.kw - 1) - 1) // self.sw + 1
        return ho, wo


def _im2col(x, g: ConvGeom, out_hw, chwn: bool, flat=None):
    """Columns of x (N, C, H, W): (C*kh*kw, Ho*Wo*N) ordered (ho, wo, n) when ``chwn``, else
    (C*kh*kw, N*Ho*Wo) ordered (n, ho, wo); rows ordered (c, i, j) like the weight's
    flattened (C, kh, kw). ``out_hw`` may ask for fewer output rows/columns than fit (the
    adjoint of a transposed convolution whose output_padding >= stride). ``flat``: a 1-D
    buffer (``borrow_flat``) whose prefix takes the columns."""
    xp = get_array_module(x)
    n, c = x.shape[:2]
    ho, wo = out_hw or g.out_hw(x.shape[2], x.shape[3])
    buf = _padded(xp, x, g.pads, chwn)
    if chwn:
        s0, s1, s2, s3 = buf.strides  # c, h, w, n
        shape = (c, g.kh, g.kw, ho, wo, n)
        strides = (s0, s1 * g.dh, s2 * g.dw, s1 * g.sh, s2 * g.sw, s3)
    else:
        sn, s0, s1, s2 = buf.strides  # n, c, h, w
        shape = (c, g.kh, g.kw, n, ho, wo)
        strides = (s0, s1 * g.dh, s2 * g.dw, sn, s1 * g.sh, s2 * g.sw)
    v = _as_strided(xp, buf, shape, strides)
    if v.flags.c_contiguous:  # e.g. a 1x1 kernel with stride 1: the input itself
        cols = v
    else:
        cols = scratch_empty(xp, shape, buf.dtype) if flat is None else _prefix(flat, shape)
        xp.copyto(cols, v)
    return cols.reshape(c * g.kh * g.kw, -1)


def _col2im(cols, x_shape, g: ConvGeom, ho: int, wo: int, chwn: bool, out=None):
    """The adjoint of ``_im2col``: sum the columns back into a C-contiguous (N, C, H, W)
    array, with one strided add of the whole tensor per kernel offset (into a
    (C, H, W, N)-laid-out buffer and one transposing copy at the end when ``chwn``). With
    ``out`` (a C-contiguous array of that shape), written there and returned."""
    xp = get_array_module(cols)
    n, c, h, w = x_shape
    if (xp is np and chwn and cols.dtype in (np.float32, np.float64)
            and _col2im_kernel.col2im_chwn.get() is not None):
        return _col2im_compiled(cols.reshape(c, g.kh, g.kw, ho, wo, n), x_shape, g, out)
    if out is not None:
        np.copyto(out, _col2im(cols, x_shape, g, ho, wo, chwn))
        return out
    hp, wp = h + g.pt + g.pb, w + g.pl + g.pr
    he, we = g.sh * (ho - 1) + 1, g.sw * (wo - 1) + 1
    if chwn:
        c6 = cols.reshape(c, g.kh, g.kw, ho, wo, n)
        shape, to_nchw = (c, hp, wp, n), (3, 0, 1, 2)
    else:
        c6 = cols.reshape(c, g.kh, g.kw, n, ho, wo).transpose(0, 1, 2, 4, 5, 3)
        shape, to_nchw = (n, c, hp, wp), (0, 1, 2, 3)
    if g.kh == g.kw == 1 and g.sh == g.sw == 1 and (hp, wp) == (ho, wo):
        crop = c6[:, 0, 0, g.pt:g.pt + h, g.pl:g.pl + w]  # (C, H, W, N): no sums to do
        return _nchw(xp, crop.transpose(3, 0, 1, 2))
    if xp is not np and _conv_kernels.usable(xp, cols.dtype):  # CuPy: one gathering kernel
        return _conv_kernels.col2im(xp, cols, xp.empty(x_shape, cols.dtype), g,
                                    ho, wo, chwn)
    # batch-innermost, a scratch buffer copied out below; in C order it may be the result
    buf = scratch_empty(xp, shape, cols.dtype) if chwn else xp.empty(shape, cols.dtype)
    buf.fill(0)
    chwn_view = buf if chwn else buf.transpose(1, 2, 3, 0)  # (C, Hp, Wp, N) either way
    for i in range(g.kh):
        for j in range(g.kw):
            chwn_view[:, i * g.dh:i * g.dh + he:g.sh, j * g.dw:j * g.dw + we:g.sw] += c6[:, i, j]
    out = buf.transpose(to_nchw)[:, :, g.pt:g.pt + h, g.pl:g.pl + w]
    if not chwn and out.flags.c_contiguous:
        return out  # the buffer itself (no padding): free for reuse once unreferenced
    return _nchw(xp, out)


# the gather runs at memory speed: LeNet's second layer (960K values) was slower split over 2
# threads (0.20 vs 0.14 ms); split from KERNEL_MIN values, as the other one-pass kernels
_COL2IM_SPLIT = KERNEL_MIN


def _col2im_compiled(c6, x_shape, g: ConvGeom, out=None):
    """``_col2im`` of batch-innermost columns c6 (C, kh, kw, ho, wo, N) by the compiled
    gather (``_col2im_kernel``): one pass, rows of the image over the engine's threads;
    into ``out`` when given."""
    c, h = x_shape[1], x_shape[2]
    if out is None:
        out = np.empty(x_shape, c6.dtype)
    kern = _col2im_kernel.col2im_chwn.get()
    c6 = np.ascontiguousarray(c6)
    k = min(engine_threads(), c * h, max(1, c6.size // _COL2IM_SPLIT))
    parallel_slices(lambda a, b: kern(c6, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, out, a, b),
                    even_ranges(c * h, k))
    return out


# ---- C order on the CPU: a few samples at a time ------------------------------------------
# The columns of a whole batch are large (a 3x3 conv of 32 channels on 28x28 images, batch 64:
# 58 MB), so writing them and reading them back runs at memory speed. On the CPU the C-order
# path works on chunks of samples whose columns fit in the core's L2 cache (``_CHUNK_BYTES``):
# im2col, GEMM and col2im of a chunk touch cache, not memory. The weight gradient recomputes
# the columns chunk by chunk instead of keeping them from forward (a cached copy is cheaper
# than a memory round trip, and a step's peak memory drops by the columns of every layer).

_CHUNK_BYTES = 1 << 20


# A parallel region costs the engine's threads a wake-up and a few GIL hand-offs per chunk:
# 0.1-0.2 ms on a 2-vCPU VM (``parallel.py``; an empty region 118 us). A pass with fewer
# multiply-adds per thread than ``_SPLIT_MIN_MACS`` runs on one thread, BLAS included
# (``parallel_groups(..., threads=1)``). LeNet's second layer (15M multiply-adds a pass) was
# slower split: a LeNet step on 2 threads, in-process A/B, 6.22 -> 5.93 ms and 7.08 -> 6.22
# ms (medians of 40); the cnn-bn model's passes (100M+) still split.
_SPLIT_MIN_MACS = 1 << 23


def _chunks(n: int, per_sample: int, macs: int) -> tuple:
    """(ranges, threads): [start, stop) sample ranges whose largest buffer (``per_sample``
    bytes per sample: the columns, or the GEMM's output when there are more output channels
    than rows of columns) takes about ``_CHUNK_BYTES``, as many as a multiple of the threads
    that share the pass's ``macs`` multiply-adds (``parallel_groups`` gives each thread the
    same number): at most the engine's, at least ``_SPLIT_MIN_MACS`` each."""
    cs = max(1, min(n, _CHUNK_BYTES // max(per_sample, 1)))
    t = max(1, min(engine_threads(), macs // _SPLIT_MIN_MACS))
    need = -(-n // cs)
    return even_ranges(n, min(n, -(-need // t) * t)), t


# ---- Winograd F(2x2, 3x3) on the CPU: 3x3 kernels, stride 1 (see ``_winograd``) ----------
# 2.25x fewer GEMM multiply-adds than im2col and no 9x column copy; the transforms are compiled
# (numba), so this path runs only where the kernels are available. Few input or output
# channels make the 16 GEMMs too thin (K = C): the first layer of a network (C = 1) stays on
# im2col, measured 1.2 ms vs 9 ms.

_WINO_MIN_CHANNELS = 16  # a module constant: benchmarks may move it


def _wino_ok(g: ConvGeom, c: int, o: int, dtype) -> bool:
    """Whether the three passes of this convolution may run by Winograd: a 3x3 kernel, stride
    and dilation 1, no groups, padding at most 2 on every side (the input gradient is then a
    convolution padded by 2 - p), at least ``_WINO_MIN_CHANNELS`` channels in and out,
    float32/float64 and the compiled transforms available."""
    return (g.kh == g.kw == 3 and g.sh == g.sw == g.dh == g.dw == g.groups == 1
            and max(g.pads) <= 2 and min(c, o) >= _WINO_MIN_CHANNELS
            and dtype in (np.float32, np.float64)
            and _winograd.input_transform.get() is not None)


def _chunked(xp) -> bool:
    """Whether the passes run on the CPU's chunked paths (``_conv_chunked`` and its backward
    twins, which hand over to Winograd or the direct kernels where they apply): NumPy. (CuPy
    runs whole batches: its GEMMs want them, and its memory pool recycles the columns.)"""
    return xp is np


# ---- direct convolution on the CPU: layers with few input channels (see ``_direct_conv``) --
# A first layer (C = 1, a 5x5 kernel: K = 25) makes the im2col GEMM thin and the columns 25
# copies of the input; compiled loops over "wide rows" do all three passes in cache, one call
# per thread. Their cost grows with the output channels as the GEMM's does, but without its
# efficiency, so they are taken for few of those too. Measured at batch 64, 1 thread (forward,
# weight and input gradient, ms; 2 threads: direct 1.3-1.9x faster, im2col 0.7-1.1x):
#   C=1  28x28 5x5 O=6:   direct 0.50 0.51 0.52  im2col 0.91 1.37 1.72   (LeNet)
#   C=1  28x28 3x3 O=32:  direct 1.56 1.54 1.71  im2col 1.20 1.95 2.16   (cnn-bn)
#   C=3  32x32 3x3 O=16:  direct 2.07 1.91 2.10  im2col 2.46 2.42 2.79
#   C=1  28x28 5x5 O=64:  direct 5.27 5.16 5.66  im2col 3.32 4.94 6.29   (not taken)
#   C=3  32x32 5x5 O=32:  direct 8.11 8.38 8.53  im2col 8.48 7.55 13.06  (not taken)

_DIRECT_MAX_K = 27  # C * kh * kw at most (module constants: benchmarks may move them)
_DIRECT_MAX_OK = 512  # O * C * kh * kw at most
# multiply-adds per thread below which one thread does a pass of the compiled kernels
# (the direct loops here, ``_gemm_conv`` below): one call per thread, no GIL turns
_KERNEL_MIN_WORK = 1 << 21


def _direct_ok(g: ConvGeom, c: int, o: int, dtype) -> bool:
    """Whether the passes of this convolution run by ``_direct_conv``: stride and dilation 1,
    no groups, C*kh*kw at most ``_DIRECT_MAX_K`` and O*C*kh*kw at most ``_DIRECT_MAX_OK``,
    float32/float64 and the compiled kernels available."""
    k = c * g.kh * g.kw
    return (g.sh == g.sw == g.dh == g.dw == g.groups == 1 and k <= _DIRECT_MAX_K
            and o * k <= _DIRECT_MAX_OK and dtype in (np.float32, np.float64)
            and _direct_conv.forward.get() is not None)


def _direct_geom(g: ConvGeom, h: int, w: int, ho: int, wo: int) -> tuple:
    """(pt, pl, hp, wp) for the direct kernels: the padded plane holds the image and every
    row and column the ho x wo output reads."""
    return g.pt, g.pl, max(ho + g.kh - 1, g.pt + h), max(wo + g.kw - 1, g.pl + w)


def _sample_ranges(n: int, work: int) -> list:
    """[start, stop) ranges of n samples for the engine's threads, each with at least
    ``_KERNEL_MIN_WORK`` of the ``work`` multiply-adds (one range when that is all)."""
    k = min(engine_threads(), n, max(1, work // _KERNEL_MIN_WORK))
    return even_ranges(n, k)


def _conv_direct(x, w, b, g: ConvGeom, ho: int, wo: int):
    n, c, h, wd = x.shape
    o = w.shape[0]
    pt, pl, hp, wp = _direct_geom(g, h, wd, ho, wo)
    out = np.empty((n, o, ho, wo), x.dtype)
    bias = np.zeros(o, x.dtype) if b is None else b
    x, w, bias = (np.ascontiguousarray(a) for a in (x, w, bias))
    kern = _direct_conv.forward.get()
    parallel_slices(lambda s, e: kern(x, w, bias, pt, pl, hp, wp, out, s, e),
                    _sample_ranges(n, n * o * c * g.kh * g.kw * ho * wp))
    return out


def _weight_grad_direct(x, gy, w_shape, g: ConvGeom):
    n, c, h, wd = x.shape
    o, _, ho, wo = gy.shape
    pt, pl, hp, wp = _direct_geom(g, h, wd, ho, wo)
    kern = _direct_conv.weight_grad.get()
    x, gy = np.ascontiguousarray(x), np.ascontiguousarray(gy)

    def part(s, e):
        gw = np.zeros(w_shape, x.dtype)
        kern(x, gy, pt, pl, hp, wp, gw, s, e)
        return gw

    parts = parallel_slices(part, _sample_ranges(n, n * o * c * g.kh * g.kw * ho * wp) or
                            [(0, 0)])
    gw = parts[0]
    for p in parts[1:]:  # in range order: the same sum for the same thread count
        gw += p
    return gw


def _input_grad_direct(gy, w, x_shape, g: ConvGeom):
    n, c, h, wd = x_shape
    o, ho, wo = gy.shape[1:]
    pt, pl, hp, wp = _direct_geom(g, h, wd, ho, wo)
    dx = np.empty(x_shape, gy.dtype)
    gy, w = np.ascontiguousarray(gy), np.ascontiguousarray(w)
    kern = _direct_conv.input_grad.get()
    parallel_slices(lambda s, e: kern(gy, w, pt, pl, hp, wp, dx, s, e),
                    _sample_ranges(n, n * o * c * g.kh * g.kw * ho * wp))
    return dx


def _prefix(flat, shape):
    """The first prod(shape) elements of the 1-D buffer ``flat`` as a C-contiguous array of
    ``shape`` (a buffer from ``scratch_pool.borrow_flat``)."""
    return flat[:math.prod(shape)].reshape(shape)


def _largest(chunks) -> int:
    return max((e - s for s, e in chunks), default=0)


def _wino_tiles(x, s: int, e: int, pt: int, pl: int, th: int, tw: int, v, flat):
    """V^T (16, m * th * tw, C) of samples s..e of x, zero-padded by (pt, pl) into a prefix
    of ``flat`` of 2*th + 2 by 2*tw + 2 by C (``_winograd.padded_input_transform``)."""
    buf = _prefix(flat, (e - s, 2 * th + 2, 2 * tw + 2, x.shape[1]))
    _winograd.padded_input_transform.get()(x, s, pt, pl, buf, v)


@contextlib.contextmanager
def _wino_buffers(dtype, c: int, o: int, m: int, th: int, tw: int):
    """The flat buffers of a Winograd chunk loop over up to ``m`` samples of th x tw tiles:
    V^T (16, tiles, C), the GEMM's other side (16, O, tiles: M or Z) and the zero-padded
    input, channels-last (``_wino_tiles``)."""
    k = m * th * tw
    with scratch_pool.borrow_flat(np, 16 * c * k, dtype) as vf, \
            scratch_pool.borrow_flat(np, 16 * o * k, dtype) as of, \
            scratch_pool.borrow_flat(np, m * c * (2 * th + 2) * (2 * tw + 2), dtype) as pf:
        yield vf, of, pf


def _wino_plan(n: int, c: int, o: int, th: int, tw: int, itemsize: int) -> tuple:
    """(sample ranges, one per thread (``_sample_ranges``), chunk) for the compiled Winograd
    loops: a chunk's larger transformed buffer (16 x channels x tiles) takes about
    ``_CHUNK_BYTES``."""
    per = 16 * max(c, o) * th * tw * itemsize
    return (_sample_ranges(n, 16 * o * c * n * th * tw),
            max(1, min(n, _CHUNK_BYTES // max(per, 1))))


def _conv_winograd(x, u, b, pt: int, pl: int, ho: int, wo: int):
    """A 3x3 stride-1 correlation of x (N, C, H, W) with the transformed kernel u (16, O, C),
    zero-padded by pt rows on top and pl columns on the left (and as much as the output size
    asks for at the bottom and right), plus bias b: (N, O, ho, wo)."""
    n, c = x.shape[:2]
    o = u.shape[1]
    th, tw = -(-ho // 2), -(-wo // 2)
    out = np.empty((n, o, ho, wo), x.dtype)
    ut = np.ascontiguousarray(u.transpose(0, 2, 1))  # (16, C, O): the GEMM's right side
    bias = np.zeros(1, x.dtype) if b is None else np.ascontiguousarray(b, x.dtype)
    fn = _gemm_fn(x, ut)
    if fn is not None:  # the whole chunk loop compiled, one call per thread
        x = np.ascontiguousarray(x)
        ranges, chunk = _wino_plan(n, c, o, th, tw, x.itemsize)
        kern = _winograd.forward.get()
        parallel_slices(lambda s, e: kern(fn, x, ut, bias, b is not None, pt, pl, th, tw, out,
                                          s, e, chunk), ranges)
        return out
    out_tf = _winograd.output_transform.get()

    def work(chunks):
        with _wino_buffers(x.dtype, c, o, _largest(chunks), th, tw) as (vf, mf, pf):
            for s, e in chunks:
                k = (e - s) * th * tw
                v, mm = _prefix(vf, (16, k, c)), _prefix(mf, (16, k, o))
                _wino_tiles(x, s, e, pt, pl, th, tw, v, pf)
                np.matmul(v, ut, out=mm)  # M^T: tiles by output channels
                out_tf(mm, th, tw, bias, b is not None, out[s:e])

    parallel_groups(work, *_chunks(n, 16 * max(c, o) * th * tw * x.itemsize,
                                     16 * o * c * n * th * tw))
    return out


def _weight_grad_winograd(x, gy, w_shape, g: ConvGeom):
    """The weight gradient by Winograd: per chunk, Z = A dY A^T and V = B^T d B of the same
    tiles, dL/dU += Z @ V^T (16 GEMMs); one partial per thread, then G^T (dL/dU) G."""
    n, o, ho, wo = gy.shape
    c = x.shape[1]
    th, tw = -(-ho // 2), -(-wo // 2)
    fn = _gemm_fn(x, gy)
    if fn is not None:  # the whole chunk loop compiled, one call per thread
        x, gy = np.ascontiguousarray(x), np.ascontiguousarray(gy)
        ranges, chunk = _wino_plan(n, c, o, th, tw, x.itemsize)
        kern = _winograd.weight_grad.get()

        def part(s, e):
            p = np.zeros((16, o, c), x.dtype)
            kern(fn, x, gy, g.pt, g.pl, th, tw, p, s, e, chunk)
            return p

        parts = parallel_slices(part, ranges) or [np.zeros((16, o, c), x.dtype)]
        p = parts[0]
        for part_ in parts[1:]:  # in range order: the same sum for the same thread count
            p += part_
        return _winograd.weight_untransform(p, x.dtype).reshape(w_shape)
    grad_tf = _winograd.grad_transform.get()

    def work(chunks):
        p = None  # dL/dU (16, O, C), this group's samples
        with _wino_buffers(x.dtype, c, o, _largest(chunks), th, tw) as (vf, zf, pf):
            for s, e in chunks:
                k = (e - s) * th * tw
                v, z = _prefix(vf, (16, k, c)), _prefix(zf, (16, o, k))
                _wino_tiles(x, s, e, g.pt, g.pl, th, tw, v, pf)
                grad_tf(gy[s:e], th, tw, z)
                part = np.matmul(z, v)
                if p is None:
                    p = part
                else:
                    p += part
        return p

    parts = parallel_groups(work, *_chunks(n, 16 * max(c, o) * th * tw * x.itemsize,
                                     16 * o * c * n * th * tw))
    if parts[0] is None:  # an empty batch
        return np.zeros(w_shape, x.dtype)
    p = parts[0]
    for part in parts[1:]:  # in group order: the same sum for the same thread count
        p += part
    return _winograd.weight_untransform(p, x.dtype).reshape(w_shape)


# ---- im2col + GEMM as compiled kernels (``_gemm_conv``): one call per thread -------------
# What the chunked Python path below does, with the GEMM called from the compiled loop (NumPy's
# own BLAS through ``autograd._blas``): each thread makes one call for its samples and never
# waits for the GIL. LeNet's second layer (15M multiply-adds a pass, batch 64), ms, forward /
# weight / input gradient, best of 60: 1 thread 0.59 / 0.65 / 0.60 (the NumPy chunks: 0.68 /
# 0.69 / 0.84), 2 threads 0.37 / 0.42 / 0.38 (NumPy chunks: 0.69 / 0.70 / 0.83, unsplit).


def _gemm_fn(*arrays):
    """NumPy BLAS's GEMM for compiled kernels when every array has the same float32/float64
    dtype and the kernels are available, else None (the NumPy path runs)."""
    dt = arrays[0].dtype
    if dt not in (np.float32, np.float64) or any(a.dtype != dt for a in arrays[1:]):
        return None
    return _blas.gemm(dt)


def _gemm_plan(n: int, rows: int, p: int, itemsize: int, macs: int) -> tuple:
    """(sample ranges, one per thread (``_sample_ranges``), chunk): a chunk's largest buffer
    (``rows`` by its pixels) takes about ``_CHUNK_BYTES``."""
    return _sample_ranges(n, macs), max(1, min(n, _CHUNK_BYTES // max(rows * p * itemsize, 1)))


def _geom_args(g: ConvGeom) -> tuple:
    return g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.groups


def _conv_gemm(fn, x, w, b, g: ConvGeom, ho: int, wo: int):
    n, c, h, wd = x.shape
    o = w.shape[0]
    x3 = np.ascontiguousarray(x).reshape(n, c * h * wd)
    w2 = np.ascontiguousarray(w).reshape(o, -1)
    k = w2.shape[1] * g.groups
    out = np.empty((n, o, ho, wo), x.dtype)
    bias = np.zeros(1, x.dtype) if b is None else np.ascontiguousarray(b, x.dtype)
    ranges, chunk = _gemm_plan(n, max(k, o), ho * wo, x.itemsize, n * o * w2.shape[1] * ho * wo)
    kern, out3 = _gemm_conv.forward.get(), out.reshape(n, o, ho * wo)
    parallel_slices(lambda s, e: kern(fn, x3, c, h, wd, w2, bias, b is not None, *_geom_args(g),
                                  ho, wo, out3, s, e, chunk), ranges)
    return out


def _weight_grad_gemm(fn, x, gy, w_shape, g: ConvGeom):
    n, c, h, wd = x.shape
    o, ho, wo = gy.shape[1:]
    gr = g.groups
    kg = math.prod(w_shape[1:])
    x3 = np.ascontiguousarray(x).reshape(n, c * h * wd)
    gy3 = np.ascontiguousarray(gy).reshape(n, o, ho * wo)
    ranges, chunk = _gemm_plan(n, max(kg * gr, o), ho * wo, x.itemsize, n * o * kg * ho * wo)
    kern = _gemm_conv.weight_grad.get()

    def part(s, e):
        gwt = np.zeros((gr, kg, o // gr), x.dtype)
        kern(fn, x3, c, h, wd, gy3, *_geom_args(g), ho, wo, gwt, s, e, chunk)
        return gwt

    parts = parallel_slices(part, ranges)
    if not parts:  # an empty batch
        return np.zeros(w_shape, x.dtype)
    gwt = parts[0]
    for p in parts[1:]:  # in range order: the same sum for the same thread count
        gwt += p
    return gwt.transpose(0, 2, 1).reshape(w_shape)


def _input_grad_gemm(fn, gy, w, x_shape, g: ConvGeom):
    n, o, ho, wo = gy.shape
    _, c, h, wd = x_shape
    w2 = np.ascontiguousarray(w).reshape(o, -1)
    k = w2.shape[1] * g.groups
    gy3 = np.ascontiguousarray(gy).reshape(n, o, ho * wo)
    dx = np.empty(x_shape, gy.dtype)
    ranges, chunk = _gemm_plan(n, max(k, o), ho * wo, gy.itemsize, n * o * w2.shape[1] * ho * wo)
    kern, dx3 = _gemm_conv.input_grad.get(), dx.reshape(n, c * h * wd)
    parallel_slices(lambda s, e: kern(fn, gy3, w2, c, h, wd, *_geom_args(g), ho, wo, dx3, s, e,
                                  chunk), ranges)
    return dx


def _conv_chunked(x, w, b, g: ConvGeom, ho: int, wo: int):
    n, o, gr = x.shape[0], w.shape[0], g.groups
    if _direct_ok(g, x.shape[1], o, x.dtype):
        return _conv_direct(x, w, b, g, ho, wo)
    if _wino_ok(g, x.shape[1], o, x.dtype):
        return _conv_winograd(x, _winograd.weight_transform(w), b, g.pt, g.pl, ho, wo)
    fn = _gemm_fn(x, w) if b is None else _gemm_fn(x, w, b)
    if fn is not None:
        return _conv_gemm(fn, x, w, b, g, ho, wo)
    p = ho * wo
    out = np.empty((n, o, ho, wo), np.result_type(w, x))
    w3 = w.reshape(gr, o // gr, -1)
    chwn = _layout(n, wo)

    k = w.shape[1] * gr * g.kh * g.kw

    def work(chunks):
        mx = _largest(chunks)
        with scratch_pool.borrow_flat(np, k * mx * p, x.dtype) as cf, \
                scratch_pool.borrow_flat(np, o * mx * p, out.dtype) as yf:
            for s, e in chunks:
                m = e - s
                cols = _im2col(x[s:e], g, (ho, wo), chwn, cf)
                y = _prefix(yf, (o, m * p))
                np.matmul(w3, cols.reshape(gr, cols.shape[0] // gr, m * p),
                          out=y.reshape(gr, o // gr, -1))
                y4 = (y.reshape(o, ho, wo, m).transpose(3, 0, 1, 2) if chwn
                      else y.reshape(o, m, ho, wo).transpose(1, 0, 2, 3))
                np.copyto(out[s:e], y4)
                if b is not None:
                    out[s:e] += b.reshape(-1, 1, 1)

    parallel_groups(work, *_chunks(n, max(k, o) * p * x.itemsize, n * o * (k // gr) * p))
    return out


def _weight_grad_chunked(x, gy, w_shape, g: ConvGeom):
    n, o, ho, wo = gy.shape
    gr = g.groups
    if _direct_ok(g, x.shape[1], o, x.dtype):
        return _weight_grad_direct(x, gy, w_shape, g)
    if _wino_ok(g, x.shape[1], o, x.dtype):
        return _weight_grad_winograd(x, gy, w_shape, g)
    fn = _gemm_fn(x, gy)
    if fn is not None:
        return _weight_grad_gemm(fn, x, gy, w_shape, g)

    chwn = _layout(n, wo)
    k = w_shape[1] * gr * g.kh * g.kw

    def work(chunks):
        gwt = None  # (gr, C*kh*kw / gr, O / gr): see _weight_grad_raw for the orientation
        with scratch_pool.borrow_flat(np, k * _largest(chunks) * ho * wo, x.dtype) as cf:
            for s, e in chunks:
                cols = _im2col(x[s:e], g, (ho, wo), chwn, cf)
                g2 = _grad2(np, gy[s:e], chwn)
                part = cols.reshape(gr, cols.shape[0] // gr, cols.shape[1]) @ \
                    g2.reshape(gr, o // gr, -1).transpose(0, 2, 1)
                if gwt is None:
                    gwt = part
                else:
                    gwt += part
                del g2  # the next chunk's may take this buffer
        return gwt

    parts = parallel_groups(work, *_chunks(n, max(k, o) * ho * wo * x.itemsize,
                                           n * o * (k // gr) * ho * wo))
    if parts[0] is None:  # an empty batch
        return np.zeros(w_shape, np.result_type(x, gy))
    gwt = parts[0]
    for part in parts[1:]:  # in group order: the same sum for the same thread count
        gwt += part
    return gwt.transpose(0, 2, 1).reshape(w_shape)


def _input_grad_wide(gy, w3, dx, g: ConvGeom, chunks):
    """The input gradient of a stride-1 convolution, chunk by chunk, on "wide" rows: each
    output row is taken as ``Wp`` (the padded width) long instead of ``Wo``, the extra
    columns of the output gradient set to 0. Then the columns for kernel offset (i, j) sum
    into the padded input, flattened per channel, as one contiguous run starting at
    ``i*dh*Wp + j*dw``: kh*kw adds of long runs instead of C*kh*kw*Ho short rows each (1.2-1.4x
    faster for the whole input gradient, for Wp/Wo more GEMM columns). The zero columns
    add zeros wherever they land (the padding or the next row)."""
    n, o, ho, wo = gy.shape
    _, c, h, wd = dx.shape
    gr, kg = w3.shape[0], w3.shape[1]
    hp, wp = h + g.pt + g.pb, wd + g.pl + g.pr
    run = ho * wp
    flat = hp * wp + (g.kw - 1) * g.dw  # the last row's extra columns reach this far
    mx = _largest(chunks)
    with scratch_pool.borrow_flat(np, o * mx * ho * wp, gy.dtype) as gf, \
            scratch_pool.borrow_flat(np, kg * gr * mx * run, dx.dtype) as cf, \
            scratch_pool.borrow_flat(np, mx * c * flat, dx.dtype) as bf:
        for s, e in chunks:
            m = e - s
            gw, cols = _prefix(gf, (o, m, ho, wp)), _prefix(cf, (kg * gr, m * run))
            buf = _prefix(bf, (m, c, flat))
            gw[..., wo:] = 0
            np.copyto(gw[..., :wo], gy[s:e].transpose(1, 0, 2, 3))
            np.matmul(w3, gw.reshape(gr, o // gr, -1), out=cols.reshape(gr, kg, -1))
            c5 = cols.reshape(c, g.kh, g.kw, m, run)
            buf.fill(0)
            bt = buf.transpose(1, 0, 2)  # (C, m, flat)
            for i in range(g.kh):
                for j in range(g.kw):
                    at = i * g.dh * wp + j * g.dw
                    bt[:, :, at:at + run] += c5[:, i, j]
            img = buf[:, :, :hp * wp].reshape(m, c, hp, wp)
            np.copyto(dx[s:e], img[:, :, g.pt:g.pt + h, g.pl:g.pl + wd])


def _input_grad_chunked(gy, w, x_shape, g: ConvGeom):
    n, o, ho, wo = gy.shape
    gr = g.groups
    if _direct_ok(g, x_shape[1], o, gy.dtype):
        return _input_grad_direct(gy, w, x_shape, g)
    if _wino_ok(g, x_shape[1], o, gy.dtype):  # the correlation with the flipped kernel
        return _conv_winograd(gy, _winograd.weight_transform(w, flip=True), None,
                              2 - g.pt, 2 - g.pl, x_shape[2], x_shape[3])
    fn = _gemm_fn(gy, w)
    if fn is not None:
        return _input_grad_gemm(fn, gy, w, x_shape, g)
    w3 = w.reshape(gr, o // gr, -1).transpose(0, 2, 1)  # (gr, Kg, O / gr)
    k = w3.shape[1] * gr
    dx = np.empty(x_shape, np.result_type(w, gy))
    chwn = _layout(n, wo)
    if g.sh == g.sw == 1 and not chwn:
        wp = x_shape[3] + g.pl + g.pr
        parallel_groups(lambda chunks: _input_grad_wide(gy, w3, dx, g, chunks),
                        *_chunks(n, max(k, o) * ho * wp * gy.itemsize,
                                 n * k * (o // gr) * ho * wp))
        return dx

    def work(chunks):
        with scratch_pool.borrow_flat(np, k * _largest(chunks) * ho * wo, dx.dtype) as cf:
            for s, e in chunks:
                m = e - s
                g2 = _grad2(np, gy[s:e], chwn)
                cols = _prefix(cf, (k, m * ho * wo))
                np.matmul(w3, g2.reshape(gr, o // gr, -1),
                          out=cols.reshape(gr, w3.shape[1], -1))
                _col2im(cols, (m,) + tuple(x_shape[1:]), g, ho, wo, chwn, out=dx[s:e])
                del g2  # the next chunk's may take this buffer

    parallel_groups(work, *_chunks(n, max(k, o) * ho * wo * gy.itemsize,
                                   n * k * (o // gr) * ho * wo))
    return dx


def _conv_raw(x, w, b, g: ConvGeom, out_hw=None):
    """(C-contiguous output, the columns or None when not kept (the chunked CPU path), the
    layout they are in)."""
    xp = get_array_module(x)
    n, o = x.shape[0], w.shape[0]
    ho, wo = out_hw or g.out_hw(x.shape[2], x.shape[3])
    chwn = _layout(n, wo)
    if _chunked(xp):
        return _conv_chunked(x, w, b, g, ho, wo), None, False
    cols = _im2col(x, g, out_hw, chwn)
    gr = g.groups
    w3 = w.reshape(gr, o // gr, -1)
    if not chwn:  # one GEMM per sample, each writing its (O, Ho*Wo) block of the output
        out = xp.empty((n, o, ho, wo), np.result_type(w, cols))
        # (N, gr, Kg, P); the sizes spelled out: -1 is ambiguous for an empty batch
        c4 = cols.reshape(gr, cols.shape[0] // gr, n, ho * wo).transpose(2, 0, 1, 3)
        xp.matmul(w3, c4, out=out.reshape(n, gr, o // gr, ho * wo))
        if b is not None:
            out += b.reshape(-1, 1, 1)
        return out, cols, chwn
    with scratch_pool.borrow(xp, (o, cols.shape[1]), np.result_type(w, cols)) as y:
        xp.matmul(w3, cols.reshape(gr, cols.shape[0] // gr, cols.shape[1]),
                  out=y.reshape(gr, o // gr, -1))
        out = _nchw(xp, y.reshape(o, ho, wo, n).transpose(3, 0, 1, 2), b)
    return out, cols, chwn


def _weight_grad_raw(cols, gy, w_shape, g: ConvGeom, chwn: bool, x=None):
    """The weight gradient from the columns of forward, or from ``x`` chunk by chunk when
    forward did not keep them (``cols`` None)."""
    if cols is None:
        return _weight_grad_chunked(x, gy, w_shape, g)
    g2 = _grad2(get_array_module(gy), gy, chwn)
    # computed transposed, cols @ g2^T: OpenBLAS runs these long-K shapes 1.1-1.5x faster
    # than g2 @ cols^T (measured on the LeNet and VGG-style layers)
    if g.groups == 1:
        gw = (cols @ g2.T).T
    else:
        gr = g.groups
        c3 = cols.reshape(gr, cols.shape[0] // gr, cols.shape[1])
        gw = (c3 @ g2.reshape(gr, -1, g2.shape[1]).transpose(0, 2, 1)).transpose(0, 2, 1)
    return gw.reshape(w_shape)


def _input_grad_raw(gy, w, x_shape, g: ConvGeom):
    xp = get_array_module(gy)
    n, o, ho, wo = gy.shape
    chwn = _layout(n, wo)
    if _chunked(xp):
        return _input_grad_chunked(gy, w, x_shape, g)
    gr = g.groups
    w3 = w.reshape(gr, o // gr, -1).transpose(0, 2, 1)  # (gr, Kg, O / gr)
    k = w3.shape[1] * gr
    with scratch_pool.borrow(xp, (k, n * ho * wo), np.result_type(w, gy)) as cols:
        if chwn:
            g2 = _grad2(xp, gy, chwn)
            xp.matmul(w3, g2.reshape(gr, o // gr, -1), out=cols.reshape(gr, w3.shape[1], -1))
        else:  # one GEMM per sample, reading its (O, Ho*Wo) block of gy: no transpose
            out = cols.reshape(gr, cols.shape[0] // gr, n, ho * wo).transpose(2, 0, 1, 3)
            xp.matmul(w3, gy.reshape(n, gr, o // gr, ho * wo), out=out)
        return _col2im(cols, x_shape, g, ho, wo, chwn)


def _check_dtypes(op: str, *arrays) -> None:
    dts = {a.dtype for a in arrays if a is not None}
    if len(dts) > 1:
        raise RuntimeError(
            f"{op}: input, weight and bias must have the same dtype, got "
            f"{', '.join(str(a.dtype) for a in arrays if a is not None)}; convert the input "
            "(x.float()) or the module (.double())"
        )


class Conv2dOp(Op):
    """y = conv2d(x, w) + b; saves the im2col columns for the weight gradient. ``out_hw``:
    see ``_im2col``."""

    _torch_name = "ConvolutionBackward0"  # PyTorch's one node for every convolution

    @staticmethod
    def forward(ctx, x, w, b=None, *, geom, out_hw=None):
        _check_dtypes("conv2d", x, w, b)
        y, cols, chwn = _conv_raw(x, w, b, geom, out_hw)
        e = ctx.next_edges
        if e:
            ctx.geom, ctx.x_shape, ctx.w_shape, ctx.chwn = geom, x.shape, w.shape, chwn
            need_w = e[1] is not None
            ctx.save_for_backward(x if need_w else None, w if e[0] is not None else None,
                                  cols if need_w else None)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, w, cols = ctx.saved_tensors
        e = ctx.next_edges
        g = ctx.geom
        gx = gw = gb = None
        if not isinstance(gy, Tensor) and ctx.chwn and e[0] is not None and e[1] is not None:
            gy = _grad_in(get_array_module(gy), gy, ctx.chwn)  # one copy for both GEMMs
        if e[0] is not None:
            gx = ConvTranspose2dOp.apply(gy, w, geom=g, x_hw=ctx.x_shape[2:])
        if e[1] is not None:
            if isinstance(gy, Tensor):
                gw = ConvWeightOp.apply(x, gy, geom=g, w_shape=ctx.w_shape)
            else:
                gw = _weight_grad_raw(cols, gy, ctx.w_shape, g, ctx.chwn, x)
        if len(e) > 2 and e[2] is not None:
            gb = attach_grad(R.sum(gy, dim=(0, 2, 3)), x, w)
        return gx, gw, gb


class ConvTranspose2dOp(Op):
    """The adjoint of ``Conv2dOp`` in its input: y = conv_transpose2d(g, w) + b, of spatial
    size ``x_hw``. ``w`` has the convolution's layout (C_g_in, C_out / groups, kh, kw)."""

    _torch_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, g, w, b=None, *, geom, x_hw):
        _check_dtypes("conv_transpose2d", g, w, b)
        x_shape = (g.shape[0], w.shape[1] * geom.groups) + tuple(x_hw)
        y = _input_grad_raw(g, w, x_shape, geom)
        if b is not None:
            y += b.reshape(1, -1, 1, 1)
        e = ctx.next_edges
        if e:
            ctx.geom, ctx.w_shape, ctx.g_hw = geom, w.shape, g.shape[2:]
            ctx.save_for_backward(g if e[1] is not None else None,
                                  w if e[0] is not None else None)
        return y

    @staticmethod
    def backward(ctx, gy):
        g, w = ctx.saved_tensors
        e = ctx.next_edges
        gg = gw = gb = None
        if e[0] is not None:
            gg = Conv2dOp.apply(gy, w, geom=ctx.geom, out_hw=ctx.g_hw)
        if e[1] is not None:
            gw = ConvWeightOp.apply(gy, g, geom=ctx.geom, w_shape=ctx.w_shape)
        if len(e) > 2 and e[2] is not None:
            gb = attach_grad(R.sum(gy, dim=(0, 2, 3)), g, w)
        return gg, gw, gb


class ConvWeightOp(Op):
    """The adjoint of ``Conv2dOp`` in its weight: gw = d<conv2d(x, w), g>/dw."""

    @staticmethod
    def forward(ctx, x, g, *, geom, w_shape):
        _check_dtypes("conv2d weight gradient", x, g)
        xp = get_array_module(g)
        chwn = _layout(g.shape[0], g.shape[3])
        cols = (None if _chunked(xp)
                else _im2col(x, geom, g.shape[2:], chwn))
        gw = _weight_grad_raw(cols, g, w_shape, geom, chwn, x)
        e = ctx.next_edges
        if e:
            ctx.geom, ctx.x_hw, ctx.g_hw = geom, x.shape[2:], g.shape[2:]
            ctx.save_for_backward(x if e[1] is not None else None,
                                  g if e[0] is not None else None)
        return gw

    @staticmethod
    def backward(ctx, ggw):
        x, g = ctx.saved_tensors
        e = ctx.next_edges
        gx = gg = None
        if e[0] is not None:
            gx = ConvTranspose2dOp.apply(g, ggw, geom=ctx.geom, x_hw=ctx.x_hw)
        if e[1] is not None:
            gg = Conv2dOp.apply(x, ggw, geom=ctx.geom, out_hw=ctx.g_hw)
        return gx, gg



def _same_pads(k: int, d: int) -> tuple:
    total = d * (k - 1)
    return total // 2, total - total // 2


def _conv_pads(padding, ks, stride, dilation, op: str) -> tuple:
    """(top, bottom, left, right) pads from an int, a tuple, 'same' or 'valid'."""
    nd = len(ks)
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0) * nd
        if padding == "same":
            # the functional form raises PyTorch's RuntimeErrors (the modules check first,
            # with its ValueErrors)
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            out = ()
            for k, d in zip(ks, dilation):
                out += _same_pads(k, d)
            return out
        raise RuntimeError(f"Invalid padding string: {padding!r}")
    p = _ntuple(padding, nd, "padding", op)
    if any(a < 0 for a in p):
        raise ValueError(f"{op}: negative padding is not supported, got {p}")
    out = ()
    for a in p:
        out += (a, a)
    return out


def _check_conv(op, x, w, b, groups, transposed=False, nd=2):
    if w.ndim != nd + 2:
        raise RuntimeError(f"{op}: expected a {nd + 2}-D weight, got shape "
                           f"{_shape_str(w.shape)}")
    if groups < 1:
        raise ValueError(f"{op}: groups must be a positive integer, got {groups}")
    c = x.shape[1]
    if transposed:
        if c != w.shape[0]:
            raise RuntimeError(
                f"{op}: expected input with {w.shape[0]} channels (weight shape "
                f"{_shape_str(w.shape)}), got input of shape {_shape_str(x.shape)}"
            )
        if w.shape[0] % groups:
            raise RuntimeError(f"{op}: weight.shape[0] = {w.shape[0]} is not divisible by "
                               f"groups = {groups}")
        out_c = w.shape[1] * groups
    else:
        if c != w.shape[1] * groups:
            raise RuntimeError(
                f"{op}: expected input with {w.shape[1] * groups} channels (weight shape "
                f"{_shape_str(w.shape)}, groups={groups}), got input of shape "
                f"{_shape_str(x.shape)}"
            )
        if w.shape[0] % groups:
            raise RuntimeError(f"{op}: out_channels = {w.shape[0]} is not divisible by "
                               f"groups = {groups}")
        out_c = w.shape[0]
    if b is not None and tuple(b.shape) != (out_c,):
        raise RuntimeError(f"{op}: expected bias of shape ({out_c},), got "
                           f"{_shape_str(b.shape)}")


def _conv2d(x, weight, bias, stride, padding, dilation, groups, op="conv2d"):
    ks = tuple(weight.shape[2:])
    stride = _ntuple(stride, 2, "stride", op)
    dilation = _ntuple(dilation, 2, "dilation", op)
    _positive(stride, "stride", op)
    _positive(dilation, "dilation", op)
    pads = _conv_pads(padding, ks, stride, dilation, op)
    g = ConvGeom(ks[0], ks[1], stride[0], stride[1], dilation[0], dilation[1], *pads,
                 groups=int(groups))
    _check_conv(op, x, weight, bias, g.groups)
    h, w = x.shape[2], x.shape[3]
    ho, wo = g.out_hw(h, w)
    if ho < 1 or wo < 1:
        raise RuntimeError(
            f"{op}: calculated padded input size per channel: ({h + g.pt + g.pb} x "
            f"{w + g.pl + g.pr}); effective kernel size: ({g.dh * (g.kh - 1) + 1} x "
            f"{g.dw * (g.kw - 1) + 1}). The kernel can't be greater than the padded input "
            f"(input shape {_shape_str(x.shape)})"
        )
    if bias is None:
        return Conv2dOp.apply(x, weight, geom=g)
    return Conv2dOp.apply(x, weight, bias, geom=g)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, like PyTorch) over (N, C, H, W) or (C, H, W).

    Args:
        input: (N, C_in, H, W) or unbatched (C_in, H, W).
        weight: (C_out, C_in / groups, kH, kW).
        bias: optional (C_out,).
        stride, dilation: int or (sH, sW).
        padding: int, (pH, pW), 'valid' (no padding) or 'same' (output size = input size;
            stride 1 only; an odd total padding puts the extra row/column at the end).
        groups: split the input channels into this many groups, each convolved with its
            own C_out / groups filters (groups = C_in: depthwise).

    Returns:
        (N, C_out, H_out, W_out), with H_out = (H + 2 pH - dH (kH - 1) - 1) // sH + 1.
    """
    x, unbatched = _batch("conv2d", input, 2)
    y = _conv2d(x, weight, bias, stride, padding, dilation, groups)
    return S.squeeze(y, 0) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution over (N, C_in, L) or (C_in, L) with a (C_out, C_in / groups, k)
    weight; the same options as ``conv2d`` (computed as a 2-D convolution of height 1)."""
    x, unbatched = _batch("conv1d", input, 1)
    if weight.ndim != 3:
        raise RuntimeError(f"conv1d: expected a 3-D weight, got shape "
                           f"{_shape_str(weight.shape)}")
    (s,) = _ntuple(stride, 1, "stride", "conv1d")
    (d,) = _ntuple(dilation, 1, "dilation", "conv1d")
    if isinstance(padding, str):
        _conv_pads(padding, weight.shape[2:], (s,), (d,), "conv1d")  # validate
        pad2 = padding
    else:
        pad2 = (0, _ntuple(padding, 1, "padding", "conv1d")[0])
    x4 = S.unsqueeze(x, 2)
    w4 = S.unsqueeze(weight, 2)
    y = _conv2d(x4, w4, bias, (1, s), pad2, (1, d), groups, op="conv1d")
    y = named(S.squeeze(y, 2), "ConvolutionBackward0")  # PyTorch's one node
    return S.squeeze(y, 0) if unbatched else y


def _conv_transpose2d(x, weight, bias, stride, padding, output_padding, groups, dilation,
                      op="conv_transpose2d"):
    ks = tuple(weight.shape[2:])
    stride = _ntuple(stride, 2, "stride", op)
    dilation = _ntuple(dilation, 2, "dilation", op)
    padding = _ntuple(padding, 2, "padding", op)
    output_padding = _ntuple(output_padding, 2, "output_padding", op)
    _positive(stride, "stride", op)
    _positive(dilation, "dilation", op)
    if any(p < 0 for p in padding + output_padding):
        raise ValueError(f"{op}: negative padding is not supported, got padding={padding}, "
                         f"output_padding={output_padding}")
    for op_, s, d in zip(output_padding, stride, dilation):
        if op_ >= s and op_ >= d:
            raise ValueError(
                f"{op}: output padding must be smaller than either stride or dilation, got "
                f"output_padding={output_padding}, stride={stride}, dilation={dilation}"
            )
    groups = int(groups)
    _check_conv(op, x, weight, bias, groups, transposed=True)
    g = ConvGeom(ks[0], ks[1], stride[0], stride[1], dilation[0], dilation[1], padding[0],
                 padding[0], padding[1], padding[1], groups)
    hw = tuple((i - 1) * s - 2 * p + d * (k - 1) + o + 1 for i, s, p, d, k, o in
               zip(x.shape[2:], stride, padding, dilation, ks, output_padding))
    if min(hw) < 1:
        raise RuntimeError(f"{op}: the output size {hw} for input of shape "
                           f"{_shape_str(x.shape)} is too small (check padding)")
    if bias is None:
        return ConvTranspose2dOp.apply(x, weight, geom=g, x_hw=hw)
    return ConvTranspose2dOp.apply(x, weight, bias, geom=g, x_hw=hw)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """2-D transposed convolution (the gradient of ``conv2d`` with respect to its input).

    Args:
        input: (N, C_in, H, W) or unbatched (C_in, H, W).
        weight: (C_in, C_out / groups, kH, kW).
        bias: optional (C_out,).
        stride, padding, dilation, groups: those of the convolution being transposed.
        output_padding: extra rows/columns added at the end of the output (< stride or
            < dilation), to pick one of the input sizes a strided convolution maps to the
            same output size.

    Returns:
        (N, C_out, H_out, W_out), H_out = (H - 1) sH - 2 pH + dH (kH - 1) + opH + 1.
    """
    x, unbatched = _batch("conv_transpose2d", input, 2)
    y = _conv_transpose2d(x, weight, bias, stride, padding, output_padding, groups, dilation)
    return S.squeeze(y, 0) if unbatched else y


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """1-D transposed convolution over (N, C_in, L) or (C_in, L) with a
    (C_in, C_out / groups, k) weight."""
    x, unbatched = _batch("conv_transpose1d", input, 1)
    if weight.ndim != 3:
        raise RuntimeError(f"conv_transpose1d: expected a 3-D weight, got shape "
                           f"{_shape_str(weight.shape)}")

    def two(v, name):
        return (0 if name != "stride" and name != "dilation" else 1,
                _ntuple(v, 1, name, "conv_transpose1d")[0])

    y = _conv_transpose2d(S.unsqueeze(x, 2), S.unsqueeze(weight, 2), bias,
                          two(stride, "stride"), two(padding, "padding"),
                          two(output_padding, "output_padding"), groups,
                          two(dilation, "dilation"), op="conv_transpose1d")
    y = S.squeeze(y, 2)
    return S.squeeze(y, 0) if unbatched else y


# ---- unfold / fold (im2col / col2im as ops) -------------------------------------------------


class UnfoldOp(Op):
    """(N, C, H, W) -> (N, C*kh*kw, L) sliding blocks; backward is ``FoldOp``."""

    @staticmethod
    def forward(ctx, x, *, geom):
        ho, wo = geom.out_hw(x.shape[2], x.shape[3])
        ctx.geom, ctx.x_shape = geom, x.shape
        cols = _im2col(x, geom, None, False)  # (K, N * L): a copy of contiguous L-runs to C order
        return get_array_module(x).ascontiguousarray(
            cols.reshape(cols.shape[0], x.shape[0], ho * wo).transpose(1, 0, 2))

    @staticmethod
    def backward(ctx, gy):
        return FoldOp.apply(gy, geom=ctx.geom, x_shape=ctx.x_shape)


class FoldOp(Op):
    """(N, C*kh*kw, L) blocks summed back into (N, C, H, W); backward is ``UnfoldOp``."""

    @staticmethod
    def forward(ctx, cols, *, geom, x_shape):
        ctx.geom = geom
        ho, wo = geom.out_hw(x_shape[2], x_shape[3])
        c2 = cols.transpose(1, 0, 2).reshape(cols.shape[1], -1)  # (K, N * L)
        return _col2im(c2, x_shape, geom, ho, wo, False)

    @staticmethod
    def backward(ctx, gy):
        return UnfoldOp.apply(gy, geom=ctx.geom)


def _fold_geom(kernel_size, dilation, padding, stride, op):
    k = _ntuple(kernel_size, 2, "kernel_size", op)
    d = _ntuple(dilation, 2, "dilation", op)
    p = _ntuple(padding, 2, "padding", op)
    s = _ntuple(stride, 2, "stride", op)
    for name, t in (("kernel_size", k), ("dilation", d), ("stride", s)):
        _positive(t, name, op)
    if any(a < 0 for a in p):
        raise ValueError(f"{op}: padding must be non-negative, got {p}")
    return ConvGeom(k[0], k[1], s[0], s[1], d[0], d[1], p[0], p[0], p[1], p[1], 1)


@torch_node("Im2ColBackward0")
def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding blocks (im2col): (N, C, H, W) -> (N, C*kH*kW, L), L the number of
    blocks; unbatched (C, H, W) -> (C*kH*kW, L)."""
    x, unbatched = _batch("unfold", input, 2)
    g = _fold_geom(kernel_size, dilation, padding, stride, "unfold")
    ho, wo = g.out_hw(x.shape[2], x.shape[3])
    if ho < 1 or wo < 1:
        raise RuntimeError(f"unfold: no sliding block fits in the padded input of shape "
                           f"{_shape_str(x.shape)} with {g}")
    y = UnfoldOp.apply(x, geom=g)
    return S.squeeze(y, 0) if unbatched else y


@torch_node("Col2ImBackward0")
def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding blocks back into an image (col2im), the adjoint of ``unfold``:
    (N, C*kH*kW, L) -> (N, C, H, W) with (H, W) = ``output_size``."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"fold: expected input of shape (N, C*kH*kW, L) or (C*kH*kW, L), "
                           f"got {_shape_str(input.shape)}")
    unbatched = input.ndim == 2
    x = S.unsqueeze(input, 0) if unbatched else input
    g = _fold_geom(kernel_size, dilation, padding, stride, "fold")
    hw = _ntuple(output_size, 2, "output_size", "fold")
    kk = g.kh * g.kw
    ho, wo = g.out_hw(*hw)
    if x.shape[1] % kk or x.shape[2] != ho * wo:
        raise RuntimeError(
            f"fold: expected input of shape (N, C*{kk}, {ho * wo}) for output_size={hw} and "
            f"kernel_size={(g.kh, g.kw)}, got {_shape_str(x.shape)}"
        )
    y = FoldOp.apply(x, geom=g, x_shape=(x.shape[0], x.shape[1] // kk) + hw)
    return S.squeeze(y, 0) if unbatched else y


# ---- N-d convolution (3-D) ------------------------------------------------------------------


class ConvGeomNd(NamedTuple):
    """Geometry of an N-d convolution: per spatial dim the kernel, stride, dilation and the
    padding before (``lo``) and after (``hi``), and the groups."""

    k: tuple
    s: tuple
    d: tuple
    lo: tuple
    hi: tuple
    groups: int

    def out_size(self, size) -> tuple:
        return tuple((n + lo + hi - d * (k - 1) - 1) // s + 1 for n, k, s, d, lo, hi in
                     zip(size, self.k, self.s, self.d, self.lo, self.hi))


def _im2col_nd(x, g: ConvGeomNd, out):
    """Columns (C*prod(k), N*prod(out)) of x (N, C, *S), rows ordered (c, *kernel offset)
    like the flattened weight, columns (n, *output position); in recycled buffers."""
    xp = get_array_module(x)
    n, c = x.shape[:2]
    if any(g.lo) or any(g.hi):
        buf = scratch_empty(xp, (n, c) + tuple(a + lo + hi for a, lo, hi in
                                               zip(x.shape[2:], g.lo, g.hi)), x.dtype)
        buf.fill(0)
        buf[(slice(None), slice(None)) + tuple(slice(lo, lo + a) for a, lo in
                                                 zip(x.shape[2:], g.lo))] = x
    else:
        buf = xp.ascontiguousarray(x)
    st = buf.strides
    shape = (c,) + tuple(g.k) + (n,) + tuple(out)
    strides = (st[1],) + tuple(a * d for a, d in zip(st[2:], g.d)) + (st[0],) + \
        tuple(a * s for a, s in zip(st[2:], g.s))
    v = _as_strided(xp, buf, shape, strides)
    cols = scratch_empty(xp, shape, x.dtype)
    xp.copyto(cols, v)
    return cols.reshape(c * math.prod(g.k), -1)


def _col2im_nd(cols, x_shape, g: ConvGeomNd, out):
    """The adjoint of ``_im2col_nd``: columns summed back into a (N, C, *S) array."""
    xp = get_array_module(cols)
    n, c = x_shape[:2]
    size = tuple(x_shape[2:])
    c6 = cols.reshape((c,) + tuple(g.k) + (n,) + tuple(out))
    padded = tuple(a + lo + hi for a, lo, hi in zip(size, g.lo, g.hi))
    buf = scratch_empty(xp, (n, c) + padded, cols.dtype)
    buf.fill(0)
    for off in itertools.product(*(range(k) for k in g.k)):
        sl = tuple(slice(o * d, o * d + s * (m - 1) + 1, s) for o, d, s, m in
                   zip(off, g.d, g.s, out))
        buf[(slice(None), slice(None)) + sl] += c6[(slice(None),) + off].swapaxes(0, 1)
    if padded == size:
        return buf
    core = (slice(None), slice(None)) + tuple(slice(lo, lo + a) for a, lo in zip(size, g.lo))
    return xp.ascontiguousarray(buf[core])


def _conv_nd_raw(x, w, b, g: ConvGeomNd, out):
    """(N, O, *out) output and the columns; one GEMM per sample (batched by matmul), each
    writing its (O, prod(out)) block of the output directly."""
    xp = get_array_module(x)
    n, o = x.shape[0], w.shape[0]
    cols = _im2col_nd(x, g, out)
    gr = g.groups
    p = math.prod(out)
    y = xp.empty((n, o) + tuple(out), dtype=np.result_type(w, cols))
    c4 = cols.reshape(gr, cols.shape[0] // gr, n, p).transpose(2, 0, 1, 3)  # (N, gr, Kg, P)
    xp.matmul(w.reshape(gr, o // gr, -1), c4, out=y.reshape(n, gr, o // gr, p))
    if b is not None:
        y += b.reshape((-1,) + (1,) * len(out))
    return y, cols


def _weight_grad_nd(cols, gy, w_shape, g: ConvGeomNd):
    """sum over samples of gy_n (O, P) @ cols_n (K, P)^T, per group."""
    gr = g.groups
    n, o = gy.shape[:2]
    p = math.prod(gy.shape[2:])
    g4 = gy.reshape(n, gr, o // gr, p).transpose(1, 0, 2, 3).reshape(gr, o // gr, n * p) \
        if n == 1 else _grad_mat(gy).reshape(gr, o // gr, n * p)
    gw = g4 @ cols.reshape(gr, cols.shape[0] // gr, n * p).swapaxes(1, 2)
    return gw.reshape(w_shape)


def _grad_mat(gy):
    """gy (N, O, *out) as the (O, N*prod(out)) matrix the GEMMs take."""
    xp = get_array_module(gy)
    return xp.ascontiguousarray(gy.swapaxes(0, 1)).reshape(gy.shape[1], -1)


def _input_grad_nd(gy, w, x_shape, g: ConvGeomNd):
    """Columns w^T @ gy (one GEMM per sample, reading gy in place), then col2im."""
    xp = get_array_module(gy)
    gr = g.groups
    n, o = gy.shape[:2]
    p = math.prod(gy.shape[2:])
    w3 = w.reshape(gr, o // gr, -1).swapaxes(1, 2)  # (gr, Kg, O / gr)
    k = w3.shape[1] * gr
    with scratch_pool.borrow(xp, (k, n * p), np.result_type(w, gy)) as cols:
        c4 = cols.reshape(gr, cols.shape[0] // gr, n, p).transpose(2, 0, 1, 3)  # (N, gr, Kg, P)
        xp.matmul(w3, xp.ascontiguousarray(gy).reshape(n, gr, o // gr, p), out=c4)
        return _col2im_nd(cols, x_shape, g, gy.shape[2:])


def _bias_dims(nd: int) -> tuple:
    return (0,) + tuple(range(2, nd + 2))


class ConvNdOp(Op):
    """y = conv(x, w) + b in N-d; ``out`` may ask for fewer outputs than fit (the adjoint of
    a transposed convolution with output_padding >= stride)."""

    _torch_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, w, b=None, *, geom, out=None):
        _check_dtypes("conv3d", x, w, b)
        out = tuple(out) if out is not None else geom.out_size(x.shape[2:])
        y, cols = _conv_nd_raw(x, w, b, geom, out)
        e = ctx.next_edges
        if e:
            ctx.geom, ctx.x_shape, ctx.w_shape = geom, x.shape, w.shape
            need_w = e[1] is not None
            ctx.save_for_backward(x if need_w else None, w if e[0] is not None else None,
                                  cols if need_w else None)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, w, cols = ctx.saved_tensors
        e = ctx.next_edges
        g = ctx.geom
        gx = gw = gb = None
        if e[0] is not None:
            gx = ConvTransposeNdOp.apply(gy, w, geom=g, x_size=ctx.x_shape[2:])
        if e[1] is not None:
            if isinstance(gy, Tensor):
                gw = ConvWeightNdOp.apply(x, gy, geom=g, w_shape=ctx.w_shape)
            else:
                gw = _weight_grad_nd(cols, gy, ctx.w_shape, g)
        if len(e) > 2 and e[2] is not None:
            gb = attach_grad(R.sum(gy, dim=_bias_dims(len(g.k))), x, w)
        return gx, gw, gb


class ConvTransposeNdOp(Op):
    """The adjoint of ``ConvNdOp`` in its input: y = conv_transpose(g, w) + b of spatial
    size ``x_size``; ``w`` has the convolution's layout (C_in, C_out / groups, *k)."""

    _torch_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, g, w, b=None, *, geom, x_size):
        _check_dtypes("conv_transpose3d", g, w, b)
        x_shape = (g.shape[0], w.shape[1] * geom.groups) + tuple(x_size)
        y = _input_grad_nd(g, w, x_shape, geom)
        if b is not None:
            y += b.reshape((-1,) + (1,) * len(x_size))
        e = ctx.next_edges
        if e:
            ctx.geom, ctx.w_shape, ctx.g_size = geom, w.shape, g.shape[2:]
            ctx.save_for_backward(g if e[1] is not None else None,
                                  w if e[0] is not None else None)
        return y

    @staticmethod
    def backward(ctx, gy):
        g, w = ctx.saved_tensors
        e = ctx.next_edges
        gg = gw = gb = None
        if e[0] is not None:
            gg = ConvNdOp.apply(gy, w, geom=ctx.geom, out=ctx.g_size)
        if e[1] is not None:
            gw = ConvWeightNdOp.apply(gy, g, geom=ctx.geom, w_shape=ctx.w_shape)
        if len(e) > 2 and e[2] is not None:
            gb = attach_grad(R.sum(gy, dim=_bias_dims(len(ctx.geom.k))), g, w)
        return gg, gw, gb


class ConvWeightNdOp(Op):
    """The adjoint of ``ConvNdOp`` in its weight: gw = d<conv(x, w), g>/dw."""

    @staticmethod
    def forward(ctx, x, g, *, geom, w_shape):
        _check_dtypes("conv3d weight gradient", x, g)
        gw = _weight_grad_nd(_im2col_nd(x, geom, g.shape[2:]), g, w_shape, geom)
        e = ctx.next_edges
        if e:
            ctx.geom, ctx.x_size, ctx.g_size = geom, x.shape[2:], g.shape[2:]
            ctx.save_for_backward(x if e[1] is not None else None,
                                  g if e[0] is not None else None)
        return gw

    @staticmethod
    def backward(ctx, ggw):
        x, g = ctx.saved_tensors
        e = ctx.next_edges
        gx = gg = None
        if e[0] is not None:
            gx = ConvTransposeNdOp.apply(g, ggw, geom=ctx.geom, x_size=ctx.x_size)
        if e[1] is not None:
            gg = ConvNdOp.apply(x, ggw, geom=ctx.geom, out=ctx.g_size)
        return gx, gg


def _batch3(op: str, x):
    if x.ndim not in (4, 5):
        raise RuntimeError(f"{op}: expected input of shape (N, C, D, H, W) or (C, D, H, W), "
                           f"got {_shape_str(x.shape)} ({x.ndim}-D)")
    if x.ndim == 4:
        return S.unsqueeze(x, 0), True
    return x, False


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution (cross-correlation) over (N, C, D, H, W) or (C, D, H, W).

    Args:
        input: (N, C_in, D, H, W) or unbatched (C_in, D, H, W).
        weight: (C_out, C_in / groups, kD, kH, kW).
        bias: optional (C_out,).
        stride, dilation: int or (sD, sH, sW).
        padding: int, a 3-tuple, 'valid' or 'same' (stride 1 only).
        groups: channel groups.

    Returns:
        (N, C_out, D_out, H_out, W_out), D_out = (D + 2 pD - dD (kD - 1) - 1) // sD + 1.
    """
    op = "conv3d"
    x, unbatched = _batch3(op, input)
    if weight.ndim != 5:
        raise RuntimeError(f"{op}: expected a 5-D weight, got shape {_shape_str(weight.shape)}")
    ks = tuple(weight.shape[2:])
    stride = _ntuple(stride, 3, "stride", op)
    dilation = _ntuple(dilation, 3, "dilation", op)
    _positive(stride, "stride", op)
    _positive(dilation, "dilation", op)
    pads = _conv_pads(padding, ks, stride, dilation, op)
    g = ConvGeomNd(ks, stride, dilation, pads[0::2], pads[1::2], int(groups))
    _check_conv(op, x, weight, bias, g.groups, nd=3)
    out = g.out_size(x.shape[2:])
    if min(out) < 1:
        raise RuntimeError(
            f"{op}: calculated padded input size per channel: "
            f"({' x '.join(str(a + lo + hi) for a, lo, hi in zip(x.shape[2:], g.lo, g.hi))}); "
            f"effective kernel size: ({' x '.join(str(d * (k - 1) + 1) for d, k in zip(g.d, g.k))}"
            f"). The kernel can't be greater than the padded input (input shape "
            f"{_shape_str(x.shape)})")
    y = ConvNdOp.apply(x, weight, geom=g) if bias is None else \
        ConvNdOp.apply(x, weight, bias, geom=g)
    return S.squeeze(y, 0) if unbatched else y


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """3-D transposed convolution (the gradient of ``conv3d`` with respect to its input).

    Args:
        input: (N, C_in, D, H, W) or unbatched (C_in, D, H, W).
        weight: (C_in, C_out / groups, kD, kH, kW).
        bias: optional (C_out,).
        stride, padding, dilation, groups: those of the convolution being transposed.
        output_padding: extra size added at the end of each output dim (< stride or
            < dilation).

    Returns:
        (N, C_out, D_out, H_out, W_out), D_out = (D - 1) sD - 2 pD + dD (kD - 1) + opD + 1.
    """
    op = "conv_transpose3d"
    x, unbatched = _batch3(op, input)
    if weight.ndim != 5:
        raise RuntimeError(f"{op}: expected a 5-D weight, got shape {_shape_str(weight.shape)}")
    ks = tuple(weight.shape[2:])
    stride = _ntuple(stride, 3, "stride", op)
    dilation = _ntuple(dilation, 3, "dilation", op)
    padding = _ntuple(padding, 3, "padding", op)
    output_padding = _ntuple(output_padding, 3, "output_padding", op)
    _positive(stride, "stride", op)
    _positive(dilation, "dilation", op)
    if any(p < 0 for p in padding + output_padding):
        raise ValueError(f"{op}: negative padding is not supported, got padding={padding}, "
                         f"output_padding={output_padding}")
    for op_, s, d in zip(output_padding, stride, dilation):
        if op_ >= s and op_ >= d:
            raise ValueError(
                f"{op}: output padding must be smaller than either stride or dilation, got "
                f"output_padding={output_padding}, stride={stride}, dilation={dilation}")
    groups = int(groups)
    _check_conv(op, x, weight, bias, groups, transposed=True, nd=3)
    g = ConvGeomNd(ks, stride, dilation, padding, padding, groups)
    size = tuple((i - 1) * s - 2 * p + d * (k - 1) + o + 1 for i, s, p, d, k, o in
                 zip(x.shape[2:], stride, padding, dilation, ks, output_padding))
    if min(size) < 1:
        raise RuntimeError(f"{op}: the output size {size} for input of shape "
                           f"{_shape_str(x.shape)} is too small (check padding)")
    y = ConvTransposeNdOp.apply(x, weight, geom=g, x_size=size) if bias is None else \
        ConvTransposeNdOp.apply(x, weight, bias, geom=g, x_size=size)
    return S.squeeze(y, 0) if unbatched else y


def conv_tbc(input, weight, bias, pad=0):
    """1-D convolution over time-batch-channel inputs (fairseq's layout).

    Args:
        input: (T, N, C_in).
        weight: (k, C_in, C_out).
        bias: (C_out,).
        pad: zero padding at both ends of the time dim.

    Returns:
        (T + 2 pad - k + 1, N, C_out).
    """
    if input.ndim != 3:
        raise RuntimeError("Input must have 3 dims: time, batch, in_channel")
    if weight.ndim != 3:
        raise RuntimeError("Weight tensor must have 3 dims: kernel_width, in_channels, "
                           "out_channels.")
    if bias.ndim != 1:
        raise RuntimeError("Bias must have 1 dim: out_channels")
    if input.shape[2] != weight.shape[1]:
        raise RuntimeError("Input dim 2 (input channels) is not == dim 1 in the weight tensor")
    if bias.shape[0] != weight.shape[2]:
        raise RuntimeError("Bias size must equal dim 2 in the weight tensor (output "
                           "channels).")
    x = S.permute(input, (1, 2, 0))
    w = S.permute(weight, (2, 1, 0))
    y = conv1d(x, w, bias, padding=int(pad))
    return S.contiguous(S.permute(y, (2, 0, 1)))


# ---- forward-mode rules of the N-d ops (autograd.forward_ad) ----------------------------------


@jvp_rule("ConvNdOp", "ConvTransposeNdOp")
def _conv_nd_jvp(cls, ctx, prims, tans, ys, kwargs):
    """Bilinear in (input, weight), plus the bias tangent."""
    out = None
    for i in (0, 1):
        if tans[i] is None:
            continue
        args = list(prims[:2])
        args[i] = tans[i]
        t = cls.forward(object.__new__(cls), *args, None, **kwargs)
        out = t if out is None else out + t
    if len(tans) > 2 and tans[2] is not None:
        tb = tans[2].reshape((1, -1) + (1,) * (ys.ndim - 2))
        out = tb + 0 * ys if out is None else out + tb
    return out


@jvp_rule("ConvWeightNdOp")
def _conv_weight_nd_jvp(cls, ctx, prims, tans, ys, kwargs):
    """Bilinear in (input, output gradient)."""
    out = None
    for i, t in enumerate(tans):
        if t is None:
            continue
        args = list(prims)
        args[i] = t
        r = cls.forward(object.__new__(cls), *args, **kwargs)
        out = r if out is None else out + r
    return out
