"""PyTorch's module path ``torch.distributions.multivariate_normal``
(the classes live in ``multivariate.py``)."""

from .multivariate import MultivariateNormal

__all__ = ["MultivariateNormal"]
