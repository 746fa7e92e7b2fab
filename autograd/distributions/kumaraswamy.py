"""PyTorch's module path ``torch.distributions.kumaraswamy``
(the classes live in ``extra.py``)."""

from .extra import Kumaraswamy

__all__ = ["Kumaraswamy"]
