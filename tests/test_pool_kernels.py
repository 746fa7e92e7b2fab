"""The compiled 2-D max-pooling kernels (``nn/functional/_pool_kernels.py``) against the NumPy
reference (``autograd._numba.disabled()``), PyTorch and finite differences: values, argmax
indices, gradients, over kernels, strides (overlapping windows too), padding, dilation,
ceil_mode, ties, NaN and -inf, float32 and float64, one and two engine threads."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import autograd._numba as anb
import nn.functional as F
import nn.functional._pool_kernels as PK

needs_kernels = pytest.mark.skipif(not anb.enabled(),
                                   reason="numba is not installed or AUTOGRAD_NUMBA=0")

CASES = [  # (N, C, H, W), kernel, stride, padding, dilation, ceil_mode
    ((2, 3, 8, 8), 2, None, 0, 1, False),
    ((2, 3, 9, 7), 2, None, 0, 1, True),
    ((2, 3, 9, 9), 3, 2, 1, 1, False),
    ((1, 2, 10, 11), 3, 1, 1, 1, False),
    ((2, 2, 11, 10), (3, 2), (2, 1), (1, 0), (2, 1), True),
    ((1, 1, 5, 5), 5, 1, 2, 1, False),
    ((3, 4, 12, 12), 2, 2, 1, 2, False),
]


def _pool(x, case, dtype, grad=None):
    _, k, s, p, d, ceil = case
    xt = ag.tensor(x.astype(dtype), requires_grad=True)
    y, idx = F.max_pool2d(xt, k, s, p, d, ceil_mode=ceil, return_indices=True)
    g = grad if grad is not None else np.cos(np.arange(y.numel())).reshape(tuple(y.shape))
    y.backward(ag.tensor(g.astype(dtype)))
    return y.detach().numpy().copy(), idx.numpy().copy(), xt.grad.numpy().copy()


def _data(shape, seed, special=False):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if special:  # ties (rounded values), -inf and NaN
        x = np.round(x)
        flat = x.reshape(-1)
        flat[rng.choice(flat.size, 4, replace=False)] = -np.inf
        flat[rng.choice(flat.size, 2, replace=False)] = np.nan
    return x


@needs_kernels
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_kernels_match_reference(case, dtype, monkeypatch):
    calls = []

    class Counted:  # stands in for a Kernel: counts the compiled calls
        def __init__(self, kern, tag):
            self.kern, self.tag = kern, tag

        def get(self):
            c = self.kern.get()
            return None if c is None else lambda *a: calls.append(self.tag) or c(*a)

    monkeypatch.setattr(PK, "max_pool2d", Counted(PK.max_pool2d, "f"))
    monkeypatch.setattr(PK, "max_pool2d_2x2", Counted(PK.max_pool2d_2x2, "f"))
    monkeypatch.setattr(PK, "max_pool2d_backward", Counted(PK.max_pool2d_backward, "b"))
    x = _data(case[0], 0, special=False)  # distinct values: one argmax per window
    got = _pool(x, case, dtype)
    assert calls == ["f", "b"]
    with anb.disabled():
        ref = _pool(x, case, dtype)
    np.testing.assert_array_equal(got[0], ref[0])  # values
    np.testing.assert_array_equal(got[1], ref[1])  # indices
    # the gradient: overlapping windows add in another order
    tol = 1e-14 if dtype == "float64" else 1e-6
    np.testing.assert_allclose(got[2], ref[2], rtol=tol, atol=tol)


@needs_kernels
@pytest.mark.parametrize("case", CASES, ids=str)
def test_kernels_match_torch_with_ties_nan_and_inf(case):
    torch = pytest.importorskip("torch")
    x = _data(case[0], 1, special=True)
    y, idx, gx = _pool(x, case, "float64")
    _, k, s, p, d, ceil = case
    xt = torch.tensor(x, requires_grad=True)
    ty, tidx = torch.nn.functional.max_pool2d(xt, k, s, p, d, ceil_mode=ceil,
                                              return_indices=True)
    ty.backward(torch.tensor(np.cos(np.arange(ty.numel())).reshape(tuple(ty.shape))))
    np.testing.assert_array_equal(y, ty.detach().numpy())
    np.testing.assert_array_equal(idx, tidx.numpy())
    np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=1e-14, atol=1e-14)


@needs_kernels
def test_kernels_gradcheck_and_double_backward():
    x = ag.tensor(_data((2, 2, 7, 6), 2), requires_grad=True)
    assert ag.gradcheck(lambda a: F.max_pool2d(a, 3, 2, 1), (x,))
    assert ag.gradgradcheck(lambda a: F.max_pool2d(a, 2, ceil_mode=True), (x,))


@needs_kernels
def test_kernels_threads_agree():
    """Planes split over two threads: the same numbers as one thread."""
    x = _data((64, 32, 28, 28), 3)  # large enough for the engine to split it
    old = ag.get_num_threads()
    try:
        ag.set_num_threads(1)
        one = _pool(x, ((64, 32, 28, 28), 2, None, 0, 1, False), "float32")
        ag.set_num_threads(2)
        two = _pool(x, ((64, 32, 28, 28), 2, None, 0, 1, False), "float32")
    finally:
        ag.set_num_threads(old)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


def test_kernels_as_python_match_reference():
    """The kernels' own logic, run as Python (numba or not), against the NumPy reference."""
    case = ((1, 2, 6, 5), 3, 2, 1, 1, True)
    x = _data(case[0], 4)
    with anb.disabled():
        y, idx, gx = _pool(x, case, "float64")
    ho, wo = y.shape[2:]
    x3 = x.reshape(2, 6, 5)
    y3 = np.empty((2, ho, wo))
    code = np.empty((2, ho, wo), np.int8)
    rows = np.array([-1, -1, -1, 0, 0, 0, 1, 1, 1])
    cols = np.array([-1, 0, 1, -1, 0, 1, -1, 0, 1])
    PK.max_pool2d.py(x3, rows, cols, 2, 2, y3, code, 0, 2)
    np.testing.assert_array_equal(y3, y.reshape(2, ho, wo))
    g3 = np.full((2, 6, 5), np.nan)  # the kernel zeroes it
    gy = np.cos(np.arange(y.size)).reshape(2, ho, wo)
    PK.max_pool2d_backward.py(gy, code, rows, cols, 2, 2, g3, 0, 2)
    np.testing.assert_allclose(g3, gx.reshape(2, 6, 5), rtol=1e-14, atol=1e-14)


def test_2x2_kernel_as_python_matches_reference():
    x = _data((1, 2, 6, 4), 5, special=True)
    with anb.disabled():
        y, _, _ = _pool(x, ((1, 2, 6, 4), 2, None, 0, 1, False), "float64")
    y3 = np.empty((2, 3, 2))
    code = np.empty((2, 3, 2), np.int8)
    PK.max_pool2d_2x2.py(x.reshape(2, 6, 4), y3, code, 0, 2)
    np.testing.assert_array_equal(y3, y.reshape(2, 3, 2))
    rows, cols = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
    picked = x.reshape(2, 6, 4)[np.arange(2)[:, None, None],
                                2 * np.arange(3)[None, :, None] + rows[code],
                                2 * np.arange(2)[None, None, :] + cols[code]]
    np.testing.assert_array_equal(picked, y3)  # the code points at the maximum (or a NaN)
