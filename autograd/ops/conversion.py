"""Conversions between dtypes and devices: ``Tensor.to`` and its shorthands (``cpu``,
``cuda``, ``float``, ``double``...). Both are differentiable: a floating cast's gradient is
cast back (``elementwise.Cast``), a device move's gradient moves back (``ToDevice``)."""

from __future__ import annotations

import math
import warnings

import numpy as _np

from .. import backend
from .. import dtypes as _dt
from .. import tensor as _tensor
from ..backend import Device, device_of, parse_device
from ..function import Op
from ..grad_mode import state
from ..registry import register
from ..tensor import Tensor, _looks_like_dtype, _make
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
    """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(other_tensor)``, with
    PyTorch's keywords ``non_blocking``, ``copy`` and ``memory_format`` (every memory format
    holds the same values here, as for ``clone``/``contiguous``)."""
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    non_blocking = bool(kwargs.pop("non_blocking", False))
    copy = kwargs.pop("copy", False)
    memory_format = kwargs.pop("memory_format", None)
    if memory_format is not None and not isinstance(memory_format, _dt.memory_format):
        raise TypeError("to(): argument 'memory_format' must be a memory format "
                        f"(e.g. torch.channels_last), not {type(memory_format).__name__}")
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
cfloat = _to_dtype("cfloat", _dt.complex64)
cdouble = _to_dtype("cdouble", _dt.complex128)


@register("bfloat16", family=_CV, op=Cast, function=False)
def bfloat16(self) -> Tensor:
    """``self.to(bfloat16)`` (ml_dtypes' bfloat16)."""
    return to(self, _dt.bfloat16_dtype())


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


# ---- Tensor queries and factories (helper 'shape') -----------------------------------------

@register(family=_CV, function=False, differentiable=False)
def nelement(self) -> int:
    """The number of elements (``numel()``)."""
    return int(self._data.size)


@register(family=_CV, function=False, differentiable=False)
def ndimension(self) -> int:
    """The number of dims (``dim()``)."""
    return self._data.ndim


@register(family=_CV, function=False, differentiable=False)
def stride(self, dim=None):
    """The step in elements between neighbours along each dim (of a view: its own strides;
    0 along expanded dims), or along ``dim``."""
    a = self._data
    st = tuple(s // a.itemsize for s in a.strides)
    if dim is None:
        return st
    if a.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return st[_norm_dim0(dim, a.ndim)]


def _norm_dim0(dim, n=0):
    m = max(n, 1)
    if not -m <= dim < m:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-m}, {m - 1}], "
                         f"but got {dim})")
    return dim % m


@register(family=_CV, method=True, arity=2, differentiable=False)
def is_same_size(x, other) -> bool:
    """True when both tensors have the same shape."""
    return tuple(x.shape) == tuple(other.shape)


@register(family=_CV, differentiable=False)
def is_nonzero(x) -> bool:
    """The truth of a one-element tensor (RuntimeError for any other size)."""
    n = x.numel()
    if n == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if n > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(x.item())


@register(family=_CV, differentiable=False)
def is_signed(x) -> bool:
    """True unless the dtype is unsigned (uint8...) or bool."""
    return x.dtype.kind not in "ub"


@register(family=_CV, method=False, differentiable=False)
def is_floating_point(x) -> bool:
    """True for floating dtypes."""
    return x.is_floating_point()


@register(family=_CV, method=False, differentiable=False)
def is_complex(x) -> bool:
    """False: this engine's dtypes are real."""
    return x.is_complex()


@register(family=_CV, method=False, differentiable=False)
def is_conj(x) -> bool:
    """False: real tensors carry no conjugate bit."""
    return False


@register(family=_CV, method=False, differentiable=False)
def conj(x):
    """The complex conjugate; a real tensor itself, as in PyTorch (``Tensor.conj``)."""
    return x.conj()


@register(family=_CV, differentiable=False)
def conj_physical(x):
    """The complex conjugate, always a new tensor (a real tensor's copy)."""
    return x.conj() if x._data.dtype.kind == "c" else x.clone()


@register(family=_CV, method=False, differentiable=False, aliases=("resolve_neg",))
def resolve_conj(x):
    """``x`` itself: there are no lazy conjugate or negative bits to resolve here."""
    return x


@register(family=_CV, method=False, differentiable=False)
def real(x):
    """The real part (``Tensor.real``): a view of a complex tensor; a real tensor itself."""
    return x.real


@register(family=_CV, method=False, differentiable=False)
def imag(x):
    """The imaginary part of a complex tensor, a view of its memory (``Tensor.imag``)."""
    return x.imag


@register(family=_CV, method=False, differentiable=False)
def numel(x) -> int:
    """The number of elements."""
    return x.numel()


@register(family=_CV, differentiable=False)
def get_device(x) -> int:
    """The CUDA device index, or -1 on the CPU."""
    dev = x.device
    return -1 if dev.type == "cpu" else int(dev.index or 0)


def _is_cpu(self) -> bool:
    return self.device.type == "cpu"


@register(family=_CV, function=False, differentiable=False,
          method=property(_is_cpu, doc="True when the tensor is on the CPU."))
def is_cpu(self) -> bool:
    """True when the tensor is on the CPU (a property, as PyTorch's)."""
    return _is_cpu(self)


def _new(self, dtype, device):
    return (dtype if dtype is not None else self.dtype,
            device if device is not None else self.device)


@register(family=_CV, function=False, differentiable=False)
def new_empty(self, *size, dtype=None, device=None, requires_grad=False, **_kw) -> Tensor:
    """An uninitialised tensor of ``size`` (``*size``, a sequence or ``size=``) with this
    tensor's dtype and device (unless given)."""
    dt, dev = _new(self, dtype, device)
    return _tensor.empty(*size, dtype=dt, device=dev, requires_grad=requires_grad, **_kw)


@register(family=_CV, function=False, differentiable=False)
def new_zeros(self, *size, dtype=None, device=None, requires_grad=False, **_kw) -> Tensor:
    """Zeros of ``size`` (``*size``, a sequence or ``size=``) with this tensor's dtype and
    device (unless given)."""
    dt, dev = _new(self, dtype, device)
    return _tensor.zeros(*size, dtype=dt, device=dev, requires_grad=requires_grad, **_kw)


@register(family=_CV, function=False, differentiable=False)
def new_ones(self, *size, dtype=None, device=None, requires_grad=False, **_kw) -> Tensor:
    """Ones of ``size`` (``*size``, a sequence or ``size=``) with this tensor's dtype and
    device (unless given)."""
    dt, dev = _new(self, dtype, device)
    return _tensor.ones(*size, dtype=dt, device=dev, requires_grad=requires_grad, **_kw)


@register(family=_CV, function=False, differentiable=False)
def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False,
             **_kw) -> Tensor:
    """``fill_value`` in a tensor of ``size`` with this tensor's dtype and device (unless
    given)."""
    dt, dev = _new(self, dtype, device)
    return _tensor.full(size, fill_value, dtype=dt, device=dev, requires_grad=requires_grad)


@register(family=_CV, function=False, differentiable=False)
def new_tensor(self, data, dtype=None, device=None, requires_grad=False, **_kw) -> Tensor:
    """A copy of ``data`` as a tensor with this tensor's dtype and device (unless given)."""
    dt, dev = _new(self, dtype, device)
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()"
                      ".requires_grad_(True), rather than tensor.new_tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
        data = data.detach()
    return _tensor.tensor(data, dtype=dt, device=dev, requires_grad=requires_grad)


@register(family=_CV, function=False, differentiable=False)
def new(self, *args, device=None) -> Tensor:
    """PyTorch's legacy constructor with this tensor's dtype (and device): ``x.new()`` is
    empty, ``x.new(2, 3)`` or ``x.new(torch.Size([2, 3]))`` uninitialised of that size,
    ``x.new([1, 2])`` (a list or tuple, an array or a tensor) holds that data."""
    dt, dev = _new(self, None, device)
    if not args:
        return _tensor.empty(0, dtype=dt, device=dev)
    first = args[0]
    if len(args) == 1 and not isinstance(first, (int, _np.integer, _tensor.Size)):
        if isinstance(first, Tensor):  # PyTorch's legacy rule: the same dtype, no cast
            if first.dtype != dt:
                raise TypeError(f"new(): expected a tensor of dtype {_dt.dtype.of(dt)} "
                                f"(this tensor's), got {first.dtype}")
            first = first.detach()
        return _tensor.tensor(first, dtype=dt, device=dev)
    return _tensor.empty(*args, dtype=dt, device=dev)


def _strided_alloc(size, stride, dtype, device):
    size = tuple(int(s) for s in size)
    stride = tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape ({len(stride)} strides, "
                           f"{len(size)} sizes)")
    dt = _dt.to_dtype(dtype) or _dt.get_default_dtype()
    need = 1 + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else 0
    buf = _tensor.empty(need, dtype=dt, device=device)._data
    xp = backend.get_array_module(buf)
    return xp.lib.stride_tricks.as_strided(buf, size, tuple(s * buf.itemsize for s in stride))


@register(family=_CV, method=False, arity=0, differentiable=False)
def empty_strided(size, stride, *, dtype=None, device=None, requires_grad=False,
                  **_kw) -> Tensor:
    """An uninitialised tensor of ``size`` laid out with the element strides ``stride``."""
    t = _make(_strided_alloc(size, stride, dtype, device))
    return t.requires_grad_(True) if requires_grad else t


@register(family=_CV, function=False, differentiable=False)
def new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad=False,
                      **_kw) -> Tensor:
    """``empty_strided`` with this tensor's dtype and device (unless given)."""
    dt, dev = _new(self, dtype, device)
    return empty_strided(size, stride, dtype=dt, device=dev, requires_grad=requires_grad)


@register(family=_CV, method=False, arity=0, differentiable=False)
def empty_permuted(size, physical_layout, *, dtype=None, device=None, requires_grad=False,
                   **_kw) -> Tensor:
    """An uninitialised tensor of ``size`` whose dims are laid out in memory in the order
    ``physical_layout`` (outermost first)."""
    size = tuple(int(s) for s in size)
    order = [int(p) for p in physical_layout]
    if sorted(order) != list(range(len(size))):
        raise RuntimeError(f"physical_layout {order} is not a permutation of the "
                           f"{len(size)} dims")
    buf = _tensor.empty(*[size[p] for p in order], dtype=dtype, device=device)._data
    inv = [order.index(k) for k in range(len(size))]
    t = _make(buf.transpose(inv))
    return t.requires_grad_(True) if requires_grad else t


@register(family=_CV, method=False, arity=0, differentiable=False)
def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False, **_kw) -> Tensor:
    """A 0-d tensor holding the number ``s`` (in the default float dtype unless given)."""
    dt = _dt.to_dtype(dtype) or _dt.get_default_dtype()
    if isinstance(s, Tensor):
        s = s.item()
    return _tensor.full((), s, dtype=dt, device=device, requires_grad=requires_grad)


@register(family=_CV, method=False, arity=0, differentiable=False)
def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False) -> Tensor:
    """A tensor from ``obj`` sharing its memory when it can (a Tensor or NumPy/CuPy array of
    the same dtype and device), copying when it must or when ``copy=True``
    (``copy=False`` raises instead of copying)."""
    dt = _dt.to_dtype(dtype) if dtype is not None else None
    dev = parse_device(device) if device is not None else None
    if isinstance(obj, Tensor):  # a differentiable conversion, as Tensor.to
        out = obj
        if dt is not None and dt != obj.dtype:
            out = to(out, dt)
        if dev is not None and dev != obj.device:
            out = to(out, dev)
        if out is obj and copy:
            out = obj.clone()
        elif out is not obj and copy is False:
            raise ValueError("asarray(): a copy is needed (another dtype or device) but "
                             "copy=False")
        return out.requires_grad_(True) if requires_grad else out
    if isinstance(obj, _np.ndarray) or backend.is_cupy_array(obj):
        src = obj
    else:
        if copy is False:
            raise ValueError("asarray(): can't alias Python data; pass copy=None or True")
        t = _tensor.tensor(obj, dtype=dt, device=dev)
        return t.requires_grad_(True) if requires_grad else t
    arr = src
    if dt is not None and arr.dtype != dt:
        arr = arr.astype(dt)
    if dev is not None and dev != device_of(arr):
        arr = backend.to_device(arr, dev)
    if arr is src:
        if copy:
            arr = arr.copy()
    elif copy is False:
        raise ValueError("asarray(): a copy is needed (another dtype or device) but "
                         "copy=False")
    t = _make(arr)
    if arr is src:
        t._exposed = True
    return t.requires_grad_(True) if requires_grad else t


@register(family=_CV, method=False, arity=0, differentiable=False)
def frombuffer(buffer, *, dtype, count: int = -1, offset: int = 0,
               requires_grad=False) -> Tensor:
    """A 1-D tensor sharing the memory of an object with the buffer protocol (bytearray,
    memoryview, array.array...)."""
    dt = _dt.to_dtype(dtype)
    mv = memoryview(buffer)
    if mv.readonly:
        warnings.warn("The given buffer is not writable, and PyTorch does not support "
                      "non-writable tensors. This means you can write to the underlying "
                      "(supposedly non-writable) buffer using the tensor. You may want to "
                      "copy the buffer to protect its data or make it writable before "
                      "converting it to a tensor. This type of warning will be suppressed "
                      "for the rest of this program.", UserWarning, stacklevel=2)
    n = mv.nbytes
    if n <= 0:
        raise ValueError(f"both buffer length ({n}) and count ({count}) must not be 0")
    if not 0 <= offset < n:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than "
                         f"buffer length ({n} bytes) minus 1")
    if count <= 0 and (n - offset) % dt.itemsize:
        raise ValueError(f"buffer length ({n - offset} bytes) after offset ({offset} bytes) "
                         f"must be a multiple of element size ({dt.itemsize})")
    if count > 0 and count * dt.itemsize > n - offset:
        raise ValueError(f"requested buffer length ({count} * {dt.itemsize} bytes) after "
                         f"offset ({offset} bytes) must not be greater than actual buffer "
                         f"length ({n} bytes)")
    arr = _np.frombuffer(buffer, dtype=dt, count=count if count > 0 else -1, offset=offset)
    t = _make(arr)
    t._exposed = True
    return t.requires_grad_(True) if requires_grad else t


@register("range", family=_CV, method=False, arity=0, differentiable=False)
def range_(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False,
           **_kw) -> Tensor:
    """Deprecated: ``start, start + step, ...`` up to and including ``end`` (in the default
    float dtype unless given). Use ``arange``, which excludes ``end``."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because "
                  "its behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).", UserWarning,
                  stacklevel=2)
    if end is None:
        start, end = 0, start
    start, end, step = (float(v) if isinstance(v, Tensor) else v for v in (start, end, step))
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (step > 0 and end < start) or (step < 0 and start < end):
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    n = int(math.floor((end - start) / step)) + 1
    dt = _dt.to_dtype(dtype) or _dt.get_default_dtype()
    vals = start + _np.arange(n, dtype=_np.float64) * step
    return _tensor._finish(vals.astype(dt), None, device, requires_grad)


# ---- complex values from real ones and back (forward only: complex tensors have no
# gradients here, see docs/TORCH_DIFFERENCES.md) -------------------------------------------

def _no_complex_grad(op: str, *xs) -> None:
    for x in xs:
        if isinstance(x, Tensor) and x._rg and state.enabled:
            raise RuntimeError(_tensor.complex_grad_message(x, op))


@register(family=_CV, method=False, differentiable=False)
def view_as_real(input) -> Tensor:
    """A real view of a complex tensor with a last dimension of 2 (real, imaginary)."""
    d = input._data
    if d.dtype.kind != "c":
        raise RuntimeError("view_as_real is only supported for complex tensors")
    xp = backend.get_array_module(d)
    if d.ndim and d.strides[-1] != d.itemsize:
        d = xp.ascontiguousarray(d)
    real = _np.dtype(f"f{d.itemsize // 2}")
    return input._part(d[..., None].view(real) if d.ndim else d.reshape(1).view(real))


@register(family=_CV, method=False, differentiable=False)
def view_as_complex(input) -> Tensor:
    """A complex view of a float32/float64 tensor whose last dimension (of size 2, stride 1)
    holds the real and imaginary parts."""
    d = input._data
    if d.dtype not in (_np.float32, _np.float64, _np.float16):
        raise RuntimeError("view_as_complex is only supported for float and double tensors, "
                           f"but got a tensor of scalar type: {_dt.dtype.of(d.dtype)}")
    if d.dtype == _np.float16:
        raise RuntimeError("view_as_complex: complex32 (from float16) does not exist here; "
                           "convert to float32 first")
    if not d.ndim or d.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if d.size and d.strides[-1] != d.itemsize:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    _no_complex_grad("view_as_complex", input)
    return input._part(d.view(_np.dtype(f"c{2 * d.itemsize}"))[..., 0])


def _pair(op: str, a, b):
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
        raise TypeError(f"{op}(): argument 'real' and 'imag' must be Tensors")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"Expected object of scalar type {_dt.scalar_type_name(a.dtype)} "
                           f"but got scalar type {_dt.scalar_type_name(b.dtype)} for "
                           "second argument")
    if a._data.dtype not in (_np.float32, _np.float64):  # float16: no complex32 here
        raise RuntimeError(f"{op}(): expected both inputs to be Float or Double tensors "
                           f"but got {_dt.dtype.of(a.dtype)} and {_dt.dtype.of(b.dtype)}")
    _no_complex_grad(op, a, b)
    return a._data, b._data


@register("complex", family=_CV, method=False, differentiable=False, arity=2)
def complex_(real, imag) -> Tensor:
    """``real + 1j * imag`` (broadcast), complex64 from float32, complex128 from float64."""
    r, i = _pair("complex", real, imag)
    out = backend.get_array_module(r).empty(_np.broadcast_shapes(r.shape, i.shape),
                                           _np.dtype(f"c{2 * r.itemsize}"))
    out.real, out.imag = r, i
    return _make(out)


@register(family=_CV, method=False, differentiable=False, arity=2)
def polar(abs, angle) -> Tensor:
    """``abs * (cos(angle) + 1j * sin(angle))`` (broadcast)."""
    r, a = _pair("polar", abs, angle)
    xp = backend.get_array_module(r)
    out = xp.empty(_np.broadcast_shapes(r.shape, a.shape), _np.dtype(f"c{2 * r.itemsize}"))
    out.real, out.imag = r * xp.cos(a), r * xp.sin(a)
    return _make(out)
