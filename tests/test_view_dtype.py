"""``Tensor.view(dtype)`` (the same memory read as another dtype), the legacy type names
(``Tensor.type()``) and the byte/char/short conversions, against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag

torch = pytest.importorskip("torch")

PAIRS = [("float32", "int32"), ("float32", "float16"), ("int16", "int64"), ("float64", "int32"),
         ("uint8", "bool"), ("int64", "float64"), ("float16", "uint8")]


@pytest.mark.parametrize("src,dst", PAIRS)
@pytest.mark.parametrize("shape", [(2, 4), (3, 8), (1, 16)])
def test_view_dtype_matches_pytorch(src, dst, shape):
    a = np.random.default_rng(0).integers(0, 2 if src == "uint8" and dst == "bool" else 100,
                                          shape).astype(src)
    t = torch.from_numpy(a.copy())
    x = ag.tensor(a.copy())
    out = x.view(getattr(ag, dst) if dst != "bool" else ag.bool)
    ref = t.view(getattr(torch, dst))
    assert out.shape == tuple(ref.shape)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    assert not out.requires_grad


def test_view_dtype_shares_memory_and_errors():
    x = ag.zeros(2, 4)
    y = x.view(ag.int32)
    y[0, 0] = 1065353216  # the bits of 1.0f
    assert x[0, 0].item() == 1.0
    for bad, match in [(lambda: x.t().view(ag.float16), "stride"),
                       (lambda: ag.zeros(3, dtype=ag.int16).view(ag.int64), "divisible"),
                       (lambda: ag.tensor(1.5).view(ag.int16), "dim")]:
        with pytest.raises(RuntimeError, match=match):
            bad()
    with pytest.raises(RuntimeError):
        torch.zeros(3, dtype=torch.int16).view(torch.int64)
    assert not ag.randn(3, requires_grad=True).view(ag.float32).requires_grad


def test_type_names_and_conversions():
    for dt in ("float32", "float64", "int64", "int32", "int16", "int8", "uint8", "bool",
               "float16"):
        x, t = ag.zeros(2, dtype=getattr(ag, dt)), torch.zeros(2, dtype=getattr(torch, dt))
        assert x.type() == t.type()
    x = ag.tensor([1.7, -2.2])
    assert x.type("torch.DoubleTensor").dtype == ag.float64
    assert x.type(ag.int64).dtype == ag.int64
    with pytest.raises(ValueError):
        x.type("torch.NoSuchTensor")
    t = torch.tensor([1.7, -2.2])
    for m in ("byte", "char", "short"):
        np.testing.assert_array_equal(getattr(x, m)().numpy(), getattr(t, m)().numpy())
