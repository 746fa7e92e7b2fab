"""Products and fused multiply-adds: addmm, addmv, addr, addbmm, baddbmm, addcmul, addcdiv,
kron, tensordot, cross, vdot, chain_matmul, cdist, dist, and the ``mH``/``H`` properties.

Most are composites of matmul and element-wise ops (their gradients, double backward and
forward mode come from those ops); ``cdist`` with p = 2 is one op, for speed: its forward
uses the matrix-product form (as PyTorch does for more than 25 rows) and its backward the
two matrix products of ``sum_r g_pr (x1_p - x2_r) / d_pr``.
"""

from __future__ import annotations

import math
import numbers
import warnings

from ..backend import get_array_module
from ..dtypes import result_type
from ..function import Op, named
from ..registry import register
from ..tensor import Tensor
from .elementwise import cast, where
from .linalg import dot, matmul
from .reduction import norm
from .reduction import sum as _sum
from .shape import (
    _conj_if_complex,
    broadcast_shapes,
    broadcast_tensors,
    broadcast_to,
    movedim,
    permute,
    reshape,
    stack,
    transpose,
    unsqueeze,
)

_P = "linalg"


def _same_dtype(op, *xs):
    """PyTorch's BLAS products take one dtype: bool is not implemented, a mix is an error."""
    d0 = xs[0].dtype
    for x in xs:
        if x.dtype.kind == "b":
            raise NotImplementedError(f'"{op}" not implemented for \'Bool\' (as in PyTorch); '
                                      "convert first (x.int() or x.float())")
    for x in xs[1:]:
        if x.dtype != d0:
            raise RuntimeError(f"{op}: expected all tensors to have the same dtype, but got "
                               f"{d0} and {x.dtype}; convert one with .to(dtype)")


def _check_dim(op, name, x, n):
    if x.ndim < n and n == 3:  # PyTorch reads dim 2 first
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of "
                         f"[{-x.ndim}, {x.ndim - 1}], but got 2): {name} must be 3-D")
    if x.ndim != n:
        kind = {1: "a vector", 2: "a matrix", 3: "a 3-D tensor"}[n]
        raise RuntimeError(f"{op}: {name} must be {kind}, got {x.ndim}-D tensor of shape "
                           f"{list(x.shape)}")


def _scale(x, c):
    """``c * x`` for a Python number ``c``, skipping the multiplication by 1 (exact) and
    keeping the dtype of ``x`` (bool: logical and)."""
    if isinstance(c, bool) or x.dtype.kind == "b":
        return x if c else x * False
    if c == 1:
        return x
    return x * c


def _add_scaled(op, inp, prod, beta, alpha, out_shape):
    """``beta * inp + alpha * prod`` with PyTorch's rule that ``beta = 0`` ignores ``inp``
    (nan and inf in it included); ``inp`` must broadcast to ``out_shape``."""
    shp = tuple(inp.shape)
    if len(shp) > len(out_shape) or any(
            a not in (1, b) for a, b in zip(shp[::-1], tuple(out_shape)[::-1])):
        raise RuntimeError(f"{op}: the input of shape {list(shp)} cannot be broadcast to the "
                           f"product's shape {list(out_shape)}")
    p = _scale(prod, alpha)
    if isinstance(beta, numbers.Number) and beta == 0:
        # the values of inp are ignored, but it gets its (zero) gradient as in PyTorch
        if isinstance(inp, Tensor) and inp.requires_grad:
            keep = get_array_module(inp._data).ones((1,) * len(out_shape), dtype=bool)
            return where(keep, p, inp)
        return p
    if prod.dtype.kind == "b":
        return _scale(inp, beta) | p
    return _scale(inp, beta) + p


@register(family=_P, op=None, arity=3, inplace=True)
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)`` (2-D ``mat1``, ``mat2``; ``input``
    broadcast to the product's shape); ``beta = 0`` ignores ``input``'s values."""
    _check_dim("addmm", "mat1", mat1, 2)
    _check_dim("addmm", "mat2", mat2, 2)
    _same_dtype("addmm", input, mat1, mat2)
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"addmm: mat1 and mat2 shapes cannot be multiplied "
                           f"({mat1.shape[0]}x{mat1.shape[1]} and "
                           f"{mat2.shape[0]}x{mat2.shape[1]})")
    return named(_add_scaled("addmm", input, matmul(mat1, mat2), beta, alpha,
                             (mat1.shape[0], mat2.shape[1])), "AddmmBackward0")


@register(family=_P, op=None, arity=3, inplace=True)
def addmv(input, mat, vec, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat @ vec)`` (2-D ``mat``, 1-D ``vec``)."""
    if mat.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"addmv: vector + matrix @ vector expected, got {input.ndim}, "
                           f"{mat.ndim}, {vec.ndim}")
    _same_dtype("addmv", input, mat, vec)
    if mat.shape[1] != vec.shape[0]:
        raise RuntimeError(f"addmv: size mismatch, got input ({input.shape}), mat "
                           f"({mat.shape[0]}x{mat.shape[1]}), vec ({vec.shape[0]})")
    return _add_scaled("addmv", input, matmul(mat, vec), beta, alpha, (mat.shape[0],))


@register(family=_P, op=None, arity=3, inplace=True)
def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """``beta * input + alpha * outer(vec1, vec2)``; bool tensors give the logical form."""
    if vec1.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"addr: expected 1-D vectors, but got {vec1.ndim}-D and "
                           f"{vec2.ndim}-D tensors")
    dt = result_type(input, vec1, vec2)
    if dt.kind == "b" and not (isinstance(beta, bool) and isinstance(alpha, bool)) and (
            not isinstance(beta, numbers.Integral) or not isinstance(alpha, numbers.Integral)):
        raise RuntimeError("Boolean beta only supported for Boolean results.")
    v1 = cast(vec1, dt) if vec1.dtype != dt else vec1
    v2 = cast(vec2, dt) if vec2.dtype != dt else vec2
    inp = cast(input, dt) if input.dtype != dt else input
    prod = (reshape(v1, (-1, 1)) & reshape(v2, (1, -1)) if dt.kind == "b"
            else reshape(v1, (-1, 1)) * reshape(v2, (1, -1)))
    return _add_scaled("addr", inp, prod, beta, alpha, (vec1.shape[0], vec2.shape[0]))


@register(family=_P, op=None, arity=3, inplace=True)
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * (batch1 @ batch2)`` for 3-D batches of equal size."""
    _check_dim("baddbmm", "batch1", batch1, 3)
    _check_dim("baddbmm", "batch2", batch2, 3)
    _same_dtype("baddbmm", input, batch1, batch2)
    if batch1.shape[0] != batch2.shape[0] or batch1.shape[2] != batch2.shape[1]:
        raise RuntimeError(f"baddbmm: batch1 and batch2 shapes cannot be multiplied "
                           f"({list(batch1.shape)} and {list(batch2.shape)})")
    return _add_scaled("baddbmm", input, matmul(batch1, batch2), beta, alpha,
                       (batch1.shape[0], batch1.shape[1], batch2.shape[2]))


@register(family=_P, op=None, arity=3, inplace=True)
def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * sum_b (batch1[b] @ batch2[b])``."""
    _check_dim("addbmm", "batch1", batch1, 3)
    _check_dim("addbmm", "batch2", batch2, 3)
    _same_dtype("addbmm", input, batch1, batch2)
    if batch1.shape[0] != batch2.shape[0] or batch1.shape[2] != batch2.shape[1]:
        raise RuntimeError(f"addbmm: batch1 and batch2 shapes cannot be multiplied "
                           f"({list(batch1.shape)} and {list(batch2.shape)})")
    b, n, k = batch1.shape
    p = batch2.shape[2]
    # sum over the batch = one matrix product over the joined (batch, k) dim
    prod = matmul(reshape(permute(batch1, (1, 0, 2)), (n, b * k)), reshape(batch2, (b * k, p)))
    return _add_scaled("addbmm", input, prod, beta, alpha, (n, p))


def _pointwise3(op, input, t1, t2, value):
    for x in (input, t1, t2):
        if not isinstance(x, Tensor):
            raise TypeError(f"{op}(): argument must be Tensor, not {type(x).__name__}")
    dt = result_type(input, t1, t2)
    if dt.kind == "b":
        raise NotImplementedError(f'"{op}_cpu_out" not implemented for \'Bool\' (as in '
                                  "PyTorch); convert first (x.int() or x.float())")
    if dt.kind in "iu" and isinstance(value, float) and not float(value).is_integer():
        raise RuntimeError(f"{op}: value must be an integer for an integer result "
                           f"({dt}), got {value!r}")
    return dt


def _opmath(dt, fn, *xs):
    """``fn(*xs)`` in PyTorch's order ``input + (value * t1) op t2``, float16 computed in
    float32 and rounded once (PyTorch's opmath type)."""
    if dt == "float16":
        return cast(fn(*[cast(x, "float32") for x in xs]), dt)
    return fn(*xs)


@register(family=_P, op=None, arity=3, inplace=True)
def addcmul(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 * tensor2`` (broadcast, promoted)."""
    dt = _pointwise3("addcmul", input, tensor1, tensor2, value)
    if dt.kind in "iu" and isinstance(value, float):
        value = int(value)
    return _opmath(dt, lambda i, a, b: i + _scale(a, value) * b, input, tensor1, tensor2)


@register(family=_P, op=None, arity=3, inplace=True)
def addcdiv(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 / tensor2`` (broadcast, promoted; integer tensors are an
    error, as in PyTorch)."""
    if (isinstance(tensor1, Tensor) and isinstance(tensor2, Tensor)
            and tensor1.dtype.kind in "iub" and tensor2.dtype.kind in "iub"):
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future  release "
            "addcdiv will perform a true division of tensor1 and tensor2. The historic "
            "addcdiv behavior can be implemented as (input + value * torch.trunc(tensor1 / "
            "tensor2)).to(input.dtype) for integer inputs and as (input + value * tensor1 / "
            "tensor2) for float inputs. The future addcdiv behavior is just the latter "
            "implementation: (input + value * tensor1 / tensor2), for all dtypes.")
    dt = _pointwise3("addcdiv", input, tensor1, tensor2, value)
    return _opmath(dt, lambda i, a, b: i + _scale(a, value) / b, input, tensor1, tensor2)


# ---- kron, tensordot, cross, vdot, chain_matmul --------------------------------------------

@register(family=_P, op=None, arity=2, numpy="kron")
def kron(input, other):
    """Kronecker product: ``out[i * m + j] = input[i] * other[j]`` per dim (the shorter
    shape padded with leading 1s)."""
    n = max(input.ndim, other.ndim)
    sa = (1,) * (n - input.ndim) + tuple(input.shape)
    sb = (1,) * (n - other.ndim) + tuple(other.shape)
    a = reshape(input, tuple(v for s in sa for v in (s, 1)))
    b = reshape(other, tuple(v for s in sb for v in (1, s)))
    out = a & b if input.dtype.kind == "b" and other.dtype.kind == "b" else a * b
    return reshape(out, tuple(x * y for x, y in zip(sa, sb)))


def _dims_list(d, nd, op):
    out = []
    for v in ([d] if isinstance(d, numbers.Integral) else list(d)):
        v = int(v)
        if not -nd <= v < max(nd, 1):
            raise IndexError(f"{op}: Dimension out of range (expected to be in range of "
                             f"[{-nd}, {nd - 1}], but got {v})")
        out.append(v % nd if nd else 0)
    return out


@register(family=_P, op=None, arity=2)
def tensordot(a, b, dims=2):
    """Sum of products over ``dims``: an int ``d`` contracts the last ``d`` dims of ``a``
    with the first ``d`` of ``b``; a pair of lists names the dims of each."""
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, numbers.Integral):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a.ndim or dims > b.ndim:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got "
                               f"dims={dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        if len(dims) != 2:
            raise RuntimeError("tensordot expects dims to be an int or a pair of lists")
        da = _dims_list(dims[0], a.ndim, "tensordot")
        db = _dims_list(dims[1], b.ndim, "tensordot")
        if len(da) != len(db):
            raise RuntimeError(f"both dimension lists should have same length, got {da} and "
                               f"{db}")
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a.shape[i]} in dim {i} and second has size {b.shape[j]} in "
                               f"dim {j}")
    if a.dtype != b.dtype:
        raise RuntimeError(f"tensordot: expected both tensors to have the same dtype, but got "
                           f"{a.dtype} and {b.dtype}")
    fa = [i for i in range(a.ndim) if i not in da]
    fb = [j for j in range(b.ndim) if j not in db]
    k = 1
    for i in da:
        k *= a.shape[i]
    m = 1
    for i in fa:
        m *= a.shape[i]
    n = 1
    for j in fb:
        n *= b.shape[j]
    a2 = reshape(permute(a, fa + da), (m, k))
    b2 = reshape(permute(b, db + fb), (k, n))
    out = matmul(a2, b2)
    return reshape(out, tuple(a.shape[i] for i in fa) + tuple(b.shape[j] for j in fb))


def _cross(a, b, d):
    """The cross product of 3-vectors along dim ``d`` of two broadcast tensors."""
    x = movedim(a, d, -1)
    y = movedim(b, d, -1)
    a0, a1, a2 = x[..., 0], x[..., 1], x[..., 2]
    b0, b1, b2 = y[..., 0], y[..., 1], y[..., 2]
    return stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], d)


def cross_impl(op, input, other, dim):
    """Shared by ``torch.cross`` and ``torch.linalg.cross``: broadcast batch dims, check the
    size 3 along ``dim``."""
    if input.dtype.kind == "b" or other.dtype.kind == "b":
        raise NotImplementedError('"cross" not implemented for \'Bool\' (as in PyTorch)')
    if input.ndim != other.ndim:
        raise RuntimeError(f"{op}: inputs must have the same number of dimensions, got "
                           f"{input.ndim} and {other.ndim}")
    dt = result_type(input, other)
    a = cast(input, dt) if input.dtype != dt else input
    b = cast(other, dt) if other.dtype != dt else other
    nd = a.ndim
    if not -nd <= dim < max(nd, 1):
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, "
                         f"{nd - 1}], but got {dim})")
    d = dim % nd
    if a.shape[d] != 3 or b.shape[d] != 3:
        raise RuntimeError(f"{op}: inputs dimension {dim} must have length 3. Got "
                           f"{a.shape[d]} and {b.shape[d]}")
    try:
        a, b = _bcast2(a, b)
    except ValueError:
        raise RuntimeError(f"{op}: the shapes {list(input.shape)} and {list(other.shape)} "
                           "cannot be broadcast") from None
    return _cross(a, b, d)


def _bcast2(a, b):
    if tuple(a.shape) == tuple(b.shape):
        return a, b
    return broadcast_tensors(a, b)


@register(family=_P, op=None, arity=2)
def inner(a, b):
    """Sum of products over the last dim of both (a 0-d operand multiplies):
    ``tensordot(a, b, ([-1], [-1]))``, shape ``a.shape[:-1] + b.shape[:-1]``."""
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but "
                           f"got shapes {list(a.shape)} and {list(b.shape)}")
    if a.ndim == 1 and b.ndim == 1 and a.dtype.kind == "b" and b.dtype.kind == "b":
        # PyTorch's BLAS dot refuses bool vectors; strided ones take its generic loop,
        # which answers "any(a & b)"
        if all(t.numel() < 2 or t.stride(0) == 1 for t in (a, b)):
            raise NotImplementedError('"dot" not implemented for \'Bool\'')
        return (a & b).any()
    return tensordot(a, b, dims=([-1], [-1]))


@register(family=_P, op=None, arity=2)
def cross(input, other, dim=None):
    """Cross product of 3-vectors along ``dim``; with ``dim=None`` the first dim of size 3
    (PyTorch's deprecated default, with its warning)."""
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated. "
                      "Please either pass the dim explicitly or simply use torch.linalg.cross.",
                      UserWarning, stacklevel=2)
        shp = [max(x, y) for x, y in zip(input.shape, other.shape)] if (
            input.ndim == other.ndim) else list(input.shape)
        dim = next((i for i, s in enumerate(shp) if s == 3), -1)
    return cross_impl("cross", input, other, dim)


@register(family=_P, op=None, arity=2)
def vdot(input, other):
    """``sum(input * other)`` of two 1-D tensors (real: the dot product)."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D "
                           "tensors")
    if input.dtype != other.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{input.dtype} and {other.dtype}")
    if input.dtype.kind == "b":
        raise NotImplementedError('"dot" not implemented for \'Bool\' (as in PyTorch)')
    if input.dtype.is_complex:  # the first vector conjugated
        input = input.conj()
    return dot(input, other)


def multi_dot_impl(op, tensors):
    """The product of a chain of matrices (first/last may be 1-D), multiplied in the order
    with the fewest scalar multiplications (PyTorch's dynamic programme)."""
    tensors = list(tensors)
    n = len(tensors)
    if n < 2:
        raise RuntimeError(f"{op}(): expected at least 2 tensors but got {n}")
    first_1d = tensors[0].ndim == 1
    last_1d = tensors[-1].ndim == 1
    ts = list(tensors)
    if first_1d:
        ts[0] = unsqueeze(ts[0], 0)
    if last_1d:
        ts[-1] = unsqueeze(ts[-1], -1)
    for i, t in enumerate(ts):
        if t.ndim != 2:
            which = "first and last" if i in (0, n - 1) else "middle"
            raise RuntimeError(f"{op}(): tensor {i} must be 2D but got {tensors[i].ndim}D "
                               f"({which} tensors)")
        if t.dtype != ts[0].dtype:
            raise RuntimeError(f"{op}(): all tensors must have be the same dtype but tensor "
                               f"0 is {ts[0].dtype} and tensor {i} {t.dtype}")
        if i and ts[i - 1].shape[1] != t.shape[0]:
            raise RuntimeError(f"{op}(): tensors {i - 1} and {i} with shapes "
                               f"{list(ts[i - 1].shape)} and {list(t.shape)} cannot be "
                               "multiplied")
    dims = [ts[0].shape[0]] + [t.shape[1] for t in ts]
    m = len(ts)
    if m == 2:
        out = matmul(ts[0], ts[1])
    else:
        cost = [[0] * m for _ in range(m)]
        split = [[0] * m for _ in range(m)]
        for ln in range(1, m):
            for i in range(m - ln):
                j = i + ln
                cost[i][j] = math.inf
                for k in range(i, j):
                    c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                    if c < cost[i][j]:
                        cost[i][j], split[i][j] = c, k

        def chain(i, j):
            if i == j:
                return ts[i]
            k = split[i][j]
            return matmul(chain(i, k), chain(k + 1, j))

        out = chain(0, m - 1)
    if first_1d and last_1d:
        return reshape(out, ())
    if first_1d:
        return reshape(out, (out.shape[1],))
    if last_1d:
        return reshape(out, (out.shape[0],))
    return out


@register(family=_P, op=None, arity=None, method=False)
def chain_matmul(*matrices):
    """The product of 2-D matrices in the cheapest order (deprecated in PyTorch for
    ``linalg.multi_dot``, with its warning); one matrix is returned as is."""
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch "
                  "release. Use torch.linalg.multi_dot instead, which accepts a list of two or "
                  "more tensors rather than multiple parameters.", UserWarning, stacklevel=2)
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    for t in matrices:
        if t.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {t.ndim}, expected 2 instead.")
    if len(matrices) == 1:
        return matrices[0].clone()
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    return multi_dot_impl("chain_matmul", matrices)


# ---- cdist, dist ------------------------------------------------------------------------

class Cdist2(Op):
    """Euclidean distances between the rows of two batches ``(..., P, M)``, ``(..., R, M)``.
    Forward: ``sqrt(max(|x1|^2 + |x2|^2 - 2 x1 x2^T, 0))`` when ``use_mm`` (PyTorch's form
    for large inputs), else the exact ``sqrt(sum (x1 - x2)^2)``. Backward:
    ``g1 = x1 * sum_r w - w @ x2`` with ``w = g / d`` (0 where ``d = 0``: PyTorch's choice)."""

    @staticmethod
    def forward(ctx, x1, x2, use_mm):
        xp = get_array_module(x1)
        if use_mm:
            n1 = (x1 * x1).sum(-1)[..., :, None]
            n2 = (x2 * x2).sum(-1)[..., None, :]
            d2 = n1 + n2 - 2 * (x1 @ xp.swapaxes(x2, -1, -2))
            d = xp.sqrt(xp.maximum(d2, 0))
        else:
            diff = x1[..., :, None, :] - x2[..., None, :, :]
            d = xp.sqrt((diff * diff).sum(-1))
        d = d.astype(x1.dtype, copy=False)
        ctx.save_for_backward(x1, x2, d)
        return d

    @staticmethod
    def backward(ctx, gy):
        x1, x2, d = ctx.saved_tensors
        w = where(d == 0, 0.0, gy / where(d == 0, 1.0, d))
        g1 = g2 = None
        if ctx.needs_input_grad[0]:
            g1 = x1 * unsqueeze(_sum(w, -1), -1) - matmul(w, x2)
        if ctx.needs_input_grad[1]:
            wt = transpose(w, -1, -2)
            g2 = x2 * unsqueeze(_sum(wt, -1), -1) - matmul(wt, x1)
        return g1, g2


@register(family=_P, op=Cdist2, arity=2, method=False)
def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """p-norm distances between each row of ``x1`` (..., P, M) and of ``x2`` (..., R, M),
    batch dims broadcast; ``compute_mode`` picks the matrix-product form for p = 2 as in
    PyTorch (more than 25 rows, or always/never)."""
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D"
                           if x1.ndim < 2 else
                           f"cdist only supports at least 2D tensors, X2 got: {x2.ndim}D")
    for nm, x in (("X1", x1), ("X2", x2)):
        if x.dtype.kind not in "fV":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {nm} got: "
                               f"{x.dtype}")
    if x1.dtype == "float16" or x2.dtype == "float16":
        raise NotImplementedError("\"cdist\" not implemented for 'Half' (as in PyTorch)")
    if x1.dtype != x2.dtype:
        raise RuntimeError(f"cdist: X1 and X2 must have the same dtype, got {x1.dtype} and "
                           f"{x2.dtype}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    modes = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
             "donot_use_mm_for_euclid_dist")
    if compute_mode not in modes:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    try:
        batch = broadcast_shapes(tuple(x1.shape[:-2]), tuple(x2.shape[:-2]))
    except (RuntimeError, ValueError):
        raise RuntimeError(f"cdist: the batch dims of {list(x1.shape)} and {list(x2.shape)} "
                           "cannot be broadcast") from None
    batch = tuple(batch)
    a = x1 if tuple(x1.shape[:-2]) == batch else broadcast_to(x1, batch + tuple(x1.shape[-2:]))
    b = x2 if tuple(x2.shape[:-2]) == batch else broadcast_to(x2, batch + tuple(x2.shape[-2:]))
    if p == 2:
        pr, rr = a.shape[-2], b.shape[-2]
        use_mm = (compute_mode == modes[1] or compute_mode == modes[0] and (pr > 25 or rr > 25))
        # PyTorch's matrix-product form ends in a view; its direct form is one Cdist node
        return named(Cdist2.apply(a, b, use_mm=use_mm),
                     "ViewBackward0" if use_mm else "CdistBackward0")
    diff = unsqueeze(a, -2) - unsqueeze(b, -3)
    # p = 0 counts the nonzero differences: still in the graph (zero gradients), as in PyTorch
    return named(norm(diff, p, -1), "CdistBackward0")


@register(family=_P, op=None, arity=2)
def dist(input, other, p=2):
    """``norm(input - other, p)`` over all elements (broadcast)."""
    for x in (input, other):
        if not isinstance(x, Tensor):
            raise TypeError(f"dist(): argument must be Tensor, not {type(x).__name__}")
    if input.dtype.kind not in "fVc" or other.dtype.kind not in "fVc":
        raise RuntimeError("norm(): input dtype should be either floating point or complex. "
                           f"Got {input.dtype if input.dtype.kind != 'f' else other.dtype} "
                           "instead.")
    d = input - other
    if d.numel() == 0 and float(p) == math.inf:
        raise RuntimeError("linalg.vector_norm cannot compute the inf norm on an empty tensor "
                           "because the operation does not have an identity")
    return norm(d, float(p))


# ---- adjoint (mH and H are in ops/shape.py) ------------------------------------------

@register(family=_P, op=None, arity=1)
def adjoint(x):
    """The conjugate transpose of the last two dims (of a real tensor: ``mT``, a view)."""
    if x.ndim == 0:
        warnings.warn("adjoint() is deprecated on 0-D tensors. Consider using x.conj().",
                      UserWarning, stacklevel=2)
        return x
    if x.ndim < 2:
        raise RuntimeError(f"tensor.adjoint() is only supported on matrices or batches of "
                           f"matrices. Got {x.ndim}-D tensor.")
    return _conj_if_complex(transpose(x, -2, -1))


