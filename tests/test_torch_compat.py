"""Smaller pieces of PyTorch's namespace that programs and test suites lean on:
``finfo``/``iinfo``, ``Size``, the legacy typed constructors, ``torch.testing``, ``torch.jit``
(eager), ``Module.half/bfloat16``, ``torch.nn.parameter``, ``torch.utils.checkpoint``."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn

torch = pytest.importorskip("torch")

FIELDS = ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution")


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64"])
def test_finfo(name):
    ours, theirs = ag.finfo(getattr(ag, name)), torch.finfo(getattr(torch, name))
    for k in FIELDS:
        assert getattr(ours, k) == getattr(theirs, k), k
    assert repr(ours) == repr(theirs).replace("torch.", "")


def test_finfo_default_and_iinfo():
    assert ag.finfo().eps == torch.finfo().eps
    for name in ("uint8", "int8", "int16", "int32", "int64"):
        ours, theirs = ag.iinfo(getattr(ag, name)), torch.iinfo(getattr(torch, name))
        assert (ours.bits, ours.min, ours.max) == (theirs.bits, theirs.min, theirs.max)
    for bad in (lambda: ag.iinfo(ag.float32), lambda: ag.iinfo(ag.bool),
                lambda: ag.finfo(ag.int64)):
        with pytest.raises(TypeError):
            bad()


def test_size():
    x, t = ag.zeros(2, 3, 4), torch.zeros(2, 3, 4)
    for f in (lambda s: s, lambda s: s[1:], lambda s: s + (5,), lambda s: (1,) + s):
        a, b = f(x.shape), f(t.shape)
        assert isinstance(a, ag.Size) and tuple(a) == tuple(b)
        assert repr(a) == repr(b)
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.shape.numel() == 24
    assert x.shape[0] == 2 and isinstance(x.shape[0], int)


def test_legacy_typed_constructors():
    for name in ("FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "ByteTensor",
                 "BoolTensor", "HalfTensor", "ShortTensor", "CharTensor"):
        ours, theirs = getattr(ag, name)([1, 0, 2]), getattr(torch, name)([1, 0, 2])
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert str(ours.dtype) == str(theirs.dtype)
        assert isinstance(ours, getattr(ag, name))
        assert tuple(getattr(ag, name)(2, 3).shape) == (2, 3)
    assert not isinstance(ag.zeros(2), ag.LongTensor)
    assert isinstance(ag.zeros(2), ag.Tensor)
    assert ag.FloatTensor().shape == (0,)


def test_testing_assert_close():
    ag.testing.assert_close(ag.tensor([1.0, 2.0]), ag.tensor([1.0, 2.0 + 1e-7]))
    ag.testing.assert_close({"a": [ag.ones(2), 1.0]}, {"a": [ag.ones(2), 1.0]})
    cases = [((ag.tensor([1.0, 2.0, 3.0]), ag.tensor([1.0, 2.5, 3.0])),
              (torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.5, 3.0]))),
             ((ag.tensor([1.0, 2.0]), ag.tensor([1, 2])),
              (torch.tensor([1.0, 2.0]), torch.tensor([1, 2]))),
             ((1.0, 1.1), (1.0, 1.1)),
             ((ag.tensor([float("nan")]), ag.tensor([float("nan")])),
              (torch.tensor([float("nan")]), torch.tensor([float("nan")])))]
    for ours, theirs in cases:
        with pytest.raises(AssertionError) as e1:
            ag.testing.assert_close(*ours)
        with pytest.raises(AssertionError) as e2:
            torch.testing.assert_close(*theirs)
        assert str(e1.value).replace("autograd.", "torch.") == str(e2.value)
    ag.testing.assert_close(ag.tensor([float("nan")]), ag.tensor([float("nan")]),
                            equal_nan=True)
    ag.testing.assert_close(ag.tensor([1.0]), ag.tensor([1.05]), rtol=0.1, atol=0.0)
    with pytest.raises(ValueError):
        ag.testing.assert_close(ag.ones(1), ag.ones(1), rtol=0.1)
    ag.manual_seed(0)
    m = ag.testing.make_tensor(3, 4, dtype=ag.int64, low=-2, high=3)
    assert m.dtype == ag.int64 and int(m.min()) >= -2 and int(m.max()) < 3
    f = ag.testing.make_tensor((5,), dtype=ag.float32, requires_grad=True)
    assert f.requires_grad and f.shape == (5,)


@pytest.mark.parametrize("args, kw", [
    ("T([1, 2]), T([1, 3])", {}), ("3, 4", {}), ("T(1), T(2)", {}), ("T(1.), T(2.)", {}),
    ("T([True, False]), T([True, True])", {}), ("T([[1, 5], [2, 0]]), T([[1, 2], [2, 1]])", {}),
    ("T([1., 2.]), T([1., 3.])", dict(rtol=0, atol=0)), ("(1, 2), (1, 3)", {}),
    ("T([1, 2], dtype=lib.int32), T([1, 3], dtype=lib.int32)", {}),
    ("T([1.5], dtype=lib.float64), T([1.6], dtype=lib.float64)", {}), ("T([1.0]), [1.0]", {}),
    ("T([1.0]), [1.0]", dict(msg="custom")), ("'a', 'b'", {}), ("None, 1", {}), ("1, None", {})])
def test_assert_close_equality_messages_and_type_errors(args, kw):
    """Exact comparisons (integers, bools, zero tolerances) say "not equal!" without the
    allowed tolerances; 0-d tensors report as scalars; inputs no pair handles raise TypeError
    (whatever ``msg`` says); a None against a value is a "None mismatch"."""
    outcomes = []
    for lib in (ag, torch):
        a, b = eval(args, {"lib": lib, "T": lib.tensor})
        try:
            lib.testing.assert_close(a, b, **kw)
            outcomes.append(None)
        except (AssertionError, TypeError) as e:
            outcomes.append((type(e), str(e).replace("autograd.tensor.Tensor", "torch.Tensor")))
    assert outcomes[0] == outcomes[1]


def test_jit_runs_eagerly():
    m = nn.Linear(2, 2)
    assert ag.jit.script(m) is m and ag.jit.trace(m, ag.zeros(1, 2)) is m
    assert not ag.jit.is_scripting()

    @ag.jit.ignore
    def f(x):
        return x + 1

    assert f(1) == 2
    with pytest.raises(RuntimeError, match="state_dict"):
        ag.jit.save(m, "x.pt")


def test_module_half_bfloat16_and_namespaces():
    m = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)).half()
    assert m[0].weight.dtype == ag.float16 and m[1].num_batches_tracked.dtype == ag.int64
    m.bfloat16()
    assert m[0].weight.dtype == ag.bfloat16
    assert nn.parameter.Parameter is ag.nn.Parameter
    assert ag.utils.checkpoint.checkpoint(lambda v: v * 2, ag.ones(2, requires_grad=True),
                                          use_reentrant=False).sum().item() == 4.0


def test_legacy_tensor_constructor():
    for args in [(), (2, 3), ([1, 2],), (np.array([1, 2]),), ((2, 3),), ([[1.5]],)]:
        ours, theirs = ag.Tensor(*args), torch.Tensor(*args)
        assert tuple(ours.shape) == tuple(theirs.shape)
        assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_array_equal(ag.Tensor([1, 2]).numpy(), [1.0, 2.0])
    x = ag.Tensor([-4.0]).double()  # micrograd's test, as written for PyTorch
    x.requires_grad = True
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    assert (y.data.item(), x.grad.item()) == (-20.0, 46.0)


def test_distribution_shapes_are_sizes():
    from autograd.distributions import Categorical, Normal

    d = Normal(ag.zeros(3, 2), ag.ones(3, 2))
    t = torch.distributions.Normal(torch.zeros(3, 2), torch.ones(3, 2))
    assert isinstance(d.batch_shape, ag.Size) and isinstance(d.event_shape, ag.Size)
    assert repr(d.batch_shape) == repr(t.batch_shape)
    c = Categorical(logits=ag.zeros(4, 5))
    assert c.batch_shape == (4,) and c.event_shape == ()


@pytest.mark.parametrize("call", ["rand(2, dtype=L.int64)", "randn(2, dtype=L.int32)",
                                  "rand(2, dtype=L.bool)", "randn(3, dtype=L.uint8)",
                                  "randperm(-3)", "randperm(0)", "rand(2, dtype=L.float64)"])
def test_random_creation_refusals_like_torch(call):
    """rand/randn refuse integer and bool dtypes with PyTorch's NotImplementedError; randperm
    refuses a negative n."""
    def outcome(lib):
        try:
            return tuple(eval(call, {"L": lib}, {k: getattr(lib, k) for k in
                                                 ("rand", "randn", "randperm")}).shape)
        except (RuntimeError, NotImplementedError, TypeError) as e:
            return type(e).__name__, str(e)
    assert outcome(ag) == outcome(torch)


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_factory_size_keyword(name):
    """``randn(size=(2, 3))`` (d2l's ``normal(shape)`` helper) is ``randn(2, 3)``; seeded, the
    same numbers as PyTorch's; the size given both ways is a TypeError in both."""
    for size in ((2, 3), [4], ()):
        torch.manual_seed(0)
        theirs = getattr(torch, name)(size=size)
        ag.manual_seed(0)
        ours = getattr(ag, name)(size=size)
        assert tuple(ours.shape) == tuple(theirs.shape)
        if name != "empty":
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    for lib in (torch, ag):
        with pytest.raises(TypeError):
            getattr(lib, name)(2, size=(2,))


@pytest.mark.parametrize("name", ["new_zeros", "new_ones", "new_empty"])
def test_new_factory_size_keyword(name):
    """``x.new_zeros(size=(2,))`` has shape (2,) (it was a 0-d tensor: the keyword was
    dropped), with ``x``'s dtype; ``requires_grad`` and ``layout`` still apply."""
    x, y = ag.zeros(1, dtype=ag.float64), torch.zeros(1, dtype=torch.float64)
    ours, theirs = getattr(x, name)(size=(2, 3)), getattr(y, name)(size=(2, 3))
    assert tuple(ours.shape) == tuple(theirs.shape) == (2, 3)
    assert str(ours.dtype) == str(theirs.dtype)
    t = getattr(x, name)((2,), requires_grad=True, layout=ag.strided)
    assert t.requires_grad and tuple(t.shape) == (2,)
    if name != "new_empty":
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
