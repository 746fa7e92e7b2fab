"""Losses. ``cross_entropy`` (softmax + NLL, one pass each way), ``binary_cross_entropy``
(PyTorch's log clamping and gradient epsilon) and ``binary_cross_entropy_with_logits``
(stable log-sigmoid, ``pos_weight``) are fused ops, each tested against its composite
version; the others are compositions of primitive ops."""

from __future__ import annotations

import math
import warnings

import numpy as np

from autograd import fused
from autograd.backend import add_at, get_array_module
from autograd.forward_ad import jvp_rule
from autograd.function import Op, named
from autograd.ops import elementwise as E
from autograd.ops import reduction as R
from autograd.ops import shape as S
from autograd.ops.indexing import gather
from autograd.tensor import Tensor, _make
from autograd.vmap import BatchedTensor

from . import _loss_kernels as _LK
from ._utils import _data, _shape
from .activation import Softplus, log_softmax, logsigmoid
from .distance import pairwise_distance
from .linear import linear


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
            f"Using a target size (torch.Size({_shape(target)})) that is different to the input "
            f"size (torch.Size({_shape(input)})). This will likely lead to incorrect results due "
            "to broadcasting. Please ensure they have the same size.", stacklevel=3)


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
    return named(_weighted(d * d, weight, reduction, "mse_loss", True), "MseLossBackward0")


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
    if beta == 0:  # PyTorch computes it as the L1 loss
        return _reduce(ad, reduction, "smooth_l1_loss")
    loss = E.where(ad < beta, d * d * (0.5 / beta), ad - 0.5 * beta)
    return named(_reduce(loss, reduction, "smooth_l1_loss"), "SmoothL1LossBackward0")


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0, weight=None):
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``."""
    _check_reduction(reduction, "huber_loss")
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _warn_shape(input, target, "huber_loss")
    d = input - target
    ad = E.abs(d)
    loss = E.where(ad < delta, d * d * 0.5, (ad - 0.5 * delta) * delta)
    return named(_weighted(loss, weight, reduction, "huber_loss", False), "HuberLossBackward0")


def _nll_name(ndim: int, reduction: str) -> str:
    """PyTorch's name for the node of nll_loss (and cross_entropy) on an input of ``ndim``
    dims: NllLoss for (C,) and (N, C), NllLoss2d for (N, C, H, W); other shapes are viewed
    as 4-d for NllLoss2d, whose unreduced (N, H, W) loss is viewed back (ViewBackward0)."""
    if ndim <= 2:
        return "NllLossBackward0"
    return "ViewBackward0" if reduction == "none" and ndim != 4 else "NllLoss2DBackward0"


def _unbatched(out, reduction: str):
    """The loss of an unbatched (C,) input computed as a batch of one: the () loss, which
    keeps the batched loss's node name (PyTorch computes it without the batch dim)."""
    if reduction != "none":
        return out
    name = out.grad_fn.name() if getattr(out, "grad_fn", None) is not None else None
    out = S.squeeze(out, 0)
    return named(out, name) if name else out


def nll_loss(input, target, weight=None, size_average=None, ignore_index: int = -100,
             reduce=None, reduction: str = "mean"):
    """Negative log-likelihood of log-probabilities ``input`` (N, C, ...) or (C,) at class
    indices ``target`` (N, ...) or (); ``weight`` rescales classes; targets equal to
    ``ignore_index`` contribute nothing (and are left out of the 'mean' denominator)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, "nll_loss")
    if isinstance(target, BatchedTensor):
        if input.ndim == 1 and target.ndim == 0:  # unbatched (C,)
            out = _nll_loss_by_mask(S.unsqueeze(input, 0), S.unsqueeze(target, 0), weight,
                                    ignore_index, reduction)
            return S.squeeze(out, 0) if reduction == "none" else out
        return _nll_loss_by_mask(input, target, weight, ignore_index, reduction)
    t = _data(target)
    if not hasattr(t, "dtype"):
        t = np.asarray(t)
    if input.ndim == 1:
        if t.ndim != 0:
            raise ValueError(f"nll_loss: for an input of shape {_shape(input)} (C,), expected a "
                             f"0-d target, got shape {list(t.shape)}")
        out = nll_loss(S.unsqueeze(input, 0), t.reshape(1), weight, ignore_index=ignore_index,
                       reduction=reduction)
        return _unbatched(out, reduction)
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
        total = R.sum(w)
        td = _data(total)
        if not bool(td == 0):
            return named(R.sum(loss) / total, _nll_name(input.ndim, reduction))
        # every target ignored (or zero weight): NaN, with zero gradients, like PyTorch
        return named(R.sum(loss) / E.where(td == 0, 1.0, total) + float("nan"),
                     _nll_name(input.ndim, reduction))
    return named(_reduce(loss, reduction, "nll_loss"), _nll_name(input.ndim, reduction))


def _nll_loss_by_mask(input, target, weight, ignore_index: int, reduction: str):
    """``nll_loss`` for a target batched by ``vmap`` (per-sample gradients with class
    targets): the gather of the usual path takes its index as an array, which cannot carry
    a batch, so each target's log-probability is picked with a one-hot mask over the classes
    (N, C, ...) built from tensor ops, which vmap batches."""
    if input.ndim < 2 or tuple(target.shape) != (input.shape[0],) + tuple(input.shape[2:]):
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({target.shape[0] if target.ndim else 0}).")
    if target.dtype.kind not in "iu":
        raise RuntimeError(f"nll_loss: expected class-index targets of an integer dtype, got "
                           f"{target.dtype}")
    c = input.shape[1]
    classes = np.arange(c, dtype=target.dtype).reshape((1, c) + (1,) * (input.ndim - 2))
    hit = S.unsqueeze(target, 1) == classes
    picked = R.sum(E.where(hit, input, 0.0), dim=1)
    w = E.where(target != ignore_index, 1.0, 0.0).to(input.dtype)
    if weight is not None:
        wc = S.reshape(weight, (1, c) + (1,) * (input.ndim - 2))
        w = w * R.sum(E.where(hit, wc, 0.0), dim=1)
    loss = -picked * w
    if reduction == "mean":
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
                               "0 and 1 (probabilities; for logits use "
                               "binary_cross_entropy_with_logits)")
        if hasattr(t, "size") and t.size and bool(((t < 0) | (t > 1)).any()):
            raise RuntimeError("binary_cross_entropy: all elements of target should be between "
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
        raise ValueError(f"Using a target size (torch.Size({_shape(target)})) that is "
                         f"different to the input size (torch.Size({_shape(input)})) is "
                         "deprecated. Please ensure they have the same size.")
    tdt = getattr(target, "dtype", None)
    if tdt is not None and tdt != input.dtype:
        raise RuntimeError(f"binary_cross_entropy: found target dtype {tdt} but expected "
                           f"{input.dtype} (the input's); convert it with .to(input.dtype)")
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * weight
    return named(_reduce(loss, reduction, "binary_cross_entropy"),
                 "BinaryCrossEntropyBackward0")


class BCEWithLogits(Op):
    """``(1 - t) x + (1 + (pw - 1) t) softplus(-x)``: sigmoid and BCE fused, stable for any
    logit; ``pw`` (pos_weight, broadcast against x) may be None."""

    _torch_name = "BinaryCrossEntropyWithLogitsBackward0"

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
        raise ValueError(f"Target size (torch.Size({_shape(target)})) must be the same as "
                         f"input size (torch.Size({_shape(input)}))")
    if pos_weight is None:
        loss = BCEWithLogits.apply(input, target, None)
    else:
        loss = BCEWithLogits.apply(input, target, pos_weight)
    if weight is not None:
        loss = loss * weight
    return named(_reduce(loss, reduction, "binary_cross_entropy_with_logits"),
                 "BinaryCrossEntropyWithLogitsBackward0")


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



class CrossEntropy(Op):
    """Softmax + negative log-likelihood over class dim 1, fused (one pass each way) for
    integer class targets with ignore_index, class weights and label smoothing."""

    _torch_name = "NllLossBackward0"  # PyTorch's cross_entropy: nll_loss(log_softmax(x))

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction, label_smoothing):
        xp = get_array_module(x)
        n, c = x.shape[0], x.shape[1]
        ctx.fast = False
        if (xp is np and x.ndim == 2 and weight is None and not label_smoothing
                and reduction in ("mean", "sum") and x.dtype in (np.float32, np.float64)
                and _LK.xent_shift.get() is not None):
            return CrossEntropy._forward_fast(ctx, x, target, ignore_index, reduction)
        # move the class dim last and flatten: (N*d1*..., C)
        if x.ndim > 2:
            perm = (0,) + tuple(range(2, x.ndim)) + (1,)
            x2 = x.transpose(perm).reshape(-1, c)
        else:
            x2 = x
        t = target.reshape(-1)
        oob = None
        if xp is not np:  # no host sync on the GPU: an out-of-range target gives NaN
            valid = t != ignore_index
            oob = valid & ((t < 0) | (t >= c))
            tt = xp.where(valid & ~oob, t, 0)
        elif ((not t.size or (int(t.max()) < c and int(t.min()) >= 0))
              and not 0 <= ignore_index < c):
            valid = None  # every target is a class: no masking needed (the common case)
            tt = t
        else:
            bad = t[(t != ignore_index) & ((t < 0) | (t >= c))]
            if bad.size:
                raise IndexError(
                    f"cross_entropy: target {int(bad[0])} is out of bounds for {c} classes"
                )
            valid = t != ignore_index
            tt = xp.where(valid, t, 0)
        m = x2.max(axis=1, keepdims=True)
        z = x2 - m
        lse = xp.log(xp.exp(z).sum(axis=1, keepdims=True))
        logp = z - lse
        rows = xp.arange(t.shape[0])
        nll = -logp[rows, tt]
        w_t = weight[tt] if weight is not None else None
        if w_t is not None:
            nll = nll * w_t
        eps = label_smoothing
        if eps:
            smooth = -(logp * weight).sum(axis=1) if weight is not None else -logp.sum(axis=1)
            loss = (1 - eps) * nll + eps / c * smooth
        else:
            loss = nll
        if valid is not None:
            loss = loss * valid
        if oob is not None:
            loss = xp.where(oob, xp.nan, loss)
        if reduction == "mean":
            if valid is None:
                denom = w_t.sum() if w_t is not None else t.shape[0]
            else:
                denom = (w_t * valid).sum() if w_t is not None else valid.sum()
            ctx.denom = float(denom) if xp is np else denom
            with np.errstate(invalid="ignore", divide="ignore"):  # all ignored: NaN
                out = loss.sum() / denom
            # ... but zero gradients (every row is masked), as PyTorch
            ctx.denom = xp.where(ctx.denom == 0, 1.0, ctx.denom) if xp is not np \
                else (ctx.denom or 1.0)
        elif reduction == "sum":
            out = loss.sum()
        else:
            out = loss.reshape((n,) + x.shape[2:])
        ctx.shape, ctx.c, ctx.reduction, ctx.eps = x.shape, c, reduction, eps
        ctx.rows, ctx.tt, ctx.valid, ctx.w_t, ctx.weight = rows, tt, valid, w_t, weight
        ctx.save_for_backward(logp, x)  # x: for the double backward (create_graph)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def _forward_fast(ctx, x, t, ignore_index: int, reduction: str):
        """``forward`` for a 2-D NumPy input without class weights or label smoothing, mean
        or sum: the compiled kernels (``_loss_kernels``) around NumPy's ``exp``."""
        n, c = x.shape
        x = np.ascontiguousarray(x)
        t = np.ascontiguousarray(t.reshape(-1))
        logp = np.empty_like(x)
        _LK.xent_shift.get()(x, logp)
        e = np.exp(logp)
        res = np.empty(2)
        bad = _LK.xent_finish.get()(logp, e, t, ignore_index, res)
        if bad >= 0:
            raise IndexError(f"cross_entropy: target {int(t[bad])} is out of bounds for {c} "
                             "classes")
        total, count = res[0], int(res[1])
        if reduction == "mean":
            with np.errstate(invalid="ignore", divide="ignore"):  # all ignored: NaN
                out = np.float64(total) / count
            ctx.denom = float(count) or 1.0  # ... but zero gradients, as PyTorch
        else:
            out = np.float64(total)
        ctx.fast, ctx.t, ctx.ignore_index = True, t, ignore_index
        ctx.shape, ctx.c, ctx.reduction, ctx.eps = x.shape, c, reduction, 0.0
        ctx.w_t = ctx.weight = None
        ctx.save_for_backward(logp, x)
        return np.asarray(out, dtype=x.dtype)

    @staticmethod
    def _graph_targets(ctx) -> None:
        """The rows/targets/valid mask the NumPy forward keeps, for a fast forward's
        create_graph backward."""
        t = ctx.t
        valid = t != ctx.ignore_index
        ctx.valid = None if valid.all() else valid
        ctx.tt = t if ctx.valid is None else np.where(valid, t, 0)
        ctx.rows = np.arange(t.shape[0])

    @staticmethod
    def backward(ctx, gy):
        logp, x = ctx.saved_tensors
        if isinstance(gy, Tensor):
            if ctx.fast:
                CrossEntropy._graph_targets(ctx)
            return _cross_entropy_grad_graph(ctx, gy, x), None, None
        if ctx.fast:
            s = gy / ctx.denom if ctx.reduction == "mean" else gy
            g = np.exp(logp)
            _LK.xent_grad.get()(g, ctx.t, ctx.ignore_index, logp.dtype.type(s), g)
            return g, None, None
        xp = get_array_module(logp)
        if xp is not np and ctx.w_t is None and not ctx.eps and len(ctx.shape) == 2:
            s = gy / ctx.denom if ctx.reduction == "mean" else gy  # the GPU: one fused kernel
            s = s.reshape(-1)[:, None] if ctx.reduction == "none" and s.ndim else s
            s = s * ctx.valid[:, None] if ctx.valid is not None else s
            g = fused.xent_grad(logp, xp.arange(ctx.c)[None, :], ctx.tt[:, None], s)
            return g.astype(logp.dtype, copy=False), None, None
        p = xp.exp(logp)
        c, eps = ctx.c, ctx.eps
        # d loss_i / d x_i = (1-eps) w_t (p - onehot) + eps/c * (sum(w) p - w)
        wt = ctx.w_t if ctx.w_t is not None else 1.0
        if ctx.w_t is None and not eps:
            g = p  # a fresh array: updated in place below
        else:
            g = p * ((1 - eps) * (wt if ctx.w_t is None else wt[:, None]))
        g[ctx.rows, ctx.tt] -= (1 - eps) * wt
        if eps:
            if ctx.weight is not None:
                g += eps / c * (p * ctx.weight.sum() - ctx.weight)
            else:
                g += eps / c * (p * c - 1)
        if ctx.valid is not None:  # ignored rows: +0 (multiplying gives -0 at the target)
            g = xp.where(ctx.valid[:, None], g, xp.zeros((), dtype=g.dtype))
        if ctx.reduction == "mean":
            g *= gy / ctx.denom
        elif ctx.reduction == "sum":
            g *= gy
        else:
            g *= gy.reshape(-1)[:, None] if gy.ndim else gy
        shape = ctx.shape
        if len(shape) > 2:
            inter = (shape[0],) + shape[2:] + (shape[1],)
            inv = (0, len(shape) - 1) + tuple(range(1, len(shape) - 1))
            g = g.reshape(inter).transpose(inv)
        return g.astype(logp.dtype, copy=False), None, None


def _cross_entropy_grad_graph(ctx, gy, x):
    """The fused op's gradient written with ops on the input ``x`` (create_graph), so that it
    can be differentiated again: ``(p * a - b) * scale`` with ``p = softmax(x)`` over the
    classes and constants ``a`` (per row) and ``b`` (per row and class) from the targets,
    weights and label smoothing, as in the array formula."""
    xp = get_array_module(x._data)
    shape, c, eps = ctx.shape, ctx.c, ctx.eps
    nd = len(shape)
    if nd > 2:
        x2 = S.reshape(S.permute(x, (0,) + tuple(range(2, nd)) + (1,)), (-1, c))
    else:
        x2 = x
    p = E.exp(log_softmax(x2, dim=1))
    m = ctx.rows.shape[0]
    wt = ctx.w_t if ctx.w_t is not None else xp.ones(m, dtype=x.dtype)
    w = ctx.weight if ctx.weight is not None else xp.ones(c, dtype=x.dtype)
    a = ((1 - eps) * wt + eps / c * w.sum()).astype(x.dtype)[:, None]
    b = xp.zeros((m, c), dtype=x.dtype)
    b[ctx.rows, ctx.tt] = (1 - eps) * wt
    if eps:
        b += (eps / c * w)[None, :]
    if ctx.valid is not None:
        a = a * ctx.valid[:, None]
        b = b * ctx.valid[:, None]
    g = p * a - b
    if ctx.reduction == "mean":
        g = g * (gy / ctx.denom)
    elif ctx.reduction == "sum":
        g = g * gy
    else:
        g = g * S.reshape(gy, (-1, 1))
    if nd > 2:
        inter = (shape[0],) + tuple(shape[2:]) + (shape[1],)
        inv = (0, nd - 1) + tuple(range(1, nd - 1))
        g = S.permute(S.reshape(g, inter), inv)
    return g


def cross_entropy(input, target, weight=None, size_average=None, ignore_index: int = -100,
                  reduce=None, reduction: str = "mean", label_smoothing: float = 0.0):
    """Softmax cross-entropy between logits ``input`` (N, C, ...) and class indices
    ``target`` (N, ...) or class probabilities (same shape as input)."""
    if input.ndim < 1:
        raise RuntimeError("cross_entropy: input must have at least 1 dimension (N, C)")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    if input.ndim == 1:  # unbatched (C,): a () loss with reduction 'none', as PyTorch
        out = cross_entropy(S.unsqueeze(input, 0), S.unsqueeze(target, 0), weight,
                            ignore_index=ignore_index, reduction=reduction,
                            label_smoothing=label_smoothing)
        return _unbatched(out, reduction)
    if isinstance(target, Tensor) and target.dtype.kind in "fV":
        # class probabilities: the target has the input's shape (else it would be indices)
        if tuple(target.shape) != tuple(input.shape):
            raise RuntimeError(
                f"cross_entropy: a floating target holds class probabilities and must have "
                f"the input's shape {list(input.shape)}, got {list(target.shape)}; for class "
                f"indices pass an integer (long) tensor of shape "
                f"{[input.shape[0]] + list(input.shape[2:])}")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        logp = log_softmax(input, dim=1)
        if label_smoothing:
            target = target * (1 - label_smoothing) + label_smoothing / input.shape[1]
        w = 1.0 if weight is None else S.reshape(weight, (1, -1) + (1,) * (input.ndim - 2))
        loss = -R.sum(logp * target * w, dim=1)
        # "mean" averages over the batch and every spatial position (N * d1 * ...), as PyTorch
        # whose mean is -(logp * target * w).sum() / (N * d1 * ...): DivBackward1
        return named(_reduce(loss, reduction, "cross_entropy"),
                     "DivBackward1" if reduction == "mean" else "NegBackward0")
    # the target's own shape and dtype (inside vmap a batched target's logical ones), and the
    # target itself to the op, so that vmap's batching rule sees a per-sample target
    t = target if isinstance(target, Tensor) else np.asarray(target)
    shape = tuple(t.shape)
    if not shape or shape[0] != input.shape[0]:  # PyTorch's ValueError, as nll_loss
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({shape[0] if shape else 0}).")
    if shape != (input.shape[0],) + tuple(input.shape[2:]):
        raise RuntimeError(
            f"cross_entropy: expected target of shape "
            f"{[input.shape[0]] + list(input.shape[2:])} for input of shape "
            f"{list(input.shape)}, got {list(shape)}"
        )
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"cross_entropy: class-index targets must be integers, got {t.dtype}")
    wd = weight._data if isinstance(weight, Tensor) else weight
    y = CrossEntropy.apply(input, t, weight=wd, ignore_index=ignore_index,
                           reduction=reduction, label_smoothing=label_smoothing)
    # with label smoothing PyTorch adds the smoothing term to the nll_loss: AddBackward0
    return named(y, "AddBackward0" if label_smoothing else _nll_name(input.ndim, reduction))


# ---- margin and embedding losses ------------------------------------------------------------
# Compositions of differentiable ops (so double backward works), following ATen's Loss.cpp
# formula for formula: the values, the boundary gradients and the errors are PyTorch's.


def _legacy(size_average, reduce, reduction: str, fn: str) -> str:
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, fn)
    return reduction


def _arr(t):
    """The raw array of a target (a Tensor, an array or a Python number/list)."""
    t = _data(t)
    return t if hasattr(t, "dtype") else np.asarray(t)


def cosine_embedding_loss(input1, input2, target, margin: float = 0, size_average=None,
                          reduce=None, reduction: str = "mean"):
    """``1 - cos(x1, x2)`` where ``target == 1``, ``max(0, cos(x1, x2) - margin)`` where
    ``target == -1`` (cosine over the last dim of (N, D) or (D,) inputs).

    Args:
        input1, input2: (N, D) or (D,).
        target: (N,) or () of 1 / -1.
        margin: in [-1, 1]; 0 to 0.5 is suggested.
    """
    reduction = _legacy(size_average, reduce, reduction, "cosine_embedding_loss")
    tdim = getattr(target, "ndim", np.ndim(target))
    if tdim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if tdim == 1 and not (input1.ndim == 2 and input2.ndim == 2):
        raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with "
                           f"sizes {_shape(input1)} and {_shape(input2)}.")
    if tdim == 0 and not (input1.ndim == 1 and input2.ndim == 1):
        raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with "
                           f"sizes {_shape(input1)} and {_shape(input2)}.")
    d = tdim  # the feature dim
    eps = 1e-12  # ATen's EPSILON, added to the squared magnitudes
    prod = R.sum(input1 * input2, dim=d)
    m1 = R.sum(input1 * input1, dim=d) + eps
    m2 = R.sum(input2 * input2, dim=d) + eps
    cos = prod / E.sqrt(m1 * m2)
    t = _arr(target)
    pos = E.where(t == 1, 1 - cos, 0.0)
    neg = E.where(t == -1, E.clamp(cos - margin, min=0), 0.0)
    return _reduce(pos + neg, reduction, "cosine_embedding_loss")


def margin_ranking_loss(input1, input2, target, margin: float = 0, size_average=None,
                        reduce=None, reduction: str = "mean"):
    """``max(0, -target * (input1 - input2) + margin)``; target 1 ranks input1 higher."""
    reduction = _legacy(size_average, reduce, reduction, "margin_ranking_loss")
    tdim = getattr(target, "ndim", np.ndim(target))
    if input1.ndim != input2.ndim or input1.ndim != tdim:
        raise RuntimeError(
            f"margin_ranking_loss : All input tensors should have same dimension but got "
            f"sizes: input1: {_shape(input1)}, input2: {_shape(input2)}, target: "
            f"{_shape(target)} ")
    loss = named(E.clamp(-target * (input1 - input2) + margin, min=0), "ClampMinBackward0")
    return _reduce(loss, reduction, "margin_ranking_loss")


def hinge_embedding_loss(input, target, margin: float = 1.0, size_average=None, reduce=None,
                         reduction: str = "mean"):
    """``input`` where ``target == 1``, ``max(0, margin - input)`` where ``target == -1``
    (other target values contribute both terms, as in PyTorch)."""
    reduction = _legacy(size_average, reduce, reduction, "hinge_embedding_loss")
    t = _arr(target)
    margin_clamp = E.clamp(margin - input, min=0)
    loss = E.where(t != 1, margin_clamp, 0.0) + E.where(t != -1, input, 0.0)
    return _reduce(loss, reduction, "hinge_embedding_loss")


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    """Two-class logistic loss ``log(1 + exp(-target * input))`` (target 1 / -1)."""
    reduction = _legacy(size_average, reduce, reduction, "soft_margin_loss")
    loss = E.log1p(E.exp(-input * target))
    return named(_reduce(loss, reduction, "soft_margin_loss"), "SoftMarginLossBackward0")


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction: str = "mean"):
    """One-vs-all logistic loss of (N, C) logits against (N, C) 0/1 targets, averaged over
    the classes (one value per sample before the reduction)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.ndim - 1
    loss = R.sum(loss, dim=class_dim) / input.shape[class_dim]
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    return _reduce(loss, reduction, "multilabel_soft_margin_loss")


def _class_targets(input, target, fn: str):
    """(input as (N, C), target indices as an (N,) array, whether the input was 1-D) for the
    margin losses over classes, with PyTorch's shape checks."""
    t = _arr(target)
    nd = input.ndim
    if not ((nd == 2 and input.shape[1] != 0) or (nd == 1 and input.shape[0] != 0)
            or nd == 0):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch "
                           f"size, but got: {_shape(input)}")
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"{fn}: expected target of an integer dtype (class indices), got "
                           f"{t.dtype}")
    n = input.shape[0] if nd == 2 else 1
    if not (t.ndim <= 1 and t.size == n):
        raise RuntimeError(f"inconsistent target size, expected {n} but got {list(t.shape)}")
    x = input if nd == 2 else S.reshape(input, (1, -1))
    return x, t.reshape(-1), nd < 2


def multi_margin_loss(input, target, p: int = 1, margin: float = 1.0, weight=None,
                      size_average=None, reduce=None, reduction: str = "mean"):
    """Multi-class hinge loss: for each sample, ``sum_{j != y} max(0, margin - x[y] +
    x[j])^p / C`` (p 1 or 2), times ``weight[y]``.

    Args:
        input: (N, C) or (C,) scores.
        target: (N,) or () class indices.
    """
    reduction = _legacy(size_average, reduce, reduction, "multi_margin_loss")
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    x, t, squeeze = _class_targets(input, target, "multi_margin_loss")
    c = x.shape[1]
    if t.size and (int(t.min()) < 0 or int(t.max()) >= c):
        raise RuntimeError("target out of range")
    if weight is not None and weight.shape[0] != c:
        raise RuntimeError(f"inconsistent weight size, expected {c} but got "
                           f"{_shape(weight)}")
    xp = get_array_module(t)
    xy = gather(x, 1, t[:, None])
    z = E.clamp(margin - xy + x, min=0)
    if p == 2:
        z = z * z
    z = E.where(xp.arange(c)[None, :] != t[:, None], z, 0.0)
    if weight is not None:
        z = z * S.unsqueeze(weight[t], 1)
    loss = R.sum(z, dim=1) / c
    if squeeze:
        loss = S.reshape(loss, ())
    return named(_reduce(loss, reduction, "multi_margin_loss"), "MultiMarginLossBackward0")


def multilabel_margin_loss(input, target, size_average=None, reduce=None,
                           reduction: str = "mean"):
    """Multi-label hinge loss: for each sample, ``sum_{j in targets, i not in targets}
    max(0, 1 - (x[j] - x[i])) / C``; the targets are the class indices of ``target`` before
    its first -1.

    Args:
        input: (N, C) or (C,) scores.
        target: integer tensor of the input's shape (indices, padded with -1).
    """
    reduction = _legacy(size_average, reduce, reduction, "multilabel_margin_loss")
    t = _arr(target)
    nd = input.ndim
    if not ((nd == 2 and input.shape[1] != 0) or (nd == 1 and input.shape[0] != 0)
            or nd == 0):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch "
                           f"size, but got: {_shape(input)}")
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"multilabel_margin_loss: expected target of an integer dtype, got "
                           f"{t.dtype}")
    if tuple(t.shape) != tuple(input.shape) and not (nd == 0 and t.size == 1):
        raise RuntimeError(f"inconsistent target size: {list(t.shape)} for input of size: "
                           f"{_shape(input)}")
    xp = get_array_module(t)
    x = S.reshape(input, (-1, input.shape[-1] if nd else 1))
    t = t.reshape(x.shape)
    c = x.shape[1]
    valid = xp.cumprod(t != -1, axis=1).astype(bool)  # the indices before the first -1
    if bool((valid & ((t < 0) | (t >= c))).any()):
        raise RuntimeError("target out of range")
    safe = xp.where(valid, t, 0)
    is_target = xp.zeros(x.shape, dtype=bool)
    rows = xp.broadcast_to(xp.arange(x.shape[0])[:, None], t.shape)
    is_target[rows[valid], safe[valid]] = True
    xj = gather(x, 1, safe)  # (N, K): the score of each target slot
    z = E.clamp(1 - S.unsqueeze(xj, 2) + S.unsqueeze(x, 1), min=0)  # (N, K, C)
    mask = valid[:, :, None] & ~is_target[:, None, :]
    loss = R.sum(E.where(mask, z, 0.0), dim=(1, 2)) / c
    if nd < 2:
        loss = S.reshape(loss, ())
    return named(_reduce(loss, reduction, "multilabel_margin_loss"),
                 "MultilabelMarginLossBackward0")


def triplet_margin_loss(anchor, positive, negative, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average=None,
                        reduce=None, reduction: str = "mean"):
    """``max(0, margin + d(a, p) - d(a, n))`` with ``d`` the ``pairwise_distance`` (p-norm
    over the last dim, ``eps`` added to the difference); ``swap`` uses ``min(d(a, n),
    d(p, n))`` as the negative distance."""
    reduction = _legacy(size_average, reduce, reduction, "triplet_margin_loss")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a_dim, p_dim, n_dim = anchor.ndim, positive.ndim, negative.ndim
    if not (a_dim == p_dim and p_dim == n_dim):
        raise RuntimeError(
            f"The anchor, positive, and negative tensors are expected to have the same number "
            f"of dimensions, but got: anchor {a_dim}D, positive {p_dim}D, and negative "
            f"{n_dim}D inputs")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = E.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    loss = named(E.clamp(margin + d_pos - d_neg, min=0), "ClampMinBackward0")
    return _reduce(loss, reduction, "triplet_margin_loss")


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin: float = 1.0, swap: bool = False,
                                      reduction: str = "mean"):
    """``max(0, margin + d(a, p) - d(a, n))`` for any ``distance_function(x1, x2)``
    (default ``pairwise_distance``); ``swap`` uses ``min(d(a, n), d(p, n))``."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a_dim, p_dim, n_dim = anchor.ndim, positive.ndim, negative.ndim
    if not (a_dim == p_dim and p_dim == n_dim):
        raise RuntimeError(
            f"The anchor, positive, and negative tensors are expected to have the same number "
            f"of dimensions, but got: anchor {a_dim}D, positive {p_dim}D, and negative "
            f"{n_dim}D inputs")
    dist = pairwise_distance if distance_function is None else distance_function
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = E.minimum(d_neg, dist(positive, negative))
    loss = E.clamp(margin + d_pos - d_neg, min=0)
    return _reduce(loss, reduction, "triplet_margin_with_distance_loss")


# ---- likelihood losses --------------------------------------------------------------------


def poisson_nll_loss(input, target, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean"):
    """Poisson negative log-likelihood: ``exp(input) - target * input`` (``log_input``) or
    ``input - target * log(input + eps)``; ``full`` adds Stirling's approximation of
    ``log(target!)``, ``target log target - target + 0.5 log(2 pi target)``, where
    ``target > 1``."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not a valid value for reduction")
    if log_input:
        loss = E.exp(input) - target * input
    else:
        loss = input - target * E.log(input + eps)
    if full:
        # as PyTorch: the term is masked where target <= 1 (so its target gradient is NaN at
        # target = 0, 0 * log 0, as PyTorch's is)
        with np.errstate(divide="ignore", invalid="ignore"):
            stirling = target * E.log(target) - target + 0.5 * E.log(2 * math.pi * target)
        loss = loss + E.where(target > 1, stirling, 0.0)
    return _reduce(loss, reduction, "poisson_nll_loss")


def gaussian_nll_loss(input, target, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean"):
    """Gaussian negative log-likelihood ``0.5 (log(var) + (input - target)^2 / var)`` (+
    ``0.5 log(2 pi)`` when ``full``), with ``var`` clamped at ``eps`` for the value only (the
    gradient passes as if unclamped, as in PyTorch).

    Args:
        var: a float, a tensor of the input's shape (heteroscedastic), the input's shape
            without its last dim, or broadcastable to it with exactly one dim of size 1
            (homoscedastic).
    """
    xp = get_array_module(_data(input))
    if not isinstance(var, Tensor):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = _make(xp.full(tuple(input.shape), var, dtype=input.dtype))
    elif var.numel() and bool((var._data < 0).any()):
        raise ValueError("var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = S.unsqueeze(var, -1)
        elif input.ndim == var.ndim and sum(
                y for x, y in zip(input.shape, var.shape) if x != y) == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    vd = var._data
    var = var + _make(xp.maximum(vd, eps) - vd)  # clamped value, identity gradient
    d = input - target
    loss = 0.5 * (E.log(var) + d * d / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, "gaussian_nll_loss")


# ---- connectionist temporal classification ------------------------------------------------


def _logaddexp(xp, a, b):
    """log(exp(a) + exp(b)) elementwise, -inf + -inf = -inf without warnings."""
    m = xp.maximum(a, b)
    mf = xp.where(xp.isfinite(m), m, 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return xp.where(m == -np.inf, -np.inf, xp.log(xp.exp(a - mf) + xp.exp(b - mf)) + mf)


class CTCLoss(Op):
    """Per-sample CTC negative log-likelihood of (T, N, C) log-probabilities: the forward
    (alpha) recursion in log space over the extended label sequence (blanks between and
    around the labels), vectorised over the batch and the label positions; the backward
    runs the beta recursion and returns PyTorch's gradient, ``exp(lp) - occupation`` (Graves
    et al. eq. 16: the gradient through a log_softmax that produced ``lp``, as PyTorch's
    ``ctc_loss`` returns it), zero past each input length."""

    @staticmethod
    def forward(ctx, lp, lab, il, tl, blank, zero_infinity):
        xp = get_array_module(lp)
        T, N, _ = lp.shape
        L = lab.shape[1]  # 2 * max target length + 1
        s = xp.arange(L)
        nb = xp.arange(N)[:, None]
        # s - 2 may be used where the label is not blank and differs from the label two back
        skip = xp.zeros((N, L), dtype=bool)
        skip[:, 2:] = (lab[:, 2:] != blank) & (lab[:, 2:] != lab[:, :-2])
        ninf = xp.asarray(-np.inf, dtype=lp.dtype)
        alpha = xp.full((T, N, L), ninf, dtype=lp.dtype)
        if T:
            alpha[0, :, 0] = lp[0, :, blank]
            if L > 1:
                alpha[0, :, 1] = xp.where(tl > 0, lp[0, nb[:, 0], lab[:, 1]], ninf)
        for t in range(1, T):
            a = alpha[t - 1]
            a1 = xp.concatenate([xp.full((N, 1), ninf, dtype=lp.dtype), a[:, :-1]], axis=1)
            a2 = xp.concatenate([xp.full((N, 2), ninf, dtype=lp.dtype), a[:, :-2]], axis=1)
            a2 = xp.where(skip, a2, ninf)
            acc = _logaddexp(xp, _logaddexp(xp, a, a1), a2)
            alpha[t] = acc + lp[t][nb, lab]
        last = xp.maximum(il - 1, 0)
        end = alpha[last, xp.arange(N)]  # (N, L): alpha at each sample's last frame
        e0 = end[xp.arange(N), 2 * tl]
        e1 = xp.where(tl > 0, end[xp.arange(N), xp.maximum(2 * tl - 1, 0)], ninf)
        nll = -_logaddexp(xp, e0, e1)
        nll = xp.where(il > 0, nll, xp.where(tl > 0, np.inf, 0.0)).astype(lp.dtype)
        ctx.save_for_backward(lp)
        ctx.alpha, ctx.lab, ctx.il, ctx.tl, ctx.nll = alpha, lab, il, tl, nll
        ctx.blank, ctx.zero_infinity, ctx.skip, ctx.s = blank, zero_infinity, skip, s
        return nll

    @staticmethod
    def backward(ctx, gy):
        (lp,) = ctx.saved_tensors
        lp = _data(lp)
        xp = get_array_module(lp)
        alpha, lab, il, tl, nll = ctx.alpha, ctx.lab, ctx.il, ctx.tl, ctx.nll
        T, N, C = lp.shape
        L = lab.shape[1]
        nb = xp.arange(N)[:, None]
        ninf = xp.asarray(-np.inf, dtype=lp.dtype)
        # label s + 2 may be used from s where it is not blank and differs from label s
        skip_up = xp.zeros((N, L), dtype=bool)
        skip_up[:, :-2] = ctx.skip[:, 2:]
        # beta_t(s) includes lp[t, l'(s)], like alpha (so alpha * beta counts it twice)
        valid_s = ctx.s[None, :] <= 2 * tl[:, None]
        init = xp.where((ctx.s[None, :] >= 2 * tl[:, None] - 1) & valid_s, 0.0, ninf)
        beta = xp.full((T, N, L), ninf, dtype=lp.dtype)
        b = xp.full((N, L), ninf, dtype=lp.dtype)
        for t in range(T - 1, -1, -1):
            b1 = xp.concatenate([b[:, 1:], xp.full((N, 1), ninf, dtype=lp.dtype)], axis=1)
            b2 = xp.concatenate([b[:, 2:], xp.full((N, 2), ninf, dtype=lp.dtype)], axis=1)
            b2 = xp.where(skip_up, b2, ninf)
            acc = _logaddexp(xp, _logaddexp(xp, b, b1), b2)
            acc = xp.where((t == il - 1)[:, None], init, acc)  # each sample's last frame
            acc = xp.where((t < il)[:, None], acc + lp[t][nb, lab], ninf)
            beta[t] = b = acc
        with np.errstate(invalid="ignore", over="ignore"):
            # occupation of position s at time t: alpha beta / (lp p(l|x)), in [0, 1]
            occ = xp.exp(alpha + beta - lp[:, nb, lab] + nll[None, :, None])
        occ = xp.where(xp.isnan(occ), 0.0, occ)  # -inf - (-inf) outside the lattice
        g = xp.zeros((T, N, C), dtype=lp.dtype)
        tt = xp.arange(T)[:, None, None]
        add_at(xp, g, (xp.broadcast_to(tt, occ.shape), xp.broadcast_to(nb[None], occ.shape),
                       xp.broadcast_to(lab[None], occ.shape)), occ)
        with np.errstate(invalid="ignore"):
            g = xp.exp(lp) - g
        # an impossible alignment (infinite loss): NaN gradients, or zeros with zero_infinity
        g = xp.where(xp.isinf(nll)[None, :, None], 0.0 if ctx.zero_infinity else np.nan, g)
        g = xp.where((xp.arange(T)[:, None] < il[None, :])[:, :, None], g, 0.0)
        g = g.astype(lp.dtype, copy=False)
        return S.reshape(gy, (1, N, 1)) * g if isinstance(gy, Tensor) \
            else gy.reshape(1, N, 1) * g


@jvp_rule("CTCLoss", needs_ctx=True)
def _ctc_jvp(cls, ctx, prims, tans, ys, kwargs):
    # consistent with the backward (PyTorch's gradient): sum over t, c of grad * tangent
    xp = get_array_module(ys)
    g = cls.backward(ctx, xp.ones(ys.shape, dtype=ys.dtype))
    return (g * tans[0]).sum(axis=(0, 2))


def _lengths(x, name: str, n: int):
    a = _arr(x)
    if a.dtype.kind not in "iu":
        raise RuntimeError(f"{name} must be integral")
    a = np.asarray(a.get() if hasattr(a, "get") else a).reshape(-1).astype(np.int64)
    if a.size != n:
        raise RuntimeError(f"{name} must be of size batch_size")
    return a


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False):
    """Connectionist Temporal Classification loss (PyTorch's ``F.ctc_loss``).

    Args:
        log_probs: (T, N, C) or unbatched (T, C) log-probabilities (``log_softmax`` output).
        targets: (N, S) padded class indices, or 1-D concatenated targets of
            ``sum(target_lengths)`` (unbatched: (S,)); blank must not occur in them.
        input_lengths: (N,) lengths of the inputs (each <= T); tuple, list or tensor.
        target_lengths: (N,) lengths of the targets.
        blank: the blank label.
        reduction: 'mean' divides each loss by its target length (at least 1) and averages
            over the batch; 'sum' sums; 'none' gives the (N,) losses.
        zero_infinity: zero infinite losses (impossible alignments) and their gradients.

    Returns:
        the loss. Its gradient with respect to ``log_probs`` is PyTorch's: the gradient
        through the log_softmax that produced it (Graves et al. eq. 16).
    """
    _check_reduction(reduction, "ctc_loss")
    batched = log_probs.ndim == 3
    if log_probs.ndim not in (2, 3):
        raise RuntimeError(f"ctc_loss: log_probs must be 3-D (input_length, batch_size, "
                           f"num_labels) or 2-D unbatched, got shape {_shape(log_probs)}")
    lp = log_probs if batched else S.unsqueeze(log_probs, 1)
    T, N, C = lp.shape
    if not 0 <= blank < C:
        raise RuntimeError("blank must be in label range")
    il = _lengths(input_lengths, "input_lengths", N)
    tl = _lengths(target_lengths, "target_lengths", N)
    tg = _arr(targets)
    tg = np.asarray(tg.get() if hasattr(tg, "get") else tg)
    if tg.dtype.kind not in "iu":
        raise RuntimeError(f"ctc_loss: targets must be integral (class indices), got {tg.dtype}")
    if (il > T).any() or (il < 0).any():
        bad = int(il[(il > T) | (il < 0)][0])
        raise RuntimeError(f"Expected input_lengths to have value at most {T}, but got value "
                           f"{bad} (while checking arguments for ctc_loss_cpu)")
    if (tl < 0).any():
        raise RuntimeError("ctc_loss: target_lengths must be non-negative")
    smax = int(tl.max()) if tl.size else 0
    if tg.ndim == 1 or not batched:  # concatenated (or the unbatched sequence)
        tg = tg.reshape(-1)
        if tg.size < tl.sum():
            raise RuntimeError(f"Expected tensor to have size at least {int(tl.sum())} at "
                               f"dimension 0, but got size {tg.size}")
        off = np.concatenate([[0], np.cumsum(tl)[:-1]]).astype(np.int64)
        cols = np.arange(smax)
        pos = np.minimum(off[:, None] + cols[None, :], max(tg.size - 1, 0))
        padded = tg[pos] if tg.size else np.zeros((N, smax), np.int64)
    else:
        if tg.shape[0] != N:
            raise RuntimeError(f"ctc_loss: targets of shape {list(tg.shape)} do not match the "
                               f"batch size {N}")
        if smax > tg.shape[1]:
            raise RuntimeError(f"Expected tensor to have size at least {smax} at dimension 1, "
                               f"but got size {tg.shape[1]}")
        padded = tg[:, :smax]
        cols = np.arange(smax)
    inside = cols[None, :] < tl[:, None]
    padded = np.where(inside, padded, blank).astype(np.int64)
    if ((padded < 0) | (padded >= C)).any():
        raise RuntimeError(f"ctc_loss: target index out of range for {C} classes")
    lab = np.full((N, 2 * smax + 1), blank, dtype=np.int64)
    lab[:, 1::2] = padded
    xp = get_array_module(_data(lp))
    if xp is not np:
        lab, il_x, tl_x = xp.asarray(lab), xp.asarray(il), xp.asarray(tl)
    else:
        il_x, tl_x = il, tl
    nll = named(CTCLoss.apply(lp, lab=lab, il=il_x, tl=tl_x, blank=blank,
                              zero_infinity=zero_infinity), "CtcLossBackward0")
    if zero_infinity:
        nll = E.where(xp.isinf(_data(nll)), 0.0, nll)
    if reduction == "mean":
        denom = xp.maximum(tl_x, 1).astype(_data(nll).dtype)
        return R.mean(nll / denom)
    if reduction == "sum":
        return R.sum(nll)
    return nll if batched else S.squeeze(nll, 0)


# ---- linear + cross entropy -----------------------------------------------------------------


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None,
                         reduction: str = "mean", ignore_index=None,
                         label_smoothing: float = 0.0, options=None):
    """``cross_entropy(linear(input, linear_weight, linear_bias), target, ...)`` (PyTorch's
    reference path; ``options``, PyTorch's chunking of the batch to save memory, is accepted
    and the result is the same).

    Args:
        input: (N, in_features) or (in_features,).
        linear_weight: (C, in_features), or (C, d1, ..., in_features) for a K-dimensional
            loss (the logits are then (N, C, d1, ...)).
        target: class indices, or class probabilities of the logits' shape.
        linear_bias: (C,) or (C, d1, ...).
        weight, reduction, label_smoothing: as ``cross_entropy``.
        ignore_index: as ``cross_entropy`` (default -100); not allowed with probabilities.
    """
    if input.ndim < 1 or input.ndim > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.ndim}")
    if linear_weight.ndim < 2:
        raise RuntimeError(f"expected linear_weight with dimensionality at least 2, got "
                           f"{linear_weight.ndim}")
    num_batches = tuple(input.shape[:-1])
    in_features = input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError(f"expected equal input and linear_weight last dimensions "
                           f"(in_features), got {input.shape[-1]} and "
                           f"{linear_weight.shape[-1]}, respectively")
    num_classes = linear_weight.shape[0]
    out_features = tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (num_classes, *out_features):
        raise RuntimeError(f"expected linear_bias shape {(num_classes, *out_features)}, got "
                           f"{tuple(linear_bias.shape)}")
    if out_features and not num_batches:
        raise RuntimeError(f"K-dimensional loss defined by linear_weight shape "
                           f"{tuple(linear_weight.shape)} requires batched input, (N, "
                           f"{in_features}), got unbatched input with shape "
                           f"{tuple(input.shape)}")
    logits_shape = (*num_batches, num_classes, *out_features)
    if tuple(getattr(target, "shape", ())) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains "
                           "probabilities")
    ignore_index = -100 if ignore_index is None else ignore_index
    if out_features:
        rows = math.prod(out_features) * num_classes
        linear_weight = S.reshape(linear_weight, (rows, in_features))
        if linear_bias is not None:
            linear_bias = S.reshape(linear_bias, (rows,))
    logits = S.reshape(linear(input, linear_weight, linear_bias), logits_shape)
    return cross_entropy(logits, target, weight=weight, reduction=reduction,
                         ignore_index=ignore_index, label_smoothing=label_smoothing)
