"""``Upsample`` (a module around ``F.interpolate``) and the fixed-mode
``UpsamplingNearest2d`` / ``UpsamplingBilinear2d``."""

from __future__ import annotations

from ..functional.upsampling import interpolate
from .module import Module


class Upsample(Module):
    """Resize (N, C, L), (N, C, H, W) or (N, C, D, H, W) inputs by ``size`` or
    ``scale_factor``; see ``F.interpolate`` for the modes ('nearest', 'nearest-exact',
    'linear', 'bilinear', 'bicubic', 'trilinear', 'area').

    Example:
        >>> nn.Upsample(scale_factor=2, mode="nearest")(ag.randn(1, 1, 2, 2)).shape
        (1, 1, 4, 4)
    """

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest",
                 align_corners=None, recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size, self.mode = size, mode
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return interpolate(input, self.size, self.scale_factor, self.mode,
                           self.align_corners, recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = "scale_factor=" + repr(self.scale_factor)
        else:
            info = "size=" + repr(self.size)
        return info + ", mode=" + repr(self.mode)


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour upsampling of (N, C, H, W) inputs (``Upsample`` with
    mode='nearest').

    Example:
        >>> nn.UpsamplingNearest2d(scale_factor=2)(ag.randn(1, 1, 2, 2)).shape
        (1, 1, 4, 4)
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear upsampling of (N, C, H, W) inputs with align_corners=True (``Upsample``
    with mode='bilinear', align_corners=True).

    Example:
        >>> nn.UpsamplingBilinear2d(scale_factor=2)(ag.randn(1, 1, 2, 2)).shape
        (1, 1, 4, 4)
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
