"""Linear algebra: matmul in every 1-D/2-D/batched/broadcast case, mm, bmm, mv, dot, outer and
einsum (ellipsis, implicit output, 3 operands, an index summed out of one operand).

Forward against NumPy, gradients by finite differences (float64, hypothesis-drawn shapes
with size-1 and size-0 dims), second derivatives, and the error messages."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag

SETTINGS = settings(max_examples=25, deadline=None)


def leaf(a, requires_grad=True):
    return ag.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def rnd(*shape, seed=0):
    return leaf(np.random.default_rng(seed).standard_normal(shape))


def npy(t):
    return t.detach().numpy()


def check(fn, np_fn, *xs, gradgrad=False):
    out = fn(*xs)
    expect = np_fn(*[npy(x) for x in xs])
    assert tuple(out.shape) == np.shape(expect)
    np.testing.assert_allclose(npy(out), expect, rtol=1e-12, atol=1e-12)
    if out.numel() and all(x.numel() for x in xs):
        assert ag.gradcheck(fn, xs)
        if gradgrad:
            assert ag.gradgradcheck(fn, xs)
    elif any(x.numel() == 0 for x in xs):
        # empty operands: gradients exist, have the input shapes and are zero
        out.sum().backward()
        for x in xs:
            assert x.grad is None or (x.grad.shape == x.shape and not npy(x.grad).any())


# ---- matmul ------------------------------------------------------------------------------

MATMUL_CASES = [
    ((3,), (3,)),  # dot
    ((3,), (3, 2)),  # vector @ matrix
    ((2, 3), (3,)),  # matrix @ vector
    ((2, 3), (3, 4)),
    ((1, 1), (1, 1)),
    ((4, 2, 3), (3,)),  # batched matrix @ vector
    ((3,), (4, 3, 2)),  # vector @ batched matrix
    ((4, 2, 3), (4, 3, 2)),
    ((4, 2, 3), (3, 5)),  # batch broadcast on one side
    ((2, 3), (4, 3, 5)),
    ((2, 1, 2, 3), (5, 3, 2)),  # batch dims broadcast both ways
    ((1, 2, 3), (4, 3, 1)),
    ((0, 3), (3, 2)),  # size-0 dims
    ((2, 0), (0, 3)),
    ((2, 3), (3, 0)),
    ((0, 2, 3), (3, 2)),
    ((0,), (0,)),
]


@pytest.mark.parametrize("sa,sb", MATMUL_CASES, ids=str)
def test_matmul_cases(sa, sb):
    a, b = rnd(*sa), rnd(*sb, seed=1)
    check(ag.matmul, np.matmul, a, b)
    check(lambda x, y: x @ y, np.matmul, a, b)


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)),
                                   ((2, 1, 2, 3), (5, 3, 2)), ((4, 2, 3), (3,))], ids=str)
def test_matmul_gradgradcheck(sa, sb):
    a, b = rnd(*sa), rnd(*sb, seed=1)
    assert ag.gradgradcheck(ag.matmul, (a, b))
    assert ag.gradgradcheck(lambda x, y: (x @ y) * (x @ y), (a, b))


@st.composite
def matmul_shapes(draw):
    m, k, n = (draw(st.integers(0, 3)) for _ in range(3))
    nda, ndb = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    batch = tuple(draw(st.lists(st.integers(0, 3), max_size=2)))
    if nda == 1:
        sa = (k,)
    else:
        lead = batch[len(batch) - min(nda - 2, len(batch)):] if nda > 2 else ()
        lead = tuple(1 if draw(st.booleans()) else s for s in lead)
        sa = lead + (m, k)
    if ndb == 1:
        sb = (k,)
    else:
        lead = batch[len(batch) - min(ndb - 2, len(batch)):] if ndb > 2 else ()
        lead = tuple(1 if draw(st.booleans()) else s for s in lead)
        sb = lead + (k, n)
    return sa, sb


@SETTINGS
@given(case=matmul_shapes())
def test_matmul_hypothesis(case):
    sa, sb = case
    a, b = rnd(*sa), rnd(*sb, seed=1)
    check(ag.matmul, np.matmul, a, b)


def test_matmul_closed_form_grads():
    a = leaf([[1.0, 2.0], [3.0, 4.0]])
    b = leaf([[5.0], [6.0]])
    (a @ b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [[5, 6], [5, 6]])
    np.testing.assert_array_equal(b.grad.numpy(), [[4], [6]])
    v = leaf([1.0, -1.0])
    (v @ v).backward()
    np.testing.assert_array_equal(v.grad.numpy(), [2, -2])


def test_matmul_only_one_input_requires_grad():
    a = rnd(2, 3)
    b = leaf(np.ones((3, 2)), requires_grad=False)
    (a @ b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.full((2, 3), 2.0))
    assert b.grad is None


def test_matmul_matches_torch():
    torch = pytest.importorskip("torch")
    for sa, sb in MATMUL_CASES:
        a = np.random.default_rng(0).standard_normal(sa)
        b = np.random.default_rng(1).standard_normal(sb)
        x, y = leaf(a), leaf(b)
        tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        out, tout = x @ y, tx @ ty
        np.testing.assert_allclose(npy(out), tout.detach().numpy(), rtol=1e-12, atol=1e-12)
        g = np.random.default_rng(2).standard_normal(tuple(out.shape))
        out.backward(ag.tensor(g))
        tout.backward(torch.tensor(g))
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_matmul_errors_name_both_shapes():
    with pytest.raises(RuntimeError, match=r"\[2, 3\] and \[4, 5\] cannot be multiplied"):
        rnd(2, 3) @ rnd(4, 5)
    with pytest.raises(RuntimeError, match=r"\[3\] and \[4\]"):
        ag.matmul(rnd(3), rnd(4))
    with pytest.raises(RuntimeError, match=r"\[2, 2, 3\] and \[3, 3, 1\]"):
        ag.matmul(rnd(2, 2, 3), rnd(3, 3, 1))
    with pytest.raises(RuntimeError, match="at least 1 dimension"):
        ag.matmul(leaf(2.0), rnd(2))
    with pytest.raises(RuntimeError, match="same dtype"):
        ag.matmul(rnd(2, 2), ag.ones(2, 2))


# ---- mm / bmm / mv / dot / outer ---------------------------------------------------------

def test_mm_bmm_mv_dot_outer():
    check(ag.mm, np.matmul, rnd(2, 3), rnd(3, 4, seed=1), gradgrad=True)
    check(lambda a, b: a.mm(b), np.matmul, rnd(0, 3), rnd(3, 2, seed=1))
    check(ag.bmm, np.matmul, rnd(2, 2, 3), rnd(2, 3, 1, seed=1), gradgrad=True)
    check(ag.mv, np.matmul, rnd(2, 3), rnd(3, seed=1), gradgrad=True)
    check(ag.dot, np.dot, rnd(4), rnd(4, seed=1), gradgrad=True)
    check(lambda a, b: a.inner(b), np.inner, rnd(4), rnd(4, seed=1))
    check(ag.outer, np.outer, rnd(3), rnd(2, seed=1), gradgrad=True)
    check(ag.ger, np.outer, rnd(1), rnd(0, seed=1))


@SETTINGS
@given(n=st.integers(0, 4), m=st.integers(0, 4), k=st.integers(0, 4), b=st.integers(0, 3))
def test_mm_family_hypothesis(n, m, k, b):
    check(ag.mm, np.matmul, rnd(n, k), rnd(k, m, seed=1))
    check(ag.bmm, np.matmul, rnd(b, n, k), rnd(b, k, m, seed=1))
    check(ag.mv, np.matmul, rnd(n, k), rnd(k, seed=1))
    check(ag.dot, np.dot, rnd(k), rnd(k, seed=1))
    check(ag.outer, np.outer, rnd(n), rnd(m, seed=1))


def test_mm_family_errors():
    with pytest.raises(RuntimeError, match=r"mm: both arguments must be 2-D.*\[2, 3, 1\]"):
        ag.mm(rnd(2, 3, 1), rnd(1, 2))
    with pytest.raises(RuntimeError, match=r"\[2, 3\] and \[4, 5\]"):
        ag.mm(rnd(2, 3), rnd(4, 5))
    with pytest.raises(RuntimeError, match=r"bmm.*\[2, 2, 3\] and \[3, 3, 1\]"):
        ag.bmm(rnd(2, 2, 3), rnd(3, 3, 1))
    with pytest.raises(RuntimeError, match=r"mv.*\[2, 3\] and \[3, 1\]"):
        ag.mv(rnd(2, 3), rnd(3, 1))
    with pytest.raises(RuntimeError, match="1D tensors expected"):
        ag.dot(rnd(2, 2), rnd(2))
    with pytest.raises(RuntimeError, match=r"inconsistent tensor size.*\[3\].*\[2\]"):
        ag.dot(rnd(3), rnd(2))
    with pytest.raises(RuntimeError, match="outer: 1D tensors expected"):
        ag.outer(rnd(3, 1), rnd(2))


# ---- einsum ------------------------------------------------------------------------------

EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),  # ellipsis, broadcast batch
    ("i...,i->...", [(3, 2, 2), (3,)]),
    ("...i,...i", [(2, 3), (2, 3)]),  # implicit output with ellipsis
    ("ij,jk", [(2, 3), (3, 4)]),  # implicit output: 'ik'
    ("ij,ij", [(2, 3), (2, 3)]),  # implicit scalar
    ("ba", [(2, 3)]),  # implicit output sorts letters: a transpose
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(3,), (2,)]),
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("ij->ji", [(2, 3)]),
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 4)]),  # three operands
    ("ij,k->i", [(2, 3), (4,)]),  # k summed out of the second operand only
    ("ij,jk->i", [(2, 3), (3, 2)]),  # k summed out of an operand, j contracted
    ("bi,bj,bk->ijk", [(2, 2), (2, 3), (2, 1)]),
    ("ij,jk->ik", [(0, 3), (3, 2)]),  # size-0 dims
    ("ij,jk->ik", [(2, 0), (0, 2)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum_cases(eq, shapes):
    xs = [rnd(*s, seed=k) for k, s in enumerate(shapes)]
    check(lambda *ts: ag.einsum(eq, *ts), lambda *a: np.einsum(eq, *a), *xs)
    check(lambda *ts: ag.einsum(eq, list(ts)), lambda *a: np.einsum(eq, *a), *xs)


@pytest.mark.parametrize("eq,shapes", [
    ("ij,jk->ik", [(2, 3), (3, 2)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (2, 3, 2)]),
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),
    ("ij,k->i", [(2, 3), (2,)]),
    ("ij,ij", [(2, 3), (2, 3)]),
], ids=str)
def test_einsum_gradgradcheck(eq, shapes):
    xs = [rnd(*s, seed=k) for k, s in enumerate(shapes)]
    assert ag.gradgradcheck(lambda *ts: ag.einsum(eq, *ts), tuple(xs))


@SETTINGS
@given(i=st.integers(0, 3), j=st.integers(0, 3), k=st.integers(0, 3), b=st.integers(0, 2))
def test_einsum_hypothesis(i, j, k, b):
    a, c, d = rnd(b, i, j), rnd(j, k, seed=1), rnd(k, seed=2)
    check(lambda x, y, z: ag.einsum("bij,jk,k->bi", x, y, z),
          lambda x, y, z: np.einsum("bij,jk,k->bi", x, y, z), a, c, d)
    check(lambda x, y: ag.einsum("...j,jk", x, y), lambda x, y: np.einsum("...j,jk", x, y),
          a, c)


def test_einsum_closed_form_summed_out_index():
    a = rnd(2, 3)
    c = leaf([1.0, 2.0, 3.0, 4.0])
    ag.einsum("ij,k->i", a, c).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.full((2, 3), 10.0))
    np.testing.assert_allclose(c.grad.numpy(), np.full(4, npy(a).sum()))


def test_einsum_matches_torch():
    torch = pytest.importorskip("torch")
    for eq, shapes in EINSUM_CASES:
        arrs = [np.random.default_rng(k).standard_normal(s) for k, s in enumerate(shapes)]
        xs = [leaf(a) for a in arrs]
        txs = [torch.tensor(a, requires_grad=True) for a in arrs]
        out, tout = ag.einsum(eq, *xs), torch.einsum(eq, *txs)
        np.testing.assert_allclose(npy(out), tout.detach().numpy(), rtol=1e-12, atol=1e-12)
        g = np.random.default_rng(9).standard_normal(tuple(out.shape))
        out.backward(ag.tensor(g))
        tout.backward(torch.tensor(g))
        for x, tx in zip(xs, txs):
            np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_einsum_errors():
    with pytest.raises(RuntimeError, match="names 2 operands, got 1"):
        ag.einsum("ij,jk->ik", rnd(2, 2))
    with pytest.raises(RuntimeError, match=r"'ijk' do not match operand of shape \[2, 2\]"):
        ag.einsum("ijk->i", rnd(2, 2))


# ==== torch.linalg, decompositions and solvers against PyTorch (helper 'linalg') ===========

torch = pytest.importorskip("torch")


def _spd(rng, *shape):
    a = rng.standard_normal(shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def _tri(rng, *shape, upper=False):
    a = rng.standard_normal(shape) + 3 * np.eye(shape[-1])
    return np.triu(a) if upper else np.tril(a)


def _gen(kind, shape):
    def make(rng):
        if kind == "spd":
            return _spd(rng, *shape)
        if kind == "tri":
            return _tri(rng, *shape)
        if kind == "triu":
            return _tri(rng, *shape, upper=True)
        if kind == "wc":  # well conditioned
            return rng.standard_normal(shape) + 2 * np.eye(shape[-1])
        if kind == "small":
            return 0.3 * rng.standard_normal(shape)
        return rng.standard_normal(shape)
    return make


def _sym(a):
    return 0.5 * (a + a.mT)


def _svd_inv(M, u, s, vh, w):
    """A loss of the SVD invariant to the signs of the singular vectors."""
    return (u * w[: s.shape[-1]]) @ vh, s


# (name, fn(M, *xs), [(kind, shape)], gradgradcheck)
LA_CASES = [
    ("inv", lambda M, a: M.linalg.inv(a), [("wc", (2, 3, 3))], True),
    ("inverse", lambda M, a: M.inverse(a), [("wc", (3, 3))], False),
    ("det", lambda M, a: M.linalg.det(a), [("any", (2, 3, 3))], True),
    ("det_method", lambda M, a: a.det(), [("any", (3, 3))], False),
    ("slogdet", lambda M, a: M.linalg.slogdet(a), [("any", (2, 3, 3))], True),
    ("logdet", lambda M, a: M.logdet(a), [("spd", (3, 3))], False),
    ("solve", lambda M, a, b: M.linalg.solve(a, b), [("wc", (2, 3, 3)), ("any", (3, 2))], True),
    ("solve_vec", lambda M, a, b: M.linalg.solve(a, b), [("wc", (2, 3, 3)), ("any", (2, 3))],
     False),
    ("solve_bcast", lambda M, a, b: M.linalg.solve(a, b), [("wc", (2, 1, 3, 3)),
                                                           ("any", (4, 3, 2))], False),
    ("solve_right", lambda M, a, b: M.linalg.solve(a, b, left=False),
     [("wc", (3, 3)), ("any", (2, 3))], False),
    ("solve_triangular", lambda M, a, b: M.linalg.solve_triangular(a, b, upper=True),
     [("triu", (2, 3, 3)), ("any", (2, 3, 2))], True),
    ("solve_triangular_lu", lambda M, a, b: M.linalg.solve_triangular(
        a, b, upper=False, left=False, unitriangular=True), [("any", (3, 3)), ("any", (2, 3))],
     False),
    ("triangular_solve", lambda M, b, a: M.triangular_solve(b, a, upper=False,
                                                            transpose=True)[0],
     [("any", (3, 2)), ("tri", (3, 3))], False),
    ("cholesky", lambda M, a: M.linalg.cholesky(_sym(a)), [("spd", (2, 3, 3))], True),
    ("cholesky_upper", lambda M, a: M.cholesky(_sym(a), upper=True), [("spd", (3, 3))],
     False),
    # (PyTorch's gradients of cholesky_inverse/solve are those of L L^T with a full L, so
    # L is made triangular by the function for gradcheck's full perturbations)
    ("cholesky_inverse", lambda M, a: M.cholesky_inverse(M.tril(a)), [("tri", (3, 3))], True),
    ("cholesky_solve", lambda M, b, a: M.cholesky_solve(b, M.tril(a)), [("any", (3, 2)),
                                                                         ("tri", (3, 3))],
     True),
    ("cholesky_solve_up", lambda M, b, a: M.cholesky_solve(b, M.triu(a), upper=True),
     [("any", (2, 3, 2)), ("triu", (3, 3))], False),
    ("qr", lambda M, a: M.linalg.qr(a), [("any", (2, 4, 3))], True),
    ("qr_wide", lambda M, a: M.linalg.qr(a), [("any", (3, 5))], False),
    ("qr_complete_sq", lambda M, a: M.linalg.qr(a, mode="complete"), [("any", (3, 3))], False),
    ("qr_torch", lambda M, a: M.qr(a), [("any", (4, 3))], False),
    ("eigh", lambda M, a: (lambda w, v: (w, v @ M.diag_embed(w) @ v.mT) if hasattr(
        M, "diag_embed") else (w, (v * w[..., None, :]) @ v.mT))(*M.linalg.eigh(_sym(a))),
     [("any", (2, 3, 3))], False),
    ("eigh_abs_vectors", lambda M, a: M.linalg.eigh(_sym(a), UPLO="U")[1].abs(),
     [("spd", (3, 3))], False),
    ("eigvalsh", lambda M, a: M.linalg.eigvalsh(_sym(a)), [("any", (2, 3, 3))], True),
    ("svd", lambda M, a: (lambda u, s, vh: ((u * M.arange(1., 4., dtype=a.dtype)) @ vh, s))(
        *M.linalg.svd(a, full_matrices=False)), [("any", (2, 4, 3))], False),
    ("svd_wide", lambda M, a: (lambda u, s, vh: ((u * M.arange(1., 4., dtype=a.dtype)) @ vh,
                                                 s))(*M.linalg.svd(a, full_matrices=False)),
     [("any", (3, 5))], False),
    ("svd_torch", lambda M, a: (lambda u, s, v: (u * M.arange(1., 4., dtype=a.dtype)) @ v.mT)(
        *M.svd(a)), [("any", (4, 3))], False),
    ("svdvals", lambda M, a: M.linalg.svdvals(a), [("any", (2, 4, 3))], True),
    ("matrix_exp", lambda M, a: M.linalg.matrix_exp(a), [("any", (2, 3, 3))], True),
    ("matrix_exp_large", lambda M, a: M.matrix_exp(8 * a), [("any", (3, 3))], False),
    ("matrix_power", lambda M, a: M.linalg.matrix_power(a, 5), [("small", (2, 3, 3))], True),
    ("matrix_power_neg", lambda M, a: M.matrix_power(a, -2), [("wc", (3, 3))], False),
    ("lu_factor", lambda M, a: M.linalg.lu_factor(a)[0], [("any", (2, 3, 3))], True),
    ("lu_factor_wide", lambda M, a: M.linalg.lu_factor(a)[0], [("any", (3, 5))], False),
    ("lu_factor_tall", lambda M, a: M.linalg.lu_factor(a)[0], [("any", (5, 3))], False),
    ("lu", lambda M, a: M.linalg.lu(a)[1:], [("any", (2, 4, 3))], False),
    ("lu_solve", lambda M, a, b: M.linalg.lu_solve(*M.linalg.lu_factor(a), b),
     [("wc", (2, 3, 3)), ("any", (2, 3, 2))], False),
    ("lu_solve_adjoint_right", lambda M, a, b: M.linalg.lu_solve(
        *M.linalg.lu_factor(a), b, left=False, adjoint=True), [("wc", (3, 3)), ("any", (2, 3))],
     False),
    ("lu_solve_torch", lambda M, b, a: M.lu_solve(b, *M.linalg.lu_factor(a)),
     [("any", (3, 2)), ("wc", (3, 3))], False),
    ("pinv", lambda M, a: M.linalg.pinv(a), [("any", (2, 4, 3))], True),
    ("pinv_hermitian", lambda M, a: M.linalg.pinv(_sym(a), hermitian=True), [("spd", (3, 3))],
     False),
    ("pinverse", lambda M, a: M.pinverse(a), [("any", (3, 4))], False),
    ("lstsq", lambda M, a, b: M.linalg.lstsq(a, b).solution, [("any", (5, 3)), ("any", (5, 2))],
     False),
    ("matrix_norm_fro", lambda M, a: M.linalg.matrix_norm(a), [("any", (2, 4, 3))], True),
    ("matrix_norm_nuc", lambda M, a: M.linalg.matrix_norm(a, "nuc"), [("any", (2, 4, 3))],
     False),
    ("matrix_norm_2", lambda M, a: M.linalg.matrix_norm(a, 2, dim=(0, 2), keepdim=True),
     [("any", (4, 2, 3))], False),
    ("matrix_norm_m2", lambda M, a: M.linalg.matrix_norm(a, -2), [("any", (4, 3))], False),
    ("matrix_norm_1", lambda M, a: M.linalg.matrix_norm(a, 1), [("any", (2, 4, 3))], False),
    ("matrix_norm_inf", lambda M, a: M.linalg.matrix_norm(a, -float("inf"), keepdim=True),
     [("any", (2, 4, 3))], False),
    ("norm_vec", lambda M, a: M.linalg.norm(a, 3), [("any", (5,))], False),
    ("norm_mat", lambda M, a: M.linalg.norm(a, "nuc"), [("any", (4, 3))], False),
    ("norm_dims", lambda M, a: M.linalg.norm(a, dim=(0, 2)), [("any", (2, 3, 4))], False),
    ("vector_norm", lambda M, a: M.linalg.vector_norm(a, 0.5, dim=-1, keepdim=True),
     [("any", (2, 3))], False),
    ("nuclear_norm", lambda M, a: M.nuclear_norm(a), [("any", (4, 3))], False),
    ("frobenius_norm", lambda M, a: M.frobenius_norm(a, (0, 2)), [("any", (2, 3, 4))], False),
    ("cond", lambda M, a: M.linalg.cond(a), [("wc", (2, 3, 3))], False),
    ("householder_product", lambda M, a, t: M.linalg.householder_product(a, t),
     [("any", (2, 4, 3)), ("any", (2, 2))], True),
    ("orgqr", lambda M, a, t: M.orgqr(a, t), [("any", (4, 3)), ("any", (2,))], False),
    ("ormqr", lambda M, a, t, c: M.ormqr(a, t, c, transpose=True),
     [("any", (2, 4, 3)), ("any", (2, 3)), ("any", (2, 4, 2))], True),
    ("ormqr_right", lambda M, a, t, c: M.ormqr(a, t, c, left=False),
     [("any", (3, 4)), ("any", (3,)), ("any", (2, 3))], False),
    ("ormqr_right_t", lambda M, a, t, c: M.ormqr(a, t, c, left=False, transpose=True),
     [("any", (5, 3)), ("any", (3,)), ("any", (2, 5))], False),
    ("ormqr_left", lambda M, a, t, c: M.ormqr(a, t, c),
     [("any", (5, 3)), ("any", (3,)), ("any", (5, 2))], False),
    ("tensorinv", lambda M, a: M.linalg.tensorinv(a, 1), [("any", (4, 2, 2))], False),
    ("tensorsolve", lambda M, a, b: M.linalg.tensorsolve(a, b), [("any", (2, 3, 6)),
                                                                 ("any", (2, 3))], False),
    ("vander", lambda M, a: M.linalg.vander(a, N=4), [("any", (2, 3))], True),
    ("vecdot", lambda M, a, b: M.linalg.vecdot(a, b, dim=0), [("any", (3, 2)), ("any", (3, 1))],
     False),
    ("diagonal", lambda M, a: M.linalg.diagonal(a, offset=-1), [("any", (2, 4, 3))], False),
    ("multi_dot", lambda M, a, b: M.linalg.multi_dot([a, b, a.mT]), [("any", (3, 4)),
                                                                     ("any", (4, 4))], False),
]


def _outs(o):
    return list(o) if isinstance(o, (tuple, list)) else [o]


def _run_case(fn, arrs, dtype):
    a = [ag.tensor(x.astype(dtype), requires_grad=True) for x in arrs]
    t = [torch.tensor(x.astype(dtype), requires_grad=True) for x in arrs]
    return a, t, _outs(fn(ag, *a)), _outs(fn(torch, *t))


@pytest.mark.parametrize("name,fn,specs,gg", LA_CASES, ids=[c[0] for c in LA_CASES])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linalg_against_torch(name, fn, specs, gg, dtype):
    rng = np.random.default_rng(3)
    arrs = [_gen(k, s)(rng) for k, s in specs]
    a, t, oa, ot = _run_case(fn, arrs, dtype)
    tol = 2e-4 if dtype == "float32" else 1e-10
    assert len(oa) == len(ot)
    for x, y in zip(oa, ot):
        assert tuple(x.shape) == tuple(y.shape), name
        assert str(x.dtype) == str(y.dtype), name
        np.testing.assert_allclose(npy(x), y.detach().numpy(), rtol=tol, atol=tol)
    if dtype != "float64":
        return
    fa = [x for x in oa if x.dtype.kind == "f" and x.requires_grad]
    ft = [y for y in ot if y.dtype.is_floating_point and y.requires_grad]
    gs = [rng.standard_normal(tuple(x.shape)) for x in fa]
    ga = ag.autograd.grad(fa, a, [ag.tensor(g) for g in gs], allow_unused=True)
    gt = torch.autograd.grad(ft, t, [torch.tensor(g) for g in gs], allow_unused=True)
    for x, y in zip(ga, gt):
        xv = npy(x) if x is not None else 0.0
        yv = y.numpy() if y is not None else 0.0
        np.testing.assert_allclose(xv, yv, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("name,fn,specs,gg", LA_CASES, ids=[c[0] for c in LA_CASES])
def test_linalg_gradcheck(name, fn, specs, gg):
    rng = np.random.default_rng(4)
    arrs = [_gen(k, s)(rng) for k, s in specs]
    xs = [leaf(x) for x in arrs]

    def f(*ys):
        return tuple(o for o in _outs(fn(ag, *ys)) if o.dtype.kind == "f")

    assert ag.gradcheck(f, xs)
    if gg:
        assert ag.gradgradcheck(f, xs)


def test_linalg_error_class():
    assert issubclass(ag.linalg.LinAlgError, RuntimeError)
    sing = np.ones((3, 3))
    for fn in (lambda M, a: M.linalg.inv(a), lambda M, a: M.linalg.solve(a, a),
               lambda M, a: M.linalg.cholesky(a), lambda M, a: M.inverse(a),
               lambda M, a: M.linalg.matrix_power(a, -1), lambda M, a: M.cholesky_inverse(
                   a - M.diag_embed(M.diagonal(a, 0, -2, -1)) if hasattr(M, "diag_embed") and
                   M is torch else a * ag.tensor(1 - np.eye(3)))):
        with pytest.raises(torch.linalg.LinAlgError):
            fn(torch, torch.tensor(sing))
        with pytest.raises(ag.linalg.LinAlgError):
            fn(ag, ag.tensor(sing))
    with pytest.raises(ag.linalg.LinAlgError):
        ag.linalg.svd(ag.tensor([[np.nan, 1.0], [1.0, 1.0]]))


LA_ERRORS = [
    lambda M, a: M.linalg.inv(a[:2]),
    lambda M, a: M.linalg.inv(a[0]),
    lambda M, a: M.linalg.det(a.long()),
    lambda M, a: M.linalg.solve(a, a[:2]),
    lambda M, a: M.linalg.solve(a, a.float()),
    lambda M, a: M.linalg.cholesky(a[:2]),
    lambda M, a: M.linalg.qr(a, mode="bad"),
    lambda M, a: M.linalg.eigh(a, UPLO="X"),
    lambda M, a: M.linalg.matrix_norm(a[0]),
    lambda M, a: M.linalg.matrix_norm(a, 3),
    lambda M, a: M.linalg.solve_triangular(a, a[:2], upper=True),
    lambda M, a: M.linalg.householder_product(a[:2], a[0]),
    lambda M, a: M.linalg.tensorinv(a, 0),
    lambda M, a: M.linalg.lstsq(a, a[:2]),
    lambda M, a: M.linalg.matrix_power(a[:2], 2),
]


@pytest.mark.parametrize("k", range(len(LA_ERRORS)))
def test_linalg_errors_like_torch(k):
    x = np.random.default_rng(0).standard_normal((3, 3)) + 3 * np.eye(3)
    fn = LA_ERRORS[k]
    with pytest.raises(Exception) as et:
        fn(torch, torch.tensor(x))
    with pytest.raises(Exception) as ea:
        fn(ag, ag.tensor(x))
    assert isinstance(ea.value, type(et.value).__mro__[0 if type(et.value).__module__ ==
                                                         "builtins" else 1])


def test_ex_variants_report_info():
    a = np.stack([np.eye(3) * 2, np.ones((3, 3))])
    ra, rt = ag.linalg.inv_ex(ag.tensor(a)), torch.linalg.inv_ex(torch.tensor(a))
    np.testing.assert_array_equal(npy(ra.info), rt.info.numpy())
    np.testing.assert_allclose(npy(ra.inverse)[0], rt.inverse.numpy()[0])
    assert str(ra.info.dtype) == "torch.int32"
    spd = np.stack([np.eye(3), -np.eye(3)])
    ca, ct = ag.linalg.cholesky_ex(ag.tensor(spd)), torch.linalg.cholesky_ex(torch.tensor(spd))
    np.testing.assert_array_equal(npy(ca.info), ct.info.numpy())
    np.testing.assert_allclose(npy(ca.L)[0], ct.L.numpy()[0])
    b = np.ones((2, 3, 1))
    sa, st = ag.linalg.solve_ex(ag.tensor(a), ag.tensor(b)), torch.linalg.solve_ex(
        torch.tensor(a), torch.tensor(b))
    np.testing.assert_array_equal(npy(sa.info), st.info.numpy())
    np.testing.assert_allclose(npy(sa.result)[0], st.result.numpy()[0])
    with pytest.raises(ag.linalg.LinAlgError):
        ag.linalg.inv_ex(ag.tensor(a), check_errors=True)
    la, lt = ag.linalg.lu_factor_ex(ag.tensor(a)), torch.linalg.lu_factor_ex(torch.tensor(a))
    np.testing.assert_array_equal(npy(la.info), lt.info.numpy())
    np.testing.assert_array_equal(npy(la.pivots), lt.pivots.numpy())


@pytest.mark.parametrize("shape,rank", [((5, 3), 3), ((3, 5), 3), ((5, 4), 2), ((2, 4, 3), 3)])
def test_lstsq_matches_gelsy(shape, rank):
    rng = np.random.default_rng(5)
    a = rng.standard_normal(shape[:-1] + (rank,)) @ rng.standard_normal(
        shape[:-2] + (rank, shape[-1]))
    b = rng.standard_normal(shape[:-1] + (2,))
    ra = ag.linalg.lstsq(ag.tensor(a), ag.tensor(b))
    rt = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b))
    for x, y in zip(ra, rt):
        assert tuple(x.shape) == tuple(y.shape)
        assert str(x.dtype) == str(y.dtype)
        np.testing.assert_allclose(npy(x), y.numpy(), rtol=1e-8, atol=1e-8)
    for drv in ("gelsd", "gelss", "gels"):
        if drv == "gels" and rank < min(shape[-2:]):
            continue
        ra = ag.linalg.lstsq(ag.tensor(a), ag.tensor(b), driver=drv)
        rt = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=drv)
        for x, y in zip(ra, rt):
            assert tuple(x.shape) == tuple(y.shape), drv
            np.testing.assert_allclose(npy(x), y.numpy(), rtol=1e-7, atol=1e-7)


def test_matrix_rank_and_pinv_tolerances():
    rng = np.random.default_rng(6)
    a = rng.standard_normal((2, 5, 2)) @ rng.standard_normal((2, 2, 4))
    a[1] *= 1e-3
    for kw in ({}, {"atol": 1.0}, {"rtol": 0.5}, {"atol": 0.1, "rtol": 1e-3},
               {"hermitian": False}):
        ra = ag.linalg.matrix_rank(ag.tensor(a), **kw)
        rt = torch.linalg.matrix_rank(torch.tensor(a), **kw)
        np.testing.assert_array_equal(npy(ra), rt.numpy())
        assert str(ra.dtype) == "torch.int64"
        pa = ag.linalg.pinv(ag.tensor(a), **kw)
        pt = torch.linalg.pinv(torch.tensor(a), **kw)
        np.testing.assert_allclose(npy(pa), pt.numpy(), rtol=1e-8, atol=1e-8)
    s = _spd(rng, 3, 3)
    np.testing.assert_array_equal(
        npy(ag.linalg.matrix_rank(ag.tensor(s), hermitian=True)),
        torch.linalg.matrix_rank(torch.tensor(s), hermitian=True).numpy())


def test_torch_level_svd_qr_lu_forms():
    rng = np.random.default_rng(7)
    a = rng.standard_normal((2, 4, 3))
    ua, sa, va = ag.svd(ag.tensor(a), some=False)
    ut, st, vt = torch.svd(torch.tensor(a), some=False)
    assert ua.shape == tuple(ut.shape) and va.shape == tuple(vt.shape)
    np.testing.assert_allclose(npy(sa), st.numpy(), rtol=1e-12)
    ua, sa, va = ag.svd(ag.tensor(a), compute_uv=False)
    ut, st, vt = torch.svd(torch.tensor(a), compute_uv=False)
    assert ua.shape == tuple(ut.shape) and not npy(ua).any()
    qa, ra = ag.linalg.qr(ag.tensor(a), mode="r")
    qt, rt = torch.linalg.qr(torch.tensor(a), mode="r")
    assert tuple(qa.shape) == tuple(qt.shape)
    np.testing.assert_allclose(np.abs(npy(ra)), np.abs(rt.numpy()), rtol=1e-12)
    lu_a, piv_a, info_a = ag.lu(ag.tensor(a), get_infos=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lu_t, piv_t, info_t = torch.lu(torch.tensor(a), get_infos=True)
    np.testing.assert_allclose(npy(lu_a), lu_t.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(npy(piv_a), piv_t.numpy())
    np.testing.assert_array_equal(npy(info_a), info_t.numpy())
    for x, y in zip(ag.lu_unpack(lu_a, piv_a), torch.lu_unpack(lu_t, piv_t)):
        np.testing.assert_allclose(npy(x), y.numpy(), rtol=1e-12, atol=1e-12)
    for x, y in zip(ag.linalg.lu(ag.tensor(a)), torch.linalg.lu(torch.tensor(a))):
        np.testing.assert_allclose(npy(x), y.numpy(), rtol=1e-12, atol=1e-12)


def test_geqrf_orgqr_ormqr_round_trip():
    rng = np.random.default_rng(9)
    for shp in ((2, 5, 3), (3, 3), (3, 5)):
        a = rng.standard_normal(shp)
        ga, gt = ag.geqrf(ag.tensor(a)), torch.geqrf(torch.tensor(a))
        for x, y in zip(ga, gt):
            np.testing.assert_allclose(npy(x), y.numpy(), rtol=1e-12, atol=1e-12)
        if shp[-2] >= shp[-1]:
            np.testing.assert_allclose(npy(ag.orgqr(*ga)), torch.orgqr(*gt).numpy(),
                                       rtol=1e-12, atol=1e-12)
        eye_a = ag.tensor(np.broadcast_to(np.eye(shp[-2]), shp[:-2] + (shp[-2],) * 2).copy())
        eye_t = torch.tensor(npy(eye_a))
        for tr in (False, True):  # the full m x m Q (and its transpose)
            np.testing.assert_allclose(npy(ag.ormqr(*ga, eye_a, transpose=tr)),
                                       torch.ormqr(*gt, eye_t, transpose=tr).numpy(),
                                       rtol=1e-12, atol=1e-12)


def test_det_gradient_at_singular_matrices():
    for a in (np.ones((3, 3)), np.diag([1.0, 2.0, 0.0]), np.zeros((3, 3))):
        xa, xt = leaf(a), torch.tensor(a, requires_grad=True)
        ag.linalg.det(xa).backward()
        torch.linalg.det(xt).backward()
        np.testing.assert_allclose(npy(xa.grad), xt.grad.numpy(), atol=1e-12)


def test_solve_triangular_singular_gives_inf_like_torch():
    a = np.array([[1.0, 0.0], [2.0, 0.0]])
    b = np.ones((2, 1))
    ra = ag.linalg.solve_triangular(ag.tensor(a), ag.tensor(b), upper=False)
    rt = torch.linalg.solve_triangular(torch.tensor(a), torch.tensor(b), upper=False)
    np.testing.assert_array_equal(npy(ra), rt.numpy())


@pytest.mark.parametrize("fn", [lambda M, a: M.linalg.inv(a),
                                lambda M, a: M.linalg.cholesky(_sym(a)),
                                lambda M, a: M.linalg.matrix_exp(a),
                                lambda M, a: M.linalg.eigh(_sym(a))[0],
                                lambda M, a: M.linalg.svdvals(a)])
def test_linalg_forward_mode(fn):
    from autograd.func import jvp as ag_jvp

    rng = np.random.default_rng(8)
    a = _spd(rng, 3, 3)
    v = rng.standard_normal((3, 3))
    _, ta = ag_jvp(lambda x: fn(ag, x), (ag.tensor(a),), (ag.tensor(v),))
    _, tt = torch.func.jvp(lambda x: fn(torch, x), (torch.tensor(a),), (torch.tensor(v),))
    np.testing.assert_allclose(npy(ta), tt.numpy(), rtol=1e-9, atol=1e-9)


def test_empty_and_batched_shapes():
    for fn in (lambda M, a: M.linalg.inv(a), lambda M, a: M.linalg.det(a),
               lambda M, a: M.linalg.matrix_exp(a), lambda M, a: M.linalg.svdvals(a),
               lambda M, a: M.linalg.eigvalsh(a), lambda M, a: M.linalg.qr(a)[1],
               lambda M, a: M.linalg.cholesky(a), lambda M, a: M.linalg.lu_factor(a)[0]):
        for shp in ((0, 2, 2), (2, 0, 0)):
            x = np.zeros(shp)
            oa, ot = fn(ag, ag.tensor(x)), fn(torch, torch.tensor(x))
            assert tuple(oa.shape) == tuple(ot.shape)
            np.testing.assert_allclose(npy(oa), ot.numpy())


def test_numpy_linalg_functions_on_tensors():
    rng = np.random.default_rng(10)
    a = _spd(rng, 3, 3)
    t = leaf(a)
    for fn in (np.linalg.det, np.linalg.inv, np.linalg.cholesky,
               lambda x: np.linalg.matrix_power(x, 3), lambda x: np.linalg.slogdet(x)[1],
               lambda x: np.kron(x, x)):
        y = fn(t)
        assert isinstance(y, ag.Tensor) and y.grad_fn is not None
        np.testing.assert_allclose(npy(y), fn(a), rtol=1e-10)
        assert ag.gradcheck(lambda x: fn(_sym(x)), (t,))  # (cholesky reads one triangle)


@pytest.mark.parametrize("shape,q", [((8, 5), 3), ((2, 4, 9), 3), ((6, 6), 6)])
def test_svd_lowrank_and_pca_lowrank(shape, q):
    rng = np.random.default_rng(11)
    r = min(q, 2)
    a = rng.standard_normal(shape[:-1] + (r,)) @ rng.standard_normal(shape[:-2] + (r, shape[-1]))
    ua, sa, va = ag.svd_lowrank(ag.tensor(a), q=q)
    ut, st, vt = torch.svd_lowrank(torch.tensor(a), q=q)
    assert ua.shape == tuple(ut.shape) and va.shape == tuple(vt.shape)
    np.testing.assert_allclose(npy(sa), st.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(npy(ua * sa[..., None, :] @ va.mT), a, atol=1e-10)
    if len(shape) == 2:
        pa = ag.pca_lowrank(ag.tensor(a), q=min(q, *shape))
        pt = torch.pca_lowrank(torch.tensor(a), q=min(q, *shape))
        np.testing.assert_allclose(npy(pa[1]), pt[1].numpy(), rtol=1e-10, atol=1e-10)
    x = leaf(rng.standard_normal(shape))  # full rank, q = min(m, n): the exact SVD

    def recon(y):
        ag.manual_seed(0)  # the same sketch at every evaluation
        u, s, v = ag.svd_lowrank(y, q=min(shape[-2:]))
        return (u * s[..., None, :]) @ v.mT

    assert ag.gradcheck(recon, (x,))
    with pytest.raises(ValueError):
        ag.pca_lowrank(ag.tensor(a), q=99)


def test_vmap_and_function_transforms():
    rng = np.random.default_rng(12)
    x = rng.standard_normal((3, 4, 4)) + 3 * np.eye(4)
    b = rng.standard_normal((4, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a batching rule, not the loop fallback
        for f in (lambda M, a: M.linalg.inv(a), lambda M, a: M.linalg.slogdet(a)[1],
                  lambda M, a: M.linalg.solve(a, M.tensor(b)),
                  lambda M, a: M.linalg.eigvalsh(a + a.mT), lambda M, a: M.linalg.svdvals(a),
                  lambda M, a: M.linalg.cholesky(a @ a.mT),
                  lambda M, a: M.linalg.solve_triangular(a, M.tensor(b), upper=False)):
            y = ag.func.vmap(lambda a: f(ag, a))(ag.tensor(x))
            ref = torch.func.vmap(lambda a: f(torch, a))(torch.tensor(x))
            np.testing.assert_allclose(npy(y), ref.numpy(), rtol=1e-10, atol=1e-12)
    g = ag.func.vmap(ag.func.grad(ag.linalg.det))(ag.tensor(x))
    gt = torch.func.vmap(torch.func.grad(torch.linalg.det))(torch.tensor(x))
    np.testing.assert_allclose(npy(g), gt.numpy(), rtol=1e-10)
    h = ag.func.hessian(lambda a: ag.linalg.slogdet(a)[1])(ag.tensor(x[0]))
    ht = torch.func.hessian(lambda a: torch.linalg.slogdet(a)[1])(torch.tensor(x[0]))
    np.testing.assert_allclose(npy(h), ht.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", 1, -1, float("inf")])
def test_cond_of_singular_and_regular_matrices(p):
    a = np.ones((2, 3, 3))
    a[0] = np.diag([1.0, 2.0, 4.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ag.linalg.cond(ag.tensor(a), p)
    ref = torch.linalg.cond(torch.tensor(a), p).numpy()
    np.testing.assert_allclose(npy(out)[0], ref[0])
    # the singular matrix: mathematically inf; in floating point the smallest singular value
    # (or the inverse) is 0 or a rounding-dependent tiny number, so inf or a huge number
    # (1e48 on some LAPACK builds), for us and for PyTorch alike; p=-2 (smin / smax) gives 0
    # or a tiny number instead
    v = npy(out)[1]
    assert np.isinf(v) or v > 1e15 or (p == -2 and abs(v) < 1e-15), v
    r = ref[1]
    assert np.isinf(r) or r > 1e15 or (p == -2 and abs(r) < 1e-15) or r == v, r


@pytest.mark.parametrize("fn", ["slogdet", "linalg.slogdet", "linalg.eigh", "linalg.svd", "svd",
                                "linalg.qr", "linalg.lu_factor", "linalg.inv_ex"])
def test_result_type_names_like_torch(fn):
    """torch.slogdet and torch.linalg.slogdet (and the other pairs) return differently
    named structseqs; the printed name is the one PyTorch prints."""
    def call(lib):
        f = lib
        for part in fn.split("."):
            f = getattr(f, part)
        return repr(f(lib.eye(2))).split("(")[0].replace("autograd.", "torch.")
    assert call(ag) == call(torch)


# ---- einsum's sublist format and dtype rule, inner of N-d tensors (as PyTorch) -----------

def _outcome(fn):
    try:
        r = fn()
    except Exception as e:  # noqa: BLE001 - the class is the outcome compared
        return type(e).__name__
    return str(r.dtype).split(".")[-1], tuple(r.shape), np.round(r.tolist(), 5).tolist()


_A = np.random.default_rng(3).standard_normal((2, 3)).astype(np.float32)
_B = np.random.default_rng(4).standard_normal((4, 3)).astype(np.float32)


@pytest.mark.parametrize("case", [
    lambda t: t.einsum(t.tensor(_A), [0, 1], t.tensor(_B), [2, 1], [0, 2]),
    lambda t: t.einsum(t.tensor(_A), [0, 1], t.tensor(_B), [2, 1]),  # implicit output
    lambda t: t.einsum(t.tensor(_A), [Ellipsis, 30], t.tensor(_B), [2, 30], [Ellipsis, 2]),
    lambda t: t.einsum(t.tensor(_A), [0, 1]),
    lambda t: t.einsum(t.tensor(_A), [0, 60]),  # ValueError
    lambda t: t.einsum("ij,kj->ik", t.tensor(_A), t.tensor(_B).double()),  # contracted
    lambda t: t.einsum("ij,kj->ik", t.tensor(_A).double(), t.tensor(_B)),
    lambda t: t.einsum("i,j->ij", t.tensor(_A[0]), t.tensor(_B[0]).double()),  # promotes
    lambda t: t.einsum("i,i->i", t.tensor(_A[0]), t.tensor(_B[0]).double()),
    lambda t: t.inner(t.tensor(_A), t.tensor(_B)),
    lambda t: t.inner(t.tensor(_A).reshape(2, 1, 3), t.tensor(_B)),
    lambda t: t.inner(t.tensor(_A[0]), t.tensor(_B[0])),
    lambda t: t.inner(t.tensor(2.0), t.tensor(_B)),
    lambda t: t.inner(t.tensor(_A), t.tensor(_B).T),  # RuntimeError
    lambda t: t.tensor(_A).inner(t.tensor(_B[:, :3])),
])
def test_einsum_sublist_and_inner_as_torch(case):
    torch = pytest.importorskip("torch")
    assert _outcome(lambda: case(ag)) == _outcome(lambda: case(torch))
