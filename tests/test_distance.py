"""Distances (``F.cosine_similarity``, ``F.pairwise_distance``, ``F.pdist`` and their modules):
values and gradients against PyTorch (broadcasting, every p, keepdim, zero vectors),
float64 gradcheck and gradgradcheck, dtypes and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F


def _torch():
    return pytest.importorskip("torch")


def rnd(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def against_torch(fn, arrays, atol=1e-10):
    torch = _torch()
    xs = [ag.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = fn(F, *xs), fn(torch.nn.functional, *ts)
    assert tuple(y.shape) == tuple(ty.shape)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), atol=atol, rtol=1e-7)
    g = np.random.default_rng(1).standard_normal(tuple(ty.shape))
    y.backward(ag.tensor(g))
    ty.backward(torch.tensor(g))
    for x, t in zip(xs, ts):
        if t.grad is None:  # PyTorch's p = 0 norm has no gradient; ours is zero
            assert x.grad is None or not x.grad.numpy().any()
            continue
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), atol=atol, rtol=1e-7)
        assert x.grad.shape == x.shape


A, B = rnd(5, 4, seed=2), rnd(5, 4, seed=3)
COS_CASES = {
    "dim1": (lambda M, a, b: M.cosine_similarity(a, b), [A, B]),
    "dim0": (lambda M, a, b: M.cosine_similarity(a, b, dim=0), [A, B]),
    "dim-1_eps": (lambda M, a, b: M.cosine_similarity(a, b, dim=-1, eps=0.5), [A * 0.1, B]),
    "broadcast": (lambda M, a, b: M.cosine_similarity(a, b, dim=-1), [rnd(3, 1, 4), rnd(5, 4)]),
    "broadcast_dim": (lambda M, a, b: M.cosine_similarity(a, b, dim=0), [rnd(4, 1), rnd(4, 3)]),
    "zero_vector": (lambda M, a, b: M.cosine_similarity(a, b), [np.zeros((3, 4)), B[:3]]),
    "1d": (lambda M, a, b: M.cosine_similarity(a, b, dim=0), [A[0], B[0]]),
}
PS = [0, 0.5, 1, 1.5, 2, 3, math.inf, -1]


@pytest.mark.parametrize("name", sorted(COS_CASES))
def test_cosine_similarity_matches_torch(name):
    fn, arrays = COS_CASES[name]
    against_torch(fn, arrays)


@pytest.mark.parametrize("p", PS)
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance_matches_torch(p, keepdim):
    against_torch(lambda M, a, b: M.pairwise_distance(a, b, p=p, keepdim=keepdim), [A, B])
    against_torch(lambda M, a, b: M.pairwise_distance(a, b, p=p, eps=0.1, keepdim=keepdim),
                  [A[0], B])  # broadcast (D,) against (N, D)


def test_pairwise_distance_0d_and_1d_like_torch():
    against_torch(lambda M, a, b: M.pairwise_distance(a, b), [np.array(1.0), np.array(3.0)])
    against_torch(lambda M, a, b: M.pairwise_distance(a, b, keepdim=True), [A[0], B[0]])


@pytest.mark.parametrize("p", [p for p in PS if p >= 0])
def test_pdist_matches_torch(p):
    against_torch(lambda M, a: M.pdist(a, p=p), [A])
    x = A.copy()
    x[3] = x[1]  # a zero distance: gradient 0 there, as PyTorch
    if p >= 1:
        against_torch(lambda M, a: M.pdist(a, p=p), [x])


def test_distance_gradcheck_and_gradgradcheck():
    a, b = (ag.tensor(v, requires_grad=True) for v in (A, B))
    for p in (1.5, 2, 3):
        assert ag.gradcheck(lambda u, v: F.pairwise_distance(u, v, p=p), (a, b))
        assert ag.gradcheck(lambda u: F.pdist(u, p=p), (a,))
    assert ag.gradcheck(lambda u, v: F.cosine_similarity(u, v, dim=0), (a, b))
    c = ag.tensor(rnd(3, 1, 4), requires_grad=True)
    assert ag.gradcheck(lambda u, v: F.cosine_similarity(u, v, dim=-1), (c, b))
    assert ag.gradgradcheck(lambda u, v: F.cosine_similarity(u, v), (a, b))
    assert ag.gradgradcheck(lambda u, v: F.pairwise_distance(u, v), (a, b))
    assert ag.gradgradcheck(lambda u: F.pdist(u), (a,))


def test_distance_dtypes_like_torch():
    torch = _torch()
    i1, i2 = np.arange(12).reshape(3, 4), np.ones((3, 4), dtype=np.int64)
    y = F.pairwise_distance(ag.tensor(i1), ag.tensor(i2))
    ty = torch.nn.functional.pairwise_distance(torch.tensor(i1), torch.tensor(i2))
    assert str(y.dtype).split(".")[-1] == str(ty.dtype).split(".")[-1]
    np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-6)
    f32 = F.cosine_similarity(ag.randn(3, 4), ag.randn(3, 4))
    assert f32.dtype == ag.float32
    with pytest.raises(RuntimeError, match="floating point"):
        F.cosine_similarity(ag.tensor(i1), ag.tensor(i2))


def test_distance_errors_like_torch():
    torch = _torch()
    TF = torch.nn.functional
    cases = [
        (lambda M, T: M.cosine_similarity(T(rnd(3, 4)), T(rnd(5))), RuntimeError),
        (lambda M, T: M.cosine_similarity(T(rnd(3, 4)), T(rnd(3, 4)), dim=2), IndexError),
        (lambda M, T: M.pdist(T(rnd(3))), RuntimeError),
        (lambda M, T: M.pdist(T(rnd(3, 2)), p=-1), RuntimeError),
        (lambda M, T: M.pairwise_distance(T(rnd(3, 4)), T(rnd(3, 5))), RuntimeError),
    ]
    for fn, exc in cases:
        with pytest.raises(exc):
            fn(TF, torch.tensor)
        with pytest.raises(exc):
            fn(F, ag.tensor)


def test_pdist_small_inputs():
    for n in (0, 1):
        y = F.pdist(ag.randn(n, 3))
        assert y.shape == (0,)
    assert F.pdist(ag.randn(5, 3)).shape == (10,)


def test_distance_modules():
    torch = _torch()
    for ours, theirs in ((nn.PairwiseDistance(p=1.0, eps=0.0), torch.nn.PairwiseDistance(1.0,
                                                                                        0.0)),
                         (nn.CosineSimilarity(dim=0, eps=1e-3),
                          torch.nn.CosineSimilarity(dim=0, eps=1e-3))):
        assert repr(ours) == repr(theirs)
        y = ours(ag.tensor(A), ag.tensor(B))
        ty = theirs(torch.tensor(A), torch.tensor(B))
        np.testing.assert_allclose(y.numpy(), ty.numpy(), atol=1e-12)
