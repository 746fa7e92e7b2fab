"""PyTorch's module path ``torch.distributions.cauchy``
(the classes live in ``continuous.py``)."""

from .continuous import Cauchy

__all__ = ["Cauchy"]
