"""PyTorch's module path ``torch.distributions.transformed_distribution``
(the classes live in ``transformed.py``)."""

from .transformed import TransformedDistribution

__all__ = ["TransformedDistribution"]
