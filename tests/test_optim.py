"""Optimizers and learning-rate schedulers.

Every optimizer and option combination runs 20 steps on the same small two-layer model in
float64 and must agree with (a) the update rule written out plainly in this file, on gradients
computed by hand in NumPy, and (b) ``torch.optim`` (when torch is installed) to 1e-6 relative,
on both the parameters and their displacement from the start. Schedulers must reproduce
``torch.optim.lr_scheduler``'s learning rates for 30 steps.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

import autograd as ag
import optim
from optim import lr_scheduler as sched

HAS_GPU = ag.cuda.is_available()
gpu = pytest.mark.skipif(not HAS_GPU, reason="needs CuPy and a CUDA GPU")

# ---- the model: tanh(X W1ᵀ + b1) W2ᵀ + b2, mean squared error ------------------------------
_rng = np.random.default_rng(1234)
X = _rng.standard_normal((8, 3))
Y = _rng.standard_normal((8, 2))
P0 = [_rng.standard_normal((4, 3)), _rng.standard_normal(4) * 0.5,
      _rng.standard_normal((2, 4)), _rng.standard_normal(2) * 0.5]


def loss_ag(ps):
    w1, b1, w2, b2 = ps
    h = (ag.tensor(X, dtype=w1.dtype, device=w1.device) @ w1.T + b1).tanh()
    return ((h @ w2.T + b2 - ag.tensor(Y, dtype=w1.dtype, device=w1.device)) ** 2).mean()


def loss_torch(torch, ps):
    w1, b1, w2, b2 = ps
    h = torch.tanh(torch.tensor(X) @ w1.T + b1)
    return ((h @ w2.T + b2 - torch.tensor(Y)) ** 2).mean()


def grads_np(ps):
    """The gradient of the loss, by hand."""
    w1, b1, w2, b2 = ps
    h = np.tanh(X @ w1.T + b1)
    dout = 2 * (h @ w2.T + b2 - Y) / Y.size
    dh = dout @ w2
    dpre = dh * (1 - h * h)
    return [dpre.T @ X, dpre.sum(0), dout.T @ h, dout.sum(0)]


# ---- the reference update rules, written out plainly ---------------------------------------

def ref_sgd(p, g, st, h, t):
    if h["maximize"]:
        g = -g
    g = g + h["weight_decay"] * p
    if h["momentum"]:
        if "buf" not in st:
            st["buf"] = g.copy()
        else:
            st["buf"] = h["momentum"] * st["buf"] + (1 - h["dampening"]) * g
        g = g + h["momentum"] * st["buf"] if h["nesterov"] else st["buf"]
    return p - h["lr"] * g


def ref_adam(p, g, st, h, t):
    b1, b2 = h["betas"]
    if h["maximize"]:
        g = -g
    if h["decoupled_weight_decay"]:
        p = p * (1 - h["lr"] * h["weight_decay"])
    else:
        g = g + h["weight_decay"] * p
    st["m"] = b1 * st.get("m", 0) + (1 - b1) * g
    st["v"] = b2 * st.get("v", 0) + (1 - b2) * g ** 2
    v = st["v"]
    if h["amsgrad"]:
        st["vmax"] = v = np.maximum(st.get("vmax", 0), v)
    m_hat = st["m"] / (1 - b1 ** t)
    v_hat = v / (1 - b2 ** t)
    return p - h["lr"] * m_hat / (np.sqrt(v_hat) + h["eps"])


def ref_rmsprop(p, g, st, h, t):
    a = h["alpha"]
    if h["maximize"]:
        g = -g
    g = g + h["weight_decay"] * p
    st["v"] = a * st.get("v", 0) + (1 - a) * g ** 2
    if h["centered"]:
        st["gavg"] = a * st.get("gavg", 0) + (1 - a) * g
        avg = np.sqrt(st["v"] - st["gavg"] ** 2) + h["eps"]
    else:
        avg = np.sqrt(st["v"]) + h["eps"]
    if h["momentum"] > 0:
        st["buf"] = h["momentum"] * st.get("buf", 0) + g / avg
        return p - h["lr"] * st["buf"]
    return p - h["lr"] * g / avg


def ref_adagrad(p, g, st, h, t):
    if h["maximize"]:
        g = -g
    g = g + h["weight_decay"] * p
    st["sum"] = st.get("sum", h["initial_accumulator_value"]) + g ** 2
    clr = h["lr"] / (1 + (t - 1) * h["lr_decay"])
    return p - clr * g / (np.sqrt(st["sum"]) + h["eps"])


def ref_adadelta(p, g, st, h, t):
    rho, eps = h["rho"], h["eps"]
    if h["maximize"]:
        g = -g
    g = g + h["weight_decay"] * p
    st["v"] = rho * st.get("v", 0) + (1 - rho) * g ** 2
    delta = np.sqrt(st.get("u", 0) + eps) / np.sqrt(st["v"] + eps) * g
    st["u"] = rho * st.get("u", 0) + (1 - rho) * delta ** 2
    return p - h["lr"] * delta


def ref_lamb(p, g, st, h, t):
    """You et al. (2019), Algorithm 2, with phi = identity."""
    b1, b2 = h["betas"]
    if h["maximize"]:
        g = -g
    st["m"] = b1 * st.get("m", 0) + (1 - b1) * g
    st["v"] = b2 * st.get("v", 0) + (1 - b2) * g ** 2
    m, v = st["m"], st["v"]
    if h["bias_correction"]:
        m, v = m / (1 - b1 ** t), v / (1 - b2 ** t)
    r = m / (np.sqrt(v) + h["eps"]) + h["weight_decay"] * p
    wn, rn = np.linalg.norm(p), np.linalg.norm(r)
    ratio = wn / rn if wn > 0 and rn > 0 else 1.0
    return p - h["lr"] * ratio * r


_BASE = dict(lr=1e-3, weight_decay=0.0, maximize=False)
SPECS = {  # class name -> (reference rule, defaults as documented by PyTorch / the paper)
    "SGD": (ref_sgd, dict(_BASE, momentum=0.0, dampening=0.0, nesterov=False)),
    "Adam": (ref_adam, dict(_BASE, betas=(0.9, 0.999), eps=1e-8, amsgrad=False,
                            decoupled_weight_decay=False)),
    "AdamW": (ref_adam, dict(_BASE, betas=(0.9, 0.999), eps=1e-8, amsgrad=False,
                             weight_decay=1e-2, decoupled_weight_decay=True)),
    "RMSprop": (ref_rmsprop, dict(_BASE, lr=1e-2, alpha=0.99, eps=1e-8, momentum=0.0,
                                  centered=False)),
    "Adagrad": (ref_adagrad, dict(_BASE, lr=1e-2, lr_decay=0.0, initial_accumulator_value=0.0,
                                  eps=1e-10)),
    "Adadelta": (ref_adadelta, dict(_BASE, lr=1.0, rho=0.9, eps=1e-6)),
    "LAMB": (ref_lamb, dict(_BASE, betas=(0.9, 0.999), eps=1e-6, bias_correction=True)),
}

CASES = [
    ("SGD", {}),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.5, dampening=0.3, maximize=True)),
    ("Adam", {}),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, maximize=True)),
    ("Adam", dict(lr=0.02, amsgrad=True, weight_decay=0.05, maximize=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", {}),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True)),
    ("RMSprop", {}),
    ("RMSprop", dict(alpha=0.9, eps=1e-6)),
    ("RMSprop", dict(centered=True)),
    ("RMSprop", dict(momentum=0.9)),
    ("RMSprop", dict(lr=0.005, centered=True, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(maximize=True, weight_decay=0.01)),
    ("Adagrad", {}),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("Adagrad", dict(initial_accumulator_value=0.1, weight_decay=0.1)),
    ("Adagrad", dict(eps=1e-6, maximize=True)),
    ("Adadelta", {}),
    ("Adadelta", dict(lr=0.5, rho=0.95)),
    ("Adadelta", dict(weight_decay=0.1, eps=1e-5)),
    ("Adadelta", dict(maximize=True)),
    ("LAMB", {}),
    ("LAMB", dict(lr=0.01, weight_decay=0.01)),
    ("LAMB", dict(lr=0.01, bias_correction=False)),
    ("LAMB", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-8, weight_decay=0.1, maximize=True)),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for n, kw in CASES]


def _groups(params, group_opts):
    """Two groups (first layer with ``group_opts``, second layer plain), or one group."""
    if group_opts is None:
        return params
    return [{"params": params[:2], **group_opts}, {"params": params[2:]}]


def run_ours(name, kwargs, steps=20, group_opts=None, dtype=np.float64, device="cpu"):
    ps = [ag.tensor(a.astype(dtype), device=device, requires_grad=True) for a in P0]
    opt = getattr(optim, name)(_groups(ps, group_opts), **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        loss_ag(ps).backward()
        opt.step()
    return [p.detach().cpu().numpy().copy() for p in ps], opt


def run_reference(name, kwargs, steps=20, group_opts=None):
    rule, defaults = SPECS[name]
    hyper = [dict(defaults, **kwargs)] * 4
    if group_opts is not None:
        hyper = [{**defaults, **kwargs, **group_opts}] * 2 + hyper[2:]
    ps = [a.copy() for a in P0]
    states = [{} for _ in ps]
    for t in range(1, steps + 1):
        gs = grads_np(ps)
        ps = [rule(p, g, st, h, t) for p, g, st, h in zip(ps, gs, states, hyper)]
    return ps


def run_torch(name, kwargs, steps=20, group_opts=None):
    torch = pytest.importorskip("torch")
    ps = [torch.tensor(a.copy(), requires_grad=True) for a in P0]
    opt = getattr(torch.optim, name)(_groups(ps, group_opts), **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        loss_torch(torch, ps).backward()
        opt.step()
    return [p.detach().numpy().copy() for p in ps]


def assert_same_trajectory(got, want, rtol=1e-6):
    for g, w, p0 in zip(got, want, P0):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-12)
        # the displacement too: a tiny update would hide inside the parameters' rtol
        np.testing.assert_allclose(g - p0, w - p0, rtol=rtol, atol=1e-12)
    assert any(not np.allclose(g, p0, rtol=0, atol=1e-6) for g, p0 in zip(got, P0))


def test_hand_gradients_match_autograd():
    ps = [ag.tensor(a, requires_grad=True) for a in P0]
    loss_ag(ps).backward()
    for p, g in zip(ps, grads_np(P0)):
        np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_matches_reference_rule(name, kwargs):
    got, _ = run_ours(name, kwargs)
    assert_same_trajectory(got, run_reference(name, kwargs))


@pytest.mark.parametrize("name,kwargs", [c for c in CASES if c[0] != "LAMB"],
                         ids=[i for c, i in zip(CASES, IDS) if c[0] != "LAMB"])
def test_matches_torch(name, kwargs):
    want = run_torch(name, kwargs)
    got, _ = run_ours(name, kwargs)
    assert_same_trajectory(got, want)


GROUP_CASES = [
    ("SGD", dict(lr=0.1, momentum=0.9), dict(lr=0.01, weight_decay=0.1, nesterov=True)),
    ("Adam", dict(lr=0.01), dict(lr=0.05, amsgrad=True, betas=(0.5, 0.9))),
    ("AdamW", dict(lr=0.01), dict(weight_decay=0.3, maximize=True)),
    ("RMSprop", dict(lr=0.01), dict(centered=True, momentum=0.7, alpha=0.8)),
    ("Adagrad", dict(lr=0.1), dict(lr=0.02, lr_decay=0.1, eps=1e-6)),
    # PyTorch ignores a group's initial_accumulator_value (it always uses the constructor's);
    # we honour it, so this case is checked against the reference rule only
    ("Adagrad", dict(lr=0.1), dict(lr_decay=0.1, initial_accumulator_value=0.5)),
    ("Adadelta", dict(lr=0.5), dict(rho=0.5, weight_decay=0.05)),
    ("LAMB", dict(lr=0.01), dict(lr=0.002, weight_decay=0.2, bias_correction=False)),
]


@pytest.mark.parametrize("name,kwargs,group_opts", GROUP_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(GROUP_CASES)])
def test_per_group_options(name, kwargs, group_opts):
    got, opt = run_ours(name, kwargs, group_opts=group_opts)
    assert opt.param_groups[0]["lr"] == group_opts.get("lr", kwargs["lr"])
    assert opt.param_groups[1]["lr"] == kwargs["lr"]
    assert_same_trajectory(got, run_reference(name, kwargs, group_opts=group_opts))
    if name != "LAMB" and "initial_accumulator_value" not in group_opts:
        assert_same_trajectory(got, run_torch(name, kwargs, group_opts=group_opts))


# ---- state_dict ------------------------------------------------------------------------------
RESUME_CASES = [
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
    ("Adadelta", dict(rho=0.8)),
    ("LAMB", dict(lr=0.01, weight_decay=0.01)),
]


def _train(opt, ps, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss_ag(ps).backward()
        opt.step()


@pytest.mark.parametrize("name,kwargs", RESUME_CASES, ids=[c[0] for c in RESUME_CASES])
def test_state_dict_resumes_exactly(name, kwargs):
    cls = getattr(optim, name)
    full, _ = run_ours(name, kwargs, steps=10, group_opts=dict(lr=0.003))

    ps = [ag.tensor(a, requires_grad=True) for a in P0]
    opt = cls(_groups(ps, dict(lr=0.003)), **kwargs)
    _train(opt, ps, 5)
    sd = opt.state_dict()
    snapshot = copy.deepcopy(sd)
    ps2 = [ag.tensor(p.detach().numpy(), requires_grad=True) for p in ps]
    _train(opt, ps, 1)  # the saved dict must not follow the live optimizer
    for i, st in sd["state"].items():
        for k, v in st.items():
            assert np.array_equal(np.asarray(v), np.asarray(snapshot["state"][i][k])), k

    opt2 = cls(_groups(ps2, dict(lr=0.5)), lr=0.7)  # hyper-parameters come from the dict
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == 0.003
    _train(opt2, ps2, 5)
    for a, b in zip(ps2, full):
        assert np.array_equal(a.detach().numpy(), b)


def test_state_dict_layout_is_torch_like():
    _, opt = run_ours("Adam", dict(amsgrad=True), steps=3)
    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert sorted(sd["state"]) == [0, 1, 2, 3]
    st = sd["state"][0]
    assert sorted(st) == ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"]
    assert isinstance(st["step"], ag.Tensor) and st["step"].shape == () and st["step"].item() == 3
    assert isinstance(st["exp_avg"], ag.Tensor) and st["exp_avg"].shape == (4, 3)
    assert sd["param_groups"][0]["params"] == [0, 1, 2, 3]
    assert sd["param_groups"][0]["betas"] == (0.9, 0.999)


def test_load_torch_adam_state_dict_and_continue():
    torch = pytest.importorskip("torch")
    tps = [torch.tensor(a.copy(), requires_grad=True) for a in P0]
    topt = torch.optim.Adam(tps, lr=0.01, amsgrad=True)

    def tstep():
        topt.zero_grad()
        loss_torch(torch, tps).backward()
        topt.step()

    for _ in range(5):
        tstep()
    tsd = topt.state_dict()
    ours_sd = {
        "state": {i: {k: ag.tensor(v.numpy()) for k, v in st.items()}
                  for i, st in tsd["state"].items()},
        "param_groups": [{k: v for k, v in g.items()} for g in tsd["param_groups"]],
    }
    ps = [ag.tensor(p.detach().numpy(), requires_grad=True) for p in tps]
    opt = optim.Adam(ps)
    opt.load_state_dict(ours_sd)
    for _ in range(5):
        tstep()
    _train(opt, ps, 5)
    for a, b in zip(ps, tps):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10)


def test_load_state_dict_rejects_mismatched_groups():
    ps = [ag.tensor(a, requires_grad=True) for a in P0]
    sd = optim.Adam(_groups(ps, {})).state_dict()
    with pytest.raises(ValueError, match="number of parameter groups"):
        optim.Adam(ps).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.Adam([{"params": ps[:1]}, {"params": ps[1:]}]).load_state_dict(sd)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        optim.Adam(ps).load_state_dict({"state": {}})
    opt = optim.Adam(ps, lr=0.5)
    bad = {"state": {9: {"step": 1.0}}, "param_groups": [dict(opt.state_dict()["param_groups"][0],
                                                             lr=0.1)]}
    with pytest.raises(ValueError, match="state for parameter 9"):
        opt.load_state_dict(bad)
    assert opt.param_groups[0]["lr"] == 0.5  # left untouched


# ---- behaviour -------------------------------------------------------------------------------
ALL = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "LAMB", "Adamax", "NAdam", "RAdam",
       "ASGD", "Rprop", "Adafactor"]


@pytest.mark.parametrize("name", ALL)
def test_float32_parameters_stay_float32(name):
    got, opt = run_ours(name, dict(lr=0.01), steps=3, dtype=np.float32)
    assert all(g.dtype == np.float32 for g in got)
    for st in opt.state.values():
        for k, v in st.items():
            if hasattr(v, "dtype"):
                assert v.dtype == np.float32, k
    want, _ = run_ours(name, dict(lr=0.01), steps=3)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ALL)
def test_parameters_without_grad_are_skipped(name):
    a = ag.tensor([1.0, 2.0], requires_grad=True)
    b = ag.tensor([3.0, 4.0], requires_grad=True)
    opt = getattr(optim, name)([a, b], lr=0.1)
    (a * a).sum().backward()
    opt.step()
    assert b.tolist() == [3.0, 4.0] and b not in opt.state
    assert a.tolist() != [1.0, 2.0]


@pytest.mark.parametrize("name", ALL)
def test_step_bumps_version_so_stale_graphs_fail(name):
    p = ag.tensor([1.0, -2.0, 3.0], requires_grad=True)
    opt = getattr(optim, name)([p], lr=0.1)
    (p * p).sum().backward()
    y = (p * p).sum()  # saves p
    v = p._version
    opt.step()
    assert p._version == v + 1
    with pytest.raises(RuntimeError):
        y.backward()


@pytest.mark.parametrize("name", ALL)
def test_step_with_closure_returns_loss(name):
    ps = [ag.tensor(a, requires_grad=True) for a in P0]
    opt = getattr(optim, name)(ps, lr=0.01)

    def closure():
        opt.zero_grad()
        loss = loss_ag(ps)
        loss.backward()
        return loss

    with ag.no_grad():  # the closure gets gradients anyway
        loss = opt.step(closure)
    assert isinstance(loss, ag.Tensor)
    assert loss.item() == pytest.approx(float(np.mean((np.tanh(X @ P0[0].T + P0[1]) @ P0[2].T
                                                        + P0[3] - Y) ** 2)))


def test_lamb_trust_ratio_is_one_for_zero_weights():
    p = ag.zeros(3, requires_grad=True)
    opt = optim.LAMB([p], lr=0.1)
    p.grad = ag.tensor([1.0, -2.0, 0.5])
    opt.step()
    # first step with bias correction: r ≈ sign(g); ratio 1 because ||p|| = 0
    np.testing.assert_allclose(p.detach().numpy(), -0.1 * np.sign([1.0, -2.0, 0.5]), rtol=1e-5)


def test_zero_grad_set_to_none_false_zeroes_in_place():
    p = ag.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([p])
    (p * p).sum().backward()
    g = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is g and p.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None


@pytest.mark.parametrize("name", ALL)
def test_errors(name):
    cls = getattr(optim, name)
    with pytest.raises(ValueError, match="empty parameter list"):
        cls([])
    leaf = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="non-leaf"):
        cls([leaf * 2])
    with pytest.raises(ValueError, match="Invalid learning rate|Learning rate should be >= 0"):
        cls([leaf], lr=-0.1)  # (Adafactor's message differs, as in PyTorch)
    with pytest.raises(TypeError, match="iterable of Tensors"):
        cls(leaf)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        cls([np.zeros(2)])
    with pytest.raises(ValueError, match="more than one parameter group"):
        cls([{"params": [leaf]}, {"params": [leaf]}])


@pytest.mark.parametrize("cls,kwargs,match", [
    (optim.Adam, dict(betas=(1.0, 0.999)), "beta parameter at index 0"),
    (optim.AdamW, dict(betas=(0.9, -0.1)), "beta parameter at index 1"),
    (optim.Adam, dict(eps=-1e-8), "epsilon"),
    (optim.Adam, dict(weight_decay=-1.0), "weight_decay"),
    (optim.RMSprop, dict(alpha=-0.5), "alpha"),
    (optim.RMSprop, dict(momentum=-0.5), "momentum"),
    (optim.Adagrad, dict(lr_decay=-0.5), "lr_decay"),
    (optim.Adagrad, dict(initial_accumulator_value=-1.0), "initial_accumulator_value"),
    (optim.Adadelta, dict(rho=1.5), "rho"),
    (optim.LAMB, dict(betas=(0.9, 1.0)), "beta parameter at index 1"),
])
def test_invalid_hyperparameters(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls([ag.tensor([1.0], requires_grad=True)], **kwargs)


def test_add_param_group_fills_defaults():
    a = ag.tensor([1.0], requires_grad=True)
    b = ag.tensor([2.0], requires_grad=True)
    opt = optim.RMSprop([a], lr=0.05, centered=True)
    opt.add_param_group({"params": b, "momentum": 0.3})
    g = opt.param_groups[1]
    assert g["params"] == [b] and g["lr"] == 0.05 and g["centered"] and g["momentum"] == 0.3
    assert "RMSprop (" in repr(opt) and "Parameter Group 1" in repr(opt)


@pytest.mark.gpu
@gpu
@pytest.mark.parametrize("name,kwargs", RESUME_CASES, ids=[c[0] for c in RESUME_CASES])
def test_on_gpu_matches_cpu(name, kwargs):
    got, opt = run_ours(name, kwargs, steps=10, device="cuda")
    want, _ = run_ours(name, kwargs, steps=10)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-8, atol=1e-10)
    for st in opt.state.values():
        for v in st.values():
            if isinstance(v, ag.Tensor):
                assert ag.backend.is_cupy_array(v._data) and v.device.type == "cuda"


# ---- learning-rate schedulers ----------------------------------------------------------------

def _both(torch, opt_name="SGD", lrs=(0.1, 0.05), **kw):
    """Our optimizer and torch's, two parameter groups with the given learning rates."""
    def groups(mk):
        return [{"params": [mk()], "lr": lr} for lr in lrs]

    ours = getattr(optim, opt_name)(groups(lambda: ag.zeros(2, requires_grad=True)), **kw)
    theirs = getattr(torch.optim, opt_name)(groups(lambda: torch.zeros(2, requires_grad=True)),
                                            **kw)
    return ours, theirs


SCHEDULERS = [
    ("StepLR", dict(step_size=7, gamma=0.5), "SGD"),
    ("MultiStepLR", dict(milestones=[3, 10, 10, 20], gamma=0.3), "SGD"),
    ("ExponentialLR", dict(gamma=0.9), "SGD"),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=0.001), "SGD"),
    ("CosineAnnealingLR", dict(T_max=7), "Adam"),
    ("LambdaLR", dict(lr_lambda=lambda e: 1.0 / (e + 1)), "SGD"),
    ("LambdaLR", dict(lr_lambda=[lambda e: 0.9 ** e, lambda e: (e % 4) + 1]), "SGD"),
    ("LinearLR", dict(start_factor=0.25, end_factor=0.9, total_iters=12), "SGD"),
    ("LinearLR", {}, "Adam"),
    ("OneCycleLR", dict(max_lr=[1.0, 0.5], total_steps=31), "SGD"),
    ("OneCycleLR", dict(max_lr=0.3, epochs=4, steps_per_epoch=8, anneal_strategy="linear",
                        pct_start=0.25, div_factor=10.0, final_div_factor=100.0), "SGD"),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=40, three_phase=True), "SGD"),
    ("OneCycleLR", dict(max_lr=0.01, total_steps=35, base_momentum=0.8, max_momentum=0.9),
     "Adam"),
    ("OneCycleLR", dict(max_lr=0.01, total_steps=35, cycle_momentum=False), "Adagrad"),
]
SCHED_IDS = [f"{n}-{i}" for i, (n, _, _) in enumerate(SCHEDULERS)]


def _momentum(g):
    return g["betas"][0] if "betas" in g else g.get("momentum")


@pytest.mark.parametrize("name,kwargs,opt_name", SCHEDULERS, ids=SCHED_IDS)
def test_scheduler_matches_torch(name, kwargs, opt_name):
    torch = pytest.importorskip("torch")
    okw = dict(momentum=0.9) if opt_name == "SGD" else {}
    ours_opt, torch_opt = _both(torch, opt_name, **okw)
    ours = getattr(sched, name)(ours_opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(torch_opt, **kwargs)
    for step in range(31):
        assert ours.get_last_lr() == theirs.get_last_lr(), step
        for g, tg in zip(ours_opt.param_groups, torch_opt.param_groups):
            assert g["lr"] == tg["lr"], step
            assert _momentum(g) == _momentum(tg), step
        ours_opt.step()
        torch_opt.step()
        if step < 30:
            ours.step()
            theirs.step()
    assert ours.last_epoch == theirs.last_epoch == 30


PLATEAU = [
    dict(),
    dict(mode="min", patience=2, factor=0.5, cooldown=1, min_lr=0.02),
    dict(mode="max", patience=1, threshold=0.05, threshold_mode="rel", min_lr=[0.0, 0.03]),
    dict(mode="min", patience=0, threshold=0.1, threshold_mode="abs", cooldown=3),
    dict(mode="max", patience=3, threshold=0.2, threshold_mode="abs", factor=0.7),
]


@pytest.mark.parametrize("kwargs", PLATEAU)
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    ours_opt, torch_opt = _both(torch)
    ours = sched.ReduceLROnPlateau(ours_opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(torch_opt, **kwargs)
    metrics = [1.0, 0.9, 0.95, 0.96, 0.8, 0.8, 0.81, 0.79, 0.9, 1.1, 0.5, 0.5, 0.5, 0.49,
               0.6, 0.7, 0.3, 0.3, 0.31, 0.2, 0.25, 0.25, 0.25, 0.3, 0.1, 0.1, 0.11, 0.12,
               0.05, 0.06]
    changed = False
    for m in metrics:
        ours.step(m)
        theirs.step(m)
        assert ours.get_last_lr() == theirs.get_last_lr()
        assert [g["lr"] for g in ours_opt.param_groups] == \
            [g["lr"] for g in torch_opt.param_groups]
        changed |= ours.get_last_lr() != [0.1, 0.05]
        assert ours.num_bad_epochs == theirs.num_bad_epochs
    assert changed or not kwargs  # the default patience (10) is never exhausted here
    ours.step(ag.tensor(0.01))  # a one-element tensor works as a metric


def test_scheduler_closed_form_with_epoch_matches_torch():
    torch = pytest.importorskip("torch")
    ours_opt, torch_opt = _both(torch)
    ours = sched.StepLR(ours_opt, step_size=3, gamma=0.5)
    theirs = torch.optim.lr_scheduler.StepLR(torch_opt, step_size=3, gamma=0.5)
    for e in [4, 9, 2]:
        with pytest.warns(UserWarning):
            ours.step(e)
        with pytest.warns(UserWarning):
            theirs.step(e)
        assert ours.get_last_lr() == theirs.get_last_lr()


RESUMABLE = [
    ("StepLR", dict(step_size=4, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[5, 15, 15], gamma=0.5)),
    ("CosineAnnealingLR", dict(T_max=8, eta_min=0.01)),
    ("LinearLR", dict(start_factor=0.1, total_iters=20)),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=30)),
    ("ExponentialLR", dict(gamma=0.95)),
]


@pytest.mark.parametrize("name,kwargs", RESUMABLE, ids=[c[0] for c in RESUMABLE])
def test_scheduler_state_dict_resumes(name, kwargs):
    def make():
        opt = optim.SGD([ag.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
        return opt, getattr(sched, name)(opt, **kwargs)

    opt, s = make()
    full = []
    for _ in range(25):
        opt.step()
        s.step()
        full.append((s.get_last_lr(), opt.param_groups[0]["momentum"]))

    opt, s = make()
    for _ in range(10):
        opt.step()
        s.step()
    osd, ssd = copy.deepcopy(opt.state_dict()), copy.deepcopy(s.state_dict())
    opt2, s2 = make()  # as PyTorch advises: scheduler first, then load both
    opt2.load_state_dict(osd)
    s2.load_state_dict(ssd)
    got = []
    for _ in range(15):
        opt2.step()
        s2.step()
        got.append((s2.get_last_lr(), opt2.param_groups[0]["momentum"]))
    assert got == full[10:]


def test_lambda_lr_state_dict_keeps_callable_objects_state():
    class Warm:
        def __init__(self):
            self.scale = 2.0

        def __call__(self, e):
            return self.scale * (e + 1)

    opt = optim.SGD([ag.zeros(1, requires_grad=True)], lr=0.1)
    fn = Warm()
    s = sched.LambdaLR(opt, [fn])
    fn.scale = 3.0
    sd = s.state_dict()
    assert sd["lr_lambdas"] == [{"scale": 3.0}]
    fn2 = Warm()
    s2 = sched.LambdaLR(optim.SGD([ag.zeros(1, requires_grad=True)], lr=0.1), [fn2])
    s2.load_state_dict(sd)
    assert fn2.scale == 3.0 and "lr_lambdas" in sd
    assert sched.LambdaLR(opt, lambda e: 1.0).state_dict()["lr_lambdas"] == [None]


def test_training_with_onecycle_and_adam_matches_torch():
    torch = pytest.importorskip("torch")
    ps = [ag.tensor(a, requires_grad=True) for a in P0]
    tps = [torch.tensor(a.copy(), requires_grad=True) for a in P0]
    opt, topt = optim.Adam(ps, weight_decay=0.01), torch.optim.Adam(tps, weight_decay=0.01)
    s = sched.OneCycleLR(opt, max_lr=0.05, total_steps=20)
    ts = torch.optim.lr_scheduler.OneCycleLR(topt, max_lr=0.05, total_steps=20)
    for _ in range(20):
        opt.zero_grad()
        loss_ag(ps).backward()
        opt.step()
        s.step()
        topt.zero_grad()
        loss_torch(torch, tps).backward()
        topt.step()
        ts.step()
    assert_same_trajectory([p.detach().numpy() for p in ps],
                           [p.detach().numpy() for p in tps])


def test_scheduler_errors():
    opt = optim.SGD([ag.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        sched.StepLR(object(), step_size=1)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        sched.ReduceLROnPlateau(object())
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        sched.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="unknown"):
        sched.ReduceLROnPlateau(opt, mode="up")
    with pytest.raises(ValueError, match="unknown"):
        sched.ReduceLROnPlateau(opt, threshold_mode="pct")
    with pytest.raises(ValueError, match="start_factor|Starting"):
        sched.LinearLR(opt, start_factor=0.0)
    with pytest.raises(ValueError, match="total_steps OR"):
        sched.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="pct_start"):
        sched.OneCycleLR(opt, max_lr=0.1, total_steps=10, pct_start=1)
    with pytest.raises(ValueError, match="anneal_strategy"):
        sched.OneCycleLR(opt, max_lr=0.1, total_steps=10, anneal_strategy="exp")
    with pytest.raises(ValueError, match="momentum or beta1"):
        sched.OneCycleLR(optim.Adagrad([ag.zeros(1, requires_grad=True)]), max_lr=0.1,
                         total_steps=10)
    with pytest.raises(ValueError, match="same length"):
        sched.OneCycleLR(opt, max_lr=[0.1, 0.2], total_steps=10)
    with pytest.raises(KeyError, match="initial_lr"):
        sched.StepLR(optim.SGD([ag.zeros(1, requires_grad=True)]), step_size=2, last_epoch=3)
    s = sched.OneCycleLR(opt, max_lr=0.1, total_steps=3)
    opt.step()
    for _ in range(3):
        s.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        s.step()


def test_cosine_annealing_reaches_eta_min():
    opt = optim.SGD([ag.zeros(1, requires_grad=True)], lr=1.0)
    s = sched.CosineAnnealingLR(opt, T_max=10, eta_min=0.1)
    lrs = [s.get_last_lr()[0]]
    for _ in range(10):
        opt.step()
        s.step()
        lrs.append(s.get_last_lr()[0])
    assert lrs[0] == 1.0 and math.isclose(lrs[-1], 0.1)
    assert all(a > b for a, b in zip(lrs, lrs[1:]))
