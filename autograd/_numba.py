"""Optional compiled CPU kernels through numba (the ``fast`` extra: ``pip install ".[fast]"``).

NumPy runs one pass over memory per operation and one core per pass. A few hot spots of
training (batch-norm statistics and normalisation, the LSTM/GRU cell, im2col) are chains of
element-wise passes over the same arrays; numba compiles each chain into ONE loop, run on
every core the engine may use (``autograd.set_num_threads``). Every kernel has a NumPy
twin, the reference: without numba, or with it switched off, the op runs the NumPy code,
and the tests run both ways.

- ``kernel(parallel=...)`` decorates a plain Python function; ``fn.get()`` returns its
  compiled form (compiled on first use, cached on disk) or None when numba is missing or
  switched off: the caller then runs its NumPy path.
- ``enabled()``; ``set_enabled(flag)``; ``disabled()``, a context manager (scoped: tests).
- The environment variable ``AUTOGRAD_NUMBA=0`` switches the kernels off for a process.

numba is imported on the first kernel call, never by ``import autograd`` (it takes 0.2 s).
"""

from __future__ import annotations

import contextlib
import os
import threading

from . import parallel

_enabled = os.environ.get("AUTOGRAD_NUMBA", "1").strip().lower() not in ("0", "false", "no")
_numba = None  # the module once imported; False when the import failed


def _module():
    global _numba
    if _numba is None:
        try:
            import numba  # noqa: PLC0415 - optional extra, imported on first use
        except ImportError:
            _numba = False
        else:
            _numba = numba
            if "NUMBA_THREADING_LAYER" not in os.environ:
                # numba's own pool: its threads sleep between kernels. OpenMP's (the
                # default where libgomp is found) spin for a while after each one, taking
                # the cores from the BLAS and NumPy work that follows.
                numba.config.THREADING_LAYER = "workqueue"
            set_threads(parallel._requested or parallel.get_num_threads())
    return _numba or None


def available() -> bool:
    """Whether numba is installed (whatever ``enabled()`` says)."""
    return _module() is not None


def enabled() -> bool:
    """Whether ops use the compiled kernels: numba is installed and they are switched on."""
    return _enabled and _module() is not None


def set_enabled(flag: bool) -> None:
    """Switch the compiled kernels on or off for this process (off: the NumPy code runs)."""
    global _enabled
    _enabled = bool(flag)


@contextlib.contextmanager
def disabled():
    """Run the NumPy code paths inside the block (the kernels' reference)."""
    global _enabled
    old, _enabled = _enabled, False
    try:
        yield
    finally:
        _enabled = old


def set_threads(n: int) -> None:
    """Size numba's thread pool if numba is loaded (``autograd.set_num_threads`` does)."""
    parallel._numba_threads(n)


class Kernel:
    """A Python function compiled by numba on first use (see the module docstring)."""

    __slots__ = ("py", "opts", "_compiled")

    def __init__(self, py, opts: dict):
        self.py, self.opts, self._compiled = py, opts, None

    def get(self):
        """The compiled function, or None: numba missing or switched off."""
        if not _enabled:
            return None
        c = self._compiled
        if c is None:
            nb = _module()
            if nb is None:
                return None
            g = self.py.__globals__
            for name in self.py.__code__.co_names:
                if name == "prange":  # the module's stand-in -> numba's
                    g[name] = nb.prange
                elif isinstance(g.get(name), Kernel):  # a helper kernel: its compiled form
                    g[name] = g[name].get()
            c = nb.njit(cache=True, nogil=True, **self.opts)(self.py)
            if self.opts.get("parallel"):
                c = _serialised(c)
            self._compiled = c
        return c

    def __call__(self, *args):
        """Run the compiled form, or the Python function itself without numba (slow: for
        tests of the kernel's own logic)."""
        c = self.get()
        return (c or self.py)(*args)


_launch = threading.Lock()


def _serialised(fn):
    """``fn`` called under one process-wide lock: numba's workqueue pool runs one parallel
    kernel at a time (a second launch from another thread would abort the process)."""
    def call(*args):
        with _launch:
            return fn(*args)
    call.__wrapped__ = fn
    return call


def kernel(**opts):
    """Decorator: ``@kernel(parallel=True)`` makes a ``Kernel`` (numba's ``njit`` options)."""
    def wrap(py):
        return Kernel(py, opts)
    return wrap


def prange(*args):
    """Kernel modules import this name: ``range`` when a kernel runs as Python, replaced
    by ``numba.prange`` in the module's globals when the first kernel compiles."""
    return range(*args)
