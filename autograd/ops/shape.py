"""Shape ops: reshape, permute, broadcast_to/sum_to (each the other's backward), squeeze,
unsqueeze, flatten, repeat, tile, flip, roll, cat, stack, split, chunk, unbind, pad."""

from __future__ import annotations

import numbers

import numpy as np

from ..backend import get_array_module
from ..dtypes import promote, to_dtype
from ..function import Op
from ..registry import register
from ..tensor import Tensor, _make
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

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise RuntimeError(
                f"reshape: shape {list(shape)} is invalid for input of shape "
                f"{list(x.shape)} ({x.size} elements)"
            ) from None

    @staticmethod
    def backward(ctx, gy):
        return reshape(gy, ctx.in_shape)


class Permute(Op):
    _view = True

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return x.transpose(axes)

    @staticmethod
    def backward(ctx, gy):
        inv = tuple(np.argsort(ctx.axes))
        return permute(gy, inv)


class BroadcastTo(Op):
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
        ctx.sizes = [x.shape[dim] for x in xs]
        ctx.dtypes = [x.dtype for x in xs]
        try:
            return xp.concatenate(xs, axis=dim)
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
    return isinstance(a, (np.dtype, str)) or (isinstance(a, type) and a not in (int, bool))


@register(family=_SH, op=Reshape, aliases="view", numpy=("reshape", "ravel"))
def reshape(x, *shape):
    """Return a tensor with the same data and the given shape (one dim may be -1);
    ``x.view(dtype)`` reads the same memory as another dtype."""
    if len(shape) == 1 and _is_dtype_arg(shape[0]) and isinstance(x, Tensor):
        return _view_dtype(x, shape[0])
    shape = _shape_arg(shape)
    if not isinstance(x, Tensor):
        return x.reshape(shape)
    return Reshape.apply(x, shape=shape)


view = reshape


@register(family=_SH, op=Permute, numpy="transpose")
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
    axes = list(range(n))
    axes[d0], axes[d1] = axes[d1], axes[d0]
    if not isinstance(x, Tensor):
        return x.transpose(axes)
    return Permute.apply(x, axes=tuple(axes))


swapaxes = swapdims = transpose


@register(family=_SH, op=Permute)
def t(x):
    """Transpose a tensor of at most 2 dims."""
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return transpose(x, 0, 1) if x.ndim == 2 else x


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
    return _broadcast_shapes("broadcast_shapes",
                             [(s,) if isinstance(s, numbers.Integral) else tuple(s)
                              for s in shapes])


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
    return reshape(x, new)


@register(family=_SH, op=Reshape, numpy="expand_dims")
def unsqueeze(x, dim: int):
    """Insert a size-1 dim at ``dim``."""
    n = x.ndim + 1
    d = _norm_dim(dim, n, "unsqueeze")
    shape = list(x.shape)
    shape.insert(d, 1)
    return reshape(x, tuple(shape))


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
def repeat(x, *sizes):
    """Repeat along each dim (like ``numpy.tile``; PyTorch's ``Tensor.repeat``)."""
    return Repeat.apply(x, reps=_shape_arg(sizes))


@register(family=_SH, op=Repeat, numpy="tile")
def tile(x, dims):
    dims = tuple(dims)
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


@register(family=_SH, op=Cat, aliases=("concat", "concatenate"), method=False,
          numpy="concatenate", arity=None)
def cat(tensors, dim: int = 0):
    """Concatenate along an existing dim."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("cat(): expected a non-empty list of Tensors")
    n = tensors[0].ndim
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(
                f"cat: zero-dimensional tensor (at position {i}) cannot be concatenated; "
                "use stack(), or unsqueeze it first")
    d = _norm_dim(dim, n, "cat")
    if any(t.ndim != n for t in tensors):
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
    return Stack.apply(*tensors, dim=d)


@register(family=_SH, op=Cat, method=False, arity=None)
def hstack(tensors):
    tensors = [t if t.ndim else reshape(t, (1,)) for t in tensors]  # atleast_1d
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


@register(family=_SH, op=Cat, method=False, arity=None)
def vstack(tensors):
    return cat([t if t.ndim > 1 else reshape(t, (1, -1)) for t in tensors], 0)  # atleast_2d


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
    return out


@register(family=_SH, op=Reshape, function=False, arity=2)
def view_as(x, other):
    """``x.reshape(other.shape)``."""
    return reshape(x, tuple(other.shape))


@register(family=_SH, op=Reshape, function=False, arity=2)
def reshape_as(x, other):
    """``x.reshape(other.shape)``."""
    return reshape(x, tuple(other.shape))


@register(family=_SH, function=False, differentiable=False)
def is_contiguous(x, memory_format=None) -> bool:
    """True when the tensor's memory is C-contiguous."""
    d = x._data if isinstance(x, Tensor) else x
    return bool(getattr(d.flags, "c_contiguous", True))
