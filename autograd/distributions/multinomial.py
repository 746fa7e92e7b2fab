"""PyTorch's module path ``torch.distributions.multinomial``
(the classes live in ``extra.py``)."""

from .extra import Multinomial

__all__ = ["Multinomial"]
