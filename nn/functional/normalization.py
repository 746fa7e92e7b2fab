"""Normalisations: ``layer_norm``, ``batch_norm``, ``group_norm`` (mean/variance/affine in one
fused ``Op`` with the classic three-term backward) and ``normalize`` (Lp-normalise a dim)."""

from __future__ import annotations

import numpy as np

from autograd import fused
from autograd.backend import get_array_module
from autograd.function import Op, named
from autograd.grad_mode import no_grad
from autograd.ops import elementwise as E
from autograd.ops import reduction as R
from autograd.ops import shape as S
from autograd.ops.inplace import _write
from autograd.parallel import even_ranges, flat_ranges, parallel_slices
from autograd.tensor import Tensor, _make

from . import _norm_kernels as _K
from ._utils import _data, _shape, attach_grad


def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None):
    """``x / max(||x||_p, eps)`` along ``dim``."""
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported")
    denom = E.clamp(R.norm(input, p, dim, keepdim=True), min=eps)
    return input / denom



class Normalize(Op):
    """``(x - mean) / sqrt(var + eps) * weight + bias`` with the (biased) statistics over
    ``axes``; weight and bias are pre-shaped to broadcast against x (or None). ``stats``
    may pass precomputed (mean, var) arrays (batch norm computes them anyway).

    Backward is the classic g - mean(g) - xhat * mean(g * xhat), scaled by rstd, where
    ``g = gy * weight``. On arrays it reuses the mean/rstd of forward; under
    ``create_graph`` it recomputes them from x with ops so that it is differentiable."""

    _torch_name = "NativeBatchNormBackward0"  # batch/instance norm; layer and group norm
    # name theirs

    @staticmethod
    def forward(ctx, x, weight, bias, axes, eps, stats=None):
        xp = get_array_module(x)
        for name, p in (("weight", weight), ("bias", bias)):
            if p is not None and p.dtype != x.dtype:
                raise RuntimeError(f"normalization: {name} dtype {p.dtype} does not match "
                                   f"input dtype {x.dtype}")
        ctx.fast = False
        if isinstance(stats, list):  # batch norm with the compiled kernels: see _bn_fast
            return _bn_forward_fast(ctx, x, weight, bias, eps, stats)
        if stats is None:
            mean = x.mean(axis=axes, keepdims=True)
            y = x - mean
            var = (y * y).mean(axis=axes, keepdims=True)
        else:
            mean, var = stats
            y = x - mean
        rstd = (1.0 / xp.sqrt(var + eps)).astype(x.dtype, copy=False)
        if xp is not np and weight is not None and bias is not None:  # GPU: one fused kernel
            y = fused.norm_affine(x, mean, rstd, weight, bias)
        else:
            y *= rstd
            y = y * weight if weight is not None else y
            y = y + bias if bias is not None else y
        ctx.axes, ctx.eps, ctx.mean, ctx.rstd = axes, eps, mean, rstd
        ctx.bshape = None if bias is None else bias.shape
        ctx.save_for_backward(x, weight)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        axes, e = ctx.axes, ctx.next_edges
        if isinstance(x, Tensor):  # create_graph: statistics as a differentiable graph
            xc = x - R.mean(x, dim=axes, keepdim=True)
            rstd = E.rsqrt(R.mean(xc * xc, dim=axes, keepdim=True) + ctx.eps)
        else:
            xc, rstd = x - ctx.mean, ctx.rstd
        if ctx.fast and not isinstance(gy, Tensor):
            k = _K.bn_backward.get()
            if k is not None:
                return _bn_backward_fast(k, ctx, gy, x, w, e)
        xhat = xc * rstd
        gx = gw = gb = None
        if e[0] is not None:
            g = gy * w if w is not None else gy
            mg, mgx = R.mean(g, dim=axes, keepdim=True), R.mean(g * xhat, dim=axes, keepdim=True)
            if isinstance(g, Tensor) or get_array_module(g) is np:
                gx = (g - mg - xhat * mgx) * rstd
            else:  # the GPU: one fused kernel
                gx = fused.norm_grad(g, xhat, rstd, mg, mgx)
        if e[1] is not None:
            gw = S.sum_to(gy * xhat, tuple(w.shape))
        if e[2] is not None:
            gb = attach_grad(S.sum_to(gy, tuple(ctx.bshape)), x, w)
        return gx, gw, gb


def _bn_fast(x, weight, bias) -> bool:
    """Whether training batch norm of the array ``x`` runs the compiled kernels
    (``_norm_kernels``): NumPy float32/float64 with numba available and switched on."""
    return (isinstance(x, np.ndarray) and x.dtype in (np.float32, np.float64)
            and x.ndim >= 2 and x.size > 0 and _K.bn_forward.get() is not None
            and all(p is None or isinstance(_data(p), np.ndarray) for p in (weight, bias)))


def _flat_param(p, c: int, dtype, fill: float):
    return np.full(c, fill, dtype) if p is None else np.ascontiguousarray(p.reshape(c))


def _over_channels(fn, c: int, size: int) -> None:
    """``fn(c0, c1)`` over the channels [0, c): a range of channels per engine thread when
    the input (``size`` elements) is large enough to split (``flat_ranges``)."""
    ranges = flat_ranges(size)
    if ranges is None or c < 2:
        fn(0, c)
    else:
        parallel_slices(fn, even_ranges(c, min(len(ranges), c)))


def _bn_forward_fast(ctx, x, weight, bias, eps, stats: list):
    """Forward of ``Normalize`` for batch norm with the compiled kernel: also appends the
    batch (mean, biased var), each (C,), to ``stats`` for the running averages."""
    n, c = x.shape[:2]
    x3 = np.ascontiguousarray(x).reshape(n, c, -1)
    y = np.empty(x.shape, x.dtype)
    mean, var, rstd = (np.empty(c, np.float64) for _ in range(3))
    k, wf, bf, y3 = _K.bn_forward.get(), _flat_param(weight, c, x.dtype, 1.0), \
        _flat_param(bias, c, x.dtype, 0.0), y.reshape(n, c, -1)
    _over_channels(lambda c0, c1: k(x3, wf, bf, float(eps), y3, mean, var, rstd, c0, c1), c,
                   x.size)
    shape = (1, c) + (1,) * (x.ndim - 2)
    ctx.axes, ctx.eps, ctx.fast = (0,) + tuple(range(2, x.ndim)), eps, True
    ctx.mean = mean.astype(x.dtype).reshape(shape)
    ctx.rstd = rstd.astype(x.dtype).reshape(shape)
    ctx.mean64, ctx.rstd64 = mean, rstd
    ctx.bshape = None if bias is None else bias.shape
    ctx.save_for_backward(x, weight)
    stats.extend((mean.astype(x.dtype), var.astype(x.dtype)))
    return y


def _bn_backward_fast(k, ctx, gy, x, w, e):
    n, c = x.shape[:2]
    need_gx = e[0] is not None
    gx = np.empty(x.shape, x.dtype) if need_gx else np.empty((1, 1, 1), x.dtype)
    gw, gb = np.empty(c, np.float64), np.empty(c, np.float64)
    args = (np.ascontiguousarray(gy, dtype=x.dtype).reshape(n, c, -1),
            np.ascontiguousarray(x).reshape(n, c, -1), ctx.mean64, ctx.rstd64,
            _flat_param(w, c, x.dtype, 1.0), need_gx, gx.reshape(n, c, -1) if need_gx else gx,
            gw, gb)
    _over_channels(lambda c0, c1: k(*args, c0, c1), c, x.size)
    gw = gw.astype(x.dtype).reshape(w.shape) if e[1] is not None else None
    gb = gb.astype(x.dtype).reshape(ctx.bshape) if len(e) > 2 and e[2] is not None else None
    return (gx if need_gx else None), gw, gb


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """Normalise over the trailing ``normalized_shape`` dims, then ``* weight + bias``."""
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(ns)
    if k == 0 or tuple(input.shape[input.ndim - k:]) != ns or input.ndim < k:
        raise RuntimeError(
            f"layer_norm: given normalized_shape={list(ns)}, expected input with shape "
            f"[*, {', '.join(map(str, ns))}], but got input of size {_shape(input)}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != ns:
            raise RuntimeError(f"layer_norm: expected {name} of shape {list(ns)}, got "
                               f"{_shape(p)}")
    axes = tuple(range(input.ndim - k, input.ndim))
    return named(Normalize.apply(input, weight, bias, axes=axes, eps=eps),
                 "NativeLayerNormBackward0")


def _channel_param(p, c: int, ndim: int, fn: str, name: str):
    if p is None:
        return None
    if tuple(p.shape) != (c,):
        raise RuntimeError(f"{fn}: expected {name} of shape [{c}] (one per channel of the "
                           f"input's dim 1), got {_shape(p)}")
    return p if ndim <= 2 else S.reshape(p, (c,) + (1,) * (ndim - 2))


def batch_norm(input, running_mean, running_var, weight=None, bias=None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5):
    """Batch normalisation over all dims but the channel dim 1.

    Training uses the batch statistics (biased variance) and, when given, updates the
    running statistics in place: ``r = (1 - momentum) * r + momentum * batch_stat`` with the
    unbiased batch variance. Evaluation uses the running statistics."""
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input with at least 2 dims (N, C, ...), "
                         f"got shape {_shape(input)}")
    c = input.shape[1]
    nd = input.ndim
    for name, p in (("running_mean", running_mean), ("running_var", running_var)):
        if p is not None and tuple(p.shape) != (c,):
            raise RuntimeError(f"batch_norm: {name} should contain {c} elements (one per "
                               f"channel of input {_shape(input)}), not {int(np.prod(p.shape))}")
    w = _channel_param(weight, c, nd, "batch_norm", "weight")
    b = _channel_param(bias, c, nd, "batch_norm", "bias")
    axes = (0,) + tuple(range(2, nd))
    if training:
        count = int(np.prod([input.shape[a] for a in axes]))
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size torch.Size({_shape(input)})")
        xd = _data(input)
        if _bn_fast(xd, w, b):  # the compiled kernels: statistics and output in one op
            stats = []
            y = Normalize.apply(input, w, b, axes=axes, eps=eps, stats=stats)
            mean, var = stats
        else:
            mean = xd.mean(axis=axes, keepdims=True)
            d = xd - mean
            var = (d * d).mean(axis=axes, keepdims=True)
            y = None
        if running_mean is not None:
            _running_update(running_mean, mean.reshape(c), momentum)
        if running_var is not None:
            _running_update(running_var, var.reshape(c) * (count / (count - 1)), momentum)
        if y is None:
            y = Normalize.apply(input, w, b, axes=axes, eps=eps, stats=(mean, var))
        return y
    if running_mean is None or running_var is None:
        raise RuntimeError("batch_norm: running_mean and running_var must be defined in "
                           "evaluation mode (training=False)")
    shape = (c,) + (1,) * (nd - 2)
    scale = E.rsqrt(running_var + eps)
    if weight is not None:
        scale = weight * scale
    shift = -running_mean * scale
    if bias is not None:
        shift = shift + bias
    return named(input * S.reshape(scale, shape) + S.reshape(shift, shape),
                 "NativeBatchNormBackward0")


def _running_update(buf, stat, momentum: float) -> None:
    with no_grad():
        d = buf._data
        _write(buf, None, (d * (1.0 - momentum) + stat * momentum).astype(d.dtype, copy=False))


def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5):
    """Normalise each group of ``C / num_groups`` channels (with all spatial positions) of
    each sample, then apply a per-channel ``weight`` and ``bias``."""
    if input.ndim < 2:
        raise RuntimeError(f"group_norm: expected an input with at least 2 dims (N, C, ...), "
                           f"got shape {_shape(input)}")
    n, c = input.shape[0], input.shape[1]
    if c % num_groups:
        raise RuntimeError(
            f"group_norm: expected number of channels in input to be divisible by num_groups, "
            f"but got input of shape {_shape(input)} and num_groups={num_groups}")
    w = _channel_param(weight, c, input.ndim, "group_norm", "weight")
    b = _channel_param(bias, c, input.ndim, "group_norm", "bias")
    xg = S.reshape(input, (n, num_groups, -1))
    y = S.reshape(Normalize.apply(xg, None, None, axes=(2,), eps=eps), tuple(input.shape))
    if w is not None:
        y = y * w
    if b is not None:
        y = y + b
    return named(y, "NativeGroupNormBackward0")  # PyTorch's one node (ours: up to three)


# ---- instance / local response / RMS normalisation ---------------------------------------

def _verify_spatial_size(shape) -> None:
    if int(np.prod(shape[2:])) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input "
                         f"size torch.Size({list(shape)})")


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats: bool = True, momentum: float = 0.1, eps: float = 1e-5):
    """Normalise each channel of each sample over its spatial dims (N, C, *).

    With ``use_input_stats`` (training, or no running statistics) the statistics are the
    sample's own, and running statistics when given are updated with their average over
    the batch (``r = (1 - momentum) * r + momentum * mean_n(stat)``, unbiased variance);
    otherwise the running statistics are used, as batch norm's eval mode."""
    if input.ndim < 2:
        raise ValueError(f"instance_norm: expected an input with at least 2 dims (N, C, ...), "
                         f"got shape {_shape(input)}")
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    _verify_spatial_size(tuple(input.shape))
    c, nd = input.shape[1], input.ndim
    for name, p in (("running_mean", running_mean), ("running_var", running_var)):
        if p is not None and tuple(p.shape) != (c,):
            raise RuntimeError(f"instance_norm: {name} should contain {c} elements (one per "
                               f"channel of input {_shape(input)}), not "
                               f"{int(np.prod(p.shape))}")
    w = _channel_param(weight, c, nd, "instance_norm", "weight")
    b = _channel_param(bias, c, nd, "instance_norm", "bias")
    axes = tuple(range(2, nd))
    if running_mean is not None or running_var is not None:
        xd = _data(input)
        count = int(np.prod([input.shape[a] for a in axes]))
        mean = xd.mean(axis=axes)
        if running_mean is not None:
            _running_update(running_mean, mean.mean(axis=0), momentum)
        if running_var is not None:
            d = xd - mean.reshape(mean.shape + (1,) * len(axes))
            var = (d * d).sum(axis=axes) / max(count - 1, 1)
            _running_update(running_var, var.mean(axis=0), momentum)
    return Normalize.apply(input, w, b, axes=axes, eps=eps)


def _channel_window_sum(sq, size: int, front: int):
    """``out[:, c] = sum(sq[:, c - front : c - front + size])`` (zeros outside), for a
    Tensor or an array with channels in dim 1; a loop over the window's offsets only."""
    c = sq.shape[1]
    total = None
    for off in range(size):
        lo, hi = off - front, off - front + c  # the source channels seen at this offset
        s0, s1 = max(lo, 0), min(hi, c)
        if s0 >= s1:
            continue
        part = sq[:, s0:s1]
        pads = (s0 - lo, hi - s1)
        if pads != (0, 0):
            part = _pad_channels(part, pads)
        total = part if total is None else total + part
    return total if total is not None else sq * 0


def _pad_channels(t, pads):
    """Zero-pad dim 1 of ``t`` by ``pads = (before, after)``."""
    if isinstance(t, Tensor):
        parts = []
        if pads[0]:
            parts.append(_zeros_like_shape(t, pads[0]))
        parts.append(t)
        if pads[1]:
            parts.append(_zeros_like_shape(t, pads[1]))
        return S.cat(parts, 1)
    xp = get_array_module(t)
    width = [(0, 0)] * t.ndim
    width[1] = pads
    return xp.pad(t, width)


def _zeros_like_shape(t, n: int):
    shape = list(t.shape)
    shape[1] = n
    return _make(get_array_module(t._data).zeros(tuple(shape), dtype=t.dtype))


def local_response_norm(input, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0):
    """Local response normalisation across channels (dim 1):
    ``x / (k + alpha * mean(x^2 over the size channels around c)) ** beta``, the window
    zero-padded (``size // 2`` before, ``(size - 1) // 2`` after) as PyTorch's."""
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} "
                         "dimensions)")
    if input.numel() == 0:
        return input
    div = _channel_window_sum(input * input, size, size // 2) * (1.0 / size)
    return input / (div * alpha + k) ** beta


class CrossMapLRN2d(Op):
    """PyTorch's legacy ``CrossMapLRN2d`` function (Lua Torch's SpatialCrossMapLRN), forward
    and backward reproduced as they are, quirks included: the running window of the
    forward never drops channel 0 once it has passed it, and the backward is the
    gradient of the textbook LRN (so, as in PyTorch, it is not the exact derivative of
    this forward: no gradcheck holds for it, in PyTorch either)."""

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        xp = get_array_module(x)
        c = x.shape[1]
        pre = int((size - 1) / 2 + 1)
        sq = x * x
        win = _channel_window_sum(sq, 2 * pre - 1, pre - 1)  # [c - pre + 1, c + pre - 1]
        # the legacy running sum keeps channel 0 in every window from channel pre on
        keep0 = (xp.arange(c) >= pre).reshape((1, c) + (1,) * (x.ndim - 2))
        scale = (win + xp.where(keep0, sq[:, :1], 0)) * (alpha / size) + k
        y = (scale ** -beta * x).astype(x.dtype, copy=False)
        ctx.size, ctx.alpha, ctx.beta = size, alpha, beta
        ctx.scale = scale
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        size, scale = ctx.size, ctx.scale
        ratio = gy * y / scale
        inv = int(size - (size - 1) / 2)
        acc = _channel_window_sum(ratio, size, inv)  # ratios of [c - inv, c + size - 1 - inv]
        return scale ** -ctx.beta * gy - x * acc * (2 * ctx.alpha * ctx.beta / size)

    @staticmethod
    def jvp(ctx, prims, tans, ys):
        """Forward mode: the exact derivative of the forward (its window, quirk included):
        ``tx * s^-beta - beta * x * s^(-beta-1) * alpha / size * window(2 x tx)``."""
        x, tx = prims[0], tans[0]
        xp = get_array_module(x)
        size, scale = ctx.size, ctx.scale
        c = x.shape[1]
        pre = int((size - 1) / 2 + 1)
        d = 2 * x * tx
        win = _channel_window_sum(d, 2 * pre - 1, pre - 1)
        keep0 = (xp.arange(c) >= pre).reshape((1, c) + (1,) * (x.ndim - 2))
        dscale = (win + xp.where(keep0, d[:, :1], 0)) * (ctx.alpha / size)
        return tx * scale ** -ctx.beta - ctx.beta * x * scale ** (-ctx.beta - 1) * dscale


def cross_map_lrn2d(input, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1):
    """PyTorch's legacy cross-channel LRN of a 4-D input (``nn.CrossMapLRN2d``)."""
    if input.ndim != 4:
        raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.ndim}D instead.")
    return CrossMapLRN2d.apply(input, size=size, alpha=alpha, beta=beta, k=k)


class RMSNormOp(Op):
    """``x * rsqrt(mean(x^2 over the last k dims) + eps) [* weight]`` in one pass; the
    backward is ``rstd * (g - xhat * mean(g * xhat))`` with ``g = gy * weight``. On arrays it
    reuses the forward's rstd; under ``create_graph`` it recomputes it with ops."""

    @staticmethod
    def forward(ctx, x, weight, k, eps):
        xp = get_array_module(x)
        lead = x.shape[:x.ndim - k]
        x2 = x.reshape(lead + (-1,))
        n = x2.shape[-1]
        ms = xp.einsum("...i,...i->...", x2, x2, dtype=xp.float64 if x.dtype != xp.float64
                       else None) / max(n, 1)
        rstd = (1.0 / xp.sqrt(ms + eps)).astype(x.dtype, copy=False)
        rstd = rstd.reshape(lead + (1,) * k)
        y = x * rstd
        if weight is not None:
            y = y * weight
        ctx.k, ctx.eps, ctx.rstd = k, eps, rstd
        ctx.save_for_backward(x, weight)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        k, e = ctx.k, ctx.next_edges
        axes = tuple(range(x.ndim - k, x.ndim))
        if isinstance(x, Tensor):  # create_graph: rstd as a differentiable graph
            rstd = E.rsqrt(R.mean(x * x, dim=axes, keepdim=True) + ctx.eps)
        else:
            rstd = ctx.rstd
        xhat = x * rstd
        gx = gw = None
        if e[0] is not None:
            g = gy * w if w is not None else gy
            gx = (g - xhat * R.mean(g * xhat, dim=axes, keepdim=True)) * rstd
        if w is not None and e[1] is not None:
            gw = S.sum_to(gy * xhat, tuple(w.shape))
        return gx, gw

    @staticmethod
    def jvp(ctx, prims, tans, ys):
        """Forward mode: ``rstd * (tx - xhat * mean(tx * xhat)) * w + xhat * tw``."""
        x, w = prims[0], prims[1] if len(prims) > 1 else None
        tx, tw = tans[0], tans[1] if len(tans) > 1 else None
        axes = tuple(range(x.ndim - ctx.k, x.ndim))
        xhat = x * ctx.rstd
        out = None
        if tx is not None:
            d = (tx - xhat * (tx * xhat).mean(axis=axes, keepdims=True)) * ctx.rstd
            out = d * w if w is not None else d
        if tw is not None:
            out = xhat * tw if out is None else out + xhat * tw
        return out


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Root-mean-square normalisation over the trailing ``normalized_shape`` dims:
    ``x / sqrt(mean(x^2) + eps) * weight``; ``eps`` None is the machine epsilon of the
    dtype computed in (float32 for float16 input, as PyTorch)."""
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(ns)
    if input.ndim < k or tuple(input.shape[input.ndim - k:]) != ns:
        raise RuntimeError(
            f"Given normalized_shape={list(ns)}, expected input with shape "
            f"[*, {', '.join(map(str, ns))}], but got input of size{_shape(input)}")
    if weight is not None and tuple(weight.shape) != ns:
        raise RuntimeError(f"rms_norm: expected weight of shape {list(ns)}, got "
                           f"{_shape(weight)}")
    x = input
    low = input.dtype == np.float16
    if low:
        x = input.to("float32")  # PyTorch computes half in float (eps included)
    if eps is None:
        eps = float(np.finfo(x.dtype).eps)
    if low:
        y = RMSNormOp.apply(x, None, k=k, eps=eps).to(input.dtype)
        return y * weight if weight is not None else y
    return RMSNormOp.apply(x, weight, k=k, eps=eps)
