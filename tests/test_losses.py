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
    with pytest.raises(ValueError, match=r"batch_size \(3\) to match target batch_size \(1\)"):
        F.cross_entropy(x, ag.tensor([[0, 1, 1]]))
    with pytest.raises(RuntimeError, match="expected target of shape"):
        F.cross_entropy(ag.randn(3, 4, 2), ag.zeros(3, 5, dtype=ag.int64))
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
    # PyTorch's messages, sizes printed as torch.Size
    with pytest.raises(ValueError, match=r"^Using a target size \(torch.Size\(\[1\]\)\) that is "
                       r"different to the input size \(torch.Size\(\[2\]\)\) is deprecated"):
        F.binary_cross_entropy(ag.tensor([0.5, 0.2]), ag.tensor([1.0]))
    with pytest.raises(ValueError, match=r"^Target size \(torch.Size\(\[3\]\)\) must be the same "
                       r"as input size \(torch.Size\(\[2, 3\]\)\)$"):
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


# ---- margin, embedding and likelihood losses (helper 'nnloss') -----------------------------

PM = np.array([1.0, -1.0, 1.0, -1.0])  # +-1 targets for the 4 rows of X
X3 = rnd(4, 5, seed=21)
MLT = np.array([[3, 0, -1, 1, 2], [0, 1, 2, 3, 4], [1, -1, 2, 2, 0], [-1, 0, 0, 0, 0]])
CLS = np.array([0, 3, 2, 4])
POIS = np.random.default_rng(22).poisson(2.0, (4, 5)).astype(np.float64)


def _t(M, a):
    return (ag if M is F else _torch()).tensor(a)


# name -> (fn(M, *arrays, reduction), arrays, which arrays require grad)
MARGIN = {
    "cosine_embedding": (lambda M, a, b, r: M.cosine_embedding_loss(
        a, b, _t(M, PM), margin=0.2, reduction=r), [X, Y], None),
    "cosine_embedding_1d": (lambda M, a, b, r: M.cosine_embedding_loss(
        a, b, _t(M, np.array(-1.0)), margin=-0.5, reduction=r), [X[0], Y[0]], None),
    "margin_ranking": (lambda M, a, b, r: M.margin_ranking_loss(
        a, b, _t(M, PM), margin=0.3, reduction=r), [X[:, 0], Y[:, 0]], None),
    "hinge_embedding": (lambda M, a, r: M.hinge_embedding_loss(
        a, _t(M, np.stack([PM] * 5, 1)), margin=0.7, reduction=r), [X], None),
    "soft_margin": (lambda M, a, r: M.soft_margin_loss(
        a, _t(M, np.stack([PM] * 5, 1)), reduction=r), [X], None),
    "multilabel_soft_margin": (lambda M, a, t, w, r: M.multilabel_soft_margin_loss(
        a, t, w, reduction=r), [X, (Y > 0) * 1.0, unif(5, seed=23)], None),
    "multi_margin_p1": (lambda M, a, r: M.multi_margin_loss(
        a, _t(M, CLS), margin=0.8, reduction=r), [X], None),
    "multi_margin_p2_weight": (lambda M, a, r: M.multi_margin_loss(
        a, _t(M, CLS), p=2, weight=_t(M, unif(5, seed=24)), reduction=r), [X], None),
    "multi_margin_1d": (lambda M, a, r: M.multi_margin_loss(
        a, _t(M, np.array(2)), reduction=r), [X[0]], None),
    "multilabel_margin": (lambda M, a, r: M.multilabel_margin_loss(
        a, _t(M, MLT), reduction=r), [X], None),
    "multilabel_margin_1d": (lambda M, a, r: M.multilabel_margin_loss(
        a, _t(M, MLT[0]), reduction=r), [X[0]], None),
    "triplet": (lambda M, a, p, n, r: M.triplet_margin_loss(a, p, n, reduction=r),
                [X, Y, X3], None),
    "triplet_p1_swap": (lambda M, a, p, n, r: M.triplet_margin_loss(
        a, p, n, margin=0.5, p=1, swap=True, reduction=r), [X, Y, X3], None),
    "triplet_p3_swap": (lambda M, a, p, n, r: M.triplet_margin_loss(
        a, p, n, margin=2.0, p=3, eps=1e-3, swap=True, reduction=r), [X, Y, X3], None),
    "triplet_distance_cos": (lambda M, a, p, n, r: M.triplet_margin_with_distance_loss(
        a, p, n, distance_function=lambda u, v: 1 - M.cosine_similarity(u, v), swap=True,
        reduction=r), [X, Y, X3], None),
    "triplet_distance_default": (lambda M, a, p, n, r: M.triplet_margin_with_distance_loss(
        a, p, n, margin=3.0, reduction=r), [X, Y, X3], None),
    "poisson_log": (lambda M, a, t, r: M.poisson_nll_loss(a, t, reduction=r), [X, POIS], None),
    "poisson_full": (lambda M, a, t, r: M.poisson_nll_loss(a, t, full=True, reduction=r),
                     [X, POIS + 0.5], None),
    "poisson_rate": (lambda M, a, t, r: M.poisson_nll_loss(
        a, t, log_input=False, full=True, eps=1e-3, reduction=r), [P, POIS + 0.25], None),
    "gaussian_hetero": (lambda M, a, t, v, r: M.gaussian_nll_loss(a, t, v, reduction=r),
                        [X, Y, unif(4, 5, seed=25)], None),
    "gaussian_short": (lambda M, a, t, v, r: M.gaussian_nll_loss(
        a, t, v, full=True, reduction=r), [X, Y, unif(4, seed=26)], None),
    "gaussian_one_dim": (lambda M, a, t, v, r: M.gaussian_nll_loss(
        a, t, v, eps=0.1, reduction=r), [X, Y, unif(1, 5, seed=27, lo=0.0)], None),
    "gaussian_float": (lambda M, a, t, r: M.gaussian_nll_loss(a, t, 0.3, full=True,
                                                               reduction=r), [X, Y], None),
}
# PyTorch does not differentiate these with respect to their targets
NO_TARGET_GRAD = {"soft_margin", "multilabel_soft_margin"}


@pytest.mark.parametrize("red", REDUCTIONS)
@pytest.mark.parametrize("name", sorted(MARGIN))
def test_margin_and_likelihood_losses_match_torch(name, red):
    fn, arrays, _ = MARGIN[name]
    rg = [True] * len(arrays)
    if name in NO_TARGET_GRAD:
        rg[1:] = [False] * (len(arrays) - 1)
    against_torch(lambda M, *xs: fn(M, *xs, red), arrays, rg=rg)


@pytest.mark.parametrize("name", sorted(MARGIN))
def test_margin_and_likelihood_losses_gradcheck(name):
    fn, arrays, _ = MARGIN[name]
    for red in ("none", "mean"):
        assert ag.gradcheck(lambda *xs: fn(F, *xs, red), tuple(f64(a) for a in arrays))


@pytest.mark.parametrize("name", ["cosine_embedding", "soft_margin", "poisson_full",
                                  "gaussian_short", "triplet", "multilabel_soft_margin"])
def test_smooth_new_losses_gradgradcheck(name):
    fn, arrays, _ = MARGIN[name]
    assert ag.gradgradcheck(lambda *xs: fn(F, *xs, "sum"), tuple(f64(a) for a in arrays))


def test_poisson_nll_full_at_zero_targets_like_torch():
    # the Stirling term is masked at target <= 1; PyTorch's target gradient is NaN at 0
    against_torch(lambda M, a, t: M.poisson_nll_loss(a, t, full=True, reduction="sum"),
                  [X, POIS])
    x = f64(X)
    F.poisson_nll_loss(x, ag.tensor(POIS), full=True).backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_new_losses_legacy_reduction_arguments():
    x, y = ag.tensor(X), ag.tensor(Y)
    t = ag.tensor(PM)
    close(arr(F.cosine_embedding_loss(x, y, t, size_average=False)),
          arr(F.cosine_embedding_loss(x, y, t, reduction="sum")))
    close(arr(F.multi_margin_loss(x, ag.tensor(CLS), reduce=False)),
          arr(F.multi_margin_loss(x, ag.tensor(CLS), reduction="none")))
    close(arr(F.poisson_nll_loss(x, ag.tensor(POIS), size_average=False)),
          arr(F.poisson_nll_loss(x, ag.tensor(POIS), reduction="sum")))
    assert nn.SoftMarginLoss(reduce=False).reduction == "none"


def test_new_losses_errors_match_torch():
    torch = _torch()
    TF = torch.nn.functional
    x, y = ag.tensor(X), ag.tensor(Y)
    tx, ty = torch.tensor(X), torch.tensor(Y)
    cases = [
        (lambda M, a, b, T: M.cosine_embedding_loss(a, b, T(np.ones((4, 1)))), RuntimeError),
        (lambda M, a, b, T: M.cosine_embedding_loss(a[0], b[0], T(PM)), RuntimeError),
        (lambda M, a, b, T: M.margin_ranking_loss(a, b[0], T(PM)), RuntimeError),
        (lambda M, a, b, T: M.multi_margin_loss(a, T(CLS), p=3), ValueError),
        (lambda M, a, b, T: M.multi_margin_loss(a, T(np.array([0, 5, 1, 1]))), RuntimeError),
        (lambda M, a, b, T: M.multi_margin_loss(a, T(CLS[:3])), RuntimeError),
        (lambda M, a, b, T: M.multi_margin_loss(a, T(CLS), weight=T(np.ones((5, 1)))),
         ValueError),
        (lambda M, a, b, T: M.multilabel_margin_loss(a, T(MLT[:, :4])), RuntimeError),
        (lambda M, a, b, T: M.triplet_margin_loss(a, b, a, margin=0.0), ValueError),
        (lambda M, a, b, T: M.triplet_margin_loss(a, b, a[0]), RuntimeError),
        (lambda M, a, b, T: M.triplet_margin_with_distance_loss(a, b, a, margin=-1.0),
         ValueError),
        (lambda M, a, b, T: M.gaussian_nll_loss(a, b, T(np.ones((4, 2)))), ValueError),
        (lambda M, a, b, T: M.gaussian_nll_loss(a, b, -1.0), ValueError),
        (lambda M, a, b, T: M.gaussian_nll_loss(a, b, T(-np.ones((4, 5)))), ValueError),
        (lambda M, a, b, T: M.gaussian_nll_loss(a, b, 1.0, reduction="x"), ValueError),
        (lambda M, a, b, T: M.poisson_nll_loss(a, b, reduction="x"), ValueError),
        (lambda M, a, b, T: M.soft_margin_loss(a, b, reduction="x"), ValueError),
    ]
    for fn, exc in cases:
        with pytest.raises(exc):
            fn(torch.nn.functional, tx, ty, torch.tensor)
        with pytest.raises(exc):
            fn(F, x, y, ag.tensor)
    _ = TF


# ---- CTC ----------------------------------------------------------------------------------

CT, CN, CC = 12, 4, 5
CX = rnd(CT, CN, CC, seed=30)
CIL = np.array([12, 10, 7, 12])
CTL = np.array([3, 0, 4, 5])
CTG = np.random.default_rng(31).integers(1, CC, (CN, 6))
CTG[3, :5] = [1, 1, 2, 2, 2]  # repeated labels need a blank between them
CONCAT = np.concatenate([CTG[i, :CTL[i]] for i in range(CN)])


@pytest.mark.parametrize("red", REDUCTIONS)
@pytest.mark.parametrize("concat", [False, True])
@pytest.mark.parametrize("zero_inf", [False, True])
def test_ctc_loss_matches_torch(red, concat, zero_inf):
    tg = CONCAT if concat else CTG

    def fn(M, x):
        return M.ctc_loss(M.log_softmax(x, 2), _t(M, tg), _t(M, CIL), _t(M, CTL),
                          reduction=red, zero_infinity=zero_inf)

    against_torch(fn, [CX], atol=1e-9)


def test_ctc_loss_gradient_wrt_log_probs_blank_and_lists_match_torch():
    # PyTorch's gradient with respect to log_probs is the one through their log_softmax
    lp = np.log(np.random.default_rng(32).dirichlet(np.ones(CC), (CT, CN)))
    tg = np.where(CTG == 2, 0, CTG)  # labels use class 0; class 2 is the blank
    against_torch(lambda M, a: M.ctc_loss(a, _t(M, tg), tuple(CIL), list(CTL), blank=2,
                                          reduction="sum"), [lp], atol=1e-9)
    # unbatched: (T, C) log_probs and (S,) targets
    against_torch(lambda M, a: M.ctc_loss(M.log_softmax(a, 1), _t(M, CTG[0, :3]),
                                          _t(M, np.array(11)), _t(M, np.array(3)),
                                          reduction="none"), [CX[:, 0]], atol=1e-9)


def test_ctc_loss_gradcheck_through_log_softmax():
    for red in REDUCTIONS:
        assert ag.gradcheck(lambda a: F.ctc_loss(F.log_softmax(a, 2), ag.tensor(CTG),
                                                 ag.tensor(CIL), ag.tensor(CTL),
                                                 reduction=red), (f64(CX),))


def test_ctc_loss_impossible_alignment_like_torch():
    torch = _torch()
    il, tl = np.array([2, 12, 12, 12]), np.array([5, 1, 1, 1])
    for zi in (False, True):
        x, t = f64(CX), torch.tensor(CX, requires_grad=True)
        y = F.ctc_loss(F.log_softmax(x, 2), ag.tensor(CTG), il, tl, reduction="none",
                       zero_infinity=zi)
        ty = torch.nn.functional.ctc_loss(torch.log_softmax(t, 2), torch.tensor(CTG),
                                          torch.tensor(il), torch.tensor(tl),
                                          reduction="none", zero_infinity=zi)
        close(arr(y), ty.detach().numpy())
        y.sum().backward()
        ty.sum().backward()
        assert (np.isnan(x.grad.numpy()) == np.isnan(t.grad.numpy())).all()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), atol=1e-10)


def test_ctc_loss_errors_and_module():
    torch = _torch()
    lp = F.log_softmax(ag.tensor(CX), 2)
    with pytest.raises(RuntimeError, match="blank must be in label range"):
        F.ctc_loss(lp, ag.tensor(CTG), CIL, CTL, blank=CC)
    with pytest.raises(RuntimeError, match="input_lengths must be of size batch_size"):
        F.ctc_loss(lp, ag.tensor(CTG), CIL[:3], CTL)
    with pytest.raises(RuntimeError, match="at most 12"):
        F.ctc_loss(lp, ag.tensor(CTG), CIL + 1, CTL)
    with pytest.raises(RuntimeError, match="size at least 7"):
        F.ctc_loss(lp, ag.tensor(CTG), CIL, CTL + np.array([0, 0, 0, 2]))
    with pytest.raises(RuntimeError, match="integral"):
        F.ctc_loss(lp, ag.tensor(CTG), CIL * 1.0, CTL)
    m, tm = nn.CTCLoss(blank=0, zero_infinity=True), torch.nn.CTCLoss(zero_infinity=True)
    assert repr(m) == repr(tm)
    close(arr(m(lp, ag.tensor(CTG), ag.tensor(CIL), ag.tensor(CTL))),
          tm(torch.log_softmax(torch.tensor(CX), 2), torch.tensor(CTG), torch.tensor(CIL),
             torch.tensor(CTL)).numpy())


# ---- the new loss modules -----------------------------------------------------------------

NEW_MODULES = [
    ("CosineEmbeddingLoss", {"margin": 0.1}, lambda M: [X, Y, PM]),
    ("MarginRankingLoss", {"margin": 0.2, "reduction": "sum"}, lambda M: [X[:, 0], Y[:, 0], PM]),
    ("HingeEmbeddingLoss", {"margin": 2.0}, lambda M: [X[:, 0], PM]),
    ("SoftMarginLoss", {"reduction": "none"}, lambda M: [X[:, 0], PM]),
    ("MultiLabelSoftMarginLoss", {"weight": unif(5, seed=3)}, lambda M: [X, (Y > 0) * 1.0]),
    ("MultiLabelMarginLoss", {}, lambda M: [X, MLT]),
    ("MultiMarginLoss", {"p": 2, "margin": 0.5, "weight": unif(5, seed=4)},
     lambda M: [X, CLS]),
    ("TripletMarginLoss", {"margin": 0.5, "p": 1.0, "swap": True}, lambda M: [X, Y, X3]),
    ("TripletMarginWithDistanceLoss", {"margin": 2.0}, lambda M: [X, Y, X3]),
    ("PoissonNLLLoss", {"full": True}, lambda M: [X, POIS]),
    ("GaussianNLLLoss", {"full": True, "eps": 1e-3}, lambda M: [X, Y, unif(4, 1, seed=5)]),
    ("CosineSimilarity", {"dim": 0}, lambda M: [X, Y]),
    ("PairwiseDistance", {"p": 3.0, "keepdim": True}, lambda M: [X, Y]),
]


@pytest.mark.parametrize("cls,kw,data", NEW_MODULES, ids=[m[0] for m in NEW_MODULES])
def test_new_loss_and_distance_modules_match_torch(cls, kw, data):
    torch = _torch()
    okw = {k: ag.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    ours, theirs = getattr(nn, cls)(**okw), getattr(torch.nn, cls)(**tkw)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    arrays = data(F)
    rg = [np.asarray(a).dtype.kind == "f" and i < 2 for i, a in enumerate(arrays)]
    if cls in ("SoftMarginLoss", "MultiLabelSoftMarginLoss", "HingeEmbeddingLoss"):
        rg[1:] = [False] * (len(arrays) - 1)
    against_torch(lambda M, *xs: (ours if M is F else theirs)(*xs), arrays, rg=rg)


def test_nll_loss2d_is_a_deprecated_nll_loss():
    with pytest.warns(FutureWarning, match="NLLLoss2d"):
        m = nn.NLLLoss2d(ignore_index=1)
    assert isinstance(m, nn.NLLLoss) and m.ignore_index == 1
    x = ag.tensor(np.log(unif(2, 3, 4, 4, seed=6)))
    t = ag.tensor(np.random.default_rng(7).integers(0, 3, (2, 4, 4)))
    close(arr(m(x, t)), arr(F.nll_loss(x, t, ignore_index=1)))


def test_loss_module_constructor_errors():
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="expected margin to be greater than 0"):
        nn.TripletMarginLoss(margin=0)
    with pytest.raises(ValueError, match="expected margin to be greater than 0"):
        nn.TripletMarginWithDistanceLoss(margin=-1.0)


# ---- adaptive softmax ---------------------------------------------------------------------

def _asm_pair(torch, **kw):
    torch.manual_seed(0)
    theirs = torch.nn.AdaptiveLogSoftmaxWithLoss(16, 30, [5, 12, 20], **kw).double()
    ours = nn.AdaptiveLogSoftmaxWithLoss(16, 30, [5, 12, 20], **kw).double()
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: ag.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize("kw", [{}, {"div_value": 2.0, "head_bias": True}])
def test_adaptive_log_softmax_matches_torch(kw):
    torch = _torch()
    ours, theirs = _asm_pair(torch, **kw)
    x = rnd(6, 16, seed=40)
    tg = np.array([0, 13, 29, 4, 7, 21])
    a, b = f64(x), torch.tensor(x, requires_grad=True)
    r, s = ours(a, ag.tensor(tg)), theirs(b, torch.tensor(tg))
    assert r._fields == ("output", "loss")
    close(arr(r.output), s.output.detach().numpy())
    close(arr(r.loss), s.loss.detach().numpy())
    (r.loss + (r.output * ag.tensor(rnd(6, seed=41))).sum()).backward()
    (s.loss + (s.output * torch.tensor(rnd(6, seed=41))).sum()).backward()
    close(a.grad.numpy(), b.grad.numpy())
    params = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        close(params[name].grad.numpy(), p.grad.numpy())
    close(arr(ours.log_prob(ag.tensor(x))), theirs.log_prob(torch.tensor(x)).detach().numpy())
    for scale in (1.0, 5.0):
        np.testing.assert_array_equal(ours.predict(ag.tensor(x * scale)).numpy(),
                                      theirs.predict(torch.tensor(x * scale)).numpy())
    # unbatched, and a batch with only shortlist targets
    r, s = ours(ag.tensor(x[0]), ag.tensor(np.array(13))), theirs(torch.tensor(x[0]),
                                                                  torch.tensor(13))
    assert r.output.shape == () and s.output.shape == ()
    close(arr(r.loss), s.loss.detach().numpy())
    r, s = ours(ag.tensor(x[:2]), ag.tensor([1, 2])), theirs(torch.tensor(x[:2]),
                                                             torch.tensor([1, 2]))
    close(arr(r.output), s.output.detach().numpy())


def test_adaptive_log_softmax_gradcheck_and_errors():
    torch = _torch()
    ours, theirs = _asm_pair(torch)
    tg = ag.tensor([0, 13, 29, 4])
    assert ag.gradcheck(lambda a: ours(a, tg).loss, (f64(rnd(4, 16, seed=42)),))
    for bad in ([10, 5], [0, 5], [5, 30], [5, 5, 10], []):
        with pytest.raises(ValueError):
            nn.AdaptiveLogSoftmaxWithLoss(16, 30, bad)
        with pytest.raises(ValueError):
            torch.nn.AdaptiveLogSoftmaxWithLoss(16, 30, bad)
    x = rnd(4, 16)
    for fn in (lambda M, T: M(T(x), T(np.array([0, 30, 1, 1]))),
               lambda M, T: M(T(x), T(np.array([0, 1, 1]))),
               lambda M, T: M(T(x), T(np.zeros((4, 1), dtype=np.int64))),
               lambda M, T: M(T(x[0]), T(np.array([1])))):
        with pytest.raises(RuntimeError):
            fn(ours, ag.tensor)
        with pytest.raises(RuntimeError):
            fn(theirs, torch.tensor)


# ---- PyTorch-matching fixes of the existing losses ------------------------------------------

def test_cross_entropy_unbatched_none_is_0d_and_probability_variants_match_torch():
    p4 = np.random.default_rng(43).dirichlet(np.ones(4), (2, 3, 3)).transpose(0, 3, 1, 2)
    x4 = rnd(2, 4, 3, 3, seed=44)
    for red in REDUCTIONS:
        against_torch(lambda M, x, w: M.cross_entropy(x, _t(M, np.array(2)), weight=w,
                                                      reduction=red, label_smoothing=0.2),
                      [LOGITS[0], CW], rg=[True, False])
        against_torch(lambda M, x, p, w: M.cross_entropy(x, p, weight=w, reduction=red,
                                                         label_smoothing=0.2),
                      [x4, np.ascontiguousarray(p4), CW], rg=[True, True, False])


def test_all_ignored_targets_give_nan_loss_and_zero_gradients_like_torch():
    for ls in (0.0, 0.1):
        against_torch(lambda M, x: M.cross_entropy(x, _t(M, np.array([-100, -100])),
                                                   label_smoothing=ls), [LOGITS[:2]])
    against_torch(lambda M, x: M.nll_loss(x, _t(M, np.array([-100, -100]))), [LOGITS[:2]])
    against_torch(lambda M, x: M.nll_loss(x, _t(M, np.array([-100, -100])),
                                          weight=_t(M, CW)), [LOGITS[:2]])


def test_cross_entropy_argument_errors_like_torch():
    torch = _torch()
    p = unif(5, 4, seed=45)
    for M, T in ((F, ag.tensor), (torch.nn.functional, torch.tensor)):
        with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0"):
            M.cross_entropy(T(LOGITS), T(np.array([0, 1, 2, 3, 0])), label_smoothing=1.5)
        with pytest.raises(RuntimeError, match="ignore_index is not supported for floating"):
            M.cross_entropy(T(LOGITS), T(p), ignore_index=1)


# ---- linear_cross_entropy -----------------------------------------------------------------

LX, LW, LB = rnd(5, 6, seed=46), rnd(4, 6, seed=47), rnd(4, seed=48)


@pytest.mark.parametrize("red", REDUCTIONS)
def test_linear_cross_entropy_matches_torch(red):
    t = np.array([0, 3, -100, 1, 2])
    against_torch(lambda M, x, w, b: M.linear_cross_entropy(
        x, w, _t(M, t), linear_bias=b, reduction=red, label_smoothing=0.1,
        weight=_t(M, CW)), [LX, LW, LB])
    against_torch(lambda M, x, w: M.linear_cross_entropy(
        x, w, _t(M, np.array([0, 2, 2, 1, 3])), reduction=red, ignore_index=2), [LX, LW])
    # K-dimensional: linear_weight (C, d1, in) gives logits (N, C, d1)
    w3, t3 = rnd(4, 3, 6, seed=49), np.random.default_rng(50).integers(0, 4, (5, 3))
    against_torch(lambda M, x, w, b: M.linear_cross_entropy(x, w, _t(M, t3), linear_bias=b,
                                                            reduction=red),
                  [LX, w3, rnd(4, 3, seed=51)])
    # probabilities and unbatched
    p = unif(5, 4, seed=52)
    against_torch(lambda M, x, w, pp: M.linear_cross_entropy(x, w, pp, reduction=red),
                  [LX, LW, p / p.sum(1, keepdims=True)])
    against_torch(lambda M, x, w: M.linear_cross_entropy(x, w, _t(M, np.array(1)),
                                                         reduction=red), [LX[0], LW])


def test_linear_cross_entropy_gradcheck_errors_and_module():
    torch = _torch()
    t = ag.tensor([0, 3, 1, 1, 2])
    assert ag.gradcheck(lambda x, w, b: F.linear_cross_entropy(x, w, t, linear_bias=b),
                        (f64(LX), f64(LW), f64(LB)))
    TF = torch.nn.functional
    for M, T in ((F, ag.tensor), (TF, torch.tensor)):
        for fn in (lambda: M.linear_cross_entropy(T(rnd(2, 2, 6)), T(LW), T(np.zeros(2, int))),
                   lambda: M.linear_cross_entropy(T(LX), T(LW[0]), T(np.zeros(5, int))),
                   lambda: M.linear_cross_entropy(T(LX), T(LW[:, :5]), T(np.zeros(5, int))),
                   lambda: M.linear_cross_entropy(T(LX), T(LW), T(np.zeros(5, int)),
                                                  linear_bias=T(LB[:3])),
                   lambda: M.linear_cross_entropy(T(LX[0]), T(rnd(4, 3, 6)), T(np.zeros(3, int))),
                   lambda: M.linear_cross_entropy(T(LX), T(LW), T(unif(5, 4)), ignore_index=0)):
            with pytest.raises(RuntimeError):
                fn()
    torch.manual_seed(0)
    theirs = torch.nn.LinearCrossEntropyLoss(6, 4, out_features=(3,), bias=True,
                                             label_smoothing=0.1).double()
    ours = nn.LinearCrossEntropyLoss(6, 4, out_features=(3,), bias=True,
                                     label_smoothing=0.1).double()
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: ag.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    t3 = np.random.default_rng(53).integers(0, 4, (5, 3))
    close(arr(ours(ag.tensor(LX), ag.tensor(t3))),
          theirs(torch.tensor(LX), torch.tensor(t3)).detach().numpy())
    with pytest.raises(RuntimeError, match="expected weight shape"):
        nn.LinearCrossEntropyLoss(6, 4, weight=ag.ones(3))
    with pytest.raises(RuntimeError, match="label_smoothing to be in range"):
        nn.LinearCrossEntropyLoss(6, 4, label_smoothing=2.0)


# ---- the same code on the CuPy stand-in -----------------------------------------------------

def _cpu_vs_cuda(fn, arrays, rg):
    outs = []
    for dev in ("cpu", "cuda"):
        xs = [ag.tensor(a, requires_grad=r, device=dev) for a, r in zip(arrays, rg)]
        y = fn(*xs)
        y.sum().backward()
        outs.append((y.detach().cpu().numpy(),
                     [x.grad.cpu().numpy() for x, r in zip(xs, rg) if r]))
    close(outs[0][0], outs[1][0])
    for a, b in zip(outs[0][1], outs[1][1]):
        close(a, b)


def test_new_losses_distances_and_bags_run_on_cupy(sim):
    rng = np.random.default_rng(60)
    z = rng.standard_normal((4, 5))
    tt, ff = [True, True], [True, False]
    cases = [
        (lambda a, b, t: F.cosine_embedding_loss(a, b, t), [X, Y, PM], [True, True, False]),
        (lambda a, b: F.cosine_similarity(a, b), [X, Y], tt),
        (lambda a, b: F.pairwise_distance(a, b, p=3), [X, Y], tt),
        (lambda a: F.pdist(a), [X], [True]),
        (lambda a, b, c: F.triplet_margin_loss(a, b, c, swap=True), [X, Y, z], [True] * 3),
        (lambda a, t: F.multi_margin_loss(a, t, p=2), [X, CLS], ff),
        (lambda a, t: F.multilabel_margin_loss(a, t), [X, MLT], ff),
        (lambda a, t: F.multilabel_soft_margin_loss(a, t), [X, (Y > 0) * 1.0], ff),
        (lambda a, t: F.poisson_nll_loss(a, t, full=True), [X, POIS + 0.5], tt),
        (lambda a, t, v: F.gaussian_nll_loss(a, t, v), [X, Y, unif(4, 1)], [True] * 3),
        (lambda a, t: F.hinge_embedding_loss(a, t), [X[:, 0], PM], ff),
        (lambda a, t: F.soft_margin_loss(a, t), [X[:, 0], PM], ff),
        (lambda a, b, t: F.margin_ranking_loss(a, b, t), [X[:, 0], Y[:, 0], PM],
         [True, True, False]),
        (lambda a, il, tl, t: F.ctc_loss(F.log_softmax(a, 2), t, il, tl),
         [CX, CIL, CTL, CTG], [True, False, False, False]),
        (lambda x, w, t: F.linear_cross_entropy(x, w, t), [LX, LW, np.array([0, 1, 2, 1, 3])],
         [True, True, False]),
    ]
    w = rnd(7, 3, seed=61)
    idx, offs = np.array([1, 2, 4, 5, 4, 3, 2, 0, 6, 6]), np.array([0, 2, 2, 5])
    for mode in ("sum", "mean", "max"):
        cases.append((lambda ww, ii, oo, m=mode: F.embedding_bag(ii, ww, oo, mode=m,
                                                                  padding_idx=4),
                      [w, idx, offs], [True, False, False]))
    cases.append((lambda ww, ii, oo, p: F.embedding_bag(ii, ww, oo, mode="sum",
                                                        per_sample_weights=p),
                  [w, idx, offs, rnd(10, seed=62)], [True, False, False, True]))
    for fn, arrays, rg in cases:
        _cpu_vs_cuda(fn, arrays, rg)


def test_ctc_loss_forward_mode_through_log_softmax_matches_finite_differences():
    from autograd.func import jvp

    def fn(a):
        return F.ctc_loss(F.log_softmax(a, 2), ag.tensor(CTG), CIL, CTL, reduction="none")

    t = rnd(*CX.shape, seed=63)
    _, tan = jvp(fn, [ag.tensor(CX)], [ag.tensor(t)])
    eps = 1e-6
    fd = (fn(ag.tensor(CX + eps * t)).numpy() - fn(ag.tensor(CX - eps * t)).numpy()) / (2 * eps)
    close(tan.numpy(), fd, atol=1e-6)
