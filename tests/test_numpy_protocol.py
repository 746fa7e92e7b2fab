"""NumPy protocols on Tensor: __array_ufunc__ / __array_function__ (autograd/numpy_compat.py),
__array__, and DLPack exchange with NumPy and PyTorch."""

from __future__ import annotations

import operator

import numpy as np
import pytest

import autograd as ag


def t64(a, requires_grad=True):
    return ag.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def arr(t):
    return t.detach().numpy()


RNG = np.random.default_rng(0)
REAL = RNG.uniform(-2, 2, (2, 3))
POS = RNG.uniform(0.5, 2, (2, 3))
NONZERO = RNG.uniform(0.3, 2, (2, 3)) * np.array([1, -1, 1])
UNIT = RNG.uniform(-0.9, 0.9, (2, 3))
FRAC = np.array([[-1.7, 0.3, 1.2], [2.6, -0.4, 0.1]])

# (ufunc, matching autograd op, input values)
UNARY_UFUNCS = [
    (np.negative, ag.neg, REAL),
    (np.exp, ag.exp, REAL),
    (np.expm1, ag.expm1, REAL),
    (np.log, ag.log, POS),
    (np.log2, ag.log2, POS),
    (np.log10, ag.log10, POS),
    (np.log1p, ag.log1p, POS),
    (np.sqrt, ag.sqrt, POS),
    (np.sin, ag.sin, REAL),
    (np.cos, ag.cos, REAL),
    (np.tan, ag.tan, UNIT),
    (np.tanh, ag.tanh, REAL),
    (np.abs, ag.abs, NONZERO),
    (np.absolute, ag.abs, NONZERO),
    (np.square, ag.square, REAL),
    (np.reciprocal, ag.reciprocal, NONZERO),
    (np.floor, ag.floor, FRAC),
    (np.ceil, ag.ceil, FRAC),
    (np.trunc, ag.trunc, FRAC),
    (np.sign, ag.sign, NONZERO),
    (np.positive, lambda x: x, REAL),
]
BINARY_UFUNCS = [
    (np.add, ag.add, REAL, REAL[0]),
    (np.subtract, ag.sub, REAL, REAL[0]),
    (np.multiply, ag.mul, REAL, REAL[1]),
    (np.true_divide, ag.div, REAL, NONZERO[0]),
    (np.divide, ag.div, REAL, NONZERO[0]),
    (np.power, ag.pow, POS, REAL[0]),
    (np.maximum, ag.maximum, REAL, REAL[1] + 0.05),
    (np.minimum, ag.minimum, REAL, REAL[1] + 0.05),
]


@pytest.mark.parametrize("uf,op,x", UNARY_UFUNCS, ids=[u[0].__name__ + str(i) for i, u in
                                                      enumerate(UNARY_UFUNCS)])
def test_unary_ufunc_is_differentiable(uf, op, x):
    t = t64(x)
    y = uf(t)
    assert isinstance(y, ag.Tensor)
    np.testing.assert_allclose(arr(y), uf(x), rtol=1e-12)
    np.testing.assert_allclose(arr(y), arr(op(t)), rtol=1e-12)
    assert ag.gradcheck(lambda a: uf(a), (t,))


@pytest.mark.parametrize("uf,op,a,b", BINARY_UFUNCS,
                         ids=[u[0].__name__ + str(i) for i, u in enumerate(BINARY_UFUNCS)])
def test_binary_ufunc_is_differentiable(uf, op, a, b):
    ta, tb = t64(a), t64(b)
    for y in (uf(ta, tb), uf(a, tb), uf(ta, b)):
        assert isinstance(y, ag.Tensor) and y.requires_grad
        np.testing.assert_allclose(arr(y), uf(a, b), rtol=1e-12)
    assert ag.gradcheck(lambda p, q: uf(p, q), (ta, tb))
    assert ag.gradcheck(lambda q: uf(a, q), (tb,))  # ndarray on the left
    assert ag.gradcheck(lambda p: uf(p, 1.5), (ta,))


@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv,
                                operator.pow])
def test_ndarray_operators_with_tensor(op):
    a = POS
    t = t64(POS[0])
    y = op(a, t)  # ndarray.__add__ defers to Tensor.__array_ufunc__
    assert isinstance(y, ag.Tensor) and y.requires_grad
    np.testing.assert_allclose(arr(y), op(a, POS[0]), rtol=1e-12)
    y.sum().backward()
    assert t.grad.shape == t.shape
    y2 = op(np.float64(1.5), t)  # NumPy scalars too
    assert isinstance(y2, ag.Tensor)
    np.testing.assert_allclose(arr(y2), op(1.5, POS[0]), rtol=1e-12)


def test_ndarray_matmul_with_tensor():
    a = RNG.standard_normal((4, 2))
    t = t64(REAL)
    y = a @ t
    assert isinstance(y, ag.Tensor)
    np.testing.assert_allclose(arr(y), a @ REAL, rtol=1e-12)
    assert ag.gradcheck(lambda x: np.matmul(a, x), (t,))
    # NumPy-style dtype promotion instead of a dtype error
    t32 = ag.tensor(REAL.astype(np.float32))
    y = np.matmul(a, t32)
    assert y.dtype == np.float64


def test_numpy_scalar_keeps_tensor_dtype():
    t = ag.tensor([1.0, 2.0])
    assert (np.float64(2.0) * t).dtype == np.float32
    assert np.multiply(t, np.float64(2.0)).dtype == np.float32


def test_comparison_and_logical_ufuncs():
    a, b = REAL, REAL[::-1]
    ta = t64(a)
    for uf in (np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal):
        y = uf(ta, b)
        assert isinstance(y, ag.Tensor) and y.dtype == np.bool_ and not y.requires_grad
        np.testing.assert_array_equal(arr(y), uf(a, b))
        np.testing.assert_array_equal(arr(uf(b, ta)), uf(b, a))
    p, q = ag.tensor([True, False, True]), np.array([True, True, False])
    for uf in (np.logical_and, np.logical_or, np.logical_xor):
        np.testing.assert_array_equal(arr(uf(p, q)), uf(arr(p), q))
    np.testing.assert_array_equal(arr(np.logical_not(p)), [False, True, False])
    np.testing.assert_array_equal(arr(np.invert(p)), [False, True, False])
    x = t64([1.0, np.nan, np.inf])
    np.testing.assert_array_equal(arr(np.isnan(x)), [False, True, False])
    np.testing.assert_array_equal(arr(np.isinf(x)), [False, False, True])
    np.testing.assert_array_equal(arr(np.isfinite(x)), [True, False, False])


def test_unmapped_ufunc_requires_grad_raises():
    t = t64(UNIT)
    with pytest.raises(TypeError, match="cbrt") as info:  # (sinh, hypot are mapped now)
        np.cbrt(t)
    assert "not differentiable" in str(info.value)
    assert "detach().numpy()" in str(info.value)
    with pytest.raises(TypeError, match="float_power"):  # a binary one
        np.float_power(t, 1.0)


def test_unmapped_ufunc_without_grad_computes():
    t = t64(UNIT, requires_grad=False)
    y = np.sinh(t)
    assert isinstance(y, ag.Tensor) and not y.requires_grad
    np.testing.assert_allclose(arr(y), np.sinh(UNIT))
    q, r = np.divmod(t, 0.5)
    assert isinstance(q, ag.Tensor) and isinstance(r, ag.Tensor)
    np.testing.assert_allclose(arr(q), np.divmod(UNIT, 0.5)[0])
    # under no_grad, nothing is recorded, so a tensor requiring grad is fine too
    with ag.no_grad():
        y = np.sinh(t64(UNIT))
    np.testing.assert_allclose(arr(y), np.sinh(UNIT))


def test_ufunc_out_argument():
    t = t64([1.0, 2.0, 3.0], requires_grad=False)
    out = ag.zeros(3, dtype=ag.float64)
    v = out._version
    r = np.add(t, 1.0, out=out)
    assert r is out
    np.testing.assert_array_equal(arr(out), [2.0, 3.0, 4.0])
    assert out._version == v + 1
    buf = np.zeros(3)
    assert np.multiply(t, 2.0, out=buf) is buf
    np.testing.assert_array_equal(buf, [2.0, 4.0, 6.0])
    a = np.ones(3)
    a += t  # ndarray in-place with a tensor operand
    np.testing.assert_array_equal(a, [2.0, 3.0, 4.0])
    tg = t64([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="out="):
        np.add(tg, 1.0, out=np.zeros(3))
    with pytest.raises(TypeError, match="not differentiable"):
        a += tg
    with pytest.raises(TypeError, match="dtype="):
        np.exp(tg, dtype=np.float32)


def test_ufunc_methods():
    t = t64([[1.0, 2.0], [3.0, 4.0]], requires_grad=False)
    r = np.add.reduce(t, axis=0)
    assert isinstance(r, ag.Tensor)
    np.testing.assert_array_equal(arr(r), [4.0, 6.0])
    np.testing.assert_array_equal(arr(np.multiply.outer(t[0], t[1])), [[3.0, 4.0], [6.0, 8.0]])
    np.testing.assert_array_equal(arr(np.add.accumulate(t, axis=1)), [[1.0, 3.0], [3.0, 7.0]])
    u = ag.zeros(3, dtype=ag.float64)
    v = u._version
    assert np.add.at(u, [0, 0, 2], 1.0) is None
    np.testing.assert_array_equal(arr(u), [2.0, 0.0, 1.0])
    assert u._version == v + 1
    with pytest.raises(TypeError, match="reduce"):
        np.add.reduce(t64([1.0, 2.0]))


# ---- __array_function__ ---------------------------------------------------------------------

X = RNG.uniform(0.5, 2.0, (2, 3, 4))
M = RNG.standard_normal((3, 4))
V = RNG.standard_normal(4)
W3 = RNG.standard_normal((2, 4, 3))

# (id, function of one array, input) -- evaluated on the ndarray and on a Tensor
DIFF_FUNCS = [
    ("sum", lambda a: np.sum(a), X),
    ("sum_axis", lambda a: np.sum(a, axis=1), X),
    ("sum_axes_keep", lambda a: np.sum(a, axis=(0, 2), keepdims=True), X),
    ("mean", lambda a: np.mean(a, axis=-1), X),
    ("mean_keep", lambda a: np.mean(a, axis=0, keepdims=True), X),
    ("prod", lambda a: np.prod(a, axis=1), X),
    ("prod_all", lambda a: np.prod(a), M[:2, :2]),
    ("var", lambda a: np.var(a, axis=2), X),
    ("var_ddof", lambda a: np.var(a, ddof=1), X),
    ("std", lambda a: np.std(a, axis=(0, 1)), X),
    ("std_ddof", lambda a: np.std(a, axis=1, ddof=1, keepdims=True), X),
    ("max", lambda a: np.max(a, axis=1), X),
    ("amax", lambda a: np.amax(a, axis=(0, 2)), X),
    ("max_all", lambda a: np.max(a), X),
    ("min", lambda a: np.min(a, axis=0, keepdims=True), X),
    ("amin", lambda a: np.amin(a), X),
    ("reshape", lambda a: np.reshape(a, (6, 4)), X),
    ("reshape_neg", lambda a: np.reshape(a, (-1,)), X),
    ("ravel", lambda a: np.ravel(a), X),
    ("transpose", lambda a: np.transpose(a), X),
    ("transpose_axes", lambda a: np.transpose(a, (1, 0, 2)), X),
    ("swapaxes", lambda a: np.swapaxes(a, 0, 2), X),
    ("moveaxis", lambda a: np.moveaxis(a, 0, -1), X),
    ("squeeze", lambda a: np.squeeze(np.expand_dims(a, 1)), X),
    ("squeeze_axis", lambda a: np.squeeze(np.reshape(a, (2, 1, 12)), axis=1), X),
    ("expand_dims", lambda a: np.expand_dims(a, (0, -1)), X),
    ("broadcast_to", lambda a: np.broadcast_to(a, (5, 3, 4)), M),
    ("concatenate", lambda a: np.concatenate([a, a * 2], axis=1), X),
    ("concatenate_none", lambda a: np.concatenate((a, a), axis=None), M),
    ("stack", lambda a: np.stack([a, a + 1], axis=-1), M),
    ("where", lambda a: np.where(a > 1.0, a, -a), X),
    ("where_scalar", lambda a: np.where(a > 1.0, a, 0.0), X),
    ("clip", lambda a: np.clip(a, 0.75, 1.5), X),
    ("clip_none", lambda a: np.clip(a, None, 1.5), X),
    ("clip_kw", lambda a: np.clip(a, min=0.75), X),
    ("dot_vv", lambda a: np.dot(a, V), V),
    ("dot_mv", lambda a: np.dot(a, V), M),
    ("dot_mm", lambda a: np.dot(a, M.T), M),
    ("dot_scalar", lambda a: np.dot(a, 2.5), M),
    ("dot_nd", lambda a: np.dot(a, W3), X),
    ("matmul", lambda a: np.matmul(a, M.T), X),
    ("einsum", lambda a: np.einsum("ijk,jk->i", a, M), X),
    ("einsum_two", lambda a: np.einsum("ij,ij->", a, a), M),
    ("tile", lambda a: np.tile(a, 2), M),
    ("tile_more", lambda a: np.tile(a, (2, 1, 1)), M),
    ("flip", lambda a: np.flip(a), X),
    ("flip_axis", lambda a: np.flip(a, axis=1), X),
    ("roll", lambda a: np.roll(a, 2, axis=2), X),
    ("roll_flat", lambda a: np.roll(a, 3), X),
    ("cumsum", lambda a: np.cumsum(a, axis=1), X),
    ("cumsum_flat", lambda a: np.cumsum(a), M),
    ("norm", lambda a: np.linalg.norm(a), X),
    ("norm_axis", lambda a: np.linalg.norm(a, axis=1), M),
    ("norm_fro", lambda a: np.linalg.norm(a, "fro"), M),
    ("norm_1", lambda a: np.linalg.norm(a, 1, axis=-1, keepdims=True), M),
    ("norm_inf", lambda a: np.linalg.norm(a, np.inf), V),
    ("norm_3", lambda a: np.linalg.norm(a, 3), V),
    ("round", lambda a: np.round(a * 10), X),
]


@pytest.mark.parametrize("name,fn,x", DIFF_FUNCS, ids=[d[0] for d in DIFF_FUNCS])
def test_array_function_maps_to_differentiable_ops(name, fn, x):
    expected = fn(x)
    t = t64(x)
    y = fn(t)
    assert isinstance(y, ag.Tensor), type(y)
    assert y.requires_grad
    assert tuple(y.shape) == np.shape(expected)
    np.testing.assert_allclose(arr(y), expected, rtol=1e-10, atol=1e-12)
    assert ag.gradcheck(fn, (t,))


@pytest.mark.parametrize("name,fn,x", DIFF_FUNCS[:12], ids=[d[0] for d in DIFF_FUNCS[:12]])
def test_array_function_without_grad_returns_tensors(name, fn, x):
    y = fn(t64(x, requires_grad=False))
    assert isinstance(y, ag.Tensor) and not y.requires_grad
    np.testing.assert_allclose(arr(y), fn(x), rtol=1e-10, atol=1e-12)


def test_array_function_integer_inputs():
    a = np.arange(12).reshape(3, 4)
    t = ag.tensor(a)
    np.testing.assert_array_equal(arr(np.sum(t, axis=0)), a.sum(axis=0))
    assert np.sum(t).dtype == np.int64
    m = np.mean(t)
    assert m.dtype == np.float64 and m.item() == a.mean()
    np.testing.assert_allclose(np.var(t).item(), a.var())
    np.testing.assert_array_equal(arr(np.cumsum(t, axis=1)), np.cumsum(a, axis=1))


def test_array_function_non_differentiable_results():
    t = t64(X)
    assert np.argmax(t).item() == np.argmax(X)
    np.testing.assert_array_equal(arr(np.argmax(t, axis=1)), np.argmax(X, axis=1))
    np.testing.assert_array_equal(arr(np.argmin(t, axis=-1)), np.argmin(X, axis=-1))
    assert np.shape(t) == X.shape
    assert np.ndim(t) == 3
    assert np.size(t) == X.size and np.size(t, 1) == 3
    assert np.allclose(t, X) is True
    assert np.allclose(t, X + 1) is False
    close = np.isclose(t, X)
    assert isinstance(close, ag.Tensor) and bool(arr(close).all())
    assert np.array_equal(t, X) is True
    assert np.array_equal(t, t64(X[:1])) is False
    idx = np.where(t > 1.0)
    assert isinstance(idx, tuple) and len(idx) == 3
    for got, exp in zip(idx, np.where(X > 1.0)):
        np.testing.assert_array_equal(arr(got), exp)


def test_array_function_lists_of_tensors():
    a, b = t64(M), t64(M * 2)
    y = np.concatenate([a, M, b])  # mixes tensors and arrays
    assert isinstance(y, ag.Tensor)
    np.testing.assert_allclose(arr(y), np.concatenate([M, M, 2 * M]))
    y.sum().backward()
    np.testing.assert_array_equal(arr(a.grad), np.ones_like(M))
    y = np.sum([a, b])  # a list of tensors is stacked, like np.asarray would
    np.testing.assert_allclose(y.item(), 3 * M.sum())


def test_unmapped_function_without_grad_returns_numpy():
    t = t64(X, requires_grad=False)
    med = np.median(t)
    assert not isinstance(med, ag.Tensor)
    assert med == np.median(X)
    srt = np.sort(t, axis=-1)
    assert isinstance(srt, np.ndarray)
    np.testing.assert_array_equal(srt, np.sort(X, axis=-1))
    cs = np.column_stack([t[0], t[1]])  # tensors inside a list are converted too
    assert isinstance(cs, np.ndarray)
    np.testing.assert_array_equal(cs, np.column_stack([X[0], X[1]]))


def test_unmapped_function_requires_grad_raises():
    t = t64(X)
    with pytest.raises(TypeError, match="median") as info:
        np.median(t)
    assert "not differentiable" in str(info.value)
    assert "detach().numpy()" in str(info.value)
    with pytest.raises(TypeError, match="column_stack"):
        np.column_stack([t64(V, False), t64(V)])  # found inside a list
    with pytest.raises(TypeError, match="out="):
        np.sum(t, out=np.zeros(()))
    with pytest.raises(TypeError, match="where="):
        np.sum(t, where=X > 1)
    # the same calls without grad run in NumPy
    r = np.sum(t64(X, False), axis=0, out=np.zeros((3, 4)))
    np.testing.assert_allclose(r, X.sum(axis=0))


def test_array_conversion_shares_memory():
    t = ag.tensor([1.0, 2.0, 3.0])
    a = np.asarray(t)
    assert np.shares_memory(a, t.numpy())
    a[0] = 10.0
    assert t[0].item() == 10.0
    c = np.array(t)
    assert not np.shares_memory(c, t.numpy())
    assert np.asarray(t, dtype=np.float64).dtype == np.float64


# ---- DLPack --------------------------------------------------------------------------------------

def test_from_dlpack_numpy_shares_memory():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = ag.from_dlpack(a)
    assert isinstance(t, ag.Tensor) and t.shape == (2, 3) and t.dtype == np.float32
    a[0, 0] = 42.0
    assert t[0, 0].item() == 42.0
    t.numpy()[1, 2] = -1.0
    assert a[1, 2] == -1.0


def test_numpy_from_dlpack_shares_memory():
    t = ag.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=ag.float64)
    a = np.from_dlpack(t)
    assert isinstance(a, np.ndarray) and a.dtype == np.float64
    t.numpy()[0, 1] = 9.0
    assert a[0, 1] == 9.0
    with ag.no_grad():
        t += 1.0  # an in-place op writes the shared memory
    assert a[1, 1] == 5.0


def test_dlpack_roundtrip_ag_to_ag():
    t = ag.tensor([1.0, 2.0])
    u = ag.from_dlpack(t)
    assert u is t or np.shares_memory(u.numpy(), t.numpy())


def test_torch_from_dlpack_shares_memory():
    torch = pytest.importorskip("torch")
    t = ag.tensor([[1.0, 2.0, 3.0]], dtype=ag.float32)
    tt = torch.from_dlpack(t)
    assert tt.dtype == torch.float32 and tuple(tt.shape) == (1, 3)
    tt[0, 0] = 100.0  # write through torch...
    assert t[0, 0].item() == 100.0  # ...read through autograd
    t.numpy()[0, 2] = -7.0  # write through autograd...
    assert tt[0, 2].item() == -7.0  # ...read through torch


def test_ag_from_torch_dlpack_shares_memory():
    torch = pytest.importorskip("torch")
    tt = torch.arange(6, dtype=torch.float64).reshape(2, 3)
    t = ag.from_dlpack(tt)
    assert isinstance(t, ag.Tensor) and t.dtype == np.float64 and t.shape == (2, 3)
    tt[1, 1] = 50.0
    assert t[1, 1].item() == 50.0
    t.numpy()[0, 0] = -3.0
    assert tt[0, 0].item() == -3.0
    # the imported tensor is an ordinary leaf: it can require grad and be differentiated
    t.requires_grad_()
    (t * t).sum().backward()
    np.testing.assert_allclose(arr(t.grad), 2 * tt.numpy())
    ti = torch.tensor([1, 2, 3])
    assert ag.from_dlpack(ti).dtype == np.int64


def test_ufunc_with_list_operand():
    t = ag.tensor([1.0, 2.0], requires_grad=True)
    y = np.add(t, [1.0, 2.0])  # the list is an array-like (float64), as in NumPy
    assert isinstance(y, ag.Tensor) and y.dtype == np.float64
    np.testing.assert_array_equal(arr(y), [2.0, 4.0])
    y.sum().backward()
    assert t.grad.dtype == np.float32 and t.grad.shape == (2,)


def test_numpy_mapping_comes_from_the_registry():
    """Every NumPy name an op registers (``numpy=``) is served by that op, or by the
    translator of NumPy's arguments for that name; nothing else is hand-listed."""
    from autograd import numpy_compat, registry

    served = 0
    for info in registry.ops():
        for name in info.numpy:
            obj = numpy_compat._numpy_attr(name)
            if obj is None:  # not in this NumPy version
                continue
            table = numpy_compat._UFUNCS if isinstance(obj, np.ufunc) else \
                numpy_compat._FUNCTIONS
            handler = table.get(obj)
            assert handler is not None, f"numpy.{name} ({info.name}) is not served"
            assert handler in (info.fn, numpy_compat._TRANSLATORS.get(name)), name
            served += 1
    assert served > 60
    t = t64(X)
    for fn in (lambda a: np.var(a, axis=1), lambda a: np.std(a, ddof=1),
               lambda a: np.var(a, axis=(0, 2), keepdims=True),
               lambda a: np.cumsum(a, axis=2), lambda a: np.cumsum(a)):
        y = fn(t)
        assert isinstance(y, ag.Tensor) and y.grad_fn is not None
        np.testing.assert_allclose(arr(y), fn(X), rtol=1e-10)
        assert ag.gradcheck(fn, (t,))
    np.testing.assert_array_equal(arr(np.argmax(t, axis=1)), np.argmax(X, axis=1))
    np.testing.assert_allclose(np.prod(t64(X, False)), np.prod(X))
