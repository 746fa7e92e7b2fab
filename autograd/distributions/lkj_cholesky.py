"""PyTorch's module path ``torch.distributions.lkj_cholesky``
(the classes live in ``extra.py``)."""

from .extra import LKJCholesky

__all__ = ["LKJCholesky"]
