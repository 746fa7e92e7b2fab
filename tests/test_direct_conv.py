"""Direct convolutions for few input channels (``nn/functional/_direct_conv.py``, taken by
``conv.py`` for stride-1 layers with C*kh*kw <= 25 when numba is available) and the compiled
col2im gather (``_col2im_kernel.py``), against the im2col path (``autograd._numba
.disabled()``), PyTorch and finite differences.

The kernels' own logic is also run as plain Python (``Kernel.py``), with or without numba.
"""

from __future__ import annotations

import numpy as np
import pytest
from _conv_check import assert_close, conv_run

import autograd as ag
import autograd._numba as anb
import nn.functional as F
import nn.functional._col2im_kernel as K
import nn.functional._direct_conv as D
from nn.functional import conv as C

needs_numba = pytest.mark.skipif(not anb.enabled(),
                                 reason="numba is not installed or AUTOGRAD_NUMBA=0")

# (N, C, H, W, O, kernel, padding): the fused widths 3, 5, 7 and the generic one (4x2, 1x1),
# two channels, padding wider than the kernel, asymmetric and "same", an empty batch
SHAPES = [
    (3, 1, 9, 7, 4, 5, 2),
    (2, 1, 8, 8, 6, 3, 1),
    (2, 2, 6, 7, 3, 3, 0),
    (2, 1, 6, 5, 2, (4, 2), (0, 1)),
    (2, 1, 9, 9, 3, 7, 3),
    (2, 1, 6, 5, 2, 1, 0),
    (1, 1, 3, 4, 2, 5, 4),
    (2, 1, 10, 9, 3, 5, "same"),
    (0, 1, 6, 6, 2, 3, 1),
]


def _ks(k):
    return (k, k) if isinstance(k, int) else k


def _conv_run(shape, dtype, seed=0, bias=True, torch=None):
    """conv2d forward + backward (``_conv_check.conv_run``): y, gx, gw, gb."""
    n, c, h, w, o, k, pad = shape
    return conv_run((n, c, h, w), (o, c) + _ks(k), pad, dtype, seed, bias, torch)


@pytest.fixture
def direct_calls(monkeypatch):
    """Counts the direct passes ``conv.py`` runs (with the size limits raised so that the
    7x7 kernel of SHAPES takes them too)."""
    monkeypatch.setattr(C, "_DIRECT_MAX_K", 49)
    monkeypatch.setattr(C, "_DIRECT_MAX_OK", 512)
    calls = {"forward": 0, "weight": 0, "input": 0}

    def counted(name, fn):
        def f(*a, **kw):
            calls[name] += 1
            return fn(*a, **kw)
        return f

    monkeypatch.setattr(C, "_conv_direct", counted("forward", C._conv_direct))
    monkeypatch.setattr(C, "_weight_grad_direct", counted("weight", C._weight_grad_direct))
    monkeypatch.setattr(C, "_input_grad_direct", counted("input", C._input_grad_direct))
    return calls


def _close(a, b, dtype):
    assert_close(a, b, dtype, 1e-12)


@needs_numba
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_direct_matches_im2col(shape, dtype, direct_calls):
    got = _conv_run(shape, dtype)
    assert direct_calls == {"forward": 1, "weight": 1, "input": 1}
    with anb.disabled():
        ref = _conv_run(shape, dtype)
    assert direct_calls == {"forward": 1, "weight": 1, "input": 1}  # not in the reference
    _close(got, ref, dtype)


@needs_numba
@pytest.mark.parametrize("shape", SHAPES[:5], ids=str)
def test_direct_matches_torch(shape):
    torch = pytest.importorskip("torch")
    _close(_conv_run(shape, "float64"), _conv_run(shape, "float64", torch=torch), "float64")


@needs_numba
def test_direct_gradcheck_and_double_backward(direct_calls):
    rng = np.random.default_rng(1)
    x = ag.tensor(rng.standard_normal((2, 1, 6, 5)), requires_grad=True)
    w = ag.tensor(rng.standard_normal((3, 1, 5, 5)), requires_grad=True)
    b = ag.tensor(rng.standard_normal(3), requires_grad=True)
    assert ag.gradcheck(lambda a, v, c: F.conv2d(a, v, c, padding=2), (x, w, b))
    assert ag.gradgradcheck(lambda a, v: F.conv2d(a, v, padding=(1, 3)), (x, w))
    assert min(direct_calls.values()) > 0


@needs_numba
def test_conv_transpose_to_one_channel_takes_direct(direct_calls):
    """conv_transpose2d to one output channel is the input gradient's pass of a C = 1
    convolution; its backward runs the forward and weight-gradient passes."""
    rng = np.random.default_rng(2)

    def run():
        g = ag.tensor(rng.standard_normal((2, 4, 7, 6)), requires_grad=True)
        w = ag.tensor(rng.standard_normal((4, 1, 5, 5)), requires_grad=True)
        y = F.conv_transpose2d(g, w, padding=1)
        (y * y).sum().backward()
        return [y.detach().numpy(), g.grad.numpy(), w.grad.numpy()]

    state = rng.bit_generator.state
    got = run()
    assert direct_calls == {"forward": 1, "weight": 1, "input": 1}
    rng.bit_generator.state = state
    with anb.disabled():
        ref = run()
    _close(got, ref, "float64")


@needs_numba
@pytest.mark.parametrize("kwargs,c,k,o", [
    ({"stride": 2, "padding": 1}, 1, 5, 4), ({"dilation": 2, "padding": 2}, 1, 3, 4),
    ({"groups": 2, "padding": 1}, 2, 3, 4), ({"padding": 1}, 1, 7, 4), ({}, 2, 5, 4),
    ({"padding": 2}, 1, 5, 24),
])
def test_direct_not_taken(kwargs, c, k, o, direct_calls, monkeypatch):
    """Strides, dilations, groups, C*kh*kw over 27 and O*C*kh*kw over 512 stay on
    im2col."""
    monkeypatch.setattr(C, "_DIRECT_MAX_K", 27)
    rng = np.random.default_rng(3)
    x = ag.tensor(rng.standard_normal((2, c, 9, 9)), requires_grad=True)
    w = ag.tensor(rng.standard_normal((o, c // kwargs.get("groups", 1), k, k)),
                  requires_grad=True)
    F.conv2d(x, w, **kwargs).sum().backward()
    assert direct_calls == {"forward": 0, "weight": 0, "input": 0}


@needs_numba
def test_direct_threads_agree(monkeypatch):
    """Two engine threads take a range of samples each: the forward and input gradient are
    the same numbers, the weight gradient's two partial sums add in range order."""
    monkeypatch.setattr(C, "_KERNEL_MIN_WORK", 1)
    shape = (8, 1, 28, 28, 6, 5, 2)
    old = ag.get_num_threads()
    seen = []
    real = C.parallel_slices
    monkeypatch.setattr(C, "parallel_slices",
                        lambda fn, ranges: seen.append(len(ranges)) or real(fn, ranges))
    try:
        ag.set_num_threads(1)
        one = _conv_run(shape, "float32")
        ag.set_num_threads(2)
        two = _conv_run(shape, "float32")
    finally:
        ag.set_num_threads(old)
    assert seen == [1, 1, 1, 2, 2, 2]
    np.testing.assert_array_equal(two[0], one[0])
    np.testing.assert_array_equal(two[1], one[1])
    _close(two, one, "float32")


# ---- the kernels run as Python: the wide-row algorithm itself ------------------------------

def _reference_conv(x, w, b, pt, pl, ho, wo):
    """A loop over kernel taps: y[n, o, r, q] = b[o] + sum w[o, c, i, j] xp[n, c, r+i, q+j]."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.zeros((n, c, max(ho + kh - 1, pt + h), max(wo + kw - 1, pl + wd)))
    xp[:, :, pt:pt + h, pl:pl + wd] = x
    y = np.broadcast_to(b.reshape(1, -1, 1, 1), (n, o, ho, wo)).copy()
    for i in range(kh):
        for j in range(kw):
            y += np.einsum("oc,ncrq->norq", w[:, :, i, j], xp[:, :, i:i + ho, j:j + wo])
    return y


@pytest.mark.parametrize("k", [(3, 3), (5, 5), (7, 7), (2, 4)], ids=str)
def test_python_kernels_are_the_convolution_and_its_adjoints(k):
    """forward is the correlation; weight_grad and input_grad are its adjoints:
    <conv(x, w), gy> = <w, weight_grad(x, gy)> = <x, input_grad(gy, w)>."""
    rng = np.random.default_rng(4)
    kh, kw = k
    n, c, h, wd, o, pt, pl = 2, 2, 6, 5, 3, 1, 2
    ho, wo = h + 2 * pt - kh + 1, wd + 2 * pl - kw + 1
    hp, wp = C._direct_geom(C.ConvGeom(kh, kw, 1, 1, 1, 1, pt, pt, pl, pl, 1), h, wd, ho, wo)[2:]
    x = rng.standard_normal((n, c, h, wd))
    w = rng.standard_normal((o, c, kh, kw))
    b = rng.standard_normal(o)
    y = np.empty((n, o, ho, wo))
    D.forward.py(x, w, b, pt, pl, hp, wp, y, 0, n)
    np.testing.assert_allclose(y, _reference_conv(x, w, b, pt, pl, ho, wo), atol=1e-12)
    gy = rng.standard_normal((n, o, ho, wo))
    gw = np.zeros_like(w)
    D.weight_grad.py(x, gy, pt, pl, hp, wp, gw, 0, n)
    dx = np.full_like(x, np.nan)
    D.input_grad.py(gy, w, pt, pl, hp, wp, dx, 0, n)
    y0 = _reference_conv(x, w, np.zeros(o), pt, pl, ho, wo)
    assert abs(np.vdot(y0, gy) - np.vdot(w, gw)) < 1e-10 * abs(np.vdot(y0, gy))
    assert abs(np.vdot(y0, gy) - np.vdot(x, dx)) < 1e-10 * abs(np.vdot(y0, gy))


@pytest.mark.parametrize("stride,dilation,pad", [(1, 1, 0), (2, 1, 1), (1, 2, 2), (3, 2, (0, 2))],
                         ids=str)
def test_col2im_gather_is_im2cols_adjoint(stride, dilation, pad):
    """<im2col(x), cols> = <x, col2im(cols)> with batch-innermost columns, for the Python
    kernel, the compiled one and the NumPy code."""
    rng = np.random.default_rng(5)
    pt, pl = (pad, pad) if isinstance(pad, int) else pad
    g = C.ConvGeom(3, 2, stride, stride, dilation, dilation, pt, pt, pl, pl, 1)
    x = rng.standard_normal((3, 2, 9, 8))
    ho, wo = g.out_hw(9, 8)
    cols = np.asarray(C._im2col(x, g, (ho, wo), True)).copy()
    gc = rng.standard_normal(cols.shape)
    out = np.full(x.shape, np.nan)
    K.col2im_chwn.py(gc.reshape(2, 3, 2, ho, wo, 3), stride, stride, dilation, dilation,
                     pt, pl, out, 0, 2 * 9)
    want = np.vdot(cols, gc)
    assert abs(np.vdot(x, out) - want) < 1e-10 * abs(want)
    with anb.disabled():
        ref = np.array(C._col2im(gc, x.shape, g, ho, wo, True))
    np.testing.assert_allclose(out, ref, atol=1e-12)
    if anb.enabled():
        np.testing.assert_allclose(np.array(C._col2im(gc, x.shape, g, ho, wo, True)), ref,
                                   atol=1e-12)


@needs_numba
@pytest.mark.parametrize("c", [1, 6])
def test_float16_stays_on_numpy(c, direct_calls):
    """float16 (autocast's CPU dtype) has no compiled kernels: the direct passes and the
    compiled col2im are skipped, and the NumPy path's numbers come out."""
    shape = (4, c, 9, 9, 3, 5, 1)  # narrow: batch-innermost columns, col2im's compiled case
    got = _conv_run(shape, "float16")
    assert direct_calls == {"forward": 0, "weight": 0, "input": 0}
    ref = _conv_run(shape, "float32")
    for u, v in zip(got, ref):
        assert u.dtype == np.float16
        np.testing.assert_allclose(u.astype(np.float32), v, rtol=0.02,
                                   atol=0.02 * float(np.abs(v).max()))
