"""PyTorch's module path ``torch.distributions.lowrank_multivariate_normal``
(the classes live in ``multivariate.py``)."""

from .multivariate import LowRankMultivariateNormal

__all__ = ["LowRankMultivariateNormal"]
