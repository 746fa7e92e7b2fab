"""The compiled optimizer updates (``optim/_kernels.py``: Adam/AdamW/AMSGrad and SGD with
momentum) against the NumPy updates they replace (``autograd._numba.disabled()``): bit for
bit over five steps, every option, float32 and float64; slices on two engine threads; the
kernels really run; PyTorch's optimizers as the outer reference; the kernels run as
Python."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import autograd as ag
import autograd._numba as anb
import autograd.parallel as P
import nn
import optim
import optim._kernels as K
from optim.adam import adam
from optim.sgd import sgd

needs_kernels = pytest.mark.skipif(not anb.enabled(),
                                   reason="numba is not installed or AUTOGRAD_NUMBA=0")

ADAM = [dict(amsgrad=a, weight_decay=w, decoupled_weight_decay=d, maximize=m)
        for a, (w, d), m in itertools.product([False, True], [(0.0, False), (0.1, False),
                                                              (0.1, True)], [False, True])]
SGD = [dict(momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False),
       dict(momentum=0.9, dampening=0.1, weight_decay=1e-4, nesterov=False, maximize=True),
       dict(momentum=0.5, dampening=0.0, weight_decay=1e-4, nesterov=True, maximize=False)]


def _adam_run(cfg, dtype, n=1000):
    r = np.random.default_rng(1)
    p = r.standard_normal(n).astype(dtype)
    m, v, vm = (np.zeros(n, dtype) for _ in range(3))
    for step in range(1, 6):
        g = r.standard_normal(n).astype(dtype)
        adam([p], [g], [m], [v], [vm], [step], beta1=0.9, beta2=0.999, lr=0.01, eps=1e-8,
             **cfg)
    return p, m, v, vm


def _sgd_run(cfg, dtype, n=1000):
    r = np.random.default_rng(2)
    p = r.standard_normal(n).astype(dtype)
    bufs = [None]
    for _ in range(5):
        sgd([p], [r.standard_normal(n).astype(dtype)], bufs, lr=0.01, **cfg)
    return p, bufs[0]


class _Counted:
    """Stands in for a Kernel in ``optim._kernels``: counts the compiled calls."""

    def __init__(self, kern, calls):
        self.kern, self.calls = kern, calls

    def get(self):
        c = self.kern.get()
        return None if c is None else lambda *a: self.calls.append(1) or c(*a)


CASES = [("adam_step", _adam_run, cfg, 5) for cfg in ADAM] + \
    [("sgd_step", _sgd_run, cfg, 4) for cfg in SGD]  # SGD's first step copies the gradient


@needs_kernels
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,run,cfg,n_calls", CASES, ids=str)
def test_kernel_is_bitwise_the_numpy_update(name, run, cfg, n_calls, dtype, monkeypatch):
    calls = []
    monkeypatch.setattr(K, name, _Counted(getattr(K, name), calls))
    got = run(cfg, dtype)
    assert len(calls) == n_calls
    with anb.disabled():
        ref = run(cfg, dtype)
    for a, b in zip(got, ref):
        np.testing.assert_array_equal(a, b)


@needs_kernels
def test_large_parameters_split_over_threads(monkeypatch):
    one = _adam_run(ADAM[5], "float32", n=10_001), _sgd_run(SGD[1], "float32", n=10_001)
    monkeypatch.setattr(P, "engine_threads", lambda: 2)
    monkeypatch.setattr(K, "KERNEL_MIN", 1000)
    assert P.flat_ranges(10_001, 1000) is not None
    two = _adam_run(ADAM[5], "float32", n=10_001), _sgd_run(SGD[1], "float32", n=10_001)
    for a, b in zip(one[0] + one[1], two[0] + two[1]):
        np.testing.assert_array_equal(a, b)


def test_other_arrays_take_the_numpy_update():
    """float16 and non-contiguous parameters are not the kernels' contract."""
    for p in (np.ones(8, np.float16), np.ones((4, 4))[:, ::2]):
        g = np.full(p.shape, 0.5, p.dtype)
        assert K.compiled(K.adam_step, (p, g)) is None
        m, v = np.zeros_like(p), np.zeros_like(p)
        adam([p], [g], [m], [v], [None], [1], amsgrad=False, beta1=0.9, beta2=0.999, lr=0.1,
             weight_decay=0.0, eps=1e-8, maximize=False)
        np.testing.assert_allclose(p, 0.9, rtol=1e-3)


@pytest.mark.parametrize("name", ["Adam", "AdamW", "SGD"])
def test_optimizers_match_torch(name):
    """The whole optimizer (kernels on when numba is there) against PyTorch's, 5 steps."""
    torch = pytest.importorskip("torch")
    kw = {"Adam": dict(lr=0.01, amsgrad=True, weight_decay=0.1),
          "AdamW": dict(lr=0.01, weight_decay=0.1),
          "SGD": dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-3)}[name]
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal((20, 30))
    ours = nn.Parameter(ag.tensor(w0.copy()))
    theirs = torch.nn.Parameter(torch.tensor(w0.copy()))
    o1, o2 = getattr(optim, name)([ours], **kw), getattr(torch.optim, name)([theirs], **kw)
    for _ in range(5):
        g = rng.standard_normal((20, 30))
        ours.grad, theirs.grad = ag.tensor(g), torch.tensor(g)
        o1.step()
        o2.step()
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12,
                               atol=1e-12)


def test_kernels_as_python():
    """The kernels' own logic, run as Python (numba or not), against the NumPy updates."""
    with anb.disabled():
        p, m, v, vm = _adam_run(ADAM[11], "float64", n=7)
        sp, sb = _sgd_run(SGD[2], "float64", n=7)
    r = np.random.default_rng(1)
    q = r.standard_normal(7)
    m2, v2, vm2 = (np.zeros(7) for _ in range(3))
    for step in range(1, 6):
        g = r.standard_normal(7)
        K.adam_step.py(q, g, m2, v2, vm2, True, True, 0.0, 1 - 0.01 * 0.1, 0.1, 0.999,
                       1 - 0.999, -(0.01 / (1 - 0.9 ** step)), (1 - 0.999 ** step) ** 0.5,
                       1e-8)
    for a, b in zip((q, m2, v2, vm2), (p, m, v, vm)):
        np.testing.assert_allclose(a, b, rtol=1e-15, atol=1e-15)
    r = np.random.default_rng(2)
    q = r.standard_normal(7)
    g = r.standard_normal(7)
    buf = g + 1e-4 * q  # the first step: the buffer is the (decayed) gradient
    q -= 0.01 * (g + 1e-4 * q + 0.5 * buf)
    for _ in range(4):
        K.sgd_step.py(q, r.standard_normal(7), buf, False, 1e-4, 0.5, 0.0, True, 0.01)
    np.testing.assert_allclose(q, sp, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(buf, sb, rtol=1e-15, atol=1e-15)
