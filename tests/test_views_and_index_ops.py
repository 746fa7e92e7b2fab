"""View, shape and index ops added for the drop-in API (narrow, select, diagonal family,
*_scatter, as_strided, unfold, scatter_reduce / index_* / put / take, splits, rot90, meshgrid,
block_diag, combinations, *_copy variants, in-place view ops, Tensor queries and factories).

Each table row runs the same call on autograd and on PyTorch: the outputs must agree
(values, dtype, shape), the gradients of a random weighted sum must agree, and float64
gradcheck (and gradgradcheck where marked) must pass."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd as ag

torch = pytest.importorskip("torch")


def _pair(a, requires_grad=True):
    return (ag.tensor(a.copy(), requires_grad=requires_grad),
            torch.tensor(a.copy(), requires_grad=requires_grad))


def _outs(o):
    if isinstance(o, (tuple, list)):
        r = []
        for v in o:
            r += _outs(v)
        return r
    return [o]


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


I = ag.tensor  # noqa: E741  (index tensors, built per library by the calls below)

# (label, call(M, *tensors), input shapes, gradgradcheck too)
CASES = [
    ("narrow", lambda M, x: M.narrow(x, 1, 1, 2), [(3, 4)], True),
    ("narrow_neg_tensor_start", lambda M, x: x.narrow(0, M.tensor(-2), 2), [(3, 4)], False),
    ("narrow_copy", lambda M, x: M.narrow_copy(x, 0, 0, 2), [(3, 4)], False),
    ("select", lambda M, x: M.select(x, 1, -1), [(3, 4, 2)], True),
    ("diagonal", lambda M, x: M.diagonal(x), [(3, 4)], True),
    ("diagonal_off_dims", lambda M, x: M.diagonal(x, -1, 2, 0), [(3, 2, 4)], True),
    ("diagonal_wide_off", lambda M, x: x.diagonal(2, 1, 0), [(5, 3)], False),
    ("diag_embed", lambda M, x: M.diag_embed(x), [(2, 3)], True),
    ("diag_embed_dims", lambda M, x: M.diag_embed(x, 1, 0, 2), [(2, 3)], True),
    ("diag_embed_neg", lambda M, x: M.diag_embed(x, -2, 2, 1), [(2, 3)], False),
    ("diag_2d", lambda M, x: M.diag(x, -1), [(3, 4)], False),
    ("diag_1d", lambda M, x: M.diag(x, 2), [(3,)], True),
    ("diagflat", lambda M, x: M.diagflat(x, 1), [(2, 2)], False),
    ("diagonal_scatter", lambda M, x, s: M.diagonal_scatter(x, s, 1), [(3, 4), (3,)], True),
    ("diagonal_scatter_dims", lambda M, x, s: M.diagonal_scatter(x, s, 0, 2, 0),
     [(3, 2, 4), (2, 3)], False),
    ("select_scatter", lambda M, x, s: M.select_scatter(x, s, 1, -2), [(3, 4), (3,)], True),
    ("slice_scatter", lambda M, x, s: M.slice_scatter(x, s, 1, 1, None, 2), [(3, 4), (3, 2)],
     True),
    ("as_strided", lambda M, x: M.as_strided(x, (3, 3), (2, 1), 1), [(4, 3)], True),
    ("as_strided_overlap", lambda M, x: M.as_strided(x, (2, 4), (0, 1)), [(6,)], False),
    ("unfold", lambda M, x: x.unfold(1, 3, 1), [(2, 5)], True),
    ("unfold_step", lambda M, x: x.unfold(0, 2, 3), [(7, 2)], False),
    ("unfold_0d", lambda M, x: x.unfold(0, 1, 1), [()], False),
    ("unfold_gaps", lambda M, x: x.unfold(-1, 2, 3), [(3, 2, 8)], True),
    ("unfold_twice", lambda M, x: x.unfold(0, 3, 2).unfold(1, 2, 1), [(7, 4)], True),
    ("unfold_size0", lambda M, x: x.unfold(1, 0, 2), [(2, 3)], False),
    ("repeat_interleave_int", lambda M, x: M.repeat_interleave(x, 2, 1), [(2, 3)], True),
    ("repeat_interleave_flat", lambda M, x: x.repeat_interleave(3), [(2, 2)], False),
    ("repeat_interleave_tensor", lambda M, x: M.repeat_interleave(
        x, M.tensor([2, 0, 1]), dim=0, output_size=3), [(3, 2)], False),
    ("take", lambda M, x: M.take(x, M.tensor([[0, -1], [5, 5]])), [(2, 3)], True),
    ("put", lambda M, x, s: M.put(x, M.tensor([1, -1, 2]), s), [(2, 3), (3,)], True),
    ("put_accumulate", lambda M, x, s: x.put(M.tensor([1, 1, 4]), s, accumulate=True),
     [(2, 3), (3,)], True),
    ("index_add", lambda M, x, s: M.index_add(x, 1, M.tensor([0, 2, 0]), s, alpha=-1.5),
     [(2, 3), (2, 3)], True),
    ("index_copy", lambda M, x, s: M.index_copy(x, 0, M.tensor([2, 0]), s), [(3, 2), (2, 2)],
     True),
    ("index_fill", lambda M, x: M.index_fill(x, 1, M.tensor([0, -1]), 2.5), [(2, 3)], True),
    ("index_fill_tensor", lambda M, x, v: M.index_fill(x, 0, M.tensor([1]), v.sum()),
     [(2, 3), (2,)], False),
    ("index_put", lambda M, x, v: M.index_put(x, (M.tensor([0, 1]), M.tensor([2, 0])), v),
     [(2, 3), (2,)], True),
    ("index_put_accumulate_bcast", lambda M, x, v: M.index_put(
        x, (M.tensor([0, 0, 1]),), v, accumulate=True), [(2, 3), (3,)], True),
    ("index_put_bool", lambda M, x, v: M.index_put(
        x, (M.tensor([True, False, True]),), v), [(3, 2), (2,)], False),
    ("tensor_split_sections", lambda M, x: M.tensor_split(x, 3, 1), [(2, 7)], False),
    ("tensor_split_indices", lambda M, x: M.tensor_split(x, [1, 4, 2]), [(5, 2)], False),
    ("tensor_split_tensor", lambda M, x: M.tensor_split(x, M.tensor([2])), [(5,)], False),
    ("split_with_sizes", lambda M, x: M.split_with_sizes(x, [1, 2], 1), [(2, 3)], False),
    ("hsplit", lambda M, x: M.hsplit(x, 2), [(2, 4)], False),
    ("vsplit", lambda M, x: M.vsplit(x, [1, 3]), [(4, 2)], False),
    ("dsplit", lambda M, x: M.dsplit(x, 2), [(2, 2, 4)], False),
    ("unsafe_chunk", lambda M, x: M.unsafe_chunk(x, 2, 0), [(5, 2)], False),
    ("rot90", lambda M, x: M.rot90(x), [(2, 3)], True),
    ("rot90_k3", lambda M, x: M.rot90(x, 3, (2, 0)), [(2, 3, 4)], False),
    ("rot90_neg", lambda M, x: M.rot90(x, -2, (0, 1)), [(2, 3)], False),
    ("ravel", lambda M, x: M.ravel(x.T), [(2, 3)], False),
    ("meshgrid_ij", lambda M, a, b: M.meshgrid(a, b, indexing="ij"), [(2,), (3,)], False),
    ("meshgrid_xy", lambda M, a, b, c: M.meshgrid([a, b, c], indexing="xy"),
     [(2,), (3,), ()], False),
    ("atleast_3d", lambda M, a, b, c: M.atleast_3d(a, b, c), [(), (2,), (2, 3)], False),
    ("atleast_2d_one", lambda M, a: M.atleast_2d(a), [(3,)], False),
    ("column_stack", lambda M, a, b: M.column_stack((a, b)), [(3,), (3, 2)], False),
    ("row_stack", lambda M, a, b: M.row_stack((a, b)), [(3,), (2, 3)], False),
    ("dstack", lambda M, a, b: M.dstack([a, b]), [(3,), (1, 3)], False),
    ("block_diag", lambda M, a, b, c: M.block_diag(a, b, c), [(2, 3), (), (2,)], True),
    ("cartesian_prod", lambda M, a, b: M.cartesian_prod(a, b), [(2,), (3,)], False),
    ("combinations", lambda M, a: M.combinations(a, 3), [(5,)], False),
    ("combinations_rep", lambda M, a: M.combinations(a, 2, with_replacement=True), [(3,)],
     False),
    ("sum_to_size", lambda M, x: x.sum_to_size(3, 1), [(2, 3, 4)], True),
    ("fill", lambda M, x, v: M.fill(x, v.sum()), [(2, 3), (2,)], False),
    ("expand_copy", lambda M, x: M.expand_copy(x, (2, 3, 4)), [(3, 1)], False),
    ("slice_copy", lambda M, x: M.slice_copy(x, 1, 1, None, 2), [(2, 5)], False),
    ("unbind_copy", lambda M, x: M.unbind_copy(x, 1), [(2, 3)], False),
    ("split_copy", lambda M, x: M.split_copy(x, 2), [(5,)], False),
    ("unfold_copy", lambda M, x: M.unfold_copy(x, 0, 2, 1), [(4,)], False),
    ("view_copy", lambda M, x: M.view_copy(x, (3, -1)), [(2, 3)], False),
    ("diagonal_copy", lambda M, x: M.diagonal_copy(x, 0, 1, 2), [(2, 3, 3)], False),
    ("t_copy", lambda M, x: M.t_copy(x), [(2, 3)], False),
    ("H", lambda M, x: x.H * 1, [(2, 3)], False),
    ("mH", lambda M, x: x.mH * 1, [(4, 2, 3)], False),
]

REDUCE_CASES = [(r, inc) for r in ("sum", "prod", "mean", "amax", "amin")
                for inc in (True, False)]


def _run_case(call, shapes, seed=0, ties=False):
    rng = np.random.default_rng(seed)
    arrs = [rng.standard_normal(s) for s in shapes]
    if ties:  # repeated values and zeros: amax/amin ties, prod zeros
        arrs = [np.round(a) for a in arrs]
    ours, theirs = zip(*[_pair(a) for a in arrs])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        o, t = call(ag, *ours), call(torch, *theirs)
    oo, tt = _outs(o), _outs(t)
    assert len(oo) == len(tt)
    for a, b in zip(oo, tt):
        assert tuple(a.shape) == tuple(b.shape)
        assert str(a.dtype) == str(b.dtype)
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-12, atol=1e-12)
    # gradients of a random weighted sum of the outputs
    ws = [rng.standard_normal(tuple(b.shape)) for b in tt]
    lo = sum((a * ag.tensor(w)).sum() for a, w in zip(oo, ws) if a.requires_grad)
    lt = sum((b * torch.tensor(w)).sum() for b, w in zip(tt, ws) if b.requires_grad)
    if not isinstance(lt, int):
        go = ag.grad(lo, list(ours), allow_unused=True)
        gt = torch.autograd.grad(lt, list(theirs), allow_unused=True)
        for g1, g2 in zip(go, gt):
            if g2 is None:
                assert g1 is None or not np.any(_np(g1))
                continue
            np.testing.assert_allclose(_np(g1), _np(g2), rtol=1e-10, atol=1e-12)
    return ours


@pytest.mark.parametrize("label,call,shapes,gg", CASES, ids=[c[0] for c in CASES])
def test_matches_torch_and_gradcheck(label, call, shapes, gg):
    ours = _run_case(call, shapes)
    if not any(x.numel() for x in ours):
        return

    def fn(*xs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call(ag, *xs)

    out = _outs(fn(*ours))
    if not any(o.requires_grad for o in out):
        return
    assert ag.gradcheck(lambda *xs: tuple(o for o in _outs(fn(*xs)) if o.requires_grad), ours)
    if gg:
        assert ag.gradgradcheck(lambda *xs: tuple(o for o in _outs(fn(*xs))
                                                  if o.requires_grad), ours)


@pytest.mark.parametrize("reduce,include_self", REDUCE_CASES)
@pytest.mark.parametrize("ties", [False, True])
def test_scatter_reduce_matches_torch(reduce, include_self, ties):
    def call(M, x, s):
        idx = M.tensor([[0, 1, 0, 2], [0, 0, 2, 2], [1, 1, 1, 0]])
        return M.scatter_reduce(x, 0, idx, s, reduce, include_self=include_self)

    ours = _run_case(call, [(3, 4), (3, 4)], seed=1, ties=ties)
    if not ties:
        assert ag.gradcheck(lambda a, b: call(ag, a, b), ours)
        assert ag.gradgradcheck(lambda a, b: call(ag, a, b), ours)


@pytest.mark.parametrize("reduce,include_self", [c for c in REDUCE_CASES if c[0] != "sum"])
@pytest.mark.parametrize("ties", [False, True])
def test_index_reduce_matches_torch(reduce, include_self, ties):
    def call(M, x, s):
        return M.index_reduce(x, 1, M.tensor([0, 2, 0, 0]), s, reduce,
                              include_self=include_self)

    ours = _run_case(call, [(2, 3), (2, 4)], seed=2, ties=ties)
    if not ties:
        assert ag.gradcheck(lambda a, b: call(ag, a, b), ours)


def test_scatter_reduce_integer_mean_floors_like_torch():
    x = np.array([5, -7, 3])
    src = np.array([2, -4, 9, 1])
    idx = np.array([0, 0, 1, 1])
    for inc in (True, False):
        o = ag.scatter_reduce(ag.tensor(x), 0, ag.tensor(idx), ag.tensor(src), "mean",
                              include_self=inc)
        t = torch.scatter_reduce(torch.tensor(x), 0, torch.tensor(idx), torch.tensor(src),
                                 "mean", include_self=inc)
        np.testing.assert_array_equal(o.numpy(), t.numpy())


def test_in_place_forms_match_torch():
    a = np.random.default_rng(3).standard_normal((3, 4))
    x, y = ag.tensor(a), torch.tensor(a)
    x.scatter_reduce_(0, ag.tensor([[1, 0, 1, 0]]), ag.tensor(a[:1]), "amax")
    y.scatter_reduce_(0, torch.tensor([[1, 0, 1, 0]]), torch.tensor(a[:1]), "amax")
    x.index_add_(0, ag.tensor([2]), ag.tensor(a[:1]), alpha=3)
    y.index_add_(0, torch.tensor([2]), torch.tensor(a[:1]), alpha=3)
    x.index_fill_(1, ag.tensor([1]), -1.0)
    y.index_fill_(1, torch.tensor([1]), -1.0)
    x.index_copy_(1, ag.tensor([0]), ag.tensor(a[:, :1]))
    y.index_copy_(1, torch.tensor([0]), torch.tensor(a[:, :1]))
    x.put_(ag.tensor([0, 11]), ag.tensor([7.0, 8.0], dtype=ag.float64))
    y.put_(torch.tensor([0, 11]), torch.tensor([7.0, 8.0], dtype=torch.float64))
    ag.index_put_(x, (ag.tensor([1]),), ag.tensor(2.0, dtype=ag.float64), accumulate=True)
    torch.index_put_(y, (torch.tensor([1]),), torch.tensor(2.0, dtype=torch.float64),
                     accumulate=True)
    x.fill_diagonal_(9.0)
    y.fill_diagonal_(9.0)
    np.testing.assert_array_equal(x.numpy(), y.numpy())
    z, w = ag.zeros(7, 3), torch.zeros(7, 3)
    z.fill_diagonal_(1.0, wrap=True)
    w.fill_diagonal_(1.0, wrap=True)
    np.testing.assert_array_equal(z.numpy(), w.numpy())
    u, v = ag.zeros(3, 3, 3, dtype=ag.uint8), torch.zeros(3, 3, 3, dtype=torch.uint8)
    np.testing.assert_array_equal(u.fill_diagonal_(-1).numpy(), v.fill_diagonal_(-1).numpy())


def test_in_place_view_ops():
    a = np.arange(6.0).reshape(2, 3)
    for name, args in [("t_", ()), ("transpose_", (0, 1)), ("swapaxes_", (1, 0)),
                       ("swapdims_", (0, -1)), ("unsqueeze_", (1,)), ("as_strided_",
                                                                      ((2, 2), (1, 2)))]:
        x, y = ag.tensor(a), torch.tensor(a)
        r = getattr(x, name)(*args)
        getattr(y, name)(*args)
        assert r is x
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    x = ag.zeros(1, 3, 1)
    x.squeeze_(0)
    assert x.shape == (3, 1)
    x.squeeze_()
    assert x.shape == (3,)
    # on a non-leaf in a graph: the gradient flows through the new shape
    w = ag.tensor(a, requires_grad=True)
    h = w * 2
    h.t_()
    (h * ag.tensor(a.T)).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), 2 * a)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        ag.tensor(a, requires_grad=True).unsqueeze_(0)


def test_as_strided_scatter_gradient_is_the_right_one():
    # (PyTorch's gradient for self is wrong here: docs/TORCH_DIFFERENCES.md)
    x = ag.zeros(4, 4, dtype=ag.float64, requires_grad=True)
    s = ag.ones(2, 2, dtype=ag.float64, requires_grad=True)
    out = ag.as_strided_scatter(x, s, (2, 2), (1, 4), 1)
    g = ag.arange(16.0, dtype=ag.float64).reshape(4, 4)
    out.backward(g)
    mask = np.ones(16)
    mask[[1, 2, 5, 6]] = 0
    np.testing.assert_array_equal(x.grad.numpy(), (g.numpy().ravel() * mask).reshape(4, 4))
    np.testing.assert_array_equal(s.grad.numpy(), [[1, 5], [2, 6]])
    xs = ag.randn(4, 4, dtype=ag.float64, requires_grad=True)
    ss = ag.randn(2, 2, dtype=ag.float64, requires_grad=True)
    assert ag.gradcheck(lambda a, b: ag.as_strided_scatter(a, b, (2, 2), (1, 4), 1), (xs, ss))


def test_views_share_memory_and_inplace_writes_through():
    x = ag.arange(12.0).reshape(3, 4)
    n = x.narrow(1, 1, 2)
    n.fill_(-1.0)
    s = x.select(0, 2)
    s.zero_()
    x.diagonal(1).mul_(10.0)
    x.t().diagonal().add_(0.5)
    y = torch.arange(12.0).reshape(3, 4)
    y.narrow(1, 1, 2).fill_(-1.0)
    y.select(0, 2).zero_()
    y.diagonal(1).mul_(10.0)
    y.t().diagonal().add_(0.5)
    np.testing.assert_array_equal(x.numpy(), y.numpy())


@pytest.mark.parametrize("call,exc", [
    (lambda M, x: M.narrow(x, 0, 4, 0), IndexError),
    (lambda M, x: M.narrow(x, 0, 1, 5), RuntimeError),
    (lambda M, x: M.narrow(M.tensor(1.0), 0, 0, 1), RuntimeError),
    (lambda M, x: M.select(x, 0, 3), IndexError),
    (lambda M, x: M.select(M.tensor(1.0), 0, 0), IndexError),
    (lambda M, x: M.diagonal(x, 0, 1, 1), RuntimeError),
    (lambda M, x: M.diagonal(x, 0, 0, 2), IndexError),
    (lambda M, x: M.diag(M.zeros(2, 2, 2)), RuntimeError),
    (lambda M, x: M.diag_embed(M.tensor(1.0)), IndexError),
    (lambda M, x: M.diagonal_scatter(x, M.ones(2)), RuntimeError),
    (lambda M, x: M.as_strided(x, (2, 2), (1, 2), 11), RuntimeError),
    (lambda M, x: M.as_strided(x, (2, 2), (-1, 2)), RuntimeError),
    (lambda M, x: x.unfold(1, 5, 1), RuntimeError),
    (lambda M, x: x.unfold(1, 2, 0), RuntimeError),
    (lambda M, x: x.unfold(2, 2, 1), IndexError),
    (lambda M, x: M.index_add(x, 0, M.tensor([5]), M.ones(1, 4)), RuntimeError),
    (lambda M, x: M.index_add(x, 0, M.tensor([-1]), M.ones(1, 4)), RuntimeError),
    (lambda M, x: M.index_add(x, 0, M.tensor([0]), M.ones(1, 4, dtype=M.float64)),
     RuntimeError),
    (lambda M, x: M.index_add(x, 0, M.tensor([[0]]), M.ones(1, 4)), IndexError),
    (lambda M, x: M.index_copy(x, 0, M.tensor([5]), M.ones(1, 4)), IndexError),
    (lambda M, x: M.index_fill(x, 0, M.tensor([5]), 1.0), IndexError),
    (lambda M, x: M.index_reduce(x, 0, M.tensor([0]), M.ones(1, 4), "sum"), RuntimeError),
    (lambda M, x: M.index_put(x, (M.tensor([5]),), M.tensor(1.0)), IndexError),
    (lambda M, x: M.index_put(x, (M.tensor([0]),), M.tensor(1.0, dtype=M.float64)),
     RuntimeError),
    (lambda M, x: M.put(x, M.tensor([0]), M.tensor([1.0, 2.0])), IndexError),
    (lambda M, x: M.take(x, M.tensor([12])), IndexError),
    (lambda M, x: M.take(x, M.tensor([1.0])), RuntimeError),
    (lambda M, x: M.scatter_reduce(x, 0, M.tensor([[0]]), x, "foo"), RuntimeError),
    (lambda M, x: M.tensor_split(M.tensor(1.0), 2), RuntimeError),
    (lambda M, x: M.tensor_split(x, 0), RuntimeError),
    (lambda M, x: M.hsplit(x, 3), RuntimeError),
    (lambda M, x: M.vsplit(M.arange(3.0), 1), RuntimeError),
    (lambda M, x: M.rot90(x, 1, (0, 0)), RuntimeError),
    (lambda M, x: M.rot90(x, 1, (0, 1, 2)), RuntimeError),
    (lambda M, x: M.rot90(x, 1, (0, 2)), IndexError),
    (lambda M, x: M.rot90(x, 1, (0, -2)), RuntimeError),
    (lambda M, x: M.repeat_interleave(x, -1), RuntimeError),
    (lambda M, x: M.repeat_interleave(x, M.tensor([1, 2]), 0), RuntimeError),
    (lambda M, x: M.repeat_interleave(x, M.tensor([1.0, 2, 3]), 0), NotImplementedError),
    (lambda M, x: M.combinations(M.tensor(1.0)), RuntimeError),
    (lambda M, x: M.cartesian_prod(M.arange(2.0), M.arange(3)), RuntimeError),
    (lambda M, x: M.meshgrid(x, indexing="ij"), RuntimeError),
    (lambda M, x: M.meshgrid(x[0], indexing="yx"), RuntimeError),
    (lambda M, x: M.block_diag(M.zeros(1, 1, 1)), RuntimeError),
    (lambda M, x: M.tril_indices(3, 3, dtype=M.float32), NotImplementedError),
    (lambda M, x: M.tril_indices(-1, 3), RuntimeError),
    (lambda M, x: M.unravel_index(M.tensor(1.0), (3, 4)), TypeError),
    (lambda M, x: M.unravel_index(M.tensor(1), (-1, 4)), ValueError),
    (lambda M, x: M.is_nonzero(x), RuntimeError),
    (lambda M, x: M.is_nonzero(M.tensor([])), RuntimeError),
    (lambda M, x: x.sum_to_size(2, 4), RuntimeError),
    (lambda M, x: x.stride(2), IndexError),
    (lambda M, x: M.tensor(1.0).stride(0), IndexError),
    (lambda M, x: x[0].H, RuntimeError),
    (lambda M, x: x[None].H, RuntimeError),
    (lambda M, x: x[0].mH, RuntimeError),
    (lambda M, x: M.range(0, 1, 0), RuntimeError),
    (lambda M, x: M.range(1, 0, 1), RuntimeError),
    (lambda M, x: M.frombuffer(bytearray(b"abc"), dtype=M.int16), ValueError),
    (lambda M, x: M.asarray(x, dtype=M.float64, copy=False), ValueError),
])
def test_errors_match_torch(call, exc):
    x = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc):
            call(torch, torch.tensor(x))
        with pytest.raises(exc):
            call(ag, ag.tensor(x))


def test_queries_match_torch():
    a = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)
    x, y = ag.tensor(a), torch.tensor(a)
    for f in (lambda t: t.stride(), lambda t: t.transpose(0, 2).stride(),
              lambda t: t[:, ::2, 1:].stride(), lambda t: t[:1].expand(3, 3, 4).stride(),
              lambda t: t.stride(-1), lambda t: t.nelement(), lambda t: t.ndimension(),
              lambda t: t.is_signed(), lambda t: t.get_device(), lambda t: t.is_cpu,
              lambda t: t.is_same_size(t[0]), lambda t: t.is_same_size(t * 1),
              lambda t: t.reshape(-1)[:1].is_nonzero(), lambda t: t.int().is_signed(),
              lambda t: t.bool().is_signed(), lambda t: t[0, 0, 0].to(t.dtype).item()):
        assert f(x) == f(y)
    for M, t in ((ag, x), (torch, y)):
        assert M.numel(t) == 24 and M.is_floating_point(t) and M.get_device(t) == -1
        assert M.is_signed(t) and not M.is_nonzero(t[0, 0, :1])
        assert M.is_same_size(t, t)
    assert ag.tensor([1], dtype=ag.uint8).is_signed() is False


def test_factories_match_torch():
    a = np.arange(6.0).reshape(2, 3)
    x, y = ag.tensor(a), torch.tensor(a)
    pairs = [
        (x.new_zeros(2, 3), y.new_zeros(2, 3)), (x.new_ones((2,)), y.new_ones((2,))),
        (x.new_full((2, 2), 7), y.new_full((2, 2), 7)),
        (x.new_ones(2, dtype=ag.int32), y.new_ones(2, dtype=torch.int32)),
        (x.new_tensor([1, 2]), y.new_tensor([1, 2])),
        (ag.scalar_tensor(3), torch.scalar_tensor(3)),
        (ag.scalar_tensor(3, dtype=ag.int64), torch.scalar_tensor(3, dtype=torch.int64)),
        (ag.tril_indices(4, 3, 1), torch.tril_indices(4, 3, 1)),
        (ag.triu_indices(3, 5, -1), torch.triu_indices(3, 5, -1)),
        (ag.asarray([[1, 2], [3, 4]]), torch.asarray([[1, 2], [3, 4]])),
        (ag.asarray([1.5, 2.0]), torch.asarray([1.5, 2.0])),
        (ag.nonzero_static(ag.tensor([1, 0, 2]), size=4),
         torch.nonzero_static(torch.tensor([1, 0, 2]), size=4)),
        (ag.tensor([[0, 3], [1, 0]]).nonzero_static(size=1, fill_value=9),
         torch.tensor([[0, 3], [1, 0]]).nonzero_static(size=1, fill_value=9)),
        (ag.repeat_interleave(ag.tensor([2, 0, 3])),
         torch.repeat_interleave(torch.tensor([2, 0, 3]))),
    ]
    pairs += list(zip(ag.unravel_index(ag.tensor([0, 5, 11, -1, 100, -13]), (3, 4)),
                      torch.unravel_index(torch.tensor([0, 5, 11, -1, 100, -13]), (3, 4))))
    with pytest.warns(UserWarning, match="deprecated"):
        r = ag.range(0, 1, 0.25)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pairs += [(r, torch.range(0, 1, 0.25)),
                  (ag.range(1, 4, dtype=ag.int64), torch.range(1, 4, dtype=torch.int64))]
    for o, t in pairs:
        assert tuple(o.shape) == tuple(t.shape)
        assert str(o.dtype) == str(t.dtype)
        np.testing.assert_array_equal(o.numpy(), t.numpy())
    assert ag.empty_strided((2, 3), (1, 2)).stride() == (1, 2)
    assert x.new_empty_strided((2, 3), (4, 1)).stride() == (4, 1)
    assert ag.empty_permuted((2, 3, 4), (2, 0, 1)).stride() == \
        torch.empty_permuted((2, 3, 4), (2, 0, 1)).stride()
    assert x.new_empty(3).dtype == ag.float64


def test_asarray_and_frombuffer_share_memory():
    a = np.arange(4.0)
    t = ag.asarray(a)
    a[0] = 9.0
    assert t[0].item() == 9.0
    assert ag.asarray(a, copy=True)._data is not a
    x = ag.tensor([1.0, 2.0])
    assert ag.asarray(x) is x
    buf = bytearray(np.arange(4, dtype=np.int32).tobytes())
    f = ag.frombuffer(buf, dtype=ag.int32, count=2, offset=4)
    g = torch.frombuffer(bytearray(buf), dtype=torch.int32, count=2, offset=4)
    np.testing.assert_array_equal(f.numpy(), g.numpy())
    buf[4] = 7
    assert f[0].item() == 7
    with pytest.warns(UserWarning, match="not writable"):
        ag.frombuffer(b"\x01\x00", dtype=ag.int16)
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    (ag.asarray(w, dtype=ag.float32) * 2).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 2.0])


def test_fill_zero_detach_functions():
    x = ag.tensor([1.0, 2.0])
    assert ag.fill(x, 3.0).tolist() == [3.0, 3.0] and x.tolist() == [1.0, 2.0]
    assert ag.fill_(x, 4.0) is x and x.tolist() == [4.0, 4.0]
    assert ag.zero_(x) is x and x.tolist() == [0.0, 0.0]
    v = ag.tensor(2.0, requires_grad=True)
    ag.fill(ag.zeros(3), v).sum().backward()
    assert v.grad.item() == 3.0
    w = ag.tensor([1.0], requires_grad=True)
    d = ag.detach(w * 2)
    assert not d.requires_grad
    h = w * 2
    assert ag.detach_(h) is h and not h.requires_grad
    c = ag.detach_copy(w)
    assert not c.requires_grad and c._data is not w._data
    assert ag.alias_copy(w).requires_grad


def test_numpy_keyword_aliases():
    a = np.arange(12.0).reshape(3, 4)
    x, y = ag.tensor(a), torch.tensor(a)
    for f in (lambda M, t: M.sum(t, axis=0, keepdims=True),
              lambda M, t: M.mean(t, axis=1),
              lambda M, t: M.narrow(t, axis=0, start=1, length=1),
              lambda M, t: M.cat([t, t], axis=1),
              lambda M, t: M.select(t, axis=1, index=0),
              lambda M, t: M.index_select(t, axis=0, index=M.tensor([2, 0])),
              lambda M, t: M.squeeze(t[None], axis=0),
              lambda M, t: M.unsqueeze(t, axis=0),
              lambda M, t: t.max(axis=0, keepdims=True)[0],
              lambda M, t: M.argmax(t, axis=1, keepdims=True),
              lambda M, t: M.stack([t, t], axis=2)):
        np.testing.assert_array_equal(f(ag, x).numpy(), f(torch, y).numpy())
    with pytest.raises(TypeError):
        ag.sum(x, dim=0, axis=0)


def test_nested_sequence_index_is_a_tuple_as_in_torch():
    a = np.arange(12.0).reshape(3, 4)
    x, y = ag.tensor(a), torch.tensor(a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for ix in ([[0, 1], [1, 0]], [0, [1, 2]], [[0, 2], slice(1, 3)], [None, 1],
                   ([[0, 1], [1, 0]],), [[0, 1], [1, 0]][0], ((0, 1), (1, 0))):
            np.testing.assert_array_equal(x[ix].numpy(), y[ix].numpy())
    with pytest.warns(UserWarning, match="non-tuple sequence"):
        x[[[0, 1], [1, 0]]]
    w = ag.tensor(a, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w[[[0, 2], [1, 1]]].sum().backward()
    expect = np.zeros((3, 4))
    expect[0, 1] = expect[2, 1] = 1
    np.testing.assert_array_equal(w.grad.numpy(), expect)


def test_forward_mode_scatter_reduce():
    import autograd.forward_ad as fwAD

    rng = np.random.default_rng(5)
    x0, s0 = rng.standard_normal((3, 4)), rng.standard_normal((2, 4))
    tx, ts = rng.standard_normal((3, 4)), rng.standard_normal((2, 4))
    idx = ag.tensor([[0, 1, 0, 2], [0, 0, 2, 2]])
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        with fwAD.dual_level():
            x = fwAD.make_dual(ag.tensor(x0), ag.tensor(tx))
            s = fwAD.make_dual(ag.tensor(s0), ag.tensor(ts))
            jvp = fwAD.unpack_dual(ag.scatter_reduce(x, 0, idx, s, reduce)).tangent
        eps = 1e-6

        def f(a, b):
            return ag.scatter_reduce(ag.tensor(a), 0, idx, ag.tensor(b), reduce).numpy()

        fd = (f(x0 + eps * tx, s0 + eps * ts) - f(x0 - eps * tx, s0 - eps * ts)) / (2 * eps)
        np.testing.assert_allclose(jvp.numpy(), fd, rtol=1e-5, atol=1e-7)


# ---- the same ops on the CuPy stand-in (device="cuda"): results and gradients as on the CPU

SIM_CALLS = {
 "narrow": lambda M, x, y: M.narrow(x, 1, 1, 2),
 "select": lambda M, x, y: M.select(x, 0, 1),
 "diagonal": lambda M, x, y: M.diagonal(x, 1),
 "diag_embed": lambda M, x, y: M.diag_embed(x),
 "diagonal_scatter": lambda M, x, y: M.diagonal_scatter(x, y[0, :4]),
 "select_scatter": lambda M, x, y: M.select_scatter(x, y[0], 0, 1),
 "slice_scatter": lambda M, x, y: M.slice_scatter(x, y[:, :2], 1, 0, 4, 2),
 "as_strided": lambda M, x, y: M.as_strided(x, (2, 3), (1, 2), 1),
 "as_strided_scatter": lambda M, x, y: M.as_strided_scatter(x, y[:2, :2], (2, 2), (1, 5)),
 "unfold": lambda M, x, y: x.unfold(1, 2, 2),
 "scatter_reduce": lambda M, x, y: [
     M.scatter_reduce(x, 0, M.tensor([[0, 1, 0, 2, 2]], device=x.device), y[:1], r)
     for r in ("sum", "prod", "mean", "amax", "amin")],
 "index_add": lambda M, x, y: M.index_add(x, 0, M.tensor([0, 2, 0], device=x.device), y[:3]),
 "index_reduce": lambda M, x, y: [
     M.index_reduce(x, 1, M.tensor([0, 0, 1], device=x.device), y[:, :3], r)
     for r in ("prod", "mean", "amax")],
 "index_copy": lambda M, x, y: M.index_copy(x, 0, M.tensor([1], device=x.device), y[:1]),
 "index_fill": lambda M, x, y: M.index_fill(x, 1, M.tensor([1, -1], device=x.device), 3.0),
 "index_put": lambda M, x, y: M.index_put(x, (M.tensor([0, 0], device=x.device),), y[:2],
                                         True),
 "take": lambda M, x, y: M.take(x, M.tensor([0, -1, 7], device=x.device)),
 "put": lambda M, x, y: M.put(x, M.tensor([0, -1], device=x.device), y[0, :2]),
 "repeat_interleave": lambda M, x, y: M.repeat_interleave(
     x, M.tensor([1, 0, 2, 1], device=x.device), 0),
 "tensor_split": lambda M, x, y: M.tensor_split(x, [1, 3], 1),
 "rot90": lambda M, x, y: M.rot90(x),
 "meshgrid": lambda M, x, y: M.meshgrid(x[0], y[0], indexing="xy"),
 "block_diag": lambda M, x, y: M.block_diag(x, y[:1]),
 "combinations": lambda M, x, y: M.combinations(x[0]),
 "cartesian_prod": lambda M, x, y: M.cartesian_prod(x[0], y[0]),
 "unravel": lambda M, x, y: M.unravel_index(M.tensor([3, 17], device=x.device), (4, 5)),
 "fill_diag": lambda M, x, y: (x * 1).fill_diagonal_(2.0),
 "gather": lambda M, x, y: M.gather(x, 1, M.tensor([[0, 0], [1, 2], [4, 4], [3, 0]],
                                                   device=x.device)),
 "index_select": lambda M, x, y: M.index_select(x, 0, M.tensor([3, 0, 3], device=x.device)),
 "getitem": lambda M, x, y: x[M.tensor([0, 0, 2], device=x.device)],
 "stride": lambda M, x, y: M.tensor(x.t().stride()),
 "nonzero_static": lambda M, x, y: M.nonzero_static(x > 0, size=3),
}


@pytest.mark.parametrize("name", sorted(SIM_CALLS))
def test_on_the_cupy_stand_in(sim, name):
    from autograd import backend

    f = SIM_CALLS[name]
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    outs, grads = [], []
    for dev in ("cpu", "cuda"):
        x = ag.tensor(a, device=dev, requires_grad=True)
        y = ag.tensor(b, device=dev, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            os = _outs(f(ag, x, y))
        diff = [v for v in os if v.requires_grad]
        g = ag.grad(sum((v * 1.5).sum() for v in diff), [x, y], allow_unused=True) \
            if diff else (None, None)
        outs.append([backend.to_numpy(v._data) for v in os])
        grads.append([None if gg is None else backend.to_numpy(gg._data) for gg in g])
    for u, v in zip(*outs):
        np.testing.assert_allclose(u, v)
    for u, v in zip(*grads):
        if u is not None:
            np.testing.assert_allclose(u, v)


def test_repeated_negative_and_positive_indices_accumulate():
    a = np.random.default_rng(7).standard_normal((4, 9))
    for index in ([-1, 3, 0, -4], (slice(None), [-1, 8, 8, 0])):
        x, y = _pair(a)
        (x[index] * 2).sum().backward()
        (y[index] * 2).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), y.grad.numpy())
    x, y = _pair(np.zeros((3, 9)), requires_grad=False)
    s = np.ones((4, 9))
    o = ag.index_put(x, (ag.tensor([-1, 2, 2, 0]),), ag.tensor(s), accumulate=True)
    t = torch.index_put(y, (torch.tensor([-1, 2, 2, 0]),), torch.tensor(s), accumulate=True)
    np.testing.assert_array_equal(o.numpy(), t.numpy())


def test_scatter_gradient_of_overwritten_part_is_positive_zero():
    """PyTorch gives the overwritten elements a +0 gradient (a masked fill), not gy * 0."""
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    x.scatter(0, ag.tensor([0]), 5.0).backward(ag.tensor([-1.0, -1.0]))
    assert np.signbit(x.grad.numpy()).tolist() == [False, True]


@pytest.mark.parametrize("call", [
    lambda L, x: x.reshape(shape=(4, 6)), lambda L, x: L.reshape(x, shape=[6, 4]),
    lambda L, x: x.view(size=(4, 6)), lambda L, x: x.view(size=(-1,)),
    lambda L, x: x.permute(dims=(2, 0, 1)), lambda L, x: L.permute(x, dims=(1, 0, 2)),
    lambda L, x: x[:, :1].expand(size=(2, 5, 4)), lambda L, x: x.repeat(repeats=(1, 2, 1)),
])
def test_sizes_keyword(call):
    """PyTorch's keywords for the sizes of reshape/view/permute/expand/repeat give the same
    tensor and gradient as the positional form."""
    a = np.arange(24.0).reshape(2, 3, 4)
    x, y = ag.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ours, theirs = call(ag, x), call(torch, y)
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    g = np.arange(float(ours.numel())).reshape(tuple(ours.shape))
    ours.backward(ag.tensor(g))
    theirs.backward(torch.tensor(g))
    np.testing.assert_array_equal(x.grad.numpy(), y.grad.numpy())


def test_sizes_keyword_and_positional_is_type_error():
    for L in (ag, torch):
        x = L.zeros(2, 3)
        for call in (lambda: x.reshape(3, 2, shape=(6,)), lambda: x.permute(1, 0, dims=(1, 0))):
            with pytest.raises(TypeError):
                call()
