"""Threads: ``set_num_threads`` / ``get_num_threads`` (PyTorch's names).

The heavy work of this engine runs inside NumPy's BLAS (matrix products, convolutions as
GEMMs), whose thread pool ``threadpoolctl`` (the ``threads`` extra) resizes at run time. The
default is what the BLAS library chose at start-up: every core the process may use, or
``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` when set, as PyTorch does. The compiled kernels of
``autograd._numba`` (the ``fast`` extra) are serial: their callers spread ranges over the
engine's threads below.

NumPy's own loops (copies, ufuncs) run in the calling thread, but they release the GIL, as BLAS
does. ``parallel_groups`` uses that: an op whose work splits into independent pieces (the
sample chunks of a CPU convolution: im2col, GEMM and col2im each) runs the pieces on the
engine's threads, one contiguous group per thread, with BLAS at one thread inside so that the
threads do not oversubscribe the cores.
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
import warnings
from contextlib import contextmanager

import numpy as np

from autograd import _numba, _spin

_requested = None
_warned = False
_ctl = None  # the cached ThreadpoolController (scanning the loaded libraries takes ~1 ms)


def _controller(refresh: bool = False):
    global _ctl
    if _ctl is None or refresh:
        try:
            from threadpoolctl import ThreadpoolController  # noqa: PLC0415 - optional extra
        except ImportError:
            return None
        _ctl = ThreadpoolController()
    return _ctl


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for intra-op parallelism: the BLAS thread pool and the engine's own
    threads (``parallel_groups``: the CPU convolutions' sample chunks, the compiled kernels'
    ranges, large element-wise ops).

    Args:
        n: a positive number of threads.
    """
    global _requested, _warned
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive integer, got {n!r}")
    _requested = n
    ctl = _controller(refresh=True)  # a BLAS library loaded since the last call is sized too
    if ctl is None:
        if not _warned:
            warnings.warn("set_num_threads: the threadpoolctl package is not installed, so "
                          "the BLAS thread pool keeps its size; pip install threadpoolctl "
                          "(or this project's 'threads' extra)", RuntimeWarning, stacklevel=2)
            _warned = True
        return
    ctl.limit(limits=n, user_api="blas")


def get_num_threads() -> int:
    """The number of threads used for intra-op parallelism (the BLAS pool's size)."""
    ctl = _controller()
    if ctl is not None:
        sizes = [lib.num_threads for lib in ctl.lib_controllers if lib.user_api == "blas"]
        if sizes:
            return max(sizes)
    if _requested is not None:
        return _requested
    env = os.environ.get("OMP_NUM_THREADS") or os.environ.get("OPENBLAS_NUM_THREADS")
    return int(env) if env and env.isdigit() and int(env) > 0 else _cores()


def set_num_interop_threads(n: int) -> None:
    """Accepted for PyTorch programs: this engine runs ops one after another (no inter-op
    thread pool), so there is nothing to size."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_interop_threads: expected a positive integer, got {n!r}")


def get_num_interop_threads() -> int:
    """1: ops run one after another in the calling thread."""
    return 1


# OpenBLAS's idle threads spin for 2**28 cycles (about 0.1 s) after each multi-threaded call;
# autograd/__init__.py asks for 2**20 through OPENBLAS_THREAD_TIMEOUT when it is imported before
# NumPy. When NumPy came first (``import numpy as np`` above ``import autograd``), the library
# has read its environment already: the cnn-bn step on 2 threads then took 138 ms instead of 80,
# the engine's threads sharing a core with a spinning BLAS thread. OpenBLAS (pthreads builds)
# exports the calls to read its environment again and to stop its threads, which it starts
# again at the next multi-threaded call with the timeout just read.
BLAS_SPIN_LOG2 = 20


def shorten_blas_spin() -> bool:
    """Give an already loaded pthreads OpenBLAS the short idle spin (``BLAS_SPIN_LOG2``) the
    import order would have given it, unless its timeout was set by the user. Stopping
    OpenBLAS's threads is safe only while no BLAS call runs, so nothing is done when another
    Python thread is alive (it might be inside one): the import then leaves OpenBLAS as it
    was. True when it was changed."""
    if threading.active_count() > 1:
        return False
    ctl = _controller()
    libs = [] if ctl is None else [c for c in ctl.lib_controllers
                                   if c.internal_api == "openblas" and
                                   getattr(c, "threading_layer", "") == "pthreads"]
    changed = False
    for c in libs:
        try:
            lib = ctypes.CDLL(c.filepath)
            read_env, timeout = lib.openblas_read_env, lib.openblas_thread_timeout
            shutdown = lib.blas_thread_shutdown_
        except (OSError, AttributeError):
            continue
        timeout.restype = ctypes.c_int
        if timeout() != 0:  # the user's OPENBLAS_THREAD_TIMEOUT
            continue
        old = os.environ.get("OPENBLAS_THREAD_TIMEOUT")
        os.environ["OPENBLAS_THREAD_TIMEOUT"] = str(BLAS_SPIN_LOG2)
        try:
            read_env()
        finally:
            if old is None:
                del os.environ["OPENBLAS_THREAD_TIMEOUT"]
            else:  # pragma: no cover - excluded by timeout() above
                os.environ["OPENBLAS_THREAD_TIMEOUT"] = old
        if timeout() == BLAS_SPIN_LOG2:
            shutdown()
            changed = True
    return changed


def blas_info() -> list[dict]:
    """What threadpoolctl reports about the loaded BLAS libraries (kernel, threads), or []."""
    ctl = _controller()
    return [] if ctl is None else ctl.info()


# ---- the engine's own threads: parallel regions of NumPy work ------------------------------

_pool = None
_region = threading.Lock()  # one region at a time; a nested or concurrent caller runs serially
_default = None


def engine_threads() -> int:
    """How many threads a parallel region uses: ``set_num_threads``'s value, else the BLAS
    pool's size at the first call (the machine's cores, or ``OMP_NUM_THREADS``)."""
    global _default
    if _requested is not None:
        return _requested
    if _default is None:
        _default = get_num_threads()
    return _default


@contextmanager
def blas_threads(n: int):
    """BLAS at ``n`` threads inside the block (OpenBLAS's setter is a cheap call); restored
    after. Without threadpoolctl, nothing changes."""
    ctl = _controller()
    libs = [] if ctl is None else [c for c in ctl.lib_controllers if c.user_api == "blas"]
    old = [c.num_threads for c in libs]
    for c in libs:
        c.set_num_threads(n)
    try:
        yield
    finally:
        for c, k in zip(libs, old):
            c.set_num_threads(k)


def even_ranges(n: int, k: int) -> list:
    """``k`` [start, stop) ranges of (nearly) equal length covering ``range(n)`` (none for
    k = 0)."""
    if k <= 0:
        return []
    b = [n * i // k for i in range(k + 1)]
    return list(zip(b[:-1], b[1:]))


# ---- the team: worker threads that wait awake ------------------------------------------
# A worker that sleeps between regions (a condition variable, as ThreadPoolExecutor's) takes
# 0.15-0.25 ms to wake on a VM, whose idle vCPU halts: LeNet's second convolution on 2
# threads took 0.37 ms back to back but 0.56-0.62 ms (one thread's time) with 1-3 ms of other
# work between calls, which is how a training step calls it. OpenMP runtimes (PyTorch's) spin
# before they sleep for the same reason. So do these workers: after each task, and before a
# main thread waits for them, a compiled loop (``autograd._numba``, the GIL released) polls a
# flag for up to ``_SPIN_S`` seconds, yielding the core (``sched_yield``) at each turn so that
# BLAS's own threads still run; only then do they block. Without numba (or off Linux) they
# block at once, as before.

_SPIN_S = 2e-3


def _spin_kernel():
    """(compiled ``_spin.spin_until``, libc's ``sched_yield``) or None."""
    if not _numba.enabled() or not hasattr(os, "sched_yield"):
        return None
    try:
        sched_yield = ctypes.CDLL(None).sched_yield
    except (OSError, AttributeError):
        return None
    sched_yield.restype, sched_yield.argtypes = ctypes.c_int, []
    kern = _spin.spin_until.get()
    return None if kern is None else (kern, sched_yield)


class _Team:
    """``k`` worker threads, each with a slot: (task, result) and two int64 flags on their
    own cache line (the generation posted, the generation done)."""

    def __init__(self, k: int):
        self.k = k
        self.posted = np.zeros((k, 8), np.int64)
        self.done = np.zeros((k, 8), np.int64)
        self.tasks = [None] * k
        self.results = [None] * k
        self.cv = threading.Condition()
        self.spin = _spin_kernel()
        self.turns = 1
        if self.spin is not None:  # calibrate: how many polls take _SPIN_S
            kern, yld = self.spin
            probe = np.ones(1, np.int64)
            kern(probe, 2, yld, 10)  # compile/load outside the timing
            t0 = time.perf_counter()
            kern(probe, 2, yld, 2000)
            per = max((time.perf_counter() - t0) / 2000, 1e-8)
            self.turns = max(1, int(_SPIN_S / per))
        self.threads = [threading.Thread(target=self._work, args=(i,), daemon=True,
                                         name=f"autograd-{i + 1}") for i in range(k)]
        for t in self.threads:
            t.start()

    def _await(self, flags, target: int) -> None:
        if self.spin is not None and self.spin[0](flags, target, self.spin[1], self.turns):
            return
        with self.cv:
            while flags[0] < target:
                self.cv.wait()

    def _work(self, i: int) -> None:
        gen = 0
        while True:
            gen += 1
            self._await(self.posted[i], gen)
            task, self.tasks[i] = self.tasks[i], None
            if task is None:  # close()
                return
            fn, arg = task
            try:
                self.results[i] = (True, fn(arg))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                self.results[i] = (False, exc)
            self.done[i, 0] = gen
            with self.cv:
                self.cv.notify_all()

    def close(self) -> None:
        """End the workers (a team is replaced by a larger one)."""
        for i in range(self.k):
            self.tasks[i] = None
            self.posted[i, 0] += 1
        with self.cv:
            self.cv.notify_all()

    def run(self, fn, groups: list) -> list:
        """``[fn(g) for g in groups]``, the first group in this thread and one per worker."""
        n = len(groups) - 1
        for i in range(n):
            self.tasks[i] = (fn, groups[i + 1])
            self.posted[i, 0] += 1
        with self.cv:
            self.cv.notify_all()
        try:
            first = fn(groups[0])
        finally:  # never leave workers writing into buffers the caller reuses
            for i in range(n):
                self._await(self.done[i], self.posted[i, 0])
        out = [first]
        for i in range(n):
            ok, value = self.results[i]
            self.results[i] = None
            if not ok:
                raise value
            out.append(value)
        return out


def parallel_groups(fn, items: list, threads: int | None = None) -> list:
    """``[fn(group) for group in groups]``: ``items`` split into up to ``threads`` (default
    and at most ``engine_threads()``) contiguous groups of (nearly) equal length, run at
    once, the first in the calling thread, with BLAS at one thread meanwhile. One group (a
    plain call) when there is one thread or one item, or when another region is running
    (nested, or from another thread). ``fn``
    must only release the GIL in NumPy/BLAS calls and write disjoint outputs per group;
    results come back in group order, so a reduction over them is deterministic for a given
    thread count."""
    global _pool
    k = min(engine_threads() if threads is None else min(threads, engine_threads()),
            len(items))
    if k <= 1 and threads is not None and engine_threads() > 1 and len(items) > 1:
        with blas_threads(1):  # too small to split: BLAS's own threads would not pay either
            return [fn(items)]
    if k <= 1 or not _region.acquire(blocking=False):
        return [fn(items)]
    try:
        groups = [items[a:b] for a, b in even_ranges(len(items), k)]
        if _pool is None or _pool.k < k - 1:
            if _pool is not None:
                _pool.close()
            _pool = _Team(k - 1)
        with blas_threads(1):
            return _pool.run(fn, groups)
    finally:
        _region.release()


# below this many elements per thread a split costs more than it saves (a region ~80 us)
_ELEMENTWISE_MIN = 1 << 18


# a compiled single-pass kernel runs near memory speed: a split pays from far larger sizes
# (ReLU forward+backward on 2 threads: slower at 1.6M elements, 8% faster at 12.8M)
KERNEL_MIN = 1 << 21


def flat_ranges(size: int, min_per_thread: int = _ELEMENTWISE_MIN) -> list | None:
    """[start, stop) ranges splitting ``size`` elements of an element-wise op over the
    engine's threads (for ``parallel_groups``), at least ``min_per_thread`` elements each,
    or None when one thread does it best."""
    t = engine_threads()
    if t <= 1 or size < 2 * min_per_thread:
        return None
    return even_ranges(size, min(t, size // min_per_thread))


def parallel_slices(fn, ranges: list) -> list:
    """``[fn(start, stop) for start, stop in ranges]``, the ranges spread over the engine's
    threads by ``parallel_groups``."""
    groups = parallel_groups(lambda rs: [fn(a, b) for a, b in rs], ranges)
    return [r for g in groups for r in g]


def matmul_rows(a, b, out) -> None:
    """``out = a @ b`` for 2-D NumPy arrays, blocks of rows on the engine's threads (BLAS at
    one thread each; one plain call on one thread or for fewer than 64 rows per thread).

    Why not BLAS's own threads: on a machine with as many cores as threads, the thread
    OpenBLAS wakes for a GEMM then spins on its core for ~0.3 ms (``shorten_blas_spin``).
    An op that runs a parallel region right after the GEMM (an LSTM's recurrence after its
    input projection) finds its worker sharing that core with the spinner: the region took
    ~10% longer. A GEMM on the engine's own threads leaves no spinner behind."""
    k = min(engine_threads(), a.shape[0] // 64)
    if k <= 1:
        np.matmul(a, b, out=out)
        return
    parallel_slices(lambda r0, r1: np.matmul(a[r0:r1], b, out=out[r0:r1]),
                    even_ranges(a.shape[0], k))


def _after_fork() -> None:  # a forked child (a DataLoader worker) has none of the threads
    global _pool, _region
    _pool, _region = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
