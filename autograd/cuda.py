"""``ag.cuda``: whether a GPU is usable, and a few helpers (through CuPy)."""

from __future__ import annotations

from . import backend
from . import random as _random


def is_available() -> bool:
    """True when CuPy is installed and sees a CUDA GPU."""
    return backend.cupy_available()


def device_count() -> int:
    if not is_available():
        return 0
    return backend.require_cupy().cuda.runtime.getDeviceCount()


def synchronize(device=None) -> None:
    """Wait for all queued GPU work (a no-op without a GPU)."""
    if is_available():
        backend.require_cupy().cuda.Device(0 if device is None else int(device)).synchronize()


def current_device() -> int:
    return backend.require_cupy().cuda.Device().id


def memory_allocated() -> int:
    """Bytes held by CuPy's memory pool for arrays."""
    if not is_available():
        return 0
    return backend.require_cupy().get_default_memory_pool().used_bytes()


def memory_reserved() -> int:
    if not is_available():
        return 0
    return backend.require_cupy().get_default_memory_pool().total_bytes()


def empty_cache() -> None:
    if is_available():
        backend.require_cupy().get_default_memory_pool().free_all_blocks()


def manual_seed(seed: int) -> None:
    """Seed the generators (one generator serves every device here)."""
    _random.manual_seed(seed)
