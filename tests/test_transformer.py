"""The Transformer family against PyTorch: state_dict keys equal to PyTorch's (PyTorch weights
load as is), outputs and gradients (inputs and every parameter) in eval mode for every
option (batch_first, norm_first, activations, bias, masks, key padding masks, unbatched),
the causal mask, PyTorch's nested-tensor inference path, float64 gradcheck and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F

D, H, FF = 8, 2, 12
# both libraries warn about their mismatched (bool / float) mask pairs and the nested path
pytestmark = pytest.mark.filterwarnings("ignore:Support for mismatched",
                                        "ignore:enable_nested_tensor",
                                        "ignore:invalid value encountered")


def _torch():
    return pytest.importorskip("torch")


def rnd(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _copy(ours, theirs):
    sd = theirs.state_dict()
    assert list(ours.state_dict()) == list(sd)
    ours.load_state_dict({k: ag.tensor(v.detach().numpy()) for k, v in sd.items()})


def _mods(name, kw, torch):
    """(ours, theirs) built the same way in float64, with PyTorch's weights copied."""
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = BUILD[name](torch.nn, kw).double()
        ours = BUILD[name](nn, kw).double()
    _copy(ours, theirs)
    return ours.eval(), theirs.eval()


BUILD = {
    "enc_layer": lambda M, kw: M.TransformerEncoderLayer(D, H, FF, **kw),
    "dec_layer": lambda M, kw: M.TransformerDecoderLayer(D, H, FF, **kw),
    "encoder": lambda M, kw: M.TransformerEncoder(M.TransformerEncoderLayer(D, H, FF, **kw), 2,
                                                  norm=M.LayerNorm(D)),
    "decoder": lambda M, kw: M.TransformerDecoder(M.TransformerDecoderLayer(D, H, FF, **kw), 2),
    "transformer": lambda M, kw: M.Transformer(D, H, 2, 2, FF, **kw),
}
KPM = np.array([[False] * 5, [False, False, False, True, True]])
KPM7 = np.array([[False] * 7, [False] * 6 + [True]])


def _inputs(name, bf):
    src = rnd(2, 5, D, seed=1) if bf else rnd(5, 2, D, seed=1)
    tgt = rnd(2, 7, D, seed=2) if bf else rnd(7, 2, D, seed=2)
    return [src] if name in ("enc_layer", "encoder") else (
        [tgt, src] if name in ("dec_layer", "decoder") else [src, tgt])


def _masks(name, M, kind):
    """Keyword masks for module ``name`` (``M`` is autograd or torch)."""
    causal7 = M.nn.Transformer.generate_square_subsequent_mask(7, dtype=M.float64)
    if kind == "none":
        return {}
    bool_mask = kind == "bool"
    src_mask = M.tensor(np.triu(np.ones((5, 5), bool), 1) if bool_mask
                        else rnd(5, 5, seed=3))
    kpm = M.tensor(KPM)
    if name == "enc_layer":
        return {"src_mask": src_mask, "src_key_padding_mask": kpm}
    if name == "encoder":
        return {"mask": src_mask, "src_key_padding_mask": kpm}
    mem_mask = M.tensor(rnd(7, 5, seed=4) if not bool_mask
                        else np.tril(np.ones((7, 5), bool), -3))
    out = {"tgt_mask": causal7, "memory_mask": mem_mask, "memory_key_padding_mask": kpm,
           "tgt_key_padding_mask": M.tensor(KPM7)}
    if name == "transformer":
        out.update(src_mask=src_mask, src_key_padding_mask=kpm)
    return out


def _check(ours, theirs, arrays, okw, tkw, atol=1e-10):
    torch = _torch()
    xs = [ag.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = ours(*xs, **okw), theirs(*ts, **tkw)
    assert tuple(y.shape) == tuple(ty.shape)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), atol=atol)
    g = np.random.default_rng(5).standard_normal(tuple(ty.shape))
    y.backward(ag.tensor(g))
    ty.backward(torch.tensor(g))
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), atol=atol)
    params = dict(ours.named_parameters())
    for n, p in theirs.named_parameters():
        np.testing.assert_allclose(params[n].grad.numpy(), p.grad.numpy(), atol=atol,
                                   err_msg=n)


@pytest.mark.parametrize("masks", ["none", "bool", "float"])
@pytest.mark.parametrize("bf,nf", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("name", sorted(BUILD))
def test_transformer_modules_match_torch(name, bf, nf, masks):
    torch = _torch()
    ours, theirs = _mods(name, {"batch_first": bf, "norm_first": nf}, torch)
    arrays = _inputs(name, bf)
    if masks == "bool" and name == "enc_layer":
        pass  # a float padding mask would be a mismatched pair; both are bool here
    _check(ours, theirs, arrays, _masks(name, ag, masks), _masks(name, torch, masks))


@pytest.mark.parametrize("kw", [{"activation": "gelu"}, {"activation": F.gelu},
                                {"activation": "relu", "bias": False},
                                {"layer_norm_eps": 1e-3, "dropout": 0.3}],
                         ids=["gelu_str", "gelu_fn", "no_bias", "eps_ff"])
@pytest.mark.parametrize("name", ["enc_layer", "dec_layer", "transformer"])
def test_transformer_options_match_torch(name, kw):
    torch = _torch()
    kw_t = dict(kw)
    if kw.get("activation") is F.gelu:
        kw_t["activation"] = torch.nn.functional.gelu
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = BUILD[name](torch.nn, kw_t).double().eval()
        ours = BUILD[name](nn, kw).double().eval()
    _copy(ours, theirs)
    _check(ours, theirs, _inputs(name, False), {}, {})


def test_activation_module_and_callable():
    torch = _torch()
    for ours_act, their_act, code in ((nn.GELU(), torch.nn.GELU(), 2),
                                      (nn.ReLU(), torch.nn.ReLU(), 1),
                                      (ag.tanh, torch.tanh, 0)):
        torch.manual_seed(0)
        theirs = torch.nn.TransformerEncoderLayer(D, H, FF, activation=their_act).double()
        ours = nn.TransformerEncoderLayer(D, H, FF, activation=ours_act).double()
        assert ours.activation_relu_or_gelu == theirs.activation_relu_or_gelu == code
        _copy(ours, theirs)
        _check(ours.eval(), theirs.eval(), _inputs("enc_layer", False), {}, {})


def test_unbatched_inputs_match_torch():
    torch = _torch()
    for name in ("enc_layer", "dec_layer", "transformer"):
        ours, theirs = _mods(name, {}, torch)
        arrays = [a[:, 0] for a in _inputs(name, False)]
        _check(ours, theirs, arrays, {}, {})


def test_causal_mask_and_is_causal():
    torch = _torch()
    m = nn.Transformer.generate_square_subsequent_mask(4)
    tm = torch.nn.Transformer.generate_square_subsequent_mask(4)
    assert m.dtype == ag.float32
    np.testing.assert_array_equal(m.numpy(), tm.numpy())
    m64 = nn.Transformer.generate_square_subsequent_mask(3, dtype=ag.float64)
    assert m64.dtype == ag.float64
    ours, theirs = _mods("encoder", {}, torch)
    src = _inputs("encoder", False)
    for causal in (True, None):
        _check(ours, theirs, src,
               {"mask": nn.Transformer.generate_square_subsequent_mask(5, dtype=ag.float64),
                "is_causal": causal},
               {"mask": torch.nn.Transformer.generate_square_subsequent_mask(
                   5, dtype=torch.float64), "is_causal": causal})


def test_state_dict_keys_and_load_from_torch():
    torch = _torch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.nn.Transformer(D, H, 1, 1, FF, batch_first=True)
        ours = nn.Transformer(D, H, 1, 1, FF, batch_first=True)
    keys = list(ours.state_dict())
    assert keys == list(theirs.state_dict())
    assert "encoder.layers.0.self_attn.in_proj_weight" in keys
    assert "decoder.layers.0.multihead_attn.out_proj.bias" in keys
    assert "decoder.norm.weight" in keys
    assert [tuple(v.shape) for v in ours.state_dict().values()] == \
        [tuple(v.shape) for v in theirs.state_dict().values()]
    # no bias anywhere with bias=False (attention, linear and LayerNorm), as PyTorch
    nb = list(nn.TransformerEncoderLayer(D, H, FF, bias=False).state_dict())
    assert nb == list(torch.nn.TransformerEncoderLayer(D, H, FF, bias=False).state_dict())


def test_layers_are_independent_copies_and_init():
    layer = nn.TransformerEncoderLayer(D, H, FF)
    enc = nn.TransformerEncoder(layer, 3, enable_nested_tensor=False)
    ws = [lay.linear1.weight for lay in enc.layers]
    assert len({id(w) for w in ws}) == 3
    # deep copies of one layer
    np.testing.assert_array_equal(ws[0].detach().numpy(), ws[1].detach().numpy())
    assert len(list(enc.parameters())) == 3 * len(list(layer.parameters()))
    model = nn.Transformer(D, H, 1, 1, FF)
    w = model.encoder.layers[0].linear1.weight.detach().numpy()
    bound = np.sqrt(6.0 / (D + FF))  # xavier_uniform_ on every matrix
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.5 * bound


def test_nested_tensor_inference_path_zeroes_padding_like_torch():
    torch = _torch()
    kw = {"batch_first": True}
    ours, theirs = _mods("encoder", kw, torch)
    x = rnd(2, 5, D, seed=6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.no_grad():
            ty = theirs(torch.tensor(x), src_key_padding_mask=torch.tensor(KPM))
    with ag.no_grad():
        y = ours(ag.tensor(x), src_key_padding_mask=ag.tensor(KPM))
    np.testing.assert_allclose(y.numpy(), ty.numpy(), atol=1e-10)
    # with gradients the ordinary path runs (no zeros), in both libraries
    _check(ours, theirs, [x], {"src_key_padding_mask": ag.tensor(KPM)},
           {"src_key_padding_mask": torch.tensor(KPM)})


def test_nested_tensor_warning_like_torch():
    torch = _torch()
    with pytest.warns(UserWarning, match="batch_first was not True") as ours:
        nn.TransformerEncoder(nn.TransformerEncoderLayer(D, H, FF), 2)
    with pytest.warns(UserWarning, match="batch_first was not True") as theirs:
        torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(D, H, FF), 2)
    assert str(ours[0].message) == str(theirs[0].message)


def test_dropout_in_training_mode():
    layer = nn.TransformerEncoderLayer(D, H, FF, dropout=0.5).double()
    x = ag.tensor(rnd(5, 2, D, seed=7))
    ag.manual_seed(0)
    a = layer(x).detach().numpy()
    b = layer(x).detach().numpy()
    assert not np.allclose(a, b)
    layer.eval()
    np.testing.assert_array_equal(layer(x).detach().numpy(), layer(x).detach().numpy())


def test_transformer_gradcheck():
    ag.manual_seed(0)
    layer = nn.TransformerDecoderLayer(4, 2, 6, dropout=0.0, norm_first=True).double()
    tgt = ag.tensor(rnd(3, 1, 4, seed=8), requires_grad=True)
    mem = ag.tensor(rnd(2, 1, 4, seed=9), requires_grad=True)
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=ag.float64)
    assert ag.gradcheck(lambda t, m: layer(t, m, tgt_mask=mask), (tgt, mem))
    enc = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, activation="gelu").double()
    assert ag.gradcheck(lambda t: enc(t, src_key_padding_mask=ag.tensor([[False, True, False]])),
                        (ag.tensor(rnd(1, 3, 4, seed=10).transpose(1, 0, 2),
                                   requires_grad=True),))


def test_transformer_errors_like_torch():
    torch = _torch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pairs = [(nn.Transformer(D, H, 1, 1, FF), torch.nn.Transformer(D, H, 1, 1, FF))]
    for ours, theirs in pairs:
        for s, t in (((5, 2, D), (7, 3, D)), ((5, 2, D), (7, 2, D + 1))):
            with pytest.raises(RuntimeError) as e1:
                ours(ag.randn(*s), ag.randn(*t))
            with pytest.raises(RuntimeError) as e2:
                theirs(torch.randn(*s), torch.randn(*t))
            assert str(e1.value) == str(e2.value)
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(D, H, activation="tanh")
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        torch.nn.TransformerEncoderLayer(D, H, activation="tanh")
    layer = nn.TransformerEncoderLayer(D, H, FF)
    with pytest.raises(AssertionError, match="only bool and floating types"):
        layer(ag.randn(5, 2, D), src_key_padding_mask=ag.zeros(2, 5, dtype=ag.int64))


def test_transformer_runs_on_cupy(sim):
    ag.manual_seed(0)
    model = nn.Transformer(D, H, 1, 1, FF, dropout=0.0).double()
    src, tgt = rnd(5, 2, D, seed=11), rnd(4, 2, D, seed=12)
    outs = []
    for dev in ("cpu", "cuda"):
        model.to(dev)
        model.zero_grad()
        mask = nn.Transformer.generate_square_subsequent_mask(4, device=dev, dtype=ag.float64)
        y = model(ag.tensor(src, device=dev), ag.tensor(tgt, device=dev), tgt_mask=mask,
                  src_key_padding_mask=ag.tensor(KPM, device=dev))
        y.sum().backward()
        outs.append((y.detach().cpu().numpy(),
                     model.encoder.layers[0].self_attn.in_proj_weight.grad.cpu().numpy()))
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, atol=1e-10)
