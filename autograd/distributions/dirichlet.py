"""PyTorch's module path ``torch.distributions.dirichlet``
(the classes live in ``continuous.py``)."""

from .continuous import Dirichlet

__all__ = ["Dirichlet"]
