"""``torch.linalg``: linear-algebra functions with gradients (helper 'linalg').

A namespace over the ops of ``autograd/ops/linalg.py`` (decompositions and solvers, each one
``Op`` with PyTorch's backward formula) and ``autograd/ops/products.py``: the names PyTorch
has only here (``inv``, ``eigh``, ``matrix_norm``...) are composites of those ops or thin
wrappers with ``torch.linalg``'s signature. ``eig``/``eigvals`` are left out: PyTorch returns
complex tensors there, and this engine's dtypes are real.

Forward mode: the ops here get their JVP from their backward (``J t = d/du <J^T u, t>``,
exact because each backward is linear in its incoming gradient and differentiable).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import forward_ad as _fwad
from .backend import get_array_module
from .engine import grad as _grad
from .function import named
from .grad_mode import enable_grad
from .ops import linalg as _L
from .ops import products as _P
from .ops.elementwise import abs as _abs
from .ops.elementwise import cast, where
from .ops.linalg import LinAlgError, matmul
from .ops.reduction import amax, amin, cumprod
from .ops.reduction import norm as _norm
from .ops.reduction import sum as _sum
from .ops.shape import cat, movedim, reshape, transpose
from .return_types import structseq
from .tensor import Tensor, _make
from .vmap import _lndim, _pad_to
from .vmap import batching_rule as _batching_rule

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal",
           "eigh", "eigvalsh", "householder_product", "inv", "inv_ex", "lstsq", "lu",
           "lu_factor", "lu_factor_ex", "lu_solve", "matmul", "matrix_exp", "matrix_norm",
           "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet",
           "solve", "solve_ex", "solve_triangular", "svd", "svdvals", "tensorinv",
           "tensorsolve", "vander", "vecdot", "vector_norm"]

_INF = math.inf


def _mT(x):
    return transpose(x, -1, -2)


# ---- forward mode: J t from the backward formula ------------------------------------------

def _jvp_by_vjp(cls, ctx, prims, tans, ys, kwargs):
    """``J t = d/du <J^T u, t>``: the backward formula is linear in ``u``, so one more
    reverse pass through it gives the forward-mode derivative."""
    with enable_grad():
        xs = [_make(p, None, t is not None) if hasattr(p, "dtype") else p
              for p, t in zip(prims, tans)]
        out = cls.apply(*xs, **kwargs)
        outs = out if isinstance(out, tuple) else (out,)
        fl = [o for o in outs if isinstance(o, Tensor) and o.dtype.kind in "fV"
              and o.requires_grad]
        us = [_make(get_array_module(o._data).zeros(o.shape, o.dtype), None, True) for o in fl]
        wrt = [x for x, t in zip(xs, tans) if t is not None]
        ts = [t for t in tans if t is not None]
        gs = _grad(fl, wrt, us, create_graph=True, allow_unused=True)
        s = None
        for g, t in zip(gs, ts):
            if g is not None:
                term = _sum(g * t)
                s = term if s is None else s + term
        ju = _grad(s, us, allow_unused=True) if s is not None and s.requires_grad else [
            None] * len(us)
    res, k = [], 0
    for o in outs:
        if isinstance(o, Tensor) and o.dtype.kind in "fV" and o.requires_grad:
            g = ju[k]
            k += 1
            res.append(get_array_module(o._data).zeros(o.shape, o.dtype) if g is None
                       else g._data)
        else:
            res.append(None)
    return tuple(res) if isinstance(out, tuple) else res[0]


_fwad.jvp_rule("Inv", "Det", "Slogdet", "Solve", "SolveTriangular", "Cholesky", "QR", "Eigh",
               "SVD", "MatrixExp", "LUFactor", "Cdist2", "CholeskySolve",
               "CholeskyInverse")(_jvp_by_vjp)


# ---- vmap: the ops take leading batch dims already ------------------------------------------

def _batch_leading(cls, phys, batched, kwargs, size):
    """Batching rule of ops computed per matrix over leading batch dims (broadcast between
    operands): the vmapped dim is one more leading dim, the operands' ranks aligned."""
    rank = max(_lndim(p, b) for p, b in zip(phys, batched) if hasattr(p, "shape"))
    args = [_pad_to(p, rank) if b else p for p, b in zip(phys, batched)]
    return cls.apply(*args, **kwargs)


_batching_rule("Inv", "Det", "Slogdet", "Solve", "SolveTriangular", "Cholesky", "QR",
                    "Eigh", "SVD", "MatrixExp", "LUFactor", "CholeskySolve",
                    "CholeskyInverse")(_batch_leading)


# ---- results ------------------------------------------------------------------------------

InvExResult = structseq("linalg_inv_ex", ["inverse", "info"])
CholeskyExResult = structseq("linalg_cholesky_ex", ["L", "info"])
SolveExResult = structseq("linalg_solve_ex", ["result", "info"])
LUFactorResult = structseq("linalg_lu_factor", ["LU", "pivots"])
LUFactorExResult = structseq("linalg_lu_factor_ex", ["LU", "pivots", "info"])
LUResult = structseq("linalg_lu", ["P", "L", "U"])
EighResult = structseq("linalg_eigh", ["eigenvalues", "eigenvectors"])
SlogdetResult = structseq("linalg_slogdet", ["sign", "logabsdet"])
SVDResult = structseq("linalg_svd", ["U", "S", "Vh"])
QRResult = structseq("linalg_qr", ["Q", "R"])
LstsqResult = structseq("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])


def _int_info(a, bad):
    xp = get_array_module(a)
    return _make(xp.asarray(bad, dtype=np.int32))


# ---- inverses, determinants, solvers -------------------------------------------------------

def inv(A):
    """The inverse of a (batch of) square matrices; ``LinAlgError`` when singular."""
    return _L.inv_impl("linalg.inv", A)


def inv_ex(A, *, check_errors=False):
    """``(inverse, info)``: info 0, or the (1-based) index of a zero pivot, per matrix;
    raises only with ``check_errors``."""
    _L._check_square("linalg.inv_ex", A)
    try:  # LAPACK first; the pivots are searched (our LU) only when it finds a zero one
        return InvExResult(inv(A), _zero_info(A))
    except LinAlgError:
        if check_errors:
            raise
    info = _pivot_info(_L._lu_raw(A._data)[0])
    xp = get_array_module(A._data)
    with np.errstate(all="ignore"):
        y = xp.full(A.shape, xp.nan, A.dtype)
        ok = info == 0
        if bool(ok.any()):
            y[ok] = xp.linalg.inv(A._data[ok])
    return InvExResult(_make(y), _int_info(A._data, info))


def _zero_info(A):
    xp = get_array_module(A._data)
    return _make(xp.zeros(A.shape[:-2], np.int32))


def _pivot_info(lu_):
    xp = get_array_module(lu_)
    k = min(lu_.shape[-2:])
    d = xp.diagonal(lu_, axis1=-2, axis2=-1)[..., :k] == 0
    return xp.where(d.any(-1), d.argmax(-1) + 1, 0).astype(np.int32) if k else xp.zeros(
        lu_.shape[:-2], np.int32)


def det(A):
    """The determinant; gradient ``g det(A) A^-T`` (the adjugate at singular matrices)."""
    return _L.det_impl("linalg.det", A)


def slogdet(A):
    """``(sign, log|det A|)`` (a ``linalg_slogdet``; ``autograd.slogdet`` gives a
    ``slogdet``, as PyTorch's two)."""
    return SlogdetResult(*_L.slogdet_impl("linalg.slogdet", A))


def _solve_args(op, A, B, left):
    _L._check_square(op, A, kind="RN", kernel="lu_cpu")
    _L._check_float(op, B, kind="RN", kernel="lu_cpu")
    if A.dtype != B.dtype:
        raise RuntimeError(f"{op}: Expected A and B to have the same dtype, but found A of "
                           f"type {A.dtype} and B of type {B.dtype} instead")
    n = A.shape[-1]
    # B is a batch of vectors when its shape is A's batch shape plus (n,) (PyTorch's rule)
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    if vector:
        b = reshape(B, tuple(B.shape) + (1,))
    else:
        b = B if left else _mT(B)
        if B.ndim < 2:
            raise RuntimeError(f"{op}: The input tensor B must have at least 1 dimension.")
    if b.shape[-2] != n:
        raise RuntimeError(f"{op}: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({A.shape[-2]}x{n} and "
                           f"{B.shape[-2]}x{B.shape[-1]})" if B.ndim > 1 else
                           f"{op}: Incompatible shapes of A and B for the equation AX = B "
                           f"({A.shape[-2]}x{n} and {B.shape[-1]}x1)")
    return (A if left else _mT(A)), b, vector


def solve(A, B, *, left=True):
    """``X`` with ``A X = B`` (``X A = B`` when not ``left``); batch dims broadcast; B is a
    (batch of) vector(s) when its shape is A's batch shape plus (n,)."""
    a, b, vector = _solve_args("linalg.solve", A, B, left)
    try:
        b_batch = np.broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2]))
    except ValueError:
        raise RuntimeError(f"linalg.solve: the batch dims of A {list(A.shape)} and B "
                           f"{list(B.shape)} cannot be broadcast") from None
    del b_batch
    x = _L.Solve.apply(a, b, op="linalg.solve")
    if vector:
        return reshape(x, tuple(x.shape[:-1]))
    return x if left else _mT(x)


def solve_ex(A, B, *, left=True, check_errors=False):
    """``(result, info)`` of ``solve``; info is the index of a zero pivot (then the result
    is nan), raising only with ``check_errors``."""
    _L._check_square("linalg.solve_ex", A, kind="RN", kernel="lu_cpu")
    try:
        return SolveExResult(solve(A, B, left=left), _zero_info(A))
    except LinAlgError:
        if check_errors:
            raise
    info = _pivot_info(_L._lu_raw(A._data)[0])
    a, b, vector = _solve_args("linalg.solve_ex", A, B, left)
    xp = get_array_module(A._data)
    shp = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + tuple(b.shape[-2:])
    x = xp.full(shp, xp.nan, A.dtype)
    okb = xp.broadcast_to(info == 0, shp[:-2])
    ad = xp.broadcast_to(a._data if isinstance(a, Tensor) else a, shp[:-2] + a.shape[-2:])
    bd = xp.broadcast_to(b._data if isinstance(b, Tensor) else b, shp)
    if bool(okb.any()):
        x[okb] = xp.linalg.solve(ad[okb], bd[okb])
    out = _make(x)
    if vector:
        out = reshape(out, tuple(out.shape[:-1]))
    elif not left:
        out = _mT(out)
    return SolveExResult(out, _int_info(A._data, info))


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """``X`` with ``A X = B`` (``X A = B`` when not ``left``) for triangular A: only its
    ``upper`` (or lower) triangle is read; no error for a singular A (inf/nan, as LAPACK)."""
    _L._check_square("linalg.solve_triangular", A, "A", "NN", "triangular_solve_cpu")
    _L._check_matrix("linalg.solve_triangular", B, "B", "NN", "triangular_solve_cpu")
    if A.dtype != B.dtype:
        raise RuntimeError(f"linalg.solve_triangular: Expected A and B to have the same dtype,"
                           f" but found A of type {A.dtype} and B of type {B.dtype} instead")
    n = A.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the "
                           f"equation {'AX = B' if left else 'XA = B'} ({A.shape[-2]}x{n} and "
                           f"{B.shape[-2]}x{B.shape[-1]})")
    return _L._solve_tri(A, B, upper=upper, left=left, unitriangular=unitriangular)


def cholesky(A, *, upper=False):
    """The Cholesky factor (lower, or ``upper``) of a symmetric positive-definite matrix;
    ``LinAlgError`` otherwise."""
    return _L.cholesky_impl("linalg.cholesky", A, upper)


def cholesky_ex(A, *, upper=False, check_errors=False):
    """``(L, info)``: info 0, or the order of the first leading minor that is not
    positive-definite (L is then partial); raises only with ``check_errors``."""
    try:
        ell = cholesky(A, upper=upper)
        xp = get_array_module(A._data)
        return CholeskyExResult(ell, _make(xp.zeros(A.shape[:-2], np.int32)))
    except LinAlgError:
        if check_errors:
            raise
    xp = get_array_module(A._data)
    flat = A._data.reshape((-1,) + A.shape[-2:])
    outs, infos = [], []
    for m in flat:  # per matrix: the factor where it exists, the failing order otherwise
        try:
            c = np.linalg.cholesky(np.tril(m) + np.tril(m, -1).T)
            if not np.isfinite(c).all():
                raise np.linalg.LinAlgError
            outs.append(c)
            infos.append(0)
        except np.linalg.LinAlgError:
            k = _L._first_bad_minor(np, m[None])
            c = np.zeros_like(m)
            if k > 1:
                c[:k - 1, :k - 1] = np.linalg.cholesky(m[:k - 1, :k - 1])
            outs.append(c)
            infos.append(k)
    ell = xp.asarray(np.stack(outs).reshape(A.shape))
    if upper:
        ell = xp.swapaxes(ell, -1, -2).copy()
    return CholeskyExResult(_make(ell), _make(xp.asarray(np.array(infos, np.int32).reshape(
        A.shape[:-2]))))


# ---- decompositions ------------------------------------------------------------------------

def qr(A, mode="reduced"):
    """``(Q, R)`` with ``A = Q R``: ``mode`` 'reduced', 'complete', or 'r' (R only, Q
    empty)."""
    return QRResult(*_L.qr_impl("linalg.qr", A, mode))


def eigh(A, UPLO="L"):
    """``(eigenvalues, eigenvectors)`` of a symmetric matrix (ascending eigenvalues), from its
    lower (``UPLO='L'``) or upper triangle. The gradient is unbounded at repeated
    eigenvalues, and defined only for losses invariant to the eigenvectors' signs."""
    _L._check_square("linalg.eigh", A, kind="NN", kernel="linalg_eigh_cpu")
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return EighResult(*_L.Eigh.apply(A, uplo=UPLO))


def eigvalsh(A, UPLO="L"):
    """The eigenvalues (ascending) of a symmetric matrix."""
    return eigh(A, UPLO).eigenvalues


def svd(A, full_matrices=True, *, driver=None):
    """``(U, S, Vh)`` with ``A = U diag(S) Vh`` (S descending). Gradients through U and Vh
    need ``full_matrices=False`` and distinct singular values."""
    _L._check_matrix("linalg.svd", A, kind="RN", kernel="linalg_svd_cpu")
    return SVDResult(*_L.SVD.apply(A, full_matrices=full_matrices))


def svdvals(A, *, driver=None):
    """The singular values, descending."""
    return _L.svdvals_impl("linalg.svdvals", A)


def lu_factor(A, *, pivot=True):
    """``(LU, pivots)`` of ``A = P L U`` (LAPACK getrf's packed form, pivots 1-based
    int32)."""
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the "
                           "CPU")
    return LUFactorResult(*_L.lu_factor_impl("linalg.lu_factor", A))


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    """``(LU, pivots, info)``; info is the index of the first zero pivot."""
    lu_, piv = lu_factor(A, pivot=pivot)
    info = _pivot_info(lu_._data)
    if check_errors and bool((info != 0).any()):
        raise LinAlgError("torch.linalg.lu_factor_ex: U[{0},{0}] is zero and using it on "
                          "lu_solve would result in a division by zero.".format(
                              int(info.max())))
    return LUFactorExResult(lu_, piv, _int_info(A._data, info))


def lu(A, *, pivot=True):
    """``(P, L, U)`` with ``A = P L U``."""
    lu_, piv = lu_factor(A, pivot=pivot)
    return LUResult(*_L.lu_unpack_impl(lu_, piv))


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """``X`` with ``A X = B`` from ``lu_factor(A)`` (``X A = B`` when not ``left``,
    ``A^T`` with ``adjoint``)."""
    _L._check_matrix("linalg.lu_solve", B, "B", "NN", "lu_cpu")
    _L._check_square("torch.linalg.lu_solve", LU, "A", "NN", "lu_cpu")
    return _L.lu_solve_impl(LU, pivots, B, left=left, adjoint=adjoint)


def matrix_exp(A):
    """The matrix exponential."""
    return _L.matrix_exp_impl("linalg.matrix_exp", A)


def matrix_power(A, n):
    """``A^n`` for an integer n (negative: powers of the inverse)."""
    return _L.matrix_power_impl("linalg.matrix_power", A, n)


# ---- norms ----------------------------------------------------------------------------------

def _to_dtype(x, dtype):
    return cast(x, dtype) if dtype is not None and x.dtype != np.dtype(dtype) else x


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """``(sum |x|^ord)^(1/ord)`` over ``dim`` (all dims by default), ``ord`` inf/-inf the
    max/min of ``|x|``, 0 the number of nonzeros."""
    if not isinstance(x, Tensor):
        raise TypeError(f"linalg.vector_norm(): argument 'input' must be Tensor, not "
                        f"{type(x).__name__}")
    if x.dtype.kind not in "fcV":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor "
                           f"as input. Got {_L._DTNAMES.get(np.dtype(x.dtype).name, str(x.dtype))}")
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    x = _to_dtype(x, dtype)
    if isinstance(dim, numbers.Integral):
        dim = (dim,)
    if ord in (_INF, -_INF) and x.numel() == 0:
        dims = range(x.ndim) if dim is None else dim
        if any(x.shape[d] == 0 for d in dims) or dim is None:
            raise RuntimeError("linalg.vector_norm cannot compute the "
                               f"{'inf' if ord > 0 else '-inf'} norm on an empty tensor "
                               "because the operation does not have an identity")
    return _norm(x, float(ord), dim, keepdim)


def _matrix_dims(op, x, dim):
    if x.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    d0, d1 = dim
    nd = x.ndim
    d0, d1 = d0 % nd, d1 % nd
    if d0 == d1:
        raise RuntimeError(f"{op}: dims must be different. Got ({dim[0]}, {dim[1]})")
    return d0, d1


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """Matrix norms over the two dims ``dim``: 'fro', 'nuc' (sum of singular values),
    2/-2 (largest/smallest singular value), 1/-1 (max/min column sum of ``|A|``), inf/-inf
    (max/min row sum)."""
    op = "linalg.matrix_norm"
    _L._check_float(op, A) if not (isinstance(ord, str) and ord == "fro") else None
    if A.dtype.kind not in "fcV":
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got "
                           f"{_L._DTNAMES.get(str(A.dtype), str(A.dtype))}")
    A = _to_dtype(A, dtype)
    d0, d1 = _matrix_dims(op, A, dim)
    if ord == "fro":
        return _norm(A, 2.0, (d0, d1), keepdim)
    if ord == "nuc" or ord in (2, -2):
        x = movedim(A, (d0, d1), (-2, -1))
        s = svdvals(x)
        if ord == "nuc":
            r = _sum(s, -1)
        elif ord == 2:
            r = amax(s, -1)
        else:
            r = amin(s, -1)
        if keepdim:
            r = reshape(r, tuple(r.shape) + (1, 1))
            r = movedim(r, (-2, -1), (d0, d1))
        return r
    if ord in (1, -1, _INF, -_INF):
        if A.numel() == 0 and (ord in (-1, -_INF) or True) and (
                A.shape[d0] == 0 or A.shape[d1] == 0):
            raise RuntimeError(f"{op}: the norm of an empty matrix has no identity")
        sum_dim, red_dim = (d0, d1) if ord in (1, -1) else (d1, d0)
        s = _sum(_abs(A), sum_dim, keepdim=True)
        r = (amax if ord > 0 else amin)(s, red_dim, keepdim=True)
        if not keepdim:
            r = reshape(r, tuple(n for i, n in enumerate(r.shape) if i not in (d0, d1)))
        return r
    raise RuntimeError(f"{op}: Order {ord} not supported.")


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """``vector_norm`` (1-D, a single dim, or ``ord`` None over all elements) or
    ``matrix_norm`` (2-D with a matrix ``ord``, or two dims), as ``torch.linalg.norm``."""
    if isinstance(dim, numbers.Integral):
        dim = (dim,)
    if dim is not None and len(dim) == 2 or (dim is None and ord is not None and A.ndim == 2):
        if dim is None:
            dim = (-2, -1)
        return matrix_norm(A, "fro" if ord is None else ord, tuple(dim), keepdim, dtype=dtype)
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must "
                           f"be 1D or 2D. Got {A.ndim}D. (ord={ord!r} is a matrix norm)")
    if dim is None and ord is not None and A.ndim != 1:
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must "
                           f"be 1D or 2D. Got {A.ndim}D.")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def cond(A, p=None):
    """The condition number ``norm(A, p) * norm(A^-1, p)`` (p None or 2: the ratio of the
    extreme singular values); inf for a singular matrix."""
    if p is None or p in (2, -2):
        _L._check_matrix("linalg.svd", A, kind="RN", kernel="linalg_svd_cpu")
        s = svdvals(A)
        big, small = (s[..., 0], s[..., -1]) if p != -2 else (s[..., -1], s[..., 0])
        zero = small._data == 0
        return where(zero, _INF, big / where(zero, 1.0, small))
    if A.ndim >= 2 and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.cond(ord={p}): A must be batches of square matrices, but "
                           f"they are {A.shape[-2]} by {A.shape[-1]} matrices")
    ai, info = inv_ex(A)
    bad = info._data != 0
    ai = where(bad[..., None, None], 0.0, ai)  # (a singular matrix: inf below)
    r = matrix_norm(A, p) * matrix_norm(ai, p)
    return where(bad, _INF, r)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, tol=None):
    """The number of singular values above ``max(atol, rtol * s_max)``; the default rtol is
    ``eps * max(m, n)`` when neither is given."""
    _L._check_matrix("linalg.matrix_rank", A)
    if tol is not None:
        atol, rtol = tol, 0.0
    s = _abs(eigvalsh(A)) if hermitian else svdvals(A)
    sd = s._data
    xp = get_array_module(sd)
    m, n = A.shape[-2:]
    smax = sd.max(-1) if sd.shape[-1] else xp.zeros(sd.shape[:-1], sd.dtype)
    tol_v = _L.tolerance(xp, A.dtype, smax, atol, rtol, m, n)
    return _make(xp.asarray((sd > tol_v[..., None]).sum(-1), dtype=np.int64))


def pinv(A, *, atol=None, rtol=None, hermitian=False, rcond=None):
    """The Moore-Penrose pseudo-inverse from the SVD, singular values at or below
    ``max(atol, rtol * s_max)`` dropped (``rcond``: the old name of rtol)."""
    if rcond is not None:
        rtol = rcond
    return _L.pinv_impl("linalg.pinv", A, atol, rtol, hermitian)


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution of ``A X = B`` with PyTorch's CPU default (LAPACK gelsy:
    a rank-revealing solve): ``(solution, residuals, rank, singular_values)``, residuals
    the squared residual norms when A is tall and of full rank (else empty), rank from the
    SVD with ``rcond`` (default ``eps * max(m, n)``), singular values empty (as gelsy)."""
    _L._check_matrix("linalg.lstsq", A)
    if A.dtype != B.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same "
                           f"dtype, but got input's dtype {A.dtype} and other's dtype "
                           f"{B.dtype}")
    vector = B.ndim == A.ndim - 1
    b = reshape(B, tuple(B.shape) + (1,)) if vector else B
    if b.shape[-2] != A.shape[-2]:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2),"
                           f" got {A.shape[-2]} and {b.shape[-2]}")
    drv = driver or "gelsy"
    if drv not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of (gels, "
                           f"gelsy, gelsd, gelss), got {drv}")
    m, n = A.shape[-2:]
    xp = get_array_module(A._data)
    eps = np.finfo(A.dtype).eps
    rt = eps * max(m, n) if rcond is None or rcond < 0 else rcond
    x = named(matmul(pinv(A, rtol=rt), b), "LinalgLstsqBackward0")
    s = svdvals(A) if A.numel() else _make(xp.zeros(A.shape[:-2] + (min(m, n),), A.dtype))
    sd = s._data
    smax = sd[..., :1] if sd.shape[-1] else sd
    rank = xp.asarray((sd > rt * smax).sum(-1), dtype=np.int64)
    full = bool((rank == min(m, n)).all()) if rank.size else True
    if m > n and full and drv != "gelsy":  # (gelsy returns no residuals)
        r = matmul(A, x) - b
        res = _sum(r * r, -2)
    else:
        res = _make(xp.zeros((0,), A.dtype))
    sv = s if drv in ("gelsd", "gelss") else _make(xp.zeros((0,), A.dtype))
    rk = _make(rank) if drv != "gels" else _make(xp.zeros((0,), np.int64))
    if vector:
        x = reshape(x, tuple(x.shape[:-1]))
        if res.numel():
            res = reshape(res, tuple(res.shape[:-1]))
    return LstsqResult(x, res, rk, sv)


# ---- products and helpers -------------------------------------------------------------------

def cross(input, other, *, dim=-1):
    """Cross product of 3-vectors along ``dim`` (default the last), batch dims broadcast."""
    return _P.cross_impl("linalg.cross", input, other, dim)


def multi_dot(tensors):
    """The product of a chain of matrices in the cheapest order; the first and the last may
    be 1-D (a row and a column vector)."""
    return _P.multi_dot_impl("linalg.multi_dot", tensors)


def vecdot(x, y, *, dim=-1):
    """``sum(x * y, dim)`` (broadcast)."""
    if x.dtype != y.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but "
                           f"found x of type {x.dtype} and y of type {y.dtype} instead")
    return _sum(x * y, dim)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonal (``offset`` above the main one) of the matrices in dims ``dim1, dim2``,
    as the last dim."""
    x = movedim(A, (dim1, dim2), (-2, -1))
    m, n = x.shape[-2:]
    xp = get_array_module(A._data)
    if offset >= 0:
        k = max(0, min(m, n - offset))
        r, c = xp.arange(k), xp.arange(k) + offset
    else:
        k = max(0, min(m + offset, n))
        r, c = xp.arange(k) - offset, xp.arange(k)
    return x[..., r, c]


def vander(x, *, N=None):
    """``[1, x, x^2, ..., x^(N-1)]`` along a new last dim (N defaults to ``x.shape[-1]``)."""
    if x.ndim < 1:
        raise RuntimeError("linalg.vander: x must have at least one dimension")
    n = x.shape[-1] if N is None else int(N)
    if n <= 1:
        if n < 1:
            raise RuntimeError(f"linalg.vander: N must be greater than 1, got {n}")
    xp = get_array_module(x._data)
    ones = _make(xp.ones(tuple(x.shape) + (1,), dtype=x.dtype))
    if n == 1:
        return ones
    rep = reshape(x, tuple(x.shape) + (1,)) * _make(xp.ones(n - 1, dtype=x.dtype))
    return cat([ones, cumprod(rep, -1)], -1)


def householder_product(A, tau):
    """``Q = H_1 ... H_k`` with ``H_i = I - tau_i v_i v_i^T``, ``v_i`` the i-th column of A
    below its diagonal with a unit diagonal (LAPACK orgqr); differentiable in A and tau."""
    return _L.householder_impl("torch.linalg.householder_product", A, tau)


def tensorinv(A, ind=2):
    """The inverse of A seen as a matrix: the dims before ``ind`` against those after."""
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    out_shape = tuple(A.shape[ind:]) + tuple(A.shape[:ind])
    p = 1
    for s in A.shape[ind:]:
        p *= s
    q = 1
    for s in A.shape[:ind]:
        q *= s
    if p != q:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) "
                           f"== prod(self.shape[:ind]), but got {p} != {q}")
    return reshape(inv(reshape(A, (q, p))), out_shape)


def tensorsolve(A, B, dims=None):
    """``X`` with ``tensordot(A, X, X.ndim) = B``."""
    if dims is not None:
        nd = A.ndim
        dims = [d % nd for d in dims]
        A = movedim(A, tuple(dims), tuple(range(nd - len(dims), nd)))
    out_shape = tuple(A.shape[B.ndim:])
    p = 1
    for s in out_shape:
        p *= s
    q = 1
    for s in B.shape:
        q *= s
    if p != q:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other."
                           f"ndim:]) == prod(self.shape[:other.ndim]), but got {p} != {q}")
    x = solve(reshape(A, (q, p)), reshape(B, (q,)))
    return reshape(x, out_shape)


