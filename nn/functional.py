"""Stateless neural-network functions (``nn.functional``, imported as ``F``).

Fused ops (``linear``, ``log_softmax``, ``cross_entropy``) exist for speed and numerical
stability; each is tested against its composite version made of primitive ops.
"""

from __future__ import annotations

import numpy as np

from autograd.backend import add_at, get_array_module
from autograd.function import Op
from autograd.ops import elementwise as E
from autograd.ops import reduction as R
from autograd.ops import shape as S
from autograd.ops.linalg import matmul
from autograd.tensor import Tensor, _make

# ---- linear ---------------------------------------------------------------------------

class Linear(Op):
    """y = x @ W.T + b, fused so backward is three GEMM-sized steps and no copies."""

    @staticmethod
    def forward(ctx, x, w, b=None):
        if x.shape[-1] != w.shape[1]:
            raise RuntimeError(
                f"linear: input has {x.shape[-1]} features in its last dim (shape "
                f"{list(x.shape)}), but the weight expects {w.shape[1]} (weight shape "
                f"{list(w.shape)})"
            )
        if x.dtype != w.dtype:
            raise RuntimeError(
                f"linear: input dtype {x.dtype} does not match weight dtype {w.dtype}; "
                "convert the input (x.float()) or the module (.double())"
            )
        e = ctx.next_edges
        if e:  # empty when no graph is recorded (no_grad, or no input requires grad)
            ctx.save_for_backward(x if e[1] is not None else None,
                                  w if e[0] is not None else None)
        y = x @ w.T
        if b is not None:
            y += b
        return y

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        e = ctx.next_edges
        gx = gw = gb = None
        if e[0] is not None:
            gx = gy @ w
        if e[1] is not None:
            if gy.ndim == 2:
                gw = S.transpose(gy, 0, 1) @ x
            else:
                g2 = S.reshape(gy, (-1, gy.shape[-1]))
                gw = S.transpose(g2, 0, 1) @ S.reshape(x, (-1, x.shape[-1]))
        if len(e) > 2 and e[2] is not None:
            gb = R.sum(gy, dim=tuple(range(gy.ndim - 1))) if gy.ndim > 1 else gy
        return gx, gw, gb


def linear(input, weight, bias=None):
    """``input @ weight.T + bias`` (weight has shape (out_features, in_features))."""
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias)


# ---- activations ------------------------------------------------------------------------

relu = E.relu
sigmoid = E.sigmoid
tanh = E.tanh


def relu_(x):
    return x.relu_()


class LogSoftmax(Op):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        m = x.max(axis=dim, keepdims=True)
        z = x - m
        y = z - get_array_module(x).log(get_array_module(x).exp(z).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy - E.exp(y) * R.sum(gy, dim=ctx.dim, keepdim=True)


class Softmax(Op):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        xp = get_array_module(x)
        z = xp.exp(x - x.max(axis=dim, keepdims=True))
        y = z / z.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        gyy = gy * y
        return gyy - y * R.sum(gyy, dim=ctx.dim, keepdim=True)


def _softmax_dim(x, dim):
    if dim is None:
        dim = 0 if x.ndim in (0, 1, 3) else 1  # PyTorch's legacy implicit choice
    return dim % max(x.ndim, 1)


def log_softmax(input, dim=None, dtype=None):
    """log(softmax(x)) computed stably (max subtracted)."""
    if dtype is not None:
        input = input.to(dtype)
    return LogSoftmax.apply(input, dim=_softmax_dim(input, dim))


def softmax(input, dim=None, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``, stable."""
    if dtype is not None:
        input = input.to(dtype)
    return Softmax.apply(input, dim=_softmax_dim(input, dim))


# ---- losses -----------------------------------------------------------------------------

def _reduce(loss, reduction):
    if reduction == "mean":
        return R.mean(loss)
    if reduction == "sum":
        return R.sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


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
        in_range = not t.size or (int(t.max()) < c and int(t.min()) >= 0)
        if in_range and not 0 <= ignore_index < c:
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
        if reduction == "mean":
            if valid is None:
                denom = w_t.sum() if w_t is not None else t.shape[0]
            else:
                denom = (w_t * valid).sum() if w_t is not None else valid.sum()
            ctx.denom = float(denom)
            out = loss.sum() / denom
        elif reduction == "sum":
            out = loss.sum()
        else:
            out = loss.reshape((n,) + x.shape[2:])
        ctx.shape, ctx.c, ctx.reduction, ctx.eps = x.shape, c, reduction, eps
        ctx.rows, ctx.tt, ctx.valid, ctx.w_t, ctx.weight = rows, tt, valid, w_t, weight
        ctx.save_for_backward(logp)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (logp,) = ctx.saved_tensors
        if isinstance(gy, Tensor):
            raise NotImplementedError(
                "cross_entropy: double backward is not supported by the fused op; use "
                "nll_loss(log_softmax(x), target) for higher-order gradients"
            )
        xp = get_array_module(logp)
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
        # class probabilities
        logp = log_softmax(input, dim=1)
        if label_smoothing:
            target = target * (1 - label_smoothing) + label_smoothing / input.shape[1]
        w = 1.0 if weight is None else S.reshape(weight, (1, -1) + (1,) * (input.ndim - 2))
        loss = -R.sum(logp * target * w, dim=1)
        if reduction == "mean":
            return R.sum(loss) / input.shape[0]
        return _reduce(loss, reduction)
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


_ = (add_at, matmul, _make)


# ---- families defined in their own modules (one import block each) --------------------
# conv/pool family (nn/_conv.py):
from ._conv import (  # noqa: E402, F401
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    conv1d,
    conv2d,
    conv_transpose1d,
    conv_transpose2d,
    fold,
    interpolate,
    max_pool1d,
    max_pool2d,
    unfold,
)

# norm/dropout/embedding/activation/loss family (nn/_layers.py):
from ._layers import (  # noqa: E402, F401
    batch_norm,
    bilinear,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    dropout,
    dropout2d,
    elu,
    embedding,
    gelu,
    group_norm,
    hardtanh,
    huber_loss,
    kl_div,
    l1_loss,
    layer_norm,
    leaky_relu,
    logsigmoid,
    mse_loss,
    nll_loss,
    normalize,
    one_hot,
    relu6,
    silu,
    smooth_l1_loss,
    softplus,
)

# recurrent/attention family (nn/_rnn.py):
from ._rnn import (  # noqa: E402, F401
    multi_head_attention_forward,
    scaled_dot_product_attention,
)
