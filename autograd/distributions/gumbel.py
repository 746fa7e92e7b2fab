"""PyTorch's module path ``torch.distributions.gumbel``
(the classes live in ``transformed.py``)."""

from .transformed import Gumbel

__all__ = ["Gumbel"]
