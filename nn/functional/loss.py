"""Losses. ``cross_entropy`` (softmax + NLL, one pass each way), ``binary_cross_entropy``
(PyTorch's log clamping and gradient epsilon) and ``binary_cross_entropy_with_logits``
(stable log-sigmoid, ``pos_weight``) are fused ops, each tested against its composite
version; the others are compositions of primitive ops."""

from __future__ import annotations

import math
import warnings

import numpy as np

from autograd import fused
from autograd.backend import get_array_module
from autograd.function import Op
from autograd.ops import elementwise as E
from autograd.ops import reduction as R
from autograd.ops import shape as S
from autograd.ops.indexing import gather
from autograd.tensor import Tensor

from ._utils import _data, _shape
from .activation import Softplus, log_softmax


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
        raise ValueError(f"binary_cross_entropy: using a target size ({_shape(target)}) that is "
                         f"different to the input size ({_shape(input)}) is deprecated. Please "
                         "ensure they have the same size.")
    tdt = getattr(target, "dtype", None)
    if tdt is not None and tdt != input.dtype:
        raise RuntimeError(f"binary_cross_entropy: found target dtype {tdt} but expected "
                           f"{input.dtype} (the input's); convert it with .to(input.dtype)")
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



class CrossEntropy(Op):
    """Softmax + negative log-likelihood over class dim 1, fused (one pass each way) for
    integer class targets with ignore_index, class weights and label smoothing."""

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction, label_smoothing):
        xp = get_array_module(x)
        n, c = x.shape[0], x.shape[1]
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
            out = loss.sum() / denom
        elif reduction == "sum":
            out = loss.sum()
        else:
            out = loss.reshape((n,) + x.shape[2:])
        ctx.shape, ctx.c, ctx.reduction, ctx.eps = x.shape, c, reduction, eps
        ctx.rows, ctx.tt, ctx.valid, ctx.w_t, ctx.weight = rows, tt, valid, w_t, weight
        ctx.save_for_backward(logp, x)  # x: for the double backward (create_graph)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        logp, x = ctx.saved_tensors
        if isinstance(gy, Tensor):
            return _cross_entropy_grad_graph(ctx, gy, x), None, None
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
        if ctx.valid is not None:
            g *= ctx.valid[:, None]
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
    if input.ndim == 1:
        return cross_entropy(S.unsqueeze(input, 0), S.unsqueeze(target, 0), weight,
                             ignore_index=ignore_index, reduction=reduction,
                             label_smoothing=label_smoothing)
    if isinstance(target, Tensor) and target.dtype.kind == "f":
        # class probabilities: the target has the input's shape (else it would be indices)
        if tuple(target.shape) != tuple(input.shape):
            raise RuntimeError(
                f"cross_entropy: a floating target holds class probabilities and must have "
                f"the input's shape {list(input.shape)}, got {list(target.shape)}; for class "
                f"indices pass an integer (long) tensor of shape "
                f"{[input.shape[0]] + list(input.shape[2:])}")
        logp = log_softmax(input, dim=1)
        if label_smoothing:
            target = target * (1 - label_smoothing) + label_smoothing / input.shape[1]
        w = 1.0 if weight is None else S.reshape(weight, (1, -1) + (1,) * (input.ndim - 2))
        loss = -R.sum(logp * target * w, dim=1)
        # "mean" averages over the batch and every spatial position (N * d1 * ...), as PyTorch
        return _reduce(loss, reduction, "cross_entropy")
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    if t.shape != (input.shape[0],) + tuple(input.shape[2:]):
        raise RuntimeError(
            f"cross_entropy: expected target of shape "
            f"{[input.shape[0]] + list(input.shape[2:])} for input of shape "
            f"{list(input.shape)}, got {list(t.shape)}"
        )
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"cross_entropy: class-index targets must be integers, got {t.dtype}")
    wd = weight._data if isinstance(weight, Tensor) else weight
    return CrossEntropy.apply(input, t, weight=wd, ignore_index=ignore_index,
                              reduction=reduction, label_smoothing=label_smoothing)
