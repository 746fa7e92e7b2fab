"""Map-style datasets."""

from __future__ import annotations

import numpy as np

from ..random import _gen_for
from ..tensor import Tensor


class Dataset:
    """A map-style dataset: ``len(ds)`` items, ``ds[i]`` returns one sample.

    A dataset may also define ``__getitems__(indices)`` returning a whole batch at once;
    ``DataLoader`` then fetches batches without a Python loop over samples.
    """

    def __getitem__(self, index):
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is a stream: ``iter(ds)`` yields samples (PyTorch's). With
    ``DataLoader(num_workers=n)`` each worker iterates its own copy; use ``get_worker_info()``
    in ``__iter__`` to give each worker its share.

    Example:
        >>> class Squares(IterableDataset):
        ...     def __iter__(self):
        ...         info = get_worker_info()
        ...         start, step = (0, 1) if info is None else (info.id, info.num_workers)
        ...         return iter(range(start, 100, step))
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an IterableDataset: iterate it, do not "
                        "index it")

    def __len__(self) -> int:
        raise TypeError(f"{type(self).__name__} (an IterableDataset) has no length")

    def __add__(self, other):
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """The samples of several iterable datasets, one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)

    def __iter__(self):
        for d in self.datasets:
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self.datasets)


class TensorDataset(Dataset):
    """Samples are slices of the given tensors along their first dim.

    Example:
        >>> ds = TensorDataset(ag.randn(100, 3), ag.randint(0, 2, (100,)))
        >>> x, y = ds[0]
    """

    def __init__(self, *tensors: Tensor):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        n = tensors[0].shape[0]
        for t in tensors:
            if t.shape[0] != n:
                raise ValueError(
                    f"TensorDataset: size mismatch between tensors: first dims "
                    f"{[t.shape[0] for t in tensors]}"
                )
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __getitems__(self, indices):
        idx = np.asarray(indices, dtype=np.int64)
        return tuple(t[idx] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The items of ``dataset`` at ``indices`` (a sequence, kept as given, as in PyTorch)."""

    def __init__(self, dataset: Dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, i):
        if isinstance(i, list):
            return self.dataset[[self.indices[j] for j in i]]
        return self.dataset[self.indices[i]]

    def __getitems__(self, indices):
        real = [self.indices[i] for i in indices]
        if hasattr(self.dataset, "__getitems__"):
            return self.dataset.__getitems__(real)
        return [self.dataset[i] for i in real]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Datasets one after another.

    ``cumulative_sizes[k]`` is the number of samples in ``datasets[0..k]`` (PyTorch's
    attribute of that name).
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1] if self.cumulative_sizes else 0

    def __getitem__(self, i):
        if i < 0:
            i += len(self)
        k = int(np.searchsorted(self.cumulative_sizes, i, side="right"))
        prev = self.cumulative_sizes[k - 1] if k else 0
        return self.datasets[k][i - prev]


def random_split(dataset: Dataset, lengths, generator=None):
    """Split into non-overlapping subsets of the given lengths (or fractions)."""
    n = len(dataset)
    lengths = list(lengths)
    if all(isinstance(x, float) for x in lengths) and abs(sum(lengths) - 1) < 1e-6:
        sizes = [int(np.floor(n * f)) for f in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        lengths = sizes
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    perm = _gen_for(np, generator).permutation(n).tolist()
    out, start = [], 0
    for ln in lengths:
        out.append(Subset(dataset, perm[start:start + ln]))
        start += ln
    return out
