"""PyTorch's module path ``torch.distributions.logistic_normal``
(the classes live in ``extra.py``)."""

from .extra import LogisticNormal

__all__ = ["LogisticNormal"]
