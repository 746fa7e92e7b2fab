"""PyTorch's global switches and queries (``torch.use_deterministic_algorithms``,
``torch.set_default_device``, ``torch.set_float32_matmul_precision``, the autocast and anomaly
queries...), for programs written as ``import autograd as torch``.

Each is a real setting that PyTorch's getter reads back. Where a switch has no effect on this
engine, its docstring says why (NumPy's kernels are already deterministic; float32 GEMMs are
always done in float32 here).
"""

from __future__ import annotations

import builtins
import warnings

import numpy as np

from . import backend, dtypes
from .amp import autocast_mode as _amp
from .backend import Device
from .grad_mode import is_anomaly_check_nan_enabled, set_detect_anomaly, state  # noqa: F401

# ---- determinism ---------------------------------------------------------------------------
_DETERMINISM = {"enabled": False, "warn_only": False}
_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Ask for deterministic algorithms. Every kernel here is deterministic on the CPU
    (NumPy), so this only records the setting; on CUDA, scatter-adds with repeated indices
    (``index_add``, ``Embedding``'s backward) may differ in the last bit between runs."""
    if not isinstance(mode, builtins.bool):
        raise TypeError(f"use_deterministic_algorithms(): mode must be a bool, got "
                        f"{type(mode).__name__}")
    _DETERMINISM["enabled"] = mode
    _DETERMINISM["warn_only"] = builtins.bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return _DETERMINISM["enabled"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _DETERMINISM["warn_only"]


def set_deterministic_debug_mode(debug_mode) -> None:
    """0/"default": off; 1/"warn": deterministic with warnings; 2/"error": deterministic."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(f"invalid value of debug_mode, expected one of `default`, "
                               f"`warn`, `error`, but got {debug_mode}")
        debug_mode = _DEBUG_MODES[debug_mode]
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got "
                           f"{debug_mode}")
    use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> int:
    if not _DETERMINISM["enabled"]:
        return 0
    return 1 if _DETERMINISM["warn_only"] else 2


# ---- matmul precision, denormals, warnings ------------------------------------------------
_MATMUL = {"precision": "highest"}


def set_float32_matmul_precision(precision: str) -> None:
    """"highest", "high" or "medium". float32 GEMMs here always run in float32 (NumPy's
    BLAS, cuBLAS without TF32), so the setting is recorded and read back only."""
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"Invalid precision: {precision!r}; expected 'highest', 'high' or "
                           "'medium'")
    _MATMUL["precision"] = precision


def get_float32_matmul_precision() -> str:
    return _MATMUL["precision"]


def set_flush_denormal(mode: bool) -> bool:
    """Returns False, as PyTorch does on a CPU where it cannot flush denormals: NumPy gives
    no control over the FPU's flush-to-zero mode, so subnormals are always kept."""
    return False


_WARN = {"always": False}


def set_warn_always(b: bool) -> None:
    """Warnings that PyTorch gives once per process are then given every time."""
    _WARN["always"] = builtins.bool(b)


def is_warn_always_enabled() -> bool:
    return _WARN["always"]


# ---- default device and tensor type --------------------------------------------------------
def set_default_device(device) -> None:
    """The device of tensors created without ``device=`` (None: the CPU). Global, as in
    PyTorch; "cuda" needs CuPy and a GPU."""
    if device is None:
        backend.set_default_device(None)
        return
    dev = backend.parse_device(device)
    if dev.type == "cuda":
        backend.require_cupy()
    backend.set_default_device(dev)


def get_default_device() -> Device:
    return backend.parse_device(None)


_TENSOR_TYPES = {"torch.FloatTensor": dtypes.float32, "torch.DoubleTensor": dtypes.float64,
                 "torch.HalfTensor": dtypes.float16, "torch.cuda.FloatTensor": dtypes.float32,
                 "torch.cuda.DoubleTensor": dtypes.float64,
                 "torch.cuda.HalfTensor": dtypes.float16}


def set_default_tensor_type(t) -> None:
    """Deprecated in PyTorch (use ``set_default_dtype``/``set_default_device``): accepts
    "torch.FloatTensor", "torch.DoubleTensor", "torch.HalfTensor" and their cuda forms."""
    warnings.warn("set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  "set_default_dtype() and set_default_device() as alternatives.",
                  UserWarning, stacklevel=2)
    name = t if isinstance(t, str) else getattr(t, "__name__", repr(t))
    if name not in _TENSOR_TYPES:
        raise TypeError(f"set_default_tensor_type: only floating-point types are supported as "
                        f"the default type, got {name!r}")
    dtypes.set_default_dtype(_TENSOR_TYPES[name])
    if name.startswith("torch.cuda."):
        set_default_device("cuda")


def typename(obj) -> str:
    """PyTorch's type name: "torch.FloatTensor" for a float32 CPU tensor, "torch.cuda.
    LongTensor" for an int64 CUDA tensor, else the object's qualified class name."""
    data = getattr(obj, "_data", None)
    if data is not None and hasattr(obj, "requires_grad"):
        return dtypes.tensor_type_name(data.dtype, backend.device_of(data).type == "cuda")
    if isinstance(obj, np.ndarray):
        return "numpy.ndarray"
    t = type(obj)
    mod = t.__module__
    return t.__qualname__ if mod in ("builtins", None) else f"{mod}.{t.__qualname__}"


# ---- anomaly mode ----------------------------------------------------------------------------
def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """PyTorch's low-level switch behind ``detect_anomaly`` (this thread)."""
    set_detect_anomaly(enabled, check_nan)


# ---- autocast state (torch.is_autocast_enabled & co.) -------------------------------------
def _policy_with(device_type, dtype=None, enabled=None):
    p = state.autocast
    d = dict(p.dtypes) if p is not None else {}
    if enabled is False:
        d.pop(device_type, None)
    elif enabled is True:
        d[device_type] = dtype if dtype is not None else _amp.get_autocast_dtype(device_type)
    elif dtype is not None and device_type in d:
        d[device_type] = dtype
    state.autocast = _amp._Policy(d) if d else None


def set_autocast_enabled(device_type, enabled=None) -> None:
    """``set_autocast_enabled(device_type, enabled)`` (or the old one-argument form for
    "cuda"): turn autocast on or off for the device type in this thread, as entering an
    ``autocast`` region does."""
    if enabled is None:
        device_type, enabled = "cuda", device_type
    _policy_with(device_type, enabled=builtins.bool(enabled))


def set_autocast_dtype(device_type: str, dtype) -> None:
    """The dtype autocast uses for ``device_type`` (float16, or bfloat16) from now on."""
    if device_type not in _amp._DEFAULT:
        raise RuntimeError(f"unsupported autocast device_type {device_type!r}")
    d = _amp._bfloat16() if _amp._is_bf16(dtype) else np.dtype(dtype)
    _amp._DEFAULT[device_type] = "bfloat16" if _amp._is_bf16(dtype) else d
    _policy_with(device_type, dtype=d)


def is_autocast_cpu_enabled() -> bool:
    return _amp.is_autocast_enabled("cpu")


def set_autocast_cpu_enabled(enabled: bool) -> None:
    set_autocast_enabled("cpu", enabled)


def get_autocast_cpu_dtype():
    return _amp.get_autocast_dtype("cpu")


def set_autocast_cpu_dtype(dtype) -> None:
    set_autocast_dtype("cpu", dtype)


def get_autocast_gpu_dtype():
    return _amp.get_autocast_dtype("cuda")


def set_autocast_gpu_dtype(dtype) -> None:
    set_autocast_dtype("cuda", dtype)


_CACHE = {"enabled": True}


def is_autocast_cache_enabled() -> bool:
    return _CACHE["enabled"]


def set_autocast_cache_enabled(enabled: bool) -> None:
    """Recorded only: this engine's autocast casts an op's inputs on each call and keeps no
    cache of cast weights."""
    _CACHE["enabled"] = builtins.bool(enabled)


def clear_autocast_cache() -> None:
    """Nothing to clear: autocast keeps no cache of cast weights here."""


# ---- control flow (torch.cond, torch.while_loop), run eagerly ------------------------------
def cond(pred, true_fn, false_fn, operands=()):
    """``true_fn(*operands)`` if ``pred`` else ``false_fn(*operands)``; ``pred`` is a bool
    or a one-element boolean tensor. Eager, as PyTorch runs it outside ``torch.compile``."""
    if hasattr(pred, "numel") and pred.numel() != 1:
        raise RuntimeError(f"cond: expected pred to be a bool or a single-element tensor, "
                           f"got shape {tuple(pred.shape)}")
    return true_fn(*operands) if builtins.bool(pred) else false_fn(*operands)


def while_loop(cond_fn, body_fn, carried_inputs):
    """Run ``carried_inputs = body_fn(*carried_inputs)`` while ``cond_fn(*carried_inputs)``;
    returns the final carried values as a tuple (eager)."""
    if not isinstance(carried_inputs, (tuple, list)):
        raise RuntimeError("while_loop: carried_inputs must be a tuple or list")
    carried = tuple(carried_inputs)
    while builtins.bool(cond_fn(*carried)):
        out = body_fn(*carried)
        carried = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    return carried
