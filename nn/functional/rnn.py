"""The recurrent layers' fused ops (``nn.LSTM``, ``nn.GRU``, ``nn.RNN`` and their cells).

Recurrent layers: one fused op per layer and direction runs the whole sequence
------------------------------------------------------------------------------
``LSTMLayer``, ``GRULayer`` and ``RNNLayer`` take the layer input ``x`` for all time steps,
the weights and the initial state. Forward computes the input projection of every step in
ONE GEMM (``x @ W_ih.T + b``), then runs the recurrence inside the node: per step one GEMM
``h @ W_hh.T`` plus the gate arithmetic on raw arrays, with no graph bookkeeping. Backward is
backpropagation through time in one loop (per step one GEMM ``dgates @ W_hh``), after which
``dW_hh`` and ``dW_ih`` are each ONE large GEMM over all steps (``dgates_all.T @ h_prev_all``,
``dgates_all.T @ x_all``). A layer costs one graph node instead of ~10 per time step.

The per-step arithmetic is written once, in ``_lstm_cell``/``_lstm_cell_back`` (and the
GRU/RNN counterparts), with operators and op wrappers that accept raw arrays or Tensors.
Under ``create_graph=True`` the backward first recomputes the forward from its
(graph-connected) inputs on Tensors, then runs the very same formulas on them, so
higher-order gradients are exact; in the usual case everything runs as plain NumPy/CuPy on
the intermediates saved by forward.

Compiled cell kernels (``_rnn_kernels``, through ``autograd._numba``): for NumPy float32/float64
arrays outside ``create_graph``, the LSTM step's gate arithmetic (forward and backward) and the
GRU step's backward run as ONE compiled loop each, written straight into the per-sequence
buffers, instead of ~10-15 ufunc calls on small arrays; in float32 forward and in backward the
whole recurrence (the recurrent GEMM through NumPy's BLAS, ``autograd._blas``, and the cell
kernel, per step) is ONE compiled call per block of rows (the LSTM step: 1 thread 13.5 -> 12.9
ms, 2 threads 9.6 -> 8.2 ms); float64 forward keeps NumPy's SIMD tanh per step. The formulas
above are the reference: without numba, with the kernels switched off (``AUTOGRAD_NUMBA=0``),
for CuPy, other dtypes and under ``create_graph`` they run as before. On more than one engine
thread the compiled LSTM splits the batch into blocks of rows (``_over_rows``, 16+ rows each):
every sample's recurrence is independent, so each thread runs the whole sequence for its rows,
its per-step GEMMs at one BLAS thread (the LSTM step at 2 threads: 12.8 -> 10.9 ms; OpenBLAS
gains little from threading a 64 x 128 x 512 GEMM). The GRU keeps one block.
"""

from __future__ import annotations

import numpy as np

from autograd import _blas
from autograd.backend import get_array_module, scratch_empty
from autograd.function import Op
from autograd.ops import elementwise as E
from autograd.ops import reduction as R
from autograd.ops import shape as S
from autograd.ops.linalg import matmul
from autograd.parallel import engine_threads, even_ranges, matmul_rows, parallel_slices
from autograd.tensor import Tensor

from . import _rnn_kernels as K
from .linear import linear

# ---- shared helpers ----------------------------------------------------------------------
# Inside the ops every sequence is time-major (T, N, ...): a step is a contiguous block.


def _steps(T: int, reverse: bool) -> list:
    """Time indices in processing order."""
    return list(range(T - 1, -1, -1)) if reverse else list(range(T))


def _tm(a, bf: bool):
    """The time-major view (T, N, ...) of a batch-first (N, T, ...) array or Tensor."""
    return S.transpose(a, 0, 1) if bf else a


def _bias(b1, b2):
    """b1 + b2 where either may be None (arrays or Tensors)."""
    if b1 is None:
        return b2
    if b2 is None:
        return b1
    return b1 + b2


def _cat(parts):
    """Concatenate along the last dim (arrays or Tensors), without the checks of ``cat``."""
    return S.Cat.apply(*parts, dim=parts[0].ndim - 1)


def _project(xt, w, b, scale=None):
    """``xt @ w.T + b`` for every time step in ONE GEMM (raw arrays, xt time-major); with
    ``scale`` every output column is multiplied by it (folded into w and b: no extra cost)."""
    if scale is not None:
        w = w * scale[:, None]
        b = None if b is None else b * scale
    T, N, i = xt.shape
    xp = get_array_module(xt)
    y = scratch_empty(xp, (T, N, w.shape[0]), xt.dtype)
    if b is None:
        # (sizes spelled out: -1 is ambiguous for an empty batch)
        xp.matmul(xt.reshape(T * N, i), w.T, out=y.reshape(T * N, w.shape[0]))
        return y
    # the bias as one more input column of ones: added inside the GEMM, no pass over y
    # (the time-major copy of a batch_first x is made anyway)
    xa = xp.empty((T, N, i + 1), xt.dtype)
    xa[..., :i] = xt
    xa[..., i] = 1
    wa = xp.concatenate([w, b.reshape(-1, 1).astype(w.dtype, copy=False)], axis=1)
    xp.matmul(xa.reshape(T * N, i + 1), wa.T, out=y.reshape(T * N, w.shape[0]))
    return y


def _weight_grad(dg, inp):
    """sum over steps and batch of dg_t^T @ inp_t: one GEMM over the flattened sequence."""
    g2 = S.reshape(dg, (-1, dg.shape[-1]))
    return matmul(S.transpose(g2, 0, 1), S.reshape(inp, (-1, inp.shape[-1])))


def _hh_weight_grad(dG, out, h0, reverse: bool):
    """dW_hh = sum_t dG_t^T h_prev(t), time-major: one GEMM pairs every step but the first
    with the previous step's output (contiguous slices, no copy); the first step pairs with
    h0, skipped when h0 is a zero array (the default initial state)."""
    T = dG.shape[0]
    dw = None
    if T > 1:
        dw = _weight_grad(dG[:-1], out[1:]) if reverse else _weight_grad(dG[1:], out[:-1])
    if isinstance(h0, Tensor) or get_array_module(h0) is not np or h0.any():  # no GPU sync
        d0 = matmul(S.transpose(dG[T - 1 if reverse else 0], 0, 1), h0)
        dw = d0 if dw is None else dw + d0
    if dw is None:
        dw = get_array_module(dG).zeros((dG.shape[-1], out.shape[-1]), dtype=dG.dtype)
    return dw


def _sum_rows(dg):
    """Sum over every dim but the last (a bias gradient)."""
    return R.sum(dg, dim=tuple(range(dg.ndim - 1)))


def _weight_grads(dG, x, w_ih, bf, out, h0, reverse, e):
    """After backpropagation through time: the gradients of the input, W_ih, W_hh and the
    biases from the gates' gradients of all steps (each one large GEMM), as the edges
    ``e`` (x, w_ih, w_hh, b_ih, b_hh, ...) ask for them."""
    dx, dwi, db = _input_grads(dG, x, w_ih, bf, e[0] is not None, e[1] is not None,
                               e[3] is not None or e[4] is not None)
    dwh = _hh_weight_grad(dG, out, h0, reverse) if e[2] is not None else None
    return dx, dwi, dwh, db


def _input_grads(dxg, x, w_ih, bf: bool, need_x: bool, need_w: bool, need_b: bool):
    """Gradients of the input projection xg = x @ W_ih^T + b from the (time-major) gradient
    of xg."""
    dx = dw = db = None
    if need_x:
        T, N, G = dxg.shape
        dx = _tm(S.reshape(matmul(S.reshape(dxg, (T * N, G)), w_ih), (T, N, w_ih.shape[1])),
                 bf)
    if need_w:
        dw = _weight_grad(dxg, _tm(x, bf))
    if need_b:
        db = _sum_rows(dxg)
    return dx, dw, db


def _kernel(kern, xp, dtype, *arrays):
    """The compiled form of ``kern`` (a ``_rnn_kernels`` kernel) when it applies: NumPy
    arrays (None entries skipped) all of ``dtype``, float32 or float64, and numba on.
    Else None: the caller runs the NumPy/Tensor reference."""
    if xp is not np or dtype not in (np.float32, np.float64):
        return None
    for a in arrays:
        if a is not None and (type(a) is not np.ndarray or a.dtype != dtype):
            return None
    return kern.get()


# rows of the batch per engine thread below which a recurrent layer runs on one thread
_ROWS_PER_THREAD = 16


def _over_rows(fn, n: int) -> None:
    """``fn(r0, r1)`` over the batch rows [0, n): the recurrences of different samples are
    independent, so each engine thread takes a contiguous block of rows for the whole
    sequence (its per-step GEMMs at one BLAS thread); one call when the batch is small."""
    k = min(engine_threads(), n // _ROWS_PER_THREAD)
    if k <= 1:
        fn(0, n)
    else:
        parallel_slices(fn, even_ranges(n, k))


def _bptt_setup(ctx, out):
    """For a compiled backward: the edges, the saved output time-major, T and the steps in
    processing order."""
    out = _tm(out, ctx.bf)
    return ctx.next_edges, out, out.shape[0], _steps(out.shape[0], ctx.reverse)


def _time_order(parts, steps):
    """Per-step values in processing order -> stacked (T, ...) in time order (Tensors)."""
    order = [None] * len(steps)
    for j, t in enumerate(steps):
        order[t] = parts[j]
    return S.stack(order, 0)


# ---- LSTM --------------------------------------------------------------------------------


class _LSTMConst:
    """Constants of the gate layout [i, f, g, o] as full (N, 4H) arrays (same-shape
    element-wise ops are much faster than ones broadcasting a (4H,) row).

    sigmoid(x) = 0.5 tanh(x / 2) + 0.5, so with the gate pre-activations scaled by ``s``
    (0.5 for i, f, o; 1 for g; folded into the weights) ONE tanh activates all four gates:
    ``a = tanh(s * g) * s + off``. The derivative with respect to the unscaled
    pre-activation is a (1 - a) for a sigmoid and 1 - a^2 for tanh: ``a * (u - a) + v``.
    """

    __slots__ = ("scale", "s", "off", "u", "v")

    def __init__(self, xp, N: int, H: int, dtype):
        half, one, zero = np.full(H, 0.5), np.ones(H), np.zeros(H)

        def full(*parts):
            row = xp.asarray(np.concatenate(parts), dtype=dtype)
            a = xp.ascontiguousarray(xp.broadcast_to(row, (N, 4 * H)))
            if xp is np:
                a.flags.writeable = False  # shared (cached) constants
            return a

        self.scale = xp.asarray(np.concatenate([half, half, one, half]), dtype=dtype)
        if xp is np:
            self.scale.flags.writeable = False
        self.s = full(half, half, one, half)
        self.off = full(half, half, zero, half)
        self.u = full(one, one, zero, one)
        self.v = full(zero, zero, one, zero)


_CONSTS: dict = {}


def _lstm_const(xp, N: int, H: int, dtype) -> _LSTMConst:
    """The constants for a batch size, hidden size and dtype (cached for NumPy)."""
    if xp is not np:
        return _LSTMConst(xp, N, H, dtype)
    key = (N, H, np.dtype(dtype).str)
    k = _CONSTS.get(key)
    if k is None:
        if len(_CONSTS) > 32:
            _CONSTS.clear()
        k = _CONSTS[key] = _LSTMConst(xp, N, H, dtype)
    return k


def _lstm_cell(gs, c, k: _LSTMConst):
    """One LSTM step from the scaled gate pre-activations ``gs`` = s * (x W_ih^T + b_ih +
    h W_hh^T + b_hh) (N, 4H) and the cell state ``c`` (N, H). Returns (activated gates
    [i, f, g, o], c', tanh(c'), h'). Arrays or Tensors."""
    H = c.shape[-1]
    a = E.tanh(gs) * k.s + k.off
    i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
    c2 = f * c + i * g
    tc = E.tanh(c2)
    return a, c2, tc, o * tc


def _lstm_cell_back(dh, dc, a, c, tc, k: _LSTMConst):
    """Backward of ``_lstm_cell``: from the gradients of h' and c' (``dc`` may be None), the
    gradients of the (unscaled) gate pre-activations and of the previous cell state ``c``."""
    H = c.shape[-1]
    i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
    dct = dh * o * (1 - tc * tc)
    if dc is not None:
        dct = dct + dc
    da = _cat([dct * g, dct * c, dct * i, dh * tc])
    return da * (a * (k.u - a) + k.v), dct * f


class LSTMLayer(Op):
    """One LSTM layer, one direction, over a whole sequence (PyTorch's gates [i, f, g, o]).

    Inputs: ``x`` (T, N, I) ((N, T, I) with ``batch_first``), ``w_ih`` (4H, I), ``w_hh``
    (4H, H), ``b_ih``, ``b_hh`` (4H,) or None, ``h0``, ``c0`` (N, H). Outputs: the hidden
    state of every step (T, N, H) (or (N, T, H)), h_n and c_n. ``reverse`` runs from the last
    step to the first (the backward direction of a bidirectional layer).

    Example:
        >>> out, h_n, c_n = LSTMLayer.apply(x, w_ih, w_hh, b_ih, b_hh, h0, c0)
    """

    @staticmethod
    def forward(ctx, x, w_ih, w_hh, b_ih, b_hh, h0, c0, batch_first=False, reverse=False):
        xp = get_array_module(x)
        xt = _tm(x, batch_first)
        T, N = xt.shape[:2]
        H = h0.shape[1]
        k = _lstm_const(xp, N, H, x.dtype)
        cell = _kernel(K.lstm_gates, xp, x.dtype, x, w_ih, w_hh, h0, c0)
        step32 = K.lstm_step32.get() if cell is not None and x.dtype == np.float32 else None
        seq = _blas.gemm(np.float32) if step32 is not None else None
        wt = xp.ascontiguousarray((w_hh * k.scale[:, None]).T)  # NN GEMMs: 1.3x faster
        out = scratch_empty(xp, (T, N, H), x.dtype)
        A = scratch_empty(xp, (T, N, 4 * H), x.dtype)  # per processed step: gates, c, tanh(c)
        C = scratch_empty(xp, (T, N, H), x.dtype)
        TC = scratch_empty(xp, (T, N, H), x.dtype)
        h, c = h0, c0
        h0_zero = xp is np and not h0.any()  # zero default state: skip its GEMM (CPU)
        if seq is not None:  # float32: the whole recurrence compiled, one call per thread
            # the input projection in x's own layout (no time-major copy; the kernel reads a
            # (sample, step) row either way), its bias added in the step kernel
            xs = np.ascontiguousarray(x)
            # a buffer of the gates' (T, N, 4H) key, so that the pool hands it to backward's
            # dG (a (N, T, 4H) key of its own kept 3.5 MiB more in the pool)
            xg = scratch_empty(np, (T, N, 4 * H), x.dtype).reshape(xs.shape[:2] + (4 * H,))
            xs2, wit, xg2 = xs.reshape(-1, xs.shape[2]), (w_ih * k.scale[:, None]).T, \
                xg.reshape(-1, 4 * H)
            if not batch_first:  # time-major: a batch row's steps are not contiguous
                matmul_rows(xs2, wit, xg2)
            b = _bias(b_ih, b_hh)
            bias = np.full(4 * H, -0.0, x.dtype) if b is None else \
                np.ascontiguousarray(b * k.scale, x.dtype)  # v + -0. is v, -0. included
            steps = np.array(_steps(T, reverse), np.int64)
            h0c, c0c = np.ascontiguousarray(h0), np.ascontiguousarray(c0)
            kern = K.lstm_forward32.get()

            def rows(r0, r1):  # batch_first: each thread projects its own rows' steps first
                if batch_first:  # (one parallel region, not two; the rows stay in its cache)
                    np.matmul(xs2[r0 * T:r1 * T], wit, out=xg2[r0 * T:r1 * T])
                kern(seq, xg, batch_first, bias, wt, h0c, c0c, h0_zero, steps, A, C, TC, out,
                     r0, r1)

            _over_rows(rows, N)
        else:
            xg = _project(xt, w_ih, _bias(b_ih, b_hh), k.scale)  # all steps, scaled gates
        if seq is None and cell is not None:  # the GEMM + one compiled step; float64: tanh
            steps = _steps(T, reverse)
            no_bias = np.full(4 * H, -0.0, x.dtype)  # xg has it; v + -0. is v, even -0.

            def rows(r0, r1):  # the whole sequence for batch rows r0:r1
                h, c, zero = h0[r0:r1], c0[r0:r1], h0_zero
                for j, t in enumerate(steps):
                    a = A[j, r0:r1]
                    if not zero:
                        np.matmul(h, wt, out=a)
                    if step32 is not None:  # xg time-major with the bias folded in
                        step32(a, xg, t, False, r0, no_bias, zero, c, C[j, r0:r1],
                               TC[j, r0:r1], out[t, r0:r1])
                    else:
                        if zero:
                            np.tanh(xg[t, r0:r1], out=a)
                        else:
                            a += xg[t, r0:r1]
                            np.tanh(a, out=a)
                        cell(a, c, C[j, r0:r1])
                        np.tanh(C[j, r0:r1], out=TC[j, r0:r1])
                        np.multiply(a[:, 3 * H:], TC[j, r0:r1], out=out[t, r0:r1])
                    c, h, zero = C[j, r0:r1], out[t, r0:r1], False

            _over_rows(rows, N)
        if cell is not None and T:  # h_n, c_n: own arrays, not views of saved buffers
            last = steps[-1]
            h, c = out[last].copy(), C[T - 1].copy()
        for j, t in enumerate(_steps(T, reverse) if cell is None else ()):
            if h0_zero:
                gs, h0_zero = xg[t], False
            else:
                gs = h @ wt
                gs += xg[t]
            a, c, tc, h = _lstm_cell(gs, c, k)
            A[j], C[j], TC[j], out[t] = a, c, tc, h
        y = _tm(out, batch_first)
        ctx.bf, ctx.reverse, ctx.k = batch_first, reverse, k
        ctx.save_for_backward(x, w_ih, w_hh, b_ih, b_hh, h0, c0, y, A, C, TC)
        return y, h, c

    @staticmethod
    def backward(ctx, gout, ghn, gcn):
        x, w_ih, w_hh, b_ih, b_hh, h0, c0, out, A, C, TC = ctx.saved_tensors
        bf, reverse, k = ctx.bf, ctx.reverse, ctx.k
        e = ctx.next_edges
        xp = get_array_module(x)
        gout, out = _tm(gout, bf), _tm(out, bf)
        T = out.shape[0]
        steps = _steps(T, reverse)
        cg = isinstance(gout, Tensor)
        if cg:  # create_graph: rebuild every intermediate on Tensors, connected to the graph
            xg = linear(_tm(x, bf), w_ih, _bias(b_ih, b_hh))
            A, C, TC, hs = [], [], [], []
            h, c = h0, c0
            for t in steps:
                a, c, tc, h = _lstm_cell((xg[t] + matmul(h, S.t(w_hh))) * k.scale, c, k)
                A.append(a), C.append(c), TC.append(tc), hs.append(h)
            out = _time_order(hs, steps)
            dgs = [None] * T
        else:
            dG = scratch_empty(xp, A.shape, x.dtype)
            cell = _kernel(K.lstm_bwd, xp, x.dtype, gout, ghn, gcn, c0, w_hh)
            if cell is not None:
                return LSTMLayer._backward_compiled(ctx, cell, gout, ghn, gcn, dG)
        dh, dc = ghn, gcn
        for j in range(T - 1, -1, -1):
            t = steps[j]
            dh = dh + gout[t]
            dg, dc = _lstm_cell_back(dh, dc, A[j], C[j - 1] if j else c0, TC[j], k)
            if cg:
                dgs[j] = dg
            else:
                dG[t] = dg
            if j or e[5] is not None:
                dh = matmul(dg, w_hh)
        if cg:
            dG = _time_order(dgs, steps)
        dx, dwi, dwh, db = _weight_grads(dG, x, w_ih, bf, out, h0, reverse, e)
        return dx, dwi, dwh, db, db, dh, dc

    @staticmethod
    def _backward_compiled(ctx, cell, gout, ghn, gcn, dG):
        """``backward`` with the compiled cell (``_rnn_kernels.lstm_bwd``): per step one
        kernel call (dG[t] and the new dc, with gout[t] added into dh on the fly) and the
        GEMM dh = dG[t] @ W_hh into a reused buffer; with NumPy BLAS's GEMM at hand
        (``autograd._blas``) the whole loop is one compiled call per thread
        (``lstm_backward``). ``gout`` is time-major; the kernels read it in the layer's
        layout ((N, T, H) when batch_first), where its rows are contiguous."""
        x, w_ih, w_hh, b_ih, b_hh, h0, c0, out, A, C, TC = ctx.saved_tensors
        e, out, T, steps = _bptt_setup(ctx, out)
        dt = x.dtype
        dhb = np.empty(c0.shape, dt)
        dcb = np.empty(c0.shape, dt)
        need_h0 = e[5] is not None
        # the output's gradient in the layer's own layout: each (sample, step) row contiguous
        g3 = np.ascontiguousarray(_tm(gout, ctx.bf))
        ghc, c0c, wc = (np.ascontiguousarray(a) for a in (ghn, c0, w_hh))
        gcc = dcb if gcn is None else np.ascontiguousarray(gcn)
        gemm = _blas.gemm(dt)
        if gemm is not None:
            kern, st = K.lstm_backward.get(), np.array(steps, np.int64)
            _over_rows(lambda r0, r1: kern(gemm, ghc, g3, ctx.bf, gcc, gcn is not None, st, A,
                                           C, c0c, TC, wc, dG, dhb, dcb, need_h0, r0, r1),
                       c0.shape[0])
        else:
            def rows(r0, r1):  # backpropagation through time for batch rows r0:r1
                dh, dc, has_dc = ghc[r0:r1], gcc[r0:r1], gcn is not None
                db_, dc_ = dhb[r0:r1], dcb[r0:r1]
                for j in range(T - 1, -1, -1):
                    t = steps[j]
                    cell(dh, g3, t, ctx.bf, r0, dc, has_dc, A[j, r0:r1],
                         C[j - 1, r0:r1] if j else c0c[r0:r1], TC[j, r0:r1], dG[t, r0:r1], dc_)
                    dc, has_dc = dc_, True
                    if j or need_h0:
                        np.matmul(dG[t, r0:r1], wc, out=db_)
                        dh = db_

            _over_rows(rows, c0.shape[0])
        dh = dhb if T and need_h0 else (ghn if not T else None)
        dc = dcb if T else gcn
        dx, dwi, dwh, db = _weight_grads(dG, x, w_ih, ctx.bf, out, h0, ctx.reverse, e)
        return dx, dwi, dwh, db, db, dh, dc


# ---- GRU ---------------------------------------------------------------------------------


def _gru_scale(xp, H: int, dtype):
    """0.5 on the r and z columns (sigmoid(x) = 0.5 tanh(x / 2) + 0.5), 1 on n's."""
    return xp.asarray(np.concatenate([np.full(2 * H, 0.5), np.ones(H)]), dtype=dtype)


def _gru_cell(xg, hh, h):
    """One GRU step (PyTorch's): ``xg`` = x W_ih^T + b_ih and ``hh`` = h W_hh^T + b_hh, both
    (N, 3H) in gate order [r, z, n], with the r and z columns scaled by 0.5. Returns
    ([r, z], n, the hidden part of n's pre-activation, h')."""
    H = h.shape[-1]
    rz = E.tanh(xg[:, :2 * H] + hh[:, :2 * H]) * 0.5 + 0.5
    hn = hh[:, 2 * H:]
    n = E.tanh(xg[:, 2 * H:] + rz[:, :H] * hn)
    return rz, n, hn, n + rz[:, H:] * (h - n)


def _gru_cell_back(dh, rz, n, hn, h):
    """Backward of ``_gru_cell``: the gradients of the (unscaled) xg and hh, and the part of
    h's gradient that flows directly (not through hh)."""
    H = h.shape[-1]
    r, z = rz[:, :H], rz[:, H:]
    dz = dh * z
    dnp = (dh - dz) * (1 - n * n)
    drz = _cat([dnp * hn, dh * (h - n)]) * rz * (1 - rz)
    return _cat([drz, dnp]), _cat([drz, dnp * r]), dz


class GRULayer(Op):
    """One GRU layer, one direction, over a whole sequence (PyTorch's gates [r, z, n]).
    Inputs ``x``, ``w_ih`` (3H, I), ``w_hh`` (3H, H), ``b_ih``, ``b_hh`` (3H,) or None,
    ``h0`` (N, H); outputs the hidden state of every step and h_n.

    Example:
        >>> out, h_n = GRULayer.apply(x, w_ih, w_hh, b_ih, b_hh, h0, batch_first=True)
    """

    @staticmethod
    def forward(ctx, x, w_ih, w_hh, b_ih, b_hh, h0, batch_first=False, reverse=False):
        xp = get_array_module(x)
        xt = _tm(x, batch_first)
        T, N = xt.shape[:2]
        H = h0.shape[1]
        sc = _gru_scale(xp, H, x.dtype)
        xg = _project(xt, w_ih, b_ih, sc)
        wt = xp.ascontiguousarray((w_hh * sc[:, None]).T)
        bh = None if b_hh is None else b_hh * sc
        out = scratch_empty(xp, (T, N, H), x.dtype)
        RZ = scratch_empty(xp, (T, N, 2 * H), x.dtype)  # per processed step: r and z, n, W_hn h
        NN = scratch_empty(xp, (T, N, H), x.dtype)
        HN = scratch_empty(xp, (T, N, H), x.dtype)
        h = h0
        for j, t in enumerate(_steps(T, reverse)):
            hh = h @ wt
            if bh is not None:
                hh += bh
            rz, n, hn, h = _gru_cell(xg[t], hh, h)
            RZ[j], NN[j], HN[j], out[t] = rz, n, hn, h
        y = _tm(out, batch_first)
        ctx.bf, ctx.reverse, ctx.sc = batch_first, reverse, sc
        ctx.save_for_backward(x, w_ih, w_hh, b_ih, b_hh, h0, y, RZ, NN, HN)
        return y, h

    @staticmethod
    def backward(ctx, gout, ghn):
        x, w_ih, w_hh, b_ih, b_hh, h0, out, RZ, NN, HN = ctx.saved_tensors
        bf, reverse, sc = ctx.bf, ctx.reverse, ctx.sc
        e = ctx.next_edges
        xp = get_array_module(x)
        gout, out = _tm(gout, bf), _tm(out, bf)
        T = out.shape[0]
        steps = _steps(T, reverse)
        cg = isinstance(gout, Tensor)
        if cg:
            xg = linear(_tm(x, bf), w_ih, b_ih) * sc
            RZ, NN, HN, hs = [], [], [], []
            h = h0
            for t in steps:
                rz, n, hn, h = _gru_cell(xg[t], linear(h, w_hh, b_hh) * sc, h)
                RZ.append(rz), NN.append(n), HN.append(hn), hs.append(h)
            out = _time_order(hs, steps)
            dxs, dhs = [None] * T, [None] * T
        else:
            dX = scratch_empty(xp, (T,) + out.shape[1:-1] + (w_ih.shape[0],), x.dtype)
            dHH = scratch_empty(xp, dX.shape, x.dtype)
            cell = _kernel(K.gru_bwd, xp, x.dtype, gout, ghn, h0, w_hh)
            if cell is not None:
                return GRULayer._backward_compiled(ctx, cell, gout, ghn, dX, dHH)
        dh = ghn
        for j in range(T - 1, -1, -1):
            t = steps[j]
            dh = dh + gout[t]
            hp = out[steps[j - 1]] if j else h0
            dx, dhh, dz = _gru_cell_back(dh, RZ[j], NN[j], HN[j], hp)
            if cg:
                dxs[j], dhs[j] = dx, dhh
            else:
                dX[t], dHH[t] = dx, dhh
            if j or e[5] is not None:
                dh = dz + matmul(dhh, w_hh)
        if cg:
            dX, dHH = _time_order(dxs, steps), _time_order(dhs, steps)
        dx, dwi, dbi = _input_grads(dX, x, w_ih, bf, e[0] is not None, e[1] is not None,
                                    e[3] is not None)
        dwh = _hh_weight_grad(dHH, out, h0, reverse) if e[2] is not None else None
        dbh = _sum_rows(dHH) if e[4] is not None else None
        return dx, dwi, dwh, dbi, dbh, dh

    @staticmethod
    def _backward_compiled(ctx, cell, gout, ghn, dX, dHH):
        """``backward`` with the compiled cell (``_rnn_kernels.gru_bwd``): per step one kernel
        call (dX[t], dHH[t] and the direct part dz of h's gradient; the previous step's dz,
        dHH @ W_hh and gout[t] are summed inside it) and the GEMM dHH[t] @ W_hh into a reused
        buffer. ``gout`` is time-major."""
        x, w_ih, w_hh, b_ih, b_hh, h0, out, RZ, NN, HN = ctx.saved_tensors
        e, out, T, steps = _bptt_setup(ctx, out)
        dz = np.empty(h0.shape, x.dtype)
        mm = np.zeros(h0.shape, x.dtype)
        dha, dhb = ghn, mm  # h's gradient = dha + dhb (+ gout[t], added in the kernel)
        for j in range(T - 1, -1, -1):
            t = steps[j]
            cell(dha, dhb, gout[t], RZ[j], NN[j], HN[j], out[steps[j - 1]] if j else h0,
                 dX[t], dHH[t], dz)
            if j or e[5] is not None:
                np.matmul(dHH[t], w_hh, out=mm)
                dha, dhb = dz, mm
        dh = None
        if e[5] is not None:
            dh = dha + dhb if T else ghn
        dx, dwi, dbi = _input_grads(dX, x, w_ih, ctx.bf, e[0] is not None, e[1] is not None,
                                    e[3] is not None)
        dwh = _hh_weight_grad(dHH, out, h0, ctx.reverse) if e[2] is not None else None
        dbh = _sum_rows(dHH) if e[4] is not None else None
        return dx, dwi, dwh, dbi, dbh, dh


# ---- Elman RNN (tanh / relu) ---------------------------------------------------------------


def _rnn_cell(g, relu: bool):
    return E.relu(g) if relu else E.tanh(g)


def _rnn_cell_back(dh, h, relu: bool):
    return dh * (h > 0) if relu else dh * (1 - h * h)


class RNNLayer(Op):
    """One Elman RNN layer, one direction: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act
    tanh or relu. Inputs ``x``, ``w_ih`` (H, I), ``w_hh`` (H, H), ``b_ih``, ``b_hh`` or
    None, ``h0`` (N, H); outputs the hidden state of every step and h_n.

    Example:
        >>> out, h_n = RNNLayer.apply(x, w_ih, w_hh, None, None, h0, relu=True)
    """

    @staticmethod
    def forward(ctx, x, w_ih, w_hh, b_ih, b_hh, h0, batch_first=False, reverse=False,
                relu=False):
        xp = get_array_module(x)
        xt = _tm(x, batch_first)
        T, N = xt.shape[:2]
        xg = _project(xt, w_ih, _bias(b_ih, b_hh))
        out = scratch_empty(xp, (T, N, h0.shape[1]), x.dtype)
        wt = xp.ascontiguousarray(w_hh.T)
        h = h0
        for t in _steps(T, reverse):
            g = h @ wt
            g += xg[t]
            h = _rnn_cell(g, relu)
            out[t] = h
        y = _tm(out, batch_first)
        ctx.bf, ctx.reverse, ctx.relu = batch_first, reverse, relu
        ctx.save_for_backward(x, w_ih, w_hh, b_ih, b_hh, h0, y)
        return y, h

    @staticmethod
    def backward(ctx, gout, ghn):
        x, w_ih, w_hh, b_ih, b_hh, h0, out = ctx.saved_tensors
        bf, reverse, relu = ctx.bf, ctx.reverse, ctx.relu
        e = ctx.next_edges
        xp = get_array_module(x)
        gout, out = _tm(gout, bf), _tm(out, bf)
        T = out.shape[0]
        steps = _steps(T, reverse)
        cg = isinstance(gout, Tensor)
        if cg:
            xg = linear(_tm(x, bf), w_ih, _bias(b_ih, b_hh))
            hs = []
            h = h0
            for t in steps:
                h = _rnn_cell(xg[t] + matmul(h, S.t(w_hh)), relu)
                hs.append(h)
            out = _time_order(hs, steps)
            dgs = [None] * T
        else:
            dG = scratch_empty(xp, out.shape, x.dtype)
        dh = ghn
        for j in range(T - 1, -1, -1):
            t = steps[j]
            dh = dh + gout[t]
            dg = _rnn_cell_back(dh, out[t], relu)
            if cg:
                dgs[j] = dg
            else:
                dG[t] = dg
            if j or e[5] is not None:
                dh = matmul(dg, w_hh)
        if cg:
            dG = _time_order(dgs, steps)
        dx, dwi, dwh, db = _weight_grads(dG, x, w_ih, bf, out, h0, reverse, e)
        return dx, dwi, dwh, db, db, dh
