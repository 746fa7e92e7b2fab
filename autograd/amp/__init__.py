"""``autograd.amp``: automatic mixed precision (PyTorch's ``torch.amp``): ``autocast`` and
``GradScaler``."""

from .autocast_mode import (
    FP32_OPS,
    LOWER_PRECISION_OPS,
    autocast,
    bfloat16,
    get_autocast_dtype,
    is_autocast_enabled,
    round_to_bfloat16,
)
from .grad_scaler import GradScaler, OptState

__all__ = ["FP32_OPS", "LOWER_PRECISION_OPS", "GradScaler", "OptState", "autocast", "bfloat16",
           "get_autocast_dtype", "is_autocast_enabled", "round_to_bfloat16"]
