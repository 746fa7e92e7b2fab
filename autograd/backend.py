"""The one place that knows about NumPy versus CuPy.

Every op asks ``get_array_module(*xs)`` for the array module of its inputs and never imports
cupy itself. CuPy is imported once, lazily, the first time a CUDA device is asked for (or a
CuPy array is met), so importing the package never pays for it and works without it.
"""

from __future__ import annotations

import numpy as np

_cupy = None  # the cupy module once imported; False when the import failed
_cupy_error: str | None = None


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


CPU = Device("cpu")


def parse_device(device) -> Device:
    if device is None:
        return CPU
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


def to_device(a, device: Device):
    """Move an array to ``device`` (copies only when it has to)."""
    if device.type == "cpu":
        return to_numpy(a)
    cp = require_cupy()
    ndev = cp.cuda.runtime.getDeviceCount()
    if device.index is not None and device.index >= ndev:
        raise RuntimeError(f"device {device} requested, but only {ndev} CUDA device(s) exist")
    with cp.cuda.Device(device.index or 0):
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
        import cupyx  # noqa: PLC0415  (only reached with CuPy arrays)

        cupyx.scatter_add(target, index, values)


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
