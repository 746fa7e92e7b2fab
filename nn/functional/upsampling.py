"""``interpolate``: nearest (a broadcast for integer factors, else an index), linear and
bilinear (separable linear maps applied as two small matmuls, differentiable through MatMul)
and area (adaptive average pooling), with PyTorch's index and weight rules."""

from __future__ import annotations

import math

import numpy as np

from autograd.backend import get_array_module
from autograd.ops import shape as S
from autograd.ops.indexing import index_select
from autograd.tensor import _make

from ._utils import _data, _ntuple, _shape_str
from .pooling import _adaptive_avg, _separable


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


def _int_resample(x, ms):
    """Linear resampling of an integer image as PyTorch's uint8 kernel does it: each dim's
    weights quantised to int16 fixed point (the largest precision that fits), one pass per
    dim (the last first), each rounded to the nearest integer and clipped to the dtype."""
    xp = get_array_module(x)
    ii = np.iinfo(x.dtype)
    nd = len(ms)
    for k in reversed(range(nd)):
        m = ms[k]
        if m is None:
            continue
        wmax = float(m.max())
        prec = 0
        while prec < 22 and int(0.5 + wmax * (1 << (prec + 1))) < (1 << 15):
            prec += 1
        q = np.where(m >= 0, np.floor(0.5 + m * (1 << prec)), np.ceil(-0.5 + m * (1 << prec)))
        q = xp.asarray(q.astype(np.int64))
        axis = x.ndim - nd + k
        xm = xp.moveaxis(x.astype(np.int64), axis, -1)
        acc = xm @ q.T + (1 << (prec - 1)) if prec else xm @ q.T
        y = xp.clip(acc >> prec, ii.min, ii.max).astype(x.dtype)
        x = xp.moveaxis(y, -1, axis)
    return xp.ascontiguousarray(x)


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
    if input.dtype.kind in "biu" and (mode == "area" or mode == "linear"):
        raise NotImplementedError(  # as PyTorch: only nearest and bilinear take uint8 images
            f"interpolate: mode {mode!r} is not implemented for {input.dtype} tensors; "
            "convert with .float() first")
    if mode == "area":
        return _adaptive_avg("interpolate", input, out if nd == 2 else out[0], nd)
    if mode in ("nearest", "nearest-exact"):
        idx = [_nearest_index(n, o, s, mode == "nearest-exact")
               for n, o, s in zip(in_sizes, out, scales)]
        return _nearest(input, idx)
    ms = [None if (o == n and not align_corners and s in (None, 1.0)) else
          _linear_matrix(n, o, align_corners, s) for n, o, s in zip(in_sizes, out, scales)]
    dt = input.dtype
    if dt.kind in "biu":
        # integer images (uint8): weights in float, the result rounded to the nearest integer
        # and clipped to the dtype's range (PyTorch's uint8 kernel rounds its fixed-point sum)
        if dt.kind == "b":
            raise NotImplementedError(f"interpolate: mode {mode!r} is not implemented for "
                                      "bool tensors")
        return _make(_int_resample(_data(input), ms))
    if nd == 1:
        return _separable(input, None, ms[0])
    return _separable(input, ms[0], ms[1])
