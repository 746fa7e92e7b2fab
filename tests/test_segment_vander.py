"""``torch.vander`` and ``torch.segment_reduce`` against PyTorch, values and gradients."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("kw", [{}, {"N": 2, "increasing": True}, {"N": 5}, {"N": 0},
                                {"increasing": True}])
def test_vander(kw):
    a = np.array([1.5, -2.0, 3.0, 0.0])
    x, t = ag.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, ref = ag.vander(x, **kw), torch.vander(t, **kw)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy())
    if out.numel():  # (PyTorch 2.13's own backward of vander fails: a version-counter error)
        assert ag.gradcheck(lambda v: ag.vander(v, **kw), (x,))
        assert ag.gradgradcheck(lambda v: ag.vander(v, **kw), (x,))
    assert ag.vander(ag.tensor([1, 2], dtype=ag.int32)).dtype == ag.int64
    with pytest.raises(RuntimeError):
        ag.vander(ag.zeros(2, 2))


@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min", "prod"])
@pytest.mark.parametrize("initial", [None, 2.5])
@pytest.mark.parametrize("form", ["lengths", "offsets"])
def test_segment_reduce(reduce, initial, form):
    d = np.random.default_rng(0).standard_normal((6, 3))
    lens = np.array([2, 0, 3, 1])
    kw = {"lengths": lens} if form == "lengths" else {"offsets": np.concatenate([[0],
                                                                                 lens.cumsum()])}
    x, t = ag.tensor(d, requires_grad=True), torch.tensor(d, requires_grad=True)
    out = ag.segment_reduce(x, reduce, initial=initial,
                            **{k: ag.tensor(v) for k, v in kw.items()})
    ref = torch.segment_reduce(t, reduce, initial=initial,
                               **{k: torch.tensor(v) for k, v in kw.items()})
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-12,
                               equal_nan=True)
    mask = np.isfinite(ref.detach().numpy())
    w = np.random.default_rng(1).standard_normal(ref.shape) * mask
    (ag.nan_to_num(out, 0.0, 0.0, 0.0) * ag.tensor(w)).sum().backward()
    (torch.nan_to_num(ref, 0.0, 0.0, 0.0) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_segment_reduce_axis_and_errors():
    d = np.arange(12.0).reshape(2, 6)
    lens = np.array([[2, 4], [3, 3]])
    np.testing.assert_allclose(
        ag.segment_reduce(ag.tensor(d), "sum", lengths=ag.tensor(lens), axis=1).numpy(),
        torch.segment_reduce(torch.tensor(d), "sum", lengths=torch.tensor(lens),
                             axis=1).numpy())
    x = ag.tensor(d)
    with pytest.raises(RuntimeError, match="sum to"):
        ag.segment_reduce(x, "sum", lengths=ag.tensor([[1, 1], [1, 1]]), axis=1)
    with pytest.raises(RuntimeError, match="last dimension"):
        ag.segment_reduce(x, "sum", lengths=ag.tensor([2, 4]), axis=1)
    with pytest.raises(RuntimeError, match="lengths or offsets"):
        ag.segment_reduce(x, "sum")
    with pytest.raises(NotImplementedError, match="int64"):  # PyTorch: not for Long either
        ag.segment_reduce(ag.tensor([1, 2]), "sum", lengths=ag.tensor([2]))
