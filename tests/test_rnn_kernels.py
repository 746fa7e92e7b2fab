"""The compiled LSTM/GRU cell kernels (``nn/functional/_rnn_kernels.py``) against their NumPy
reference (``autograd._numba.disabled()``) and PyTorch.

Kernels on vs off: outputs, h_n/c_n and every gradient agree to rounding (float64 1e-12,
float32 1e-5) over layers, directions, batch_first, given/default initial state and bias.
The reference side runs without numba too; the kernel side is skipped when numba is missing.
Then: kernels on against PyTorch with copied weights, and double backward (create_graph,
which runs the reference formulas on Tensors) with the kernels switched on.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import autograd as ag
import autograd._numba as anb
import nn
import nn.functional._rnn_kernels as K

I, H, N, T = 4, 5, 3, 6

CASES = list(itertools.product(["LSTM", "GRU"], [1, 2], [False, True], [False, True],
                               [False, True], ["float64", "float32"]))


def _run(kind, layers, bi, bf, given, dtype, bias=True, seed=0):
    """Forward + backward of a seeded layer: outputs, final states and all gradients."""
    ag.manual_seed(seed)
    rng = np.random.default_rng(seed)
    m = getattr(nn, kind)(I, H, num_layers=layers, bidirectional=bi, batch_first=bf,
                          bias=bias, dtype=dtype)
    x = ag.tensor(rng.standard_normal((N, T, I) if bf else (T, N, I)).astype(dtype),
                  requires_grad=True)
    D = 2 if bi else 1
    hs, hx = [], None
    if given:
        hs = [ag.tensor(rng.standard_normal((layers * D, N, H)).astype(dtype),
                        requires_grad=True) for _ in range(2 if kind == "LSTM" else 1)]
        hx = tuple(hs) if kind == "LSTM" else hs[0]
    out, st = m(x, hx)
    sts = list(st) if isinstance(st, tuple) else [st]
    w = [ag.tensor(rng.standard_normal(tuple(t.shape)).astype(dtype)) for t in [out] + sts]
    sum((t * wt).sum() for t, wt in zip([out] + sts, w)).backward()
    res = [out, *sts]
    return ([t.detach().numpy() for t in res] + [x.grad.numpy()]
            + [p.grad.numpy() for p in m.parameters()] + [h.grad.numpy() for h in hs])


def _close(a, b, dtype):
    tol = 1e-12 if dtype == "float64" else 1e-5
    assert len(a) == len(b)
    for u, v in zip(a, b):
        assert u.dtype == v.dtype == np.dtype(dtype)
        np.testing.assert_allclose(u, v, rtol=tol, atol=tol)


@pytest.mark.parametrize("kind,layers,bi,bf,given,dtype", CASES)
def test_reference_path_runs_without_kernels(kind, layers, bi, bf, given, dtype):
    """The NumPy reference (kernels off) always runs, numba or not: finite and repeatable."""
    with anb.disabled():
        a = _run(kind, layers, bi, bf, given, dtype)
        b = _run(kind, layers, bi, bf, given, dtype)
    for u, v in zip(a, b):
        assert np.isfinite(u).all()
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("kind,layers,bi,bf,given,dtype", CASES)
def test_kernels_match_reference(kind, layers, bi, bf, given, dtype):
    pytest.importorskip("numba")
    assert anb.enabled() or not anb._enabled, "numba installed but the kernels did not load"
    if not anb.enabled():
        pytest.skip("kernels switched off (AUTOGRAD_NUMBA=0)")
    on = _run(kind, layers, bi, bf, given, dtype)
    with anb.disabled():
        off = _run(kind, layers, bi, bf, given, dtype)
    _close(on, off, dtype)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_kernels_match_reference_without_bias(kind):
    pytest.importorskip("numba")
    on = _run(kind, 1, True, False, True, "float64", bias=False)
    with anb.disabled():
        off = _run(kind, 1, True, False, True, "float64", bias=False)
    _close(on, off, "float64")


def test_kernels_are_used():
    """With numba on, the layers really call the compiled kernels (not silently the
    reference)."""
    pytest.importorskip("numba")
    if not anb.enabled():
        pytest.skip("kernels switched off (AUTOGRAD_NUMBA=0)")
    for dtype in ("float32", "float64"):
        _run("LSTM", 1, False, True, True, dtype)
        _run("GRU", 1, False, True, True, dtype)
    used = [(K.lstm_gates, {"float64"}), (K.gru_bwd, {"float32", "float64"})]
    from autograd import _blas  # noqa: PLC0415

    if _blas.gemm(np.float32) is not None:  # the whole recurrences compiled (the per-step
        # kernels inside them are compiled into their callers)
        used += [(K.lstm_forward32, {"float32"}), (K.lstm_backward, {"float32", "float64"})]
    else:
        used += [(K.lstm_step32, {"float32"}), (K.lstm_bwd, {"float32", "float64"})]
    for k, want in used:
        sigs = k.get().signatures
        dts = {str(next(a for a in s if hasattr(a, "dtype")).dtype) for s in sigs}
        assert want <= dts, (k.py.__name__, sigs)


def _ulps(got, x):
    """|got - tanh(x)| in units of the last place of float32 at tanh(x) (float64 reference)."""
    ref = np.tanh(x.astype(np.float64))
    return np.abs(got.astype(np.float64) - ref) / np.spacing(np.abs(ref).astype(np.float32))


def _tanh_through_step(x, compiled):
    """tanh32 of the float32 array x as the fused step computes it: one batch row whose g
    gate (a plain tanh) gets x, with a zero previous state (A = tanh(xg))."""
    h = x.size
    xg = np.zeros((1, 4 * h), np.float32)
    xg[0, 2 * h:3 * h] = x
    a = np.empty_like(xg)
    c = np.zeros((1, h), np.float32)
    step = K.lstm_step32.get() if compiled else K.lstm_step32.py
    step(a, xg[None], 0, False, 0, np.full(4 * h, -0.0, np.float32), True, c, c.copy(),
         c.copy(), c.copy())  # a bias of -0.: x + -0. is x, -0. included
    return a[0, 2 * h:3 * h]


@pytest.mark.parametrize("compiled", [False, True])
def test_tanh32_accuracy(compiled):
    """The float32 tanh of the fused LSTM step: at most 6 ulp from tanh over a dense grid
    (tiny values by their exponent, uniform draws to 12 and a fine grid to 10, both signs),
    NaN in NaN out, +-inf to +-1, -0. to -0., never past +-1."""
    if compiled and not anb.enabled():
        pytest.skip("kernels switched off or numba missing")
    rng = np.random.default_rng(0)
    x = np.concatenate([np.geomspace(1e-30, 1e-3, 20000), rng.uniform(0, 12, 200000),
                        np.linspace(0, 10, 100001), [9.0, 9.5, 20.0, 3e38]]).astype(np.float32)
    x = np.concatenate([x, -x])
    if not compiled:
        x = x[::97]  # the Python twin: a sample
    got = _tanh_through_step(x, compiled)
    assert _ulps(got, x).max() <= 6
    assert np.abs(got).max() <= 1
    special = _tanh_through_step(np.array([np.nan, np.inf, -np.inf, -0.0], np.float32),
                                 compiled)
    assert np.isnan(special[0]) and special[1] == 1 and special[2] == -1
    assert special[3] == 0 and np.signbit(special[3])


def test_lstm_step32_matches_float32_reference():
    """The fused float32 step against the float64 reference cell (``_lstm_cell``) on the
    same inputs: agreement to float32 rounding, with and without a previous state."""
    from nn.functional import rnn as R  # noqa: PLC0415
    rng = np.random.default_rng(4)
    n, h = 3, 7
    k = R._lstm_const(np, n, h, np.float64)
    for zero in (True, False):
        a0 = rng.standard_normal((n, 4 * h)).astype(np.float32) * 2
        xg = rng.standard_normal((n, 4 * h)).astype(np.float32) * 2
        c = rng.standard_normal((n, h)).astype(np.float32)
        pre = xg.astype(np.float64) if zero else a0.astype(np.float64) + xg
        ref_a, ref_c, ref_tc, ref_h = R._lstm_cell(pre, c.astype(np.float64), k)
        for compiled in (False, True):
            if compiled and not anb.enabled():
                continue
            a, C, TC, hh = a0.copy(), np.empty_like(c), np.empty_like(c), np.empty_like(c)
            step = K.lstm_step32.get() if compiled else K.lstm_step32.py
            # xg as step 1 of a batch-first (n, 2, 4h) projection, part of it as the bias
            xg3 = np.zeros((n, 2, 4 * h), np.float32)
            bias = (xg[0] / 4).astype(np.float32)
            xg3[:, 1] = xg - bias
            step(a, xg3, 1, True, 0, bias, zero, c, C, TC, hh)
            for got, want in ((a, ref_a), (C, ref_c), (TC, ref_tc), (hh, ref_h)):
                np.testing.assert_allclose(got, want, rtol=2e-6, atol=2e-6)


def test_kernel_python_twins_match_compiled():
    """The kernels run as plain Python (``Kernel.__call__`` without numba) give the same
    numbers as compiled: their logic is tested even where numba is absent."""
    rng = np.random.default_rng(3)
    a = np.tanh(rng.standard_normal((2, 4 * H)))
    c, tc = rng.standard_normal((2, H)), np.tanh(rng.standard_normal((2, H)))
    dh, g, dc = (rng.standard_normal((2, H)) for _ in range(3))
    outs = []
    for ctx in (anb.disabled, lambda: _nullcontext()):
        with ctx():
            A, C = a.copy(), np.empty((2, H))
            K.lstm_gates(A, c, C)
            dG, dco = np.empty((2, 4 * H)), np.empty((2, H))
            K.lstm_bwd(dh, g[None], 0, False, 0, dc, True, a, c, tc, dG, dco)
            outs.append((A, C, dG, dco))
    for u, v in zip(*outs):
        np.testing.assert_allclose(u, v, rtol=1e-14, atol=1e-15)
    # against the NumPy cell: _lstm_cell_back
    from nn.functional import rnn as R  # noqa: PLC0415
    k = R._lstm_const(np, 2, H, np.float64)
    ref_dg, ref_dc = R._lstm_cell_back(dh + g, dc, a, c, tc, k)
    np.testing.assert_allclose(outs[0][2], ref_dg, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(outs[0][3], ref_dc, rtol=1e-14, atol=1e-15)


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def _copy_from_torch(m, tm):
    sd = {k: ag.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()}
    m.load_state_dict(sd)


@pytest.mark.parametrize("kind,layers,bi,bf,given", list(itertools.product(
    ["LSTM", "GRU"], [1, 2], [False, True], [False, True], [False, True])))
def test_kernels_match_torch(kind, layers, bi, bf, given):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    kw = dict(num_layers=layers, bidirectional=bi, batch_first=bf)
    tm = getattr(torch.nn, kind)(I, H, **kw).double()
    m = getattr(nn, kind)(I, H, dtype="float64", **kw)
    _copy_from_torch(m, tm)
    D = 2 if bi else 1
    xs = rng.standard_normal((N, T, I) if bf else (T, N, I))
    tx, x = torch.tensor(xs, requires_grad=True), ag.tensor(xs, requires_grad=True)
    thx = hx = None
    pairs = []
    if given:
        hs = [rng.standard_normal((layers * D, N, H)) for _ in range(2 if kind == "LSTM" else 1)]
        ths = [torch.tensor(h, requires_grad=True) for h in hs]
        ohs = [ag.tensor(h, requires_grad=True) for h in hs]
        pairs = list(zip(ths, ohs))
        thx = tuple(ths) if kind == "LSTM" else ths[0]
        hx = tuple(ohs) if kind == "LSTM" else ohs[0]

    def flat(r):
        o, st = r
        return [o] + (list(st) if isinstance(st, tuple) else [st])

    tout, out = flat(tm(tx, thx)), flat(m(x, hx))
    ws = [rng.standard_normal(tuple(o.shape)) for o in tout]
    sum((o * torch.tensor(w)).sum() for o, w in zip(tout, ws)).backward()
    sum((o * ag.tensor(w)).sum() for o, w in zip(out, ws)).backward()
    for a, b in zip(tout, out):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (name, tp), (name2, p) in zip(tm.named_parameters(), m.named_parameters()):
        assert name == name2
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=name)
    for th, oh in pairs:
        np.testing.assert_allclose(oh.grad.numpy(), th.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_double_backward_with_kernels_on(kind):
    """create_graph runs the reference formulas on Tensors (the forward used the kernels):
    first and second derivatives check against finite differences."""
    ag.manual_seed(5)
    rng = np.random.default_rng(5)
    m = getattr(nn, kind)(2, 2, dtype="float64")
    x = ag.tensor(rng.standard_normal((2, 1, 2)), requires_grad=True)
    h0 = ag.tensor(rng.standard_normal((1, 1, 2)), requires_grad=True)
    c0 = ag.tensor(rng.standard_normal((1, 1, 2)), requires_grad=True)
    w = list(m.parameters())[:2]

    def fn(x, h0, c0, w_ih, w_hh):
        out, st = m(x, (h0, c0) if kind == "LSTM" else h0)
        return (out,) + (tuple(st) if isinstance(st, tuple) else (st,))

    assert ag.gradcheck(fn, (x, h0, c0, *w))
    assert ag.gradgradcheck(fn, (x, h0, c0, *w))


def test_float32_training_step_matches_reference():
    """The benchmark's shape class (batch_first LSTM, float32, default state, last step
    into a head): a few SGD steps with kernels on and off end at the same weights."""
    pytest.importorskip("numba")
    import optim  # noqa: PLC0415
    rng = np.random.default_rng(1)
    xs = rng.random((8, 7, 6), dtype=np.float32)
    res = []
    for ctx in (_nullcontext, anb.disabled):
        with ctx():
            ag.manual_seed(2)
            m = nn.LSTM(6, 16, batch_first=True)
            head = nn.Linear(16, 3)
            ps = list(m.parameters()) + list(head.parameters())
            opt = optim.SGD(ps, lr=0.1, momentum=0.9)
            for _ in range(3):
                out, _ = m(ag.tensor(xs))
                loss = (head(out[:, -1]) ** 2).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
            res.append([p.detach().numpy().copy() for p in ps])
    for u, v in zip(*res):
        np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("given,reverse,bf,dtype", [(False, False, False, "float64"),
                                                    (True, True, False, "float64"),
                                                    (False, False, True, "float32"),
                                                    (True, True, True, "float32")])
def test_lstm_rows_split_over_threads(given, reverse, bf, dtype, monkeypatch):
    """With more than one engine thread the compiled LSTM runs blocks of batch rows on
    separate threads (each row's recurrence is independent): the same outputs, states and
    gradients as one block, and the split really happens. (float32 batch_first: each
    thread also projects its own rows' input first.)"""
    pytest.importorskip("numba")
    if not anb.enabled():
        pytest.skip("kernels switched off (AUTOGRAD_NUMBA=0)")
    from nn.functional import rnn as R  # noqa: PLC0415

    one = _run("LSTM", 1, reverse, bf, given, dtype)
    blocks = []
    monkeypatch.setattr(R, "engine_threads", lambda: 3)
    monkeypatch.setattr(R, "_ROWS_PER_THREAD", 1)
    split = R.parallel_slices
    monkeypatch.setattr(R, "parallel_slices",
                        lambda fn, ranges: blocks.append(ranges) or split(fn, ranges))
    three = _run("LSTM", 1, reverse, bf, given, dtype)
    assert blocks and all(len(r) == 3 for r in blocks)  # N = 3 rows: one per thread
    _close(three, one, dtype)


@pytest.mark.parametrize("bf,given,reverse", [(False, False, False), (True, True, False),
                                              (True, False, True)])
def test_compiled_recurrence_matches_per_step_loop(bf, given, reverse, monkeypatch):
    """The LSTM recurrences as one compiled call with BLAS's GEMM inside (``lstm_forward32``,
    ``lstm_backward``) give what the per-step Python loop around the same cell kernels gives
    (NumPy BLAS's GEMM not found: ``_blas.gemm`` None), in float32 and float64."""
    pytest.importorskip("numba")
    from autograd import _blas  # noqa: PLC0415

    if not anb.enabled() or _blas.gemm(np.float32) is None:
        pytest.skip("no compiled kernels or no BLAS GEMM symbol")
    for dtype in ("float32", "float64"):
        seq = _run("LSTM", 2, reverse, bf, given, dtype)
        with monkeypatch.context() as m:
            m.setattr(_blas, "gemm", lambda dt: None)
            loop = _run("LSTM", 2, reverse, bf, given, dtype)
        _close(seq, loop, dtype)
