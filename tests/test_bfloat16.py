"""bfloat16 (ml_dtypes' NumPy type, as JAX uses) as a real dtype: creation, conversion,
PyTorch's promotion rules, arithmetic rounded once per op from float32 (PyTorch's CPU
kernels), float32 accumulation in reductions and matmul, gradients in bfloat16, printing,
``view(dtype)`` and saving."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag

torch = pytest.importorskip("torch")
pytest.importorskip("ml_dtypes")


def pair(shape, seed=0, requires_grad=False, lo=-2.0, hi=2.0):
    a = np.random.default_rng(seed).uniform(lo, hi, shape).astype(np.float32)
    t = torch.tensor(a).bfloat16()
    x = ag.tensor(a).bfloat16()
    if requires_grad:
        t.requires_grad_()
        x.requires_grad_()
    return x, t


def same(x, t, tol=0.0):
    assert str(x.dtype) == "torch.bfloat16" and t.dtype == torch.bfloat16
    assert tuple(x.shape) == tuple(t.shape)
    np.testing.assert_allclose(x.detach().float().numpy(), t.detach().float().numpy(),
                               rtol=tol, atol=tol)


def test_dtype_and_conversions():
    assert ag.bfloat16 == ag.dtypes.bfloat16 and "bfloat16" in dir(ag)
    x = ag.tensor([1.0, 2.5, -3.3], dtype=ag.bfloat16)
    assert x.dtype == ag.bfloat16 and x.is_floating_point()
    assert ag.tensor([1.0], dtype="bfloat16").dtype == ag.bfloat16
    t = torch.tensor([1.0, 2.5, -3.3], dtype=torch.bfloat16)
    same(x, t)
    assert x.float().dtype == ag.float32 and x.to(ag.float64).dtype == ag.float64
    assert ag.zeros(2, 3, dtype=ag.bfloat16).dtype == ag.bfloat16
    assert x.type() == t.type() == "torch.BFloat16Tensor"
    np.testing.assert_array_equal(x.view(ag.int16).numpy(), t.view(torch.int16).numpy())
    assert "bfloat16" in repr(x)


@pytest.mark.parametrize("other,expected", [
    ("float16", "float32"), ("float32", "float32"), ("float64", "float64"),
    ("int64", "bfloat16"), ("uint8", "bfloat16"), ("bool", "bfloat16")])
def test_promotion(other, expected):
    assert str(ag.promote_types(ag.bfloat16, getattr(ag, other))) == "torch." + expected
    assert str(torch.promote_types(torch.bfloat16, getattr(torch, other))) == "torch." + expected
    x = ag.ones(2, dtype=ag.bfloat16)
    y = ag.ones(2, dtype=getattr(ag, other))
    assert str((x + y).dtype) == "torch." + expected
    assert (x * 2.5).dtype == ag.bfloat16 and (x + 3).dtype == ag.bfloat16


@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid", "relu", "neg", "abs", "sqrt",
                                  "log", "sin", "square"])
def test_unary_rounds_once(name):
    x, t = pair((5, 7), lo=0.1)
    same(getattr(x, name)(), getattr(t, name)())


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum"])
def test_binary_rounds_once(op):
    x, t = pair((4, 5))
    y, u = pair((5,), 1, lo=0.5)
    same(getattr(ag, op)(x, y), getattr(torch, op)(t, u))


def test_reductions_accumulate_in_float32():
    x, t = pair((64, 33))
    same(x.sum(), t.sum())
    same(x.mean(1), t.mean(1))
    same(x.sum(0), t.sum(0))
    same(x.softmax(-1), t.softmax(-1), 1e-2)
    same(x.var(1), t.var(1), 1e-2)


def test_matmul_linear_and_gradients():
    x, t = pair((8, 16), requires_grad=True)
    w, u = pair((4, 16), 1, requires_grad=True)
    b, c = pair((4,), 2, requires_grad=True)
    out = ag.nn.functional.linear(x, w, b)
    ref = torch.nn.functional.linear(t, u, c)
    same(out, ref, 1e-2)
    out.relu().sum().backward()
    ref.relu().sum().backward()
    for g, h in ((x.grad, t.grad), (w.grad, u.grad), (b.grad, c.grad)):
        same(g, h, 5e-2)


def test_training_step_in_bfloat16():
    import nn

    model = nn.Linear(6, 3).to(ag.bfloat16)
    ref = torch.nn.Linear(6, 3).bfloat16()
    ref.load_state_dict({k: torch.tensor(v.float().numpy()).bfloat16()
                         for k, v in model.state_dict().items()})
    x, t = pair((10, 6), 3)
    y = np.arange(10) % 3
    opt = ag.optim.SGD(model.parameters(), lr=0.1)
    topt = torch.optim.SGD(ref.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        topt.zero_grad()
        loss = ag.nn.functional.cross_entropy(model(x), ag.tensor(y))
        tloss = torch.nn.functional.cross_entropy(ref(t), torch.tensor(y))
        loss.backward()
        tloss.backward()
        opt.step()
        topt.step()
        assert loss.dtype == ag.bfloat16
        np.testing.assert_allclose(loss.float().item(), tloss.float().item(), rtol=2e-2)
    assert model.weight.dtype == ag.bfloat16


def test_save_and_load(tmp_path):
    x = ag.tensor([1.0, -2.5, 3.1], dtype=ag.bfloat16)
    ag.save({"x": x}, str(tmp_path / "bf.pt"))
    y = ag.load(str(tmp_path / "bf.pt"))["x"]
    assert y.dtype == ag.bfloat16
    np.testing.assert_array_equal(y.view(ag.int16).numpy(), x.view(ag.int16).numpy())
