"""PyTorch's top-level forms of neural-network functions (``torch.conv2d``,
``torch.dropout(input, p, train)``, ``torch.batch_norm(...)``, ``torch.lstm``...) and of
in-place ops (``torch.exp_``), reached as ``autograd.<name>`` (nn/functional/_torch_names.py):
each against PyTorch with the same arguments, gradients included."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
from autograd import registry

torch = pytest.importorskip("torch")


def pair(shape, seed=0, requires_grad=True, positive=False):
    a = np.random.default_rng(seed).standard_normal(shape)
    if positive:
        a = np.abs(a) + 0.1
    return (ag.tensor(a, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


def close(ours, theirs, tol=1e-10):
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            close(o, t, tol)
        return
    np.testing.assert_allclose(np.asarray(ours.detach().numpy(), dtype=np.float64),
                               theirs.detach().numpy().astype(np.float64), rtol=tol, atol=tol)


def test_every_name_is_pytorchs():
    names = ag._torch_names()
    assert len(names) >= 30
    for name in names:
        assert hasattr(torch, name), f"autograd.{name} is not a torch function"
        if name not in vars(ag):  # autograd's own op wins (torch.relu_ is Tensor.relu_)
            assert getattr(ag, name) is names[name]
    assert set(names) <= set(dir(ag))


def test_inplace_function_forms():
    for e in registry.ops():
        if e.inplace and e.function and hasattr(torch, e.name + "_"):
            assert callable(getattr(ag, e.name + "_")), e.name
    x, xt = pair((3, 4), requires_grad=False)
    out = ag.exp_(x)
    assert out is x
    close(x, torch.exp_(xt))
    y, yt = pair((3,), requires_grad=False, positive=True)
    close(ag.sqrt_(y), torch.sqrt_(yt))


def test_conv_and_convolution():
    x, xt = pair((2, 3, 7, 7))
    w, wt = pair((4, 3, 3, 3), 1)
    b, bt = pair((4,), 2)
    close(ag.conv2d(x, w, b, 2, 1), torch.conv2d(xt, wt, bt, 2, 1))
    o = ag.convolution(x, w, b, [1, 1], [1, 1], [1, 1], False, [0, 0], 1)
    ot = torch.convolution(xt, wt, bt, [1, 1], [1, 1], [1, 1], False, [0, 0], 1)
    close(o, ot)
    o.sum().backward()
    ot.sum().backward()
    close(w.grad, wt.grad)
    wt2, = (torch.tensor(np.random.default_rng(3).standard_normal((3, 2, 3, 3))),)
    w2 = ag.tensor(wt2.numpy())
    close(ag.convolution(x, w2, None, [2, 2], [1, 1], [1, 1], True, [1, 1], 1),
          torch.convolution(xt, wt2, None, [2, 2], [1, 1], [1, 1], True, [1, 1], 1))


def test_dropout_train_positional():
    x, xt = pair((4, 5))
    assert ag.dropout(x, 0.5, False) is x or np.array_equal(ag.dropout(x, 0.5, False).numpy(),
                                                            x.numpy())
    ag.manual_seed(0)
    y = ag.dropout(x, 0.5, True)
    kept = y.detach().numpy() != 0
    np.testing.assert_allclose(y.detach().numpy()[kept], 2 * x.detach().numpy()[kept])
    out, mask = ag.native_dropout(x, 0.25, True)
    assert mask.dtype == ag.bool
    np.testing.assert_allclose(out.detach().numpy(),
                               x.detach().numpy() * mask.numpy() / 0.75)
    with pytest.raises(TypeError):
        ag.dropout(x, 0.5)  # train is required, as in PyTorch


def test_norms_aten_signatures():
    x, xt = pair((4, 3, 5))
    w, wt = pair((3,), 1)
    b, bt = pair((3,), 2)
    rm, rv = ag.zeros(3, dtype=ag.float64), ag.ones(3, dtype=ag.float64)
    rmt, rvt = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    close(ag.batch_norm(x, w, b, rm, rv, True, 0.1, 1e-5, False),
          torch.batch_norm(xt, wt, bt, rmt, rvt, True, 0.1, 1e-5, False))
    close(rm, rmt)
    close(rv, rvt)
    close(ag.layer_norm(x, [5]), torch.layer_norm(xt, [5]))
    close(ag.group_norm(x, 3, w, b), torch.group_norm(xt, 3, wt, bt))
    lw, lwt = pair((5,), 3)
    close(ag.native_layer_norm(x, [5], lw, None, 1e-5),
          torch.native_layer_norm(xt, [5], lwt, None, 1e-5))
    x4, x4t = pair((2, 6, 4))
    close(ag.native_group_norm(x4, None, None, 2, 6, 4, 3, 1e-5),
          torch.native_group_norm(x4t, None, None, 2, 6, 4, 3, 1e-5))
    close(ag.native_batch_norm(x, w, b, None, None, True, 0.1, 1e-5),
          torch.native_batch_norm(xt, wt, bt, None, None, True, 0.1, 1e-5))


def test_embedding_weight_first():
    w, wt = pair((10, 3))
    idx = np.array([[1, 2, 4], [4, 3, 9]])
    o = ag.embedding(w, ag.tensor(idx), 2)
    ot = torch.embedding(wt, torch.tensor(idx), 2)
    close(o, ot)
    (o * o).sum().backward()
    (ot * ot).sum().backward()
    close(w.grad, wt.grad)
    w2, w2t = pair((10, 3), 5, requires_grad=False)
    ag.embedding_renorm_(w2, ag.tensor(idx), 1.0, 2.0)
    torch.embedding_renorm_(w2t, torch.tensor(idx), 1.0, 2.0)
    close(w2, w2t, 1e-7)


def test_losses_take_int_reduction():
    x, xt = pair((4, 3))
    t, tt = pair((4, 3), 1, requires_grad=False)
    for r in (0, 1, 2):
        close(ag.binary_cross_entropy_with_logits(x, t.sigmoid(), None, None, r),
              torch.binary_cross_entropy_with_logits(xt, tt.sigmoid(), None, None, r))
        close(ag.kl_div(x, t.softmax(1) if hasattr(t, "softmax") else t.exp(), r),
              torch.kl_div(xt, tt.softmax(1) if hasattr(t, "softmax") else tt.exp(), r))
    with pytest.raises(ValueError):
        ag.kl_div(x, t, 7)


def test_pooling_stride_empty_means_kernel():
    x, xt = pair((2, 3, 8))
    close(ag.max_pool1d(x, 2), torch.max_pool1d(xt, 2))
    close(ag.max_pool1d_with_indices(x, 3, [], 1), torch.max_pool1d_with_indices(xt, 3, [], 1))
    x2, x2t = pair((2, 3, 6, 6))
    close(ag.max_pool2d(x2, 2, [], 0, 1, True), torch.max_pool2d(x2t, 2, [], 0, 1, True))
    close(ag.constant_pad_nd(x2, [1, 2, 0, 1], 3.5), torch.constant_pad_nd(x2t, [1, 2, 0, 1], 3.5))


@pytest.mark.parametrize("name", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_recurrent_functional_forms(name, bidirectional, batch_first):
    gates = {"lstm": 4, "gru": 3}.get(name, 1)
    H, In, L = 4, 3, 2
    D = 2 if bidirectional else 1
    rng = np.random.default_rng(0)
    shapes = []
    for layer in range(L):
        for _ in range(D):
            shapes += [(gates * H, In if layer == 0 else D * H), (gates * H, H), (gates * H,),
                       (gates * H,)]
    pt = [torch.tensor(rng.standard_normal(s) * 0.5, requires_grad=True) for s in shapes]
    pa = [ag.tensor(p.detach().numpy(), requires_grad=True) for p in pt]
    xs = (3, 5, In) if batch_first else (5, 3, In)
    x, xt = pair(xs, 7)
    h, ht = pair((L * D, 3, H), 8)
    if name == "lstm":
        c, ct = pair((L * D, 3, H), 9)
        hx, hxt = (h, c), (ht, ct)
    else:
        hx, hxt = h, ht
    o = getattr(ag, name)(x, hx, pa, True, L, 0.0, False, bidirectional, batch_first)
    ot = getattr(torch, name)(xt, hxt, pt, True, L, 0.0, False, bidirectional, batch_first)
    close(o, ot)
    sum(v.sum() for v in o).backward()
    sum(v.sum() for v in ot).backward()
    close(x.grad, xt.grad)
    close([p.grad for p in pa], [p.grad for p in pt])


@pytest.mark.parametrize("name", ["lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell"])
def test_cells(name):
    gates = {"lstm_cell": 4, "gru_cell": 3}.get(name, 1)
    x, xt = pair((3, 5))
    w_ih, w_iht = pair((gates * 4, 5), 1)
    w_hh, w_hht = pair((gates * 4, 4), 2)
    b, bt = pair((gates * 4,), 3)
    h, ht = pair((3, 4), 4)
    if name == "lstm_cell":
        c, ct = pair((3, 4), 5)
        o = ag.lstm_cell(x, (h, c), w_ih, w_hh, b, None)
        ot = torch.lstm_cell(xt, (ht, ct), w_iht, w_hht, bt, None)
    else:
        o = getattr(ag, name)(x, h, w_ih, w_hh, None, b)
        ot = getattr(torch, name)(xt, ht, w_iht, w_hht, None, bt)
    close(o, ot)
    loss = sum(v.sum() for v in o) if isinstance(o, tuple) else o.sum()
    loss_t = sum(v.sum() for v in ot) if isinstance(ot, tuple) else ot.sum()
    loss.backward()
    loss_t.backward()
    close([x.grad, w_ih.grad, w_hh.grad, b.grad], [xt.grad, w_iht.grad, w_hht.grad, bt.grad])
