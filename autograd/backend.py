"""The one place that knows about NumPy versus CuPy.

Every op asks ``get_array_module(*xs)`` for the array module of its inputs and never imports
cupy itself. CuPy is imported once, lazily, the first time a CUDA device is asked for (or a
CuPy array is met), so importing the package never pays for it and works without it.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import sys
import threading
from collections import OrderedDict

import numpy as np

_cupy = None  # the cupy module once imported; False when the import failed
_cupy_error: str | None = None
_cupyx = None  # its cupyx (imported with it, or given with it by use_cupy_module)


# ---- NumPy's floating-point error state, quiet inside ops ---------------------------------
# PyTorch never warns for log(0), 0/0, sqrt(-1) or an overflow to inf; NumPy does (a
# RuntimeWarning, an error under ``-W error``). Ops run their NumPy code with every floating
# error ignored: ``tok = fp_quiet(); ...; fp_restore(tok)``. ``np.errstate`` costs ~1.8 us a
# use (a tenth of an op), so NumPy's context variable is set directly where it exists
# (NumPy 2: ``numpy._core._ufunc_config``), with ``np.seterr`` as the fallback. The user's
# own NumPy code outside the ops keeps its settings.
try:
    from numpy._core._ufunc_config import _extobj_contextvar, _make_extobj

    # fp_quiet(): ignore floating-point errors until fp_restore(token); returns the token.
    # A partial, not a def: one C call per op, no Python frame (~45 ns less an op)
    fp_quiet = functools.partial(_extobj_contextvar.set, _make_extobj(all="ignore"))
    fp_restore = _extobj_contextvar.reset
except (ImportError, AttributeError, TypeError):  # pragma: no cover - NumPy 1.x
    def fp_quiet():
        """Ignore floating-point errors until ``fp_restore(token)``; returns the token."""
        return np.seterr(all="ignore")

    def fp_restore(token) -> None:
        np.seterr(**token)


def use_cupy_module(cupy_module, cupyx_module=None) -> None:
    """Serve ``device="cuda"`` with ``cupy_module`` (and ``cupyx_module``) instead of the
    installed CuPy: the tests' injection point for their CuPy stand-in (``pytest
    --cuda-sim``). ``None`` forgets it (the next use imports the real CuPy again)."""
    global _cupy, _cupy_error, _cupyx
    _cupy, _cupyx, _cupy_error = cupy_module, cupyx_module, None


def cupyx():
    """CuPy's companion package ``cupyx`` (scatter_add, pinned memory, scipy.special)."""
    global _cupyx
    if _cupyx is None:
        require_cupy()
        import cupyx as mod  # noqa: PLC0415  (optional, present with CuPy)
        import cupyx.scipy.special  # noqa: PLC0415, F401

        _cupyx = mod
    return _cupyx


def _import_cupy():
    """Import CuPy once; returns the module or ``None``."""
    global _cupy, _cupy_error
    if _cupy is None:
        try:
            import cupy  # noqa: PLC0415  (the only import of cupy in the project)

            cupy.cuda.runtime.getDeviceCount()
            _cupy = cupy
        except Exception as exc:  # ImportError, or CUDA present but no usable GPU
            _cupy = False
            _cupy_error = f"{type(exc).__name__}: {exc}"
    return _cupy or None


def cupy_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    return _import_cupy() is not None


def require_cupy():
    cp = _import_cupy()
    if cp is None:
        raise RuntimeError(
            "device 'cuda' was requested, but CuPy with a working GPU is not available "
            f"({_cupy_error}). Install the GPU extra with `pip install \".[cuda]\"` on a "
            "machine with an NVIDIA GPU, or use device='cpu'."
        )
    return cp


def is_cupy_array(a) -> bool:
    return _cupy not in (None, False) and isinstance(a, _cupy.ndarray)


def get_array_module(*xs):
    """Return ``numpy`` or ``cupy`` for the given arrays/Tensors (NumPy for scalars)."""
    if _cupy:
        for x in xs:
            d = getattr(x, "_data", x)
            if isinstance(d, _cupy.ndarray):
                return _cupy
    return np


class Device:
    """A device: ``Device('cpu')`` or ``Device('cuda', 0)``; compares equal to its string."""

    __slots__ = ("type", "index")

    def __init__(self, type: str, index: int | None = None):
        if isinstance(type, Device):  # torch.device(a_device): the same device
            if index is not None:
                raise TypeError("device(a_device, index): pass the index in a string or "
                                "with the type name, e.g. device('cuda', 1)")
            type, index = type.type, type.index
        if ":" in type and index is None:  # "cuda:1", as torch.device accepts
            type, _, idx = type.partition(":")
            index = int(idx)
        if type not in ("cpu", "cuda"):
            raise ValueError(f"unknown device type {type!r}: expected 'cpu' or 'cuda'")
        self.type = type
        self.index = index

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = parse_device(other)
        if not isinstance(other, Device):
            return NotImplemented
        return (self.type, self.index or 0) == (other.type, other.index or 0)

    def __hash__(self) -> int:
        return hash((self.type, self.index or 0))

    def __enter__(self):
        """``with ag.device("cuda"):``: tensors created in the block without ``device=`` go
        to this device (the default device, restored on exit), as PyTorch's."""
        if self.type == "cuda":
            require_cupy()
        _DEVICE_CONTEXTS.append(_DEFAULT_DEVICE[0])
        _DEFAULT_DEVICE[0] = self
        return self

    def __exit__(self, *exc) -> bool:
        _DEFAULT_DEVICE[0] = _DEVICE_CONTEXTS.pop()
        return False


CPU = Device("cpu")


_DEFAULT_DEVICE = [CPU]  # torch.set_default_device: the device of tensors created without one
_DEVICE_CONTEXTS: list = []  # the default devices that open ``with device:`` blocks replaced


def set_default_device(device) -> None:
    """The device ``parse_device(None)`` gives (None: the CPU); see ``settings``."""
    _DEFAULT_DEVICE[0] = CPU if device is None else device


def parse_device(device) -> Device:
    if device is None:
        return _DEFAULT_DEVICE[0]
    if isinstance(device, Device):
        return device
    if isinstance(device, int):
        return Device("cuda", device)
    if not isinstance(device, str):
        raise TypeError(f"device must be a string like 'cpu' or 'cuda:0', got {device!r}")
    s = device.strip().lower()
    if s == "cpu":
        return CPU
    if s == "cuda":
        return Device("cuda", 0)
    if s.startswith("cuda:") and s[5:].isdigit():
        return Device("cuda", int(s[5:]))
    raise ValueError(f"unknown device {device!r}: expected 'cpu', 'cuda' or 'cuda:N'")


def device_of(a) -> Device:
    """The Device an array lives on."""
    if type(a) is np.ndarray or not is_cupy_array(a):
        return CPU
    return Device("cuda", a.device.id)


def to_device(a, device: Device, non_blocking: bool = False):
    """Move an array to ``device`` (copies only when it has to). ``non_blocking``: a host
    array is copied asynchronously on the current stream (truly asynchronous from pinned
    memory, e.g. ``DataLoader(pin_memory=True)``'s; CuPy's pinned pool keeps the host buffer
    until the copy is done), ordered before the kernels queued after it."""
    if device.type == "cpu":
        return to_numpy(a)
    cp = require_cupy()
    ndev = cp.cuda.runtime.getDeviceCount()
    if device.index is not None and device.index >= ndev:
        raise RuntimeError(f"device {device} requested, but only {ndev} CUDA device(s) exist")
    with cp.cuda.Device(device.index or 0):
        if non_blocking and isinstance(a, np.ndarray):
            out = cp.empty(a.shape, dtype=a.dtype)
            out.set(np.ascontiguousarray(a), stream=cp.cuda.get_current_stream())
            return out
        return cp.asarray(a)


def to_numpy(a):
    if isinstance(a, np.ndarray):
        return a
    if is_cupy_array(a):
        return a.get()
    return np.asarray(a)


def to_cupy(a, index: int = 0):
    return to_device(a, Device("cuda", index))


# ---- one function per NumPy/CuPy difference ----------------------------------------------

def add_at(xp, target, index, values) -> None:
    """Unbuffered ``target[index] += values`` (repeated indices accumulate)."""
    if xp is np:
        np.add.at(target, index, values)
    else:
        cupyx().scatter_add(target, index, values)


def lock(a) -> bool:
    """Make a NumPy array read-only; True when it was writeable (so the caller owns the lock).

    CuPy arrays have no writeable flag; they are protected by the version counter alone.
    """
    if type(a) is np.ndarray:
        flags = a.flags
        if flags.writeable:
            flags.writeable = False
            return True
    return False


def unlock(a) -> None:
    try:
        a.flags.writeable = True
    except ValueError:  # its base became read-only meanwhile: leave it as it is
        pass


# ---- scratch buffers: one recycling allocator for the large temporaries of nn ops ------------

class ScratchPool:
    """Recycled, uninitialised NumPy arrays for the large per-call buffers of convolution
    (im2col columns, Winograd tiles, the chunks' GEMM outputs) and recurrent layers
    (per-sequence gates/states).

    Only temporaries: what an op returns (a convolution's output, an input gradient) lives in
    the graph or with the user and is a plain array. Kept in the pool, results made its
    size grow with the network's activations and stay after training (the cnn-bn step: a
    38 MiB pool; with temporaries only, 3 MiB).

    Why: a training step allocates and frees the same multi-megabyte buffers every step;
    glibc returns such blocks to the OS and the next step page-faults them back in, one fault
    per 4 KB (measured: ~20% of a small CNN's step, ~4 ms of a 12 ms LSTM step).

    Buffers are keyed by (shape, dtype) (NumPy, so the device is the CPU; CuPy has its own
    memory pool and CuPy calls get a plain ``cupy.empty``). The pool keeps at most
    ``per_key`` buffers per key and ``max_bytes`` in all (least recently used keys are
    forgotten first; arrays smaller than ``min_bytes`` are not kept).

    The in-use rule: a kept buffer is handed out again only when all of these hold, checked
    and acted on under one lock:

    * it is not leased: ``borrow()`` (a context manager) or ``empty(..., lease=True)`` lease
      it until the ``with`` block ends or ``release(a)`` is called;
    * nothing but the pool refers to it: no caller variable, no view (a view keeps its base
      alive), no Tensor, no graph that saved it. This is read from its reference count,
      whose free value is calibrated at import on this interpreter;
    * it is writeable (a graph locks the arrays it saved read-only until it is freed).

    The caller holds its reference before the lock is released, so two threads never get
    the same buffer, and a buffer still referenced by a live graph or a user tensor is never
    reused, whatever the graph or the user does (retain_graph, create_graph, arrays kept from
    ``.numpy()``). Where reference counts cannot be trusted (a free-threaded build, or a
    failed calibration) the pool keeps nothing and every call returns a fresh array.

    Example:
        >>> cols = scratch_pool.empty(np, (64, 1024), np.float32)  # free once unreferenced
        >>> with scratch_pool.borrow(np, (64, 1024), np.float32) as tmp:
        ...     ...  # leased: never handed out while the block runs
    """

    def __init__(self, max_bytes: int = 256 << 20, per_key: int = 8, min_bytes: int = 16 << 10):
        self.max_bytes, self.per_key, self.min_bytes = max_bytes, per_key, min_bytes
        self._lock = threading.Lock()
        self._keys: OrderedDict = OrderedDict()  # (shape, dtype.str) -> [[array, leased]]
        self._leases: dict = {}  # id(array) -> its entry, while leased
        self.nbytes = 0  # bytes kept

    def empty(self, xp, shape, dtype, lease: bool = False):
        """An uninitialised array of ``shape`` and ``dtype``: a free kept one, else a new one
        (kept when the limits allow). ``lease``: in use until ``release`` (see the class)."""
        shape = tuple(int(s) for s in shape)
        dtype = np.dtype(dtype)
        nbytes = math.prod(shape) * dtype.itemsize
        if xp is not np or _FREE_REFS < 0 or not self.min_bytes <= nbytes <= self.max_bytes:
            return xp.empty(shape, dtype=dtype)
        key = (shape, dtype.str)
        with self._lock:
            entries = self._keys.get(key)
            if entries is None:
                entries = self._keys[key] = []
            else:
                self._keys.move_to_end(key)
            e = _free_entry(entries, _FREE_REFS)
            if e is None:
                a = np.empty(shape, dtype=dtype)
                while self.nbytes + nbytes > self.max_bytes and len(self._keys) > 1:
                    _, old = self._keys.popitem(last=False)  # forgotten; users keep theirs
                    self.nbytes -= sum(o[0].nbytes for o in old)
                if len(entries) >= self.per_key or self.nbytes + nbytes > self.max_bytes:
                    return a  # not kept: this key's buffers are all in use, or no room
                e = [a, False]
                entries.append(e)
                self.nbytes += nbytes
            a = e[0]  # referenced here before the lock is released: busy for other threads
            if lease:
                e[1] = True
                self._leases[id(a)] = e
            return a

    def release(self, a) -> None:
        """End the lease of ``a`` (from ``empty(..., lease=True)``); it is handed out again once
        nothing refers to it. Arrays the pool did not lease are ignored."""
        with self._lock:
            e = self._leases.pop(id(a), None)
            if e is not None and e[0] is a:
                e[1] = False

    @contextlib.contextmanager
    def borrow(self, xp, shape, dtype):
        """``with pool.borrow(xp, shape, dtype) as a:`` a leased buffer, released on exit."""
        a = self.empty(xp, shape, dtype, lease=True)
        try:
            yield a
        finally:
            self.release(a)

    @contextlib.contextmanager
    def borrow_flat(self, xp, size: int, dtype):
        """``with pool.borrow_flat(xp, size, dtype) as buf:`` a leased 1-D buffer of at least
        ``size`` elements, its length rounded up to a power of two so that callers of
        different sizes (the chunks of one op, the layers of a network) share buffers. Take
        contiguous prefixes of it: ``buf[:k].reshape(shape)``."""
        n = 1 << max(int(size) - 1, 0).bit_length()
        with self.borrow(xp, (n,), dtype) as a:
            yield a

    def clear(self) -> None:
        """Forget every kept buffer (those in use stay valid with their holders)."""
        with self._lock:
            self._keys.clear()
            self._leases.clear()
            self.nbytes = 0


def _free_entry(entries, free_refs: int):
    """The first entry of ``entries`` whose array is free by the in-use rule, or None."""
    for e in entries:
        a = e[0]
        if not e[1] and sys.getrefcount(a) == free_refs and a.flags.writeable:
            return e
    return None


def _calibrate() -> int:
    """The reference count ``_free_entry`` sees for an array only its entry holds (3 on
    CPython 3.11: the entry, the loop variable, getrefcount's argument), measured rather than
    assumed; -1 (pool off) when an extra reference cannot be told apart or the build is
    free-threaded (reference counts there are not exact)."""
    if not getattr(sys, "_is_gil_enabled", lambda: True)():
        return -1
    probe = [[np.empty(1), False]]
    for r in range(1, 8):
        if _free_entry(probe, r) is not None:
            held = probe[0][0]  # noqa: F841 - an extra reference must make it look busy
            return r if _free_entry(probe, r) is None else -1
    return -1


_FREE_REFS = _calibrate()
scratch_pool = ScratchPool()
if hasattr(os, "register_at_fork"):  # a child forked while another thread held the lock
    os.register_at_fork(after_in_child=lambda: setattr(scratch_pool, "_lock", threading.Lock()))


def scratch_empty(xp, shape, dtype):
    """``xp.empty(shape, dtype)`` recycled through ``scratch_pool`` (NumPy; see
    ``ScratchPool`` for when a buffer is reused)."""
    return scratch_pool.empty(xp, shape, dtype)


# ---------------------------------------------------------------------------------------
# the host allocator (opt-in)
# ---------------------------------------------------------------------------------------

_malloc_tuned = False


def keep_freed_memory(trim_threshold: int = 512 << 20, mmap_threshold: int = 64 << 20) -> bool:
    """Ask glibc to keep freed host memory for reuse instead of handing every large block
    back to the operating system.

    By default glibc ``munmap``s or trims blocks of a few hundred kilobytes as soon as they
    are freed, so a training loop (which frees and reallocates the same activation and
    gradient arrays every step) pays system calls and page faults to get them back: measured
    here, a LeNet-5 step at batch 64 takes 7.3 ms by default and 5.5 ms with this. PyTorch
    avoids the same cost with its own caching allocator. Process-wide and not undone, so it
    is opt-in: ``scripts/train.py`` and ``scripts/bench.py`` call it; call it once at the
    start of your program, or export ``MALLOC_TRIM_THRESHOLD_=536870912`` and
    ``MALLOC_MMAP_THRESHOLD_=67108864`` before starting Python. Returns False where glibc's
    ``mallopt`` is not available (other C libraries, macOS, Windows): nothing changes.

    Args:
        trim_threshold: free memory at the top of the heap kept before trimming (bytes).
        mmap_threshold: blocks at least this large are mapped (and unmapped) on their own.
    """
    global _malloc_tuned
    if _malloc_tuned:
        return True
    try:
        import ctypes  # noqa: PLC0415 - only for this opt-in call

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's <malloc.h>
        ok = libc.mallopt(m_trim_threshold, int(trim_threshold)) == 1
        ok = libc.mallopt(m_mmap_threshold, int(mmap_threshold)) == 1 and ok
    except (OSError, AttributeError):
        return False
    _malloc_tuned = ok
    return ok
