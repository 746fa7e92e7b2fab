"""Activations (nn.functional and their Modules) against PyTorch: values, gradients,
float64 gradcheck, in-place forms, reprs and errors."""

import warnings

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

# values away from every kink (gradchecks), and values right at the kinks (exact compare)
_RNG = np.random.default_rng(0)
SMOOTH = _RNG.uniform(-4.0, 4.0, size=(3, 4, 6))
KINKS = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0, -6.0, 2.0, 0.1, -0.1,
                  25.0, -25.0, np.inf, -np.inf, np.nan, -0.0])

# name -> (ours, theirs); both take (module, x)
UNARY = {
    "celu": (lambda x: F.celu(x), lambda x: TF.celu(x)),
    "celu_alpha": (lambda x: F.celu(x, 2.5), lambda x: TF.celu(x, 2.5)),
    "selu": (F.selu, TF.selu),
    "elu": (lambda x: F.elu(x, 0.7), lambda x: TF.elu(x, 0.7)),
    "hardsigmoid": (F.hardsigmoid, TF.hardsigmoid),
    "hardswish": (F.hardswish, TF.hardswish),
    "softsign": (F.softsign, TF.softsign),
    "mish": (F.mish, TF.mish),
    "tanhshrink": (F.tanhshrink, TF.tanhshrink),
    "hardshrink": (F.hardshrink, TF.hardshrink),
    "hardshrink_1": (lambda x: F.hardshrink(x, 1.0), lambda x: TF.hardshrink(x, 1.0)),
    "softshrink": (F.softshrink, TF.softshrink),
    "softshrink_2": (lambda x: F.softshrink(x, 2.0), lambda x: TF.softshrink(x, 2.0)),
    "threshold": (lambda x: F.threshold(x, 0.5, -2.0), lambda x: TF.threshold(x, 0.5, -2.0)),
    "rrelu_eval": (lambda x: F.rrelu(x), lambda x: TF.rrelu(x)),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    "hardtanh": (lambda x: F.hardtanh(x, -2.0, 3.0), lambda x: TF.hardtanh(x, -2.0, 3.0)),
    "relu6": (F.relu6, TF.relu6),
    "relu": (F.relu, TF.relu),
    "gelu": (F.gelu, TF.gelu),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"),
                  lambda x: TF.gelu(x, approximate="tanh")),
    "silu": (F.silu, TF.silu),
    "softplus": (lambda x: F.softplus(x, 2.0, 5.0), lambda x: TF.softplus(x, 2.0, 5.0)),
    "logsigmoid": (F.logsigmoid, TF.logsigmoid),
    "softmin": (lambda x: F.softmin(x, dim=-1), lambda x: TF.softmin(x, dim=-1)),
    "softmax": (lambda x: F.softmax(x, dim=1), lambda x: TF.softmax(x, dim=1)),
    "log_softmax": (lambda x: F.log_softmax(x, dim=0), lambda x: TF.log_softmax(x, dim=0)),
    "glu": (lambda x: F.glu(x), lambda x: TF.glu(x)),
    "glu_dim1": (lambda x: F.glu(x, 1), lambda x: TF.glu(x, 1)),
}

INPLACE = {
    "celu_": (lambda x: F.celu_(x, 1.5), lambda x: TF.celu_(x, 1.5)),
    "selu_": (F.selu_, torch.selu_),
    "elu_": (F.elu_, TF.elu_),
    "leaky_relu_": (lambda x: F.leaky_relu_(x, 0.3), lambda x: TF.leaky_relu_(x, 0.3)),
    "hardtanh_": (lambda x: F.hardtanh_(x, -0.5, 0.5), lambda x: TF.hardtanh_(x, -0.5, 0.5)),
    "threshold_": (lambda x: F.threshold_(x, 0.1, 7.0), lambda x: TF.threshold_(x, 0.1, 7.0)),
    "rrelu_": (F.rrelu_, TF.rrelu_),
    "relu_": (F.relu_, TF.relu_),
    "hardsigmoid_ip": (lambda x: F.hardsigmoid(x, inplace=True),
                       lambda x: TF.hardsigmoid(x, inplace=True)),
    "hardswish_ip": (lambda x: F.hardswish(x, inplace=True),
                     lambda x: TF.hardswish(x, inplace=True)),
    "mish_ip": (lambda x: F.mish(x, inplace=True), lambda x: TF.mish(x, inplace=True)),
    "silu_ip": (lambda x: F.silu(x, inplace=True), lambda x: TF.silu(x, inplace=True)),
    "relu6_ip": (lambda x: F.relu6(x, inplace=True), lambda x: TF.relu6(x, inplace=True)),
    "elu_ip": (lambda x: F.elu(x, inplace=True), lambda x: TF.elu(x, inplace=True)),
    "relu_ip": (lambda x: F.relu(x, inplace=True), lambda x: TF.relu(x, inplace=True)),
}


def _both(a, requires_grad=False):
    return (ag.tensor(a.copy(), requires_grad=requires_grad),
            torch.tensor(a.copy(), requires_grad=requires_grad))


def _close(ours, theirs, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(np.asarray(ours.detach().numpy(), dtype=np.float64),
                               theirs.detach().numpy().astype(np.float64), rtol=rtol,
                               atol=atol, equal_nan=True)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_forward_and_grad_vs_torch(name):
    ours, theirs = UNARY[name]
    xo, xt = _both(SMOOTH, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    assert yo.dtype == ag.float64 and tuple(yo.shape) == tuple(yt.shape)
    _close(yo, yt)
    g = np.random.default_rng(1).standard_normal(tuple(yt.shape))
    yo.backward(ag.tensor(g))
    yt.backward(torch.tensor(g))
    _close(xo.grad, xt.grad, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_gradcheck(name):
    ours, _ = UNARY[name]
    x = ag.tensor(SMOOTH[:2, :2], requires_grad=True)
    assert ag.gradcheck(ours, (x,), eps=1e-6, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize("name", sorted(set(UNARY) - {"glu", "glu_dim1", "softmin", "softmax",
                                                      "log_softmax"}))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_kinks_and_specials_vs_torch(name, dtype):
    """Values and gradients at the kinks, at +-inf, nan and -0 (PyTorch's choices)."""
    ours, theirs = UNARY[name]
    a = KINKS.astype(dtype)
    if name.startswith("gelu") and dtype == "float32":
        a = a[np.isfinite(a)]  # PyTorch's float32 gelu(inf) is nan, its float64 one inf
    xo, xt = _both(a, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    assert str(yo.dtype) == str(yt.dtype)
    tol = 1e-6 if dtype == "float32" else 1e-12
    _close(yo, yt, rtol=tol, atol=tol)
    yo.sum().backward()
    yt.sum().backward()
    go, gt = xo.grad.numpy(), xt.grad.numpy()
    if name.startswith("hardshrink"):  # PyTorch's gradient at nan depends on its loop
        go, gt = go[~np.isnan(a)], gt[~np.isnan(a)]  # (docs/TORCH_DIFFERENCES.md)
    np.testing.assert_allclose(go, gt, rtol=tol, atol=tol)


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_vs_torch(name):
    ours, theirs = INPLACE[name]
    torch.manual_seed(0)
    xo, xt = _both(SMOOTH)
    ro, rt = ours(xo), theirs(xt)
    assert ro is xo and rt is xt
    _close(xo, xt)
    # through the graph: in place on a non-leaf, gradients as torch's
    lo, lt = _both(SMOOTH, requires_grad=True)
    ho, ht = lo * 1.0, lt * 1.0
    ours(ho)
    theirs(ht)
    ho.sum().backward()
    ht.sum().backward()
    if name != "rrelu_":  # eval-mode rrelu_ is deterministic; checked anyway below
        _close(lo.grad, lt.grad)
    # in place on a leaf that requires grad is refused, as in PyTorch
    with pytest.raises(RuntimeError):
        ours(ag.tensor(SMOOTH.copy(), requires_grad=True))


def test_rrelu_training_slopes_in_range_and_grad_is_slope():
    ag.manual_seed(3)
    x = ag.tensor(-np.abs(SMOOTH) - 0.1, requires_grad=True)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    slope = y.detach().numpy() / x.detach().numpy()
    assert slope.min() >= 0.1 and slope.max() <= 0.3
    assert slope.std() > 0.03  # really random, one slope per element
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slope, rtol=1e-12)
    xp = ag.tensor(np.abs(SMOOTH), requires_grad=True)
    np.testing.assert_array_equal(F.rrelu(xp, training=True).detach().numpy(), np.abs(SMOOTH))
    # eval: the mean slope, as torch
    m = nn.RReLU(0.1, 0.3).eval()
    xo, xt = _both(SMOOTH)
    _close(m(xo), torch.nn.RReLU(0.1, 0.3).eval()(xt))
    assert nn.RReLU().training


def test_prelu_vs_torch():
    for shape, c in [((2, 3, 4), 3), ((2, 3), 3), ((5,), 1), ((2, 3, 4, 5), 1), ((), 1)]:
        a = np.random.default_rng(2).standard_normal(shape)
        w = np.array([0.1, -0.3, 0.25, 0.5, 0.7][:c])
        xo, xt = _both(a, True)
        wo, wt = _both(w, True)
        yo, yt = F.prelu(xo, wo), TF.prelu(xt, wt)
        _close(yo, yt)
        g = np.random.default_rng(3).standard_normal(shape)
        yo.backward(ag.tensor(g))
        yt.backward(torch.tensor(g))
        _close(xo.grad, xt.grad)
        _close(wo.grad, wt.grad)
        assert ag.gradcheck(F.prelu, (ag.tensor(a, requires_grad=True),
                                      ag.tensor(w, requires_grad=True)))
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers"):
        F.prelu(ag.ones(2, 4), ag.ones(3))


def test_prelu_module_state_dict_and_torch_weights():
    m, tm = nn.PReLU(3, init=0.1), torch.nn.PReLU(3, init=0.1)
    assert list(m.state_dict()) == list(tm.state_dict()) == ["weight"]
    np.testing.assert_allclose(m.weight.detach().numpy(), tm.weight.detach().numpy())
    assert repr(m) == repr(tm) == "PReLU(num_parameters=3)"
    tm.weight.data = torch.tensor([0.2, -0.1, 0.3])
    m.load_state_dict({k: v.numpy() for k, v in tm.state_dict().items()})
    a = np.random.default_rng(4).standard_normal((2, 3, 5)).astype(np.float32)
    _close(m(ag.tensor(a)), tm(torch.tensor(a)), rtol=1e-6)
    assert m.weight.dtype == ag.float32
    assert nn.PReLU(dtype=ag.float64).weight.dtype == ag.float64


def test_glu_errors():
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        F.glu(ag.ones(3))
    with pytest.raises(RuntimeError, match="scalars"):
        F.glu(ag.tensor(1.0))


def test_softshrink_negative_lambda_errors():
    with pytest.raises(RuntimeError, match="lambda must be in range"):
        F.softshrink(ag.ones(3), -1.0)
    with pytest.raises(RuntimeError):
        TF.softshrink(torch.ones(3), -1.0)


def test_celu_zero_alpha():
    with pytest.raises(RuntimeError, match="alpha cannot be 0"):
        F.celu(ag.ones(3), 0.0)


def test_gumbel_softmax():
    ag.manual_seed(0)
    logits = ag.tensor(np.log(np.array([[0.1, 0.2, 0.7]] * 4000)), requires_grad=True)
    y = F.gumbel_softmax(logits, tau=0.5, hard=True)
    yn = y.detach().numpy()
    assert set(np.unique(yn)) <= {0.0, 1.0} and np.all(yn.sum(1) == 1)
    # hard samples follow the categorical distribution of the logits
    np.testing.assert_allclose(yn.mean(0), [0.1, 0.2, 0.7], atol=0.03)
    # straight-through: the gradient is the soft sample's
    y.backward(ag.tensor(np.tile([1.0, 0.0, 0.0], (4000, 1))))
    assert np.abs(logits.grad.numpy()).sum() > 0
    s = F.gumbel_softmax(ag.tensor(np.zeros((5, 4))), tau=2.0, dim=0)
    np.testing.assert_allclose(s.numpy().sum(0), 1.0)
    assert np.all(s.numpy() > 0)


def test_softmax_dim_none_warns_like_torch():
    x = np.random.default_rng(5).standard_normal((2, 3))
    for f, tf in [(F.softmax, TF.softmax), (F.log_softmax, TF.log_softmax),
                  (F.softmin, TF.softmin)]:
        with pytest.warns(UserWarning, match="Implicit dimension choice"):
            yo = f(ag.tensor(x))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yt = tf(torch.tensor(x))
        _close(yo, yt)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        nn.Softmax()(ag.tensor(x))


def test_softmax_of_a_fully_masked_row_is_nan_without_warnings():
    """A row that is all -inf (an attention row with every key masked) gives NaN, as
    PyTorch, and no NumPy RuntimeWarning for its -inf - -inf."""
    a = np.array([[-np.inf] * 3, [0.0, 1.0, 2.0]], dtype=np.float32)
    for f, tf in [(F.softmax, TF.softmax), (F.log_softmax, TF.log_softmax)]:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            yo = f(ag.tensor(a), 1)
        np.testing.assert_allclose(yo.numpy(), tf(torch.tensor(a), 1).numpy(), rtol=1e-6)


def test_softmax_at_autograd_level():
    a = np.random.default_rng(6).standard_normal((3, 5))
    x, xt = _both(a)
    _close(x.softmax(1), xt.softmax(1))
    _close(x.log_softmax(0), xt.log_softmax(0))
    _close(ag.softmax(x, -1), torch.softmax(xt, -1))
    _close(ag.log_softmax(x, 1), torch.log_softmax(xt, 1))
    xi = ag.tensor([1, 2, 3])
    assert ag.softmax(xi, 0, dtype=ag.float64).dtype == ag.float64
    _close(ag.softmax(xi, 0, dtype=ag.float64), torch.softmax(torch.tensor([1, 2, 3]), 0,
                                                              dtype=torch.float64))
    with pytest.raises(NotImplementedError):
        ag.softmax(xi, 0)
    with pytest.raises(IndexError):
        ag.softmax(x, 2)
    assert float(ag.softmax(ag.tensor(3.0), 0)) == 1.0
    assert F.Softmax is ag.ops.reduction.Softmax and F.LogSoftmax is ag.ops.reduction.LogSoftmax
    xh = ag.tensor(a.astype(np.float16))
    yh = ag.softmax(xh, 1)
    assert yh.dtype == ag.float16
    _close(yh, torch.softmax(torch.tensor(a.astype(np.float16)), 1), rtol=1e-3, atol=1e-3)
    # double backward (the backward is written with ops)
    xg = ag.tensor(a, requires_grad=True)
    assert ag.gradgradcheck(lambda t: ag.log_softmax(t, 1), (xg,))
    assert ag.gradgradcheck(lambda t: ag.softmax(t, 0), (xg,))


MODULES = [
    (lambda: nn.CELU(), lambda: torch.nn.CELU()),
    (lambda: nn.CELU(2.0, True), lambda: torch.nn.CELU(2.0, True)),
    (lambda: nn.SELU(), lambda: torch.nn.SELU()),
    (lambda: nn.SELU(True), lambda: torch.nn.SELU(True)),
    (lambda: nn.GLU(), lambda: torch.nn.GLU()),
    (lambda: nn.GLU(1), lambda: torch.nn.GLU(1)),
    (lambda: nn.Hardshrink(), lambda: torch.nn.Hardshrink()),
    (lambda: nn.Hardshrink(1.5), lambda: torch.nn.Hardshrink(1.5)),
    (lambda: nn.Hardsigmoid(), lambda: torch.nn.Hardsigmoid()),
    (lambda: nn.Hardswish(), lambda: torch.nn.Hardswish()),
    (lambda: nn.Mish(), lambda: torch.nn.Mish()),
    (lambda: nn.Mish(True), lambda: torch.nn.Mish(True)),
    (lambda: nn.PReLU(), lambda: torch.nn.PReLU()),
    (lambda: nn.RReLU(), lambda: torch.nn.RReLU()),
    (lambda: nn.RReLU(0.1, 0.3, True), lambda: torch.nn.RReLU(0.1, 0.3, True)),
    (lambda: nn.Softmin(1), lambda: torch.nn.Softmin(1)),
    (lambda: nn.Softshrink(), lambda: torch.nn.Softshrink()),
    (lambda: nn.Softsign(), lambda: torch.nn.Softsign()),
    (lambda: nn.Tanhshrink(), lambda: torch.nn.Tanhshrink()),
    (lambda: nn.Threshold(0.1, 20.0), lambda: torch.nn.Threshold(0.1, 20.0)),
    (lambda: nn.Threshold(0.1, 20.0, True), lambda: torch.nn.Threshold(0.1, 20.0, True)),
    (lambda: nn.LogSigmoid(), lambda: torch.nn.LogSigmoid()),
    (lambda: nn.Softmax2d(), lambda: torch.nn.Softmax2d()),
    (lambda: nn.ELU(), lambda: torch.nn.ELU()),
    (lambda: nn.ELU(0.5, True), lambda: torch.nn.ELU(0.5, True)),
    (lambda: nn.GELU(), lambda: torch.nn.GELU()),
    (lambda: nn.GELU("tanh"), lambda: torch.nn.GELU("tanh")),
    (lambda: nn.Softplus(), lambda: torch.nn.Softplus()),
    (lambda: nn.Softplus(2.0, 10.0), lambda: torch.nn.Softplus(2.0, 10.0)),
    (lambda: nn.SiLU(), lambda: torch.nn.SiLU()),
    (lambda: nn.SiLU(True), lambda: torch.nn.SiLU(True)),
    (lambda: nn.LeakyReLU(), lambda: torch.nn.LeakyReLU()),
    (lambda: nn.LeakyReLU(0.2, True), lambda: torch.nn.LeakyReLU(0.2, True)),
    (lambda: nn.Hardtanh(), lambda: torch.nn.Hardtanh()),
    (lambda: nn.Hardtanh(-2.0, 2.0, True), lambda: torch.nn.Hardtanh(-2.0, 2.0, True)),
    (lambda: nn.ReLU6(), lambda: torch.nn.ReLU6()),
    (lambda: nn.ReLU6(True), lambda: torch.nn.ReLU6(True)),
    (lambda: nn.ReLU(True), lambda: torch.nn.ReLU(True)),
    (lambda: nn.Softmax(1), lambda: torch.nn.Softmax(1)),
    (lambda: nn.LogSoftmax(1), lambda: torch.nn.LogSoftmax(1)),
]


@pytest.mark.parametrize("i", range(len(MODULES)))
def test_modules_vs_torch(i):
    mo, mt = MODULES[i][0]().eval().double(), MODULES[i][1]().eval().double()
    assert repr(mo) == repr(mt)
    xo, xt = _both(SMOOTH[:, :, :4])
    yo, yt = mo(xo), mt(xt)
    _close(yo, yt)
    inplace = getattr(mt, "inplace", False)
    assert (yo is xo) == (yt is xt) == bool(inplace)
    assert list(mo.state_dict()) == list(mt.state_dict())


# ---- the torch-namespace forms (ag.celu, Tensor.hardshrink...) --------------------------------

NAMESPACE = [
    lambda M, x: M.celu(x, 0.7),
    lambda M, x: M.selu(x),
    lambda M, x: M.threshold(x, 0.3, -1.5),
    lambda M, x: M.hardshrink(x, 0.8),
    lambda M, x: x.hardshrink(),
    lambda M, x: M.rrelu(x, 0.1, 0.3),
    lambda M, x: M.rrelu(x, 0.2, 0.2, True),  # training, a fixed slope
    lambda M, x: M.prelu(x, M.tensor([0.1, -0.2, 0.3, 0.4], dtype=M.float64)),
    lambda M, x: x.prelu(M.tensor([0.25], dtype=M.float64)),
    lambda M, x: M.celu_(x * 1.0, 2.0),
    lambda M, x: M.selu_(x * 1.0),
    lambda M, x: M.threshold_(x * 1.0, 0.1, 9.0),
    lambda M, x: M.rrelu_(x * 1.0, 0.3, 0.3, True),
]


@pytest.mark.parametrize("i", range(len(NAMESPACE)))
def test_namespace_forms_vs_torch(i):
    call = NAMESPACE[i]
    a = SMOOTH[:, :, :4].reshape(3, 4, 4)
    xo, xt = _both(a, requires_grad=True)
    yo, yt = call(ag, xo), call(torch, xt)
    _close(yo, yt)
    g = np.random.default_rng(7).standard_normal(a.shape)
    yo.backward(ag.tensor(g))
    yt.backward(torch.tensor(g))
    _close(xo.grad, xt.grad)


def test_namespace_forms_dtypes_and_errors():
    xi = ag.tensor([1, 0, 3])
    assert ag.threshold(xi, 1, 7).tolist() == torch.threshold(torch.tensor([1, 0, 3]), 1,
                                                              7).tolist()
    for f in (ag.celu, ag.selu, ag.hardshrink, ag.rrelu):
        with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
            f(xi)
    with pytest.raises(RuntimeError, match="without overflow"):
        ag.threshold(ag.tensor([1], dtype=ag.uint8), 0.5, -2.0)
    with pytest.raises(RuntimeError, match="Type promoting not supported"):
        ag.prelu(ag.ones(3, dtype=ag.float64), ag.ones(1))
    with pytest.raises(NotImplementedError, match="Half"):
        ag.rrelu(ag.ones(3, dtype=ag.float16), training=True)
    x = ag.tensor([-1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError):  # in place on a leaf that requires grad
        ag.celu_(x)
    assert ag.gradcheck(lambda t, w: ag.prelu(t, w),
                        (ag.tensor(SMOOTH[0, :3, :2], requires_grad=True),
                         ag.tensor([0.1, 0.2], dtype=ag.float64, requires_grad=True)))


@pytest.mark.parametrize("name", ["softshrink", "hardsigmoid", "hardswish", "mish", "elu",
                                  "leaky_relu", "gelu", "silu", "softplus", "logsigmoid",
                                  "softsign", "tanhshrink", "hardtanh", "relu6"])
def test_integer_inputs_like_torch(name):
    """PyTorch refuses integer inputs for most activations (NotImplementedError naming
    its kernel), and computes softsign/tanhshrink/hardtanh/relu6 of them."""
    xo, xt = ag.tensor([1, -2, 3]), torch.tensor([1, -2, 3])
    try:
        yt = getattr(TF, name)(xt)
    except NotImplementedError as e:
        with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
            getattr(F, name)(xo)
        assert "Long" in str(e)
        return
    yo = getattr(F, name)(xo)
    assert str(yo.dtype) == str(yt.dtype)
    np.testing.assert_allclose(yo.numpy(), yt.numpy(), rtol=1e-6)


def test_module_argument_errors_like_torch():
    m = nn.GELU("bad")  # accepted at construction, refused at the call (RuntimeError)
    with pytest.raises(RuntimeError, match="approximate"):
        m(ag.ones(2))
    for lo, hi in [(2.0, 1.0), (1.0, 1.0)]:
        with pytest.raises(AssertionError, match="must be greater than min_val"):
            nn.Hardtanh(lo, hi)
        with pytest.raises(AssertionError):
            torch.nn.Hardtanh(lo, hi)
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(ag.ones(2), 2.0, 1.0)
