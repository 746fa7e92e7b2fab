"""The CuPy fast path of the convolutions (nn/functional/_conv_kernels.py: col2im as one
``ElementwiseKernel``) runs on the stand-in, whose ``ElementwiseKernel`` interprets the
kernel's CUDA C (tests/cupy_sim/_ckernel.py), and agrees with the NumPy path: forward,
gradients and double backward, over groups, stride, padding, dilation, output_padding and
both internal layouts. The kernel source is also compiled as C++ (when a compiler is there)
to check that what the interpreter ran is the C it reads."""

from __future__ import annotations

import ctypes
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

import autograd as ag
import nn.functional as F
from nn.functional import _conv_kernels as K

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import cupy_sim  # noqa: E402

cp = cupy_sim.module
pytestmark = pytest.mark.gpu  # selected by `pytest --cuda-sim -m gpu`; needs no GPU




def _launches():
    k = K._built.get(("col2im", id(cp)))
    return 0 if k is None else k.calls


def _run(dev, fn, arrays, double):
    """fn's output, the gradients of its sum, and (``double``) the gradients of the squared
    first-order gradients (create_graph)."""
    ts = [ag.tensor(a).to(dev).requires_grad_() for a in arrays]
    y = fn(*ts)
    gs = ag.grad((y * y).sum() if double else y.sum(), ts, create_graph=double)
    out = [y.detach().cpu().numpy()] + [g.detach().cpu().numpy() for g in gs]
    if double:
        gg = ag.grad(sum((g * g).sum() for g in gs), ts)
        out += [g.detach().cpu().numpy() for g in gg]
    return out


def _check(fn, shapes, double=False, min_launches=1, dtype=np.float64):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    ref = _run("cpu", fn, arrays, double)
    before = _launches()
    got = _run("cuda", fn, arrays, double)
    assert _launches() - before >= min_launches, "the col2im kernel did not run"
    tol = 1e-10 if dtype == np.float64 else 1e-4
    for a, b in zip(ref, got):
        np.testing.assert_allclose(b, a, rtol=tol, atol=tol)


CONV_CASES = {  # x shape, w shape, kwargs
    "plain": ((2, 3, 6, 5), (4, 3, 3, 3), {}),
    "pad_stride": ((2, 2, 7, 7), (3, 2, 3, 3), {"padding": 1, "stride": 2}),
    "dilation_asym": ((2, 4, 7, 6), (6, 2, 3, 2),
                      {"stride": (2, 1), "padding": (1, 2), "dilation": (1, 2), "groups": 2}),
    "depthwise": ((3, 4, 5, 5), (4, 1, 3, 3), {"padding": 1, "groups": 4}),
    "same": ((2, 2, 5, 6), (2, 2, 4, 3), {"padding": "same", "dilation": (1, 2)}),
    "c_order_wide": ((2, 2, 4, 18), (3, 2, 2, 3), {"padding": (0, 1), "stride": (1, 2)}),
    "c_order_one": ((1, 2, 5, 5), (2, 2, 3, 3), {"stride": 2, "padding": 2}),
    "big_stride": ((2, 1, 9, 9), (2, 1, 2, 2), {"stride": 4}),
}


@pytest.mark.parametrize("case", sorted(CONV_CASES))
def test_conv2d_matches_cpu(sim, case):
    xs, ws, kw = CONV_CASES[case]
    _check(lambda x, w: F.conv2d(x, w, **kw), (xs, ws))


@pytest.mark.parametrize("case", ["dilation_asym", "depthwise", "pad_stride"])
def test_conv2d_double_backward_matches_cpu(sim, case):
    xs, ws, kw = CONV_CASES[case]
    _check(lambda x, w: F.conv2d(x, w, **kw), (xs, ws), double=True, min_launches=2)


TRANSPOSED_CASES = {
    "plain": ((2, 3, 4, 4), (3, 2, 3, 3), {}),
    "stride_outpad": ((2, 4, 3, 4), (4, 1, 3, 2),
                      {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}),
    "dilation": ((2, 2, 3, 3), (2, 3, 2, 3), {"stride": (1, 2), "dilation": (2, 1)}),
    "outpad_dilation": ((1, 2, 3, 3), (2, 2, 3, 3),
                        {"stride": 1, "dilation": 3, "output_padding": 2}),
}


@pytest.mark.parametrize("case", sorted(TRANSPOSED_CASES))
def test_conv_transpose2d_matches_cpu(sim, case):
    xs, ws, kw = TRANSPOSED_CASES[case]
    _check(lambda x, w: F.conv_transpose2d(x, w, **kw), (xs, ws), double=case == "plain")


def test_conv1d_and_fold_float32_match_cpu(sim):
    _check(lambda x, w: F.conv1d(x, w, padding=2, dilation=2), ((2, 3, 11), (2, 3, 3)),
           dtype=np.float32)
    _check(lambda c: F.fold(c, (5, 6), (2, 3), padding=1, stride=(2, 1)), ((2, 12, 18),))


def test_float16_keeps_the_strided_adds(sim):
    before = _launches()
    x = ag.tensor(np.ones((1, 1, 4, 4), np.float16)).to("cuda").requires_grad_()
    w = ag.tensor(np.ones((1, 1, 3, 3), np.float16)).to("cuda")
    F.conv2d(x, w).sum().backward()
    assert _launches() == before
    np.testing.assert_array_equal(x.grad.cpu().numpy()[0, 0, 0], [1, 2, 2, 1])


# ---- the stand-in's interpreter --------------------------------------------------------------


def test_interpreter_uses_c_division():
    k = cp.ElementwiseKernel("int64 a, int64 b", "int64 q, int64 r",
                             "q = a / b;\nr = a % b;", name="divmod")
    a = cp.asarray(np.array([7, -7, 7, -7]))
    b = cp.asarray(np.array([2, 2, -2, -2]))
    q, r = cp.zeros(4, dtype=np.int64), cp.zeros(4, dtype=np.int64)
    k(a, b, q, r)
    assert cp.asnumpy(q).tolist() == [3, -3, -3, 3]
    assert cp.asnumpy(r).tolist() == [1, -1, 1, -1]
    assert k.calls == 1


@pytest.mark.parametrize("body", ["y = x ? 1 : 0;", "y = (int)x;", "while (1) {", "y = !x;",
                                  "y = x << 1;", "y++;"])
def test_interpreter_refuses_what_it_cannot_check(body):
    with pytest.raises(NotImplementedError):
        cp.ElementwiseKernel("T x", "T y", body)


def test_interpreter_checks_types_and_bounds():
    k = cp.ElementwiseKernel("raw T x, T z", "T y", "y = x[i + 1] + z;")
    x = cp.asarray(np.arange(3.0))
    with pytest.raises(IndexError):
        k(x, cp.zeros(3), cp.zeros(3))
    with pytest.raises(TypeError):
        k(x, cp.zeros(3, dtype=np.float32), cp.zeros(3))
    with pytest.raises(TypeError):
        k(np.arange(3.0), cp.zeros(3), cp.zeros(3))
    y = k(x, cp.ones(2), cp.zeros(2))
    assert cp.asnumpy(y).tolist() == [2.0, 3.0]


# ---- the kernel's C, compiled ------------------------------------------------------------------

_HARNESS = """
#include <cstddef>
typedef double T;
extern "C" void col2im(const T* cols, int N, int C, int H, int W, int HO, int WO, int KH,
                       int KW, int SH, int SW, int DH, int DW, int PT, int PL, long long P,
                       long long SN, long long SOH, long long SOW, T* out, ptrdiff_t size) {
    for (ptrdiff_t i = 0; i < size; ++i) {
        T img;
%s
        out[i] = img;
    }
}
"""


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")
def test_kernel_source_compiles_and_matches_the_interpreter(tmp_path, sim):
    src = tmp_path / "col2im.cpp"
    src.write_text(_HARNESS % K.COL2IM_BODY)
    lib = tmp_path / "col2im.so"
    subprocess.run(["g++", "-O1", "-shared", "-fPIC", "-Wall", "-Werror", "-o", str(lib),
                    str(src)], check=True, capture_output=True)
    f = ctypes.CDLL(str(lib)).col2im
    dp = ctypes.POINTER(ctypes.c_double)
    f.argtypes = [dp] + [ctypes.c_int] * 14 + [ctypes.c_longlong] * 4 + [dp, ctypes.c_ssize_t]
    geom = F.conv.ConvGeom(3, 2, 2, 1, 1, 2, 1, 1, 2, 2, 1)
    n, c, h, w = 2, 3, 7, 6
    ho, wo = geom.out_hw(h, w)
    rng = np.random.default_rng(1)
    for chwn in (False, True):
        cols = rng.standard_normal((c * 6, n * ho * wo))
        want = cp.zeros((n, c, h, w))
        K.col2im(cp, cp.asarray(cols), want, geom, ho, wo, chwn)
        got = np.zeros((n, c, h, w))
        s = (1, wo * n, n) if chwn else (ho * wo, wo, 1)
        f(cols.ctypes.data_as(dp), n, c, h, w, ho, wo, geom.kh, geom.kw, geom.sh, geom.sw,
          geom.dh, geom.dw, geom.pt, geom.pl, cols.shape[1], *s, got.ctypes.data_as(dp),
          got.size)
        np.testing.assert_allclose(got, cp.asnumpy(want), rtol=1e-12, atol=1e-12)
        # and both equal the NumPy col2im
        ref = F.conv._col2im(cols, (n, c, h, w), geom, ho, wo, chwn)
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)
