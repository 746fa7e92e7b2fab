"""Dropout layers (active in training mode only; the package RNG, ``ag.manual_seed``)."""

from __future__ import annotations

from .. import functional as F
from .module import Module


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"{type(self).__name__}: dropout probability has to be between 0 "
                             f"and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each element with probability ``p`` and scale the others by ``1 / (1 - p)``
    in training mode; the identity in eval mode.

    Example:
        >>> drop = nn.Dropout(p=0.2)
        >>> y = drop(ag.randn(4, 8))
    """

    def forward(self, x):
        return F.dropout(x, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zero whole channels of (N, C, H, W) inputs with probability ``p`` (a 3-D input is
    taken as (N, C, L), with PyTorch's warning).

    Example:
        >>> y = nn.Dropout2d(0.1)(ag.randn(2, 3, 4, 4))
    """

    def forward(self, x):
        return F.dropout2d(x, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Zero whole channels of (N, C, L) or (C, L) inputs with probability ``p``.

    Example:
        >>> y = nn.Dropout1d(0.2)(ag.randn(4, 3, 16))
    """

    def forward(self, x):
        return F.dropout1d(x, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs with probability
    ``p``.

    Example:
        >>> y = nn.Dropout3d(0.2)(ag.randn(2, 3, 4, 4, 4))
    """

    def forward(self, x):
        return F.dropout3d(x, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Alpha dropout for self-normalising (SELU) networks: keeps zero mean and unit
    variance; the identity in eval mode.

    Example:
        >>> y = nn.AlphaDropout(0.2)(ag.randn(4, 8))
    """

    def forward(self, x):
        return F.alpha_dropout(x, self.p, self.training, self.inplace)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels (dim 1) of inputs with 2 or more dims.

    Example:
        >>> y = nn.FeatureAlphaDropout(0.2)(ag.randn(2, 3, 4, 4))
    """

    def forward(self, x):
        return F.feature_alpha_dropout(x, self.p, self.training, self.inplace)
