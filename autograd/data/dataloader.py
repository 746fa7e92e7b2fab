"""``DataLoader``: batches from samplers, collation, worker processes, device moves.

With ``num_workers=0`` everything runs in the calling process. With ``num_workers > 0`` each
worker is a process (``fork`` where the platform has it, as PyTorch on Linux) that receives
lists of indices on its own queue, fetches and collates them, and sends the batch back on a
shared result queue; the main process keeps ``prefetch_factor`` batches per worker in flight
and yields them in sampler order. Each worker seeds the package generator and Python's
``random`` with ``base_seed + worker_id`` and NumPy's legacy global generator with the
``SeedSequence`` state of (worker_id, base_seed), as PyTorch does (``base_seed`` is drawn
from the loader's generator, so ``ag.manual_seed`` makes runs reproducible), then calls
``worker_init_fn(worker_id)``; ``get_worker_info()`` tells dataset code which worker it runs
in. An exception in a worker is re-raised in the main process with the worker's traceback.
Workers are shut down and joined when the iterator is exhausted, raises, or is dropped
(``break``), unless ``persistent_workers`` keeps them for the next epoch.
"""

from __future__ import annotations

import multiprocessing
import numbers
import os
import queue
import random
import time
import traceback
from collections.abc import Mapping, Sequence

import numpy as np

from .. import backend
from ..backend import parse_device
from ..random import _gen_for, manual_seed
from ..tensor import Tensor, _make
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler


def _stack_arrays(arrays):
    """``arrays`` stacked along a new first dim, as a tensor; RuntimeError (PyTorch's) when
    their shapes differ."""
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise RuntimeError(f"stack expects each tensor to be equal size, but got shapes "
                           f"{[list(a.shape) for a in arrays]}")
    return _make(backend.get_array_module(arrays[0]).stack(arrays))


def _is_numpy(obj) -> bool:
    """A NumPy array or scalar (not a NumPy string): what PyTorch turns into a tensor."""
    return type(obj).__module__ == "numpy" and not isinstance(obj, (np.str_, np.bytes_))


def default_collate(batch):
    """Stack a list of samples into a batch, recursing into tuples, lists and dicts, with
    PyTorch's rules:

    * tensors and NumPy arrays are stacked along a new first dim (RuntimeError when their
      shapes differ); NumPy scalars become a tensor of their dtype;
    * Python floats become a float64 tensor, ints an int64 tensor, bools a bool tensor;
    * strings and bytes stay as they are (the list, or the tuple of a transposed sequence);
    * a dict gives a dict of batches, a namedtuple a namedtuple of batches; any other
      sequence (tuples included, as PyTorch does) gives a list of batches, one per
      position (RuntimeError when the samples' lengths differ).
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack_arrays([b._data for b in batch])
    if backend.is_cupy_array(elem):
        return _stack_arrays(list(batch))
    if _is_numpy(elem):
        if isinstance(elem, np.ndarray) and elem.dtype.kind in "OSUa":
            raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, "
                            f"numbers, dicts or lists; found {elem.dtype}")
        if isinstance(elem, np.ndarray):
            return _stack_arrays([np.asarray(b) for b in batch])
        return _make(np.asarray(batch))  # NumPy scalars: their own dtype
    if isinstance(elem, float):
        return _make(np.asarray(batch, dtype=np.float64))
    if isinstance(elem, int):
        all_bool = all(isinstance(b, bool) for b in batch)
        return _make(np.asarray(batch, dtype=np.bool_ if all_bool else np.int64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, Mapping):
        return {k: default_collate([b[k] for b in batch]) for k in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, Sequence):
        if any(len(b) != len(elem) for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(s) for s in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(elem)}")


def default_convert(data):
    """One sample as a batch when there is no batching (``batch_size=None``), with PyTorch's
    rules: NumPy arrays and scalars become tensors, recursing into dicts and sequences
    (a tuple gives a list, as PyTorch does); anything else is returned as it is."""
    if isinstance(data, Tensor):
        return data
    if _is_numpy(data):
        if isinstance(data, np.ndarray) and data.dtype.kind in "OSUa":
            return data
        return _make(np.asarray(data))
    if isinstance(data, Mapping):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        return [default_convert(d) for d in data]
    return data


def _to_device(obj, device):
    if isinstance(obj, Tensor):  # asynchronous from pinned memory (pin_memory=True)
        return obj.to(device, non_blocking=True)
    if isinstance(obj, Mapping):
        return {k: _to_device(v, device) for k, v in obj.items()}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(_to_device(v, device) for v in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_device(v, device) for v in obj)
    return obj


def _pin(obj):
    """Copy the host arrays of a batch into page-locked memory (CuPy's), so that copies to
    the GPU can run asynchronously. Without CuPy there is no GPU to copy to: a no-op."""
    if not backend.cupy_available():
        return obj
    if isinstance(obj, Tensor) and obj._data.__class__ is np.ndarray:
        buf = backend.cupyx().empty_pinned(obj._data.shape, obj._data.dtype)
        buf[...] = obj._data
        return _make(buf)
    if isinstance(obj, Mapping):
        return {k: _pin(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)) and not hasattr(obj, "_fields"):
        return type(obj)(_pin(v) for v in obj)
    return obj


# ---------------------------------------------------------------------------------------
# worker processes
# ---------------------------------------------------------------------------------------

class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker: ``id``, ``num_workers``, ``seed``,
    ``dataset`` (this worker's copy)."""

    def __init__(self, id, num_workers, seed, dataset):  # noqa: A002 - PyTorch's name
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset

    def __repr__(self) -> str:
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed})"


_worker_info = None


def get_worker_info():
    """Inside a DataLoader worker process: its ``WorkerInfo``; in the main process: None."""
    return _worker_info


class _ExceptionWrapper:
    """An exception raised in a worker, carried to the main process with its traceback."""

    def __init__(self, exc: BaseException, where: str):
        self.exc_type = type(exc)
        self.msg = f"Caught {type(exc).__name__} {where}.\nOriginal {traceback.format_exc()}"

    def reraise(self):
        msg = self.msg
        if self.exc_type is KeyError:  # KeyError would quote the whole message
            msg = KeyError(msg)
        try:
            err = self.exc_type(msg)
        except Exception:  # an exception class that needs other arguments
            raise RuntimeError(msg) from None
        raise err


class _IterableEnd:
    """A worker's copy of an IterableDataset is exhausted."""

    def __init__(self, worker_id: int):
        self.worker_id = worker_id


def _fetch(dataset, index, auto_collation, collate_fn, it, batch_size, drop_last):
    """One batch (or one sample without auto-collation) for ``index`` (None: iterable)."""
    if it is not None:  # iterable dataset
        if not auto_collation:
            return collate_fn(next(it))
        items = []
        for _ in range(batch_size):
            try:
                items.append(next(it))
            except StopIteration:
                break
        if not items or (drop_last and len(items) < batch_size):
            raise StopIteration
        return collate_fn(items)
    if not auto_collation:
        return collate_fn(dataset[index])
    if collate_fn is default_collate and hasattr(dataset, "__getitems__"):
        batch = dataset.__getitems__(list(map(int, index)))
        # a list of samples, or (TensorDataset) a tuple of ready batches: a list, as
        # ``default_collate`` makes of tuple samples
        return default_collate(batch) if isinstance(batch, list) else list(batch)
    return collate_fn([dataset[int(i)] for i in index])


def _worker_loop(dataset, index_queue, result_queue, auto_collation, collate_fn, batch_size,
                 drop_last, seed, init_fn, worker_id, num_workers, parent):
    global _worker_info
    manual_seed(seed)
    base = seed - worker_id  # NumPy's legacy generator: PyTorch's state for the worker, the
    np.random.seed(np.random.SeedSequence(  # SeedSequence hash of its id and the base seed
        [worker_id, base & 0xFFFFFFFF, base >> 32]).generate_state(4))
    random.seed(seed)
    _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
    init_error = None
    try:
        if init_fn is not None:
            init_fn(worker_id)
    except Exception as e:  # noqa: BLE001 - carried to the main process
        init_error = _ExceptionWrapper(e, f"in DataLoader worker process {worker_id}")
    iterable = isinstance(dataset, IterableDataset)
    it = iter(dataset) if iterable and init_error is None else None
    while True:
        try:
            task = index_queue.get(timeout=1.0)
        except queue.Empty:
            if os.getppid() != parent:  # the main process died: do not linger
                return
            continue
        if task is None:
            return
        if task == "reset":  # persistent workers, new epoch
            it = iter(dataset) if iterable and init_error is None else None
            continue
        key, index = task
        if init_error is not None:
            result_queue.put((key, init_error))
            continue
        try:
            data = _fetch(dataset, index, auto_collation, collate_fn, it, batch_size,
                          drop_last)
        except StopIteration:
            data = _IterableEnd(worker_id)
        except Exception as e:  # noqa: BLE001 - carried to the main process
            data = _ExceptionWrapper(e, f"in DataLoader worker process {worker_id}")
        result_queue.put((key, data))


class _MultiProcessIter:
    """The iterator of a DataLoader with worker processes (see the module doc)."""

    def __init__(self, loader):
        self.loader = loader
        n = loader.num_workers
        ctx = loader.multiprocessing_context
        if ctx is None:
            methods = multiprocessing.get_all_start_methods()
            ctx = "fork" if "fork" in methods else methods[0]
        if isinstance(ctx, str):
            ctx = multiprocessing.get_context(ctx)
        base = _gen_for(np, loader.generator).random_int64()
        self.result_queue = ctx.Queue()
        self.index_queues = []
        self.workers = []
        for w in range(n):
            q = ctx.Queue()
            p = ctx.Process(target=_worker_loop, daemon=True, args=(
                loader.dataset, q, self.result_queue, loader._auto_collation,
                loader._collate, loader.batch_size, loader.drop_last, base + w,
                loader.worker_init_fn, w, n, os.getpid()))
            p.start()
            self.index_queues.append(q)
            self.workers.append(p)
        self.closed = False
        self.epoch = -1
        self._reset()

    def _reset(self):
        self.epoch += 1
        if self.epoch:
            for q in self.index_queues:
                q.put("reset")
        self.sampler_iter = iter(self.loader._index_sampler) \
            if self.loader._index_sampler is not None else None
        self.active = [True] * len(self.workers)
        self.next_worker = 0
        self.send_idx = self.rcvd_idx = 0
        self.pending = {}  # task -> worker, or (worker, data) once it arrived early
        for _ in range(self.loader.prefetch_factor * len(self.workers)):
            self._put()

    def _put(self) -> None:
        if self.sampler_iter is not None:
            index = next(self.sampler_iter, None)
            if index is None:
                return
        else:
            index = None
        for _ in range(len(self.workers)):  # the next worker still producing
            w = self.next_worker
            self.next_worker = (w + 1) % len(self.workers)
            if self.active[w]:
                break
        else:
            return
        self.index_queues[w].put(((self.epoch, self.send_idx), index))
        self.pending[self.send_idx] = w
        self.send_idx += 1

    def __iter__(self):
        return self

    def __next__(self):
        while True:
            while self.rcvd_idx < self.send_idx:
                info = self.pending.get(self.rcvd_idx)
                if isinstance(info, tuple) or (info is not None and self.active[info]):
                    break
                self.pending.pop(self.rcvd_idx, None)  # a finished iterable worker's task
                self.rcvd_idx += 1
            else:
                if not self.loader.persistent_workers:
                    self._shutdown()
                raise StopIteration
            info = self.pending[self.rcvd_idx]
            if isinstance(info, tuple):
                del self.pending[self.rcvd_idx]
                self.rcvd_idx += 1
                self._put()
                return self._deliver(info[1])
            task, data = self._get()
            if isinstance(data, _IterableEnd):
                self.active[data.worker_id] = False
                self.pending.pop(task, None)
                continue
            if task != self.rcvd_idx:
                self.pending[task] = (self.pending[task], data)
                continue
            del self.pending[task]
            self.rcvd_idx += 1
            self._put()
            return self._deliver(data)

    def _get(self):
        """The next result of this epoch, watching the workers and the loader's timeout."""
        timeout = self.loader.timeout
        deadline = time.monotonic() + timeout if timeout > 0 else None
        while True:
            try:
                (epoch, task), data = self.result_queue.get(timeout=1.0)
            except queue.Empty:
                dead = [p.pid for p in self.workers if not p.is_alive()]
                if dead:
                    self._shutdown()
                    raise RuntimeError(
                        f"DataLoader worker (pid(s) {', '.join(map(str, dead))}) exited "
                        "unexpectedly (killed, or crashed in native code)"
                    ) from None
                if deadline is not None and time.monotonic() > deadline:
                    self._shutdown()
                    raise RuntimeError(
                        f"DataLoader timed out after {timeout} seconds") from None
                continue
            if epoch == self.epoch:
                return task, data

    def _deliver(self, data):
        if isinstance(data, _ExceptionWrapper):
            if not self.loader.persistent_workers:
                self._shutdown()
            data.reraise()
        return self.loader._finish(data)

    def _shutdown(self) -> None:
        if self.closed:
            return
        self.closed = True
        for q in self.index_queues:
            try:
                q.put(None)
            except (OSError, ValueError):
                pass
        for p in self.workers:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
                p.join()
        for q in (*self.index_queues, self.result_queue):
            q.cancel_join_thread()
            q.close()

    def __del__(self):
        self._shutdown()


# ---------------------------------------------------------------------------------------
# the loader
# ---------------------------------------------------------------------------------------

class DataLoader:
    """Iterate over a dataset in batches (PyTorch's ``torch.utils.data.DataLoader``).

    Args:
        dataset: a map-style dataset (``len`` and ``[i]``; ``__getitems__`` for speed) or an
            ``IterableDataset``.
        batch_size: samples per batch (None: yield single samples, no collation).
        shuffle: a new random order each epoch (a ``RandomSampler``), drawn from
            ``generator`` (by default the package generator: ``ag.manual_seed`` makes the
            order reproducible).
        sampler: an iterable of indices (instead of ``shuffle``), e.g. a ``WeightedRandomSampler``.
        batch_sampler: an iterable of lists of indices (instead of batch_size, shuffle,
            sampler, drop_last).
        num_workers: worker processes loading batches in parallel (0: in this process).
        collate_fn: turns a list of samples into a batch (default: ``default_collate``).
        pin_memory: with CuPy, batches are copied into page-locked host memory (faster,
            asynchronous copies to the GPU); on the CPU alone it has no effect.
        drop_last: drop the last incomplete batch.
        timeout: seconds to wait for a batch from the workers (0: forever).
        worker_init_fn: called as ``fn(worker_id)`` in each worker after seeding.
        multiprocessing_context: "fork", "spawn", "forkserver" or a context.
        generator: an ``ag.Generator`` for shuffling and the workers' base seed.
        prefetch_factor: batches in flight per worker (default 2 with workers).
        persistent_workers: keep the worker processes from one epoch to the next.
        device: move every batch to this device ("cpu", "cuda") (this project's extension).

    Example:
        >>> loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True,
        ...                     num_workers=2)
        >>> for xb, yb in loader: ...
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0, collate_fn=None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True, device=None):
        if not isinstance(num_workers, numbers.Integral) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 "
                             "to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing. let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        iterable = isinstance(dataset, IterableDataset)
        if iterable and (shuffle not in (None, False) or sampler is not None
                         or batch_sampler is not None):
            raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle, "
                             "sampler and batch_sampler options")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if batch_size is not None and (not isinstance(batch_size, numbers.Integral)
                                       or batch_size <= 0):
            raise ValueError(f"DataLoader: batch_size should be a positive integer value, "
                             f"but got batch_size={batch_size!r}")
        if not iterable and sampler is None:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if not iterable and batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = int(num_workers)
        self.collate_fn = collate_fn
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.prefetch_factor = 2 if prefetch_factor is None and num_workers else prefetch_factor
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self.device = parse_device(device) if device is not None else None
        self._workers = None  # the persistent workers' iterator

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None or (
            isinstance(self.dataset, IterableDataset) and self.batch_size is not None)

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation and self.batch_sampler is not None \
            else self.sampler

    @property
    def _collate(self):
        if self.collate_fn is not None:
            return self.collate_fn
        return default_collate if self._auto_collation else default_convert

    def _finish(self, batch):
        if self.pin_memory:
            batch = _pin(batch)
        if self.device is not None:
            batch = _to_device(batch, self.device)
        return batch

    def __iter__(self):
        if self.num_workers > 0:
            if self.persistent_workers:
                if self._workers is None or self._workers.closed:
                    self._workers = _MultiProcessIter(self)
                else:
                    self._workers._reset()
                return self._workers
            return _MultiProcessIter(self)
        # as PyTorch, every iterator first draws its workers' base seed from the generator,
        # with or without workers: the batches then come in the same order either way
        _gen_for(np, self.generator).random_int64()
        return self._single_process()

    def _single_process(self):
        ds, collate, auto = self.dataset, self._collate, self._auto_collation
        if isinstance(ds, IterableDataset):
            it = iter(ds)
            while True:
                try:
                    data = _fetch(ds, None, auto, collate, it, self.batch_size,
                                  self.drop_last)
                except StopIteration:
                    return
                yield self._finish(data)
        for index in self._index_sampler:
            yield self._finish(_fetch(ds, index, auto, collate, None, None, None))

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)  # TypeError when the dataset has no length, as PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self._index_sampler)
