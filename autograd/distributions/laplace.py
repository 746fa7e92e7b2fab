"""PyTorch's module path ``torch.distributions.laplace``
(the classes live in ``continuous.py``)."""

from .continuous import Laplace

__all__ = ["Laplace"]
