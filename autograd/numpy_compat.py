"""NumPy interoperability: ``Tensor.__array_ufunc__`` and ``Tensor.__array_function__``.

NumPy hands a call such as ``np.exp(t)``, ``ndarray * t`` or ``np.sum(t, axis=0)`` to these
hooks whenever a Tensor takes part (NEP 13 and NEP 18). Calls are routed as follows:

* **Mapped** ufuncs and functions run the matching differentiable autograd op, with NumPy's
  argument names translated (``axis`` -> ``dim``, ``keepdims`` -> ``keepdim``...). The result
  is a Tensor that joins the graph, so ``np.exp(t).sum().backward()`` works. Dtypes follow
  the autograd (PyTorch) promotion rules, e.g. ``np.true_divide`` of two int64 tensors gives
  float32, as ``ag.div`` does.
* **Anything else** (an unmapped function, ``out=``, ``dtype=``, ``where=``, a ufunc method
  such as ``reduce``) runs on the raw arrays when no Tensor argument requires grad (with grad
  mode on): ufunc results are wrapped in Tensors; other functions give NumPy objects. When a
  Tensor does require grad, a ``TypeError`` is raised rather than silently returning a
  result cut off from the graph; call ``t.detach().numpy()`` to opt out explicitly.

Which op serves which NumPy name comes from the op registry (``autograd/registry.py``: the
``numpy=`` of each registration). A ufunc is served by the op itself (``np.arcsin(t)`` is
``ag.asin(t)``); a NumPy function whose signature differs from the op's (``axis`` for ``dim``,
``keepdims``, ``out=``...) goes through one of the argument translators below. A few NumPy
functions are queries, not ops (``np.shape``, ``np.ndim``, ``np.size``, ``np.array_equal``);
they are listed here.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import registry
from .dtypes import promote
from .grad_mode import state
from .ops import elementwise as E
from .ops import linalg as L
from .ops import reduction as R
from .ops import shape as S
from .tensor import Tensor, _make, as_tensor

_NV = np._NoValue


class _Unsupported(Exception):
    """Raised by a handler for arguments it cannot map (e.g. ``out=``)."""


# ---- helpers --------------------------------------------------------------------------------

def _needs_grad(obj) -> bool:
    """True when some Tensor in ``obj`` (searched through lists, tuples and dicts) requires
    grad and grad mode is on."""
    if not state.enabled:
        return False
    if isinstance(obj, Tensor):
        return obj._rg
    if isinstance(obj, (list, tuple)):
        return any(_needs_grad(o) for o in obj)
    if isinstance(obj, dict):
        return any(_needs_grad(o) for o in obj.values())
    return False


def _to_arrays(obj):
    """Replace Tensors by their arrays (recursively in lists, tuples and dicts)."""
    if isinstance(obj, Tensor):
        return obj.__array__()
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(_to_arrays(o) for o in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_arrays(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _to_arrays(v) for k, v in obj.items()}
    return obj


def _wrap(r):
    """A NumPy ufunc result as Tensor(s)."""
    if isinstance(r, tuple):
        return tuple(_wrap(x) for x in r)
    if isinstance(r, (np.ndarray, np.generic)):
        return _make(np.asarray(r))
    return r


def _T(a) -> Tensor:
    """An array argument as a Tensor (NumPy arrays shared, lists of Tensors stacked)."""
    if isinstance(a, Tensor):
        return a
    if isinstance(a, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(a)):
        return S.stack([_T(x) for x in a])
    return as_tensor(np.asarray(a))


def _flat(seq):
    for x in seq:
        if isinstance(x, (list, tuple)):
            yield from _flat(x)
        else:
            yield x


def _not_differentiable(what: str, why: str = "") -> TypeError:
    extra = f" ({why})" if why else ""
    return TypeError(
        f"{what} is not differentiable here{extra}: autograd has no differentiable "
        "implementation of it for tensors that require grad. Use the matching autograd op, "
        "or compute without gradient on the array: t.detach().numpy()."
    )


def _promote_pair(a, b):
    """Cast two array operands (Tensor or ndarray) to their common dtype (PyTorch rules)."""
    da = a._data if isinstance(a, Tensor) else a
    db = b._data if isinstance(b, Tensor) else b
    if not hasattr(da, "dtype") or not hasattr(db, "dtype") or da.dtype == db.dtype:
        return a, b
    dt = promote(da, db)
    return E.cast(a, dt), E.cast(b, dt)


def _known_type(x) -> bool:
    return isinstance(x, (Tensor, np.ndarray, np.generic, numbers.Number, list, tuple,
                          type(None))) or not hasattr(type(x), "__array_ufunc__")


# ---- ufuncs ----------------------------------------------------------------------------------

def _positive(x):
    return x * 1 if isinstance(x, Tensor) and x.dtype.kind != "b" else x


def _u_matmul(a, b):
    a, b = _promote_pair(a, b)
    return L.matmul(a, b)


def array_ufunc(ufunc, method, inputs, kwargs):
    """``Tensor.__array_ufunc__``: run a NumPy ufunc on Tensors (see the module docstring).

    Args:
        ufunc: the NumPy ufunc (``np.add``, ``np.exp``...).
        method: ``"__call__"``, ``"reduce"``, ``"accumulate"``, ``"outer"``, ``"at"``...
        inputs: the positional arguments, at least one of them a Tensor.
        kwargs: the keyword arguments (``out``, ``where``, ``dtype``...).

    Returns:
        Tensor(s) for a result computed here; the ``out`` argument(s) when ``out=`` was
        given; ``NotImplemented`` when another operand type must handle the call.

    Raises:
        TypeError: the ufunc, method or keyword cannot be differentiated and a Tensor
            argument requires grad.
    """
    out = kwargs.get("out")
    outs = out if isinstance(out, tuple) else ((out,) if out is not None else ())
    for x in tuple(inputs) + outs:
        if not _known_type(x):
            return NotImplemented
    if method == "__call__" and not kwargs:
        fn = _UFUNCS.get(ufunc)
        if fn is not None:
            # lists/tuples are array-likes to NumPy: make them arrays (dtype and gradients
            # bookkeeping then work as for any array operand)
            return fn(*(np.asarray(x) if isinstance(x, (list, tuple)) else x for x in inputs))
    if _needs_grad(inputs) or _needs_grad(outs):
        name = f"numpy.{ufunc.__name__}"
        if method != "__call__":
            why = f"ufunc method {method!r}"
        elif kwargs:
            why = "keyword arguments " + ", ".join(f"{k}=" for k in sorted(kwargs))
        else:
            why = ""
        raise _not_differentiable(name, why)
    args = _to_arrays(tuple(inputs))
    kw = dict(kwargs)
    if outs:
        kw["out"] = tuple(o.__array__() if isinstance(o, Tensor) else o for o in outs)
    r = getattr(ufunc, method)(*args, **kw)
    for o in outs:
        if isinstance(o, Tensor):
            o._vc[0] += 1  # written in place: a graph that saved it must notice
    if method == "at":
        if isinstance(inputs[0], Tensor):
            inputs[0]._vc[0] += 1
        return None
    if outs:
        return out if isinstance(out, tuple) and len(out) > 1 else outs[0]
    return _wrap(r)


# ---- functions -------------------------------------------------------------------------------

def _no(*vals) -> None:
    """Refuse arguments this mapping does not translate (``out=``, ``where=``...)."""
    for name, v, default in vals:
        if v is not default:
            raise _Unsupported(f"argument {name}=")


def _dim(axis):
    if isinstance(axis, list):
        return tuple(axis)
    return axis


def _reduce_seq(fn, x, axis, keepdim):
    """Apply a one-dim reduction ``fn(x, dim, keepdim)`` over each axis of a tuple."""
    axes = sorted(a % max(x.ndim, 1) for a in axis)
    for a in reversed(axes):
        x = fn(x, a, keepdim)
    return x


def _keepdims(k):
    return False if k is _NV else bool(k)


def _f_sum(a, axis=None, dtype=None, out=None, keepdims=_NV, initial=_NV, where=_NV):
    _no(("out", out, None), ("initial", initial, _NV), ("where", where, _NV))
    return R.sum(_T(a), dim=_dim(axis), keepdim=_keepdims(keepdims), dtype=dtype)


def _f_mean(a, axis=None, dtype=None, out=None, keepdims=_NV, *, where=_NV):
    _no(("out", out, None), ("where", where, _NV))
    x = _T(a)
    if dtype is not None:
        x = x.to(dtype)
    elif x.dtype.kind not in "fcV":
        x = x.to(np.float64)  # NumPy's mean of integers is float64
    return R.mean(x, dim=_dim(axis), keepdim=_keepdims(keepdims))


def _f_prod(a, axis=None, dtype=None, out=None, keepdims=_NV, initial=_NV, where=_NV):
    _no(("out", out, None), ("initial", initial, _NV), ("where", where, _NV))
    fn = R.prod
    x = _T(a)
    if dtype is not None:
        x = x.to(dtype)
    keep = _keepdims(keepdims)
    axis = _dim(axis)
    if axis is None:
        r = fn(x)
        return r.reshape((1,) * x.ndim) if keep else r
    if isinstance(axis, tuple):
        return _reduce_seq(lambda t, d, k: fn(t, d, keepdim=k), x, axis, keep)
    return fn(x, axis, keepdim=keep)


def _var_impl(name, a, axis, dtype, out, ddof, keepdims, where, mean, correction):
    _no(("out", out, None), ("where", where, _NV), ("mean", mean, _NV))
    if correction is not _NV:
        ddof = correction
    x = _T(a)
    if dtype is not None:
        x = x.to(dtype)
    elif x.dtype.kind not in "fcV":
        x = x.to(np.float64)
    keep = _keepdims(keepdims)
    axis = _dim(axis)
    fn = R.std if name == "std" else R.var
    return fn(x, dim=axis, correction=ddof, keepdim=keep)


def _f_var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=_NV, *, where=_NV,
           mean=_NV, correction=_NV):
    return _var_impl("var", a, axis, dtype, out, ddof, keepdims, where, mean, correction)


def _f_std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=_NV, *, where=_NV,
           mean=_NV, correction=_NV):
    return _var_impl("std", a, axis, dtype, out, ddof, keepdims, where, mean, correction)


def _extreme(kind):
    """np.max/np.amax (kind 'max') or np.min/np.amin ('min')."""

    def fn(a, axis=None, out=None, keepdims=_NV, initial=_NV, where=_NV):
        _no(("out", out, None), ("initial", initial, _NV), ("where", where, _NV))
        x = _T(a)
        keep = _keepdims(keepdims)
        axis = _dim(axis)
        amax = R.amax if kind == "max" else R.amin
        if axis is None:
            r = amax(x)
            return r.reshape((1,) * x.ndim) if keep else r
        return amax(x, dim=axis, keepdim=keep)
    return fn


def _arg(kind):
    def fn(a, axis=None, out=None, *, keepdims=_NV):
        _no(("out", out, None))
        x = _T(a)
        f = R.argmax if kind == "argmax" else R.argmin
        return f(x, dim=axis, keepdim=_keepdims(keepdims))

    return fn


def _f_reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    if order != "C":
        raise _Unsupported(f"order={order!r}")
    if shape is None:
        shape = newshape
    if isinstance(shape, numbers.Integral):
        shape = (int(shape),)
    r = S.reshape(_T(a), tuple(shape))
    return r.clone() if copy else r


def _f_ravel(a, order="C"):
    if order not in ("C", "A", "K"):
        raise _Unsupported(f"order={order!r}")
    return S.reshape(_T(a), (-1,))


def _f_transpose(a, axes=None):
    x = _T(a)
    if axes is None:
        axes = tuple(range(x.ndim - 1, -1, -1))
    return S.permute(x, *tuple(axes))


def _f_swapaxes(a, axis1, axis2):
    return S.transpose(_T(a), axis1, axis2)


def _f_moveaxis(a, source, destination):
    return S.movedim(_T(a), source, destination)


def _f_squeeze(a, axis=None):
    x = _T(a)
    if axis is not None:
        axes = axis if isinstance(axis, (tuple, list)) else (axis,)
        for d in axes:
            if x.shape[d] != 1:
                raise ValueError("cannot select an axis to squeeze out which has size not "
                                 "equal to one")
    return S.squeeze(x, _dim(axis))


def _f_expand_dims(a, axis):
    x = _T(a)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    n = x.ndim + len(axes)
    norm = sorted(d % n for d in axes)
    if len(set(norm)) != len(norm):
        raise ValueError("repeated axis")
    for d in norm:
        x = S.unsqueeze(x, d)
    return x


def _f_broadcast_to(array, shape, subok=False):
    if isinstance(shape, numbers.Integral):
        shape = (int(shape),)
    return S.broadcast_to(_T(array), tuple(shape))


def _f_concatenate(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    _no(("out", out, None), ("casting", casting, "same_kind"))
    ts = [_T(a) for a in arrays]
    if dtype is not None:
        ts = [t.to(dtype) for t in ts]
    if axis is None:
        ts = [t.reshape((-1,)) for t in ts]
        axis = 0
    return S.cat(ts, axis)


def _f_stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    _no(("out", out, None), ("casting", casting, "same_kind"))
    ts = [_T(a) for a in arrays]
    if dtype is not None:
        ts = [t.to(dtype) for t in ts]
    dts = {t.dtype for t in ts}
    if len(dts) > 1:
        dt = np.result_type(*dts)
        ts = [t.to(dt) for t in ts]
    return S.stack(ts, axis)


def _f_where(condition, x=None, y=None):
    c = _T(condition)
    if c.dtype != np.bool_:
        c = E.ne(c, 0)
    if x is None and y is None:
        return E.where(c)
    if x is None or y is None:
        raise ValueError("either both or neither of x and y should be given")
    x = x if isinstance(x, (Tensor, numbers.Number)) else _T(x)
    y = y if isinstance(y, (Tensor, numbers.Number)) else _T(y)
    return E.where(c, x, y)


def _f_clip(a, a_min=_NV, a_max=_NV, out=None, *, min=_NV, max=_NV, **kwargs):  # noqa: A002
    _no(("out", out, None))
    if kwargs:
        raise _Unsupported("keyword arguments " + ", ".join(sorted(kwargs)))
    lo = min if min is not _NV else (None if a_min is _NV else a_min)
    hi = max if max is not _NV else (None if a_max is _NV else a_max)
    x = _T(a)
    lo = lo if lo is None or isinstance(lo, (Tensor, numbers.Number)) else _T(lo)
    hi = hi if hi is None or isinstance(hi, (Tensor, numbers.Number)) else _T(hi)
    if lo is None and hi is None:
        raise ValueError("One of max or min must be given")
    return E.clamp(x, lo, hi)


def _f_dot(a, b, out=None):
    _no(("out", out, None))
    x, y = _T(a), _T(b)
    if x.ndim == 0 or y.ndim == 0:
        return E.mul(x, y)
    x, y = _promote_pair(x, y)
    if x.ndim == 1 and y.ndim == 1:
        return L.dot(x, y)
    if y.ndim <= 2:
        return L.matmul(x, y)
    # N-D . M-D: sum over the last axis of x and the second-to-last of y
    letters = "abcdefghijklmnopqrstuvwxyz"
    xs = letters[:x.ndim - 1] + "z"
    ys = letters[x.ndim - 1:x.ndim - 1 + y.ndim - 2] + "z" + "y"
    return L.einsum(f"{xs},{ys}->{xs[:-1]}{ys[:-2]}{ys[-1]}", x, y)


def _f_matmul(a, b, /, out=None, **kwargs):
    _no(("out", out, None))
    if kwargs:
        raise _Unsupported("keyword arguments " + ", ".join(sorted(kwargs)))
    x, y = _promote_pair(_T(a), _T(b))
    return L.matmul(x, y)


def _f_einsum(*operands, out=None, optimize=False, **kwargs):
    _no(("out", out, None))
    if kwargs:
        raise _Unsupported("keyword arguments " + ", ".join(sorted(kwargs)))
    if not operands or not isinstance(operands[0], str):
        raise _Unsupported("the sublist form of einsum")
    ts = [_T(o) for o in operands[1:]]
    dts = {t.dtype for t in ts}
    if len(dts) > 1:
        dt = np.result_type(*dts)
        ts = [t.to(dt) for t in ts]
    return L.einsum(operands[0], *ts)


def _f_tile(A, reps):
    x = _T(A)
    reps = (int(reps),) if isinstance(reps, numbers.Integral) else tuple(reps)
    if len(reps) > x.ndim:
        x = x.reshape((1,) * (len(reps) - x.ndim) + tuple(x.shape))
    return S.tile(x, reps)


def _f_flip(m, axis=None):
    x = _T(m)
    if axis is None:
        axis = tuple(range(x.ndim))
    return S.flip(x, _dim(axis))


def _f_roll(a, shift, axis=None):
    return S.roll(_T(a), shift, _dim(axis))


def _f_cumsum(a, axis=None, dtype=None, out=None):
    _no(("out", out, None))
    x = _T(a)
    if dtype is not None:
        x = x.to(dtype)
    if axis is None:
        x = x.reshape((-1,))
        axis = 0
    return R.cumsum(x, axis)


def _f_round(a, decimals=0, out=None):
    _no(("out", out, None))
    return E.round(_T(a), decimals=decimals) if decimals else E.round(_T(a))


def _f_norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002
    t = _T(x)
    if t.dtype.kind not in "fcV":
        t = t.to(np.float64)
    axis = _dim(axis)
    vector = (axis is None and (ord is None or t.ndim == 1)) or isinstance(
        axis, numbers.Integral)
    if ord is None or ord == "fro" or (vector and ord == 2):
        if ord == "fro" and not (isinstance(axis, tuple) or (axis is None and t.ndim == 2)):
            raise ValueError("Invalid norm order 'fro' for vectors")
        r = E.sqrt(R.sum(t * t, dim=axis, keepdim=bool(keepdims)))
        if keepdims and axis is None:
            r = r.reshape((1,) * t.ndim)
        return r
    if vector and isinstance(ord, numbers.Number):
        a = E.abs(t)
        if ord == 1:
            return R.sum(a, dim=axis, keepdim=bool(keepdims))
        if ord in (np.inf, -np.inf):
            fn = _extreme("max" if ord > 0 else "min")
            return fn(a, axis=axis, keepdims=bool(keepdims))
        if ord != 0:
            return R.sum(a ** ord, dim=axis, keepdim=bool(keepdims)) ** (1.0 / ord)
    raise _Unsupported(f"ord={ord!r}")


def _f_shape(a):
    return tuple(a.shape) if isinstance(a, Tensor) else np.shape(_to_arrays(a))


def _f_ndim(a):
    return a.ndim if isinstance(a, Tensor) else np.ndim(_to_arrays(a))


def _f_size(a, axis=None):
    if not isinstance(a, Tensor):
        return np.size(_to_arrays(a), axis)
    return a.numel() if axis is None else a.shape[axis]


def _f_allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(np.allclose(_to_arrays(a), _to_arrays(b), rtol=rtol, atol=atol,
                            equal_nan=equal_nan))


def _f_isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return _wrap(np.isclose(_to_arrays(a), _to_arrays(b), rtol=rtol, atol=atol,
                            equal_nan=equal_nan))


def _f_array_equal(a1, a2, equal_nan=False):
    return bool(np.array_equal(_to_arrays(a1), _to_arrays(a2), equal_nan=equal_nan))


# ---- the tables, from the registry ----------------------------------------------------------

# NumPy name -> argument translator, for NumPy names whose signature differs from the op's
_TRANSLATORS = {
    "matmul": _u_matmul,  # a ufunc: promotes the two dtypes first, as NumPy does
    "sum": _f_sum,
    "mean": _f_mean,
    "prod": _f_prod,
    "var": _f_var,
    "std": _f_std,
    "max": _extreme("max"),
    "amax": _extreme("max"),
    "min": _extreme("min"),
    "amin": _extreme("min"),
    "argmax": _arg("argmax"),
    "argmin": _arg("argmin"),
    "reshape": _f_reshape,
    "ravel": _f_ravel,
    "transpose": _f_transpose,
    "swapaxes": _f_swapaxes,
    "moveaxis": _f_moveaxis,
    "squeeze": _f_squeeze,
    "expand_dims": _f_expand_dims,
    "broadcast_to": _f_broadcast_to,
    "concatenate": _f_concatenate,
    "stack": _f_stack,
    "where": _f_where,
    "clip": _f_clip,
    "dot": _f_dot,
    "einsum": _f_einsum,
    "tile": _f_tile,
    "flip": _f_flip,
    "roll": _f_roll,
    "cumsum": _f_cumsum,
    "round": _f_round,
    "around": _f_round,
    "linalg.norm": _f_norm,
    "allclose": _f_allclose,
    "isclose": _f_isclose,
}

# NumPy functions that are queries or identities, not ops
_NOT_OPS = {
    "positive": _positive,
    "shape": _f_shape,
    "ndim": _f_ndim,
    "size": _f_size,
    "array_equal": _f_array_equal,
}


def _numpy_attr(name: str):
    obj = np
    for part in name.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _tables():
    """``({ufunc: handler}, {function: handler})`` for every NumPy name in the registry."""
    ufuncs, functions = {}, {}
    pairs = [(n, fn) for n, fn in _NOT_OPS.items()]
    for info in registry.ops():
        for n in info.numpy:
            pairs.append((n, _TRANSLATORS.get(n, info.fn)))
    for n, handler in pairs:
        obj = _numpy_attr(n)
        if obj is None:  # not in this NumPy version
            continue
        (ufuncs if isinstance(obj, np.ufunc) else functions)[obj] = handler
    return ufuncs, functions


_UFUNCS, _FUNCTIONS = _tables()


def array_function(func, types, args, kwargs):
    """``Tensor.__array_function__``: run a NumPy function on Tensors (see the module
    docstring).

    Args:
        func: the public NumPy function (``np.sum``, ``np.concatenate``...).
        types: the argument types that implement ``__array_function__``.
        args, kwargs: the arguments of the call.

    Returns:
        For a mapped function, the autograd result (usually a Tensor; ``np.shape`` a tuple,
        ``np.allclose`` a bool...). For an unmapped one, NumPy's own result on the arrays.
        ``NotImplemented`` when an unknown array type takes part.

    Raises:
        TypeError: the function (or an argument of it) cannot be differentiated and a Tensor
            argument requires grad.
    """
    for t in types:
        if not (issubclass(t, Tensor) or issubclass(t, np.ndarray)):
            return NotImplemented
    handler = _FUNCTIONS.get(func)
    why = ""
    if handler is not None:
        try:
            return handler(*args, **kwargs)
        except _Unsupported as err:
            why = str(err)
    name = f"numpy.{getattr(func, '__name__', func)}"
    if _needs_grad(args) or _needs_grad(kwargs):
        raise _not_differentiable(name, why)
    return func(*_to_arrays(tuple(args)), **_to_arrays(dict(kwargs)))
