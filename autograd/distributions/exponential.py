"""PyTorch's module path ``torch.distributions.exponential``
(the classes live in ``continuous.py``)."""

from .continuous import Exponential

__all__ = ["Exponential"]
