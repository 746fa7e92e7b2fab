"""Autograd semantics as PyTorch's programs rely on them: in-place ops on views, custom
Functions (needs_input_grad, mark_dirty, saved outputs), hooks and retain_grad, ``.grad``
assignment, grad modes. Each check runs the same code on PyTorch and here."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd as ag

torch = pytest.importorskip("torch")

LIBS = [ag, torch]


def _np(t):
    return None if t is None else t.detach().numpy()


def _same(a, b):
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif hasattr(a, "detach"):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-6, atol=1e-7)
    else:
        assert a == b


def _both(fn):
    """fn(lib, x0, x1) on each framework, from the same float64 starting values."""
    rng = np.random.default_rng(0)
    x0, x1 = rng.standard_normal((2, 3)), rng.standard_normal((3, 2))
    ours = fn(ag, x0, x1)
    theirs = fn(torch, x0, x1)
    _same(ours, theirs)
    return ours


# ---- in-place ops on views of tensors in a graph (PyTorch's CopySlices) -------------------

@pytest.mark.parametrize("view", ["t", "view", "diagonal", "unsqueeze", "view_of_view",
                                  "slice_of_reshape"])
def test_inplace_on_any_view_of_a_non_leaf_updates_the_base_graph(view):
    def run(lib, x0, x1):
        x = lib.tensor(x0, requires_grad=True)
        z = lib.tensor(x1, requires_grad=True)
        y = x * 1
        if view == "t":
            y.t().mul_(z)
        elif view == "view":
            y.view(6).exp_()
        elif view == "diagonal":
            y.diagonal().zero_()
        elif view == "unsqueeze":
            y.unsqueeze(0).mul_(z.t().unsqueeze(0))
        elif view == "view_of_view":
            y.view(3, 2)[1].mul_(10)
            y.view(6).view(2, 3).t()[0].add_(z[0, 0])
        else:
            y.reshape(3, 2)[:, 1].sub_(z[:, 0])
        (y * y).sum().backward()
        return y, x.grad, z.grad, y.grad_fn.name()

    _both(run)


def test_inplace_on_a_view_gives_a_base_without_grad_a_graph():
    def run(lib, x0, x1):
        a = lib.tensor(x1, requires_grad=True)
        buf = lib.zeros(2, 3, dtype=lib.float64)
        buf.t().copy_(a * 3)
        flags = (buf.requires_grad, buf.is_leaf, buf.grad_fn.name())
        buf.sum().backward()
        return buf, a.grad, flags

    _both(run)


def test_inplace_on_a_reshape_that_copied_leaves_the_base_alone():
    def run(lib, x0, x1):
        x = lib.tensor(x0, requires_grad=True)
        y = x * 1
        r = y.t().reshape(6)  # not contiguous: reshape copies
        r.add_(1)
        (r * 2).sum().backward()
        return y, x.grad

    _both(run)


def test_view_base_and_inplace_errors():
    for lib in LIBS:
        b = lib.zeros(6)
        assert b.view(2, 3)._base is b
        with pytest.raises(RuntimeError, match="^unsupported operation: more than one element"):
            lib.zeros(1, 3).expand(4, 3).add_(1)
        y = lib.ones(1, 3, requires_grad=True) * 1
        with pytest.raises(RuntimeError, match="^unsupported operation: more than one element"):
            y.expand(2, 3).mul_(2)
        w = lib.ones(2, 2, requires_grad=True)
        for f in (lambda: w.t().add_(1), lambda: w[0].mul_(2), lambda: w.view(4)[1].zero_(),
                  lambda: w.__setitem__(0, 1.0)):
            with pytest.raises(RuntimeError, match="^a view of a leaf Variable that requires "
                                                   "grad is being used in an in-place"):
                f()
        with pytest.raises(RuntimeError, match=r"^a leaf Variable that requires grad is being "
                                               r"used in an in-place operation\."):
            w.add_(1)


def test_fill_zero_copy_node_names():
    for lib in LIBS:
        a = lib.ones(3, requires_grad=True)
        names = []
        for f in (lambda c: c.fill_(1), lambda c: c.fill_(lib.tensor(2.0)), lambda c: c.zero_(),
                  lambda c: c.copy_(a * 2)):
            c = a.clone()
            f(c)
            names.append(c.grad_fn.name())
        assert names == ["FillBackward2", "FillBackward3", "ZeroBackward0",
                         "torch::autograd::CopyBackwards"]
        i = lib.tensor([0, 0, 2])
        for acc in (False, True):
            assert lib.index_put(a, (i,), lib.ones(3), accumulate=acc).grad_fn.name() == \
                "IndexPutBackward0"


# ---- custom Functions --------------------------------------------------------------------

def _functions(lib):
    class MyExp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)  # an output: differentiable again with create_graph
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    class Mul(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, k):
            ctx.save_for_backward(a, b)
            ctx.k = k
            ctx.seen = ctx.needs_input_grad
            return a * b * k

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            ga = g * b * ctx.k if ctx.needs_input_grad[0] else None
            gb = g * a * ctx.k if ctx.needs_input_grad[1] else None
            return ga, gb, None

    class AddOne(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    return MyExp, Mul, AddOne


def test_custom_function_saved_output_is_differentiable_and_version_checked():
    def run(lib, x0, x1):
        MyExp, _, _ = _functions(lib)
        x = lib.tensor(x0, requires_grad=True)
        (g,) = lib.autograd.grad(MyExp.apply(x).sum(), x, create_graph=True)
        (g2,) = lib.autograd.grad(g.sum(), x)
        y = MyExp.apply(x)
        y.mul_(2)
        with pytest.raises(RuntimeError, match="^one of the variables needed for gradient "
                                               "computation has been modified by an inplace"):
            y.sum().backward()
        return g, g2

    _both(run)


def test_custom_function_needs_input_grad_in_forward():
    def run(lib, x0, x1):
        _, Mul, _ = _functions(lib)
        a = lib.tensor(x0, requires_grad=True)
        b = lib.tensor(x0 + 1)
        out = Mul.apply(a, b, 3.0)
        out.sum().backward()
        return out.grad_fn.seen, a.grad, b.grad

    got = _both(run)
    assert got[0] == (True, False, False)


def test_custom_function_mark_dirty_returns_the_input():
    def run(lib, x0, x1):
        _, _, AddOne = _functions(lib)
        x = lib.tensor(x0, requires_grad=True)
        z = x * 2
        w = AddOne.apply(z)
        assert w is z and not z.is_leaf
        (w * w).sum().backward()
        plain = lib.zeros(2)
        assert AddOne.apply(plain) is plain
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            AddOne.apply(lib.ones(2, requires_grad=True))
        return w, x.grad, plain

    _both(run)


# ---- hooks, .grad, grad(), grad modes ------------------------------------------------------

@pytest.mark.parametrize("retain_first", [True, False])
def test_retain_grad_sees_the_hooked_gradient_whatever_the_order(retain_first):
    def run(lib, x0, x1):
        x = lib.ones(2, requires_grad=True)
        y = x * 2
        if retain_first:
            y.retain_grad()
        y.register_hook(lambda g: g * 100)
        if not retain_first:
            y.retain_grad()
        y.sum().backward()
        return y.grad, x.grad

    _both(run)


def test_grad_assignment_is_checked_and_nonleaf_grad_warns():
    for lib in LIBS:
        x = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match=r"^attempting to assign a gradient of size "
                                               r"'\[4\]' to a tensor of size '\[3\]'"):
            x.grad = lib.zeros(4)
        with pytest.raises(RuntimeError, match="^attempting to assign a gradient with dtype "
                                               "'double' to a tensor with grad_dtype 'Float'"):
            x.grad = lib.zeros(3, dtype=lib.float64)
        with pytest.raises(TypeError, match="^assigned grad expected to be a Tensor or None"):
            x.grad = 5
        x.grad = lib.ones(3)
        assert x.grad.tolist() == [1.0, 1.0, 1.0]
        x.grad = None
        y = x * 2
        with warnings.catch_warnings(record=True) as ws:
            warnings.simplefilter("always")
            assert y.grad is None
            assert x.grad is None  # a leaf: no warning
        assert len(ws) == 1 and "not a leaf Tensor" in str(ws[0].message)
        y.retain_grad()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert y.grad is None


def test_autograd_grad_errors():
    for lib in LIBS:
        a = lib.ones(2, requires_grad=True)
        c = lib.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="^`inputs` argument to `grad\\(\\)` cannot be "
                                               "empty"):
            lib.autograd.grad((a * 2).sum(), [])
        with pytest.raises(RuntimeError, match="^The differentiated Tensor at index 1 appears "
                                               "to not have been used in the graph"):
            lib.autograd.grad((a * 2).sum(), [a, c])
        with pytest.raises(RuntimeError, match="^One of the differentiated Tensors does not "
                                               "require grad"):
            lib.autograd.grad((a * 2).sum(), [a, lib.ones(2)])
        with pytest.raises(RuntimeError, match="^a Tensor with 2 elements cannot be converted "
                                               "to Scalar"):
            a.item()
        with pytest.raises(RuntimeError, match="^Boolean value of Tensor with more than one "
                                               "value is ambiguous"):
            bool(a)


def test_backward_twice_through_nodes_that_saved_nothing():
    for lib in LIBS:
        x = lib.ones(3, requires_grad=True)
        y = (x + 1).sum()
        y.backward()
        y.backward()  # add and sum saved no tensor: PyTorch runs them again
        assert x.grad.tolist() == [2.0, 2.0, 2.0]
        z = (x.exp()).sum()
        z.backward()
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            z.backward()


def test_inference_mode_false_inside_inference_mode():
    for lib in LIBS:
        with lib.inference_mode():
            with lib.inference_mode(False):
                assert lib.is_inference_mode_enabled() is False
                assert lib.is_grad_enabled() is True
            assert lib.is_inference_mode_enabled() is True
            assert lib.is_grad_enabled() is False
        with lib.no_grad():
            with lib.inference_mode(False):
                assert lib.is_grad_enabled() is True
        assert lib.ones(2).layout == lib.strided


def test_numpy_of_a_tensor_requiring_grad_only_under_a_grad_mode_off():
    """PyTorch refuses ``numpy()`` on a tensor that requires grad while grad mode is on
    (the array would leave the graph silently); under ``no_grad``/``inference_mode`` it
    hands the memory over."""
    t = ag.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"requires grad\. Use tensor\.detach\(\)\.numpy"):
        t.numpy()
    with ag.no_grad():
        a = t.numpy()
    a[0] = 5.0  # the same memory
    assert t.detach()[0].item() == 5.0
    with ag.inference_mode():
        assert t.numpy() is a
