"""Pooling layers (max, average, adaptive average and max, fractional max, power-average,
max unpooling; 1-D to 3-D), with PyTorch's arguments and defaults."""

from __future__ import annotations

from ..functional import pooling as P
from ..functional._utils import _ntuple
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
        # 1-tuples, as PyTorch stores them
        self.kernel_size = _ntuple(kernel_size, 1, "kernel_size", "AvgPool1d")
        self.stride = _ntuple(stride if stride is not None else kernel_size, 1, "stride",
                              "AvgPool1d")
        self.padding = _ntuple(padding, 1, "padding", "AvgPool1d")
        self.ceil_mode = ceil_mode
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


class MaxPool3d(_MaxPoolNd):
    """3-D max pooling over (N, C, D, H, W) or (C, D, H, W); the arguments of
    ``MaxPool2d`` with 3-tuples.

    Example:
        >>> nn.MaxPool3d(3, stride=2)(ag.randn(20, 16, 50, 44, 31)).shape
        (20, 16, 24, 21, 15)
    """

    _fn = staticmethod(P.max_pool3d)


class AvgPool3d(Module):
    """3-D average pooling over (N, C, D, H, W) or (C, D, H, W); the arguments of
    ``AvgPool2d`` with 3-tuples.

    Example:
        >>> nn.AvgPool3d(3, stride=2)(ag.randn(20, 16, 50, 44, 31)).shape
        (20, 16, 24, 21, 15)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        return P.avg_pool3d(input, self.kernel_size, self.stride, self.padding,
                            self.ceil_mode, self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool3d(Module):
    """Average pooling of (N, C, D, H, W) or (C, D, H, W) to a fixed output size.

    Example:
        >>> nn.AdaptiveAvgPool3d((5, 7, 9))(ag.randn(1, 64, 8, 9, 10)).shape
        (1, 64, 5, 7, 9)
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return P.adaptive_avg_pool3d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class _AdaptiveMaxPoolNd(Module):
    _fn = None

    def __init__(self, output_size, return_indices: bool = False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input):
        return type(self)._fn(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max pooling of (N, C, L) or (C, L) over adaptive windows to length ``output_size``.

    Example:
        >>> nn.AdaptiveMaxPool1d(5)(ag.randn(1, 64, 8)).shape
        (1, 64, 5)
    """

    _fn = staticmethod(P.adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max pooling of (N, C, H, W) or (C, H, W) over adaptive windows to ``output_size``
    (int or (oH, oW); None keeps that size); ``return_indices`` also returns the indices.

    Example:
        >>> nn.AdaptiveMaxPool2d((5, 7))(ag.randn(1, 64, 8, 9)).shape
        (1, 64, 5, 7)
    """

    _fn = staticmethod(P.adaptive_max_pool2d)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """Max pooling of (N, C, D, H, W) or (C, D, H, W) over adaptive windows.

    Example:
        >>> nn.AdaptiveMaxPool3d((5, 7, 9))(ag.randn(1, 64, 8, 9, 10)).shape
        (1, 64, 5, 7, 9)
    """

    _fn = staticmethod(P.adaptive_max_pool3d)


class _FractionalMaxPoolNd(Module):
    _fn = None
    nd = 2

    def __init__(self, kernel_size, output_size=None, output_ratio=None,
                 return_indices: bool = False, _random_samples=None):
        super().__init__()
        name = type(self).__name__
        self.kernel_size = kernel_size
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = output_size
        self.output_ratio = output_ratio
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a pooling "
                             "ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if output_ratio is not None:
            r = P._ntuple_f(output_ratio, self.nd, name)
            self.output_ratio = r
            if not all(0 < a < 1 for a in r):
                raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input):
        return type(self)._fn(input, self.kernel_size, self.output_size, self.output_ratio,
                              self.return_indices, _random_samples=self._random_samples)


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """Fractional max pooling over (N, C, H, W) or (C, H, W); see
    ``F.fractional_max_pool2d``.

    Example:
        >>> nn.FractionalMaxPool2d(3, output_ratio=(0.5, 0.5))(ag.randn(20, 16, 50, 32)).shape
        (20, 16, 25, 16)
    """

    _fn = staticmethod(P.fractional_max_pool2d)
    nd = 2


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """Fractional max pooling over (N, C, D, H, W) or (C, D, H, W).

    Example:
        >>> nn.FractionalMaxPool3d(3, output_size=(13, 12, 11))(
        ...     ag.randn(2, 4, 20, 16, 15)).shape
        (2, 4, 13, 12, 11)
    """

    _fn = staticmethod(P.fractional_max_pool3d)
    nd = 3


class _LPPoolNd(Module):
    _fn = None

    def __init__(self, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
        super().__init__()
        self.norm_type, self.kernel_size = norm_type, kernel_size
        self.stride, self.ceil_mode = stride, ceil_mode

    def forward(self, input):
        return type(self)._fn(input, float(self.norm_type), self.kernel_size, self.stride,
                              self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """Power-average pooling over (N, C, L) or (C, L): (sum of x^p over a window)^(1/p).

    Example:
        >>> nn.LPPool1d(2, 3, stride=2)(ag.randn(20, 16, 50)).shape
        (20, 16, 24)
    """

    _fn = staticmethod(P.lp_pool1d)


class LPPool2d(_LPPoolNd):
    """Power-average pooling over (N, C, H, W) or (C, H, W).

    Example:
        >>> nn.LPPool2d(2, 3, stride=2)(ag.randn(20, 16, 50, 32)).shape
        (20, 16, 24, 15)
    """

    _fn = staticmethod(P.lp_pool2d)


class LPPool3d(_LPPoolNd):
    """Power-average pooling over (N, C, D, H, W) or (C, D, H, W).

    Example:
        >>> nn.LPPool3d(2, 3, stride=2)(ag.randn(20, 16, 50, 44, 31)).shape
        (20, 16, 24, 21, 15)
    """

    _fn = staticmethod(P.lp_pool3d)


class _MaxUnpoolNd(Module):
    _fn = None
    nd = 2

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        name = type(self).__name__
        self.kernel_size = _ntuple(kernel_size, self.nd, "kernel_size", name)
        self.stride = _ntuple(stride if stride is not None else kernel_size, self.nd,
                              "stride", name)
        self.padding = _ntuple(padding, self.nd, "padding", name)

    def forward(self, input, indices, output_size=None):
        return type(self)._fn(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """The partial inverse of ``MaxPool1d``: values written at their max-pool indices in a
    zero output.

    Example:
        >>> pool = nn.MaxPool1d(2, return_indices=True)
        >>> y, i = pool(ag.randn(1, 1, 8))
        >>> nn.MaxUnpool1d(2)(y, i).shape
        (1, 1, 8)
    """

    _fn = staticmethod(P.max_unpool1d)
    nd = 1


class MaxUnpool2d(_MaxUnpoolNd):
    """The partial inverse of ``MaxPool2d``; ``forward(input, indices, output_size=None)``.

    Example:
        >>> y, i = nn.MaxPool2d(2, return_indices=True)(ag.randn(1, 1, 4, 4))
        >>> nn.MaxUnpool2d(2)(y, i).shape
        (1, 1, 4, 4)
    """

    _fn = staticmethod(P.max_unpool2d)
    nd = 2


class MaxUnpool3d(_MaxUnpoolNd):
    """The partial inverse of ``MaxPool3d``; ``forward(input, indices, output_size=None)``.

    Example:
        >>> y, i = nn.MaxPool3d(2, return_indices=True)(ag.randn(1, 1, 4, 4, 4))
        >>> nn.MaxUnpool3d(2)(y, i).shape
        (1, 1, 4, 4, 4)
    """

    _fn = staticmethod(P.max_unpool3d)
    nd = 3
