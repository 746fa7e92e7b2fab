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


# ---- parametrize ----------------------------------------------------------------------------

P = nn.utils.parametrize
TP = torch.nn.utils.parametrize


class _Sym(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)


class _TSym(torch.nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)


class _Scale(nn.Module):  # with a right inverse
    def forward(self, X):
        return X * 2

    def right_inverse(self, Y):
        return Y / 2


class _TScale(torch.nn.Module):
    def forward(self, X):
        return X * 2

    def right_inverse(self, Y):
        return Y / 2


def _linear_pair(n_in=3, n_out=3, seed=0):
    torch.manual_seed(seed)
    tm = torch.nn.Linear(n_in, n_out).double()
    om = _copy(nn.Linear(n_in, n_out, dtype="float64"), tm)
    return om, tm


def test_register_parametrization_state_dict_forward_grad():
    om, tm = _linear_pair()
    P.register_parametrization(om, "weight", _Sym())
    P.register_parametrization(om, "weight", _Scale())
    TP.register_parametrization(tm, "weight", _TSym())
    TP.register_parametrization(tm, "weight", _TScale())
    assert type(om).__name__ == type(tm).__name__ == "ParametrizedLinear"
    assert isinstance(om, nn.Linear) and P.type_before_parametrizations(om) is nn.Linear
    assert list(om.state_dict()) == list(tm.state_dict())
    assert P.is_parametrized(om) and P.is_parametrized(om, "weight")
    assert not P.is_parametrized(om, "bias") and not P.is_parametrized(nn.Linear(2, 2))
    _close(om.weight, tm.weight)
    x = np.random.default_rng(0).standard_normal((2, 3))
    _close(om(ag.tensor(x)), tm(torch.tensor(x)))
    om(ag.tensor(x)).sum().backward()
    tm(torch.tensor(x)).sum().backward()
    _close(om.parametrizations.weight.original.grad, tm.parametrizations.weight.original.grad)
    # assignment goes through every right_inverse (last to first): _Sym has none
    for m in (om, tm):
        with pytest.raises(RuntimeError, match="does not implement right_inverse"):
            m.weight = (ag if m is om else torch).ones(3, 3, dtype=(ag if m is om
                                                                    else torch).float64)
    om, tm = _linear_pair(seed=1)
    P.register_parametrization(om, "weight", _Scale())
    TP.register_parametrization(tm, "weight", _TScale())
    w = np.random.default_rng(1).standard_normal((3, 3))
    om.weight = ag.tensor(w)
    tm.weight = torch.tensor(w)
    _close(om.parametrizations.weight.original, tm.parametrizations.weight.original)
    _close(om.weight, w)


@pytest.mark.parametrize("leave", [True, False])
def test_remove_parametrizations(leave):
    om, tm = _linear_pair()
    P.register_parametrization(om, "weight", _Sym())
    TP.register_parametrization(tm, "weight", _TSym())
    orig = om.parametrizations.weight.original
    P.remove_parametrizations(om, "weight", leave_parametrized=leave)
    TP.remove_parametrizations(tm, "weight", leave_parametrized=leave)
    assert type(om) is nn.Linear and not hasattr(om, "parametrizations")
    assert om.weight is orig and isinstance(om.weight, nn.Parameter)
    assert list(om.state_dict()) == list(tm.state_dict())
    _close(om.weight, tm.weight)
    with pytest.raises(ValueError, match="does not have a parametrization"):
        P.remove_parametrizations(om, "weight")


def test_parametrize_errors_and_buffers():
    m = nn.Linear(3, 3)

    class Shape(nn.Module):
        def forward(self, X):
            return X[:2]

    with pytest.raises(ValueError, match="may not change the shape"):
        P.register_parametrization(m, "weight", Shape())
    assert type(m) is nn.Linear
    P.register_parametrization(m, "weight", Shape(), unsafe=True)
    assert m.weight.shape == (2, 3)
    with pytest.raises(ValueError, match="does not have a parameter, a buffer"):
        P.register_parametrization(m, "nothing", _Sym())
    bn = nn.BatchNorm1d(3)
    P.register_parametrization(bn, "running_var", _Scale())
    assert "parametrizations.running_var.original" in bn.state_dict()
    _close(bn.running_var, np.ones(3))  # right_inverse stored 0.5, forward doubles it


def test_cached():
    m = nn.Linear(3, 3)
    P.register_parametrization(m, "weight", _Sym())
    assert m.weight is not m.weight
    with P.cached():
        w = m.weight
        assert m.weight is w
    assert m.weight is not w


def test_multi_tensor_original_and_transfer():
    om, tm = _linear_pair(4, 5)
    nn.utils.parametrizations.weight_norm(om)
    torch.nn.utils.parametrizations.weight_norm(tm)
    assert list(om.state_dict()) == list(tm.state_dict())
    pl = om.parametrizations.weight
    assert pl.original0.shape == (5, 1) and pl.original1.shape == (5, 4)
    other = nn.Linear(4, 5, dtype="float64")
    P.transfer_parametrizations_and_params(om, other)
    _close(other.weight, _np(om.weight))
    with pytest.raises(ValueError, match="sequence of tensors"):
        P.remove_parametrizations(om, "weight", leave_parametrized=False)


# ---- weight norm ---------------------------------------------------------------------------

@pytest.mark.parametrize("dim", [0, 1, None, -2])
def test_parametrizations_weight_norm(dim):
    torch.manual_seed(0)
    tm = torch.nn.Conv2d(3, 4, 2).double()
    om = _copy(nn.Conv2d(3, 4, 2, dtype="float64"), tm)
    nn.utils.parametrizations.weight_norm(om, dim=dim)
    torch.nn.utils.parametrizations.weight_norm(tm, dim=dim)
    tpl, opl = tm.parametrizations.weight, om.parametrizations.weight
    _close(opl.original0, tpl.original0)
    _close(opl.original1, tpl.original1)
    _close(om.weight, tm.weight)  # == the original weight
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4))
    (om(ag.tensor(x)) ** 2).sum().backward()
    (tm(torch.tensor(x)) ** 2).sum().backward()
    _close(opl.original0.grad, tpl.original0.grad, 1e-9)
    _close(opl.original1.grad, tpl.original1.grad, 1e-9)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_old_weight_norm(dim):
    torch.manual_seed(1)
    tm = torch.nn.Linear(3, 4).double()
    om = _copy(nn.Linear(3, 4, dtype="float64"), tm)
    with pytest.warns(FutureWarning) as w_ours:
        assert nn.utils.weight_norm(om, dim=dim) is om
    with pytest.warns(FutureWarning) as w_theirs:
        torch.nn.utils.weight_norm(tm, dim=dim)
    assert str(w_ours[0].message) == str(w_theirs[0].message)
    assert [n for n, _ in om.named_parameters()] == [n for n, _ in tm.named_parameters()]
    _close(om.weight_g, tm.weight_g)
    _close(om.weight_v, tm.weight_v)
    with torch.no_grad():
        tm.weight_g.mul_(2)
    om.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3))
    _close(om(ag.tensor(x)), tm(torch.tensor(x)))  # the hook recomputed the weight
    (om(ag.tensor(x)) ** 2).sum().backward()
    (tm(torch.tensor(x)) ** 2).sum().backward()
    _close(om.weight_g.grad, tm.weight_g.grad)
    _close(om.weight_v.grad, tm.weight_v.grad)
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm"), \
            pytest.warns(FutureWarning):
        nn.utils.weight_norm(om, dim=dim)
    nn.utils.remove_weight_norm(om)
    torch.nn.utils.remove_weight_norm(tm)
    assert list(om.state_dict()) == list(tm.state_dict()) and not om._forward_pre_hooks
    _close(om.weight, tm.weight)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(om)


# ---- spectral norm -------------------------------------------------------------------------

def _spectral_pair(kind, old: bool, n_iter=1):
    torch.manual_seed(2)
    if kind == "linear":
        tm, om = torch.nn.Linear(4, 5).double(), nn.Linear(4, 5, dtype="float64")
    else:
        tm = torch.nn.ConvTranspose2d(3, 4, 2).double()
        om = nn.ConvTranspose2d(3, 4, 2, dtype="float64")
    _copy(om, tm)
    if old:
        nn.utils.spectral_norm(om, n_power_iterations=n_iter)
        torch.nn.utils.spectral_norm(tm, n_power_iterations=n_iter)
    else:
        nn.utils.parametrizations.spectral_norm(om, n_power_iterations=n_iter)
        torch.nn.utils.parametrizations.spectral_norm(tm, n_power_iterations=n_iter)
    assert list(om.state_dict()) == list(tm.state_dict())
    # the power-iteration vectors start random: copy PyTorch's
    om.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    return om, tm


@pytest.mark.parametrize("kind,old,n_iter", [("linear", False, 1), ("conv_t", False, 2),
                                             ("linear", True, 1), ("conv_t", True, 3)])
def test_spectral_norm(kind, old, n_iter):
    om, tm = _spectral_pair(kind, old, n_iter)
    shape = (2, 4) if kind == "linear" else (2, 3, 3, 3)
    rng = np.random.default_rng(0)
    for _ in range(3):  # training: power iteration at every forward
        x = rng.standard_normal(shape)
        oy, ty = om(ag.tensor(x)), tm(torch.tensor(x))
        _close(oy, ty, 1e-9)
        (oy ** 2).sum().backward()
        (ty ** 2).sum().backward()
    key = "weight_u" if old else "parametrizations.weight.0._u"
    _close(om.state_dict()[key], tm.state_dict()[key], 1e-9)
    wo = om.weight_orig if old else om.parametrizations.weight.original
    wt = tm.weight_orig if old else tm.parametrizations.weight.original
    _close(wo.grad, wt.grad, 1e-8)
    om.eval()
    tm.eval()
    x = rng.standard_normal(shape)
    _close(om(ag.tensor(x)), tm(torch.tensor(x)), 1e-9)

    def as_matrix(w):  # the output dim first (dim 1 of a transposed convolution)
        w = np.asarray(_np(w))
        return w if kind == "linear" else np.moveaxis(w, 1, 0).reshape(w.shape[1], -1)

    if old:
        nn.utils.remove_spectral_norm(om)
        torch.nn.utils.remove_spectral_norm(tm)
        assert list(om.state_dict()) == list(tm.state_dict())
        _close(om.weight, tm.weight, 1e-9)
        with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
            nn.utils.remove_spectral_norm(om)
    else:
        om.train()
        for _ in range(30):  # power iteration converges: sigma is the largest singular value
            _ = om.weight
        np.testing.assert_allclose(np.linalg.norm(as_matrix(om.weight), 2), 1.0, rtol=1e-6)


def test_spectral_norm_errors():
    with pytest.raises(ValueError, match="n_power_iterations to be positive"):
        nn.utils.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(ValueError, match="n_power_iterations to be positive"):
        nn.utils.parametrizations.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        nn.utils.parametrizations.spectral_norm(nn.Linear(2, 2), dim=2)
    with pytest.raises(ValueError, match="has no parameter or buffer"):
        nn.utils.parametrizations.spectral_norm(nn.Linear(2, 2), name="w")
    m = nn.utils.spectral_norm(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="Cannot register two spectral_norm"):
        nn.utils.spectral_norm(m)


# ---- orthogonal ----------------------------------------------------------------------------

@pytest.mark.parametrize("shape,omap,triv", [
    ((5, 5), None, True), ((5, 3), None, True), ((3, 5), None, True),
    ((4, 4), "cayley", True), ((5, 3), "householder", False), ((3, 5), "matrix_exp", True),
    ((5, 3), "cayley", False), ((4, 4), "householder", True)])
def test_orthogonal_matches_torch(shape, omap, triv):
    torch.manual_seed(3)
    tm = torch.nn.Linear(shape[1], shape[0]).double()
    om = _copy(nn.Linear(shape[1], shape[0], dtype="float64"), tm)
    torch.nn.utils.parametrizations.orthogonal(tm, orthogonal_map=omap,
                                               use_trivialization=triv)
    nn.utils.parametrizations.orthogonal(om, orthogonal_map=omap, use_trivialization=triv)
    assert list(om.state_dict()) == list(tm.state_dict())
    W = _np(om.weight)
    g = W.T @ W if shape[0] >= shape[1] else W @ W.T
    np.testing.assert_allclose(g, np.eye(min(shape)), atol=1e-12)
    # the same original (and base) give PyTorch's weight and gradient
    om.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    _close(om.weight, tm.weight, 1e-9)
    w = np.random.default_rng(0).standard_normal(shape)
    (om.weight * ag.tensor(w)).sum().backward()
    (tm.weight * torch.tensor(w)).sum().backward()
    _close(om.parametrizations.weight.original.grad, tm.parametrizations.weight.original.grad,
           1e-8)


def test_orthogonal_assign_and_errors():
    m = nn.utils.parametrizations.orthogonal(nn.Linear(3, 5, dtype="float64"))
    q = np.linalg.qr(np.random.default_rng(0).standard_normal((5, 3)))[0]
    m.weight = ag.tensor(q)
    _close(m.weight, q, 1e-12)
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices"):
        nn.utils.parametrizations.orthogonal(nn.Linear(3, 5), name="bias")
    with pytest.raises(ValueError, match="orthogonal_map has to be one of"):
        nn.utils.parametrizations.orthogonal(nn.Linear(3, 5), orthogonal_map="svd")
    m = nn.utils.parametrizations.orthogonal(nn.Linear(3, 3), orthogonal_map="cayley",
                                             use_trivialization=False)
    with pytest.raises(NotImplementedError):
        m.weight = ag.eye(3)


def test_parametrizations_on_cuda_stand_in(sim):
    """weight_norm, spectral_norm and orthogonal run on device arrays (the strict CuPy
    stand-in) and give the CPU's values."""
    torch.manual_seed(4)
    for make in (lambda m: nn.utils.parametrizations.weight_norm(m),
                 lambda m: nn.utils.parametrizations.spectral_norm(m),
                 lambda m: nn.utils.parametrizations.orthogonal(m),
                 lambda m: nn.utils.parametrizations.orthogonal(m, orthogonal_map="cayley"),
                 lambda m: nn.utils.spectral_norm(m)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            cpu = make(nn.Linear(3, 4, dtype="float64"))
            gpu = make(nn.Linear(3, 4, dtype="float64"))
        gpu.load_state_dict(cpu.state_dict())
        gpu.to("cuda")
        x = np.random.default_rng(0).standard_normal((2, 3))
        yc = cpu(ag.tensor(x))
        yg = gpu(ag.tensor(x, device="cuda"))
        assert yg.device.type == "cuda"
        np.testing.assert_allclose(yg.cpu().detach().numpy(), _np(yc), atol=1e-10)
        yg.sum().backward()
        assert all(p.grad is not None and p.grad.device.type == "cuda"
                   for p in gpu.parameters())


def test_parametrized_deepcopy_and_pickle():
    import copy
    import pickle

    m = nn.utils.parametrizations.orthogonal(nn.Linear(3, 4, dtype="float64"))
    m2 = copy.deepcopy(m)
    assert type(m2) is type(m)
    assert m2.parametrizations.weight.original is not m.parametrizations.weight.original
    _close(m2.weight, _np(m.weight))
    with pytest.raises(RuntimeError, match="only supported through state_dict"):
        pickle.dumps(m)


def test_functional_call_parametrized_and_extra_names():
    fc = nn.utils.stateless._functional_call
    om, tm = _linear_pair(seed=5)
    P.register_parametrization(om, "weight", _Scale())
    TP.register_parametrization(tm, "weight", _TScale())
    before = _np(om.parametrizations.weight.original).copy()
    x = np.random.default_rng(0).standard_normal((2, 3))
    o = fc(om, {"weight": ag.zeros(3, 3, dtype=ag.float64)}, ag.tensor(x))
    t = torch.func.functional_call(tm, {"weight": torch.zeros(3, 3, dtype=torch.float64)},
                                   torch.tensor(x))
    _close(o, t)
    _close(om.parametrizations.weight.original, before)  # restored
    o = fc(om, {"parametrizations.weight.original": ag.ones(3, 3, dtype=ag.float64)},
           ag.tensor(x))
    _close(o, x @ np.full((3, 3), 2.0) + _np(om.bias))
    with pytest.raises(RuntimeError) as ours:
        fc(om, {"a": ag.zeros(1), "weight": ag.zeros(3, 3)}, ag.tensor(x), strict=True)
    with pytest.raises(RuntimeError) as theirs:
        torch.func.functional_call(tm, {"a": torch.zeros(1), "weight": torch.zeros(3, 3)},
                                   torch.tensor(x), strict=True)
    assert str(ours.value) == str(theirs.value)
    fc(om, {"extra": ag.ones(1)}, ag.tensor(x))  # a new name is set, then removed
    assert not hasattr(om, "extra")
