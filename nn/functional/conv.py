"""Convolutions: ``conv1d``, ``conv2d``, ``conv_transpose1d``, ``conv_transpose2d``, and
im2col / col2im as ops: ``unfold`` and ``fold``.

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
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from autograd.backend import get_array_module, scratch_empty
from autograd.function import Op
from autograd.ops import reduction as R
from autograd.ops import shape as S
from autograd.tensor import Tensor

from ._utils import _as_strided, _batch, _ntuple, _positive, _shape_str


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
        cols = scratch_empty(xp, shape, buf.dtype)
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
    cols = scratch_empty(xp, (w[0].size * gr, g2.shape[1]), np.result_type(w, g2))
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
