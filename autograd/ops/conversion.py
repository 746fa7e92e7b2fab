"""Conversions between dtypes and devices: ``Tensor.to`` and its shorthands (``cpu``,
``cuda``, ``float``, ``double``...). Both are differentiable: a floating cast's gradient is
cast back (``elementwise.Cast``), a device move's gradient moves back (``ToDevice``)."""

from __future__ import annotations

from .. import backend
from .. import dtypes as _dt
from ..backend import Device, device_of, parse_device
from ..function import Op
from ..registry import register
from ..tensor import Tensor, _looks_like_dtype
from .elementwise import Cast, cast

_CV = "conversion"


class ToDevice(Op):
    """Move to another device; the gradient moves back to the source device."""

    @staticmethod
    def forward(ctx, x, device, non_blocking=False):
        ctx.src = device_of(x)
        return backend.to_device(x, device, non_blocking)

    @staticmethod
    def backward(ctx, gy):
        if isinstance(gy, Tensor):
            return to(gy, ctx.src)
        return backend.to_device(gy, ctx.src)


@register(family=_CV, op=ToDevice, function=False)
def to(self, *args, **kwargs) -> Tensor:
    """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(other_tensor)``."""
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    non_blocking = bool(kwargs.pop("non_blocking", False))
    copy = kwargs.pop("copy", False)
    if kwargs:
        raise TypeError(f"to() got unexpected arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            device, dtype = a.device, a.dtype
        elif isinstance(a, (str, Device)) and not _looks_like_dtype(a):
            device = a
        elif a is not None:
            dtype = a
    out = self
    if dtype is not None:
        dt = _dt.to_dtype(dtype)
        if dt != self.dtype:
            out = cast(out, dt)
    if device is not None:
        dev = parse_device(device)
        if dev != out.device:
            out = ToDevice.apply(out, device=dev, non_blocking=non_blocking)
    if copy and out is self:
        out = self.clone()
    return out


@register(family=_CV, op=ToDevice, function=False)
def cpu(self) -> Tensor:
    """A copy on the CPU (the tensor itself when already there)."""
    return to(self, "cpu")


@register(family=_CV, op=ToDevice, function=False)
def cuda(self, device=None) -> Tensor:
    """A copy on a CUDA device (``cuda:0`` by default)."""
    return to(self, "cuda" if device is None else parse_device(device) if not isinstance(
        device, int) else f"cuda:{device}")


def _to_dtype(name, dtype):
    def fn(self) -> Tensor:
        return to(self, dtype)

    fn.__doc__ = f"``self.to({_dt.to_dtype(dtype)})``."
    return register(name, family=_CV, op=Cast, function=False)(fn)


# (module names with a trailing _: the methods' names would shadow builtins here)
float_ = _to_dtype("float", _dt.float32)
double = _to_dtype("double", _dt.float64)
half = _to_dtype("half", _dt.float16)
long = _to_dtype("long", _dt.int64)
int_ = _to_dtype("int", _dt.int32)
bool_ = _to_dtype("bool", _dt.bool_)
byte = _to_dtype("byte", _dt.uint8)
char = _to_dtype("char", _dt.int8)
short = _to_dtype("short", _dt.int16)


@register("type", family=_CV, function=False)
def type_(self, dtype=None, non_blocking=False):
    """PyTorch's legacy type name ("torch.FloatTensor") with no argument; else
    ``self.to(dtype)``, where ``dtype`` may also be such a name ("torch.DoubleTensor")."""
    if dtype is None:
        return _dt.tensor_type_name(self.dtype, self.device.type == "cuda")
    if isinstance(dtype, str) and dtype.startswith("torch."):
        found = _dt.dtype_of_type_name(dtype)
        if found is None:
            raise ValueError(f"type: invalid type {dtype!r}")
        dt, cuda = found
        out = to(self, dt)
        return to(out, "cuda") if cuda else to(out, "cpu")
    return to(self, dtype)


@register(family=_CV, function=False, arity=2)
def type_as(self, other: Tensor) -> Tensor:
    """``self.to(other.dtype)``."""
    return to(self, other.dtype)
