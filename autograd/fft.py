"""``torch.fft``: discrete Fourier transforms, computed by NumPy's (or CuPy's) ``fft``.

Forward only: the transforms of real inputs give complex tensors, and complex tensors carry
no gradients here (docs/TORCH_DIFFERENCES.md), so an input that requires grad is refused
with that error rather than given a wrong gradient. ``fftshift``/``ifftshift`` are rolls
(differentiable for real tensors) and ``fftfreq``/``rfftfreq`` are factories.

Dtypes as PyTorch's: float32 (and integer inputs, through the default dtype) give
complex64, float64 gives complex128; the inverse real transforms give float32/float64.

Example:
    >>> import autograd as ag
    >>> ag.fft.fft(ag.tensor([1.0, 0.0, 0.0, 0.0]))
    tensor([1.+0.j, 1.+0.j, 1.+0.j, 1.+0.j])
"""

from __future__ import annotations

import numpy as np

from . import dtypes as _dt
from .backend import get_array_module, parse_device
from .grad_mode import state
from .ops.shape import roll as _roll
from .tensor import Tensor, _make, complex_grad_message, tensor

_NORMS = (None, "backward", "ortho", "forward")


def _prep(op: str, x, norm, to_complex: bool):
    """(the array module's fft, the input array ready for it)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"fft_{op}(): argument 'input' must be Tensor, not {type(x).__name__}")
    if x._rg and state.enabled:
        raise RuntimeError(complex_grad_message(x, f"fft.{op}"))
    if norm not in _NORMS:
        raise RuntimeError(f"Invalid normalization mode: \"{norm}\"")
    d = x._data
    k = d.dtype.kind
    if k in "biu":
        d = d.astype(_dt.get_default_dtype())
    elif d.dtype == np.float16 or d.dtype.name == "bfloat16":
        raise RuntimeError("Unsupported dtype " + ("Half" if d.dtype == np.float16 else "BFloat16"))
    elif to_complex and k == "f":
        d = d.astype(np.dtype(f"c{2 * d.itemsize}"))
    return get_array_module(d).fft, d


def _out(arr, like) -> Tensor:
    """NumPy's result in PyTorch's dtype: complex64/float32 from single precision input."""
    single = like.dtype in (np.float32, np.complex64)
    if arr.dtype.kind == "c":
        want = np.complex64 if single else np.complex128
    else:
        want = np.float32 if single else np.float64
    return _make(arr.astype(want, copy=False))


def _one(name: str, to_complex: bool = False):
    def fn(input, n=None, dim=-1, norm=None, *, out=None):
        f, d = _prep(name, input, norm, to_complex)
        return _out(getattr(f, name)(d, n=n, axis=dim, norm=norm), d)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``torch.fft.{name}(input, n=None, dim=-1, norm=None)`` (NumPy's ``fft.{name}``)."
    return fn


def _many(name: str, np_name: str, default_dims, to_complex: bool = False):
    def fn(input, s=None, dim=default_dims, norm=None, *, out=None):
        f, d = _prep(name, input, norm, to_complex)
        axes = dim
        if axes is None:  # PyTorch: the last len(s) dims, or all of them
            axes = tuple(range(-len(s), 0)) if s is not None else tuple(range(d.ndim))
        elif isinstance(axes, int):
            axes = (axes,)
        return _out(getattr(f, np_name)(d, s=s, axes=tuple(axes), norm=norm), d)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"``torch.fft.{name}(input, s=None, dim={default_dims}, norm=None)`` "
                  f"(NumPy's ``fft.{np_name}``).")
    return fn


fft = _one("fft", to_complex=True)
ifft = _one("ifft", to_complex=True)
rfft = _one("rfft")
irfft = _one("irfft")
hfft = _one("hfft")
ihfft = _one("ihfft")
fft2 = _many("fft2", "fftn", (-2, -1), to_complex=True)
ifft2 = _many("ifft2", "ifftn", (-2, -1), to_complex=True)
rfft2 = _many("rfft2", "rfftn", (-2, -1))
irfft2 = _many("irfft2", "irfftn", (-2, -1))
fftn = _many("fftn", "fftn", None, to_complex=True)
ifftn = _many("ifftn", "ifftn", None, to_complex=True)
rfftn = _many("rfftn", "rfftn", None)
irfftn = _many("irfftn", "irfftn", None)


def _freq(name, n, d, dtype, device, requires_grad):
    dt = _dt.to_dtype(dtype) or _dt.get_default_dtype()
    vals = getattr(np.fft, name)(int(n), d=float(d))
    t = tensor(vals, dtype=dt, device=parse_device(device) if device is not None else None)
    return t.requires_grad_(requires_grad) if requires_grad else t


def fftfreq(n, d=1.0, *, dtype=None, device=None, requires_grad=False, **_kw) -> Tensor:
    """The sample frequencies of an ``n``-point transform with sample spacing ``d``:
    ``[0, 1, ..., n/2 - 1, -n/2, ..., -1] / (d * n)``."""
    return _freq("fftfreq", n, d, dtype, device, requires_grad)


def rfftfreq(n, d=1.0, *, dtype=None, device=None, requires_grad=False, **_kw) -> Tensor:
    """The non-negative sample frequencies of ``rfft``: ``[0, 1, ..., n // 2] / (d * n)``."""
    return _freq("rfftfreq", n, d, dtype, device, requires_grad)


def _shift_dims(x, dim):
    if dim is None:
        return tuple(range(x.ndim))
    return (dim,) if isinstance(dim, int) else tuple(dim)


def fftshift(input, dim=None) -> Tensor:
    """Move the zero-frequency term to the centre (a roll by half of each dim)."""
    dims = _shift_dims(input, dim)
    return _roll(input, tuple(input.shape[d] // 2 for d in dims), dims)


def ifftshift(input, dim=None) -> Tensor:
    """The inverse of ``fftshift``."""
    dims = _shift_dims(input, dim)
    return _roll(input, tuple(-(input.shape[d] // 2) for d in dims), dims)
