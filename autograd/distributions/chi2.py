"""PyTorch's module path ``torch.distributions.chi2``
(the classes live in ``continuous.py``)."""

from .continuous import Chi2

__all__ = ["Chi2"]
