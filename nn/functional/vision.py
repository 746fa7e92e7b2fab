"""Vision functions: ``pixel_shuffle``, ``pixel_unshuffle``, ``channel_shuffle`` (reshape +
permute), ``affine_grid`` (a constant base grid times theta) and ``grid_sample``.

``grid_sample`` is written with differentiable ops, following PyTorch's CPU kernel step by
step: the grid is unnormalised to pixel coordinates, the padding mode is applied to them
(``border`` clips, ``reflection`` reflects then clips, with PyTorch's gradient conventions:
zero where clipped, the sign flipped on odd reflections), each corner's weight is a product of
linear (or cubic) factors of the coordinates, and the corner values are gathered from the
flattened input planes. The gradients with respect to the input (scatter-adds of the weights)
and to the grid (the weights' derivatives) then come from the ops' own backwards, and are
themselves differentiable."""

from __future__ import annotations

import itertools
import numbers
import warnings

import numpy as np

from autograd.ops import elementwise as E
from autograd.ops import reduction as R
from autograd.ops import shape as S
from autograd.ops.linalg import matmul

from ._utils import _data, _xp, torch_node
from .pooling import plane_gather

# ---- pixel and channel shuffles -------------------------------------------------------------


def _factor(op: str, f, what: str) -> int:
    if not isinstance(f, numbers.Integral):
        raise TypeError(f"{op}(): argument '{what}' must be int, not {type(f).__name__}")
    if f <= 0:
        raise RuntimeError(f"{op} expects a positive {what}, but got {f}")
    return int(f)


@torch_node("PixelShuffleBackward0")
def pixel_shuffle(input, upscale_factor):
    """Rearrange (*, C * r^2, H, W) into (*, C, H * r, W * r) (sub-pixel convolution).

    Args:
        input: a tensor of at least 3 dims.
        upscale_factor: r, a positive int.

    Returns:
        (*, C, H * r, W * r): out[..., c, h * r + i, w * r + j] = in[..., c * r^2 + i * r + j,
        h, w].
    """
    r = _factor("pixel_shuffle", upscale_factor, "upscale_factor")
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.ndim} dimension(s)")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(
            f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the "
            f"square of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    lead = tuple(lead)
    k = len(lead)
    y = S.reshape(input, lead + (c // (r * r), r, r, h, w))
    y = S.permute(y, tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))
    return S.contiguous(S.reshape(y, lead + (c // (r * r), h * r, w * r)))


@torch_node("PixelUnshuffleBackward0")
def pixel_unshuffle(input, downscale_factor):
    """The inverse of ``pixel_shuffle``: (*, C, H * r, W * r) -> (*, C * r^2, H, W).

    Args:
        input: a tensor of at least 3 dims whose last two sizes are divisible by r.
        downscale_factor: r, a positive int.
    """
    r = _factor("pixel_unshuffle", downscale_factor, "downscale_factor")
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, "
                           f"but got input with {input.ndim} dimension(s)")
    *lead, c, h, w = input.shape
    if h % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by "
                           f"downscale_factor, but input.size(-2)={h} is not divisible by {r}")
    if w % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by "
                           f"downscale_factor, but input.size(-1)={w} is not divisible by {r}")
    lead = tuple(lead)
    k = len(lead)
    y = S.reshape(input, lead + (c, h // r, r, w // r, r))
    y = S.permute(y, tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))
    return S.contiguous(S.reshape(y, lead + (c * r * r, h // r, w // r)))


def native_channel_shuffle(input, groups):
    """Split the channels (dim 1) of (N, C, *) into ``groups`` groups and interleave them:
    out channel i * groups + g = in channel g * (C / groups) + i."""
    if input.ndim <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with "
                           f"sizes {list(input.shape)}")
    if not isinstance(groups, numbers.Integral):
        raise TypeError(f"channel_shuffle(): argument 'groups' must be int, not "
                        f"{type(groups).__name__}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value "
                           f"of groups:{groups}")
    n, c = input.shape[:2]
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {groups} groups.")
    rest = tuple(input.shape[2:])
    y = S.reshape(input, (n, int(groups), c // groups) + rest)
    y = S.transpose(y, 1, 2)
    return S.contiguous(S.reshape(y, (n, c) + rest))


def channel_shuffle(input, groups):
    """ShuffleNet's channel shuffle of (N, C, *) in ``groups`` groups; see
    ``native_channel_shuffle``."""
    return native_channel_shuffle(input, groups)


# ---- affine_grid ------------------------------------------------------------------------------

_AC_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners=False "
               "since 1.3.0. Please specify align_corners=True if the old behavior is desired. "
               "See the documentation of grid_sample for details.")


def _linspace(n: int, align_corners: bool):
    if n <= 1:
        return np.zeros(max(n, 1))[:n] if n == 0 else np.zeros(1)
    v = np.linspace(-1.0, 1.0, n)
    return v if align_corners else v * (n - 1) / n


@torch_node("AffineGridGeneratorBackward0")
def affine_grid(theta, size, align_corners=None):
    """The sampling grid of a batch of affine maps, for ``grid_sample``.

    Args:
        theta: (N, 2, 3) for 2-D or (N, 3, 4) for 3-D affine matrices (floating point).
        size: the output size, (N, C, H, W) or (N, C, D, H, W).
        align_corners: whether -1 and 1 are the centres of the corner pixels (True) or their
            outer edges (False, the default; a warning says so when not given).

    Returns:
        (N, H, W, 2) or (N, D, H, W, 3) grid of normalised (x, y[, z]) source coordinates,
        differentiable in theta.
    """
    if align_corners is None:
        warnings.warn(_AC_WARNING, UserWarning, stacklevel=2)
        align_corners = False
    if theta.dtype.kind not in "fcV":
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = tuple(int(s) for s in size)
    if len(size) == 4:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                             f"{size}. Got {tuple(theta.shape)}.")
        spatial = size[-2:]
    elif len(size) == 5:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                             f"{size}. Got {tuple(theta.shape)}.")
        spatial = size[-3:]
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size "
                      "grids when align_corners=True. This is not an intended use case of "
                      "affine_grid. See the documentation of affine_grid for details.",
                      UserWarning, stacklevel=2)
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if theta.shape[0] != size[0]:
        raise RuntimeError(f"affine_grid: expected theta with batch size {size[0]}, got "
                           f"{theta.shape[0]}")
    nd = len(spatial)
    axes = [_linspace(n, align_corners) for n in reversed(spatial)]  # x (W), y (H)[, z (D)]
    mesh = np.meshgrid(*reversed(axes), indexing="ij")  # each of shape spatial, dims D, H, W
    base = np.stack([m for m in reversed(mesh)] + [np.ones(spatial)], axis=-1)
    xp = _xp(theta)
    base = xp.asarray(base.reshape(1, -1, nd + 1), dtype=theta.dtype)
    grid = matmul(base, S.transpose(theta, 1, 2))  # (N, prod(spatial), nd)
    return S.reshape(grid, (size[0],) + tuple(spatial) + (nd,))


# ---- grid_sample ------------------------------------------------------------------------------


def _unnormalize(c, size: int, align_corners: bool):
    if align_corners:
        return (c + 1) * ((size - 1) / 2)
    return ((c + 1) * size - 1) / 2


def _clip(c, size: int):
    """clamp(c, 0, size - 1) with PyTorch's gradient: zero wherever it clips (at the bounds
    included)."""
    cd = _data(c)
    xp = _xp(cd)
    inside = (cd > 0) & (cd < size - 1)
    return E.where(inside, c, xp.clip(cd, 0, size - 1).astype(cd.dtype))


def _reflect(c, twice_low: int, twice_high: int):
    """PyTorch's reflect_coordinates: fold c into [low, high] by reflections at the bounds;
    the gradient is +1 or -1 with the parity of the folds."""
    cd = _data(c)
    xp = _xp(cd)
    if twice_low == twice_high:
        return c * 0
    lo = twice_low / 2
    span = (twice_high - twice_low) / 2
    d = c - lo
    neg = _data(d) < 0
    d = E.where(neg, -d, d)  # abs with a gradient of +1 at 0 (PyTorch's)
    dd = _data(d)
    flips = xp.floor(dd / span)
    extra = d - (flips * span).astype(dd.dtype)  # fmod(d, span): d - span * floor(d / span)
    even = (flips % 2) == 0
    return E.where(even, extra + lo, (span + lo) - extra)


def _coordinates(c, size: int, padding_mode: str, align_corners: bool):
    if padding_mode == "border":
        return _clip(c, size)
    if padding_mode == "reflection":
        c = _reflect(c, 0, 2 * (size - 1)) if align_corners else _reflect(c, -1, 2 * size - 1)
        return _clip(c, size)
    return c


def _cubic_coeffs(t):
    """PyTorch's cubic convolution weights (A = -0.75) of the taps at -1, 0, 1, 2 for a
    fractional offset t."""
    a = -0.75

    def conv1(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def conv2(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [conv2(t + 1), conv1(t), conv1(1 - t), conv2(2 - t)]


def _gather_planes(xf, idx_list, valid_list, sizes):
    """Values of xf (N, C, prod(sizes)) at the integer coordinates ``idx_list`` (one (N, P)
    array per spatial dim, outermost first), zero where not ``valid``: (N, C, P)."""
    xp = _xp(xf)
    flat = 0
    for i, n in zip(idx_list, sizes):
        flat = flat * n + xp.clip(i, 0, n - 1)
    valid = valid_list
    n = xf.shape[0]
    v = plane_gather(xf, flat.reshape(n, 1, -1).astype(np.int64))
    return v, valid.reshape(n, 1, -1)


@torch_node(lambda input, *a, **k: f"GridSampler{input.ndim - 2}DBackward0")
def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample ``input`` at the normalised locations of ``grid`` (spatial transformer networks).

    Args:
        input: (N, C, H_in, W_in) or (N, C, D_in, H_in, W_in).
        grid: (N, H_out, W_out, 2) or (N, D_out, H_out, W_out, 3) of (x, y[, z]) in [-1, 1]
            (-1 the left/top/front, 1 the right/bottom/back of the input; values outside go
            to ``padding_mode``).
        mode: 'bilinear' (trilinear for 5-D), 'nearest' or 'bicubic' (4-D only).
        padding_mode: 'zeros', 'border' (clamp to the edge) or 'reflection'.
        align_corners: -1 and 1 at the centres (True) or outer edges (False, the default,
            with a warning when not given) of the corner pixels.

    Returns:
        (N, C, H_out, W_out) or (N, C, D_out, H_out, W_out), differentiable in input and in
        grid ('nearest' has a zero grid gradient).
    """
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_AC_WARNING, UserWarning, stacklevel=2)
        align_corners = False
    if input.ndim != grid.ndim:
        raise RuntimeError(f"grid_sampler(): expected {input.ndim}D input and grid with same "
                           f"number of dimensions, but got input with sizes "
                           f"{list(input.shape)} and grid with sizes {list(grid.shape)}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, "
                           f"but got input with sizes {list(input.shape)} and grid with sizes "
                           f"{list(grid.shape)}")
    if input.ndim not in (4, 5):
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number "
                           f"of dimensions, but got input with sizes {list(input.shape)} and "
                           f"grid with sizes {list(grid.shape)}")
    nd = input.ndim - 2
    if grid.shape[-1] != nd:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {nd} in last dimension, "
                           f"but got grid with sizes {list(grid.shape)}")
    if mode == "bicubic" and nd != 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have the same dtype, "
                           f"got {input.dtype} and {grid.dtype}")
    if input.dtype.kind not in "fV":
        raise RuntimeError(f"grid_sampler(): expected a floating-point input, got "
                           f"{input.dtype}")
    if any(s == 0 for s in input.shape[2:]):
        raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial "
                           f"dimensions, but input has sizes {list(input.shape)}")
    n, ch = input.shape[:2]
    sizes = tuple(input.shape[2:])  # outermost first: (H, W) or (D, H, W)
    out_sp = tuple(grid.shape[1:-1])
    g = S.reshape(grid, (n, -1, nd))
    xf = S.reshape(input, (n, ch, -1))
    # coordinate of spatial dim k (outermost first) is grid[..., nd - 1 - k]
    coords = [_unnormalize(g[:, :, nd - 1 - k], sizes[k], align_corners) for k in range(nd)]
    xp = _xp(xf)
    if mode == "bicubic":
        floors = [xp.floor(_data(c)) for c in coords]
        coeffs = [_cubic_coeffs(c - f) for c, f in zip(coords, floors)]
        out = 0
        for taps in itertools.product(range(4), repeat=nd):
            idx, valid, w = [], True, 1
            for k, t in enumerate(taps):
                pos = floors[k] - 1 + t
                pos = _data(_coordinates(pos, sizes[k], padding_mode, align_corners))
                i = pos.astype(np.int64)  # truncation, as PyTorch's static_cast
                idx.append(i)
                valid = valid & (i >= 0) & (i < sizes[k])
                w = w * coeffs[k][t]
            v, ok = _gather_planes(xf, idx, xp.asarray(valid), sizes)
            out = out + v * S.unsqueeze(w, 1) * ok.astype(v.dtype)
    else:
        coords = [_coordinates(c, s, padding_mode, align_corners) for c, s in
                  zip(coords, sizes)]
        if mode == "nearest":
            idx = [xp.rint(_data(c)).astype(np.int64) for c in coords]  # half to even
            valid = True
            for i, s in zip(idx, sizes):
                valid = valid & (i >= 0) & (i < s)
            v, ok = _gather_planes(xf, idx, xp.asarray(valid), sizes)
            out = v * ok.astype(v.dtype)
            if grid.requires_grad:  # PyTorch's zero grid gradient, kept in the graph
                out = out + S.unsqueeze(g[:, :, 0] * 0, 1)
        else:
            # all 2^nd corners in one gather: (N, C, corners * P) values times (N, corners,
            # P) weights (zero for corners outside the input), summed over the corners
            lows = [xp.floor(_data(c)) for c in coords]
            p = g.shape[1]
            idx, oks, ws = [], [], []
            for corner in itertools.product((0, 1), repeat=nd):
                ii, valid, w = [], True, 1
                for k, b in enumerate(corner):
                    i = lows[k].astype(np.int64) + b
                    ii.append(i)
                    valid = valid & (i >= 0) & (i < sizes[k])
                    # weight (c - low) for the upper corner, (low + 1 - c) for the lower
                    w = w * ((coords[k] - lows[k]) if b else ((lows[k] + 1) - coords[k]))
                idx.append(ii)
                oks.append(valid)
                ws.append(w)
            cat = [xp.concatenate([ii[k] for ii in idx], axis=1) for k in range(nd)]
            v, _ = _gather_planes(xf, cat, cat[0] >= 0, sizes)  # (N, C, corners * P)
            ok = xp.stack(oks, axis=1).astype(v.dtype)  # (N, corners, P)
            w = S.stack(ws, 1) * ok
            v = S.reshape(v, (n, ch, len(ws), p))
            out = R.sum(v * S.unsqueeze(w, 1), dim=2)
    return S.reshape(out, (n, ch) + out_sp)
