"""PyTorch's module path ``torch.distributions.categorical``
(the classes live in ``discrete.py``)."""

from .discrete import Categorical

__all__ = ["Categorical"]
