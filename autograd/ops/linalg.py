"""Linear algebra: matmul (batched, broadcasting, 1-D cases), mm, bmm, dot, outer, einsum."""

from __future__ import annotations

import string

import numpy as np

from ..backend import get_array_module
from ..function import Op
from ..registry import register
from ..tensor import Tensor
from .shape import broadcast_to, reshape, sum_to, transpose

_LA = "linalg"


def _mT(x):
    return transpose(x, -1, -2)


class MatMul(Op):
    @staticmethod
    def forward(ctx, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise RuntimeError(
                f"matmul: both arguments need at least 1 dimension, got shapes "
                f"{list(a.shape)} and {list(b.shape)}"
            )
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
            return a @ b
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
            ga = gy @ _mT(b) if b is not None else None
            gb = _mT(a) @ gy if a is not None else None
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
            ga = reshape(sum_to(g @ _mT(b2), a2s), sa)
        if a is not None:
            a2 = reshape(a, a2s)
            gb = reshape(sum_to(_mT(a2) @ g, b2s), sb)
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
    return matmul(a, b)


@register(family=_LA, op=MatMul, arity=2)
def mv(a, v):
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"mv: expected a matrix and a vector, got shapes {list(a.shape)} "
                           f"and {list(v.shape)}")
    return matmul(a, v)


@register(family=_LA, op=MatMul, arity=2, aliases="inner", numpy="dot")
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


inner = dot


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


class Einsum(Op):
    @staticmethod
    def forward(ctx, *ops, ins, out):
        xp = get_array_module(*ops)
        ctx.ins, ctx.out = ins, out
        ctx.shapes = [o.shape for o in ops]
        ctx.save_for_backward(*ops)
        eq = ",".join(ins) + "->" + out
        return xp.einsum(eq, *ops, optimize=len(ops) > 2)

    @staticmethod
    def backward(ctx, gy):
        ops = ctx.saved_tensors
        grads = []
        for i, s in enumerate(ctx.ins):
            if ctx.next_edges[i] is None:
                grads.append(None)
                continue
            if len(set(s)) != len(s):
                raise NotImplementedError(
                    f"einsum backward: operand {i} has repeated subscripts {s!r} (a diagonal); "
                    "its gradient is not supported"
                )
            others = [ops[j] for j in range(len(ops)) if j != i]
            other_s = [ctx.ins[j] for j in range(len(ops)) if j != i]
            avail = set(ctx.out).union(*[set(x) for x in other_s]) if other_s else set(ctx.out)
            # letters only in this operand were summed out: compute without them, broadcast
            target = "".join(c for c in s if c in avail)
            eq = ",".join([ctx.out] + other_s) + "->" + target
            g = einsum(eq, gy, *others)
            tshape = tuple(n for n, c in zip(ctx.shapes[i], s) if c in avail)
            if tuple(g.shape) != tshape:  # size-1 dims broadcast against the other operands
                g = sum_to(g, tshape)
            if target != s:
                shape_keep = tuple(ctx.shapes[i][k] if c in avail else 1 for k, c in
                                   enumerate(s))
                g = broadcast_to(reshape(g, shape_keep), ctx.shapes[i])
            grads.append(g)
        return tuple(grads)


@register(family=_LA, method=False, numpy="einsum", arity=None)
def einsum(equation: str, *operands):
    """Einstein summation, e.g. ``einsum('bij,bjk->bik', a, b)``; differentiable."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ins, out = _parse_einsum(equation, [o.shape for o in operands])
    if not any(isinstance(o, Tensor) for o in operands):
        xp = get_array_module(*operands)
        return xp.einsum(",".join(ins) + "->" + out, *operands)
    return Einsum.apply(*operands, ins=tuple(ins), out=out)


_ = np
