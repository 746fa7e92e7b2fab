"""PyTorch's older Tensor methods that real code still calls: ``new``, ``apply_``, ``map_``,
``resize_``, ``resize_as_``, ``cfloat``/``cdouble``; compared with PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag

torch = pytest.importorskip("torch")


def _same(a, t):
    assert str(a.dtype) == str(t.dtype) and tuple(a.shape) == tuple(t.shape)
    np.testing.assert_array_equal(a.numpy(), t.numpy())


def test_new_legacy_constructor():
    for M in (ag, torch):
        x = M.arange(3.0)
        assert x.new().shape == (0,) and x.new(2, 3).shape == (2, 3)
        assert x.new(M.Size([4])).shape == (4,) and x.new(2, 3).dtype == x.dtype
    _same(ag.arange(3).new([1, 2]), torch.arange(3).new([1, 2]))
    _same(ag.arange(3.0).new((4, 5)), torch.arange(3.0).new((4, 5)))  # a tuple is data
    _same(ag.arange(3.0).new(ag.tensor([7.0, 8])), torch.arange(3.0).new(torch.tensor([7.0, 8])))
    for M in (ag, torch):
        with pytest.raises(TypeError):
            M.arange(3.0).new(M.tensor([7, 8]))  # another dtype: refused, not cast


def test_apply_and_map_in_place():
    x, t = ag.arange(6.0), torch.arange(6.0)
    assert x.apply_(lambda v: v * 2) is x
    t.apply_(lambda v: v * 2)
    _same(x, t)
    y, u = ag.tensor([1, 2, 3]), torch.tensor([1, 2, 3])
    y.map_(ag.tensor([10, 20, 30]), lambda a, b: a + b)
    u.map_(torch.tensor([10, 20, 30]), lambda a, b: a + b)
    _same(y, u)
    v = x.view(2, 3)  # a view sees the write
    x.apply_(lambda a: -a)
    assert v[0, 1].item() == -2.0


@pytest.mark.parametrize("what", ["apply_", "resize_"])
def test_refused_on_tensors_that_require_grad(what):
    msgs = []
    for M in (ag, torch):
        z = M.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError) as e:
            z.apply_(lambda v: v) if what == "apply_" else z.resize_(1)
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]


def test_resize_keeps_the_leading_elements():
    for shape in [(2, 3), (2,), (3, 1), (8,)]:
        x, t = ag.arange(6.0), torch.arange(6.0)
        assert x.resize_(*shape) is x
        t.resize_(*shape)
        assert x.shape == t.shape
        n = min(6, int(np.prod(shape)))
        np.testing.assert_array_equal(x.numpy().reshape(-1)[:n], t.numpy().reshape(-1)[:n])
    x, t = ag.arange(6.0), torch.arange(6.0)
    _same(x.resize_as_(ag.zeros(3, 2)), t.resize_as_(torch.zeros(3, 2)))


def test_complex_conversions():
    _same(ag.arange(3.0).cfloat(), torch.arange(3.0).cfloat())
    _same(ag.arange(3.0).cdouble(), torch.arange(3.0).cdouble())
