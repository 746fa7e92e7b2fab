"""DistributedSampler: each rank reads its own disjoint shard of a dataset
(``torch.utils.data.distributed.DistributedSampler``)."""

from __future__ import annotations

import math

import numpy as np

from .. import distributed as dist
from ..random import Generator, _gen_for


class DistributedSampler:
    """Indices of the shard of ``dataset`` that belongs to ``rank`` of ``num_replicas``.

    Every rank draws the same permutation (from ``seed + epoch``) and takes every
    ``num_replicas``-th index starting at ``rank``, so the shards are disjoint and together
    cover the dataset. Without ``drop_last`` the permutation is padded with its first
    indices to a multiple of ``num_replicas`` (every rank gets the same number of samples);
    with it, the tail is dropped. Call ``set_epoch(epoch)`` before each epoch for a new order.

    Args:
        dataset: a dataset with ``len``.
        num_replicas: number of ranks (default: the default process group's size).
        rank: this rank (default: its rank in the default process group).
        shuffle: a new random order every epoch (else ``0, 1, 2, ...``).
        seed: the shuffling seed; must be the same on every rank.
        drop_last: drop the tail instead of padding.

    Example:
        >>> sampler = DistributedSampler(train_set)
        >>> loader = DataLoader(train_set, batch_size=64, sampler=sampler)
        >>> for epoch in range(10):
        ...     sampler.set_epoch(epoch)
        ...     for xb, yb in loader: ...
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False):
        if num_replicas is None or rank is None:
            if not dist.is_initialized():
                raise RuntimeError("DistributedSampler: num_replicas and rank were not given "
                                   "and the default process group is not initialized; call "
                                   "autograd.distributed.init_process_group() first")
            if num_replicas is None:
                num_replicas = dist.get_world_size()
            if rank is None:
                rank = dist.get_rank()
        num_replicas, rank = int(num_replicas), int(rank)
        if num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be positive, got "
                             f"{num_replicas}")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: invalid rank {rank}, rank should be in the "
                             f"interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.shuffle = shuffle
        self.seed = int(seed)
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            # PyTorch's: randperm from a generator seeded with seed + epoch
            idx = _gen_for(np, Generator().manual_seed(self.seed + self.epoch)).permutation(n)
        else:
            idx = np.arange(n)
        if not self.drop_last:
            pad = self.total_size - n
            if pad > 0:
                idx = np.concatenate([idx, np.resize(idx, pad)])
        else:
            idx = idx[:self.total_size]
        return iter(idx[self.rank:self.total_size:self.num_replicas].tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use the order of ``epoch`` (set it on every rank before each epoch)."""
        self.epoch = int(epoch)
