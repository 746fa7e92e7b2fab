"""PyTorch's module path ``torch.distributions.bernoulli``
(the classes live in ``discrete.py``)."""

from .discrete import Bernoulli

__all__ = ["Bernoulli"]
