"""PyTorch's module path ``torch.distributions.binomial``
(the classes live in ``discrete.py``)."""

from .discrete import Binomial

__all__ = ["Binomial"]
