"""``torch.testing``: ``assert_close`` and ``make_tensor``, for test suites written against
PyTorch.

``assert_close(actual, expected)`` compares tensors, NumPy arrays, Python numbers and (nested)
sequences and mappings of them: shapes, then dtypes and devices (unless told not to), then
values with ``|actual - expected| <= atol + rtol * |expected|`` and PyTorch's default
tolerances per dtype. The failure messages are PyTorch's.
"""

from __future__ import annotations

import builtins
import math
import numbers
import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from . import backend
from . import dtypes as _dtypes
from .dtypes import get_default_dtype, to_dtype
from .random import _gen_for
from .tensor import Tensor, _make

# (rtol, atol) by dtype name, as torch.testing
_TOLERANCES = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5),
               "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7),
               "complex64": (1.3e-6, 1e-5), "complex128": (1e-7, 1e-7)}


def _tolerances(*dtypes):
    rtol = atol = 0.0
    for d in dtypes:
        r, a = _TOLERANCES.get(np.dtype(d).name, (0.0, 0.0))
        rtol, atol = builtins.max(rtol, r), builtins.max(atol, a)
    return rtol, atol


def _host(t) -> np.ndarray:
    a = t._data if isinstance(t, Tensor) else t
    return backend.to_numpy(a) if backend.is_cupy_array(a) else np.asarray(a)


def _tname(t) -> str:
    return str(_dtypes.dtype.of(t.dtype))


def _fail(msg, default):
    if msg is None:
        raise AssertionError(default)
    raise AssertionError(msg(default) if callable(msg) else msg)


def _mismatch(what, extra, ga, ia, atol, gr, ir, rtol) -> str:
    """PyTorch's mismatch message: "not equal!" and no "(up to ... allowed)" when both
    tolerances are 0 (integers and bools by default), "not close!" otherwise."""
    equality = rtol == 0 and atol == 0
    allowed = (lambda t: "") if equality else (lambda t: f" (up to {t} allowed)")
    kind = "Greatest a" if ia is not None else "A"
    rkind = "Greatest r" if ir is not None else "R"
    at = lambda i: "" if i is None else f" at index {i}"  # noqa: E731
    return (f"{what} are not {'equal' if equality else 'close'}!\n\n{extra}\n"
            f"{kind}bsolute difference: {ga}{at(ia)}{allowed(atol)}\n"
            f"{rkind}elative difference: {gr}{at(ir)}{allowed(rtol)}")


def _compare_tensors(a, e, rtol, atol, equal_nan, check_device, check_dtype, msg, path):
    where = f"\n\nThe failure occurred for item {path}" if path else ""
    if tuple(a.shape) != tuple(e.shape):
        _fail(msg, f"The values for attribute 'shape' do not match: torch.Size("
                   f"{list(a.shape)}) != torch.Size({list(e.shape)}).{where}")
    if check_device and isinstance(a, Tensor) and isinstance(e, Tensor) and a.device != e.device:
        _fail(msg, f"The values for attribute 'device' do not match: {a.device} != "
                   f"{e.device}.{where}")
    if check_dtype and a.dtype != e.dtype:
        _fail(msg, f"The values for attribute 'dtype' do not match: {_tname(a)} != "
                   f"{_tname(e)}.{where}")
    if rtol is None or atol is None:
        r, t = _tolerances(a.dtype, e.dtype)
        rtol = r if rtol is None else rtol
        atol = t if atol is None else atol
    x = _host(a)
    y = _host(e)
    if x.dtype.kind == "V" or y.dtype.kind == "V":  # bfloat16
        x, y = x.astype(np.float32), y.astype(np.float32)
    if x.dtype.kind == "b" and y.dtype.kind == "b":
        bad = x != y
        diff = bad.astype(np.float64)
        rel = diff
    else:
        ct = np.result_type(x.dtype, y.dtype)  # PyTorch computes the differences in it
        if ct.kind not in "fc":
            ct = np.dtype(np.float64)
        xf, yf = x.astype(ct), y.astype(ct)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            diff = np.abs(xf - yf)
            ok = diff <= atol + rtol * np.abs(yf)
            ok |= xf == yf  # equal infinities
            if equal_nan:
                ok |= np.isnan(xf) & np.isnan(yf)
            rel = diff / np.abs(yf)
        bad = ~ok
    if not bad.any():
        return
    if bad.ndim == 0:  # a 0-d tensor: PyTorch reports it as the scalars it holds
        _fail(msg, _scalar_mismatch(x.item(), y.item(), rtol, atol) + where)
    n = bad.size
    k = builtins.int(bad.sum())
    if x.dtype.kind in "biu":  # PyTorch: int64 differences, divided in the default dtype
        diff = np.abs(x.astype(np.int64) - y.astype(np.int64))
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = (diff / np.abs(y.astype(np.int64))).astype(get_default_dtype())
    d = np.where(bad, np.nan_to_num(diff, nan=np.inf), -1.0)
    i_abs = np.unravel_index(builtins.int(np.argmax(d)), bad.shape)
    rr = np.where(bad, np.nan_to_num(rel, nan=np.inf), -1.0)
    i_rel = np.unravel_index(builtins.int(np.argmax(rr)), bad.shape)
    idx = lambda i: tuple(builtins.int(v) for v in i)  # noqa: E731
    _fail(msg, _mismatch("Tensor-likes", f"Mismatched elements: {k} / {n} ({100.0 * k / n:.1f}%)",
                         diff[i_abs].item(), idx(i_abs), atol, rel[i_rel].item(), idx(i_rel),
                         rtol) + where)


def _scalar_mismatch(a, e, rtol, atol) -> str:
    diff = abs(a - e)
    rel = diff / abs(e) if e != 0 else math.inf
    return _mismatch("Scalars", f"Expected {e} but got {a}.", diff, None, atol, rel, None, rtol)


def _compare_scalars(a, e, rtol, atol, equal_nan, check_dtype, msg, path):
    where = f"\n\nThe failure occurred for item {path}" if path else ""
    if check_dtype and type(a) is not type(e) and not (isinstance(a, numbers.Number)
                                                       and isinstance(e, numbers.Number)
                                                       and type(a) is type(e)):
        _fail(msg, f"The values for attribute 'dtype' do not match: {type(a).__name__} != "
                   f"{type(e).__name__}.{where}")
    if rtol is None or atol is None:
        r, t = (1e-7, 1e-7) if isinstance(a, (float, complex)) or isinstance(
            e, (float, complex)) else (0.0, 0.0)
        rtol = r if rtol is None else rtol
        atol = t if atol is None else atol
    if a == e or (equal_nan and a != a and e != e):
        return
    diff = abs(a - e)
    if diff <= atol + rtol * abs(e):
        return
    _fail(msg, _scalar_mismatch(a, e, rtol, atol) + where)


def _tensorlike(x) -> bool:
    return isinstance(x, (Tensor, np.ndarray)) or backend.is_cupy_array(x)


def assert_close(actual, expected, *, allow_subclasses: bool = True, rtol=None, atol=None,
                 equal_nan: bool = False, check_device: bool = True, check_dtype: bool = True,
                 check_layout: bool = True, check_stride: bool = False, msg=None,
                 _path: str = "") -> None:
    """Raise AssertionError unless ``actual`` and ``expected`` are close (see the module
    docstring); ``rtol`` and ``atol`` must be given together."""
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got "
                         f"no {'rtol' if rtol is None else 'atol'}.")
    kw = dict(rtol=rtol, atol=atol, equal_nan=equal_nan)
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        if set(actual) != set(expected):
            _fail(msg, f"The keys of the mappings do not match:\nMissing keys in actual: "
                       f"{set(expected) - set(actual)}\nExtra keys in actual: "
                       f"{set(actual) - set(expected)}")
        for k in expected:
            assert_close(actual[k], expected[k], check_device=check_device,
                         check_dtype=check_dtype, msg=msg, _path=f"{_path}[{k!r}]", **kw)
        return
    if (isinstance(actual, Sequence) and isinstance(expected, Sequence)
            and not isinstance(actual, str) and not isinstance(expected, str)):
        if len(actual) != len(expected):
            _fail(msg, f"The length of the sequences mismatch: {len(actual)} != "
                       f"{len(expected)}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_close(a, e, check_device=check_device, check_dtype=check_dtype, msg=msg,
                         _path=f"{_path}[{i}]", **kw)
        return
    if _tensorlike(actual) or _tensorlike(expected):
        if not (_tensorlike(actual) and _tensorlike(expected)):
            raise TypeError(f"No comparison pair was able to handle inputs of type "
                            f"{type(actual)} and {type(expected)}.")
        if isinstance(actual, Tensor) != isinstance(expected, Tensor):
            _fail(msg, f"The values for attribute 'type' do not match: {type(actual)} != "
                       f"{type(expected)}")
        _compare_tensors(actual, expected, rtol, atol, equal_nan, check_device, check_dtype,
                         msg, _path)
        return
    if isinstance(actual, numbers.Number) and isinstance(expected, numbers.Number):
        _compare_scalars(actual, expected, rtol, atol, equal_nan, check_dtype, msg, _path)
        return
    if actual is None or expected is None:
        if actual is not expected:
            _fail(msg, f"None mismatch: {actual} is not {expected}")
        return
    if actual != expected:
        raise TypeError(f"No comparison pair was able to handle inputs of type {type(actual)} "
                        f"and {type(expected)}.")


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg="") -> None:
    """Deprecated in PyTorch (use ``assert_close``): no dtype check, NaNs equal by default."""
    warnings.warn("`torch.testing.assert_allclose()` is deprecated since 1.12 and will be "
                  "removed in a future release. Please use `torch.testing.assert_close()` "
                  "instead.", FutureWarning, stacklevel=2)
    if not isinstance(actual, Tensor) and not isinstance(actual, np.ndarray):
        actual = np.asarray(actual)
    if not isinstance(expected, Tensor) and not isinstance(expected, np.ndarray):
        expected = np.asarray(expected, dtype=np.asarray(actual).dtype if not isinstance(
            actual, Tensor) else actual.dtype)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan,
                 check_dtype=False, check_device=True, msg=msg or None)


def make_tensor(*shape, dtype, device=None, low=None, high=None, requires_grad: bool = False,
                noncontiguous: bool = False, exclude_zero: bool = False,
                memory_format=None) -> Tensor:
    """A tensor of ``shape`` filled with uniform values in ``[low, high)`` (defaults -9 and
    9; bool: random True/False), as ``torch.testing.make_tensor``; drawn from this
    project's global generator (``manual_seed``)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    d = to_dtype(dtype)
    rng = _gen_for(np, None)
    lo = -9 if low is None else low
    hi = 9 if high is None else high
    if d.kind == "b":
        arr = rng.integers(0, 2, shape).astype(bool)
    elif d.kind in "iu":
        lo = builtins.max(math.ceil(lo), builtins.int(np.iinfo(d).min))
        hi = builtins.min(math.ceil(hi), builtins.int(np.iinfo(d).max))
        arr = (rng.integers(lo, hi, shape) if hi > lo else np.full(shape, lo)).astype(d)
    else:
        arr = rng.uniform(lo, hi, shape).astype(d)
    if exclude_zero and arr.size:
        tiny = 1 if d.kind in "iub" else np.finfo(np.float32).eps
        arr = np.where(arr == 0, np.asarray(tiny, dtype=arr.dtype), arr)
    if noncontiguous and arr.ndim:
        big = np.repeat(arr, 2, axis=-1)
        arr = big[..., ::2]
    t = _make(arr if device is None else backend.to_device(arr, backend.parse_device(device)))
    if requires_grad:
        t.requires_grad_(True)
    return t
