"""Activations, dropout, one_hot/normalize, embedding, normalisation layers and Bilinear:
finite-difference gradients (first and second order), fused ops against their composite
versions, values and gradients against PyTorch (when installed), default inits, state_dict
transfer from PyTorch, and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
import nn
import nn.functional as F
from autograd.ops import elementwise as E
from autograd.ops import reduction as R


def _torch():
    return pytest.importorskip("torch")


def f64(a, rg=True):
    return ag.tensor(np.asarray(a, dtype=np.float64), requires_grad=rg)


def rnd(*shape, seed=0, scale=1.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


def arr(t):
    return t.detach().numpy()


def close(a, b, atol=1e-10, rtol=1e-7):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=atol, rtol=rtol)


def against_torch(ours, theirs, arrays, grad=None, atol=1e-10, rg=None):
    """Run ``ours(ag tensors)`` and ``theirs(torch tensors)`` (the same code for both where
    possible), compare the outputs and the gradients of every float input."""
    torch = _torch()
    rg = rg or [np.asarray(a).dtype.kind == "f" for a in arrays]
    xs = [ag.tensor(a, requires_grad=r) for a, r in zip(arrays, rg)]
    ts = [torch.tensor(a, requires_grad=r) for a, r in zip(arrays, rg)]
    y, ty = ours(*xs), theirs(*ts)
    close(arr(y), ty.detach().numpy(), atol=atol)
    g = np.random.default_rng(1).standard_normal(tuple(ty.shape)) if grad is None else grad
    y.backward(ag.tensor(g))
    ty.backward(torch.tensor(g))
    for x, t in zip(xs, ts):
        if t.grad is not None:
            close(x.grad.numpy(), t.grad.numpy(), atol=atol)
    return xs, ts


def module_against_torch(ours, theirs, *arrays, atol=1e-10):
    """Compare a module with a PyTorch one of the same weights: outputs, input gradients
    and parameter gradients by name."""
    xs, _ = against_torch(ours, theirs, arrays, atol=atol)
    tp = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        close(p.grad.numpy(), tp[name].grad.numpy(), atol=atol)


def load_from_torch(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def same_state_dict_layout(ours, theirs):
    ts = theirs.state_dict()
    os_ = ours.state_dict()
    assert list(os_) == list(ts)
    for k in ts:
        assert tuple(os_[k].shape) == tuple(ts[k].shape), k
        assert str(os_[k].dtype) == str(ts[k].dtype), k


# ---- activations --------------------------------------------------------------------------

# each written once for both libraries: f(Fmod, x) with Fmod nn.functional or torch's
ACTS = {
    "leaky_relu": lambda M, x: M.leaky_relu(x, 0.1),
    "leaky_relu_default": lambda M, x: M.leaky_relu(x),
    "elu": lambda M, x: M.elu(x, alpha=1.3),
    "gelu": lambda M, x: M.gelu(x),
    "gelu_tanh": lambda M, x: M.gelu(x, approximate="tanh"),
    "silu": lambda M, x: M.silu(x),
    "softplus": lambda M, x: M.softplus(x),
    "softplus_beta_threshold": lambda M, x: M.softplus(x, beta=2.0, threshold=3.0),
    "hardtanh": lambda M, x: M.hardtanh(x, -0.5, 1.5),
    "relu6": lambda M, x: M.relu6(x * 4),
    "logsigmoid": lambda M, x: M.logsigmoid(x),
}
SMOOTH = ["elu", "gelu", "gelu_tanh", "silu", "softplus", "softplus_beta_threshold",
          "logsigmoid"]


@pytest.mark.parametrize("name", sorted(ACTS))
def test_activation_matches_torch(name):
    torch = _torch()
    fn = ACTS[name]
    x = rnd(4, 5, seed=3, scale=3.0)
    against_torch(lambda a: fn(F, a), lambda a: fn(torch.nn.functional, a), [x])


@pytest.mark.parametrize("name", sorted(ACTS))
def test_activation_gradcheck(name):
    fn = ACTS[name]
    x = f64(rnd(3, 4, seed=5, scale=2.0))
    assert ag.gradcheck(lambda a: fn(F, a), (x,))


@pytest.mark.parametrize("name", SMOOTH)
def test_activation_gradgradcheck(name):
    fn = ACTS[name]
    x = f64(rnd(3, 4, seed=6, scale=2.0))
    assert ag.gradgradcheck(lambda a: fn(F, a), (x,))


# composite versions of the fused activations, made of primitive ops only
COMPOSITE = {
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1), lambda x: E.where(x > 0, x, x * 0.1)),
    "elu": (lambda x: F.elu(x, 1.3), lambda x: E.where(x > 0, x, (E.exp(E.clamp(x, max=0.0))
                                                                 - 1) * 1.3)),
    "gelu": (F.gelu, lambda x: x * 0.5 * (1 + E.erf(x / math.sqrt(2.0)))),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"),
                  lambda x: 0.5 * x * (1 + E.tanh(math.sqrt(2 / math.pi)
                                                  * (x + 0.044715 * x ** 3)))),
    "silu": (F.silu, lambda x: x * E.sigmoid(x)),
    "softplus": (lambda x: F.softplus(x, beta=2.0, threshold=3.0),
                 lambda x: E.where(x * 2.0 > 3.0, x, E.log1p(E.exp(x * 2.0)) / 2.0)),
    "hardtanh": (lambda x: F.hardtanh(x, -0.5, 1.5), lambda x: E.clamp(x, -0.5, 1.5)),
}


@pytest.mark.parametrize("name", sorted(COMPOSITE))
def test_fused_activation_equals_composite(name):
    fused, comp = COMPOSITE[name]
    x1, x2 = f64(rnd(4, 6, seed=7, scale=2.5)), f64(rnd(4, 6, seed=7, scale=2.5))
    y1, y2 = fused(x1), comp(x2)
    close(arr(y1), arr(y2), atol=1e-12)
    g1 = ag.grad(y1.sum(), x1, create_graph=True)[0]
    g2 = ag.grad(y2.sum(), x2, create_graph=True)[0]
    close(arr(g1), arr(g2), atol=1e-12)
    if name not in ("leaky_relu", "hardtanh"):  # second derivatives (zero for those two)
        close(arr(ag.grad(g1.sum(), x1)[0]), arr(ag.grad(g2.sum(), x2)[0]), atol=1e-10)


def test_softplus_is_stable_and_thresholded():
    x = f64([-1000.0, -30.0, 0.0, 19.0, 21.0, 1000.0])
    y = F.softplus(x)
    assert np.isfinite(arr(y)).all()
    assert arr(y)[0] == 0.0 and arr(y)[-1] == 1000.0 and arr(y)[4] == 21.0
    y.sum().backward()
    close(x.grad.numpy(), [0.0, 1 / (1 + math.exp(30)), 0.5, 1 / (1 + math.exp(-19)), 1, 1])
    assert arr(F.logsigmoid(f64([-1000.0])))[0] == -1000.0


def test_activations_keep_float32():
    x = ag.randn(3, 4)
    for fn in ACTS.values():
        assert fn(F, x).dtype == ag.float32
    x.requires_grad_(True)
    F.gelu(x).sum().backward()
    assert x.grad.dtype == ag.float32


def test_elu_large_inputs_have_finite_second_derivatives():
    x = f64([800.0, -800.0, 1.0])
    (g,) = ag.grad(F.elu(x).sum(), x, create_graph=True)
    (gg,) = ag.grad(g.sum(), x)
    assert np.isfinite(arr(gg)).all()


@pytest.mark.parametrize("fn", [lambda x, ip: F.leaky_relu(x, 0.2, inplace=ip),
                                lambda x, ip: F.elu(x, inplace=ip),
                                lambda x, ip: F.silu(x, inplace=ip),
                                lambda x, ip: F.hardtanh(x, inplace=ip),
                                lambda x, ip: F.relu6(x, inplace=ip)])
def test_inplace_activations(fn):
    x0 = f64(rnd(3, 3, seed=2, scale=2))
    h = x0 * 1.0  # a non-leaf: in-place allowed
    out = fn(h, True)
    assert out is h
    out.sum().backward()
    x1 = f64(rnd(3, 3, seed=2, scale=2))
    fn(x1 * 1.0, False).sum().backward()
    close(x0.grad.numpy(), x1.grad.numpy())
    with pytest.raises(RuntimeError, match="leaf"):
        fn(f64([1.0, -1.0]), True)


ACT_MODULES = [
    ("LeakyReLU", (), {}), ("LeakyReLU", (0.2, True), {}), ("ELU", (), {"alpha": 0.5}),
    ("GELU", (), {}), ("GELU", ("tanh",), {}), ("SiLU", (), {}), ("Softplus", (2.0, 10.0), {}),
    ("Hardtanh", (-2.0, 2.0), {}), ("ReLU6", (), {}), ("ReLU", (), {"inplace": True}),
    ("ReLU", (), {}),
]


@pytest.mark.parametrize("cls,args,kw", ACT_MODULES)
def test_activation_modules_repr_and_values_match_torch(cls, args, kw):
    torch = _torch()
    ours, theirs = getattr(nn, cls)(*args, **kw), getattr(torch.nn, cls)(*args, **kw)
    assert repr(ours) == repr(theirs)
    x = rnd(3, 4, seed=9, scale=3)
    y = ours(ag.tensor(x) * 1.0)
    close(arr(y), theirs(torch.tensor(x) * 1.0).numpy())


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(RuntimeError, match="approximate"):
        F.gelu(ag.randn(2), approximate="erf")
    with pytest.raises(RuntimeError, match="approximate"):  # PyTorch: refused at the call
        nn.GELU("fast")(ag.randn(2))
    with pytest.raises(AssertionError, match="max_val"):  # PyTorch's assert
        nn.Hardtanh(1.0, -1.0)


# ---- dropout ------------------------------------------------------------------------------

def test_dropout_eval_and_p0_are_identity():
    x = ag.randn(5, 5)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    d = nn.Dropout(0.3).eval()
    assert d(x) is x


def test_dropout_statistics_and_scaling():
    ag.manual_seed(0)
    x = ag.ones(200, 500, requires_grad=True)
    y = F.dropout(x, 0.3)
    v = arr(y)
    kept = v != 0
    assert abs(1 - kept.mean() - 0.3) < 0.01
    close(v[kept], np.full(kept.sum(), 1 / 0.7, dtype=np.float32), rtol=1e-6)
    y.sum().backward()
    close(x.grad.numpy(), v)  # the gradient is the same mask times 1/(1-p)
    assert y.dtype == ag.float32


def test_dropout_is_reproducible_with_manual_seed():
    x = ag.randn(10, 10)
    ag.manual_seed(123)
    a = arr(F.dropout(x, 0.5))
    ag.manual_seed(123)
    b = arr(F.dropout(x, 0.5))
    c = arr(F.dropout(x, 0.5))
    assert (a == b).all() and not (a == c).all()


def test_dropout_gradcheck_with_fixed_mask():
    x = f64(rnd(4, 5))

    def fn(a):
        ag.manual_seed(7)
        return F.dropout(a, 0.4) * a

    assert ag.gradcheck(fn, (x,))
    assert ag.gradgradcheck(fn, (x,))


def test_dropout_p1_and_invalid_p():
    x = f64(rnd(3, 3))
    y = F.dropout(x, 1.0)
    assert (arr(y) == 0).all()
    y.sum().backward()
    assert (x.grad.numpy() == 0).all()
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match="between 0 and 1"):
            F.dropout(x, p)
        with pytest.raises(ValueError, match="between 0 and 1"):
            nn.Dropout(p)


def test_dropout_module_follows_training_flag_and_repr():
    torch = _torch()
    m = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.9))
    x = ag.randn(50, 4)
    ag.manual_seed(0)
    assert (arr(m(x)) == 0).mean() > 0.7
    m.eval()
    assert not m[1].training
    close(arr(m(x)), arr(m[0](x)))
    assert repr(nn.Dropout(0.2)) == repr(torch.nn.Dropout(0.2))
    assert repr(nn.Dropout2d(0.2, inplace=True)) == repr(torch.nn.Dropout2d(0.2, inplace=True))


def test_dropout_inplace():
    ag.manual_seed(1)
    x = ag.randn(6, 6, requires_grad=True)
    h = x * 1.0
    out = F.dropout(h, 0.5, inplace=True)
    assert out is h
    out.sum().backward()
    close(x.grad.numpy(), (arr(out) != 0) * 2.0)


def test_dropout2d_zeroes_whole_channels():
    ag.manual_seed(3)
    x = ag.ones(8, 16, 3, 3, requires_grad=True)
    y = F.dropout2d(x, 0.5)
    v = arr(y).reshape(8, 16, 9)
    per_channel = v.min(axis=2) == v.max(axis=2)
    assert per_channel.all()
    assert set(np.unique(v)) <= {0.0, 2.0}
    with pytest.warns(UserWarning, match="3D input"):  # PyTorch: taken as (N, C, L)
        y3 = nn.Dropout2d(0.5)(ag.ones(4, 2, 2))
    assert y3.shape == (4, 2, 2)
    with pytest.warns(UserWarning, match="2-D input to dropout2d"):  # deprecated, as torch
        F.dropout2d(ag.ones(4, 4), 0.5)


# ---- one_hot / normalize -------------------------------------------------------------------

def test_one_hot_matches_torch():
    torch = _torch()
    idx = np.array([[0, 3], [2, 1]])
    for nc in (-1, 6):
        ours = F.one_hot(ag.tensor(idx), nc)
        theirs = torch.nn.functional.one_hot(torch.tensor(idx), nc)
        assert ours.dtype == ag.int64
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_one_hot_errors():
    with pytest.raises(RuntimeError, match="index tensor"):
        F.one_hot(ag.tensor([0.0, 1.0]))
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(ag.tensor([0, 5]), 3)
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(ag.tensor([-1, 0]), 3)


@pytest.mark.parametrize("p,dim", [(2.0, 1), (1.0, 0), (3.0, -1)])
def test_normalize_matches_torch_and_gradcheck(p, dim):
    torch = _torch()
    x = rnd(3, 4, seed=4)
    against_torch(lambda a: F.normalize(a, p, dim), lambda a: torch.nn.functional.normalize(
        a, p, dim), [x])
    assert ag.gradcheck(lambda a: F.normalize(a, p, dim), (f64(x),))


def test_normalize_zero_vector_uses_eps():
    x = f64([[0.0, 0.0], [3.0, 4.0]])
    y = F.normalize(x)
    close(arr(y), [[0, 0], [0.6, 0.8]])
    y.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


# ---- embedding ----------------------------------------------------------------------------

IDX = np.array([[1, 2, 4, 1], [4, 3, 0, 1]])


@pytest.mark.parametrize("kw", [{}, {"padding_idx": 1}, {"padding_idx": -1},
                                {"scale_grad_by_freq": True},
                                {"padding_idx": 4, "scale_grad_by_freq": True}])
def test_embedding_matches_torch(kw):
    torch = _torch()
    w = rnd(5, 3, seed=2)
    against_torch(lambda ww: F.embedding(ag.tensor(IDX), ww, **kw),
                  lambda ww: torch.nn.functional.embedding(torch.tensor(IDX), ww, **kw), [w])


def test_embedding_gradcheck_and_padding_row_gets_no_gradient():
    w = f64(rnd(5, 3))
    assert ag.gradcheck(lambda ww: F.embedding(ag.tensor(IDX), ww), (w,))
    assert ag.gradgradcheck(lambda ww: F.embedding(ag.tensor(IDX), ww) ** 2, (w,))
    # padding_idx deliberately differs from finite differences: compare with the composite
    # "look the padding rows up detached" instead, to second order
    w2 = f64(rnd(5, 3))
    y1 = F.embedding(ag.tensor(IDX), w, padding_idx=4) ** 2
    looked = w2[ag.tensor(IDX)]
    y2 = E.where(ag.tensor(IDX == 4)[..., None], looked.detach(), looked) ** 2
    v = ag.tensor(rnd(2, 4, 3, seed=3))
    (g1,) = ag.grad((y1 * v).sum(), w, create_graph=True)
    (g2,) = ag.grad((y2 * v).sum(), w2, create_graph=True)
    close(arr(g1), arr(g2))
    assert (arr(g1)[4] == 0).all()
    close(arr(ag.grad((g1 ** 2).sum(), w)[0]), arr(ag.grad((g2 ** 2).sum(), w2)[0]))
    w.grad = None
    F.embedding(ag.tensor(IDX), w, padding_idx=4).sum().backward()
    assert (w.grad.numpy()[4] == 0).all()
    close(w.grad.numpy()[1], [3, 3, 3])  # index 1 appears three times


def test_embedding_max_norm_renormalises_rows_like_torch():
    torch = _torch()
    w = rnd(5, 3, seed=8, scale=3)
    ow, tw = ag.tensor(w), torch.tensor(w)
    for norm_type in (2.0, 1.0):
        y = F.embedding(ag.tensor(IDX[:, :2]), ow, max_norm=1.5, norm_type=norm_type)
        ty = torch.nn.functional.embedding(torch.tensor(IDX[:, :2]), tw, max_norm=1.5,
                                           norm_type=norm_type)
        close(arr(y), ty.numpy())
        close(ow.numpy(), tw.numpy())  # only the rows looked up were rescaled, in place


def test_embedding_module_defaults_repr_state_dict_and_transfer():
    torch = _torch()
    ag.manual_seed(0)
    m = nn.Embedding(1000, 64, padding_idx=3)
    w = arr(m.weight)
    assert (w[3] == 0).all()
    assert abs(w.std() - 1) < 0.02 and abs(w.mean()) < 0.02  # N(0, 1)
    assert m.weight.dtype == ag.float32
    t = torch.nn.Embedding(10, 4, padding_idx=0, max_norm=2.0)
    o = nn.Embedding(10, 4, padding_idx=0, max_norm=2.0)
    assert repr(o) == repr(t)
    same_state_dict_layout(o, t)
    load_from_torch(o, t)
    module_against_torch(o.double(), t.double(), IDX)
    assert repr(nn.Embedding(3, 2, scale_grad_by_freq=True, norm_type=1.0)) == repr(
        torch.nn.Embedding(3, 2, scale_grad_by_freq=True, norm_type=1.0))


def test_embedding_from_pretrained():
    w = ag.randn(4, 3)
    m = nn.Embedding.from_pretrained(w)
    assert not m.weight.requires_grad
    close(arr(m(ag.tensor([2]))), arr(w)[2:3])
    m2 = nn.Embedding.from_pretrained(w, freeze=False, padding_idx=0)
    assert m2.weight.requires_grad and m2.padding_idx == 0
    with pytest.raises(ValueError, match="2-dimensional"):
        nn.Embedding.from_pretrained(ag.randn(4))


def test_embedding_errors():
    m = nn.Embedding(5, 2)
    with pytest.raises(IndexError, match="out of range for 5 embeddings"):
        m(ag.tensor([0, 5]))
    with pytest.raises(IndexError, match="out of range"):
        m(ag.tensor([-1]))
    with pytest.raises(RuntimeError, match="integer"):
        m(ag.tensor([0.0, 1.0]))
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(5, 2, padding_idx=5)
    with pytest.raises(AssertionError, match="does not match"):
        nn.Embedding(5, 2, _weight=ag.randn(4, 2))


# ---- normalisation: functional -------------------------------------------------------------

def _ln_composite(x, shape, w, b, eps=1e-5):
    dims = tuple(range(x.ndim - len(shape), x.ndim))
    mu = R.mean(x, dim=dims, keepdim=True)
    var = R.mean((x - mu) ** 2, dim=dims, keepdim=True)
    y = (x - mu) / E.sqrt(var + eps)
    if w is not None:
        y = y * w
    return y + b if b is not None else y


@pytest.mark.parametrize("affine", ["both", "weight", "none"])
@pytest.mark.parametrize("shape", [(4,), (3, 4)])
def test_layer_norm_gradcheck_and_gradgradcheck(affine, shape):
    x = f64(rnd(2, 3, 4, seed=1))
    w = f64(1 + rnd(*shape, seed=2) * 0.3) if affine != "none" else None
    b = f64(rnd(*shape, seed=3)) if affine == "both" else None
    inputs = tuple(t for t in (x, w, b) if t is not None)

    def fn(*a):
        ww = a[1] if w is not None else None
        bb = a[2] if b is not None else None
        return F.layer_norm(a[0], shape, ww, bb)

    assert ag.gradcheck(fn, inputs)
    assert ag.gradgradcheck(fn, inputs)


def test_layer_norm_fused_equals_composite_to_second_order():
    x1, x2 = f64(rnd(3, 5, seed=4)), f64(rnd(3, 5, seed=4))
    w1, w2 = f64(rnd(5, seed=5)), f64(rnd(5, seed=5))
    b1, b2 = f64(rnd(5, seed=6)), f64(rnd(5, seed=6))
    y1, y2 = F.layer_norm(x1, (5,), w1, b1), _ln_composite(x2, (5,), w2, b2)
    close(arr(y1), arr(y2), atol=1e-12)
    v = ag.tensor(rnd(3, 5, seed=7))
    g1 = ag.grad((y1 * v).sum(), (x1, w1, b1), create_graph=True)
    g2 = ag.grad((y2 * v).sum(), (x2, w2, b2), create_graph=True)
    for a, b in zip(g1, g2):
        close(arr(a), arr(b), atol=1e-10)
    h1 = ag.grad((g1[0] ** 2).sum() + (g1[1] ** 2).sum(), (x1, w1))
    h2 = ag.grad((g2[0] ** 2).sum() + (g2[1] ** 2).sum(), (x2, w2))
    for a, b in zip(h1, h2):
        close(arr(a), arr(b), atol=1e-9)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 2, 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_gradcheck(shape, affine):
    x = f64(rnd(*shape, seed=2))
    params = (f64(1 + rnd(3, seed=3) * 0.2), f64(rnd(3, seed=4))) if affine else ()

    def fn(a, *p):
        return F.batch_norm(a, None, None, *p, training=True)

    assert ag.gradcheck(fn, (x, *params))
    assert ag.gradgradcheck(fn, (x, *params))


def test_batch_norm_eval_gradcheck():
    x = f64(rnd(4, 3, 2, seed=2))
    rm, rv = ag.tensor(rnd(3, seed=5)), ag.tensor(1 + np.abs(rnd(3, seed=6)))
    w, b = f64(rnd(3, seed=3)), f64(rnd(3, seed=4))
    fn = lambda a, ww, bb: F.batch_norm(a, rm, rv, ww, bb, training=False)  # noqa: E731
    assert ag.gradcheck(fn, (x, w, b))
    assert ag.gradgradcheck(fn, (x, w, b))


def test_batch_norm_fused_equals_composite():
    x1, x2 = f64(rnd(5, 3, 4, seed=8)), f64(rnd(5, 3, 4, seed=8))
    w1, w2 = f64(rnd(3, seed=9)), f64(rnd(3, seed=9))
    y1 = F.batch_norm(x1, None, None, w1, None, training=True)
    mu = R.mean(x2, dim=(0, 2), keepdim=True)
    var = R.mean((x2 - mu) ** 2, dim=(0, 2), keepdim=True)
    y2 = (x2 - mu) / E.sqrt(var + 1e-5) * w2.reshape(3, 1)
    close(arr(y1), arr(y2), atol=1e-12)
    v = ag.tensor(rnd(5, 3, 4, seed=10))
    for a, b in zip(ag.grad((y1 * v).sum(), (x1, w1)), ag.grad((y2 * v).sum(), (x2, w2))):
        close(arr(a), arr(b), atol=1e-10)


@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_gradcheck(affine):
    x = f64(rnd(2, 6, 3, seed=1))
    params = (f64(rnd(6, seed=2)), f64(rnd(6, seed=3))) if affine else ()
    fn = lambda a, *p: F.group_norm(a, 3, *p)  # noqa: E731
    assert ag.gradcheck(fn, (x, *params))
    assert ag.gradgradcheck(fn, (x, *params))


def test_functional_norms_match_torch():
    torch = _torch()
    TF = torch.nn.functional
    x, w, b = rnd(4, 6, 3, seed=1), rnd(6, seed=2), rnd(6, seed=3)
    against_torch(lambda a, ww, bb: F.group_norm(a, 2, ww, bb),
                  lambda a, ww, bb: TF.group_norm(a, 2, ww, bb), [x, w, b])
    w2, b2 = rnd(6, 3, seed=4), rnd(6, 3, seed=5)
    against_torch(lambda a, ww, bb: F.layer_norm(a, (6, 3), ww, bb, eps=1e-3),
                  lambda a, ww, bb: TF.layer_norm(a, (6, 3), ww, bb, eps=1e-3), [x, w2, b2])
    rm, rv = rnd(6, seed=6), 1 + np.abs(rnd(6, seed=7))
    for training in (True, False):
        o_rm, o_rv = ag.tensor(rm), ag.tensor(rv)
        t_rm, t_rv = torch.tensor(rm), torch.tensor(rv)
        against_torch(lambda a, ww, bb: F.batch_norm(a, o_rm, o_rv, ww, bb, training, 0.2),
                      lambda a, ww, bb: TF.batch_norm(a, t_rm, t_rv, ww, bb, training, 0.2),
                      [x, w, b])
        close(o_rm.numpy(), t_rm.numpy())
        close(o_rv.numpy(), t_rv.numpy())


# ---- normalisation: modules ------------------------------------------------------------------

BN_CASES = [
    ("BatchNorm1d", (3,), {}, (6, 3)),
    ("BatchNorm1d", (3,), {"momentum": 0.3}, (4, 3, 5)),
    ("BatchNorm1d", (3,), {"momentum": None}, (4, 3)),
    ("BatchNorm1d", (3,), {"affine": False}, (4, 3, 2)),
    ("BatchNorm1d", (3,), {"track_running_stats": False}, (5, 3)),
    ("BatchNorm1d", (3,), {"bias": False, "eps": 1e-3}, (5, 3)),
    ("BatchNorm2d", (3,), {}, (2, 3, 4, 4)),
    ("BatchNorm2d", (3,), {"affine": False, "track_running_stats": False}, (2, 3, 2, 3)),
    ("BatchNorm3d", (2,), {}, (2, 2, 2, 3, 2)),
]


@pytest.mark.parametrize("cls,args,kw,shape", BN_CASES)
def test_batch_norm_modules_match_torch_over_steps(cls, args, kw, shape):
    torch = _torch()
    ours, theirs = getattr(nn, cls)(*args, **kw).double(), getattr(torch.nn, cls)(
        *args, **kw).double()
    assert repr(ours) == repr(theirs)
    same_state_dict_layout(ours, theirs)
    if ours.weight is not None:  # non-trivial affine parameters
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(1 + rnd(*args, seed=11) * 0.3))
            if theirs.bias is not None:
                theirs.bias.copy_(torch.tensor(rnd(*args, seed=12)))
    load_from_torch(ours, theirs)
    for step in range(3):  # training steps: batch statistics and running statistics
        ours.zero_grad()
        theirs.zero_grad()
        module_against_torch(ours, theirs, rnd(*shape, seed=step, scale=2) + step)
        for k, v in theirs.state_dict().items():
            close(ours.state_dict()[k].numpy(), v.numpy())
    ours.eval()
    theirs.eval()
    ours.zero_grad()
    theirs.zero_grad()
    module_against_torch(ours, theirs, rnd(*shape, seed=9))


def test_batch_norm_running_stats_formula():
    bn = nn.BatchNorm1d(2, momentum=0.25)
    x = rnd(10, 2, seed=1).astype(np.float32)
    bn(ag.tensor(x))
    close(bn.running_mean.numpy(), 0.25 * x.mean(0), rtol=1e-5, atol=1e-7)
    close(bn.running_var.numpy(), 0.75 + 0.25 * x.var(0, ddof=1), rtol=1e-5)  # unbiased
    assert bn.num_batches_tracked.item() == 1 and bn.num_batches_tracked.dtype == ag.int64
    bn.eval()
    y = bn(ag.tensor(x))
    close(arr(y), (x - bn.running_mean.numpy()) / np.sqrt(bn.running_var.numpy() + 1e-5),
          rtol=1e-5, atol=1e-6)
    assert bn.num_batches_tracked.item() == 1  # not counted in eval mode
    bn.reset_running_stats()
    assert bn.num_batches_tracked.item() == 0 and (bn.running_var.numpy() == 1).all()


def test_batch_norm_eval_without_running_stats_uses_batch_stats():
    bn = nn.BatchNorm1d(3, track_running_stats=False).eval()
    assert bn.running_mean is None and list(bn.state_dict()) == ["weight", "bias"]
    y = bn(ag.randn(8, 3))
    close(arr(y).mean(0), np.zeros(3), atol=1e-6)


def test_batch_norm_defaults_and_dtype_conversion():
    torch = _torch()
    bn = nn.BatchNorm2d(4)
    tb = torch.nn.BatchNorm2d(4)
    for k, v in tb.state_dict().items():
        close(bn.state_dict()[k].numpy(), v.numpy())
    bn.double()
    assert bn.weight.dtype == ag.float64 and bn.running_var.dtype == ag.float64
    assert bn.num_batches_tracked.dtype == ag.int64
    w = bn.weight
    bn.float()
    assert bn.weight is w and w.dtype == ag.float32


def test_batch_norm_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\): expected 2D or 3D input"):
        nn.BatchNorm1d(3)(ag.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): expected 4D input"):
        nn.BatchNorm2d(3)(ag.randn(2, 3, 4))
    with pytest.raises(RuntimeError, match=r"expected input with 3 channels.*\[2, 4\]"):
        nn.BatchNorm1d(3)(ag.randn(2, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(ag.randn(1, 3))
    nn.BatchNorm1d(3).eval()(ag.randn(1, 3))  # fine in eval mode
    with pytest.raises(RuntimeError, match="running_mean should contain 3"):
        F.batch_norm(ag.randn(2, 3), ag.zeros(4), ag.ones(4))
    with pytest.raises(RuntimeError, match="evaluation mode"):
        F.batch_norm(ag.randn(2, 3), None, None)


LN_CASES = [((4,), {}), ((3, 4), {"eps": 1e-3}), ((4,), {"elementwise_affine": False}),
            ((4,), {"bias": False})]


@pytest.mark.parametrize("shape,kw", LN_CASES)
def test_layer_norm_module_matches_torch(shape, kw):
    torch = _torch()
    ours, theirs = nn.LayerNorm(shape, **kw).double(), torch.nn.LayerNorm(shape, **kw).double()
    assert repr(ours) == repr(theirs)
    same_state_dict_layout(ours, theirs)
    for k, v in theirs.state_dict().items():  # default init
        close(ours.state_dict()[k].numpy(), v.numpy())
    if theirs.weight is not None:
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(rnd(*shape, seed=3)))
    load_from_torch(ours, theirs)
    module_against_torch(ours, theirs, rnd(2, 3, 4, seed=1))


@pytest.mark.parametrize("kw", [{}, {"affine": False}, {"eps": 1e-2}])
def test_group_norm_module_matches_torch(kw):
    torch = _torch()
    ours, theirs = nn.GroupNorm(2, 4, **kw).double(), torch.nn.GroupNorm(2, 4, **kw).double()
    assert repr(ours) == repr(theirs)
    same_state_dict_layout(ours, theirs)
    for k, v in theirs.state_dict().items():  # default init
        close(ours.state_dict()[k].numpy(), v.numpy())
    if theirs.weight is not None:
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(rnd(4, seed=3)))
            theirs.bias.copy_(torch.tensor(rnd(4, seed=4)))
    load_from_torch(ours, theirs)
    module_against_torch(ours, theirs, rnd(3, 4, 5, seed=1))


def test_norm_layer_errors():
    with pytest.raises(RuntimeError, match=r"LayerNorm\(\(4,\)\): expected input with shape "
                                           r"\[\*, 4\], got \[2, 3\]"):
        nn.LayerNorm(4)(ag.randn(2, 3))
    with pytest.raises(RuntimeError, match="normalized_shape"):
        F.layer_norm(ag.randn(2, 3), (4,))
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(4, 6)
    with pytest.raises(RuntimeError, match=r"GroupNorm\(2, 4\): expected input of shape "
                                           r"\[N, 4, \*\], got \[2, 6\]"):
        nn.GroupNorm(2, 4)(ag.randn(2, 6))
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(ag.randn(2, 5, 3), 2)
    with pytest.raises(RuntimeError, match="dtype"):
        F.layer_norm(ag.randn(2, 4), (4,), ag.ones(4, dtype=ag.float64))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(2, 4), min_size=2, max_size=4), st.integers(1, 2),
       st.integers(0, 2**31 - 1))
def test_normalisations_are_standardised_and_shift_invariant(shape, k, seed):
    k = min(k, len(shape) - 1)
    x = f64(rnd(*shape, seed=seed, scale=3) + 5)
    y = F.layer_norm(x, tuple(shape[-k:]), eps=0.0)
    dims = tuple(range(len(shape) - k, len(shape)))
    close(arr(y).mean(axis=dims), 0.0, atol=1e-9)
    close(arr(y).var(axis=dims), 1.0, rtol=1e-6)
    close(arr(F.layer_norm(x + 7.0, tuple(shape[-k:]), eps=0.0)), arr(y), atol=1e-9)
    # sum(y) is constant along each normalised slice, so its gradient vanishes
    (g,) = ag.grad(y.sum(), x)
    close(arr(g), 0.0, atol=1e-9)
    z = F.batch_norm(x, None, None, training=True, eps=0.0)
    axes = (0,) + tuple(range(2, len(shape)))
    close(arr(z).mean(axis=axes), 0.0, atol=1e-9)
    close(arr(z).var(axis=axes), 1.0, rtol=1e-6)


def test_layer_norm_float32_and_constant_rows():
    x = ag.ones(2, 8, requires_grad=True)  # zero variance: finite output and gradient
    y = nn.LayerNorm(8)(x)
    assert y.dtype == ag.float32 and np.isfinite(arr(y)).all()
    (y * ag.randn(2, 8)).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


# ---- bilinear -----------------------------------------------------------------------------

def test_bilinear_gradcheck_and_matches_torch():
    torch = _torch()
    x1, x2 = f64(rnd(2, 3, seed=1)), f64(rnd(2, 4, seed=2))
    w, b = f64(rnd(5, 3, 4, seed=3)), f64(rnd(5, seed=4))
    assert ag.gradcheck(F.bilinear, (x1, x2, w, b))
    assert ag.gradgradcheck(F.bilinear, (x1, x2, w))
    ours, theirs = nn.Bilinear(3, 4, 5).double(), torch.nn.Bilinear(3, 4, 5).double()
    assert repr(ours) == repr(theirs)
    same_state_dict_layout(ours, theirs)
    load_from_torch(ours, theirs)
    module_against_torch(ours, theirs, rnd(2, 6, 3, seed=5), rnd(2, 6, 4, seed=6))
    nb = nn.Bilinear(3, 4, 5, bias=False)
    assert nb.bias is None and list(nb.state_dict()) == ["weight"]


def test_bilinear_default_init_bounds_and_errors():
    ag.manual_seed(0)
    m = nn.Bilinear(16, 4, 50)
    bound = 1 / math.sqrt(16)
    for p in (m.weight, m.bias):
        v = arr(p)
        assert v.min() >= -bound and v.max() <= bound and v.max() > 0.9 * bound
    with pytest.raises(RuntimeError, match=r"Bilinear\(in1_features=16.*\[2, 3\]"):
        m(ag.randn(2, 3), ag.randn(2, 4))
    with pytest.raises(RuntimeError, match="same leading dims"):
        F.bilinear(ag.randn(2, 16), ag.randn(3, 4), m.weight)


# ---- the nn.functional package: one file per family, every name re-exported ----------------

_F_NAMES = [
    "CrossEntropy", "Linear", "LogSoftmax", "Softmax", "adaptive_avg_pool1d",
    "adaptive_avg_pool2d", "avg_pool1d", "avg_pool2d", "batch_norm", "bilinear",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "conv1d", "conv2d",
    "conv_transpose1d", "conv_transpose2d", "cross_entropy", "dropout", "dropout2d", "elu",
    "embedding", "fold", "gelu", "group_norm", "hardtanh", "huber_loss", "interpolate", "kl_div",
    "l1_loss", "layer_norm", "leaky_relu", "linear", "log_softmax", "logsigmoid", "max_pool1d",
    "max_pool2d", "mse_loss", "multi_head_attention_forward", "nll_loss", "normalize", "one_hot",
    "relu", "relu6", "relu_", "scaled_dot_product_attention", "sigmoid", "silu",
    "smooth_l1_loss", "softmax", "softplus", "tanh", "unfold",
]


def test_functional_reexports_every_name():
    """Every name ``nn.functional`` had as one module is still there, a function (or Op), not
    a same-named family file (``linear``, ``dropout``)."""
    import importlib
    import inspect

    for name in _F_NAMES:
        obj = getattr(F, name)
        assert callable(obj) and not inspect.ismodule(obj), name
        exec(f"from nn.functional import {name}", {})
    for fam in ("activation", "attention", "conv", "dropout", "linear", "loss",
                "normalization", "padding", "pooling", "rnn", "sparse", "upsampling"):
        mod = importlib.import_module(f"nn.functional.{fam}")
        assert inspect.ismodule(mod)
    assert inspect.isfunction(F.linear) and inspect.isfunction(F.dropout)
    assert F.linear is importlib.import_module("nn.functional.linear").linear


@pytest.mark.parametrize("pads,mode,value", [
    ((1, 2), "constant", None), ((1, 1, 2, 0), "constant", 3.5), ((2, 1, 1, 1), "reflect", None),
    ((1, 2, 1, 1), "replicate", None), ((1, 2, 0, 1), "circular", None)])
def test_pad_like_torch(pads, mode, value):
    torch = _torch()
    a = rnd(2, 3, 4, 5)
    x = f64(a)
    y = F.pad(x, pads, mode=mode, value=value)
    kw = {} if value is None else {"value": value}
    tx = torch.tensor(a, requires_grad=True)
    ty = torch.nn.functional.pad(tx, pads, mode=mode, **kw)
    close(arr(y), ty.detach().numpy())
    g = rnd(*ty.shape, seed=1)
    y.backward(ag.tensor(g))
    ty.backward(torch.tensor(g))
    close(x.grad.numpy(), tx.grad.numpy())
