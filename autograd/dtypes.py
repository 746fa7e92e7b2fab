"""Dtypes and PyTorch's type promotion on top of NumPy dtypes."""

from __future__ import annotations

import builtins
import numbers

import numpy as np


class dtype:
    """A tensor's dtype, as PyTorch's ``torch.dtype``: ``autograd.float32``, ``t.dtype``.

    Each is one object per NumPy dtype (compare with ``==`` or ``is``), printed as PyTorch
    prints it (``torch.float32``), with PyTorch's attributes (``is_floating_point``,
    ``is_complex``, ``is_signed``, ``itemsize``, ``to_real()``, ``to_complex()``). It is
    also a NumPy dtype wherever NumPy or CuPy takes one: NumPy reads the ``dtype``
    attribute (``np.zeros(3, dtype=autograd.float32)``, ``a.astype(t.dtype)``), and it
    compares and hashes equal to that NumPy dtype (``t.dtype == np.float32``); NumPy's
    attributes (``kind``, ``name``, ``type``...) are forwarded to it."""

    __slots__ = ("dtype", "_name")
    _all: dict = {}  # NumPy dtype -> its one dtype object

    def __init__(self, np_dtype, name: str):
        self.dtype, self._name = np_dtype, name

    @classmethod
    def of(cls, d) -> dtype:
        """The dtype object of a NumPy dtype (or of anything ``np.dtype`` accepts)."""
        try:
            return cls._all[d]
        except (KeyError, TypeError):
            pass
        if d.__class__ is cls:
            return d
        nd = np.dtype(d)
        w = cls._all.get(nd)
        if w is None:
            w = cls._all[nd] = cls(nd, nd.name if nd.isnative else nd.str)
        return w

    def __repr__(self) -> str:
        return f"torch.{self._name}"

    __str__ = __repr__

    def __eq__(self, other):
        if other.__class__ is dtype:
            return self.dtype == other.dtype
        if other is None:
            return False
        try:
            return self.dtype == np.dtype(other)
        except TypeError:
            return NotImplemented

    def __ne__(self, other):
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        return hash(self.dtype)

    def __reduce__(self):
        return (_dtype_named, (self._name,))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __getattr__(self, name: str):  # NumPy's attributes: kind, char, type, str...
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.dtype, name)

    # the NumPy attributes the engine reads most, without __getattr__'s detour
    @property
    def kind(self) -> str:
        return self.dtype.kind

    @property
    def name(self) -> str:
        return self.dtype.name

    @property
    def type(self):
        return self.dtype.type

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    # PyTorch's attributes
    @property
    def is_floating_point(self) -> bool:
        return self.dtype.kind == "f" or self._name == "bfloat16"

    @property
    def is_complex(self) -> bool:
        return self.dtype.kind == "c"

    @property
    def is_signed(self) -> bool:
        return self.dtype.kind not in "ub"

    def to_real(self) -> dtype:
        """The real dtype of a complex one (``complex64`` -> ``float32``); else itself."""
        if self.dtype.kind != "c":
            return self
        return dtype.of(np.dtype(f"f{self.dtype.itemsize // 2}"))

    def to_complex(self) -> dtype:
        """The complex dtype of a floating one (``float32`` -> ``complex64``; ``float16`` ->
        ``complex64``, there is no complex32 here); else itself."""
        if self.dtype.kind != "f":
            return self
        return dtype.of(np.dtype(f"c{max(self.dtype.itemsize, 4) * 2}"))


def _dtype_named(name: str) -> dtype:
    """The dtype object printed ``torch.<name>`` (unpickling)."""
    if name == "bfloat16":
        return dtype.of(bfloat16_dtype())
    return dtype.of(np.dtype(name))


def _public(d) -> dtype:
    return dtype.of(d)


float16 = half = _public("float16")
float32 = float = _public("float32")
float64 = double = _public("float64")
complex64 = cfloat = _public("complex64")
complex128 = cdouble = _public("complex128")
int8 = _public("int8")
uint8 = _public("uint8")
int16 = short = _public("int16")
int32 = int = _public("int32")
int64 = long = _public("int64")
bool_ = _public("bool")
uint16 = _public("uint16")
uint32 = _public("uint32")
uint64 = _public("uint64")

_NP_INT64, _NP_BOOL = np.dtype("int64"), np.dtype("bool")


class layout:
    """PyTorch's tensor layouts: only ``strided`` (dense) tensors exist here."""

    __slots__ = ("_name",)

    def __init__(self, name: str):
        self._name = name

    def __repr__(self) -> str:
        return f"torch.{self._name}"


class memory_format:
    """PyTorch's memory formats (``contiguous_format``, ``channels_last``...), accepted where
    PyTorch takes ``memory_format=``: they give the same values, but arrays here stay in C
    order (``stride()`` differs from PyTorch's for ``channels_last``)."""

    __slots__ = ("_name",)

    def __init__(self, name: str):
        self._name = name

    def __repr__(self) -> str:
        return f"torch.{self._name}"


strided = layout("strided")
contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")

_default_float = np.dtype("float32")  # a NumPy dtype: the engine's own reads


def get_default_dtype() -> dtype:
    """The dtype of tensors made from Python floats (``torch.get_default_dtype``)."""
    return dtype.of(_default_float)


def set_default_dtype(dtype) -> None:
    global _default_float
    d = np.dtype(dtype)
    if d.kind not in "fV":
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {d}")
    _default_float = d


def bfloat16_dtype() -> np.dtype:
    """bfloat16, from ml_dtypes (the NumPy bfloat16 type JAX uses; the ``bf16`` extra),
    imported on first use: it takes about a second to import."""
    try:
        import ml_dtypes  # noqa: PLC0415 - optional, and slow to import
    except ImportError:
        raise TypeError("bfloat16 needs the ml_dtypes package: pip install ml_dtypes "
                        "(or this project's 'bf16' extra)") from None
    return np.dtype(ml_dtypes.bfloat16)


def __getattr__(name):  # ``dtypes.bfloat16``, resolved on first use (PEP 562)
    if name == "bfloat16":
        return dtype.of(bfloat16_dtype())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def to_dtype(dtype) -> np.dtype | None:
    """Accept ag dtypes, NumPy dtypes, strings and Python types."""
    if dtype is None:
        return None
    if dtype.__class__ is str and dtype in ("bfloat16", "torch.bfloat16"):
        return bfloat16_dtype()
    if dtype is builtins.float:
        return _default_float
    if dtype is builtins.int:
        return _NP_INT64
    return np.dtype(dtype)


_pyfloat = builtins.float

# category: 0 bool, 1 integer, 2 floating
_CAT = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3, "V": 2}  # "V": ml_dtypes' bfloat16


def is_floating(dtype) -> bool:
    return dtype.kind in "fV"


def scalar_result(adtype, s):
    """dtype of ``array op python_scalar`` under PyTorch's rules."""
    ca = _CAT[adtype.kind]
    if s.__class__ is bool:
        return adtype
    if s.__class__ is _pyfloat:
        return adtype if ca >= 2 else _default_float
    # int
    return adtype if ca >= 1 else _NP_INT64


_SCALAR_TYPE_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short",
                      "int32": "Int", "int64": "Long", "float16": "Half", "bfloat16": "BFloat16",
                      "float32": "Float", "float64": "Double", "complex64": "ComplexFloat",
                      "complex128": "ComplexDouble"}


def scalar_type_name(dt) -> str:
    """PyTorch's C++ name of a dtype, as its error messages print it (``Long``, ``Float``)."""
    name = str(to_dtype(dt))
    return _SCALAR_TYPE_NAMES.get(name, name)


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


# ---- PyTorch's promotion API (torch.promote_types, torch.can_cast, torch.result_type) ----

def promote_types(type1, type2) -> np.dtype:
    """The smallest dtype both ``type1`` and ``type2`` convert to under PyTorch's rules
    (``torch.promote_types``): a category (bool < integer < floating) wins over a lower one
    whatever its size (``int64`` with ``float16`` gives ``float16``, not NumPy's float64);
    within a category the larger type wins (``uint8`` with ``int8`` gives ``int16``)."""
    da, db = to_dtype(type1), to_dtype(type2)
    if da == db:
        return dtype.of(da)
    ca, cb = _CAT[da.kind], _CAT[db.kind]
    if ca != cb:
        return dtype.of(da if ca > cb else db)
    return dtype.of(np.promote_types(da, db))


def can_cast(from_, to) -> bool:
    """True when PyTorch casts ``from_`` to ``to`` implicitly (``torch.can_cast``): never to
    a lower category (floating to integer, integer or floating to bool). This is the rule
    that refuses an in-place result that cannot be written back (``int_t += 1.5``)."""
    return _CAT[to_dtype(from_).kind] <= _CAT[to_dtype(to).kind]


def _level(x):
    """(priority, dtype) of an operand: 2 dimensioned tensor, 1 zero-dim tensor, 0 Python
    number (whose float dtype is the default dtype)."""
    if isinstance(x, np.generic):
        x = x.item()
    if hasattr(x, "dtype"):
        return (2 if x.ndim else 1), np.dtype(x.dtype)
    if x.__class__ is builtins.bool:
        return 0, _NP_BOOL
    if isinstance(x, numbers.Integral):
        return 0, _NP_INT64
    if isinstance(x, numbers.Real):
        return 0, _default_float
    raise TypeError(
        f"result_type: expected Tensors, arrays or Python numbers, got {type(x).__name__}"
    )


def _combine(higher, lower):
    """PyTorch's combine_categories: a lower-priority operand counts only when its category
    is higher (a bool higher is promoted with it)."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.kind in "fV":
        return higher
    if higher.kind == "b" or lower.kind in "fV":
        return promote_types(higher, lower)
    return higher


def result_type(*operands) -> np.dtype:
    """The dtype of an element-wise op of ``operands`` (``torch.result_type``): dimensioned
    tensors first, then zero-dim tensors, then Python numbers, each level counting only
    where its category is higher than those above it."""
    best = [None, None, None]
    for x in operands:
        lv, d = _level(getattr(x, "_data", x))
        best[lv] = d if best[lv] is None else promote_types(best[lv], d)
    return dtype.of(_combine(best[2], _combine(best[1], best[0])))


_IRANGE = {}


def scalar_as(s, dtype):
    """A Python number ready to combine with an array of ``dtype`` as PyTorch does: an
    integer out of an integer dtype's range wraps around (``uint8 + -3`` is ``x + 253``,
    NumPy 2 would raise OverflowError); out of int64's range it is an error."""
    if s.__class__ is builtins.int and dtype.kind in "iu":
        r = _IRANGE.get(dtype)
        if r is None:
            ii = np.iinfo(dtype)
            r = _IRANGE[dtype] = (builtins.int(ii.min), builtins.int(ii.max))
        if not r[0] <= s <= r[1]:
            if not -2**63 <= s < 2**64:
                raise RuntimeError(
                    f"value {s} cannot be converted to type int64 without overflow; use a "
                    "float or a smaller integer")
            return np.array(s if s < 2**63 else s - 2**64, dtype=np.int64).astype(dtype)[()]
    return s


# ---- PyTorch's legacy type names ("torch.FloatTensor") ----------------------------------
TENSOR_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor",
                     "float16": "HalfTensor", "bfloat16": "BFloat16Tensor",
                     "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
                     "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}


def tensor_type_name(dtype, cuda: bool = False) -> str:
    """``Tensor.type()``'s name of a dtype: "torch.FloatTensor", "torch.cuda.LongTensor"."""
    base = TENSOR_TYPE_NAMES.get(np.dtype(dtype).name, "Tensor")
    return ("torch.cuda." if cuda else "torch.") + base


def dtype_of_type_name(name: str):
    """(dtype, cuda) of a legacy type name ("torch.DoubleTensor"), or None."""
    cuda = name.startswith("torch.cuda.")
    base = name[len("torch.cuda."):] if cuda else name[len("torch."):] \
        if name.startswith("torch.") else None
    for dt, n in TENSOR_TYPE_NAMES.items():
        if n == base and dt != "bfloat16":
            return np.dtype(dt), cuda
    return None


# ---- torch.finfo / torch.iinfo ----------------------------------------------------------
class finfo:
    """Machine limits of a floating dtype (``torch.finfo``): bits, eps, max, min, tiny,
    smallest_normal, resolution, dtype; ``finfo()`` describes the default dtype."""

    def __init__(self, type=None):
        d = to_dtype(type) if type is not None else _default_float
        if d.kind not in "fV":
            raise TypeError(f"finfo: {d} is not a floating point dtype")
        if d.kind == "V":
            import ml_dtypes  # noqa: PLC0415 - only reached for ml_dtypes' own types

            info = ml_dtypes.finfo(d)
        else:
            info = np.finfo(d)
        self.dtype = d
        self.bits = d.itemsize * 8
        self.eps = builtins.float(info.eps)
        self.max = builtins.float(info.max)
        self.min = builtins.float(info.min)
        self.tiny = self.smallest_normal = builtins.float(info.smallest_normal)
        self.resolution = 10.0 ** -builtins.int(info.precision)

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype (``torch.iinfo``): bits, min, max, dtype."""

    def __init__(self, type):
        d = to_dtype(type)
        if d.kind in "iu":
            info = np.iinfo(d)
            self.bits, self.min, self.max = d.itemsize * 8, builtins.int(info.min), \
                builtins.int(info.max)
        else:
            raise TypeError(f"iinfo: {d} is not an integer dtype")
        self.dtype = d

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"
