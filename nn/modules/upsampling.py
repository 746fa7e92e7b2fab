"""``Upsample``: a module around ``F.interpolate``."""

from __future__ import annotations

from ..functional.upsampling import interpolate
from .module import Module


class Upsample(Module):
    """Resize (N, C, L) or (N, C, H, W) inputs by ``size`` or ``scale_factor``; see
    ``F.interpolate`` for the modes.

    Example:
        >>> nn.Upsample(scale_factor=2, mode="nearest")(ag.randn(1, 1, 2, 2)).shape
        (1, 1, 4, 4)
    """

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest",
                 align_corners=None, recompute_scale_factor=None):
        super().__init__()
        self.size, self.scale_factor, self.mode = size, scale_factor, mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return interpolate(input, self.size, self.scale_factor, self.mode,
                           self.align_corners, self.recompute_scale_factor)

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            return f"scale_factor={self.scale_factor!r}, mode={self.mode!r}"
        return f"size={self.size!r}, mode={self.mode!r}"
