"""Module and tensor behaviour ported programs rely on, compared with PyTorch: deep copies and
pickles of tensors and models, the full module hook API, ``zero_grad(set_to_none=False)``,
``get_buffer``, and the containers' list/dict methods."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import autograd as ag
import nn

torch = pytest.importorskip("torch")


def _both(make):
    return make(ag, nn), make(torch, torch.nn)


def test_deepcopy_of_a_model_has_a_graph_of_its_own():
    """``best = copy.deepcopy(model)`` after a backward: the copy's gradients stay in the
    copy (they also went into the original's ``.grad``), Parameters drop ``.grad``."""
    out = []
    for lib, tnn in ((ag, nn), (torch, torch.nn)):
        lib.manual_seed(0)
        m = tnn.Linear(2, 1)
        x = lib.ones(4, 2)
        m(x).sum().backward()
        best = copy.deepcopy(m)
        m.zero_grad()
        best(x).sum().backward()
        out.append((m.weight.grad, best.weight.grad.numpy().copy(),
                    isinstance(best.weight, tnn.Parameter)))
    (g, bg, isp), (tg, tbg, tisp) = out
    assert g is None and tg is None
    np.testing.assert_allclose(bg, tbg)
    assert isp and tisp
    t = ag.ones(2, requires_grad=True)
    (t * 2).sum().backward()
    c = copy.deepcopy(t)  # a plain tensor keeps its grad, as PyTorch's
    assert c.grad is not None and c.grad is not t.grad and c.requires_grad and c.is_leaf
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(t * 2)


def test_pickle_of_tensors_and_state_dicts():
    m = nn.Linear(3, 2)
    m(ag.ones(1, 3)).sum().backward()  # the parameters now sit in a graph's bookkeeping
    sd = pickle.loads(pickle.dumps(m.state_dict()))
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(sd[k].numpy(), v.numpy())
    p = pickle.loads(pickle.dumps(m.weight))
    assert isinstance(p, nn.Parameter) and p.requires_grad and p.grad is None and p.is_leaf
    y = pickle.loads(pickle.dumps(m.weight * 1))  # a non-leaf comes back a leaf, as there
    ty = pickle.loads(pickle.dumps(torch.nn.Parameter(torch.ones(2)) * 1))
    assert (y.is_leaf, y.requires_grad) == (ty.is_leaf, ty.requires_grad) == (True, True)


def test_full_backward_hooks_as_pytorch():
    seen = {}
    for lib, tnn in ((ag, nn), (torch, torch.nn)):
        lib.manual_seed(0)
        m = tnn.Sequential(tnn.Linear(3, 4), tnn.ReLU(), tnn.Linear(4, 2))
        log = []

        def pre(mod, gout, log=log):
            log.append(("pre", [tuple(g.shape) for g in gout]))

        def post(mod, gin, gout, log=log):
            log.append(("post", [None if g is None else g.numpy().round(6).tolist()
                                 for g in gin]))
            return (gin[0] * 2,)

        m[2].register_full_backward_pre_hook(pre)
        m[2].register_full_backward_hook(post)
        x = lib.tensor([[1.0, -2.0, 0.5], [0.3, 0.1, -0.7]], requires_grad=True)
        m(x).sum().backward()
        seen[lib.__name__] = (log, x.grad.numpy().round(6).tolist())
    assert seen["autograd"] == seen["torch"]


def test_forward_hooks_with_kwargs_and_prepend():
    res = []
    for lib, tnn in ((ag, nn), (torch, torch.nn)):
        m = tnn.Identity()
        order = []
        m.register_forward_hook(lambda mod, a, out: order.append("a"))
        m.register_forward_hook(lambda mod, a, out: order.append("b"), prepend=True)
        m.register_forward_pre_hook(lambda mod, a, kw: (a, kw), with_kwargs=True)
        m.register_forward_hook(lambda mod, a, kw, out: out * 3, with_kwargs=True)
        y = m(lib.ones(2))
        res.append((order, y.numpy().tolist()))
    assert res[0] == res[1]


def test_zero_grad_keeping_tensors_zeroes_in_place():
    out = []
    for lib, tnn in ((ag, nn), (torch, torch.nn)):
        m = tnn.Linear(2, 1)
        (m(lib.tensor([[1.0, -2.0]])) * float("inf")).sum().backward()
        g = m.weight.grad
        m.zero_grad(set_to_none=False)
        w = m.weight.grad
        out.append((w is g, w.numpy().tolist(), np.signbit(w.numpy()).any()))
    assert out[0] == out[1] == (True, [[0.0, 0.0]], False)


def test_get_buffer_and_get_parameter_errors():
    for tnn in (nn, torch.nn):
        net = tnn.Sequential(tnn.BatchNorm1d(3))
        assert tuple(net.get_buffer("0.running_mean").shape) == (3,)
        with pytest.raises(AttributeError, match="not an nn.Parameter"):
            net.get_parameter("0.running_mean")


def test_container_methods_as_pytorch():
    def run(tnn):
        s = tnn.Sequential(tnn.Identity(), tnn.ReLU())
        s.insert(1, tnn.Tanh())
        s.append(tnn.Sigmoid())
        s.extend([tnn.ELU()])
        del s[0]
        s[0] = tnn.GELU()
        popped = type(s.pop(1)).__name__
        sl = s[1:]
        ml = tnn.ModuleList([tnn.ReLU()]) + tnn.ModuleList([tnn.Tanh()])
        ml.insert(0, tnn.ELU())
        del ml[1]
        md = tnn.ModuleDict([("a", tnn.ReLU()), ("b", tnn.Tanh())])
        md.update({"c": tnn.ELU()})
        md.pop("a")
        return (repr(s), repr(sl), popped, repr(ml), list(md.keys()), "b" in md, len(s + s),
                len(s * 2))
    assert run(nn) == run(torch.nn)
    with pytest.raises(IndexError):
        nn.Sequential(nn.ReLU())[3]
