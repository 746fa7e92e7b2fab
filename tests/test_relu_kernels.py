"""The compiled ReLU kernels (``autograd/ops/_relu_kernels.py``) against the NumPy reference
(``autograd._numba.disabled()``) and PyTorch: -0., nan and inf inputs, inf/nan gradients,
float32/float64, C-contiguous and strided inputs (the reference then), slices spread over
two engine threads, and the kernels run as Python."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import autograd._numba as anb
import autograd.parallel as P
import nn.functional as F
from autograd.ops import _relu_kernels as K

needs_kernels = pytest.mark.skipif(not anb.enabled(),
                                   reason="numba is not installed or AUTOGRAD_NUMBA=0")


def _special(n, seed, dtype):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    x[:6] = [-0.0, 0.0, np.nan, np.inf, -np.inf, -1e-300]
    return rng.permutation(x).astype(dtype)


def _run(x, gy):
    xt = ag.tensor(x, requires_grad=True)
    y = F.relu(xt)
    y.backward(ag.tensor(gy))
    return y.detach().numpy().copy(), xt.grad.numpy().copy()


def _same(a, b):
    """Equal including nan positions and the sign of zeros."""
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.signbit(a), np.signbit(b))


@needs_kernels
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(1000,), (4, 5, 6, 7)])
def test_relu_kernels_match_reference(shape, dtype, monkeypatch):
    n = int(np.prod(shape))
    x = _special(n, 0, dtype).reshape(shape)
    gy = _special(n, 1, dtype).reshape(shape)  # inf and nan gradients pass unchanged
    calls = []
    for name in ("relu_forward", "relu_backward"):
        kern = getattr(K, name)

        class Counted:
            def get(self, kern=kern, name=name):
                c = kern.get()
                return None if c is None else lambda *a: calls.append(name) or c(*a)

        monkeypatch.setattr(K, name, Counted())
    got = _run(x, gy)
    assert calls == ["relu_forward", "relu_backward"]
    with anb.disabled():
        ref = _run(x, gy)
    for a, b in zip(got, ref):
        _same(a, b)


@needs_kernels
def test_relu_kernels_match_torch():
    torch = pytest.importorskip("torch")
    x = _special(500, 2, "float64")
    gy = _special(500, 3, "float64")
    y, gx = _run(x, gy)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.relu(xt)
    yt.backward(torch.tensor(gy))
    _same(y, yt.detach().numpy())
    _same(gx, xt.grad.numpy())


@needs_kernels
def test_relu_kernels_split_over_threads(monkeypatch):
    """Slices on two threads (the threshold lowered so a small array splits) give the same."""
    x = _special(10_001, 4, "float32")
    gy = _special(10_001, 5, "float32")
    one = _run(x, gy)
    monkeypatch.setattr(P, "engine_threads", lambda: 2)
    monkeypatch.setattr("autograd.ops.elementwise.KERNEL_MIN", 1000)
    assert P.flat_ranges(x.size, 1000) is not None
    two = _run(x, gy)
    for a, b in zip(one, two):
        _same(a, b)


def test_relu_kernels_as_python():
    x = _special(50, 6, "float64")
    gy = _special(50, 7, "float64")
    with anb.disabled():
        y, gx = _run(x, gy)
    y2 = np.empty_like(x)
    K.relu_forward.py(x, y2)
    _same(y2, y)
    g2 = np.empty_like(x)
    K.relu_backward.py(gy, y2, g2)
    _same(g2, gx)


def test_strided_input_runs_the_reference():
    """A non-contiguous input is not the kernels' contract: the NumPy code runs, same values."""
    x = _special(64, 8, "float64").reshape(8, 8)
    y, gx = _run(x.T, np.ones((8, 8)))
    with anb.disabled():
        y0, gx0 = _run(x.T, np.ones((8, 8)))
    _same(y, y0)
    _same(gx, gx0)
