"""Attention: ``scaled_dot_product_attention`` (PyTorch's; boolean masks True = take part) and
``multi_head_attention_forward`` (PyTorch's; boolean masks True = masked out), composed of
differentiable ops."""

from __future__ import annotations

import math

import numpy as np

from autograd.backend import get_array_module
from autograd.ops import elementwise as E
from autograd.ops import reduction as R
from autograd.ops import shape as S
from autograd.ops.indexing import index_select
from autograd.ops.linalg import matmul

from ._utils import _data
from .activation import softmax
from .dropout import _dropout
from .linear import linear


def _float_mask(mask, dtype, xp, name: str):
    """PyTorch's canonical mask: a boolean mask (True = masked out) becomes 0 / -inf of the
    query dtype; a float mask is kept (it is added to the attention scores). A mask of another
    dtype is PyTorch's AssertionError."""
    if mask is None:
        return None
    m = _data(mask)
    if not hasattr(m, "dtype"):
        m = xp.asarray(m)
    if m.dtype.kind == "b":
        return xp.where(m, xp.asarray(-np.inf, dtype=dtype), xp.asarray(0, dtype=dtype))
    if m.dtype.kind not in "fV":
        raise AssertionError(f"only bool and floating types of {name} are supported, got "
                             f"{m.dtype}")
    if m.dtype != dtype:
        raise RuntimeError(f"{name} of dtype {m.dtype} does not match the query dtype {dtype}; "
                           "convert it with .to(query.dtype)")
    return mask


def _safe_softmax(scores):
    """Softmax over the last dim, with rows that are entirely -inf (every key masked) giving
    zero weights and zero gradients instead of NaN (PyTorch's ``_safe_softmax``, used by
    ``scaled_dot_product_attention`` and by multi-head attention without weights)."""
    d = _data(scores)
    xp = get_array_module(d)
    dead = xp.all(d == -np.inf, axis=-1, keepdims=True)
    if not bool(dead.any()):
        return softmax(scores, dim=-1)
    w = softmax(E.where(dead, 0.0, scores), dim=-1)
    return E.where(dead, 0.0, w)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale=None, enable_gqa: bool = False):
    """softmax(Q K^T * scale + mask) V (PyTorch's ``F.scaled_dot_product_attention``).

    Args:
        query: (..., L, E); key: (..., S, E); value: (..., S, Ev).
        attn_mask: broadcastable to (..., L, S): boolean (True = the position takes part
            in attention) or float (added to the scores).
        dropout_p: dropout probability on the attention weights (applied whenever > 0).
        is_causal: mask out the upper triangle (query i attends to keys j <= i).
        scale: defaults to 1 / sqrt(E).
        enable_gqa: let key/value have fewer heads (dim -3) than the query, repeated.

    Returns:
        (..., L, Ev).
    """
    for name, t in (("query", query), ("key", key), ("value", value)):
        if t.ndim < 2:
            raise RuntimeError(f"scaled_dot_product_attention: {name} must have at least 2 "
                               f"dims (..., L, E), got shape {tuple(t.shape)}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"scaled_dot_product_attention: expected query (..., L, E), key (..., S, E) and "
            f"value (..., S, Ev); got shapes {tuple(query.shape)}, {tuple(key.shape)} and "
            f"{tuple(value.shape)}"
        )
    if is_causal and attn_mask is not None:
        raise RuntimeError("scaled_dot_product_attention: pass either attn_mask or "
                           "is_causal=True, not both")
    xp = get_array_module(query)
    dt = query.dtype
    L, Sk = query.shape[-2], key.shape[-2]
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        rep = query.shape[-3] // key.shape[-3]
        idx = xp.repeat(xp.arange(key.shape[-3]), rep)
        key = index_select(key, key.ndim - 3, idx)
        value = index_select(value, value.ndim - 3, idx)
    sc = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = matmul(query * sc, S.transpose(key, -2, -1))
    if is_causal:
        attn_mask = xp.tril(xp.ones((L, Sk), dtype=bool))
    if attn_mask is not None:
        m = _data(attn_mask)
        if hasattr(m, "dtype") and m.dtype.kind == "b":
            attn_mask = xp.where(m, xp.asarray(0, dtype=dt), xp.asarray(-np.inf, dtype=dt))
        scores = scores + attn_mask
    w = _safe_softmax(scores)
    if dropout_p > 0:
        w = _dropout(w, dropout_p)
    return matmul(w, value)


def _check_mask_shape(mask, shapes, name, exc=RuntimeError):
    """Raise ``exc`` unless ``mask`` is None or has one of ``shapes`` (PyTorch raises
    AssertionError for key_padding_mask, RuntimeError for attn_mask)."""
    if mask is not None and tuple(mask.shape) not in shapes:
        raise exc(
            f"multi_head_attention_forward: expected {name} of shape "
            f"{' or '.join(str(s) for s in shapes)}, got {tuple(mask.shape)}"
        )


def multi_head_attention_forward(query, key, value, embed_dim_to_check: int, num_heads: int,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v,
                                 add_zero_attn: bool, dropout_p: float, out_proj_weight,
                                 out_proj_bias, training: bool = True, key_padding_mask=None,
                                 need_weights: bool = True, attn_mask=None,
                                 use_separate_proj_weight: bool = False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights: bool = True,
                                 is_causal: bool = False):
    """PyTorch's ``F.multi_head_attention_forward`` on sequence-first inputs.

    Args:
        query: (L, N, E) or unbatched (L, E); key, value: (S, N, kdim/vdim) or (S, kdim).
        key_padding_mask: (N, S) (or (S,) unbatched); boolean (True = ignore that key) or
            float (added to the scores).
        attn_mask: (L, S) or (N * num_heads, L, S); boolean (True = not allowed) or float.
        need_weights: also return the attention weights, averaged over the heads when
            ``average_attn_weights`` (N, L, S), else per head (N, num_heads, L, S).

    Returns:
        (attn_output (L, N, E), attn_weights or None).
    """
    batched = query.ndim == 3
    if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
        raise RuntimeError(
            f"multi_head_attention_forward: expected query, key and value of 3 dims (L, N, E) "
            f"or 2 dims (L, E) unbatched, got shapes {tuple(query.shape)}, {tuple(key.shape)} "
            f"and {tuple(value.shape)}"
        )
    if not batched:
        query, key, value = S.unsqueeze(query, 1), S.unsqueeze(key, 1), S.unsqueeze(value, 1)
        if key_padding_mask is not None:
            key_padding_mask = S.unsqueeze(key_padding_mask, 0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    # PyTorch checks the inputs' shapes with assertions (AssertionError)
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"multi_head_attention_forward: expected query of embedding dim "
                             f"{embed_dim_to_check}, got shape {tuple(query.shape)}")
    if key.shape[:2] != value.shape[:2] or key.shape[1] != bsz:
        raise AssertionError(
            f"multi_head_attention_forward: key and value must have the same sequence length "
            f"and the batch size of the query; got query {tuple(query.shape)}, key "
            f"{tuple(key.shape)}, value {tuple(value.shape)}"
        )
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise ValueError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if is_causal and attn_mask is None:
        raise RuntimeError("multi_head_attention_forward: is_causal needs attn_mask (the "
                           "causal mask itself); is_causal is only a hint")
    xp = get_array_module(query)
    dt = query.dtype
    key_padding_mask = _float_mask(key_padding_mask, dt, xp, "key_padding_mask")
    attn_mask = _float_mask(attn_mask, dt, xp, "attn_mask")
    _check_mask_shape(key_padding_mask, [(bsz, src_len)], "key_padding_mask", AssertionError)
    _check_mask_shape(attn_mask, [(tgt_len, src_len), (bsz * num_heads, tgt_len, src_len)],
                      "attn_mask")
    if attn_mask is not None and attn_mask.ndim == 2:
        attn_mask = S.unsqueeze(attn_mask, 0)

    # input projections
    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise RuntimeError("use_separate_proj_weight is False but in_proj_weight is None")
        if query is key and key is value:
            q, k, v = S.chunk(linear(query, in_proj_weight, in_proj_bias), 3, -1)
        else:
            wq, wk, wv = S.chunk(in_proj_weight, 3, 0)
            bq = bk = bv = None
            if in_proj_bias is not None:
                bq, bk, bv = S.chunk(in_proj_bias, 3, 0)
            q, k, v = linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)
    else:
        bq = bk = bv = None
        if in_proj_bias is not None:
            bq, bk, bv = S.chunk(in_proj_bias, 3, 0)
        q = linear(query, q_proj_weight, bq)
        k = linear(key, k_proj_weight, bk)
        v = linear(value, v_proj_weight, bv)

    if bias_k is not None and bias_v is not None:
        k = S.cat([k, S.expand(bias_k, 1, bsz, embed_dim)], 0)
        v = S.cat([v, S.expand(bias_v, 1, bsz, embed_dim)], 0)
        if attn_mask is not None:
            attn_mask = S.pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = S.pad(key_padding_mask, (0, 1))

    # split heads: (L, N, E) -> (N * heads, L, head_dim)
    q = S.transpose(S.reshape(q, (tgt_len, bsz * num_heads, head_dim)), 0, 1)
    if static_k is None:
        k = S.transpose(S.reshape(k, (k.shape[0], bsz * num_heads, head_dim)), 0, 1)
    else:
        k = static_k
    if static_v is None:
        v = S.transpose(S.reshape(v, (v.shape[0], bsz * num_heads, head_dim)), 0, 1)
    else:
        v = static_v
    if add_zero_attn:
        z = xp.zeros((bsz * num_heads, 1, head_dim), dtype=dt)
        k, v = S.cat([k, z], 1), S.cat([v, z], 1)
        if attn_mask is not None:
            attn_mask = S.pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = S.pad(key_padding_mask, (0, 1))
    src_len = k.shape[1]

    if key_padding_mask is not None:
        kpm = S.reshape(key_padding_mask, (bsz, 1, 1, src_len))
        kpm = S.reshape(S.expand(kpm, bsz, num_heads, 1, src_len),
                        (bsz * num_heads, 1, src_len))
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0

    scores = matmul(q * (1.0 / math.sqrt(head_dim)), S.transpose(k, 1, 2))
    if attn_mask is not None:
        scores = scores + attn_mask
    # PyTorch runs scaled_dot_product_attention (safe softmax: a row whose keys are all
    # masked attends to nothing) when the weights are not returned, and a plain softmax
    # (NaN rows) when they are
    w = softmax(scores, dim=-1) if need_weights else _safe_softmax(scores)
    if dropout_p > 0:
        w = _dropout(w, dropout_p)
    out = matmul(w, v)  # (N * heads, L, head_dim)
    out = S.reshape(S.transpose(out, 0, 1), (tgt_len * bsz, embed_dim))
    out = S.reshape(linear(out, out_proj_weight, out_proj_bias), (tgt_len, bsz, embed_dim))
    if not batched:
        out = S.squeeze(out, 1)
    if not need_weights:
        return out, None
    w = S.reshape(w, (bsz, num_heads, tgt_len, src_len))
    if average_attn_weights:
        w = R.mean(w, dim=1)
    if not batched:
        w = S.squeeze(w, 0)
    return out, w
