"""autograd.func: grad, vjp, jvp, jacrev == jacfwd, hessian, functional_call, vmap and
per-sample gradients (MLP, CNN) against loops."""

import warnings

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from autograd.func import (
    functional_call,
    grad,
    grad_and_value,
    hessian,
    jacfwd,
    jacrev,
    jvp,
    vjp,
    vmap,
)


def t64(*shape, seed=0):
    return ag.tensor(np.random.default_rng(seed).standard_normal(shape))


def test_grad_and_value_and_nested_grad():
    x = t64(4)
    g, v = grad_and_value(lambda x: (x.sin() * x).sum())(x)
    xn = x.numpy()
    np.testing.assert_allclose(g.numpy(), np.sin(xn) + xn * np.cos(xn))
    np.testing.assert_allclose(v.item(), (np.sin(xn) * xn).sum())
    g2 = grad(grad(lambda t: (t ** 3).sum()))(ag.tensor(2.0, dtype=ag.float64))
    assert g2.item() == pytest.approx(12.0)
    ga, gb = grad(lambda a, b: (a * b).sum(), argnums=(0, 1))(x, x * 2)
    np.testing.assert_allclose(ga.numpy(), 2 * xn)
    np.testing.assert_allclose(gb.numpy(), xn)


def test_vjp_and_jvp_agree_with_jacobian():
    A = t64(3, 4, seed=1)

    def f(x):
        return (A @ x).tanh()

    x = t64(4, seed=2)
    J = jacrev(f)(x).numpy()
    out, fn = vjp(f, x)
    u = t64(3, seed=3)
    np.testing.assert_allclose(fn(u)[0].numpy(), u.numpy() @ J, rtol=1e-12)
    v = t64(4, seed=4)
    out2, jv = jvp(f, (x,), (v,))
    np.testing.assert_allclose(jv.numpy(), J @ v.numpy(), rtol=1e-12)
    np.testing.assert_allclose(out.numpy(), out2.numpy())


@pytest.mark.parametrize("seed", range(4))
def test_jacfwd_equals_jacrev_random_functions(seed):
    rng = np.random.default_rng(seed)
    ops = [ag.sin, ag.tanh, ag.exp, lambda t: t * t, lambda t: F.softmax(t, -1),
           lambda t: t.cumsum(0), lambda t: t.flip(0)]
    chosen = [ops[i] for i in rng.integers(0, len(ops), 4)]
    W = ag.tensor(rng.standard_normal((3, 5)) * 0.5)

    def f(x):
        y = x
        for op in chosen:
            y = op(y)
        return W @ y

    x = ag.tensor(rng.standard_normal(5))
    np.testing.assert_allclose(jacfwd(f)(x).numpy(), jacrev(f)(x).numpy(), rtol=1e-10,
                               atol=1e-12)


def test_hessian_seed_example_closed_form():
    # z = x^2 + y^2 with x = u^2 - v^2, y = u v:  z = u^4 - u^2 v^2 + v^4
    def z(w):
        u, v = w[0], w[1]
        x = u * u - v * v
        y = u * v
        return x * x + y * y

    for u, v in [(1.3, -0.7), (0.2, 2.0), (-1.0, 0.5)]:
        H = hessian(z)(ag.tensor([u, v], dtype=ag.float64)).numpy()
        expected = np.array([[12 * u * u - 2 * v * v, -4 * u * v],
                             [-4 * u * v, 12 * v * v - 2 * u * u]])
        np.testing.assert_allclose(H, expected, rtol=1e-12, atol=1e-12)


def test_functional_call_restores_parameters():
    m = nn.Linear(3, 2).double()
    w0 = m.weight
    params = {"weight": ag.zeros(2, 3, dtype=ag.float64), "bias": ag.ones(2, dtype=ag.float64)}
    out = functional_call(m, params, (t64(4, 3),))
    np.testing.assert_allclose(out.numpy(), np.ones((4, 2)))
    assert m.weight is w0


def test_vmap_matches_loop_and_nested():
    W = t64(3, 5, seed=5)

    def f(v, s):
        return (F.linear(v, W).tanh() ** 2).sum(-1) * s + (W @ v).exp().mean()

    x = t64(8, 5, seed=6)
    s = t64(8, seed=7)
    out = vmap(f)(x, s)
    ref = ag.stack([f(x[i], s[i]) for i in range(8)])
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12)
    # in_dims / out_dims
    out2 = vmap(lambda v: v * 2 + 1, in_dims=1, out_dims=1)(x.T)
    np.testing.assert_allclose(out2.numpy(), (x.T * 2 + 1).numpy())
    # vmap of vmap
    y = t64(6, 4, 3, seed=8)
    g = vmap(vmap(lambda a, b: (a @ b).sum() + b.max(), in_dims=(None, 0)), in_dims=(None, 0))
    A = t64(2, 3, seed=9)
    got = g(A, y)
    ref = np.array([[((A.numpy() @ y.numpy()[i, j]).sum() + y.numpy()[i, j].max())
                     for j in range(4)] for i in range(6)])
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-12)


def test_vmap_fallback_warns_once_and_is_correct():
    x = t64(4, 3, 5)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = vmap(lambda a: a.t().cumsum(0).tril(), in_dims=0)(x)  # tril has a rule
        assert out.shape == (4, 5, 3)
        lstm = nn.LSTM(5, 2).double()
        got = vmap(lambda a: lstm(a)[0])(x)
        got2 = vmap(lambda a: lstm(a)[0])(x)
    ref = ag.stack([lstm(x[i])[0] for i in range(4)])
    np.testing.assert_allclose(got.detach().numpy(), ref.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(got2.detach().numpy(), ref.detach().numpy(), rtol=1e-12)
    msgs = [str(m.message) for m in w if "batching rule" in str(m.message)]
    assert len(msgs) == 1 and "LSTMLayer" in msgs[0]


def _per_sample(model, x, y):
    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss(p, xi, yi):
        out = functional_call(model, p, (xi.unsqueeze(0),))
        return -(F.log_softmax(out, -1) * yi.unsqueeze(0)).sum()

    batched = vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)
    for i in range(x.shape[0]):
        gi = grad(loss)(params, x[i], y[i])
        for k in gi:
            np.testing.assert_allclose(batched[k][i].numpy(), gi[k].numpy(), rtol=1e-10,
                                       atol=1e-12)


def test_per_sample_grads_mlp():
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 3)).double()
    y = F.one_hot(ag.randint(0, 3, (8,)), 3).double()
    _per_sample(model, t64(8, 5), y)


def test_per_sample_grads_cnn():
    ag.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(4 * 4 * 4, 3)).double()
    y = F.one_hot(ag.randint(0, 3, (6,)), 3).double()
    _per_sample(model, t64(6, 1, 8, 8), y)


# ---- batching rules: vmap(f) == the loop, with no fallback, for each family ------------------

W35 = t64(3, 5, seed=11)
CONV_W = t64(4, 2, 3, 3, seed=12)
EMB = t64(6, 3, seed=13)

VMAP_CASES = [
    ("unary", lambda x: x.exp().sin().tanh().sigmoid().relu().abs().sqrt(), [(5,)]),
    ("binary_broadcast", lambda x, y: x * y + x / (y.abs() + 1) - y ** 2, [(3, 5), (5,)]),
    ("where", lambda x, y: ag.where(x > 0, x, y), [(3, 5), (3, 5)]),
    ("clamp", lambda x: ag.clamp(x, -0.5, 0.5), [(3, 5)]),
    ("sum_dims", lambda x: x.sum(0) + x.sum(-1, keepdim=True).sum(), [(3, 5)]),
    ("mean_var_std", lambda x: x.mean(1) + x.var(1) + x.std(), [(3, 5)]),
    ("amax_lse_norm", lambda x: ag.amax(x, 1) + ag.logsumexp(x, 0)[:3] + ag.norm(x, dim=1),
     [(3, 5)]),
    ("prod_cumsum", lambda x: ag.prod(x, 1) + ag.cumsum(x, 1)[:, -1], [(3, 5)]),
    ("softmax", lambda x: F.softmax(x, -1) + F.log_softmax(x, 0), [(3, 5)]),
    ("reshape_permute", lambda x: x.reshape(5, 3).t().flatten() * 2, [(3, 5)]),
    ("unsqueeze_expand", lambda x: x.unsqueeze(0).expand(4, 3, 5).sum(0), [(3, 5)]),
    ("flip_roll_repeat", lambda x: ag.flip(x, (1,)) + ag.roll(x, 1, 1) + x.repeat(1, 1), [(3, 5)]),
    ("cat_stack", lambda x, y: ag.cat([x, y], 0).sum(0) + ag.stack([x, x], 1).sum(1).sum(0),
     [(3, 5), (2, 5)]),
    ("cat_unbatched", lambda x: ag.cat([x, W35], 0), [(3, 5)]),
    ("split_unbind", lambda x: ag.split(x, 2, 1)[1].sum() + ag.unbind(x, 0)[1], [(3, 5)]),
    ("getitem", lambda x: x[1:, ::2].sum() + x[np.array([2, 0])][:, 1] + x[..., 0].sum(),
     [(3, 5)]),
    ("tril_pad", lambda x: ag.tril(x).sum() + ag.pad(x, (1, 1)).sum(1), [(3, 5)]),
    ("matmul_vec", lambda v: W35 @ v, [(5,)]),
    ("matmul_mat", lambda m: m @ W35.T, [(2, 5)]),
    ("matmul_both", lambda a, b: a @ b, [(2, 3), (3, 4)]),
    ("matmul_vec_batched_weight", lambda v: v @ W35.T, [(5,)]),
    ("dot_outer", lambda a, b: ag.outer(a, b).sum() + ag.dot(a, b), [(4,), (4,)]),
    ("einsum", lambda a, b: ag.einsum("ij,jk->ik", a, b), [(2, 3), (3, 4)]),
    ("linear", lambda x: F.linear(x, W35, W35[:, 0]), [(2, 5)]),
    ("layer_norm", lambda x: F.layer_norm(x, (5,)), [(3, 5)]),
    ("conv_pool", lambda x: F.max_pool2d(F.conv2d(x, CONV_W, padding=1), 2)
     + F.avg_pool2d(F.conv2d(x, CONV_W, padding=1), 2), [(1, 2, 6, 6)]),
    ("losses", lambda x, y: F.mse_loss(x, y) + F.binary_cross_entropy_with_logits(x, y.sigmoid()),
     [(3, 5), (3, 5)]),
]


@pytest.mark.parametrize("name,fn,shapes", VMAP_CASES, ids=[c[0] for c in VMAP_CASES])
def test_vmap_batching_rules_match_loop(name, fn, shapes):
    args = [t64(4, *s, seed=20 + k) for k, s in enumerate(shapes)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a loop fallback would warn
        got = vmap(fn)(*args)
    ref = ag.stack([fn(*[a[i] for a in args]) for i in range(4)])
    np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)


def test_vmap_of_grad_through_every_family():
    # reverse mode through batched ops: vmap(grad) of a function touching several families
    def f(x):
        h = F.layer_norm(x.reshape(3, 5), (5,))
        return (F.softmax(h @ W35.T, -1) * ag.cumsum(h, 1)[:, :3]).sum() + ag.amax(h, 1).sum()

    xs = t64(4, 15, seed=30)
    got = vmap(grad(f))(xs)
    ref = ag.stack([grad(f)(xs[i]) for i in range(4)])
    np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("fn", [
    lambda x: ag.max(x, 1)[0],                                  # indices computed on arrays
    lambda x: ag.gather(x, 1, ag.tensor([[0], [4], [2]])),     # shape checks on arrays
    lambda x: F.embedding(x.long(), EMB),                       # index array read directly
], ids=["max_dim", "gather", "embedding"])
def test_vmap_functions_computing_on_raw_arrays_fail_loudly(fn):
    # composites that compute on raw arrays bypass the batching rules: an error, never a
    # silently wrong result
    x = ag.tensor(np.random.default_rng(0).integers(0, 5, (4, 3, 5)).astype(np.float64))
    with pytest.raises((RuntimeError, ValueError)):
        vmap(fn)(x)


def test_vmap_sum_to_setitem_and_inplace_error():
    x = t64(4, 3, 5)
    v = t64(4, 2, seed=1)

    def h(a):
        return ag.sum_to(a, (5,)) + ag.sum_to(a, (3, 1)).sum()

    np.testing.assert_allclose(vmap(h)(x).numpy(), ag.stack([h(x[i]) for i in range(4)]).numpy())

    def s(a, b):  # recorded (a requires grad): SetItem's batching rule
        a = a * 1.0
        a[1:, 2] = b
        return a

    xr = x.detach().requires_grad_()
    got = vmap(s)(xr, v)
    ref = ag.stack([s(xr[i], v[i]) for i in range(4)])
    np.testing.assert_allclose(got.detach().numpy(), ref.detach().numpy())
    with pytest.raises(RuntimeError, match="in-place"):
        vmap(s)(x, v)  # not recorded: a raw in-place write at one sample's index

    def t(a):  # whole-tensor in-place ops are fine
        a = a * 1.0
        a.mul_(2).add_(1)
        return a

    np.testing.assert_allclose(vmap(t)(x).numpy(), (x * 2 + 1).numpy())
    gx = vmap(grad(lambda a: t(a).sum()))(x)
    np.testing.assert_allclose(gx.numpy(), np.full((4, 3, 5), 2.0))


def test_jacobians_argnums_and_aux():
    def f(a, b):
        return (a[:, None] * b).sin().sum(0), a.sum()

    a, b = t64(3, seed=40), t64(3, 4, seed=41)
    jf = jacfwd(f, argnums=(0, 1), has_aux=True)(a, b)
    jr = jacrev(f, argnums=(0, 1), has_aux=True)(a, b)
    for x, y in zip(jf[0], jr[0]):
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-12, atol=1e-14)
    assert jf[0][0].shape == (4, 3) and jf[0][1].shape == (4, 3, 4)
    np.testing.assert_allclose(jf[1].numpy(), a.numpy().sum())
    # hessian of a function of a matrix: shape arg.shape * 2, symmetric
    H = hessian(lambda m: (m @ m).trace() if hasattr(m, "trace") else (m * m.T).sum())(
        t64(2, 2, seed=42))
    assert H.shape == (2, 2, 2, 2)
    Hm = H.numpy().reshape(4, 4)
    np.testing.assert_allclose(Hm, Hm.T, atol=1e-12)


def test_vmap_of_jacrev_and_forward_mode_inside_vmap_error():
    A = t64(3, 4, seed=50)

    def f(x):
        return (A @ x).tanh()

    xs = t64(5, 4, seed=51)
    got = vmap(jacrev(f))(xs)
    ref = ag.stack([jacrev(f)(xs[i]) for i in range(5)])
    assert got.shape == (5, 3, 4)
    np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-12)
    with pytest.raises(NotImplementedError, match="vmap"):
        vmap(jacfwd(f))(xs)


# ---- the torch.func tutorials: per-sample gradients with class targets, model ensembling,
# vmap(vjp_fn), is_grads_batched, has_aux ------------------------------------------------------


@pytest.mark.parametrize("loss_name", ["cross_entropy", "nll_loss"])
def test_per_sample_grads_class_index_targets(loss_name):
    # the tutorial's loss: a batched integer target inside vmap(grad(...))
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 4)).double()
    params = {k: v.detach() for k, v in model.named_parameters()}
    x, y = t64(6, 5), ag.tensor([0, 3, 1, 1, 2, 3])
    wt = ag.tensor([1.0, 2.0, 0.5, 1.5], dtype=ag.float64)

    def loss(p, xi, yi):
        out = functional_call(model, p, (xi.unsqueeze(0),))
        if loss_name == "nll_loss":
            return F.nll_loss(F.log_softmax(out, 1), yi.unsqueeze(0), weight=wt)
        return F.cross_entropy(out, yi.unsqueeze(0), weight=wt)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no loop fallback
        batched = vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)
        values = vmap(loss, in_dims=(None, 0, 0))(params, x, y)
    for i in range(6):
        gi = grad(loss)(params, x[i], y[i])
        np.testing.assert_allclose(values[i].item(), loss(params, x[i], y[i]).item(), rtol=1e-12)
        for k in gi:
            np.testing.assert_allclose(batched[k][i].numpy(), gi[k].numpy(), rtol=1e-10,
                                       atol=1e-12)


def test_stack_module_state_and_vmap_over_dicts():
    from autograd.func import stack_module_state
    ag.manual_seed(1)
    models = [nn.Linear(3, 2).double() for _ in range(4)]
    params, buffers = stack_module_state(models)
    assert params["weight"].shape == (4, 2, 3) and params["weight"].is_leaf
    assert params["weight"].requires_grad and buffers == {}

    def fmodel(p, b, x):
        return functional_call(models[0], (p, b), (x,))

    x = t64(5, 3)
    xs = t64(4, 5, 3, seed=1)
    same = vmap(fmodel, in_dims=(0, 0, None))(params, buffers, x)
    each = vmap(fmodel)(params, buffers, xs)
    for i, m in enumerate(models):
        np.testing.assert_allclose(same[i].detach().numpy(), m(x).detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(each[i].detach().numpy(), m(xs[i]).detach().numpy(),
                                   rtol=1e-12)
    with pytest.raises(RuntimeError, match="same class"):
        stack_module_state([nn.Linear(3, 2), nn.Tanh()])


def test_vmap_nested_in_dims_and_out_dims():
    a, b = ag.arange(6.0).reshape(3, 2), ag.tensor(5.0)
    out = vmap(lambda pair: pair[0] * pair[1], in_dims=([0, None],))([a, b])
    np.testing.assert_allclose(out.numpy(), a.numpy() * 5.0)
    d = vmap(lambda t: {"s": t.sum(), "m": t * 2}, out_dims={"s": 0, "m": 1})(a)
    np.testing.assert_allclose(d["s"].numpy(), [1.0, 5.0, 9.0])
    assert d["m"].shape == (2, 3)
    r = vmap(lambda t: t * 2, out_dims=(1,))(a)
    assert r.shape == (2, 3)
    with pytest.raises(ValueError, match="non-Tensor"):
        vmap(lambda t, n: t * n, in_dims=(0, 0))(a, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a 0-d sample's reduction has a rule
        np.testing.assert_allclose(vmap(lambda t: t.sum().sum())(a).numpy(), [1.0, 5.0, 9.0])


def test_vmap_of_vjp_fn_and_is_grads_batched():
    w, x = t64(4, 4), t64(4, seed=1)
    _, vjp_fn = vjp(lambda v: (w @ v).tanh(), x)
    (jac,) = vmap(vjp_fn)(ag.eye(4, dtype=ag.float64))
    ref = jacrev(lambda v: (w @ v).tanh())(x)
    np.testing.assert_allclose(jac.numpy(), ref.numpy(), rtol=1e-12)
    xr = x.clone().requires_grad_()
    (jb,) = ag.autograd.grad((w @ xr).tanh(), xr, ag.eye(4, dtype=ag.float64),
                             is_grads_batched=True)
    np.testing.assert_allclose(jb.numpy(), ref.numpy(), rtol=1e-12)


def test_has_aux_outputs_are_detached():
    w = t64(3)
    g, aux = grad(lambda v: ((v ** 2).sum(), v.sum()), has_aux=True)(w)
    assert aux.grad_fn is None and not aux.requires_grad
    _, aux = jacrev(lambda v: (v.sin(), v.max()), has_aux=True)(w)
    assert aux.grad_fn is None
    _, _, aux = vjp(lambda v: (v.exp(), {"m": v.mean()}), w, has_aux=True)
    assert aux["m"].grad_fn is None
