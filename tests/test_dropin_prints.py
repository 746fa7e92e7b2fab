"""What a ported PyTorch program prints and sees, compared with PyTorch itself: optimizer
reprs and hyper-parameters, module reprs, optimizer state access, gradients of ignored
targets (found by running tutorial-style programs on both)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd as ag
import nn
import optim
from nn import functional as F

torch = pytest.importorskip("torch")

OPTIMS = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "NAdam", "RAdam", "Adamax",
          "ASGD"]


def _pair(name, **kw):
    ours = getattr(optim, name)([nn.Parameter(ag.ones(2))], **kw)
    theirs = getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(2))], **kw)
    return ours, theirs


@pytest.mark.parametrize("name", OPTIMS)
def test_optimizer_repr_and_param_group_as_pytorch(name):
    kw = {"lr": 0.1}
    ours, theirs = _pair(name, **kw)
    assert repr(ours) == repr(theirs)
    g, tg = ours.state_dict()["param_groups"][0], theirs.state_dict()["param_groups"][0]
    assert list(g) == list(tg)  # the keys in PyTorch's order
    for k in tg:
        assert g[k] == tg[k] and type(g[k]) is type(tg[k]), k  # 0, not 0.0, as there


def test_optimizer_repr_separates_groups_by_a_blank_line():
    ours = optim.SGD([{"params": [nn.Parameter(ag.ones(1))]},
                      {"params": [nn.Parameter(ag.ones(1))], "lr": 0.5}], lr=0.1, momentum=0.9)
    theirs = torch.optim.SGD([{"params": [torch.nn.Parameter(torch.ones(1))]},
                              {"params": [torch.nn.Parameter(torch.ones(1))], "lr": 0.5}],
                             lr=0.1, momentum=0.9)
    assert repr(ours) == repr(theirs)


def test_optimizer_state_is_a_defaultdict_and_duplicates_warn():
    p = nn.Parameter(ag.ones(2))
    opt = optim.Adam([p])
    assert opt.state[p] == {}  # no KeyError before the first step, as PyTorch's
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([p, p], lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optim.SGD([p], lr=0.1)


def test_rnn_reprs_as_pytorch():
    for args in [(2, 3), (2, 3, 2)]:
        for kw in [{}, {"nonlinearity": "relu"}, {"bias": False, "batch_first": True}]:
            assert repr(nn.RNN(*args, **kw)) == repr(torch.nn.RNN(*args, **kw))
    for kw in [{}, {"nonlinearity": "relu"}, {"bias": False}]:
        assert repr(nn.RNNCell(2, 3, **kw)) == repr(torch.nn.RNNCell(2, 3, **kw))


@pytest.mark.parametrize("kw", [{}, {"label_smoothing": 0.1}, {"weight": [1.0, 2.0, 0.5, 1.0]}])
def test_cross_entropy_gradient_of_ignored_rows_is_plus_zero(kw):
    x = np.random.default_rng(0).standard_normal((3, 4))
    t = [1, -100, 2]
    a = ag.tensor(x, requires_grad=True)
    b = torch.tensor(x, requires_grad=True)
    wa = {k: ag.tensor(v, dtype=ag.float64) if k == "weight" else v for k, v in kw.items()}
    wb = {k: torch.tensor(v, dtype=torch.float64) if k == "weight" else v for k, v in kw.items()}
    F.cross_entropy(a, ag.tensor(t), **wa).backward()
    torch.nn.functional.cross_entropy(b, torch.tensor(t), **wb).backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert not np.signbit(a.grad.numpy()[1]).any()  # +0, as PyTorch (not -0)


def test_optimizer_state_shows_tensors_that_the_update_uses():
    """``opt.state[p]`` holds Tensors as PyTorch's: in-place changes and stored Tensors are
    what the next step uses; the usual "move the state" loop runs unchanged."""
    p = nn.Parameter(ag.ones(2))
    opt = optim.Adam([p], lr=0.1)
    p.sum().backward()
    opt.step()
    st = opt.state[p]
    assert isinstance(st["exp_avg"], ag.Tensor) and st["step"] == 1.0
    tp = torch.nn.Parameter(torch.ones(2))
    topt = torch.optim.Adam([tp], lr=0.1)
    tp.sum().backward()
    topt.step()
    assert repr(st["exp_avg"]) == repr(topt.state[tp]["exp_avg"])
    for o in (opt, topt):  # the common idiom after loading a checkpoint
        for s in o.state.values():
            for k, v in s.items():
                if isinstance(v, (ag.Tensor, torch.Tensor)):
                    s[k] = v.to("cpu")
    opt.state[p]["exp_avg"].zero_()  # in place: the next update sees zeros
    topt.state[tp]["exp_avg"].zero_()
    opt.state[p]["exp_avg_sq"] = ag.full((2,), 4.0)  # stored: used from now on
    topt.state[tp]["exp_avg_sq"] = torch.full((2,), 4.0)
    for o, q in ((opt, p), (topt, tp)):
        o.zero_grad()
        (q * q).sum().backward()
        o.step()
    np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-6)
    assert p not in optim.SGD([nn.Parameter(ag.ones(1))], lr=0.1).state
    assert opt.state.get(nn.Parameter(ag.ones(1))) is None


def test_a_custom_optimizer_written_for_pytorch_runs_unchanged():
    """An optimizer subclass in PyTorch's style (state created in ``step`` with
    ``zeros_like``, updated in place) gives PyTorch's numbers."""

    def make(base, lib):
        class Momentum(base):
            def __init__(self, params, lr=0.1, beta=0.9):
                super().__init__(params, dict(lr=lr, beta=beta))

            @lib.no_grad()
            def step(self, closure=None):
                for g in self.param_groups:
                    for q in g["params"]:
                        if q.grad is None:
                            continue
                        state = self.state[q]
                        if len(state) == 0:
                            state["step"] = 0
                            state["buf"] = lib.zeros_like(q)
                        state["step"] += 1
                        buf = state["buf"]
                        buf.mul_(g["beta"]).add_(q.grad)
                        q.add_(buf, alpha=-g["lr"] / state["step"])
        return Momentum

    out = []
    for lib, base, mk in ((ag, optim.Optimizer, nn.Parameter),
                          (torch, torch.optim.Optimizer, torch.nn.Parameter)):
        q = mk(lib.tensor([1.0, -2.0, 3.0], dtype=lib.float64))
        opt = make(base, lib)([q])
        for _ in range(4):
            opt.zero_grad()
            (q ** 3).sum().backward()
            opt.step()
        out.append((q.detach().numpy().copy(), opt.state[q]["step"]))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-12)
    assert out[0][1] == out[1][1] == 4


def test_ops_at_the_edges_warn_as_little_as_pytorch():
    """log(0), sqrt(-1), x / 0, overflow to inf: PyTorch's values, forward and backward,
    and no NumPy RuntimeWarning (an error under -W error, as test suites often run); the
    user's own NumPy code keeps warning."""
    vals = [0.0, -1.0, 2.0, 100.0]

    def run(lib, x):
        y = (lib.log(x) + lib.sqrt(x) + x / 0 + lib.exp(x * 100) + (x * 1e38) * 1e38
             + x.reciprocal() + x.pow(0.5) + lib.acos(x) + lib.log1p(-x.abs()))
        y.sum().backward()
        return y.detach().numpy(), x.grad.numpy()

    a = ag.tensor(vals, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = run(ag, a)
    theirs = run(torch, torch.tensor(vals, requires_grad=True))
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(np.isnan(o), np.isnan(t))
        np.testing.assert_allclose(o, t, rtol=1e-6)
    with pytest.warns(RuntimeWarning):
        np.log(np.zeros(1))  # outside the ops, NumPy's settings are the user's


def test_legacy_and_layout_names_of_pytorch_programs():
    """Names older and library-style programs use: ``Variable``, ``torch.int``,
    ``memory_format=``/``layout=`` on factories, the complex/storage/pinning queries of real
    tensors."""
    from autograd.autograd import Variable

    x, tx = ag.ones(2, 3), torch.ones(2, 3)
    v = Variable(x, requires_grad=True)
    tv = torch.autograd.Variable(tx, requires_grad=True)
    assert repr(v) == repr(tv) and v.is_leaf and v is not x and isinstance(x, Variable)
    with pytest.raises(TypeError, match="has to be a tensor"):
        Variable([1, 2])
    assert ag.int == ag.int32 and ag.uint16 == np.uint16
    for f in ("zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"):
        assert getattr(ag, f)(x, memory_format=ag.preserve_format).shape == (2, 3)
    assert ag.zeros(2, layout=ag.strided, pin_memory=False).shape == (2,)
    with pytest.raises(TypeError, match="memory_format"):
        ag.zeros_like(x, memory_format="channels_last")
    for a, t in ((x, tx), (x[1:], tx[1:]), (x.t(), tx.t()), (x[:, 1:], tx[:, 1:])):
        assert a.storage_offset() == t.storage_offset()
        assert (a.is_complex(), a.is_conj(), a.is_pinned(), a.is_shared(), a.output_nr) == \
            (t.is_complex(), t.is_conj(), t.is_pinned(), t.is_shared(), t.output_nr)
        assert a.conj() is a and a.real is a and ag.real(a) is a and ag.resolve_conj(a) is a
    assert x[1:].data_ptr() - x.data_ptr() == 3 * x.element_size()
    with pytest.raises(RuntimeError, match="non-complex"):
        x.imag  # noqa: B018
    assert ag.is_complex(x) is torch.is_complex(tx) is False


def test_softshrink_keeps_the_sign_of_zero_as_pytorch():
    a = np.array([-0.7, -0.3, -0.0, 0.0, 0.2, 0.9, np.nan], dtype=np.float32)
    got = F.softshrink(ag.tensor(a), 0.5).numpy()
    want = torch.nn.functional.softshrink(torch.tensor(a), 0.5).numpy()
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


def test_clone_takes_a_memory_format():
    x = ag.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    for fmt in (ag.contiguous_format, ag.preserve_format):
        y = x.clone(memory_format=fmt)
        assert y is not x and y.grad_fn is not None
        np.testing.assert_array_equal(ag.clone(x, memory_format=fmt).detach().numpy(),
                                      x.detach().numpy())
    with pytest.raises(TypeError, match="memory_format"):
        x.clone(memory_format="contiguous")


def test_float_of_requires_grad_tensor_warns_once():
    """``float(loss)`` of a tensor that requires grad warns once per process (a UserWarning,
    PyTorch's TORCH_WARN_ONCE), as in d2l's ``metric.add(float(l.sum()), ...)``; ``item()``,
    ``int()`` and formatting do not warn."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    code = ("import warnings; warnings.simplefilter('always')\n"
            "import {mod} as t\n"
            "x = t.ones((), requires_grad=True) * 2\n"
            "x.item(); int(x); f'{{x:.3f}}'\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n"
            "    a = float(x); b = float(x * 3); c = float(x.detach())\n"
            "print(a, b, c, [(r.category.__name__, str(r.message).splitlines()[0]) for r in w])\n")
    out = [subprocess.run([sys.executable, "-c", code.format(mod=mod)], capture_output=True,
                          text=True, check=True, env=env).stdout for mod in ("torch", "autograd")]
    assert out[0] == out[1]
    assert "UserWarning" in out[1] and out[1].count("requires_grad=True") == 1
