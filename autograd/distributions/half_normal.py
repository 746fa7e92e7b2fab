"""PyTorch's module path ``torch.distributions.half_normal``
(the classes live in ``transformed.py``)."""

from .transformed import HalfNormal

__all__ = ["HalfNormal"]
