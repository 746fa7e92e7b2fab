"""Compiled per-time-step cell kernels of ``LSTMLayer`` and ``GRULayer`` (``autograd._numba``).

Why: a recurrent layer runs its gate arithmetic once per time step on small arrays (batch x
hidden, e.g. 64 x 128). In NumPy that is ~10-15 ufunc calls per step forward and backward,
each its own pass over memory plus Python overhead and a temporary; here the element-wise
part of a step is ONE loop over the batch and hidden units, written straight into the
per-sequence buffers. The recurrent GEMM (``h @ W_hh^T``) is NumPy's own BLAS: with its CBLAS
entry point at hand (``autograd._blas``), ``lstm_forward32`` and ``lstm_backward`` run the
whole recurrence of a block of batch rows as ONE compiled call (GEMM and cell kernel per
step) instead of returning to Python twice per step; on two threads the Python form's calls
took turns at the GIL. Without that entry point ``rnn.py`` loops over the steps in Python.

tanh: a numba loop that calls ``np.tanh`` gets the scalar libm function, ~50x slower than
NumPy's SIMD ufunc (measured: 64 x 512 float32, 9 us vs 530 us). So in float64 the LSTM
forward step is ``np.tanh`` on the gates in place, ``lstm_gates``, ``np.tanh`` on c' and one
multiply for h'. In float32 it is ONE kernel, ``lstm_step32``, with its own tanh, ``tanh32``:
a rational function the compiler vectorises (as fast as NumPy's, 6 us for 16K values),
accurate to 6 units in the last place of float32 (NumPy's: 1.4; tested over a dense grid).
One call per step instead of five matters most on several threads: each NumPy call hands
the GIL back and forth between the threads that run blocks of batch rows.
The GRU forward (three tanh per step, interleaved with the arithmetic) keeps its NumPy code.

The NumPy reference is ``_lstm_cell``/``_lstm_cell_back`` and ``_gru_cell_back`` in
``rnn.py``: the kernels evaluate the same formulas in the same order, in the arrays' dtype
(constants are ``dtype.type(...)``: float32 math stays float32), so results agree to
rounding. ``rnn.py`` calls them only for NumPy float32/float64 arrays outside
``create_graph``; otherwise it runs the reference.

The loops are serial (no ``prange``): at 64 x 128 a kernel takes ~10 us, and with
``parallel=True`` numba's OpenMP workers spin between calls against OpenBLAS's threads for
the GEMM in between: at 2 threads the LSTM training step went from ~10 ms to 100+ ms.

Notation: row n of the batch, hidden unit k; the gate columns of unit k are k, H + k, 2H + k
(and 3H + k for the LSTM).

LSTM (gates [i, f, g, o]; the i, f, o pre-activations arrive scaled by 0.5, g's by 1, as in
``_LSTMConst``, so sigmoid(x) = 0.5 tanh(x / 2) + 0.5 is one tanh over all four):

- ``lstm_gates(A, c, C)``: on entry ``A`` = tanh(scaled pre-activations) (N, 4H). Makes the
  sigmoid gates in place, i, f, o = A * 0.5 + 0.5 (g = A as is: ``tanh(gs) * s + off`` of the
  reference), and writes ``C`` = c' = f c + i g.
- ``lstm_step32(A, xg3, t, bf, r0, bias, zero, c, C, TC, h)`` (float32): A = tanh(A + xg +
  bias) (A holds h @ W_hh^T scaled; xg the rows of samples r0.. at step t of the input
  projection xg3, (N, T, 4H) when ``bf`` else (T, N, 4H); ``zero``: the previous h is 0, so
  A = tanh(xg + bias)), then as ``lstm_gates``, and ``TC`` = tanh(c'), ``h`` = o tanh(c').
- ``lstm_bwd(dh, gout3, t, bf, r0, dc, has_dc, a, c, tc, dG, dc_out)``: d = dh + gout (the
  gradient of h'; gout's row of sample r0 + n at step t, read from the layer's own layout, (N,
  T, H) when ``bf`` else (T, N, H), where that row is contiguous: a strided time-major view of a
  batch-first gradient made the loop 2.6x slower); dct = d o (1 - tc^2) (+ dc when ``has_dc``);
  the gates' gradients [dct g, dct c, dct i, d tc] times the derivative of each activation with
  respect to the unscaled pre-activation (a (1 - a) for a sigmoid gate, 1 - g^2 for g) into
  ``dG``; ``dc_out`` = dct f, the gradient of the previous cell state (may be the same array as
  ``dc``).

GRU (gates [r, z, n]; r and z pre-activations scaled by 0.5):

- ``gru_bwd(dha, dhb, gout, rz, n, hn, hp, dX, dHH, dz)``: d = (dha + dhb) + gout, the
  gradient of h' (the direct part dz of the later step plus its dHH @ W_hh, plus the
  output's gradient); dz = d z; dnp = (d - dz)(1 - n^2); [dr, dz'] = [dnp hn, d (hp - n)] r_z
  (1 - r_z); writes ``dX`` = [dr, dz', dnp], ``dHH`` = [dr, dz', dnp r] and ``dz`` (may be the
  same array as ``dha``).

Each kernel reads an element of an array before it writes that element, so the in-place
cases named above are safe.
"""

from __future__ import annotations

import numpy as np

from autograd._blas import NO_TRANS, ROW_MAJOR
from autograd._numba import kernel


@kernel()
def lstm_gates(A, c, C):
    N, H = c.shape
    half = c.dtype.type(0.5)  # constants of the arrays' dtype: float32 math stays float32
    for n in range(N):
        ai, af, ag, ao = A[n, :H], A[n, H:2 * H], A[n, 2 * H:3 * H], A[n, 3 * H:]
        cn, Cn = c[n], C[n]
        for k in range(H):
            i = ai[k] * half + half
            f = af[k] * half + half
            ai[k] = i
            af[k] = f
            ao[k] = ao[k] * half + half
            Cn[k] = f * cn[k] + i * ag[k]


# tanh(x) ~ x P(x^2) / Q(x^2) on [-9, 9] (|tanh| rounds to 1 in float32 beyond), fitted for
# this project by iteratively reweighted least squares on the relative error; max error 6
# float32 ulp (``tests/test_rnn_kernels.py`` checks it). Horner form, constants as float32.
_TP = tuple(np.float32(v) for v in (
    0.9999999999847591, 0.12172418376617683, 0.001947508771856724, -1.3372595916805786e-05,
    -8.849057102267167e-08, 1.2995171486259635e-10, -1.7076943712727225e-13))
_TQ = tuple(np.float32(v) for v in (
    1.0, 0.455057301362587, 0.020300351409133, 4.705908317956509e-05, -1.810214913797979e-06))
_P0, _P1, _P2, _P3, _P4, _P5, _P6 = _TP
_Q0, _Q1, _Q2, _Q3, _Q4 = _TQ
_LIM, _ONE = np.float32(9.0), np.float32(1.0)


@kernel(fastmath={"contract"}, error_model="numpy", inline="always")
def tanh32(x):  # pragma: no cover - compiled
    """tanh of a float32 (NaN stays NaN, +-inf gives +-1, -0. gives -0.). Inline: a loop
    calling it vectorises (``error_model="numpy"``: no zero-division branch per element)."""
    x = _LIM if x > _LIM else x
    x = -_LIM if x < -_LIM else x
    x2 = x * x
    p = ((((((_P6 * x2 + _P5) * x2 + _P4) * x2 + _P3) * x2 + _P2) * x2 + _P1) * x2 + _P0) * x
    q = (((_Q4 * x2 + _Q3) * x2 + _Q2) * x2 + _Q1) * x2 + _Q0
    y = p / q
    y = _ONE if y > _ONE else y
    return -_ONE if y < -_ONE else y


@kernel(fastmath={"contract"}, error_model="numpy")
def lstm_step32(A, xg3, t, bf, r0, bias, zero, c, C, TC, h):  # pragma: no cover - compiled
    N, H = c.shape
    half = np.float32(0.5)
    for n in range(N):
        an = A[n]
        xn = xg3[r0 + n, t] if bf else xg3[t, r0 + n]  # a contiguous row either way
        if zero:
            for k in range(len(an)):
                an[k] = tanh32(xn[k] + bias[k])
        else:
            for k in range(len(an)):
                an[k] = tanh32(an[k] + xn[k] + bias[k])
        ai, af, ag, ao = an[:H], an[H:2 * H], an[2 * H:3 * H], an[3 * H:]
        cn, Cn, tn, hn = c[n], C[n], TC[n], h[n]
        for k in range(H):
            i = ai[k] * half + half
            f = af[k] * half + half
            o = ao[k] * half + half
            ai[k] = i
            af[k] = f
            ao[k] = o
            cc = f * cn[k] + i * ag[k]
            Cn[k] = cc
            t_ = tanh32(cc)
            tn[k] = t_
            hn[k] = o * t_


@kernel()
def lstm_bwd(dh, gout3, t, bf, r0, dc, has_dc, a, c, tc, dG, dc_out):
    N, H = c.shape
    one = c.dtype.type(1)
    for n in range(N):
        ai, af, ag, ao = a[n, :H], a[n, H:2 * H], a[n, 2 * H:3 * H], a[n, 3 * H:]
        di, df, dg, do = dG[n, :H], dG[n, H:2 * H], dG[n, 2 * H:3 * H], dG[n, 3 * H:]
        gn = gout3[r0 + n, t] if bf else gout3[t, r0 + n]  # a contiguous row either way
        dhn, dcn, cn, tcn, dco = dh[n], dc[n], c[n], tc[n], dc_out[n]
        for k in range(H):
            d = dhn[k] + gn[k]
            i, f, g, o, t_ = ai[k], af[k], ag[k], ao[k], tcn[k]
            dct = d * o * (one - t_ * t_)
            if has_dc:
                dct = dct + dcn[k]
            di[k] = dct * g * (i * (one - i))
            df[k] = dct * cn[k] * (f * (one - f))
            dg[k] = dct * i * (one - g * g)
            do[k] = d * t_ * (o * (one - o))
            dco[k] = dct * f


@kernel(inline="always")
def _at(a, offset):  # pragma: no cover - compiled
    """The address of element ``offset`` of the C-contiguous array ``a`` (a GEMM operand)."""
    return a.ctypes.data + offset * a.itemsize


@kernel(fastmath={"contract"}, error_model="numpy")
def lstm_forward32(gemm, xg3, bf, bias, wt, h0, c0, zero, steps, A, C, TC, out, r0,
                   r1):  # pragma: no cover - compiled
    """The whole float32 forward recurrence of batch rows r0:r1, in processing order
    ``steps``: per step the GEMM A[j] = h @ wt (NumPy's BLAS, ``autograd._blas``; skipped at
    the first step when ``zero``) and ``lstm_step32``. ``xg3`` is the input projection in
    the input's layout ((N, T, 4H) when ``bf``), without the bias; every array
    C-contiguous."""
    N, H = c0.shape
    G = 4 * H
    m = r1 - r0
    for j in range(len(steps)):
        t = steps[j]
        first = j == 0
        if not (first and zero):
            hp = _at(h0, r0 * H) if first else _at(out, (steps[j - 1] * N + r0) * H)
            gemm(ROW_MAJOR, NO_TRANS, NO_TRANS, m, G, H, 1.0, hp, H, wt.ctypes.data, G, 0.0,
                 _at(A, (j * N + r0) * G), G)
        c = c0[r0:r1] if first else C[j - 1, r0:r1]
        lstm_step32(A[j, r0:r1], xg3, t, bf, r0, bias, first and zero, c, C[j, r0:r1],
                    TC[j, r0:r1], out[t, r0:r1])


@kernel()
def lstm_backward(gemm, ghn, gout3, bf, gcn, has_gcn, steps, A, C, c0, TC, w_hh, dG, dhb,
                  dcb, need_h0, r0, r1):  # pragma: no cover - compiled
    """Backpropagation through time of batch rows r0:r1: per step (last processed first)
    ``lstm_bwd`` into dG[t] and dcb, then the GEMM dhb = dG[t] @ w_hh (skipped after the
    first processed step unless ``need_h0``). ``gout3`` is the output's gradient, (N, T, H)
    when ``bf`` else (T, N, H); every array C-contiguous; ``gcn`` is read when
    ``has_gcn``."""
    N, H = c0.shape
    G = 4 * H
    m = r1 - r0
    dh = ghn[r0:r1]
    dc = gcn[r0:r1]
    has_dc = has_gcn
    for j in range(len(steps) - 1, -1, -1):
        t = steps[j]
        c = C[j - 1, r0:r1] if j else c0[r0:r1]
        lstm_bwd(dh, gout3, t, bf, r0, dc, has_dc, A[j, r0:r1], c, TC[j, r0:r1],
                 dG[t, r0:r1], dcb[r0:r1])
        dc, has_dc = dcb[r0:r1], True
        if j or need_h0:
            gemm(ROW_MAJOR, NO_TRANS, NO_TRANS, m, H, G, 1.0, _at(dG, (t * N + r0) * G), G,
                 w_hh.ctypes.data, H, 0.0, _at(dhb, r0 * H), H)
            dh = dhb[r0:r1]


@kernel()
def gru_bwd(dha, dhb, gout, rz, n_, hn, hp, dX, dHH, dz):
    N, H = hp.shape
    one = hp.dtype.type(1)
    for n in range(N):
        rn, zn = rz[n, :H], rz[n, H:]
        dxr, dxz, dxn = dX[n, :H], dX[n, H:2 * H], dX[n, 2 * H:]
        dhr, dhz, dhn = dHH[n, :H], dHH[n, H:2 * H], dHH[n, 2 * H:]
        an, bn, gn, nn_, hnn, hpn, dzn = dha[n], dhb[n], gout[n], n_[n], hn[n], hp[n], dz[n]
        for k in range(H):
            d = (an[k] + bn[k]) + gn[k]
            r, z, nk = rn[k], zn[k], nn_[k]
            dzk = d * z
            dnp = (d - dzk) * (one - nk * nk)
            dr = dnp * hnn[k] * r * (one - r)
            dzz = d * (hpn[k] - nk) * z * (one - z)
            dxr[k] = dr
            dxz[k] = dzz
            dxn[k] = dnp
            dhr[k] = dr
            dhz[k] = dzz
            dhn[k] = dnp * r
            dzn[k] = dzk
