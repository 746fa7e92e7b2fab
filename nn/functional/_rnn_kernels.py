"""Compiled per-time-step cell kernels of ``LSTMLayer`` and ``GRULayer`` (``autograd._numba``).

Why: a recurrent layer runs its gate arithmetic once per time step on small arrays (batch x
hidden, e.g. 64 x 128). In NumPy that is ~10-15 ufunc calls per step forward and backward,
each its own pass over memory plus Python overhead and a temporary; here the element-wise
part of a step is ONE loop over the batch and hidden units, written straight into the
per-sequence buffers. The recurrent GEMM (``h @ W_hh^T``) stays a BLAS call in ``rnn.py``.

tanh stays NumPy's: its SIMD ufunc is ~50x faster here than the scalar libm ``tanh`` a
numba loop calls (measured: 64 x 512 float32, 9 us vs 530 us), so the LSTM forward step is
``np.tanh`` on the gates in place, ``lstm_gates``, ``np.tanh`` on c' and one multiply for h'.
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
- ``lstm_bwd(dh, gout, dc, has_dc, a, c, tc, dG, dc_out)``: d = dh + gout (the gradient of
  h'); dct = d o (1 - tc^2) (+ dc when ``has_dc``); the gates' gradients [dct g, dct c, dct i,
  d tc] times the derivative of each activation with respect to the unscaled pre-activation
  (a (1 - a) for a sigmoid gate, 1 - g^2 for g) into ``dG``; ``dc_out`` = dct f, the gradient
  of the previous cell state (may be the same array as ``dc``).

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


@kernel()
def lstm_bwd(dh, gout, dc, has_dc, a, c, tc, dG, dc_out):
    N, H = c.shape
    one = c.dtype.type(1)
    for n in range(N):
        ai, af, ag, ao = a[n, :H], a[n, H:2 * H], a[n, 2 * H:3 * H], a[n, 3 * H:]
        di, df, dg, do = dG[n, :H], dG[n, H:2 * H], dG[n, 2 * H:3 * H], dG[n, 3 * H:]
        dhn, gn, dcn, cn, tcn, dco = dh[n], gout[n], dc[n], c[n], tc[n], dc_out[n]
        for k in range(H):
            d = dhn[k] + gn[k]
            i, f, g, o, t = ai[k], af[k], ag[k], ao[k], tcn[k]
            dct = d * o * (one - t * t)
            if has_dc:
                dct = dct + dcn[k]
            di[k] = dct * g * (i * (one - i))
            df[k] = dct * cn[k] * (f * (one - f))
            dg[k] = dct * i * (one - g * g)
            do[k] = d * t * (o * (one - o))
            dco[k] = dct * f


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
