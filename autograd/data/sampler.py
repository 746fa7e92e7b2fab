"""Samplers: the order in which a ``DataLoader`` reads a map-style dataset (PyTorch's
``torch.utils.data`` samplers). Every sampler is lazy: it yields indices as they are asked
for, so ``RandomSampler(ds, replacement=True, num_samples=10**10)`` costs no memory.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..ops.sampling import multinomial
from ..random import Generator, _gen_for
from ..tensor import Tensor
from ..tensor import tensor as _tensor

_CHUNK = 32  # random indices are drawn this many at a time (as PyTorch's RandomSampler)


def _rng(generator):
    return _gen_for(np, generator)


def _check(owner: str, name: str, value, kind: str, exc=ValueError) -> None:
    """PyTorch's argument checks: ``kind`` "positive" (a positive int) or "bool"."""
    if kind == "bool":
        ok = isinstance(value, bool)
    else:
        ok = (isinstance(value, numbers.Integral) and not isinstance(value, bool)
              and value > 0)
    if not ok:
        what = "a boolean value" if kind == "bool" else "a positive integer value"
        raise exc(f"{owner}: {name} should be {what}, but got {name}={value!r}")


class Sampler:
    """Base class: an iterable of dataset indices, usually with ``__len__``."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """Random indices: a permutation (one per ``len(data_source)`` samples) or, with
    ``replacement``, independent draws.

    Args:
        data_source: the dataset.
        replacement: draw with replacement.
        num_samples: how many indices per epoch (default ``len(data_source)``).
        generator: an ``ag.Generator`` (default: the package generator).
    """

    def __init__(self, data_source, replacement: bool = False, num_samples=None,
                 generator=None):
        _check("RandomSampler", "replacement", replacement, "bool", TypeError)
        if num_samples is not None:
            _check("RandomSampler", "num_samples", num_samples, "positive")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else int(self._num_samples)

    def __iter__(self):
        n = len(self.data_source)
        if self.generator is None:  # PyTorch's: a generator seeded from the global one
            rng = _rng(Generator().manual_seed(_rng(None).random_int64()))
        else:
            rng = _rng(self.generator)
        total = self.num_samples
        if self.replacement:  # in PyTorch's blocks of _CHUNK (the same draws)
            for _ in range(total // _CHUNK):
                yield from rng.integers(0, n, size=_CHUNK).tolist()
            yield from rng.integers(0, n, size=total % _CHUNK).tolist()
            return
        for _ in range(total // n):
            yield from rng.permutation(n).tolist()
        yield from rng.permutation(n)[: total % n].tolist()  # drawn even when empty

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices, in a random order each epoch."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for i in _rng(self.generator).permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """Indices 0..len(weights)-1 drawn with probabilities proportional to ``weights``.

    Args:
        weights: non-negative weights (need not sum to one).
        num_samples: how many indices per epoch.
        replacement: with replacement (drawn lazily); without, ``num_samples`` must not
            exceed the number of non-zero weights.
        generator: an ``ag.Generator``.
    """

    def __init__(self, weights, num_samples: int, replacement: bool = True, generator=None):
        _check("WeightedRandomSampler", "num_samples", num_samples, "positive")
        _check("WeightedRandomSampler", "replacement", replacement, "bool")
        w = np.asarray(weights._data if isinstance(weights, Tensor) else weights,
                       dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"WeightedRandomSampler: weights should be a 1-d sequence, got "
                             f"shape {w.shape}")
        if (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
            raise RuntimeError("WeightedRandomSampler: weights must be finite, non-negative "
                               "and not all zero")
        if not replacement and num_samples > int((w > 0).sum()):
            raise RuntimeError(f"WeightedRandomSampler: cannot draw {num_samples} samples "
                               f"without replacement from {int((w > 0).sum())} non-zero "
                               "weights")
        self.weights = w
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):  # PyTorch's: one multinomial draw of the double weights per epoch
        idx = multinomial(_tensor(self.weights), self.num_samples, self.replacement,
                          generator=self.generator)
        yield from idx.tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size`` (lazily).

    Args:
        sampler: any iterable of indices.
        batch_size: indices per batch.
        drop_last: drop the last batch when it is smaller than ``batch_size``.
    """

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        _check("BatchSampler", "batch_size", batch_size, "positive")
        _check("BatchSampler", "drop_last", drop_last, "bool")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __iter__(self):
        batch = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
