"""PyTorch's module path ``torch.distributions.independent``
(the classes live in ``transformed.py``)."""

from .transformed import Independent

__all__ = ["Independent"]
