"""PyTorch's module path ``torch.distributions.relaxed_bernoulli``
(the classes live in ``extra.py``)."""

from .extra import LogitRelaxedBernoulli, RelaxedBernoulli

__all__ = ["LogitRelaxedBernoulli", "RelaxedBernoulli"]
