"""Activations, dropout, embedding, normalisation and losses (exported by ``nn.functional``).

Most functions are compositions of primitive ops, so they are differentiable any number of
times for free. A few are fused into one ``Op`` for speed or numerical stability: GELU, SiLU,
Softplus, ELU, LeakyReLU and Hardtanh (one pass each way instead of several), the
normalisations (mean/variance/affine in one pass, the classic three-term backward), the
embedding lookup (padding rows and frequency scaling applied to the gradient), binary cross
entropy (PyTorch's log clamping and gradient epsilon) and binary cross entropy with logits
(stable log-sigmoid, ``pos_weight``). Each fused backward is written with op wrappers, so
it is differentiable too, and each fused op is tested against its composite version.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from autograd.backend import get_array_module
from autograd.function import Op
from autograd.grad_mode import no_grad
from autograd.ops import elementwise as E
from autograd.ops import reduction as R
from autograd.ops import shape as S
from autograd.ops.indexing import _index_grad, gather
from autograd.ops.inplace import _write
from autograd.ops.linalg import matmul
from autograd.random import _gen_for
from autograd.tensor import Tensor, _make

_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715


def _data(x):
    return x._data if isinstance(x, Tensor) else x


def _xp(x):
    return get_array_module(_data(x))


def _shape(x) -> list:
    return list(getattr(x, "shape", ()))


def _inplace_or(x, fn, inplace: bool):
    """``fn(x)``, written back into ``x`` when ``inplace`` (version counter bumped)."""
    return x._inplace(fn) if inplace and isinstance(x, Tensor) else fn(x)


# ---- activations ------------------------------------------------------------------------

class LeakyRelu(Op):
    """max(x, 0) + slope * min(x, 0); the gradient is 1 or slope."""

    @staticmethod
    def forward(ctx, x, slope):
        ctx.slope = slope
        ctx.save_for_backward(x)
        xp = get_array_module(x)
        return xp.maximum(x, 0) + xp.minimum(x, 0) * slope  # exact, and faster than where

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return E.where(x > 0, gy, gy * ctx.slope)


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    """``x`` where ``x > 0`` else ``negative_slope * x``."""

    def leaky_relu_(x):
        return LeakyRelu.apply(x, slope=negative_slope)

    return _inplace_or(input, leaky_relu_, inplace)


class Elu(Op):
    """x for x > 0, alpha * expm1(x) otherwise."""

    @staticmethod
    def forward(ctx, x, alpha):
        xp = get_array_module(x)
        ctx.alpha = alpha
        ctx.save_for_backward(x)
        return xp.maximum(x, 0) + xp.expm1(xp.minimum(x, 0)) * alpha

    @staticmethod
    def backward(ctx, gy):
        # alpha * exp(x) on the negative side; clamped so that the unused branch stays finite
        (x,) = ctx.saved_tensors
        return E.where(x > 0, gy, gy * E.exp(E.clamp(x, max=0.0)) * ctx.alpha)


def elu(input, alpha: float = 1.0, inplace: bool = False):
    """``x`` where ``x > 0`` else ``alpha * (exp(x) - 1)``."""

    def elu_(x):
        return Elu.apply(x, alpha=alpha)

    return _inplace_or(input, elu_, inplace)


class Gelu(Op):
    """x * Phi(x) (``approximate='none'``) or its tanh approximation, fused."""

    @staticmethod
    def forward(ctx, x, approximate):
        xp = get_array_module(x)
        ctx.approximate = approximate
        ctx.save_for_backward(x)
        if approximate == "tanh":
            t = xp.tanh((x + x * x * x * _GELU_C) * _SQRT_2_OVER_PI)
            return x * 0.5 * (t + 1)
        cdf = (E.erf(x * _SQRT1_2) + 1) * 0.5
        if ctx.next_edges:
            ctx.cdf = cdf  # erf is the costly part: reused by a first-order backward
        return x * cdf

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            t = E.tanh((x + x * x * x * _GELU_C) * _SQRT_2_OVER_PI)
            d = (t + 1) * 0.5 + x * 0.5 * (1 - t * t) * _SQRT_2_OVER_PI * (
                x * x * (3 * _GELU_C) + 1)
        else:
            # under create_graph, Phi(x) is recomputed from x so that it is differentiable
            cdf = (E.erf(x * _SQRT1_2) + 1) * 0.5 if isinstance(x, Tensor) else ctx.cdf
            d = cdf + x * E.exp(x * x * -0.5) * _INV_SQRT_2PI
        return gy * d


def gelu(input, approximate: str = "none"):
    """Gaussian error linear unit ``x * Phi(x)``; ``approximate='tanh'`` uses
    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(
            f"gelu: approximate argument must be either 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(input, approximate=approximate)


class Silu(Op):
    """x * sigmoid(x); the gradient is s (1 + x (1 - s))."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * (get_array_module(x).tanh(x * 0.5) * 0.5 + 0.5)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        s = E.sigmoid(x)
        return gy * s * (x * (1 - s) + 1)


def silu(input, inplace: bool = False):
    """``x * sigmoid(x)`` (also called swish)."""
    return _inplace_or(input, Silu.apply, inplace)


class Softplus(Op):
    """log(1 + exp(beta x)) / beta (stable form), x where beta x > threshold."""

    @staticmethod
    def forward(ctx, x, beta, threshold):
        xp = get_array_module(x)
        ctx.beta, ctx.threshold = beta, threshold
        ctx.save_for_backward(x)
        bx = x * beta
        sp = xp.log1p(xp.exp(-xp.abs(bx))) + xp.maximum(bx, 0)  # log(1 + exp(bx)), stable
        return xp.where(bx > threshold, x, sp / beta).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        bx = x * ctx.beta
        return E.where(bx > ctx.threshold, gy, gy * E.sigmoid(bx))


def softplus(input, beta: float = 1.0, threshold: float = 20.0):
    """``log(1 + exp(beta x)) / beta``, linear where ``beta x > threshold``."""
    return Softplus.apply(input, beta=beta, threshold=threshold)


def logsigmoid(input):
    """``log(sigmoid(x)) = -softplus(-x)``, stable."""
    return -Softplus.apply(-input, beta=1.0, threshold=math.inf)


class Hardtanh(Op):
    """clip(x, lo, hi)."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.lo, ctx.hi = lo, hi
        ctx.save_for_backward(x)
        return get_array_module(x).clip(x, lo, hi).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        # PyTorch's choice: no gradient at the boundaries themselves
        (x,) = ctx.saved_tensors
        return E.where((x > ctx.lo) & (x < ctx.hi), gy, 0.0)


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    """Clamp into ``[min_val, max_val]``; the gradient is 1 strictly inside, 0 elsewhere."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")

    def hardtanh_(x):
        return Hardtanh.apply(x, lo=min_val, hi=max_val)

    return _inplace_or(input, hardtanh_, inplace)


def relu6(input, inplace: bool = False):
    """``min(max(0, x), 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


# ---- dropout ----------------------------------------------------------------------------

def _uniform(xp, shape):
    g = _gen_for(xp)
    return g.random(shape) if xp is np else g.random_sample(shape)


def _dropout_mask(input, p: float, mask_shape):
    xp = _xp(input)
    keep = _uniform(xp, mask_shape) >= p
    return keep.astype(input.dtype) * input.dtype.type(1.0 / (1.0 - p))


def _zero_out(x):
    return x * 0.0


def _check_p(p) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``
    (training only; identity otherwise). Uses the package RNG (``ag.manual_seed``)."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return _inplace_or(input, _zero_out, inplace)
    scale = _dropout_mask(input, p, tuple(input.shape))

    def dropout_(x):
        return E.mul(x, scale)

    return _inplace_or(input, dropout_, inplace)


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels: input (N, C, H, W) or (C, H, W); one draw per (N, C)."""
    _check_p(p)
    if input.ndim not in (3, 4):
        raise RuntimeError(
            f"dropout2d: expected a 3D (C, H, W) or 4D (N, C, H, W) input, got shape "
            f"{_shape(input)}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return _inplace_or(input, _zero_out, inplace)
    lead = 2 if input.ndim == 4 else 1
    scale = _dropout_mask(input, p, tuple(input.shape[:lead]) + (1,) * (input.ndim - lead))

    def dropout2d_(x):
        return E.mul(x, scale)

    return _inplace_or(input, dropout2d_, inplace)


# ---- one_hot / normalize / embedding ----------------------------------------------------

def one_hot(tensor, num_classes: int = -1):
    """int64 tensor of shape ``(*tensor.shape, num_classes)`` with ones at the indices."""
    t = _data(tensor)
    xp = get_array_module(t)
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"one_hot is only applicable to index tensor (got dtype {t.dtype})")
    if num_classes == -1:
        if t.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(t.max()) + 1
    if t.size and int(t.min()) < 0:
        raise RuntimeError("one_hot: Class values must be non-negative.")
    if t.size and int(t.max()) >= num_classes:
        raise RuntimeError(
            f"one_hot: Class values must be smaller than num_classes ({num_classes}), got "
            f"{int(t.max())}")
    return _make((t[..., None] == xp.arange(num_classes)).astype(np.int64))


def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None):
    """``x / max(||x||_p, eps)`` along ``dim``."""
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported")
    denom = E.clamp(R.norm(input, p, dim, keepdim=True), min=eps)
    return input / denom


class Embedding(Op):
    """``weight[idx]``; the backward scatter-adds into rows (none into ``padding_idx``)."""

    @staticmethod
    def forward(ctx, weight, idx, padding_idx, scale_grad_by_freq):
        ctx.shape, ctx.idx = weight.shape, idx
        ctx.padding_idx, ctx.freq = padding_idx, scale_grad_by_freq
        return weight[idx]

    @staticmethod
    def backward(ctx, gy):
        idx = ctx.idx
        if ctx.padding_idx is not None:
            gy = E.where((idx == ctx.padding_idx)[..., None], 0.0, gy)
        if ctx.freq:
            xp = get_array_module(idx)
            counts = xp.bincount(idx.reshape(-1), minlength=ctx.shape[0])[idx]
            gy = gy * (1.0 / counts)[..., None].astype(gy.dtype)
        return _index_grad(gy, ctx.shape, idx, False)


def _embedding_renorm(weight, idx, max_norm: float, norm_type: float) -> None:
    """PyTorch's ``embedding_renorm_``: rescale (in place, no graph) the rows looked up
    whose ``norm_type``-norm exceeds ``max_norm`` to norm ``max_norm``."""
    with no_grad():
        w = weight._data
        xp = get_array_module(w)
        rows = xp.unique(idx.reshape(-1))
        sub = w[rows]
        if norm_type == math.inf:
            norms = xp.abs(sub).max(axis=1)
        else:
            norms = (xp.abs(sub) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
        scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(w.dtype)
        new = w.copy()
        new[rows] = sub * scale[:, None]
        _write(weight, None, new)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False):
    """Rows of ``weight`` (num_embeddings, dim) at the integer indices ``input``; rows at
    ``padding_idx`` get no gradient. ``sparse`` is accepted; gradients are dense."""
    idx = _data(input)
    if not hasattr(idx, "dtype"):
        idx = np.asarray(idx)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(
            f"embedding: expected indices of an integer dtype (int64/int32), got {idx.dtype}")
    if weight.ndim != 2:
        raise RuntimeError(f"embedding: 'weight' must be 2-D, got shape {_shape(weight)}")
    n = weight.shape[0]
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n):
        bad = int(idx.max()) if int(idx.max()) >= n else int(idx.min())
        raise IndexError(f"embedding: index {bad} is out of range for {n} embeddings "
                         f"(weight shape {_shape(weight)})")
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = padding_idx % n
    if max_norm is not None:
        _embedding_renorm(weight, idx, max_norm, norm_type)
    return Embedding.apply(weight, idx=idx, padding_idx=padding_idx,
                           scale_grad_by_freq=scale_grad_by_freq)


# ---- bilinear ---------------------------------------------------------------------------

def bilinear(input1, input2, weight, bias=None):
    """``y[..., o] = sum_ij x1[..., i] W[o, i, j] x2[..., j] + b[o]``."""
    o, i1, i2 = weight.shape
    if input1.shape[-1] != i1 or input2.shape[-1] != i2 or \
            tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise RuntimeError(
            f"bilinear: expected inputs of shapes [*, {i1}] and [*, {i2}] with the same "
            f"leading dims (weight shape {_shape(weight)}), got {_shape(input1)} and "
            f"{_shape(input2)}")
    lead = tuple(input1.shape[:-1])
    x1 = S.reshape(input1, (-1, i1))
    x2 = S.reshape(input2, (-1, i2))
    w2 = S.reshape(S.permute(weight, 1, 0, 2), (i1, o * i2))
    t = S.reshape(matmul(x1, w2), (-1, o, i2))
    y = R.sum(t * S.unsqueeze(x2, 1), dim=2)
    if bias is not None:
        y = y + bias
    return S.reshape(y, lead + (o,))


# ---- normalisation ----------------------------------------------------------------------

class Normalize(Op):
    """``(x - mean) / sqrt(var + eps) * weight + bias`` with the (biased) statistics over
    ``axes``; weight and bias are pre-shaped to broadcast against x (or None). ``stats``
    may pass precomputed (mean, var) arrays (batch norm computes them anyway).

    Backward is the classic g - mean(g) - xhat * mean(g * xhat), scaled by rstd, where
    ``g = gy * weight``. On arrays it reuses the mean/rstd of forward; under
    ``create_graph`` it recomputes them from x with ops so that it is differentiable."""

    @staticmethod
    def forward(ctx, x, weight, bias, axes, eps, stats=None):
        xp = get_array_module(x)
        for name, p in (("weight", weight), ("bias", bias)):
            if p is not None and p.dtype != x.dtype:
                raise RuntimeError(f"normalization: {name} dtype {p.dtype} does not match "
                                   f"input dtype {x.dtype}")
        if stats is None:
            mean = x.mean(axis=axes, keepdims=True)
            y = x - mean
            var = (y * y).mean(axis=axes, keepdims=True)
        else:
            mean, var = stats
            y = x - mean
        rstd = (1.0 / xp.sqrt(var + eps)).astype(x.dtype, copy=False)
        y *= rstd
        if weight is not None:
            y = y * weight
        if bias is not None:
            y = y + bias
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
        xhat = xc * rstd
        gx = gw = gb = None
        if e[0] is not None:
            g = gy * w if w is not None else gy
            gx = (g - R.mean(g, dim=axes, keepdim=True)
                  - xhat * R.mean(g * xhat, dim=axes, keepdim=True)) * rstd
        if e[1] is not None:
            gw = S.sum_to(gy * xhat, tuple(w.shape))
        if e[2] is not None:
            gb = S.sum_to(gy, tuple(ctx.bshape))
        return gx, gw, gb


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
    return Normalize.apply(input, weight, bias, axes=axes, eps=eps)


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
                             f"size {_shape(input)}")
        xd = _data(input)
        mean = xd.mean(axis=axes, keepdims=True)
        d = xd - mean
        var = (d * d).mean(axis=axes, keepdims=True)
        if running_mean is not None:
            _running_update(running_mean, mean.reshape(c), momentum)
        if running_var is not None:
            _running_update(running_var, var.reshape(c) * (count / (count - 1)), momentum)
        return Normalize.apply(input, w, b, axes=axes, eps=eps, stats=(mean, var))
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
    return input * S.reshape(scale, shape) + S.reshape(shift, shape)


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
    return y


# ---- losses -----------------------------------------------------------------------------

def _legacy_reduction(size_average, reduce, reduction: str) -> str:
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        return "mean"
    return "sum" if reduce else "none"


def _reduce(loss, reduction: str, fn: str):
    if reduction == "mean":
        return R.mean(loss)
    if reduction == "sum":
        return R.sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"{fn}: {reduction!r} is not a valid value for reduction (use 'mean', "
                     "'sum' or 'none')")


def _check_reduction(reduction: str, fn: str, extra=()) -> None:
    if reduction not in ("mean", "sum", "none", *extra):
        raise ValueError(f"{fn}: {reduction!r} is not a valid value for reduction (use 'mean', "
                         f"'sum'{''.join(', ' + repr(x) for x in extra)} or 'none')")


def _warn_shape(input, target, fn: str) -> None:
    if tuple(getattr(target, "shape", ())) != tuple(input.shape):
        warnings.warn(
            f"{fn}: using a target size ({_shape(target)}) that is different to the input size "
            f"({_shape(input)}). This will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.", stacklevel=3)


def _weighted(loss, weight, reduction, fn, mean_by_weight: bool):
    if weight is None:
        return _reduce(loss, reduction, fn)
    if tuple(weight.shape) != tuple(loss.shape):
        raise ValueError(f"{fn}: weights and input must have the same size (weight "
                         f"{_shape(weight)}, input {_shape(loss)})")
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return R.sum(loss) / R.sum(weight)
    return _reduce(loss, reduction, fn)


def mse_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
             weight=None):
    """Mean squared error ``(input - target)^2``, reduced."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "mse_loss")
    _warn_shape(input, target, "mse_loss")
    d = input - target
    return _weighted(d * d, weight, reduction, "mse_loss", True)


def l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
            weight=None):
    """Mean absolute error ``|input - target|``, reduced."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "l1_loss")
    _warn_shape(input, target, "l1_loss")
    return _weighted(E.abs(input - target), weight, reduction, "l1_loss", True)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0):
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (``d = input -
    target``); ``beta = 0`` is the L1 loss."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "smooth_l1_loss")
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _warn_shape(input, target, "smooth_l1_loss")
    d = input - target
    ad = E.abs(d)
    loss = ad if beta == 0 else E.where(ad < beta, d * d * (0.5 / beta), ad - 0.5 * beta)
    return _reduce(loss, reduction, "smooth_l1_loss")


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0, weight=None):
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``."""
    _check_reduction(reduction, "huber_loss")
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _warn_shape(input, target, "huber_loss")
    d = input - target
    ad = E.abs(d)
    loss = E.where(ad < delta, d * d * 0.5, (ad - 0.5 * delta) * delta)
    return _weighted(loss, weight, reduction, "huber_loss", False)


def nll_loss(input, target, weight=None, size_average=None, ignore_index: int = -100,
             reduce=None, reduction: str = "mean"):
    """Negative log-likelihood of log-probabilities ``input`` (N, C, ...) or (C,) at class
    indices ``target`` (N, ...) or (); ``weight`` rescales classes; targets equal to
    ``ignore_index`` contribute nothing (and are left out of the 'mean' denominator)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "nll_loss")
    t = _data(target)
    if not hasattr(t, "dtype"):
        t = np.asarray(t)
    if input.ndim == 1:
        if t.ndim != 0:
            raise ValueError(f"nll_loss: for an input of shape {_shape(input)} (C,), expected a "
                             f"0-d target, got shape {list(t.shape)}")
        out = nll_loss(S.unsqueeze(input, 0), t.reshape(1), weight, ignore_index=ignore_index,
                       reduction=reduction)
        return S.squeeze(out, 0) if reduction == "none" else out
    if input.ndim < 1:
        raise ValueError("nll_loss: expected an input with 1 or more dims, got a 0-d tensor")
    if t.ndim == 0 or t.shape[0] != input.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({t.shape[0] if t.ndim else 0}).")
    if tuple(t.shape) != (input.shape[0],) + tuple(input.shape[2:]):
        raise RuntimeError(f"nll_loss: expected target of shape "
                           f"{[input.shape[0]] + list(input.shape[2:])} for input of shape "
                           f"{_shape(input)}, got {list(t.shape)}")
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"nll_loss: expected class-index targets of an integer dtype, got "
                           f"{t.dtype}")
    c = input.shape[1]
    if weight is not None and tuple(weight.shape) != (c,):
        raise RuntimeError(f"nll_loss: weight tensor should be defined either for all {c} "
                           f"classes or no classes but got weight tensor of shape "
                           f"{_shape(weight)}")
    xp = get_array_module(t)
    valid = t != ignore_index
    if t.size:
        bad = t[valid & ((t < 0) | (t >= c))]
        if bad.size:
            raise IndexError(f"nll_loss: Target {int(bad.reshape(-1)[0])} is out of bounds "
                             f"for {c} classes.")
    safe = xp.where(valid, t, 0)
    picked = S.squeeze(gather(input, 1, safe[:, None]), 1)
    mask = valid.astype(input.dtype)
    w = mask if weight is None else weight[safe] * mask
    loss = -picked * w
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):  # all ignored: NaN, like PyTorch
            return R.sum(loss) / R.sum(w)
    return _reduce(loss, reduction, "nll_loss")


class BinaryCrossEntropy(Op):
    """``-(t log x + (1 - t) log(1 - x))`` with the logs clamped at -100 (PyTorch), so the
    loss stays finite at x = 0 or 1; the x gradient divides by ``max(x (1 - x), 1e-12)``."""

    @staticmethod
    def forward(ctx, x, t):
        xp = get_array_module(x)
        if x.size and bool(((x < 0) | (x > 1)).any()):
            raise RuntimeError("binary_cross_entropy: all elements of input should be between "
                               "0 and 1")
        with np.errstate(divide="ignore"):
            lx = xp.maximum(xp.log(x), -100)
            l1x = xp.maximum(xp.log1p(-x), -100)
        ctx.save_for_backward(x, t)
        return -(t * lx + (1 - t) * l1x)

    @staticmethod
    def backward(ctx, gy):
        x, t = ctx.saved_tensors
        e = ctx.next_edges
        gx = gt = None
        if e[0] is not None:
            gx = gy * (x - t) / E.clamp((1 - x) * x, min=1e-12)
        if e[1] is not None:
            with np.errstate(divide="ignore"):
                gt = gy * (E.clamp(E.log1p(-x), min=-100.0) - E.clamp(E.log(x), min=-100.0))
        return gx, gt


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction: str = "mean"):
    """Binary cross entropy between probabilities ``input`` and ``target`` (same shape)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "binary_cross_entropy")
    if tuple(getattr(target, "shape", ())) != tuple(input.shape):
        raise ValueError(f"binary_cross_entropy: using a target size ({_shape(target)}) that is "
                         f"different to the input size ({_shape(input)}) is deprecated. Please "
                         "ensure they have the same size.")
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy")


class BCEWithLogits(Op):
    """``(1 - t) x + (1 + (pw - 1) t) softplus(-x)``: sigmoid and BCE fused, stable for any
    logit; ``pw`` (pos_weight, broadcast against x) may be None."""

    @staticmethod
    def forward(ctx, x, t, pw):
        xp = get_array_module(x)
        sp = xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)  # softplus(-x) = -log sigmoid(x)
        lw = 1 if pw is None else (pw - 1) * t + 1
        ctx.save_for_backward(x, t, pw)
        ctx.pw_shape = None if pw is None else pw.shape
        return (1 - t) * x + lw * sp

    @staticmethod
    def backward(ctx, gy):
        x, t, pw = ctx.saved_tensors
        e = ctx.next_edges
        s = E.sigmoid(x)
        gx = gt = gpw = None
        if e[0] is not None:
            gx = gy * (s - t) if pw is None else gy * (s * ((pw - 1) * t + 1) - pw * t)
        if e[1] is not None or (len(e) > 2 and e[2] is not None):
            sp = Softplus.apply(-x, beta=1.0, threshold=math.inf)
            if e[1] is not None:
                gt = gy * -x if pw is None else gy * ((pw - 1) * sp - x)
            if len(e) > 2 and e[2] is not None:
                gpw = S.sum_to(gy * t * sp, tuple(ctx.pw_shape))
        return gx, gt, gpw


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction: str = "mean", pos_weight=None):
    """``binary_cross_entropy(sigmoid(input), target)`` computed stably from logits;
    ``pos_weight`` (broadcast along the class dim, the last) weights positive targets."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    if tuple(getattr(target, "shape", ())) != tuple(input.shape):
        raise ValueError(f"binary_cross_entropy_with_logits: target size ({_shape(target)}) "
                         f"must be the same as input size ({_shape(input)})")
    if pos_weight is None:
        loss = BCEWithLogits.apply(input, target, None)
    else:
        loss = BCEWithLogits.apply(input, target, pos_weight)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


def kl_div(input, target, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False):
    """KL divergence ``target * (log(target) - input)`` for log-probabilities ``input``
    (``target`` given as log-probabilities when ``log_target``). ``'batchmean'`` divides the
    sum by the batch size (the true KL divergence); ``'mean'`` by the number of elements."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn("kl_div: reduction='mean' divides the total loss by both the batch size "
                      "and the support size; 'batchmean' divides only by the batch size and "
                      "aligns with the KL divergence's definition.", stacklevel=2)
    _check_reduction(reduction, "kl_div", ("batchmean",))
    if log_target:
        loss = E.exp(target) * (target - input)
    else:
        pos = target > 0
        xlogx = E.where(pos, target * E.log(E.where(pos, target, 1.0)), 0.0)
        loss = xlogx - target * input
    if reduction == "batchmean":
        s = R.sum(loss)
        return s / input.shape[0] if input.ndim else s
    return _reduce(loss, reduction, "kl_div")


__all__ = [
    "batch_norm", "bilinear", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "dropout", "dropout2d", "elu", "embedding", "gelu", "group_norm", "hardtanh", "huber_loss",
    "kl_div", "l1_loss", "layer_norm", "leaky_relu", "logsigmoid", "mse_loss", "nll_loss",
    "normalize", "one_hot", "relu6", "silu", "smooth_l1_loss", "softplus",
]
