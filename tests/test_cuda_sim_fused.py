"""The CuPy fast paths (autograd/fused.py: ``cupy.fuse`` kernels) run on the stand-in, under
``cupy.fuse``'s restrictions, and agree with the NumPy code the CPU runs."""

from __future__ import annotations

import pathlib
import sys

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
import optim
from autograd import fused

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import cupy_sim  # noqa: E402

cp = cupy_sim.module




def _used(name):
    return (name, id(cp)) in fused._built


@pytest.mark.parametrize("opt,kw", [
    (optim.Adam, {"lr": 0.01}), (optim.Adam, {"lr": 0.01, "weight_decay": 0.1}),
    (optim.AdamW, {"lr": 0.01, "weight_decay": 0.1}), (optim.Adam, {"maximize": True})])
def test_fused_adam_matches_cpu(sim, opt, kw):
    res = []
    for dev in ("cpu", "cuda"):
        ag.manual_seed(0)
        m = nn.Linear(4, 3).to(dev)
        o = opt(m.parameters(), **kw)
        x = ag.tensor(np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)).to(dev)
        for _ in range(4):
            o.zero_grad()
            (m(x) ** 2).sum().backward()
            o.step()
        res.append([p.detach().cpu().numpy() for p in m.parameters()])
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)
    assert _used("adam")


@pytest.mark.parametrize("kw", [{}, {"reduction": "sum"}, {"reduction": "none"},
                                {"ignore_index": 1}])
def test_fused_cross_entropy_grad_matches_cpu(sim, kw):
    xs = np.random.default_rng(0).standard_normal((6, 5)).astype(np.float32)
    ts = np.array([0, 1, 4, 1, 2, 3])
    res = []
    for dev in ("cpu", "cuda"):
        x = ag.tensor(xs, device=dev, requires_grad=True)
        out = F.cross_entropy(x, ag.tensor(ts, device=dev), **kw)
        (out * ag.arange(out.numel(), device=dev).reshape(out.shape).float()).sum().backward() \
            if out.ndim else out.backward()
        res.append((out.detach().cpu().numpy(), x.grad.cpu().numpy()))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-6)
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-5, atol=1e-7)
    assert _used("xent_grad")


def test_out_of_range_target_gives_nan_on_the_gpu_without_a_sync(sim):
    x = ag.zeros(2, 3, device="cuda")
    with cupy_sim._transfers.counting() as c:
        loss = F.cross_entropy(x, ag.tensor([0, 7], device="cuda"))
    assert c.count == 0
    assert np.isnan(loss.item())
    with pytest.raises(IndexError, match="out of bounds"):
        F.cross_entropy(ag.zeros(2, 3), ag.tensor([0, 7]))  # the CPU checks


@pytest.mark.parametrize("make,shape", [(lambda: nn.BatchNorm2d(3), (4, 3, 2, 2)),
                                        (lambda: nn.BatchNorm1d(5), (6, 5)),
                                        (lambda: nn.LayerNorm(5), (2, 3, 5))])
def test_fused_normalisation_matches_cpu(sim, make, shape):
    xs = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    res = []
    for dev in ("cpu", "cuda"):
        m = make().to(dev)
        with ag.no_grad():
            m.weight.mul_(1.5)
            m.bias.add_(0.3)
        x = ag.tensor(xs, device=dev, requires_grad=True)
        y = m(x)
        (y * y * ag.tensor(xs, device=dev)).sum().backward()
        res.append([y.detach().cpu().numpy(), x.grad.cpu().numpy(),
                    m.weight.grad.cpu().numpy()])
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5)
    assert _used("norm_affine") and _used("norm_grad")


@pytest.mark.parametrize("fn,kernel", [(F.silu, "silu_grad"), (F.gelu, "gelu_grad"),
                                       (lambda t: F.gelu(t, approximate="tanh"),
                                        "gelu_tanh_grad")])
def test_fused_activation_backward_matches_cpu(sim, fn, kernel):
    xs = np.linspace(-4, 4, 17, dtype=np.float32)
    grads = []
    for dev in ("cpu", "cuda"):
        x = ag.tensor(xs, device=dev, requires_grad=True)
        (fn(x) * ag.tensor(xs + 1, device=dev)).sum().backward()
        grads.append(x.grad.cpu().numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-5, atol=1e-6)
    assert _used(kernel)


def test_every_kernel_obeys_fuse_rules(sim):
    """Each kernel body, run directly under the stand-in's cupy.fuse (which refuses indexing,
    host copies and non-ufunc calls), gives the same values as the plain body on NumPy."""
    rng = np.random.default_rng(2)
    args = {
        "adam": lambda: [rng.random(5, dtype=np.float32) for _ in range(4)]
        + [0.9, 0.999, 0.01, 0.5, 1e-8, 0.99, 0.01],
        "xent_grad": lambda: [np.log(np.full((2, 3), 1 / 3, np.float32)),
                              np.arange(3)[None, :], np.array([[0], [2]]), np.float32(0.5)],
        "norm_affine": lambda: [rng.random((2, 3), dtype=np.float32) for _ in range(5)],
        "norm_grad": lambda: [rng.random((2, 3), dtype=np.float32) for _ in range(5)],
        "silu_grad": lambda: [rng.random(4, dtype=np.float32) for _ in range(2)],
        "gelu_tanh_grad": lambda: [rng.random(4, dtype=np.float32) for _ in range(2)],
        "gelu_grad": lambda: [rng.random(4, dtype=np.float32) for _ in range(3)],
    }
    assert set(args) == set(fused.KERNELS)
    for name, make in args.items():
        a = make()
        want = fused.KERNELS[name](np)(*a)
        dev = [cp.asarray(v) if isinstance(v, np.ndarray) else v for v in a]
        got = fused.kernel(name, cp)(*dev)
        for w, g in zip(want if isinstance(want, tuple) else (want,),
                        got if isinstance(got, tuple) else (got,)):
            np.testing.assert_allclose(cp.asnumpy(g), w, rtol=1e-6, err_msg=name)
