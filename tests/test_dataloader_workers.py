"""Samplers (lazy, PyTorch's semantics) and DataLoader worker processes: same batches as
in-process loading, distinct seeds, worker_init_fn, errors carried with the worker's
traceback, persistent workers, iterable datasets, timeouts, no processes left behind."""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
import time

import numpy as np
import pytest

import autograd as ag
from autograd.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    get_worker_info,
)


def _no_children():
    gc.collect()
    deadline = time.monotonic() + 10
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    return multiprocessing.active_children() == []


class Squares(Dataset):
    def __init__(self, n=40):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.float32(i * i), i


class Probe(Dataset):
    """Reports the process, worker and random numbers each sample was made with."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return {"pid": os.getpid(), "worker": -1 if info is None else info.id,
                "seed": -1 if info is None else info.seed % 1000003,
                "np": float(np.random.rand()), "ag": float(ag.rand(1).item())}


class Failing(Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == 5:
            raise ValueError(f"sample {i} is broken on purpose")
        return np.float32(i)


class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))


class Slow(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        time.sleep(5)
        return i


# ---- samplers --------------------------------------------------------------------------

def test_samplers_cover_and_are_lazy():
    ag.manual_seed(0)
    ds = list(range(10))
    assert list(SequentialSampler(ds)) == ds
    assert sorted(RandomSampler(ds)) == ds
    twice = list(RandomSampler(ds, num_samples=25))
    assert len(twice) == 25 and sorted(twice[:10]) == ds and sorted(twice[10:20]) == ds
    huge = RandomSampler(ds, replacement=True, num_samples=10**10)
    assert len(huge) == 10**10
    first = list(itertools.islice(iter(huge), 1000))  # no 10**10-element list is built
    assert len(first) == 1000 and set(first) <= set(ds)
    sub = SubsetRandomSampler([3, 5, 7])
    assert sorted(sub) == [3, 5, 7] and len(sub) == 3
    with pytest.raises(ValueError, match="num_samples"):
        RandomSampler(ds, num_samples=0)
    with pytest.raises(TypeError, match="replacement"):
        RandomSampler(ds, replacement=1)


def test_weighted_sampler_frequencies():
    ag.manual_seed(1)
    w = [0.0, 1.0, 3.0]
    draws = np.array(list(WeightedRandomSampler(w, 20000)))
    assert (draws != 0).all()
    frac = np.mean(draws == 2)
    assert abs(frac - 0.75) < 0.02
    once = list(WeightedRandomSampler([1.0, 1.0, 1.0, 0.0], 3, replacement=False))
    assert sorted(once) == [0, 1, 2]
    with pytest.raises(RuntimeError, match="without replacement"):
        WeightedRandomSampler([1.0, 0.0], 2, replacement=False)


def test_batch_sampler_matches_pytorch():
    torch = pytest.importorskip("torch")
    for n, bs, drop in ((10, 3, False), (10, 3, True), (9, 3, True), (1, 4, False)):
        ours = BatchSampler(SequentialSampler(range(n)), bs, drop)
        theirs = torch.utils.data.BatchSampler(torch.utils.data.SequentialSampler(range(n)),
                                               bs, drop)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
        ds = TensorDataset(ag.arange(n))
        tds = torch.utils.data.TensorDataset(torch.arange(n))
        assert len(DataLoader(ds, batch_size=bs, drop_last=drop)) == len(
            torch.utils.data.DataLoader(tds, batch_size=bs, drop_last=drop))


def test_argument_errors_like_pytorch():
    ds = Squares()
    with pytest.raises(ValueError, match="prefetch_factor"):
        DataLoader(ds, prefetch_factor=2)
    with pytest.raises(ValueError, match="persistent_workers"):
        DataLoader(ds, persistent_workers=True)
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(ds, batch_sampler=BatchSampler(SequentialSampler(ds), 2, False),
                   batch_size=4)
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(ds, sampler=SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(ds, num_workers=-1)


# ---- workers ---------------------------------------------------------------------------

def test_workers_give_the_same_batches_as_the_main_process():
    ds = Squares(41)
    ref = [(x.numpy().copy(), y.numpy().copy()) for x, y in DataLoader(ds, batch_size=4)]
    got = [(x.numpy().copy(), y.numpy().copy())
           for x, y in DataLoader(ds, batch_size=4, num_workers=2)]
    assert len(ref) == len(got) == 11
    for (a, b), (c, d) in zip(ref, got):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    t = TensorDataset(ag.arange(30).float(), ag.arange(30))  # the __getitems__ path
    batches = list(DataLoader(t, batch_size=7, num_workers=2, drop_last=True))
    assert [b[1].numpy().tolist() for b in batches] == [list(range(i, i + 7))
                                                        for i in range(0, 28, 7)]
    assert _no_children()


def test_shuffled_epochs_with_workers_are_reproducible():
    ds = Squares(20)

    def epoch():
        ag.manual_seed(7)
        return [y.numpy().tolist() for _, y in DataLoader(ds, batch_size=5, shuffle=True,
                                                          num_workers=2)]

    a, b = epoch(), epoch()
    assert a == b and sorted(sum(a, [])) == list(range(20))


def test_worker_seeds_and_init_fn():
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("needs the fork start method")
    with multiprocessing.get_context("fork").Manager() as manager:
        seen = manager.list()

        def init(worker_id):
            seen.append((worker_id, get_worker_info().num_workers))

        ag.manual_seed(3)
        rows = list(DataLoader(Probe(), batch_size=None, num_workers=2, worker_init_fn=init))
        assert sorted(seen) == [(0, 2), (1, 2)]
    workers = {r["worker"] for r in rows}
    assert workers == {0, 1}
    by_worker = {w: [r for r in rows if r["worker"] == w] for w in workers}
    assert by_worker[0][0]["seed"] != by_worker[1][0]["seed"]
    # different seeds: the workers' random streams differ (NumPy's and the package's)
    assert by_worker[0][0]["np"] != by_worker[1][0]["np"]
    assert by_worker[0][0]["ag"] != by_worker[1][0]["ag"]
    assert {r["pid"] for r in rows}.isdisjoint({os.getpid()})
    assert _no_children()


def test_an_error_in_a_worker_is_reraised_with_its_traceback():
    loader = DataLoader(Failing(), batch_size=2, num_workers=2)
    with pytest.raises(ValueError) as info:
        for _ in loader:
            pass
    msg = str(info.value)
    assert "in DataLoader worker process" in msg
    assert "sample 5 is broken on purpose" in msg and "__getitem__" in msg
    del info
    assert _no_children()


def test_no_processes_left_after_break():
    for _ in range(3):
        for _batch in DataLoader(Squares(100), batch_size=2, num_workers=2):
            break
    assert _no_children()


def test_persistent_workers_survive_epochs():
    ds = Probe()
    loader = DataLoader(ds, batch_size=None, num_workers=2, persistent_workers=True)
    pids1 = {r["pid"] for r in loader}
    pids2 = {r["pid"] for r in loader}
    assert pids1 == pids2 and len(pids1) == 2
    it = loader._workers
    assert not it.closed
    del loader, it
    assert _no_children()


def test_iterable_dataset_with_workers():
    got = sorted(int(v) for b in DataLoader(Stream(23), batch_size=4, num_workers=3)
                 for v in b.numpy())
    assert got == list(range(23))
    single = [b.numpy().tolist() for b in DataLoader(Stream(10), batch_size=4)]
    assert single == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert _no_children()


def test_timeout_and_huge_random_sampler():
    with pytest.raises(RuntimeError, match="timed out"):
        next(iter(DataLoader(Slow(), batch_size=1, num_workers=1, timeout=1)))
    assert _no_children()
    ds = Squares(10)
    loader = DataLoader(ds, batch_size=4, num_workers=2,
                        sampler=RandomSampler(ds, replacement=True, num_samples=10**10))
    t0 = time.monotonic()
    x, y = next(iter(loader))
    assert time.monotonic() - t0 < 30 and x.shape == (4,)
    del loader
    assert _no_children()


def test_pin_memory_is_a_no_op_on_the_cpu():
    if ag.cuda.is_available():
        pytest.skip("a GPU is present")
    ds = TensorDataset(ag.arange(6).float())
    (b,) = next(iter(DataLoader(ds, batch_size=3, pin_memory=True)))
    np.testing.assert_array_equal(b.numpy(), [0.0, 1.0, 2.0])


def test_shuffled_order_does_not_depend_on_num_workers():
    """As in PyTorch: each iterator draws the workers' base seed first, with or without
    workers, so one seed gives the same batches for any num_workers."""
    from autograd.data import DataLoader

    orders = []
    for w in (0, 2):
        for n in (10, 64, 200):
            ag.manual_seed(0)
            orders.append((w, n, [b.tolist() for b in DataLoader(list(range(n)), batch_size=64,
                                                                  shuffle=True,
                                                                  num_workers=w)]))
    by_n = {}
    for _w, n, o in orders:
        by_n.setdefault(n, []).append(o)
    for n, (a, b) in by_n.items():
        assert a == b, n
