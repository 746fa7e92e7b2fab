"""Optional compiled CPU kernels through numba (the ``fast`` extra: ``pip install ".[fast]"``).

NumPy runs one pass over memory per operation and one core per pass. A few hot spots of
training (batch norm, max pooling, ReLU, the LSTM/GRU cell, the optimizer updates, the
Winograd transforms) are chains of element-wise passes over the same arrays; numba compiles
each chain into ONE loop. Kernels are serial and release the GIL: callers hand ranges of
their work to the engine's threads (``autograd/parallel.py``). numba's own thread pool
(``parallel=True``) is not used: its workers slowed the BLAS and NumPy work that followed
each kernel (the cnn-bn step on 2 threads: 125 ms with parallel batch-norm kernels, 81 ms
with channel ranges on the engine's threads). Every kernel has a NumPy twin, the reference:
without numba, or with it switched off, the op runs the NumPy code, and the tests run both
ways.

- ``kernel(**njit_options)`` decorates a plain Python function; ``fn.get()`` returns its
  compiled form (compiled on first use, cached on disk) or None when numba is missing or
  switched off: the caller then runs its NumPy path.
- ``enabled()``; ``set_enabled(flag)``; ``disabled()``, a context manager (scoped: tests).
- The environment variable ``AUTOGRAD_NUMBA=0`` switches the kernels off for a process.

numba is imported on the first kernel call, never by ``import autograd`` (it takes 0.2 s).
"""

from __future__ import annotations

import contextlib
import os
import types

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
            py, g = self.py, self.py.__globals__
            helpers = {name: g[name].get() for name in py.__code__.co_names
                       if isinstance(g.get(name), Kernel)}
            if helpers:  # helper kernels: their compiled forms, in a copy of the globals
                # (the module keeps its Kernel objects: ``.get()`` and ``.py`` still work)
                py = types.FunctionType(py.__code__, {**g, **helpers}, py.__name__,
                                        py.__defaults__, py.__closure__)
                py.__qualname__, py.__module__ = self.py.__qualname__, self.py.__module__
            c = nb.njit(cache=True, nogil=True, **self.opts)(py)
            self._compiled = c
        return c

    def __call__(self, *args):
        """Run the compiled form, or the Python function itself without numba (slow: for
        tests of the kernel's own logic)."""
        c = self.get()
        return (c or self.py)(*args)


def kernel(**opts):
    """Decorator: ``@kernel(fastmath=..., error_model=...)`` makes a ``Kernel`` (numba's
    ``njit`` options; ``parallel`` is refused, see the module docstring)."""
    if opts.get("parallel"):
        raise ValueError("autograd._numba.kernel: parallel=True is not used here; write a "
                         "serial kernel over a range and spread the ranges with "
                         "autograd.parallel.parallel_slices")

    def wrap(py):
        return Kernel(py, opts)
    return wrap
