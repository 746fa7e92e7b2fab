"""PyTorch's module path ``torch.distributions.negative_binomial``
(the classes live in ``extra.py``)."""

from .extra import NegativeBinomial

__all__ = ["NegativeBinomial"]
