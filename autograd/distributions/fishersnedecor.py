"""PyTorch's module path ``torch.distributions.fishersnedecor``
(the classes live in ``extra.py``)."""

from .extra import FisherSnedecor

__all__ = ["FisherSnedecor"]
