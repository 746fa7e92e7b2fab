"""torch.distributions (autograd/distributions): values of log_prob, cdf, icdf, entropy, mean,
mode, variance and kl_divergence against PyTorch's in float64 (1e-10), gradients by float64
gradcheck (parameters of log_prob / entropy / kl, reparameterised samples), Gamma's implicit
rsample gradient against PyTorch's ``_standard_gamma_grad`` and by its defining identity,
sampling statistics from a fixed seed, shapes (sample_shape, expand, Independent), validation
errors, transforms, and the REINFORCE / VAE patterns of PyTorch's examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd as ag
import autograd.distributions as D
import nn
import optim
from autograd.distributions import constraints
from autograd.distributions import transforms as T
from autograd.distributions._special import (
    _igamma_arr,
    _lgamma_arr,
    _standard_gamma_grad_arr,
)

torch = pytest.importorskip("torch")
TD = torch.distributions
F64 = ag.float64
RNG = np.random.default_rng(1234)


def A(v):  # noqa: N802
    return ag.tensor(np.asarray(v, dtype=np.float64), dtype=F64)


def TT(v):  # noqa: N802
    return torch.tensor(np.asarray(v, dtype=np.float64), dtype=torch.float64)


def pos(*s):
    return np.abs(RNG.normal(size=s)) + 0.4


def unit(*s):
    return RNG.uniform(0.1, 0.9, size=s)


def simplex(*s):
    return RNG.dirichlet(np.ones(s[-1]), size=s[:-1])


def assert_close(a, b, tol=1e-10):
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=tol, atol=tol)


# (name, kwargs (numpy arrays), values for log_prob/cdf, methods with a value argument)
CASES = [
    ("Normal", dict(loc=RNG.normal(size=3), scale=pos(3)), RNG.normal(size=(2, 3)),
     ("log_prob", "cdf", "icdf")),
    ("Uniform", dict(low=np.array([-1.0, 0.0, 2.0]), high=np.array([1.0, 3.0, 2.5])),
     np.array([[0.5, 1.0, 2.2], [-0.5, 2.9, 2.0]]), ("log_prob", "cdf", "icdf")),
    ("Exponential", dict(rate=pos(3)), pos(2, 3), ("log_prob", "cdf", "icdf")),
    ("Laplace", dict(loc=RNG.normal(size=3), scale=pos(3)), RNG.normal(size=(2, 3)),
     ("log_prob", "cdf", "icdf")),
    ("Cauchy", dict(loc=RNG.normal(size=3), scale=pos(3)), RNG.normal(size=(2, 3)),
     ("log_prob", "cdf", "icdf")),
    ("Gamma", dict(concentration=pos(3), rate=pos(3)), pos(2, 3), ("log_prob", "cdf")),
    ("Chi2", dict(df=pos(3) * 3), pos(2, 3), ("log_prob", "cdf")),
    ("Beta", dict(concentration1=pos(3), concentration0=pos(3)), unit(2, 3), ("log_prob",)),
    ("StudentT", dict(df=pos(3) * 3, loc=RNG.normal(size=3), scale=pos(3)),
     RNG.normal(size=(2, 3)), ("log_prob",)),
    ("Dirichlet", dict(concentration=pos(2, 4)), simplex(3, 2, 4), ("log_prob",)),
    ("LogNormal", dict(loc=RNG.normal(size=3), scale=pos(3)), pos(2, 3),
     ("log_prob", "cdf", "icdf")),
    ("HalfNormal", dict(scale=pos(3)), pos(2, 3), ("log_prob", "cdf", "icdf")),
    ("HalfCauchy", dict(scale=pos(3)), pos(2, 3), ("log_prob", "cdf", "icdf")),
    ("Gumbel", dict(loc=RNG.normal(size=3), scale=pos(3)), RNG.normal(size=(2, 3)),
     ("log_prob", "cdf", "icdf")),
    ("Bernoulli", dict(probs=unit(3)), np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]]),
     ("log_prob",)),
    ("Bernoulli", dict(logits=RNG.normal(size=3)), np.array([[0.0, 1.0, 1.0]]), ("log_prob",)),
    ("Categorical", dict(probs=simplex(3, 5)), np.array([[0, 4, 2], [1, 1, 3]]), ("log_prob",)),
    ("Categorical", dict(logits=RNG.normal(size=(3, 5))), np.array([[0, 4, 2]]), ("log_prob",)),
    ("OneHotCategorical", dict(probs=simplex(2, 3)), np.array([[[0, 0, 1.0], [1, 0, 0]]]),
     ("log_prob",)),
    ("Binomial", dict(total_count=np.array([5.0, 5.0, 5.0]), probs=unit(3)),
     np.array([[0.0, 3.0, 5.0]]), ("log_prob",)),
    ("Binomial", dict(total_count=np.array([3.0, 7.0, 2.0]), logits=RNG.normal(size=3)),
     np.array([[0.0, 3.0, 2.0]]), ("log_prob",)),
    ("Poisson", dict(rate=pos(3)), np.array([[0.0, 3.0, 7.0]]), ("log_prob",)),
    ("Geometric", dict(probs=unit(3)), np.array([[0.0, 3.0, 7.0]]), ("log_prob",)),
    ("Weibull", dict(scale=pos(3), concentration=pos(3) + 0.5), pos(2, 3),
     ("log_prob", "cdf", "icdf")),
    ("Pareto", dict(scale=np.array([0.5, 1.0, 0.7]), alpha=pos(3) + 2), pos(2, 3) + 1.1,
     ("log_prob", "cdf", "icdf")),
    ("InverseGamma", dict(concentration=pos(3) + 2, rate=pos(3)), pos(2, 3), ("log_prob",)),
    ("NegativeBinomial", dict(total_count=np.array([3.0, 2.5, 1.0]), probs=unit(3)),
     np.array([[0.0, 4.0, 2.0]]), ("log_prob",)),
    ("FisherSnedecor", dict(df1=pos(3) * 4, df2=pos(3) * 6), pos(2, 3), ("log_prob",)),
    ("Kumaraswamy", dict(concentration1=pos(3) + 0.5, concentration0=pos(3) + 0.5), unit(2, 3),
     ("log_prob", "cdf", "icdf")),
    ("ContinuousBernoulli", dict(probs=np.array([0.2, 0.4995, 0.8])), unit(2, 3),
     ("log_prob", "cdf", "icdf")),
    ("ContinuousBernoulli", dict(logits=RNG.normal(size=3)), unit(2, 3), ("log_prob",)),
    ("VonMises", dict(loc=RNG.normal(size=3), concentration=pos(3) * 3), RNG.normal(size=(2, 3)),
     ("log_prob",)),
    ("LogisticNormal", dict(loc=RNG.normal(size=(2, 3)), scale=pos(2, 3)), simplex(3, 2, 4),
     ("log_prob",)),
    ("RelaxedBernoulli", dict(temperature=np.array(0.5), probs=unit(3)), unit(2, 3),
     ("log_prob",)),
    ("RelaxedOneHotCategorical", dict(temperature=np.array(0.7), logits=RNG.normal(size=(2, 3))),
     simplex(4, 2, 3), ("log_prob",)),
]
_ids = [f"{c[0]}-{'-'.join(c[1])}" for c in CASES]


def make(case, lib):
    name, kw = case[0], case[1]
    if lib == "ag":
        return getattr(D, name)(**{k: A(v) for k, v in kw.items()})
    return getattr(TD, name)(**{k: TT(v) for k, v in kw.items()})


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_values_match_pytorch(case):
    d, t = make(case, "ag"), make(case, "torch")
    assert tuple(d.batch_shape) == tuple(t.batch_shape)
    assert tuple(d.event_shape) == tuple(t.event_shape)
    assert d.has_rsample == t.has_rsample
    assert d.has_enumerate_support == t.has_enumerate_support
    for meth in case[3]:
        v = case[2]
        if meth == "icdf":
            v = unit(*np.shape(v))
        assert_close(getattr(d, meth)(A(v)), getattr(t, meth)(TT(v)))
    for prop in ("mean", "mode", "variance", "stddev"):
        try:
            expected = getattr(t, prop)
        except NotImplementedError:
            with pytest.raises(NotImplementedError):
                getattr(d, prop)
            continue
        got = getattr(d, prop)
        e = expected.detach().numpy()
        g = got.detach().numpy()
        assert g.shape == e.shape, prop
        np.testing.assert_allclose(g.astype(np.float64), e.astype(np.float64), rtol=1e-10,
                                   atol=1e-10, err_msg=prop)
    try:
        expected = t.entropy()
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            d.entropy()
    else:
        assert_close(d.entropy(), expected)
        assert_close(d.perplexity(), t.perplexity())
    if t.has_enumerate_support:
        for expand in (True, False):
            try:
                expected = t.enumerate_support(expand)
            except NotImplementedError:
                with pytest.raises(NotImplementedError):
                    d.enumerate_support(expand)
                continue
            assert_close(d.enumerate_support(expand), expected)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_samples_have_shape_and_support(case):
    d = make(case, "ag")
    ag.manual_seed(0)
    s = d.sample((4, 2))
    assert tuple(s.shape) == (4, 2) + tuple(d.batch_shape) + tuple(d.event_shape)
    assert not s.requires_grad
    assert bool(d.support.check(s).all())
    e = d.expand((5,) + tuple(d.batch_shape))
    assert tuple(e.batch_shape) == (5,) + tuple(d.batch_shape)
    assert tuple(e.sample().shape) == (5,) + tuple(d.batch_shape) + tuple(d.event_shape)
    assert_close(e.log_prob(s[0, 0]), make(case, "torch").expand(
        (5,) + tuple(d.batch_shape)).log_prob(TT(s[0, 0].numpy())))


def test_manual_seed_determinism():
    d = D.Normal(A([0.0, 1.0]), A([1.0, 2.0]))
    ag.manual_seed(7)
    a = d.sample((3,))
    ag.manual_seed(7)
    b = d.sample((3,))
    assert np.array_equal(a.numpy(), b.numpy())


# ---- sampling statistics ---------------------------------------------------------------------

N = 100_000


@pytest.mark.parametrize("dist", [
    lambda: D.Normal(A(0.5), A(2.0)), lambda: D.Uniform(A(-1.0), A(3.0)),
    lambda: D.Exponential(A(1.5)), lambda: D.Laplace(A(0.3), A(0.7)),
    lambda: D.Gamma(A(2.5), A(1.5)), lambda: D.Gamma(A(0.3), A(1.0)),
    lambda: D.Chi2(A(3.0)), lambda: D.Beta(A(2.0), A(3.0)),
    lambda: D.StudentT(A(6.0), A(0.5), A(2.0)), lambda: D.LogNormal(A(0.1), A(0.4)),
    lambda: D.HalfNormal(A(1.3)), lambda: D.Gumbel(A(1.0), A(2.0)),
    lambda: D.Bernoulli(A(0.3)), lambda: D.Binomial(10, A(0.3)), lambda: D.Poisson(A(3.5)),
    lambda: D.Geometric(A(0.3)), lambda: D.Categorical(A([0.2, 0.5, 0.3])),
    lambda: D.Dirichlet(A([1.0, 2.0, 3.0])),
    lambda: D.VonMises(A(0.5), A(8.0)),
    lambda: D.MultivariateNormal(A([1.0, -1.0]), A([[2.0, 0.5], [0.5, 1.0]])),
    lambda: D.MixtureSameFamily(D.Categorical(A([0.3, 0.7])),
                                D.Normal(A([-1.0, 2.0]), A([0.5, 1.0]))),
], ids=["normal", "uniform", "exponential", "laplace", "gamma", "gamma_small", "chi2", "beta",
        "studentt", "lognormal", "halfnormal", "gumbel", "bernoulli", "binomial", "poisson",
        "geometric", "categorical", "dirichlet", "von_mises", "mvn", "mixture"])
def test_sample_moments(dist):
    d = dist()
    ag.manual_seed(3)
    x = d.sample((N,)).numpy().astype(np.float64)
    if isinstance(d, D.Categorical):
        mean = (d.probs * A([0.0, 1.0, 2.0])).sum()
        var = (d.probs * A([0.0, 1.0, 4.0])).sum() - mean ** 2
    else:
        mean, var = d.mean, d.variance
    mean = np.asarray(mean.numpy(), dtype=np.float64)
    var = np.asarray(var.numpy(), dtype=np.float64)
    se = np.sqrt(var / N)
    assert np.all(np.abs(x.mean(0) - mean) <= 6 * se), (x.mean(0), mean)
    if isinstance(d, D.VonMises):  # the circular variance, 1 - E[cos(x - loc)]
        np.testing.assert_allclose(1 - np.cos(x - 0.5).mean(), var, rtol=0.05)
        return
    # the sample variance, within 10 % (heavy tails: StudentT(6) has a finite 4th moment)
    np.testing.assert_allclose(x.var(0), var, rtol=0.1)
    if isinstance(d, D.MultivariateNormal):
        np.testing.assert_allclose(np.cov(x.T), d.covariance_matrix.numpy(), atol=0.05)


def test_categorical_frequencies():
    p = np.array([0.1, 0.2, 0.3, 0.4])
    ag.manual_seed(0)
    s = D.Categorical(A(p)).sample((N,)).numpy()
    assert s.dtype == np.int64
    freq = np.bincount(s, minlength=4) / N
    assert np.all(np.abs(freq - p) < 6 * np.sqrt(p * (1 - p) / N))


# ---- gradients -------------------------------------------------------------------------------

def _grad_inputs(case):
    return [A(v).requires_grad_() for v in case[1].values()]


GRAD_CASES = [c for c in CASES if c[0] not in ("Uniform", "Binomial")]


@pytest.mark.parametrize("case", GRAD_CASES, ids=[f"{c[0]}-{'-'.join(c[1])}" for c in GRAD_CASES])
def test_log_prob_and_entropy_gradcheck(case):
    name, kw, value = case[0], case[1], case[2]
    keys = list(kw)
    inputs = _grad_inputs(case)

    def lp(*params):
        return getattr(D, name)(**dict(zip(keys, params))).log_prob(A(value))

    assert ag.gradcheck(lp, inputs)
    try:
        make(case, "torch").entropy()
    except NotImplementedError:
        return
    if name in ("Categorical", "OneHotCategorical") and "probs" in kw:
        return  # probs on the simplex: unconstrained perturbations leave it
    assert ag.gradcheck(lambda *p: getattr(D, name)(**dict(zip(keys, p))).entropy(), inputs)


def test_log_prob_gradient_matches_pytorch():
    for case in GRAD_CASES:
        name, kw, value = case[0], case[1], case[2]
        xs = _grad_inputs(case)
        ts = [TT(v).requires_grad_() for v in kw.values()]
        getattr(D, name)(**dict(zip(kw, xs))).log_prob(A(value)).sum().backward()
        getattr(TD, name)(**dict(zip(kw, ts))).log_prob(TT(value)).sum().backward()
        for x, t in zip(xs, ts):
            assert_close(x.grad, t.grad, 1e-8)


@pytest.mark.parametrize("build", [
    lambda a, b: D.Normal(a, b), lambda a, b: D.Laplace(a, b), lambda a, b: D.Cauchy(a, b),
    lambda a, b: D.Uniform(a, a + b), lambda a, b: D.LogNormal(a, b),
    lambda a, b: D.Gumbel(a, b), lambda a, b: D.Exponential(b), lambda a, b: D.HalfNormal(b),
    lambda a, b: D.TransformedDistribution(D.Normal(a, b), [T.TanhTransform(cache_size=1)]),
    lambda a, b: D.Independent(D.Normal(a, b), 1),
    lambda a, b: D.MultivariateNormal(a, scale_tril=(b.diag_embed() + A([[0, 0], [0.3, 0]]))),
], ids=["normal", "laplace", "cauchy", "uniform", "lognormal", "gumbel", "exponential",
        "halfnormal", "tanh_normal", "independent", "mvn"])
def test_rsample_gradcheck(build):
    a = A([0.3, -0.4]).requires_grad_()
    b = A([0.8, 1.3]).requires_grad_()
    assert build(a, b).has_rsample

    def draw(a, b):
        ag.manual_seed(5)  # the same noise at every evaluation
        return build(a, b).rsample((3,))

    assert ag.gradcheck(draw, (a, b))


def test_gamma_implicit_gradient_matches_pytorch_and_identity():
    a = np.array([0.05, 0.3, 1.0, 2.5, 10.0, 80.0])
    x = np.array([1e-3, 0.2, 0.7, 3.1, 8.0, 85.0])
    g = _standard_gamma_grad_arr(a, x)
    expected = torch._standard_gamma_grad(TT(a), TT(x)).numpy()
    # PyTorch's own is an approximation (series / saddle point), to about 1e-4
    np.testing.assert_allclose(g, expected, rtol=2e-4)
    # the defining identity: the CDF stays put when x moves by g * h as a moves by h
    h = 1e-4 * a
    p0 = _igamma_arr(a, x)
    p1 = _igamma_arr(a + h, x + g * h)
    assert np.all(np.abs(p1 - p0) < 1e-7 * np.maximum(p0, 1e-3))


@pytest.mark.parametrize("build,mean_grads", [
    (lambda c, r: D.Gamma(c, r), lambda c, r: (1 / r, -c / r ** 2)),
    (lambda c, r: D.Beta(c, r), lambda c, r: (r / (c + r) ** 2, -c / (c + r) ** 2)),
    (lambda c, r: D.Chi2(c), lambda c, r: (1.0, 0.0)),
])
def test_implicit_rsample_gradient_is_unbiased(build, mean_grads):
    c = A(1.7).requires_grad_()
    r = A(2.3).requires_grad_()
    d = build(c, r)
    assert d.has_rsample
    ag.manual_seed(0)
    d.rsample((N,)).mean().backward()
    gc, gr = mean_grads(1.7, 2.3)
    assert abs(float(c.grad) - gc) < 0.02
    if r.grad is not None:
        assert abs(float(r.grad) - gr) < 0.02


def test_dirichlet_and_studentt_rsample_gradients():
    conc = A([1.5, 2.0, 3.5]).requires_grad_()
    ag.manual_seed(1)
    D.Dirichlet(conc).rsample((N,))[:, 0].mean().backward()
    s = 7.0
    np.testing.assert_allclose(conc.grad.numpy(), [(s - 1.5) / s ** 2, -1.5 / s ** 2,
                                                   -1.5 / s ** 2], atol=0.01)
    loc = A(0.3).requires_grad_()
    scale = A(1.2).requires_grad_()
    ag.manual_seed(2)
    D.StudentT(A(5.0), loc, scale).rsample((1000,)).mean().backward()
    assert float(loc.grad) == pytest.approx(1.0)
    assert scale.grad is not None and np.isfinite(float(scale.grad))


# ---- special functions used above --------------------------------------------------------------

def test_lgamma_matches_pytorch():
    x = np.concatenate([np.linspace(-4.9, -0.1, 23), np.geomspace(1e-8, 1e6, 60)])
    np.testing.assert_allclose(_lgamma_arr(x), torch.lgamma(TT(x)).numpy(), rtol=1e-13,
                               atol=1e-13)


# ---- KL ----------------------------------------------------------------------------------------

KL_CASES = [
    ("Normal", lambda: (RNG.normal(size=3), pos(3))),
    ("Laplace", lambda: (RNG.normal(size=3), pos(3))),
    ("Cauchy", lambda: (RNG.normal(size=3), pos(3))),
    ("Gumbel", lambda: (RNG.normal(size=3), pos(3))),
    ("Gamma", lambda: (pos(3), pos(3))), ("Beta", lambda: (pos(3), pos(3))),
    ("Exponential", lambda: (pos(3),)), ("Poisson", lambda: (pos(3),)),
    ("Dirichlet", lambda: (pos(2, 3),)), ("HalfNormal", lambda: (pos(3),)),
    ("LogNormal", lambda: (RNG.normal(size=3), pos(3))), ("Bernoulli", lambda: (unit(3),)),
    ("Geometric", lambda: (unit(3),)), ("Categorical", lambda: (simplex(3, 4),)),
    ("OneHotCategorical", lambda: (simplex(3, 4),)),
]


@pytest.mark.parametrize("name,gen", KL_CASES, ids=[c[0] for c in KL_CASES])
def test_kl_matches_pytorch_and_gradcheck(name, gen):
    a, b = gen(), gen()
    k = D.kl_divergence(getattr(D, name)(*map(A, a)), getattr(D, name)(*map(A, b)))
    kt = TD.kl_divergence(getattr(TD, name)(*map(TT, a)), getattr(TD, name)(*map(TT, b)))
    assert_close(k, kt)
    if name in ("Categorical", "OneHotCategorical"):
        return
    xs = [A(v).requires_grad_() for v in a + b]
    n = len(a)
    assert ag.gradcheck(lambda *p: D.kl_divergence(getattr(D, name)(*p[:n]),
                                                   getattr(D, name)(*p[n:])), xs)


def test_kl_special_pairs():
    cases = [
        (lambda L: L.Uniform(TTA(L, [0.0, -1.0]), TTA(L, [1.0, 2.0])),
         lambda L: L.Uniform(TTA(L, [-0.5, -2.0]), TTA(L, [1.5, 1.0]))),
        (lambda L: L.Binomial(5, TTA(L, [0.3, 0.6])), lambda L: L.Binomial(5, TTA(L, [0.6, 0.2]))),
        (lambda L: L.Uniform(TTA(L, [0.0]), TTA(L, [1.0])),
         lambda L: L.Normal(TTA(L, [0.3]), TTA(L, [2.0]))),
        (lambda L: L.Normal(TTA(L, [0.0]), TTA(L, [1.0])),
         lambda L: L.Laplace(TTA(L, [0.3]), TTA(L, [2.0]))),
        (lambda L: L.Exponential(TTA(L, [2.0])),
         lambda L: L.Gamma(TTA(L, [0.3]), TTA(L, [2.0]))),
        (lambda L: L.Independent(L.Normal(TTA(L, [[0.0, 1.0]]), TTA(L, [[1.0, 2.0]])), 1),
         lambda L: L.Independent(L.Normal(TTA(L, [[0.3, 1.0]]), TTA(L, [[1.0, 1.0]])), 1)),
        (lambda L: L.Bernoulli(TTA(L, [0.0, 1.0, 0.5])),
         lambda L: L.Bernoulli(TTA(L, [0.5, 0.5, 0.0]))),
        (lambda L: L.Categorical(TTA(L, [[0.0, 0.5, 0.5]])),
         lambda L: L.Categorical(TTA(L, [[0.5, 0.5, 0.0]]))),
    ]
    for p, q in cases:
        k = D.kl_divergence(p(D), q(D)).numpy()
        kt = TD.kl_divergence(p(TD), q(TD)).numpy()
        np.testing.assert_allclose(k, kt, rtol=1e-10, atol=1e-10)


def TTA(lib, v):  # noqa: N802
    return A(v) if lib is D else TT(v)


KL_PARAMS = {
    "Normal": ([0.3, -0.5], [1.2, 0.7]), "Laplace": ([0.3, -0.5], [1.2, 0.7]),
    "Gumbel": ([0.3, -0.5], [1.2, 0.7]), "Gamma": ([1.3, 2.5], [1.2, 0.7]),
    "Beta": ([1.3, 2.5], [1.2, 0.7]), "Exponential": ([1.3, 2.5],),
    "Uniform": ([0.1, 0.2], [0.6, 0.9]), "Pareto": ([0.5, 1.5], [2.5, 3.5]),
    "Poisson": ([1.3, 2.5],), "Bernoulli": ([0.3, 0.6],), "Binomial": ([3.0, 3.0], [0.3, 0.6]),
    "Cauchy": ([0.3, -0.5], [1.2, 0.7]), "ContinuousBernoulli": ([0.2, 0.8],),
}


@pytest.mark.parametrize("pname", sorted(KL_PARAMS))
def test_kl_every_pair_as_pytorch(pname):
    """Every (p, q) of these families: PyTorch's value (inf where the supports do not nest),
    or NotImplementedError where PyTorch has none."""
    for qname in sorted(KL_PARAMS):
        p = getattr(D, pname)(*map(A, KL_PARAMS[pname]))
        q = getattr(D, qname)(*map(A, KL_PARAMS[qname]))
        try:
            expected = TD.kl_divergence(getattr(TD, pname)(*map(TT, KL_PARAMS[pname])),
                                        getattr(TD, qname)(*map(TT, KL_PARAMS[qname])))
        except NotImplementedError:
            with pytest.raises(NotImplementedError):
                D.kl_divergence(p, q)
            continue
        np.testing.assert_allclose(D.kl_divergence(p, q).numpy(), expected.numpy(),
                                   rtol=1e-10, atol=1e-10, err_msg=f"{pname} {qname}")


def test_kl_mvn_matches_pytorch_with_gradients():
    m = RNG.normal(size=(2, 3, 3))
    cp = m @ m.transpose(0, 2, 1) + np.eye(3)
    m = RNG.normal(size=(3, 3))
    cq = m @ m.T + np.eye(3)
    lp, lq = RNG.normal(size=(2, 3)), RNG.normal(size=3)
    k = D.kl_divergence(D.MultivariateNormal(A(lp), A(cp)), D.MultivariateNormal(A(lq), A(cq)))
    kt = TD.kl_divergence(TD.MultivariateNormal(TT(lp), TT(cp)),
                          TD.MultivariateNormal(TT(lq), TT(cq)))
    assert_close(k, kt)
    w, dg = RNG.normal(size=(3, 2)), pos(3)
    for p, q, tp, tq in (
            (D.MultivariateNormal(A(lp), A(cp)), D.LowRankMultivariateNormal(A(lq), A(w), A(dg)),
             TD.MultivariateNormal(TT(lp), TT(cp)),
             TD.LowRankMultivariateNormal(TT(lq), TT(w), TT(dg))),
            (D.LowRankMultivariateNormal(A(lq), A(w), A(dg)), D.MultivariateNormal(A(lp), A(cp)),
             TD.LowRankMultivariateNormal(TT(lq), TT(w), TT(dg)),
             TD.MultivariateNormal(TT(lp), TT(cp))),
            (D.LowRankMultivariateNormal(A(lq), A(w), A(dg)),
             D.LowRankMultivariateNormal(A(lp), A(w), A(dg + 1)),
             TD.LowRankMultivariateNormal(TT(lq), TT(w), TT(dg)),
             TD.LowRankMultivariateNormal(TT(lp), TT(w), TT(dg + 1)))):
        assert_close(D.kl_divergence(p, q), TD.kl_divergence(tp, tq), 1e-9)
    tril = A(np.linalg.cholesky(cq)).requires_grad_()
    loc = A(lq).requires_grad_()
    assert ag.gradcheck(lambda t, mu: D.kl_divergence(
        D.MultivariateNormal(A(lp), A(cp)), D.MultivariateNormal(mu, scale_tril=t.tril())),
        (tril, loc))


def test_kl_dispatch_and_unregistered_pair():
    with pytest.raises(NotImplementedError):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Cauchy(0.0, 1.0))

    class MyNormal(D.Normal):
        pass

    # a subclass dispatches to its base's function
    assert_close(D.kl_divergence(MyNormal(A(0.0), A(1.0)), D.Normal(A(1.0), A(1.0))), 0.5)

    @D.register_kl(MyNormal, MyNormal)
    def _kl(p, q):
        return p.loc * 0 + 42.0

    assert float(D.kl_divergence(MyNormal(A(0.0), A(1.0)), MyNormal(A(1.0), A(1.0)))) == 42.0
    with pytest.raises(TypeError):
        D.register_kl(int, D.Normal)


# ---- validation and errors -------------------------------------------------------------------

def test_validation_errors_match_pytorch():
    for fn in (lambda L, t: L.Normal(t([0.0]), t([-1.0])),
               lambda L, t: L.Exponential(t([0.0])),
               lambda L, t: L.Bernoulli(probs=t([1.5])),
               lambda L, t: L.Categorical(probs=t([[-0.1, 1.1]])),
               lambda L, t: L.Uniform(t([1.0]), t([0.0])),
               lambda L, t: L.Beta(t([1.0]), t([-1.0])),
               lambda L, t: L.MultivariateNormal(t([0.0, 0.0]), t([[1.0, 2.0], [2.0, 1.0]])),
               lambda L, t: L.Categorical(),
               lambda L, t: L.Bernoulli(probs=t([0.5]), logits=t([0.0])),
               lambda L, t: L.Categorical(probs=t(0.5)),
               lambda L, t: L.Independent(L.Normal(t([0.0]), t([1.0])), 2)):
        with pytest.raises(ValueError):
            fn(TD, TT)
        with pytest.raises(ValueError):
            fn(D, A)
    with pytest.raises(ValueError, match="support"):
        D.Exponential(A([1.0])).log_prob(A([-1.0]))
    with pytest.raises(ValueError, match="support"):
        D.Categorical(A([0.5, 0.5])).log_prob(A(2.0))
    with pytest.raises(ValueError):
        D.Normal(A([0.0, 0.0]), A([1.0, 1.0])).log_prob(A([0.0, 0.0, 0.0]))
    # validate_args=False skips the checks
    D.Normal(A([0.0]), A([-1.0]), validate_args=False)
    D.Exponential(A([1.0]), validate_args=False).log_prob(A([-1.0]))


def test_set_default_validate_args():
    try:
        D.Distribution.set_default_validate_args(False)
        d = D.Normal(A([0.0]), A([-1.0]))
        assert not d._validate_args
        with pytest.raises(ValueError):
            D.Normal(A([0.0]), A([-1.0]), validate_args=True)
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Normal(A([0.0]), A([-1.0]))
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args("yes")


def test_binomial_inhomogeneous_entropy_raises():
    with pytest.raises(NotImplementedError):
        D.Binomial(A([2.0, 3.0]), A([0.5, 0.5])).entropy()
    with pytest.raises(NotImplementedError):
        D.Independent(D.Bernoulli(A([[0.5, 0.5]])), 1).enumerate_support()


# ---- constraints -----------------------------------------------------------------------------

CONSTRAINTS = [
    ("real", [0.0, np.inf, np.nan]), ("positive", [0.0, 1.0, -1.0]),
    ("nonnegative", [0.0, 1.0, -1.0]), ("unit_interval", [0.0, 1.0, 1.5]),
    ("boolean", [0.0, 1.0, 0.5]), ("nonnegative_integer", [0.0, 2.0, 1.5, -1.0]),
    ("positive_integer", [0.0, 2.0]), ("simplex", [[0.2, 0.8], [0.5, 0.6]]),
    ("real_vector", [[0.0, 1.0], [np.nan, 0.0]]),
    ("lower_cholesky", [[[1.0, 0.0], [2.0, 3.0]], [[1.0, 1.0], [0.0, 1.0]],
                        [[-1.0, 0.0], [0.0, 1.0]]]),
    ("positive_definite", [[[2.0, 0.5], [0.5, 1.0]], [[1.0, 2.0], [2.0, 1.0]]]),
    ("one_hot", [[0.0, 1.0], [1.0, 1.0]]),
]


@pytest.mark.parametrize("name,value", CONSTRAINTS, ids=[c[0] for c in CONSTRAINTS])
def test_constraints_check(name, value):
    got = getattr(constraints, name).check(A(value))
    expected = getattr(TD.constraints, name).check(TT(value))
    assert got.dtype == ag.bool
    assert got.tolist() == expected.tolist()


def test_parametrised_constraints():
    v = [0.0, 1.0, 2.0, 2.5, 3.0]
    for mk in (lambda c: c.greater_than(1.0), lambda c: c.greater_than_eq(1.0),
               lambda c: c.less_than(2.0), lambda c: c.interval(1.0, 2.5),
               lambda c: c.half_open_interval(1.0, 2.5), lambda c: c.integer_interval(1, 3)):
        assert mk(constraints).check(A(v)).tolist() == mk(TD.constraints).check(TT(v)).tolist()
    assert constraints.real_vector.event_dim == 1 and constraints.simplex.event_dim == 1
    assert constraints.lower_cholesky.event_dim == 2
    assert constraints.is_dependent(D.Uniform(0.0, 1.0).arg_constraints["low"])
    assert repr(constraints.positive) == repr(TD.constraints.positive)


# ---- transforms ------------------------------------------------------------------------------

TRANSFORMS = [
    ("ExpTransform", (), RNG.normal(size=(2, 3))),
    ("SigmoidTransform", (), RNG.normal(size=(2, 3))),
    ("TanhTransform", (), RNG.normal(size=(2, 3))),
    ("SoftplusTransform", (), RNG.normal(size=(2, 3))),
    ("AffineTransform", (0.5, -2.0), RNG.normal(size=(2, 3))),
    ("PowerTransform", (2.5,), pos(2, 3)),
]


@pytest.mark.parametrize("name,args,x", TRANSFORMS, ids=[t[0] for t in TRANSFORMS])
def test_transforms_match_pytorch(name, args, x):
    t = getattr(T, name)(*[A(a) if name == "PowerTransform" else a for a in args])
    tt = getattr(TD.transforms, name)(*[TT(a) if name == "PowerTransform" else a for a in args])
    y = t(A(x))
    yt = tt(TT(x))
    assert_close(y, yt)
    assert_close(t.inv(y), tt.inv(yt))
    assert_close(t.log_abs_det_jacobian(A(x), y), tt.log_abs_det_jacobian(TT(x), yt))
    xg = A(x).requires_grad_()
    assert ag.gradcheck(lambda v: t(v) + t.log_abs_det_jacobian(v, t(v)), (xg,))


def test_softmax_compose_and_independent_transforms():
    x = RNG.normal(size=(2, 4))
    assert_close(T.SoftmaxTransform()(A(x)), TD.transforms.SoftmaxTransform()(TT(x)))
    c = T.ComposeTransform([T.AffineTransform(1.0, 2.0), T.ExpTransform()])
    ct = TD.transforms.ComposeTransform([TD.transforms.AffineTransform(1.0, 2.0),
                                         TD.transforms.ExpTransform()])
    assert_close(c(A(x)), ct(TT(x)))
    assert_close(c.log_abs_det_jacobian(A(x), c(A(x))), ct.log_abs_det_jacobian(TT(x), ct(TT(x))))
    assert_close(c.inv(c(A(x))), A(x))
    it = T.IndependentTransform(T.ExpTransform(), 1)
    assert_close(it.log_abs_det_jacobian(A(x), it(A(x))), A(x.sum(-1)))
    assert T.ExpTransform() == T.ExpTransform() and T.ExpTransform().inv.inv == T.ExpTransform()


def test_stick_breaking_and_lower_cholesky_transforms():
    x = RNG.normal(size=(2, 3))
    t, tt = T.StickBreakingTransform(), TD.transforms.StickBreakingTransform()
    y = t(A(x))
    assert_close(y, tt(TT(x)))
    assert_close(t.inv(y), tt.inv(TT(y.numpy())))
    assert_close(t.log_abs_det_jacobian(A(x), y), tt.log_abs_det_jacobian(TT(x), TT(y.numpy())))
    assert t.forward_shape((2, 3)) == (2, 4) and t.inv.forward_shape((2, 4)) == (2, 3)
    assert ag.gradcheck(lambda v: t.log_abs_det_jacobian(v, t(v)) + t(v)[..., 0],
                        (A(x).requires_grad_(),))
    m = RNG.normal(size=(2, 3, 3))
    lc, tlc = T.LowerCholeskyTransform(), TD.transforms.LowerCholeskyTransform()
    assert_close(lc(A(m)), tlc(TT(m)))
    assert bool(constraints.lower_cholesky.check(lc(A(m))).all())
    assert_close(lc.inv(lc(A(m))), A(np.tril(m)))
    cdf = T.CumulativeDistributionTransform(D.Normal(A(0.5), A(2.0)))
    tcdf = TD.transforms.CumulativeDistributionTransform(TD.Normal(TT(0.5), TT(2.0)))
    assert_close(cdf(A(x)), tcdf(TT(x)))
    assert_close(cdf.log_abs_det_jacobian(A(x), cdf(A(x))),
                 tcdf.log_abs_det_jacobian(TT(x), tcdf(TT(x))))


def test_corr_cholesky_positive_definite_and_tril_utils():
    from torch.distributions import utils as tu

    from autograd.distributions.utils import tril_matrix_to_vec, vec_to_tril_matrix

    m = RNG.normal(size=(2, 4, 4))
    for diag in (-1, 0, 1):
        v = tril_matrix_to_vec(A(m), diag)
        assert_close(v, tu.tril_matrix_to_vec(TT(m), diag))
        assert_close(vec_to_tril_matrix(v, diag), tu.vec_to_tril_matrix(TT(v.numpy()), diag))
    for k in (4, 5):
        with pytest.raises(ValueError):
            vec_to_tril_matrix(A(np.ones(k)))
    x = RNG.normal(size=(2, 6))
    c, tc = T.CorrCholeskyTransform(), TD.transforms.CorrCholeskyTransform()
    y, yt = c(A(x)), tc(TT(x))
    assert_close(y, yt)
    assert bool(constraints.corr_cholesky.check(y).all())
    assert_close(c.inv(y), tc.inv(yt))
    assert_close(c.log_abs_det_jacobian(A(x), y), tc.log_abs_det_jacobian(TT(x), yt), 1e-9)
    assert c.forward_shape((2, 6)) == (2, 4, 4) and c.inverse_shape((2, 4, 4)) == (2, 6)
    assert ag.gradcheck(lambda v: c.log_abs_det_jacobian(v, c(v)) + c(v).sum((-2, -1)),
                        (A(x).requires_grad_(),))
    p, tp = T.PositiveDefiniteTransform(), TD.transforms.PositiveDefiniteTransform()
    assert_close(p(A(m)), tp(TT(m)))
    assert_close(p.inv(p(A(m))), tp.inv(tp(TT(m))), 1e-9)
    assert bool(constraints.positive_definite.check(p(A(m))).all())


def test_cat_and_stack_transforms_and_constraints():
    x = RNG.normal(size=(3, 4))
    tdt = TD.transforms
    c = T.CatTransform([T.ExpTransform(), T.identity_transform, T.SigmoidTransform()], dim=1,
                       lengths=[1, 2, 1])
    tc = tdt.CatTransform([tdt.ExpTransform(), tdt.identity_transform, tdt.SigmoidTransform()],
                          dim=1, lengths=[1, 2, 1])
    s = T.StackTransform([T.ExpTransform(), T.SigmoidTransform(), T.identity_transform,
                          T.AffineTransform(1.0, 2.0)], dim=1)
    ts = tdt.StackTransform([tdt.ExpTransform(), tdt.SigmoidTransform(), tdt.identity_transform,
                             tdt.AffineTransform(1.0, 2.0)], dim=1)
    for t, tt in ((c, tc), (s, ts)):
        y, yt = t(A(x)), tt(TT(x))
        assert_close(y, yt)
        assert_close(t.inv(y), tt.inv(yt))
        assert_close(t.log_abs_det_jacobian(A(x), y), tt.log_abs_det_jacobian(TT(x), yt))
        assert t.bijective
    with pytest.raises(AssertionError):
        c(A(np.ones((3, 5))))
    con = [constraints.positive, constraints.real, constraints.real, constraints.unit_interval]
    tcon = [TD.constraints.positive, TD.constraints.real, TD.constraints.real,
            TD.constraints.unit_interval]
    for mk, tmk in ((lambda v: constraints.stack(v, 1), lambda v: TD.constraints.stack(v, 1)),
                    (lambda v: constraints.cat(v, 1, [1, 1, 1, 1]),
                     lambda v: TD.constraints.cat(v, 1, [1, 1, 1, 1]))):
        assert mk(con).check(A(x)).tolist() == tmk(tcon).check(TT(x)).tolist()
        assert_close(D.biject_to(mk(con))(A(x)), TD.biject_to(tmk(tcon))(TT(x)))
    m = D.MixtureSameFamily(D.Categorical(A([0.3, 0.7])), D.Exponential(A([1.0, 2.0])))
    assert isinstance(m.support, constraints.MixtureSameFamilyConstraint)
    assert m.support.check(A([0.5, -1.0])).tolist() == [True, False]


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
def test_constraint_registry(registry):
    ours, theirs = getattr(D, registry), getattr(TD, registry)
    x = RNG.normal(size=(2, 3))
    x6 = RNG.normal(size=(2, 6))
    for mk in (lambda c: c.real, lambda c: c.positive, lambda c: c.nonnegative,
               lambda c: c.greater_than(2.0), lambda c: c.less_than(-1.0),
               lambda c: c.interval(-1.0, 3.0), lambda c: c.unit_interval,
               lambda c: c.half_open_interval(0.0, 2.0), lambda c: c.real_vector,
               lambda c: c.simplex, lambda c: c.corr_cholesky):
        t, tt = ours(mk(constraints)), theirs(mk(TD.constraints))
        v = x6 if mk(constraints) is constraints.corr_cholesky else x
        y = t(A(v))
        assert_close(y, tt(TT(v)))
        assert bool(mk(constraints).check(y).all())
    if registry == "transform_to":
        m = RNG.normal(size=(2, 3, 3))
        assert_close(ours(constraints.positive_definite)(A(m)),
                     theirs(TD.constraints.positive_definite)(TT(m)))
    with pytest.raises(NotImplementedError):
        ours(constraints.boolean)
    with pytest.raises(TypeError):
        ours.register(int, lambda c: None)


def test_tanh_cache_returns_the_pre_image_exactly():
    t = T.TanhTransform(cache_size=1)
    x = A([20.0, -0.3])
    y = t(x)
    assert t.inv(y) is x  # atanh(tanh(20)) would be inf
    with pytest.raises(ValueError):
        T.Transform(cache_size=2)


def test_transformed_distribution_sac_policy():
    """SAC's squashed Gaussian: log_prob of its own rsample, compared with PyTorch's."""
    mu, sd = RNG.normal(size=(4, 2)), pos(4, 2)
    d = D.TransformedDistribution(D.Normal(A(mu), A(sd)), [T.TanhTransform(cache_size=1)])
    td = TD.TransformedDistribution(TD.Normal(TT(mu), TT(sd)),
                                    [TD.transforms.TanhTransform(cache_size=1)])
    a = A(np.tanh(RNG.normal(size=(4, 2))) * 0.9)
    assert_close(d.log_prob(a), td.log_prob(TT(a.numpy())), 1e-9)
    ind = D.Independent(d, 1)
    assert ind.event_shape == (2,) and ind.batch_shape == (4,)
    assert_close(ind.log_prob(a), TD.Independent(td, 1).log_prob(TT(a.numpy())), 1e-9)
    mu_t = A(mu).requires_grad_()
    pi = D.Independent(D.TransformedDistribution(D.Normal(mu_t, A(sd)),
                                                 [T.TanhTransform(cache_size=1)]), 1)
    act = pi.rsample()
    (pi.log_prob(act) - act.sum(-1)).mean().backward()
    assert mu_t.grad is not None and np.all(np.isfinite(mu_t.grad.numpy()))
    affine = D.TransformedDistribution(D.Normal(A(0.0), A(1.0)),
                                       [T.AffineTransform(A(1.0), A(-2.0))])
    assert_close(affine.cdf(A([0.3])), TD.TransformedDistribution(
        TD.Normal(TT(0.0), TT(1.0)), [TD.transforms.AffineTransform(TT(1.0), TT(-2.0))]
    ).cdf(TT([0.3])))


# ---- multivariate and mixtures -----------------------------------------------------------------

@pytest.mark.parametrize("kind", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_multivariate_normal(kind):
    m = RNG.normal(size=(2, 3, 3))
    c = m @ m.transpose(0, 2, 1) + np.eye(3)
    p = np.linalg.cholesky(c) if kind == "scale_tril" else c
    loc, x = RNG.normal(size=(2, 3)), RNG.normal(size=(4, 2, 3))
    d = D.MultivariateNormal(A(loc), **{kind: A(p)})
    t = TD.MultivariateNormal(TT(loc), **{kind: TT(p)})
    for prop in ("covariance_matrix", "precision_matrix", "scale_tril", "variance", "mean"):
        assert_close(getattr(d, prop), getattr(t, prop))
    assert_close(d.log_prob(A(x)), t.log_prob(TT(x)))
    assert_close(d.entropy(), t.entropy())
    pa = A(p).requires_grad_()
    la = A(loc).requires_grad_()
    proj = (lambda q: q @ q.mT + A(np.eye(3))) if kind != "scale_tril" else (lambda q: q.tril())
    assert ag.gradcheck(lambda q, mu: D.MultivariateNormal(mu, **{kind: proj(q)}).log_prob(
        A(x)), (pa, la))
    e = d.expand((5, 2))
    assert e.batch_shape == (5, 2) and e.sample().shape == (5, 2, 3)


def test_low_rank_multivariate_normal():
    loc, w, dg = RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3, 2)), pos(2, 3)
    x = RNG.normal(size=(4, 2, 3))
    d = D.LowRankMultivariateNormal(A(loc), A(w), A(dg))
    t = TD.LowRankMultivariateNormal(TT(loc), TT(w), TT(dg))
    assert_close(d.log_prob(A(x)), t.log_prob(TT(x)))
    assert_close(d.entropy(), t.entropy())
    assert_close(d.variance, t.variance)
    assert_close(d.covariance_matrix, t.covariance_matrix)
    assert d.rsample((3,)).shape == (3, 2, 3)


def test_mixture_same_family():
    w, mu, sd = simplex(2, 3), RNG.normal(size=(2, 3)), pos(2, 3)
    x = RNG.normal(size=(4, 2))
    d = D.MixtureSameFamily(D.Categorical(A(w)), D.Normal(A(mu), A(sd)))
    t = TD.MixtureSameFamily(TD.Categorical(TT(w)), TD.Normal(TT(mu), TT(sd)))
    assert_close(d.log_prob(A(x)), t.log_prob(TT(x)))
    assert_close(d.cdf(A(x)), t.cdf(TT(x)))
    assert_close(d.mean, t.mean)
    assert_close(d.variance, t.variance)
    assert d.sample((5,)).shape == (5, 2)
    comp = D.Independent(D.Normal(A(RNG.normal(size=(2, 3, 4))), A(pos(2, 3, 4))), 1)
    m = D.MixtureSameFamily(D.Categorical(A(w)), comp)
    assert m.event_shape == (4,) and m.sample((5,)).shape == (5, 2, 4)
    with pytest.raises(ValueError):
        D.MixtureSameFamily(D.Normal(0.0, 1.0), comp)
    with pytest.raises(ValueError):
        D.MixtureSameFamily(D.Categorical(A(simplex(2, 4))), comp)


def test_generalized_pareto():
    """In float32: PyTorch's log_prob compares float64 parameters with a float32 zero."""
    loc, scale = np.array([0.2, -0.3, 0.1]), np.array([1.0, 0.5, 2.0])
    conc, x = np.array([0.3, 0.0, -0.2]), np.array([[0.5, 0.1, 1.0], [2.0, 3.0, 5.0]])
    f32 = [ag.tensor(v.astype(np.float32)) for v in (loc, scale, conc)]
    d = D.GeneralizedPareto(*f32)
    t = TD.GeneralizedPareto(*[torch.tensor(v.astype(np.float32)) for v in (loc, scale, conc)])
    xs, xt = ag.tensor(x.astype(np.float32)), torch.tensor(x.astype(np.float32))
    for meth in ("log_prob", "cdf", "log_survival_function", "log_cdf"):
        assert_close(getattr(d, meth)(xs), getattr(t, meth)(xt), 1e-5)
    u = unit(2, 3).astype(np.float32)
    assert_close(d.icdf(ag.tensor(u)), t.icdf(torch.tensor(u)), 1e-5)
    for prop in ("mean", "variance", "mode"):
        assert_close(getattr(d, prop), getattr(t, prop), 1e-6)
    assert_close(d.entropy(), t.entropy(), 1e-6)
    ag.manual_seed(0)
    s = d.sample((100,))
    assert bool(d.support.check(s).all())
    # (at concentration 0 the formula switches to the exponential's: no finite differences)
    params = [A(loc).requires_grad_(), A(scale).requires_grad_(),
              A([0.3, 0.1, -0.2]).requires_grad_()]
    assert ag.gradcheck(lambda *p: D.GeneralizedPareto(*p).log_prob(A(x)), params)


@pytest.mark.parametrize("kind", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_wishart(kind):
    m = RNG.normal(size=(2, 3, 3))
    c = m @ m.transpose(0, 2, 1) + np.eye(3)
    p = np.linalg.cholesky(c) if kind == "scale_tril" else c
    d = D.Wishart(A([4.0, 5.5]), **{kind: A(p)})
    t = TD.Wishart(TT([4.0, 5.5]), **{kind: TT(p)})
    x = np.array([w @ w.T + np.eye(3) for w in RNG.normal(size=(2, 3, 3))])
    for prop in ("mean", "variance", "mode", "covariance_matrix", "precision_matrix",
                 "scale_tril"):
        assert_close(getattr(d, prop), getattr(t, prop))
    assert_close(d.log_prob(A(x)), t.log_prob(TT(x)), 1e-9)
    assert_close(d.entropy(), t.entropy(), 1e-9)
    assert_close(D.ExponentialFamily.entropy(d), t.entropy(), 1e-9)
    df = A([4.0, 5.5]).requires_grad_()
    pa = A(p).requires_grad_()
    proj = (lambda q: q @ q.mT + A(np.eye(3))) if kind != "scale_tril" else (lambda q: q.tril())
    assert ag.gradcheck(lambda v, q: D.Wishart(v, **{kind: proj(q)}).log_prob(A(x)), (df, pa))
    with pytest.raises(ValueError):
        D.Wishart(A(1.5), covariance_matrix=A(c[0]))


def test_wishart_draws():
    c = np.array([[2.0, 0.5], [0.5, 1.0]])
    d = D.Wishart(A(5.0), covariance_matrix=A(c))
    ag.manual_seed(0)
    s = d.rsample((N // 5,)).numpy()
    se = np.sqrt(d.variance.numpy() / (N // 5))
    assert np.all(np.abs(s.mean(0) - d.mean.numpy()) < 6 * se)
    np.testing.assert_allclose(s.var(0), d.variance.numpy(), rtol=0.1)
    df = A(5.0).requires_grad_()
    ag.manual_seed(1)
    D.Wishart(df, covariance_matrix=A(c)).rsample((N // 5,)).mean(0)[0, 0].backward()
    assert float(df.grad) == pytest.approx(c[0, 0], rel=0.05)  # d E[X00] / d df = C00
    assert d.expand((3,)).rsample().shape == (3, 2, 2)


def test_lkj_cholesky():
    d, t = D.LKJCholesky(4, A([0.5, 2.0])), TD.LKJCholesky(4, TT([0.5, 2.0]))
    assert d.event_shape == (4, 4) and d.batch_shape == (2,)
    ag.manual_seed(0)
    s = d.sample((3,))
    assert s.shape == (3, 2, 4, 4) and bool(constraints.corr_cholesky.check(s).all())
    assert_close(d.log_prob(s), t.log_prob(TT(s.numpy())))
    conc = A([0.5, 2.0]).requires_grad_()
    assert ag.gradcheck(lambda c: D.LKJCholesky(4, c).log_prob(s), (conc,))
    # an off-diagonal correlation of LKJ(eta) in dimension 3 has variance 1 / (2 eta + 2)
    ag.manual_seed(1)
    lo = D.LKJCholesky(3, A(2.0)).sample((N // 5,)).numpy()
    corr = (lo @ lo.transpose(0, 2, 1))[:, 1, 0]
    assert abs(corr.mean()) < 6 * math.sqrt(1 / 6 / (N // 5))
    assert corr.var() == pytest.approx(1 / 6, rel=0.05)
    assert d.expand((3, 2)).sample().shape == (3, 2, 4, 4)
    with pytest.raises(ValueError):
        D.LKJCholesky(1)


def test_multinomial():
    p, x = simplex(2, 3), np.array([[1.0, 2.0, 2.0], [0.0, 5.0, 0.0]])
    d, t = D.Multinomial(5, A(p)), TD.Multinomial(5, TT(p))
    assert d.event_shape == (3,) and d.batch_shape == (2,)
    assert_close(d.log_prob(A(x)), t.log_prob(TT(x)))
    assert_close(d.mean, t.mean)
    assert_close(d.variance, t.variance)
    # PyTorch takes lgamma(total_count + 1) of an int64 tensor, in float32
    assert_close(d.entropy(), t.entropy(), 1e-6)
    ag.manual_seed(0)
    s = d.sample((N // 10,))
    assert s.shape == (N // 10, 2, 3) and bool((s.sum(-1) == 5).all())
    se = np.sqrt(d.variance.numpy() / (N // 10))
    assert np.all(np.abs(s.numpy().mean(0) - d.mean.numpy()) < 6 * se)
    pa = A(p).requires_grad_()
    assert ag.gradcheck(lambda q: D.Multinomial(5, logits=q).log_prob(A(x)), (pa,))
    with pytest.raises(ValueError):
        D.Multinomial(5, A(p)).log_prob(A([[1.0, 2.0, 3.0], [0.0, 5.0, 0.0]]))


def test_relaxed_rsample_gradients():
    logits = A(RNG.normal(size=(2, 3))).requires_grad_()

    def draw(q):
        ag.manual_seed(1)
        return D.RelaxedOneHotCategorical(A(0.5), logits=q).rsample((2,))

    assert ag.gradcheck(draw, (logits,))
    probs = A(unit(3)).requires_grad_()

    def draw_b(q):
        ag.manual_seed(2)
        return D.RelaxedBernoulli(A(0.3), probs=q).rsample((2,))

    assert ag.gradcheck(draw_b, (probs,))


def test_exponential_family_entropy_by_log_normalizer():
    """ExponentialFamily.entropy (Bregman form) agrees with the closed forms."""
    for d in (D.Normal(A([0.3, 1.0]), A([1.5, 0.4])), D.Gamma(A([2.0, 0.5]), A([1.0, 3.0])),
              D.Exponential(A([0.7]))):
        assert_close(D.ExponentialFamily.entropy(d), d.entropy(), 1e-9)


# ---- PyTorch's examples ------------------------------------------------------------------------

def test_import_as_torch():
    import autograd as torch_  # noqa: ICN001

    assert torch_.distributions.Categorical is D.Categorical
    from autograd.distributions import Categorical, Normal, kl_divergence  # noqa: F401


def test_pytorch_module_paths():
    """Every name of torch.distributions and of its modules is here, at the same path."""
    import importlib

    assert not set(TD.__all__) - set(dir(D))
    for mod in ("normal", "categorical", "bernoulli", "multivariate_normal", "independent",
                "transformed_distribution", "one_hot_categorical", "kl", "transforms",
                "constraints", "constraint_registry", "utils", "distribution", "exp_family",
                "relaxed_categorical", "relaxed_bernoulli", "wishart", "von_mises",
                "lkj_cholesky", "mixture_same_family", "studentT", "log_normal"):
        theirs = importlib.import_module("torch.distributions." + mod)
        ours = importlib.import_module("autograd.distributions." + mod)
        missing = [n for n in getattr(theirs, "__all__", []) if not hasattr(ours, n)]
        assert not missing, (mod, missing)
    from autograd.distributions.normal import Normal

    assert Normal is D.Normal


def test_reinforce_example_pattern_trains():
    """examples/reinforcement_learning/reinforce.py on a two-armed bandit: arm 1 pays 1."""
    ag.manual_seed(0)

    class Policy(nn.Module):
        def __init__(self):
            super().__init__()
            self.affine1 = nn.Linear(4, 16)
            self.affine2 = nn.Linear(16, 2)

        def forward(self, x):
            return nn.functional.softmax(self.affine2(nn.functional.relu(self.affine1(x))), dim=1)

    policy = Policy()
    opt = optim.Adam(policy.parameters(), lr=1e-2)
    state = ag.ones(1, 4)
    for _ in range(150):
        log_probs, rewards = [], []
        for _ in range(8):
            probs = policy(state)
            m = D.Categorical(probs)
            action = m.sample()
            log_probs.append(m.log_prob(action))
            rewards.append(float(action.item() == 1))
        r = ag.tensor(rewards)
        r = (r - r.mean()) / (r.std() + 1e-6) if float(r.std()) > 0 else r * 0
        loss = ag.cat([-lp * ri for lp, ri in zip(log_probs, r)]).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(policy(state)[0, 1]) > 0.95


def test_vae_pattern_gradients():
    """rsample + kl_divergence to the prior: gradients reach the encoder outputs."""
    mu = A(RNG.normal(size=(3, 2))).requires_grad_()
    logvar = A(RNG.normal(size=(3, 2))).requires_grad_()
    q = D.Normal(mu, (0.5 * logvar).exp())
    prior = D.Normal(ag.zeros_like(mu), ag.ones_like(mu))
    z = q.rsample()
    loss = D.kl_divergence(q, prior).sum() + (z ** 2).sum()
    loss.backward()
    assert mu.grad is not None and logvar.grad is not None
    tq = TD.Normal(TT(mu.detach().numpy()), (0.5 * TT(logvar.detach().numpy())).exp())
    assert_close(D.kl_divergence(q, prior), TD.kl_divergence(tq, TD.Normal(0.0, 1.0)))


def test_forward_mode_matches_reverse_mode():
    import autograd.forward_ad as fwAD

    x = A([0.3, 1.7])
    value = A([0.5, 1.5])

    def f(v):
        return (D.Gamma(v, 2.0).log_prob(value) + D.Normal(0.0, 1.0).icdf(v * 0.3)
                + D.Bernoulli(logits=v).entropy() + D.Beta(v, 1.5).entropy())

    with fwAD.dual_level():
        tangent = fwAD.unpack_dual(f(fwAD.make_dual(x, ag.ones(2, dtype=F64)))).tangent
    xr = x.clone().requires_grad_()
    f(xr).sum().backward()
    assert_close(tangent, xr.grad)


CUDA_BUILDS = [
    lambda d: D.Normal(d([0.3, -1.0]), d([1.0, 2.0])),
    lambda d: D.Gamma(d([0.7, 2.0]), d([1.0, 3.0])),
    lambda d: D.Beta(d([0.7, 2.0]), d([1.5, 3.0])),
    lambda d: D.Dirichlet(d([[0.7, 2.0, 1.0]])),
    lambda d: D.StudentT(d([3.0, 5.0]), d([0.0, 1.0]), d([1.0, 2.0])),
    lambda d: D.Categorical(logits=d([[0.3, -1.0, 2.0]])),
    lambda d: D.Bernoulli(logits=d([0.3, -1.0])),
    lambda d: D.Poisson(d([0.3, 4.0])),
    lambda d: D.MultivariateNormal(d([0.0, 1.0]), d([[2.0, 0.5], [0.5, 1.0]])),
    lambda d: D.TransformedDistribution(D.Normal(d([0.3, -1.0]), d([1.0, 2.0])),
                                        [T.TanhTransform(cache_size=1)]),
]


# the stand-in's RandomState has no standard_gamma / poisson (CuPy's has): those families
# are drawn on the CPU here, their densities and gradients still run on the device
_SIM_DRAWS = {"normal", "categorical", "bernoulli", "mvn", "tanh"}


@pytest.mark.parametrize("name,build", list(zip(
    ["normal", "gamma", "beta", "dirichlet", "studentt", "categorical", "bernoulli", "poisson",
     "mvn", "tanh"], CUDA_BUILDS)), ids=lambda v: v if isinstance(v, str) else "")
def test_cuda_stand_in(name, build, sim):
    """On device tensors (the strict CuPy stand-in): samples stay on the device, and
    log_prob / entropy / gradients agree with the CPU's."""
    def dev(v):
        return A(v).to("cuda").requires_grad_()

    def cpu(v):
        return A(v).requires_grad_()

    d, c = build(dev), build(cpu)
    ag.manual_seed(0)
    if name in _SIM_DRAWS:
        s = d.sample((3,))
        assert s.device.type == "cuda"
        if d.has_rsample:
            d.rsample((2,)).sum().backward()
            d = build(dev)  # a fresh graph (MVN's Cholesky factor is saved for backward)
        v = A(s.cpu().numpy())
    else:
        v = c.sample((3,))
    lp = d.log_prob(v.to("cuda"))
    assert lp.device.type == "cuda"
    assert_close(lp.cpu(), c.log_prob(v))
    lp.sum().backward()
    try:
        expected = c.entropy()
    except NotImplementedError:
        return
    assert_close(d.entropy().cpu(), expected, 1e-9)


def test_entropy_keeps_its_graph_after_sample():
    """``sample()`` first computes ``probs`` inside no_grad; the cached value must still
    carry the graph (PyTorch's lazy_property computes under enable_grad)."""
    logits = ag.tensor([[0.5, -1.0, 2.0]], requires_grad=True)
    d = D.Categorical(logits=logits)
    d.sample()
    d.entropy().sum().backward()
    t = torch.tensor([[0.5, -1.0, 2.0]], requires_grad=True)
    td = torch.distributions.Categorical(logits=t)
    td.sample()
    td.entropy().sum().backward()
    np.testing.assert_allclose(logits.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-7)
    b = D.Bernoulli(logits=ag.zeros(2, requires_grad=True))
    b.sample()
    assert b.entropy().requires_grad


def test_repr_shows_sizes_like_pytorch():
    assert repr(D.Normal(ag.zeros(3), ag.ones(3))) == \
        "Normal(loc: torch.Size([3]), scale: torch.Size([3]))"
    assert repr(D.Normal(0.0, 1.0)) == "Normal(loc: 0.0, scale: 1.0)"
    assert isinstance(D.Categorical(logits=ag.zeros(2, 3)).param_shape, ag.Size)
