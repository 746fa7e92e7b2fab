"""PyTorch's module path ``torch.distributions.geometric``
(the classes live in ``discrete.py``)."""

from .discrete import Geometric

__all__ = ["Geometric"]
