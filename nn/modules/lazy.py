"""Lazy modules (PyTorch's ``LazyModuleMixin``): layers whose input size (``in_features``,
``in_channels``, ``num_features``) is inferred from the first input. Until then their
parameters are ``UninitializedParameter``s (and their running statistics
``UninitializedBuffer``s); the first call materialises them with the inferred shape,
initialises them as the concrete layer does, and turns the module into that layer
(``LazyLinear`` becomes ``Linear``). Loading a state_dict also materialises them, from the
saved shapes. Create the optimizer after a first (dry) call, as in PyTorch.
"""

from __future__ import annotations

from autograd import dtypes as _dt
from autograd.grad_mode import no_grad
from autograd.tensor import Parameter, Tensor, _make, empty, tensor

from . import conv as _conv
from .linear import Linear
from .normalization import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
)

_SHAPE_MSG = ("Can't access the shape of an uninitialized parameter or buffer. This error "
              "usually happens in `load_state_dict` when trying to load an uninitialized "
              "parameter into an initialized one. Call `forward` to initialize the "
              "parameters before accessing their attributes.")


def _placeholder(device=None, dtype=None):
    """An empty array of the dtype (and on the device) the materialised tensor will have."""
    dt = _dt.to_dtype(dtype) or _dt.get_default_dtype()
    return empty(0, dtype=dt, device=device)._data


class _UninitializedMixin:
    """What an uninitialised tensor refuses (its shape and everything derived from it) and
    ``materialize``, which gives it its data and its final class."""

    cls_to_become = Tensor

    @property
    def shape(self):
        raise RuntimeError(_SHAPE_MSG)

    def size(self, dim=None):
        raise RuntimeError(_SHAPE_MSG)

    def numel(self):
        raise RuntimeError(_SHAPE_MSG)

    def dim(self):
        raise RuntimeError(_SHAPE_MSG)

    @property
    def ndim(self):
        raise RuntimeError(_SHAPE_MSG)

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Allocate the data (uninitialised values, as ``torch.empty``) with ``shape``, on
        this tensor's device and with its dtype unless given, and become a
        ``cls_to_become`` (Parameter or Tensor) in place, keeping this object's identity."""
        shape = (shape,) if isinstance(shape, int) else tuple(int(s) for s in shape)
        dev = self.device if device is None else device
        dt = self._data.dtype if dtype is None else (_dt.to_dtype(dtype) or dtype)
        self._data = empty(*shape, dtype=dt, device=dev)._data
        self._vc[0] += 1
        self.__class__ = self.cls_to_become

    def to(self, *args, **kwargs):
        """Move/cast the placeholder: the result is still uninitialised (a module's
        ``.to()`` replaces its buffers by their ``.to()``)."""
        out = super().to(*args, **kwargs)
        if out is not self and not isinstance(out, _UninitializedMixin):
            out.__class__ = type(self)
        return out

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class UninitializedParameter(_UninitializedMixin, Parameter):
    """A Parameter without data yet (a lazy module's weight before its first call); its
    shape is unknown, and ``materialize(shape)`` turns it into a Parameter.

    Example:
        >>> p = nn.UninitializedParameter()
        >>> p.materialize((2, 3))
        >>> type(p).__name__, p.shape
        ('Parameter', (2, 3))
    """

    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device=None, dtype=None):
        p = Parameter.__new__(cls, _make(_placeholder(device, dtype)), requires_grad)
        return p

    def __init__(self, requires_grad: bool = True, device=None, dtype=None):
        pass


class UninitializedBuffer(_UninitializedMixin, Tensor):
    """A buffer without data yet (a lazy norm layer's running statistics);
    ``materialize(shape)`` turns it into a Tensor."""

    cls_to_become = Tensor

    def __new__(cls, requires_grad: bool = False, device=None, dtype=None):
        t = _make(_placeholder(device, dtype), requires_grad=requires_grad)
        t.__class__ = cls
        return t

    def __init__(self, requires_grad: bool = False, device=None, dtype=None):
        pass


def _is_lazy(t) -> bool:
    return isinstance(t, _UninitializedMixin)


def _infer_parameters(module, args):
    """The forward pre-hook of a lazy module: materialise from the first input, then
    become the concrete class."""
    module.initialize_parameters(*args)
    if module.has_uninitialized_params():
        raise RuntimeError(f"module {type(module).__name__} has not been fully initialized")
    module._lazy_hook.remove()
    del module._lazy_hook
    if module.cls_to_become is not None:
        module.__class__ = module.cls_to_become


class LazyModuleMixin:
    """Mixin of the lazy modules: registers the pre-hook that calls
    ``initialize_parameters(*inputs)`` at the first call, after which the module becomes
    ``cls_to_become``."""

    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._lazy_hook = self.register_forward_pre_hook(_infer_parameters)

    def has_uninitialized_params(self) -> bool:
        """True while a parameter or buffer is still uninitialised."""
        return any(_is_lazy(t) for t in (*self._parameters.values(), *self._buffers.values()))

    def initialize_parameters(self, *args, **kwargs) -> None:
        """Materialise the parameters from the first input (each lazy class defines it)."""
        raise NotImplementedError(f"initialize_parameters is not implemented for "
                                  f"{type(self).__name__}")

    def _lazy_load_hook(self, state_dict, prefix: str) -> None:
        """Called by ``Module.load_state_dict`` before it compares shapes: materialise the
        uninitialised tensors that the state_dict has, with its shapes."""
        for d in (self._parameters, self._buffers):
            for name, t in d.items():
                key = prefix + name
                if _is_lazy(t) and key in state_dict:
                    t.materialize(tuple(state_dict[key].shape))
        self._after_lazy_load()

    def _after_lazy_load(self) -> None:
        """Record the sizes the loaded tensors imply (in_features...)."""


# ---- Linear ---------------------------------------------------------------------------------

class LazyLinear(LazyModuleMixin, Linear):
    """``Linear`` whose ``in_features`` is inferred from the first input's last dim.

    Example:
        >>> fc = nn.LazyLinear(10)
        >>> fc(ag.randn(4, 7)).shape
        (4, 10)
        >>> type(fc).__name__, fc.in_features
        ('Linear', 7)
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__(0, 0, False, device=device, dtype=dtype)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs) -> None:
        if self.has_uninitialized_params():
            with no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()

    def _after_lazy_load(self) -> None:
        if not _is_lazy(self.weight):
            self.in_features = self.weight.shape[1]


# ---- convolutions ---------------------------------------------------------------------------

class _LazyConvXdMixin(LazyModuleMixin):
    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def _get_in_channels(self, input) -> int:
        nd = self.nd
        if input.ndim not in (nd + 1, nd + 2):
            raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input "
                               f"to {type(self).__name__}, but got input of size: "
                               f"{list(input.shape)}")
        return input.shape[1] if input.ndim == nd + 2 else input.shape[0]

    def initialize_parameters(self, input, *args, **kwargs) -> None:
        if self.has_uninitialized_params():
            self.in_channels = self._get_in_channels(input)
            if self.in_channels % self.groups != 0:
                raise ValueError("in_channels must be divisible by groups")
            with no_grad():
                if self.transposed:
                    shape = (self.in_channels, self.out_channels // self.groups)
                else:
                    shape = (self.out_channels, self.in_channels // self.groups)
                self.weight.materialize(shape + tuple(self.kernel_size))
                if self.bias is not None:
                    self.bias.materialize((self.out_channels,))
                self.reset_parameters()

    def _after_lazy_load(self) -> None:
        if not _is_lazy(self.weight):
            w = self.weight.shape
            self.in_channels = w[0] if self.transposed else w[1] * self.groups

    def _lazy_init(self, out_channels, bias, device, dtype) -> None:
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)


def _lazy_conv(base, doc):
    """The lazy class of convolution ``base`` (``in_channels`` inferred)."""

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None,
                 dtype=None):
        base.__init__(self, 0, 0, kernel_size, stride, padding, dilation, groups, False,
                      padding_mode, device=device, dtype=dtype)
        self._lazy_hook = self.register_forward_pre_hook(_infer_parameters)
        self._lazy_init(out_channels, bias, device, dtype)

    cls = type(f"Lazy{base.__name__}", (_LazyConvXdMixin, base),
               {"cls_to_become": base, "__init__": __init__, "__doc__": doc,
                "__module__": __name__})
    return cls


def _lazy_conv_transpose(base, doc):
    """The lazy class of transposed convolution ``base``."""

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros",
                 device=None, dtype=None):
        base.__init__(self, 0, 0, kernel_size, stride, padding, output_padding, groups, False,
                      dilation, padding_mode, device=device, dtype=dtype)
        self._lazy_hook = self.register_forward_pre_hook(_infer_parameters)
        self._lazy_init(out_channels, bias, device, dtype)

    return type(f"Lazy{base.__name__}", (_LazyConvXdMixin, base),
                {"cls_to_become": base, "__init__": __init__, "__doc__": doc,
                 "__module__": __name__})


_CONV_DOC = """``{base}`` whose ``in_channels`` is inferred from the first input (dim 1, or
dim 0 of an unbatched input); it becomes a ``{base}`` at the first call.

Example:
    >>> conv = nn.{name}(8, 3)
    >>> y = conv(ag.randn({shape}))
"""

LazyConv1d = _lazy_conv(_conv.Conv1d, _CONV_DOC.format(base="Conv1d", name="LazyConv1d",
                                                       shape="2, 3, 16"))
LazyConv2d = _lazy_conv(_conv.Conv2d, _CONV_DOC.format(base="Conv2d", name="LazyConv2d",
                                                       shape="2, 3, 16, 16"))
LazyConvTranspose1d = _lazy_conv_transpose(
    _conv.ConvTranspose1d, _CONV_DOC.format(base="ConvTranspose1d", name="LazyConvTranspose1d",
                                            shape="2, 3, 16"))
LazyConvTranspose2d = _lazy_conv_transpose(
    _conv.ConvTranspose2d, _CONV_DOC.format(base="ConvTranspose2d", name="LazyConvTranspose2d",
                                            shape="2, 3, 16, 16"))
# Conv3d / ConvTranspose3d come with the 3-D convolutions (nn/modules/conv.py), when present
LAZY_3D = []
if hasattr(_conv, "Conv3d"):
    LazyConv3d = _lazy_conv(_conv.Conv3d, _CONV_DOC.format(base="Conv3d", name="LazyConv3d",
                                                           shape="2, 3, 8, 8, 8"))
    LAZY_3D.append("LazyConv3d")
if hasattr(_conv, "ConvTranspose3d"):
    LazyConvTranspose3d = _lazy_conv_transpose(
        _conv.ConvTranspose3d, _CONV_DOC.format(base="ConvTranspose3d",
                                                name="LazyConvTranspose3d",
                                                shape="2, 3, 8, 8, 8"))
    LAZY_3D.append("LazyConvTranspose3d")


# ---- batch / instance norm ------------------------------------------------------------------

class _LazyNormBase(LazyModuleMixin):
    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None, *,
                 bias: bool = True):
        super().__init__(0, eps, momentum, False, False, device, dtype, bias=bias)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = None
            self.running_var = None
            self._buffers["running_mean"] = UninitializedBuffer(device=device, dtype=dtype)
            self._buffers["running_var"] = UninitializedBuffer(device=device, dtype=dtype)
            nbt = tensor(0, dtype=_dt.int64)
            self._buffers["num_batches_tracked"] = nbt if device is None else nbt.to(device)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs) -> None:
        if self.has_uninitialized_params():
            self.num_features = input.shape[1]
            with no_grad():
                if self.affine:
                    self.weight.materialize((self.num_features,))
                    if self.bias is not None:
                        self.bias.materialize((self.num_features,))
                if self.track_running_stats:
                    self.running_mean.materialize((self.num_features,))
                    self.running_var.materialize((self.num_features,))
                self.reset_parameters()

    def _after_lazy_load(self) -> None:
        for t in (self.weight, self.running_mean):
            if t is not None and not _is_lazy(t):
                self.num_features = t.shape[0]
                return


def _lazy_norm(base, doc):
    return type(f"Lazy{base.__name__}", (_LazyNormBase, base),
                {"cls_to_become": base, "__doc__": doc, "__module__": __name__})


_NORM_DOC = """``{base}`` whose ``num_features`` is inferred from the first input's dim 1;
it becomes a ``{base}`` at the first call. (As in PyTorch, the lazy instance norms default
to ``affine=True`` and ``track_running_stats=True``.)

Example:
    >>> norm = nn.{name}()
    >>> y = norm(ag.randn({shape}))
"""

LazyBatchNorm1d = _lazy_norm(BatchNorm1d, _NORM_DOC.format(base="BatchNorm1d",
                                                           name="LazyBatchNorm1d",
                                                           shape="4, 3"))
LazyBatchNorm2d = _lazy_norm(BatchNorm2d, _NORM_DOC.format(base="BatchNorm2d",
                                                           name="LazyBatchNorm2d",
                                                           shape="4, 3, 5, 5"))
LazyBatchNorm3d = _lazy_norm(BatchNorm3d, _NORM_DOC.format(base="BatchNorm3d",
                                                           name="LazyBatchNorm3d",
                                                           shape="4, 3, 2, 5, 5"))
LazyInstanceNorm1d = _lazy_norm(InstanceNorm1d, _NORM_DOC.format(base="InstanceNorm1d",
                                                                 name="LazyInstanceNorm1d",
                                                                 shape="4, 3, 5"))
LazyInstanceNorm2d = _lazy_norm(InstanceNorm2d, _NORM_DOC.format(base="InstanceNorm2d",
                                                                 name="LazyInstanceNorm2d",
                                                                 shape="4, 3, 5, 5"))
LazyInstanceNorm3d = _lazy_norm(InstanceNorm3d, _NORM_DOC.format(base="InstanceNorm3d",
                                                                 name="LazyInstanceNorm3d",
                                                                 shape="4, 3, 2, 5, 5"))
