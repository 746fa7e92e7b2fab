"""Distances between vectors: ``cosine_similarity``, ``pairwise_distance`` and ``pdist``
(PyTorch's ``torch.nn.functional`` forms), composed of differentiable ops so that double
backward works. ``loss`` builds the triplet losses on ``pairwise_distance``."""

from __future__ import annotations

import numpy as np

from autograd import dtypes as _dt
from autograd.backend import get_array_module
from autograd.forward_ad import jvp_rule
from autograd.function import Op
from autograd.ops import elementwise as E
from autograd.ops import reduction as R
from autograd.ops import shape as S
from autograd.tensor import Tensor, _make

from ._utils import _data, torch_node


def _as_tensor(x):
    return x if isinstance(x, Tensor) else _make(np.asarray(x))


def _float_pair(x1, x2):
    """x1, x2 cast to their common floating dtype (ints promote to the default dtype, as the
    ``eps`` added by PyTorch makes them)."""
    dt = _dt.promote_types(x1.dtype, x2.dtype)
    if dt.kind not in "fV":
        dt = _dt.get_default_dtype()
    if x1.dtype != dt:
        x1 = E.cast(x1, dt)
    if x2.dtype != dt:
        x2 = E.cast(x2, dt)
    return x1, x2


def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8):
    """``x1 . x2 / (max(||x1||, eps) max(||x2||, eps))`` along ``dim`` of the broadcast shape
    of ``x1`` and ``x2`` (that dim is removed). Each input is divided by its (clamped) norm
    first, as PyTorch does, so the result stays in [-1, 1]; the clamp changes the value only
    (the gradient is the unclamped norm's, like PyTorch's in-place clamp under no_grad).

    Example:
        >>> F.cosine_similarity(ag.randn(5, 3), ag.randn(5, 3)).shape
        (5,)
    """
    x1, x2 = _as_tensor(x1), _as_tensor(x2)
    dt = _dt.promote_types(x1.dtype, x2.dtype)
    if dt.kind not in "fV":
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is "
                           f"{dt}")
    x1, x2 = S.broadcast_tensors(E.cast(x1, dt) if x1.dtype != dt else x1,
                                 E.cast(x2, dt) if x2.dtype != dt else x2)
    n1 = R.norm(x1, 2, dim=dim, keepdim=True)
    n2 = R.norm(x2, 2, dim=dim, keepdim=True)
    xp = get_array_module(_data(n1))
    n1 = n1 + _make(xp.maximum(n1._data, eps) - n1._data)
    n2 = n2 + _make(xp.maximum(n2._data, eps) - n2._data)
    return R.sum((x1 / n1) * (x2 / n2), dim=dim)


@torch_node("NormBackward1")
def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
    """``||x1 - x2 + eps||_p`` over the last dim of the broadcast shape (PyTorch adds
    ``eps`` to the difference so that the gradient of the 2-norm stays finite).

    Example:
        >>> F.pairwise_distance(ag.randn(4, 3), ag.randn(4, 3)).shape
        (4,)
    """
    x1, x2 = _float_pair(_as_tensor(x1), _as_tensor(x2))
    nd = max(x1.ndim, x2.ndim)
    d = x1 - x2 + eps
    if nd == 0:
        d = S.reshape(d, (1,))
        out = R.norm(d, p, dim=0, keepdim=False)
        return S.reshape(out, ()) if not keepdim else out
    return R.norm(d, p, dim=nd - 1, keepdim=keepdim)


class PairDiff(Op):
    """``x[i] - x[j]`` for the pairs i < j of the rows of an (N, M) array (row-major, as
    ``triu_indices(N, 1)``). Linear; its backward is ``PairDiffT`` (segment sums, no
    scatter-add), whose backward is this op again, so gradients of any order are cheap."""

    @staticmethod
    def forward(ctx, x):
        ctx.n = x.shape[0]
        i, j, _, _ = _pairs(get_array_module(x), ctx.n)
        return x[i] - x[j]

    @staticmethod
    def backward(ctx, gy):
        return PairDiffT.apply(gy, n=ctx.n)


class PairDiffT(Op):
    """The adjoint of ``PairDiff``: row r gets the sum of the pair rows where r is i minus
    the sum of those where r is j."""

    @staticmethod
    def forward(ctx, g, n):
        ctx.n = n
        xp = get_array_module(g)
        i, j, si, (order_j, sj) = _pairs(xp, n)
        out = xp.zeros((n,) + g.shape[1:], dtype=g.dtype)
        if g.shape[0]:
            out[i[si]] += xp.add.reduceat(g, si, axis=0)
            gj = g[order_j]
            out[j[order_j][sj]] -= xp.add.reduceat(gj, sj, axis=0)
        return out

    @staticmethod
    def backward(ctx, gy):
        return PairDiff.apply(gy), None


@jvp_rule("PairDiff", "PairDiffT")
def _pair_jvp(cls, ctx, prims, tans, ys, kwargs):
    # both ops are linear: the tangent goes through the op itself
    return cls.forward(object.__new__(cls), tans[0], **kwargs)


_PAIRS: dict = {}


def _pairs(xp, n: int):
    """(i, j, the starts of the i runs, (the order sorting j, the starts of its runs)) for
    the row pairs i < j of n rows, cached per (n, array module)."""
    key = (n, xp.__name__)
    got = _PAIRS.get(key)
    if got is None:
        i, j = np.triu_indices(n, 1)
        si = np.flatnonzero(np.r_[True, i[1:] != i[:-1]]) if i.size else np.zeros(0, int)
        order = np.argsort(j, kind="stable")
        js = j[order]
        sj = np.flatnonzero(np.r_[True, js[1:] != js[:-1]]) if j.size else np.zeros(0, int)
        got = tuple(xp.asarray(a) for a in (i, j, si)) + ((xp.asarray(order), xp.asarray(sj)),)
        if len(_PAIRS) > 16:
            _PAIRS.clear()
        _PAIRS[key] = got
    return got


def pdist(input, p: float = 2):
    """p-norm distances between the rows of an (N, M) input: the upper triangle (i < j, row
    major) of ``norm(input[:, None] - input, dim=2, p=p)``, a vector of N (N - 1) / 2.

    Example:
        >>> F.pdist(ag.randn(4, 3)).shape
        (6,)
    """
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if input.dtype.kind not in "fV":
        raise RuntimeError(f"pdist only supports floating-point dtypes, got {input.dtype}")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    return R.norm(PairDiff.apply(input), p, dim=1)
