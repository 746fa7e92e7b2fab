"""Attention: F.scaled_dot_product_attention and nn.MultiheadAttention.

Float64 finite-difference checks (masks bool and float, batch_first, need_weights=False,
kdim/vdim, bias_kv, zero attention), equality with PyTorch after copying its parameters by
name, dropout through the package generator, a small Transformer-encoder block that trains,
and the errors for bad inputs.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
import optim

E, HEADS, L, S, N = 4, 2, 3, 4, 2


def _t(a, rg=True):
    return ag.tensor(np.asarray(a, dtype=np.float64), requires_grad=rg)


def _np(t):
    return t.detach().numpy()


def _mha(**kw):
    ag.manual_seed(0)
    m = nn.MultiheadAttention(E, HEADS, dtype="float64", **kw)
    for p in m.parameters():  # non-zero biases, so their gradients are checked too
        p._data += 0.1 * np.random.default_rng(1).standard_normal(p.shape)
    return m


def _inputs(rng, bf=False, unbatched=False, kdim=E, vdim=E):
    def shp(n, f):
        if unbatched:
            return (n, f)
        return (N, n, f) if bf else (n, N, f)

    return (_t(rng.standard_normal(shp(L, E))), _t(rng.standard_normal(shp(S, kdim))),
            _t(rng.standard_normal(shp(S, vdim))))


# ---- scaled dot-product attention -----------------------------------------------------------


@pytest.mark.parametrize("mask", [None, "bool", "float", "causal"])
def test_sdpa_gradcheck(mask):
    rng = np.random.default_rng(0)
    q = _t(rng.standard_normal((2, 3, 4)))
    k = _t(rng.standard_normal((2, 5, 4)))
    v = _t(rng.standard_normal((2, 5, 3)))
    kw = {}
    if mask == "bool":
        m = rng.random((3, 5)) < 0.6
        m[:, 0] = True
        kw["attn_mask"] = ag.tensor(m)
    elif mask == "float":
        kw["attn_mask"] = _t(rng.standard_normal((3, 5)), rg=False)
    elif mask == "causal":
        kw["is_causal"] = True
    assert ag.gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **kw),
                        (q, k, v))


@pytest.mark.parametrize("mask,scale", itertools.product([None, "bool", "float", "causal"],
                                                         [None, 0.3]))
def test_sdpa_matches_torch(mask, scale):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((2, 3, 6, 5)),
              rng.standard_normal((2, 3, 6, 7))]
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in arrays)
    q, k, v = (_t(a) for a in arrays)
    kw, tkw = {}, {}
    if mask == "bool":
        m = rng.random((4, 6)) < 0.6
        m[:, 0] = True
        kw["attn_mask"], tkw["attn_mask"] = ag.tensor(m), torch.tensor(m)
    elif mask == "float":
        m = rng.standard_normal((4, 6))
        kw["attn_mask"], tkw["attn_mask"] = ag.tensor(m), torch.tensor(m)
    elif mask == "causal":
        kw["is_causal"] = tkw["is_causal"] = True
    to = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, scale=scale, **tkw)
    o = F.scaled_dot_product_attention(q, k, v, scale=scale, **kw)
    np.testing.assert_allclose(_np(o), to.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(tuple(to.shape))
    (to * torch.tensor(g)).sum().backward()
    (o * _t(g, False)).sum().backward()
    for a, b in ((q, tq), (k, tk), (v, tv)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_sdpa_dropout_uses_package_generator():
    q = ag.randn(2, 3, 4)
    ag.manual_seed(5)
    a = _np(F.scaled_dot_product_attention(q, q, q, dropout_p=0.5))
    ag.manual_seed(5)
    b = _np(F.scaled_dot_product_attention(q, q, q, dropout_p=0.5))
    np.testing.assert_array_equal(a, b)
    c = _np(F.scaled_dot_product_attention(q, q, q))
    assert not np.allclose(a, c)


def test_sdpa_errors():
    q = ag.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match="either attn_mask or is_causal"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=ag.ones(3, 3), is_causal=True)
    with pytest.raises(RuntimeError, match="expected query"):
        F.scaled_dot_product_attention(q, ag.randn(2, 3, 5), q)


# ---- multi-head attention: finite differences -----------------------------------------------

MHA_CASES = [
    dict(),
    dict(kpm=True),
    dict(attn="bool"),
    dict(attn="float"),
    dict(attn="float3d", kpm=True),
    dict(bf=True, kpm=True, attn="bool"),
    dict(need_weights=False),
    dict(average=False),
    dict(kdim=3, vdim=5),
    dict(add_bias_kv=True, add_zero_attn=True, kpm=True, attn="bool"),
    dict(bias=False),
    dict(unbatched=True, kpm=True),
    dict(self_attn=True, attn="bool"),
]


def _masks(rng, case):
    src = L if case.get("self_attn") else S
    kw = {}
    if case.get("kpm"):
        m = rng.random((src,) if case.get("unbatched") else (N, src)) < 0.4
        m[..., 0] = False  # never mask a whole row
        kw["key_padding_mask"] = ag.tensor(m)
    a = case.get("attn")
    if a == "bool":
        m = rng.random((L, src)) < 0.4
        m[:, 0] = False
        kw["attn_mask"] = ag.tensor(m)
    elif a == "float":
        kw["attn_mask"] = _t(rng.standard_normal((L, src)), rg=False)
    elif a == "float3d":
        kw["attn_mask"] = _t(rng.standard_normal((N * HEADS, L, src)), rg=False)
    return kw


@pytest.mark.parametrize("case", MHA_CASES, ids=lambda c: ",".join(f"{k}" for k in c) or "plain")
def test_mha_gradcheck(case):
    rng = np.random.default_rng(2)
    kdim, vdim = case.get("kdim", E), case.get("vdim", E)
    m = _mha(bias=case.get("bias", True), batch_first=case.get("bf", False),
             kdim=case.get("kdim"), vdim=case.get("vdim"),
             add_bias_kv=case.get("add_bias_kv", False),
             add_zero_attn=case.get("add_zero_attn", False))
    q, k, v = _inputs(rng, case.get("bf", False), case.get("unbatched", False), kdim, vdim)
    kw = _masks(rng, case)
    need = case.get("need_weights", True)
    avg = case.get("average", True)
    ps = list(m.parameters())

    if case.get("self_attn"):
        def fn(q, *ps):
            o, w = m(q, q, q, need_weights=need, average_attn_weights=avg, **kw)
            return (o, w)

        assert ag.gradcheck(fn, (q, *ps))
        return

    def fn(q, k, v, *ps):
        o, w = m(q, k, v, need_weights=need, average_attn_weights=avg, **kw)
        return (o,) if w is None else (o, w)

    assert ag.gradcheck(fn, (q, k, v, *ps))


def test_mha_shapes():
    m = nn.MultiheadAttention(8, 2, batch_first=True)
    q = ag.randn(3, 5, 8)
    kv = ag.randn(3, 7, 8)
    o, w = m(q, kv, kv)
    assert o.shape == (3, 5, 8) and w.shape == (3, 5, 7)
    o, w = m(q, kv, kv, average_attn_weights=False)
    assert w.shape == (3, 2, 5, 7)
    o, w = m(q, kv, kv, need_weights=False)
    assert w is None
    o, w = m(ag.randn(5, 8), ag.randn(7, 8), ag.randn(7, 8))
    assert o.shape == (5, 8) and w.shape == (5, 7)
    np.testing.assert_allclose(_np(w).sum(-1), 1, rtol=1e-5)
    sd = m.state_dict()
    assert list(sd) == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    assert sd["in_proj_weight"].shape == (24, 8)
    np.testing.assert_array_equal(_np(sd["in_proj_bias"]), 0)
    m2 = nn.MultiheadAttention(8, 2, kdim=3, vdim=5, add_bias_kv=True)
    assert list(m2.state_dict()) == ["q_proj_weight", "k_proj_weight", "v_proj_weight",
                                     "in_proj_bias", "bias_k", "bias_v", "out_proj.weight",
                                     "out_proj.bias"]


# ---- multi-head attention: against PyTorch --------------------------------------------------

TORCH_CASES = [dict(case, bf=bf) for case in MHA_CASES for bf in (False, True)
               if not (case.get("bf") and not bf)]


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
@pytest.mark.parametrize("case", TORCH_CASES,
                         ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_mha_matches_torch(case):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    kd, vd = case.get("kdim"), case.get("vdim")
    bf = case.get("bf", False)
    kw = dict(bias=case.get("bias", True), batch_first=bf, kdim=kd, vdim=vd,
              add_bias_kv=case.get("add_bias_kv", False),
              add_zero_attn=case.get("add_zero_attn", False))
    tm = torch.nn.MultiheadAttention(E, HEADS, **kw).double()
    m = nn.MultiheadAttention(E, HEADS, dtype="float64", **kw)
    sd = {k: ag.tensor(v.detach().numpy().copy()) for k, v in tm.state_dict().items()}
    assert list(sd) == list(m.state_dict())
    assert all(tuple(v.shape) == tuple(m.state_dict()[k].shape) for k, v in sd.items())
    m.load_state_dict(sd)
    q, k, v = _inputs(rng, bf, case.get("unbatched", False), kd or E, vd or E)
    if case.get("self_attn"):
        k = v = q
    tq, tk, tv = (torch.tensor(_np(a), requires_grad=True) for a in (q, k, v))
    if case.get("self_attn"):
        tk = tv = tq
    masks = _masks(rng, case)
    tmasks = {key: torch.tensor(_np(val)) for key, val in masks.items()}
    need = case.get("need_weights", True)
    avg = case.get("average", True)
    to, tw = tm(tq, tk, tv, need_weights=need, average_attn_weights=avg, **tmasks)
    o, w = m(q, k, v, need_weights=need, average_attn_weights=avg, **masks)
    np.testing.assert_allclose(_np(o), to.detach().numpy(), rtol=1e-10, atol=1e-12)
    if need:
        np.testing.assert_allclose(_np(w), tw.detach().numpy(), rtol=1e-10, atol=1e-12)
    else:
        assert w is None and tw is None
    g = rng.standard_normal(tuple(to.shape))
    (to * torch.tensor(g)).sum().backward()
    (o * _t(g, False)).sum().backward()
    for a, b in {id(q): (q, tq), id(k): (k, tk), id(v): (v, tv)}.values():
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)
    for (n1, p1), (n2, p2) in zip(tm.named_parameters(), m.named_parameters()):
        assert n1 == n2
        np.testing.assert_allclose(p2.grad.numpy(), p1.grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=n1)


def test_mha_dropout_train_and_eval():
    m = nn.MultiheadAttention(8, 2, dropout=0.5)
    x = ag.randn(4, 2, 8)
    ag.manual_seed(3)
    a = _np(m(x, x, x)[0])
    ag.manual_seed(3)
    b = _np(m(x, x, x)[0])
    np.testing.assert_array_equal(a, b)
    m.eval()
    e1, e2 = _np(m(x, x, x)[0]), _np(m(x, x, x)[0])
    np.testing.assert_array_equal(e1, e2)
    assert not np.allclose(a, e1)


# ---- a Transformer-encoder-like block trains -------------------------------------------------


class _Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        norm = getattr(nn, "LayerNorm", None)
        self.n1 = norm(d) if norm else nn.Linear(d, d)
        self.n2 = norm(d) if norm else nn.Linear(d, d)
        self.ff1 = nn.Linear(d, 4 * d)
        self.ff2 = nn.Linear(4 * d, d)

    def forward(self, x, pad):
        a, _ = self.attn(x, x, x, key_padding_mask=pad, need_weights=False)
        x = self.n1(x + a)
        return self.n2(x + self.ff2(F.relu(self.ff1(x))))


def test_transformer_block_trains():
    """Each token must output the maximum of the (unpadded) sequence: needs attention."""
    rng = np.random.default_rng(4)
    ag.manual_seed(4)
    d = 16
    emb = nn.Linear(1, d)
    block = _Block(d, 4)
    head = nn.Linear(d, 1)
    params = list(emb.parameters()) + list(block.parameters()) + list(head.parameters())
    opt = optim.Adam(params, lr=3e-3) if hasattr(optim, "Adam") else optim.SGD(params, lr=0.05)
    xs = rng.standard_normal((64, 6, 1)).astype(np.float32)
    pad = np.zeros((64, 6), dtype=bool)
    pad[::2, 4:] = True  # every other sequence is 4 long
    xm = np.where(pad[..., None], -np.inf, xs)
    ys = np.broadcast_to(xm.max(axis=1, keepdims=True), xs.shape).astype(np.float32)
    x, y, p = ag.tensor(xs), ag.tensor(ys), ag.tensor(pad)
    keep = ag.tensor((~pad)[..., None].astype(np.float32))
    losses = []
    for _ in range(80):
        out = head(block(emb(x), p))
        loss = (((out - y) ** 2) * keep).sum() / keep.sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0], losses[::10]


# ---- errors -----------------------------------------------------------------------------------


def test_mha_errors():
    # PyTorch's classes: AssertionError for the shapes of the inputs and of key_padding_mask
    # and for a mask's dtype, RuntimeError for attn_mask's shape and a missing causal mask
    with pytest.raises(AssertionError, match="^embed_dim must be divisible by num_heads$"):
        nn.MultiheadAttention(10, 3)
    m = nn.MultiheadAttention(8, 2)
    x = ag.randn(4, 2, 8)
    with pytest.raises(AssertionError, match=r"MultiheadAttention\(embed_dim=8, num_heads=2\): "
                                           r"expected query of shape \(L, N, 8\)"):
        m(ag.randn(4, 2, 6), x, x)
    with pytest.raises(AssertionError, match="expected key"):
        m(x, ag.randn(4, 2, 7), x)
    with pytest.raises(AssertionError, match="all be batched"):
        m(x, ag.randn(4, 8), ag.randn(4, 8))
    with pytest.raises(AssertionError, match="key_padding_mask of shape"):
        m(x, x, x, key_padding_mask=ag.zeros(3, 4).bool())
    with pytest.raises(RuntimeError, match="attn_mask of shape"):
        m(x, x, x, attn_mask=ag.zeros(4, 5).bool())
    with pytest.raises(RuntimeError, match="is_causal"):
        m(x, x, x, is_causal=True)
    with pytest.raises(RuntimeError, match="does not match the query dtype"):
        m(x, x, x, attn_mask=ag.zeros(4, 4, dtype="float64"))
    with pytest.raises(AssertionError, match="only bool and floating types of attn_mask"):
        m(x, x, x, attn_mask=ag.zeros(4, 4, dtype="int64"))
