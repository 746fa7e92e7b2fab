"""Optimizers and schedulers against PyTorch, step for step (the optimizers added for the
drop-in sweep, and stricter checks of the older ones).

Every optimizer runs >= 20 steps on the same small model in float64, from the same weights, in
``torch.optim`` and here; parameters must agree to 1e-10. Also: parameter groups with different
options, ``add_param_group`` mid-run, ``state_dict`` layouts (keys and structure equal to
PyTorch's) and loading PyTorch's ``state_dict`` to continue a run, step hooks, the argument
validation errors (PyTorch's exception classes and messages), LBFGS with and without the
strong-Wolfe line search, Muon's bfloat16 Newton–Schulz iteration bit for bit, and the
learning-rate sequences of every scheduler over >= 30 steps.
"""

from __future__ import annotations

import copy
import inspect
import math
import pathlib
import subprocess
import sys
import warnings

import numpy as np
import pytest

import autograd as ag
import nn
import optim
from optim import lr_scheduler as sched
from optim import swa_utils
from optim.muon import _bf16, zeropower_via_newtonschulz

torch = pytest.importorskip("torch")
from torch.optim._muon import _zeropower_via_newtonschulz as torch_ns  # noqa: E402

# ---- the model: tanh(X W1ᵀ + b1) W2ᵀ + b2 (MSE), plus a 3-D weight in a second term --------
_rng = np.random.default_rng(77)
X = _rng.standard_normal((10, 3))
Y = _rng.standard_normal((10, 2))
Z = _rng.standard_normal((2, 3, 4))
P0 = [_rng.standard_normal((4, 3)), _rng.standard_normal(4) * 0.5,
      _rng.standard_normal((2, 4)), _rng.standard_normal(2) * 0.5,
      _rng.standard_normal((2, 3, 4)) * 0.3]


def loss_fn(mod, ps):
    """The same expression in either library (``mod`` is ``ag`` or ``torch``)."""
    w1, b1, w2, b2, w3 = ps
    h = (mod.tensor(X) @ w1.T + b1).tanh()
    fit = ((h @ w2.T + b2 - mod.tensor(Y)) ** 2).mean()
    return fit + ((w3 - mod.tensor(Z)) ** 2 * (1 + h.mean() ** 2)).mean()


def _make(mod, name, kwargs, groups, idx=None):
    ps = [mod.tensor(a.copy(), requires_grad=True) for a in P0]
    sel = ps if idx is None else [ps[i] for i in idx]
    if groups is not None:  # two groups: the first two parameters with their own options
        sel = [{"params": sel[:2], **groups}, {"params": sel[2:]}]
    lib = optim if mod is ag else torch.optim
    return ps, getattr(lib, name)(sel, **kwargs)


def _train(mod, ps, opt, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(mod, ps).backward()
        opt.step()


def _np(ps):
    return [p.detach().cpu().numpy().copy() if hasattr(p, "cpu") else np.asarray(p)
            for p in ps]


def assert_close(got, want, tol=1e-10):
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol)
    moved = max(float(np.abs(g - p0).max()) for g, p0 in zip(got, P0))
    assert moved > 1e-4  # the run did something


MUON = [0, 2]  # Muon optimizes matrices only
CASES = [
    # (name, kwargs, options of a first group or None, parameter subset)
    ("Adamax", {}, None, None),
    ("Adamax", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, maximize=True), None, None),
    ("Adamax", dict(lr=0.01), dict(lr=0.05, eps=1e-3, weight_decay=0.2), None),
    ("NAdam", {}, None, None),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01), None, None),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True),
     None, None),
    ("NAdam", dict(lr=0.01), dict(betas=(0.5, 0.9), momentum_decay=0.1), None),
    ("RAdam", {}, None, None),
    ("RAdam", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1), None, None),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True),
     None, None),
    ("RAdam", dict(lr=0.01), dict(betas=(0.9, 0.8), eps=1e-4), None),
    ("ASGD", {}, None, None),
    ("ASGD", dict(lr=0.05, lambd=0.01, alpha=0.5, t0=5, weight_decay=0.1), None, None),
    ("ASGD", dict(lr=0.05, t0=3, maximize=True), dict(lr=0.01, lambd=0.1, t0=10), None),
    ("Rprop", {}, None, None),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.1), maximize=True), None,
     None),
    ("Rprop", dict(lr=0.01), dict(lr=0.1, etas=(0.6, 1.1)), None),
    ("Adafactor", {}, None, None),
    ("Adafactor", dict(lr=0.1, beta2_decay=-0.5, eps=(1e-20, 1e-2), d=1.5, weight_decay=0.1,
                       maximize=True), None, None),
    ("Adafactor", dict(lr=0.05), dict(lr=0.01, d=2.0, beta2_decay=-0.9), None),
    ("Muon", dict(lr=0.02), None, MUON),
    ("Muon", dict(lr=0.02, nesterov=False, adjust_lr_fn="match_rms_adamw", weight_decay=0.0),
     None, MUON),
    ("Muon", dict(lr=0.05, momentum=0.9, ns_steps=3, adjust_lr_fn="original"), None, MUON),
    # the older optimizers, to PyTorch's rounding, with every option and with groups
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01), None, None),
    ("SGD", dict(lr=0.05, momentum=0.5, dampening=0.3, maximize=True),
     dict(lr=0.01, momentum=0.0), None),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1, maximize=True), None, None),
    ("Adam", dict(lr=0.01), dict(amsgrad=True, betas=(0.5, 0.9), decoupled_weight_decay=True,
                                 weight_decay=0.3), None),
    ("AdamW", dict(lr=0.01, amsgrad=True), dict(weight_decay=0.5, maximize=True), None),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.2, weight_decay=0.1),
     None, None),
    ("Adagrad", dict(lr=0.1, maximize=True), dict(lr=0.02, lr_decay=0.1, eps=1e-6), None),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.05, maximize=True), None, None),
    ("Adadelta", dict(lr=0.5), dict(rho=0.5, eps=1e-4), None),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1, maximize=True),
     None, None),
    ("RMSprop", dict(lr=0.01), dict(alpha=0.8, centered=True, momentum=0.7), None),
]
IDS = [f"{c[0]}-{i}" for i, c in enumerate(CASES)]


@pytest.mark.parametrize("name,kwargs,groups,idx", CASES, ids=IDS)
def test_trajectory_matches_torch(name, kwargs, groups, idx):
    tps, topt = _make(torch, name, kwargs, groups, idx)
    ps, opt = _make(ag, name, kwargs, groups, idx)
    _train(torch, tps, topt, 25)
    _train(ag, ps, opt, 25)
    assert_close(_np(ps), _np(tps))


@pytest.mark.parametrize("name,kwargs,groups,idx", CASES, ids=IDS)
def test_state_dict_layout_and_resume_from_torch(name, kwargs, groups, idx):
    """Our state_dict has PyTorch's keys and structure; PyTorch's loads here and the run goes
    on exactly as PyTorch's does."""
    tps, topt = _make(torch, name, kwargs, groups, idx)
    _train(torch, tps, topt, 8)
    ps, opt = _make(ag, name, kwargs, groups, idx)
    _train(ag, ps, opt, 8)
    tsd, sd = topt.state_dict(), opt.state_dict()
    assert [sorted(g) for g in sd["param_groups"]] == [sorted(g) for g in tsd["param_groups"]]
    assert [g["params"] for g in sd["param_groups"]] == [g["params"] for g in tsd["param_groups"]]
    assert sorted(sd["state"]) == sorted(tsd["state"])
    for i, st in tsd["state"].items():
        assert sorted(sd["state"][i]) == sorted(st)
        for k, v in st.items():
            ours = sd["state"][i][k]
            if isinstance(v, torch.Tensor):
                assert isinstance(ours, ag.Tensor) and tuple(ours.shape) == tuple(v.shape), k
                if k not in ("step", "eta", "mu", "mu_product"):
                    np.testing.assert_allclose(ours.numpy(), v.numpy(), rtol=1e-10, atol=1e-12)
                else:  # scalar state: PyTorch's 0-d float32 tensors
                    assert ours.dtype == ag.float32 and ours.item() == v.item(), k
            else:
                assert ours == v, k

    # continue our fresh copy from torch's state_dict (numbers as tensors, params as numpy)
    ps2 = [ag.tensor(p.detach().numpy().copy(), requires_grad=True) for p in tps]
    sel = ps2 if idx is None else [ps2[i] for i in idx]
    if groups is not None:
        sel = [{"params": sel[:2]}, {"params": sel[2:]}]
    opt2 = getattr(optim, name)(sel)
    opt2.load_state_dict(copy.deepcopy(tsd))
    _train(torch, tps, topt, 12)
    _train(ag, ps2, opt2, 12)
    assert_close(_np(ps2), _np(tps))


def test_add_param_group_midway_matches_torch():
    runs = []
    for mod in (torch, ag):
        ps = [mod.tensor(a.copy(), requires_grad=True) for a in P0]
        opt = (optim if mod is ag else torch.optim).NAdam(ps[:2], lr=0.01)
        _train(mod, ps, opt, 5)
        opt.add_param_group({"params": ps[2:], "lr": 0.05, "momentum_decay": 0.02})
        assert opt.param_groups[1]["betas"] == (0.9, 0.999)  # filled from the defaults
        _train(mod, ps, opt, 15)
        runs.append(_np(ps))
    assert_close(runs[1], runs[0])


def test_zero_grad_set_to_none():
    ps, opt = _make(ag, "Adamax", {}, None)
    loss_fn(ag, ps).backward()
    opt.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in ps)
    opt.zero_grad()
    assert all(p.grad is None for p in ps)
    opt.step()  # no gradients: nothing moves and no state appears
    assert not opt.state and all(np.array_equal(a, b) for a, b in zip(_np(ps), P0))


def test_named_parameters_give_param_names_in_state_dict():
    def make(mod, lib):
        ps = [mod.tensor(a.copy(), requires_grad=True) for a in P0[:2]]
        return lib.RAdam(list(zip(["w", "b"], ps)), lr=0.1)

    ours, theirs = make(ag, optim), make(torch, torch.optim)
    assert ours.state_dict()["param_groups"] == theirs.state_dict()["param_groups"]
    assert ours.param_groups[0]["param_names"] == ["w", "b"]
    with pytest.raises(ValueError, match="with/without names"):
        ours.add_param_group({"params": [ag.zeros(2, requires_grad=True)]})


# ---- hooks -----------------------------------------------------------------------------------

def test_step_hooks_order_arguments_and_removal():
    calls = []
    ps, opt = _make(ag, "Rprop", {}, None)
    pre = opt.register_step_pre_hook(lambda o, a, k: calls.append(("pre", o is opt, a, k)))
    post = opt.register_step_post_hook(lambda o, a, k: calls.append(("post", a, k)))
    gpre = optim.optimizer.register_optimizer_step_pre_hook(lambda o, a, k: calls.append("gpre"))
    gpost = optim.optimizer.register_optimizer_step_post_hook(
        lambda o, a, k: calls.append("gpost"))
    try:
        loss_fn(ag, ps).backward()
        opt.step()
        assert calls == ["gpre", ("pre", True, (), {}), ("post", (), {}), "gpost"]
    finally:
        gpre.remove()
        gpost.remove()
    pre.remove()
    post.remove()
    calls.clear()
    opt.step()
    assert calls == []


def test_step_pre_hook_can_replace_arguments():
    ps, opt = _make(ag, "Adamax", {}, None)
    seen = []

    def closure():
        seen.append(1)
        return ag.tensor(3.0)

    opt.register_step_pre_hook(lambda o, a, k: ((), {"closure": closure}))
    assert float(opt.step()) == 3.0 and seen == [1]
    opt.register_step_pre_hook(lambda o, a, k: "bad")
    with pytest.raises(RuntimeError, match="pre-hook must return None or a tuple"):
        opt.step()


def test_state_dict_and_load_hooks():
    ps, opt = _make(ag, "Adamax", {}, None)
    log = []
    opt.register_state_dict_pre_hook(lambda o: log.append("sd-pre"))
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    opt.register_load_state_dict_pre_hook(
        lambda o, sd: {k: v for k, v in sd.items() if k != "extra"})
    opt.register_load_state_dict_post_hook(lambda o: log.append("load-post"))
    sd = opt.state_dict()
    assert sd["extra"] == 1
    opt.load_state_dict(sd)
    assert log == ["sd-pre", "load-post"]


def test_subclass_step_calling_super_runs_hooks_once():
    class Traced(optim.Adamax):
        def step(self, closure=None):
            return super().step(closure)

    ps = [ag.tensor(a.copy(), requires_grad=True) for a in P0]
    opt = Traced(ps)
    n = []
    opt.register_step_post_hook(lambda o, a, k: n.append(1))
    loss_fn(ag, ps).backward()
    opt.step()
    assert n == [1]


# ---- LBFGS -----------------------------------------------------------------------------------

LBFGS_CASES = [
    (dict(), 1),
    (dict(line_search_fn="strong_wolfe"), 1),
    (dict(lr=0.5, history_size=3, max_iter=7), 3),
    (dict(line_search_fn="strong_wolfe", history_size=2, max_eval=9), 3),
    (dict(line_search_fn="strong_wolfe", max_iter=6, tolerance_change=1e-5), 2),
]


@pytest.mark.parametrize("kwargs,steps", LBFGS_CASES)
def test_lbfgs_matches_torch(kwargs, steps):
    out = []
    for mod, lib in ((torch, torch.optim), (ag, optim)):
        ps = [mod.tensor(a.copy(), requires_grad=True) for a in P0]
        opt = lib.LBFGS(ps, **kwargs)

        def closure(ps=ps, opt=opt, mod=mod):
            opt.zero_grad()
            loss = loss_fn(mod, ps)
            loss.backward()
            return loss

        losses = [float(opt.step(closure).detach()) for _ in range(steps)]
        st = opt.state[ps[0]]
        out.append((_np(ps), losses, st["func_evals"], st["n_iter"]))
    (tp, tl, tf, tn), (op, ol, of, on) = out
    assert (of, on) == (tf, tn)  # the same number of evaluations and iterations
    np.testing.assert_allclose(ol, tl, rtol=1e-10)
    assert_close(op, tp, tol=1e-9)


def test_lbfgs_converges_on_least_squares_and_errors():
    rng = np.random.default_rng(3)
    A, b = rng.standard_normal((30, 5)), rng.standard_normal(30)
    w = ag.zeros(5, dtype=ag.float64, requires_grad=True)
    opt = optim.LBFGS([w], line_search_fn="strong_wolfe", max_iter=50, tolerance_grad=1e-12,
                      tolerance_change=1e-15)

    def closure():
        opt.zero_grad()
        loss = ((ag.tensor(A) @ w - ag.tensor(b)) ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    np.testing.assert_allclose(w.detach().numpy(), np.linalg.lstsq(A, b, rcond=None)[0],
                               rtol=1e-6, atol=1e-8)
    with pytest.raises(ValueError, match="per-parameter options"):
        optim.LBFGS([{"params": [w]}, {"params": [ag.zeros(1, requires_grad=True)]}])
    with ag.no_grad():
        w.zero_()  # away from the minimum again
    opt = optim.LBFGS([w], line_search_fn="armijo")
    with pytest.raises(RuntimeError, match="only 'strong_wolfe'"):
        opt.step(closure)



def test_lbfgs_float32_scalars_as_torch():
    """PyTorch keeps L-BFGS's scalars (``ys``, ``ro``, ``H_diag``, ``al``, ``gtd``, the first
    ``t``, the line search's ``gtd_new``) as float32 0-d tensors for float32 parameters;
    computing them in float64 drifted off after a few iterations (here the Rosenbrock
    minimum came out as exactly 0 where PyTorch's is 3.87e-13)."""
    out = []
    for mod, lib in ((torch, torch.optim), (ag, optim)):
        x = mod.tensor([-1.5, 2.0], requires_grad=True)
        opt = lib.LBFGS([x], lr=1, max_iter=50, line_search_fn="strong_wolfe",
                        tolerance_grad=1e-9, tolerance_change=1e-12)

        def closure(x=x, opt=opt):
            opt.zero_grad()
            loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
            loss.backward()
            return loss

        losses = [float(opt.step(closure).detach()) for _ in range(3)]
        st = opt.state[x]
        out.append((x.detach().numpy().copy(), losses, st["func_evals"], st["n_iter"]))
    (tx, tl, tf, tn), (ox, ol, of, on) = out
    # the iteration counts are PyTorch's; the function evaluations may differ by one line
    # search step with the CPU's float32 rounding (52 vs 51 on an AMD EPYC, equal on Intel)
    assert on == tn and abs(of - tf) <= 1
    np.testing.assert_allclose(ol, tl, rtol=1e-5, atol=1e-11)  # the last is ~0 (1e-13)
    np.testing.assert_allclose(ox, tx, rtol=1e-6)


def test_lbfgs_step_does_not_warn_on_float_of_the_loss(monkeypatch):
    """``float(loss)`` inside ``step`` (which runs under no_grad) is silent, as in PyTorch:
    the requires_grad warning of ``float()`` is for grad mode only."""
    import sys
    monkeypatch.setattr(sys.modules["autograd.tensor"], "_scalar_warned", False)
    w = ag.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.LBFGS([w], max_iter=3)

    def closure():
        opt.zero_grad()
        loss = (w ** 2).sum()
        loss.backward()
        return loss

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step(closure)
        with ag.no_grad():
            float(w.sum())
    with pytest.warns(UserWarning, match="requires_grad=True to a scalar"):
        float(w.sum())


def _error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the class and message are what is compared
        return type(e).__name__, str(e)
    return None


@pytest.mark.parametrize("make", [
    lambda mod, lib: lib.SGD([], lr=0.1),
    lambda mod, lib: lib.Adam(mod.zeros(2, requires_grad=True)),
    lambda mod, lib: lib.SGD([np.zeros(2)], lr=0.1),
    lambda mod, lib: lib.lr_scheduler.ReduceLROnPlateau(
        lib.SGD([mod.zeros(2, requires_grad=True)], lr=0.1), mode="foo"),
    lambda mod, lib: lib.lr_scheduler.ReduceLROnPlateau(
        lib.SGD([mod.zeros(2, requires_grad=True)], lr=0.1), threshold_mode="bar"),
    lambda mod, lib: lib.lr_scheduler.StepLR(
        lib.SGD([mod.zeros(2, requires_grad=True)], lr=0.1), 2, last_epoch=3),
])
def test_optimizer_and_scheduler_errors_as_torch(make):
    """PyTorch's exception classes and messages, word for word."""
    assert _error(lambda: make(ag, optim)) == _error(lambda: make(torch, torch.optim))


def test_epoch_deprecation_warning_as_torch():
    msgs = []
    for mod, lib in ((torch, torch.optim), (ag, optim)):
        opt = lib.SGD([mod.zeros(2, requires_grad=True)], lr=0.1)
        s = lib.lr_scheduler.ExponentialLR(opt, 0.5)
        opt.step()
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            s.step(3)
        msgs.append([(x.category, str(x.message)) for x in w])
        msgs.append(s.get_last_lr())
    assert msgs[0] == msgs[2] and msgs[1] == msgs[3]

# ---- Muon's Newton–Schulz iteration, bit for bit ---------------------------------------------

@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (16, 32), (48, 20)])
def test_muon_newton_schulz_is_bitwise_torch(shape):
    g = np.random.default_rng(sum(shape)).standard_normal(shape)
    want = torch_ns(torch.tensor(g), (3.4445, -4.775, 2.0315), 5, 1e-7).float().numpy()
    got = zeropower_via_newtonschulz(g)
    assert got.dtype == np.float32 and np.array_equal(got, want)


def test_bf16_rounding_ties_to_even_and_nan():
    x = np.array([1.0, 1 + 2 ** -8, 1 + 3 * 2 ** -8, np.nan, -np.inf, 3.0e38], np.float32)
    want = torch.tensor(x).bfloat16().float().numpy()
    np.testing.assert_array_equal(_bf16(x), want)


# ---- on the CuPy stand-in: the same numbers as on the CPU ------------------------------------

@pytest.mark.parametrize("name,kwargs,idx", [
    ("Adamax", dict(weight_decay=0.1), None), ("NAdam", {}, None), ("RAdam", {}, None),
    ("ASGD", dict(t0=3), None), ("Rprop", {}, None), ("Adafactor", {}, None),
    ("Muon", dict(lr=0.02), MUON)])
def test_device_arrays_match_cpu(name, kwargs, idx, sim):
    runs = []
    for device in ("cpu", "cuda"):
        ps = [ag.tensor(a.copy(), device=device, requires_grad=True) for a in P0]
        sel = ps if idx is None else [ps[i] for i in idx]
        opt = getattr(optim, name)(sel, **kwargs)
        for _ in range(5):
            opt.zero_grad()
            w1, b1, w2, b2, w3 = ps
            h = (ag.tensor(X, device=device) @ w1.T + b1).tanh()
            loss = ((h @ w2.T + b2 - ag.tensor(Y, device=device)) ** 2).mean() \
                + ((w3 - ag.tensor(Z, device=device)) ** 2).mean()
            loss.backward()
            opt.step()
        runs.append([p.detach().cpu().numpy() for p in ps])
        if device == "cuda":
            for st in opt.state.values():
                assert all(sim.get_array_module(v._data) is sim for v in st.values()
                           if isinstance(v, ag.Tensor))
    for a, b in zip(*runs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


# ---- argument validation: PyTorch's exception class and message ------------------------------

ERRORS = [
    ("Adamax", dict(lr=-1)), ("Adamax", dict(eps=-1e-3)), ("Adamax", dict(betas=(1.0, 0.9))),
    ("Adamax", dict(betas=(0.9, -0.1))), ("Adamax", dict(weight_decay=-1)),
    ("NAdam", dict(lr=-0.5)), ("NAdam", dict(momentum_decay=-1)),
    ("NAdam", dict(betas=(0.9, 1.5))),
    ("RAdam", dict(lr=-1)), ("RAdam", dict(weight_decay=-0.1)), ("RAdam", dict(eps=-1)),
    ("ASGD", dict(lr=-1)), ("ASGD", dict(weight_decay=-1)),
    ("Rprop", dict(lr=-1)), ("Rprop", dict(etas=(1.5, 1.2))), ("Rprop", dict(etas=(0.5, 0.9))),
    ("Adafactor", dict(lr=-1)), ("Adafactor", dict(beta2_decay=0.5)),
    ("Adafactor", dict(eps=(-1.0, 1e-3))), ("Adafactor", dict(eps=(None, -1.0))),
    ("Adafactor", dict(d=0.5)), ("Adafactor", dict(weight_decay=-1)),
    ("Muon", dict(lr=-1)), ("Muon", dict(momentum=-1)), ("Muon", dict(weight_decay=-1)),
    ("Muon", dict(adjust_lr_fn="nope")),
    ("LBFGS", dict(lr=-1)),
    ("SGD", dict(lr=-1)), ("SGD", dict(momentum=-1)), ("SGD", dict(weight_decay=-1)),
    ("SGD", dict(fused=True, foreach=True)), ("Adam", dict(fused=True, differentiable=True)),
    ("Adam", dict(lr=-1)), ("AdamW", dict(betas=(0.9, 1.0))), ("Adagrad", dict(lr_decay=-1)),
    ("Adagrad", dict(initial_accumulator_value=-1)), ("Adadelta", dict(rho=1.5)),
    ("RMSprop", dict(alpha=-1)), ("RMSprop", dict(momentum=-1)),
]


@pytest.mark.parametrize("name,kwargs", ERRORS, ids=[f"{n}-{i}" for i, (n, _) in
                                                      enumerate(ERRORS)])
def test_invalid_arguments_raise_like_torch(name, kwargs):
    want = _error(lambda: getattr(torch.optim, name)([torch.zeros(2, 2, requires_grad=True)],
                                                     **kwargs))
    got = _error(lambda: getattr(optim, name)([ag.zeros(2, 2, requires_grad=True)], **kwargs))
    assert want is not None and got == want


def test_muon_rejects_non_matrices_like_torch():
    want = _error(lambda: torch.optim.Muon([torch.zeros(3, requires_grad=True)]))
    got = _error(lambda: optim.Muon([ag.zeros(3, requires_grad=True)]))
    assert got[0] == want[0] == "ValueError" and "only supports 2D parameters" in got[1]


def test_defaults_match_torch():
    for name in ["Adamax", "NAdam", "RAdam", "ASGD", "Rprop", "Adafactor", "Muon", "LBFGS",
                 "SGD", "Adam", "AdamW", "Adagrad", "Adadelta", "RMSprop"]:
        ours = getattr(optim, name)([ag.zeros(2, 2, requires_grad=True)]).defaults
        theirs = getattr(torch.optim, name)([torch.zeros(2, 2, requires_grad=True)]).defaults
        assert ours == theirs, name
        sig_o = inspect.signature(getattr(optim, name).__init__).parameters
        sig_t = inspect.signature(getattr(torch.optim, name).__init__).parameters
        assert [(p.name, p.kind) for p in sig_o.values()] == \
            [(p.name, p.kind) for p in sig_t.values()], name


# ---- learning-rate schedulers ----------------------------------------------------------------

def _opt(mod, lib, opt_name):
    groups = [{"params": [mod.zeros(2, requires_grad=True)], "lr": lr} for lr in (0.1, 0.05)]
    return getattr(lib, opt_name)(groups, **(dict(momentum=0.9) if opt_name == "SGD" else {}))


SCHEDULERS = [
    ("ConstantLR", lambda L, o: L.ConstantLR(o, factor=0.5, total_iters=4), "SGD"),
    ("ConstantLR", lambda L, o: L.ConstantLR(o), "Adam"),
    ("PolynomialLR", lambda L, o: L.PolynomialLR(o, total_iters=12, power=2.0), "SGD"),
    ("PolynomialLR", lambda L, o: L.PolynomialLR(o), "SGD"),
    ("MultiplicativeLR", lambda L, o: L.MultiplicativeLR(o, lambda e: 0.95 if e % 3 else 0.5),
     "SGD"),
    ("MultiplicativeLR", lambda L, o: L.MultiplicativeLR(o, [lambda e: 0.9, lambda e: 1.05]),
     "SGD"),
    ("CyclicLR", lambda L, o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4), "SGD"),
    ("CyclicLR", lambda L, o: L.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=[0.1, 0.3],
                                         step_size_up=3, step_size_down=5,
                                         mode="triangular2"), "SGD"),
    ("CyclicLR", lambda L, o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4,
                                         mode="exp_range", gamma=0.9, base_momentum=0.7,
                                         max_momentum=0.95), "Adam"),
    ("CyclicLR", lambda L, o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4,
                                         scale_fn=lambda x: 1 / (x + 1),
                                         scale_mode="iterations", cycle_momentum=False),
     "Adam"),
    ("CosineAnnealingWarmRestarts", lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=5),
     "SGD"),
    ("CosineAnnealingWarmRestarts",
     lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.001), "SGD"),
    ("SequentialLR", lambda L, o: L.SequentialLR(
        o, [L.LinearLR(o, start_factor=0.1, total_iters=5), L.ExponentialLR(o, gamma=0.9),
            L.StepLR(o, 3, 0.5)], milestones=[5, 12]), "SGD"),
    ("SequentialLR", lambda L, o: L.SequentialLR(
        o, [L.ConstantLR(o, factor=0.2, total_iters=3), L.CosineAnnealingLR(o, T_max=10)],
        milestones=[4]), "Adam"),
    ("ChainedScheduler", lambda L, o: L.ChainedScheduler(
        [L.ConstantLR(o, factor=0.1, total_iters=2), L.ExponentialLR(o, gamma=0.9)]), "SGD"),
    ("ChainedScheduler", lambda L, o: L.ChainedScheduler(
        [L.CosineAnnealingLR(o, T_max=7), L.MultiStepLR(o, [4, 9])], optimizer=o), "SGD"),
    # the older ones, with their less common options
    ("StepLR", lambda L, o: L.StepLR(o, step_size=4), "Adagrad"),
    ("MultiStepLR", lambda L, o: L.MultiStepLR(o, milestones=[2, 2, 9], gamma=0.5), "SGD"),
    ("ExponentialLR", lambda L, o: L.ExponentialLR(o, gamma=0.8), "RMSprop"),
    ("CosineAnnealingLR", lambda L, o: L.CosineAnnealingLR(o, T_max=6, eta_min=0.01), "NAdam"),
    ("LambdaLR", lambda L, o: L.LambdaLR(o, lambda e: 1 / (1 + e) ** 0.5), "RAdam"),
    ("LinearLR", lambda L, o: L.LinearLR(o, start_factor=1.0, end_factor=0.1,
                                         total_iters=20), "SGD"),
    ("OneCycleLR", lambda L, o: L.OneCycleLR(o, max_lr=0.2, total_steps=36, three_phase=True,
                                             anneal_strategy="linear"), "NAdam"),
]
SCHED_IDS = [f"{n}-{i}" for i, (n, _, _) in enumerate(SCHEDULERS)]


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


@pytest.mark.parametrize("name,make,opt_name", SCHEDULERS, ids=SCHED_IDS)
def test_scheduler_sequence_matches_torch(name, make, opt_name):
    oo, to = _opt(ag, optim, opt_name), _opt(torch, torch.optim, opt_name)
    so, st = make(sched, oo), make(torch.optim.lr_scheduler, to)
    for step in range(35):
        assert so.get_last_lr() == st.get_last_lr(), step
        assert [g["lr"] for g in oo.param_groups] == [g["lr"] for g in to.param_groups], step
        assert _momenta(oo) == _momenta(to), step
        oo.step()
        to.step()
        so.step()
        st.step()
    assert sorted(so.state_dict()) == sorted(st.state_dict())


@pytest.mark.parametrize("name,make,opt_name", SCHEDULERS, ids=SCHED_IDS)
def test_scheduler_state_dict_resumes(name, make, opt_name):
    oo = _opt(ag, optim, opt_name)
    so = make(sched, oo)
    full = []
    for _ in range(30):
        oo.step()
        so.step()
        full.append((so.get_last_lr(), _momenta(oo)))
    oo = _opt(ag, optim, opt_name)
    so = make(sched, oo)
    for _ in range(12):
        oo.step()
        so.step()
    osd, ssd = copy.deepcopy(oo.state_dict()), copy.deepcopy(so.state_dict())
    oo2 = _opt(ag, optim, opt_name)
    so2 = make(sched, oo2)
    oo2.load_state_dict(osd)
    so2.load_state_dict(ssd)
    got = []
    for _ in range(18):
        oo2.step()
        so2.step()
        got.append((so2.get_last_lr(), _momenta(oo2)))
    assert got == full[12:]


def test_cosine_warm_restarts_fractional_epochs_match_torch():
    oo, to = _opt(ag, optim, "SGD"), _opt(torch, torch.optim, "SGD")
    so = sched.CosineAnnealingWarmRestarts(oo, T_0=3, T_mult=2, eta_min=0.01)
    st = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(to, T_0=3, T_mult=2,
                                                              eta_min=0.01)
    iters = 4
    for epoch in range(12):
        for i in range(iters):
            so.step(epoch + i / iters)
            st.step(epoch + i / iters)
            assert so.get_last_lr() == st.get_last_lr()
    for e in [2.5, 0.0, 40.75, 7]:  # jumping around
        so.step(e)
        st.step(e)
        assert so.get_last_lr() == st.get_last_lr() and so.T_i == st.T_i
    with pytest.raises(ValueError, match="non-negative epoch"):
        so.step(-1)


def test_closed_form_with_epoch_matches_torch():
    for make in (lambda L, o: L.ConstantLR(o, factor=0.25, total_iters=6),
                 lambda L, o: L.PolynomialLR(o, total_iters=10, power=1.5)):
        oo, to = _opt(ag, optim, "SGD"), _opt(torch, torch.optim, "SGD")
        so, st = make(sched, oo), make(torch.optim.lr_scheduler, to)
        for e in [3, 8, 1, 12, 6]:
            with pytest.warns(UserWarning):
                so.step(e)
            with pytest.warns(UserWarning):
                st.step(e)
            assert so.get_last_lr() == pytest.approx(st.get_last_lr(), rel=1e-15)


SCHED_ERRORS = [
    lambda L, o: L.ConstantLR(o, factor=1.5),
    lambda L, o: L.MultiplicativeLR(o, [lambda e: 1.0]),
    lambda L, o: L.MultiplicativeLR(o, 0.5),
    lambda L, o: L.CyclicLR(o, base_lr=0.1, max_lr=1.0, mode="zigzag"),
    lambda L, o: L.CyclicLR(o, base_lr=[0.1], max_lr=1.0),
    lambda L, o: L.CyclicLR(L.__dict__["_ada"](o), base_lr=0.1, max_lr=1.0),
    lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=0),
    lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0),
    lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2.5),
    lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2, eta_min="0"),
    lambda L, o: L.SequentialLR(o, [], milestones=[]),
    lambda L, o: L.SequentialLR(o, [L.StepLR(o, 2), L.StepLR(o, 3)], milestones=[]),
    lambda L, o: L.SequentialLR(o, [L.StepLR(o, 2), L.ReduceLROnPlateau(o)], milestones=[3]),
    lambda L, o: L.ChainedScheduler([]),
    lambda L, o: L.ChainedScheduler([L.StepLR(o, 2), L.ReduceLROnPlateau(o)]),
    lambda L, o: L.ChainedScheduler([L.StepLR(o, 2), L.StepLR(L.__dict__["_ada"](o), 2)]),
]


class _Lib:
    """A scheduler module plus a factory of a second (momentum-less) optimizer."""

    def __init__(self, mod, lib, scheds):
        self.__dict__.update({k: getattr(scheds, k) for k in dir(scheds)
                              if not k.startswith("__")})
        self.__dict__["_ada"] = lambda o: lib.Adagrad([mod.zeros(2, requires_grad=True)])


@pytest.mark.parametrize("i", range(len(SCHED_ERRORS)))
def test_scheduler_errors_match_torch(i):
    make = SCHED_ERRORS[i]
    want = _error(lambda: make(_Lib(torch, torch.optim, torch.optim.lr_scheduler),
                               _opt(torch, torch.optim, "SGD")))
    got = _error(lambda: make(_Lib(ag, optim, sched), _opt(ag, optim, "SGD")))
    assert want is not None and got is not None and got[0] == want[0]
    # messages agree up to the optimizer's repr inside the "same optimizer" one
    if "same optimizer" not in want[1]:
        assert got[1] == want[1]


def test_cyclic_lr_custom_scale_fn_object_state_is_saved():
    class Scale:
        def __init__(self):
            self.k = 2.0

        def __call__(self, x):
            return 1 / (self.k * x)

    fn = Scale()
    o = _opt(ag, optim, "SGD")
    s = sched.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=2, scale_fn=fn)
    fn.k = 5.0
    sd = s.state_dict()
    assert sd["_scale_fn_custom"] == {"k": 5.0}
    fn2 = Scale()
    s2 = sched.CyclicLR(_opt(ag, optim, "SGD"), base_lr=0.01, max_lr=0.1, step_size_up=2,
                        scale_fn=fn2)
    s2.load_state_dict(sd)
    assert fn2.k == 5.0 and math.isclose(s2.scale_fn(1), 0.2)


# ---- swa_utils -------------------------------------------------------------------------------

def _bn_models():
    """The same small BatchNorm network in both libraries (weights copied from ours)."""
    ours = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh(), nn.Linear(4, 2))
    ours.double()
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
                                 torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    with torch.no_grad():
        for p, tp in zip(ours.parameters(), theirs.parameters()):
            tp.copy_(torch.tensor(p.detach().numpy()))
    return ours, theirs


SWA_FNS = [
    ("swa", lambda su: {}),
    ("ema_avg_fn", lambda su: dict(avg_fn=su.get_ema_avg_fn(0.9))),
    ("ema_multi", lambda su: dict(multi_avg_fn=su.get_ema_multi_avg_fn(0.8))),
    ("swa_multi", lambda su: dict(multi_avg_fn=su.get_swa_multi_avg_fn())),
    ("swa_avg_fn_buffers", lambda su: dict(avg_fn=su.get_swa_avg_fn(), use_buffers=True)),
]


@pytest.mark.parametrize("label,fn_kwargs", SWA_FNS, ids=[s[0] for s in SWA_FNS])
def test_averaged_model_and_swalr_match_torch(label, fn_kwargs):
    ours, theirs = _bn_models()
    runs = []
    xs = np.random.default_rng(5).standard_normal((6, 8, 3))
    for mod, lib, su, model in ((ag, optim, swa_utils, ours),
                                (torch, torch.optim, torch.optim.swa_utils, theirs)):
        avg = su.AveragedModel(model, **fn_kwargs(su))
        opt = lib.SGD(model.parameters(), lr=0.1, momentum=0.9)
        swa_sched = su.SWALR(opt, swa_lr=0.02, anneal_epochs=3, anneal_strategy="linear")
        lrs = []
        for x in xs:
            opt.zero_grad()
            (model(mod.tensor(x)) ** 2).mean().backward()
            opt.step()
            avg.update_parameters(model)
            swa_sched.step()
            lrs.append(swa_sched.get_last_lr())
        su.update_bn([(mod.tensor(x),) for x in xs], avg)
        out = avg(mod.tensor(xs[0])).detach().numpy()
        state = {k: v.detach().numpy().copy() for k, v in avg.state_dict().items()}
        runs.append((lrs, out, state, int(avg.n_averaged)))
    (lo, oo, so, no), (lt, ot, st, nt) = runs
    assert lo == lt and no == nt == len(xs)
    np.testing.assert_allclose(oo, ot, rtol=1e-10, atol=1e-12)
    assert sorted(so) == sorted(st)
    for k in st:
        np.testing.assert_allclose(so[k], st[k], rtol=1e-10, atol=1e-12, err_msg=k)


def test_swalr_cos_and_errors_match_torch():
    seqs = []
    for mod, lib, su in ((ag, optim, swa_utils), (torch, torch.optim, torch.optim.swa_utils)):
        opt = _opt(mod, lib, "SGD")
        s = su.SWALR(opt, swa_lr=[0.01, 0.2], anneal_epochs=5)
        seq = []
        for _ in range(12):
            opt.step()
            s.step()
            seq.append(s.get_last_lr())
        seqs.append(seq)
        s0 = su.SWALR(_opt(mod, lib, "SGD"), swa_lr=0.3, anneal_epochs=0)
        seqs.append([s0.get_last_lr()])
    assert seqs[0] == seqs[2] and seqs[1] == seqs[3]
    for kwargs in (dict(swa_lr=0.1, anneal_strategy="exp"), dict(swa_lr=0.1, anneal_epochs=-1),
                   dict(swa_lr=[0.1])):
        want = _error(lambda: torch.optim.swa_utils.SWALR(_opt(torch, torch.optim, "SGD"),
                                                           **kwargs))
        got = _error(lambda: swa_utils.SWALR(_opt(ag, optim, "SGD"), **kwargs))
        assert got == want and want is not None
    for fn in ("get_ema_avg_fn", "get_ema_multi_avg_fn"):
        assert _error(lambda: getattr(swa_utils, fn)(1.5)) == \
            _error(lambda: getattr(torch.optim.swa_utils, fn)(1.5))


def test_swa_utils_is_reachable_as_an_attribute_without_loading_nn_eagerly():
    code = ("import sys, optim; assert 'nn' not in sys.modules; "
            "m = optim.swa_utils.AveragedModel; import autograd as torch; "
            "assert torch.optim.swa_utils.SWALR is optim.swa_utils.SWALR; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=str(pathlib.Path(optim.__file__).parents[1]))
    assert out.stdout.strip() == "ok", out.stderr


def test_scheduler_step_before_optimizer_step_warns_like_torch():
    for mod, lib in ((ag, optim), (torch, torch.optim)):
        opt = _opt(mod, lib, "SGD")
        s = lib.lr_scheduler.StepLR(opt, step_size=2)
        with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
            s.step()
        opt2 = _opt(mod, lib, "SGD")
        s2 = lib.lr_scheduler.StepLR(opt2, step_size=2)
        opt2.step()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            s2.step()


SAVE_CASES = [("Adamax", {}, None), ("NAdam", {}, None), ("RAdam", {}, None),
              ("ASGD", dict(t0=2), None), ("Rprop", {}, None), ("Adafactor", {}, None),
              ("Muon", dict(lr=0.02), MUON), ("LBFGS", dict(line_search_fn="strong_wolfe"), None),
              ("LBFGS", dict(history_size=3, max_iter=4), None)]


def _closure_for(mod, ps, opt):
    def closure():
        opt.zero_grad()
        loss = loss_fn(mod, ps)
        loss.backward()
        return loss

    return closure


@pytest.mark.parametrize("name,kwargs,idx", SAVE_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(SAVE_CASES)])
def test_save_load_and_torch_state_resume(name, kwargs, idx, tmp_path):
    """ag.save/ag.load round trip of the state_dict (no pickle), and PyTorch's state_dict
    (LBFGS's lists of tensors included) loaded here continues exactly like PyTorch."""
    tps, topt = _make(torch, name, kwargs, None, idx)
    ps, opt = _make(ag, name, kwargs, None, idx)
    tclosure, closure = _closure_for(torch, tps, topt), _closure_for(ag, ps, opt)
    for _ in range(3):
        topt.step(tclosure)
        opt.step(closure)
    ag.save(opt.state_dict(), tmp_path / "opt.pt")
    ps_a = [ag.tensor(p.detach().numpy().copy(), requires_grad=True) for p in ps]
    opt_a = getattr(optim, name)(ps_a if idx is None else [ps_a[i] for i in idx], **kwargs)
    opt_a.load_state_dict(ag.load(tmp_path / "opt.pt"))
    ps_b = [ag.tensor(p.detach().numpy().copy(), requires_grad=True) for p in tps]
    opt_b = getattr(optim, name)(ps_b if idx is None else [ps_b[i] for i in idx], **kwargs)
    opt_b.load_state_dict(copy.deepcopy(topt.state_dict()))
    for _ in range(2):
        topt.step(tclosure)
        opt.step(closure)
        opt_a.step(_closure_for(ag, ps_a, opt_a))
        opt_b.step(_closure_for(ag, ps_b, opt_b))
    for a, b in zip(_np(ps_a), _np(ps)):
        assert np.array_equal(a, b)
    assert_close(_np(ps_b), _np(tps), tol=1e-9)


def test_get_lr_outside_step_warns_and_old_base_class_name_works():
    for mod, lib in ((ag, optim), (torch, torch.optim)):
        opt = _opt(mod, lib, "SGD")
        s = lib.lr_scheduler.ExponentialLR(opt, gamma=0.5)
        with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
            s.get_lr()

    class Halving(sched._LRScheduler):  # a custom scheduler written against the old name
        def get_lr(self):
            return [b * 0.5 ** self.last_epoch for b in self.base_lrs]

    class TorchHalving(torch.optim.lr_scheduler._LRScheduler):
        def get_lr(self):
            return [b * 0.5 ** self.last_epoch for b in self.base_lrs]

    oo, to = _opt(ag, optim, "SGD"), _opt(torch, torch.optim, "SGD")
    so, st = Halving(oo), TorchHalving(to)
    for _ in range(5):
        oo.step()
        to.step()
        so.step()
        st.step()
        assert so.get_last_lr() == st.get_last_lr()


@pytest.mark.parametrize("name,kwargs,idx", [
    ("Adamax", {}, None), ("NAdam", dict(weight_decay=0.01), None), ("RAdam", {}, None),
    ("ASGD", dict(t0=5, lambd=0.01), None), ("Rprop", {}, None), ("Adafactor", {}, None),
    ("Muon", dict(lr=0.02), MUON)])
def test_float32_parameters_stay_float32_and_match_torch(name, kwargs, idx):
    runs = []
    for mod, lib in ((torch, torch.optim), (ag, optim)):
        ps = [mod.tensor(a.astype(np.float32), requires_grad=True) for a in P0[:4]]
        opt = getattr(lib, name)(ps if idx is None else [ps[i] for i in idx], **kwargs)
        x, y = mod.tensor(X.astype(np.float32)), mod.tensor(Y.astype(np.float32))
        for _ in range(20):
            opt.zero_grad()
            h = (x @ ps[0].T + ps[1]).tanh()
            ((h @ ps[2].T + ps[3] - y) ** 2).mean().backward()
            opt.step()
        runs.append(([p.detach().numpy() for p in ps], opt))
    (want, _), (got, opt) = runs
    for g, w in zip(got, want):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
    for st in opt.state.values():
        assert all(v.dtype == np.float32 for v in st.values() if hasattr(v, "dtype"))
