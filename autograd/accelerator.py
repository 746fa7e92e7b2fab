"""``autograd.accelerator``: PyTorch's device-agnostic accelerator queries (CUDA through CuPy
is this engine's only accelerator)."""

from __future__ import annotations

from . import cuda as _cuda
from .backend import Device


def is_available() -> bool:
    """True when a CUDA GPU is usable (CuPy installed and a device seen)."""
    return _cuda.is_available()


def current_accelerator(check_available: bool = False):
    """``device('cuda')`` when CuPy is installed (and, with ``check_available``, a GPU is
    usable), else None."""
    if check_available and not _cuda.is_available():
        return None
    return Device("cuda") if _cuda.is_available() else None


def device_count() -> int:
    return _cuda.device_count()


def current_device_index() -> int:
    return _cuda.current_device() if _cuda.is_available() else -1


def synchronize(device=None) -> None:
    _cuda.synchronize(device)
