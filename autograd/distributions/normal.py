"""PyTorch's module path ``torch.distributions.normal``
(the classes live in ``continuous.py``)."""

from .continuous import Normal

__all__ = ["Normal"]
