"""PyTorch's module path ``torch.distributions.gamma``
(the classes live in ``continuous.py``)."""

from .continuous import Gamma

__all__ = ["Gamma"]
