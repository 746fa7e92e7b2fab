"""``nn.utils.rnn`` (PackedSequence, packing and padding) and the recurrent layers on packed
input, against PyTorch: packed data, batch sizes, permutations, outputs, final states taken at
each sequence's own last step, and float64 gradients of inputs, initial states and weights."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import autograd as ag
import nn
from nn.utils import rnn as R

torch = pytest.importorskip("torch")
TR = torch.nn.utils.rnn


def _np(t):
    return t.detach().numpy()


def _pair(a, rg=True):
    return ag.tensor(a, requires_grad=rg), torch.tensor(a, requires_grad=rg)


def _same(ours, theirs, atol=1e-12):
    np.testing.assert_allclose(_np(ours), theirs.detach().numpy(), atol=atol, rtol=1e-10)


def _same_packed(op, tp):
    _same(op.data, tp.data)
    assert op.batch_sizes.dtype == ag.int64 and op.batch_sizes.device.type == "cpu"
    np.testing.assert_array_equal(op.batch_sizes.numpy(), tp.batch_sizes.numpy())
    for a, b in ((op.sorted_indices, tp.sorted_indices),
                 (op.unsorted_indices, tp.unsorted_indices)):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a.numpy(), b.numpy())


# ---- packing and padding --------------------------------------------------------------------

@pytest.mark.parametrize("batch_first,enforce_sorted,lens", [
    (False, True, [5, 3, 3, 1]), (True, True, [4, 4, 2, 1]), (False, False, [2, 5, 1, 3]),
    (True, False, [1, 3, 3, 2]), (False, True, [5, 5, 5, 5])])
def test_pack_pad_roundtrip_and_grad(batch_first, enforce_sorted, lens):
    rng = np.random.default_rng(0)
    shape = (4, 5, 3) if batch_first else (5, 4, 3)
    ox, tx = _pair(rng.standard_normal(shape))
    op = R.pack_padded_sequence(ox, lens, batch_first, enforce_sorted)
    tp = TR.pack_padded_sequence(tx, lens, batch_first, enforce_sorted)
    assert isinstance(op, R.PackedSequence) and isinstance(op, tuple)
    _same_packed(op, tp)
    for total, pv in ((None, 0.0), (7, -1.5)):
        opad, ol = R.pad_packed_sequence(op, batch_first, pv, total)
        tpad, tl = TR.pad_packed_sequence(tp, batch_first, pv, total)
        _same(opad, tpad)
        assert ol.dtype == ag.int64
        np.testing.assert_array_equal(ol.numpy(), tl.numpy())
    w = rng.standard_normal(tuple(tpad.shape))
    (opad * ag.tensor(w)).sum().backward()
    (tpad * torch.tensor(w)).sum().backward()
    _same(ox.grad, tx.grad)


def test_pack_errors():
    x = ag.randn(5, 3, 2)
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        R.pack_padded_sequence(x, [2, 3, 1])
    with pytest.raises(RuntimeError, match="equal to batch_size"):
        R.pack_padded_sequence(x, [3, 1])
    with pytest.raises(RuntimeError, match="greater than 0"):
        R.pack_padded_sequence(x, [3, 0, 1], enforce_sorted=False)
    with pytest.raises(RuntimeError, match="1D"):
        R.pack_padded_sequence(x, ag.tensor([[3, 1, 1]]))
    p = R.pack_padded_sequence(x, ag.tensor([5, 2, 1]))  # a tensor of lengths
    with pytest.raises(ValueError, match="total_length"):
        R.pad_packed_sequence(p, total_length=4)
    for exc, f in ((RuntimeError, lambda m: m.pack_padded_sequence(m_x(m), [2, 3, 1])),
                   (RuntimeError, lambda m: m.pad_sequence([m_x(m)], padding_side="up"))):
        with pytest.raises(exc):
            f(TR)
        with pytest.raises(exc):
            f(R)
    with pytest.raises(RuntimeError, match="empty list"):
        R.pad_sequence([])


def m_x(m):
    return torch.zeros(5, 3, 2) if m is TR else ag.zeros(5, 3, 2)


@pytest.mark.parametrize("batch_first,side,pv", list(itertools.product(
    (False, True), ("right", "left"), (0.0, 2.5))))
def test_pad_sequence(batch_first, side, pv):
    rng = np.random.default_rng(1)
    arrs = [rng.standard_normal((n, 2, 3)) for n in (3, 5, 1)]
    ours = [ag.tensor(a, requires_grad=True) for a in arrs]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrs]
    o = R.pad_sequence(ours, batch_first, pv, side)
    t = TR.pad_sequence(theirs, batch_first, pv, side)
    _same(o, t)
    w = rng.standard_normal(tuple(t.shape))
    (o * ag.tensor(w)).sum().backward()
    (t * torch.tensor(w)).sum().backward()
    for a, b in zip(ours, theirs):
        _same(a.grad, b.grad)


def test_pad_sequence_dtype_promotion_and_tensor_input():
    o = R.pad_sequence([ag.ones(2, dtype=ag.int64), ag.ones(3)])
    t = TR.pad_sequence([torch.ones(2, dtype=torch.int64), torch.ones(3)])
    assert str(o.dtype) == str(t.dtype)
    _same(o, t)
    _same(R.pad_sequence(ag.ones(2, 3)), TR.pad_sequence(torch.ones(2, 3)))


@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_sequence_unpack_unpad(enforce_sorted):
    rng = np.random.default_rng(2)
    lens = (4, 2, 1) if enforce_sorted else (2, 4, 1)
    arrs = [rng.standard_normal((n, 3)) for n in lens]
    op = R.pack_sequence([ag.tensor(a) for a in arrs], enforce_sorted)
    tp = TR.pack_sequence([torch.tensor(a) for a in arrs], enforce_sorted)
    _same_packed(op, tp)
    for a, b in zip(R.unpack_sequence(op), arrs):
        np.testing.assert_array_equal(a.numpy(), b)
    padded = R.pad_sequence([ag.tensor(a) for a in arrs], batch_first=True)
    for a, b in zip(R.unpad_sequence(padded, ag.tensor(list(lens)), batch_first=True), arrs):
        np.testing.assert_array_equal(a.numpy(), b)
    padded = R.pad_sequence([ag.tensor(a) for a in arrs])
    for a, b in zip(R.unpad_sequence(padded, ag.tensor(list(lens))), arrs):
        np.testing.assert_array_equal(a.numpy(), b)


def test_invert_permutation_and_packed_sequence_methods():
    assert R.invert_permutation(None) is None
    perm = [3, 0, 2, 1]
    np.testing.assert_array_equal(R.invert_permutation(ag.tensor(perm)).numpy(),
                                  TR.invert_permutation(torch.tensor(perm)).numpy())
    p = R.pack_sequence([ag.ones(2, 2), ag.ones(3, 2)], enforce_sorted=False)
    assert p.float() is p and not p.is_cuda and not p.is_pinned()
    d = p.double()
    assert d.data.dtype == ag.float64 and d.batch_sizes is p.batch_sizes
    np.testing.assert_array_equal(d.unsorted_indices.numpy(), p.unsorted_indices.numpy())
    assert p.to(ag.float64).data.dtype == ag.float64
    data, bs, si, ui = p  # a namedtuple
    assert p._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")
    q = R.PackedSequence(data, bs, si)  # unsorted_indices computed
    np.testing.assert_array_equal(q.unsorted_indices.numpy(), ui.numpy())
    q = R.PackedSequence((data, bs))
    assert q.batch_sizes is bs and q.sorted_indices is None


# ---- recurrent layers on packed input ---------------------------------------------------------

CASES = list(itertools.product(("LSTM", "GRU", "RNN", "RNN_RELU"), (False, True),
                               (True, False)))


def _layers(kind, bidirectional, num_layers=2, batch_first=False):
    kw = {"num_layers": num_layers, "bidirectional": bidirectional, "batch_first": batch_first}
    name = "RNN" if kind.startswith("RNN") else kind
    if kind == "RNN_RELU":
        kw["nonlinearity"] = "relu"
    tm = getattr(torch.nn, name)(3, 4, **kw).double()
    om = getattr(nn, name)(3, 4, dtype="float64", **kw)
    om.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    return om, tm


@pytest.mark.parametrize("kind,bidirectional,enforce_sorted", CASES)
def test_packed_layer_matches_torch(kind, bidirectional, enforce_sorted):
    rng = np.random.default_rng(3)
    om, tm = _layers(kind, bidirectional)
    lens = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]
    ox, tx = _pair(rng.standard_normal((5, 4, 3)))
    op = R.pack_padded_sequence(ox, lens, enforce_sorted=enforce_sorted)
    tp = TR.pack_padded_sequence(tx, lens, enforce_sorted=enforce_sorted)
    D = 2 if bidirectional else 1
    h = rng.standard_normal((2 * D, 4, 4))
    oh, th = _pair(h)
    if kind == "LSTM":
        oc, tc = _pair(rng.standard_normal((2 * D, 4, 4)))
        oout, (ohn, ocn) = om(op, (oh, oc))
        tout, (thn, tcn) = tm(tp, (th, tc))
        _same(ocn, tcn)
    else:
        oout, ohn = om(op, oh)
        tout, thn = tm(tp, th)
    assert isinstance(oout, R.PackedSequence)
    _same_packed(oout, tout)
    _same(ohn, thn)
    opad, _ = R.pad_packed_sequence(oout, batch_first=True)
    tpad, _ = TR.pad_packed_sequence(tout, batch_first=True)
    w = rng.standard_normal(tuple(tpad.shape))
    wh = rng.standard_normal(tuple(thn.shape))
    ol = (opad * ag.tensor(w)).sum() + (ohn * ag.tensor(wh)).sum()
    tl = (tpad * torch.tensor(w)).sum() + (thn * torch.tensor(wh)).sum()
    if kind == "LSTM":
        ol = ol + (ocn ** 2).sum()
        tl = tl + (tcn ** 2).sum()
    ol.backward()
    tl.backward()
    _same(ox.grad, tx.grad, 1e-10)
    _same(oh.grad, th.grad, 1e-10)
    if kind == "LSTM":
        _same(oc.grad, tc.grad, 1e-10)
    for name, p in tm.named_parameters():
        _same(getattr(om, name).grad, p.grad, 1e-10)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_packed_layer_default_state_batch_first_flag(kind):
    """batch_first does not apply to packed input; zero initial states; one layer."""
    rng = np.random.default_rng(4)
    om, tm = _layers(kind, True, num_layers=1, batch_first=True)
    arrs = [rng.standard_normal((n, 3)) for n in (2, 6, 4)]
    op = R.pack_sequence([ag.tensor(a) for a in arrs], enforce_sorted=False)
    tp = TR.pack_sequence([torch.tensor(a) for a in arrs], enforce_sorted=False)
    oout, oh = om(op)
    tout, th = tm(tp)
    _same_packed(oout, tout)
    if kind == "LSTM":
        oh, th = oh[0], th[0]
    _same(oh, th)


def test_packed_layer_equals_unpadded_runs():
    """Each sequence's final state equals the layer run on that sequence alone."""
    rng = np.random.default_rng(5)
    m = nn.GRU(3, 4, num_layers=2, bidirectional=True, dtype="float64")
    arrs = [rng.standard_normal((n, 3)) for n in (3, 6, 1, 6)]
    _, hn = m(R.pack_sequence([ag.tensor(a) for a in arrs], enforce_sorted=False))
    for i, a in enumerate(arrs):
        _, h1 = m(ag.tensor(a))
        np.testing.assert_allclose(_np(hn[:, i]), _np(h1), atol=1e-12)


def test_packed_layer_errors():
    m = nn.LSTM(3, 4, dtype="float64")
    p = R.pack_sequence([ag.ones(2, 3, dtype=ag.float64), ag.ones(1, 3, dtype=ag.float64)])
    # PyTorch's message
    with pytest.raises(RuntimeError, match=r"^Expected hidden\[0\] size \(1, 2, 4\), got "
                                           r"\[1, 3, 4\]$"):
        m(p, (ag.zeros(1, 3, 4, dtype=ag.float64), ag.zeros(1, 3, 4, dtype=ag.float64)))
    with pytest.raises(TypeError):
        m(p, ag.zeros(1, 2, 4, dtype=ag.float64))
    with pytest.raises(ValueError, match="dtype"):  # PyTorch's class
        m(R.pack_sequence([ag.ones(2, 3), ag.ones(1, 3)]))
    with pytest.raises(RuntimeError, match="packed data"):
        m(R.pack_sequence([ag.ones(2, 2, dtype=ag.float64)]))


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_packed_layer_on_cuda_stand_in(kind, sim):
    """The packed path runs on device arrays (the strict CuPy stand-in) and matches the CPU."""
    rng = np.random.default_rng(6)
    m = getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True, dtype="float64")
    arrs = [rng.standard_normal((n, 3)) for n in (2, 5, 3)]
    cpu_in = [ag.tensor(a, requires_grad=True) for a in arrs]
    out_c, h_c = m(R.pack_sequence(cpu_in, enforce_sorted=False))
    pad_c, _ = R.pad_packed_sequence(out_c, batch_first=True)
    pad_c.sum().backward()
    g_c = [_np(t.grad) for t in cpu_in]
    m.to("cuda")
    gpu_in = [ag.tensor(a, device="cuda", requires_grad=True) for a in arrs]
    p = R.pack_sequence(gpu_in, enforce_sorted=False)
    assert p.data.device.type == "cuda" and p.batch_sizes.device.type == "cpu"
    assert p.sorted_indices.device.type == "cuda"
    out_g, h_g = m(p)
    pad_g, _ = R.pad_packed_sequence(out_g, batch_first=True)
    pad_g.sum().backward()
    np.testing.assert_allclose(pad_g.cpu().detach().numpy(), _np(pad_c), atol=1e-12)
    hg, hc = (h_g[0], h_c[0]) if kind == "LSTM" else (h_g, h_c)
    np.testing.assert_allclose(hg.cpu().detach().numpy(), _np(hc), atol=1e-12)
    for t, g in zip(gpu_in, g_c):
        np.testing.assert_allclose(t.grad.cpu().numpy(), g, atol=1e-12)
    assert p.cpu().data.device.type == "cpu"


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_packed_layer_gradcheck(kind):
    """Float64 finite differences through pack -> layer -> pad, including the initial state
    and a weight (through functional_call), and second derivatives for the GRU."""
    rng = np.random.default_rng(7)
    m = getattr(nn, kind)(2, 3, bidirectional=True, dtype="float64")
    x = ag.tensor(rng.standard_normal((4, 3, 2)), requires_grad=True)
    h0 = ag.tensor(rng.standard_normal((2, 3, 3)), requires_grad=True)
    w = ag.tensor(_np(m.weight_hh_l0_reverse), requires_grad=True)
    lens = [2, 4, 1]

    def f(x, h0, w):
        p = R.pack_padded_sequence(x, lens, enforce_sorted=False)
        hx = (h0, h0 * 0.5) if kind == "LSTM" else h0
        out, h = nn.utils.stateless._functional_call(m, {"weight_hh_l0_reverse": w}, (p, hx))
        hn = h[0] if kind == "LSTM" else h
        return R.pad_packed_sequence(out, padding_value=0.25)[0], hn

    assert ag.gradcheck(f, (x, h0, w))
    if kind == "GRU":
        assert ag.gradgradcheck(lambda x, h0: f(x, h0, w.detach())[1], (x, h0))


def test_pack_pad_trailing_dims_int_data_and_views():
    rng = np.random.default_rng(8)
    x = rng.integers(0, 9, (3, 4, 2, 2))  # (B, T, 2, 2) int64, batch_first
    lens = [2, 4, 1]
    op = R.pack_padded_sequence(ag.tensor(x), lens, batch_first=True, enforce_sorted=False)
    tp = TR.pack_padded_sequence(torch.tensor(x), lens, batch_first=True,
                                 enforce_sorted=False)
    _same_packed(op, tp)
    assert op.data.dtype == ag.int64
    o, _ = R.pad_packed_sequence(op, padding_value=-1, total_length=6)
    t, _ = TR.pad_packed_sequence(tp, padding_value=-1, total_length=6)
    np.testing.assert_array_equal(o.numpy(), t.numpy())
    # a non-contiguous (transposed) padded input
    y = rng.standard_normal((4, 3, 5))
    oy = ag.tensor(y).transpose(0, 1)
    ty = torch.tensor(y).transpose(0, 1)
    _same_packed(R.pack_padded_sequence(oy, [4, 3, 3], batch_first=True),
                 TR.pack_padded_sequence(ty, [4, 3, 3], batch_first=True))
