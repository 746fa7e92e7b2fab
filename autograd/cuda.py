"""``ag.cuda``: whether a GPU is usable, and a few helpers (through CuPy)."""

from __future__ import annotations

import types

from . import amp as _amp
from . import backend
from . import random as _random


def _cuda_autocast(enabled: bool = True, dtype=None, cache_enabled=None):
    """``torch.cuda.amp.autocast``: ``autograd.amp.autocast("cuda", ...)``."""
    return _amp.autocast("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


def _cuda_grad_scaler(init_scale: float = 2.0**16, growth_factor: float = 2.0,
                      backoff_factor: float = 0.5, growth_interval: int = 2000,
                      enabled: bool = True):
    """``torch.cuda.amp.GradScaler``: ``autograd.amp.GradScaler("cuda", ...)``."""
    return _amp.GradScaler("cuda", init_scale, growth_factor, backoff_factor, growth_interval,
                           enabled)


# PyTorch's older spelling, ``torch.cuda.amp.autocast()`` / ``torch.cuda.amp.GradScaler()``
amp = types.SimpleNamespace(autocast=_cuda_autocast, GradScaler=_cuda_grad_scaler)


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


def manual_seed_all(seed: int) -> None:
    """Seed the generators of all devices (one generator serves every device here)."""
    _random.manual_seed(seed)


def seed() -> None:
    _random.seed()


def seed_all() -> None:
    _random.seed()


def set_device(device) -> None:
    """Make ``device`` (an index, ``'cuda:N'`` or a ``Device``) CuPy's current device."""
    if is_available():
        idx = device if isinstance(device, int) else (backend.parse_device(device).index or 0)
        backend.require_cupy().cuda.Device(idx).use()


def get_device_name(device=None) -> str:
    if not is_available():
        raise RuntimeError("cuda.get_device_name: no CUDA GPU is available (CuPy sees none)")
    cp = backend.require_cupy()
    idx = 0 if device is None else (device if isinstance(device, int)
                                     else backend.parse_device(device).index or 0)
    return cp.cuda.runtime.getDeviceProperties(idx)["name"].decode()


def max_memory_allocated() -> int:
    """Bytes CuPy's pool holds for arrays now (CuPy keeps no peak; this is the current
    figure)."""
    return memory_allocated()


def reset_peak_memory_stats() -> None:
    """Accepted for PyTorch programs; CuPy's pool keeps no peak statistics."""


def is_bf16_supported() -> bool:
    """bfloat16 arrays work through ml_dtypes wherever the device works."""
    return is_available()
