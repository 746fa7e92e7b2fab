"""Losses (functional and modules): values and gradients against PyTorch for every option,
finite-difference gradients (first and second order), fused losses against composite
versions, edge values, legacy arguments and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from autograd.ops import elementwise as E


def _torch():
    return pytest.importorskip("torch")


def f64(a, rg=True):
    return ag.tensor(np.asarray(a, dtype=np.float64), requires_grad=rg)


def rnd(*shape, seed=0, scale=1.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


def unif(*shape, seed=0, lo=0.05, hi=0.95):
    return np.random.default_rng(seed).uniform(lo, hi, shape)


def arr(t):
    return t.detach().numpy()


def close(a, b, atol=1e-10, rtol=1e-7):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=atol, rtol=rtol)


def against_torch(fn, arrays, rg=None, atol=1e-10):
    """``fn(M, *tensors)`` is written once for both libraries (M = our nn.functional or
    torch's); compares outputs and the gradients of the inputs flagged in ``rg``."""
    torch = _torch()
    rg = rg or [np.asarray(a).dtype.kind == "f" for a in arrays]
    xs = [ag.tensor(a, requires_grad=r) for a, r in zip(arrays, rg)]
    ts = [torch.tensor(a, requires_grad=r) for a, r in zip(arrays, rg)]
    y, ty = fn(F, *xs), fn(torch.nn.functional, *ts)
    close(arr(y), ty.detach().numpy(), atol=atol)
    g = np.random.default_rng(1).standard_normal(tuple(ty.shape))
    y.backward(ag.tensor(g))
    ty.backward(torch.tensor(g))
    for x, t in zip(xs, ts):
        if t.grad is not None:
            close(x.grad.numpy(), t.grad.numpy(), atol=atol)


REDUCTIONS = ["mean", "sum", "none"]
X, Y, W = rnd(4, 5, seed=1), rnd(4, 5, seed=2), unif(4, 5, seed=3)
P, T = unif(4, 5, seed=4), unif(4, 5, seed=5, lo=0.0, hi=1.0)


# ---- regression losses --------------------------------------------------------------------

REGRESSION = {
    "mse": lambda M, x, y, r: M.mse_loss(x, y, reduction=r),
    "l1": lambda M, x, y, r: M.l1_loss(x, y, reduction=r),
    "smooth_l1": lambda M, x, y, r: M.smooth_l1_loss(x, y, reduction=r),
    "smooth_l1_beta0": lambda M, x, y, r: M.smooth_l1_loss(x, y, reduction=r, beta=0.0),
    "smooth_l1_beta": lambda M, x, y, r: M.smooth_l1_loss(x, y, reduction=r, beta=0.6),
    "huber": lambda M, x, y, r: M.huber_loss(x, y, reduction=r),
    "huber_delta": lambda M, x, y, r: M.huber_loss(x, y, reduction=r, delta=0.4),
}
WEIGHTED = {
    "mse": lambda M, x, y, w, r: M.mse_loss(x, y, reduction=r, weight=w),
    "l1": lambda M, x, y, w, r: M.l1_loss(x, y, reduction=r, weight=w),
    "huber": lambda M, x, y, w, r: M.huber_loss(x, y, reduction=r, delta=0.5, weight=w),
}


@pytest.mark.parametrize("red", REDUCTIONS)
@pytest.mark.parametrize("name", sorted(REGRESSION))
def test_regression_losses_match_torch(name, red):
    fn = REGRESSION[name]
    against_torch(lambda M, x, y: fn(M, x, y, red), [X, Y])


@pytest.mark.parametrize("red", REDUCTIONS)
@pytest.mark.parametrize("name", sorted(WEIGHTED))
def test_weighted_regression_losses_match_torch(name, red):
    fn = WEIGHTED[name]
    against_torch(lambda M, x, y, w: fn(M, x, y, w, red), [X, Y, W])


@pytest.mark.parametrize("red", REDUCTIONS)
@pytest.mark.parametrize("name", sorted(REGRESSION))
def test_regression_losses_gradcheck(name, red):
    fn = REGRESSION[name]
    assert ag.gradcheck(lambda x, y: fn(F, x, y, red), (f64(X), f64(Y)))


@pytest.mark.parametrize("name", sorted(WEIGHTED))
def test_weighted_regression_losses_gradcheck(name):
    fn = WEIGHTED[name]
    for red in REDUCTIONS:
        assert ag.gradcheck(lambda x, y, w: fn(F, x, y, w, red), (f64(X), f64(Y), f64(W)))


@pytest.mark.parametrize("name", ["mse", "smooth_l1", "smooth_l1_beta", "huber"])
def test_smooth_regression_losses_gradgradcheck(name):
    fn = REGRESSION[name]
    assert ag.gradgradcheck(lambda x, y: fn(F, x, y, "mean"), (f64(X), f64(Y)))
    assert ag.gradgradcheck(lambda x, y: fn(F, x, y, "none"), (f64(X), f64(Y)))


def test_l1_gradient_at_zero_difference_is_zero():
    x = f64([1.0, 2.0])
    F.l1_loss(x, ag.tensor([1.0, 3.0])).backward()
    close(x.grad.numpy(), [0.0, -0.5])


def test_regression_shape_mismatch_warns_and_broadcasts():
    torch = _torch()
    with pytest.warns(UserWarning, match="target size"):
        ours = F.mse_loss(ag.tensor(X), ag.tensor(Y[:1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.nn.functional.mse_loss(torch.tensor(X), torch.tensor(Y[:1]))
    close(arr(ours), theirs.numpy())


def test_regression_errors():
    x, y = ag.tensor(X), ag.tensor(Y)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.mse_loss(x, y, reduction="avg")
    with pytest.raises(ValueError, match="weights and input must have the same size"):
        F.mse_loss(x, y, weight=ag.ones(5))
    with pytest.raises(RuntimeError, match="negative values for beta"):
        F.smooth_l1_loss(x, y, beta=-1.0)
    with pytest.raises(RuntimeError, match="delta"):
        F.huber_loss(x, y, delta=0.0)


def test_legacy_size_average_and_reduce():
    x, y = ag.tensor(X), ag.tensor(Y)
    close(arr(F.mse_loss(x, y, size_average=False)), arr(F.mse_loss(x, y, reduction="sum")))
    close(arr(F.l1_loss(x, y, reduce=False)), arr(F.l1_loss(x, y, reduction="none")))
    assert nn.MSELoss(size_average=False).reduction == "sum"
    assert nn.L1Loss(reduce=False).reduction == "none"


# ---- classification losses ----------------------------------------------------------------

LOGITS = rnd(5, 4, seed=6, scale=2)
TGT = np.array([0, 3, -100, 1, 3])
CW = unif(4, seed=7, lo=0.2, hi=2.0)
LOGITS3 = rnd(2, 3, 4, seed=8)
TGT3 = np.array([[0, 2, 1, -100], [2, 2, 0, 1]])


@pytest.mark.parametrize("red", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.15])
def test_cross_entropy_matches_torch(red, weighted, smoothing):
    torch = _torch()
    w = torch.tensor(CW) if weighted else None
    wo = ag.tensor(CW) if weighted else None

    def fn(M, x):
        ww = wo if M is F else w
        t = (ag if M is F else torch).tensor(TGT)
        return M.cross_entropy(x, t, weight=ww, reduction=red, label_smoothing=smoothing)

    against_torch(fn, [LOGITS])
    t3 = lambda M: (ag if M is F else torch).tensor(TGT3)  # noqa: E731
    against_torch(lambda M, x: M.cross_entropy(x, t3(M), reduction=red,
                                               label_smoothing=smoothing), [LOGITS3])


@pytest.mark.parametrize("red", REDUCTIONS)
def test_cross_entropy_probability_targets_match_torch(red):
    p = unif(5, 4, seed=9)
    p /= p.sum(1, keepdims=True)
    against_torch(lambda M, x, t: M.cross_entropy(x, t, reduction=red, label_smoothing=0.1),
                  [LOGITS, p])


def test_cross_entropy_gradcheck_and_double_backward_through_nll():
    x = f64(LOGITS)
    t = ag.tensor(TGT)
    w = ag.tensor(CW)
    for red in REDUCTIONS:
        assert ag.gradcheck(lambda a: F.cross_entropy(a, t, weight=w, reduction=red,
                                                      label_smoothing=0.2), (x,))
    # the fused op is twice differentiable (issue 12), as the composite is
    for red in REDUCTIONS:
        assert ag.gradgradcheck(lambda a: F.cross_entropy(a, t, weight=w, reduction=red,
                                                          label_smoothing=0.2), (x,))
    assert ag.gradgradcheck(lambda a: F.nll_loss(F.log_softmax(a, 1), t, weight=w), (x,))


@pytest.mark.parametrize("red", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_matches_torch(red, weighted):
    torch = _torch()
    logp = np.log(unif(5, 4, seed=10))

    def fn(M, x):
        mod = ag if M is F else torch
        w = mod.tensor(CW) if weighted else None
        return M.nll_loss(x, mod.tensor(TGT), weight=w, reduction=red)

    against_torch(fn, [logp])
    t3 = np.where(TGT3 == -100, 0, TGT3)
    against_torch(lambda M, x: M.nll_loss(x, (ag if M is F else torch).tensor(t3),
                                          reduction=red, ignore_index=1), [LOGITS3])
    against_torch(lambda M, x: M.nll_loss(x, (ag if M is F else torch).tensor(2),
                                          reduction=red), [logp[0]])


def test_nll_loss_gradcheck_gradgradcheck_and_weight_gradient():
    t = ag.tensor(TGT)
    for red in REDUCTIONS:
        assert ag.gradcheck(lambda a, w: F.nll_loss(a, t, weight=w, reduction=red),
                            (f64(LOGITS), f64(CW)))
    assert ag.gradgradcheck(lambda a: F.nll_loss(a, t, weight=ag.tensor(CW)) ** 2,
                            (f64(LOGITS),))


def test_nll_and_cross_entropy_errors():
    x = ag.randn(3, 4)
    with pytest.raises(IndexError, match="Target 4 is out of bounds"):
        F.nll_loss(x, ag.tensor([0, 4, 1]))
    with pytest.raises(ValueError, match=r"batch_size \(3\) to match target batch_size \(2\)"):
        F.nll_loss(x, ag.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="integer"):
        F.nll_loss(x, ag.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(RuntimeError, match="weight tensor should be defined"):
        F.nll_loss(x, ag.tensor([0, 1, 2]), weight=ag.ones(3))
    with pytest.raises(IndexError, match="out of bounds"):
        F.cross_entropy(x, ag.tensor([0, 7, 1]))
    with pytest.raises(RuntimeError, match="expected target of shape"):
        F.cross_entropy(x, ag.tensor([[0, 1, 1]]))
    # the ignored index is never bounds-checked
    F.nll_loss(x, ag.tensor([0, -100, 1]))


def test_all_ignored_mean_is_nan_like_torch():
    torch = _torch()
    t = [-100, -100]
    ours = F.nll_loss(ag.randn(2, 3), ag.tensor(t))
    theirs = torch.nn.functional.nll_loss(torch.randn(2, 3), torch.tensor(t))
    assert np.isnan(arr(ours)) and torch.isnan(theirs)


# ---- binary cross entropy -----------------------------------------------------------------

@pytest.mark.parametrize("red", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_matches_torch(red, weighted):
    w = unif(5, seed=11) if weighted else None
    arrays = [P, T] + ([w] if weighted else [])
    against_torch(lambda M, x, t, *ww: M.binary_cross_entropy(x, t, *ww, reduction=red),
                  arrays, rg=[True, True, False])


@pytest.mark.parametrize("red", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos", [False, True])
def test_bce_with_logits_matches_torch(red, weighted, pos):
    torch = _torch()
    w = unif(5, seed=12) if weighted else None
    pw = unif(5, seed=13, lo=0.2, hi=4.0) if pos else None

    def fn(M, x, t):
        mod = ag if M is F else torch
        return M.binary_cross_entropy_with_logits(
            x, t, None if w is None else mod.tensor(w), reduction=red,
            pos_weight=None if pw is None else mod.tensor(pw))

    against_torch(fn, [X * 4, T])


def test_bce_gradcheck_and_gradgradcheck():
    for red in REDUCTIONS:
        assert ag.gradcheck(lambda x, t, w: F.binary_cross_entropy(x, t, w, reduction=red),
                            (f64(P), f64(T), f64(unif(5, seed=1))))
    assert ag.gradgradcheck(lambda x, t: F.binary_cross_entropy(x, t), (f64(P), f64(T)))


def test_bce_with_logits_gradcheck_including_pos_weight():
    for red in REDUCTIONS:
        assert ag.gradcheck(
            lambda x, t, w, pw: F.binary_cross_entropy_with_logits(x, t, w, reduction=red,
                                                                   pos_weight=pw),
            (f64(X * 3), f64(T), f64(unif(5, seed=1)), f64(unif(5, seed=2, hi=3.0))))
    assert ag.gradgradcheck(lambda x, t, pw: F.binary_cross_entropy_with_logits(
        x, t, pos_weight=pw), (f64(X * 3), f64(T), f64(unif(5, seed=2, hi=3.0))))
    assert ag.gradgradcheck(lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="none"),
                            (f64(X * 3), f64(T)))


def test_fused_bce_equals_composite_to_second_order():
    x1, x2 = f64(P), f64(P)
    t = ag.tensor(T)
    y1 = F.binary_cross_entropy(x1, t, reduction="sum")
    y2 = -(t * E.log(x2) + (1 - t) * E.log(1 - x2)).sum()
    close(arr(y1), arr(y2), atol=1e-12)
    (g1,) = ag.grad(y1, x1, create_graph=True)
    (g2,) = ag.grad(y2, x2, create_graph=True)
    close(arr(g1), arr(g2), atol=1e-10)
    close(arr(ag.grad(g1.sum(), x1)[0]), arr(ag.grad(g2.sum(), x2)[0]), atol=1e-8)


def test_fused_bce_with_logits_equals_composite():
    pw = ag.tensor(unif(5, seed=14, lo=0.5, hi=3.0))
    x1, x2 = f64(X * 2), f64(X * 2)
    t1, t2 = f64(T), f64(T)
    y1 = F.binary_cross_entropy_with_logits(x1, t1, pos_weight=pw, reduction="sum")
    s = E.sigmoid(x2)
    y2 = -(pw * t2 * E.log(s) + (1 - t2) * E.log(1 - s)).sum()
    close(arr(y1), arr(y2), atol=1e-10)
    g1 = ag.grad(y1, (x1, t1), create_graph=True)
    g2 = ag.grad(y2, (x2, t2), create_graph=True)
    for a, b in zip(g1, g2):
        close(arr(a), arr(b), atol=1e-10)
    close(arr(ag.grad(g1[0].sum(), x1)[0]), arr(ag.grad(g2[0].sum(), x2)[0]), atol=1e-9)
    # with no pos_weight it is BCE of the sigmoid
    x3 = f64(X)
    close(arr(F.binary_cross_entropy_with_logits(x3, t1)),
          arr(F.binary_cross_entropy(E.sigmoid(x3), t1)), atol=1e-12)


def test_bce_edge_values_match_torch():
    torch = _torch()
    x, t = np.array([0.0, 1.0, 0.0, 1.0, 0.5]), np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    against_torch(lambda M, a, b: M.binary_cross_entropy(a, b, reduction="none"), [x, t],
                  rg=[True, False])
    big = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    against_torch(lambda M, a, b: M.binary_cross_entropy_with_logits(a, b, reduction="none"),
                  [big, t])
    out = F.binary_cross_entropy(ag.tensor([0.0]), ag.tensor([1.0]))
    assert arr(out) == 100.0  # log clamped at -100
    _ = torch


def test_bce_errors():
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(ag.tensor([1.5, 0.2]), ag.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="different to the input size"):
        F.binary_cross_entropy(ag.tensor([0.5, 0.2]), ag.tensor([1.0]))
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy_with_logits(ag.randn(2, 3), ag.rand(3))


# ---- KL divergence ------------------------------------------------------------------------

@pytest.mark.parametrize("red", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(red, log_target):
    lp = np.log(unif(4, 5, seed=15))
    tgt = np.log(T + 0.01) if log_target else T
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        against_torch(lambda M, a, b: M.kl_div(a, b, reduction=red, log_target=log_target),
                      [lp, tgt])


def test_kl_div_gradcheck_zero_targets_and_warning():
    lp = np.log(unif(4, 5, seed=15))
    for lt in (False, True):
        tgt = np.log(T + 0.05) if lt else T + 0.05
        assert ag.gradcheck(lambda a, b: F.kl_div(a, b, reduction="batchmean", log_target=lt),
                            (f64(lp), f64(tgt)))
        assert ag.gradgradcheck(lambda a, b: F.kl_div(a, b, reduction="sum", log_target=lt),
                                (f64(lp), f64(tgt)))
    x = f64(lp)
    y = F.kl_div(x, ag.tensor(np.zeros((4, 5))), reduction="sum")  # 0 log 0 = 0
    assert arr(y) == 0.0
    y.backward()
    assert (x.grad.numpy() == 0).all()
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(x, ag.tensor(T))
    with pytest.raises(ValueError, match="reduction"):
        F.kl_div(x, ag.tensor(T), reduction="batch")


# ---- loss modules -------------------------------------------------------------------------

MODULES = [
    ("MSELoss", {}, "reg"), ("MSELoss", {"reduction": "sum"}, "reg"),
    ("L1Loss", {"reduction": "none"}, "reg"), ("SmoothL1Loss", {"beta": 0.5}, "reg"),
    ("HuberLoss", {"delta": 0.3, "reduction": "sum"}, "reg"),
    ("CrossEntropyLoss", {"weight": CW, "ignore_index": 3, "label_smoothing": 0.1}, "cls"),
    ("CrossEntropyLoss", {"reduction": "sum"}, "cls"),
    ("NLLLoss", {"weight": CW, "reduction": "none"}, "cls"),
    ("BCELoss", {"weight": unif(5, seed=1)}, "prob"),
    ("BCEWithLogitsLoss", {"weight": unif(5, seed=1), "pos_weight": unif(5, seed=2)}, "logit"),
    ("BCEWithLogitsLoss", {}, "logit"),
    ("KLDivLoss", {"reduction": "batchmean", "log_target": True}, "kl"),
]


@pytest.mark.parametrize("cls,kw,kind", MODULES)
def test_loss_modules_match_torch(cls, kw, kind):
    torch = _torch()
    okw = {k: ag.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    ours, theirs = getattr(nn, cls)(**okw), getattr(torch.nn, cls)(**tkw)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    tgt = np.where(TGT == -100, 2, TGT)
    data = {"reg": ([X, Y], [True, True]), "cls": ([LOGITS, tgt], [True, False]),
            "prob": ([P, T], [True, True]), "logit": ([X * 3, T], [True, True]),
            "kl": ([np.log(P), np.log(T + 0.01)], [True, True])}[kind]
    against_torch(lambda M, a, b: (ours if M is F else theirs)(a, b), *data)


def test_loss_module_weight_is_a_buffer_that_follows_to():
    m = nn.CrossEntropyLoss(weight=ag.tensor(CW, dtype=ag.float32))
    assert [n for n, _ in m.named_buffers()] == ["weight"]
    assert not list(m.parameters())
    m.double()
    assert m.weight.dtype == ag.float64
    y = m(ag.tensor(LOGITS), ag.tensor(TGT))
    assert y.dtype == ag.float64
    b = nn.BCEWithLogitsLoss(pos_weight=ag.ones(3))
    assert list(b.state_dict()) == ["pos_weight"]
