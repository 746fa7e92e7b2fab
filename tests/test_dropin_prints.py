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
