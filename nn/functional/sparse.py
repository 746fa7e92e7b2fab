"""Index-based layers: ``one_hot`` and ``embedding`` (the lookup is one ``Op`` whose backward
scatter-adds into rows, none into ``padding_idx``, optionally scaled by frequency)."""

from __future__ import annotations

import math
import warnings

import numpy as np

from autograd.backend import get_array_module
from autograd.forward_ad import jvp_rule
from autograd.function import Op
from autograd.grad_mode import no_grad
from autograd.ops import elementwise as E
from autograd.ops import reduction as R
from autograd.ops import shape as S
from autograd.ops.indexing import _index_grad
from autograd.ops.inplace import _write
from autograd.tensor import Tensor, _make

from ._utils import _data, _shape


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


class EmbeddingBag(Op):
    """Sums, means or maxima of bags of rows of ``weight``: the bags are contiguous runs of
    the flattened indices (``bag[i]`` is element i's bag, -1 to leave it out), reduced with
    one ``reduceat`` each way; the backward scatter-adds into the rows looked up (the max
    mode into the rows that gave each maximum) and gives ``per_sample_weights`` the dot
    product of each row with its bag's gradient."""

    @staticmethod
    def forward(ctx, weight, psw, idx, bag, nbags, mode, freq):
        xp = get_array_module(weight)
        keep = bag >= 0
        idx_k, bag_k = idx[keep], bag[keep]
        d = weight.shape[1]
        rows = weight[idx_k]
        if psw is not None:
            rows = rows * psw[keep][:, None]
        out = xp.zeros((nbags, d), dtype=weight.dtype)
        # bag_k is non-decreasing: each bag is one contiguous segment
        starts = xp.flatnonzero(xp.concatenate([xp.ones(min(bag_k.size, 1), dtype=bool),
                                                bag_k[1:] != bag_k[:-1]]))
        used = bag_k[starts]
        count = xp.bincount(bag_k, minlength=nbags)
        arg = None
        if bag_k.size:
            if mode == "max":
                best = xp.maximum.reduceat(rows, starts, axis=0)
                out[used] = best
                n = rows.shape[0]
                pos = xp.where(rows == best[xp.searchsorted(starts, xp.arange(n), "right") - 1],
                               xp.arange(n)[:, None], n)
                arg = xp.minimum.reduceat(pos, starts, axis=0)  # the first maximum's row
            else:
                out[used] = xp.add.reduceat(rows, starts, axis=0)
                if mode == "mean":
                    out[used] /= count[used][:, None].astype(weight.dtype)
        ctx.save_for_backward(weight, psw)
        ctx.keep, ctx.idx_k, ctx.bag_k, ctx.count, ctx.used = keep, idx_k, bag_k, count, used
        ctx.arg, ctx.mode, ctx.freq, ctx.shape = arg, mode, freq, weight.shape
        ctx.n = idx.shape[0]
        return out

    @staticmethod
    def backward(ctx, gy):
        weight, psw = ctx.saved_tensors
        xp = get_array_module(ctx.idx_k)
        idx_k, bag_k = ctx.idx_k, ctx.bag_k
        g = gy[bag_k]  # each element's bag gradient: (n_kept, D)
        gw = gp = None
        e = ctx.next_edges
        if ctx.mode == "mean":
            g = g * (1.0 / ctx.count[bag_k])[:, None].astype(_dtype(gy))
        elif ctx.mode == "max":
            n = idx_k.shape[0]
            loc = xp.searchsorted(ctx.used, bag_k)  # the segment of each element
            g = g * (ctx.arg[loc] == xp.arange(n)[:, None])
        if e[0] is not None:
            gw_rows = g if psw is None else g * S.unsqueeze(psw[ctx.keep], 1) \
                if isinstance(psw, Tensor) else g * psw[ctx.keep][:, None]
            if ctx.freq:
                counts = xp.bincount(idx_k, minlength=ctx.shape[0])[idx_k]
                gw_rows = gw_rows * (1.0 / counts)[:, None].astype(_dtype(gy))
            gw = _index_grad(gw_rows, ctx.shape, idx_k, False) if isinstance(gw_rows, Tensor) \
                else _rows_add(gw_rows, idx_k, ctx.shape)
        if psw is not None and len(e) > 1 and e[1] is not None:
            dots = R.sum(g * weight[idx_k], dim=1) if isinstance(g, Tensor) \
                else (g * weight[idx_k]).sum(axis=1)
            zero = xp.zeros(ctx.n, dtype=_dtype(gy))
            gp = _scatter_rows(dots, ctx.keep, zero)
        return gw, gp


@jvp_rule("EmbeddingBag", needs_ctx=True)
def _embedding_bag_jvp(cls, ctx, prims, tans, ys, kwargs):
    w, psw = prims[0], prims[1]
    tw, tp = tans[0], tans[1] if len(tans) > 1 else None
    xp = get_array_module(ys)
    out = None
    if tw is not None:
        if kwargs["mode"] == "max":  # the tangent of the row that gave each maximum
            out = xp.zeros(ys.shape, dtype=ys.dtype)
            if ctx.arg is not None:
                rows = ctx.idx_k[ctx.arg]  # (used bags, D)
                out[ctx.used] = tw[rows, xp.arange(ys.shape[1])[None, :]]
        else:  # linear in the weight
            out = cls.forward(object.__new__(cls), tw, psw, **kwargs)
    if tp is not None:  # linear in the per-sample weights (mode "sum")
        t = cls.forward(object.__new__(cls), w, tp, **kwargs)
        out = t if out is None else out + t
    return out


def _rows_add(g, idx, shape):
    """zeros(shape) with the rows of ``g`` added at the rows ``idx`` (repeats accumulate):
    one sort and one ``reduceat`` instead of an unbuffered ``add.at``."""
    xp = get_array_module(g)
    out = xp.zeros(shape, dtype=g.dtype)
    if idx.size:
        order = xp.argsort(idx, kind="stable")
        si = idx[order]
        starts = xp.flatnonzero(xp.concatenate([xp.ones(1, dtype=bool), si[1:] != si[:-1]]))
        out[si[starts]] = xp.add.reduceat(g[order], starts, axis=0)
    return out


def _dtype(a):
    return a.dtype


def _scatter_rows(vals, keep, zero):
    """``zero`` with ``vals`` written where ``keep`` (a Tensor result when vals is one)."""
    if isinstance(vals, Tensor):
        xp = get_array_module(keep)
        pos = xp.cumsum(keep) - 1
        full_vals = vals[xp.where(keep, pos, 0)]
        return E.where(keep, full_vals, zero)
    out = zero.copy()
    out[keep] = vals
    return out


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights=None, include_last_offset: bool = False,
                  padding_idx=None):
    """Sums, means or maxima of bags of embeddings, without the intermediate (PyTorch's
    ``F.embedding_bag``).

    Args:
        input: (B, N) indices (each row a bag), or 1-D indices cut into bags by ``offsets``.
        weight: (num_embeddings, embedding_dim).
        offsets: 1-D starting positions of the bags in a 1-D ``input`` (the first is 0).
        max_norm, norm_type: rows looked up with a larger norm are rescaled in place.
        scale_grad_by_freq: divide the gradients by the index frequencies in the input.
        mode: "sum", "mean" or "max".
        sparse: accepted; gradients are dense.
        per_sample_weights: weights of each index (input's shape), mode "sum" only.
        include_last_offset: ``offsets`` has B + 1 entries, the last one the end.
        padding_idx: an index left out of every bag (and of the mean's count).

    Returns:
        (B, embedding_dim); an empty bag gives zeros.
    """
    wd = _data(weight)
    idx = _data(input)
    if not hasattr(idx, "dtype"):
        idx = np.asarray(idx)
    if wd.dtype.kind in "iu" and idx.dtype.kind in "fV":
        warnings.warn("Argument order of nn.functional.embedding_bag was changed. Usage "
                      "`embedding_bag(weight, input, ...)` is deprecated, and should now be "
                      "`embedding_bag(input, weight, ...)`.", stacklevel=2)
        weight, input = input, weight
        wd, idx = idx, wd
    if per_sample_weights is not None and tuple(idx.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({_shape(per_sample_weights)}) "
                         f"is not None, then it must have the same shape as the input "
                         f"({list(idx.shape)})")
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{weight.ndim}")
    xp = get_array_module(wd)
    psw = per_sample_weights
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(f"if input is 2D, then offsets has to be None, as input is treated "
                             f"is a mini-batch of fixed length sequences. However, found "
                             f"offsets of type {type(offsets)}")
        offs = xp.arange(0, idx.size, max(idx.shape[1], 1), dtype=np.int64)
        if idx.shape[1] == 0:
            offs = xp.zeros(idx.shape[0], dtype=np.int64)
        include_last_offset = False
        idx = idx.reshape(-1)
        if psw is not None:
            psw = S.reshape(psw, (-1,))
    elif idx.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        offs = _data(offsets)
        if not hasattr(offs, "dtype"):
            offs = np.asarray(offs)
        if offs.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{idx.ndim}")
    if mode == "max":
        if scale_grad_by_freq:
            raise ValueError("max mode does not support scaling the gradient by the frequency")
        if sparse:
            raise ValueError("max mode does not support sparse weights")
    elif mode not in ("sum", "mean"):
        raise ValueError("mode has to be one of sum, mean or max")
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got {idx.dtype} instead "
                           f"(while checking arguments for embedding_bag)")
    n, v = idx.shape[0], wd.shape[0]
    if n and (int(idx.min()) < 0 or int(idx.max()) >= v):
        k = int(xp.flatnonzero((idx < 0) | (idx >= v))[0])
        raise RuntimeError(f"Index {k} of input takes value {int(idx[k])} which is not in the "
                           f"valid range [0, {v})")
    if offs.size and int(offs[0]) != 0:
        raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the "
                           f"mini-batch has to start from position 0. However, got "
                           f"{int(offs[0])}")
    if offs.size and int(offs[-1]) > n:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {n} but got "
                           f"offsets[-1] of {int(offs[-1])}")
    if offs.size > 1 and bool((offs[1:] < offs[:-1]).any()):
        raise RuntimeError("embedding_bag: offsets must be non-decreasing")
    if max_norm is not None:
        _embedding_renorm(weight, idx, max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                  f"per_sample_weights is only supported for mode='sum' (got "
                                  f"mode='{mode}'). Please open a feature request on GitHub.")
    nbags = max(offs.shape[0] - 1, 0) if include_last_offset else offs.shape[0]
    offs = offs.astype(np.int64)
    # the bag of each element: the last offset at or before it. The last bag runs to the end
    # of the input, also with include_last_offset (PyTorch reads no end from offsets[-1])
    bag = xp.searchsorted(offs[:nbags], xp.arange(n), "right") - 1 if nbags \
        else xp.full(n, -1)
    bag = bag.astype(np.int64)
    if padding_idx is not None:
        if not -v <= padding_idx < v:
            raise AssertionError("padding_idx must be within num_embeddings")
        bag = xp.where(idx == padding_idx % v, -1, bag)
    if psw is not None and not isinstance(psw, Tensor):
        psw = xp.asarray(psw, dtype=wd.dtype)
    return EmbeddingBag.apply(weight, psw, idx=idx, bag=bag, nbags=nbags, mode=mode,
                              freq=scale_grad_by_freq)
