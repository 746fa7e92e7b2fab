"""Pooling: ``max_pool1d/2d``, ``avg_pool1d/2d``, ``adaptive_avg_pool1d/2d``.

Pooling = loops over kernel offsets
-----------------------------------
Max and average pooling loop over the kh*kw kernel offsets, each step one whole-tensor op on
a strided view: max pooling keeps the running maximum and the offset (``code``, int8) of the
first maximum (PyTorch's tie rule); its backward writes ``(code == k) * gy`` into each
offset's view (assigned when windows do not overlap, added when they do). Pool backwards
are linear ops paired with their adjoints (scatter/gather, sum/spread), so they are twice
differentiable too."""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np

from autograd.backend import get_array_module, scratch_empty
from autograd.function import Op
from autograd.ops import reduction as R
from autograd.ops import shape as S
from autograd.ops.linalg import matmul
from autograd.tensor import Tensor

from ._utils import (
    _batch,
    _data,
    _ntuple,
    _order,
    _positive,
    _shape_str,
    _zeros_in_order,
)


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
    # a reused buffer (see backend.ScratchPool): a fresh one page-faults in, slower than the work
    buf = scratch_empty(xp, tuple(shape[d] for d in order), gy.dtype)
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
