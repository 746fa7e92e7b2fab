"""PyTorch's module path ``torch.distributions.weibull``
(the classes live in ``extra.py``)."""

from .extra import Weibull

__all__ = ["Weibull"]
