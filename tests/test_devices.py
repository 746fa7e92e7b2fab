"""Device dispatch: the same code on "cpu" (NumPy) and "cuda" (CuPy).

Every case runs on the CPU; the "cuda" parameter is marked ``gpu`` and skipped unless CuPy
sees a GPU, where it compares the GPU's values and gradients with the CPU's.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag

HAS_GPU = ag.cuda.is_available()
gpu = pytest.mark.skipif(not HAS_GPU, reason="needs CuPy and a CUDA GPU")
DEVICES = ["cpu", pytest.param("cuda", marks=[pytest.mark.gpu, gpu])]


def _run(fn, arrays, device):
    ts = [ag.tensor(a, device=device, requires_grad=a.dtype.kind == "f") for a in arrays]
    out = fn(*ts)
    out.sum().backward()
    grads = [None if t.grad is None else t.grad.cpu().numpy() for t in ts]
    return out.detach().cpu().numpy(), grads


CASES = {
    "add_broadcast": (lambda a, b: a + b, [(3, 1), (1, 4)]),
    "mul_div": (lambda a, b: a * b / (b * b + 1), [(2, 3), (2, 3)]),
    "matmul": (lambda a, b: a @ b, [(5, 3), (3, 4)]),
    "batched_matmul": (lambda a, b: a @ b, [(2, 5, 3), (3, 4)]),
    "unary_chain": (lambda a: (a.tanh() + a.sigmoid() * a.exp()).relu(), [(4, 4)]),
    "reduce_sum_mean": (lambda a: a.sum(1) + a.mean(1), [(3, 5)]),
    "shape_ops": (lambda a: a.reshape(6, 2).T.flip(0)[1:], [(3, 4)]),
    "cat_stack": (lambda a, b: ag.cat([a, b], 1) * ag.stack([a, b]).sum(0).sum(1, keepdim=True),
                  [(2, 3), (2, 3)]),
    "index": (lambda a: a[ag.tensor([0, 2, 2])] * 2, [(4, 3)]),
    "einsum": (lambda a, b: ag.einsum("ij,jk->ik", a, b), [(2, 3), (3, 2)]),
    "pad": (lambda a: ag.pad(a, (1, 2)), [(2, 3)]),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_op_on_device_matches_numpy_cpu(case, device):
    fn, shapes = CASES[case]
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    out_cpu, g_cpu = _run(fn, arrays, "cpu")
    out, g = _run(fn, arrays, device)
    assert out.shape == out_cpu.shape
    np.testing.assert_allclose(out, out_cpu, rtol=1e-6, atol=1e-9)
    for a, b in zip(g, g_cpu):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("device", DEVICES)
def test_creation_and_transfer(device):
    t = ag.zeros(2, 3, device=device)
    assert t.device == device
    assert str(t.device) == ("cpu" if device == "cpu" else "cuda:0")
    back = t.to("cpu")
    assert back.device == "cpu" and isinstance(back.numpy(), np.ndarray)
    x = ag.randn(3, requires_grad=True)
    y = x.to(device) * 2
    y.sum().backward()  # the gradient flows back across the device move
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 2.0])
    assert x.grad.device == "cpu"


def test_device_parsing():
    assert ag.device("cuda") == ag.device("cuda:0")
    assert ag.device("cpu") == "cpu"
    with pytest.raises(ValueError, match="unknown device"):
        ag.zeros(2, device="tpu")


@gpu
@pytest.mark.gpu
def test_mixing_devices_raises():
    a = ag.ones(3)
    b = ag.ones(3, device="cuda")
    with pytest.raises(RuntimeError, match="same device"):
        a + b
