"""Indexing family: getitem/setitem, gather/scatter, index_select, masked_fill,
take_along_dim, tril/triu, sort/topk/argsort, nonzero.

Each op: forward against NumPy, gradients by finite differences (float64, hypothesis-drawn
shapes with size-1/size-0 dims and negative dims), second derivatives for the ops built on
GetItem/IndexGrad, closed-form gradients, PyTorch as an oracle when installed, and errors.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag

SETTINGS = settings(max_examples=25, deadline=None)


def leaf(a, requires_grad=True):
    return ag.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def rnd(*shape, seed=0, requires_grad=True):
    return leaf(np.random.default_rng(seed).standard_normal(shape), requires_grad)


def distinct(*shape, seed=0):
    """Values with no ties (so that sorting is differentiable)."""
    n = int(np.prod(shape))
    v = np.random.default_rng(seed).permutation(n).astype(np.float64) * 0.5 - n / 4
    return leaf(v.reshape(shape))


shapes = st.lists(st.integers(0, 3), min_size=1, max_size=3).map(tuple)
nonempty_shapes = st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple)


# ---------------------------------------------------------------------------------------
# getitem
# ---------------------------------------------------------------------------------------

INDICES = [
    1,
    -1,
    slice(None),
    slice(1, None),
    slice(None, None, 2),  # (a negative step is PyTorch's ValueError: test_index_dtypes_...)
    slice(1, 4, 2),
    (slice(None), 2),
    (1, -2),
    None,
    (None, 1, None),
    Ellipsis,
    (Ellipsis, 1),
    (0, Ellipsis, None),
    [0, 2, 3],
    ([[0, 1], [2, 3]],),  # (a bare list of lists is a tuple to PyTorch: test_sequence_index)
    ([0, 1, 3], [2, 2, 0]),
    (slice(None), [0, 2, 2]),
    ([1, 0], slice(1, 3)),
    ([[0], [1]], [0, 2]),
    np.array([3, 0, 0]),
    np.array(2),
    [True, False, True, True],
    np.array([[True, False, True], [False, False, True], [True, True, True],
              [False, False, False]]),
]


def _with_tensors(index):
    """Same index with NumPy integer/bool arrays replaced by ag tensors."""
    if isinstance(index, tuple):
        return tuple(_with_tensors(i) for i in index)
    if isinstance(index, np.ndarray):
        return ag.tensor(index)
    return index


@pytest.mark.parametrize("index", INDICES, ids=repr)
def test_getitem_forward_matches_numpy(index):
    a = np.arange(12.0).reshape(4, 3)
    x = leaf(a)
    np.testing.assert_array_equal(x[index].detach().numpy(), a[index])
    np.testing.assert_array_equal(x[_with_tensors(index)].detach().numpy(), a[index])


@pytest.mark.parametrize("index", INDICES, ids=repr)
def test_getitem_gradcheck(index):
    x = rnd(4, 3)
    assert ag.gradcheck(lambda t: t[index], (x,))


@pytest.mark.parametrize("index", [[0, 0, 1], (slice(None), [2, 2]), 1, (None, [0, 3])],
                         ids=repr)
def test_getitem_gradgradcheck(index):
    x = rnd(4, 3)
    assert ag.gradgradcheck(lambda t: t[index] * t[index], (x,))


def test_getitem_boolean_tensor_mask_gradcheck():
    x = rnd(3, 4)
    m = x.detach() > 0
    assert ag.gradcheck(lambda t: t[m], (x,))
    np.testing.assert_array_equal(x[m].detach().numpy(), x.detach().numpy()[m.detach().numpy()])


@SETTINGS
@given(shape=nonempty_shapes, data=st.data())
def test_getitem_hypothesis(shape, data):
    x = rnd(*shape, seed=len(shape))
    a = x.detach().numpy()
    index = []
    for n in shape:
        kind = data.draw(st.sampled_from(["int", "slice", "array", "all"]))
        if kind == "int":
            index.append(data.draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            lo = data.draw(st.integers(-n, n))
            step = data.draw(st.sampled_from([1, 2, 3]))  # (> 0, as PyTorch)
            index.append(slice(lo, None, step))
        elif kind == "array":
            index.append(data.draw(st.lists(st.integers(-n, n - 1), min_size=0, max_size=4)))
            break  # one advanced index keeps NumPy's result layout simple
        else:
            index.append(slice(None))
    index = tuple(index)
    # PyTorch's rule: integers select first (plain indexing), then the rest applies; NumPy
    # instead counts an integer as an advanced index when a list is present
    first = a[tuple(i if isinstance(i, int) else slice(None) for i in index)]
    expected = first[tuple(i for i in index if not isinstance(i, int))]
    np.testing.assert_array_equal(x[index].detach().numpy(), expected)
    if expected.size:
        assert ag.gradcheck(lambda t: t[index], (x,))


def test_repeated_indices_accumulate_closed_form():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    x[[0, 0, 1]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 1.0, 0.0, 0.0])

    x = rnd(3, 2)
    x[ag.tensor([2, 2, 2, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 1], [0, 0], [3, 3]])

    x = rnd(3, 3)
    w = np.array([1.0, 10.0, 100.0])
    (x[[1, 1, 2], [0, 0, 2]] * leaf(w, False)).sum().backward()
    expect = np.zeros((3, 3))
    expect[1, 0] = 11.0
    expect[2, 2] = 100.0
    np.testing.assert_array_equal(x.grad.numpy(), expect)


def test_getitem_basic_is_a_view_of_the_data():
    x = ag.arange(6.0).reshape(2, 3)
    v = x[1]
    x.add_(1.0)
    np.testing.assert_array_equal(v.detach().numpy(), [4.0, 5.0, 6.0])


def test_getitem_errors():
    x = rnd(3, 4)
    with pytest.raises(IndexError, match=r"index.*\[3, 4\]"):
        x[5]
    with pytest.raises(IndexError, match="out of bounds"):
        x[[0, 7]]
    with pytest.raises(IndexError, match="long, int or bool"):
        x[ag.tensor([0.0, 1.0])]
    with pytest.raises(IndexError, match="long, int or bool"):
        x[[0.5]]
    with pytest.raises(IndexError):
        x["a"]


# ---------------------------------------------------------------------------------------
# setitem and in-place writes through views
# ---------------------------------------------------------------------------------------

def _setitem_fn(index):
    def fn(x, v):
        y = x * 1.0
        y[index] = v
        return y * y

    return fn


@pytest.mark.parametrize(
    "index,vshape",
    [
        (1, (3,)),
        (1, ()),
        (1, (1,)),
        ((slice(None), 0), (4,)),
        (slice(1, 3), (1, 3)),
        ([0, 2], (2, 3)),
        ([3, 0], (3,)),
        ((Ellipsis, -1), (1,)),
        (np.array([[True, False, True]] * 4), ()),
    ],
    ids=repr,
)
def test_setitem_gradcheck(index, vshape):
    x, v = rnd(4, 3), rnd(*vshape, seed=1)
    assert ag.gradcheck(_setitem_fn(index), (x, v))


@SETTINGS
@given(shape=nonempty_shapes, data=st.data())
def test_setitem_hypothesis(shape, data):
    n = shape[0]
    kind = data.draw(st.sampled_from(["int", "slice", "array", "ellipsis"]))
    if kind == "int":
        index = data.draw(st.integers(-n, n - 1))
    elif kind == "slice":
        index = slice(data.draw(st.integers(-n, n)), None, data.draw(st.sampled_from([1, 2])))
    elif kind == "array":  # unique positions: duplicates make the written value ambiguous
        index = data.draw(st.lists(st.integers(0, n - 1), max_size=n, unique=True))
    else:
        index = (Ellipsis, data.draw(st.integers(-shape[-1], shape[-1] - 1)))
    target = np.zeros(shape)[index].shape
    # the value may broadcast: drop leading dims and turn some dims into 1
    vshape = target[data.draw(st.integers(0, len(target))):]
    vshape = tuple(1 if data.draw(st.booleans()) else s for s in vshape)
    x, v = rnd(*shape), rnd(*vshape, seed=1)
    y = _setitem_fn(index)(x, v)
    expect = x.detach().numpy().copy()
    expect[index] = v.detach().numpy()
    np.testing.assert_array_equal(y.detach().numpy(), expect ** 2)
    if v.numel():
        assert ag.gradcheck(_setitem_fn(index), (x, v))


def test_setitem_closed_form_with_broadcast_value():
    x = rnd(4, 3)
    v = leaf([1.0, 2.0, 3.0])
    y = x * 2.0
    y[1:3] = v  # broadcast over two rows
    w = np.arange(12.0).reshape(4, 3)
    (y * leaf(w, False)).sum().backward()
    gx = 2 * w
    gx[1:3] = 0
    np.testing.assert_allclose(x.grad.numpy(), gx)
    np.testing.assert_allclose(v.grad.numpy(), w[1:3].sum(0))
    expect = 2 * x.detach().numpy()
    expect[1:3] = [1.0, 2.0, 3.0]
    np.testing.assert_allclose(y.detach().numpy(), expect)


def test_setitem_number_and_no_grad():
    x = ag.zeros(2, 3)
    x[0, 1] = 5.0
    x[1] = ag.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(x.detach().numpy(), [[0, 5, 0], [1, 2, 3]])


def test_setitem_on_leaf_requiring_grad_raises():
    x = rnd(3)
    with pytest.raises(RuntimeError, match="leaf"):
        x[0] = 1.0


def test_inplace_add_on_index_of_non_leaf():
    x = rnd(3, 2)
    w = np.arange(6.0).reshape(3, 2) + 1
    y = x * 3.0
    y[0] += 1.0
    y[1] *= 2.0
    (y * leaf(w, False)).sum().backward()
    gx = 3 * w
    gx[1] *= 2
    np.testing.assert_allclose(x.grad.numpy(), gx)
    expect = 3 * x.detach().numpy()
    expect[0] += 1
    expect[1] *= 2
    np.testing.assert_allclose(y.detach().numpy(), expect)


def test_inplace_on_slice_view_rebases_the_base():
    x = rnd(4)
    y = x * 1.0
    z = y[1:]
    z *= 2.0
    np.testing.assert_allclose(y.detach().numpy()[1:], 2 * x.detach().numpy()[1:])
    (y * y).sum().backward()
    xd = x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), [2 * xd[0], *(8 * xd[1:])])


def test_setitem_and_view_patterns_match_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(3).standard_normal((4, 3))
    vb = np.random.default_rng(4).standard_normal(3)

    def run(lib, make):
        x = make(a)
        v = make(vb)
        y = x * 2.0
        y[0] += 1.0
        z = y[1:]
        z *= 3.0
        y[[2, 2]] = v
        y[:, 1] = y[:, 1].clone() * v[0]
        (y * y).sum().backward()
        return x.grad, v.grad

    gx, gv = run(ag, lambda a: ag.tensor(a, requires_grad=True))
    tx, tv = run(torch, lambda a: torch.tensor(a, requires_grad=True))
    np.testing.assert_allclose(gx.numpy(), tx.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gv.numpy(), tv.numpy(), rtol=1e-12)

    # without the clone, Mul saved a view of y that the assignment then overwrote: both
    # libraries refuse to backward
    for make in (ag.tensor, torch.tensor):
        x, v = make(a, requires_grad=True), make(vb, requires_grad=True)
        y = x * 2.0
        y[:, 1] = y[:, 1] * v[0]
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            (y * y).sum().backward()


def test_setitem_errors():
    x = ag.zeros(3, 2)
    with pytest.raises(IndexError):
        x[5] = 1.0
    with pytest.raises(IndexError, match="long, int or bool"):
        x[ag.tensor([0.0])] = 1.0
    with pytest.raises(RuntimeError):  # PyTorch's class, not NumPy's ValueError
        x[0] = ag.ones(3)
    with pytest.raises(RuntimeError):
        x[[0, 1]] = ag.ones(3, 3)


# ---------------------------------------------------------------------------------------
# gather / scatter / scatter_add / index_select / take_along_dim
# ---------------------------------------------------------------------------------------

@st.composite
def gather_case(draw, allow_empty=True):
    lo = 0 if allow_empty else 1
    shape = draw(st.lists(st.integers(lo, 3), min_size=1, max_size=3).map(tuple))
    nd = len(shape)
    dim = draw(st.integers(-nd, nd - 1))
    d = dim % nd
    ishape = tuple(draw(st.integers(lo, 4)) if k == d else draw(st.integers(lo, s))
                   for k, s in enumerate(shape))
    if shape[d] == 0:
        ishape = tuple(0 if k == d else s for k, s in enumerate(ishape))
    idx = np.asarray(draw(st.lists(st.integers(0, max(shape[d] - 1, 0)),
                                   min_size=int(np.prod(ishape)),
                                   max_size=int(np.prod(ishape)))), dtype=np.int64)
    return shape, dim, idx.reshape(ishape)


def _np_gather(a, dim, idx):
    d = dim % a.ndim
    out = np.empty(idx.shape, dtype=a.dtype)
    for pos in np.ndindex(*idx.shape):
        src = list(pos)
        src[d] = idx[pos]
        out[pos] = a[tuple(src)]
    return out


@SETTINGS
@given(case=gather_case())
def test_gather_hypothesis(case):
    shape, dim, idx = case
    x = rnd(*shape, seed=1)
    out = ag.gather(x, dim, ag.tensor(idx))
    np.testing.assert_array_equal(out.detach().numpy(), _np_gather(x.detach().numpy(), dim, idx))
    if out.numel() and x.numel():
        assert ag.gradcheck(lambda t: ag.gather(t, dim, idx), (x,))


def test_gather_repeated_indices_accumulate_and_gradgrad():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    idx = ag.tensor([[0, 0], [1, 0], [0, 0]])
    out = x.gather(0, idx)
    np.testing.assert_array_equal(out.detach().numpy(), [[1, 2], [3, 2], [1, 2]])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2, 3], [1, 0]])
    y = rnd(3, 4)
    assert ag.gradgradcheck(lambda t: ag.gather(t * t, 1, ag.tensor([[3, 0, 3]] * 3)), (y,))


def test_gather_matches_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((3, 4, 2))
    idx = np.random.default_rng(1).integers(0, 4, size=(2, 5, 2))
    x, tx = ag.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y = ag.gather(x, -2, ag.tensor(idx))
    ty = torch.gather(tx, -2, torch.tensor(idx))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy())
    g = np.random.default_rng(2).standard_normal(y.shape)
    y.backward(ag.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


def test_gather_errors():
    x = rnd(2, 3)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        ag.gather(x, 0, ag.tensor([0, 1]))
    with pytest.raises(RuntimeError, match=r"no larger than self \[2, 3\]"):
        ag.gather(x, 0, ag.tensor([[0, 0, 0, 0]]))
    with pytest.raises(RuntimeError, match="index 2 is out of bounds for dimension 0 with size 2"):
        ag.gather(x, 0, ag.tensor([[2, 0, 0]]))
    with pytest.raises(RuntimeError, match="index -1 is out of bounds"):
        ag.gather(x, 1, ag.tensor([[-1]]))
    with pytest.raises(RuntimeError, match="int32/int64 for index"):
        ag.gather(x, 0, ag.tensor([[0.0, 1.0, 0.0]]))
    with pytest.raises(IndexError, match="out of range"):
        ag.gather(x, 2, ag.tensor([[0]]))


def _np_scatter(a, dim, idx, src, add=False):
    out = a.copy()
    d = dim % a.ndim
    for pos in np.ndindex(*idx.shape):
        dst = list(pos)
        dst[d] = idx[pos]
        v = src[pos] if np.ndim(src) else src
        if add:
            out[tuple(dst)] += v
        else:
            out[tuple(dst)] = v
    return out


def _unique_scatter_index(rng, shape, dim, ishape):
    """Scatter indices with no duplicates along ``dim`` (their result is well defined)."""
    d = dim % len(shape)
    idx = np.empty(ishape, dtype=np.int64)
    for pos in np.ndindex(*[s for k, s in enumerate(ishape) if k != d]):
        perm = rng.permutation(shape[d])[:ishape[d]]
        full = list(pos)
        full.insert(d, slice(None))
        idx[tuple(full)] = perm
    return idx


@SETTINGS
@given(shape=nonempty_shapes, data=st.data())
def test_scatter_and_scatter_add_hypothesis(shape, data):
    nd = len(shape)
    dim = data.draw(st.integers(-nd, nd - 1))
    d = dim % nd
    ishape = tuple(data.draw(st.integers(0, s)) for s in shape)
    sshape = tuple(i + data.draw(st.integers(0, 1)) for i in ishape)  # src may be larger
    rng = np.random.default_rng(sum(shape))
    idx = _unique_scatter_index(rng, shape, dim, ishape)
    x, src = rnd(*shape, seed=2), rnd(*sshape, seed=3)
    a, s = x.detach().numpy(), src.detach().numpy()
    sl = tuple(slice(0, n) for n in ishape)

    out = ag.scatter(x, dim, ag.tensor(idx), src)
    np.testing.assert_array_equal(out.detach().numpy(), _np_scatter(a, d, idx, s[sl]))
    assert ag.gradcheck(lambda t, u: ag.scatter(t, dim, idx, u) ** 2, (x, src))

    out = ag.scatter(x, dim, idx, 1.5)
    np.testing.assert_array_equal(out.detach().numpy(), _np_scatter(a, d, idx, 1.5))
    assert ag.gradcheck(lambda t: ag.scatter(t, dim, idx, value=-2.0), (x,))

    dup = rng.integers(0, shape[d], size=ishape)  # duplicates accumulate
    out = ag.scatter_add(x, dim, ag.tensor(dup), src)
    np.testing.assert_allclose(out.detach().numpy(), _np_scatter(a, d, dup, s[sl], add=True))
    assert ag.gradcheck(lambda t, u: ag.scatter_add(t, dim, dup, u) ** 2, (x, src))


def test_scatter_closed_form_grads():
    x = rnd(3, 2)
    src = leaf([[10.0, 20.0], [30.0, 40.0]])
    idx = ag.tensor([[2, 0], [0, 1]])
    y = x.scatter(0, idx, src)
    expect = x.detach().numpy().copy()
    expect[2, 0], expect[0, 1], expect[0, 0], expect[1, 1] = 10, 20, 30, 40
    np.testing.assert_array_equal(y.detach().numpy(), expect)
    w = np.arange(6.0).reshape(3, 2) + 1
    (y * leaf(w, False)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0], [3, 0], [0, 6]])
    np.testing.assert_array_equal(src.grad.numpy(), [[5, 2], [1, 4]])


def test_scatter_add_repeated_indices_and_gradgrad():
    x = leaf([0.0, 0.0, 0.0])
    src = leaf([1.0, 2.0, 3.0, 4.0])
    y = ag.scatter_add(x, 0, ag.tensor([1, 1, 0, 1]), src)
    np.testing.assert_array_equal(y.detach().numpy(), [3.0, 7.0, 0.0])
    (y * leaf([1.0, 10.0, 100.0], False)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 10.0, 100.0])
    np.testing.assert_array_equal(src.grad.numpy(), [10.0, 10.0, 1.0, 10.0])
    a, b = rnd(3, 2), rnd(2, 2, seed=1)
    idx = np.array([[0, 2], [0, 0]])
    assert ag.gradgradcheck(lambda t, u: ag.scatter_add(t, 0, idx, u * u) * t, (a, b))
    idx = np.array([[1, 0], [0, 1]])  # no duplicates: scatter's result is well defined
    assert ag.gradgradcheck(lambda t, u: ag.scatter(t * t, 1, idx, u * u), (a, b))


def test_scatter_matches_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((4, 3))
    s = np.random.default_rng(1).standard_normal((2, 3))
    idx = np.array([[3, 0, 1], [1, 2, 3]])
    for fn in ("scatter", "scatter_add"):
        x, src = ag.tensor(a, requires_grad=True), ag.tensor(s, requires_grad=True)
        tx, tsrc = torch.tensor(a, requires_grad=True), torch.tensor(s, requires_grad=True)
        y = getattr(ag, fn)(x * 1.0, 0, ag.tensor(idx), src)
        ty = getattr(torch, fn)(tx * 1.0, 0, torch.tensor(idx), tsrc)
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy())
        (y * y).sum().backward()
        (ty * ty).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
        np.testing.assert_allclose(src.grad.numpy(), tsrc.grad.numpy())


def test_scatter_reduce_forward_and_no_derivative():
    x = ag.ones(3)
    idx = ag.tensor([0, 0, 2])
    src = ag.tensor([2.0, 3.0, 4.0])
    np.testing.assert_array_equal(x.scatter(0, idx, src, reduce="add").detach().numpy(), [6, 1, 5])
    np.testing.assert_array_equal(x.scatter(0, idx, src, reduce="multiply").detach().numpy(),
                                  [6, 1, 4])
    np.testing.assert_array_equal(x.scatter(0, idx, 2.0, reduce="multiply").detach().numpy(),
                                  [4, 1, 2])
    y = ag.scatter(ag.randn(3, requires_grad=True), 0, idx, src, reduce="add")
    with pytest.raises(RuntimeError, match="derivative for scatter"):
        y.sum().backward()
    with pytest.raises(RuntimeError, match="reduce argument"):
        ag.scatter(x, 0, idx, src, reduce="max")


def test_scatter_inplace_methods():
    x = ag.zeros(3)
    x.scatter_(0, ag.tensor([2]), ag.tensor([5.0]))
    x.scatter_add_(0, ag.tensor([2, 0]), ag.tensor([1.0, 1.0]))
    np.testing.assert_array_equal(x.detach().numpy(), [1.0, 0.0, 6.0])


def test_scatter_errors():
    x = ag.zeros(3, 2)
    with pytest.raises(RuntimeError, match="self.dtype to be equal to src.dtype"):
        ag.scatter(x, 0, ag.tensor([[0]]), ag.ones(1, 1, dtype=ag.float64))
    with pytest.raises(RuntimeError, match="out of bounds for dimension 0 with size 3"):
        ag.scatter(x, 0, ag.tensor([[3]]), ag.ones(1, 1))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        ag.scatter_add(x, 0, ag.tensor([0]), ag.ones(1))
    with pytest.raises(RuntimeError, match=r"no larger than src \[1, 1\]"):
        ag.scatter_add(x, 0, ag.tensor([[0, 1]]), ag.ones(1, 1))
    with pytest.raises(RuntimeError, match="int32/int64"):
        ag.scatter(x, 0, ag.tensor([[0.0]]), 1.0)


@SETTINGS
@given(shape=shapes, data=st.data())
def test_index_select_hypothesis(shape, data):
    nd = len(shape)
    dim = data.draw(st.integers(-nd, nd - 1))
    n = shape[dim]
    idx = np.asarray(data.draw(st.lists(st.integers(0, max(n - 1, 0)), max_size=4 if n else 0)),
                     dtype=np.int64)
    x = rnd(*shape, seed=4)
    out = ag.index_select(x, dim, ag.tensor(idx))
    np.testing.assert_array_equal(out.detach().numpy(), np.take(x.detach().numpy(), idx, axis=dim))
    if out.numel():
        assert ag.gradcheck(lambda t: ag.index_select(t, dim, idx), (x,))


def test_index_select_closed_form_and_gradgrad():
    x = rnd(3, 2)
    y = x.index_select(0, ag.tensor([2, 0, 2]))
    np.testing.assert_array_equal(y.detach().numpy(), x.detach().numpy()[[2, 0, 2]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 1], [0, 0], [2, 2]])
    assert ag.index_select(x, 1, ag.tensor(1)).shape == (3, 1)
    assert ag.gradgradcheck(lambda t: ag.index_select(t * t, -1, [1, 1, 0]), (rnd(2, 2),))


def test_index_select_errors():
    x = rnd(2, 3)
    with pytest.raises(IndexError, match="out of bounds for dimension 1 with size 3"):
        ag.index_select(x, 1, ag.tensor([3]))
    with pytest.raises(IndexError, match="out of bounds"):
        ag.index_select(x, 0, ag.tensor([-1]))
    with pytest.raises(IndexError, match="vector"):
        ag.index_select(x, 0, ag.tensor([[0]]))
    with pytest.raises(RuntimeError, match="int32/int64"):
        ag.index_select(x, 0, ag.tensor([0.0]))


@SETTINGS
@given(shape=nonempty_shapes, data=st.data())
def test_take_along_dim_hypothesis(shape, data):
    nd = len(shape)
    dim = data.draw(st.integers(-nd, nd - 1))
    d = dim % nd
    n = shape[d]
    # indices may have size 1 where x has more (broadcast) and a different size along dim
    ishape = tuple(data.draw(st.integers(0, 3)) if k == d else
                   data.draw(st.sampled_from([1, s])) for k, s in enumerate(shape))
    rng = np.random.default_rng(nd)
    idx = rng.integers(-n, n, size=ishape)
    x = rnd(*shape, seed=5)
    out = ag.take_along_dim(x, ag.tensor(idx), dim)
    a = x.detach().numpy()
    bshape = np.broadcast_shapes(a.shape[:d] + (1,) + a.shape[d + 1:],
                                 idx.shape[:d] + (1,) + idx.shape[d + 1:])
    expect = np.take_along_axis(
        np.broadcast_to(a, bshape[:d] + (n,) + bshape[d + 1:]),
        np.broadcast_to(idx, bshape[:d] + (ishape[d],) + bshape[d + 1:]), axis=d)
    np.testing.assert_array_equal(out.detach().numpy(), expect)
    if out.numel():
        assert ag.gradcheck(lambda t: ag.take_along_dim(t, idx, dim), (x,))


def test_take_along_dim_flat_and_argsort_roundtrip():
    x = rnd(3, 4)
    idx = ag.tensor([11, 0, -1, 5])
    out = ag.take_along_dim(x, idx)
    flat = x.detach().numpy().reshape(-1)
    np.testing.assert_array_equal(out.detach().numpy(), flat[[11, 0, -1, 5]])
    out.sum().backward()
    expect = np.zeros(12)
    expect[[0, 5]] = 1
    expect[11] = 2
    np.testing.assert_array_equal(x.grad.numpy(), expect.reshape(3, 4))
    order = x.argsort(dim=1)
    np.testing.assert_array_equal(x.take_along_dim(order, 1).detach().numpy(),
                                  np.sort(x.detach().numpy(), axis=1))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        ag.take_along_dim(x, ag.tensor([0]), 1)
    with pytest.raises(RuntimeError, match="out of bounds"):
        ag.take_along_dim(x, ag.tensor([[4]]), 1)


# ---------------------------------------------------------------------------------------
# masked_fill, tril/triu
# ---------------------------------------------------------------------------------------

@SETTINGS
@given(shape=shapes, data=st.data())
def test_masked_fill_hypothesis(shape, data):
    # the mask may broadcast over leading or size-1 dims of x
    mshape = tuple(data.draw(st.sampled_from([1, s])) for s in shape)
    mshape = mshape[data.draw(st.integers(0, len(mshape))):]
    mask = np.random.default_rng(len(shape)).random(mshape) > 0.5
    x = rnd(*shape, seed=6)
    out = ag.masked_fill(x, ag.tensor(mask), -3.0)
    np.testing.assert_array_equal(out.detach().numpy(), np.where(mask, -3.0, x.detach().numpy()))
    v = leaf(0.5)
    if x.numel():
        assert ag.gradcheck(lambda t, u: ag.masked_fill(t, mask, u) ** 2, (x, v))


def test_masked_fill_closed_form_grads():
    x = rnd(2, 3)
    v = leaf(7.0)
    mask = ag.tensor([[True, False, True], [False, False, True]])
    y = x.masked_fill(mask, v)
    assert y.dtype == x.dtype
    w = np.arange(6.0).reshape(2, 3) + 1
    (y * leaf(w, False)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.where(mask.detach().numpy(), 0.0, w))
    assert v.grad.shape == ()
    assert v.grad.item() == w[mask.detach().numpy()].sum()


def test_masked_fill_keeps_dtype_and_value_grad_in_float64():
    x = ag.randn(3)  # float32
    v = leaf(2.0)  # float64
    y = x.masked_fill(ag.tensor([True, True, False]), v)
    assert y.dtype == ag.float32
    y.sum().backward()
    assert v.grad.dtype == ag.float64 and v.grad.item() == 2.0
    assert ag.masked_fill(ag.zeros(3, dtype=ag.int64), ag.tensor([True, False, False]),
                          1.5).tolist() == [1, 0, 0]


def test_masked_fill_inplace_on_non_leaf_and_torch():
    x = rnd(2, 3)
    m = ag.tensor([[True, False, False], [False, True, False]])
    y = x * 2.0
    y.masked_fill_(m, 0.0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.where(m.detach().numpy(), 0.0, 2.0))
    torch = pytest.importorskip("torch")
    a = x.detach().numpy()
    tx, tv = torch.tensor(a, requires_grad=True), torch.tensor(1.5, requires_grad=True)
    ty = tx.masked_fill(torch.tensor(m.detach().numpy()), tv)
    (ty * ty).sum().backward()
    x2, v2 = leaf(a), leaf(1.5)
    y2 = x2.masked_fill(m, v2)
    (y2 * y2).sum().backward()
    np.testing.assert_allclose(x2.grad.numpy(), tx.grad.numpy())
    np.testing.assert_allclose(v2.grad.numpy(), tv.grad.numpy())


def test_masked_fill_errors():
    x = rnd(2, 3)
    with pytest.raises(RuntimeError, match="boolean masks.*float"):
        x.masked_fill(ag.tensor([1.0, 0.0, 0.0]), 1.0)
    with pytest.raises(RuntimeError, match="0-dimensional value tensor.*1 dimension"):
        x.masked_fill(ag.tensor([True, False, False]), ag.tensor([1.0]))
    with pytest.raises(RuntimeError, match=r"\[4\].*\[2, 3\]"):
        x.masked_fill(ag.tensor([True] * 4), 1.0)


@pytest.mark.parametrize("fn", ["tril", "triu"])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2), (2, 3, 3), (1, 2, 0, 3), (1, 1)])
@pytest.mark.parametrize("diagonal", [-2, -1, 0, 1, 3])
def test_tril_triu(fn, shape, diagonal):
    x = rnd(*shape)
    out = getattr(ag, fn)(x, diagonal)
    expect = getattr(np, fn)(x.detach().numpy(), diagonal)
    np.testing.assert_array_equal(out.detach().numpy(), expect)
    if x.numel():
        assert ag.gradcheck(lambda t: getattr(t, fn)(diagonal), (x,))
        w = np.random.default_rng(0).standard_normal(shape)
        out.backward(ag.tensor(w))
        np.testing.assert_array_equal(x.grad.numpy(), getattr(np, fn)(w, diagonal))


@SETTINGS
@given(shape=st.lists(st.integers(0, 3), min_size=2, max_size=4).map(tuple),
       diagonal=st.integers(-3, 3), upper=st.booleans())
def test_tril_triu_hypothesis(shape, diagonal, upper):
    fn = "triu" if upper else "tril"
    x = rnd(*shape)
    expect = getattr(np, fn)(x.detach().numpy(), diagonal)
    np.testing.assert_array_equal(getattr(ag, fn)(x, diagonal).detach().numpy(), expect)
    if x.numel():
        assert ag.gradcheck(lambda t: getattr(ag, fn)(t, diagonal=diagonal), (x,))


def test_tril_triu_gradgrad_inplace_and_errors():
    assert ag.gradgradcheck(lambda t: ag.tril(t * t, -1) + ag.triu(t, 1) ** 2, (rnd(3, 3),))
    x = rnd(3, 3)
    y = x * 1.0
    y.triu_()
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.triu(np.ones((3, 3))))
    for fn in (ag.tril, ag.triu):
        with pytest.raises(RuntimeError, match="at least 2 dimensions"):
            fn(rnd(3))


# ---------------------------------------------------------------------------------------
# sort / argsort / topk / nonzero
# ---------------------------------------------------------------------------------------

@SETTINGS
@given(shape=shapes, data=st.data(), descending=st.booleans())
def test_sort_hypothesis(shape, data, descending):
    nd = len(shape)
    dim = data.draw(st.integers(-nd, nd - 1))
    x = distinct(*shape, seed=nd) if all(shape) else rnd(*shape)
    a = x.detach().numpy()
    res = ag.sort(x, dim=dim, descending=descending)
    values, indices = res
    assert res.values is values and res.indices is indices
    expect = np.sort(a, axis=dim)
    if descending:
        expect = np.flip(expect, axis=dim)
    np.testing.assert_array_equal(values.detach().numpy(), expect)
    assert indices.dtype == ag.int64
    np.testing.assert_array_equal(np.take_along_axis(a, indices.detach().numpy(), axis=dim), expect)
    np.testing.assert_array_equal(ag.argsort(x, dim, descending).numpy(), indices.numpy())
    if x.numel():
        assert ag.gradcheck(lambda t: ag.sort(t, dim, descending).values, (x,))


def test_sort_is_stable_and_puts_nan_like_torch():
    a = np.array([1.0, np.nan, 3.0, 1.0, 3.0, -np.inf])
    x = ag.tensor(a)
    v, i = x.sort()
    np.testing.assert_array_equal(i.detach().numpy(), [5, 0, 3, 2, 4, 1])
    v, i = x.sort(descending=True, stable=True)
    np.testing.assert_array_equal(i.detach().numpy(), [1, 2, 4, 0, 3, 5])
    assert np.isnan(v.detach().numpy()[0])
    torch = pytest.importorskip("torch")
    for desc in (False, True):
        tv, ti = torch.sort(torch.tensor(a), descending=desc, stable=True)
        v, i = ag.sort(ag.tensor(a), descending=desc, stable=True)
        np.testing.assert_array_equal(i.detach().numpy(), ti.detach().numpy())
        np.testing.assert_array_equal(v.detach().numpy(), tv.detach().numpy())


def test_sort_closed_form_grad_and_gradgrad():
    x = leaf([3.0, 1.0, 2.0])
    v, i = x.sort(descending=True)
    np.testing.assert_array_equal(i.detach().numpy(), [0, 2, 1])
    (v * leaf([1.0, 10.0, 100.0], False)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 100.0, 10.0])
    assert ag.gradgradcheck(lambda t: ag.sort(t * t, 0).values * t,
                            (leaf([0.3, 1.7, -0.9, 2.4]),))


def test_sort_0d_and_errors():
    x = leaf(2.5)
    v, i = ag.sort(x)
    assert v.shape == () and i.shape == () and i.item() == 0 and v.item() == 2.5
    v.backward()
    assert x.grad.item() == 1.0
    with pytest.raises(IndexError, match="out of range"):
        ag.sort(rnd(2, 2), dim=2)


@SETTINGS
@given(shape=nonempty_shapes, data=st.data(), largest=st.booleans())
def test_topk_hypothesis(shape, data, largest):
    nd = len(shape)
    dim = data.draw(st.integers(-nd, nd - 1))
    k = data.draw(st.integers(0, shape[dim]))
    x = distinct(*shape, seed=k)
    a = x.detach().numpy()
    values, indices = ag.topk(x, k, dim=dim, largest=largest)
    s = np.sort(a, axis=dim)
    if largest:
        s = np.flip(s, axis=dim)
    expect = np.take(s, np.arange(k), axis=dim)
    np.testing.assert_array_equal(values.detach().numpy(), expect)
    np.testing.assert_array_equal(np.take_along_axis(a, indices.detach().numpy(), axis=dim), expect)
    if k:
        assert ag.gradcheck(lambda t: ag.topk(t, k, dim, largest).values, (x,))


def test_topk_closed_form_torch_and_errors():
    x = leaf([[1.0, 5.0, 3.0], [4.0, 0.0, 2.0]])
    res = x.topk(2)
    np.testing.assert_array_equal(res.values.detach().numpy(), [[5, 3], [4, 2]])
    np.testing.assert_array_equal(res.indices.detach().numpy(), [[1, 2], [0, 2]])
    res.values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 1], [1, 0, 1]])
    v, i = ag.topk(x, 1, dim=0, largest=False)
    np.testing.assert_array_equal(i.detach().numpy(), [[0, 1, 1]])
    assert ag.topk(leaf(3.0), 1).values.shape == ()
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        x.topk(4)
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        x.topk(-1)
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((3, 5))
    tv, ti = torch.topk(torch.tensor(a), 3, dim=1)
    v, i = ag.topk(ag.tensor(a), 3, dim=1)
    np.testing.assert_array_equal(v.detach().numpy(), tv.detach().numpy())
    np.testing.assert_array_equal(i.detach().numpy(), ti.detach().numpy())


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 0, 3), (2, 3, 2), ()])
def test_nonzero(shape):
    a = (np.random.default_rng(1).random(shape) > 0.5).astype(np.float64) * 2.0
    x = ag.tensor(a)
    out = ag.nonzero(x)
    assert out.dtype == ag.int64
    np.testing.assert_array_equal(out.detach().numpy(), np.argwhere(a))
    np.testing.assert_array_equal(x.nonzero().detach().numpy(), np.argwhere(a))
    tup = ag.nonzero(x, as_tuple=True)
    expect = np.nonzero(np.atleast_1d(a))
    assert len(tup) == len(expect)
    for t, e in zip(tup, expect):
        np.testing.assert_array_equal(t.detach().numpy(), e)
    assert not out.requires_grad


def test_nonzero_where_and_torch():
    a = np.array([[0.0, 1.0], [2.0, 0.0]])
    rows, cols = ag.where(ag.tensor(a) > 0)
    np.testing.assert_array_equal(rows.detach().numpy(), [0, 1])
    np.testing.assert_array_equal(cols.detach().numpy(), [1, 0])
    torch = pytest.importorskip("torch")
    for s in [(), (4,), (2, 3), (2, 0)]:
        b = np.random.default_rng(2).random(s) > 0.3
        np.testing.assert_array_equal(ag.nonzero(ag.tensor(b)).detach().numpy(),
                                      torch.nonzero(torch.tensor(b)).detach().numpy())
        for t, e in zip(ag.nonzero(ag.tensor(b), as_tuple=True),
                        torch.nonzero(torch.tensor(b), as_tuple=True)):
            np.testing.assert_array_equal(t.detach().numpy(), e.detach().numpy())


def test_methods_are_bound():
    x = rnd(2, 3)
    for name in ("gather scatter scatter_add index_select masked_fill masked_fill_ tril triu "
                 "topk sort argsort nonzero take_along_dim").split():
        assert callable(getattr(x, name)), name


def test_masked_scatter():
    """PyTorch's masked_scatter: mask and x broadcast with each other; the head of source
    fills the True positions in row-major order, and only that head gets a gradient."""
    x = ag.tensor([[1.0, -2.0], [3.0, -4.0]], requires_grad=True)
    m = ag.tensor([True, False])
    s = ag.tensor([10.0, 20.0, 30.0], requires_grad=True)
    z = x.masked_scatter(m, s)
    assert z.tolist() == [[10.0, -2.0], [20.0, -4.0]]
    z.sum().backward()
    assert s.grad.tolist() == [1.0, 1.0, 0.0] and x.grad.tolist() == [[0.0, 1.0], [0.0, 1.0]]
    y = ag.zeros(2, 2)
    y.masked_scatter_(ag.tensor([[False, True], [True, False]]), ag.tensor([5.0, 6.0]))
    assert y.tolist() == [[0.0, 5.0], [6.0, 0.0]]
    with pytest.raises(RuntimeError):
        ag.masked_scatter(x, ag.tensor([1, 0]), s)
    with pytest.raises(RuntimeError):
        x.detach().masked_scatter(ag.ones(2, 2, dtype=ag.bool), s.detach())


def test_range_index_is_an_index_tensor():
    # d2l's softmax regression: y_hat[range(len(y_hat)), y]
    x = ag.arange(12.0).reshape(3, 4).requires_grad_()
    y = x[range(3), ag.tensor([0, 2, 3])]
    np.testing.assert_array_equal(y.detach().numpy(), [0.0, 6.0, 11.0])
    y.sum().backward()
    assert x.grad.numpy()[1, 2] == 1.0 and x.grad.sum().item() == 3.0
    np.testing.assert_array_equal(x[:, range(0, 4, 2)].detach().numpy(),
                                  x.detach().numpy()[:, 0:4:2])
    z = ag.zeros(3, 4)
    z[range(3), [1, 2, 3]] = 5.0
    assert z.sum().item() == 15.0
    assert x[range(0)].shape == (0, 4)


# ---- PyTorch's index dtype and slice rules, setitem's dtype rule ---------------------------

def _outcome(fn):
    """(exception class name) or (dtype, shape, values) of ``fn()``, framework-neutral."""
    try:
        r = fn()
    except Exception as e:  # noqa: BLE001 - the class is the outcome compared
        return type(e).__name__
    return str(r.dtype).split(".")[-1], tuple(r.shape), r.tolist()


def _both(fn):
    torch = pytest.importorskip("torch")
    return _outcome(lambda: fn(torch)), _outcome(lambda: fn(ag))


@pytest.mark.filterwarnings("ignore:indexing with dtype")
@pytest.mark.parametrize("case", [
    lambda t: t.arange(12.).reshape(3, 4)[t.tensor([1, 0, 1], dtype=t.uint8)],  # a mask
    lambda t: t.arange(12.).reshape(3, 4)[:, t.tensor([1, 0, 0, 1], dtype=t.uint8)],
    lambda t: t.arange(12.).reshape(3, 4)[t.tensor(1, dtype=t.uint8)],  # 0-d: a mask too
    lambda t: t.arange(12.).reshape(3, 4)[t.tensor([1, 0], dtype=t.int8)],  # IndexError
    lambda t: t.arange(12.).reshape(3, 4)[t.tensor([1, 0], dtype=t.int16)],
    lambda t: t.arange(12.).reshape(3, 4)[t.tensor([1, 0], dtype=t.int32)],
    lambda t: t.arange(12.).reshape(3, 4)[t.tensor(1, dtype=t.int8)],  # 0-d: an integer
    lambda t: t.arange(12.).reshape(3, 4)[np.array([1, 0], dtype=np.int8)],  # NumPy: fine
    lambda t: t.arange(12.).reshape(3, 4)[::-1],  # ValueError
    lambda t: t.arange(12.).reshape(3, 4)[:, 3:0:-2],
    lambda t: t.arange(12.).reshape(3, 4)[::0],
])
def test_index_dtypes_and_steps_as_torch(case):
    ours, theirs = _both(case)[::-1]
    assert ours == theirs


def _put(x, index, v):
    x[index] = v
    return x


@pytest.mark.parametrize("case", [
    # advanced-index assignment is index_put_: a value tensor of another dtype is an error...
    lambda t: _put(t.zeros(3), t.tensor([0, 2]), t.tensor([5, 6])),
    lambda t: _put(t.zeros(3), t.tensor([0, 2]), t.tensor(5)),
    lambda t: _put(t.zeros(3), [0, 2], t.tensor([5., 6.], dtype=t.float64)),
    lambda t: _put(t.zeros(3, dtype=t.int32), t.tensor([True, False, True]), t.tensor([5., 6.])),
    lambda t: _put(t.zeros(3), t.tensor([True, False, True]), t.tensor([True, False])),
    lambda t: _put(t.zeros(2, 3), (slice(None), t.tensor([True, False, True])),
                   t.tensor([5, 6])),
    # ... except one mask with a one-element value (masked_fill_, a cast), a Python number,
    # or a basic index (copy_)
    lambda t: _put(t.zeros(3, dtype=t.int32), t.tensor([True, False, True]), t.tensor(5.7)),
    lambda t: _put(t.zeros(2, 3), (slice(None), t.tensor([True, False, True])),
                   t.tensor([5])),
    lambda t: _put(t.zeros(3, dtype=t.int32), t.tensor([0, 2]), 5.7),
    lambda t: _put(t.zeros(3), slice(0, 2), t.tensor([5, 6])),
    lambda t: _put(t.zeros(3, dtype=t.int64), 0, t.tensor(5.5)),
    lambda t: _put(t.zeros(3), t.tensor([0, 2]), t.tensor([5., 6.])),
])
def test_setitem_value_dtype_as_torch(case):
    ours, theirs = _both(case)[::-1]
    assert ours == theirs


@pytest.mark.parametrize("reduce", ["max", "min", "amax", "sum"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_legacy_names_as_torch(reduce, include_self):
    def case(t):
        src = t.tensor([1., 2., 3., 4., 5., 6.])
        idx = t.tensor([0, 1, 0, 1, 2, 1])
        return t.full((4,), 2.5).scatter_reduce(0, idx, src, reduce=reduce,
                                                include_self=include_self)
    ours, theirs = _both(case)[::-1]
    assert ours == theirs


@pytest.mark.filterwarnings("ignore:where received a uint8")
@pytest.mark.parametrize("cond", ["bool", "uint8", "int64", "float32", "int32"])
def test_where_condition_dtype_as_torch(cond):
    def case(t):
        c = t.tensor([1, 0, 1]).to(getattr(t, cond))
        return t.where(c, t.ones(3), 0.0)
    ours, theirs = _both(case)[::-1]
    assert ours == theirs
