"""PyTorch's module path ``torch.distributions.half_cauchy``
(the classes live in ``transformed.py``)."""

from .transformed import HalfCauchy

__all__ = ["HalfCauchy"]
