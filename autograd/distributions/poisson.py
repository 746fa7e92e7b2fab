"""PyTorch's module path ``torch.distributions.poisson``
(the classes live in ``discrete.py``)."""

from .discrete import Poisson

__all__ = ["Poisson"]
