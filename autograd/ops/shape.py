"""Shape ops: reshape, permute, broadcast_to/sum_to (each the other's backward), squeeze,
unsqueeze, flatten, repeat, tile, flip, roll, cat, stack, split, chunk, unbind, pad."""

from __future__ import annotations

import functools
import numbers
import warnings

import numpy as np

from .. import dtypes as _dtypes
from ..backend import get_array_module
from ..dtypes import promote, to_dtype
from ..function import Op, named
from ..grad_mode import state
from ..registry import register
from ..tensor import Size, Tensor, _make
from .elementwise import Clone, cast

_SH = "shape"


def _norm_dim(dim: int, ndim: int, op: str = "op") -> int:
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(
            f"{op}: dimension out of range (expected to be in range of "
            f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {dim})"
        )
    return dim % max(ndim, 1)


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def _sizes_keyword(*names):
    """Accept PyTorch's keyword for an op's ``*sizes`` (``x.reshape(shape=(4, 6))``,
    ``x.view(size=...)``, ``x.permute(dims=...)``, ``x.expand(size=...)``,
    ``x.repeat(repeats=...)``): the keyword's sequence stands for the positional sizes; both
    at once is a TypeError, as in PyTorch."""

    def deco(fn):
        @functools.wraps(fn)
        def f(x, *sizes, **kwargs):
            for name in names:
                if name in kwargs:
                    if sizes:
                        raise TypeError(f"{fn.__name__}() got multiple values for argument "
                                        f"'{name}'")
                    sizes = (kwargs.pop(name),)
            return fn(x, *sizes, **kwargs)

        return f

    return deco


def _sum_to_array(x, shape):
    """Sum a (broadcast) array down to ``shape``."""
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and x.shape[i + lead] != 1
    )
    y = x.sum(axis=axes, keepdims=True) if axes else x
    if lead:
        y = y.reshape(shape)
    return y


class Reshape(Op):
    _view = True
    _torch_name = "ViewBackward0"  # view/reshape/flatten; unsqueeze and squeeze name theirs

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        try:
            y = x.reshape(shape)
        except ValueError:
            raise RuntimeError(
                f"reshape: shape {list(shape)} is invalid for input of shape "
                f"{list(x.shape)} ({x.size} elements)"
            ) from None
        if not _is_view_of(y, x):  # x's strides cannot express the shape: NumPy copied
            ctx._view = False  # a new tensor, as PyTorch's reshape gives then: not a view
        return y

    @staticmethod
    def backward(ctx, gy):
        return reshape(gy, ctx.in_shape)


class Permute(Op):
    _view = True
    _torch_name = "PermuteBackward0"  # permute, .T, movedim; transpose and t() name theirs

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return x.transpose(axes)

    @staticmethod
    def backward(ctx, gy):
        inv = tuple(np.argsort(ctx.axes))
        return permute(gy, inv)


class BroadcastTo(Op):
    _torch_name = "ExpandBackward0"
    _view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        try:
            return get_array_module(x).broadcast_to(x, shape)
        except ValueError:
            raise RuntimeError(
                f"expand/broadcast_to: the input of shape {list(x.shape)} cannot be broadcast "
                f"to {list(shape)} (sizes must match or be 1, aligned from the right)"
            ) from None

    @staticmethod
    def backward(ctx, gy):
        return sum_to(gy, ctx.in_shape)


class SumTo(Op):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        y = _sum_to_array(x, shape)
        if x.dtype.kind in "biu" and y is not x:  # integer sums are int64, as PyTorch's
            y = y.astype(np.int64)
        return y

    @staticmethod
    def backward(ctx, gy):
        return broadcast_to(gy, ctx.in_shape)


class Repeat(Op):
    @staticmethod
    def forward(ctx, x, reps):
        if len(reps) < x.ndim:
            raise RuntimeError(
                f"repeat: the number of repeat dims ({len(reps)}) can not be smaller than the "
                f"number of tensor dims ({x.ndim})"
            )
        xs = (1,) * (len(reps) - x.ndim) + x.shape
        ctx.in_shape, ctx.xs, ctx.reps = x.shape, xs, reps
        return get_array_module(x).tile(x.reshape(xs), reps)

    @staticmethod
    def backward(ctx, gy):
        # view the output as (r0, s0, r1, s1, ...) and sum the repeats (the r dims) away
        inter, kept = [], []
        for r, s in zip(ctx.reps, ctx.xs):
            inter += [r, s]
            kept += [1, s]
        g = sum_to(reshape(gy, tuple(inter)), tuple(kept))
        return reshape(g, ctx.in_shape)


class Flip(Op):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return get_array_module(x).flip(x, dims).copy()

    @staticmethod
    def backward(ctx, gy):
        return flip(gy, ctx.dims)


class Roll(Op):
    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return get_array_module(x).roll(x, shifts, dims)

    @staticmethod
    def backward(ctx, gy):
        neg = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return roll(gy, neg, ctx.dims)


class Cat(Op):
    @staticmethod
    def forward(ctx, *xs, dim):
        xp = get_array_module(*xs)
        ctx.dim = dim
        # skipped 1-D empty tensors (see cat) take no part and get an empty gradient
        ctx.skip = [_legacy_empty(x) for x in xs]
        if all(ctx.skip):
            ctx.skip = [False] * len(xs)
        ctx.sizes = [0 if k else x.shape[dim] for x, k in zip(xs, ctx.skip)]
        ctx.dtypes = [x.dtype for x in xs]
        try:
            return xp.concatenate([x for x, k in zip(xs, ctx.skip) if not k], axis=dim)
        except ValueError:
            raise RuntimeError(
                f"cat: sizes of tensors must match except in dimension {dim}; got shapes "
                f"{[list(x.shape) for x in xs]}"
            ) from None

    @staticmethod
    def backward(ctx, gy):
        out = []
        start = 0
        pre = (slice(None),) * ctx.dim
        for i, n in enumerate(ctx.sizes):
            if ctx.next_edges[i] is None:
                out.append(None)
            elif ctx.skip[i]:
                out.append(get_array_module(gy).zeros((0,), dtype=ctx.dtypes[i]))
            else:
                g = gy[pre + (slice(start, start + n),)]
                if g.dtype != ctx.dtypes[i]:
                    g = cast(g, ctx.dtypes[i])
                out.append(g)
            start += n
        return tuple(out)


class Stack(Op):
    @staticmethod
    def forward(ctx, *xs, dim):
        shapes = {x.shape for x in xs}
        if len(shapes) != 1:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got shapes "
                f"{[list(x.shape) for x in xs]}"
            )
        ctx.dim = dim
        return get_array_module(*xs).stack(xs, axis=dim)

    @staticmethod
    def backward(ctx, gy):
        pre = (slice(None),) * ctx.dim
        return tuple(
            None if e is None else gy[pre + (i,)] for i, e in enumerate(ctx.next_edges)
        )


class Split(Op):
    """One input, several outputs (views); backward concatenates the output gradients."""

    _view = True

    @staticmethod
    def forward(ctx, x, sections, dim):
        ctx.dim = dim
        bounds = [int(b) for b in np.cumsum(sections)[:-1]]
        parts = get_array_module(x).split(x, bounds, axis=dim)
        return tuple(parts)

    @staticmethod
    def backward(ctx, *gys):
        return cat(list(gys), dim=ctx.dim)


class Unbind(Op):
    _view = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        pre = (slice(None),) * dim
        return tuple(x[pre + (i,)] for i in range(x.shape[dim]))

    @staticmethod
    def backward(ctx, *gys):
        return stack(list(gys), dim=ctx.dim)


class PadConstant(Op):
    _torch_name = "ConstantPadNdBackward0"
    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.slices = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape))
        return get_array_module(x).pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, gy):
        return gy[ctx.slices]


# ---- wrappers ---------------------------------------------------------------------------

def _view_dtype(x, dtype):
    """``x.view(dtype)``: the same memory read as another dtype (no copy, no gradient, as in
    PyTorch). With a different element size the last dim scales, which needs it to be
    contiguous."""
    dt = to_dtype(dtype)
    a = x._data
    src = a.dtype
    if dt.itemsize != src.itemsize:
        what = f"to view {src} as {dt} (different element sizes)"
        if a.ndim == 0:
            raise RuntimeError(f"view: self.dim() cannot be 0 {what}")
        if a.shape[-1] != 1 and a.strides[-1] != src.itemsize:
            raise RuntimeError(f"view: self.stride(-1) must be 1 {what}, but got "
                               f"{a.strides[-1] // src.itemsize}")
        if (a.shape[-1] * src.itemsize) % dt.itemsize:
            raise RuntimeError(f"view: self.size(-1) must be divisible by "
                               f"{dt.itemsize // src.itemsize} {what}, but got {a.shape[-1]}")
    return _make(a.view(dt))


def _is_dtype_arg(a) -> bool:
    return (isinstance(a, (np.dtype, _dtypes.dtype, str))
            or (isinstance(a, type) and a not in (int, bool)))


def _is_view_of(y, x) -> bool:
    """Whether ``y``, a reshape of the array ``x``, lies in x's memory (NumPy and CuPy
    reshape a view when x's strides can express the new shape, else a copy). NumPy: a
    view's base is x or x's own base (NumPy keeps the owner), a copy's base its fresh
    buffer. CuPy: a reshaped view starts at x's first element, a copy elsewhere."""
    if y is x or y.size == 0:
        return True
    if y.__class__ is np.ndarray:
        b = y.base
        return b is not None and (b is x or b is x.base)
    return y.data.ptr == x.data.ptr


@register(family=_SH, op=Reshape, numpy="reshape")
@_sizes_keyword("shape")  # reshape(shape=...)
def reshape(x, *shape):
    """Return a tensor with the same data and the given shape (one dim may be -1): a view
    of x's memory when its strides allow, else a copy (as PyTorch's)."""
    shape = _shape_arg(shape)
    if not isinstance(x, Tensor):
        return x.reshape(shape)
    return Reshape.apply(x, shape=shape)


@register(family=_SH, op=Reshape)
@_sizes_keyword("size")  # view(size=...)
def view(x, *shape):
    """x's memory under another shape (one dim may be -1), never a copy: a RuntimeError
    when x's strides cannot express it (a transposed tensor flattened: use ``reshape``);
    ``x.view(dtype)`` reads the same memory as another dtype."""
    if len(shape) == 1 and _is_dtype_arg(shape[0]) and isinstance(x, Tensor):
        return _view_dtype(x, shape[0])
    shape = _shape_arg(shape)
    if not isinstance(x, Tensor):
        return x.reshape(shape)
    if not state.transforms:  # (vmap's physical arrays have their own layout)
        a = x._data
        try:
            y = a.reshape(shape)
        except ValueError:
            y = None  # Reshape names the bad shape
        if y is not None and not _is_view_of(y, a):
            raise RuntimeError(
                f"view: shape {list(shape)} is not compatible with the input's size "
                f"{list(a.shape)} and stride {[st // a.itemsize for st in a.strides]} (at "
                f"least one dimension spans across two contiguous subspaces). Use "
                f".reshape(...) instead.")
    return Reshape.apply(x, shape=shape)


@register(family=_SH, op=Permute, numpy="transpose")
@_sizes_keyword("dims")
def permute(x, *dims):
    """Reorder the dimensions."""
    dims = _shape_arg(dims)
    if not isinstance(x, Tensor):
        return x.transpose(dims)
    n = x.ndim
    if sorted(d % max(n, 1) for d in dims) != list(range(n)):
        raise RuntimeError(
            f"permute: dims {list(dims)} are not a permutation of the {n} dims of the input "
            f"of shape {list(x.shape)}"
        )
    return Permute.apply(x, axes=tuple(d % n for d in dims))


@register(family=_SH, op=Permute, aliases=("swapaxes", "swapdims"), numpy="swapaxes")
def transpose(x, dim0: int, dim1: int):
    """Swap two dimensions."""
    n = x.ndim
    d0, d1 = _norm_dim(dim0, n, "transpose"), _norm_dim(dim1, n, "transpose")
    if n == 0:  # a 0-d tensor: dims 0 and -1 name the tensor itself
        return x if not isinstance(x, Tensor) else named(Permute.apply(x, axes=()),
                                                         "TransposeBackward0")
    axes = list(range(n))
    axes[d0], axes[d1] = axes[d1], axes[d0]
    if not isinstance(x, Tensor):
        return x.transpose(axes)
    return named(Permute.apply(x, axes=tuple(axes)), "TransposeBackward0")


swapaxes = swapdims = transpose


@register(family=_SH, op=Permute)
def t(x):
    """Transpose a tensor of at most 2 dims."""
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    if not isinstance(x, Tensor):
        return x.T
    # a view even of a 0-d or 1-d tensor (itself, as PyTorch's): its node is TBackward0
    return named(Permute.apply(x, axes=(1, 0) if x.ndim == 2 else tuple(range(x.ndim))),
                 "TBackward0")


@register(family=_SH, op=BroadcastTo, numpy="broadcast_to")
def broadcast_to(x, *shape):
    """Broadcast to ``shape`` (a read-only view); its backward is ``sum_to``."""
    shape = _shape_arg(shape)
    if not isinstance(x, Tensor):
        if x.shape == shape:
            return x
        return get_array_module(x).broadcast_to(x, shape)
    return BroadcastTo.apply(x, shape=shape)


@register(family=_SH, op=BroadcastTo)
@_sizes_keyword("size")
def expand(x, *sizes):
    """Broadcast singleton dims to ``sizes`` (-1 keeps a dim)."""
    sizes = _shape_arg(sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal "
            f"to the number of dimensions in the tensor ({x.ndim})"
        )
    for i, s in enumerate(sizes):
        if s == -1 and i < lead:
            raise RuntimeError(
                f"expand: -1 is not allowed in a leading, non-existing dimension (sizes "
                f"{list(sizes)} for a tensor of shape {list(x.shape)})")
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    return broadcast_to(x, shape)


@register(family=_SH, op=BroadcastTo, function=False, arity=2)
def expand_as(x, other):
    return broadcast_to(x, tuple(other.shape))


@register(family=_SH, op=SumTo)
def sum_to(x, *shape):
    """Sum a broadcast tensor down to ``shape``; its backward is ``broadcast_to``."""
    shape = _shape_arg(shape)
    if not isinstance(x, Tensor):
        return _sum_to_array(x, shape)
    xs = tuple(x.shape)
    if len(shape) > len(xs) or any(s not in (1, n) for s, n in zip(shape[::-1], xs[::-1])):
        raise RuntimeError(f"sum_to: size {list(shape)} is not expandable to size {list(xs)}; "
                           "each size must be 1 or match the tensor's, aligned from the right")
    if x._data.shape == shape:
        return x
    return SumTo.apply(x, shape=shape)


def _broadcast_shapes(op, shapes):
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise RuntimeError(
            f"{op}: the shapes {[list(s) for s in shapes]} cannot be broadcast together "
            "(sizes must match or be 1, aligned from the right)") from None


@register(family=_SH, op=BroadcastTo, method=False, arity=None)
def broadcast_tensors(*tensors):
    shape = _broadcast_shapes("broadcast_tensors", [tuple(t.shape) for t in tensors])
    return tuple(broadcast_to(t, shape) for t in tensors)


@register(family=_SH, method=False, arity=0, differentiable=False)
def broadcast_shapes(*shapes):
    return Size(_broadcast_shapes("broadcast_shapes",
                                  [(s,) if isinstance(s, numbers.Integral) else tuple(s)
                                   for s in shapes]))


@register(family=_SH, op=Reshape, numpy="squeeze")
def squeeze(x, dim=None):
    """Remove size-1 dims (all, or the given one/ones)."""
    shape = x.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        dims = {_norm_dim(d, len(shape), "squeeze") for d in dims}
        new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    # PyTorch's overloads: squeeze(), squeeze(dim), squeeze(dims)
    k = 0 if dim is None else 2 if isinstance(dim, (tuple, list)) else 1
    return named(reshape(x, new), f"SqueezeBackward{k}")


@register(family=_SH, op=Reshape, numpy="expand_dims")
def unsqueeze(x, dim: int):
    """Insert a size-1 dim at ``dim``."""
    n = x.ndim + 1
    d = _norm_dim(dim, n, "unsqueeze")
    shape = list(x.shape)
    shape.insert(d, 1)
    return named(reshape(x, tuple(shape)), "UnsqueezeBackward0")


@register(family=_SH, op=Reshape)
def flatten(x, start_dim: int = 0, end_dim: int = -1):
    """Merge dims ``start_dim..end_dim`` into one."""
    n = x.ndim
    if n == 0:
        _norm_dim(start_dim, n, "flatten"), _norm_dim(end_dim, n, "flatten")
        return reshape(x, (1,))
    s, e = _norm_dim(start_dim, n, "flatten"), _norm_dim(end_dim, n, "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = x.shape
    mid = int(np.prod(shape[s:e + 1]))
    return reshape(x, shape[:s] + (mid,) + shape[e + 1:])


@register(family=_SH, op=Reshape)
def unflatten(x, dim: int, sizes):
    d = _norm_dim(dim, x.ndim, "unflatten")
    sizes = tuple(sizes)
    if -1 in sizes:
        known = int(np.prod([s for s in sizes if s != -1]))
        sizes = tuple(x.shape[d] // known if s == -1 else s for s in sizes)
    if int(np.prod(sizes)) != x.shape[d]:
        raise RuntimeError(
            f"unflatten: provided sizes {list(sizes)} don't multiply up to the size of dim "
            f"{dim} ({x.shape[d]}) in the input tensor"
        )
    return reshape(x, x.shape[:d] + sizes + x.shape[d + 1:])


@register(family=_SH, op=Repeat)
@_sizes_keyword("repeats")
def repeat(x, *sizes):
    """Repeat along each dim (like ``numpy.tile``; PyTorch's ``Tensor.repeat``)."""
    return Repeat.apply(x, reps=_shape_arg(sizes))


@register(family=_SH, op=Repeat, numpy="tile")
@_sizes_keyword("dims")
def tile(x, *dims):
    """Repeat ``x`` ``dims`` times along each dim (as a tuple, or as separate ints in the
    method form ``x.tile(2, 2)``); missing leading dims count as 1."""
    dims = _shape_arg(dims)
    if len(dims) < x.ndim:
        dims = (1,) * (x.ndim - len(dims)) + dims
    return repeat(x, dims)


@register(family=_SH, op=Flip, numpy="flip")
def flip(x, dims):
    """Reverse the order along ``dims``."""
    dims = (dims,) if isinstance(dims, numbers.Integral) else tuple(dims)
    if not isinstance(x, Tensor):
        return get_array_module(x).flip(x, dims)
    nd = tuple(_norm_dim(d, x.ndim, "flip") for d in dims)
    if len(set(nd)) != len(nd):
        d = next(d for d in nd if nd.count(d) > 1)
        raise RuntimeError(f"flip: dim {d} appears multiple times in the list of dims "
                           f"{list(dims)}; name each dimension once")
    if x.ndim == 0:
        return Clone.apply(x)  # a 0-d tensor flipped is itself (dim 0 or -1 allowed)
    return Flip.apply(x, dims=nd)


@register(family=_SH, op=Flip)
def fliplr(x):
    if x.ndim < 2:
        raise RuntimeError(f"fliplr: input must be >= 2-d, got shape {list(x.shape)}")
    return flip(x, (1,))


@register(family=_SH, op=Flip)
def flipud(x):
    if x.ndim < 1:
        raise RuntimeError("flipud: input must be >= 1-d, got a 0-d tensor")
    return flip(x, (0,))


@register(family=_SH, op=Roll, numpy="roll")
def roll(x, shifts, dims=None):
    """Roll elements along ``dims`` (flattened when None)."""
    if isinstance(shifts, (list, tuple)):
        shifts = tuple(shifts)
    if isinstance(dims, list):
        dims = tuple(dims)
    ns = len(shifts) if isinstance(shifts, tuple) else 1
    nd = 0 if dims is None else (len(dims) if isinstance(dims, tuple) else 1)
    if (dims is None and ns != 1) or (dims is not None and ns != nd):
        raise RuntimeError(
            f"roll: shifts and dimensions must align: {ns} shift(s) {shifts!r} for {nd} "
            f"dim(s) {dims!r}; give one shift per dim (or one shift and no dims to roll the "
            "flattened tensor)")
    if isinstance(shifts, tuple) and dims is None:
        shifts = shifts[0]
    if isinstance(dims, tuple):
        dims = tuple(_norm_dim(d, x.ndim, "roll") for d in dims)
    elif dims is not None:
        dims = _norm_dim(dims, x.ndim, "roll")
    if not isinstance(x, Tensor):
        return get_array_module(x).roll(x, shifts, dims)
    return Roll.apply(x, shifts=shifts, dims=dims)


def _same_device(tensors, op):
    devs = {str(t.device) for t in tensors if isinstance(t, Tensor)}
    if len(devs) > 1:
        raise RuntimeError(f"{op}: expected all tensors to be on the same device, got {devs}")


def _legacy_empty(t) -> bool:
    return t.ndim == 1 and t.shape[0] == 0


@register(family=_SH, op=Cat, aliases=("concat", "concatenate"), method=False,
          numpy="concatenate", arity=None)
def cat(tensors, dim: int = 0):
    """Concatenate along an existing dim."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(
                f"cat: zero-dimensional tensor (at position {i}) cannot be concatenated; "
                "use stack(), or unsqueeze it first")
    # PyTorch's legacy rule: a 1-D empty tensor (shape [0], as torch.tensor([]) when a
    # result is accumulated with cat in a loop) is skipped whatever the others' shapes; it
    # still takes part in the dtype promotion
    kept = [t for t in tensors if not _legacy_empty(t)] or tensors
    n = kept[0].ndim
    d = _norm_dim(dim, n, "cat")
    if any(t.ndim != n for t in kept):
        raise RuntimeError(
            f"cat: tensors must have the same number of dimensions; got shapes "
            f"{[list(t.shape) for t in tensors]}"
        )
    _same_device(tensors, "cat")
    dts = {t.dtype for t in tensors}
    if len(dts) > 1:
        dt = tensors[0]._data if isinstance(tensors[0], Tensor) else tensors[0]
        for t in tensors[1:]:
            other = t._data if isinstance(t, Tensor) else t
            dt = np.empty(0, dtype=promote(dt, other))
        tensors = [cast(t, dt.dtype) for t in tensors]
    return Cat.apply(*tensors, dim=d)


concat = concatenate = cat


@register(family=_SH, op=Stack, method=False, numpy="stack", arity=None)
def stack(tensors, dim: int = 0):
    """Stack along a new dim."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    d = _norm_dim(dim, tensors[0].ndim + 1, "stack")
    _same_device(tensors, "stack")
    dts = {t.dtype for t in tensors}
    if len(dts) > 1:  # PyTorch's promotion (int64 with float32 gives float32, not float64)
        dt = functools.reduce(_dtypes.promote_types, [t.dtype for t in tensors])
        tensors = [cast(t, np.dtype(dt)) for t in tensors]
    return Stack.apply(*tensors, dim=d)


@register(family=_SH, op=Cat, method=False, arity=None)
def hstack(tensors):
    tensors = [t if t.ndim else reshape(t, (1,)) for t in tensors]  # atleast_1d
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


@register(family=_SH, op=Cat, aliases="row_stack", method=False, arity=None)
def vstack(tensors):
    return cat([t if t.ndim > 1 else reshape(t, (1, -1)) for t in tensors], 0)  # atleast_2d


row_stack = vstack


@register(family=_SH, op=Split)
def split(x, split_size_or_sections, dim: int = 0):
    """Split into chunks of ``split_size`` (the last may be smaller) or of given sizes."""
    if x.ndim == 0:
        raise RuntimeError("split: expects at least a 1-dimensional tensor, got a 0-d one")
    d = _norm_dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, numbers.Integral):
        s = int(split_size_or_sections)
        if s <= 0 and n > 0:
            raise RuntimeError(f"split: split_size must be positive, got {s}")
        sections = [s] * (n // s) + ([n % s] if n % s else []) if n else [0]
    else:
        sections = [int(v) for v in split_size_or_sections]
        if int(np.sum(sections)) != n:  # (the builtin sum is shadowed below)
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's "
                f"size at dimension {dim}), but got split_sizes={sections}"
            )
    return Split.apply(x, sections=tuple(sections), dim=d)


@register(family=_SH, op=Split)
def chunk(x, chunks: int, dim: int = 0):
    """Split into ``chunks`` nearly equal pieces."""
    if x.ndim == 0:
        raise RuntimeError("chunk: expects at least a 1-dimensional tensor, got a 0-d one")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = _norm_dim(dim, x.ndim, "chunk")
    n = x.shape[d]
    size = -(-n // chunks) if n else 1
    return split(x, max(size, 1), d)


@register(family=_SH, op=Unbind)
def unbind(x, dim: int = 0):
    """Remove a dim, returning the slices along it."""
    d = _norm_dim(dim, x.ndim, "unbind")
    return Unbind.apply(x, dim=d)


class Contiguous(Op):
    _torch_name = "CloneBackward0"
    @staticmethod
    def forward(ctx, x):
        return get_array_module(x).ascontiguousarray(x)

    @staticmethod
    def backward(ctx, gy):
        return gy


def _contiguous_method(self, memory_format=None):
    return contiguous(self)


@register(family=_SH, op=Contiguous, function=False, method=_contiguous_method)
def contiguous(x):
    """The tensor itself when C-contiguous, else a C-ordered copy (like PyTorch)."""
    d = x._data if isinstance(x, Tensor) else x
    if d.flags.c_contiguous:
        return x
    if not isinstance(x, Tensor):
        return get_array_module(d).ascontiguousarray(d)
    return Contiguous.apply(x)


@register(family=_SH, op=Permute, aliases="moveaxis", numpy="moveaxis")
def movedim(x, source, destination):
    src = [source] if isinstance(source, numbers.Integral) else list(source)
    dst = [destination] if isinstance(destination, numbers.Integral) else list(destination)
    n = x.ndim
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({src} dims) should "
            f"contain the same number of dims as destination ({dst} dims)")
    src = [_norm_dim(s, n, "movedim") for s in src]
    dst = [_norm_dim(d, n, "movedim") for d in dst]
    if n == 0:
        return Clone.apply(x) if isinstance(x, Tensor) else x.copy()
    order = [i for i in range(n) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(x, order)


moveaxis = movedim


@register(family=_SH, op=PadConstant, method=False)
def pad(x, pad, mode: str = "constant", value: float = 0.0):
    """Pad like ``torch.nn.functional.pad``: ``pad`` lists (left, right) pairs starting
    from the last dim. Modes: constant, reflect, replicate, circular."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise RuntimeError(
            f"pad: padding length must be even and at most 2*ndim ({2 * x.ndim}); got {len(pad)}"
        )
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if mode == "constant":
        if any(lo < 0 or hi < 0 for lo, hi in widths):
            # negative padding crops
            sl = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in
                       zip(widths, x.shape))
            x = x[sl]
            widths = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
        return PadConstant.apply(x, widths=tuple(widths), value=value)
    np_mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}.get(mode)
    if np_mode is None:
        raise ValueError(
            f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}"
        )
    out = x
    xp = get_array_module(x)
    for d, (lo, hi) in enumerate(widths):
        if lo == 0 and hi == 0:
            continue
        n = x.shape[d]
        if np_mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(
                f"pad: reflect padding ({lo}, {hi}) must be smaller than the input size {n} "
                f"at dim {d}"
            )
        # negative pads crop: reflect/replicate pad the full dim then crop, circular crops
        # first then wraps (PyTorch's results)
        clo, chi = max(-lo, 0), max(-hi, 0)
        if np_mode == "wrap":
            idx = np.pad(np.arange(clo, n - chi), (max(lo, 0), max(hi, 0)), mode=np_mode)
        else:
            idx = np.pad(np.arange(n), (max(lo, 0), max(hi, 0)), mode=np_mode)
            idx = idx[clo:idx.size - chi]
        out = out[(slice(None),) * d + (xp.asarray(idx),)]  # a gather along dim d
    if out is not x and np_mode != "wrap":  # PyTorch's node names (circular: CopySlices)
        kind = "Reflection" if np_mode == "reflect" else "Replication"
        named(out, f"{kind}Pad{len(pad) // 2}DBackward0")
    return out


@register(family=_SH, op=Reshape, function=False, arity=2)
def view_as(x, other):
    """``x.view(other.shape)``."""
    return view(x, tuple(other.shape))


@register(family=_SH, op=Reshape, function=False, arity=2)
def reshape_as(x, other):
    """``x.reshape(other.shape)``."""
    return reshape(x, tuple(other.shape))


@register(family=_SH, function=False, differentiable=False)
def is_contiguous(x, memory_format=None) -> bool:
    """True when the tensor's memory is C-contiguous."""
    d = x._data if isinstance(x, Tensor) else x
    return bool(getattr(d.flags, "c_contiguous", True))


# ---- more shape ops (helper 'shape') ------------------------------------------------------

@register(family=_SH, op=Reshape, numpy="ravel")
def ravel(x):
    """The flattened tensor (a view when x is contiguous)."""
    return reshape(x, (-1,))


@register(family=_SH, op=Split)
def split_with_sizes(x, split_sizes, dim: int = 0):
    """Split into pieces of the given sizes along ``dim`` (they must sum to its size)."""
    if isinstance(split_sizes, numbers.Integral):
        raise TypeError("split_with_sizes(): argument 'split_sizes' must be tuple of ints, "
                        "not int")
    return split(x, list(split_sizes), dim)


def _unsafe(fn, name):
    def f(x, *args, **kwargs):
        return fn(x, *args, **kwargs)

    f.__doc__ = f"``{fn.__name__}`` (PyTorch's unsafe variant skips version checks; the " \
                "results here are ordinary views)."
    return register(name, family=_SH, op=Split)(f)


unsafe_split = _unsafe(split, "unsafe_split")
unsafe_chunk = _unsafe(chunk, "unsafe_chunk")
unsafe_split_with_sizes = _unsafe(split_with_sizes, "unsafe_split_with_sizes")


@register(family=_SH, op=Flip)
def rot90(x, k: int = 1, dims=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``dims`` (from the first towards
    the second)."""
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if x.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {x.ndim}")
    d0, d1 = _norm_dim(dims[0], x.ndim, "rot90"), _norm_dim(dims[1], x.ndim, "rot90")
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} "
                           f"and dim1 = {dims[1]}")
    k = int(k) % 4
    if k == 1:
        return transpose(flip(x, (d1,)), d0, d1)
    if k == 2:
        return flip(x, (d0, d1))
    if k == 3:
        return transpose(flip(x, (d0,)), d0, d1)
    return Clone.apply(x)


def _tensors_arg(tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return list(tensors[0]), True
    return list(tensors), len(tensors) != 1


def _atleast(nd, tensors):
    ts, many = _tensors_arg(tensors)
    out = []
    for t in ts:
        s = tuple(t.shape)
        if len(s) < nd:
            if nd == 3:
                s = {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}[len(s)]
            else:
                s = (1,) * (nd - len(s)) + s
            t = reshape(t, s)
        out.append(t)
    return tuple(out) if many else out[0]


@register(family=_SH, op=Reshape, method=False, arity=None)
def atleast_1d(*tensors):
    """Each tensor with at least 1 dim (0-d ones become shape (1,))."""
    return _atleast(1, tensors)


@register(family=_SH, op=Reshape, method=False, arity=None)
def atleast_2d(*tensors):
    """Each tensor with at least 2 dims (size-1 dims added in front)."""
    return _atleast(2, tensors)


@register(family=_SH, op=Reshape, method=False, arity=None)
def atleast_3d(*tensors):
    """Each tensor with at least 3 dims: (n,) becomes (1, n, 1), (m, n) becomes (m, n, 1)."""
    return _atleast(3, tensors)


@register(family=_SH, op=Cat, method=False, arity=None)
def column_stack(tensors):
    """Stack 0-d/1-d tensors as columns (and concatenate 2-d+ ones) along dim 1."""
    ts = [reshape(t, (t.numel(), 1)) if t.ndim <= 1 else t for t in tensors]
    return cat(ts, 1)


@register(family=_SH, op=Cat, method=False, arity=None)
def dstack(tensors):
    """Concatenate along the third dim after ``atleast_3d``."""
    ts = list(tensors)
    return cat([_atleast(3, (t,)) for t in ts], 2)


def _split_at(x, bounds, d):
    """Pieces of x between consecutive ``bounds`` along ``d`` (clamped, as Python slices)."""
    n = x.shape[d]
    edges = [0] + [min(max(int(b), 0), n) for b in bounds] + [n]
    sizes = [max(b - a, 0) for a, b in zip(edges[:-1], edges[1:])]
    if sum_ints(sizes) == n:
        return Split.apply(x, sections=tuple(sizes), dim=d)
    pre = (slice(None),) * d
    return tuple(x[pre + (slice(a, max(a, b)),)] for a, b in zip(edges[:-1], edges[1:]))


def sum_ints(v):
    s = 0
    for a in v:
        s += a
    return s


@register(family=_SH, op=Split)
def tensor_split(x, indices_or_sections, dim: int = 0):
    """Split into ``sections`` nearly equal pieces (the first ``n % sections`` one larger)
    or at the given indices along ``dim``; the pieces are views."""
    if x.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        if ios.dtype.kind not in "iu" or ios.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to have "
                               "integer dtype and be 0-D or 1-D")
        ios = int(ios.item()) if ios.ndim == 0 else [int(v) for v in ios.tolist()]
    d = _norm_dim(dim, x.ndim, "tensor_split")
    if isinstance(ios, numbers.Integral):
        k = int(ios)
        if k <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        n = x.shape[d]
        q, r = divmod(n, k)
        sizes = [q + 1] * r + [q] * (k - r)
        bounds = np.cumsum(sizes)[:-1].tolist()
    else:
        bounds = [int(b) for b in ios]
    n = x.shape[d]
    bounds = [b + n if b < 0 else b for b in bounds]
    return _split_at(x, bounds, d)


def _hvd_split(name, x, ios, d, need):
    if x.ndim < need:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {need} dimension, "
                           f"but got a tensor with {x.ndim} dimensions!")
    if isinstance(ios, numbers.Integral):
        n = x.shape[d]
        if ios == 0 or n % ios:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {d}, but the "
                               f"size of the dimension {n} is not divisible by the split_size "
                               f"{ios}!")
    return tensor_split(x, ios, d)


@register(family=_SH, op=Split)
def hsplit(x, indices_or_sections):
    """``tensor_split`` along dim 1 (dim 0 for 1-d tensors); an int must divide the size."""
    return _hvd_split("hsplit", x, indices_or_sections, 1 if x.ndim > 1 else 0, 1)


@register(family=_SH, op=Split)
def vsplit(x, indices_or_sections):
    """``tensor_split`` along dim 0 of a tensor of at least 2 dims."""
    return _hvd_split("vsplit", x, indices_or_sections, 0, 2)


@register(family=_SH, op=Split)
def dsplit(x, indices_or_sections):
    """``tensor_split`` along dim 2 of a tensor of at least 3 dims."""
    return _hvd_split("dsplit", x, indices_or_sections, 2, 3)


@register(family=_SH, op=BroadcastTo, method=False, arity=None)
def meshgrid(*tensors, indexing=None):
    """Coordinate grids of 0-d/1-d tensors: with ``indexing='ij'`` output k varies along
    dim k; with 'xy' the first two dims are swapped (Cartesian, like NumPy's default)."""
    ts, _ = _tensors_arg(tensors)
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass "
                      "the indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                         f"received: {indexing}")
    if not ts:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in ts:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list "
                               f"but got: {t}")
    if len({t.dtype for t in ts}) > 1:
        raise RuntimeError("torch.meshgrid: Expected all tensors in the tensor list to have "
                           "the same dtype")
    _same_device(ts, "meshgrid")
    sizes = [t.numel() for t in ts]
    pos = list(range(len(ts)))
    if indexing == "xy" and len(ts) >= 2:
        pos[0], pos[1] = 1, 0
    shape = [0] * len(ts)
    for p, n in zip(pos, sizes):
        shape[p] = n
    out = []
    for t, p, n in zip(ts, pos, sizes):
        s = [1] * len(ts)
        s[p] = n
        out.append(broadcast_to(reshape(t, tuple(s)), tuple(shape)))
    return tuple(out)


@register(family=_SH, op=Cat, method=False, arity=None)
def block_diag(*tensors):
    """A block-diagonal matrix of the (0-d, 1-d or 2-d) tensors, zeros elsewhere."""
    ts = []
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {t.ndim} dimensions")
        ts.append(reshape(t, (1, -1) if t.ndim == 1 else (1, 1)) if t.ndim < 2 else t)
    if not ts:
        return _make(np.empty((1, 0), dtype=np.float32))
    dt = ts[0]._data
    for t in ts[1:]:
        dt = np.empty(0, dtype=promote(dt, t._data))
    dt = dt.dtype
    _same_device(ts, "block_diag")
    xp = get_array_module(ts[0]._data)
    cols = sum_ints(t.shape[1] for t in ts)
    rows, left = [], 0
    for t in ts:
        r, c = t.shape
        parts = []
        if left:
            parts.append(_make(xp.zeros((r, left), dtype=dt)))
        parts.append(cast(t, dt) if t.dtype != dt else t)
        if cols - left - c:
            parts.append(_make(xp.zeros((r, cols - left - c), dtype=dt)))
        rows.append(cat(parts, 1) if len(parts) > 1 else parts[0])
        left += c
    return cat(rows, 0) if len(rows) > 1 else Clone.apply(rows[0])


def _tri_indices(row, col, offset, dtype, device, upper):
    from_dev = None if device is None else device
    row, col, offset = int(row), int(col), int(offset)
    if row < 0 or col < 0:
        raise RuntimeError(f"row must be non-negative, got {row}" if row < 0 else
                           f"col must be non-negative, got {col}")
    if upper:
        r, c = np.triu_indices(row, offset, col)
    else:
        r, c = np.tril_indices(row, offset, col)
    dt = np.dtype(np.int64 if dtype is None else dtype)
    if dt.kind not in "iu":
        name = "triu_indices" if upper else "tril_indices"
        raise NotImplementedError(f'"{name}" not implemented for \'{dt}\'')
    t = _make(np.stack([r, c]).astype(dt).reshape(2, -1))
    return t if from_dev is None else t.to(from_dev)


@register(family=_SH, method=False, arity=0, differentiable=False)
def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None,
                 layout=None):
    """The (2, N) coordinates of the lower triangle of a row x col matrix (row-major)."""
    return _tri_indices(row, col, offset, dtype, device, False)


@register(family=_SH, method=False, arity=0, differentiable=False)
def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None,
                 layout=None):
    """The (2, N) coordinates of the upper triangle of a row x col matrix (row-major)."""
    return _tri_indices(row, col, offset, dtype, device, True)


@register(family=_SH, method=False, differentiable=False)
def unravel_index(indices, shape):
    """The coordinates (one int64 tensor per dim of ``shape``) of flat ``indices``;
    indices wrap modulo the number of elements, as PyTorch's."""
    if isinstance(indices, Tensor):
        d = indices._data
    else:
        d = np.asarray(indices)
    if d.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {d.dtype}")
    shape = (int(shape),) if isinstance(shape, numbers.Integral) else tuple(int(s) for s in
                                                                          shape)
    if any(s < 0 for s in shape):
        raise ValueError("'shape' cannot have negative values, but got "
                         f"{tuple(shape)}")
    xp = get_array_module(d)
    n = 1
    for s in shape:
        n *= s
    d = d.astype(np.int64)
    if n == 0:
        if d.size:
            raise RuntimeError(f"unravel_index: cannot unravel indices into the empty shape "
                               f"{list(shape)}")
        return tuple(_make(xp.zeros(d.shape, np.int64)) for _ in shape)
    d = d % n  # PyTorch wraps out-of-range and negative indices
    out = []
    for s in reversed(shape):
        out.append(d % s)
        d = d // s
    return tuple(_make(o) for o in reversed(out))


@register(family=_SH, op=SumTo, function=False)
def sum_to_size(x, *size):
    """Sum x down to ``size`` (which x's shape must broadcast from): PyTorch's
    ``Tensor.sum_to_size``."""
    shape = _shape_arg(size)
    xs = tuple(x.shape)
    if len(shape) > len(xs) or any(s not in (1, n) for s, n in zip(shape[::-1], xs[::-1])):
        raise RuntimeError(f"size {{{list(shape)}}} is not expandable to size {{{list(xs)}}}.")
    out = sum_to(x, shape)
    return Clone.apply(out) if out is x else out


def _H(self):
    if self.ndim == 0:
        return self
    if self.ndim != 2:
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got "
                           f"{self.ndim}-D tensor.")
    return _conj_if_complex(transpose(self, 0, 1))


def _conj_if_complex(t):
    """The conjugate of a complex tensor (H, mH conjugate as they transpose); t itself when
    real."""
    return t.conj() if t.dtype.is_complex else t


def _mH(self):
    if self.ndim == 0:  # PyTorch: the identity, deprecated
        warnings.warn("Tensor.mH is deprecated on 0-D tensors. Consider using x.conj().",
                      UserWarning, stacklevel=3)
        return self
    if self.ndim < 2:
        raise RuntimeError(f"tensor.mH is only supported on matrices or batches of matrices. "
                           f"Got {self.ndim}-D tensor.")
    return _conj_if_complex(transpose(self, -2, -1))


@register(family=_SH, op=Permute, function=False,
          method=property(_H, doc="The conjugate transpose of a matrix (the transpose of a "
                                  "real one)."))
def H(x):
    """``x.H``: the conjugate transpose of a 2-D tensor (of a real one: the transpose)."""
    return _H(x)


@register(family=_SH, op=Permute, function=False,
          method=property(_mH, doc="The conjugate transpose of the last two dims."))
def mH(x):
    """``x.mH``: the conjugate transpose of the last two dims (of a real tensor: ``mT``)."""
    return _mH(x)
