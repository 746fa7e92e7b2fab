"""PyTorch's module path ``torch.distributions.mixture_same_family``
(the classes live in ``multivariate.py``)."""

from .multivariate import MixtureSameFamily

__all__ = ["MixtureSameFamily"]
