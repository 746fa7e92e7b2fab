"""Shared by the tests of the compiled convolution paths (``test_direct_conv.py``,
``test_winograd.py``): one conv2d forward + backward on seeded data, in this engine or in
PyTorch, and the comparison of the results."""

from __future__ import annotations

import numpy as np

import autograd as ag
import nn.functional as F


def conv_run(x_shape, w_shape, pad, dtype, seed=0, bias=True, torch=None):
    """conv2d forward + backward with a fixed output gradient (cos of the flat index):
    [y, gx, gw] (+ [gb] with ``bias``) as NumPy arrays; by PyTorch when ``torch`` is the
    module (the same data: the draws are x, w, then b)."""
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(x_shape).astype(dtype),
              rng.standard_normal(w_shape).astype(dtype)]
    if bias:
        arrays.append(rng.standard_normal(w_shape[0]).astype(dtype))
    make, conv = ((ag.tensor, F.conv2d) if torch is None
                  else (torch.tensor, torch.nn.functional.conv2d))
    ts = [make(a, requires_grad=True) for a in arrays]
    y = conv(ts[0], ts[1], ts[2] if bias else None, padding=pad)
    y.backward(make(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)).astype(dtype)))
    return [y.detach().numpy().copy()] + [t.grad.numpy().copy() for t in ts]


def assert_close(a, b, dtype, tol64):
    """Each pair of arrays of the same dtype and shape, within ``tol64`` (float64) or 2e-5
    relative to the larger of 1 and the reference's largest magnitude."""
    tol = tol64 if dtype == "float64" else 2e-5
    for u, v in zip(a, b):
        assert u.dtype == v.dtype == np.dtype(dtype)
        assert u.shape == v.shape
        scale = max(float(np.abs(v).max(initial=0.0)), 1.0)
        np.testing.assert_allclose(u, v, rtol=tol, atol=tol * scale)
