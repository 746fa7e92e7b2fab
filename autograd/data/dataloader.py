"""``DataLoader``: batches, shuffling from a seeded generator, collation, device moves."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from .. import backend
from ..backend import parse_device
from ..random import _gen_for
from ..tensor import Tensor, _make


def default_collate(batch):
    """Stack a list of samples into a batch, recursing into tuples, lists and dicts.

    Tensors and arrays are stacked along a new first dim; Python numbers become a tensor
    (int64 for ints, float32 for floats); strings stay a list.
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        xp = backend.get_array_module(elem._data)
        return _make(xp.stack([b._data for b in batch]))
    if isinstance(elem, np.ndarray) or backend.is_cupy_array(elem):
        return _make(backend.get_array_module(elem).stack(batch))
    if isinstance(elem, (bool, np.bool_)):
        return _make(np.asarray(batch, dtype=np.bool_))
    if isinstance(elem, numbers.Integral):
        return _make(np.asarray(batch, dtype=np.int64))
    if isinstance(elem, numbers.Real):
        return _make(np.asarray(batch, dtype=np.float32))
    if isinstance(elem, str):
        return list(batch)
    if isinstance(elem, Mapping):
        return {k: default_collate([b[k] for b in batch]) for k in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, Sequence):
        return type(elem)(default_collate(list(s)) for s in zip(*batch)) if isinstance(
            elem, tuple) else [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(f"default_collate: don't know how to batch elements of type "
                    f"{type(elem).__name__}")


def _to_device(obj, device):
    if isinstance(obj, Tensor):
        return obj.to(device)
    if isinstance(obj, Mapping):
        return {k: _to_device(v, device) for k, v in obj.items()}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(_to_device(v, device) for v in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_device(v, device) for v in obj)
    return obj


class DataLoader:
    """Iterate over a dataset in batches.

    Args:
        dataset: a map-style dataset (``len`` and ``[i]``; ``__getitems__`` for speed).
        batch_size: samples per batch (None: yield single samples, no collation).
        shuffle: a new random order each epoch, drawn from ``generator`` (by default the
            package generator, so ``ag.manual_seed`` makes the order reproducible).
        drop_last: drop the last incomplete batch.
        collate_fn: turns a list of samples into a batch (default: ``default_collate``).
        generator: an ``ag.Generator`` for the shuffling.
        device: move every batch to this device ("cpu", "cuda").
        sampler: an iterable of indices (instead of shuffle).

    Example:
        >>> loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
        >>> for xb, yb in loader: ...
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool = False,
                 sampler=None, batch_sampler=None, num_workers: int = 0, collate_fn=None,
                 pin_memory: bool = False, drop_last: bool = False, generator=None,
                 device=None, **kwargs):
        if batch_size is not None and batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size must be positive, got {batch_size}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers  # accepted for compatibility; loading is in-process
        self.collate_fn = collate_fn
        self.pin_memory = pin_memory
        self.drop_last = drop_last
        self.generator = generator
        self.device = parse_device(device) if device is not None else None

    def _indices(self):
        n = len(self.dataset)
        if self.sampler is not None:
            return list(self.sampler)
        if self.shuffle:
            return _gen_for(np, self.generator).permutation(n)
        return np.arange(n)

    def _batches(self):
        if self.batch_sampler is not None:
            yield from self.batch_sampler
            return
        idx = self._indices()
        bs = self.batch_size
        n = len(idx)
        stop = n - n % bs if self.drop_last else n
        for i in range(0, stop, bs):
            yield idx[i:i + bs]

    def __iter__(self):
        ds = self.dataset
        if self.batch_size is None and self.batch_sampler is None:
            for i in self._indices():
                item = ds[int(i)]
                yield _to_device(item, self.device) if self.device is not None else item
            return
        fast = hasattr(ds, "__getitems__") and self.collate_fn is None
        for b in self._batches():
            if fast:
                batch = ds.__getitems__(list(map(int, b)))
                if isinstance(batch, list):  # a list of samples: collate it
                    batch = default_collate(batch)
            else:
                samples = [ds[int(i)] for i in b]
                batch = (self.collate_fn or default_collate)(samples)
            if self.device is not None:
                batch = _to_device(batch, self.device)
            yield batch

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
