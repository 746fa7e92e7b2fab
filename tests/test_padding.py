"""F.pad and the padding layers against PyTorch: every mode and rank, negative pads
(cropping), float64 gradcheck, gradients vs PyTorch, and PyTorch's errors."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

CASES = [
    ((2, 3, 5), (1, 2), "constant"),
    ((2, 3, 5), (1, 2, 0, 1), "constant"),
    ((2, 3, 5), (-1, 2, 1, -1), "constant"),
    ((2, 3, 4, 5), (1, 2, 3, 0, 1, 1, 0, 2), "constant"),
    ((3, 5), (2, 3), "reflect"),
    ((2, 3, 5), (4, 1), "reflect"),
    ((2, 3, 5), (-1, 2), "reflect"),
    ((2, 3, 4, 5), (1, 2, 3, 0), "reflect"),
    ((3, 4, 5), (1, 2, 3, 0), "reflect"),
    ((2, 3, 4, 5, 3), (1, 2, 3, 0, 1, 1), "reflect"),
    ((3, 4, 5, 3), (1, 2, 3, 0, 1, 1), "reflect"),
    ((3, 5), (2, 3), "replicate"),
    ((2, 3, 4, 5), (1, 2, 3, 0), "replicate"),
    ((2, 3, 4, 5, 3), (1, 2, 3, 0, 2, 1), "replicate"),
    ((2, 3, 5), (-2, 1), "replicate"),
    ((3, 5), (2, 3), "circular"),
    ((2, 3, 5), (5, 0), "circular"),
    ((2, 3, 4, 5), (1, 2, 3, 0), "circular"),
    ((2, 3, 4, 5, 3), (1, 2, 3, 0, 2, 1), "circular"),
]


@pytest.mark.parametrize("shape,pad,mode", CASES)
def test_pad_matches_torch(shape, pad, mode):
    a = np.random.default_rng(0).standard_normal(shape)
    x, xt = ag.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, yt = F.pad(x, pad, mode), TF.pad(xt, pad, mode)
    assert tuple(y.shape) == tuple(yt.shape)
    np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())
    g = np.random.default_rng(1).standard_normal(tuple(yt.shape))
    y.backward(ag.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape,pad,mode", CASES[::3])
def test_pad_gradcheck(shape, pad, mode):
    x = ag.tensor(np.random.default_rng(2).standard_normal(shape), requires_grad=True)
    assert ag.gradcheck(lambda t: F.pad(t, pad, mode), (x,))


def test_pad_value_and_dtypes():
    a = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(F.pad(ag.tensor(a), (1, 1), value=2.7).numpy(),
                                  TF.pad(torch.tensor(a), (1, 1), value=2.7).numpy())
    np.testing.assert_array_equal(F.pad(ag.tensor(a), (1, 1), "reflect").numpy(),
                                  TF.pad(torch.tensor(a), (1, 1), "reflect").numpy())
    f = np.float32(np.random.default_rng(0).standard_normal((2, 3, 4)))
    y = F.pad(ag.tensor(f), (1, 1, 1, 1), "replicate")
    assert y.dtype == ag.float32


@pytest.mark.parametrize("shape,pad,mode,exc", [
    ((2, 3), (1,), "constant", RuntimeError),
    ((2, 3), (1, 1, 1, 1, 1, 1), "constant", RuntimeError),
    ((4,), (1, 1), "reflect", NotImplementedError),
    ((2, 4), (1, 1, 1, 1), "replicate", NotImplementedError),
    ((2, 2, 2, 4), (1, 1), "reflect", NotImplementedError),
    ((2, 3, 4), (4, 1), "reflect", RuntimeError),
    ((2, 3, 4), (5, 0), "circular", RuntimeError),
    ((2, 3), (1, 1), "bogus", NotImplementedError),
])
def test_pad_errors_like_torch(shape, pad, mode, exc):
    with pytest.raises(exc):
        TF.pad(torch.zeros(shape), pad, mode)
    with pytest.raises(exc):
        F.pad(ag.zeros(*shape), pad, mode)


def test_pad_value_with_non_constant_mode():
    with pytest.raises(RuntimeError, match="value"):
        F.pad(ag.zeros(2, 3, 4), (1, 1), "reflect", value=2.0)
    assert F.pad(ag.zeros(2, 3, 4), (1, 1), "reflect", value=0.0).shape == (2, 3, 6)


LAYERS = [
    ("ConstantPad1d", ((1, 2), 3.5), (2, 3, 4)),
    ("ConstantPad2d", (2, -1.0), (2, 3, 4)),
    ("ConstantPad3d", ((1, 0, 2, 1, 0, 1), 0.5), (1, 2, 3, 4, 2)),
    ("ZeroPad1d", (2,), (3, 4)),
    ("ZeroPad2d", ((1, 2, 0, 1),), (2, 3, 4)),
    ("ZeroPad3d", (1,), (2, 3, 4, 2)),
    ("ReflectionPad1d", ((2, 1),), (2, 3, 4)),
    ("ReflectionPad2d", (1,), (2, 3, 3, 4)),
    ("ReflectionPad3d", ((1, 0, 1, 1, 0, 1),), (2, 2, 3, 4)),
    ("ReplicationPad1d", (3,), (3, 4)),
    ("ReplicationPad2d", ((1, 2, 0, 3),), (1, 3, 3, 4)),
    ("ReplicationPad3d", (2,), (1, 2, 2, 3, 2)),
    ("CircularPad1d", ((2, 1),), (2, 3, 4)),
    ("CircularPad2d", (1,), (3, 3, 4)),
    ("CircularPad3d", ((1, 0, 1, 1, 0, 1),), (1, 2, 2, 3, 4)),
]


@pytest.mark.parametrize("name,args,shape", LAYERS)
def test_padding_layers(name, args, shape):
    m, mt = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert m.padding == mt.padding
    assert repr(m) == repr(mt)
    a = np.random.default_rng(0).standard_normal(shape)
    x, xt = ag.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, yt = m(x), mt(xt)
    np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())


def test_circular_pad_rank_error():
    with pytest.raises(ValueError, match="expected 3D or 4D input"):
        torch.nn.CircularPad2d(1)(torch.zeros(3, 3))
    with pytest.raises(ValueError, match="expected 3D or 4D input"):
        nn.CircularPad2d(1)(ag.zeros(3, 3))
