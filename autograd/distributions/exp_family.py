"""PyTorch's module path ``torch.distributions.exp_family``
(the classes live in ``distribution.py``)."""

from .distribution import ExponentialFamily

__all__ = ["ExponentialFamily"]
