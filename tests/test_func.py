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
