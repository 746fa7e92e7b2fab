"""Saved-tensor hooks, save_on_cpu, the graph-node API (next_functions, name, hooks) and
the memory report."""

import threading

import numpy as np
import pytest

import autograd as ag
import nn
from autograd.graph import (
    disable_saved_tensors_hooks,
    memory_report,
    save_on_cpu,
    saved_tensors_hooks,
)

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None


def test_pack_unpack_called_and_gradients_unchanged():
    x = ag.randn(4, 5, dtype=ag.float64, requires_grad=True)
    packed, unpacked = [], []

    def pack(t):
        packed.append(tuple(t.shape))
        return ("box", t.detach().numpy().copy())

    def unpack(p):
        unpacked.append(p[0])
        return ag.tensor(p[1])

    with saved_tensors_hooks(pack, unpack):
        y = (x.exp() * x).sum()
    z = (x.exp() * x).sum()
    assert packed and not unpacked
    y.backward()
    g = x.grad.numpy().copy()
    x.grad = None
    z.backward()
    np.testing.assert_allclose(g, x.grad.numpy())
    assert len(unpacked) == len(packed)


def test_hooks_nest_and_are_per_thread():
    seen = []
    with saved_tensors_hooks(lambda t: seen.append("outer") or t, lambda p: p):
        with saved_tensors_hooks(lambda t: seen.append("inner") or t, lambda p: p):
            (ag.randn(3, requires_grad=True).exp()).sum()
        other = []

        def work():
            (ag.randn(3, requires_grad=True).exp()).sum()
            other.append(len(seen))

        n = len(seen)
        th = threading.Thread(target=work)
        th.start()
        th.join()
        assert other == [n]  # the other thread packed nothing
    assert set(seen) == {"inner"}


def test_disable_saved_tensors_hooks():
    with disable_saved_tensors_hooks("not here"):
        with pytest.raises(RuntimeError, match="not here"):
            with saved_tensors_hooks(lambda t: t, lambda p: p):
                pass


def test_save_on_cpu_cpu_tensors():
    x = ag.randn(3, 4, dtype=ag.float64, requires_grad=True)
    with save_on_cpu():
        y = (x.tanh() ** 2).sum()
    y.backward()
    xn = x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.tanh(xn) * (1 - np.tanh(xn) ** 2))


def test_custom_function_saved_tensors_go_through_hooks():
    class Sq(ag.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, gy):
            (x,) = ctx.saved_tensors
            return 2 * x * gy

    calls = []
    x = ag.tensor([1.0, 3.0], requires_grad=True)
    with saved_tensors_hooks(lambda t: calls.append(1) or t, lambda p: p):
        y = Sq.apply(x).sum()
    y.backward()
    assert calls == [1]
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 6.0])


def test_node_api_like_pytorch():
    a = ag.randn(3, requires_grad=True)
    b = ag.randn(3)
    y = (a * b).exp()
    assert y.grad_fn.name() == "ExpBackward0"  # PyTorch's names
    (mul, nr), = y.grad_fn.next_functions
    assert mul.name() == "MulBackward0" and nr == 0
    acc, none = mul.next_functions
    assert acc[0].name() == "torch::autograd::AccumulateGrad" and acc[0].variable is a
    assert none == (None, 0)
    seen = {}

    def pre(grad_outputs):
        seen["pre"] = grad_outputs[0].numpy().copy()
        return (grad_outputs[0] * 2,)

    def post(grad_inputs, grad_outputs):
        seen["post"] = len(grad_inputs)

    h1 = y.grad_fn.register_prehook(pre)
    h2 = mul.register_hook(post)
    y.sum().backward()
    np.testing.assert_allclose(seen["pre"], np.ones(3))
    assert seen["post"] == 2
    np.testing.assert_allclose(a.grad.numpy(), 2 * (np.exp(a.detach().numpy() * b.numpy())
                                                    * b.numpy()), rtol=1e-6)
    h1.remove()
    h2.remove()
    if torch is not None:
        ta = torch.randn(3, requires_grad=True)
        ty = (ta * torch.randn(3)).exp()
        assert len(ty.grad_fn.next_functions) == 1
        assert ty.grad_fn.next_functions[0][0].next_functions[1] == (None, 0)


def test_memory_report_per_op_and_module():
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 4))
    x = ag.randn(5, 8)
    loss = model(x).sum()
    rep = memory_report(loss, model=model)
    d = rep.as_dict()
    assert d["total_bytes"] == sum(d["by_op"].values()) == sum(d["by_module"].values())
    # Linear 0 saves x (5x8), Tanh saves its output (5x16), which Linear 2 reuses
    assert d["total_bytes"] == 4 * (5 * 8 + 5 * 16)
    assert d["by_module"]["0"] == 4 * 5 * 8 and d["by_module"]["1"] == 4 * 5 * 16
    assert d["leaf_bytes"] == sum(p.nbytes for p in model.parameters())
    s = str(rep)
    assert "Linear" in s and "Tanh" in s and "by module" in s


def test_accumulate_grad_node_hooks_and_metadata():
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * 2).sum()
    acc = y.grad_fn.next_functions[0][0].next_functions[0][0]
    assert acc.name() == "torch::autograd::AccumulateGrad" and acc.next_functions == ()
    seen = []
    acc.register_prehook(lambda go: seen.append(("pre", go[0].numpy().tolist(), x.grad)))
    acc.register_hook(lambda gi, go: seen.append(("post", gi, x.grad.numpy().tolist())))
    acc.metadata["tag"] = 1
    y.backward()
    assert seen == [("pre", [2.0, 2.0, 2.0], None), ("post", (), [2.0, 2.0, 2.0])]
    assert acc.metadata == {"tag": 1} and y.grad_fn.metadata == {}
