"""PyTorch's module path ``torch.distributions.continuous_bernoulli``
(the classes live in ``extra.py``)."""

from .extra import ContinuousBernoulli

__all__ = ["ContinuousBernoulli"]
