"""``autograd.autograd``: PyTorch's ``torch.autograd`` namespace, so that
``torch.autograd.grad``, ``torch.autograd.Function`` and friends work with
``import autograd as torch``."""

from . import forward_ad, functional, graph  # noqa: F401
from .engine import backward, grad  # noqa: F401
from .function import Function, once_differentiable  # noqa: F401
from .grad_mode import (  # noqa: F401
    detect_anomaly,
    enable_grad,
    inference_mode,
    is_anomaly_enabled,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_detect_anomaly,
    set_grad_enabled,
)
from .gradcheck import gradcheck, gradgradcheck  # noqa: F401
