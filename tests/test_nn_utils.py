"""``nn.init`` additions (trunc_normal_, orthogonal_, dirac_, eye_, sparse_, the deprecated
aliases, calculate_gain and the fans) and ``nn.utils`` (clipping, parameter vectors,
parametrizations, weight/spectral norm, fusion, functional_call, skip_init), against PyTorch.

Initialisation draws come from this engine's generator, so they are checked statistically and
with the exact structure where it is deterministic (orthogonality, eye/dirac patterns, the
number of zeros per column)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from nn import init

torch = pytest.importorskip("torch")
TI = torch.nn.init


def _np(t):
    return t.detach().numpy()


def _close(ours, theirs, atol=1e-10):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    np.testing.assert_allclose(_np(ours), theirs, atol=atol, rtol=1e-9)


def _copy(ours: nn.Module, theirs):
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours


# ---- nn.init ------------------------------------------------------------------------------

@pytest.mark.parametrize("name,param", [
    ("linear", None), ("conv1d", None), ("conv_transpose3d", None), ("sigmoid", None),
    ("tanh", None), ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
    ("leaky_relu", 3), ("selu", None)])
def test_calculate_gain(name, param):
    assert init.calculate_gain(name, param) == TI.calculate_gain(name, param)
    assert type(init.calculate_gain(name, param)) is type(TI.calculate_gain(name, param))


def test_calculate_gain_errors():
    for args in (("leaky_relu", True), ("leaky_relu", "x"), ("swish", None)):
        with pytest.raises(ValueError) as theirs:
            TI.calculate_gain(*args)
        with pytest.raises(ValueError) as ours:
            init.calculate_gain(*args)
        assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("shape", [(3, 5), (4, 2, 3), (6, 3, 2, 2), (2, 3, 1, 2, 2), (0, 3)])
def test_fans(shape):
    assert init._calculate_fan_in_and_fan_out(ag.empty(*shape)) == \
        TI._calculate_fan_in_and_fan_out(torch.empty(*shape))


def test_fan_errors():
    for f in (init._calculate_fan_in_and_fan_out, init.xavier_uniform_):
        with pytest.raises(ValueError, match="fewer than 2 dimensions"):
            f(ag.empty(3))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(ag.empty(3, 4), mode="fan_avg")
    init.kaiming_normal_(ag.empty(3, 4), mode="FAN_OUT")  # case-insensitive, as PyTorch


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (0.5, 0.02, 0.48, 0.6),
                                          (0.0, 1.0, 2.0, 3.0), (1.0, 2.0, -1.0, 0.0)])
def test_trunc_normal_statistics(mean, std, a, b):
    ag.manual_seed(0)
    x = _np(init.trunc_normal_(ag.empty(200, 200, dtype=ag.float64), mean, std, a, b))
    assert x.min() >= a and x.max() <= b
    ref = TI.trunc_normal_(torch.empty(400, 400, dtype=torch.float64), mean, std, a, b)
    ref = ref.numpy()
    width = b - a
    assert abs(x.mean() - ref.mean()) < 0.02 * width
    assert abs(x.std() - ref.std()) < 0.02 * width
    # the shape of the distribution: matching deciles
    np.testing.assert_allclose(np.quantile(x, np.linspace(0.1, 0.9, 9)),
                               np.quantile(ref, np.linspace(0.1, 0.9, 9)), atol=0.03 * width)


def test_trunc_normal_float32_bounds_and_warning():
    ag.manual_seed(1)
    x = init.trunc_normal_(ag.empty(1000), 0.0, 1.0, -0.1, 0.1)
    assert x.dtype == ag.float32 and float(x.min()) >= np.float32(-0.1)
    with pytest.warns(UserWarning, match="mean is more than 2 std"):
        init.trunc_normal_(ag.empty(10), 5.0, 1.0, -1.0, 1.0)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 2, 3), (6, 6)])
def test_orthogonal(shape):
    ag.manual_seed(2)
    w = _np(init.orthogonal_(ag.empty(*shape, dtype=ag.float64), gain=2.0)).reshape(shape[0],
                                                                                   -1)
    r, c = w.shape
    g = w.T @ w if r >= c else w @ w.T
    np.testing.assert_allclose(g, 4.0 * np.eye(min(r, c)), atol=1e-12)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(ag.empty(3))
    init.orthogonal_(ag.empty(0, 3))  # no-op, as PyTorch


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4)])
def test_eye(shape):
    _close(init.eye_(ag.empty(*shape)), TI.eye_(torch.empty(*shape)))
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.eye_(ag.empty(2, 2, 2))


@pytest.mark.parametrize("shape,groups", [((3, 16, 5, 5), 1), ((4, 2, 3), 2),
                                          ((6, 4, 3, 3, 3), 3), ((8, 3, 4, 4), 2),
                                          ((2, 5, 2), 1)])
def test_dirac(shape, groups):
    _close(init.dirac_(ag.empty(*shape), groups), TI.dirac_(torch.empty(*shape), groups))


def test_dirac_errors_and_identity_conv():
    with pytest.raises(ValueError, match="3, 4, or 5 dimensions"):
        init.dirac_(ag.empty(3, 3))
    with pytest.raises(ValueError, match="divisible by groups"):
        init.dirac_(ag.empty(3, 3, 3), groups=2)
    w = init.dirac_(ag.empty(4, 4, 3, 3, dtype=ag.float64))
    x = ag.randn(1, 4, 6, 6, dtype=ag.float64)
    _close(F.conv2d(x, w, padding=1), _np(x))


def test_sparse():
    ag.manual_seed(3)
    rows, cols, sparsity = 10, 200, 0.25
    w = _np(init.sparse_(ag.empty(rows, cols, dtype=ag.float64), sparsity, std=0.5))
    assert ((w == 0).sum(0) == math.ceil(sparsity * rows)).all()
    nz = w[w != 0]
    assert abs(nz.std() - 0.5) < 0.03 and abs(nz.mean()) < 0.03
    # the zero rows vary from column to column
    assert len({tuple(np.flatnonzero(w[:, j] == 0)) for j in range(cols)}) > 20
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.sparse_(ag.empty(2, 2, 2), 0.1)


def test_generator_argument():
    g1, g2 = ag.Generator().manual_seed(5), ag.Generator().manual_seed(5)
    for f in (init.uniform_, init.normal_, init.xavier_uniform_, init.kaiming_normal_,
              init.trunc_normal_, init.orthogonal_):
        a = f(ag.empty(4, 5), generator=g1)
        b = f(ag.empty(4, 5), generator=g2)
        np.testing.assert_array_equal(_np(a), _np(b))


@pytest.mark.parametrize("old,args", [
    ("uniform", ()), ("normal", ()), ("constant", (0.3,)), ("eye", ()), ("dirac", ()),
    ("xavier_uniform", ()), ("xavier_normal", ()), ("kaiming_uniform", ()),
    ("kaiming_normal", ()), ("orthogonal", ()), ("sparse", (0.5,))])
def test_deprecated_aliases(old, args):
    shape = (4, 4, 3) if old == "dirac" else (4, 6)
    with pytest.warns(FutureWarning) as ours:
        out = getattr(init, old)(t := ag.empty(*shape), *args)
    with pytest.warns(FutureWarning) as theirs:
        getattr(TI, old)(torch.empty(*shape), *args)
    assert str(ours[0].message) == str(theirs[0].message)
    assert out is t and getattr(init, old).__name__ == old
    if old in ("constant", "eye", "dirac"):  # deterministic: compare the values
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _close(out, getattr(TI, old)(torch.empty(*shape), *args))


# ---- clipping -----------------------------------------------------------------------------

def _grads_pair(rng):
    arrs = [rng.standard_normal(s) for s in ((3, 4), (5,), (2, 2, 2))]
    ours = [ag.tensor(a, requires_grad=True) for a in arrs]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrs]
    for o, t in zip(ours, theirs):
        g = rng.standard_normal(o.shape)
        o.grad, t.grad = ag.tensor(g), torch.tensor(g)
    return ours, theirs


@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grads_with_norm_(max_norm):
    ours, theirs = _grads_pair(np.random.default_rng(0))
    on = nn.utils.get_total_norm([p.grad for p in ours], 3.0)
    tn = torch.nn.utils.get_total_norm([p.grad for p in theirs], 3.0)
    _close(on, tn)
    assert nn.utils.clip_grads_with_norm_(ours, max_norm, on) is None
    torch.nn.utils.clip_grads_with_norm_(theirs, max_norm, tn)
    for o, t in zip(ours, theirs):
        _close(o.grad, t.grad)


def test_clip_grad_norm_deprecated():
    ours, theirs = _grads_pair(np.random.default_rng(1))
    with pytest.warns(FutureWarning) as w_ours:
        on = nn.utils.clip_grad_norm(ours, 1.0)
    with pytest.warns(FutureWarning) as w_theirs:
        tn = torch.nn.utils.clip_grad_norm(theirs, 1.0)
    assert str(w_ours[0].message) == str(w_theirs[0].message)
    _close(on, tn)
    for o, t in zip(ours, theirs):
        _close(o.grad, t.grad)


def test_module_layout():
    from nn.utils import clip_grad, convert_parameters
    assert clip_grad.clip_grad_norm_ is nn.utils.clip_grad_norm_
    assert convert_parameters.parameters_to_vector is nn.utils.parameters_to_vector
    for name in ("get_total_norm", "clip_grad_value_", "vector_to_parameters", "rnn",
                 "fuse_conv_bn_eval", "skip_init", "stateless", "fusion"):
        assert hasattr(nn.utils, name)


# ---- fusion ---------------------------------------------------------------------------------

@pytest.mark.parametrize("conv,bn,transpose,bias", [
    ("Conv2d", "BatchNorm2d", False, True), ("Conv1d", "BatchNorm1d", False, False),
    ("ConvTranspose2d", "BatchNorm2d", True, True), ("Conv3d", "BatchNorm3d", False, True)])
def test_fuse_conv_bn_eval(conv, bn, transpose, bias):
    torch.manual_seed(0)
    tc = getattr(torch.nn, conv)(3, 4, 3, bias=bias).double().eval()
    tb = getattr(torch.nn, bn)(4).double().eval()
    with torch.no_grad():
        tb.running_mean.uniform_(-1, 1)
        tb.running_var.uniform_(0.5, 2)
        tb.weight.uniform_(0.5, 1.5)
        tb.bias.uniform_(-1, 1)
    oc = _copy(getattr(nn, conv)(3, 4, 3, bias=bias, dtype="float64"), tc).eval()
    ob = _copy(getattr(nn, bn)(4, dtype="float64"), tb).eval()
    tf = torch.nn.utils.fuse_conv_bn_eval(tc, tb, transpose)
    of = nn.utils.fuse_conv_bn_eval(oc, ob, transpose)
    assert of is not oc and isinstance(of.weight, nn.Parameter)
    _close(of.weight, tf.weight)
    _close(of.bias, tf.bias)
    nd = int(conv[-2])
    x = np.random.default_rng(0).standard_normal((2, 3) + (5,) * nd)
    _close(of(ag.tensor(x)), tf(torch.tensor(x)))
    _close(of(ag.tensor(x)), _np(ob(oc(ag.tensor(x)))))
    assert oc.bias is None if not bias else True  # the original is untouched


def test_fuse_linear_bn_eval_and_errors():
    torch.manual_seed(1)
    tl, tb = torch.nn.Linear(3, 4).double().eval(), torch.nn.BatchNorm1d(4).double().eval()
    with torch.no_grad():
        tb.running_mean.uniform_(-1, 1)
        tb.running_var.uniform_(0.5, 2)
    ol = _copy(nn.Linear(3, 4, dtype="float64"), tl).eval()
    ob = _copy(nn.BatchNorm1d(4, dtype="float64"), tb).eval()
    tf, of = torch.nn.utils.fuse_linear_bn_eval(tl, tb), nn.utils.fuse_linear_bn_eval(ol, ob)
    _close(of.weight, tf.weight)
    _close(of.bias, tf.bias)
    w, b = nn.utils.fuse_linear_bn_weights(ol.weight, None, ob.running_mean, ob.running_var,
                                           ob.eps, ob.weight, ob.bias)
    tw, tb2 = torch.nn.utils.fuse_linear_bn_weights(tl.weight, None, tb.running_mean,
                                                    tb.running_var, tb.eps, tb.weight,
                                                    tb.bias)
    _close(w, tw)
    _close(b, tb2)
    assert w.requires_grad and not b.requires_grad
    with pytest.raises(AssertionError, match="Fusion only for eval"):
        nn.utils.fuse_linear_bn_eval(nn.Linear(3, 4), nn.BatchNorm1d(4))
    with pytest.raises(AssertionError, match="To fuse"):
        nn.utils.fuse_linear_bn_eval(nn.Linear(3, 4).eval(), nn.BatchNorm1d(2).eval())


def test_fuse_conv_bn_weights_defaults():
    rng = np.random.default_rng(2)
    w, rm, rv = rng.standard_normal((4, 3, 2)), rng.standard_normal(4), rng.random(4) + 0.5
    ow, ob = nn.utils.fuse_conv_bn_weights(ag.tensor(w), None, ag.tensor(rm), ag.tensor(rv),
                                           1e-5, None, None)
    tw, tb = torch.nn.utils.fuse_conv_bn_weights(torch.tensor(w), None, torch.tensor(rm),
                                                 torch.tensor(rv), 1e-5, None, None)
    _close(ow, tw)
    _close(ob, tb)


# ---- functional_call, skip_init --------------------------------------------------------------

class _Tied(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 3)
        self.b = nn.Linear(3, 3)
        self.b.weight = self.a.weight
        self.register_buffer("scale", ag.ones(3))

    def forward(self, x):
        return self.b(self.a(x)) * self.scale


def test_stateless_functional_call():
    m = nn.Linear(3, 2, dtype="float64")
    w = ag.tensor(np.random.default_rng(3).standard_normal((2, 3)), requires_grad=True)
    x = ag.randn(4, 3, dtype=ag.float64)
    before = _np(m.weight).copy()
    with pytest.warns(FutureWarning, match="torch.func.functional_call"):
        out = nn.utils.stateless.functional_call(m, {"weight": w}, (x,))
    _close(out, _np(x) @ _np(w).T + _np(m.bias))
    out.sum().backward()
    _close(w.grad, np.tile(_np(x).sum(0), (2, 1)))
    assert m.weight.grad is None and (np.asarray(_np(m.weight)) == before).all()
    assert isinstance(m.weight, nn.Parameter)


def test_functional_call_tied_and_strict():
    m = _Tied()
    w = ag.zeros(3, 3)
    x = ag.randn(2, 3)
    fc = nn.utils.stateless._functional_call
    out = fc(m, {"a.weight": w}, x)  # tied: b.weight replaced too
    _close(out, np.broadcast_to(_np(m.b.bias), (2, 3)))
    out = fc(m, {"a.weight": w}, x, tie_weights=False)
    assert not np.allclose(_np(out), _np(m.b.bias))
    with pytest.raises(ValueError, match="tied"):
        fc(m, {"a.weight": w, "b.weight": ag.ones(3, 3)}, x)
    with pytest.raises(RuntimeError, match="Missing key"):
        fc(m, {"a.weight": w}, x, strict=True)
    with pytest.raises(ValueError, match="multiple dictionaries"):
        fc(m, ({"a.weight": w}, {"a.weight": w}), x)
    _close(fc(m, {"scale": ag.zeros(3)}, (x,)), np.zeros((2, 3)))
    assert (m.scale.numpy() == 1).all()


def test_skip_init():
    m = nn.utils.skip_init(nn.Linear, 6, 2, bias=False)
    assert m.weight.shape == (2, 6) and m.bias is None
    with pytest.raises(RuntimeError, match="'device' arg"):
        nn.utils.skip_init(_Tied)
    with pytest.raises(RuntimeError, match="Expected a Module"):
        nn.utils.skip_init(int)
