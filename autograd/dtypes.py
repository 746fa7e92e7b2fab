"""Dtypes and PyTorch's type promotion on top of NumPy dtypes."""

from __future__ import annotations

import builtins

import numpy as np

float16 = half = np.dtype("float16")
float32 = float = np.dtype("float32")
float64 = double = np.dtype("float64")
int8 = np.dtype("int8")
uint8 = np.dtype("uint8")
int16 = short = np.dtype("int16")
int32 = int = np.dtype("int32")
int64 = long = np.dtype("int64")
bool_ = np.dtype("bool")

_default_float = float32


def get_default_dtype() -> np.dtype:
    return _default_float


def set_default_dtype(dtype) -> None:
    global _default_float
    d = np.dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {d}")
    _default_float = d


def to_dtype(dtype) -> np.dtype | None:
    """Accept ag dtypes, NumPy dtypes, strings and Python types."""
    if dtype is None:
        return None
    if dtype is builtins.float:
        return _default_float
    if dtype is builtins.int:
        return int64
    return np.dtype(dtype)


_pyfloat = builtins.float

# category: 0 bool, 1 integer, 2 floating
_CAT = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def is_floating(dtype) -> bool:
    return dtype.kind == "f"


def scalar_result(adtype, s):
    """dtype of ``array op python_scalar`` under PyTorch's rules."""
    ca = _CAT[adtype.kind]
    if s.__class__ is bool:
        return adtype
    if s.__class__ is _pyfloat:
        return adtype if ca >= 2 else _default_float
    # int
    return adtype if ca >= 1 else int64


def promote(a, b):
    """Result dtype of a binary op between arrays a and b (PyTorch rules: a dimensioned
    operand wins over a 0-d one of the same or higher category; int with float gives the
    float's dtype rather than NumPy's float64)."""
    da, db = a.dtype, b.dtype
    if da == db:
        return da
    ca, cb = _CAT[da.kind], _CAT[db.kind]
    za, zb = a.ndim == 0, b.ndim == 0
    if za != zb:
        if za and ca <= cb:
            return db
        if zb and cb <= ca:
            return da
        # the 0-d operand has the higher category: its dtype decides
        return da if za else db
    if ca != cb:
        return da if ca > cb else db
    return np.promote_types(da, db)
