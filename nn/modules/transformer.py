"""The Transformer family (PyTorch's ``nn.Transformer``, ``TransformerEncoder``,
``TransformerDecoder``, ``TransformerEncoderLayer``, ``TransformerDecoderLayer``), built on
``nn.MultiheadAttention``. Submodule and parameter names are PyTorch's, so a PyTorch
``state_dict`` loads as is (``layers.0.self_attn.in_proj_weight``, ``linear1.weight``,
``norm1.weight``, ...)."""

from __future__ import annotations

import copy
import warnings

import numpy as np

from autograd import dtypes as _dt
from autograd.backend import get_array_module
from autograd.grad_mode import is_grad_enabled
from autograd.ops import elementwise as E
from autograd.ops.indexing import triu
from autograd.tensor import Tensor, _make, full

from .. import functional as F
from .. import init
from .activation import GELU, ReLU
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm

__all__ = ["Transformer", "TransformerDecoder", "TransformerDecoderLayer",
           "TransformerEncoder", "TransformerEncoderLayer"]


def _generate_square_subsequent_mask(sz: int, device=None, dtype=None):
    """(sz, sz) float mask: -inf above the diagonal (future positions), 0 elsewhere."""
    dt = _dt.to_dtype(dtype) or _dt.get_default_dtype()
    return triu(full((sz, sz), float("-inf"), dtype=dt, device=device), diagonal=1)


def _get_seq_len(src, batch_first: bool):
    if src.ndim == 2:  # unbatched: (S, E)
        return src.shape[0]
    return src.shape[1 if batch_first else 0]


def _detect_is_causal_mask(mask, is_causal=None, size=None) -> bool:
    """``is_causal`` if given; when None, whether ``mask`` is the causal mask (PyTorch's)."""
    make_causal = is_causal is True
    if is_causal is None and mask is not None:
        sz = size if size is not None else mask.shape[-2]
        m = mask._data if isinstance(mask, Tensor) else mask
        xp = get_array_module(m)
        causal = xp.triu(xp.full((sz, sz), -np.inf), 1)
        if tuple(m.shape) == (sz, sz) and m.dtype.kind in "fV":
            make_causal = bool((m == causal).all())
        else:
            make_causal = False
    return make_causal


def _mask_dtype(mask):
    if mask is None:
        return None
    return (mask._data if isinstance(mask, Tensor) else mask).dtype


def _canonical_mask(mask, mask_name: str, other_type, other_name: str, target_type,
                    check_other: bool = True):
    """PyTorch's ``F._canonical_mask``: a boolean mask (True = masked) becomes a float mask of
    ``target_type`` (-inf / 0); a float mask is kept; other dtypes are errors."""
    if mask is None:
        return None
    m = mask._data if isinstance(mask, Tensor) else mask
    if not hasattr(m, "dtype"):
        m = np.asarray(m)
    if m.dtype.kind != "b" and m.dtype.kind not in "fV":
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and m.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. "
                      "Use same type for both instead.", stacklevel=3)
    if m.dtype.kind == "b":
        xp = get_array_module(m)
        dt = np.dtype(target_type)
        return _make(xp.where(m, xp.asarray(-np.inf, dtype=dt), xp.asarray(0, dtype=dt)))
    return mask


def _get_activation_fn(activation: str):
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


def _get_clones(module, n: int):
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward network, each in a residual block with LayerNorm
    (after the block, or before it with ``norm_first``).

    Args:
        d_model: features of the input.
        nhead: attention heads.
        dim_feedforward: hidden size of the feed-forward network.
        dropout: dropout probability (attention weights and both blocks).
        activation: "relu", "gelu" or a callable.
        layer_norm_eps: LayerNorm epsilon.
        batch_first: (N, S, E) inputs instead of (S, N, E).
        norm_first: pre-LayerNorm (LayerNorm before attention and feed-forward).
        bias: biases in the Linear, attention and LayerNorm layers.

    Example:
        >>> layer = nn.TransformerEncoderLayer(d_model=16, nhead=4, batch_first=True)
        >>> layer(ag.randn(2, 5, 16)).shape
        (2, 5, 16)
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation=F.relu, layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        if isinstance(activation, str):
            activation = _get_activation_fn(activation)
        if activation is F.relu or isinstance(activation, ReLU):
            self.activation_relu_or_gelu = 1
        elif activation is F.gelu or isinstance(activation, GELU):
            self.activation_relu_or_gelu = 2
        else:
            self.activation_relu_or_gelu = 0
        self.activation = activation

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal: bool = False):
        """Encode ``src`` ((S, N, E), (N, S, E) with batch_first, or (S, E)).

        Args:
            src_mask: (S, S) or (N * nhead, S, S); boolean (True = not allowed) or float.
            src_key_padding_mask: (N, S); boolean (True = padding) or float.
            is_causal: a hint that ``src_mask`` is the causal mask.
        """
        src_key_padding_mask = _canonical_mask(src_key_padding_mask, "src_key_padding_mask",
                                               _mask_dtype(src_mask), "src_mask", src.dtype)
        src_mask = _canonical_mask(src_mask, "src_mask", None, "", src.dtype,
                                   check_other=False)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal: bool = False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout2(x)


class TransformerDecoderLayer(Module):
    """Self-attention, attention over the encoder's output (``memory``) and a feed-forward
    network, each in a residual block with LayerNorm (after, or before with ``norm_first``).

    Args: as ``TransformerEncoderLayer``.

    Example:
        >>> layer = nn.TransformerDecoderLayer(d_model=16, nhead=4)
        >>> layer(ag.randn(7, 2, 16), ag.randn(5, 2, 16)).shape
        (7, 2, 16)
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation=F.relu, layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                            batch_first=batch_first, bias=bias, **kw)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                                 batch_first=batch_first, bias=bias, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = (_get_activation_fn(activation) if isinstance(activation, str)
                           else activation)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False):
        """Decode ``tgt`` ((T, N, E) or batch_first (N, T, E)) attending to ``memory``.

        Args:
            tgt_mask: (T, T) mask of the self-attention; memory_mask: (T, S).
            tgt_key_padding_mask: (N, T); memory_key_padding_mask: (N, S).
            tgt_is_causal, memory_is_causal: hints that the masks are causal.
        """
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask,
                                   tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask,
                                              tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask,
                                               memory_key_padding_mask, memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal: bool = False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           is_causal=is_causal, need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal: bool = False):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=is_causal,
                                need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout3(x)


class TransformerEncoder(Module):
    """A stack of ``num_layers`` copies of ``encoder_layer`` (deep copies: independent
    weights), then ``norm`` if given.

    Args:
        encoder_layer: the layer to copy.
        num_layers: how many.
        norm: an optional final normalisation module.
        enable_nested_tensor: accepted (PyTorch's inference fast path; results are the same).
        mask_check: accepted (used by PyTorch's nested-tensor path).

    Example:
        >>> layer = nn.TransformerEncoderLayer(16, 4)
        >>> enc = nn.TransformerEncoder(layer, num_layers=2)
        >>> enc(ag.randn(5, 2, 16)).shape
        (5, 2, 16)
    """

    def __init__(self, encoder_layer, num_layers: int, norm=None,
                 enable_nested_tensor: bool = True, mask_check: bool = True):
        super().__init__()
        self.layers = _get_clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check
        why = _why_not_sparsity_fast_path(encoder_layer)
        if enable_nested_tensor and why:
            warnings.warn(f"enable_nested_tensor is True, but self.use_nested_tensor is False "
                          f"because {why}", stacklevel=2)
            self.use_nested_tensor = False

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        """Encode ``src`` through every layer.

        Args:
            mask: the attention mask of every layer; src_key_padding_mask: (N, S).
            is_causal: a hint that ``mask`` is causal (None: detected from the mask).
        """
        src_key_padding_mask = _canonical_mask(src_key_padding_mask, "src_key_padding_mask",
                                               _mask_dtype(mask), "mask", src.dtype)
        mask = _canonical_mask(mask, "mask", None, "", src.dtype, check_other=False)
        first = self.layers[0]
        seq_len = _get_seq_len(src, first.self_attn.batch_first)
        is_causal = _detect_is_causal_mask(mask, is_causal, seq_len)
        pad = self._nested_padding(src, mask, src_key_padding_mask)
        output = src
        for mod in self.layers:
            output = mod(output, src_mask=mask, is_causal=is_causal,
                         src_key_padding_mask=src_key_padding_mask)
        if pad is not None:
            # PyTorch's inference path packs the unpadded tokens into a nested tensor and
            # pads the result with zeros: padded positions come out 0 (before the norm)
            output = E.where(pad[..., None], 0.0, output)
        if self.norm is not None:
            output = self.norm(output)
        return output


    def _nested_padding(self, src, mask, key_padding_mask):
        """The (N, S) padding positions where PyTorch's nested-tensor inference path would
        run (eval mode, no gradient needed, batch_first, a key padding mask padding only at
        the end of each sequence, no attention mask), else None."""
        first = self.layers[0]
        if not (getattr(self, "use_nested_tensor", False) and not first.training
                and src.ndim == 3 and key_padding_mask is not None and mask is None):
            return None
        sa = first.self_attn
        args = (src, sa.in_proj_weight, sa.in_proj_bias, sa.out_proj.weight, sa.out_proj.bias,
                first.norm1.weight, first.norm1.bias, first.norm2.weight, first.norm2.bias,
                first.linear1.weight, first.linear1.bias, first.linear2.weight,
                first.linear2.bias)
        if is_grad_enabled() and any(isinstance(a, Tensor) and a.requires_grad for a in args):
            return None
        m = key_padding_mask._data if isinstance(key_padding_mask, Tensor) else key_padding_mask
        pad = m != 0
        xp = get_array_module(pad)
        keep = ~pad
        if self.mask_check and not bool((xp.cumprod(keep, axis=1) == keep).all()):
            return None  # not left-aligned: PyTorch takes the ordinary path
        return pad


def _why_not_sparsity_fast_path(layer) -> str:
    name = "encoder_layer"
    if not isinstance(layer, TransformerEncoderLayer):
        return f"{name} was not TransformerEncoderLayer"
    if layer.norm_first:
        return f"{name}.norm_first was True"
    if not layer.self_attn.batch_first:
        return (f"{name}.self_attn.batch_first was not True(use batch_first for better "
                "inference performance)")
    if not layer.self_attn._qkv_same_embed_dim:
        return f"{name}.self_attn._qkv_same_embed_dim was not True"
    if layer.self_attn.in_proj_bias is None:
        return f"{name}.self_attn was passed bias=False"
    if not layer.activation_relu_or_gelu:
        return f"{name}.activation_relu_or_gelu was not True"
    if layer.norm1.eps != layer.norm2.eps:
        return f"{name}.norm1.eps was not equal to {name}.norm2.eps"
    if layer.self_attn.num_heads % 2 == 1:
        return f"{name}.self_attn.num_heads is odd"
    return ""


class TransformerDecoder(Module):
    """A stack of ``num_layers`` copies of ``decoder_layer``, then ``norm`` if given.

    Example:
        >>> dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(16, 4), num_layers=2)
        >>> dec(ag.randn(7, 2, 16), ag.randn(5, 2, 16)).shape
        (7, 2, 16)
    """

    def __init__(self, decoder_layer, num_layers: int, norm=None):
        super().__init__()
        self.layers = _get_clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None,
                memory_is_causal: bool = False):
        """Decode ``tgt`` attending to ``memory`` through every layer (arguments as
        ``TransformerDecoderLayer.forward``; ``tgt_is_causal`` None: detected)."""
        seq_len = _get_seq_len(tgt, self.layers[0].self_attn.batch_first)
        tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, seq_len)
        output = tgt
        for mod in self.layers:
            output = mod(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                         tgt_key_padding_mask=tgt_key_padding_mask,
                         memory_key_padding_mask=memory_key_padding_mask,
                         tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """The encoder-decoder Transformer of "Attention Is All You Need" (PyTorch's layout:
    ``encoder.layers.i``, ``encoder.norm``, ``decoder.layers.i``, ``decoder.norm``); weights
    with more than one dim are initialised xavier-uniform.

    Args:
        d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
            norm_first, bias: as ``TransformerEncoderLayer``.
        num_encoder_layers, num_decoder_layers: depth of each stack.
        custom_encoder, custom_decoder: modules used instead of the default stacks.

    Example:
        >>> model = nn.Transformer(d_model=16, nhead=4, num_encoder_layers=2,
        ...                        num_decoder_layers=2, dim_feedforward=32)
        >>> tgt_mask = nn.Transformer.generate_square_subsequent_mask(7)
        >>> model(ag.randn(5, 2, 16), ag.randn(7, 2, 16), tgt_mask=tgt_mask).shape
        (7, 2, 16)
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation=F.relu, custom_encoder=None,
                 custom_decoder=None, layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout,
                                            activation, layer_norm_eps, batch_first,
                                            norm_first, bias, **kw)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
            self.encoder = TransformerEncoder(layer, num_encoder_layers, norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout,
                                            activation, layer_norm_eps, batch_first,
                                            norm_first, bias, **kw)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
            self.decoder = TransformerDecoder(layer, num_decoder_layers, norm)
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal: bool = False):
        """Encode ``src`` ((S, N, E), batch_first (N, S, E), or (S, E)), then decode ``tgt``
        ((T, N, E)...) attending to the encoding; returns (T, N, E).

        Args:
            src_mask (S, S), tgt_mask (T, T), memory_mask (T, S): attention masks (boolean,
                True = not allowed, or float, added).
            src_key_padding_mask (N, S), tgt_key_padding_mask (N, T),
                memory_key_padding_mask (N, S): True = padding.
            src_is_causal, tgt_is_causal, memory_is_causal: causal-mask hints.
        """
        is_batched = src.ndim == 3
        if not self.batch_first and is_batched and src.shape[1] != tgt.shape[1]:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if self.batch_first and is_batched and src.shape[0] != tgt.shape[0]:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None):
        """A (sz, sz) causal mask: -inf above the diagonal, 0 on and below it.

        Example:
            >>> nn.Transformer.generate_square_subsequent_mask(3)[0, 1].item()
            -inf
        """
        return _generate_square_subsequent_mask(sz, device=device, dtype=dtype)

    def _reset_parameters(self) -> None:
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
