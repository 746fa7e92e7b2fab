"""Threads: ``set_num_threads`` / ``get_num_threads`` (PyTorch's names).

The heavy work of this engine runs inside NumPy's BLAS (matrix products, convolutions as
GEMMs), whose thread pool ``threadpoolctl`` (the ``threads`` extra) resizes at run time. The
default is what the BLAS library chose at start-up: every core the process may use, or
``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` when set, as PyTorch does. NumPy's element-wise work
runs in the calling thread (its ufuncs are single-threaded); the compiled kernels of
``autograd._numba`` (the ``fast`` extra) use numba's pool, sized here too.
"""

from __future__ import annotations

import os
import sys
import warnings

_requested = None
_warned = False


def _controller():
    try:
        from threadpoolctl import ThreadpoolController  # noqa: PLC0415 - optional extra
    except ImportError:
        return None
    return ThreadpoolController()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for intra-op parallelism (the BLAS thread pool).

    Args:
        n: a positive number of threads.
    """
    global _requested, _warned
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive integer, got {n!r}")
    _requested = n
    _numba_threads(n)
    ctl = _controller()
    if ctl is None:
        if not _warned:
            warnings.warn("set_num_threads: the threadpoolctl package is not installed, so "
                          "the BLAS thread pool keeps its size; pip install threadpoolctl "
                          "(or this project's 'threads' extra)", RuntimeWarning, stacklevel=2)
            _warned = True
        return
    ctl.limit(limits=n, user_api="blas")


def _numba_threads(n: int) -> None:
    """Size numba's pool (the compiled kernels of ``autograd._numba``) if numba is loaded."""
    nb = sys.modules.get("numba")
    if nb is not None and hasattr(nb, "set_num_threads"):
        nb.set_num_threads(max(1, min(int(n), nb.config.NUMBA_NUM_THREADS)))


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


def blas_info() -> list[dict]:
    """What threadpoolctl reports about the loaded BLAS libraries (kernel, threads), or []."""
    ctl = _controller()
    return [] if ctl is None else ctl.info()
