"""Regression tests for the wrong results of issue 12 (found by another project's op-by-op
suite), one per rule fixed. The edge sweep (test_edge_sweep.py) checks the same rules over
every op, dtype and edge value; these pin the reported cases, most without PyTorch."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import autograd as ag
import nn.functional as F


def f64(a, rg=True):
    return ag.tensor(np.asarray(a, dtype=np.float64), requires_grad=rg)


# ---- pow: PyTorch's gradient rules at base 0 ------------------------------------------------

@pytest.mark.parametrize("exp", [0, 0.0])
def test_pow_zero_exponent_gradient_at_zero_base_is_zero(exp):
    x = f64([0.0, 2.0])
    (x ** exp).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_pow_tensor_exponent_zero_gradient_at_zero_base():
    x, y = f64([0.0, 0.0]), f64([0.0, 2.0])
    (x ** y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(y.grad.numpy(), [0.0, 0.0])  # log(0) masked for y >= 0


def test_pow_exponent_gradient_at_zero_base_negative_exponent_is_minus_inf():
    y = f64([-1.0, -2.0, -0.3])
    (0.0 ** y).sum().backward()
    assert np.all(y.grad.numpy() == -np.inf)
    x, y = f64([0.0]), f64([-0.3])
    (x ** y).sum().backward()
    assert y.grad.item() == -math.inf


def test_integer_pow_negative_exponents():
    a = ag.tensor([2, 0, 1, -1, -2, 3], dtype=ag.int32)
    b = ag.tensor([-1, -1, -2, -3, -2, 0], dtype=ag.int32)
    assert (a ** b).tolist() == [0, 0, 1, -1, 0, 1]
    with pytest.raises(RuntimeError, match="negative integer powers"):
        a ** -1


# ---- type promotion -------------------------------------------------------------------------

def test_div_rounding_modes_keep_the_promoted_dtype():
    a = ag.tensor([7, -7, 5], dtype=ag.int32)
    b = ag.tensor([2, 2, -3], dtype=ag.int32)
    r = ag.div(a, b, rounding_mode="trunc")
    assert r.dtype == ag.int32 and r.tolist() == [3, -3, -1]
    r = ag.div(a, b, rounding_mode="floor")
    assert r.dtype == ag.int32 and r.tolist() == [3, -4, -2]
    r = ag.div(ag.tensor([7.0, -7.0]), ag.tensor([2, 2], dtype=ag.int32), rounding_mode="floor")
    assert r.dtype == ag.float32 and r.tolist() == [3.0, -4.0]
    with pytest.raises(RuntimeError, match="rounding_mode"):
        ag.div(a, b, rounding_mode="typo")


def test_integer_division_by_zero_is_an_error():
    a = ag.tensor([1, 2])
    for fn in (lambda: a // 0, lambda: ag.div(a, 0, rounding_mode="trunc"),
               lambda: ag.remainder(a, ag.tensor([1, 0])), lambda: ag.fmod(a, 0)):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            fn()
    assert (ag.tensor([1.0]) // 0).tolist() == [math.inf]


def test_where_with_two_python_scalars_is_a_tensor():
    c = ag.tensor([True, False])
    r = ag.where(c, 4, 2)
    assert isinstance(r, ag.Tensor) and r.dtype == ag.int64 and r.tolist() == [4, 2]
    r = ag.where(c, 4.0, 2)
    assert r.dtype == ag.float32


def test_uint8_with_negative_python_int_wraps_like_pytorch():
    assert (ag.tensor([5], dtype=ag.uint8) + -3).tolist() == [2]
    assert (ag.tensor([0], dtype=ag.uint8) - 1).tolist() == [255]


def test_comparisons_promote_first():
    # float16 with int32: the int converts to float16 (65519 rounds to 65504... and 2**31 - 1
    # to inf), as PyTorch compares
    a = ag.tensor([math.inf], dtype=ag.float16)
    assert (a == ag.tensor([2**31 - 1], dtype=ag.int32)).tolist() == [True]


def test_inplace_refuses_a_result_that_cannot_be_cast_back():
    with pytest.raises(RuntimeError, match="can't be cast"):
        ag.zeros(2, dtype=ag.int32).add_(1.5)
    with pytest.raises(RuntimeError, match="can't be cast"):
        ag.zeros(2, dtype=ag.bool).add_(1)
    assert ag.zeros(2, dtype=ag.int32).add_(ag.ones(2, dtype=ag.int64)).dtype == ag.int32


def test_promotion_api_matches_pytorch():
    torch = pytest.importorskip("torch")
    names = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]
    for a, b in itertools.product(names, names):
        da, db = (getattr(ag, n if n != "bool" else "bool_") for n in (a, b))
        ta, tb = getattr(torch, a), getattr(torch, b)
        assert str(ag.promote_types(da, db)) == str(torch.promote_types(ta, tb))
        assert ag.can_cast(da, db) == torch.can_cast(ta, tb)
        for sa, sb in [((2,), (2,)), ((), (2,)), ((2,), ()), ((), ())]:
            x, y = np.zeros(sa, a), np.zeros(sb, b)
            got = ag.result_type(ag.tensor(x), ag.tensor(y))
            assert str(got) == str(torch.result_type(torch.from_numpy(x), torch.from_numpy(y)))
        for s in (True, 2, 2.5):
            got = ag.result_type(ag.tensor(np.zeros(2, a)), s)
            assert str(got) == str(torch.result_type(torch.zeros(2, dtype=ta), s))


# ---- errors: PyTorch's classes, this project's messages ------------------------------------

def test_argument_errors():
    x = ag.zeros(2, 3)
    with pytest.raises(RuntimeError, match="shifts and dimensions must align"):
        ag.roll(x, (1, 2), (0,))
    with pytest.raises(RuntimeError, match="appears multiple times"):
        ag.flip(x, (0, 0))
    with pytest.raises(RuntimeError, match=r"einsum\(\): subscript j"):
        ag.einsum("ij,jk->ik", ag.zeros(4, 4), ag.zeros(3, 4))
    with pytest.raises(NotImplementedError):
        ag.linspace(0, 1, 5, dtype=ag.bool)
    with pytest.raises(RuntimeError, match="cross_entropy"):
        F.cross_entropy(ag.zeros(4, 3), ag.zeros(4, 1))
    with pytest.raises(RuntimeError, match="target should be between 0 and 1"):
        F.binary_cross_entropy(ag.tensor([0.5]), ag.tensor([2.0]))
    with pytest.raises(RuntimeError, match="bool"):
        ag.tensor([True]) - ag.tensor([1.0])


def test_randint_high_and_size_positional():
    r = ag.randint(3, (50,))
    assert tuple(r.shape) == (50,) and 0 <= int(r.min()) and int(r.max()) < 3
    assert tuple(ag.randint(2, 5, (4,)).shape) == (4,)


# ---- indexing: integers select before tensors index ---------------------------------------

def test_int_with_advanced_index_keeps_pytorch_dim_order():
    x = ag.zeros(2, 3, 16, 5, 4)
    idx = ag.tensor([0, 2])
    assert tuple(x[1, :, 3:11:2, idx, 0:2].shape) == (3, 4, 2, 2)
    j = ag.tensor([0, 1])
    assert tuple(x[j, 1, j].shape) == (2, 5, 4)  # PyTorch: x[:, 1][j, j]


# ---- second derivatives -------------------------------------------------------------------

def test_einsum_repeated_subscripts_are_twice_differentiable():
    x = f64(np.random.default_rng(0).standard_normal((3, 3)))
    assert ag.gradcheck(lambda t: ag.einsum("ii->i", t), (x,))
    assert ag.gradgradcheck(lambda t: ag.einsum("ii->i", t) ** 2, (x,))
    y = f64(np.random.default_rng(1).standard_normal((3, 3, 2)))
    assert ag.gradgradcheck(lambda t: ag.einsum("iij->j", t) ** 2, (y,))


def test_fused_cross_entropy_double_backward():
    x = f64(np.random.default_rng(2).standard_normal((4, 3, 2)))
    t = ag.tensor([[0, 1], [2, 2], [1, 0], [0, 2]])
    assert ag.gradgradcheck(lambda a: F.cross_entropy(a, t, label_smoothing=0.1), (x,))


def test_bias_gradients_stay_in_the_graph():
    rng = np.random.default_rng(3)
    x, w, b = f64(rng.standard_normal((2, 3, 5, 5))), f64(rng.standard_normal((4, 3, 3, 3))), \
        f64(rng.standard_normal(4))
    (gb,) = ag.grad(F.conv2d(x, w, b).sum(), b, create_graph=True)
    assert gb.requires_grad and gb.grad_fn is not None
    gx, gw = ag.grad(gb.sum(), [x, w])
    assert float(gx.abs().sum()) == 0.0 and float(gw.abs().sum()) == 0.0
    ln_w, ln_b = f64(np.ones(5)), f64(np.zeros(5))
    (gb,) = ag.grad(F.layer_norm(x, (5,), ln_w, ln_b).sum(), ln_b, create_graph=True)
    assert gb.requires_grad


# ---- nn results against PyTorch ------------------------------------------------------------

def test_cross_entropy_probability_targets_with_extra_dims():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((32, 4, 4, 4))
    t = rng.random((32, 4, 4, 4))
    t /= t.sum(1, keepdims=True)
    a, b = f64(x), torch.tensor(x, requires_grad=True)
    la, lb = F.cross_entropy(a, ag.tensor(t)), torch.nn.functional.cross_entropy(
        b, torch.tensor(t))
    assert abs(la.item() - lb.item()) < 1e-12
    la.backward()
    lb.backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("kw", [dict(size=(10, 20)), dict(scale_factor=1.7),
                                dict(size=(7, 13), align_corners=True), dict(size=(4, 5))])
def test_bilinear_interpolate_uint8_matches_pytorch(kw):
    torch = pytest.importorskip("torch")
    img = np.random.default_rng(5).integers(0, 256, (2, 3, 10, 12)).astype(np.uint8)
    a = F.interpolate(ag.tensor(img), mode="bilinear", **kw)
    b = torch.nn.functional.interpolate(torch.tensor(img), mode="bilinear", **kw)
    assert a.dtype == ag.uint8
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_setitem_with_int_and_advanced_index_uses_pytorch_dim_order():
    x = ag.zeros(2, 3, 16, 5, 4)
    v = ag.tensor(np.arange(3 * 4 * 2 * 2, dtype=np.float32).reshape(3, 4, 2, 2))
    x[1, :, 3:11:2, ag.tensor([0, 2]), 0:2] = v
    np.testing.assert_array_equal(x[1, :, 3:11:2, ag.tensor([0, 2]), 0:2].numpy(), v.numpy())
    # recorded: the value's gradient comes back in the same layout
    b = f64(np.zeros((2, 3, 16, 5, 4)))
    c = b * 1
    w = f64(np.ones((3, 4, 2, 2)))
    c[1, :, 3:11:2, ag.tensor([0, 2]), 0:2] = w * 3
    (c * c).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.full((3, 4, 2, 2), 18.0))


def test_float16_with_python_numbers_computes_in_float32():
    x = ag.tensor([1.0, 2.0], dtype=ag.float16, requires_grad=True)
    y = x / 1e5  # 1e5 is beyond float16's range: not x / inf
    assert y.dtype == ag.float16 and float(y[0]) > 0
    assert (2.0 * x).dtype == ag.float16 and (x + 1.5).dtype == ag.float16
    y.sum().backward()
    assert x.grad.dtype == ag.float16


# ---- linspace: PyTorch's values (symmetric halves, one rounding), not NumPy's ----------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linspace_is_exactly_symmetric_and_ends_on_end(dtype):
    x = ag.linspace(-math.pi, math.pi, 2000, dtype=getattr(ag, dtype)).numpy()
    assert np.array_equal(x, -x[::-1])  # NumPy's start + i * step is not (604 values off)
    assert x[0] == np.dtype(dtype).type(-math.pi) and x[-1] == np.dtype(dtype).type(math.pi)
    assert ag.linspace(3.0, 3.0, 1).tolist() == [3.0] and ag.linspace(0, 1, 0).numel() == 0


LINSPACES = [(-math.pi, math.pi, 2000), (0, 1, 7), (-3, 5, 1001), (2.5, -1.25, 10),
             (-1e6, 3, 12345), (0, 10, 4), (7, 7, 1)]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32"])
@pytest.mark.parametrize("args", LINSPACES, ids=str)
def test_linspace_matches_torch_bit_for_bit(args, dtype):
    torch = pytest.importorskip("torch")
    a = ag.linspace(*args, dtype=getattr(ag, dtype)).numpy()
    b = torch.linspace(*args, dtype=getattr(torch, dtype)).numpy()
    assert a.dtype == b.dtype and np.array_equal(a, b)


@pytest.mark.parametrize("call, error", [
    (lambda t: t.where(t.ones(3, dtype=t.bool), t.ones(3, 4), t.ones(5, 6)), RuntimeError),
    (lambda t: int(t.ones(2)), ValueError),
    (lambda t: float(t.ones(0)), ValueError),
    (lambda t: t.randint(5, 2, (3,)), RuntimeError),
    (lambda t: t.arange(0, 5, -1), RuntimeError),
    (lambda t: t.ones(3).chunk(0), RuntimeError),
    (lambda t: t.zeros(3, 4).__setitem__(0, t.ones(3)), RuntimeError),
    (lambda t: t.nn.functional.cross_entropy(t.randn(2, 3), t.tensor([0, 1, 2])), ValueError),
])
def test_misuse_raises_pytorchs_exception_class(call, error):
    """Common mistakes raise the exception class PyTorch raises (programs catch them)."""
    torch = pytest.importorskip("torch")
    with pytest.raises(error):
        call(torch)
    with pytest.raises(error):
        call(ag)
