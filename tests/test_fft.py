"""``autograd.fft`` against ``torch.fft``: values, dtypes and shapes of every transform over
dtypes, lengths (n/s), dims and norms; the shifts and frequency factories; refusals."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag

torch = pytest.importorskip("torch")


def _same(a, t, tol=1e-5):
    assert str(a.dtype) == str(t.dtype) and tuple(a.shape) == tuple(t.shape)
    np.testing.assert_allclose(a.numpy(), t.resolve_conj().numpy(), rtol=tol, atol=tol)


rng = np.random.default_rng(0)
X = {"float32": rng.standard_normal((3, 4, 6)).astype(np.float32),
     "float64": rng.standard_normal((3, 4, 6)),
     "int64": rng.integers(-5, 5, (3, 4, 6)),
     "complex64": (rng.standard_normal((3, 4, 6)) + 1j * rng.standard_normal((3, 4, 6)))
     .astype(np.complex64)}

ONE = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]
MANY = ["fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn", "rfftn", "irfftn"]


@pytest.mark.parametrize("name", ONE)
@pytest.mark.parametrize("dt", sorted(X))
def test_one_dim_transforms(name, dt):
    if dt == "complex64" and name in ("rfft", "ihfft"):
        pytest.skip("real-input transforms")
    for kw in ({}, {"n": 5}, {"n": 8, "dim": 1}, {"norm": "ortho"}, {"norm": "forward", "dim": 0}):
        _same(getattr(ag.fft, name)(ag.tensor(X[dt]), **kw),
              getattr(torch.fft, name)(torch.tensor(X[dt]), **kw))


@pytest.mark.parametrize("name", MANY)
@pytest.mark.parametrize("dt", ["float32", "float64", "complex64"])
def test_multi_dim_transforms(name, dt):
    if dt == "complex64" and name.startswith("rfft"):
        pytest.skip("real-input transforms")
    for kw in ({}, {"s": (3, 5)}, {"dim": (0, 2)}, {"norm": "ortho"}, {"s": (4, 4), "dim": (0, 1)}):
        _same(getattr(ag.fft, name)(ag.tensor(X[dt]), **kw),
              getattr(torch.fft, name)(torch.tensor(X[dt]), **kw))


def test_shifts_and_frequencies():
    for n, d in [(4, 1.0), (5, 0.5), (8, 0.1)]:
        _same(ag.fft.fftfreq(n, d), torch.fft.fftfreq(n, d))
        _same(ag.fft.rfftfreq(n, d), torch.fft.rfftfreq(n, d))
    _same(ag.fft.fftfreq(4, dtype=ag.float64), torch.fft.fftfreq(4, dtype=torch.float64))
    x = X["float64"]
    for dim in (None, 1, (0, 2)):
        _same(ag.fft.fftshift(ag.tensor(x), dim), torch.fft.fftshift(torch.tensor(x), dim))
        _same(ag.fft.ifftshift(ag.tensor(x), dim), torch.fft.ifftshift(torch.tensor(x), dim))
    y = ag.tensor(x, requires_grad=True)  # a roll: differentiable for real tensors
    (ag.fft.fftshift(y) * ag.tensor(x)).sum().backward()
    t = torch.tensor(x, requires_grad=True)
    (torch.fft.fftshift(t) * torch.tensor(x)).sum().backward()
    _same(y.grad, t.grad)


def test_roundtrip_and_refusals():
    x = ag.tensor(X["float64"])
    _same(ag.fft.irfft(ag.fft.rfft(x), n=6), torch.tensor(X["float64"]), tol=1e-12)
    with pytest.raises(RuntimeError, match="gradients of complex tensors"):
        ag.fft.rfft(ag.zeros(4, requires_grad=True))
    with ag.no_grad():
        assert ag.fft.rfft(ag.zeros(4, requires_grad=True)).shape == (3,)
    for M in (ag, torch):
        with pytest.raises(RuntimeError, match="Invalid normalization mode"):
            M.fft.fft(M.zeros(4), norm="bad")
