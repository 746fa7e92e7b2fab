"""``autograd.cpu``: PyTorch's ``torch.cpu`` device module (what ``torch.get_device_module
("cpu")`` returns): the CPU as a device with the same queries as ``autograd.cuda``. The CPU
runs every op synchronously, so streams and synchronisation are trivial here as in PyTorch."""

from __future__ import annotations

import types
import warnings
from contextlib import nullcontext

from .amp import GradScaler as _GradScaler
from .amp import autocast as _autocast


def is_available() -> bool:
    """Always True."""
    return True


def device_count() -> int:
    """Always 1 (one CPU device, whatever its cores)."""
    return 1


def current_device() -> str:
    """``"cpu"``, as PyTorch's ``torch.cpu.current_device()``."""
    return "cpu"


def set_device(device) -> None:
    """Accepts "cpu" (or a CPU device); anything else is an error."""
    if str(device) != "cpu":
        raise ValueError(f"set_device: the CPU device module has only 'cpu', got {device!r}")


def synchronize(device=None) -> None:
    """Returns at once: CPU ops have finished when they return."""


class Stream:
    """The CPU's only stream (ops run in order on the calling thread)."""

    def __init__(self, priority: int = -1):
        self.priority = priority

    def wait_stream(self, stream) -> None:
        """Nothing to wait for."""

    def synchronize(self) -> None:
        """Nothing to wait for."""

    def query(self) -> bool:
        return True


_DEFAULT_STREAM = Stream()


def current_stream(device=None) -> Stream:
    return _DEFAULT_STREAM


def stream(s):
    """``with autograd.cpu.stream(s):`` (a no-op context, as PyTorch's on the CPU)."""
    return nullcontext(s)


def autocast(enabled: bool = True, dtype=None, cache_enabled=None):
    """``autograd.autocast("cpu", ...)``."""
    return _autocast("cpu", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


def _deprecated_cpu_autocast(enabled: bool = True, dtype=None, cache_enabled=None):
    """``torch.cpu.amp.autocast``: ``autograd.amp.autocast("cpu", ...)``, with PyTorch's
    FutureWarning that the spelling is deprecated."""
    warnings.warn("`torch.cpu.amp.autocast(args...)` is deprecated. Please use "
                  "`torch.amp.autocast('cpu', args...)` instead.", FutureWarning, stacklevel=2)
    return autocast(enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)


def _deprecated_cpu_grad_scaler(init_scale: float = 2.0**16, growth_factor: float = 2.0,
                                backoff_factor: float = 0.5, growth_interval: int = 2000,
                                enabled: bool = True):
    """``torch.cpu.amp.GradScaler``: ``autograd.amp.GradScaler("cpu", ...)``, with PyTorch's
    FutureWarning that the spelling is deprecated."""
    warnings.warn("`torch.cpu.amp.GradScaler(args...)` is deprecated. Please use "
                  "`torch.amp.GradScaler('cpu', args...)` instead.", FutureWarning, stacklevel=2)
    return _GradScaler("cpu", init_scale, growth_factor, backoff_factor, growth_interval, enabled)


# PyTorch's older spelling, ``torch.cpu.amp.autocast()`` / ``torch.cpu.amp.GradScaler()``
amp = types.SimpleNamespace(autocast=_deprecated_cpu_autocast,
                            GradScaler=_deprecated_cpu_grad_scaler)
