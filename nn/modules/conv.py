"""Convolution layers (``Conv1d``, ``Conv2d``, ``Conv3d``, ``ConvTranspose1d``,
``ConvTranspose2d``, ``ConvTranspose3d``) and
the im2col layers ``Unfold`` / ``Fold``, with PyTorch's arguments, defaults, initialisation
and parameter names."""

from __future__ import annotations

import math

from autograd import dtypes as _dt
from autograd.ops import shape as S
from autograd.tensor import Parameter, empty

from .. import init
from ..functional import conv as C
from ..functional._utils import _ntuple, _positive, _shape_str
from .module import Module

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """Shared state and checks of the convolution layers (``nd`` spatial dims)."""

    nd = 2
    transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 output_padding=0, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        nd = self.nd
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by "
                             f"groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by "
                             f"groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got "
                             f"{padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _ntuple(kernel_size, nd, "kernel_size", name)
        self.stride = _ntuple(stride, nd, "stride", name)
        self.dilation = _ntuple(dilation, nd, "dilation", name)
        self.output_padding = _ntuple(output_padding, nd, "output_padding", name)
        _positive(self.kernel_size, "kernel_size", name)
        if isinstance(padding, str):
            if self.transposed:
                raise ValueError(f"{name}: padding must be an int or a tuple of ints")
            # PyTorch's module checks (ValueError; the functional form raises RuntimeError)
            if padding not in ("valid", "same"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 "{'valid', 'same'}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _ntuple(padding, nd, "padding", name)
        if padding_mode != "zeros" and self.transposed:
            raise ValueError(f'{name}: only "zeros" padding_mode is supported')
        self.padding_mode = padding_mode
        # F.pad's argument for non-zero padding modes: (left, right) pairs, last dim first
        pads = C._conv_pads(self.padding, self.kernel_size, self.stride, self.dilation,
                                name) if not self.transposed else ()
        self._reversed_padding_repeated_twice = tuple(
            p for i in reversed(range(nd)) for p in pads[2 * i:2 * i + 2])
        dt = _dt.to_dtype(dtype) or _dt.get_default_dtype()
        if self.transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(empty(*shape, dtype=dt))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self) -> None:
        # PyTorch's default: kaiming_uniform_(a=sqrt(5)) == U(-1/sqrt(fan_in), 1/sqrt(fan_in))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def _short(self) -> str:
        return (f"{type(self).__name__}(in_channels={self.in_channels}, out_channels="
                f"{self.out_channels}, kernel_size={self.kernel_size})")

    def _check_input(self, x) -> None:
        sp = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}[self.nd]
        c = self.in_channels
        ok = x.ndim in (self.nd + 1, self.nd + 2)
        if ok:
            ok = (x.shape[0] if x.ndim == self.nd + 1 else x.shape[1]) == c
        if not ok:
            raise RuntimeError(
                f"{self._short()}: expected input of shape (N, {c}, {', '.join(sp)}) or "
                f"({c}, {', '.join(sp)}), got {_shape_str(x.shape)}"
            )

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * self.nd:
            s += f", padding={self.padding}"  # a string unquoted, as PyTorch prints it
        if self.dilation != (1,) * self.nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self.nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    _fn = None

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, 0, device, dtype)

    def forward(self, input):
        self._check_input(input)
        fn = type(self)._fn
        if self.padding_mode != "zeros":
            x = S.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return fn(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return fn(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                  self.groups)


class Conv1d(_Conv):
    """1-D convolution over (N, C_in, L) or (C_in, L) inputs.

    Args:
        in_channels, out_channels: channels of the input and output.
        kernel_size, stride, dilation: int or 1-tuple.
        padding: int, 1-tuple, 'valid' or 'same'.
        groups: channel groups (in_channels and out_channels must be divisible by it).
        bias: learn a (out_channels,) bias.
        padding_mode: 'zeros', 'reflect', 'replicate' or 'circular'.

    Weight (out_channels, in_channels / groups, k), initialised like PyTorch.

    Example:
        >>> nn.Conv1d(16, 33, 3, stride=2)(ag.randn(20, 16, 50)).shape
        (20, 33, 24)
    """

    nd = 1
    _fn = staticmethod(C.conv1d)


class Conv2d(_Conv):
    """2-D convolution over (N, C_in, H, W) or (C_in, H, W) inputs.

    Args:
        in_channels, out_channels: channels of the input and output.
        kernel_size, stride, dilation: int or (h, w).
        padding: int, (h, w), 'valid' or 'same'.
        groups: channel groups (groups = in_channels: depthwise).
        bias: learn a (out_channels,) bias.
        padding_mode: 'zeros', 'reflect', 'replicate' or 'circular'.

    Weight (out_channels, in_channels / groups, kH, kW) ~ kaiming_uniform_(a=sqrt(5)), i.e.
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels / groups * kH * kW; bias
    from the same range.

    Example:
        >>> nn.Conv2d(1, 6, 5, padding=2)(ag.randn(64, 1, 28, 28)).shape
        (64, 6, 28, 28)
    """

    nd = 2
    _fn = staticmethod(C.conv2d)


class Conv3d(_Conv):
    """3-D convolution over (N, C_in, D, H, W) or (C_in, D, H, W) inputs.

    Args:
        in_channels, out_channels: channels of the input and output.
        kernel_size, stride, dilation: int or (d, h, w).
        padding: int, (d, h, w), 'valid' or 'same'.
        groups: channel groups.
        bias: learn a (out_channels,) bias.
        padding_mode: 'zeros', 'reflect', 'replicate' or 'circular'.

    Weight (out_channels, in_channels / groups, kD, kH, kW), initialised like PyTorch.

    Example:
        >>> nn.Conv3d(16, 33, 3, stride=2)(ag.randn(20, 16, 10, 50, 100)).shape
        (20, 33, 4, 24, 49)
    """

    nd = 3
    _fn = staticmethod(C.conv3d)


class _ConvTranspose(_ConvNd):
    transposed = True
    _fn = None

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, device, dtype)

    def _output_padding(self, input, output_size) -> tuple:
        """The output_padding giving ``output_size`` (PyTorch's rule), or the attribute."""
        if output_size is None:
            return self.output_padding
        nd = self.nd
        output_size = tuple(int(s) for s in output_size)[-nd:]
        if len(output_size) != nd:
            raise ValueError(f"{type(self).__name__}: output_size must have {nd} or "
                             f"{nd + 2} elements, got {output_size}")
        out = ()
        for d in range(nd):
            size = input.shape[input.ndim - nd + d]
            lo = ((size - 1) * self.stride[d] - 2 * self.padding[d]
                  + self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            hi = lo + self.stride[d] - 1
            if not lo <= output_size[d] <= hi:
                raise ValueError(
                    f"{type(self).__name__}: requested an output size of {output_size}, but "
                    f"valid sizes range from {lo} to {hi} in dim {d} (for an input of shape "
                    f"{_shape_str(input.shape)})"
                )
            out += (output_size[d] - lo,)
        return out

    def forward(self, input, output_size=None):
        self._check_input(input)
        op = self._output_padding(input, output_size)
        return type(self)._fn(input, self.weight, self.bias, self.stride, self.padding, op,
                              self.groups, self.dilation)


class ConvTranspose1d(_ConvTranspose):
    """1-D transposed convolution (the gradient of Conv1d with respect to its input) over
    (N, C_in, L) or (C_in, L). Weight (in_channels, out_channels / groups, k).

    Example:
        >>> nn.ConvTranspose1d(16, 8, 3, stride=2)(ag.randn(4, 16, 10)).shape
        (4, 8, 21)
    """

    nd = 1
    _fn = staticmethod(C.conv_transpose1d)


class ConvTranspose2d(_ConvTranspose):
    """2-D transposed convolution (the gradient of Conv2d with respect to its input) over
    (N, C_in, H, W) or (C_in, H, W).

    Args:
        in_channels, out_channels, kernel_size, stride, padding, groups, dilation: those of
            the convolution being transposed.
        output_padding: extra size added to one side of the output (< stride or dilation).
        bias: learn a (out_channels,) bias.

    Weight (in_channels, out_channels / groups, kH, kW), initialised like PyTorch. The
    forward accepts ``output_size`` to pick the output_padding.

    Example:
        >>> nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1)(ag.randn(4, 16, 7, 7)).shape
        (4, 8, 13, 13)
    """

    nd = 2
    _fn = staticmethod(C.conv_transpose2d)


class ConvTranspose3d(_ConvTranspose):
    """3-D transposed convolution (the gradient of Conv3d with respect to its input) over
    (N, C_in, D, H, W) or (C_in, D, H, W); the arguments of ``ConvTranspose2d`` with
    3-tuples. Weight (in_channels, out_channels / groups, kD, kH, kW).

    Example:
        >>> nn.ConvTranspose3d(16, 33, 3, stride=2)(ag.randn(20, 16, 10, 50, 100)).shape
        (20, 33, 21, 101, 201)
    """

    nd = 3
    _fn = staticmethod(C.conv_transpose3d)


class Unfold(Module):
    """Extract sliding local blocks (im2col): (N, C, H, W) -> (N, C*kH*kW, L).

    Example:
        >>> nn.Unfold(kernel_size=(2, 3))(ag.randn(2, 5, 3, 4)).shape
        (2, 30, 4)
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input):
        return C.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """Sum sliding local blocks into an image (col2im): (N, C*kH*kW, L) -> (N, C, H, W).

    Example:
        >>> nn.Fold(output_size=(4, 5), kernel_size=(2, 2))(ag.randn(1, 12, 12)).shape
        (1, 3, 4, 5)
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return C.fold(input, self.output_size, self.kernel_size, self.dilation,
                          self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")
