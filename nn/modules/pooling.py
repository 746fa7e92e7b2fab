"""Pooling layers (max, average, adaptive average; 1-D and 2-D), with PyTorch's arguments
and defaults."""

from __future__ import annotations

from ..functional import pooling as P
from .module import Module


class _MaxPoolNd(Module):
    _fn = None

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return type(self)._fn(input, self.kernel_size, self.stride, self.padding,
                              self.dilation, ceil_mode=self.ceil_mode,
                              return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
                f", dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """1-D max pooling over (N, C, L) or (C, L); see ``MaxPool2d``.

    Example:
        >>> nn.MaxPool1d(3, stride=2)(ag.randn(20, 16, 50)).shape
        (20, 16, 24)
    """

    _fn = staticmethod(P.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """2-D max pooling over (N, C, H, W) or (C, H, W).

    Args:
        kernel_size: window size, int or (kH, kW).
        stride: window step (default: kernel_size).
        padding: implicit -inf padding, at most half the kernel size.
        dilation: spacing between window elements.
        return_indices: also return the flat (h * W + w) index of each maximum.
        ceil_mode: round the output size up instead of down.

    Example:
        >>> nn.MaxPool2d(2)(ag.randn(64, 6, 28, 28)).shape
        (64, 6, 14, 14)
    """

    _fn = staticmethod(P.max_pool2d)


class AvgPool1d(Module):
    """1-D average pooling over (N, C, L) or (C, L); see ``AvgPool2d``.

    Example:
        >>> nn.AvgPool1d(3, stride=2)(ag.randn(20, 16, 50)).shape
        (20, 16, 24)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):
        return P.avg_pool1d(input, self.kernel_size, self.stride, self.padding,
                                self.ceil_mode, self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """2-D average pooling over (N, C, H, W) or (C, H, W).

    Args:
        kernel_size: window size, int or (kH, kW).
        stride: window step (default: kernel_size).
        padding: implicit zero padding, at most half the kernel size.
        ceil_mode: round the output size up instead of down.
        count_include_pad: count the zero padding in the averages' divisor.
        divisor_override: divide each window's sum by this instead.

    Example:
        >>> nn.AvgPool2d(2)(ag.randn(8, 3, 32, 32)).shape
        (8, 3, 16, 16)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        return P.avg_pool2d(input, self.kernel_size, self.stride, self.padding,
                                self.ceil_mode, self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool1d(Module):
    """Average pooling of (N, C, L) or (C, L) to a fixed output length.

    Example:
        >>> nn.AdaptiveAvgPool1d(5)(ag.randn(1, 64, 8)).shape
        (1, 64, 5)
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return P.adaptive_avg_pool1d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(Module):
    """Average pooling of (N, C, H, W) or (C, H, W) to a fixed output size (int or
    (oH, oW); None keeps that input size), with PyTorch's adaptive windows.

    Example:
        >>> nn.AdaptiveAvgPool2d((5, 7))(ag.randn(1, 64, 8, 9)).shape
        (1, 64, 5, 7)
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return P.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
