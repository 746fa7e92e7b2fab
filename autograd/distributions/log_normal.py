"""PyTorch's module path ``torch.distributions.log_normal``
(the classes live in ``transformed.py``)."""

from .transformed import LogNormal

__all__ = ["LogNormal"]
