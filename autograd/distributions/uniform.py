"""PyTorch's module path ``torch.distributions.uniform``
(the classes live in ``continuous.py``)."""

from .continuous import Uniform

__all__ = ["Uniform"]
