"""``repr(tensor)`` is PyTorch's, character for character, over random tensors: every dtype
(complex included), 0-d to 3-d, empty and summarised ones, magnitudes from 1e-9 to 1e9,
integers, zeros, nan and inf, with and without ``requires_grad``/``grad_fn``, under random
``set_printoptions`` (precision, threshold, edgeitems 0-3, line width, sci_mode)."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag

torch = pytest.importorskip("torch")

DTYPES = ["float32", "float64", "float16", "int64", "int32", "uint8", "bool", "complex64",
          "complex128"]


def _array(rng):
    nd = int(rng.integers(0, 4))
    hi = 7 if nd > 1 else (1200 if rng.random() < 0.2 else 12)
    shape = tuple(int(s) for s in rng.integers(0, hi, size=nd))
    dt = str(rng.choice(DTYPES))
    a = np.asarray(rng.standard_normal(shape) * 10.0 ** int(rng.integers(-9, 10)))
    r = rng.random()
    if r < 0.15:
        a = np.round(a)
    elif r < 0.25:
        a = np.zeros_like(a)
    elif r < 0.35 and a.size:
        a.flat[0], a.flat[-1] = np.nan, np.inf
    elif r < 0.45:
        a = np.abs(a)
    with np.errstate(all="ignore"):
        if dt == "bool":
            return a > 0
        if dt.startswith(("int", "uint")):
            return np.nan_to_num(a, posinf=0, neginf=0).clip(-1e9, 1e9).astype(dt)
        if dt.startswith("complex"):
            return (a + 1j * rng.standard_normal(shape)).astype(dt)
        return a.astype(dt)


@pytest.fixture
def printoptions():
    yield
    for m in (ag, torch):
        m.set_printoptions(profile="default")


@pytest.mark.parametrize("seed", range(4))
def test_repr_matches_torch(seed, printoptions):
    rng = np.random.default_rng(seed)
    for i in range(150):
        if seed and i % 25 == 0:
            po = dict(precision=int(rng.integers(0, 8)),
                      threshold=int(rng.choice([5, 50, 1000])),
                      edgeitems=int(rng.integers(0, 4)),
                      linewidth=int(rng.choice([40, 80, 120])),
                      sci_mode=[None, True, False][int(rng.integers(0, 3))])
            torch.set_printoptions(**po)
            ag.set_printoptions(**po)
        a = np.asarray(_array(rng))
        t, x = torch.from_numpy(a.copy()), ag.from_numpy(a.copy())
        if a.dtype.kind == "f" and rng.random() < 0.3:
            t, x = t.requires_grad_(), x.requires_grad_()
            if a.ndim and rng.random() < 0.5:
                t, x = t * 2, x * 2
        assert repr(x) == repr(t), (a.dtype, a.shape)


def test_the_comparison_can_fail():
    assert repr(ag.tensor([1.0, 2.0])) != repr(torch.tensor([1.0, 2.5]))
    assert repr(ag.tensor([1j])) != repr(torch.tensor([1j], dtype=torch.complex128))
