"""PyTorch's random streams on the CPU (``autograd.random``): the same seed gives the same
numbers as ``torch.manual_seed`` for the creation functions, the in-place samplers, dropout
masks, ``nn.init``, the modules' default initialisation, ``random_split`` and a shuffling
DataLoader. The generator itself is checked against the C++ standard's value for
``std::mt19937``, without PyTorch."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import autograd as ag
import autograd.distributions as ours
import autograd.utils.data as agdata
import nn
import nn.functional as F
import nn.init as init
from autograd._numeric import fma as _fma
from autograd.random import Generator, _TorchStream
from autograd.utils.data import (
    DataLoader,
    RandomSampler,
    SubsetRandomSampler,
    TensorDataset,
    random_split,
)

SEEDS = [0, 7, 2**40 + 3]


def test_mt19937_is_the_standard_engine():
    # [rand.predef]: the 10000th draw of a default-seeded (5489) std::mt19937 is 4123659995
    assert int(_TorchStream(5489)._u32(10000)[-1]) == 4123659995
    # seeds are taken modulo 2**32, as PyTorch's CPU generator does
    assert np.array_equal(_TorchStream(2**32 + 5)._u32(8), _TorchStream(5)._u32(8))


def test_state_round_trip_keeps_the_cached_normal():
    ag.manual_seed(3)
    ag.randn(1)  # leaves the second Box-Muller value cached
    st = ag.get_rng_state()
    a = [ag.randn(1).item(), ag.rand(2).tolist(), ag.randn(3).tolist()]
    ag.set_rng_state(st)
    b = [ag.randn(1).item(), ag.rand(2).tolist(), ag.randn(3).tolist()]
    assert a == b


def test_generators_are_independent():
    g = Generator().manual_seed(11)
    ag.manual_seed(11)
    x = ag.rand(5, generator=g)
    ag.rand(3)  # the global stream moves, g does not
    assert ag.rand(5).tolist() != x.tolist()
    g2 = Generator().manual_seed(11)
    assert ag.rand(5, generator=g2).tolist() == x.tolist()


def test_fma_rounds_once():
    rng = np.random.default_rng(0)
    a = rng.random(10000)
    b, c = 5.2, 0.1
    exact = [float(Fraction(x) * Fraction(b) + Fraction(c)) for x in a[:300]]
    assert np.array_equal(_fma(a[:300], b, c), np.array(exact))


def test_permutation_without_numba_is_the_same():
    import autograd._numba as anb

    s1, s2 = _TorchStream(9), _TorchStream(9)
    with anb.disabled():
        p1 = s1.permutation(500)
    p2 = s2.permutation(500)
    assert np.array_equal(p1, p2) and sorted(p1.tolist()) == list(range(500))


def test_compiled_generator_is_the_same_stream():
    import autograd._numba as anb

    sizes = [(5, np.float64), (70000, np.float64), (3, np.float32), (200001, np.float32),
             (624, np.float64), (100000, np.float16), (33000, np.float64)]
    a, b = _TorchStream(7), _TorchStream(7)
    x = [a.random(n, dt) for n, dt in sizes] + [a._u32(70001), a.permutation(70000)]
    with anb.disabled():  # NumPy's MT19937 words, converted by NumPy
        y = [b.random(n, dt) for n, dt in sizes] + [b._u32(70001), b.permutation(70000)]
    assert all(u.dtype == v.dtype and np.array_equal(u, v) for u, v in zip(x, y))
    assert a.random(3).tolist() == b.random(3).tolist()  # and the streams stay in step
    # the standard's value through the compiled path (a draw of 2**16 words or more)
    assert int(_TorchStream(5489)._u32(1 << 16)[9999]) == 4123659995


# ---- against PyTorch ------------------------------------------------------------------

torch = pytest.importorskip("torch")


def _np(t):
    if hasattr(t, "detach"):
        t = t.detach()
        if str(t.dtype).endswith("bfloat16"):  # compared as float32 (exact)
            t = t.float()
        return t.numpy()
    return np.asarray(t)


def _same(seed, ours, theirs, atol=0.0):
    ag.manual_seed(seed)
    torch.manual_seed(seed)
    a, b = _np(ours()), _np(theirs())
    assert a.shape == b.shape
    if atol:
        np.testing.assert_allclose(a, b, rtol=0, atol=atol)
    else:
        assert np.array_equal(a, b)


CREATION = [
    ("rand f32", lambda m: m.rand(3, 5)),
    ("rand f64", lambda m: m.rand(7, dtype=m.float64)),
    ("rand f16", lambda m: m.rand(20, dtype=m.float16)),
    ("rand bf16", lambda m: m.rand(20, dtype=m.bfloat16)),
    ("uniform_ f16", lambda m: m.empty(20, dtype=m.float16).uniform_(-1, 1)),
    ("randn f16 32", lambda m: m.randn(32, dtype=m.float16)),
    ("randn bf16 5", lambda m: m.randn(5, dtype=m.bfloat16)),
    ("randint small range", lambda m: m.randint(0, 10, (40,))),
    ("randint 2**40 range", lambda m: m.randint(-5, 2**40, (9,))),
    ("randint(high, size)", lambda m: m.randint(6, (2, 3))),
    ("randperm", lambda m: m.randperm(257)),
    ("randperm 1", lambda m: m.randperm(1)),
    ("rand_like", lambda m: m.rand_like(m.ones(4, 2))),
    ("uniform_ f32", lambda m: m.empty(50).uniform_(-0.7, 2.5)),
    ("uniform_ f64", lambda m: m.empty(50, dtype=m.float64).uniform_(0.1, 5.3)),
    ("random_ int64", lambda m: m.empty(3, 4, dtype=m.int64).random_(0, 1000)),
    ("random_ int64 full", lambda m: m.empty(6, dtype=m.int64).random_()),
    ("bernoulli_ p", lambda m: m.empty(60).bernoulli_(0.3)),
    ("bernoulli f32 probs", lambda m: m.bernoulli(m.full((60,), 0.6))),
    ("bernoulli f64 probs", lambda m: m.bernoulli(m.full((60,), 0.6, dtype=m.float64))),
    ("bernoulli_ tensor p", lambda m: m.empty(60).bernoulli_(m.full((60,), 0.2))),
    ("cauchy_", lambda m: m.empty(30).cauchy_(1.0, 2.0)),
    ("geometric_", lambda m: m.empty(30).geometric_(0.3)),
    ("multinomial 1", lambda m: m.multinomial(m.arange(1.0, 10.0).reshape(3, 3), 1)),
    ("multinomial no replacement", lambda m: m.multinomial(m.arange(1.0, 13.0), 5)),
    ("multinomial replacement", lambda m: m.multinomial(
        m.arange(0.0, 12.0, dtype=m.float64).reshape(2, 6), 9, replacement=True)),
]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name,make", CREATION, ids=[c[0] for c in CREATION])
def test_draws_match_torch(seed, name, make):
    _same(seed, lambda: make(ag), lambda: make(torch))


NORMALS = [  # PyTorch's (vectorised) log/sin/cos may differ from NumPy's in the last bit
    ("randn f64 small", lambda m: m.randn(5, dtype=m.float64)),
    ("exponential_ f64", lambda m: m.empty(20, dtype=m.float64).exponential_(0.5)),
    ("log_normal_", lambda m: m.empty(3, 7, dtype=m.float64).log_normal_(0.5, 0.7)),
    ("rrelu in training", lambda m: m.nn.functional.rrelu(
        m.linspace(-3.0, 2.0, 35).reshape(5, 7), training=True)),
    ("gumbel_softmax", lambda m: m.nn.functional.gumbel_softmax(
        m.linspace(-3.0, 2.0, 35).reshape(5, 7), tau=0.5)),
    ("randn 3", lambda m: m.randn(3)),
    ("randn 16", lambda m: m.randn(16)),
    ("randn 37", lambda m: m.randn(37)),
    ("randn_like", lambda m: m.randn_like(m.ones(8, 8))),
    ("normal_ 5", lambda m: m.empty(5).normal_(1.0, 2.0)),
    ("normal_ 100", lambda m: m.empty(100).normal_(-1.0, 0.5)),
    ("normal(T, T)", lambda m: m.normal(m.zeros(20), m.ones(20))),
    ("randn then randn", lambda m: m.cat([m.randn(1), m.randn(17), m.randn(1)])),
]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name,make", NORMALS, ids=[c[0] for c in NORMALS])
def test_normals_match_torch(seed, name, make):
    _same(seed, lambda: make(ag), lambda: make(torch), atol=1e-6)


def test_generator_argument_matches_torch():
    a = ag.rand(6, generator=Generator().manual_seed(5))
    b = torch.rand(6, generator=torch.Generator().manual_seed(5))
    assert np.array_equal(_np(a), _np(b))
    a = ag.randperm(30, generator=Generator().manual_seed(5))
    b = torch.randperm(30, generator=torch.Generator().manual_seed(5))
    assert np.array_equal(_np(a), _np(b))


@pytest.mark.parametrize("p", [0.0, 0.25, 0.5, 1.0])
def test_dropout_masks_match_torch(p):
    _same(1, lambda: F.dropout(ag.ones(64), p), lambda: torch.nn.functional.dropout(
        torch.ones(64), p))
    _same(1, lambda: F.dropout2d(ag.ones(4, 6, 3, 3), p),
          lambda: torch.nn.functional.dropout2d(torch.ones(4, 6, 3, 3), p))
    _same(1, lambda: nn.Dropout(p)(ag.ones(5, 7)), lambda: torch.nn.Dropout(p)(torch.ones(5, 7)))


INITS = [
    ("uniform_", (-0.5, 0.5)), ("normal_", (0.1, 0.02)), ("trunc_normal_", (0.0, 1.0)),
    ("trunc_normal_", (0.0, 1.0, 1.5, 3.0)), ("xavier_uniform_", ()), ("xavier_normal_", ()),
    ("kaiming_uniform_", ()), ("kaiming_normal_", (0, "fan_out")), ("orthogonal_", ()),
    ("sparse_", (0.3,)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,args", INITS, ids=[f"{n}{a}" for n, a in INITS])
def test_init_matches_torch(name, args, dtype):
    shape = (6, 10)
    _same(2, lambda: getattr(init, name)(ag.empty(*shape, dtype=getattr(ag, dtype)), *args),
          lambda: getattr(torch.nn.init, name)(torch.empty(*shape, dtype=getattr(torch, dtype)),
                                               *args), atol=2e-6)


MODULES = [
    ("Linear", (5, 3)), ("Bilinear", (3, 4, 5)), ("Conv1d", (2, 3, 5)), ("Conv2d", (3, 4, 3)),
    ("Conv3d", (2, 2, 2)), ("ConvTranspose2d", (3, 2, 3)), ("Embedding", (10, 4)),
    ("RNN", (3, 4)), ("LSTM", (4, 6, 2)), ("GRU", (3, 5)), ("LSTMCell", (3, 4)),
    ("GRUCell", (3, 4)), ("MultiheadAttention", (8, 2)),
    ("TransformerEncoderLayer", (8, 2, 16)), ("TransformerDecoderLayer", (8, 2, 16)),
    ("LayerNorm", (4,)), ("PReLU", ()), ("BatchNorm2d", (3,)),
]


@pytest.mark.parametrize("name,args", MODULES, ids=[m[0] for m in MODULES])
def test_default_initialisation_matches_torch(name, args):
    ag.manual_seed(7)
    torch.manual_seed(7)
    ours, theirs = getattr(nn, name)(*args).state_dict(), getattr(torch.nn, name)(*args)
    theirs = theirs.state_dict()
    assert list(ours) == list(theirs)
    for k in ours:
        np.testing.assert_allclose(_np(ours[k]), _np(theirs[k]), rtol=0, atol=1e-6,
                                   err_msg=f"{name}.{k}")


def test_a_seeded_model_trains_to_torchs_numbers():
    def run(m, mnn, F_, optim):
        m.manual_seed(0)
        net = mnn.Sequential(mnn.Linear(6, 16), mnn.ReLU(), mnn.Dropout(0.2), mnn.Linear(16, 3))
        opt = optim.SGD(net.parameters(), lr=0.1)
        x, y = m.randn(32, 6), m.randint(0, 3, (32,))
        losses = []
        for _ in range(5):
            opt.zero_grad()
            loss = F_.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses

    import optim

    a = run(ag, nn, F, optim)
    b = run(torch, torch.nn, torch.nn.functional, torch.optim)
    np.testing.assert_allclose(a, b, rtol=1e-5)


@pytest.mark.parametrize("kw", [{}, {"generator": "g"}])
def test_shuffling_dataloader_matches_torch(kw):
    from torch.utils import data as td

    def batches(m, data, gen):
        g = {} if not kw else {"generator": gen().manual_seed(4)}
        dl = data.DataLoader(data.TensorDataset(m.arange(23)), batch_size=5, shuffle=True, **g)
        return [[b[0].tolist() for b in dl] for _ in range(2)]  # two epochs

    ag.manual_seed(1)
    torch.manual_seed(1)
    ours = batches(ag, agdata, Generator)
    theirs = batches(torch, td, torch.Generator)
    assert ours == theirs
    assert ag.rand(3).tolist() == torch.rand(3).tolist()  # the global streams moved alike


def test_samplers_and_random_split_match_torch():
    from torch.utils import data as td

    ag.manual_seed(2)
    torch.manual_seed(2)
    ds = TensorDataset(ag.arange(10))
    assert list(RandomSampler(ds, replacement=True, num_samples=70)) == \
        list(td.RandomSampler(range(10), replacement=True, num_samples=70))
    assert list(RandomSampler(ds, num_samples=25)) == \
        list(td.RandomSampler(range(10), num_samples=25))
    assert list(SubsetRandomSampler([3, 5, 7, 9])) == \
        list(td.SubsetRandomSampler([3, 5, 7, 9]))
    w = [0.1, 0.5, 0.2, 0.9, 0.3]
    for replacement, k in ((True, 40), (False, 3)):
        assert list(agdata.WeightedRandomSampler(w, k, replacement)) == \
            list(td.WeightedRandomSampler(w, k, replacement))
    from torch.utils.data.distributed import DistributedSampler as TorchDS

    from autograd.data import DistributedSampler
    for epoch in (0, 3):
        a = DistributedSampler(list(range(11)), num_replicas=2, rank=1, shuffle=True, seed=5)
        b = TorchDS(list(range(11)), num_replicas=2, rank=1, shuffle=True, seed=5)
        a.set_epoch(epoch)
        b.set_epoch(epoch)
        assert list(a) == list(b)
    a = random_split(range(17), [0.5, 0.3, 0.2], generator=Generator().manual_seed(42))
    b = td.random_split(range(17), [0.5, 0.3, 0.2], generator=torch.Generator().manual_seed(42))
    assert [list(s.indices) for s in a] == [list(s.indices) for s in b]
    assert ag.rand(3).tolist() == torch.rand(3).tolist()
    loader = DataLoader(ds, batch_size=4)  # not shuffled: still draws its base seed
    td_loader = td.DataLoader(td.TensorDataset(torch.arange(10)), batch_size=4)
    list(loader), list(td_loader)
    assert ag.rand(3).tolist() == torch.rand(3).tolist()


DISTRIBUTIONS = [
    ("Normal", lambda m, d: d.Normal(m.zeros(3), m.ones(3)).sample((5,))),
    ("Uniform", lambda m, d: d.Uniform(m.zeros(3), m.ones(3) * 2).sample((5,))),
    ("Bernoulli", lambda m, d: d.Bernoulli(probs=m.full((3,), 0.3)).sample((5,))),
    ("Categorical", lambda m, d: d.Categorical(probs=m.tensor([0.2, 0.3, 0.5])).sample((7,))),
    ("Exponential", lambda m, d: d.Exponential(m.ones(4)).sample((3,))),
    ("Cauchy", lambda m, d: d.Cauchy(m.zeros(4), m.ones(4)).sample((3,))),
    ("Geometric", lambda m, d: d.Geometric(probs=m.full((4,), 0.3)).sample((3,))),
    ("MultivariateNormal", lambda m, d: d.MultivariateNormal(m.zeros(3), m.eye(3)).sample((4,))),
    ("Laplace", lambda m, d: d.Laplace(m.zeros(4), m.ones(4)).sample((3,))),
    ("Gumbel", lambda m, d: d.Gumbel(m.zeros(4), m.ones(4)).sample((3,))),
]


@pytest.mark.parametrize("name,make", DISTRIBUTIONS, ids=[c[0] for c in DISTRIBUTIONS])
def test_distribution_samples_match_torch(name, make):
    import torch.distributions as theirs

    _same(4, lambda: make(ag, ours), lambda: make(torch, theirs), atol=1e-6)


def test_fresh_process_seed_is_random_and_fork_rng_restores():
    import subprocess
    import sys

    code = "import autograd as ag; print(ag.initial_seed(), ag.rand(2).tolist())"
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout for _ in range(2)}
    assert len(outs) == 2  # as PyTorch: not the same numbers in every process
    assert Generator().initial_seed() == 67280421310721  # a new Generator: PyTorch's default
    ag.manual_seed(5)
    a = ag.rand(3).tolist()
    ag.manual_seed(5)
    with ag.random.fork_rng():
        ag.randn(7)
    assert ag.rand(3).tolist() == a
    assert ag.default_generator.initial_seed() == 5


LAYOUTS = [  # PyTorch fills a tensor in its memory order (an RNN's batch-first output...)
    ("dropout of a transposed tensor",
     lambda m: m.nn.functional.dropout(m.ones(7, 3, 4).transpose(0, 1), 0.3)),
    ("uniform_ on a transposed view",
     lambda m: (lambda w: (w.t().uniform_(-1, 1), w)[1])(m.empty(4, 6))),
    ("normal_ on a transposed view (16+ values)",
     lambda m: (lambda w: (w.t().normal_(), w)[1])(m.empty(8, 6))),
    ("bernoulli_ on a strided slice",
     lambda m: (lambda w: (w[:, ::2].bernoulli_(0.5), w)[1])(m.zeros(4, 6))),
    ("random_ on a transposed view",
     lambda m: (lambda w: (w.t().random_(0, 100), w)[1])(m.zeros(4, 6, dtype=m.int64))),
    ("rand_like of a transposed tensor", lambda m: m.rand_like(m.ones(4, 6).t())),
    ("randn_like of a transposed tensor", lambda m: m.randn_like(m.ones(5, 6).t())),
    ("randint_like of a transposed tensor", lambda m: m.randint_like(m.ones(4, 6).t(), 10)),
    ("bernoulli of a transposed tensor (a contiguous result)",
     lambda m: m.bernoulli(m.full((5, 6), 0.4).t())),
]


@pytest.mark.parametrize("name,make", LAYOUTS, ids=[c[0] for c in LAYOUTS])
def test_fill_order_follows_the_layout_as_torch(name, make):
    _same(3, lambda: make(ag), lambda: make(torch), atol=1e-6)


def test_batch_first_gru_language_model_trains_to_torchs_losses():
    def run(m, mnn, F_, optim):
        m.manual_seed(42)
        emb, rnn = mnn.Embedding(12, 8), mnn.GRU(8, 16, num_layers=2, dropout=0.1,
                                                   batch_first=True)
        head = mnn.Linear(16, 12)
        params = [*emb.parameters(), *rnn.parameters(), *head.parameters()]
        opt = optim.Adam(params, lr=3e-3)
        data = m.randint(0, 12, (8, 21))
        losses = []
        for _ in range(5):
            h, _ = rnn(emb(data[:, :-1]))
            logits = head(F_.dropout(h, 0.2, training=True))
            loss = F_.cross_entropy(logits.reshape(-1, 12), data[:, 1:].reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses

    import optim

    np.testing.assert_allclose(run(ag, nn, F, optim),
                               run(torch, torch.nn, torch.nn.functional, torch.optim),
                               rtol=1e-5)


class _ThreeGenerators:
    """Draws from NumPy's global generator, Python's ``random`` and the package's, as dataset
    code does in a DataLoader worker."""

    def __init__(self, lib):
        self.lib = lib

    def __len__(self):
        return 8

    def __getitem__(self, i):
        import random

        return self.lib.tensor([float(np.random.rand()), random.random(),
                                float(self.lib.rand(()))])


def test_worker_processes_draw_torchs_numbers():
    from torch.utils import data as td

    ag.manual_seed(3)
    ours = [b.tolist() for b in DataLoader(_ThreeGenerators(ag), batch_size=4, num_workers=2)]
    torch.manual_seed(3)
    theirs = [b.tolist() for b in td.DataLoader(_ThreeGenerators(torch), batch_size=4,
                                                 num_workers=2)]
    assert ours == theirs


def test_a_former_state_is_refused_clearly():
    with pytest.raises(RuntimeError, match="PCG64"):
        ag.set_rng_state({"bit_generator": "PCG64", "state": {}})
    with pytest.raises(RuntimeError, match="uint8 tensor of 2528 bytes"):
        ag.set_rng_state(ag.zeros(7, dtype=ag.uint8))


def test_gradgradcheck_draws_its_grad_outputs_as_torch():
    # uniform(-1, 1) grad_outputs from the global stream (torch.testing.make_tensor): the
    # numbers a seeded program draws after gradgradcheck are PyTorch's
    def run(lib):
        lib.manual_seed(0)
        x = lib.randn(4, dtype=lib.float64, requires_grad=True)
        assert lib.autograd.gradgradcheck(lambda a: a ** 3, (x,))
        return lib.randn(3).numpy()

    np.testing.assert_array_equal(run(ag), run(torch))


@pytest.mark.parametrize("seed", [-1, -5, -(2 ** 63), 2 ** 64 - 1, 2 ** 63, 1.5, True, 2 ** 64,
                                  -(2 ** 63) - 1, "3"])
def test_manual_seed_values_like_torch(seed):
    """Negative seeds are kept modulo 2**64 (initial_seed, the stream and get_state all
    work, as seeding from ``hash(...)`` needs); out-of-range ints, and for a Generator floats,
    bools and strings, are refused with PyTorch's classes; torch.manual_seed converts with
    int() first."""
    def outcome(lib, seeder):
        try:
            g = seeder(lib)(seed)
        except (RuntimeError, ValueError) as e:
            return type(e).__name__, str(e)
        state = g.get_state()  # must not overflow
        return g.initial_seed(), lib.rand(3, generator=g).tolist(), state.dtype == lib.uint8

    for seeder in (lambda lib: lib.manual_seed, lambda lib: lib.Generator().manual_seed):
        assert outcome(ag, seeder) == outcome(torch, seeder)
