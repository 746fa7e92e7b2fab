"""Linear algebra: matmul in every 1-D/2-D/batched/broadcast case, mm, bmm, mv, dot, outer and
einsum (ellipsis, implicit output, 3 operands, an index summed out of one operand).

Forward against NumPy, gradients by finite differences (float64, hypothesis-drawn shapes
with size-1 and size-0 dims), second derivatives, and the error messages."""

from __future__ import annotations

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
