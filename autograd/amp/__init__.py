"""``autograd.amp``: automatic mixed precision (PyTorch's ``torch.amp``): ``autocast`` and
``GradScaler``."""

from .autocast_mode import (
    FP32_OPS,
    LOWER_PRECISION_OPS,
    _bfloat16,
    autocast,
    custom_bwd,
    custom_fwd,
    get_autocast_dtype,
    is_autocast_available,
    is_autocast_enabled,
    round_to_bfloat16,
)
from .grad_scaler import GradScaler, OptState


def __getattr__(name):  # ``bfloat16`` (ml_dtypes' dtype), imported on first use (PEP 562)
    if name == "bfloat16":
        return _bfloat16()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["FP32_OPS", "LOWER_PRECISION_OPS", "GradScaler", "OptState", "autocast", "bfloat16",
           "custom_bwd", "custom_fwd", "get_autocast_dtype", "is_autocast_available",
           "is_autocast_enabled", "round_to_bfloat16"]
