"""The ``torch.<name>`` forms of neural-network functions (``torch.conv2d``,
``torch.batch_norm``, ``torch.lstm_cell``...), for programs written as ``import autograd as
torch``.

PyTorch exposes many ``nn.functional`` kernels in its top-level namespace too, some with the
same signature (``torch.conv2d`` is ``F.conv2d``) and some with the signature of the
underlying ATen op: ``torch.embedding(weight, indices)`` takes the weight first, the losses
take ``reduction`` as an int (0 none, 1 mean, 2 sum) and the norms take their running
statistics positionally. (Ops that live in ``autograd`` itself, ``torch.dropout(input, p,
train)``, ``torch.celu``..., are registered there and win over this table.) Each
entry below has PyTorch's signature of the ``torch.`` form and calls this project's
``nn.functional``.

``autograd`` sits below ``nn``, so it cannot import this module; ``autograd.__getattr__``
looks a name up in ``TORCH_FUNCTIONS`` on first use (as it does for ``autograd.nn``). A name
is listed only when the ``nn.functional`` function it calls exists.
"""

from __future__ import annotations

import warnings

import autograd as ag
import nn.functional as _functional  # the package: imported after it is complete
from autograd.ops import elementwise as E
from autograd.ops import shape as S

_F = {k: v for k, v in vars(_functional).items() if not k.startswith("_") and callable(v)}

_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _reduction(r) -> str:
    """ATen's reduction enum (0 none, 1 mean, 2 sum) as nn.functional's string."""
    if isinstance(r, str):
        return r
    try:
        return _REDUCTIONS[int(r)]
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"reduction: expected 0 (none), 1 (mean) or 2 (sum), got {r!r}") from None


TORCH_FUNCTIONS: dict = {}


def _export(name, *needs):
    """Decorator: list ``fn`` under ``name`` when the F functions it needs exist."""
    def deco(fn):
        if all(n in _F for n in needs):
            fn.__name__ = fn.__qualname__ = name
            TORCH_FUNCTIONS[name] = fn
        return fn
    return deco


# ---- same signature as nn.functional ------------------------------------------------------
for _name in ("adaptive_avg_pool1d", "avg_pool1d", "bilinear", "conv1d", "conv2d", "conv3d",
              "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "conv_tbc",
              "cosine_similarity", "pairwise_distance", "pdist", "pixel_shuffle",
              "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle"):
    if _name in _F:
        TORCH_FUNCTIONS[_name] = _F[_name]


# ---- ATen signatures ----------------------------------------------------------------------
@_export("batch_norm", "batch_norm")
def _batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
                cudnn_enabled):
    return _F["batch_norm"](input, running_mean, running_var, weight, bias, bool(training),
                            momentum, eps)


@_export("instance_norm", "instance_norm")
def _instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum,
                   eps, cudnn_enabled):
    return _F["instance_norm"](input, running_mean, running_var, weight, bias,
                               bool(use_input_stats), momentum, eps)


@_export("layer_norm", "layer_norm")
def _layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    return _F["layer_norm"](input, normalized_shape, weight, bias, eps)


@_export("group_norm", "group_norm")
def _group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    return _F["group_norm"](input, num_groups, weight, bias, eps)


@_export("rms_norm", "rms_norm")
def _rms_norm(input, normalized_shape, weight=None, eps=None):
    return _F["rms_norm"](input, normalized_shape, weight, eps)


def _stats(x, dims, eps):
    """(mean, 1/sqrt(biased var + eps)) over ``dims``, kept, without a graph."""
    with ag.no_grad():
        mean = x.mean(dim=dims, keepdim=True)
        var = x.var(dim=dims, keepdim=True, correction=0)
        return mean, (var + eps).rsqrt()


@_export("native_layer_norm", "layer_norm")
def _native_layer_norm(input, normalized_shape, weight, bias, eps):
    """(output, mean, rstd), the statistics over the normalised dims, kept."""
    nd = len(tuple(normalized_shape)) if not isinstance(normalized_shape, int) else 1
    dims = tuple(range(input.ndim - nd, input.ndim))
    mean, rstd = _stats(input, dims, eps)
    return _F["layer_norm"](input, normalized_shape, weight, bias, eps), mean, rstd


@_export("native_group_norm", "group_norm")
def _native_group_norm(input, weight, bias, N, C, HxW, group, eps):
    """(output, mean, rstd) with mean/rstd of shape (N, group)."""
    g = input.reshape(N, group, -1)
    mean, rstd = _stats(g, (2,), eps)
    out = _F["group_norm"](input, group, weight, bias, eps)
    return out, mean.reshape(N, group), rstd.reshape(N, group)


@_export("native_batch_norm", "batch_norm")
def _native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps):
    """(output, save_mean, save_invstd): the batch statistics in training, else empty."""
    out = _F["batch_norm"](input, running_mean, running_var, weight, bias, bool(training),
                           momentum, eps)
    if training:
        dims = (0,) + tuple(range(2, input.ndim))
        mean, rstd = _stats(input, dims, eps)
        return out, mean.reshape(-1), rstd.reshape(-1)
    empty = ag.empty(0, dtype=input.dtype, device=input.device)
    return out, empty, empty


@_export("native_norm")
def _native_norm(input, p=2):
    return ag.norm(input, p)


@_export("embedding", "embedding")
def _embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    pad = None if padding_idx is None or padding_idx < 0 else padding_idx
    return _F["embedding"](indices, weight, padding_idx=pad,
                           scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


@_export("embedding_renorm_")
def _embedding_renorm_(input, indices, max_norm, norm_type):
    """Rescale (in place, without a graph) the rows ``indices`` of ``input`` whose
    ``norm_type``-norm exceeds ``max_norm`` to norm ``max_norm`` (1e-7 slack, as PyTorch)."""
    with ag.no_grad():
        rows = ag.unique(indices.reshape(-1))
        sel = input[rows]
        norms = sel.norm(p=norm_type, dim=1, keepdim=True)
        scale = ag.where(norms > max_norm, max_norm / (norms + 1e-7), ag.ones_like(norms))
        input[rows] = sel * scale
    return input


@_export("constant_pad_nd", "pad")
def _constant_pad_nd(input, pad, value=0):
    return _F["pad"](input, tuple(pad), mode="constant", value=value)


@_export("convolution", "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d")
def _convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding,
                 groups):
    nd = weight.ndim - 2
    if transposed:
        fn = _F.get(f"conv_transpose{nd}d")
        if fn is None:
            raise RuntimeError(f"convolution: no {nd}-d transposed convolution here "
                               f"(weight of shape {tuple(weight.shape)})")
        return fn(input, weight, bias, stride, padding, output_padding, groups, dilation)
    fn = _F.get(f"conv{nd}d")
    if fn is None:
        raise RuntimeError(f"convolution: no {nd}-d convolution here "
                           f"(weight of shape {tuple(weight.shape)})")
    return fn(input, weight, bias, stride, padding, dilation, groups)


# ---- pooling: stride=[] means the kernel size; adaptive max returns (values, indices) ----
def _pool_stride(stride):
    return None if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) \
        else stride


for _nd in (1, 2, 3):
    def _make_max_pool(nd):
        fname = f"max_pool{nd}d"

        def max_pool(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
            return _F[fname](input, kernel_size, _pool_stride(stride), padding, dilation,
                             ceil_mode=ceil_mode)
        return max_pool
    if f"max_pool{_nd}d" in _F:
        _export(f"max_pool{_nd}d")(_make_max_pool(_nd))


@_export("max_pool1d_with_indices", "max_pool1d")
def _max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1,
                             ceil_mode=False):
    return _F["max_pool1d"](input, kernel_size, _pool_stride(stride), padding, dilation,
                            ceil_mode=ceil_mode, return_indices=True)


@_export("adaptive_max_pool1d", "adaptive_max_pool1d")
def _adaptive_max_pool1d(input, output_size):
    return _F["adaptive_max_pool1d"](input, output_size, return_indices=True)


# ---- grid sampling: modes as ATen's ints -------------------------------------------------
_INTERP = {0: "bilinear", 1: "nearest", 2: "bicubic"}
_PADDING = {0: "zeros", 1: "border", 2: "reflection"}


def _grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners):
    return _F["grid_sample"](input, grid, mode=_INTERP[int(interpolation_mode)],
                             padding_mode=_PADDING[int(padding_mode)],
                             align_corners=bool(align_corners))


for _name in ("grid_sampler", "grid_sampler_2d", "grid_sampler_3d"):
    if "grid_sample" in _F:
        _export(_name)(lambda *a, _g=_grid_sampler: _g(*a))


@_export("affine_grid_generator", "affine_grid")
def _affine_grid_generator(theta, size, align_corners):
    return _F["affine_grid"](theta, list(size), align_corners=bool(align_corners))


# ---- losses: reduction as ATen's int -------------------------------------------------------
@_export("binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits")
def _bce_logits(input, target, weight=None, pos_weight=None, reduction=1):
    return _F["binary_cross_entropy_with_logits"](input, target, weight,
                                                  reduction=_reduction(reduction),
                                                  pos_weight=pos_weight)


@_export("kl_div", "kl_div")
def _kl_div(input, target, reduction=1, log_target=False):
    with warnings.catch_warnings():  # torch.kl_div does not warn about 'mean' (F.kl_div does)
        warnings.simplefilter("ignore", UserWarning)
        return _F["kl_div"](input, target, reduction=_reduction(reduction),
                            log_target=log_target)


@_export("cosine_embedding_loss", "cosine_embedding_loss")
def _cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=1):
    return _F["cosine_embedding_loss"](input1, input2, target, margin=margin,
                                       reduction=_reduction(reduction))


@_export("hinge_embedding_loss", "hinge_embedding_loss")
def _hinge_embedding_loss(input, target, margin=1.0, reduction=1):
    return _F["hinge_embedding_loss"](input, target, margin=margin,
                                      reduction=_reduction(reduction))


@_export("margin_ranking_loss", "margin_ranking_loss")
def _margin_ranking_loss(input1, input2, target, margin=0.0, reduction=1):
    return _F["margin_ranking_loss"](input1, input2, target, margin=margin,
                                     reduction=_reduction(reduction))


@_export("poisson_nll_loss", "poisson_nll_loss")
def _poisson_nll_loss(input, target, log_input, full, eps, reduction):
    return _F["poisson_nll_loss"](input, target, log_input=log_input, full=full, eps=eps,
                                  reduction=_reduction(reduction))


@_export("triplet_margin_loss", "triplet_margin_loss")
def _triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                         reduction=1):
    return _F["triplet_margin_loss"](anchor, positive, negative, margin=margin, p=p, eps=eps,
                                     swap=swap, reduction=_reduction(reduction))


@_export("ctc_loss", "ctc_loss")
def _ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=1,
              zero_infinity=False):
    return _F["ctc_loss"](log_probs, targets, input_lengths, target_lengths, blank=blank,
                          reduction=_reduction(reduction), zero_infinity=zero_infinity)


# ---- recurrent cells and layers (ATen's functional forms) --------------------------------
def _lin(x, w, b):
    return _F["linear"](x, w, b)


@_export("rnn_tanh_cell", "linear")
def _rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return E.tanh(_lin(input, w_ih, b_ih) + _lin(hx, w_hh, b_hh))


@_export("rnn_relu_cell", "linear")
def _rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return E.relu(_lin(input, w_ih, b_ih) + _lin(hx, w_hh, b_hh))


@_export("lstm_cell", "linear")
def _lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """(h', c') with PyTorch's gate order i, f, g, o."""
    h, c = hx
    gates = _lin(input, w_ih, b_ih) + _lin(h, w_hh, b_hh)
    i, f, g, o = S.chunk(gates, 4, dim=-1)
    c2 = E.sigmoid(f) * c + E.sigmoid(i) * E.tanh(g)
    return E.sigmoid(o) * E.tanh(c2), c2


@_export("gru_cell", "linear")
def _gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' with PyTorch's gate order r, z, n (the reset gate applied after the GEMM)."""
    gi = S.chunk(_lin(input, w_ih, b_ih), 3, dim=-1)
    gh = S.chunk(_lin(hx, w_hh, b_hh), 3, dim=-1)
    r = E.sigmoid(gi[0] + gh[0])
    z = E.sigmoid(gi[1] + gh[1])
    n = E.tanh(gi[2] + r * gh[2])
    return (1 - z) * n + z * hx


def _run_layers(cell, input, hx, params, has_biases, num_layers, dropout, train,
                bidirectional, batch_first, lstm):
    """The multi-layer (bi)directional loop of ATen's ``lstm``/``gru``/``rnn_*`` over cells.

    ``params`` holds per layer and direction ``w_ih, w_hh[, b_ih, b_hh]``; ``hx`` is
    ``(num_layers * dirs, N, H)`` (a pair for the LSTM)."""
    dirs = 2 if bidirectional else 1
    per = 4 if has_biases else 2
    if len(params) != num_layers * dirs * per:
        raise RuntimeError(f"expected {num_layers * dirs * per} parameter tensors for "
                           f"{num_layers} layers x {dirs} directions, got {len(params)}")
    x = S.transpose(input, 0, 1) if batch_first else input
    unbatched = x.ndim == 2
    if unbatched:
        x = S.unsqueeze(x, 1)
    h0 = hx[0] if lstm else hx
    c0 = hx[1] if lstm else None
    if unbatched:
        h0 = S.unsqueeze(h0, 1)
        c0 = S.unsqueeze(c0, 1) if lstm else None
    hs, cs = [], []
    for layer in range(num_layers):
        outs = []
        for d in range(dirs):
            k = (layer * dirs + d) * per
            w = params[k:k + per]
            b_ih, b_hh = (w[2], w[3]) if has_biases else (None, None)
            h = h0[layer * dirs + d]
            c = c0[layer * dirs + d] if lstm else None
            steps = range(x.shape[0] - 1, -1, -1) if d == 1 else range(x.shape[0])
            ys = [None] * x.shape[0]
            for t in steps:
                if lstm:
                    h, c = cell(x[t], (h, c), w[0], w[1], b_ih, b_hh)
                else:
                    h = cell(x[t], h, w[0], w[1], b_ih, b_hh)
                ys[t] = h
            outs.append(S.stack(ys, 0))
            hs.append(h)
            if lstm:
                cs.append(c)
        x = outs[0] if dirs == 1 else S.cat(outs, -1)
        if dropout and train and layer < num_layers - 1:
            x = _F["dropout"](x, dropout, True)
    out = S.squeeze(x, 1) if unbatched else x
    if batch_first and not unbatched:
        out = S.transpose(out, 0, 1)
    h_n = S.stack(hs, 0)
    c_n = S.stack(cs, 0) if lstm else None
    if unbatched:
        h_n = S.squeeze(h_n, 1)
        c_n = S.squeeze(c_n, 1) if lstm else None
    return (out, h_n, c_n) if lstm else (out, h_n)


@_export("lstm", "linear", "dropout")
def _lstm(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
          batch_first):
    return _run_layers(_lstm_cell, input, hx, params, has_biases, num_layers, dropout, train,
                       bidirectional, batch_first, lstm=True)


@_export("gru", "linear", "dropout")
def _gru(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
         batch_first):
    return _run_layers(_gru_cell, input, hx, params, has_biases, num_layers, dropout, train,
                       bidirectional, batch_first, lstm=False)


@_export("rnn_tanh", "linear", "dropout")
def _rnn_tanh(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
              batch_first):
    return _run_layers(_rnn_tanh_cell, input, hx, params, has_biases, num_layers, dropout,
                       train, bidirectional, batch_first, lstm=False)


@_export("rnn_relu", "linear", "dropout")
def _rnn_relu(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
              batch_first):
    return _run_layers(_rnn_relu_cell, input, hx, params, has_biases, num_layers, dropout,
                       train, bidirectional, batch_first, lstm=False)
