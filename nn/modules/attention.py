"""Multi-head attention (PyTorch's ``nn.MultiheadAttention``)."""

from __future__ import annotations

from autograd import dtypes as _dt
from autograd.ops import shape as S
from autograd.tensor import Parameter, Tensor, empty

from .. import init
from ..functional.attention import multi_head_attention_forward
from .linear import Linear
from .module import Module


class NonDynamicallyQuantizableLinear(Linear):
    """A ``Linear`` (PyTorch names the output projection of attention this way).

    Example:
        >>> nn.MultiheadAttention(8, 2).out_proj.weight.shape
        (8, 8)
    """


class MultiheadAttention(Module):
    """Attention over ``num_heads`` subspaces:
    MultiHead(Q, K, V) = Concat(head_1..head_h) W_O, head_i = softmax(Q W_i^Q (K W_i^K)^T /
    sqrt(d_head) + mask) V W_i^V.

    Args:
        embed_dim: model dimension E (split over the heads).
        num_heads: parallel heads; E must be divisible by it.
        dropout: dropout on the attention weights (training only).
        bias: learn in_proj_bias and out_proj.bias.
        add_bias_kv: learn bias_k, bias_v appended to the keys and values.
        add_zero_attn: append a zero key and value.
        kdim, vdim: features of key and value (default E); when they differ from E the
            projections are q_proj_weight, k_proj_weight, v_proj_weight instead of
            in_proj_weight.
        batch_first: inputs and output are (N, L, E) instead of (L, N, E).

    Example:
        >>> out, w = nn.MultiheadAttention(16, 4)(q, k, v)  # q (L, N, 16) -> (L, N, 16)
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim=None, vdim=None,
                 batch_first: bool = False, device=None, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        if embed_dim % num_heads:  # PyTorch's assertion
            raise AssertionError("embed_dim must be divisible by num_heads")
        if not 0 <= dropout <= 1:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1], got {dropout}")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        dt = _dt.to_dtype(dtype) or _dt.get_default_dtype()
        E = embed_dim
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(empty(E, E, dtype=dt))
            self.k_proj_weight = Parameter(empty(E, self.kdim, dtype=dt))
            self.v_proj_weight = Parameter(empty(E, self.vdim, dtype=dt))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(empty(3 * E, E, dtype=dt))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * E, dtype=dt))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(E, E, bias=bias, dtype=dt)
        if add_bias_kv:
            self.bias_k = Parameter(empty(1, 1, E, dtype=dt))
            self.bias_v = Parameter(empty(1, 1, E, dtype=dt))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()
        if device is not None:
            self.to(device)

    def _reset_parameters(self) -> None:
        # PyTorch's: xavier_uniform_ projections, zero biases, xavier_normal_ bias_k/v
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def _name(self) -> str:
        return f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"


    def _check(self, t, name: str, feat: int) -> None:
        if not isinstance(t, Tensor) or t.ndim not in (2, 3) or t.shape[-1] != feat:
            got = tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__
            lay = "(N, L, {f})" if self.batch_first else "(L, N, {f})"
            raise AssertionError(  # PyTorch checks the inputs' shapes with assertions
                f"{self._name()}: expected {name} of shape {lay.format(f=feat)} or "
                f"(L, {feat}) unbatched, got {got}"
            )

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True,
                attn_mask=None, average_attn_weights: bool = True, is_causal: bool = False):
        """Attend from ``query`` to ``key``/``value``.

        Args:
            query: (L, N, E), (N, L, E) with batch_first, or (L, E) unbatched.
            key, value: (S, N, kdim/vdim) (batch_first: (N, S, ...)) or unbatched (S, ...).
            key_padding_mask: (N, S) or (S,): boolean (True = ignore that key) or float
                (added to the scores).
            need_weights: also return the attention weights.
            attn_mask: (L, S) or (N * num_heads, L, S): boolean (True = not allowed) or
                float (added to the scores).
            average_attn_weights: average the returned weights over the heads.
            is_causal: a hint that attn_mask is the causal mask (attn_mask is required).

        Returns:
            (attn_output like query, attn_weights (N, L, S) — (N, num_heads, L, S) when not
            averaged — or None when need_weights is False).
        """
        self._check(query, "query", self.embed_dim)
        self._check(key, "key", self.kdim)
        self._check(value, "value", self.vdim)
        if not (query.ndim == key.ndim == value.ndim):
            raise AssertionError(
                f"{self._name()}: query, key and value must all be batched (3 dims) or all "
                f"unbatched (2 dims), got shapes {tuple(query.shape)}, {tuple(key.shape)}, "
                f"{tuple(value.shape)}"
            )
        batched = query.ndim == 3
        if batched and self.batch_first:
            same_kv = key is value
            same_qk = query is key
            query = S.transpose(query, 0, 1)
            key = query if same_qk else S.transpose(key, 0, 1)
            value = key if same_kv else S.transpose(value, 0, 1)
        out, w = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
            self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
            self.out_proj.weight, self.out_proj.bias, training=self.training,
            key_padding_mask=key_padding_mask, need_weights=need_weights,
            attn_mask=attn_mask, use_separate_proj_weight=not self._qkv_same_embed_dim,
            q_proj_weight=self.q_proj_weight, k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight, average_attn_weights=average_attn_weights,
            is_causal=is_causal)
        if batched and self.batch_first:
            out = S.transpose(out, 0, 1)
        return out, w
