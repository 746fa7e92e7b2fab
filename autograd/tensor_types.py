"""PyTorch's legacy typed constructors (``torch.FloatTensor([1, 2])``, ``torch.LongTensor(2,
3)``) and their ``isinstance`` checks (``isinstance(t, torch.FloatTensor)`` is True for a
float32 CPU tensor), which older programs still use."""

from __future__ import annotations

import numbers

import numpy as np

from . import dtypes
from .tensor import Tensor, empty, tensor


class _TypedTensorMeta(type):
    def __instancecheck__(cls, obj) -> bool:
        return (isinstance(obj, Tensor) and obj.dtype == cls.dtype
                and obj.device.type == "cpu")

    @property
    def dtype(cls):
        return dtypes.to_dtype(cls._dtype_name)


class _TypedTensor(metaclass=_TypedTensorMeta):
    _dtype_name = "float32"

    def __new__(cls, *args, device=None):
        dt = cls.dtype
        if not args:
            return empty(0, dtype=dt, device=device)
        if all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args):
            return empty(*args, dtype=dt, device=device)  # a shape: uninitialised, as PyTorch
        if len(args) == 1:
            data = args[0]
            if isinstance(data, Tensor):
                return data.to(dt)
            return tensor(np.asarray(data).astype(dt) if isinstance(data, np.ndarray) else data,
                          dtype=dt, device=device)
        raise TypeError(f"{cls.__name__}(): expected a shape (ints) or one sequence of data, "
                        f"got {args!r}")


def _typed(name: str, dtype_name: str):
    return _TypedTensorMeta(name, (_TypedTensor,), {"_dtype_name": dtype_name,
                                                     "__doc__": f"``tensor(data, dtype="
                                                                f"{dtype_name})`` or an "
                                                                f"uninitialised tensor of a "
                                                                f"shape."})


FloatTensor = _typed("FloatTensor", "float32")
DoubleTensor = _typed("DoubleTensor", "float64")
HalfTensor = _typed("HalfTensor", "float16")
BFloat16Tensor = _typed("BFloat16Tensor", "bfloat16")
ByteTensor = _typed("ByteTensor", "uint8")
CharTensor = _typed("CharTensor", "int8")
ShortTensor = _typed("ShortTensor", "int16")
IntTensor = _typed("IntTensor", "int32")
LongTensor = _typed("LongTensor", "int64")
BoolTensor = _typed("BoolTensor", "bool")
