"""Recurrent layers: RNN / LSTM / GRU and their cells.

Float64 finite-difference checks of every cell and layer option, second derivatives
(create_graph), equality with PyTorch after copying its parameters by name, dropout between
layers, unbatched inputs, training, and the error messages for bad inputs.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
import optim

I, H, T, N = 3, 2, 3, 2  # tiny sizes for the finite-difference checks


def _seeded(seed=0):
    ag.manual_seed(seed)
    return np.random.default_rng(seed)


def _t(a, rg=True):
    return ag.tensor(np.asarray(a, dtype=np.float64), requires_grad=rg)


def _layer(kind, **kw):
    cls = {"RNN": nn.RNN, "RNN_RELU": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}[kind]
    if kind == "RNN_RELU":
        kw["nonlinearity"] = "relu"
    return cls(I, H, dtype="float64", **kw)


def _np(t):
    return t.detach().numpy()


def _flat(out):
    """(output, h_n) or (output, (h_n, c_n)) -> a flat tuple of Tensors."""
    o, st = out
    return (o,) + (tuple(st) if isinstance(st, tuple) else (st,))


# ---- finite differences: cells --------------------------------------------------------------

CELLS = [
    ("RNNCell", dict()), ("RNNCell", dict(nonlinearity="relu")), ("RNNCell", dict(bias=False)),
    ("LSTMCell", dict()), ("LSTMCell", dict(bias=False)),
    ("GRUCell", dict()), ("GRUCell", dict(bias=False)),
]


@pytest.mark.parametrize("name,kw", CELLS)
@pytest.mark.parametrize("given_state", [False, True])
def test_cell_gradcheck(name, kw, given_state):
    rng = _seeded(1)
    cell = getattr(nn, name)(I, H, dtype="float64", **kw)
    x = _t(rng.standard_normal((N, I)))
    ps = list(cell.parameters())
    lstm = name == "LSTMCell"
    if given_state:
        h = _t(rng.standard_normal((N, H)))
        c = _t(rng.standard_normal((N, H)))

        def fn(x, h, c, *ps):
            out = cell(x, (h, c) if lstm else h)
            return out if lstm else (out,)

        assert ag.gradcheck(fn, (x, h, c, *ps))
    else:
        def fn(x, *ps):
            out = cell(x)
            return out if lstm else (out,)

        assert ag.gradcheck(fn, (x, *ps))


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_gradgradcheck(name):
    rng = _seeded(2)
    cell = getattr(nn, name)(I, H, dtype="float64")
    x = _t(rng.standard_normal((N, I)))
    h = _t(rng.standard_normal((N, H)))
    c = _t(rng.standard_normal((N, H)))
    lstm = name == "LSTMCell"

    def fn(x, h, c, w_ih, w_hh, b_ih, b_hh):
        out = cell(x, (h, c) if lstm else h)
        return out if lstm else (out,)

    assert ag.gradgradcheck(fn, (x, h, c, *cell.parameters()))


def test_cell_unbatched_matches_batched():
    rng = _seeded(3)
    cell = nn.LSTMCell(I, H, dtype="float64")
    x = rng.standard_normal(I)
    h, c = rng.standard_normal(H), rng.standard_normal(H)
    h1, c1 = cell(_t(x, False), (_t(h, False), _t(c, False)))
    h2, c2 = cell(_t(x[None], False), (_t(h[None], False), _t(c[None], False)))
    assert h1.shape == (H,) and c1.shape == (H,)
    np.testing.assert_allclose(h1.detach().numpy(), h2.detach().numpy()[0])
    np.testing.assert_allclose(c1.detach().numpy(), c2.detach().numpy()[0])
    g = nn.GRUCell(I, H, dtype="float64")
    assert g(_t(x, False)).shape == (H,)
    assert nn.RNNCell(I, H, dtype="float64")(_t(x, False), _t(h, False)).shape == (H,)


# ---- finite differences: layers -------------------------------------------------------------

LAYER_OPTS = [
    dict(),
    dict(num_layers=2),
    dict(bidirectional=True),
    dict(batch_first=True),
    dict(bias=False),
    dict(num_layers=2, bidirectional=True, batch_first=True),
]


@pytest.mark.parametrize("kind", ["RNN", "RNN_RELU", "LSTM", "GRU"])
@pytest.mark.parametrize("opts", LAYER_OPTS, ids=lambda o: ",".join(o) or "default")
@pytest.mark.parametrize("given_state", [False, True])
def test_layer_gradcheck(kind, opts, given_state):
    if kind == "RNN_RELU" and opts not in (LAYER_OPTS[0], LAYER_OPTS[-1]):
        pytest.skip("relu: two option sets are enough")
    rng = _seeded(4)
    m = _layer(kind, **opts)
    bf = opts.get("batch_first", False)
    D = 2 if opts.get("bidirectional") else 1
    L = opts.get("num_layers", 1)
    x = _t(rng.standard_normal((N, T, I) if bf else (T, N, I)))
    ps = list(m.parameters())
    if kind == "RNN_RELU":  # keep pre-activations away from relu's kink
        for p in ps:
            p._data += 0.3 * np.sign(p._data)
    if not given_state:
        assert ag.gradcheck(lambda x, *ps: _flat(m(x)), (x, *ps))
        return
    h0 = _t(rng.standard_normal((L * D, N, H)))
    if kind == "LSTM":
        c0 = _t(rng.standard_normal((L * D, N, H)))
        assert ag.gradcheck(lambda x, h, c, *ps: _flat(m(x, (h, c))), (x, h0, c0, *ps))
    else:
        assert ag.gradcheck(lambda x, h, *ps: _flat(m(x, h)), (x, h0, *ps))


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_layer_gradgradcheck(kind):
    rng = _seeded(5)
    m = _layer(kind, bidirectional=True)
    x = _t(rng.standard_normal((2, 1, I)))
    h0 = _t(rng.standard_normal((2, 1, H)))
    hx = (h0, _t(rng.standard_normal((2, 1, H)))) if kind == "LSTM" else h0
    w = list(m.parameters())[:2]  # weight_ih_l0, weight_hh_l0: enough to exercise the path

    def fn(x, w_ih, w_hh):
        return _flat(m(x, hx))

    assert ag.gradgradcheck(fn, (x, *w))


def test_unbatched_input():
    rng = _seeded(6)
    for kind in ("RNN", "LSTM", "GRU"):
        m = _layer(kind, num_layers=2, bidirectional=True)
        x = rng.standard_normal((T, I))
        hb = rng.standard_normal((4, 1, H))
        hx = (_t(hb[:, 0], False),) * 2 if kind == "LSTM" else _t(hb[:, 0], False)
        hxb = (_t(hb, False),) * 2 if kind == "LSTM" else _t(hb, False)
        o1 = _flat(m(_t(x, False), hx))
        o2 = _flat(m(_t(x[:, None], False), hxb))
        assert o1[0].shape == (T, 2 * H) and o1[1].shape == (4, H)
        np.testing.assert_allclose(o1[0].detach().numpy(), o2[0].detach().numpy()[:, 0])
        np.testing.assert_allclose(o1[1].detach().numpy(), o2[1].detach().numpy()[:, 0])


def test_only_final_state_used_and_no_input_grad():
    rng = _seeded(7)
    m = _layer("LSTM", num_layers=2)
    x = _t(rng.standard_normal((T, N, I)), rg=False)
    _, (h, c) = m(x)
    (h.sum() + 2 * c.sum()).backward()
    for p in m.parameters():
        assert p.grad is not None and p.grad.shape == p.shape
    assert x.grad is None


def test_shapes_and_state_dict_layout():
    m = nn.LSTM(5, 7, num_layers=2, bidirectional=True, batch_first=True)
    sd = m.state_dict()
    assert list(sd) == [f"{w}_l{k}{s}" for k in range(2) for s in ("", "_reverse")
                        for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    assert sd["weight_ih_l0"].shape == (28, 5) and sd["weight_ih_l1"].shape == (28, 14)
    out, (h, c) = m(ag.randn(3, 4, 5))
    assert out.shape == (3, 4, 14) and h.shape == (4, 3, 7) and c.shape == (4, 3, 7)
    assert out.dtype == np.float32
    g = nn.GRU(5, 7, bias=False)
    assert list(g.state_dict()) == ["weight_ih_l0", "weight_hh_l0"]
    assert g.state_dict()["weight_hh_l0"].shape == (21, 7)
    bound = 1 / np.sqrt(7)
    for p in m.parameters():
        assert np.abs(p.detach().numpy()).max() <= bound
    assert "LSTM(5, 7, num_layers=2, batch_first=True, bidirectional=True)" == repr(m)
    assert len(m.all_weights) == 4 and len(m.all_weights[0]) == 4


# ---- against PyTorch ------------------------------------------------------------------------


def _copy_from_torch(m, tm):
    sd = {k: ag.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()}
    assert list(sd) == list(m.state_dict())
    assert all(tuple(v.shape) == tuple(m.state_dict()[k].shape) for k, v in sd.items())
    m.load_state_dict(sd)


TORCH_CASES = list(itertools.product(
    ["RNN", "RNN_RELU", "LSTM", "GRU"], [1, 2], [False, True], [False, True], [False, True],
    [True, False]))


@pytest.mark.parametrize("kind,layers,bi,bf,given,bias", TORCH_CASES)
def test_layer_matches_torch(kind, layers, bi, bf, given, bias):
    torch = pytest.importorskip("torch")
    rng = _seeded(8)
    kw = dict(num_layers=layers, bidirectional=bi, batch_first=bf, bias=bias)
    tkw = dict(kw, nonlinearity="relu") if kind == "RNN_RELU" else kw
    tcls = getattr(torch.nn, "RNN" if kind == "RNN_RELU" else kind)
    tm = tcls(4, 5, **tkw).double()
    m = {"RNN": nn.RNN, "RNN_RELU": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}[kind](
        4, 5, dtype="float64", **tkw)
    _copy_from_torch(m, tm)
    D = 2 if bi else 1
    xs = rng.standard_normal((3, 6, 4) if bf else (6, 3, 4))
    tx, x = torch.tensor(xs, requires_grad=True), _t(xs)
    thx = hx = None
    states = []
    if given:
        hs = [rng.standard_normal((layers * D, 3, 5)) for _ in range(2 if kind == "LSTM" else 1)]
        ths = [torch.tensor(h, requires_grad=True) for h in hs]
        ohs = [_t(h) for h in hs]
        states = list(zip(ths, ohs))
        thx = tuple(ths) if kind == "LSTM" else ths[0]
        hx = tuple(ohs) if kind == "LSTM" else ohs[0]
    tout = _flat(tm(tx, thx))
    out = _flat(m(x, hx))
    ws = [rng.standard_normal(tuple(o.shape)) for o in tout]
    sum((o * torch.tensor(w)).sum() for o, w in zip(tout, ws)).backward()
    sum((o * _t(w, False)).sum() for o, w in zip(out, ws)).backward()
    for a, b in zip(tout, out):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    for (name, tp), (name2, p) in zip(tm.named_parameters(), m.named_parameters()):
        assert name == name2
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)
    for th, oh in states:
        np.testing.assert_allclose(oh.grad.numpy(), th.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name,kw", CELLS)
def test_cell_matches_torch(name, kw):
    torch = pytest.importorskip("torch")
    rng = _seeded(9)
    tc = getattr(torch.nn, name)(4, 5, **kw).double()
    c = getattr(nn, name)(4, 5, dtype="float64", **kw)
    _copy_from_torch(c, tc)
    xs, hs, cs = (rng.standard_normal((3, 4)), rng.standard_normal((3, 5)),
                  rng.standard_normal((3, 5)))
    tx, th, tcs = (torch.tensor(a, requires_grad=True) for a in (xs, hs, cs))
    x, h, cc = _t(xs), _t(hs), _t(cs)
    lstm = name == "LSTMCell"
    tout = tc(tx, (th, tcs)) if lstm else (tc(tx, th),)
    out = c(x, (h, cc)) if lstm else (c(x, h),)
    sum(o.sum() * (k + 1) for k, o in enumerate(tout)).backward()
    sum(o.sum() * (k + 1) for k, o in enumerate(out)).backward()
    for a, b in zip(tout, out):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-10)
    pairs = [(x, tx), (h, th)] + ([(cc, tcs)] if lstm else [])
    pairs += list(zip(c.parameters(), tc.parameters()))
    for a, b in pairs:
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_lstm_float32_matches_torch():
    torch = pytest.importorskip("torch")
    rng = _seeded(10)
    tm = torch.nn.LSTM(28, 32, batch_first=True)
    m = nn.LSTM(28, 32, batch_first=True)
    _copy_from_torch(m, tm)
    xs = rng.standard_normal((8, 28, 28)).astype(np.float32)
    tout, (th, tc) = tm(torch.tensor(xs))
    out, (h, c) = m(ag.tensor(xs))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), atol=2e-6)
    (tout[:, -1].sum() + tc.sum()).backward()
    (out[:, -1].sum() + c.sum()).backward()
    for p, tp in zip(m.parameters(), tm.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-4, atol=1e-5)


# ---- dropout, training ----------------------------------------------------------------------


def test_dropout_between_layers():
    m = nn.GRU(I, H, num_layers=2, dropout=0.5, dtype="float64")
    x = ag.randn(T, N, I, dtype="float64")
    ag.manual_seed(0)
    a = m(x)[0].detach().numpy()
    ag.manual_seed(0)
    b = m(x)[0].detach().numpy()
    ag.manual_seed(1)
    c = m(x)[0].detach().numpy()
    np.testing.assert_array_equal(a, b)  # the package generator drives the masks
    assert not np.allclose(a, c)
    m.eval()
    e1, e2 = m(x)[0].detach().numpy(), m(x)[0].detach().numpy()
    np.testing.assert_array_equal(e1, e2)
    m2 = nn.GRU(I, H, num_layers=2, dtype="float64")
    m2.load_state_dict(m.state_dict())
    np.testing.assert_allclose(m2(x)[0].detach().numpy(), e1)
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.LSTM(I, H, dropout=0.2)


def test_lstm_learns_sequence_task():
    """Classify whether the sum of a sequence is positive; the loss must fall."""
    rng = _seeded(11)
    lstm = nn.LSTM(1, 16, batch_first=True)
    head = nn.Linear(16, 2)
    params = list(lstm.parameters()) + list(head.parameters())
    opt = optim.Adam(params, lr=0.02) if hasattr(optim, "Adam") else optim.SGD(params, lr=0.5)
    xs = rng.standard_normal((128, 8, 1)).astype(np.float32)
    ys = (xs.sum(axis=(1, 2)) > 0).astype(np.int64)
    x, y = ag.tensor(xs), ag.tensor(ys)
    losses = []
    for _ in range(60):
        out, _ = lstm(x)
        loss = F.cross_entropy(head(out[:, -1]), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


# ---- errors ---------------------------------------------------------------------------------


def _error(f):
    try:
        f()
    except Exception as e:  # noqa: BLE001 - the class and message are compared
        return type(e).__name__, str(e)
    return None


# (constructor, its args, input shape, states' shapes or None): each raises in PyTorch
_BAD_CALLS = [
    ("RNN", (4, 3, 2), (5, 2, 5), None),  # input size
    ("RNN", (4, 3, 2), (5, 2, 4, 1), None),  # rank of the input
    ("LSTM", (4, 3), (4,), None),
    ("GRU", (4, 3), (2, 4, 4, 4), None),
    ("RNN", (4, 3, 2), (5, 2, 4), [(1, 2, 3)]),  # hidden layers / batch / size / rank
    ("RNN", (4, 3, 2), (5, 2, 4), [(2, 3, 3)]),
    ("RNN", (4, 3, 2), (5, 2, 4), [(2, 2, 4)]),
    ("RNN", (4, 3, 2), (5, 2, 4), [(2, 3)]),
    ("RNN", (4, 3, 2), (5, 4), [(2, 1, 3)]),
    ("RNN", (4, 3, 2), (5, 4), [(1, 3)]),  # unbatched: the batched expected size
    ("LSTM", (4, 3), (5, 2, 4), [(1, 2, 3), (1, 2, 4)]),
    ("LSTM", (4, 3), (5, 2, 4), [(2, 2, 3), (1, 2, 3)]),
    ("LSTM", (4, 3), (5, 2, 4), [(1, 2, 3), (2, 3)]),
    ("LSTM", (4, 3, 1, True, False, 0.0, False, 2), (5, 2, 4), [(1, 2, 3), (1, 2, 3)]),
    ("GRU", (4, 3), (0, 2, 4), None),  # no steps
    ("GRUCell", (4, 3), (2, 5), None),
    ("GRUCell", (4, 3), (2, 4), [(3, 3)]),
    ("GRUCell", (4, 3), (2, 2, 4), None),
    ("GRUCell", (4, 3), (2, 4), [(2, 4)]),
    ("GRUCell", (4, 3), (2, 4), [(2, 3, 1)]),
    ("RNNCell", (4, 3), (4,), [(2, 3)]),
    ("LSTMCell", (4, 3), (2, 4), [(2, 3), (2, 4)]),
    ("LSTMCell", (4, 3), (2, 4), [(2, 3), (2, 1, 3)]),
]


@pytest.mark.parametrize("name,args,shape,hx", _BAD_CALLS)
def test_bad_inputs_raise_pytorchs_errors(name, args, shape, hx):
    torch = pytest.importorskip("torch")
    results = []
    for lib, mod in ((torch, torch.nn), (ag, nn)):
        lib.manual_seed(0)
        m = getattr(mod, name)(*args)
        x = lib.randn(*shape)
        states = None if hx is None else [lib.zeros(*s) for s in hx]
        if states is not None:
            states = tuple(states) if len(states) == 2 else states[0]
        results.append(_error(lambda: m(x) if states is None else m(x, states)))
    assert results[0] is not None
    assert results[1] == results[0]


@pytest.mark.parametrize("make", [
    lambda mod: mod.RNN(3, 4, nonlinearity="sigmoid"),
    lambda mod: mod.LSTM(3, 4, num_layers=2, dropout=1.5),
    lambda mod: mod.GRU(3, 0),
    lambda mod: mod.GRU(0, 3),
    lambda mod: mod.RNN(3, 3, num_layers=0),
    lambda mod: mod.LSTM(3, 4, proj_size=4),
    lambda mod: mod.LSTM(3, 4, proj_size=-1),
    lambda mod: mod.GRU(3, 4, proj_size=2),
    lambda mod: mod.RNN(3, 4, proj_size=2),
    lambda mod: mod.RNNCell(3, 4, nonlinearity="gelu")(mod.__dict__["_x"]),
])
def test_bad_arguments_raise_pytorchs_errors(make):
    torch = pytest.importorskip("torch")
    torch.nn._x, nn._x = torch.zeros(3), ag.zeros(3)  # the cell's input (checked in forward)
    try:
        theirs, ours = _error(lambda: make(torch.nn)), _error(lambda: make(nn))
    finally:
        del torch.nn._x, nn._x
    assert theirs is not None
    assert ours == theirs


def test_double_backward_through_layer_is_refused_without_retain():
    m = nn.RNN(I, H)
    out, h = m(ag.randn(T, N, I))
    loss = out.sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()



def test_recycled_buffers_are_never_shared_while_in_use():
    """The op recycles its large buffers (the scratch pool): outputs still held and
    graphs not yet differentiated must keep their own memory."""
    rng = _seeded(12)
    m = _layer("LSTM", batch_first=True)
    xs = [rng.standard_normal((N, T, I)) for _ in range(3)]
    ref = []
    for a in xs:  # one graph at a time
        x = _t(a)
        out, _ = m(x)
        (out * out).sum().backward()
        ref.append((_np(out).copy(), x.grad.numpy().copy()))
    m.zero_grad()
    xt = [_t(a) for a in xs]
    outs = [m(x)[0] for x in xt]  # three graphs alive at once, then one backward
    sum((o * o).sum() for o in outs).backward()
    for (o_ref, g_ref), o, x in zip(ref, outs, xt):
        np.testing.assert_array_equal(_np(o), o_ref)
        np.testing.assert_allclose(x.grad.numpy(), g_ref, rtol=1e-12)


@pytest.mark.parametrize("layers,bi,bf,bias,packed", [(1, False, False, True, False),
                                                      (2, True, True, False, False),
                                                      (2, True, True, True, True)])
def test_lstm_proj_size_matches_torch(layers, bi, bf, bias, packed):
    """proj_size: weight_hr_l{k} (P, H), weight_hh (4H, P), h_n (P features), c_n (H)."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    kw = dict(num_layers=layers, bidirectional=bi, batch_first=bf, bias=bias, proj_size=2)
    tm = torch.nn.LSTM(3, 5, **kw).double()
    om = nn.LSTM(3, 5, **kw).double()
    assert repr(om) == repr(tm)
    assert [(n, tuple(p.shape)) for n, p in om.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in tm.named_parameters()]
    om.load_state_dict({k: ag.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 4, 3) if bf else (4, 3, 3))
    D = 2 if bi else 1
    h0 = np.random.default_rng(1).standard_normal((layers * D, 3, 2))
    c0 = np.random.default_rng(2).standard_normal((layers * D, 3, 5))
    res = []
    for lib, mod, m in ((torch, torch.nn, tm), (ag, nn, om)):
        xi = lib.tensor(x)
        hx = (lib.tensor(h0), lib.tensor(c0))
        if packed:
            xi = mod.utils.rnn.pack_padded_sequence(xi, [2, 4, 3], batch_first=bf,
                                                    enforce_sorted=False)
        out, (h, c) = m(xi, hx)
        if packed:
            out = mod.utils.rnn.pad_packed_sequence(out, batch_first=bf)[0]
        (out.pow(2).sum() + h.sum() + c.pow(2).sum()).backward()
        res.append([out.detach().numpy(), h.detach().numpy(), c.detach().numpy()]
                   + [p.grad.numpy() for p in m.parameters()])
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
def test_empty_batch_gives_empty_outputs(kind):
    """A batch of 0 sequences runs (PyTorch's): empty output and states."""
    torch = pytest.importorskip("torch")
    shapes = []
    for mod, lib in ((torch.nn, torch), (nn, ag)):
        m = getattr(mod, kind)(3, 4, num_layers=2, bidirectional=True, batch_first=True)
        out, h = m(lib.randn(0, 5, 3))
        hs = h if kind == "LSTM" else (h,)
        shapes.append([tuple(out.shape)] + [tuple(t.shape) for t in hs])
    assert shapes[1] == shapes[0]


@pytest.mark.parametrize("kind", ["RNNCell", "GRUCell", "LSTMCell"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cells_run_an_empty_batch(kind, dtype):
    """A cell on a batch of 0 (PyTorch's): empty states, and backward gives empty input and
    zero weight gradients."""
    torch = pytest.importorskip("torch")
    got = []
    for mod, lib in ((torch.nn, torch), (nn, ag)):
        cell = getattr(mod, kind)(3, 4).to(getattr(lib, dtype))
        x = lib.zeros(0, 3, dtype=getattr(lib, dtype), requires_grad=True)
        out = cell(x)
        outs = out if isinstance(out, tuple) else (out,)
        sum(o.sum() for o in outs).backward()
        got.append(([tuple(o.shape) for o in outs], tuple(x.grad.shape),
                    float(cell.weight_ih.grad.abs().sum())))
    assert got[1] == got[0]
