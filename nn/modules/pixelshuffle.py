"""``PixelShuffle`` and ``PixelUnshuffle``: modules around ``F.pixel_shuffle`` /
``F.pixel_unshuffle``."""

from __future__ import annotations

from ..functional import vision as V
from .module import Module


class PixelShuffle(Module):
    """Rearrange (*, C * r^2, H, W) into (*, C, H * r, W * r).

    Args:
        upscale_factor: r.

    Example:
        >>> nn.PixelShuffle(3)(ag.randn(1, 9, 4, 4)).shape
        (1, 1, 12, 12)
    """

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return V.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """Rearrange (*, C, H * r, W * r) into (*, C * r^2, H, W), the inverse of
    ``PixelShuffle``.

    Args:
        downscale_factor: r.

    Example:
        >>> nn.PixelUnshuffle(3)(ag.randn(1, 1, 12, 12)).shape
        (1, 9, 4, 4)
    """

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return V.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
