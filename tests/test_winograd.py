"""Winograd F(2x2, 3x3) convolutions (``nn/functional/_winograd.py``, taken by ``conv.py`` for
3x3 stride-1 kernels when numba is available) against the im2col path (``autograd._numba
.disabled()``), PyTorch, finite differences and the transforms' matrix definitions.

The transform tests run the kernels as plain Python (``Kernel.py``), so they check the
algorithm with or without numba; the convolution tests that need the compiled path skip
without numba.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from _conv_check import assert_close, conv_run

import autograd as ag
import autograd._numba as anb
import nn.functional as F
import nn.functional._winograd as W
from nn.functional import conv as C

BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], float)
AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], float)

needs_numba = pytest.mark.skipif(not anb.enabled(),
                                 reason="numba is not installed or AUTOGRAD_NUMBA=0")

# (N, C, H, W, O, padding): odd and even sizes, narrow images (the batch-innermost layout
# otherwise), pads 0..2 and asymmetric, a 1x1 image, more outputs than inputs and fewer
SHAPES = [
    (3, 16, 9, 7, 16, 1),
    (2, 16, 8, 8, 20, 0),
    (2, 17, 5, 6, 16, 2),
    (2, 16, 1, 1, 16, 1),
    (3, 24, 12, 13, 16, (0, 2)),
    (2, 16, 3, 4, 16, (2, 1)),
    (4, 16, 14, 14, 32, 1),
    (1, 32, 16, 15, 16, "same"),
]


def _conv_run(shape, dtype, seed=0, bias=True, torch=None):
    """conv2d forward + backward (``_conv_check.conv_run``): y, gx, gw, gb."""
    n, c, h, w, o, pad = shape
    return conv_run((n, c, h, w), (o, c, 3, 3), pad, dtype, seed, bias, torch)


@pytest.fixture
def wino_calls(monkeypatch):
    """Counts the Winograd passes ``conv.py`` runs: {"conv": forward and input-gradient
    passes, "weight": weight-gradient passes}."""
    calls = {"conv": 0, "weight": 0}
    conv, weight = C._conv_winograd, C._weight_grad_winograd

    def c(*a, **k):
        calls["conv"] += 1
        return conv(*a, **k)

    def w(*a, **k):
        calls["weight"] += 1
        return weight(*a, **k)

    monkeypatch.setattr(C, "_conv_winograd", c)
    monkeypatch.setattr(C, "_weight_grad_winograd", w)
    return calls


def _close(a, b, dtype):
    assert_close(a, b, dtype, 1e-11)


@needs_numba
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_winograd_matches_im2col(shape, dtype, wino_calls):
    got = _conv_run(shape, dtype)
    assert wino_calls == {"conv": 2, "weight": 1}  # forward, input and weight gradient
    with anb.disabled():
        ref = _conv_run(shape, dtype)
    assert wino_calls == {"conv": 2, "weight": 1}  # the reference did not take the path
    _close(got, ref, dtype)


@needs_numba
@pytest.mark.parametrize("shape", SHAPES[:5], ids=str)
def test_winograd_matches_torch(shape):
    torch = pytest.importorskip("torch")
    _close(_conv_run(shape, "float64"), _conv_run(shape, "float64", torch=torch), "float64")


@needs_numba
def test_winograd_gradcheck_and_double_backward(wino_calls):
    rng = np.random.default_rng(1)
    x = ag.tensor(rng.standard_normal((2, 16, 5, 6)), requires_grad=True)
    w = ag.tensor(rng.standard_normal((16, 16, 3, 3)), requires_grad=True)
    assert ag.gradcheck(lambda a, b: F.conv2d(a, b, padding=1), (x, w))
    assert ag.gradgradcheck(lambda a, b: F.conv2d(a, b, padding=(2, 0)), (x, w))
    assert wino_calls["conv"] > 0 and wino_calls["weight"] > 0


@needs_numba
@pytest.mark.parametrize("padding", [0, 1, 2])
def test_conv_transpose_takes_winograd(padding, wino_calls):
    """conv_transpose2d with a 3x3 stride-1 kernel is the input gradient's pass; its
    backward runs the forward and weight-gradient passes."""
    rng = np.random.default_rng(2)

    def run():
        g = ag.tensor(rng.standard_normal((2, 16, 7, 6)), requires_grad=True)
        w = ag.tensor(rng.standard_normal((16, 20, 3, 3)), requires_grad=True)
        y = F.conv_transpose2d(g, w, padding=padding)
        (y * y).sum().backward()
        return [y.detach().numpy(), g.grad.numpy(), w.grad.numpy()]

    state = rng.bit_generator.state
    got = run()
    assert wino_calls["conv"] == 2 and wino_calls["weight"] == 1
    rng.bit_generator.state = state
    with anb.disabled():
        ref = run()
    _close(got, ref, "float64")


@needs_numba
@pytest.mark.parametrize("kwargs,c", [
    ({"stride": 2, "padding": 1}, 16), ({"dilation": 2, "padding": 2}, 16),
    ({"groups": 2, "padding": 1}, 16), ({"padding": 3}, 16), ({"padding": 1}, 1),
])
def test_winograd_not_taken(kwargs, c, wino_calls):
    """Strides, dilations, groups, padding over 2 and thin layers stay on im2col."""
    rng = np.random.default_rng(3)
    x = ag.tensor(rng.standard_normal((2, c, 9, 9)), requires_grad=True)
    w = ag.tensor(rng.standard_normal((16, c // kwargs.get("groups", 1), 3, 3)),
                  requires_grad=True)
    F.conv2d(x, w, **kwargs).sum().backward()
    assert wino_calls == {"conv": 0, "weight": 0}


@needs_numba
def test_winograd_threads_agree():
    """Two engine threads split the samples into groups: the same numbers as one thread
    (the weight gradient's partial sums add in group order)."""
    shape = (8, 32, 28, 28, 32, 1)
    old = ag.get_num_threads()
    try:
        ag.set_num_threads(1)
        one = _conv_run(shape, "float32")
        ag.set_num_threads(2)
        two = _conv_run(shape, "float32")
    finally:
        ag.set_num_threads(old)
    _close(two, one, "float32")


@needs_numba
@pytest.mark.parametrize("threads,chunk_bytes", [(1, 1 << 20), (3, 1), (2, 1 << 14)])
@pytest.mark.parametrize("shape", [SHAPES[0], SHAPES[2], SHAPES[4], (5, 16, 6, 7, 24, 1)],
                         ids=str)
def test_compiled_chunk_loops_match_the_python_loop(shape, threads, chunk_bytes,
                                                    monkeypatch):
    """The Winograd passes as one compiled call per thread, GEMMs inside (``_winograd
    .forward``/``weight_grad`` with NumPy BLAS's GEMM, ``autograd._blas``), give the Python
    chunk loop's numbers (``conv._gemm_fn`` None): float64 and float32, with bias, one sample
    per chunk or several, over 1-3 threads."""
    from autograd import _blas, parallel  # noqa: PLC0415

    if _blas.gemm(np.float64) is None:
        pytest.skip("no CBLAS GEMM symbol in NumPy's BLAS")
    monkeypatch.setattr(parallel, "_requested", threads)
    monkeypatch.setattr(C, "_CHUNK_BYTES", chunk_bytes)
    monkeypatch.setattr(C, "_KERNEL_MIN_WORK", 1)
    used = []

    class Spy:  # conv.py asks the module's kernel for its compiled form: note the ask
        def __init__(self, name):
            self.name, self.kernel = name, getattr(W, name)

        def get(self):
            used.append(self.name)
            return self.kernel.get()

    for name in ("forward", "weight_grad"):
        monkeypatch.setattr(W, name, Spy(name))
    for dtype in ("float64", "float32"):
        used.clear()
        got = _conv_run(shape, dtype)
        assert set(used) == {"forward", "weight_grad"}
        with monkeypatch.context() as m:
            m.setattr(C, "_gemm_fn", lambda *a: None)
            want = _conv_run(shape, dtype)
        _close(got, want, dtype)


# ---- the transforms, run as Python: their matrix definitions ------------------------------

def test_input_transform_is_bt_d_b():
    rng = np.random.default_rng(4)
    m, c, th, tw = 2, 3, 2, 3
    xp = rng.standard_normal((m, 2 * th + 2, 2 * tw + 2, c))  # channels-last
    v = np.empty((16, m * th * tw, c))
    W.input_transform.py(xp, v)
    for n in range(m):
        for ch in range(c):
            for ty in range(th):
                for tx in range(tw):
                    d = xp[n, 2 * ty:2 * ty + 4, 2 * tx:2 * tx + 4, ch]
                    want = (BT @ d @ BT.T).reshape(16)
                    np.testing.assert_allclose(v[:, (n * th + ty) * tw + tx, ch], want,
                                               atol=1e-14)


@pytest.mark.parametrize("ho,wo", [(4, 6), (3, 5), (1, 1)])
def test_output_transform_is_at_m_a(ho, wo):
    rng = np.random.default_rng(5)
    m, o = 2, 3
    th, tw = -(-ho // 2), -(-wo // 2)
    mm = rng.standard_normal((16, m * th * tw, o))  # M^T: tiles by channels
    bias = rng.standard_normal(o)
    full = np.empty((m, o, 2 * th, 2 * tw))
    for n in range(m):
        for ch in range(o):
            for ty in range(th):
                for tx in range(tw):
                    t = mm[:, (n * th + ty) * tw + tx, ch].reshape(4, 4)
                    full[n, ch, 2 * ty:2 * ty + 2, 2 * tx:2 * tx + 2] = AT @ t @ AT.T
    for has_bias in (False, True):
        out = np.full((m, o, ho, wo), np.nan)
        W.output_transform.py(mm, th, tw, bias, has_bias, out)
        want = full[:, :, :ho, :wo] + (bias.reshape(-1, 1, 1) if has_bias else 0.0)
        np.testing.assert_allclose(out, want, atol=1e-14)


@pytest.mark.parametrize("ho,wo", [(4, 6), (3, 5)])
def test_grad_transform_is_the_output_transforms_adjoint(ho, wo):
    """<output_transform(M), dY> = <M, grad_transform(dY)> for every M: Z = A dY A^T."""
    rng = np.random.default_rng(6)
    m, o = 2, 3
    th, tw = -(-ho // 2), -(-wo // 2)
    gy = rng.standard_normal((m, o, ho, wo))
    z = np.empty((16, o, m * th * tw))
    W.grad_transform.py(gy, th, tw, z)
    for _ in range(3):
        mm = rng.standard_normal((16, m * th * tw, o))  # M^T
        y = np.empty((m, o, ho, wo))
        W.output_transform.py(mm, th, tw, np.zeros(1), False, y)
        assert abs(np.vdot(y, gy) - np.vdot(mm.transpose(0, 2, 1), z)) < \
            1e-12 * max(1.0, abs(np.vdot(y, gy)))


def test_weight_transforms_are_adjoint():
    """weight_untransform is the adjoint of weight_transform (the weight gradient's last
    step), and weight_transform(flip=True) is the transform of the flipped, swapped kernel."""
    rng = np.random.default_rng(7)
    g = rng.standard_normal((5, 4, 3, 3))
    p = rng.standard_normal((16, 5, 4))
    u = W.weight_transform(g)
    assert u.shape == (16, 5, 4)
    np.testing.assert_allclose(np.vdot(u, p), np.vdot(g, W.weight_untransform(p, g.dtype)),
                               rtol=1e-12)
    flipped = np.ascontiguousarray(g[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
    np.testing.assert_allclose(W.weight_transform(g, flip=True), W.weight_transform(flipped),
                               atol=1e-14)


def test_one_tile_is_a_3x3_correlation():
    """The algorithm itself, with the Python kernels: a 4x4 input and a 3x3 kernel give the
    2x2 valid correlation."""
    rng = np.random.default_rng(8)
    d = rng.standard_normal((1, 1, 4, 4))
    g = rng.standard_normal((1, 1, 3, 3))
    v = np.empty((16, 1, 1))
    W.input_transform.py(d.transpose(0, 2, 3, 1), v)
    mm = v @ W.weight_transform(g).transpose(0, 2, 1)  # M^T = V^T U^T
    y = np.empty((1, 1, 2, 2))
    W.output_transform.py(mm, 1, 1, np.zeros(1), False, y)
    want = np.array([[np.sum(d[0, 0, i:i + 3, j:j + 3] * g[0, 0]) for j in range(2)]
                     for i in range(2)])
    np.testing.assert_allclose(y[0, 0], want, atol=1e-13)


@pytest.mark.parametrize("c,h,k,p,s", [(16, 8, 3, 1, 1), (3, 30, 3, 1, 1), (3, 8, 3, 1, 1),
                                       (3, 30, 5, 0, 2), (16, 30, 3, 1, 1)])
def test_empty_batch(c, h, k, p, s):
    """A batch of 0 samples: empty output and input gradient, a zero weight gradient, on
    every CPU path (Winograd, C-order chunks, batch-innermost) with the kernels on and off
    (the chunked paths once divided by a chunk count of 0)."""
    modes = [anb.disabled] + ([contextlib.nullcontext] if anb.enabled() else [])
    for mode in modes:
        with mode():
            x = ag.tensor(np.zeros((0, c, h, h), np.float32), requires_grad=True)
            w = ag.tensor(np.ones((16, c, k, k), np.float32), requires_grad=True)
            y = F.conv2d(x, w, padding=p, stride=s)
            y.sum().backward()
        ho = (h + 2 * p - k) // s + 1
        assert tuple(y.shape) == (0, 16, ho, ho)
        assert tuple(x.grad.shape) == (0, c, h, h)
        assert w.grad.dtype == np.float32 and not w.grad.numpy().any()


@needs_numba
def test_helper_kernels_stay_kernels_in_their_module():
    """A kernel that calls another (``padded_input_transform`` -> ``input_transform``) is
    compiled against a copy of its module's globals: the module keeps the helper as a Kernel
    object, so ``_wino_ok``'s ``input_transform.get()`` and the Python twin ``.py`` still work
    after the caller was compiled."""
    assert W.padded_input_transform.get() is not None
    assert isinstance(W.input_transform, anb.Kernel)
    assert callable(W.input_transform.py) and W.input_transform.get() is not None
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 3, 5, 6))
    th, tw = 3, 3
    buf, v, ref = np.empty((2, 8, 8, 3)), np.empty((16, 18, 3)), np.empty((16, 18, 3))
    W.padded_input_transform.get()(x, 0, 1, 1, buf, v)
    pad = np.zeros((2, 2 * th + 2, 2 * tw + 2, 3))
    pad[:, 1:6, 1:7, :] = x[:, :, :5, :6].transpose(0, 2, 3, 1)
    W.input_transform.py(pad, ref)
    np.testing.assert_allclose(v, ref, atol=1e-14)
