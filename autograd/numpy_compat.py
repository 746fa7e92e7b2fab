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

Reductions and other functions are looked up on the ``autograd`` package (then on
``Tensor``) at call time, so ops added later (``ag.prod``, ``ag.var``, ``ag.amax``...) are
picked up automatically; a few have composite fallbacks built from existing ops.
"""

from __future__ import annotations

import numbers

import numpy as np

from .grad_mode import state
from .tensor import Tensor, _make

_NV = np._NoValue


class _Unsupported(Exception):
    """Raised by a handler for arguments it cannot map (e.g. ``out=``)."""


# ---- helpers --------------------------------------------------------------------------------

def _ag():
    import autograd

    return autograd


def _lookup(name: str):
    """A function of the autograd package, or the Tensor method, or None."""
    fn = getattr(_ag(), name, None)
    if callable(fn) and not isinstance(fn, type):
        return fn
    meth = getattr(Tensor, name, None)
    if callable(meth):
        return meth
    return None


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
        return _ag().stack([_T(x) for x in a])
    from .tensor import as_tensor

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
    from .dtypes import promote
    from .ops.elementwise import cast

    da = a._data if isinstance(a, Tensor) else a
    db = b._data if isinstance(b, Tensor) else b
    if not hasattr(da, "dtype") or not hasattr(db, "dtype") or da.dtype == db.dtype:
        return a, b
    dt = promote(da, db)
    return cast(a, dt), cast(b, dt)


def _known_type(x) -> bool:
    return isinstance(x, (Tensor, np.ndarray, np.generic, numbers.Number, list, tuple,
                          type(None))) or not hasattr(type(x), "__array_ufunc__")


# ---- ufuncs ----------------------------------------------------------------------------------

def _ufunc_table():
    from .ops import elementwise as E
    from .ops import linalg as L

    def positive(x):
        return x * 1 if isinstance(x, Tensor) and x.dtype.kind != "b" else x

    def matmul(a, b):
        a, b = _promote_pair(a, b)
        return L.matmul(a, b)

    def invert(x):
        return E.bitwise_not(x)

    return {
        np.add: E.add,
        np.subtract: E.sub,
        np.multiply: E.mul,
        np.true_divide: E.div,
        np.power: E.pow,
        np.negative: E.neg,
        np.positive: positive,
        np.exp: E.exp,
        np.expm1: E.expm1,
        np.log: E.log,
        np.log2: E.log2,
        np.log10: E.log10,
        np.log1p: E.log1p,
        np.sqrt: E.sqrt,
        np.sin: E.sin,
        np.cos: E.cos,
        np.tan: E.tan,
        np.tanh: E.tanh,
        np.absolute: E.abs,
        np.square: E.square,
        np.reciprocal: E.reciprocal,
        np.maximum: E.maximum,
        np.minimum: E.minimum,
        np.matmul: matmul,
        np.floor: E.floor,
        np.ceil: E.ceil,
        np.trunc: E.trunc,
        np.rint: E.round,
        np.sign: E.sign,
        np.remainder: E.remainder,
        np.floor_divide: E.floor_divide,
        np.equal: E.eq,
        np.not_equal: E.ne,
        np.less: E.lt,
        np.less_equal: E.le,
        np.greater: E.gt,
        np.greater_equal: E.ge,
        np.logical_and: E.logical_and,
        np.logical_or: E.logical_or,
        np.logical_xor: E.logical_xor,
        np.logical_not: E.logical_not,
        np.invert: invert,
        np.isnan: E.isnan,
        np.isinf: E.isinf,
        np.isfinite: E.isfinite,
    }


_UFUNCS = None


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
    global _UFUNCS
    out = kwargs.get("out")
    outs = out if isinstance(out, tuple) else ((out,) if out is not None else ())
    for x in tuple(inputs) + outs:
        if not _known_type(x):
            return NotImplemented
    if method == "__call__" and not kwargs:
        if _UFUNCS is None:
            _UFUNCS = _ufunc_table()
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
    return _ag().sum(_T(a), dim=_dim(axis), keepdim=_keepdims(keepdims), dtype=dtype)


def _f_mean(a, axis=None, dtype=None, out=None, keepdims=_NV, *, where=_NV):
    _no(("out", out, None), ("where", where, _NV))
    x = _T(a)
    if dtype is not None:
        x = x.to(dtype)
    elif x.dtype.kind not in "fc":
        x = x.to(np.float64)  # NumPy's mean of integers is float64
    return _ag().mean(x, dim=_dim(axis), keepdim=_keepdims(keepdims))


def _f_prod(a, axis=None, dtype=None, out=None, keepdims=_NV, initial=_NV, where=_NV):
    _no(("out", out, None), ("initial", initial, _NV), ("where", where, _NV))
    fn = _lookup("prod")
    if fn is None:
        raise _Unsupported("autograd has no prod yet")
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
    elif x.dtype.kind not in "fc":
        x = x.to(np.float64)
    keep = _keepdims(keepdims)
    axis = _dim(axis)
    fn = _lookup(name)
    if fn is not None:
        import inspect

        try:
            params = inspect.signature(fn).parameters
        except (TypeError, ValueError):
            params = {}
        if "correction" in params:
            return fn(x, dim=axis, correction=ddof, keepdim=keep)
        if "unbiased" in params and ddof in (0, 1):
            return fn(x, dim=axis, unbiased=bool(ddof), keepdim=keep)
    # composite: sum((x - mean)^2) / (n - ddof)
    ag = _ag()
    m = ag.mean(x, dim=axis, keepdim=True)
    d = x - m
    s = ag.sum(d * d, dim=axis, keepdim=keep)
    n = x.numel() if axis is None else int(np.prod(
        [x.shape[i] for i in ((axis,) if isinstance(axis, numbers.Integral) else axis)]))
    v = s / max(n - ddof, 0)
    return ag.sqrt(v) if name == "std" else v


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
        amax = _lookup("a" + kind)
        if amax is not None:
            if axis is None:
                r = amax(x)
                return r.reshape((1,) * x.ndim) if keep else r
            return amax(x, dim=axis, keepdim=keep)
        mx = _lookup(kind)
        if mx is None:
            raise _Unsupported(f"autograd has no {kind} yet")

        def one(t, d, k):
            r = mx(t, d, keepdim=k)
            return r[0] if isinstance(r, tuple) else r

        if axis is None:
            r = mx(x)
            return r.reshape((1,) * x.ndim) if keep else r
        if isinstance(axis, tuple):
            return _reduce_seq(one, x, axis, keep)
        return one(x, axis, keep)

    return fn


def _arg(kind):
    def fn(a, axis=None, out=None, *, keepdims=_NV):
        _no(("out", out, None))
        x = _T(a)
        keep = _keepdims(keepdims)
        f = _lookup(kind)
        if f is not None:
            return f(x, dim=axis, keepdim=keep)
        from .backend import get_array_module

        xp = get_array_module(x._data)
        return _make(xp.asarray(getattr(xp, kind)(x._data, axis=axis, keepdims=keep)))

    return fn


def _f_reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    if order != "C":
        raise _Unsupported(f"order={order!r}")
    if shape is None:
        shape = newshape
    if isinstance(shape, numbers.Integral):
        shape = (int(shape),)
    r = _ag().reshape(_T(a), tuple(shape))
    return r.clone() if copy else r


def _f_ravel(a, order="C"):
    if order not in ("C", "A", "K"):
        raise _Unsupported(f"order={order!r}")
    return _ag().reshape(_T(a), (-1,))


def _f_transpose(a, axes=None):
    x = _T(a)
    if axes is None:
        axes = tuple(range(x.ndim - 1, -1, -1))
    return _ag().permute(x, *tuple(axes))


def _f_swapaxes(a, axis1, axis2):
    return _ag().transpose(_T(a), axis1, axis2)


def _f_moveaxis(a, source, destination):
    return _ag().movedim(_T(a), source, destination)


def _f_squeeze(a, axis=None):
    x = _T(a)
    if axis is not None:
        axes = axis if isinstance(axis, (tuple, list)) else (axis,)
        for d in axes:
            if x.shape[d] != 1:
                raise ValueError("cannot select an axis to squeeze out which has size not "
                                 "equal to one")
    return _ag().squeeze(x, _dim(axis))


def _f_expand_dims(a, axis):
    x = _T(a)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    n = x.ndim + len(axes)
    norm = sorted(d % n for d in axes)
    if len(set(norm)) != len(norm):
        raise ValueError("repeated axis")
    for d in norm:
        x = _ag().unsqueeze(x, d)
    return x


def _f_broadcast_to(array, shape, subok=False):
    if isinstance(shape, numbers.Integral):
        shape = (int(shape),)
    return _ag().broadcast_to(_T(array), tuple(shape))


def _f_concatenate(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    _no(("out", out, None), ("casting", casting, "same_kind"))
    ts = [_T(a) for a in arrays]
    if dtype is not None:
        ts = [t.to(dtype) for t in ts]
    if axis is None:
        ts = [t.reshape((-1,)) for t in ts]
        axis = 0
    return _ag().cat(ts, axis)


def _f_stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    _no(("out", out, None), ("casting", casting, "same_kind"))
    ts = [_T(a) for a in arrays]
    if dtype is not None:
        ts = [t.to(dtype) for t in ts]
    dts = {t.dtype for t in ts}
    if len(dts) > 1:
        dt = np.result_type(*dts)
        ts = [t.to(dt) for t in ts]
    return _ag().stack(ts, axis)


def _f_where(condition, x=None, y=None):
    ag = _ag()
    c = _T(condition)
    if c.dtype != np.bool_:
        c = ag.ne(c, 0)
    if x is None and y is None:
        return ag.where(c)
    if x is None or y is None:
        raise ValueError("either both or neither of x and y should be given")
    x = x if isinstance(x, (Tensor, numbers.Number)) else _T(x)
    y = y if isinstance(y, (Tensor, numbers.Number)) else _T(y)
    return ag.where(c, x, y)


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
    return _ag().clamp(x, lo, hi)


def _f_dot(a, b, out=None):
    _no(("out", out, None))
    ag = _ag()
    x, y = _T(a), _T(b)
    if x.ndim == 0 or y.ndim == 0:
        return ag.mul(x, y)
    x, y = _promote_pair(x, y)
    if x.ndim == 1 and y.ndim == 1:
        return ag.dot(x, y)
    if y.ndim <= 2:
        return ag.matmul(x, y)
    # N-D . M-D: sum over the last axis of x and the second-to-last of y
    letters = "abcdefghijklmnopqrstuvwxyz"
    xs = letters[:x.ndim - 1] + "z"
    ys = letters[x.ndim - 1:x.ndim - 1 + y.ndim - 2] + "z" + "y"
    return ag.einsum(f"{xs},{ys}->{xs[:-1]}{ys[:-2]}{ys[-1]}", x, y)


def _f_matmul(a, b, /, out=None, **kwargs):
    _no(("out", out, None))
    if kwargs:
        raise _Unsupported("keyword arguments " + ", ".join(sorted(kwargs)))
    x, y = _promote_pair(_T(a), _T(b))
    return _ag().matmul(x, y)


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
    return _ag().einsum(operands[0], *ts)


def _f_tile(A, reps):
    x = _T(A)
    reps = (int(reps),) if isinstance(reps, numbers.Integral) else tuple(reps)
    if len(reps) > x.ndim:
        x = x.reshape((1,) * (len(reps) - x.ndim) + tuple(x.shape))
    return _ag().tile(x, reps)


def _f_flip(m, axis=None):
    x = _T(m)
    if axis is None:
        axis = tuple(range(x.ndim))
    return _ag().flip(x, _dim(axis))


def _f_roll(a, shift, axis=None):
    return _ag().roll(_T(a), shift, _dim(axis))


def _f_cumsum(a, axis=None, dtype=None, out=None):
    _no(("out", out, None))
    x = _T(a)
    if dtype is not None:
        x = x.to(dtype)
    if axis is None:
        x = x.reshape((-1,))
        axis = 0
    fn = _lookup("cumsum")
    if fn is not None:
        return fn(x, axis)
    # composite fallback: a matmul with an upper-triangular matrix of ones
    ag = _ag()
    if x.dtype.kind in "biu":
        x = x.to(np.int64)
    n = x.shape[axis]
    tri = _make(np.triu(np.ones((n, n), dtype=x.dtype)))
    moved = ag.movedim(x, axis, -1)
    return ag.movedim(ag.matmul(moved, tri), -1, axis)


def _f_round(a, decimals=0, out=None):
    _no(("out", out, None))
    return _ag().round(_T(a), decimals=decimals) if decimals else _ag().round(_T(a))


def _f_norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002
    ag = _ag()
    t = _T(x)
    if t.dtype.kind not in "fc":
        t = t.to(np.float64)
    axis = _dim(axis)
    vector = (axis is None and (ord is None or t.ndim == 1)) or isinstance(
        axis, numbers.Integral)
    if ord is None or ord == "fro" or (vector and ord == 2):
        if ord == "fro" and not (isinstance(axis, tuple) or (axis is None and t.ndim == 2)):
            raise ValueError("Invalid norm order 'fro' for vectors")
        r = ag.sqrt(ag.sum(t * t, dim=axis, keepdim=bool(keepdims)))
        if keepdims and axis is None:
            r = r.reshape((1,) * t.ndim)
        return r
    if vector and isinstance(ord, numbers.Number):
        a = ag.abs(t)
        if ord == 1:
            return ag.sum(a, dim=axis, keepdim=bool(keepdims))
        if ord in (np.inf, -np.inf):
            fn = _extreme("max" if ord > 0 else "min")
            return fn(a, axis=axis, keepdims=bool(keepdims))
        if ord != 0:
            return ag.sum(a ** ord, dim=axis, keepdim=bool(keepdims)) ** (1.0 / ord)
    native = getattr(getattr(ag, "linalg", None), "norm", None)
    if native is not None:
        return native(t, ord, dim=axis, keepdim=bool(keepdims))
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


def _function_table():
    return {
        np.sum: _f_sum,
        np.mean: _f_mean,
        np.prod: _f_prod,
        np.var: _f_var,
        np.std: _f_std,
        np.max: _extreme("max"),
        np.amax: _extreme("max"),
        np.min: _extreme("min"),
        np.amin: _extreme("min"),
        np.argmax: _arg("argmax"),
        np.argmin: _arg("argmin"),
        np.reshape: _f_reshape,
        np.ravel: _f_ravel,
        np.transpose: _f_transpose,
        np.swapaxes: _f_swapaxes,
        np.moveaxis: _f_moveaxis,
        np.squeeze: _f_squeeze,
        np.expand_dims: _f_expand_dims,
        np.broadcast_to: _f_broadcast_to,
        np.concatenate: _f_concatenate,
        np.stack: _f_stack,
        np.where: _f_where,
        np.clip: _f_clip,
        np.dot: _f_dot,
        np.matmul: _f_matmul,
        np.einsum: _f_einsum,
        np.tile: _f_tile,
        np.flip: _f_flip,
        np.roll: _f_roll,
        np.cumsum: _f_cumsum,
        np.round: _f_round,
        np.around: _f_round,
        np.linalg.norm: _f_norm,
        np.shape: _f_shape,
        np.ndim: _f_ndim,
        np.size: _f_size,
        np.allclose: _f_allclose,
        np.isclose: _f_isclose,
        np.array_equal: _f_array_equal,
    }


_FUNCTIONS = None


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
    global _FUNCTIONS
    for t in types:
        if not (issubclass(t, Tensor) or issubclass(t, np.ndarray)):
            return NotImplemented
    if _FUNCTIONS is None:
        _FUNCTIONS = _function_table()
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
