"""Random sampling (autograd/ops/sampling.py): the draws are checked statistically (means
and variances from a fixed seed, within several standard errors), and dtypes, shapes,
errors, gradients, ``generator=`` and ``manual_seed`` determinism against PyTorch's
behaviour; the random numbers themselves differ from PyTorch's (another generator).
Window functions are deterministic and compared with PyTorch's values."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd as ag

torch = pytest.importorskip("torch")

N = 200_000  # draws per statistical check


def close(value, expected, sd, n=N, k=6.0):
    """``value`` (a sample mean) within ``k`` standard errors of ``expected``."""
    assert abs(float(value) - expected) <= k * sd / math.sqrt(n), (float(value), expected)


def same_error(fn_ag, fn_torch):
    try:
        fn_torch()
    except Exception as e:  # noqa: BLE001 - the class is compared
        with pytest.raises(type(e)):
            fn_ag()
        return
    fn_ag()
    pytest.fail("PyTorch does not raise here")


def dt(t):
    return str(t.dtype).split(".")[-1]


# ---- bernoulli ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_bernoulli_statistics_and_dtype(dtype):
    ag.manual_seed(0)
    p = np.where(np.arange(N) % 2 == 0, 0.2, 0.7).astype(dtype)
    y = ag.bernoulli(ag.tensor(p))
    assert dt(y) == dtype and y.shape == (N,)
    v = y.numpy().astype(np.float64)
    assert set(np.unique(v)) <= {0.0, 1.0}
    close(v[::2].mean(), 0.2, 0.4, N // 2)
    close(v[1::2].mean(), 0.7, math.sqrt(0.21), N // 2)
    yp = ag.bernoulli(ag.zeros(N, dtype=getattr(ag, dtype)), 0.3)  # p= for every element
    close(yp.numpy().astype(np.float64).mean(), 0.3, math.sqrt(0.21))


def test_bernoulli_certain_and_errors():
    x = ag.tensor([0.0, 1.0, 0.0, 1.0])
    assert ag.bernoulli(x).tolist() == [0.0, 1.0, 0.0, 1.0]
    assert ag.bernoulli(ag.tensor([1, 2]), 1.0).dtype == ag.int64  # p=: any dtype
    for bad in ([0.5, 1.5], [-0.1], [float("nan")]):
        same_error(lambda b=bad: ag.bernoulli(ag.tensor(b)),
                   lambda b=bad: torch.bernoulli(torch.tensor(b)))
    same_error(lambda: ag.bernoulli(ag.tensor([0, 1])), lambda: torch.bernoulli(
        torch.tensor([0, 1])))
    same_error(lambda: ag.bernoulli(ag.ones(2), 1.5), lambda: torch.bernoulli(torch.ones(2),
                                                                             1.5))


def test_bernoulli_gradient_is_zero():
    x = ag.tensor([0.2, 0.5, 0.9], requires_grad=True)
    y = ag.bernoulli(x)
    assert y.requires_grad
    (y * ag.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_bernoulli_inplace():
    ag.manual_seed(1)
    x = ag.zeros(N)
    assert x.bernoulli_(0.25) is x
    close(x.mean(), 0.25, math.sqrt(0.25 * 0.75))
    p = ag.tensor(np.where(np.arange(N) % 2 == 0, 0.1, 0.9))
    z = ag.zeros(N, dtype=ag.int64).bernoulli_(p)
    assert z.dtype == ag.int64
    close(z.numpy()[1::2].mean(), 0.9, 0.3, N // 2)
    same_error(lambda: ag.zeros(2).bernoulli_(2.0), lambda: torch.zeros(2).bernoulli_(2.0))
    same_error(lambda: ag.zeros(2).bernoulli_(ag.tensor([1, 0])),
               lambda: torch.zeros(2).bernoulli_(torch.tensor([1, 0])))


# ---- poisson / binomial ------------------------------------------------------------------


@pytest.mark.parametrize("rate", [0.5, 4.0, 50.0])
def test_poisson(rate):
    ag.manual_seed(2)
    y = ag.poisson(ag.full((N,), rate))
    assert y.dtype == ag.float32
    v = y.numpy().astype(np.float64)
    assert (v == np.round(v)).all() and (v >= 0).all()
    close(v.mean(), rate, math.sqrt(rate))
    close(((v - rate) ** 2).mean(), rate, math.sqrt(2 * rate ** 2 + rate))


def test_poisson_errors_and_gradient():
    same_error(lambda: ag.poisson(ag.tensor([1.0, -1.0])),
               lambda: torch.poisson(torch.tensor([1.0, -1.0])))
    same_error(lambda: ag.poisson(ag.tensor([1, 2])), lambda: torch.poisson(
        torch.tensor([1, 2])))
    assert ag.poisson(ag.zeros(3, dtype=ag.float64)).tolist() == [0.0, 0.0, 0.0]
    x = ag.tensor([1.0, 3.0], requires_grad=True)
    ag.poisson(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_binomial():
    ag.manual_seed(3)
    n, p = 20.0, 0.3
    y = ag.binomial(ag.full((N,), n), ag.tensor(p))
    assert y.dtype == ag.float32 and y.shape == (N,)
    v = y.numpy().astype(np.float64)
    close(v.mean(), n * p, math.sqrt(n * p * (1 - p)))
    assert v.min() >= 0 and v.max() <= n
    y64 = ag.binomial(ag.zeros(3, dtype=ag.float64), ag.ones(3, dtype=ag.float64))
    assert y64.dtype == ag.float64 and y64.tolist() == [0.0, 0.0, 0.0]
    same_error(lambda: ag.binomial(ag.tensor([1, 2]), ag.tensor([0.5, 0.5])),
               lambda: torch.binomial(torch.tensor([1, 2]), torch.tensor([0.5, 0.5])))


# ---- multinomial -------------------------------------------------------------------------


def test_multinomial_with_replacement():
    ag.manual_seed(4)
    w = np.array([0.1, 0.0, 0.6, 0.3, 1.0])
    p = w / w.sum()
    y = ag.multinomial(ag.tensor(w), N, replacement=True)
    assert y.dtype == ag.int64 and y.shape == (N,)
    freq = np.bincount(y.numpy(), minlength=5) / N
    assert freq[1] == 0
    for f, q in zip(freq, p):
        close(f, q, math.sqrt(q * (1 - q)))
    y2 = ag.multinomial(ag.tensor(np.stack([w, w[::-1]])), 1000, True)
    assert y2.shape == (2, 1000)
    assert (y2.numpy()[0] != 1).all() and (y2.numpy()[1] != 3).all()


def test_multinomial_without_replacement():
    ag.manual_seed(5)
    w = np.array([0.1, 0.0, 0.6, 0.3])
    rows = 40_000
    y = ag.multinomial(ag.tensor(np.tile(w, (rows, 1))), 3).numpy()
    assert y.shape == (rows, 3)
    assert (np.sort(y, axis=1)[:, 1:] != np.sort(y, axis=1)[:, :-1]).all()  # distinct
    assert (y != 1).all()  # the zero weight never drawn (3 positive weights, 3 samples)
    first = np.bincount(y[:, 0], minlength=4) / rows
    for f, q in zip(first, w):
        close(f, q, math.sqrt(q * (1 - q)), rows)
    # the second draw: P(second = j) = sum_i p_i p_j / (1 - p_i)
    second = np.bincount(y[:, 1], minlength=4) / rows
    exp2 = [sum(w[i] * w[j] / (1 - w[i]) for i in range(4) if i != j) for j in range(4)]
    for f, q in zip(second, exp2):
        close(f, q, math.sqrt(q * (1 - q)), rows)


@pytest.mark.parametrize("args", [
    ([0.0, 1.0, -1.0], 1, False), ([0.0, 1.0, float("inf")], 1, False),
    ([0.0, 1.0, float("nan")], 1, False), ([0.0, 0.0], 1, False), ([1, 2], 1, False),
    ([[[1.0]]], 1, False), ([1.0, 1.0, 1.0], 0, False), ([1.0, 1.0, 1.0], 4, False),
    ([1.0, 1.0, 1.0], -1, True),
])
def test_multinomial_errors(args):
    w, n, rep = args
    same_error(lambda: ag.multinomial(ag.tensor(w), n, rep),
               lambda: torch.multinomial(torch.tensor(w), n, rep))


def test_multinomial_shapes():
    assert ag.multinomial(ag.ones(0, 3), 2).shape == torch.multinomial(torch.ones(0, 3),
                                                                       2).shape
    assert ag.multinomial(ag.tensor([0.0, 1.0, 0.0]), 1).tolist() == [1]
    assert ag.multinomial(ag.eye(3), 1).tolist() == [[0], [1], [2]]
    # fewer positive weights than samples without replacement: PyTorch fills up with
    # zero-weight categories instead of raising
    y = ag.multinomial(ag.tensor([0.0, 1.0, 0.0]), 2).tolist()
    assert y[0] == 1 and y[1] in (0, 2)
    assert ag.multinomial(ag.tensor([0.0, 2.0], dtype=ag.float16), 3, True).tolist() == [1] * 3


# ---- normal ------------------------------------------------------------------------------


def test_normal_overloads():
    ag.manual_seed(6)
    m = ag.full((N,), 2.0)
    y = ag.normal(m, 3.0)  # tensor, float
    close(y.mean(), 2.0, 3.0)
    close(((y - 2.0) ** 2).mean(), 9.0, 9.0 * math.sqrt(2))
    y = ag.normal(-1.0, ag.full((N,), 0.5, dtype=ag.float64))  # float, tensor
    assert y.dtype == ag.float64
    close(y.mean(), -1.0, 0.5)
    s = ag.tensor(np.where(np.arange(N) % 2 == 0, 1.0, 4.0))
    y = ag.normal(ag.zeros(N, dtype=ag.float64), s).numpy()  # tensor, tensor
    close(y[::2].std(), 1.0, 1 / math.sqrt(2), N // 2)
    close(y[1::2].std(), 4.0, 4 / math.sqrt(2), N // 2)
    y = ag.normal(1.0, 2.0, (N,))  # float, float, size
    assert y.dtype == ag.float32 and y.shape == (N,)
    close(y.mean(), 1.0, 2.0)
    y = ag.normal(0.0, 1.0, size=(2, 3), dtype=ag.float64, requires_grad=True)
    assert y.dtype == ag.float64 and y.shape == (2, 3) and y.requires_grad
    b = ag.normal(ag.zeros(2, 1), ag.ones(1, 3))  # broadcast
    assert b.shape == (2, 3)


def test_normal_dtypes_errors_gradients():
    for mean, std in ((torch.zeros(2, dtype=torch.float16), torch.ones(2)),
                      (torch.zeros(2, dtype=torch.float64), torch.ones(2)),
                      (torch.zeros(2), 2.0), (1.0, torch.ones(2, dtype=torch.float16))):
        t = torch.normal(mean, std)
        a = ag.normal(ag.tensor(mean.numpy()) if isinstance(mean, torch.Tensor) else mean,
                      ag.tensor(std.numpy()) if isinstance(std, torch.Tensor) else std)
        assert dt(a) == dt(t) and tuple(a.shape) == tuple(t.shape)
    same_error(lambda: ag.normal(ag.zeros(2), ag.tensor([1.0, -1.0])),
               lambda: torch.normal(torch.zeros(2), torch.tensor([1.0, -1.0])))
    same_error(lambda: ag.normal(ag.zeros(2), -1.0), lambda: torch.normal(torch.zeros(2), -1.0))
    same_error(lambda: ag.normal(ag.tensor([0, 1]), 1.0), lambda: torch.normal(
        torch.tensor([0, 1]), 1.0))
    same_error(lambda: ag.normal(ag.zeros(2), ag.ones(3)), lambda: torch.normal(
        torch.zeros(2), torch.ones(3)))
    y = ag.normal(ag.tensor([0.0, float("inf"), float("nan")]), 0.0)
    t = torch.normal(torch.tensor([0.0, float("inf"), float("nan")]), 0.0)
    np.testing.assert_array_equal(y.numpy(), t.numpy())
    m = ag.tensor([1.0, 2.0], requires_grad=True)
    s = ag.tensor([1.0, 3.0], requires_grad=True)
    ag.normal(m, s).sum().backward()  # PyTorch's gradients are zero (not reparametrised)
    assert m.grad.tolist() == [0.0, 0.0] and s.grad.tolist() == [0.0, 0.0]


# ---- in-place fills ----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fills_statistics(dtype):
    ag.manual_seed(7)
    d = getattr(ag, dtype)
    x = ag.empty(N, dtype=d)
    assert x.normal_(1.5, 2.0) is x and x.dtype == d
    close(x.mean(), 1.5, 2.0)
    v = x.uniform_(-1.0, 3.0).numpy()
    assert v.min() >= -1.0 and v.max() < 3.0
    close(v.mean(), 1.0, 4 / math.sqrt(12))
    v = x.exponential_(2.0).numpy().astype(np.float64)
    assert v.min() >= 0
    close(v.mean(), 0.5, 0.5)
    v = x.geometric_(0.25).numpy().astype(np.float64)
    assert v.min() >= 1 and (v == np.round(v)).all()
    close(v.mean(), 4.0, math.sqrt(0.75) / 0.25)
    v = x.log_normal_(0.0, 0.5).numpy().astype(np.float64)
    close(v.mean(), math.exp(0.125), math.sqrt((math.exp(0.25) - 1) * math.exp(0.25)))
    v = x.cauchy_(1.0, 2.0).numpy().astype(np.float64)
    close(np.median(v), 1.0, 2.0 * math.pi / 2)  # the median's standard error
    assert abs(np.mean(np.abs(v - 1.0) < 2.0) - 0.5) < 0.01  # half within one scale
    v = x.random_(3, 7).numpy()
    assert set(np.unique(v)) == {3.0, 4.0, 5.0, 6.0}
    v = x.random_(5).numpy()
    assert set(np.unique(v)) == {0.0, 1.0, 2.0, 3.0, 4.0}
    v = x.random_().numpy()
    assert v.min() >= 0 and (v == np.round(v)).all() and v.max() <= 2 ** (
        24 if dtype == "float32" else 53)


def test_random_integer_dtypes():
    ag.manual_seed(8)
    assert set(np.unique(ag.empty(1000, dtype=ag.bool).random_().numpy())) == {False, True}
    v = ag.empty(N, dtype=ag.uint8).random_().numpy()
    assert v.min() == 0 and v.max() == 255
    v = ag.empty(10, dtype=ag.int64).geometric_(0.5)
    assert v.dtype == ag.int64
    r = ag.randint_like(ag.empty(N, dtype=ag.int32), -2, 3)
    assert r.dtype == ag.int32 and set(np.unique(r.numpy())) == {-2, -1, 0, 1, 2}
    r = ag.randint_like(ag.empty(5), 4)
    assert r.dtype == ag.float32 and r.numpy().max() < 4
    assert ag.randint_like(ag.empty(3, dtype=ag.int64), 3, dtype=ag.float64).dtype == ag.float64


@pytest.mark.parametrize("case", [
    ("normal_", (0.0, -1.0), "float32"), ("normal_", (), "int64"),
    ("uniform_", (3.0, 2.0), "float32"), ("uniform_", (), "int64"),
    ("exponential_", (0.0,), "float32"), ("exponential_", (-1.0,), "float32"),
    ("exponential_", (), "int64"), ("cauchy_", (), "int64"), ("cauchy_", (0.0, -1.0),
                                                                "float32"),
    ("geometric_", (0.0,), "float32"), ("geometric_", (1.0,), "float32"),
    ("geometric_", (0.5,), "bool"), ("log_normal_", (0.0, 0.0), "float32"),
    ("log_normal_", (), "int64"), ("random_", (4, 3), "float32"),
    ("random_", (0, 300), "uint8"), ("random_", (-1, 3), "uint8"), ("random_", (0, 3), "bool"),
])
def test_fill_errors(case):
    name, args, dtype = case
    same_error(lambda: getattr(ag.empty(2, dtype=getattr(ag, dtype)), name)(*args),
               lambda: getattr(torch.empty(2, dtype=getattr(torch, dtype)), name)(*args))


def test_randint_like_errors():
    same_error(lambda: ag.randint_like(ag.empty(2, dtype=ag.bool), 4),
               lambda: torch.randint_like(torch.empty(2, dtype=torch.bool), 4))
    same_error(lambda: ag.randint_like(ag.empty(2), 4, 4),
               lambda: torch.randint_like(torch.empty(2), 4, 4))


def test_fills_in_a_graph():
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    y.normal_()
    (y * 1.0).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]  # overwritten values: a zero gradient
    same_error(lambda: ag.ones(2, requires_grad=True).uniform_(),
               lambda: torch.ones(2, requires_grad=True).uniform_())


# ---- determinism: manual_seed and generator= ---------------------------------------------


DRAWS = [
    lambda g: ag.bernoulli(ag.full((50,), 0.5), generator=g),
    lambda g: ag.poisson(ag.full((50,), 3.0), generator=g),
    lambda g: ag.binomial(ag.full((50,), 9.0), ag.full((50,), 0.4), generator=g),
    lambda g: ag.multinomial(ag.ones(10), 5, generator=g),
    lambda g: ag.multinomial(ag.ones(10), 50, True, generator=g),
    lambda g: ag.normal(ag.zeros(50), 1.0, generator=g),
    lambda g: ag.normal(0.0, 1.0, (50,), generator=g),
    lambda g: ag.empty(50).normal_(generator=g),
    lambda g: ag.empty(50).uniform_(generator=g),
    lambda g: ag.empty(50).exponential_(generator=g),
    lambda g: ag.empty(50).cauchy_(generator=g),
    lambda g: ag.empty(50).geometric_(0.3, generator=g),
    lambda g: ag.empty(50).log_normal_(generator=g),
    lambda g: ag.empty(50).random_(0, 100, generator=g),
    lambda g: ag.empty(50).bernoulli_(0.5, generator=g),
    lambda g: ag.randint_like(ag.empty(50), 100, generator=g),
]


@pytest.mark.parametrize("draw", DRAWS)
def test_seeded_determinism(draw):
    ag.manual_seed(123)
    a = draw(None).numpy()
    ag.manual_seed(123)
    b = draw(None).numpy()
    np.testing.assert_array_equal(a, b)
    g = ag.Generator().manual_seed(7)
    c = draw(g).numpy()
    ag.rand(10)  # the default generator does not disturb g
    g.manual_seed(7)
    np.testing.assert_array_equal(c, draw(g).numpy())
    assert not np.array_equal(draw(None).numpy(), draw(None).numpy()) or c.std() == 0


# ---- window functions --------------------------------------------------------------------

WINDOWS = ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
           "kaiser_window"]


@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("n", [0, 1, 2, 5, 8, 33])
@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("dtype", [None, "float64", "float16"])
def test_windows(name, n, periodic, dtype):
    kw = {} if dtype is None else {"dtype": getattr(ag, dtype)}
    tkw = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    a = getattr(ag, name)(n, periodic, **kw)
    t = getattr(torch, name)(n, periodic, **tkw)
    assert dt(a) == dt(t) and tuple(a.shape) == tuple(t.shape)
    tol = 2e-3 if dtype == "float16" else (1e-6 if dtype is None else 1e-12)
    np.testing.assert_allclose(a.numpy().astype(np.float64), t.numpy().astype(np.float64),
                               rtol=tol, atol=tol)


def test_window_parameters_and_errors():
    np.testing.assert_allclose(ag.hamming_window(10, False, 0.6, 0.3).numpy(),
                               torch.hamming_window(10, False, 0.6, 0.3).numpy(), atol=1e-6)
    np.testing.assert_allclose(ag.kaiser_window(10, True, 5.0).numpy(),
                               torch.kaiser_window(10, True, 5.0).numpy(), rtol=1e-5)
    w = ag.hann_window(4, requires_grad=True)
    assert w.requires_grad
    for name in WINDOWS:
        same_error(lambda n=name: getattr(ag, n)(-1), lambda n=name: getattr(torch, n)(-1))
        same_error(lambda n=name: getattr(ag, n)(4, dtype=ag.int64),
                   lambda n=name: getattr(torch, n)(4, dtype=torch.int64))
