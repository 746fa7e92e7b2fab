"""Forward-mode AD: every op's JVP rule against finite differences (float64) and against
torch.func.jvp; forward-over-reverse Hessian-vector products; error messages."""

import numpy as np
import pytest

import autograd as ag
import autograd.forward_ad as fwAD
import nn
import nn.functional as F
from autograd.func import jvp

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # pragma: no cover
    torch = None

RNG = np.random.default_rng(0)


def _pos(shape):
    return RNG.uniform(0.5, 2.0, shape)


def _any(shape):
    return RNG.standard_normal(shape)


# name, our function, torch function (or None), input makers
CASES = [
    ("add", lambda a, b: a + b, lambda a, b: a + b, [(3, 4), (4,)]),
    ("sub", lambda a, b: a - b, lambda a, b: a - b, [(3, 4), (3, 1)]),
    ("mul", lambda a, b: a * b, lambda a, b: a * b, [(3, 4), (3, 4)]),
    ("div", lambda a, b: a / b, lambda a, b: a / b, [(3, 4), ("pos", (4,))]),
    ("pow", lambda a, b: a ** b, lambda a, b: a ** b, [("pos", (3, 4)), (3, 4)]),
    ("pow_scalar", lambda a: a ** 3, lambda a: a ** 3, [(3, 4)]),
    ("maximum", ag.maximum, torch.maximum if torch else None, [(3, 4), (3, 4)]),
    ("minimum", ag.minimum, torch.minimum if torch else None, [(3, 4), (3, 4)]),
    ("where", lambda a, b: ag.where(a > 0, a, b), lambda a, b: torch.where(a > 0, a, b),
     [(3, 4), (3, 4)]),
    ("neg", lambda a: -a, lambda a: -a, [(3, 4)]),
    ("exp", ag.exp, torch.exp if torch else None, [(3, 4)]),
    ("expm1", ag.expm1, torch.expm1 if torch else None, [(3, 4)]),
    ("log", ag.log, torch.log if torch else None, [("pos", (3, 4))]),
    ("log2", ag.log2, torch.log2 if torch else None, [("pos", (3, 4))]),
    ("log10", ag.log10, torch.log10 if torch else None, [("pos", (3, 4))]),
    ("log1p", ag.log1p, torch.log1p if torch else None, [("pos", (3, 4))]),
    ("sqrt", ag.sqrt, torch.sqrt if torch else None, [("pos", (3, 4))]),
    ("rsqrt", ag.rsqrt, torch.rsqrt if torch else None, [("pos", (3, 4))]),
    ("sin", ag.sin, torch.sin if torch else None, [(3, 4)]),
    ("cos", ag.cos, torch.cos if torch else None, [(3, 4)]),
    ("tan", ag.tan, torch.tan if torch else None, [(3, 4)]),
    ("tanh", ag.tanh, torch.tanh if torch else None, [(3, 4)]),
    ("sigmoid", ag.sigmoid, torch.sigmoid if torch else None, [(3, 4)]),
    ("relu", ag.relu, torch.relu if torch else None, [(3, 4)]),
    ("abs", ag.abs, torch.abs if torch else None, [(3, 4)]),
    ("square", ag.square, torch.square if torch else None, [(3, 4)]),
    ("reciprocal", ag.reciprocal, torch.reciprocal if torch else None, [("pos", (3, 4))]),
    ("asin", ag.asin, torch.asin if torch else None, [("pos01", (3, 4))]),
    ("acosh", ag.acosh, torch.acosh if torch else None, [("pos", (3, 4))]),
    ("atan", ag.atan, torch.atan if torch else None, [(3, 4)]),
    ("atan2", ag.atan2, torch.atan2 if torch else None, [(3, 4), (3, 4)]),
    ("erf", ag.erf, torch.erf if torch else None, [(3, 4)]),
    ("clamp", lambda a: ag.clamp(a, -0.5, 0.5), lambda a: torch.clamp(a, -0.5, 0.5), [(3, 4)]),
    ("floor", ag.floor, torch.floor if torch else None, [(3, 4)]),
    ("leaky_relu", lambda a: F.leaky_relu(a, 0.1), lambda a: TF.leaky_relu(a, 0.1), [(3, 4)]),
    ("elu", F.elu, TF.elu if torch else None, [(3, 4)]),
    ("gelu", F.gelu, TF.gelu if torch else None, [(3, 4)]),
    ("gelu_tanh", lambda a: F.gelu(a, approximate="tanh"),
     lambda a: TF.gelu(a, approximate="tanh"), [(3, 4)]),
    ("silu", F.silu, TF.silu if torch else None, [(3, 4)]),
    ("softplus", F.softplus, TF.softplus if torch else None, [(3, 4)]),
    ("hardtanh", F.hardtanh, TF.hardtanh if torch else None, [(3, 4)]),
    ("reshape", lambda a: a.reshape(4, 3), lambda a: a.reshape(4, 3), [(3, 4)]),
    ("permute", lambda a: a.permute(2, 0, 1), lambda a: a.permute(2, 0, 1), [(2, 3, 4)]),
    ("transpose", lambda a: a.T, lambda a: a.T, [(3, 4)]),
    ("expand", lambda a: a.expand(3, 4), lambda a: a.expand(3, 4), [(1, 4)]),
    ("repeat", lambda a: a.repeat(2, 1), lambda a: a.repeat(2, 1), [(3, 4)]),
    ("flip", lambda a: ag.flip(a, (1,)), lambda a: torch.flip(a, (1,)), [(3, 4)]),
    ("roll", lambda a: ag.roll(a, 1, 1), lambda a: torch.roll(a, 1, 1), [(3, 4)]),
    ("cat", lambda a, b: ag.cat([a, b], 1), lambda a, b: torch.cat([a, b], 1),
     [(3, 4), (3, 2)]),
    ("stack", lambda a, b: ag.stack([a, b], 0), lambda a, b: torch.stack([a, b], 0),
     [(3, 4), (3, 4)]),
    ("split", lambda a: ag.split(a, 2, 1)[1], lambda a: torch.split(a, 2, 1)[1], [(3, 4)]),
    ("unbind", lambda a: ag.unbind(a, 0)[2], lambda a: torch.unbind(a, 0)[2], [(3, 4)]),
    ("pad", lambda a: ag.pad(a, (1, 2)), lambda a: TF.pad(a, (1, 2)), [(3, 4)]),
    ("getitem", lambda a: a[1:, ::2], lambda a: a[1:, ::2], [(3, 4)]),
    ("getitem_adv", lambda a: a[np.array([0, 2, 2])], lambda a: a[[0, 2, 2]], [(3, 4)]),
    ("gather", lambda a: ag.gather(a, 1, ag.tensor([[0, 1], [3, 3], [2, 0]])),
     lambda a: torch.gather(a, 1, torch.tensor([[0, 1], [3, 3], [2, 0]])), [(3, 4)]),
    ("index_select", lambda a: ag.index_select(a, 1, ag.tensor([3, 0])),
     lambda a: torch.index_select(a, 1, torch.tensor([3, 0])), [(3, 4)]),
    ("scatter", lambda a, b: ag.scatter(a, 1, ag.tensor([[0, 2], [3, 1], [1, 1]]), b),
     None, [(3, 4), (3, 2)]),  # duplicate indices: PyTorch's choice of winner differs
    ("scatter_add", lambda a, b: ag.scatter_add(a, 1, ag.tensor([[0, 2], [3, 1], [1, 1]]), b),
     lambda a, b: torch.scatter_add(a, 1, torch.tensor([[0, 2], [3, 1], [1, 1]]), b),
     [(3, 4), (3, 2)]),
    ("take_along_dim", lambda a: ag.take_along_dim(a, ag.tensor([[0], [3], [2]]), 1),
     lambda a: torch.take_along_dim(a, torch.tensor([[0], [3], [2]]), 1), [(3, 4)]),
    ("sort_topk", lambda a: ag.sort(a, 1)[0] + ag.topk(a, 4, 1)[0],
     lambda a: torch.sort(a, 1)[0] + torch.topk(a, 4, 1)[0], [(3, 4)]),
    ("median", lambda a: ag.median(a, 1)[0], lambda a: torch.median(a, 1)[0], [(3, 5)]),
    ("setitem", lambda a, b: _setitem(a, b), None, [(3, 4), (2,)]),
    ("inplace", lambda a, b: _inplace(a, b), lambda a, b: _inplace(a, b), [(3, 4), (4,)]),
    ("masked_fill", lambda a: ag.masked_fill(a, a > 0, 2.0),
     lambda a: a.masked_fill(a > 0, 2.0), [(3, 4)]),
    ("masked_select", lambda a: ag.masked_select(a, ag.tensor([True, False, True, True])),
     lambda a: torch.masked_select(a, torch.tensor([True, False, True, True])), [(3, 4)]),
    ("tril", ag.tril, torch.tril if torch else None, [(4, 4)]),
    ("sum", lambda a: a.sum(1), lambda a: a.sum(1), [(3, 4)]),
    ("mean", lambda a: a.mean(), lambda a: a.mean(), [(3, 4)]),
    ("prod", lambda a: ag.prod(a, 1), lambda a: torch.prod(a, 1), [(3, 4)]),
    ("var", lambda a: ag.var(a, 1), lambda a: torch.var(a, 1), [(3, 4)]),
    ("std", lambda a: ag.std(a), lambda a: torch.std(a), [(3, 4)]),
    ("amax", lambda a: ag.amax(a, 1), lambda a: torch.amax(a, 1), [(3, 4)]),
    ("max_dim", lambda a: ag.max(a, 1)[0], lambda a: torch.max(a, 1)[0], [(3, 4)]),
    ("logsumexp", lambda a: ag.logsumexp(a, 1), lambda a: torch.logsumexp(a, 1), [(3, 4)]),
    ("norm", lambda a: ag.norm(a), lambda a: torch.norm(a), [(3, 4)]),
    ("norm3", lambda a: ag.norm(a, 3, dim=1), lambda a: torch.norm(a, 3, dim=1), [(3, 4)]),
    ("cumsum", lambda a: ag.cumsum(a, 1), lambda a: torch.cumsum(a, 1), [(3, 4)]),
    ("cumprod", lambda a: ag.cumprod(a, 1), lambda a: torch.cumprod(a, 1), [(3, 4)]),
    ("matmul", ag.matmul, torch.matmul if torch else None, [(2, 3, 4), (4, 5)]),
    ("matvec", ag.matmul, torch.matmul if torch else None, [(3, 4), (4,)]),
    ("einsum", lambda a, b: ag.einsum("ij,jk->ik", a, b),
     lambda a, b: torch.einsum("ij,jk->ik", a, b), [(3, 4), (4, 2)]),
    ("linear", F.linear, TF.linear if torch else None, [(3, 4), (5, 4), (5,)]),
    ("softmax", lambda a: F.softmax(a, -1), lambda a: TF.softmax(a, -1), [(3, 4)]),
    ("log_softmax", lambda a: F.log_softmax(a, 1), lambda a: TF.log_softmax(a, 1), [(3, 4)]),
    ("cross_entropy", lambda a: F.cross_entropy(a, ag.tensor([0, 3, 1])),
     lambda a: TF.cross_entropy(a, torch.tensor([0, 3, 1])), [(3, 4)]),
    ("cross_entropy_none", lambda a: F.cross_entropy(a, ag.tensor([0, 3, 1]), reduction="none"),
     lambda a: TF.cross_entropy(a, torch.tensor([0, 3, 1]), reduction="none"), [(3, 4)]),
    ("mse_loss", F.mse_loss, TF.mse_loss if torch else None, [(3, 4), (3, 4)]),
    ("bce", lambda a: F.binary_cross_entropy(ag.sigmoid(a), ag.full((3, 4), 0.3, dtype=ag.float64)),
     lambda a: TF.binary_cross_entropy(torch.sigmoid(a), torch.full((3, 4), 0.3,
                                                                      dtype=torch.float64)),
     [(3, 4)]),
    ("bce_logits", F.binary_cross_entropy_with_logits,
     TF.binary_cross_entropy_with_logits if torch else None, [(3, 4), ("pos01", (3, 4))]),
    ("layer_norm", lambda a, w, b: F.layer_norm(a, (4,), w, b),
     lambda a, w, b: TF.layer_norm(a, (4,), w, b), [(3, 4), (4,), (4,)]),
    ("conv2d", lambda x, w, b: F.conv2d(x, w, b, padding=1),
     lambda x, w, b: TF.conv2d(x, w, b, padding=1), [(2, 2, 5, 5), (3, 2, 3, 3), (3,)]),
    ("max_pool2d", lambda x: F.max_pool2d(x, 2), lambda x: TF.max_pool2d(x, 2), [(1, 2, 4, 4)]),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 2), lambda x: TF.avg_pool2d(x, 2), [(1, 2, 4, 4)]),
    ("embedding", lambda w: F.embedding(ag.tensor([[0, 2], [1, 1]]), w),
     lambda w: TF.embedding(torch.tensor([[0, 2], [1, 1]]), w), [(3, 4)]),
]


def _setitem(a, b):
    c = a * 1.0
    c[1, 1:3] = b
    return c


def _inplace(a, b):
    c = a * 1.0
    c.mul_(b).exp_()
    return c


def _inputs(spec):
    out = []
    for s in spec:
        if isinstance(s[0], str):
            kind, shape = s
            a = RNG.uniform(1.1, 2.0, shape) if kind == "pos" else RNG.uniform(0.1, 0.9, shape)
        else:
            a = _any(s)
        out.append(a)
    return out


def _fd(fn, arrs, tans, eps=1e-6):
    plus = fn(*[ag.tensor(a + eps * t) for a, t in zip(arrs, tans)])
    minus = fn(*[ag.tensor(a - eps * t) for a, t in zip(arrs, tans)])
    return (plus.numpy() - minus.numpy()) / (2 * eps)


@pytest.mark.parametrize("name,fn,tfn,spec", CASES, ids=[c[0] for c in CASES])
def test_jvp_rule(name, fn, tfn, spec):
    arrs = _inputs(spec)
    tans = [_any(a.shape) for a in arrs]
    out, t = jvp(fn, [ag.tensor(a) for a in arrs], [ag.tensor(v) for v in tans])
    np.testing.assert_allclose(out.numpy(), fn(*[ag.tensor(a) for a in arrs]).numpy())
    np.testing.assert_allclose(t.numpy(), _fd(fn, arrs, tans), rtol=1e-5, atol=1e-6)
    if torch is not None and tfn is not None:
        _, tt = torch.func.jvp(tfn, tuple(torch.tensor(a) for a in arrs),
                               tuple(torch.tensor(v) for v in tans))
        np.testing.assert_allclose(t.numpy(), tt.numpy(), rtol=1e-7, atol=1e-9)


def test_jvp_with_grad_recording_inputs():
    # inputs that require grad: the reverse graph is recorded alongside the tangents
    x = ag.tensor(_any((3, 4)), requires_grad=True)
    v = _any((3, 4))
    with fwAD.dual_level():
        d = fwAD.make_dual(x, ag.tensor(v))
        y = (d * d.sin()).sum()
        tangent = fwAD.unpack_dual(y).tangent
    y.backward()
    np.testing.assert_allclose(tangent.numpy(), (x.grad.numpy() * v).sum(), rtol=1e-10)


def test_hvp_forward_over_reverse():
    a = _any(5)
    v = _any(5)
    A = _any((5, 5))
    At = ag.tensor(A)

    def f(x):
        return ((At @ x).tanh() ** 3).sum() + (x * x).exp().sum()

    x = ag.tensor(a, requires_grad=True)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, ag.tensor(v))
        (g,) = ag.grad(f(d), [d], create_graph=True)
        hv = fwAD.unpack_dual(g).tangent.numpy()
    if torch is not None:
        At_ = torch.tensor(A)
        H = torch.autograd.functional.hessian(
            lambda x: ((At_ @ x).tanh() ** 3).sum() + (x * x).exp().sum(), torch.tensor(a))
        np.testing.assert_allclose(hv, H.numpy() @ v, rtol=1e-8, atol=1e-10)
    else:  # finite differences of the gradient
        eps = 1e-6
        gp = ag.grad(f(ag.tensor(a + eps * v, requires_grad=True)), [])
        assert gp is not None


def test_unpack_dual_outside_level_and_errors():
    x = ag.randn(3)
    with pytest.raises(RuntimeError, match="dual level"):
        fwAD.make_dual(x, ag.randn(3))
    with fwAD.dual_level():
        d = fwAD.make_dual(x, ag.ones(3))
        with pytest.raises(RuntimeError, match="shape"):
            fwAD.make_dual(x, ag.ones(4))
        with pytest.raises(RuntimeError, match="Nested"):
            with fwAD.dual_level():
                pass
    assert fwAD.unpack_dual(d).tangent is None  # the level is gone


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_rnn_layers_jvp_from_their_reverse_mode(kind):
    """The RNN layers have no JVP rule: forward mode uses the transpose of their
    (differentiable) VJP. Tangents on the input and on the initial hidden state, every
    output, against finite differences and PyTorch's forward AD."""
    ag.manual_seed(0)
    m = getattr(nn, kind)(3, 4, num_layers=2).double().requires_grad_(False)
    rng = np.random.default_rng(1)
    arrs = [rng.standard_normal((5, 2, 3)), rng.standard_normal((2, 2, 4))]
    tans = [rng.standard_normal(a.shape) for a in arrs]
    if kind == "LSTM":
        def fn(x, h):
            out, (hn, cn) = m(x, (h, h * 0.5))
            return ag.cat([out.reshape(-1), hn.reshape(-1), cn.reshape(-1)])
    else:
        def fn(x, h):
            out, hn = m(x, h)
            return ag.cat([out.reshape(-1), hn.reshape(-1)])
    y, t = jvp(fn, [ag.tensor(a) for a in arrs], [ag.tensor(v) for v in tans])
    np.testing.assert_allclose(y.numpy(), fn(*[ag.tensor(a) for a in arrs]).numpy())
    np.testing.assert_allclose(t.numpy(), _fd(fn, arrs, tans), rtol=1e-6, atol=1e-8)
    if torch is not None:
        tm = getattr(torch.nn, kind)(3, 4, num_layers=2).double()
        params = dict(tm.named_parameters())
        with torch.no_grad():
            for k, p in m.named_parameters():
                params[k].copy_(torch.tensor(p.detach().numpy()))

        def tfn(x, h):
            if kind == "LSTM":
                out, (hn, cn) = tm(x, (h, h * 0.5))
                return torch.cat([out.reshape(-1), hn.reshape(-1), cn.reshape(-1)])
            out, hn = tm(x, h)
            return torch.cat([out.reshape(-1), hn.reshape(-1)])

        _, tt = torch.func.jvp(tfn, tuple(torch.tensor(a) for a in arrs),
                               tuple(torch.tensor(v) for v in tans))
        np.testing.assert_allclose(t.numpy(), tt.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_jacfwd_through_a_gru_equals_jacrev():
    ag.manual_seed(0)
    m = nn.GRU(2, 3).double().requires_grad_(False)
    x = ag.tensor(np.random.default_rng(0).standard_normal((3, 1, 2)))

    def f(x):
        return m(x)[0].reshape(-1)

    np.testing.assert_allclose(ag.func.jacfwd(f)(x).numpy(), ag.func.jacrev(f)(x).numpy(),
                               rtol=1e-10, atol=1e-12)


def test_jvp_of_a_parameter_tangent_through_an_lstm():
    """A tangent on a weight (functional_call): d out / d w along it, the weight requiring
    grad as a module's parameters do."""
    ag.manual_seed(0)
    lstm = nn.LSTM(3, 4).double()
    x = ag.tensor(np.random.default_rng(2).standard_normal((4, 2, 3)))
    w0 = lstm.weight_hh_l0.detach().numpy().copy()
    v = np.random.default_rng(3).standard_normal(w0.shape)

    def fn(w):
        return ag.func.functional_call(lstm, {"weight_hh_l0": w}, (x,))[0]

    _, t = jvp(fn, [ag.tensor(w0)], [ag.tensor(v)])
    with ag.no_grad():
        fd = (fn(ag.tensor(w0 + 1e-6 * v)).numpy() - fn(ag.tensor(w0 - 1e-6 * v)).numpy()) / 2e-6
    np.testing.assert_allclose(t.detach().numpy(), fd, rtol=1e-6, atol=1e-8)


def test_op_without_rule_and_without_differentiable_backward_names_it():
    from autograd.function import Op

    class _FlatTwice(Op):  # its backward leaves the graph (raw arrays): no double VJP
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, gy):
            return np.asarray(getattr(gy, "_data", gy)) * 2

    x = ag.tensor([1.0, 2.0], dtype=ag.float64)
    assert _FlatTwice.apply(x).numpy().tolist() == [2.0, 4.0]
    with pytest.raises(NotImplementedError, match="_FlatTwice"):
        jvp(_FlatTwice.apply, [x], [ag.ones_like(x)])


def test_custom_function_jvp():
    class Cube(ag.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.x = x
            return x ** 3

        @staticmethod
        def backward(ctx, gy):
            return gy * 3 * ctx.x ** 2

        @staticmethod
        def jvp(ctx, tx):
            return 3 * ctx.x ** 2 * tx

    class NoJvp(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, gy):
            return gy * 2

    x = ag.tensor([1.0, 2.0], dtype=ag.float64)
    _, t = jvp(Cube.apply, [x], [ag.ones_like(x)])
    np.testing.assert_allclose(t.numpy(), [3.0, 12.0])
    with pytest.raises(NotImplementedError, match="NoJvp"):
        jvp(NoJvp.apply, [x], [ag.ones_like(x)])


def test_rule_coverage():
    missing = set(fwAD.ops_without_jvp_rule())
    assert missing <= {"LSTMLayer", "GRULayer", "RNNLayer", "ScatterReduce"}, missing


# ---- every op of the registry: JVP vs finite differences (and torch.func.jvp) ---------------

def _spd(x):  # a well-conditioned symmetric positive definite matrix from any square x
    return x @ x.mT + 3 * ag.eye(x.shape[-1], dtype=x.dtype)


def _lower(x):  # a well-conditioned lower-triangular factor
    return ag.tril(x) + 3 * ag.eye(x.shape[-1], dtype=x.dtype)


_I2 = [0, 2]
# ops whose call needs more than the sweep's simple patterns: (fn of the differentiable
# inputs, their shapes); the fixed arguments (indices, sizes) are closed over
EXPLICIT = {
    "reshape": (lambda x: ag.reshape(x, (4, 3)), [(3, 4)]),
    "view": (lambda x: x.view(4, 3), [(3, 4)]),
    "expand": (lambda x: x.expand(2, 3, 4), [(3, 4)]),
    "broadcast_to": (lambda x: ag.broadcast_to(x, (2, 3, 4)), [(3, 4)]),
    "expand_copy": (lambda x: ag.expand_copy(x, (3, 4)), [(1, 4)]),
    "unflatten": (lambda x: ag.unflatten(x, 1, (2, 2)), [(3, 4)]),
    "view_copy": (lambda x: ag.view_copy(x, (4, 3)), [(3, 4)]),
    "split_with_sizes": (lambda x: ag.split_with_sizes(x, [1, 3], 1)[1], [(3, 4)]),
    "unsafe_split_with_sizes": (lambda x: ag.unsafe_split_with_sizes(x, [1, 3], 1)[1],
                                [(3, 4)]),
    "split_with_sizes_copy": (lambda x: ag.split_with_sizes_copy(x, [1, 3], 1)[1], [(3, 4)]),
    "dsplit": (lambda x: ag.dsplit(x, 2)[1], [(2, 2, 4)]),
    "narrow": (lambda x: ag.narrow(x, 1, 1, 2), [(3, 4)]),
    "narrow_copy": (lambda x: ag.narrow_copy(x, 1, 1, 2), [(3, 4)]),
    "unfold_copy": (lambda x: ag.unfold_copy(x, 1, 2, 1), [(3, 4)]),
    "as_strided": (lambda x: ag.as_strided(x, (2, 2), (1, 2)), [(3, 4)]),
    "as_strided_copy": (lambda x: ag.as_strided_copy(x, (2, 2), (1, 2)), [(3, 4)]),
    "as_strided_scatter": (lambda x, s: ag.as_strided_scatter(x, s, (2, 2), (1, 2)),
                           [(3, 4), (2, 2)]),
    "diagonal_scatter": (lambda x, s: ag.diagonal_scatter(x, s), [(3, 3), (3,)]),
    "select_scatter": (lambda x, s: ag.select_scatter(x, s, 0, 1), [(3, 4), (4,)]),
    "slice_scatter": (lambda x, s: ag.slice_scatter(x, s, 1, 0, 2), [(3, 4), (3, 2)]),
    "gather": (lambda x: ag.gather(x, 1, ag.tensor([[0, 2], [1, 1], [3, 0]])), [(3, 4)]),
    "scatter": (lambda x, s: ag.scatter(x, 1, ag.tensor([[0, 2], [1, 3], [3, 0]]), s),
                [(3, 4), (3, 2)]),
    "scatter_add": (lambda x, s: ag.scatter_add(x, 1, ag.tensor([[0, 0], [1, 3], [3, 3]]), s),
                    [(3, 4), (3, 2)]),
    "scatter_reduce": (lambda x, s: ag.scatter_reduce(x, 0, ag.tensor([0, 1, 0, 2, 1]), s,
                                                      "prod"), [(6,), (5,)]),
    "masked_fill": (lambda x: ag.masked_fill(x, ag.tensor([True, False, True, False]), 1.5),
                    [(3, 4)]),
    "masked_scatter": (lambda x, s: ag.masked_scatter(x, ag.tensor([True, False, True, False]),
                                                      s), [(3, 4), (8,)]),
    "index_add": (lambda x, s: ag.index_add(x, 0, ag.tensor(_I2), s), [(3, 4), (2, 4)]),
    "index_copy": (lambda x, s: ag.index_copy(x, 0, ag.tensor(_I2), s), [(3, 4), (2, 4)]),
    "index_fill": (lambda x: ag.index_fill(x, 1, ag.tensor(_I2), 1.5), [(3, 4)]),
    "index_reduce": (lambda x, s: ag.index_reduce(x, 0, ag.tensor([0, 2, 0]), s, "prod"),
                     [(3, 4), (3, 4)]),
    "index_put": (lambda x, v: ag.index_put(x, (ag.tensor(_I2),), v), [(3, 4), (2, 4)]),
    "put": (lambda x, s: ag.put(x, ag.tensor([0, 5, 7]), s), [(3, 4), (3,)]),
    "combinations": (lambda x: ag.combinations(x, 2), [(4,)]),
    "prelu": (lambda x, w: ag.prelu(x, w), [(3, 4), (4,)]),
    "cdist": (lambda x, y: ag.cdist(x, y), [(3, 4), (2, 4)]),
    "det": (lambda x: ag.det(_spd(x)), [(3, 3)]),
    "logdet": (lambda x: ag.logdet(_spd(x)), [(3, 3)]),
    "slogdet": (lambda x: ag.slogdet(_spd(x))[1], [(3, 3)]),
    "inverse": (lambda x: ag.inverse(_spd(x)), [(3, 3)]),
    "cholesky": (lambda x: ag.cholesky(_spd(x)), [(3, 3)]),
    "cholesky_inverse": (lambda x: ag.cholesky_inverse(_lower(x)), [(3, 3)]),
    "cholesky_solve": (lambda b, x: ag.cholesky_solve(b, _lower(x)), [(3, 2), (3, 3)]),
    "triangular_solve": (lambda b, x: ag.triangular_solve(b, _lower(x), upper=False)[0],
                         [(3, 2), (3, 3)]),
    "matrix_exp": (lambda x: ag.matrix_exp(x * 0.5), [(3, 3)]),
    "matrix_power": (lambda x: ag.matrix_power(x, 3), [(3, 3)]),
    "polygamma": (lambda x: ag.polygamma(1, x.abs() + 0.5), [(3, 4)]),
}


def _registry_cases():
    from autograd import registry

    out = []
    for e in registry.ops():
        if not e.differentiable or e.op is None or e.family in ("conversion", "inplace"):
            continue
        if e.arity not in (1, 2) or not e.function:
            continue
        if e.name in EXPLICIT or e.name == "poisson":  # tested below, with their arguments
            continue
        if e.name in IN_CASES:  # tested in CASES, with explicit indices
            continue
        out.append(e)
    return out


# registry ops whose call needs index arguments: their JVP is tested in CASES against PyTorch
IN_CASES = ("index_select", "take_along_dim", "masked_select")


def test_ops_left_to_cases_are_there():
    assert set(IN_CASES) <= {c[0] for c in CASES}


def _domain_values(rng, dom, shape):
    lo, hi = max(dom[0], -2.0), min(dom[1], 2.0)
    m = 0.1 * (hi - lo)
    return rng.uniform(lo + m, hi - m, shape)


@pytest.mark.parametrize("info", _registry_cases(), ids=lambda e: e.name)
def test_every_registry_op_jvp_vs_finite_differences(info):
    rng = np.random.default_rng(1)
    if info.arity == 2 and info.family != "elementwise":
        shapes = [(3, 4), (4, 3)] if info.family == "linalg" else [(3, 4), (3, 4)]
        if info.name in ("mv", "dot", "outer"):
            shapes = {"mv": [(3, 4), (4,)], "dot": [(4,), (4,)], "outer": [(3,), (4,)]}[
                info.name]
        if info.name == "bmm":
            shapes = [(2, 3, 4), (2, 4, 3)]
    else:
        shapes = [(3, 4)] * info.arity
    arrs = [_domain_values(rng, d, s) for d, s in zip(info.domain or [(-2, 2)] * 2, shapes)]
    if info.name in ("remainder", "fmod", "floor_divide"):
        arrs[1] = np.abs(arrs[1]) + 0.5
    pattern = None
    for args in [(), (1,), (1, 1), ((1, 0),), ([0, 1],)]:  # the first call pattern that works
        try:
            info.fn(*[ag.tensor(a) for a in arrs], *args)
        except Exception:  # noqa: BLE001 - try the next pattern
            continue
        pattern = args
        break
    assert pattern is not None, f"{info.name}: no simple call pattern; add it to EXPLICIT"

    def fn(*xs):
        return _first(info.fn(*xs, *pattern))

    if info.name in ("igamma", "igammac"):  # PyTorch: no derivative w.r.t. the first input
        a0 = ag.tensor(arrs[0])  # a constant: the JVP in the second input only

        def fn(x, _a=a0):
            return _first(info.fn(_a, x, *pattern))

        arrs = arrs[1:]
    out = fn(*[ag.tensor(a) for a in arrs])
    if out.dtype.kind != "f":
        pytest.skip(f"{info.name}: integer output")
    tans = [rng.standard_normal(a.shape) for a in arrs]
    _, t = jvp(fn, [ag.tensor(a) for a in arrs], [ag.tensor(v) for v in tans])
    np.testing.assert_allclose(t.numpy(), _fd(fn, arrs, tans), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(EXPLICIT))
def test_explicit_call_jvp_vs_finite_differences(name):
    fn, shapes = EXPLICIT[name]
    rng = np.random.default_rng(2)
    arrs = [rng.standard_normal(s) for s in shapes]
    tans = [rng.standard_normal(s) for s in shapes]
    _, t = jvp(fn, [ag.tensor(a) for a in arrs], [ag.tensor(v) for v in tans])
    np.testing.assert_allclose(t.numpy(), _fd(fn, arrs, tans), rtol=1e-5, atol=1e-6)


def test_poisson_jvp_is_zero():
    """A sample has no derivative with respect to the rate (PyTorch: zeros)."""
    rate = ag.tensor(np.full((3, 4), 2.0))
    _, t = jvp(lambda r: ag.poisson(r), [rate], [ag.ones_like(rate)])
    np.testing.assert_array_equal(t.numpy(), np.zeros((3, 4)))


def _first(out):
    return out[0] if isinstance(out, tuple) else out


def test_registry_jvp_coverage():
    assert fwAD.registry_ops_without_jvp_rule() == []


def test_dual_levels_are_per_thread():
    import threading

    errors = []

    def work(seed):
        try:
            rng = np.random.default_rng(seed)
            a, v = rng.standard_normal(5), rng.standard_normal(5)
            for _ in range(20):
                _, t = jvp(lambda x: (x * x).sin(), [ag.tensor(a)], [ag.tensor(v)])
                np.testing.assert_allclose(t.numpy(), np.cos(a * a) * 2 * a * v, rtol=1e-12)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors


def test_custom_function_jvp_with_setup_context():
    # PyTorch 2 style: forward without ctx, setup_context fills it, jvp reads it
    class Exp(ag.autograd.Function):
        @staticmethod
        def forward(x):
            return x.exp()

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.result = output

        @staticmethod
        def jvp(ctx, gx):
            return gx * ctx.result

        @staticmethod
        def backward(ctx, g):
            return g * ctx.result

    p = ag.tensor([0.5, -1.0, 2.0], dtype=ag.float64)
    t = ag.tensor([1.0, 2.0, 3.0], dtype=ag.float64)
    with fwAD.dual_level():
        out = Exp.apply(fwAD.make_dual(p, t))
        tangent = fwAD.unpack_dual(out).tangent
    np.testing.assert_allclose(tangent.numpy(), t.numpy() * np.exp(p.numpy()))
