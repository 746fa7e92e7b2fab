"""PyTorch's module path ``torch.distributions.generalized_pareto``
(the classes live in ``extra.py``)."""

from .extra import GeneralizedPareto

__all__ = ["GeneralizedPareto"]
