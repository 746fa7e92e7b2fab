"""PyTorch's module path ``torch.distributions.pareto``
(the classes live in ``extra.py``)."""

from .extra import Pareto

__all__ = ["Pareto"]
