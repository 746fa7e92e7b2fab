"""Tensor operators and methods, bound to the op wrappers."""

from __future__ import annotations

from ..tensor import Tensor
from . import elementwise as E
from . import indexing as I  # noqa: E741
from . import linalg as L
from . import reduction as R
from . import shape as S


def _r(fn):
    def rfn(self, other):
        return fn(other, self)

    return rfn


def _inplace(fn):
    def method(self, *args, **kwargs):
        return self._inplace(fn, *args, **kwargs)

    return method


def _size_or_tuple(fn):
    def method(self, *shape):
        return fn(self, *shape)

    return method


T = Tensor
# ---- operators ----
T.__add__ = lambda a, b: E.Add.apply(a, b)
T.__radd__ = lambda a, b: E.Add.apply(b, a)
T.__sub__ = lambda a, b: E.Sub.apply(a, b)
T.__rsub__ = lambda a, b: E.Sub.apply(b, a)
T.__mul__ = lambda a, b: E.Mul.apply(a, b)
T.__rmul__ = lambda a, b: E.Mul.apply(b, a)
T.__truediv__ = lambda a, b: E.Div.apply(a, b)
T.__rtruediv__ = lambda a, b: E.Div.apply(b, a)
T.__floordiv__ = E.floor_divide
T.__rfloordiv__ = _r(E.floor_divide)
T.__mod__ = E.remainder
T.__rmod__ = _r(E.remainder)
T.__pow__ = E.pow
T.__rpow__ = _r(E.pow)
T.__matmul__ = L.matmul
T.__rmatmul__ = _r(L.matmul)
T.__neg__ = E.neg
T.__pos__ = lambda a: a
T.__abs__ = E.abs
T.__eq__ = E.eq
T.__ne__ = E.ne
T.__lt__ = E.lt
T.__le__ = E.le
T.__gt__ = E.gt
T.__ge__ = E.ge
T.__and__ = E.bitwise_and
T.__or__ = E.bitwise_or
T.__xor__ = E.bitwise_xor
T.__invert__ = E.bitwise_not
T.__getitem__ = I.getitem
T.__iadd__ = _inplace(E.add)
T.__isub__ = _inplace(E.sub)
T.__imul__ = _inplace(E.mul)
T.__itruediv__ = _inplace(E.div)

# ---- element-wise methods ----
for _name in ("exp expm1 log log2 log10 log1p sqrt rsqrt sin cos tan tanh sigmoid relu abs "
              "square reciprocal erf floor ceil trunc sign neg clone").split():
    setattr(T, _name, getattr(E, _name))
    setattr(T, _name + "_", _inplace(getattr(E, _name)))
T.negative = E.neg
T.absolute = E.abs
T.round = E.round
T.round_ = _inplace(E.round)
T.add = E.add
T.sub = E.sub
T.subtract = E.sub
T.mul = E.mul
T.multiply = E.mul
T.div = E.div
T.divide = E.div
T.true_divide = E.div
T.pow = E.pow
T.remainder = E.remainder
T.fmod = E.fmod
T.floor_divide = E.floor_divide
T.clamp = E.clamp
T.clip = E.clamp
T.maximum = E.maximum
T.minimum = E.minimum
T.eq = E.eq
T.ne = E.ne
T.lt = E.lt
T.le = E.le
T.gt = E.gt
T.ge = E.ge
T.isnan = E.isnan
T.isinf = E.isinf
T.isfinite = E.isfinite
T.logical_not = E.logical_not
T.logical_and = E.logical_and
T.logical_or = E.logical_or
T.equal = E.equal
T.allclose = E.allclose
T.isclose = E.isclose
T.add_ = _inplace(E.add)
T.sub_ = _inplace(E.sub)
T.mul_ = _inplace(E.mul)
T.div_ = _inplace(E.div)
T.pow_ = _inplace(E.pow)
T.clamp_ = _inplace(E.clamp)
T.clip_ = _inplace(E.clamp)


def _where(self, condition, other):
    return E.where(condition, self, other)


T.where = _where


def _zero_(self):
    from .inplace import _write

    _write(self, None, 0)
    return self


def _fill_(self, value):
    from .inplace import _write

    if isinstance(value, Tensor):
        value = value.item()
    _write(self, None, value)
    return self


def _copy_(self, src, non_blocking=False):
    def _copy(t, s):
        return S.broadcast_to(s.to(t.device).to(t.dtype) if isinstance(s, Tensor) else
                              Tensor(s, dtype=t.dtype), tuple(t.shape)) * 1
    _copy.__name__ = "copy_"
    return self._inplace(_copy, src)


T.zero_ = _zero_
T.fill_ = _fill_
T.copy_ = _copy_

# ---- reductions ----
T.sum = R.sum
T.mean = R.mean
for _name in ("prod var std max min amax amin argmax argmin logsumexp norm median kthvalue "
              "cumsum cumprod all any").split():
    setattr(T, _name, getattr(R, _name))

# ---- shape ----
T.reshape = _size_or_tuple(S.reshape)
T.view = _size_or_tuple(S.reshape)
T.permute = _size_or_tuple(S.permute)
T.transpose = S.transpose
T.swapaxes = S.transpose
T.swapdims = S.transpose
T.t = S.t
T.expand = _size_or_tuple(S.expand)
T.expand_as = S.expand_as
T.broadcast_to = _size_or_tuple(S.broadcast_to)
T.sum_to = _size_or_tuple(S.sum_to)
T.squeeze = S.squeeze
T.unsqueeze = S.unsqueeze
T.flatten = S.flatten
T.unflatten = S.unflatten
T.repeat = _size_or_tuple(S.repeat)
T.tile = S.tile
T.flip = S.flip
T.fliplr = S.fliplr
T.flipud = S.flipud
T.roll = S.roll
T.split = S.split
T.chunk = S.chunk
T.unbind = S.unbind
T.movedim = S.movedim
T.moveaxis = S.movedim


def _contiguous(self, memory_format=None):
    return S.contiguous(self)


def _view_as(self, other):
    return S.reshape(self, tuple(other.shape))


def _reshape_as(self, other):
    return S.reshape(self, tuple(other.shape))


T.contiguous = _contiguous
T.view_as = _view_as
T.reshape_as = _reshape_as
T.is_contiguous = lambda self, memory_format=None: bool(
    getattr(self._data.flags, "c_contiguous", True))

# ---- linear algebra ----
T.matmul = L.matmul
T.mm = L.mm
T.bmm = L.bmm
T.mv = L.mv
T.dot = L.dot
T.inner = L.dot
T.outer = L.outer

# ---- indexing ----
T.gather = I.gather
T.scatter = I.scatter
T.scatter_ = _inplace(I.scatter)
T.scatter_add = I.scatter_add
T.scatter_add_ = _inplace(I.scatter_add)
T.index_select = I.index_select
T.masked_fill = I.masked_fill
T.masked_fill_ = _inplace(I.masked_fill)
T.take_along_dim = I.take_along_dim
T.tril = I.tril
T.tril_ = _inplace(I.tril)
T.triu = I.triu
T.triu_ = _inplace(I.triu)
T.topk = I.topk
T.sort = I.sort
T.argsort = I.argsort
T.nonzero = I.nonzero
T.argwhere = I.argwhere
