"""Convolution and pooling ops behind ``nn.functional``: ``conv1d``, ``conv2d``,
``conv_transpose1d``, ``conv_transpose2d``, ``max_pool1d/2d``, ``avg_pool1d/2d``,
``adaptive_avg_pool1d/2d``, ``interpolate``, ``unfold`` and ``fold``.

Memory layout (why the code transposes so much)
-----------------------------------------------
Tensors keep PyTorch's logical shape (N, C, H, W), but the arrays these ops produce are laid
out in memory as (C, H, W, N): batch innermost. NumPy copies and adds through strided views
run near memcpy speed only when the innermost contiguous run is long; with N innermost, every
im2col copy and every col2im add moves runs of ``Wo * N`` elements instead of ``Wo``, 3 to 6
times faster on small images. Element-wise ops keep the layout (NumPy's K order), so a whole
conv / ReLU / pool stack passes arrays along without a single transposing copy; the first
reshape that needs C order (``flatten`` before a Linear layer) pays one small copy.

Convolution = im2col + one GEMM
-------------------------------
Forward: the zero-padded input, in (C, Hp, Wp, N) order, is viewed with ``as_strided`` as
(C, kh, kw, Ho, Wo, N) windows, copied once into columns (C*kh*kw, Ho*Wo*N) and multiplied by
the weight (O, C*kh*kw) in one GEMM (batched over groups), which gives the output directly in
(O, Ho, Wo, N) order. Backward-weight is one GEMM of the output gradient with the columns
saved by forward; backward-input is one GEMM back to columns followed by col2im: kh*kw
strided adds of whole tensors (no ``np.add.at``).

Three ops close under differentiation, as in PyTorch, so convolution is differentiable any
number of times (each backward is written with the other two):

* ``Conv2dOp(x, w)``: the convolution.
* ``ConvTranspose2dOp(g, w)``: its adjoint in x (the input gradient; ``conv_transpose2d``).
* ``ConvWeightOp(x, g)``: its adjoint in w (the weight gradient).

1-D versions reshape to 2-D with a height of 1.

Pooling = loops over kernel offsets
-----------------------------------
Max and average pooling loop over the kh*kw kernel offsets, each step one whole-tensor op on
a strided view: max pooling keeps the running maximum and the offset (``code``, int8) of the
first maximum (PyTorch's tie rule); its backward writes ``(code == k) * gy`` into each
offset's view (assigned when windows do not overlap, added when they do). Pool backwards
are linear ops paired with their adjoints (scatter/gather, sum/spread), so they are twice
differentiable too. Adaptive average pooling with uneven windows and linear interpolation
are separable linear maps, applied as two small matmuls (differentiable through MatMul).
"""

from __future__ import annotations

import math
import numbers
import sys
from typing import NamedTuple

import numpy as np

from autograd.backend import get_array_module
from autograd.function import Op
from autograd.ops import reduction as R
from autograd.ops import shape as S
from autograd.ops.indexing import index_select
from autograd.ops.linalg import matmul
from autograd.tensor import Tensor

# ---- argument helpers ---------------------------------------------------------------------


def _ntuple(v, n: int, name: str, op: str) -> tuple:
    """An int or a sequence of ``n`` ints, as a tuple of ``n`` ints."""
    if isinstance(v, numbers.Integral):
        return (int(v),) * n
    try:
        t = tuple(int(a) for a in v)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}") from None
    if len(t) == 1:
        t = t * n
    if len(t) != n:
        raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}")
    return t


def _positive(t: tuple, name: str, op: str) -> None:
    if any(a <= 0 for a in t):
        raise ValueError(f"{op}: {name} must be positive, got {t}")


def _data(x):
    return x._data if isinstance(x, Tensor) else x


def _shape_str(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


# ---- layout helpers -----------------------------------------------------------------------


def _order(a) -> tuple:
    """The dims of ``a`` from the outermost in memory to the innermost."""
    return tuple(sorted(range(a.ndim), key=lambda d: -abs(a.strides[d])))


def _zeros_in_order(xp, shape, order, dtype):
    """Zeros of ``shape`` laid out in memory in dim ``order`` (see ``_order``): a backward
    keeps the layout of the forward input it is the gradient of."""
    buf = xp.zeros(tuple(shape[d] for d in order), dtype=dtype)
    return buf.transpose(tuple(int(i) for i in np.argsort(order)))


def _chwn(xp, x, pads):
    """(N, C, H, W) -> a C-contiguous (C, H + pt + pb, W + pl + pr, N) array, zero-padded."""
    pt, pb, pl, pr = pads
    xt = x.transpose(1, 2, 3, 0)
    if not (pt or pb or pl or pr):
        return xt if xt.flags.c_contiguous else xp.ascontiguousarray(xt)
    c, h, w, n = xt.shape
    buf = xp.zeros((c, h + pt + pb, w + pl + pr, n), dtype=x.dtype)
    buf[:, pt:pt + h, pl:pl + w] = xt
    return buf


# Big buffers (im2col columns, their gradient, pool-backward outputs) come from a small cache
# of NumPy arrays: glibc returns freed multi-megabyte blocks to the OS and page-faults them
# back in on the next step, which cost ~20% of a small CNN's training step. A cached array is
# handed out again only when nothing else references it (its views, e.g. columns saved for
# backward or a gradient held anywhere, count), so reuse is safe whatever the graph or the
# user does (retain_graph, create_graph, several models, arrays kept from .numpy()).
_SCRATCH: list = []  # cached buffers, oldest first
_SCRATCH_MIN = 1 << 20  # bytes: smaller arrays come cheaply from malloc
_SCRATCH_CAP = 128 << 20  # bytes kept in all (a larger buffer is never kept)


def _scratch(xp, shape, dtype):
    """An uninitialised array, reused across calls once unreferenced (NumPy only)."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if xp is not np or not _SCRATCH_MIN <= nbytes <= _SCRATCH_CAP:
        return xp.empty(shape, dtype=dtype)
    for b in _SCRATCH:
        # referenced only by the list, the loop variable and getrefcount's argument: free
        if b.shape == shape and b.dtype == dtype and sys.getrefcount(b) == 3:
            return b
    b = np.empty(shape, dtype=dtype)
    kept = sum(a.nbytes for a in _SCRATCH)
    i = 0
    while kept + nbytes > _SCRATCH_CAP and i < len(_SCRATCH):
        if sys.getrefcount(_SCRATCH[i]) == 2:  # the list and the argument: free, evict
            kept -= _SCRATCH.pop(i).nbytes
        else:
            i += 1
    if kept + nbytes <= _SCRATCH_CAP:
        _SCRATCH.append(b)
    return b


def _as_strided(xp, a, shape, strides):
    return xp.lib.stride_tricks.as_strided(a, shape=shape, strides=strides)


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


def _im2col(x, g: ConvGeom, out_hw=None):
    """Columns (C*kh*kw, Ho*Wo*N) of x (N, C, H, W), rows ordered (c, i, j) like the weight's
    flattened (C, kh, kw) and columns ordered (ho, wo, n). ``out_hw`` may ask for fewer
    output rows/columns than fit (the adjoint of a transposed convolution whose
    output_padding >= stride)."""
    xp = get_array_module(x)
    buf = _chwn(xp, x, g.pads)
    c, hp, wp, n = buf.shape
    ho, wo = out_hw or g.out_hw(x.shape[2], x.shape[3])
    s0, s1, s2, s3 = buf.strides
    shape = (c, g.kh, g.kw, ho, wo, n)
    v = _as_strided(xp, buf, shape, (s0, s1 * g.dh, s2 * g.dw, s1 * g.sh, s2 * g.sw, s3))
    if v.flags.c_contiguous:  # 1x1 kernel, stride 1: the input itself
        cols = v
    else:
        cols = _scratch(xp, shape, buf.dtype)
        xp.copyto(cols, v)
    return cols.reshape(c * g.kh * g.kw, ho * wo * n)


def _col2im(cols, x_shape, g: ConvGeom, ho: int, wo: int):
    """The adjoint of ``_im2col``: sum the columns back into an (N, C, H, W) array (laid out
    (C, H, W, N)), with one strided add of the whole tensor per kernel offset."""
    xp = get_array_module(cols)
    n, c, h, w = x_shape
    hp, wp = h + g.pt + g.pb, w + g.pl + g.pr
    c6 = cols.reshape(c, g.kh, g.kw, ho, wo, n)
    he, we = g.sh * (ho - 1) + 1, g.sw * (wo - 1) + 1
    if g.kh == g.kw == 1 and g.sh == g.sw == 1 and (hp, wp) == (ho, wo):
        buf = c6[:, 0, 0]
    else:
        buf = xp.zeros((c, hp, wp, n), dtype=cols.dtype)
        for i in range(g.kh):
            for j in range(g.kw):
                buf[:, i * g.dh:i * g.dh + he:g.sh, j * g.dw:j * g.dw + we:g.sw] += c6[:, i, j]
    return buf[:, g.pt:g.pt + h, g.pl:g.pl + w].transpose(3, 0, 1, 2)


def _grad2(gy):
    """An output gradient (N, O, Ho, Wo) as a (O, Ho*Wo*N) matrix (free for our layout)."""
    return gy.transpose(1, 2, 3, 0).reshape(gy.shape[1], -1)


def _conv_raw(x, w, b, g: ConvGeom, out_hw=None):
    cols = _im2col(x, g, out_hw)
    n, o = x.shape[0], w.shape[0]
    ho, wo = out_hw or g.out_hw(x.shape[2], x.shape[3])
    if g.groups == 1:
        y = w.reshape(o, -1) @ cols
    else:
        gr = g.groups
        y = (w.reshape(gr, o // gr, -1) @ cols.reshape(gr, -1, cols.shape[1])).reshape(o, -1)
    if b is not None:
        y += b[:, None]
    return y.reshape(o, ho, wo, n).transpose(3, 0, 1, 2), cols


def _weight_grad_raw(cols, gy, w_shape, g: ConvGeom):
    g2 = _grad2(gy)
    if g.groups == 1:
        gw = g2 @ cols.T
    else:
        gr = g.groups
        c3 = cols.reshape(gr, -1, cols.shape[1])
        gw = g2.reshape(gr, -1, g2.shape[1]) @ c3.transpose(0, 2, 1)
    return gw.reshape(w_shape)


def _input_grad_raw(gy, w, x_shape, g: ConvGeom):
    xp = get_array_module(gy)
    g2 = _grad2(gy)
    o = w.shape[0]
    gr = g.groups
    cols = _scratch(xp, (w[0].size * gr, g2.shape[1]), np.result_type(w, g2))
    if gr == 1:
        xp.matmul(w.reshape(o, -1).T, g2, out=cols)
    else:
        w3 = w.reshape(gr, o // gr, -1).transpose(0, 2, 1)
        xp.matmul(w3, g2.reshape(gr, o // gr, -1), out=cols.reshape(gr, w3.shape[1], -1))
    return _col2im(cols, x_shape, g, gy.shape[2], gy.shape[3])


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

    @staticmethod
    def forward(ctx, x, w, b=None, *, geom, out_hw=None):
        _check_dtypes("conv2d", x, w, b)
        y, cols = _conv_raw(x, w, b, geom, out_hw)
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
            gx = ConvTranspose2dOp.apply(gy, w, geom=g, x_hw=ctx.x_shape[2:])
        if e[1] is not None:
            if isinstance(gy, Tensor):
                gw = ConvWeightOp.apply(x, gy, geom=g, w_shape=ctx.w_shape)
            else:
                gw = _weight_grad_raw(cols, gy, ctx.w_shape, g)
        if len(e) > 2 and e[2] is not None:
            gb = R.sum(gy, dim=(0, 2, 3))
        return gx, gw, gb


class ConvTranspose2dOp(Op):
    """The adjoint of ``Conv2dOp`` in its input: y = conv_transpose2d(g, w) + b, of spatial
    size ``x_hw``. ``w`` has the convolution's layout (C_g_in, C_out / groups, kh, kw)."""

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
            gb = R.sum(gy, dim=(0, 2, 3))
        return gg, gw, gb


class ConvWeightOp(Op):
    """The adjoint of ``Conv2dOp`` in its weight: gw = d<conv2d(x, w), g>/dw."""

    @staticmethod
    def forward(ctx, x, g, *, geom, w_shape):
        _check_dtypes("conv2d weight gradient", x, g)
        gw = _weight_grad_raw(_im2col(x, geom, g.shape[2:]), g, w_shape, geom)
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


# ---- convolution wrappers -----------------------------------------------------------------


def _batch(op: str, x, nd: int, channels: int | None = None, what: str | None = None):
    """Check the rank (and channels) of a (N, C, *spatial) or unbatched (C, *spatial)
    input; returns (input with a batch dim, whether one was added)."""
    sp = ("L",) if nd == 1 else ("H", "W")
    ch = "C" if channels is None else str(channels)
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"{what or op}: expected input of shape (N, {ch}, {', '.join(sp)}) or "
            f"({ch}, {', '.join(sp)}), got {_shape_str(x.shape)} ({x.ndim}-D)"
        )
    unbatched = x.ndim == nd + 1
    c = x.shape[0] if unbatched else x.shape[1]
    if channels is not None and c != channels:
        raise RuntimeError(
            f"{what or op}: expected input of shape (N, {ch}, {', '.join(sp)}) or "
            f"({ch}, {', '.join(sp)}), got {_shape_str(x.shape)} ({c} channels instead of "
            f"{channels})"
        )
    if unbatched:
        x = S.unsqueeze(x, 0)
    return x, unbatched


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
            if any(s != 1 for s in stride):
                raise ValueError(f"{op}: padding='same' is not supported for strided "
                                 f"convolutions (stride={stride})")
            out = ()
            for k, d in zip(ks, dilation):
                out += _same_pads(k, d)
            return out
        raise ValueError(f"{op}: invalid padding string {padding!r}, should be one of "
                         "{'valid', 'same'}")
    p = _ntuple(padding, nd, "padding", op)
    if any(a < 0 for a in p):
        raise ValueError(f"{op}: negative padding is not supported, got {p}")
    out = ()
    for a in p:
        out += (a, a)
    return out


def _check_conv(op, x, w, b, groups, transposed=False):
    if w.ndim != 4:
        raise RuntimeError(f"{op}: expected a 4-D weight, got shape {_shape_str(w.shape)}")
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
    y = S.squeeze(y, 2)
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
        cols = _im2col(x, geom)
        n = x.shape[0]
        return cols.reshape(cols.shape[0], ho * wo, n).transpose(2, 0, 1)

    @staticmethod
    def backward(ctx, gy):
        return FoldOp.apply(gy, geom=ctx.geom, x_shape=ctx.x_shape)


class FoldOp(Op):
    """(N, C*kh*kw, L) blocks summed back into (N, C, H, W); backward is ``UnfoldOp``."""

    @staticmethod
    def forward(ctx, cols, *, geom, x_shape):
        ctx.geom = geom
        ho, wo = geom.out_hw(x_shape[2], x_shape[3])
        c2 = cols.transpose(1, 2, 0).reshape(cols.shape[1], -1)
        return _col2im(c2, x_shape, geom, ho, wo)

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


# ---- pooling ----------------------------------------------------------------------------


class PoolGeom(NamedTuple):
    """Geometry of a 2-D pooling: kernel, stride, dilation, padding, input and output size,
    and the pads actually applied (bottom/right extended for ceil_mode)."""

    kh: int
    kw: int
    sh: int
    sw: int
    dh: int
    dw: int
    ph: int
    pw: int
    h: int
    w: int
    ho: int
    wo: int
    pb: int
    pr: int

    @property
    def overlap(self) -> bool:
        return self.sh < self.dh * (self.kh - 1) + 1 or self.sw < self.dw * (self.kw - 1) + 1

    def offsets(self):
        return [(i, j) for i in range(self.kh) for j in range(self.kw)]

    def window(self, a, i: int, j: int):
        """The (N, C, Ho, Wo) view of padded ``a`` at kernel offset (i, j)."""
        r, c = i * self.dh, j * self.dw
        return a[:, :, r:r + self.sh * (self.ho - 1) + 1:self.sh,
                 c:c + self.sw * (self.wo - 1) + 1:self.sw]


def _pool_out(size, k, s, p, d, ceil_mode):
    o = (size + 2 * p - d * (k - 1) - 1 + ((s - 1) if ceil_mode else 0)) // s + 1
    if ceil_mode and (o - 1) * s >= size + p:
        o -= 1  # the last window must start inside the input or its left padding
    return o


def _pool_geom(op, x, kernel_size, stride, padding, dilation, ceil_mode, nd=2):
    k = _ntuple(kernel_size, nd, "kernel_size", op)
    s = k if stride is None or (not isinstance(stride, numbers.Integral) and len(stride) == 0) \
        else _ntuple(stride, nd, "stride", op)
    p = _ntuple(padding, nd, "padding", op)
    d = _ntuple(dilation, nd, "dilation", op)
    for name, t in (("kernel_size", k), ("stride", s), ("dilation", d)):
        _positive(t, name, op)
    if nd == 1:
        k, s, p, d = (1,) + k, (1,) + s, (0,) + p, (1,) + d
    for pi, ki in zip(p, k):
        if pi < 0 or pi > ki // 2:
            raise ValueError(f"{op}: pad should be at most half of kernel size, but got "
                             f"padding={padding}, kernel_size={kernel_size}")
    h, w = x.shape[2], x.shape[3]
    ho = _pool_out(h, k[0], s[0], p[0], d[0], ceil_mode)
    wo = _pool_out(w, k[1], s[1], p[1], d[1], ceil_mode)
    if ho < 1 or wo < 1:
        shown = (x.shape[1],) + ((h, w) if nd == 2 else (w,))
        out = (x.shape[1],) + ((ho, wo) if nd == 2 else (wo,))
        raise RuntimeError(
            f"{op}: given input of shape {_shape_str(x.shape)} (per sample "
            f"{'x'.join(map(str, shown))}), the calculated output size "
            f"{'x'.join(map(str, out))} is too small (kernel_size={kernel_size}, "
            f"padding={padding}, dilation={dilation})"
        )
    pb = max(0, (ho - 1) * s[0] + d[0] * (k[0] - 1) + 1 - h - p[0])
    pr = max(0, (wo - 1) * s[1] + d[1] * (k[1] - 1) + 1 - w - p[1])
    return PoolGeom(k[0], k[1], s[0], s[1], d[0], d[1], p[0], p[1], h, w, ho, wo, pb, pr)


def _pad_pool(x, g: PoolGeom, value):
    """x padded by (ph, pb) rows and (pw, pr) columns of ``value``, keeping x's layout."""
    if not (g.ph or g.pb or g.pw or g.pr):
        return x
    xp = get_array_module(x)
    n, c = x.shape[:2]
    buf = _zeros_in_order(xp, (n, c, g.h + g.ph + g.pb, g.w + g.pw + g.pr), _order(x),
                          x.dtype)
    if value != 0:
        buf[...] = value
    buf[:, :, g.ph:g.ph + g.h, g.pw:g.pw + g.w] = x
    return buf


def _crop_pool(a, g: PoolGeom):
    if not (g.ph or g.pb or g.pw or g.pr):
        return a
    return a[:, :, g.ph:g.ph + g.h, g.pw:g.pw + g.w]


def _spread(gy, g: PoolGeom, order, fill):
    """The adjoint of reading the kernel-offset windows: sum ``fill(k, out)`` for each
    offset k into an array shaped like the padded input (laid out in dim ``order``),
    cropped. ``fill`` writes into ``out`` when given (windows that do not overlap are
    written, not added), else returns the values to add."""
    xp = get_array_module(gy)
    n, c = gy.shape[:2]
    hp, wp = g.h + g.ph + g.pb, g.w + g.pw + g.pr
    shape = (n, c, hp, wp)
    assign = not g.overlap
    tiled = assign and g.dh == g.dw == 1 and (g.sh, g.sw) == (g.kh, g.kw) and \
        (hp, wp) == (g.ho * g.kh, g.wo * g.kw)
    # a reused buffer (see _scratch): a fresh one page-faults in, slower than the work
    buf = _scratch(xp, tuple(shape[d] for d in order), gy.dtype)
    if not tiled:  # else every element is written exactly once
        buf.fill(0)
    buf = buf.transpose(tuple(int(i) for i in np.argsort(order)))
    for k, (i, j) in enumerate(g.offsets()):
        v = g.window(buf, i, j)
        if assign:
            fill(k, v)
        else:
            v += fill(k, None)
    return _crop_pool(buf, g)


def _max_raw(x, g: PoolGeom):
    """Max over each window and the kernel offset of its first maximum (int8, int32 for
    kernels of 128+ elements). A NaN maximum propagates; its offset is then arbitrary."""
    xp = get_array_module(x)
    if x.dtype.kind == "f":
        low = -math.inf
    elif x.dtype.kind == "b":
        low = False
    else:
        low = np.iinfo(x.dtype).min
    a = _pad_pool(x, g, low)
    offs = g.offsets()
    ctype = np.int8 if len(offs) < 128 else np.int32
    y = g.window(a, 0, 0).copy(order="K")  # keep x's layout (see the module docstring)
    code = xp.zeros_like(y, dtype=ctype)
    for k, (i, j) in enumerate(offs[1:], 1):
        v = g.window(a, i, j)
        m = v > y  # strict: ties keep the first maximum
        code += m * (ctype(k) - code)  # where(m, k, code), 7x faster than code[m] = k
        xp.maximum(y, v, out=y)  # NaN propagates like PyTorch
    return y, code


class MaxPool2dOp(Op):
    """Max over each window; saves the int8 argmax offsets (and hands them to ``codes``, a
    list, when given: return_indices)."""

    @staticmethod
    def forward(ctx, x, *, geom, codes=None):
        y, code = _max_raw(x, geom)
        if codes is not None:
            codes.append(code)
        if ctx.next_edges:
            ctx.geom, ctx.order = geom, _order(x)
            ctx.save_for_backward(code)
        return y

    @staticmethod
    def backward(ctx, gy):
        (code,) = ctx.saved_tensors
        return MaxPoolScatterOp.apply(gy, _data(code), geom=ctx.geom, order=ctx.order)


class MaxPoolScatterOp(Op):
    """Max-pool backward: each output gradient goes to its window's argmax (linear in gy;
    its adjoint is ``MaxPoolGatherOp``)."""

    @staticmethod
    def forward(ctx, gy, code, *, geom, order):
        ctx.geom, ctx.code = geom, code
        xp = get_array_module(gy)
        co = _order(code)
        if _order(gy) != co:  # e.g. from a flatten: ops on mixed layouts run 5-10x slower
            g2 = _zeros_in_order(xp, gy.shape, co, gy.dtype)
            g2[...] = gy
            gy = g2
        # (code == k) * gy: a multiply is far faster than where(code == k, gy, 0)
        return _spread(gy, geom, order, lambda k, out: xp.multiply(code == k, gy, out=out))

    @staticmethod
    def backward(ctx, ggx):
        return MaxPoolGatherOp.apply(ggx, ctx.code, geom=ctx.geom), None


class MaxPoolGatherOp(Op):
    """Read each window's argmax (the adjoint of ``MaxPoolScatterOp``)."""

    @staticmethod
    def forward(ctx, x, code, *, geom):
        ctx.geom, ctx.code = geom, code
        xp = get_array_module(x)
        a = _pad_pool(x, geom, 0)
        out = xp.zeros(code.shape, dtype=x.dtype)
        for k, (i, j) in enumerate(geom.offsets()):
            out = xp.where(code == k, geom.window(a, i, j), out)
        return out

    @staticmethod
    def backward(ctx, gy):
        return MaxPoolScatterOp.apply(gy, ctx.code, geom=ctx.geom, order=_order(gy)), None


def _indices(code, g: PoolGeom):
    """PyTorch's return_indices: the flat index (h * W + w) of each maximum in its plane."""
    xp = get_array_module(code)
    c = code.astype(np.int64)
    rows = xp.arange(g.ho).reshape(-1, 1) * g.sh - g.ph + (c // g.kw) * g.dh
    cols = xp.arange(g.wo) * g.sw - g.pw + (c % g.kw) * g.dw
    return rows * g.w + cols


def _pool_input(op, input, nd):
    x, unbatched = _batch(op, input, nd)
    if nd == 1:
        x = S.unsqueeze(x, 2)
    return x, unbatched


def _pool_output(y, unbatched, nd):
    if nd == 1:
        y = S.squeeze(y, 2)
    return S.squeeze(y, 0) if unbatched else y


def _max_pool(op, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
              nd):
    x, unbatched = _pool_input(op, input, nd)
    g = _pool_geom(op, x, kernel_size, stride, padding, dilation, ceil_mode, nd)
    if x.dtype.kind == "c":
        raise RuntimeError(f"{op}: complex inputs are not supported")
    codes = [] if return_indices else None
    y = MaxPool2dOp.apply(x, geom=g, codes=codes)
    out = _pool_output(y, unbatched, nd)
    if not return_indices:
        return out
    idx = _indices(codes[0], g)
    idx = Tensor(idx) if isinstance(y, Tensor) else idx
    return out, _pool_output(idx, unbatched, nd)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling over (N, C, H, W) or (C, H, W).

    Args:
        kernel_size: int or (kH, kW).
        stride: defaults to kernel_size.
        padding: implicit -inf padding on both sides, at most half the kernel size.
        dilation: spacing between kernel elements.
        ceil_mode: round the output size up (a last partial window is kept when it starts
            inside the input or its left padding).
        return_indices: also return the flat index (h * W + w) of each maximum, as
            ``max_unpool2d`` expects. Ties go to the first maximum in the window.
    """
    return _max_pool("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, 2)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling over (N, C, L) or (C, L); see ``max_pool2d``."""
    return _max_pool("max_pool1d", input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, 1)


def _avg_divisor(xp, g: PoolGeom, count_include_pad, divisor_override, dtype):
    if divisor_override is not None:
        return float(divisor_override)

    def counts(size, o, k, s, p):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, size + p)
        if count_include_pad:
            return end - start
        return np.minimum(end, size) - np.maximum(start, 0)

    ch = counts(g.h, g.ho, g.kh, g.sh, g.ph)
    cw = counts(g.w, g.wo, g.kw, g.sw, g.pw)
    div = np.outer(ch, cw)
    if (div == div.flat[0]).all():
        return float(div.flat[0])
    return xp.asarray(div, dtype=dtype)


class AvgPool2dOp(Op):
    """Sum over each window divided by ``div`` (a number or an (Ho, Wo) array); linear, its
    adjoint is ``AvgSpreadOp``."""

    @staticmethod
    def forward(ctx, x, *, geom, div):
        ctx.geom, ctx.div, ctx.order = geom, div, _order(x)
        a = _pad_pool(x, geom, 0)
        offs = geom.offsets()
        y = geom.window(a, 0, 0).copy(order="K") if len(offs) == 1 else \
            geom.window(a, *offs[0]) + geom.window(a, *offs[1])
        for i, j in offs[2:]:
            y += geom.window(a, i, j)
        y /= div
        return y

    @staticmethod
    def backward(ctx, gy):
        return AvgSpreadOp.apply(gy, geom=ctx.geom, div=ctx.div, order=ctx.order)


class AvgSpreadOp(Op):
    """Average-pool backward: each output gradient / divisor spread over its window."""

    @staticmethod
    def forward(ctx, gy, *, geom, div, order):
        ctx.geom, ctx.div = geom, div
        q = gy / div
        xp = get_array_module(gy)

        def fill(k, out):
            if out is None:
                return q
            xp.copyto(out, q)

        return _spread(gy, geom, order, fill)

    @staticmethod
    def backward(ctx, ggx):
        return AvgPool2dOp.apply(ggx, geom=ctx.geom, div=ctx.div)


def _avg_pool(op, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override, nd):
    x, unbatched = _pool_input(op, input, nd)
    if x.dtype.kind not in "fc":
        raise RuntimeError(f"{op}: expected a floating-point input, got {x.dtype}")
    g = _pool_geom(op, x, kernel_size, stride, padding, 1, ceil_mode, nd)
    if divisor_override is not None and divisor_override == 0:
        raise ValueError(f"{op}: divisor must not be zero")
    div = _avg_divisor(get_array_module(_data(x)), g, count_include_pad, divisor_override,
                       x.dtype)
    y = AvgPool2dOp.apply(x, geom=g, div=div)
    return _pool_output(y, unbatched, nd)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling over (N, C, H, W) or (C, H, W).

    Args:
        kernel_size: int or (kH, kW); stride defaults to it.
        padding: implicit zero padding on both sides, at most half the kernel size.
        ceil_mode: round the output size up (see ``max_pool2d``).
        count_include_pad: count the zero padding in the divisor (windows running past the
            padding, with ceil_mode, are clipped either way, as in PyTorch).
        divisor_override: divide every window sum by this instead.
    """
    return _avg_pool("avg_pool2d", input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override, 2)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling over (N, C, L) or (C, L); see ``avg_pool2d``."""
    return _avg_pool("avg_pool1d", input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None, 1)


# ---- adaptive pooling and interpolation (separable linear maps) ---------------------------


def _adaptive_matrix(size: int, out: int):
    """(out, size) averaging matrix of PyTorch's adaptive windows
    [floor(i size / out), ceil((i + 1) size / out))."""
    m = np.zeros((out, size))
    for i in range(out):
        a = (i * size) // out
        b = -((-(i + 1) * size) // out)
        m[i, a:b] = 1.0 / (b - a)
    return m


def _out_sizes(op, output_size, in_sizes):
    nd = len(in_sizes)
    if isinstance(output_size, numbers.Integral) or output_size is None:
        output_size = (output_size,) * nd
    output_size = tuple(output_size)
    if len(output_size) != nd:
        raise ValueError(f"{op}: output_size must be an int or a tuple of {nd}, got "
                         f"{output_size!r}")
    out = tuple(s if o is None else int(o) for o, s in zip(output_size, in_sizes))
    if any(o < 1 for o in out):
        raise ValueError(f"{op}: output_size must be positive, got {output_size!r}")
    return out


def _separable(x, mh, mw):
    """Apply (Ho, H) and (Wo, W) matrices to the last two dims: mh @ x @ mw.T (each skipped
    when None)."""
    xp = get_array_module(_data(x))
    dt = x.dtype
    if mw is not None:
        x = matmul(x, xp.asarray(mw.T, dtype=dt))
    if mh is not None:
        x = matmul(xp.asarray(mh, dtype=dt), x)
    return x


def _adaptive_avg(op, input, output_size, nd):
    x, unbatched = _pool_input(op, input, nd)
    if x.dtype.kind not in "fc":
        raise RuntimeError(f"{op}: expected a floating-point input, got {x.dtype}")
    h, w = x.shape[2], x.shape[3]
    oh, ow = (1,) + _out_sizes(op, output_size, (w,)) if nd == 1 else \
        _out_sizes(op, output_size, (h, w))
    if (oh, ow) == (1, 1):
        y = R.mean(x, dim=(2, 3), keepdim=True)
    elif h % oh == 0 and w % ow == 0:
        g = _pool_geom(op, x, (h // oh, w // ow), None, 0, 1, False)
        y = AvgPool2dOp.apply(x, geom=g, div=float((h // oh) * (w // ow)))
    else:
        y = _separable(x, None if oh == h else _adaptive_matrix(h, oh),
                       None if ow == w else _adaptive_matrix(w, ow))
    return _pool_output(y, unbatched, nd)


def adaptive_avg_pool2d(input, output_size):
    """Average over PyTorch's adaptive windows so the output is ``output_size`` (int or
    (oH, oW); None keeps that input size), for (N, C, H, W) or (C, H, W)."""
    return _adaptive_avg("adaptive_avg_pool2d", input, output_size, 2)


def adaptive_avg_pool1d(input, output_size):
    """Average over adaptive windows of (N, C, L) or (C, L) to length ``output_size``."""
    return _adaptive_avg("adaptive_avg_pool1d", input, output_size, 1)


def _linear_matrix(size, out, align_corners, scale):
    """(out, size) linear-interpolation matrix with PyTorch's source-index rule."""
    if align_corners:
        r = (size - 1) / (out - 1) if out > 1 else 0.0
        src = np.arange(out) * r
    else:
        r = 1.0 / scale if scale is not None and scale > 0 else size / out
        src = np.maximum((np.arange(out) + 0.5) * r - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), size - 1)
    i1 = np.minimum(i0 + 1, size - 1)
    lam = np.clip(src - i0, 0.0, 1.0)
    m = np.zeros((out, size))
    rows = np.arange(out)
    np.add.at(m, (rows, i0), 1.0 - lam)
    np.add.at(m, (rows, i1), lam)
    return m


def _nearest_index(size, out, scale, exact):
    """PyTorch's nearest source index (computed in float32 like its CPU kernel)."""
    if out == size and not exact:
        return np.arange(out)
    if out == 2 * size and not exact:
        return np.arange(out) >> 1
    s = np.float32(1.0 / scale) if scale is not None and scale > 0 else \
        np.float32(size) / np.float32(out)
    o = np.arange(out, dtype=np.float32)
    if exact:
        o = o + np.float32(0.5)
    return np.minimum(np.floor(o * s).astype(np.int64), size - 1)


def _nearest(x, idx_per_dim):
    """x indexed along its trailing dims by ``idx_per_dim``: a broadcast + reshape for
    integer upscaling (cheap, exact gradient), ``index_select`` otherwise."""
    nd = len(idx_per_dim)
    sizes = x.shape[-nd:]
    factors = []
    for idx, n in zip(idx_per_dim, sizes):
        f = len(idx) // n if len(idx) % n == 0 else 0
        factors.append(f if f and np.array_equal(idx, np.arange(len(idx)) // f) else 0)
    if all(factors):
        lead = tuple(x.shape[:-nd])
        inter, full = lead, lead
        for n, f in zip(sizes, factors):
            inter += (n, 1)
            full += (n, f)
        y = S.broadcast_to(S.reshape(x, inter), full)
        return S.reshape(y, lead + tuple(n * f for n, f in zip(sizes, factors)))
    xp = get_array_module(_data(x))
    for d, (idx, n) in enumerate(zip(idx_per_dim, sizes)):
        if len(idx) != n or not np.array_equal(idx, np.arange(n)):
            x = index_select(x, x.ndim - nd + d, xp.asarray(idx))
    return x


_INTERP_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize (N, C, L) or (N, C, H, W) inputs, PyTorch's index and weight rules.

    Args:
        size: output spatial size (int or tuple); exactly one of size / scale_factor.
        scale_factor: multiplier(s) of the spatial size (output = floor(input * scale)).
        mode: 'nearest', 'nearest-exact', 'linear' (3-D), 'bilinear' (4-D) or 'area'
            (adaptive average pooling).
        align_corners: for 'linear'/'bilinear': align the corner pixels' centres
            (default False).
        recompute_scale_factor: when True, indices use input/output sizes instead of
            the given scale_factor.
    """
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    if input.ndim not in (3, 4):
        raise NotImplementedError(
            f"interpolate: expected a 3-D (N, C, L) or 4-D (N, C, H, W) input, got shape "
            f"{_shape_str(input.shape)}"
        )
    nd = input.ndim - 2
    modes = ("nearest", "nearest-exact", "linear", "bilinear", "area")
    if mode not in modes:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported; use one of "
                                  f"{modes}")
    want = _INTERP_DIMS.get(mode)
    if want is not None and want != nd:
        raise ValueError(f"interpolate: mode {mode!r} expects a {want + 2}-D input, got "
                         f"shape {_shape_str(input.shape)}")
    if align_corners is not None and mode not in ("linear", "bilinear"):
        raise ValueError("interpolate: align_corners option can only be set with the "
                         "interpolating modes: linear | bilinear | bicubic | trilinear")
    align_corners = bool(align_corners)
    in_sizes = tuple(input.shape[2:])
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: exactly one of size or scale_factor must be given")
    if size is not None:
        out = _ntuple(size, nd, "size", "interpolate")
        scales = (None,) * nd
    else:
        scales = tuple(float(s) for s in (scale_factor if isinstance(scale_factor, (tuple,
                       list)) else (scale_factor,) * nd))
        if len(scales) != nd:
            raise ValueError(f"interpolate: scale_factor must have {nd} entries, got "
                             f"{scale_factor!r}")
        out = tuple(int(math.floor(n * s)) for n, s in zip(in_sizes, scales))
        if recompute_scale_factor:
            scales = (None,) * nd
    if any(o < 1 for o in out):
        raise ValueError(f"interpolate: output size {out} must be positive")
    if mode == "area":
        return _adaptive_avg("interpolate", input, out if nd == 2 else out[0], nd)
    if mode in ("nearest", "nearest-exact"):
        idx = [_nearest_index(n, o, s, mode == "nearest-exact")
               for n, o, s in zip(in_sizes, out, scales)]
        return _nearest(input, idx)
    ms = [None if (o == n and not align_corners and s in (None, 1.0)) else
          _linear_matrix(n, o, align_corners, s) for n, o, s in zip(in_sizes, out, scales)]
    if nd == 1:
        return _separable(input, None, ms[0])
    return _separable(input, ms[0], ms[1])
