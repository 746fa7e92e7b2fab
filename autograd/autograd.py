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
from .tensor import Tensor as _Tensor


class _VariableMeta(type):
    def __instancecheck__(cls, other) -> bool:
        return isinstance(other, _Tensor)


class Variable(metaclass=_VariableMeta):
    """PyTorch's legacy ``Variable(tensor, requires_grad=False)``, kept for old programs:
    a tensor sharing ``data``'s memory, a leaf that requires grad when asked; every tensor is
    an instance (``isinstance(t, Variable)``), as in PyTorch."""

    def __new__(cls, data, requires_grad: bool = False, volatile: bool = False):
        if not isinstance(data, _Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        return data.detach().requires_grad_(requires_grad)

# PyTorch's submodules of torch.autograd, importable by their dotted names:
# ``from torch.autograd.functional import jacobian`` becomes, ported, ``from
# autograd.autograd.functional import jacobian``. This module is not a package, so each name
# is registered in ``sys.modules`` as the module that implements it (one object under both
# names: ``autograd.autograd.functional is autograd.functional``).
# (``importlib``: the package's attribute ``gradcheck`` is the function, not the module.)
for _name in ("functional", "graph", "forward_ad", "function", "grad_mode", "gradcheck"):
    sys.modules[f"{__name__}.{_name}"] = importlib.import_module(f"{__package__}.{_name}")
del _name
