"""Distance modules: ``CosineSimilarity`` and ``PairwiseDistance`` (PyTorch's), wrappers over
``nn.functional.distance``."""

from __future__ import annotations

from .. import functional as F
from .module import Module


class PairwiseDistance(Module):
    """p-norm distance ``||x1 - x2 + eps||_p`` over the last dim.

    Args:
        p: the norm degree (may be negative).
        eps: added to the difference (keeps the gradient finite).
        keepdim: keep the reduced dim.

    Example:
        >>> nn.PairwiseDistance(p=1)(ag.randn(4, 3), ag.randn(4, 3)).shape
        (4,)
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class CosineSimilarity(Module):
    """Cosine similarity of ``x1`` and ``x2`` along ``dim`` (inputs broadcast).

    Args:
        dim: the dim of the vectors (removed from the result).
        eps: lower bound of each norm.

    Example:
        >>> nn.CosineSimilarity(dim=1)(ag.randn(4, 3), ag.randn(4, 3)).shape
        (4,)
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
