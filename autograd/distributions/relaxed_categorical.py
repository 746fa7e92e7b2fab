"""PyTorch's module path ``torch.distributions.relaxed_categorical``
(the classes live in ``extra.py``)."""

from .extra import ExpRelaxedCategorical, RelaxedOneHotCategorical

__all__ = ["ExpRelaxedCategorical", "RelaxedOneHotCategorical"]
