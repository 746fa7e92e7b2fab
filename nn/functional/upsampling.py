"""``interpolate`` (and the deprecated ``upsample``, ``upsample_nearest``,
``upsample_bilinear``): nearest and nearest-exact (a broadcast for integer factors, else an
index), linear, bilinear, bicubic and trilinear (separable linear maps, one small matmul per
resized dim, differentiable through MatMul) and area (adaptive average pooling), with
PyTorch's index and weight rules, for 3-D, 4-D and 5-D inputs."""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from autograd.backend import get_array_module
from autograd.ops import shape as S
from autograd.ops.indexing import index_select
from autograd.ops.linalg import matmul
from autograd.tensor import _make

from ._utils import _data, torch_node
from .pooling import _adaptive_avg, adaptive_avg_pool3d


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


def _nearest_index(size, out, scale, exact, shortcuts=True):
    """PyTorch's nearest source index (computed in float32 like its CPU kernel); with
    ``shortcuts``, an unchanged or doubled size maps exactly whatever the scale."""
    if shortcuts and out == size and not exact:
        return np.arange(out)
    if shortcuts and out == 2 * size and not exact:
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


def _cubic_matrix(size, out, align_corners, scale):
    """(out, size) bicubic-interpolation matrix (A = -0.75), taps clamped to the edges, with
    PyTorch's source index (not clamped at 0) and its guard on index and fraction."""
    if align_corners:
        r = (size - 1) / (out - 1) if out > 1 else 0.0
        src = np.arange(out) * r
    else:
        r = 1.0 / scale if scale is not None and scale > 0 else size / out
        src = (np.arange(out) + 0.5) * r - 0.5
    i0 = np.minimum(np.floor(src).astype(np.int64), size - 1)
    t = np.clip(src - i0, 0.0, 1.0)
    a = -0.75

    def conv1(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def conv2(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    coeffs = (conv2(t + 1), conv1(t), conv1(1 - t), conv2(2 - t))
    m = np.zeros((out, size))
    rows = np.arange(out)
    for j, c in enumerate(coeffs):
        np.add.at(m, (rows, np.clip(i0 - 1 + j, 0, size - 1)), c)
    return m


def _resample(x, ms):
    """Apply the (out_k, in_k) matrices ``ms`` (None: dim unchanged) to the spatial dims of
    x (N, C, *S): one matmul per resized dim, the innermost first."""
    xp = get_array_module(_data(x))
    dt = x.dtype
    nd = len(ms)
    for k in reversed(range(nd)):
        m = ms[k]
        if m is None:
            continue
        mk = xp.asarray(m, dtype=dt)
        if k == nd - 1:
            x = matmul(x, mk.T)
        elif k == nd - 2:
            x = matmul(mk, x)
        else:  # an outer dim: fold the dims inside it into one
            shape = tuple(x.shape)
            inner = math.prod(shape[2 + k + 1:])
            y = matmul(mk, S.reshape(x, shape[:2 + k] + (shape[2 + k], inner)))
            x = S.reshape(y, shape[:2 + k] + (m.shape[0],) + shape[2 + k + 1:])
    return x


_MODES = "nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact"
_INTERP_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) or (hasattr(v, "dtype") and v.dtype.kind in "iu")


_UPSAMPLE = {"nearest": "Nearest", "nearest-exact": "NearestExact", "linear": "Linear",
             "bilinear": "Bilinear", "bicubic": "Bicubic", "trilinear": "Trilinear"}


def _interpolate_node(input, size=None, scale_factor=None, mode="nearest", *a, **k):
    """PyTorch's node name of ``interpolate``: ``Upsample<Mode><n>DBackward0`` (with
    ``antialias``, ``_Upsample<Mode><n>DAaBackward0``); ``area`` is adaptive average
    pooling."""
    nd = input.ndim - 2
    if mode == "area":
        return f"AdaptiveAvgPool{nd}DBackward0" if nd > 1 else None
    aa = a[2] if len(a) > 2 else k.get("antialias", False)
    m = _UPSAMPLE.get(mode)
    return m and (f"_Upsample{m}{nd}DAaBackward0" if aa else f"Upsample{m}{nd}DBackward0")


@torch_node(_interpolate_node)
def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize (N, C, L), (N, C, H, W) or (N, C, D, H, W) inputs with PyTorch's index and
    weight rules.

    Args:
        size: output spatial size (int or tuple); exactly one of size / scale_factor.
        scale_factor: multiplier(s) of the spatial size (output = floor(input * scale)).
        mode: 'nearest', 'nearest-exact', 'linear' (3-D), 'bilinear' or 'bicubic' (4-D),
            'trilinear' (5-D) or 'area' (adaptive average pooling).
        align_corners: for the interpolating modes: align the corner pixels' centres
            (default False); an error for the others.
        recompute_scale_factor: when True, the indices use the input/output size ratio
            instead of the given scale_factor ('area' always does).
        antialias: only False (PyTorch's default) is supported.

    Returns:
        The resized tensor (uint8 images stay uint8 for nearest, bilinear and bicubic,
        rounded as PyTorch's uint8 kernels round); differentiable for floating inputs.
    """
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    align_corners = bool(align_corners)
    nd = input.ndim - 2
    in_sizes = tuple(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    scales = None
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != nd:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {list(in_sizes)} and output size of "
                    f"{size}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                    "output size in (o1, o2, ...,oK) format.")
            if not all(_is_int(v) for v in size):
                raise TypeError(
                    "expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                    f"Tuple[int, int, int], but got size with types {[type(v) for v in size]}")
            out = tuple(int(v) for v in size)
        else:
            out = (int(size),) * nd
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != nd:
                raise ValueError(
                    "Input and scale_factor must have the same number of spatial dimensions, "
                    f"but got input with spatial dimensions of {list(in_sizes)} and "
                    f"scale_factor of shape {scale_factor}. Please provide input tensor in "
                    "(N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) "
                    "format.")
            scales = tuple(float(v) for v in scale_factor)
        else:
            scales = (float(scale_factor),) * nd
        out = None
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and out is None:
        recompute_scale_factor = True
    if out is None:
        out = tuple(int(math.floor(n * s)) for n, s in zip(in_sizes, scales))
        if recompute_scale_factor:
            scales = None
    if scales is None:
        scales = (None,) * nd
    if antialias and not (mode in ("bilinear", "bicubic") and input.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                         "modes and requires a 4-D tensor as input")
    want = _INTERP_DIMS.get(mode)
    known = mode in ("nearest", "nearest-exact", "area") or want is not None
    if input.ndim not in (3, 4, 5) or not known:
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for "
            f"the modes: {_MODES} (got {mode})")
    if want is not None and want != nd:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                  f"{want + 2}D input")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    if any(o <= 0 for o in out):
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({', '.join(map(str, in_sizes))}) and output "
                           f"({', '.join(map(str, out))})")
    dt = input.dtype
    int_ok = dt == np.uint8 and mode in ("nearest", "nearest-exact", "bilinear", "bicubic")
    if dt.kind in "biu" and not int_ok:
        raise NotImplementedError(f'"upsample_{mode}{nd}d" not implemented for {dt}')
    if mode == "area":
        if nd == 3:
            return adaptive_avg_pool3d(input, out)
        return _adaptive_avg("interpolate", input, out if nd == 2 else out[0], nd)
    if mode in ("nearest", "nearest-exact"):
        # PyTorch's 2-D nearest kernel copies a dim whose size is unchanged (or takes every
        # other row when doubled) whatever the scale_factor; its 1-D and 3-D kernels apply
        # the given scale_factor to every dim
        idx = [_nearest_index(n, o, s, mode == "nearest-exact", shortcuts=nd == 2)
               for n, o, s in zip(in_sizes, out, scales)]
        return _nearest(input, idx)
    build = _cubic_matrix if mode == "bicubic" else _linear_matrix
    # a dim whose size is unchanged is copied (linear modes: whatever the scale_factor, as
    # PyTorch's source-index rule does; bicubic: when the scale is 1). uint8 images resize
    # only the dims whose size changes (PyTorch's separable kernel)
    keep = mode != "bicubic" or dt == np.uint8
    ms = [None if o == n and (keep or (not align_corners and s in (None, 1.0))) else
          build(n, o, align_corners, s) for n, o, s in zip(in_sizes, out, scales)]
    if dt.kind in "biu":
        # uint8 images: weights quantised as PyTorch's uint8 kernel does, the sums rounded to
        # the nearest integer and clipped to the dtype's range
        return _make(_int_resample(_data(input), ms))
    return _resample(input, ms)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of ``interpolate`` (PyTorch warns; so does this)."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(input, size, scale_factor, mode='nearest')``."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(input, size, scale_factor, mode='bilinear',
    align_corners=True)``."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
