"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their single-step cells.

Parameter names, shapes, gate order ([i, f, g, o] for LSTM, [r, z, n] for GRU),
initialisation and return types are PyTorch's, so ``load_state_dict`` of a PyTorch model's
weights gives the same outputs. Each layer and direction runs as one fused op over the whole
sequence (see ``nn/functional/rnn.py``): the input projection of all time steps is one GEMM.
"""

from __future__ import annotations

import math
import numbers
import warnings

from autograd import dtypes as _dt
from autograd.backend import get_array_module, to_numpy
from autograd.ops import shape as S
from autograd.tensor import Parameter, Tensor, as_tensor, empty

from .. import init
from ..functional import rnn as _rnn
from ..functional.dropout import _dropout
from ..functional.linear import linear as _linear
from ..utils.rnn import PackedSequence
from .module import Module

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _shape(t) -> tuple:
    return tuple(t.shape)


class RNNBase(Module):
    """Shared machinery of ``RNN``, ``LSTM`` and ``GRU`` (PyTorch's ``RNNBase``).

    Example:
        >>> isinstance(nn.GRU(4, 8), nn.RNNBase)
        True
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None):
        super().__init__()
        # PyTorch's checks, classes and messages, in its order
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or \
                isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        for n, v in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(v, int) or isinstance(v, bool):
                raise TypeError(f"{n} should be of type int, got: {type(v).__name__}")
            if v <= 0:
                raise ValueError(f"{n} must be greater than zero")
        if not isinstance(num_layers, int) or isinstance(num_layers, bool) or num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}", stacklevel=3)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        dt = _dt.to_dtype(dtype) or _dt.get_default_dtype()
        gate = _GATES[mode] * hidden_size
        dirs = 2 if bidirectional else 1
        # with projections (LSTM) the hidden state h has proj_size features: h = W_hr h'
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                in_sz = input_size if layer == 0 else real_hidden * dirs
                names = [("weight_ih" + sfx, (gate, in_sz)), ("weight_hh" + sfx,
                                                              (gate, real_hidden))]
                if bias:
                    names += [("bias_ih" + sfx, (gate,)), ("bias_hh" + sfx, (gate,))]
                if proj_size > 0:
                    names.append(("weight_hr" + sfx, (proj_size, hidden_size)))
                for n, shp in names:
                    setattr(self, n, Parameter(empty(*shp, dtype=dt)))
                    self._flat_weights_names.append(n)
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self) -> None:
        """Every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -stdv, stdv)

    def flatten_parameters(self) -> None:
        """No-op (PyTorch packs cuDNN weights here)."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        """Per layer and direction, [weight_ih, weight_hh, (bias_ih, bias_hh), (weight_hr)]."""
        per = (4 if self.bias else 2) + (1 if self.proj_size > 0 else 0)
        w = self._flat_weights
        return [w[i:i + per] for i in range(0, len(w), per)]

    def _layer_name(self) -> str:
        return f"{type(self).__name__}(input_size={self.input_size}, " \
               f"hidden_size={self.hidden_size})"

    def extra_repr(self) -> str:
        """PyTorch's: the sizes and the arguments that differ from their defaults (the
        nonlinearity is not shown, as there)."""
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:  # PyTorch shows it right after the sizes
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s

    # ---- forward ---------------------------------------------------------------------------
    @property
    def _real_hidden(self) -> int:
        """Features of h: proj_size for an LSTM with projections, else hidden_size."""
        return self.proj_size if self.proj_size > 0 else self.hidden_size

    def _check_rank(self, x) -> None:
        if not isinstance(x, Tensor):
            raise TypeError(f"{self._layer_name()}: expected a Tensor input, got "
                            f"{type(x).__name__}")
        if x.ndim not in (2, 3):  # PyTorch's class and message for a wrong rank
            tensor_word = " tensor" if self.mode.startswith("RNN") else ""
            raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got "
                             f"{x.ndim}D{tensor_word} instead")

    def _check_input(self, x) -> None:
        """PyTorch's ``check_input``: the dtype (ValueError), then the feature size."""
        w = self.weight_ih_l0
        if x.dtype != w.dtype:  # PyTorch raises ValueError here
            raise ValueError(
                f"RNN input dtype ({x.dtype}) does not match weight dtype ({w.dtype}). "
                f"Convert input: input.to({w.dtype}), or convert model: model.to({x.dtype})")
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {x.shape[-1]}")

    def _check_hidden(self, h, expected: tuple, what: str):
        if not isinstance(h, Tensor):
            raise TypeError(f"{self._layer_name()}: {what} must be a Tensor, got "
                            f"{type(h).__name__}")
        if _shape(h) != expected:
            # PyTorch names the LSTM's states hidden[0] and hidden[1]
            which = "" if self.mode != "LSTM" else "[0]" if what == "h_0" else "[1]"
            raise RuntimeError(f"Expected hidden{which} size {expected}, got {list(h.shape)}")
        if h.dtype != self.weight_ih_l0.dtype:
            raise RuntimeError(f"{self._layer_name()}: {what} dtype {h.dtype} does not match "
                               f"the parameters' dtype {self.weight_ih_l0.dtype}")

    def forward(self, input, hx=None):  # noqa: A002 - PyTorch's name
        """Run the layer. ``input``: (L, N, H_in), (N, L, H_in) with ``batch_first``, or
        (L, H_in) unbatched; ``hx``: the initial state(s) (num_layers * num_directions, N,
        hidden_size), zeros when None (LSTM: a tuple (h_0, c_0)).

        Returns:
            (output, h_n) — LSTM: (output, (h_n, c_n)) — output holds the last layer's
            hidden state of every step, both directions concatenated. For a
            ``PackedSequence`` input the output is a PackedSequence and h_n (c_n) holds each
            sequence's state at its own last step (PyTorch's).
        """
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        # PyTorch's order of checks: the input's rank, the states' ranks, the input's dtype
        # and size, the states' shapes (those of the batched (unsqueezed) state)
        self._check_rank(input)
        lstm = self.mode == "LSTM"
        x = input
        batched = x.ndim == 3
        bf = self.batch_first and batched
        if not batched:
            x = S.unsqueeze(x, 1)
        h0 = c0 = None
        if hx is not None:
            if lstm:
                if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                    raise TypeError(f"{self._layer_name()}: hx must be a tuple (h_0, c_0), got "
                                    f"{type(hx).__name__}")
                h0, c0 = hx
                if any(not isinstance(h, Tensor) for h in hx):
                    pass  # _check_hidden says which
                elif batched and (h0.ndim != 3 or c0.ndim != 3):
                    raise RuntimeError(f"For batched 3-D input, hx and cx should also be 3-D "
                                       f"but got ({h0.ndim}-D, {c0.ndim}-D) tensors")
                elif not batched and (h0.ndim != 2 or c0.ndim != 2):
                    raise RuntimeError(f"For unbatched 2-D input, hx and cx should also be 2-D "
                                       f"but got ({h0.ndim}-D, {c0.ndim}-D) tensors")
                elif not batched:
                    h0, c0 = S.unsqueeze(h0, 1), S.unsqueeze(c0, 1)
            else:
                if isinstance(hx, (tuple, list)):
                    raise TypeError(f"{self._layer_name()}: hx must be a Tensor, got a "
                                    f"{type(hx).__name__}")
                h0 = hx
                if not isinstance(hx, Tensor):
                    pass  # _check_hidden says so
                elif batched and hx.ndim != 3:
                    raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got "
                                       f"{hx.ndim}-D tensor")
                elif not batched and hx.ndim != 2:
                    raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got "
                                       f"{hx.ndim}-D tensor")
                elif not batched:
                    h0 = S.unsqueeze(hx, 1)
        self._check_input(x)
        N = x.shape[0 if bf else 1]
        D = 2 if self.bidirectional else 1
        L, H, P = self.num_layers, self.hidden_size, self._real_hidden
        h0s = c0s = None
        if h0 is not None:
            self._check_hidden(h0, (L * D, N, P), "h_0")
            h0s = S.unbind(h0, 0)
        if c0 is not None:
            self._check_hidden(c0, (L * D, N, H), "c_0")
            c0s = S.unbind(c0, 0)
        if x.shape[1 if bf else 0] == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        if N == 0:
            return self._forward_empty_batch(x, bf, batched)
        xp = get_array_module(x)
        zeros = xp.zeros((N, H), dtype=x.dtype)
        hzeros = zeros if P == H else xp.zeros((N, P), dtype=x.dtype)
        drop = self.dropout if self.training else 0.0
        hn, cn = [], []
        layer_in = x
        for layer in range(L):
            outs = []
            for d in range(D):
                i = layer * D + d
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                w_ih = getattr(self, "weight_ih" + sfx)
                w_hh = getattr(self, "weight_hh" + sfx)
                b_ih = getattr(self, "bias_ih" + sfx) if self.bias else None
                b_hh = getattr(self, "bias_hh" + sfx) if self.bias else None
                h0 = h0s[i] if h0s is not None else hzeros
                if self.proj_size > 0:
                    c0 = c0s[i] if c0s is not None else zeros
                    out, h, c = _lstm_proj_layer(layer_in, w_ih, w_hh, b_ih, b_hh,
                                                 getattr(self, "weight_hr" + sfx), h0, c0,
                                                 batch_first=bf, reverse=bool(d))
                    cn.append(c)
                elif self.mode == "GRU":
                    out, h = _rnn.GRULayer.apply(layer_in, w_ih, w_hh, b_ih, b_hh, h0,
                                                 batch_first=bf, reverse=bool(d))
                elif lstm:
                    c0 = c0s[i] if c0s is not None else zeros
                    out, h, c = _rnn.LSTMLayer.apply(layer_in, w_ih, w_hh, b_ih, b_hh, h0, c0,
                                                     batch_first=bf, reverse=bool(d))
                    cn.append(c)
                else:
                    out, h = _rnn.RNNLayer.apply(layer_in, w_ih, w_hh, b_ih, b_hh, h0,
                                                 batch_first=bf, reverse=bool(d),
                                                 relu=self.mode == "RNN_RELU")
                outs.append(out)
                hn.append(h)
            layer_in = outs[0] if D == 1 else S.cat(outs, -1)
            if drop and layer < L - 1:
                layer_in = _dropout(layer_in, drop)
        output = layer_in
        h_n = S.stack(hn, 0)
        c_n = S.stack(cn, 0) if lstm else None
        if not batched:
            output = S.squeeze(output, 1)
            h_n = S.squeeze(h_n, 1)
            c_n = S.squeeze(c_n, 1) if lstm else None
        return (output, (h_n, c_n)) if lstm else (output, h_n)

    def _forward_empty_batch(self, x, bf: bool, batched: bool):
        """A batch of 0 sequences (PyTorch allows it): empty outputs and states, still
        connected to the input and the parameters (their gradients are zeros)."""
        D = 2 if self.bidirectional else 1
        T = x.shape[1 if bf else 0]
        zero = S.reshape(x, (-1,)).sum() * 0
        for p in self._flat_weights:
            zero = zero + p.sum() * 0
        xp = get_array_module(x)

        def empty_of(shape):
            return as_tensor(xp.zeros(shape, dtype=x.dtype)) + zero

        out = empty_of((0, T, D * self._real_hidden) if bf else (T, 0, D * self._real_hidden))
        h_n = empty_of((self.num_layers * D, 0, self._real_hidden))
        c_n = empty_of((self.num_layers * D, 0, self.hidden_size))
        if not batched:  # (unreachable: an unbatched input has one sequence)
            out, h_n, c_n = S.squeeze(out, 1), S.squeeze(h_n, 1), S.squeeze(c_n, 1)
        return (out, (h_n, c_n)) if self.mode == "LSTM" else (out, h_n)

    def _hidden_states(self, hx, N: int, x, perm):
        """Validated initial states (lists of (N, H) per layer and direction, None for zeros),
        for the packed path; ``perm`` sorts their batch like the packed data's."""
        L, D, H = self.num_layers, 2 if self.bidirectional else 1, self.hidden_size
        lstm = self.mode == "LSTM"
        P = self._real_hidden
        if hx is None:
            z = _zero_state(x, N, H)
            zh = z if P == H else _zero_state(x, N, P)
            return [zh] * (L * D), [z] * (L * D) if lstm else None
        if lstm:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{self._layer_name()}: hx must be a tuple (h_0, c_0), got "
                                f"{type(hx).__name__}")
            h0, c0 = hx
            self._check_hidden(h0, (L * D, N, P), "h_0")
            self._check_hidden(c0, (L * D, N, H), "c_0")
        else:
            if isinstance(hx, (tuple, list)):
                raise TypeError(f"{self._layer_name()}: hx must be a Tensor, got a "
                                f"{type(hx).__name__}")
            self._check_hidden(hx, (L * D, N, H), "h_0")
            h0, c0 = hx, None
        if perm is not None:
            h0 = h0[:, perm]
            c0 = None if c0 is None else c0[:, perm]
        return list(S.unbind(h0, 0)), (list(S.unbind(c0, 0)) if lstm else None)

    def _forward_packed(self, packed, hx):
        """The layer over a PackedSequence: the steps with the same batch size form runs,
        each run is ONE call of the fused layer op on its contiguous block of the packed
        data; sequences that have ended keep their state (the final state of each sequence
        is the one at its own last step); in the reverse direction a sequence starts, from
        its initial state, at its own last step."""
        data, batch_sizes, si, ui = packed
        if not isinstance(data, Tensor) or data.ndim != 2 or data.shape[1] != self.input_size:
            got = _shape(data) if isinstance(data, Tensor) else type(data).__name__
            raise RuntimeError(f"{self._layer_name()}: expected packed data of shape "
                               f"(sum of lengths, {self.input_size}), got {got}")
        w = self.weight_ih_l0
        if data.dtype != w.dtype:  # PyTorch raises ValueError here
            raise ValueError(
                f"{self._layer_name()}: input dtype {data.dtype} does not match the "
                f"parameters' dtype {w.dtype}; convert the input or the layer")
        bs = [int(b) for b in to_numpy(batch_sizes._data)]
        N = bs[0]
        xp = get_array_module(data._data)
        perm = None if si is None else xp.asarray(to_numpy(si._data), dtype="int64")
        h0s, c0s = self._hidden_states(hx, N, data, perm)
        runs = []  # (row offset, steps, batch size) of each run of equal batch sizes
        off = t = 0
        while t < len(bs):
            b, n = bs[t], 1
            while t + n < len(bs) and bs[t + n] == b:
                n += 1
            runs.append((off, n, b))
            off += n * b
            t += n
        lstm = self.mode == "LSTM"
        L, D = self.num_layers, 2 if self.bidirectional else 1
        drop = self.dropout if self.training else 0.0
        hn, cn = [], []
        layer_in = data
        for layer in range(L):
            outs = []
            for d in range(D):
                i = layer * D + d
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                ws = (getattr(self, "weight_ih" + sfx), getattr(self, "weight_hh" + sfx),
                      getattr(self, "bias_ih" + sfx) if self.bias else None,
                      getattr(self, "bias_hh" + sfx) if self.bias else None)
                if self.proj_size > 0:
                    ws += (getattr(self, "weight_hr" + sfx),)
                out, h, c = self._packed_direction(layer_in, runs, ws, h0s[i],
                                                   c0s[i] if lstm else None, bool(d))
                outs.append(out)
                hn.append(h)
                cn.append(c)
            layer_in = outs[0] if D == 1 else S.cat(outs, -1)
            if drop and layer < L - 1:
                layer_in = _dropout(layer_in, drop)
        h_n = S.stack(hn, 0)
        c_n = S.stack(cn, 0) if lstm else None
        if ui is not None:
            inv = xp.asarray(to_numpy(ui._data), dtype="int64")
            h_n = h_n[:, inv]
            c_n = c_n[:, inv] if lstm else None
        output = PackedSequence(layer_in, batch_sizes, si, ui)
        return (output, (h_n, c_n)) if lstm else (output, h_n)

    def _packed_direction(self, x, runs, ws, h0, c0, reverse: bool):
        """One layer and direction over packed rows ``x``: (output rows, h_n, c_n)."""
        lstm = self.mode == "LSTM"
        parts = [None] * len(runs)
        h = c = None  # the states of the sequences running so far (the first rows)
        order = range(len(runs) - 1, -1, -1) if reverse else range(len(runs))
        for r in order:
            off, n, b = runs[r]
            xr = S.reshape(x[off:off + n * b], (n, b, x.shape[1]))
            if reverse:  # sequences b_prev..b start here from their initial state
                if h is None:
                    hin, cin = h0[:b], (c0[:b] if lstm else None)
                elif h.shape[0] < b:
                    k = h.shape[0]
                    hin = S.cat([h, h0[k:b]], 0)
                    cin = S.cat([c, c0[k:b]], 0) if lstm else None
                else:
                    hin, cin = h, c
            else:
                hin = h0[:b] if h is None else h[:b]
                cin = (c0[:b] if c is None else c[:b]) if lstm else None
            if self.proj_size > 0:
                out, hb, cb = _lstm_proj_layer(xr, *ws, hin, cin, reverse=reverse)
            elif self.mode == "GRU":
                out, hb = _rnn.GRULayer.apply(xr, *ws, hin, reverse=reverse)
                cb = None
            elif lstm:
                out, hb, cb = _rnn.LSTMLayer.apply(xr, *ws, hin, cin, reverse=reverse)
            else:
                out, hb = _rnn.RNNLayer.apply(xr, *ws, hin, reverse=reverse,
                                              relu=self.mode == "RNN_RELU")
                cb = None
            parts[r] = S.reshape(out, (n * b, out.shape[-1]))
            if reverse or h is None or h.shape[0] == b:
                h, c = hb, cb
            else:  # the sequences past b have ended: they keep their last state
                h = S.cat([hb, h[b:]], 0)
                c = S.cat([cb, c[b:]], 0) if lstm else None
        out = parts[0] if len(parts) == 1 else S.cat(parts, 0)
        return out, h, c


def _lstm_proj_layer(x, w_ih, w_hh, b_ih, b_hh, w_hr, h0, c0, batch_first=False,
                     reverse=False):
    """One layer and direction of an LSTM with projections (``proj_size > 0``), PyTorch's:
    the gates [i, f, g, o] of the step from x_t and the projected state h (N, P),
    c' = f * c + i * g, h' = W_hr (o * tanh(c')). Composed of autograd ops step by step
    (the fused ``LSTMLayer`` has no projection). Returns (output, h_n, c_n) like it."""
    xt = S.transpose(x, 0, 1) if batch_first else x
    gx = _linear(xt, w_ih, b_ih)  # the input projection of all steps at once
    h, c = h0, c0
    outs = [None] * xt.shape[0]
    for t in (range(xt.shape[0] - 1, -1, -1) if reverse else range(xt.shape[0])):
        gates = gx[t] + _linear(h, w_hh, b_hh)
        i, f, g, o = gates.chunk(4, 1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = _linear(o.sigmoid() * c.tanh(), w_hr, None)
        outs[t] = h
    out = S.stack(outs, 1 if batch_first else 0)
    return out, h, c


def _zero_state(x, N: int, H: int) -> Tensor:
    """A zero initial state (N, H) with ``x``'s dtype and device (no gradient)."""
    return as_tensor(get_array_module(x._data).zeros((N, H), dtype=x.dtype))


def _no_proj(kwargs: dict, name: str) -> None:
    """PyTorch's errors for the keyword arguments RNN and GRU do not take."""
    if "proj_size" in kwargs:
        raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
    if kwargs:
        raise TypeError(f"{name}.__init__() got an unexpected keyword argument "
                        f"'{next(iter(kwargs))}'")


class RNN(RNNBase):
    """Multi-layer Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh).

    Args:
        input_size: features of the input.
        hidden_size: features of the hidden state.
        num_layers: stacked layers.
        nonlinearity: 'tanh' or 'relu'.
        bias: learn b_ih and b_hh.
        batch_first: input and output are (N, L, H) instead of (L, N, H).
        dropout: dropout on each layer's output except the last's (training only).
        bidirectional: also run the sequence backwards and concatenate.

    Example:
        >>> out, h_n = nn.RNN(10, 20, num_layers=2)(ag.randn(5, 3, 10))  # (5,3,20), (2,3,20)
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None,
                 **kwargs):
        _no_proj(kwargs, "RNN")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Multi-layer long short-term memory (gates i, f, g, o as in PyTorch):
    c_t = f * c_{t-1} + i * g, h_t = o * tanh(c_t).

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional:
            as in ``RNN``.
        proj_size: when > 0, each step's hidden state is projected to this many features
            (``weight_hr_l{k}``, (proj_size, hidden_size)); h_n and the output then have
            proj_size features, c_n keeps hidden_size.

    Example:
        >>> out, (h_n, c_n) = nn.LSTM(28, 128, batch_first=True)(ag.randn(64, 28, 28))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device=device, dtype=dtype)


class GRU(RNNBase):
    """Multi-layer gated recurrent unit (gates r, z, n as in PyTorch):
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional:
            as in ``RNN``.

    Example:
        >>> out, h_n = nn.GRU(10, 20, bidirectional=True)(ag.randn(5, 3, 10))  # (5,3,40)
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device=None, dtype=None, **kwargs):
        _no_proj(kwargs, "GRU")
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)


# ---- cells ---------------------------------------------------------------------------------


class RNNCellBase(Module):
    """Shared machinery of the cells: parameters weight_ih (G*H, I), weight_hh (G*H, H),
    bias_ih, bias_hh (G*H,) with G gates.

    Example:
        >>> nn.LSTMCell(4, 8).weight_hh.shape
        (32, 8)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None):
        super().__init__()
        for n, v in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"{type(self).__name__}: {n} must be a positive integer, "
                                 f"got {v!r}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        dt = _dt.to_dtype(dtype) or _dt.get_default_dtype()
        g = num_chunks * hidden_size
        self.weight_ih = Parameter(empty(g, input_size, dtype=dt))
        self.weight_hh = Parameter(empty(g, hidden_size, dtype=dt))
        if bias:
            self.bias_ih = Parameter(empty(g, dtype=dt))
            self.bias_hh = Parameter(empty(g, dtype=dt))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self) -> None:
        """Every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":  # unquoted, as PyTorch prints it
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _name(self) -> str:
        return f"{type(self).__name__}(input_size={self.input_size}, " \
               f"hidden_size={self.hidden_size})"

    def _prepare(self, x, hx, n_states: int):
        """Validate; returns (x (N, I), states [(N, H)...] or None, batched)."""
        I, H = self.input_size, self.hidden_size  # noqa: E741
        cls = type(self).__name__
        # PyTorch's checks, classes and messages: the ranks (ValueError), then the sizes of
        # the (batched) input and states (RuntimeError)
        if not isinstance(x, Tensor):
            raise TypeError(f"{self._name()}: expected a Tensor input, got {type(x).__name__}")
        if x.ndim not in (1, 2):
            raise ValueError(f"{cls}: Expected input to be 1D or 2D, got {x.ndim}D instead")
        hs = ()
        if hx is not None:
            hs = tuple(hx) if n_states == 2 else (hx,)
            if n_states == 2 and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
                raise TypeError(f"{self._name()}: hx must be a tuple (h_0, c_0)")
            for k, h in enumerate(hs):
                if not isinstance(h, Tensor):
                    raise TypeError(f"{self._name()}: hx must be Tensors, got "
                                    f"{type(h).__name__}")
                if h.ndim not in (1, 2):
                    what = f"hx[{k}]" if n_states == 2 else "hidden"
                    raise ValueError(f"{cls}: Expected {what} to be 1D or 2D, got {h.ndim}D "
                                     "instead")
        batched = x.ndim == 2
        N = x.shape[0] if batched else 1
        if x.shape[-1] != I:
            raise RuntimeError(f"input has inconsistent input_size: got {x.shape[-1]} "
                               f"expected {I}")
        if x.dtype != self.weight_ih.dtype:
            raise RuntimeError(f"{self._name()}: input dtype {x.dtype} does not match the "
                               f"parameters' dtype {self.weight_ih.dtype}")
        states = None
        if hx is not None:
            states = [h if batched else S.unsqueeze(h, 0) for h in hs]
            for k, h in enumerate(states):
                if h.shape[0] != N:
                    raise RuntimeError(f"Input batch size {N} doesn't match hidden{k} batch "
                                       f"size {h.shape[0]}")
                if h.shape[1] != H:
                    raise RuntimeError(f"hidden{k} has inconsistent hidden_size: got "
                                       f"{h.shape[1]}, expected {H}")
        if not batched:
            x = S.unsqueeze(x, 0)
        return x, states, batched


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh).

    Args:
        input_size: features of the input.
        hidden_size: features of the hidden state.
        bias: learn b_ih and b_hh.
        nonlinearity: 'tanh' or 'relu'.

    Example:
        >>> h = nn.RNNCell(10, 20)(ag.randn(3, 10))  # (3, 20)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None):
        # PyTorch checks the nonlinearity in forward (RuntimeError), not here
        super().__init__(input_size, hidden_size, bias, 1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):  # noqa: A002
        """input (N, I) or (I,); hx (N, H) or (H,) (zeros when None). Returns h'."""
        x, st, batched = self._prepare(input, hx, 1)
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        h0 = st[0] if st else get_array_module(x).zeros((x.shape[0], self.hidden_size),
                                                        dtype=x.dtype)
        _, h = _rnn.RNNLayer.apply(S.unsqueeze(x, 0), self.weight_ih, self.weight_hh,
                                   self.bias_ih, self.bias_hh, h0,
                                   relu=self.nonlinearity == "relu")
        return h if batched else S.squeeze(h, 0)


class LSTMCell(RNNCellBase):
    """One LSTM step: gates [i, f, g, o] = x W_ih^T + b_ih + h W_hh^T + b_hh;
    c' = sigmoid(f) * c + sigmoid(i) * tanh(g), h' = sigmoid(o) * tanh(c').

    Args:
        input_size: features of the input.
        hidden_size: features of the hidden and cell states.
        bias: learn b_ih and b_hh.

    Example:
        >>> h, c = nn.LSTMCell(10, 20)(ag.randn(3, 10))  # (3, 20), (3, 20)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device=device, dtype=dtype)

    def forward(self, input, hx=None):  # noqa: A002
        """input (N, I) or (I,); hx = (h, c), each (N, H) or (H,) (zeros when None).
        Returns (h', c')."""
        x, st, batched = self._prepare(input, hx, 2)
        if st:
            h0, c0 = st
        else:
            h0 = c0 = get_array_module(x).zeros((x.shape[0], self.hidden_size), dtype=x.dtype)
        _, h, c = _rnn.LSTMLayer.apply(S.unsqueeze(x, 0), self.weight_ih, self.weight_hh,
                                       self.bias_ih, self.bias_hh, h0, c0)
        if not batched:
            h, c = S.squeeze(h, 0), S.squeeze(c, 0)
        return h, c


class GRUCell(RNNCellBase):
    """One GRU step (gates [r, z, n]): n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),
    h' = (1 - z) * n + z * h.

    Args:
        input_size: features of the input.
        hidden_size: features of the hidden state.
        bias: learn b_ih and b_hh.

    Example:
        >>> h = nn.GRUCell(10, 20)(ag.randn(3, 10))  # (3, 20)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device=device, dtype=dtype)

    def forward(self, input, hx=None):  # noqa: A002
        """input (N, I) or (I,); hx (N, H) or (H,) (zeros when None). Returns h'."""
        x, st, batched = self._prepare(input, hx, 1)
        h0 = st[0] if st else get_array_module(x).zeros((x.shape[0], self.hidden_size),
                                                        dtype=x.dtype)
        _, h = _rnn.GRULayer.apply(S.unsqueeze(x, 0), self.weight_ih, self.weight_hh,
                                   self.bias_ih, self.bias_hh, h0)
        return h if batched else S.squeeze(h, 0)
