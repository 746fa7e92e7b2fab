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
