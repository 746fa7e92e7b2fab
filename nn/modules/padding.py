"""Padding layers (PyTorch's ``ConstantPad*``, ``ZeroPad*``, ``ReflectionPad*``,
``ReplicationPad*``, ``CircularPad*`` for 1 to 3 spatial dims): modules around ``F.pad``."""

from __future__ import annotations

import numbers

from ..functional.padding import pad as _pad
from .module import Module


def _pads(padding, nd: int) -> tuple:
    if isinstance(padding, numbers.Integral):
        return (int(padding),) * (2 * nd)
    return tuple(padding)


class _PadNd(Module):
    nd = 1
    mode = "constant"

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _pads(padding, self.nd)

    def forward(self, input):
        return _pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return _pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with a constant ``value``; ``padding`` an int or (left, right).

    Example:
        >>> nn.ConstantPad1d(2, 3.5)(ag.randn(1, 2, 4)).shape
        (1, 2, 8)
    """

    nd = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dims with a constant ``value``; ``padding`` an int or
    (left, right, top, bottom).

    Example:
        >>> nn.ConstantPad2d((1, 1, 2, 0), 3.5)(ag.randn(1, 2, 2)).shape
        (1, 4, 4)
    """

    nd = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dims with a constant ``value``; ``padding`` an int or
    (left, right, top, bottom, front, back).

    Example:
        >>> nn.ConstantPad3d(1, 3.5)(ag.randn(16, 3, 10, 20, 30)).shape
        (16, 3, 12, 22, 32)
    """

    nd = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pad the last dim with zeros; ``padding`` an int or (left, right).

    Example:
        >>> nn.ZeroPad1d(2)(ag.randn(1, 2, 4)).shape
        (1, 2, 8)
    """

    nd = 1


class ZeroPad2d(_ZeroPadNd):
    """Pad the last two dims with zeros; ``padding`` an int or (left, right, top, bottom).

    Example:
        >>> nn.ZeroPad2d(2)(ag.randn(1, 1, 3, 3)).shape
        (1, 1, 7, 7)
    """

    nd = 2


class ZeroPad3d(_ZeroPadNd):
    """Pad the last three dims with zeros; ``padding`` an int or a 6-tuple.

    Example:
        >>> nn.ZeroPad3d(1)(ag.randn(1, 1, 2, 2, 2)).shape
        (1, 1, 4, 4, 4)
    """

    nd = 3


class ReflectionPad1d(_PadNd):
    """Pad (C, W) or (N, C, W) by reflecting the input at its edges (each pad < W).

    Example:
        >>> nn.ReflectionPad1d(2)(ag.randn(1, 2, 4)).shape
        (1, 2, 8)
    """

    nd, mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Pad (C, H, W) or (N, C, H, W) by reflection; ``padding`` an int or
    (left, right, top, bottom).

    Example:
        >>> nn.ReflectionPad2d(2)(ag.randn(1, 1, 3, 3)).shape
        (1, 1, 7, 7)
    """

    nd, mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    """Pad (C, D, H, W) or (N, C, D, H, W) by reflection; ``padding`` an int or a 6-tuple.

    Example:
        >>> nn.ReflectionPad3d(1)(ag.randn(1, 1, 2, 2, 2)).shape
        (1, 1, 4, 4, 4)
    """

    nd, mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Pad (C, W) or (N, C, W) by repeating the edge values.

    Example:
        >>> nn.ReplicationPad1d(2)(ag.randn(1, 2, 4)).shape
        (1, 2, 8)
    """

    nd, mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Pad (C, H, W) or (N, C, H, W) by repeating the edge values.

    Example:
        >>> nn.ReplicationPad2d(2)(ag.randn(1, 1, 3, 3)).shape
        (1, 1, 7, 7)
    """

    nd, mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    """Pad (C, D, H, W) or (N, C, D, H, W) by repeating the edge values.

    Example:
        >>> nn.ReplicationPad3d(1)(ag.randn(1, 1, 2, 2, 2)).shape
        (1, 1, 4, 4, 4)
    """

    nd, mode = 3, "replicate"


class _CircularPadNd(_PadNd):
    mode = "circular"

    def forward(self, input):
        if input.ndim not in (self.nd + 1, self.nd + 2):
            raise ValueError(f"expected {self.nd + 1}D or {self.nd + 2}D input (got "
                             f"{input.ndim}D input)")
        return _pad(input, self.padding, "circular")


class CircularPad1d(_CircularPadNd):
    """Pad (C, W) or (N, C, W) circularly (wrap around; each pad <= W).

    Example:
        >>> nn.CircularPad1d(2)(ag.randn(1, 2, 4)).shape
        (1, 2, 8)
    """

    nd = 1


class CircularPad2d(_CircularPadNd):
    """Pad (C, H, W) or (N, C, H, W) circularly.

    Example:
        >>> nn.CircularPad2d(1)(ag.randn(1, 1, 3, 3)).shape
        (1, 1, 5, 5)
    """

    nd = 2


class CircularPad3d(_CircularPadNd):
    """Pad (C, D, H, W) or (N, C, D, H, W) circularly.

    Example:
        >>> nn.CircularPad3d(1)(ag.randn(1, 1, 2, 2, 2)).shape
        (1, 1, 4, 4, 4)
    """

    nd = 3
