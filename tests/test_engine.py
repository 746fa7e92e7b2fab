"""The graph and the backward sweep: paths, depth, freeing, hooks, modes, errors."""

from __future__ import annotations

import gc
import os
import tracemalloc
import weakref

import numpy as np
import pytest

import autograd as ag


def f64(*a, **k):
    return ag.tensor(*a, dtype=ag.float64, requires_grad=True, **k)


# ---- the seeds' dependency-graph example --------------------------------------------------

@pytest.mark.parametrize("u0,v0", [(1.5, -0.7), (0.3, 2.0), (-1.2, -0.4)])
def test_seed_example_sums_both_paths(u0, v0):
    u, v = f64(u0), f64(v0)
    x = u**2 - v**2
    y = u * v
    z = x**2 + y**2
    z.backward()
    # closed forms: dz/du = 4u^3 - 2uv^2 ... written out from the two paths
    dzdu = 2 * (u0**2 - v0**2) * 2 * u0 + 2 * (u0 * v0) * v0
    dzdv = 2 * (u0**2 - v0**2) * (-2 * v0) + 2 * (u0 * v0) * u0
    assert u.grad.item() == pytest.approx(dzdu, rel=1e-12)
    assert v.grad.item() == pytest.approx(dzdv, rel=1e-12)
    # the issue's closed forms
    assert u.grad.item() == pytest.approx(4 * u0**3 - 2 * u0 * v0**2, rel=1e-12)
    assert v.grad.item() == pytest.approx(4 * v0**3 - 2 * u0**2 * v0, rel=1e-12)


def test_seed_example_closed_forms_from_issue():
    # z = x² + y², x = u² − v², y = u·v: dz/du = 4u³ − 2uv², dz/dv = 4v³ − 2u²v
    u0, v0 = 0.9, -1.3
    u, v = f64(u0), f64(v0)
    z = (u**2 - v**2) ** 2 + (u * v) ** 2
    gu, gv = ag.grad(z, (u, v))
    assert gu.item() == pytest.approx(4 * u0**3 - 2 * u0 * v0**2, rel=1e-12)
    assert gv.item() == pytest.approx(4 * v0**3 - 2 * u0**2 * v0, rel=1e-12)


def test_each_path_counted_once():
    u = f64(2.0)
    x = u * 3.0
    y = u * 5.0
    z = x + y  # dz/du = dz/dx·dx/du + dz/dy·dy/du = 3 + 5
    z.backward()
    assert u.grad.item() == 8.0


def test_diamond():
    a = f64([1.0, 2.0])
    b = a * 2
    c = b.exp()
    d = b.sin()
    out = (c * d).sum()
    out.backward()
    av = np.array([1.0, 2.0])
    expected = 2 * (np.exp(2 * av) * np.sin(2 * av) + np.exp(2 * av) * np.cos(2 * av))
    np.testing.assert_allclose(a.grad.numpy(), expected, rtol=1e-12)


def test_tensor_used_1000_times():
    x = f64(0.5)
    total = x * 0.0
    for i in range(1000):
        total = total + x * float(i)
    total.backward()
    assert x.grad.item() == pytest.approx(sum(range(1000)))


def test_same_tensor_twice_in_one_op():
    a = f64([3.0])
    (a * a).sum().backward()
    assert a.grad.item() == 6.0
    b = f64([3.0])
    (b + b).sum().backward()
    assert b.grad.item() == 2.0


def test_deep_chain_has_no_recursion_limit():
    x = ag.tensor([1.0], requires_grad=True)
    y = x
    n = 200_000
    for _ in range(n // 2):
        y = y * 1.0
        y = y + 0.0
    y.sum().backward()
    assert x.grad.item() == 1.0
    del y
    gc.collect()


# ---- freeing, retain_graph --------------------------------------------------------------

def test_backward_twice_raises_and_retain_graph_allows():
    x = f64([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    g1 = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * g1)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_graph_arrays_freed_after_backward_and_del():
    gc.disable()
    try:
        x = ag.randn(100, requires_grad=True)
        h = x.exp()
        node_ref = weakref.ref(h.grad_fn)
        saved_ref = weakref.ref(h.grad_fn.saved[0])
        loss = (h * 2).sum()
        del h
        loss.backward()
        assert saved_ref() is None  # released by backward
        del loss
        assert node_ref() is None  # no reference cycle keeps the node alive
    finally:
        gc.enable()


def test_graph_freed_without_backward_when_loss_dropped():
    gc.disable()
    try:
        x = ag.randn(10, requires_grad=True)
        loss = (x.exp() * x).sum()
        ref = weakref.ref(loss.grad_fn)
        del loss
        assert ref() is None
    finally:
        gc.enable()


def test_training_steps_do_not_grow_memory():
    import nn
    import nn.functional as F
    import optim

    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = ag.randn(32, 8)
    y = ag.randint(0, 3, (32,))

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(50):
        step()
    tracemalloc.start()
    for _ in range(1000):  # warm-up: allocator pools and caches settle
        step()
    base, _ = tracemalloc.get_traced_memory()
    for _ in range(1000):
        step()
    cur, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert cur - base < 64 * 1024, f"memory grew by {cur - base} bytes over 1000 steps"


# ---- accumulation, memory sharing ---------------------------------------------------------

def test_grads_share_no_memory_and_inputs_unchanged():
    a = f64([1.0, 2.0])
    b = f64([3.0, 4.0])
    a0, b0 = a.numpy(force=True).copy(), b.numpy(force=True).copy()
    (a + b).sum().backward()
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    np.testing.assert_array_equal(a.detach().numpy(), a0)
    np.testing.assert_array_equal(b.detach().numpy(), b0)
    a.grad.numpy()[0] = 100.0  # writable, and does not touch b.grad
    assert b.grad.numpy()[0] == 1.0


def test_grad_not_aliasing_the_given_gradient():
    x = f64([1.0, 2.0])
    g = ag.tensor([1.0, 1.0], dtype=ag.float64)
    (x + 0.0).backward(g)
    assert not np.shares_memory(x.grad.numpy(), g.numpy())


def test_leaf_grads_accumulate_across_backward_calls():
    x = f64([1.0])
    (x * 3).sum().backward()
    (x * 4).sum().backward()
    assert x.grad.item() == 7.0


def test_mixed_precision_grads_keep_input_dtypes():
    a = ag.tensor([1.0, 2.0], dtype=ag.float32, requires_grad=True)
    b = ag.tensor([3.0, 4.0], dtype=ag.float64, requires_grad=True)
    out = a * b
    assert out.dtype == np.float64
    out.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_allclose(a.grad.numpy(), [3.0, 4.0])


# ---- non-leaf grads, hooks, retain_grad -------------------------------------------------

def test_retain_grad_and_hooks():
    x = f64([1.0, 2.0])
    y = x * 2
    y.retain_grad()
    seen = []
    y.register_hook(lambda g: seen.append(g.numpy().copy()))
    x.register_hook(lambda g: g * 10)  # a leaf hook may replace the gradient
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [4.0, 8.0])
    np.testing.assert_allclose(seen[0], [4.0, 8.0])
    np.testing.assert_allclose(x.grad.numpy(), [80.0, 160.0])
    assert y.is_leaf is False and x.is_leaf is True


def test_hook_handle_remove():
    x = f64([1.0])
    h = x.register_hook(lambda g: g * 0)
    h.remove()
    (x * 2).sum().backward()
    assert x.grad.item() == 2.0


# ---- grad modes --------------------------------------------------------------------------

def test_no_grad_enable_grad_and_decorators():
    x = f64([1.0])
    with ag.no_grad():
        assert not (x * 2).requires_grad
        assert not ag.is_grad_enabled()
        with ag.enable_grad():
            assert (x * 2).requires_grad
    assert ag.is_grad_enabled()

    @ag.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad
    ag.set_grad_enabled(False)
    assert not (x * 2).requires_grad
    ag.set_grad_enabled(True)
    with ag.set_grad_enabled(False):
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()


def test_detach_stops_gradient():
    x = f64([2.0])
    y = x * x.detach()
    y.backward()
    assert x.grad.item() == 2.0


# ---- autograd.grad and higher order --------------------------------------------------------

def test_grad_does_not_touch_dot_grad_and_handles_unused():
    x, y = f64([1.0, 2.0]), f64([3.0])
    out = (x * x).sum()
    (gx,) = ag.grad(out, x, retain_graph=True)
    np.testing.assert_allclose(gx.numpy(), [2.0, 4.0])
    assert x.grad is None
    with pytest.raises(RuntimeError, match="allow_unused"):
        ag.grad(out, [x, y], retain_graph=True)
    gx2, gy = ag.grad(out, [x, y], allow_unused=True)
    assert gy is None


def test_grad_wrt_non_leaf():
    x = f64([1.0, 2.0])
    h = x * 3
    out = (h * h).sum()
    (gh,) = ag.grad(out, h)
    np.testing.assert_allclose(gh.numpy(), 2 * 3 * np.array([1.0, 2.0]))


@pytest.mark.parametrize("x0", [0.3, 1.7])
def test_third_derivative(x0):
    x = f64(x0)
    y = x.sin() * x**3
    (g1,) = ag.grad(y, x, create_graph=True)
    (g2,) = ag.grad(g1, x, create_graph=True)
    (g3,) = ag.grad(g2, x)
    s, c = np.sin(x0), np.cos(x0)
    d1 = c * x0**3 + 3 * x0**2 * s
    d2 = -s * x0**3 + 6 * x0**2 * c + 6 * x0 * s
    d3 = -c * x0**3 - 9 * x0**2 * s + 18 * x0 * c + 6 * s
    assert g1.item() == pytest.approx(d1, rel=1e-10)
    assert g2.item() == pytest.approx(d2, rel=1e-10)
    assert g3.item() == pytest.approx(d3, rel=1e-10)


def test_double_backward_gradient_penalty():
    w = f64([[0.5, -1.0], [2.0, 0.3]])
    x = f64([1.0, -2.0])
    y = ((w @ x).tanh()).sum()
    (gx,) = ag.grad(y, x, create_graph=True)
    penalty = (gx * gx).sum()
    penalty.backward()
    assert w.grad is not None and w.grad.shape == (2, 2)

    def pen(w_):
        yy = ((w_ @ x.detach().requires_grad_()).tanh()).sum()
        return yy

    assert ag.gradgradcheck(lambda w_: ((w_ @ ag.tensor([1.0, -2.0], dtype=ag.float64))
                                        .tanh()).sum(), (w,))


# ---- custom functions ---------------------------------------------------------------------

class Cube(ag.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * 3 * x * x


class MulAdd(ag.Function):
    @staticmethod
    def forward(ctx, a, b, k):
        ctx.save_for_backward(a, b)
        ctx.k = k
        return a * b + k, a - b

    @staticmethod
    def backward(ctx, g1, g2):
        a, b = ctx.saved_tensors
        return g1 * b + g2, g1 * a - g2, None


def test_custom_function_gradcheck_and_double_backward():
    x = ag.randn(5, dtype=ag.float64, requires_grad=True)
    assert ag.gradcheck(Cube.apply, (x,))
    assert ag.gradgradcheck(Cube.apply, (x,))
    a = ag.randn(3, dtype=ag.float64, requires_grad=True)
    b = ag.randn(3, dtype=ag.float64, requires_grad=True)
    assert ag.gradcheck(lambda a_, b_: MulAdd.apply(a_, b_, 2.0), (a, b))
    s, d = MulAdd.apply(a, b, 2.0)
    d.sum().backward()  # only the second output used: the first gets zeros
    np.testing.assert_allclose(a.grad.numpy(), np.ones(3))


# ---- anomaly detection ----------------------------------------------------------------------

def test_detect_anomaly_forward_names_op_and_line():
    x = ag.tensor([-1.0, 1.0], requires_grad=True)
    with ag.detect_anomaly():
        with pytest.raises(FloatingPointError) as e:
            with np.errstate(invalid="ignore"):
                x.log()  # the user's line
    msg = str(e.value)
    assert "Log" in msg and "nan" in msg and "test_engine.py" in msg and "x.log()" in msg


def test_detect_anomaly_backward_names_op():
    x = ag.tensor([0.0, 1.0], requires_grad=True)
    with ag.detect_anomaly(), np.errstate(divide="ignore"):
        y = x.sqrt().sum()
        with pytest.raises(FloatingPointError, match="Sqrt.*inf") as e:
            y.backward()
    assert "test_engine.py" in str(e.value)


def test_anomaly_error_is_a_runtime_error():
    x = ag.tensor([0.0, 1.0], requires_grad=True)
    with ag.autograd.detect_anomaly():
        y = (ag.sqrt(x) * 0.0).sum()
        with pytest.raises(RuntimeError, match="nan"):  # PyTorch's class
            y.backward()


# ---- in-place ops and saved tensors -----------------------------------------------------------

def test_inplace_on_saved_tensor_raises_at_backward():
    x = f64([1.0, 2.0])
    a = x * 2
    b = a * a  # saves a
    a.mul_(3)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*Mul") as e:
        b.sum().backward()
    assert "version 1; expected version 0" in str(e.value)


def test_inplace_correct_gradient_when_allowed():
    x = f64([1.0, 2.0])
    a = x * 2
    a += 1  # add does not save its inputs: fine
    a.exp().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(2 * np.array([1.0, 2.0]) + 1))


def test_inplace_on_leaf_requiring_grad_raises():
    x = f64([1.0])
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x += 1
    with ag.no_grad():
        x += 1
    assert x.item() == 2.0


def test_saved_arrays_read_only_until_freed():
    arr = np.array([1.0, 2.0, 3.0])
    x = ag.from_numpy(arr)
    w = ag.ones(3, dtype=ag.float64, requires_grad=True)
    loss = (w * x).sum()
    with pytest.raises(ValueError, match="read-only"):
        arr[0] = 10.0  # would silently corrupt w's gradient
    loss.backward()
    arr[0] = 10.0  # graph freed: writable again
    np.testing.assert_allclose(w.grad.numpy(), [1.0, 2.0, 3.0])


def test_numpy_handle_taken_after_save_is_read_only():
    x = ag.tensor([1.0, 2.0], dtype=ag.float64)
    w = f64([1.0, 1.0])
    loss = (w * x).sum()
    handle = x.numpy()
    with pytest.raises(ValueError, match="read-only"):
        handle[0] = 5.0
    loss.backward()
    handle[0] = 5.0
    assert x[0].item() == 5.0


def test_detached_numpy_handle_of_saved_leaf_is_read_only():
    w = f64([1.0, 2.0])
    loss = (w * w).sum()
    handle = w.detach().numpy()  # the usual way to look at a parameter
    with pytest.raises(ValueError, match="read-only"):
        handle[0] = 5.0
    loss.backward()
    handle[0] = 5.0
    assert w[0].item() == 5.0


def test_saved_arrays_unlocked_when_graph_dropped():
    arr = np.array([1.0, 2.0])
    x = ag.from_numpy(arr)
    w = f64([1.0, 1.0])
    loss = (w * x).sum()
    del loss
    gc.collect()
    arr[0] = 3.0


# ---- bad input -------------------------------------------------------------------------------

def test_backward_on_non_scalar_needs_gradient():
    x = f64([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*\(2,\).*gradient"):
        (x * 2).backward()


def test_backward_gradient_shape_mismatch():
    x = f64([1.0, 2.0])
    # PyTorch's message
    with pytest.raises(RuntimeError, match=r"^Mismatch in shape: grad_output\[0\] has a shape of "
                       r"torch.Size\(\[3\]\) and output\[0\] has a shape of torch.Size\(\[2\]\)"):
        (x * 2).backward(ag.ones(3, dtype=ag.float64))


def test_requires_grad_on_integer_tensor():
    with pytest.raises(RuntimeError, match="floating point.*int64"):
        ag.tensor([1, 2], requires_grad=True)


def test_backward_without_grad_fn():
    x = ag.tensor([1.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        (x * 2).sum().backward()


def test_broadcast_shape_mismatch_names_shapes():
    a = ag.ones(2, 3)
    b = ag.ones(4)
    with pytest.raises(RuntimeError,
                       match=r"Add: the shapes \[2, 3\] and \[4\] cannot be broadcast"):
        a + b


def test_matmul_shape_mismatch_names_shapes():
    with pytest.raises(RuntimeError, match=r"matmul.*\[2, 3\].*\[4, 5\]"):
        ag.ones(2, 3) @ ag.ones(4, 5)


def test_cuda_without_cupy_is_a_clear_error():
    if ag.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="CuPy"):
        ag.zeros(2, device="cuda")
    with pytest.raises(RuntimeError, match="CuPy"):
        ag.ones(2).to("cuda")


def test_mixed_devices_error_names_both(monkeypatch):
    from autograd import backend
    from autograd.backend import Device

    class FakeGpuArray(np.ndarray):
        pass

    import sys

    real = backend.device_of
    monkeypatch.setattr(  # `ag.tensor` is the function, so patch the module via sys.modules
        sys.modules["autograd.tensor"], "device_of",
        lambda a: Device("cuda", 0) if isinstance(a, FakeGpuArray) else real(a))
    a = ag.ones(3)
    b = ag.from_numpy(np.ones(3, dtype=np.float32).view(FakeGpuArray))
    with pytest.raises(RuntimeError, match=r"Add.*same device.*cpu.*cuda:0"):
        a + b


def test_manual_seed_reproducible():
    ag.manual_seed(123)
    a = ag.randn(5).numpy().copy()
    ag.manual_seed(123)
    b = ag.randn(5).numpy().copy()
    np.testing.assert_array_equal(a, b)


# ---- AccumulateGrad, hooks on leaves and nodes ----------------------------------------------

def test_leaves_are_reached_through_accumulate_grad_nodes():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    w = ag.tensor([3.0, 4.0], requires_grad=True)
    y = x * w + x
    add = y.grad_fn
    (mul, _), (acc_x, nr) = add.next_functions
    assert nr == 0 and acc_x.backward_name() == "AccumulateGrad" and acc_x.variable is x
    (a0, _), (a1, _) = mul.next_functions
    assert a0 is acc_x  # one node per leaf: every path ends in the same AccumulateGrad
    assert a1.variable is w
    assert x.grad_fn is None and x.is_leaf
    const = ag.tensor([1.0, 1.0])
    assert (x * const).grad_fn.next_functions[1] == (None, 0)


def test_leaf_hook_runs_once_with_the_sum_over_paths():
    x = ag.tensor(2.0, requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.item()))
    (x * x + 3 * x).backward()  # three uses of x
    assert seen == [7.0] and x.grad.item() == 7.0


def test_post_accumulate_grad_hook_sees_the_accumulated_grad_during_backward():
    w1 = ag.tensor([1.0, 2.0], requires_grad=True)
    w2 = ag.tensor([3.0], requires_grad=True)
    order = []
    h = w1.register_post_accumulate_grad_hook(
        lambda p: order.append(("w1", p.grad.numpy().copy())))
    w2.register_post_accumulate_grad_hook(lambda p: order.append(("w2", p.grad.item())))
    # w2 is used at the end of the forward pass: its gradient is ready first
    loss = ((w1 * 2).sum() * w2).sum()
    loss.backward()
    assert [k for k, _ in order] == ["w2", "w1"]
    np.testing.assert_array_equal(order[1][1], [6.0, 6.0])
    loss = ((w1 * 2).sum() * w2).sum()
    loss.backward()  # accumulates: the hook sees the sum
    np.testing.assert_array_equal(order[3][1], [12.0, 12.0])
    h.remove()
    ((w1 * 2).sum() * w2).sum().backward()
    assert [k for k, _ in order[4:]] == ["w2"]
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w1 * 2).register_post_accumulate_grad_hook(lambda p: None)


def test_post_accumulate_grad_hook_fires_before_backward_finishes():
    # what distributed training relies on: a layer's gradient is final (and its hook runs)
    # while backward still works on the layers below it
    a = ag.tensor([1.0], requires_grad=True)
    b = ag.tensor([2.0], requires_grad=True)
    events = []
    b.register_post_accumulate_grad_hook(lambda p: events.append("b accumulated"))
    h = a * 3
    h.register_hook(lambda g: events.append("backward reached a's op"))
    (h * b).sum().backward()
    assert events == ["b accumulated", "backward reached a's op"]


def test_node_hooks():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    calls = []

    def pre(grad_outputs):
        calls.append(("pre", grad_outputs[0].numpy().copy()))
        return (grad_outputs[0] * 10,)

    def post(grad_inputs, grad_outputs):
        calls.append(("post", grad_inputs[0].numpy().copy()))

    y.grad_fn.register_prehook(pre)
    handle = y.grad_fn.register_hook(post)
    y.sum().backward(retain_graph=True)
    assert [c[0] for c in calls] == ["pre", "post"]
    np.testing.assert_array_equal(calls[1][1], [30.0, 30.0])
    np.testing.assert_array_equal(x.grad.numpy(), [30.0, 30.0])
    handle.remove()
    y.sum().backward()
    assert [c[0] for c in calls] == ["pre", "post", "pre"]


def test_backward_inputs_and_grad_capture_leaves():
    x = ag.tensor(3.0, requires_grad=True)
    y = ag.tensor(4.0, requires_grad=True)
    z = x * y + y
    (gx,) = ag.grad(z, x, retain_graph=True)
    assert gx.item() == 4.0 and x.grad is None
    z.backward(inputs=[y])
    assert y.grad.item() == 4.0 and x.grad is None
    unused = ag.tensor(1.0, requires_grad=True)
    assert ag.grad((x * 2), unused, allow_unused=True) == (None,)


# ---- custom Functions ------------------------------------------------------------------------

def test_mark_non_differentiable():
    class SortWithIndex(ag.Function):
        @staticmethod
        def forward(ctx, x):
            v, i = x.sort()
            idx = i.double()
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(i)
            return v, idx

        @staticmethod
        def backward(ctx, gv, gi):
            (i,) = ctx.saved_tensors
            assert float(gi.abs().sum()) == 0.0  # zeros are passed for the marked output
            out = ag.zeros_like(gv)
            out[i] = gv
            return out

    x = ag.tensor([3.0, 1.0, 2.0], dtype=ag.float64, requires_grad=True)
    v, idx = SortWithIndex.apply(x)
    assert v.requires_grad and not idx.requires_grad and idx.grad_fn is None
    (v * ag.tensor([1.0, 2.0, 3.0], dtype=ag.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 1.0, 2.0])


class _CubeOnce(ag.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    @ag.once_differentiable
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        assert not ag.is_grad_enabled()  # runs without recording
        return 3 * x ** 2 * gy


def test_once_differentiable_first_order_works_second_order_raises():
    x = ag.tensor(2.0, dtype=ag.float64, requires_grad=True)
    _CubeOnce.apply(x).backward()
    assert x.grad.item() == 12.0
    (g,) = ag.grad(_CubeOnce.apply(x), x, create_graph=True)
    assert g.item() == 12.0 and not g.requires_grad  # PyTorch: constant gradients stay so
    v = ag.tensor(1.0, dtype=ag.float64, requires_grad=True)
    (g,) = ag.grad(_CubeOnce.apply(x), x, grad_outputs=v, create_graph=True)
    assert g.item() == 12.0 and g.requires_grad
    with pytest.raises(RuntimeError, match="once_differentiable.*_CubeOnce"):
        g.backward()


def test_setup_context_style_function():
    class Scale(ag.Function):
        @staticmethod
        def forward(x, k):
            return x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.k = inputs[1]

        @staticmethod
        def backward(ctx, gy):
            return gy * ctx.k, None

    x = ag.tensor([1.0, 2.0], requires_grad=True)
    Scale.apply(x, 5.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 5.0])


def test_inference_mode_flag_and_gc_relaxed_restores():
    import gc

    with ag.inference_mode():
        assert ag.is_inference_mode_enabled() and not ag.is_grad_enabled()
    assert not ag.is_inference_mode_enabled() and ag.is_grad_enabled()
    before = gc.get_threshold()
    from autograd.engine import gc_relaxed

    with gc_relaxed():
        with gc_relaxed():
            assert gc.get_threshold()[0] >= 100_000 or os.environ.get("AUTOGRAD_KEEP_GC")
        assert gc.get_threshold()[0] >= 100_000 or os.environ.get("AUTOGRAD_KEEP_GC")
    assert gc.get_threshold() == before


def test_grad_mode_decorators_like_pytorch():
    """``@no_grad``/``@enable_grad``/``@inference_mode`` without parentheses, and the modes
    on generator functions (set while the body runs, the caller's mode at each yield),
    compared with PyTorch."""
    torch = pytest.importorskip("torch")

    def trace(lib):
        x = lib.ones(2, requires_grad=True)
        seen = []

        @lib.no_grad
        def bare(a):
            return a * 2

        @lib.inference_mode
        def inf(a):
            return a * 3

        @lib.enable_grad
        def on(a):
            return a * 4

        seen += [bare(x).requires_grad, inf(x).requires_grad]
        with lib.no_grad():
            seen.append(on(x).requires_grad)

        def make(decorator):
            @decorator
            def gen(n):
                for i in range(n):
                    seen.append(("inside", lib.is_grad_enabled()))
                    got = yield (x * i).requires_grad
                    seen.append(("sent", got))
                return "done"
            return gen

        for deco in (lib.no_grad(), lib.no_grad, lib.inference_mode(), lib.set_grad_enabled(False)):
            g = make(deco)(3)
            seen.append(next(g))
            seen.append(("caller", lib.is_grad_enabled()))
            seen.append(g.send("hi"))
            g.close()
            seen.append(("closed", lib.is_grad_enabled()))
        with lib.no_grad():
            g = make(lib.enable_grad())(1)
            seen.append(next(g))
            seen.append(("caller", lib.is_grad_enabled()))
            with pytest.raises(StopIteration, match="done"):
                next(g)
        return seen

    assert trace(ag) == trace(torch)


def test_keep_freed_memory_is_opt_in_and_idempotent():
    import subprocess
    import sys

    code = ("import autograd as ag; from autograd import backend; "
            "assert not backend._malloc_tuned; r = backend.keep_freed_memory(); "
            "assert backend.keep_freed_memory() == r; print(r)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() in ("True", "False")


def test_grad_dtype_like_pytorch():
    torch = pytest.importorskip("torch")
    for lib in (ag, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        assert x.grad_dtype == lib.float32
        x.grad_dtype = lib.float64
        (x * 2).sum().backward()
        assert x.grad.dtype == lib.float64
        np.testing.assert_array_equal(np.asarray(x.grad.tolist()), [2.0, 2.0])
        y = x * 2
        with pytest.raises(RuntimeError, match="only be set on leaf"):
            y.grad_dtype = lib.float16
        with pytest.raises(RuntimeError, match="only be accessed on leaf"):
            y.grad_dtype  # noqa: B018
        z = lib.tensor([1.0])
        z.grad_dtype = None
        assert z.grad_dtype is None


def test_custom_function_trailing_none_gradients_are_dropped():
    # PyTorch's LinearFunction tutorial: forward(ctx, input, weight, bias=None) called
    # without bias, backward returns (grad_input, grad_weight, None)
    class LinearFunction(ag.autograd.Function):
        @staticmethod
        def forward(ctx, input, weight, bias=None):
            ctx.save_for_backward(input, weight)
            return input.mm(weight.t())

        @staticmethod
        def backward(ctx, grad_output):
            input, weight = ctx.saved_tensors
            return grad_output.mm(weight), grad_output.t().mm(input), None

    x = ag.randn(3, 4, dtype=ag.float64, requires_grad=True)
    w = ag.randn(2, 4, dtype=ag.float64, requires_grad=True)
    LinearFunction.apply(x, w).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.ones((3, 2)) @ w.detach().numpy())

    class TooMany(ag.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2, g  # a non-None extra gradient is still an error

    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        TooMany.apply(x).sum().backward()

