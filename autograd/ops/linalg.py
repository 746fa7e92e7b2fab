"""Linear algebra: matmul (batched, broadcasting, 1-D cases), mm, bmm, dot, outer, einsum."""

from __future__ import annotations

import numbers
import string

import numpy as np

from ..backend import get_array_module
from ..dtypes import get_default_dtype, scalar_type_name
from ..function import Op, named
from ..registry import register
from ..return_types import structseq
from ..tensor import Tensor, _make
from ..tensor import randn as _randn
from .elementwise import where
from .indexing import tril, triu
from .reduction import norm as _rnorm
from .reduction import sum as _rsum
from .shape import broadcast_to, cat, movedim, reshape, sum_to, transpose

_LA = "linalg"


def _mT(x):
    return transpose(x, -1, -2)


def matmul_arrays(a, b):
    """``a @ b``; bfloat16 arrays (no BLAS kernel, and ml_dtypes' loop answers in float32)
    are multiplied in float32 and rounded once to bfloat16, as PyTorch's CPU kernel does."""
    if a.__class__ is not Tensor and a.dtype.kind == "V":
        return (a.astype(np.float32) @ b.astype(np.float32)).astype(a.dtype)
    return a @ b


class MatMul(Op):
    def _overload_name(self) -> str:
        """PyTorch's name for ``a @ b`` by the operands' dims: DotBackward0 (1-D @ 1-D),
        MvBackward0 (2-D @ 1-D), MmBackward0 (2-D @ 2-D), SqueezeBackward4 (1-D @ 2-D: the
        vector is made a row and squeezed back), CloneBackward0 (2-D @ batched: a transposed
        fold), UnsafeViewBackward0 (batched: folded into mm/bmm and viewed back). ``bmm``
        names its own."""
        na, nb = (len(s) for s in self.shapes)
        if na <= 2 and nb <= 2:
            return ("DotBackward0", "SqueezeBackward4", "MvBackward0", "MmBackward0")[
                2 * (na - 1) + nb - 1]
        return "CloneBackward0" if na == 2 else "UnsafeViewBackward0"

    @staticmethod
    def forward(ctx, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise RuntimeError(
                f"matmul: both arguments need at least 1 dimension, got shapes "
                f"{list(a.shape)} and {list(b.shape)}"
            )
        if a.dtype.kind == "b" or b.dtype.kind == "b":
            raise NotImplementedError(
                f"matmul: not implemented for bool tensors (shapes {list(a.shape)} and "
                f"{list(b.shape)}); convert them first (x.int() or x.float())")
        if a.dtype != b.dtype:
            raise RuntimeError(
                f"matmul: expected both arguments to have the same dtype, but got {a.dtype} "
                f"(shape {list(a.shape)}) and {b.dtype} (shape {list(b.shape)}); convert one "
                "with .to(dtype)"
            )
        ka = a.shape[-1]
        kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
        if ka != kb:
            raise RuntimeError(
                f"matmul: shapes {list(a.shape)} and {list(b.shape)} cannot be multiplied "
                f"({ka} != {kb}: the last dim of the first must equal the "
                f"{'second-to-last' if b.ndim > 1 else 'only'} dim of the second)"
            )
        e = ctx.next_edges
        if e:
            ctx.save_for_backward(a if e[1] is not None else None,
                                  b if e[0] is not None else None)
            ctx.shapes = (a.shape, b.shape)
        try:
            return matmul_arrays(a, b)
        except ValueError as err:
            raise RuntimeError(
                f"matmul: batch dims of shapes {list(a.shape)} and {list(b.shape)} cannot be "
                f"broadcast: {err}"
            ) from None

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        na, nb = len(sa), len(sb)
        if na >= 2 and nb >= 2:
            ga = matmul_arrays(gy, _mT(b)) if b is not None else None
            gb = matmul_arrays(_mT(a), gy) if a is not None else None
            if ga is not None and ga.shape != sa:
                ga = sum_to(ga, sa)
            if gb is not None and gb.shape != sb:
                gb = sum_to(gb, sb)
            return ga, gb
        # 1-D operands: promote to matrices, differentiate, then drop the added dims
        g = gy
        a2s = (1,) + sa if na == 1 else sa
        b2s = sb + (1,) if nb == 1 else sb
        if na == 1:
            g = reshape(g, g.shape[:-1] + (1,) + g.shape[-1:]) if nb > 1 else reshape(
                g, (1,) * 1 + tuple(g.shape))
        if nb == 1:
            g = reshape(g, tuple(g.shape) + (1,))
        ga = gb = None
        if b is not None:
            b2 = reshape(b, b2s)
            ga = reshape(sum_to(matmul_arrays(g, _mT(b2)), a2s), sa)
        if a is not None:
            a2 = reshape(a, a2s)
            gb = reshape(sum_to(matmul_arrays(_mT(a2), g), b2s), sb)
        return ga, gb


@register(family=_LA, op=MatMul, arity=2, numpy="matmul")
def matmul(a, b):
    """Matrix product with NumPy/PyTorch semantics (batched, broadcasting, 1-D cases)."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        return a @ b
    return MatMul.apply(a, b)


@register(family=_LA, op=MatMul, arity=2)
def mm(a, b):
    """2-D matrix product."""
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(
            f"mm: both arguments must be 2-D, got shapes {list(a.shape)} and {list(b.shape)}"
        )
    return matmul(a, b)


@register(family=_LA, op=MatMul, arity=2)
def bmm(a, b):
    """Batched matrix product of two 3-D tensors with equal batch size."""
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise RuntimeError(
            f"bmm: expected two 3-D tensors with the same batch size, got shapes "
            f"{list(a.shape)} and {list(b.shape)}"
        )
    return named(matmul(a, b), "BmmBackward0")


@register(family=_LA, op=MatMul, arity=2)
def mv(a, v):
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"mv: expected a matrix and a vector, got shapes {list(a.shape)} "
                           f"and {list(v.shape)}")
    return matmul(a, v)


@register(family=_LA, op=MatMul, arity=2, numpy="dot")
def dot(a, b):
    """Inner product of two 1-D tensors."""
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(
            f"dot: 1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors"
        )
    if a.shape != b.shape:
        raise RuntimeError(
            f"dot: inconsistent tensor size, expected tensor [{a.shape[0]}] and src "
            f"[{b.shape[0]}] to have the same number of elements"
        )
    return matmul(a, b)


@register(family=_LA, op=MatMul, arity=2, aliases="ger")
def outer(a, b):
    """Outer product of two 1-D tensors."""
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"outer: 1D tensors expected, got shapes {list(a.shape)} and "
                           f"{list(b.shape)}")
    return reshape(a, (-1, 1)) * reshape(b, (1, -1))


ger = outer


# ---- einsum -------------------------------------------------------------------------------

def _parse_einsum(eq: str, shapes):
    """Expand ellipses and the implicit output; return (input subscripts, output)."""
    eq = eq.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->")
    else:
        lhs, out = eq, None
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise RuntimeError(f"einsum: equation names {len(ins)} operands, got {len(shapes)}")
    used = set(c for c in eq if c.isalpha())
    free = [c for c in string.ascii_letters if c not in used]
    ell_n = 0
    for s, shp in zip(ins, shapes):
        if "..." in s:
            ell_n = max(ell_n, len(shp) - (len(s) - 3))
    ell = "".join(free[:ell_n])
    new_ins = []
    for s, shp in zip(ins, shapes):
        if "..." in s:
            k = len(shp) - (len(s) - 3)
            s = s.replace("...", ell[ell_n - k:] if k else "")
        if len(s) != len(shp):
            raise RuntimeError(
                f"einsum: subscripts {s!r} do not match operand of shape {list(shp)}"
            )
        new_ins.append(s)
    if out is None:
        counts = {}
        for s in new_ins:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return new_ins, out


def _sublist_equation(args):
    """(equation, operands) of einsum's sublist format ``(op1, sub1, op2, sub2, ...[, out])``:
    subscripts 0-25 are ``A``-``Z``, 26-51 ``a``-``z`` and ``...`` is an ellipsis, as in
    PyTorch (``torch.functional.einsum``)."""
    def letters(sub):
        out = []
        for n in sub:
            if n is Ellipsis:
                out.append("...")
            elif isinstance(n, numbers.Integral) and 0 <= n < 52:
                out.append(chr(ord("A") + n) if n < 26 else chr(ord("a") + n - 26))
            else:
                raise ValueError("einsum(): subscript in subscript list is not within the "
                                 "valid range [0, 52)")
        return "".join(out)

    equation = ",".join(letters(sub) for sub in args[1::2])
    if len(args) % 2 == 1:
        return equation + "->" + letters(args[-1]), args[:-1:2]
    return equation, args[::2]


def _check_einsum_dtypes(ins, out, operands) -> None:
    """PyTorch multiplies and sums a contracted pair with bmm, which takes one dtype: a
    subscript summed between operands of different dtypes is an error there (products
    without a contraction, like an outer product, promote)."""
    dts = [o.dtype for o in operands]
    if len(set(dts)) < 2:
        return
    contracted = any(c not in out and sum(c in s for s in ins) > 1 for c in set("".join(ins)))
    if contracted:
        other = next(d for d in dts if d != dts[0])
        raise RuntimeError(f"expected scalar type {scalar_type_name(dts[0])} but found "
                           f"{scalar_type_name(other)}")


def _einsum_raw(xp, ins, out, ops):
    """``xp.einsum`` with PyTorch's errors (a RuntimeError naming the subscript and the
    sizes, never NumPy's ValueError) and every product summed (NumPy factors a stride-0
    operand out of the sum, which turns inf - inf into inf)."""
    sizes = {}
    if len(ops) > 1 and any(o.dtype.kind == "b" for o in ops):  # (a product: PyTorch's bmm)
        raise NotImplementedError("einsum(): not implemented for bool tensors (as in PyTorch); "
                                  "convert them first (x.int() or x.float())")
    for k, (s, o) in enumerate(zip(ins, ops)):
        for c, n in zip(s, o.shape):
            m = sizes.setdefault(c, n)
            if m != n and 1 not in (m, n):
                raise RuntimeError(
                    f"einsum(): subscript {c} has size {n} for operand {k} (shape "
                    f"{list(o.shape)}) which does not broadcast with previously seen size "
                    f"{m}; operand shapes {[list(o.shape) for o in ops]}")
            if m == 1:
                sizes[c] = n
    ops = [xp.ascontiguousarray(o) if 0 in o.strides and o.size > 1 else o for o in ops]
    try:
        return xp.einsum(",".join(ins) + "->" + out, *ops, optimize=len(ops) > 2)
    except ValueError as e:
        raise RuntimeError(
            f"einsum(): equation {','.join(ins)}->{out} cannot be applied to operands of "
            f"shapes {[list(o.shape) for o in ops]} ({e})") from None


class Einsum(Op):
    @staticmethod
    def forward(ctx, *ops, ins, out):
        xp = get_array_module(*ops)
        ctx.ins, ctx.out = ins, out
        ctx.shapes = [o.shape for o in ops]
        ctx.save_for_backward(*ops)
        return _einsum_raw(xp, ins, out, ops)

    @staticmethod
    def backward(ctx, gy):
        ops = ctx.saved_tensors
        grads = []
        for i, s in enumerate(ctx.ins):
            if ctx.next_edges[i] is None:
                grads.append(None)
                continue
            full = s
            if len(set(s)) != len(s):  # a diagonal: the gradient of the unique subscripts,
                s = "".join(dict.fromkeys(s))  # then put back on the diagonal below
                size = dict(zip(full, ctx.shapes[i]))
                shape_i = tuple(size[c] for c in s)
            else:
                shape_i = ctx.shapes[i]
            others = [ops[j] for j in range(len(ops)) if j != i]
            other_s = [ctx.ins[j] for j in range(len(ops)) if j != i]
            avail = set(ctx.out).union(*[set(x) for x in other_s]) if other_s else set(ctx.out)
            # letters only in this operand were summed out: compute without them, broadcast
            target = "".join(c for c in s if c in avail)
            eq = ",".join([ctx.out] + other_s) + "->" + target
            g = einsum(eq, gy, *others)
            tshape = tuple(n for n, c in zip(shape_i, s) if c in avail)
            if tuple(g.shape) != tshape:  # size-1 dims broadcast against the other operands
                g = sum_to(g, tshape)
            if target != s:
                shape_keep = tuple(shape_i[k] if c in avail else 1 for k, c in enumerate(s))
                g = broadcast_to(reshape(g, shape_keep), shape_i)
            if full != s:
                g = _to_diagonal(g, s, full, ctx.shapes[i])
            grads.append(g)
        return tuple(grads)


def _to_diagonal(g, s, full, shape):
    """Place ``g`` (subscripts ``s``, each letter once) on the diagonal of a tensor with
    subscripts ``full`` (letters repeated): ``einsum('i,ij->ij', g, eye)`` for ``'ii'``, a
    product with one delta tensor per repeated letter (differentiable again)."""
    xp = get_array_module(g._data if isinstance(g, Tensor) else g)
    used = set(full)
    spare = (c for c in string.ascii_letters if c not in used)
    renamed, deltas, subs = [], [], []
    seen = {}
    for c in full:
        if c not in seen:
            seen[c] = [c]
            renamed.append(c)
        else:
            d = next(spare)
            seen[c].append(d)
            renamed.append(d)
    for c, names in seen.items():
        if len(names) > 1:
            n = shape[full.index(c)]
            delta = xp.zeros((n,) * len(names), dtype=g.dtype)
            delta[(xp.arange(n),) * len(names)] = 1
            deltas.append(delta)
            subs.append("".join(names))
    eq = ",".join([s] + subs) + "->" + "".join(renamed)
    return einsum(eq, g, *deltas)


@register(family=_LA, method=False, numpy="einsum", arity=None)
def einsum(equation: str, *operands):
    """Einstein summation, e.g. ``einsum('bij,bjk->bik', a, b)``, or in the sublist format
    ``einsum(a, [0, 1], b, [1, 2], [0, 2])``; differentiable."""
    if not isinstance(equation, str):
        equation, operands = _sublist_equation((equation,) + operands)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ins, out = _parse_einsum(equation, [o.shape for o in operands])
    _check_einsum_dtypes(ins, out, operands)
    if not any(isinstance(o, Tensor) for o in operands):
        return _einsum_raw(get_array_module(*operands), ins, out, operands)
    return Einsum.apply(*operands, ins=tuple(ins), out=out)


_ = np


# ==== decompositions and solvers (helper 'linalg') ==========================================
# Forward on arrays through ``xp.linalg`` (LAPACK: the same routines PyTorch calls on the
# CPU, so the same signs of eigenvectors and singular vectors); backward formulas are
# PyTorch's (FunctionsManual.cpp), written with ops that take arrays or Tensors, so that
# they run on arrays for a first derivative and record a graph for higher ones.


class LinAlgError(RuntimeError):
    """A linear-algebra function met a singular or not positive-definite input
    (PyTorch's ``torch.linalg.LinAlgError``, a RuntimeError)."""


_DTNAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
            "uint8": "Byte", "bool": "Bool", "float16": "Half", "bfloat16": "BFloat16"}


def _check_float(op, x, kind="RR", kernel=None):
    """PyTorch's dtype checks of a linear-algebra input: ``kind[0]`` for integer/bool and
    ``kind[1]`` for float16 inputs: 'R' a RuntimeError (PyTorch's front-end check), 'N' a
    NotImplementedError (its kernel ``kernel`` has no such dtype), 'O' accepted."""
    k = x.dtype.kind
    name = _DTNAMES.get(np.dtype(x.dtype).name, str(x.dtype))
    if k not in "fc":
        c = kind[0]
    elif x.dtype.itemsize < 4:
        c = kind[1]
    else:
        return
    if c == "O":
        return
    if c == "N":
        raise NotImplementedError(f'"{kernel or op}" not implemented for \'{name}\' (as in '
                                  "PyTorch)")
    if k not in "fc":
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got "
                           f"{name}")
    raise RuntimeError(f"{op}: Low precision dtypes not supported. Got {name}")


def _check_square(op, x, name="A", kind="RR", kernel=None):
    _check_float(op, x, kind, kernel)
    if x.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor {name} must have at least 2 dimensions.")
    if x.shape[-1] != x.shape[-2]:
        raise RuntimeError(f"{op}: {name} must be batches of square matrices, but they are "
                           f"{x.shape[-2]} by {x.shape[-1]} matrices")


def _check_matrix(op, x, name="A", kind="RR", kernel=None):
    _check_float(op, x, kind, kernel)
    if x.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor {name} must have at least 2 dimensions.")


def _diag(x):
    """The diagonal of the last two dims (arrays or Tensors; differentiable)."""
    return einsum("...ii->...i", x)


def _diag_embed(v):
    """Batches of diagonal matrices from ``v`` (..., n)."""
    n = v.shape[-1]
    xp = get_array_module(v._data if isinstance(v, Tensor) else v)
    return reshape(v, tuple(v.shape) + (1,)) * xp.eye(n, dtype=v.dtype)


def _eye_like(x):
    xp = get_array_module(x)
    return xp.broadcast_to(xp.eye(x.shape[-1], dtype=x.dtype), x.shape)


def _raise_singular(op, what="the input matrix is singular"):
    raise LinAlgError(f"{op}: The diagonal element is zero, the inversion could not be "
                      f"completed because {what}.") from None


class Inv(Op):
    """``A^-1``; gradient ``-A^-T g A^-T``."""

    _torch_name = "LinalgInvExBackward0"

    @staticmethod
    def forward(ctx, a, op="linalg.inv"):
        xp = get_array_module(a)
        try:
            y = xp.linalg.inv(a) if a.size else a.copy()
        except np.linalg.LinAlgError:
            _raise_singular(op)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        yt = _mT(y)
        return -matmul(matmul(yt, gy), yt)


def _inv(a):
    return Inv.apply(a)


class Det(Op):
    """``det(A)``; gradient ``g det(A) A^-T`` (PyTorch's, for nonsingular A)."""

    _torch_name = "LinalgDetBackward0"

    @staticmethod
    def forward(ctx, a):
        xp = get_array_module(a)
        d = xp.linalg.det(a) if a.size else xp.ones(a.shape[:-2], dtype=a.dtype)
        d = xp.asarray(d, dtype=a.dtype)
        ctx.save_for_backward(a, d)
        return d

    @staticmethod
    def backward(ctx, gy):
        a, d = ctx.saved_tensors
        gd = reshape(gy * d, tuple(d.shape) + (1, 1))
        ad = _data(a)
        xp = get_array_module(ad)
        if ad.size == 0 or bool((_data(d) != 0).all()):
            return gd * _mT(_inv(a))
        # a singular matrix in the batch: the adjugate from the SVD (exact at any rank;
        # constant for higher derivatives there)
        return gd * xp.asarray(_adjugate_t(ad))


def _data(x):
    return x._data if isinstance(x, Tensor) else x


def _adjugate_t(a):
    """``adj(A)^T = det(U) det(V) U diag(prod_{j != i} s_j) V^T`` for ``A = U S V^T``: the
    gradient of det at any A, singular included (arrays)."""
    xp = get_array_module(a)
    u, s, vt = xp.linalg.svd(a)
    n = s.shape[-1]
    one = xp.ones(s.shape[:-1] + (1,), dtype=s.dtype)
    before = xp.cumprod(xp.concatenate([one, s[..., :-1]], -1), -1)
    after = xp.flip(xp.cumprod(xp.concatenate([one, xp.flip(s, -1)[..., :-1]], -1), -1), -1)
    c = before * after
    sgn = xp.linalg.det(u) * xp.linalg.det(vt)
    del n
    return sgn[..., None, None] * ((u * c[..., None, :]) @ vt)


class Slogdet(Op):
    """``(sign, log|det A|)``; gradient of the log ``g A^-T`` (the sign has none)."""

    _torch_name = "LinalgSlogdetBackward0"

    @staticmethod
    def forward(ctx, a):
        xp = get_array_module(a)
        if a.size:
            s, ld = xp.linalg.slogdet(a)
        else:
            s = xp.ones(a.shape[:-2], dtype=a.dtype)
            ld = xp.zeros(a.shape[:-2], dtype=a.dtype)
        s, ld = xp.asarray(s, dtype=a.dtype), xp.asarray(ld, dtype=a.dtype)
        s = xp.where(ld != ld, s * 0, s)  # nan entries: sign 0 (signed as PyTorch's)
        ctx.save_for_backward(a)
        return s, ld

    @staticmethod
    def backward(ctx, gs, gl):
        (a,) = ctx.saved_tensors
        return reshape(gl, tuple(gl.shape) + (1, 1)) * _mT(_inv(a))


class Solve(Op):
    """``X = A^-1 B`` (B a batch of matrices, broadcast against A's batch); gradients
    ``gB = A^-T g``, ``gA = -gB X^T``."""

    _torch_name = "LinalgSolveExBackward0"

    @staticmethod
    def forward(ctx, a, b, op="linalg.solve"):
        xp = get_array_module(a, b)
        try:
            x = xp.linalg.solve(a, b) if a.size and b.size else xp.zeros(
                np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:], a.dtype)
        except np.linalg.LinAlgError:
            raise LinAlgError(f"torch.{op}: The solver failed because the input matrix is "
                              "singular.") from None
        ctx.save_for_backward(a, x)
        ctx.shapes = (a.shape, b.shape)
        return x

    @staticmethod
    def backward(ctx, gy):
        a, x = ctx.saved_tensors
        sa, sb = ctx.shapes
        gb = Solve.apply(_mT(a), gy)
        ga = None
        if ctx.needs_input_grad[0]:
            ga = -matmul(gb, _mT(x))
            if tuple(ga.shape) != sa:
                ga = sum_to(ga, sa)
        if tuple(gb.shape) != sb:
            gb = sum_to(gb, sb)
        return ga, gb


def _substitute(a, b, upper, unit):
    """Triangular solve by substitution, one row at a time (vectorised over batches and
    right-hand sides): used where LAPACK's LU refuses a zero pivot, to give PyTorch's
    inf/nan results for singular triangular matrices."""
    xp = get_array_module(a, b)
    n = a.shape[-1]
    shp = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = xp.broadcast_to(a, shp + a.shape[-2:])
    x = xp.array(xp.broadcast_to(b, shp + b.shape[-2:]), dtype=np.result_type(a, b))
    rows = range(n - 1, -1, -1) if upper else range(n)
    with np.errstate(all="ignore"):
        for i in rows:
            if upper:
                s = x[..., i, :] - (a[..., i, i + 1:, None] * x[..., i + 1:, :]).sum(-2)
            else:
                s = x[..., i, :] - (a[..., i, :i, None] * x[..., :i, :]).sum(-2)
            x[..., i, :] = s if unit else s / a[..., i, i, None]
    return x


class SolveTriangular(Op):
    """``X = A^-1 B`` for triangular A (left=True; the wrapper transposes for left=False);
    only the triangle ``upper`` of A is read; ``unitriangular`` takes its diagonal as 1."""

    _torch_name = "LinalgSolveTriangularBackward0"

    @staticmethod
    def forward(ctx, a, b, upper, unitriangular):
        xp = get_array_module(a, b)
        n = a.shape[-1]
        t = xp.triu(a) if upper else xp.tril(a)
        if unitriangular and n:
            t = t.copy()
            idx = xp.arange(n)
            t[..., idx, idx] = 1
        if a.size == 0 or b.size == 0:
            x = xp.zeros(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:],
                         a.dtype)
        else:
            d = xp.abs(t[..., xp.arange(n), xp.arange(n)])
            ok = bool(xp.isfinite(t).all() and xp.isfinite(b).all() and (d > 0).all())
            x = xp.linalg.solve(t, b) if ok else _substitute(t, b, upper, unitriangular)
        ctx.save_for_backward(a, x)  # (the input: a graph of higher derivatives reaches it)
        ctx.upper, ctx.unit, ctx.shapes = upper, unitriangular, (a.shape, b.shape)
        return x

    @staticmethod
    def backward(ctx, gy):
        a, x = ctx.saved_tensors
        sa, sb = ctx.shapes
        k = 1 if ctx.unit else 0
        t = triu(a, k) if ctx.upper else tril(a, -k)
        if ctx.unit:
            t = t + _eye_like(_data(a))
        gb = SolveTriangular.apply(_mT(t), gy, upper=not ctx.upper,
                                   unitriangular=ctx.unit)
        ga = None
        if ctx.needs_input_grad[0]:
            ga = -matmul(gb, _mT(x))
            ga = triu(ga, 1 if ctx.unit else 0) if ctx.upper else tril(
                ga, -1 if ctx.unit else 0)
            if tuple(ga.shape) != sa:
                ga = sum_to(ga, sa)
        if tuple(gb.shape) != sb:
            gb = sum_to(gb, sb)
        return ga, gb


def _solve_tri(a, b, upper, left=True, unitriangular=False):
    if left:
        return SolveTriangular.apply(a, b, upper=upper, unitriangular=unitriangular)
    return _mT(SolveTriangular.apply(_mT(a), _mT(b), upper=not upper,
                                     unitriangular=unitriangular))


class Cholesky(Op):
    """Lower Cholesky factor L (``A = L L^T``) from the lower triangle of A; gradient
    ``sym(L^-T Phi(L^T gL) L^-1)`` with Phi the lower triangle, its diagonal halved."""

    _torch_name = "LinalgCholeskyExBackward0"

    @staticmethod
    def forward(ctx, a, op="linalg.cholesky"):
        xp = get_array_module(a)
        if a.size == 0:
            ell = a.copy()
        else:
            sym = xp.tril(a) + xp.swapaxes(xp.tril(a, -1), -1, -2)
            try:
                ell = xp.linalg.cholesky(sym)
            except np.linalg.LinAlgError:
                ell = None
            if ell is None or not bool(xp.isfinite(ell).all()):
                k = _first_bad_minor(xp, sym)
                raise LinAlgError(
                    f"{op}: The factorization could not be completed because the input is not "
                    f"positive-definite (the leading minor of order {k} is not "
                    "positive-definite).")
        ctx.save_for_backward(ell)
        return ell

    @staticmethod
    def backward(ctx, gl):
        (ell,) = ctx.saved_tensors
        # PyTorch's cholesky_backward (Murray 2016): L^-T (Phi + tril(Phi, -1)^T) / 2 L^-1
        # with Phi = tril(L^T gL)
        phi = tril(matmul(_mT(ell), gl))
        ga = 0.5 * (phi + _mT(tril(phi, -1)))
        ga = _solve_tri(_mT(ell), ga, upper=True)
        return _solve_tri(ell, ga, upper=False, left=False)


class CholeskySolve(Op):
    """``X`` with ``L L^T X = B`` (L lower; the wrapper transposes an upper factor).
    Gradients (PyTorch's): ``gB = cholesky_solve(g, L)``, ``gL = -(gB X^T + X gB^T) L``."""

    @staticmethod
    def forward(ctx, b, ell):
        xp = get_array_module(b, ell)
        t = xp.tril(ell)
        y = SolveTriangular.forward(_Scratch(), t, b, upper=False, unitriangular=False)
        x = SolveTriangular.forward(_Scratch(), xp.swapaxes(t, -1, -2), y, upper=True,
                                    unitriangular=False)
        ctx.save_for_backward(ell, x)
        ctx.shapes = (b.shape, ell.shape)
        return x

    @staticmethod
    def backward(ctx, gx):
        ell, x = ctx.saved_tensors
        sb, sl = ctx.shapes
        gb = CholeskySolve.apply(gx, ell)
        gl = None
        if ctx.needs_input_grad[1]:
            common = matmul(gb, _mT(x))
            gl = -matmul(common + _mT(common), ell)
            if tuple(gl.shape) != sl:
                gl = sum_to(gl, sl)
        if tuple(gb.shape) != sb:
            gb = sum_to(gb, sb)
        return gb, gl


class _Scratch:
    """A throw-away ctx for calling another op's forward on arrays."""

    def save_for_backward(self, *xs):
        pass


def _first_bad_minor(xp, a):
    """The order of the first leading minor that is not positive-definite (of the first bad
    matrix of a batch), for the error message."""
    m = a.reshape((-1,) + a.shape[-2:])
    for mat in m:
        for k in range(1, mat.shape[-1] + 1):
            try:
                c = np.linalg.cholesky(np.asarray(mat[:k, :k]))
                if not np.isfinite(c).all():
                    return k
            except np.linalg.LinAlgError:
                return k
    return 1


def _skew(x):
    return x - _mT(x)


class QR(Op):
    """Householder QR (LAPACK geqrf/orgqr). Gradient (m >= n, or the square block of a wide
    A): ``(gQ + Q copyltu(M)) R^-T`` with ``M = R gR^T - gQ^T Q`` (PyTorch's)."""

    _torch_name = "LinalgQrBackward0"

    @staticmethod
    def forward(ctx, a, mode):
        xp = get_array_module(a)
        m, n = a.shape[-2:]
        if a.size == 0:
            k = min(m, n)
            qc = m if mode == "complete" else k
            q = xp.broadcast_to(xp.eye(m, qc, dtype=a.dtype), a.shape[:-2] + (m, qc)).copy()
            r = xp.zeros(a.shape[:-2] + (qc if mode != "r" else k, n), a.dtype)
            if mode == "r":
                q = xp.zeros(a.shape[:-2] + (0,), a.dtype)
        elif mode == "r":
            r = xp.linalg.qr(a, mode="r")
            q = xp.zeros((0,), a.dtype)
        else:
            q, r = xp.linalg.qr(a, mode=mode)
        q = q.astype(a.dtype, copy=False)
        r = r.astype(a.dtype, copy=False)
        ctx.mode = mode
        ctx.save_for_backward(a, q, r)
        return q, r

    @staticmethod
    def backward(ctx, gq, gr):
        a, q, r = ctx.saved_tensors
        mode = ctx.mode
        m, n = a.shape[-2:]
        if mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                               "when mode='r'. Please use linalg.qr(A, mode='reduced') if you "
                               "are going to differentiate through linalg.qr.")
        if mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when "
                               "mode='complete' and nrows > ncols.")
        if m >= n:
            return _qr_back_tall(q, r, gq, gr)
        # wide: A = Q [R1 R2], X = A[:, :m] square, Y = A[:, m:]
        r1 = r[..., :, :m]
        gr1, gr2 = gr[..., :, :m], gr[..., :, m:]
        y = a[..., :, m:]
        gy_ = matmul(q, gr2)
        gq2 = gq + matmul(y, _mT(gr2))
        gx = _qr_back_tall(q, r1, gq2, gr1)
        return _cat_last(gx, gy_)


def _qr_back_tall(q, r, gq, gr):
    mm = matmul(r, _mT(gr)) - matmul(_mT(gq), q)
    low = tril(mm, -1)
    c = low + _mT(low) + _diag_embed(_diag(mm))  # copyltu
    b = gq + matmul(q, c)
    return _solve_tri(_mT(r), b, upper=False, left=False)  # b R^-T


def _cat_last(a, b):
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return cat([a, b], -1)
    return get_array_module(a).concatenate([a, b], -1)


class Eigh(Op):
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric matrix, from its
    triangle ``UPLO``. Gradient ``V (diag(gL) + skew(V^T gV) / 2 / E) V^T`` with
    ``E_ij = L_j - L_i`` (PyTorch's; unbounded at repeated eigenvalues, as documented)."""

    _torch_name = "LinalgEighBackward0"

    @staticmethod
    def forward(ctx, a, uplo, op="linalg.eigh"):
        xp = get_array_module(a)
        if a.size == 0:
            w = xp.zeros(a.shape[:-1], a.dtype)
            v = a.copy()
        else:
            if not bool(xp.isfinite(xp.tril(a) if uplo == "L" else xp.triu(a)).all()):
                raise LinAlgError(f"{op}: The algorithm failed to converge because the input "
                                  "matrix is ill-conditioned or has too many repeated "
                                  "eigenvalues (error code: 2).")
            w, v = xp.linalg.eigh(a, UPLO=uplo)
        w, v = w.astype(a.dtype, copy=False), v.astype(a.dtype, copy=False)
        ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx, gw, gv):
        w, v = ctx.saved_tensors
        xp = get_array_module(_data(w))
        n = w.shape[-1]
        eye = xp.eye(n, dtype=w.dtype)
        e = reshape(w, tuple(w.shape[:-1]) + (1, n)) - reshape(w, tuple(w.shape) + (1,))
        e = e + eye  # the diagonal is replaced below
        inner = 0.5 * _skew(matmul(_mT(v), gv)) / e
        inner = inner * (1 - eye) + _diag_embed(gw)
        return matmul(matmul(v, inner), _mT(v))


class SVD(Op):
    """``A = U diag(S) Vh`` (LAPACK gesdd, as PyTorch on the CPU). Gradient: PyTorch's
    ``svd_backward`` (unbounded at repeated singular values; U and Vh must be the reduced
    ones when their gradients are used)."""

    _torch_name = "LinalgSvdBackward0"

    @staticmethod
    def forward(ctx, a, full_matrices, compute_uv=True, op="linalg.svd"):
        xp = get_array_module(a)
        m, n = a.shape[-2:]
        k = min(m, n)
        if a.size == 0:
            s = xp.zeros(a.shape[:-2] + (k,), a.dtype)
            u = xp.broadcast_to(xp.eye(m, m if full_matrices else k, dtype=a.dtype),
                                a.shape[:-2] + (m, m if full_matrices else k)).copy()
            vh = xp.broadcast_to(xp.eye(n if full_matrices else k, n, dtype=a.dtype),
                                 a.shape[:-2] + (n if full_matrices else k, n)).copy()
        else:
            if not bool(xp.isfinite(a).all()):
                raise LinAlgError(f"{op}: The algorithm failed to converge because the input "
                                  "matrix contained non-finite values.")
            if compute_uv:
                u, s, vh = xp.linalg.svd(a, full_matrices=full_matrices)
            else:
                s = xp.linalg.svd(a, compute_uv=False)
                u = vh = None
        s = s.astype(a.dtype, copy=False)
        if not compute_uv:
            ctx.full = False
            ctx.save_for_backward(a)
            ctx.uv = False
            return s
        u, vh = u.astype(a.dtype, copy=False), vh.astype(a.dtype, copy=False)
        ctx.full, ctx.uv = full_matrices, True
        ctx.save_for_backward(u, s, vh)
        return u, s, vh

    @staticmethod
    def backward(ctx, *grads):
        if not ctx.uv:  # svdvals: U diag(gS) Vh from a fresh SVD
            (a,) = ctx.saved_tensors
            u, _, vh = SVD.apply(a, full_matrices=False)
            return matmul(u * reshape(grads[0], tuple(grads[0].shape[:-1]) + (1, -1)), vh)
        gu, gs, gvh = grads
        u, s, vh = ctx.saved_tensors
        m, n = u.shape[-2], vh.shape[-1]
        k = s.shape[-1]
        if ctx.full and (m > k or n > k):
            u, vh = u[..., :, :k], vh[..., :k, :]
            gu, gvh = gu[..., :, :k], gvh[..., :k, :]
        xp = get_array_module(_data(s))
        sr = reshape(s, tuple(s.shape[:-1]) + (1, k))  # S along the rows
        sc = reshape(s, tuple(s.shape) + (1,))  # S along the columns
        gv = _mT(gvh)
        v = _mT(vh)
        uhgu = _skew(matmul(_mT(u), gu))
        vhgv = _skew(matmul(vh, gv))
        s2 = s * s
        e = reshape(s2, tuple(s.shape[:-1]) + (1, k)) - reshape(s2, tuple(s.shape) + (1,))
        eye = xp.eye(k, dtype=s.dtype)
        e = e + eye
        ga = (uhgu * sr + sc * vhgv) / e * (1 - eye) + _diag_embed(gs)
        if m > n:
            ga = matmul(u, ga)
            gusinv = gu / sr
            ga = ga + gusinv - matmul(u, matmul(_mT(u), gusinv))
            return matmul(ga, vh)
        if m < n:
            ga = matmul(ga, vh)
            gvsinv = gv / sr
            ga = ga + _mT(gvsinv) - matmul(matmul(_mT(gvsinv), v), vh)
            return matmul(u, ga)
        return matmul(u, matmul(ga, vh))


# ---- matrix exponential -------------------------------------------------------------------

_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0,
           1187353796428800.0, 129060195264000.0, 10559470521600.0, 670442572800.0,
           33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152


def _expm(a):
    """Scaling and squaring with the degree-13 Pade approximant (Higham 2005), each matrix
    of the batch with its own number of squarings."""
    xp = get_array_module(a)
    n = a.shape[-1]
    if a.size == 0:
        return a.copy()
    norm = xp.abs(a).sum(-2).max(-1)  # the 1-norm
    with np.errstate(all="ignore"):
        sq = xp.where(norm > _THETA13, xp.ceil(xp.log2(norm / _THETA13)), 0)
    sq = xp.where(xp.isfinite(sq), sq, 0).astype(np.int64)
    x = a * (0.5 ** sq)[..., None, None].astype(a.dtype)
    b = _PADE13
    ident = xp.eye(n, dtype=a.dtype)
    x2 = x @ x
    x4 = x2 @ x2
    x6 = x4 @ x2
    u = x @ (x6 @ (b[13] * x6 + b[11] * x4 + b[9] * x2) + b[7] * x6 + b[5] * x4 + b[3] * x2
             + b[1] * ident)
    v = x6 @ (b[12] * x6 + b[10] * x4 + b[8] * x2) + b[6] * x6 + b[4] * x4 + b[2] * x2 \
        + b[0] * ident
    with np.errstate(all="ignore"):
        try:
            r = xp.linalg.solve(v - u, v + u)
        except np.linalg.LinAlgError:
            r = xp.full(a.shape, xp.nan, a.dtype)
        for j in range(int(sq.max()) if sq.size else 0):
            r2 = r @ r
            r = xp.where((j < sq)[..., None, None], r2, r)
    return r.astype(a.dtype, copy=False)


class MatrixExp(Op):
    """``exp(A)``; gradient ``exp([[A^T, g], [0, A^T]])`` upper-right block (the
    block-triangular form of the Frechet derivative; differentiable again)."""

    _torch_name = "LinalgMatrixExpBackward0"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        if a.dtype == np.float16:  # PyTorch computes it (in float32 here, rounded once)
            return _expm(a.astype(np.float32)).astype(np.float16)
        return _expm(a)

    @staticmethod
    def backward(ctx, gy):
        (a,) = ctx.saved_tensors
        n = a.shape[-1]
        at = _mT(a)
        xp = get_array_module(_data(a))
        z = xp.zeros(tuple(a.shape), dtype=a.dtype)
        top = _cat_last(at, gy)
        bottom = _cat_last(z, at)
        big = _cat_rows(top, bottom)
        return MatrixExp.apply(big)[..., :n, n:]


def _cat_rows(a, b):
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return cat([a, b], -2)
    return get_array_module(a).concatenate([a, b], -2)


# ---- LU with partial pivoting ------------------------------------------------------------

def _lu_raw(a):
    """``(LU, pivots)`` as LAPACK getrf: partial pivoting by the largest magnitude (the first
    on ties), L unit lower and U packed in one matrix, pivots 1-based int32; rectangular and
    batched (one column at a time, vectorised over the batch)."""
    xp = get_array_module(a)
    m, n = a.shape[-2:]
    k = min(m, n)
    lu = xp.array(a, copy=True)
    bshape = a.shape[:-2]
    piv = xp.zeros(bshape + (k,), dtype=np.int32)
    nb = int(np.prod(bshape)) if bshape else 1
    flat = lu.reshape((nb, m, n))
    pv = piv.reshape((nb, k))
    rows = xp.arange(flat.shape[0])
    with np.errstate(all="ignore"):
        for j in range(k):
            col = xp.abs(flat[:, j:, j])
            col = xp.where(col != col, xp.inf, col)  # a nan pivots first (LAPACK's idamax)
            p = j + xp.argmax(col, axis=1)
            pv[:, j] = p + 1
            rj = flat[rows, j, :].copy()
            flat[rows, j, :] = flat[rows, p, :]
            flat[rows, p, :] = rj
            piv_v = flat[:, j, j]
            nz = piv_v != 0
            fac = xp.where(nz[:, None], flat[:, j + 1:, j] / xp.where(nz, piv_v, 1)[:, None],
                           flat[:, j + 1:, j])
            flat[:, j + 1:, j] = fac
            flat[:, j + 1:, j + 1:] -= fac[:, :, None] * flat[:, j, None, j + 1:]
    return flat.reshape(a.shape), pv.reshape(bshape + (k,))


def _perm_from_pivots(xp, piv, m):
    """The permutation (row order) of getrf's pivots: ``P^T A = L U``."""
    bshape = piv.shape[:-1]
    nb = int(np.prod(bshape)) if bshape else 1
    perm = xp.broadcast_to(xp.arange(m), bshape + (m,)).copy().reshape((nb, m))
    pv = piv.reshape((nb, piv.shape[-1])).astype(np.int64) - 1
    rows = xp.arange(perm.shape[0])
    for j in range(pv.shape[1]):
        p = pv[:, j]
        a = perm[rows, j].copy()
        perm[rows, j] = perm[rows, p]
        perm[rows, p] = a
    return perm.reshape(bshape + (m,))


def _unpack(lu, piv):
    """``(P, L, U)`` arrays from packed LU and pivots."""
    xp = get_array_module(lu)
    m, n = lu.shape[-2:]
    k = min(m, n)
    low = xp.tri(m, k, -1, dtype=bool)
    ell = xp.where(low, lu[..., :, :k], xp.eye(m, k, dtype=lu.dtype))
    u = xp.triu(lu[..., :k, :])
    perm = _perm_from_pivots(xp, piv, m)
    p = xp.zeros(perm.shape + (m,), dtype=lu.dtype)
    xp.put_along_axis(p, perm[..., None], 1, axis=-1)  # p[i, perm[i]] = 1 -> P^T
    return xp.swapaxes(p, -1, -2), ell, u


class LUFactor(Op):
    """Packed ``LU`` (and the int32 pivots, no gradient) of ``A = P L U``. Gradient
    (square A): ``P L^-T (tril(L^T gL, -1) + triu(gU U^T)) U^-T`` (PyTorch's)."""

    _torch_name = "LinalgLuFactorExBackward0"

    @staticmethod
    def forward(ctx, a):
        lu, piv = _lu_raw(a)
        ctx.save_for_backward(lu, piv)
        return lu, piv

    @staticmethod
    def backward(ctx, glu, gpiv):
        lu, piv = ctx.saved_tensors
        p, ell, u = _unpack(_data(lu), _data(piv))
        m, n = lu.shape[-2:]
        k = min(m, n)
        xp = get_array_module(p)
        if isinstance(lu, Tensor):  # L and U as differentiable functions of the packed LU
            ell = tril(lu[..., :, :k], -1) + xp.eye(m, k, dtype=p.dtype)
            u = triu(lu[..., :k, :])
        gl = tril(glu[..., :, :k], -1)
        gu = triu(glu[..., :k, :])
        # PyTorch's linalg_lu_backward, for square, wide and tall A
        if m == n:
            phi = tril(matmul(_mT(ell), gl), -1) + triu(matmul(gu, _mT(u)))
            x = _solve_tri(_mT(u), phi, upper=False, left=False)
            x = _solve_tri(_mT(ell), x, upper=True, unitriangular=True)
        elif m < n:
            x = matmul(_mT(ell), gl) - matmul(gu, _mT(u))
            x = _solve_tri(_mT(u[..., :, :k]), tril(x, -1), upper=False, left=False)
            x = _cat_last(x + gu[..., :, :k], gu[..., :, k:])
            x = _solve_tri(_mT(ell), x, upper=True, unitriangular=True)
        else:
            x = matmul(gu, _mT(u)) - matmul(_mT(ell), gl)
            x = _solve_tri(_mT(ell[..., :k, :]), triu(x), upper=True, unitriangular=True)
            x = _cat_rows(x + gl[..., :k, :], gl[..., k:, :])
            x = _solve_tri(_mT(u), x, upper=False, left=False)
        return matmul(p, x)


# ---- the torch-level functions and Tensor methods ------------------------------------------

SlogdetResult = structseq("slogdet", ["sign", "logabsdet"])
QRResult = structseq("qr", ["Q", "R"])
SVDResult = structseq("svd", ["U", "S", "V"])
TriSolveResult = structseq("triangular_solve", ["solution", "cloned_coefficient"])
LUUnpackResult = structseq("lu_unpack", ["P", "L", "U"])


def det_impl(op, a):
    """The determinant after PyTorch's checks (``op`` names the caller in errors)."""
    _check_square(op, a, kind="RN", kernel="lu_cpu")
    return Det.apply(a)


@register(family=_LA, op=Det, numpy="linalg.det")
def det(A):
    """Determinant of a (batch of) square matrices; its gradient ``g det(A) A^-T`` (the
    adjugate at singular matrices)."""
    return det_impl("linalg.det", A)


def slogdet_impl(op, a):
    """``(sign, log|det|)`` after PyTorch's checks."""
    _check_square(op, a)
    return SlogdetResult(*Slogdet.apply(a))


@register(family=_LA, op=Slogdet, numpy="linalg.slogdet")
def slogdet(A):
    """``(sign, log|det A|)``, the log differentiable."""
    return slogdet_impl("linalg.slogdet", A)


@register(family=_LA, op=Slogdet)
def logdet(A):
    """``log(det(A))``: nan for a negative determinant, -inf for a singular matrix."""
    s, ld = slogdet_impl("logdet", A)
    xp = get_array_module(s._data if isinstance(s, Tensor) else s)
    sd = s._data if isinstance(s, Tensor) else s
    with np.errstate(all="ignore"):
        return ld + xp.where(sd < 0, xp.nan, 0).astype(sd.dtype)


def inv_impl(op, a):
    """The inverse after PyTorch's checks; ``LinAlgError`` when singular."""
    _check_square(op, a)
    return Inv.apply(a, op=op)


@register(family=_LA, op=Inv, numpy="linalg.inv")
def inverse(A):
    """The inverse of a (batch of) square matrices; ``LinAlgError`` when singular."""
    return inv_impl("linalg.inv", A)


def cholesky_impl(op, a, upper=False, kind="RN"):
    """The Cholesky factor (lower, or its transpose with ``upper``) after the checks of ``op``
    (``kind``: see ``_check_float``)."""
    _check_square(op, a, kind=kind, kernel="cholesky_cpu")
    ell = Cholesky.apply(a, op=op)
    return _mT(ell) if upper else ell


@register(family=_LA, op=Cholesky, numpy="linalg.cholesky")
def cholesky(A, upper=False):
    """The Cholesky factor of a symmetric positive-definite matrix (lower, or ``upper``);
    only the lower triangle of A is read; ``LinAlgError`` when A is not positive-definite."""
    if A.ndim >= 2 and A.numel() == 0 and A.dtype.kind in "fV":
        return A * 1  # (PyTorch's torch.cholesky returns an empty input as it is)
    ell = cholesky_impl("cholesky", A, upper, kind="NN")
    return ell if upper else named(ell, "CholeskyBackward0")  # the old op's own node


class CholeskyInverse(Op):
    """``(L L^T)^-1`` from the lower triangle of L (LAPACK potri: ``L^-T L^-1``, an error for
    a zero diagonal element). Gradient (PyTorch's): ``-(R (g + g^T) R) L``."""

    @staticmethod
    def forward(ctx, ell, upper):
        xp = get_array_module(ell)
        n = ell.shape[-1]
        t = xp.tril(ell)
        d = t[..., xp.arange(n), xp.arange(n)] == 0
        if n and bool(d.any()):
            i = int(xp.argmax(d.reshape(-1, n).any(0) if d.ndim > 1 else d)) + 1
            raise LinAlgError(f"cholesky_inverse: The diagonal element {i} is zero, the "
                              "inversion could not be completed because the input matrix is "
                              "singular.")
        li = SolveTriangular.forward(_Scratch(), t, _eye_like(t), upper=False,
                                     unitriangular=False)
        r = xp.swapaxes(li, -1, -2) @ li
        ctx.upper = upper
        ctx.save_for_backward(ell, r)
        return r

    @staticmethod
    def backward(ctx, g):
        ell, r = ctx.saved_tensors
        common = matmul(r, matmul(g + _mT(g), r))
        return -matmul(common, ell)


@register(family=_LA, op=CholeskyInverse)
def cholesky_inverse(L, upper=False):
    """``(L L^T)^-1`` (``(U^T U)^-1`` with ``upper``) from a Cholesky factor."""
    _check_square("cholesky_inverse", L, "input", "NN", "cholesky_inverse_out_cpu")
    return CholeskyInverse.apply(_mT(L) if upper else L, upper=upper)


@register(family=_LA, op=CholeskySolve, arity=2)
def cholesky_solve(B, L, upper=False):
    """``X`` with ``L L^T X = B`` (``U^T U X = B`` with ``upper``)."""
    _check_matrix("cholesky_solve", B, "B", "NN", "cholesky_solve_cpu")
    _check_square("cholesky_solve", L, "A", "NN", "cholesky_solve_cpu")
    if B.dtype != L.dtype:
        raise RuntimeError(f"cholesky_solve: Expected b and A to have the same dtype, but "
                           f"found b of type {B.dtype} and A of type {L.dtype} instead.")
    if upper:
        return CholeskySolve.apply(B, _mT(L))
    return CholeskySolve.apply(B, L)


def qr_impl(op, a, mode="reduced"):
    """``(Q, R)`` of ``mode`` 'reduced', 'complete' or 'r' after PyTorch's checks."""
    _check_matrix(op, a, kind="RN", kernel="geqrf_cpu")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    return QR.apply(a, mode=mode)


@register(family=_LA, op=QR)
def qr(A, some=True):
    """``(Q, R)`` of the QR decomposition (reduced with ``some``, else complete)."""
    return QRResult(*qr_impl("qr", A, "reduced" if some else "complete"))


@register(family=_LA, op=SVD)
def svd(A, some=True, compute_uv=True):
    """``(U, S, V)`` with ``A = U diag(S) V^T`` (V, not Vh: the old ``torch.svd``); reduced
    with ``some``; with ``compute_uv=False`` U and V are zero-filled (m, m) and (n, n)."""
    _check_matrix("linalg.svd", A, kind="RN", kernel="linalg_svd_cpu")
    if not compute_uv:
        xp = get_array_module(A._data)
        m, n = A.shape[-2:]
        s = SVD.apply(A, full_matrices=False, compute_uv=False)
        u = _make(xp.zeros(A.shape[:-2] + (m, m), A.dtype))
        v = _make(xp.zeros(A.shape[:-2] + (n, n), A.dtype))
        return SVDResult(u, s, v)
    u, s, vh = SVD.apply(A, full_matrices=not some)
    return SVDResult(u, s, _mT(vh))


def triangular_solve_impl(b, a, upper=True, transpose_=False, unitriangular=False):
    """The solution of the old ``torch.triangular_solve`` (A X = b, or A^T X = b)."""
    _check_matrix("triangular_solve", b, "B", "NN", "triangular_solve_cpu")
    _check_square("triangular_solve", a, "A", "NN", "triangular_solve_cpu")
    if b.dtype != a.dtype:
        raise RuntimeError(f"triangular_solve: Expected b and A to have the same dtype, but "
                           f"found b of type {b.dtype} and A of type {a.dtype} instead.")
    if a.shape[-1] != b.shape[-2]:
        raise RuntimeError(f"triangular_solve: Incompatible matrix sizes for A ({a.shape[-2]}"
                           f"x{a.shape[-1]}) and B ({b.shape[-2]}x{b.shape[-1]})")
    if transpose_:
        return _solve_tri(_mT(a), b, upper=not upper, unitriangular=unitriangular)
    return _solve_tri(a, b, upper=upper, unitriangular=unitriangular)


@register(family=_LA, op=SolveTriangular, arity=2)
def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False):
    """``(X, A.clone())`` with ``A X = b`` (``A^T X = b`` with ``transpose``) for triangular
    A (the old ``torch.triangular_solve``; see ``linalg.solve_triangular``)."""
    x = named(triangular_solve_impl(b, A, upper, transpose, unitriangular),
              "TriangularSolveBackward0")
    return TriSolveResult(x, A.clone())


def matrix_exp_impl(op, a):
    """The matrix exponential after PyTorch's checks (float16 accepted)."""
    _check_square(op, a, kind="RO")
    return MatrixExp.apply(a)


@register(family=_LA, op=MatrixExp)
def matrix_exp(A):
    """The matrix exponential ``sum_k A^k / k!`` (Pade 13 with scaling and squaring)."""
    return matrix_exp_impl("linalg.matrix_exp", A)


def matrix_power_impl(op, a, n):
    """``A^n`` by binary powering (the inverse first for negative n)."""
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but they are "
                           f"{a.shape[-2] if a.ndim > 1 else '?'} by "
                           f"{a.shape[-1] if a.ndim else '?'} matrices")
    n = int(n)
    if n == 0:  # the identity (a zero gradient for A, as PyTorch's)
        xp = get_array_module(a._data)
        eye = xp.broadcast_to(xp.eye(a.shape[-1], dtype=a.dtype), a.shape)
        if a.requires_grad:
            return where(xp.ones((1,) * a.ndim, dtype=bool), eye, a)
        return _make(eye.copy())
    if n < 0:
        a = inv_impl(op, a)
        n = -n
    result = None
    base = a
    while n:  # binary powering: about log2(n) products
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result if result is not a else a * 1


@register(family=_LA, op=MatMul, numpy="linalg.matrix_power")
def matrix_power(A, n):
    """``A^n`` for an integer n (``A^-1`` to the power ``-n`` for negative n; the identity
    for 0)."""
    return matrix_power_impl("linalg.matrix_power", A, n)


def lu_factor_impl(op, a):
    """``(LU, pivots)`` after PyTorch's checks."""
    _check_matrix(op, a, kind="NN", kernel="lu_cpu")
    return LUFactor.apply(a)


@register(family=_LA, op=LUFactor, aliases=(), method=True)
def lu(A, pivot=True, get_infos=False):
    """``(LU, pivots)`` (and ``infos`` with ``get_infos``) of ``A = P L U`` (the old
    ``torch.lu``; see ``linalg.lu_factor``)."""
    if not pivot:
        raise RuntimeError("lu without pivoting is not implemented on the CPU (as in "
                           "PyTorch)")
    lu_, piv = lu_factor_impl("torch.lu", A)
    if get_infos:
        xp = get_array_module(lu_._data)
        k = min(A.shape[-2:])
        d = xp.abs(xp.diagonal(lu_._data, axis1=-2, axis2=-1)[..., :k]) == 0
        info = xp.where(d.any(-1), d.argmax(-1) + 1, 0).astype(np.int32)
        return lu_, piv, _make(info)
    return lu_, piv


def lu_unpack_impl(lu_data, lu_pivots, unpack_data=True, unpack_pivots=True):
    """``(P, L, U)`` Tensors from packed LU and pivots (L and U differentiable)."""
    m, n = lu_data.shape[-2:]
    k = min(m, n)
    xp = get_array_module(lu_data._data)
    ell = where(xp.tri(m, k, -1, dtype=bool), lu_data[..., :, :k],
                xp.eye(m, k, dtype=lu_data.dtype))
    u = triu(lu_data[..., :k, :])
    p, _, _ = _unpack(lu_data._data, lu_pivots._data)
    return LUUnpackResult(_make(p), ell, u)


@register(family=_LA, op=None, arity=2, method=False)
def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """``(P, L, U)`` from the packed LU and pivots of ``lu``/``linalg.lu_factor``."""
    if LU_pivots.dtype != np.int32:
        raise RuntimeError("torch.lu_unpack: LU_pivots is expected to be a contiguous tensor "
                           f"of torch.int32 dtype. Got: {LU_pivots.dtype}")
    return lu_unpack_impl(LU_data, LU_pivots, unpack_data, unpack_pivots)


def lu_solve_impl(lu_data, piv, b, left=True, adjoint=False):
    """``X`` from the LU factorization: ``A X = B``, ``A^T X = B`` (``adjoint``), or the same
    from the right (not ``left``)."""
    p, ell, u = lu_unpack_impl(lu_data, piv)
    if left and not adjoint:  # A X = B, A = P L U
        y = _solve_tri(ell, matmul(_mT(p), b), upper=False, unitriangular=True)
        return _solve_tri(u, y, upper=True)
    if left:  # A^T X = B: U^T L^T P^T X = B
        y = _solve_tri(_mT(u), b, upper=False)
        return matmul(p, _solve_tri(_mT(ell), y, upper=True, unitriangular=True))
    if not adjoint:  # X A = B
        y = _solve_tri(u, b, upper=True, left=False)
        return matmul(_solve_tri(ell, y, upper=False, left=False, unitriangular=True), _mT(p))
    y = matmul(b, p)  # X A^T = B: X U^T L^T P^T = B
    y = _solve_tri(_mT(ell), y, upper=True, left=False, unitriangular=True)
    return _solve_tri(_mT(u), y, upper=False, left=False)


@register(family=_LA, op=SolveTriangular, arity=3)
def lu_solve(b, LU_data, LU_pivots):
    """``X`` with ``A X = b`` from the LU factorization of A (``torch.lu_solve``)."""
    _check_matrix("lu_solve", b, "B", "NN", "lu_cpu")
    _check_square("torch.linalg.lu_solve", LU_data, "A", "NN", "lu_cpu")
    if b.dtype != LU_data.dtype:
        raise RuntimeError("lu_solve: Expected LU and B to have the same dtype, but found LU "
                           f"of type {LU_data.dtype} and B of type {b.dtype} instead")
    return lu_solve_impl(LU_data, LU_pivots, b)


def _tol_value(v, xp, dtype):
    if isinstance(v, Tensor):
        return v._data.astype(dtype)
    return xp.asarray(v if v is not None else 0.0, dtype=dtype)


def tolerance(xp, dtype, smax, atol, rtol, m, n):
    """``max(atol, rtol * smax)`` with PyTorch's defaults: rtol ``eps * max(m, n)`` when
    neither is given, 0 when only atol is (> 0)."""
    eps = np.finfo(dtype).eps
    if rtol is None:
        zero = atol is not None and (isinstance(atol, Tensor) or atol > 0)
        rtol_v = xp.asarray(0.0 if zero else eps * max(m, n), dtype=dtype)
    else:
        rtol_v = _tol_value(rtol, xp, dtype)
    return xp.maximum(_tol_value(atol, xp, dtype), rtol_v * smax)


def pinv_impl(op, a, atol=None, rtol=None, hermitian=False):
    """The pseudo-inverse ``V diag(1/s) U^T`` over the singular values above the tolerance
    (from the SVD also for ``hermitian``: its |eigenvalues| are the singular values, and the
    SVD's gradient is PyTorch's general one)."""
    if a.dtype.kind not in "fcV" or a.dtype.itemsize < 4 or a.ndim < 2:
        raise RuntimeError(f"linalg.pinv({_DTNAMES.get(np.dtype(a.dtype).name, str(a.dtype))}"
                           f"{{{list(a.shape)}}}): expected a tensor with 2 or more dimensions "
                           "of float, double, cfloat or cdouble types")
    xp = get_array_module(a._data)
    m, n = a.shape[-2:]
    if a.numel() == 0:
        return matmul(_mT(a), _make(xp.zeros(a.shape[:-2] + (m, m), a.dtype)))
    u, s, vh = SVD.apply(a, full_matrices=False, op=op)
    smax = s._data[..., 0]
    tol_v = tolerance(xp, a.dtype, smax, atol, rtol, m, n)
    keep = s._data > tol_v[..., None]
    sinv = where(keep, 1.0 / where(keep, s, 1.0), 0.0)
    return named(matmul(_mT(vh) * reshape(sinv, tuple(sinv.shape[:-1]) + (1, -1)), _mT(u)),
                 "LinalgPinvBackward0")


@register(family=_LA, op=SVD)
def pinverse(input, rcond=1e-15):
    """The pseudo-inverse, singular values below ``rcond * s_max`` dropped."""
    return pinv_impl("pinverse", input, rtol=rcond)


def svdvals_impl(op, a, kind="RN"):
    """The singular values after the checks of ``op``."""
    _check_matrix(op, a, kind=kind, kernel="linalg_svd_cpu")
    return SVD.apply(a, full_matrices=False, compute_uv=False, op=op)


def _norm_dims(x, dim, op):
    nd = x.ndim
    for v in dim:
        if not -max(nd, 1) <= int(v) < max(nd, 1):
            raise IndexError(f"{op}: Dimension out of range (expected to be in range of "
                             f"[{-max(nd, 1)}, {max(nd, 1) - 1}], but got {v})")
    d = tuple(int(v) % nd for v in dim) if nd else ()
    if len(d) != 2 or d[0] == d[1]:
        raise RuntimeError(f"{op}: expected 2 different dims, got {dim}")
    return d


@register(family=_LA, op=SVD)
def nuclear_norm(input, dim=None, keepdim=False):
    """The sum of the singular values of the matrices in ``dim`` (the last two)."""
    if input.ndim < 2 and dim is None:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    d0, d1 = _norm_dims(input, (-2, -1) if dim is None else dim, "nuclear_norm")
    x = movedim(input, (d0, d1), (-2, -1))
    r = _rsum(svdvals_impl("linalg.matrix_norm", x, kind="RR"), -1)
    if keepdim:
        r = movedim(reshape(r, tuple(r.shape) + (1, 1)), (-2, -1), (d0, d1))
    return r


@register(family=_LA, op=None)
def frobenius_norm(input, dim, keepdim=False):
    """``sqrt(sum x^2)`` over the two dims ``dim``."""
    if input.dtype.kind not in "fcV":
        got = _DTNAMES.get(np.dtype(input.dtype).name, str(input.dtype))
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor "
                           f"as input. Got {got}")
    if isinstance(dim, numbers.Integral):
        dim = (dim,)
    if len(dim) == 1:
        return _rnorm(input, 2.0, tuple(dim), keepdim)
    d = _norm_dims(input, dim, "frobenius_norm")
    return _rnorm(input, 2.0, d, keepdim)


# ---- Householder reflectors: geqrf, orgqr, ormqr --------------------------------------------

GeqrfResult = structseq("geqrf", ["a", "tau"])


def householder_impl(op, a, tau):
    """``Q = H_1 ... H_k`` (m x n) from the reflectors below the diagonal of A and ``tau``
    (LAPACK orgqr), built one reflector at a time from the last (differentiable)."""
    _check_matrix(op, a, "input", "NN", "orgqr_cpu")
    m, n = a.shape[-2:]
    k = tau.shape[-1]
    if n > m:
        raise RuntimeError(f"{op}: input.shape[-2] must be greater than or equal to "
                           "input.shape[-1]")
    if k > n:
        raise RuntimeError(f"{op}: input.shape[-1] must be greater than or equal to "
                           "tau.shape[-1]")
    if tau.ndim != a.ndim - 1 or tuple(tau.shape[:-1]) != tuple(a.shape[:-2]):
        raise RuntimeError(f"{op}: Expected batch dimensions of tau to be equal to "
                           f"input.shape[:-2], got {list(tau.shape[:-1])}")
    if tau.dtype != a.dtype:
        raise RuntimeError(f"{op}: tau dtype {tau.dtype} does not match input dtype {a.dtype}")
    xp = get_array_module(a._data)
    bs = tuple(a.shape[:-2])
    # LAPACK's org2r: H_i acts on the trailing block only (rows and columns i:), so entries
    # outside it never meet the reflector's values (the same result at inf/nan)
    q = _make(xp.broadcast_to(xp.eye(m - k, n - k, dtype=a.dtype), bs + (m - k, n - k)))
    for i in range(k - 1, -1, -1):
        v = _reflector(xp, a, i)  # (..., m - i, 1), v[0] = 1
        t = reshape(tau[..., i], bs + (1, 1))
        zero_row = _make(xp.zeros(bs + (1, n - i - 1), a.dtype))
        r = cat([zero_row, q], -2)
        r = r - matmul(t * v, matmul(_mT(v), r))
        col = cat([1 - t, -t * v[..., 1:, :]], -2)
        q = cat([col, r], -1)
    return q


def _reflector(xp, a, i):
    """The i-th Householder vector of geqrf's packed A, from row i on (a unit first
    element)."""
    bs = tuple(a.shape[:-2])
    one = _make(xp.ones(bs + (1, 1), a.dtype))
    return cat([one, a[..., i + 1:, i:i + 1]], -2)


@register(family=_LA, op=None, arity=1)
def geqrf(input):
    """``(a, tau)``: LAPACK geqrf's QR, R on and above the diagonal of ``a``, the Householder
    vectors below it (no gradient, as in PyTorch)."""
    _check_matrix("geqrf", input, "input", "NN", "geqrf_cpu")
    xp = get_array_module(input._data)
    m, n = input.shape[-2:]
    if input.numel() == 0:
        return GeqrfResult(_make(input._data.copy()),
                           _make(xp.zeros(input.shape[:-2] + (min(m, n),), input.dtype)))
    h, tau = xp.linalg.qr(input._data, mode="raw")
    return GeqrfResult(_make(xp.ascontiguousarray(xp.swapaxes(h, -1, -2)).astype(input.dtype)),
                       _make(tau.astype(input.dtype)))


@register(family=_LA, op=None, arity=2)
def orgqr(input, tau):
    """The m x n matrix Q of ``geqrf``'s reflectors (``linalg.householder_product``)."""
    return householder_impl("orgqr", input, tau)


@register(family=_LA, op=None, arity=3)
def ormqr(input, tau, other, left=True, transpose=False):
    """``Q @ other`` (``Q^T`` with ``transpose``; ``other @ Q`` when not ``left``) with the
    full m x m Q of ``geqrf``'s reflectors."""
    _check_matrix("ormqr", input, "input", "NN", "ormqr_cpu")
    _check_matrix("ormqr", other, "other", "NN", "ormqr_cpu")
    m, n = input.shape[-2:]
    mo = other.shape[-2] if left else other.shape[-1]
    if mo != m:
        raise RuntimeError(f"torch.ormqr: other.shape[{-2 if left else -1}] must be equal to "
                           f"input.shape[-2], got {mo} and {m}")
    if other.dtype != input.dtype:
        raise RuntimeError(f"torch.ormqr: Expected input and other to have the same dtype, "
                           f"but got {input.dtype} and {other.dtype}")
    k = tau.shape[-1]
    need = min(other.shape[-2] if left else other.shape[-1], n)
    if k != need:
        raise RuntimeError(f"torch.ormqr: tau.shape[-1] must be equal to "
                           f"min(other.shape[{-2 if left else -1}], input.shape[-1])")
    xp = get_array_module(input._data)
    # LAPACK's orm2r: the reflectors applied one at a time to the rows (left) or columns
    # (right) i: of other; Q = H_1 ... H_k
    order = range(k) if left == transpose else range(k - 1, -1, -1)
    c = other
    for i in order:
        v = _reflector(xp, input, i)
        t = reshape(tau[..., i], tuple(tau.shape[:-1]) + (1, 1))
        if left:
            top, rest = c[..., :i, :], c[..., i:, :]
            rest = rest - matmul(t * v, matmul(_mT(v), rest))
            c = cat([top, rest], -2)
        else:
            top, rest = c[..., :, :i], c[..., :, i:]
            rest = rest - matmul(matmul(rest, v), _mT(v) * t)
            c = cat([top, rest], -1)
    return c


# ---- randomized low-rank SVD and PCA (Halko, Martinsson, Tropp 2009) -----------------------

def _approximate_basis(a, q, niter, m_=None):
    """An orthonormal basis Q (n x q columns) of the range of A: a Gaussian sketch, then
    ``niter`` power iterations, each followed by a QR (PyTorch's get_approximate_basis)."""
    dt = a.dtype if a.dtype.kind in "fV" else get_default_dtype()
    r = _randn(a.shape[-1], q, dtype=dt)
    x = matmul(a, r)
    if m_ is not None:
        x = x - matmul(m_, r)
    qm = QR.apply(x, mode="reduced")[0]
    for _ in range(niter):
        x = matmul(_mT(a), qm)
        if m_ is not None:
            x = x - matmul(_mT(m_), qm)
        qm = QR.apply(x, mode="reduced")[0]
        x = matmul(a, qm)
        if m_ is not None:
            x = x - matmul(m_, qm)
        qm = QR.apply(x, mode="reduced")[0]
    return qm


def _svd_lowrank(a, q, niter, m_=None):
    q = 6 if q is None else q
    m, n = a.shape[-2:]
    if m_ is not None:
        m_ = broadcast_to(m_, tuple(a.shape))
    if m < n:  # work on the tall one
        a = _mT(a)
        if m_ is not None:
            m_ = _mT(m_)
    qm = _approximate_basis(a, q, 2 if niter is None else niter, m_)
    b = matmul(_mT(qm), a)
    if m_ is not None:
        b = b - matmul(_mT(qm), m_)
    u, s, vh = SVD.apply(b, full_matrices=False)
    v = _mT(vh)
    u = matmul(qm, u)
    if m < n:
        u, v = v, u
    return u, s, v


def _lowrank_checks(op, a):
    if a.ndim < 2:  # (PyTorch unpacks the last two dims first)
        raise ValueError(f"{op}: not enough values to unpack (expected 2, got {a.ndim})")
    _check_float(op, a, "RN", "geqrf_cpu")


@register(family=_LA, op=None, method=False)  # a composite (random sketch, QR, SVD)
def svd_lowrank(A, q=6, niter=2, M=None):
    """``(U, S, V)`` of a rank-``q`` approximation of ``A - M`` by a randomized range finder
    (``niter`` subspace iterations); exact for matrices of rank at most q, up to the signs
    of the singular vectors. Differentiable."""
    _lowrank_checks("svd_lowrank", A)
    return _svd_lowrank(A, q, niter, M)


@register(family=_LA, op=None, method=False)  # a composite (random sketch, QR, SVD)
def pca_lowrank(A, q=None, center=True, niter=2):
    """``(U, S, V)`` of the principal components of ``A`` (its rows the samples; centred on
    the column means with ``center``): a randomized low-rank SVD of rank ``q`` (default
    ``min(6, m, n)``)."""
    _lowrank_checks("pca_lowrank", A)
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not 0 <= q <= min(m, n):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than "
                         f"min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return _svd_lowrank(A, q, niter)
    c = _rsum(A, -2, keepdim=True) / m
    return _svd_lowrank(A - c, q, niter)
