"""The Tensor method binding layer: Python operators, every registered op's method and
in-place variant, and the methods whose implementation lives above ``tensor.py`` (backward,
conversions, the NumPy protocols, index assignment).

Ops are bound as the very functions registered (``Tensor.exp is autograd.exp``): no wrapper
per call. Only the in-place variants are closures (they run the op, then write the result
back; see ``ops/inplace.py``).
"""

from __future__ import annotations

from .. import engine, numpy_compat, registry
from ..function import named
from ..tensor import Tensor
from . import elementwise as E
from . import indexing as I  # noqa: E741
from . import linalg as L
from . import special as S
from .inplace import apply_inplace, inplace, setitem


def _r(fn):
    def rfn(self, other):
        return fn(other, self)

    rfn.__name__ = f"r{fn.__name__}"
    return rfn


def _inplace_method(fn, name):
    def method(self, *args, **kwargs):
        return apply_inplace(self, fn, args, kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place ``{fn.__name__}``: the result is written into this tensor."
    return method


_add, _sub, _mul, _div = E.Add.apply, E.Sub.apply, E.Mul.apply, E.Div.apply

# ---- operators (the hottest path: one call to the op's apply) ----
_OPERATORS = {
    "__add__": lambda a, b: _add(a, b),
    "__radd__": lambda a, b: _add(b, a),
    "__sub__": lambda a, b: _sub(a, b),
    "__rsub__": lambda a, b: named(_sub(b, a), "RsubBackward1"),  # number - tensor
    "__mul__": lambda a, b: _mul(a, b),
    "__rmul__": lambda a, b: _mul(b, a),
    "__truediv__": lambda a, b: _div(a, b),
    # PyTorch computes number / tensor as reciprocal(tensor) * number: MulBackward0
    "__rtruediv__": lambda a, b: named(_div(b, a), "MulBackward0"),
    "__floordiv__": E.floor_divide,
    "__rfloordiv__": _r(E.floor_divide),
    "__mod__": E.remainder,
    "__rmod__": _r(E.remainder),
    "__pow__": E.pow,
    "__rpow__": _r(E.pow),
    "__matmul__": L.matmul,
    "__rmatmul__": _r(L.matmul),
    "__neg__": E.neg,
    "__pos__": lambda a: a,
    "__abs__": E.abs,
    "__eq__": E.eq,
    "__ne__": E.ne,
    "__lt__": E.lt,
    "__le__": E.le,
    "__gt__": E.gt,
    "__ge__": E.ge,
    "__and__": E.bitwise_and,
    "__or__": E.bitwise_or,
    "__xor__": E.bitwise_xor,
    "__invert__": E.bitwise_not,
    "__lshift__": S.bitwise_left_shift,
    "__rlshift__": _r(S.bitwise_left_shift),
    "__rshift__": S.bitwise_right_shift,
    "__rrshift__": _r(S.bitwise_right_shift),
    "__getitem__": I.getitem,
    "__iadd__": _inplace_method(E.add, "__iadd__"),
    "__isub__": _inplace_method(E.sub, "__isub__"),
    "__imul__": _inplace_method(E.mul, "__imul__"),
    "__itruediv__": _inplace_method(E.div, "__itruediv__"),
    "__ilshift__": _inplace_method(S.bitwise_left_shift, "__ilshift__"),
    "__irshift__": _inplace_method(S.bitwise_right_shift, "__irshift__"),
}


def _backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Compute the gradient of this tensor with respect to the graph leaves.

    Args:
        gradient: the gradient of some scalar with respect to this tensor; may be omitted
            for a one-element tensor.
        retain_graph: keep the saved arrays so backward can run again (default:
            ``create_graph``).
        create_graph: record the backward pass so it can be differentiated again.
        inputs: accumulate only into these tensors' ``.grad``.
    """
    engine.backward(self, gradient, retain_graph, create_graph, inputs=inputs)


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    return numpy_compat.array_ufunc(ufunc, method, inputs, kwargs)


def _array_function(self, func, types, args, kwargs):
    return numpy_compat.array_function(func, types, args, kwargs)


# ---- methods implemented above tensor.py, and the protocols ----
_OTHERS = {
    "backward": _backward,
    "__array_ufunc__": _array_ufunc,
    "__array_function__": _array_function,
    "__setitem__": setitem,
    "_inplace": inplace,
    "_cast": E.cast,
}


def _install() -> None:
    """Bind the operators, then every registered op (method, aliases, in-place variants),
    then the rest. A name the Tensor class body defines itself is left alone."""
    own = set(vars(Tensor))
    bound = {}
    for name, fn in _OPERATORS.items():
        bound[name] = fn
    for info in registry.ops():
        meth = info.method_fn
        if meth is None:
            continue
        for name in info.names:
            bound[name] = meth
            if info.inplace:
                bound[name + "_"] = _inplace_method(info.fn, name + "_")
    bound.update(_OTHERS)
    for name, fn in bound.items():
        if name not in own:
            setattr(Tensor, name, fn)


_install()
