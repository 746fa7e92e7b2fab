"""Index-based layers: ``one_hot`` and ``embedding`` (the lookup is one ``Op`` whose backward
scatter-adds into rows, none into ``padding_idx``, optionally scaled by frequency)."""

from __future__ import annotations

import math

import numpy as np

from autograd.backend import get_array_module
from autograd.function import Op
from autograd.grad_mode import no_grad
from autograd.ops import elementwise as E
from autograd.ops.indexing import _index_grad
from autograd.ops.inplace import _write
from autograd.tensor import _make

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
