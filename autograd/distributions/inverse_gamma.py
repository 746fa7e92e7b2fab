"""PyTorch's module path ``torch.distributions.inverse_gamma``
(the classes live in ``extra.py``)."""

from .extra import InverseGamma

__all__ = ["InverseGamma"]
