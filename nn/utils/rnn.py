"""``nn.utils.rnn``: variable-length sequences for the recurrent layers (PyTorch's).

A ``PackedSequence`` holds a batch of sequences of different lengths, sorted by decreasing
length, time step after time step: ``data`` is (sum of lengths, *) with the rows of step
``t`` (one per sequence still running at ``t``) contiguous, and ``batch_sizes[t]`` is how
many there are. ``nn.RNN``/``nn.LSTM``/``nn.GRU`` accept one and return one.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from autograd.backend import get_array_module, to_numpy
from autograd.function import Op
from autograd.ops import shape as S
from autograd.tensor import Tensor, tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pack_sequence",
           "pad_packed_sequence", "pad_sequence", "unpack_sequence", "unpad_sequence"]


def _index(idx, like: Tensor):
    """An int64 index array on ``like``'s device."""
    xp = get_array_module(like._data)
    return xp.asarray(idx, dtype=np.int64)


def _long(arr, device=None) -> Tensor:
    return tensor(np.asarray(arr, dtype=np.int64), device=device)


class _ScatterRows(Op):
    """``out`` (n, *) filled with ``value``, then ``out[idx] = x``: rows to padded layout
    (``idx`` distinct). Its backward is ``_GatherRows`` and vice versa, so every order of
    derivative is available."""

    @staticmethod
    def forward(ctx, x, *, idx, n: int, value=0.0):
        xp = get_array_module(x)
        ctx.idx = idx
        out = xp.full((n,) + tuple(x.shape[1:]), value, dtype=x.dtype)
        out[idx] = x
        return out

    @staticmethod
    def backward(ctx, gy):
        return _GatherRows.apply(gy, idx=ctx.idx)


class _GatherRows(Op):
    """``x[idx]`` along the first dim (``idx`` distinct): padded layout to rows."""

    @staticmethod
    def forward(ctx, x, *, idx):
        xp = get_array_module(x)
        ctx.idx, ctx.n = idx, x.shape[0]
        return xp.take(x, idx, axis=0)

    @staticmethod
    def backward(ctx, gy):
        return _ScatterRows.apply(gy, idx=ctx.idx, n=ctx.n)


def _rows(x: Tensor) -> Tensor:
    """(A, B, *) -> (A * B, *)."""
    return S.reshape(x, (x.shape[0] * x.shape[1],) + tuple(x.shape[2:]))


def invert_permutation(permutation):
    """The inverse of the permutation ``permutation`` (an int64 tensor), or None for None.

    Example:
        >>> invert_permutation(ag.tensor([2, 0, 1]))  # tensor([1, 2, 0])
    """
    if permutation is None:
        return None
    p = to_numpy(permutation._data).astype(np.int64, copy=False)
    out = np.empty_like(p)
    out[p] = np.arange(p.shape[0], dtype=np.int64)
    return tensor(out, device=permutation.device)


_PackedSequenceBase = namedtuple("PackedSequence_",
                                 ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


class PackedSequence(_PackedSequenceBase):
    """A packed batch of variable-length sequences (see the module docstring).

    Build one with ``pack_padded_sequence`` or ``pack_sequence``, never by hand.

    Args:
        data: (sum of lengths, *) the rows of all sequences, step after step.
        batch_sizes: int64 CPU tensor, the number of sequences running at each step.
        sorted_indices: int64 tensor, the original batch index of each sorted sequence, or
            None when the batch was already sorted.
        unsorted_indices: its inverse (computed when None).

    Example:
        >>> p = pack_sequence([ag.ones(3, 2), ag.ones(1, 2)])
        >>> p.batch_sizes  # tensor([2, 1, 1])
    """

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is not None:
            if batch_sizes.device.type != "cpu":
                raise ValueError(
                    "batch_sizes should always be on CPU. Instances of PackedSequence should "
                    "never be created manually. They should be instantiated by functions like "
                    "pack_sequence and pack_padded_sequences in nn.utils.rnn. "
                    "https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence")
            return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)
        if not (isinstance(data, (list, tuple)) and len(data) == 2):
            raise TypeError("PackedSequence: expected (data, batch_sizes) when batch_sizes "
                            "is None")
        return super().__new__(cls, data[0], data[1], sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        """``data.to(*args, **kwargs)``; the indices follow the data's device."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        dev = data.device
        si = None if self.sorted_indices is None else self.sorted_indices.to(dev)
        ui = None if self.unsorted_indices is None else self.unsorted_indices.to(dev)
        return type(self)(data, self.batch_sizes, si, ui)

    def cuda(self, *args, **kwargs) -> PackedSequence:
        return self.to("cuda" if not args else f"cuda:{args[0]}", **kwargs)

    def cpu(self, *args, **kwargs) -> PackedSequence:
        return self.to("cpu")

    def pin_memory(self) -> PackedSequence:
        return self

    def double(self) -> PackedSequence:
        return self.to(dtype="float64")

    def float(self) -> PackedSequence:
        return self.to(dtype="float32")

    def half(self) -> PackedSequence:
        return self.to(dtype="float16")

    def long(self) -> PackedSequence:
        return self.to(dtype="int64")

    def int(self) -> PackedSequence:
        return self.to(dtype="int32")

    def short(self) -> PackedSequence:
        return self.to(dtype="int16")

    def char(self) -> PackedSequence:
        return self.to(dtype="int8")

    def byte(self) -> PackedSequence:
        return self.to(dtype="uint8")

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        return False


def _lengths_array(lengths) -> np.ndarray:
    if isinstance(lengths, Tensor):
        if lengths.ndim != 1:
            raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got "
                               f"{lengths.ndim}D {lengths.device.type} tensor")
        return to_numpy(lengths._data).astype(np.int64)
    arr = np.asarray(lengths)
    if arr.ndim != 1:
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got "
                           f"{arr.ndim}D cpu tensor")
    return arr.astype(np.int64)


def pack_padded_sequence(input, lengths, batch_first: bool = False,  # noqa: A002
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch of variable-length sequences.

    Args:
        input: (T, B, *) padded sequences ((B, T, *) with ``batch_first``).
        lengths: the length of each sequence (list or 1-D int tensor).
        batch_first: the layout of ``input``.
        enforce_sorted: require ``lengths`` in decreasing order; when False the batch is
            sorted here and ``sorted_indices`` records the permutation.

    Returns:
        A PackedSequence (differentiable with respect to ``input``).

    Example:
        >>> p = pack_padded_sequence(ag.randn(5, 3, 2), [5, 3, 1])
    """
    lens = _lengths_array(lengths)
    if enforce_sorted:
        if lens.size > 1 and np.any(lens[:-1] < lens[1:]):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability.")
        order = None
    else:
        order = np.argsort(-lens, kind="stable")
        lens = lens[order]
    B = input.shape[0 if batch_first else 1]
    if lens.shape[0] != B:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{lens.shape[0]} (batch_size={B})")
    if lens.size == 0 or lens[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    T = input.shape[1 if batch_first else 0]
    if lens[0] > T:
        raise RuntimeError(f"pack_padded_sequence: a length ({lens[0]}) exceeds the padded "
                           f"sequence length ({T})")
    mask = np.arange(lens[0])[:, None] < lens[None, :]  # (steps, B): row prefixes
    tt, bb = np.nonzero(mask)  # step-major, then batch (sorted) order
    if order is not None:
        bb = order[bb]
    lin = bb * T + tt if batch_first else tt * B + bb  # rows of the (T*B, *) layout
    data = _GatherRows.apply(_rows(input), idx=_index(lin, input))
    batch_sizes = _long(mask.sum(1))
    si = None if order is None else _long(order, input.device)
    return PackedSequence(data, batch_sizes, si, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None):
    """Unpack a PackedSequence into a padded batch (the inverse of ``pack_padded_sequence``).

    Args:
        sequence: the PackedSequence.
        batch_first: return (B, T, *) instead of (T, B, *).
        padding_value: the value of the padding.
        total_length: pad to this many steps (at least the longest sequence).

    Returns:
        (padded, lengths): lengths an int64 CPU tensor, in the original batch order.

    Example:
        >>> out, lengths = pad_packed_sequence(packed, batch_first=True)
    """
    data, bs = sequence.data, to_numpy(sequence.batch_sizes._data).astype(np.int64)
    T = int(bs.shape[0])
    if total_length is not None:
        if total_length < T:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being {T}")
        T = int(total_length)
    B = int(bs[0])
    lens = (bs[None, :] > np.arange(B)[:, None]).sum(1)  # per sorted sequence
    # packed row offset[t] + j is step t of sorted sequence j; its place in the padded
    # (T, B) (or (B, T)) layout, with the original batch order restored
    offs = np.concatenate([[0], np.cumsum(bs)[:-1]])
    tt = np.repeat(np.arange(len(bs)), bs)
    jj = np.arange(int(bs.sum())) - np.repeat(offs, bs)
    ui = sequence.unsorted_indices
    if ui is not None:
        u = to_numpy(ui._data).astype(np.int64)
        col = np.empty_like(u)
        col[u] = np.arange(u.shape[0])  # sorted j sits in column col[j] = sorted_indices[j]
        jj, lens = col[jj], lens[u]
    lin = jj * T + tt if batch_first else tt * B + jj
    out = _ScatterRows.apply(data, idx=_index(lin, data), n=T * B, value=padding_value)
    shape = (B, T) if batch_first else (T, B)
    return S.reshape(out, shape + tuple(data.shape[1:])), _long(lens)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack variable-length sequences (L_i, *) into one padded tensor.

    Args:
        sequences: the tensors (a list, or a tensor iterated along dim 0).
        batch_first: return (B, T, *) instead of (T, B, *).
        padding_value: the value of the padding.
        padding_side: 'right' (pad after each sequence) or 'left'.

    Example:
        >>> pad_sequence([ag.ones(3), ag.ones(1)], batch_first=True).shape
        (2, 3)
    """
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    seqs = list(sequences)
    if not seqs:
        raise RuntimeError("received an empty list of sequences")
    if any(s.ndim == 0 for s in seqs):
        raise RuntimeError("pad_sequence: every sequence needs at least one dimension")
    trailing = tuple(seqs[0].shape[1:])
    for s in seqs[1:]:
        if tuple(s.shape[1:]) != trailing:
            raise RuntimeError(f"pad_sequence: every sequence must have the trailing shape "
                               f"{trailing}, got {tuple(s.shape[1:])}")
    lens = np.array([s.shape[0] for s in seqs], dtype=np.int64)
    T = int(lens.max())
    B = len(seqs)
    flat = S.cat(seqs, 0)
    if flat.dtype != seqs[0].dtype:  # PyTorch's result has the first sequence's dtype
        flat = flat.to(seqs[0].dtype)
    # row r of sequence b goes to step r (right padding) or r + T - len(b) (left padding)
    offs = np.concatenate([[0], np.cumsum(lens)[:-1]])
    bb = np.repeat(np.arange(B), lens)
    tt = np.arange(int(lens.sum())) - np.repeat(offs, lens)
    if padding_side == "left":
        tt = tt + np.repeat(T - lens, lens)
    lin = bb * T + tt if batch_first else tt * B + bb
    out = _ScatterRows.apply(flat, idx=_index(lin, flat), n=T * B, value=padding_value)
    shape = (B, T) if batch_first else (T, B)
    return S.reshape(out, shape + trailing)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list:
    """Split a padded batch back into its sequences (the inverse of ``pad_sequence``).

    Example:
        >>> a, b = unpad_sequence(padded, ag.tensor([3, 1]))
    """
    x = padded_sequences if batch_first else S.transpose(padded_sequences, 0, 1)
    lens = _lengths_array(lengths)
    return [x[i, :int(n)] for i, n in enumerate(lens)]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of variable-length sequences (L_i, *).

    Example:
        >>> p = pack_sequence([ag.ones(3, 2), ag.ones(2, 2)])
    """
    lengths = [int(s.shape[0]) for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of sequences of a PackedSequence (the inverse of ``pack_sequence``).

    Example:
        >>> a, b = unpack_sequence(pack_sequence([ag.ones(3), ag.ones(2)]))
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return [padded[i, :int(n)] for i, n in enumerate(to_numpy(lengths._data))]


