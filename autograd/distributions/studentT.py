"""PyTorch's module path ``torch.distributions.studentT``
(the classes live in ``continuous.py``)."""

from .continuous import StudentT

__all__ = ["StudentT"]
