"""``vmap``: run a function written for one sample on a whole batch, without a Python loop
(PyTorch's ``torch.func.vmap``).

Inside ``vmap(f)(x)``, ``f`` sees ``BatchedTensor`` values: tensors whose logical shape is
one sample's, backed by a physical tensor holding the whole batch in dim 0. An interpreter on
this thread's ``grad_mode.state.transforms`` receives every op that touches a BatchedTensor
and applies the op's *batching rule*: the same op (or a close relative) run once on the
physical tensors with the batch dim accounted for (element-wise ops align ranks, reductions
and shape ops shift their dims by one, matmul/linear/conv/einsum/cross entropy fold the
batch into their own batch dims). Rules are built from ops, so the physical computation is
recorded like any other: reverse mode through a vmapped function works, and
``vmap(grad(loss))`` gives per-sample gradients from one backward pass
(``autograd.func.grad`` expands the differentiated inputs along the batch).

An op without a batching rule falls back to a loop over the batch (correct, slow) with a
one-time warning naming the op. ``vmap(vmap(f))`` nests levels: the inner level's physical
tensors are the outer level's BatchedTensors.
"""

from __future__ import annotations

import functools
import itertools
import numbers
import operator
import sys
import warnings

import numpy as np

from . import backend, registry
from .forward_ad import _multilinear, jvp_rule
from .function import Op
from .grad_mode import state
from .ops import elementwise as E
from .ops import linalg as L
from .ops import reduction as R
from .ops import shape as S
from .tensor import Tensor, _make

__all__ = ["vmap", "BatchedTensor", "batching_rule", "has_batching_rule",
           "registry_ops_without_batching_rule"]

_level_ids = itertools.count(1)
_PEEKS = {"where"}  # readers that only look at the dtype / array class
_WRITERS = {"_write"}  # in-place writers (ops/inplace.py): an index of one sample is wrong


class BatchedTensor(Tensor):
    """A tensor seen per sample inside ``vmap``; ``_phys`` holds the batch in dim 0."""

    def __init__(self, phys, level: int):
        self._phys = phys
        self._level = level
        self._vc = phys._vc
        self._saved_by = None

    @property
    def shape(self):
        return tuple(self._phys.shape[1:])

    @property
    def ndim(self) -> int:
        return len(self._phys.shape) - 1

    def dim(self) -> int:
        return self.ndim

    def size(self, dim=None):
        s = self.shape
        return s if dim is None else s[dim]

    def numel(self) -> int:
        n = 1
        for k in self.shape:
            n *= k
        return n

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    @property
    def T(self):
        return S.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self):
        return S.transpose(self, -2, -1)

    def __repr__(self) -> str:
        return f"BatchedTensor(level={self._level}, shape={self.shape}, phys={self._phys!r})"

    @property
    def _data(self):
        # The physical array (wrappers peek at it for its dtype or array module). Code that
        # computes a result from it bypasses the batching rules: note the reader, so that a
        # result escaping vmap unbatched is reported instead of silently wrong.
        f = sys._getframe(1)
        caller = f.f_code.co_name
        if caller in ("_data", "_arr") and f.f_back is not None:  # a helper: name its user
            caller = f.f_back.f_code.co_name
        if caller in _WRITERS and f.f_locals.get("index") is not None:
            raise RuntimeError(
                "vmap: in-place writes into a batched tensor (x[i] = v, x.add_(...)) are not "
                "supported; use out-of-place ops (x = x.clone(); ... or torch.where)"
            )
        if caller not in _PEEKS:
            for tr in state.transforms:
                if isinstance(tr, _Vmap) and tr.level == self._level:
                    tr.raw_reads.append(caller)
        return self._phys._data

    # the graph fields are the physical tensor's (in-place ops rewire them through here)
    @property
    def grad_fn(self):
        return self._phys.grad_fn

    @grad_fn.setter
    def grad_fn(self, value):
        self._phys.grad_fn = value

    @property
    def _rg(self):
        return self._phys._rg

    @_rg.setter
    def _rg(self, value):
        self._phys._rg = value

    @property
    def _nr(self):
        return self._phys._nr

    @_nr.setter
    def _nr(self, value):
        self._phys._nr = value

    @property
    def dtype(self):
        return self._phys.dtype

    @property
    def device(self):
        return self._phys.device

    @property
    def itemsize(self) -> int:
        return self._phys.itemsize

    def element_size(self) -> int:
        return self._phys.element_size()

    @property
    def nbytes(self) -> int:
        return self.numel() * self._phys.itemsize

    def is_floating_point(self) -> bool:
        return self._phys.is_floating_point()

    __hash__ = Tensor.__hash__

    def _cmp(self, other, op):
        if isinstance(other, BatchedTensor) and other._level > self._level:
            return NotImplemented  # the inner level handles it
        if isinstance(other, BatchedTensor) and other._level == self._level:
            rank = max(self.ndim, other.ndim)
            a, b = _pad_to(self._phys, rank), _pad_to(other._phys, rank)
        else:
            rank = len(getattr(other, "shape", ()))
            a, b = _pad_to(self._phys, max(self.ndim, rank)), other
        return BatchedTensor(op(a, b), self._level)

    def __eq__(self, other):
        return self._cmp(other, operator.eq)

    def __ne__(self, other):
        return self._cmp(other, operator.ne)

    def __lt__(self, other):
        return self._cmp(other, operator.lt)

    def __le__(self, other):
        return self._cmp(other, operator.le)

    def __gt__(self, other):
        return self._cmp(other, operator.gt)

    def __ge__(self, other):
        return self._cmp(other, operator.ge)

    def __and__(self, other):
        return self._cmp(other, operator.and_)

    def __or__(self, other):
        return self._cmp(other, operator.or_)

    def __xor__(self, other):
        return self._cmp(other, operator.xor)

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    def __invert__(self):
        return BatchedTensor(~self._phys, self._level)

    def __bool__(self):
        raise RuntimeError("vmap: data-dependent control flow (bool() of a tensor) is not "
                           "supported inside vmap")

    def item(self):
        raise RuntimeError("vmap: item() is not supported inside vmap (its value differs "
                           "per sample)")


def _current_vmap():
    for tr in reversed(state.transforms):
        if isinstance(tr, _Vmap):
            return tr
    return None


class _Vmap:
    """The interpreter of one vmap level."""

    def __init__(self, level: int, size: int):
        self.level = level
        self.size = size
        self.raw_reads = []  # functions that read a batched tensor's physical array

    def process(self, cls, args, kwargs):
        lv = self.level
        batched = [isinstance(a, BatchedTensor) and a._level == lv for a in args]
        stack = state.transforms
        i = stack.index(self)
        state.transforms = stack[:i] + stack[i + 1:]
        try:
            if not any(batched):
                return cls.apply(*args, **kwargs)
            phys = [a._phys if b else a for a, b in zip(args, batched)]
            rule = _find_rule(cls)
            out = None
            if rule is not None:
                out = rule(cls, phys, batched, kwargs, self.size)
            if out is None or out is NotImplemented:
                out = _loop(cls, phys, batched, kwargs, self.size)
        finally:
            state.transforms = stack
        if out.__class__ is tuple:
            return tuple(BatchedTensor(o, lv) for o in out)
        return BatchedTensor(out, lv)


_warned = set()


def _loop(cls, phys, batched, kwargs, size):
    name = cls.__name__
    if name not in _warned:
        _warned.add(name)
        warnings.warn(f"vmap: no batching rule for op {name}; falling back to a loop over "
                      f"the batch ({size} calls), which is slow", RuntimeWarning, stacklevel=4)
    outs = []
    for b in range(size):
        args_b = [p[b] if bt else p for p, bt in zip(phys, batched)]
        outs.append(cls.apply(*args_b, **kwargs))
    if outs[0].__class__ is tuple:
        return tuple(S.stack([o[k] for o in outs], 0) for k in range(len(outs[0])))
    return S.stack(outs, 0)


# ---------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------

def vmap(func, in_dims=0, out_dims=0, randomness: str = "error", *, chunk_size=None):
    """Vectorize ``func`` over dim ``in_dims`` of its inputs (PyTorch's
    ``torch.func.vmap``).

    Args:
        func: a function of tensors, written for one sample.
        in_dims: the batch dim of every input (an int), or one entry per positional
            argument (an int, or None for an argument shared by all samples).
        out_dims: where the batch dim goes in the outputs (an int or one per output).

    Returns:
        A function taking the batched inputs and returning the batched outputs.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if not isinstance(in_dims, (int, tuple, list)) and in_dims is not None:
            raise ValueError(f"vmap: expected in_dims to be an int or a (nested) tuple matching "
                             f"the structure of the inputs, got {type(in_dims).__name__}")
        dims = tuple(in_dims) if isinstance(in_dims, (tuple, list)) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(f"vmap: in_dims has {len(dims)} entries but the function got "
                             f"{len(args)} positional arguments")
        sizes = []

        def measure(a, d):
            if d is None:
                return a
            if not isinstance(d, int):
                raise ValueError(f"vmap: in_dim={d!r} for an input, but an in_dim must be an "
                                 "integer dimension or None")
            if not isinstance(a, Tensor):
                raise ValueError(f"vmap: in_dim={d} for an input of type {type(a).__name__}; "
                                 "vmap cannot map over non-Tensor arguments, use None as its "
                                 "in_dim")
            if not -a.ndim <= d < a.ndim:
                raise ValueError(f"vmap: in_dim={d} for an input of {a.ndim} dimensions")
            sizes.append(a.shape[d])
            return a

        _map_tree(measure, args, dims, "in_dims")
        if not sizes:
            raise ValueError("vmap: at least one argument must be batched (in_dims not None)")
        if any(n != sizes[0] for n in sizes):
            raise ValueError(f"vmap: inputs have different sizes along their batch dims "
                             f"({sizes})")
        size = sizes[0]
        interp = _Vmap(next(_level_ids), size)

        def wrap(a, d):
            if d is None:
                return a
            return BatchedTensor(a if d % a.ndim == 0 else S.movedim(a, d, 0), interp.level)

        wrapped = _map_tree(wrap, args, dims, "in_dims")
        state.transforms = state.transforms + (interp,)
        try:
            out = func(*wrapped, **kwargs)
        finally:
            st = state.transforms
            state.transforms = tuple(t for t in st if t is not interp)
        _check_escaped(out, interp)
        # a lone Tensor output takes out_dims=d or out_dims=(d,), as PyTorch's
        odims = out_dims
        if isinstance(out, Tensor) and isinstance(out_dims, (tuple, list)) and len(out_dims) == 1:
            odims = out_dims[0]
        return _map_tree(lambda o, d: _unwrap_out(o, d, interp, size), out, odims, "out_dims")

    return wrapper


def _map_tree(fn, tree, dims, what):
    """``tree`` (Tensors nested in tuples, lists and dicts) with each leaf replaced by
    ``fn(leaf, dim)``. ``dims`` is one int (or None) for the whole tree, or a nest of the
    same structure, each int then applying to its own subtree (PyTorch's ``in_dims`` /
    ``out_dims``)."""
    if not isinstance(dims, (tuple, list, dict)):
        if isinstance(tree, dict):
            return type(tree)((k, _map_tree(fn, v, dims, what)) for k, v in tree.items())
        if isinstance(tree, (tuple, list)):
            return _rebuild(tree, [_map_tree(fn, t, dims, what) for t in tree])
        return fn(tree, dims)
    if isinstance(tree, dict) and isinstance(dims, dict) and set(tree) == set(dims):
        return type(tree)((k, _map_tree(fn, v, dims[k], what)) for k, v in tree.items())
    if (isinstance(tree, (tuple, list)) and isinstance(dims, (tuple, list))
            and len(tree) == len(dims)):
        return _rebuild(tree, [_map_tree(fn, t, d, what) for t, d in zip(tree, dims)])
    raise ValueError(f"vmap: {what}={dims!r} is not compatible with the structure of the "
                     f"{'inputs' if what == 'in_dims' else 'outputs'} "
                     f"({type(tree).__name__})")


def _rebuild(seq, items):
    """A tuple / list / namedtuple of the same type as ``seq`` holding ``items``."""
    if isinstance(seq, tuple) and hasattr(seq, "_fields"):
        return type(seq)(*items)
    return type(seq)(items)


def _check_escaped(out, interp) -> None:
    """An output that is not batched although some function computed on the batch's raw
    arrays: it was computed outside the batching rules, and is wrong per sample."""
    if not interp.raw_reads:
        return
    vals = out.values() if isinstance(out, dict) else (
        out if isinstance(out, (tuple, list)) else (out,))
    if any(isinstance(o, Tensor) and not (isinstance(o, BatchedTensor) and
                                          o._level == interp.level) for o in vals):
        names = ", ".join(sorted(set(interp.raw_reads)))
        raise RuntimeError(
            f"vmap: an output is not batched, but {names} computed on the raw arrays of "
            "batched tensors (bypassing the batching rules), so it would hold the whole "
            "batch's result as one sample's; these functions are not supported under vmap"
        )


def _unwrap_out(o, d, interp, size):
    """One output of a vmapped function with its batch dim at ``d`` (None: the output does
    not depend on the batch and is returned as it is)."""
    batched = isinstance(o, BatchedTensor) and o._level == interp.level
    if d is None:
        if batched:
            raise ValueError("vmap: an output with out_dims=None must not depend on the "
                             "batched inputs")
        return o
    if batched:
        p = o._phys
    elif isinstance(o, Tensor):  # the same for every sample: expand
        p = S.broadcast_to(S.unsqueeze(o, 0), (size,) + tuple(o.shape))
    else:
        raise ValueError(f"vmap: the function must only return Tensors, got "
                         f"{type(o).__name__}; set its out_dims to None to return it")
    if d != 0:
        p = S.movedim(p, 0, d)
    return p


# ---------------------------------------------------------------------------------------
# batching rules: rule(cls, phys, batched, kwargs, size) -> physical output (batch in dim 0)
# ---------------------------------------------------------------------------------------

_RULES = registry.RuleTable(stop=(Op,))  # op class name -> batching rule


def batching_rule(*names):
    """Register a batching rule for the ops whose class is named ``names``."""

    def deco(fn):
        _RULES.add(names, fn)
        return fn

    return deco


def _find_rule(cls):
    return _RULES.find(cls)


def registry_ops_without_batching_rule() -> list:
    """Names of the differentiable ops of the op registry whose Op class has no batching
    rule (they run as a loop under vmap)."""
    return _RULES.missing()


def has_batching_rule(cls) -> bool:
    return _find_rule(cls) is not None


def _lndim(p, b) -> int:
    """Logical rank of an argument."""
    return len(p.shape) - 1 if b else len(getattr(p, "shape", ()))


def _pad_to(p, rank: int):
    """Physical (B, *l) -> (B, 1, ..., 1, *l) with ``rank`` logical dims."""
    extra = rank - (len(p.shape) - 1)
    if extra <= 0:
        return p
    return S.reshape(p, (p.shape[0],) + (1,) * extra + tuple(p.shape[1:]))


def _bexpand(p, size):
    """An unbatched tensor/array given a batch dim 0 of ``size`` (a broadcast view)."""
    if not isinstance(p, Tensor):
        p = _make(p)
    return S.broadcast_to(S.unsqueeze(p, 0), (size,) + tuple(p.shape))


def _arg(phys, kwargs, i, name):
    return phys[i] if len(phys) > i else kwargs.get(name)


def _set(phys, kwargs, i, name, value):
    if len(phys) > i:
        phys = list(phys)
        phys[i] = value
    else:
        kwargs = dict(kwargs)
        kwargs[name] = value
    return phys, kwargs


@batching_rule("Add", "Sub", "Mul", "Div", "Pow", "Remainder", "Fmod", "Maximum", "Minimum",
               "Where", "MaskedFill", "Neg", "Exp", "Expm1", "Log", "Log2", "Log10", "Log1p",
               "Sqrt", "Rsqrt", "Sin", "Cos", "Tan", "Tanh", "Sigmoid", "Relu", "Abs", "Square",
               "Angle", "Reciprocal", "Erf", "Clamp", "Cast", "Clone", "Contiguous", "_Rounding",
               "LeakyRelu", "Elu", "Gelu", "Silu", "Softplus", "Hardtanh",
               "BinaryCrossEntropy", "BCEWithLogits", "_ToDevice", "ToDevice", "Asin", "Acos",
               "Atan", "Asinh", "Acosh", "Atanh", "Atan2",
               "Threshold", "Hardshrink", "Softshrink", "Hardsigmoid", "Hardswish", "Mish",
               "Prelu",
               # autograd/ops/special.py (helper 'elem')
               "_Unary", "Polygamma", "Logit", "NanToNum", "Frexp", "Copysign", "Logaddexp",
               "Logaddexp2", "Hypot", "Xlogy", "Fmax", "ClampMin", "Nextafter", "Igamma",
               "Zeta", "Lerp", "Ldexp")
def _elementwise(cls, phys, batched, kwargs, size):
    rank = max(_lndim(p, b) for p, b in zip(phys, batched) if hasattr(p, "shape"))
    args = [_pad_to(p, rank) if b else p for p, b in zip(phys, batched)]
    return cls.apply(*args, **kwargs)


def _shift_axes(axes, ndim):
    if axes is None or axes == ():
        return tuple(range(1, ndim + 1))
    if isinstance(axes, numbers.Integral):
        return int(axes) % ndim + 1 if ndim else 1
    return tuple(int(a) % ndim + 1 for a in axes)


def _reduce_rule(name):
    def rule(cls, phys, batched, kwargs, size):
        if not batched[0] or any(batched[1:]):
            return None
        x = phys[0]
        nd = len(x.shape) - 1
        axes = _arg(phys, kwargs, 1, name)
        if nd == 0:  # a 0-d sample (loss.sum() of a scalar): reduce a (B, 1) view over dim 1
            one = 1 if isinstance(axes, numbers.Integral) else (1,)
            phys, kwargs = _set([S.unsqueeze(x, 1)] + list(phys[1:]), kwargs, 1, name, one)
            return S.reshape(cls.apply(*phys, **kwargs), (size,))
        phys, kwargs = _set(phys, kwargs, 1, name, _shift_axes(axes, nd))
        return cls.apply(*phys, **kwargs)

    return rule


for _n in ("Sum", "Mean", "Prod", "Var", "Amax", "LogSumExp"):
    batching_rule(_n)(_reduce_rule("axes"))


@batching_rule("Norm")
def _norm(cls, phys, batched, kwargs, size):
    if not batched[0]:
        return None
    x = phys[0]
    nd = len(x.shape) - 1
    if nd == 0:
        return None
    axes = _arg(phys, kwargs, 2, "axes")
    phys, kwargs = _set(phys, kwargs, 2, "axes", _shift_axes(axes, nd))
    return cls.apply(*phys, **kwargs)


def _dim_rule(name, pos):
    def rule(cls, phys, batched, kwargs, size):
        if not batched[0] or any(batched[1:]):
            return None
        nd = len(phys[0].shape) - 1
        d = _arg(phys, kwargs, pos, name)
        if nd == 0 or d is None:
            return None
        phys, kwargs = _set(phys, kwargs, pos, name, _shift_axes(d, nd))
        return cls.apply(*phys, **kwargs)

    return rule


for _n in ("Softmax", "LogSoftmax"):
    batching_rule(_n)(_dim_rule("dim", 1))
for _n in ("Cumsum", "Cumprod"):
    batching_rule(_n)(_dim_rule("axis", 1))
batching_rule("Flip")(_dim_rule("dims", 1))
batching_rule("Split")(_dim_rule("dim", 2))


@batching_rule("Unbind")
def _unbind(cls, phys, batched, kwargs, size):
    return _dim_rule("dim", 1)(cls, phys, batched, kwargs, size)


@batching_rule("Roll")
def _roll(cls, phys, batched, kwargs, size):
    dims = _arg(phys, kwargs, 2, "dims")
    if dims is None:
        return None
    return _dim_rule("dims", 2)(cls, phys, batched, kwargs, size)


@batching_rule("Reshape", "BroadcastTo")
def _reshape(cls, phys, batched, kwargs, size):
    if not batched[0]:
        return None
    x = phys[0]
    shape = tuple(_arg(phys, kwargs, 1, "shape"))
    if cls.__name__ == "BroadcastTo":
        x = _pad_to(x, len(shape))
        phys = [x] + list(phys[1:])
    phys, kwargs = _set(phys, kwargs, 1, "shape", (size,) + shape)
    return cls.apply(*phys, **kwargs)


@batching_rule("Permute")
def _permute(cls, phys, batched, kwargs, size):
    axes = _arg(phys, kwargs, 1, "axes")
    phys, kwargs = _set(phys, kwargs, 1, "axes", (0,) + tuple(int(a) + 1 for a in axes))
    return cls.apply(*phys, **kwargs)


@batching_rule("Repeat")
def _repeat(cls, phys, batched, kwargs, size):
    reps = tuple(_arg(phys, kwargs, 1, "reps"))
    x = _pad_to(phys[0], len(reps))
    phys, kwargs = _set([x] + list(phys[1:]), kwargs, 1, "reps", (1,) + reps)
    return cls.apply(*phys, **kwargs)


@batching_rule("Tril", "Triu")
def _tri(cls, phys, batched, kwargs, size):
    return cls.apply(*phys, **kwargs)


@batching_rule("Cat", "Stack")
def _cat(cls, phys, batched, kwargs, size):
    nd = max(_lndim(p, b) for p, b in zip(phys, batched))
    d = kwargs["dim"]
    n = nd + (1 if cls.__name__ == "Stack" else 0)
    args = [p if b else _bexpand(p, size) for p, b in zip(phys, batched)]
    return cls.apply(*args, **dict(kwargs, dim=int(d) % n + 1))


@batching_rule("PadConstant")
def _pad(cls, phys, batched, kwargs, size):
    widths = tuple(_arg(phys, kwargs, 1, "widths"))
    phys, kwargs = _set(phys, kwargs, 1, "widths", ((0, 0),) + widths)
    return cls.apply(*phys, **kwargs)


def _prefix_index(index):
    if isinstance(index, tuple):
        return (slice(None),) + index
    return (slice(None), index)


@batching_rule("GetItem", "Gather", "IndexSelect")
def _getitem(cls, phys, batched, kwargs, size):
    if not batched[0] or any(batched[1:]):
        return None
    index = kwargs["index"]
    if isinstance(index, tuple) and any(i is Ellipsis for i in index) and not kwargs["basic"]:
        return None
    return cls.apply(phys[0], **dict(kwargs, index=_prefix_index(index)))


def _selected_shape(shape, index):
    """The shape of ``x[index]`` for an x of ``shape`` (on a zero-stride view: no copy)."""
    return np.broadcast_to(np.zeros((), np.int8), shape)[index].shape


@batching_rule("SetItem", "Scatter", "ScatterAdd")
def _setitem(cls, phys, batched, kwargs, size):
    x, v = phys[0], phys[1]
    bx, bv = batched[0], batched[1]
    if len(phys) > 2 or any(batched[2:]):
        return None
    index = kwargs["index"]
    if not bx:
        x = _bexpand(x, size)
    if bv:
        sel = _selected_shape(tuple(x.shape[1:]), index)
        v = _pad_to(v, len(sel))
    return cls.apply(x, v, **dict(kwargs, index=_prefix_index(index)))


@batching_rule("SumTo")
def _sum_to(cls, phys, batched, kwargs, size):
    x = phys[0]
    shape = tuple(_arg(phys, kwargs, 1, "shape"))
    nd = len(x.shape) - 1
    padded = (1,) * (nd - len(shape)) + shape
    y = cls.apply(x, shape=(size,) + padded)
    return S.reshape(y, (size,) + shape)


@batching_rule("TakeAlongDim")
def _take_along(cls, phys, batched, kwargs, size):
    if not batched[0] or any(batched[1:]):
        return None
    index = kwargs["index"]
    axis = kwargs["axis"]
    nd = len(phys[0].shape) - 1
    if axis is None or nd == 0:
        return None
    xp = backend.get_array_module(index)
    idx = xp.broadcast_to(index[None], (size,) + tuple(index.shape))
    return cls.apply(phys[0], **dict(kwargs, index=idx, axis=int(axis) % nd + 1))


@batching_rule("Embedding")
def _embedding(cls, phys, batched, kwargs, size):
    if batched[0]:
        return None
    return cls.apply(*phys, **kwargs)  # weight[idx] with idx's batch dim in front


@batching_rule("MatMul")
def _matmul(cls, phys, batched, kwargs, size):
    a, b = phys
    ba, bb = batched
    ra, rb = _lndim(a, ba), _lndim(b, bb)
    sq = []
    if ra == 1:
        a = S.unsqueeze(a, -2)  # a row vector (the batch dim, if any, stays in front)
        sq.append(-2)
        ra = 2
    if rb == 1:
        b = S.unsqueeze(b, -1)
        sq.append(-1)
        rb = 2
    rank = max(ra, rb)
    if ba:
        a = _pad_to(a, rank)
    if bb:
        b = _pad_to(b, rank)
    y = cls.apply(a, b, **kwargs)  # unbatched operands broadcast against the batch dim
    if -1 in sq:
        y = S.squeeze(y, -1)
    if -2 in sq:
        y = S.squeeze(y, -1 if -1 in sq else -2)
    return y


class PerSampleLinear(Op):
    """``y[b] = x[b] @ w[b].T`` for x (B, M, in) and per-sample weights w (B, out, in).

    Its weight gradient is a batch of outer products when M == 1 (per-sample gradients):
    computed as a broadcast product, several times faster than a stacked matmul with an
    inner dimension of 1."""

    @staticmethod
    def forward(ctx, x, w):
        if ctx.next_edges:
            e = ctx.next_edges
            ctx.save_for_backward(x if e[1] is not None else None,
                                  w if e[0] is not None else None)
        return x @ _swap(w)

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        gx = gy @ w if w is not None else None
        gw = None
        if x is not None:
            gw = _swap(gy) * x if x.shape[1] == 1 else _swap(gy) @ x
        return gx, gw


def _swap(a):
    """Swap the last two dims of an array or a Tensor."""
    if isinstance(a, Tensor):
        return S.transpose(a, -1, -2)
    return a.swapaxes(-1, -2)


jvp_rule("PerSampleLinear")(_multilinear)


@batching_rule("Linear")
def _linear(cls, phys, batched, kwargs, size):
    x, w = phys[0], phys[1]
    bias = phys[2] if len(phys) > 2 else None
    bx, bw = batched[0], batched[1]
    bb = batched[2] if len(batched) > 2 else False
    if not bw and not bb:
        return cls.apply(*phys, **kwargs)  # the batch dim is one more leading dim of x
    # per-sample weights (e.g. per-sample gradients): y[b] = x[b] @ w[b].T + bias[b]
    if not bx:
        x = _bexpand(x, size)
    lead = tuple(x.shape[1:-1])
    x3 = S.reshape(x, (size, -1, x.shape[-1]))
    if bw:
        y = PerSampleLinear.apply(x3, w)
    else:
        y = L.matmul(x3, S.transpose(w, 0, 1))
    if bias is not None:
        bvec = bias if bb else _bexpand(bias, size)
        y = y + S.unsqueeze(bvec, 1)
    return S.reshape(y, (size,) + lead + (y.shape[-1],))


@batching_rule("Einsum")
def _einsum(cls, phys, batched, kwargs, size):
    ins, out = kwargs["ins"], kwargs["out"]
    used = set("".join(ins) + out)
    letter = next(c for c in "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA"
                  if c not in used)
    new_ins = [letter + s if b else s for s, b in zip(ins, batched)]
    return cls.apply(*phys, **dict(kwargs, ins=new_ins, out=letter + out))


def _fold_batch(x):
    """(B, N, ...) -> (B*N, ...)."""
    return S.reshape(x, (x.shape[0] * x.shape[1],) + tuple(x.shape[2:]))


def _unfold_batch(y, size):
    return S.reshape(y, (size, y.shape[0] // size) + tuple(y.shape[1:]))


@batching_rule("Conv2dOp")
def _conv(cls, phys, batched, kwargs, size):
    x, w = phys[0], phys[1]
    bias = phys[2] if len(phys) > 2 else None
    bx, bw = batched[0], batched[1]
    bb = batched[2] if len(batched) > 2 else False
    if len(x.shape) - (1 if bx else 0) != 4:
        return None
    if not bw and not bb:
        return _unfold_batch(cls.apply(_fold_batch(x), *phys[1:], **kwargs), size)
    # per-sample weights: the batch becomes groups (N, B*C, H, W) * (B*O, C/g, kh, kw)
    if not bx:
        x = _bexpand(x, size)
    if not bw:
        w = _bexpand(w, size)
    geom = kwargs["geom"]
    n, c = x.shape[1], x.shape[2]
    xg = S.reshape(S.transpose(x, 0, 1), (n, size * c) + tuple(x.shape[3:]))
    wg = S.reshape(w, (size * w.shape[1],) + tuple(w.shape[2:]))
    args = [xg, wg]
    if bias is not None:
        bv = bias if bb else _bexpand(bias, size)
        args.append(S.reshape(bv, (-1,)))
    y = cls.apply(*args, **dict(kwargs, geom=geom._replace(groups=geom.groups * size)))
    y = S.reshape(y, (n, size, w.shape[1]) + tuple(y.shape[2:]))
    return S.transpose(y, 0, 1)


@batching_rule("MaxPool2dOp", "AvgPool2dOp", "UnfoldOp")
def _pool(cls, phys, batched, kwargs, size):
    x = phys[0]
    if any(batched[1:]) or len(x.shape) != 5 or kwargs.get("codes") is not None:
        return None
    return _unfold_batch(cls.apply(_fold_batch(x), *phys[1:], **kwargs), size)


@batching_rule("Normalize")
def _normalize(cls, phys, batched, kwargs, size):
    if not batched[0] or any(batched[1:]) or kwargs.get("stats") is not None:
        return None
    nd = len(phys[0].shape) - 1
    axes = _arg(phys, kwargs, 3, "axes")
    phys, kwargs = _set(phys, kwargs, 3, "axes", _shift_axes(axes, nd))
    return cls.apply(*phys, **kwargs)


@batching_rule("CrossEntropy")
def _cross_entropy(cls, phys, batched, kwargs, size):
    x, target = phys[0], phys[1]
    if len(phys) > 2 or not batched[0] or len(x.shape) != 3:  # (B, N, C) logits only
        return None
    weight, ignore_index = kwargs.get("weight"), kwargs.get("ignore_index", -100)
    reduction = kwargs.get("reduction", "mean")
    t = target if batched[1] else _bexpand(target, size)
    n = x.shape[1]
    flat = cls.apply(_fold_batch(x), _fold_batch(t)._data, **dict(kwargs, reduction="none"))
    loss = S.reshape(flat, (size, n))
    if reduction == "none":
        return loss
    if reduction == "sum":
        return R.sum(loss, dim=1)
    td = t._data
    valid = (td != ignore_index)
    if weight is not None:
        wd = weight._data if isinstance(weight, Tensor) else weight
        xp = backend.get_array_module(td)
        denom = (wd[xp.where(valid, td, 0)] * valid).sum(axis=1)
    else:
        denom = valid.sum(axis=1).astype(x.dtype)
    return E.div(R.sum(loss, dim=1), _make(denom.astype(x.dtype)))
