"""``autograd.autograd``: PyTorch's ``torch.autograd`` namespace, so that
``torch.autograd.grad``, ``torch.autograd.Function`` and friends work with
``import autograd as torch``."""

import importlib
import sys

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

# PyTorch's submodules of torch.autograd, importable by their dotted names:
# ``from torch.autograd.functional import jacobian`` becomes, ported, ``from
# autograd.autograd.functional import jacobian``. This module is not a package, so each name
# is registered in ``sys.modules`` as the module that implements it (one object under both
# names: ``autograd.autograd.functional is autograd.functional``).
# (``importlib``: the package's attribute ``gradcheck`` is the function, not the module.)
for _name in ("functional", "graph", "forward_ad", "function", "grad_mode", "gradcheck"):
    sys.modules[f"{__name__}.{_name}"] = importlib.import_module(f"{__package__}.{_name}")
del _name
