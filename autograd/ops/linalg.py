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
    """Einstein summation, e.g. ``einsum('bij,bjk->bik', a, b)``; differentiable."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ins, out = _parse_einsum(equation, [o.shape for o in operands])
    if not any(isinstance(o, Tensor) for o in operands):
        return _einsum_raw(get_array_module(*operands), ins, out, operands)
    return Einsum.apply(*operands, ins=tuple(ins), out=out)


_ = np
