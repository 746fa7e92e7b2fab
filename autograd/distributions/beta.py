"""PyTorch's module path ``torch.distributions.beta``
(the classes live in ``continuous.py``)."""

from .continuous import Beta

__all__ = ["Beta"]
