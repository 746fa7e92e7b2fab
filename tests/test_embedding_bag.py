"""``F.embedding_bag`` / ``nn.EmbeddingBag`` (and ``F.embedding`` / ``nn.Embedding`` options)
against PyTorch: every mode with offsets, 2-D input, include_last_offset, padding_idx,
per_sample_weights, max_norm, empty bags; gradients of the weight and of the per-sample
weights; float64 gradcheck; errors."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F


def _torch():
    return pytest.importorskip("torch")


W = np.random.default_rng(0).standard_normal((7, 3)) * 2
IDX = np.array([1, 2, 4, 5, 4, 3, 2, 0, 6, 6])
OFFS = np.array([0, 2, 2, 5])  # bag 1 is empty
PSW = np.random.default_rng(1).standard_normal(10)

CASES = {
    "offsets": ({}, IDX, OFFS, False),
    "padding": ({"padding_idx": 4}, IDX, OFFS, False),
    "padding_negative": ({"padding_idx": -1}, IDX, OFFS, False),
    "last_offset": ({"include_last_offset": True}, IDX, np.array([0, 2, 2, 5, 10]), False),
    "2d": ({}, IDX.reshape(2, 5), None, False),
    "int32": ({}, IDX.astype(np.int32), OFFS.astype(np.int32), False),
    "max_norm": ({"max_norm": 1.0}, IDX, OFFS, False),
    "single_bag": ({}, IDX, np.array([0]), False),
}
PSW_CASES = {
    "psw": ({}, IDX, OFFS),
    "psw_2d": ({}, IDX.reshape(2, 5), None),
    "psw_padding_last": ({"padding_idx": 6, "include_last_offset": True}, IDX,
                         np.array([0, 3, 10])),
}


def _run(kw, idx, offs, psw, mode, torch):
    w = ag.tensor(W.copy(), requires_grad=True)
    tw = torch.tensor(W.copy(), requires_grad=True)
    p = tp = None
    if psw:
        p = ag.tensor(PSW.reshape(idx.shape), requires_grad=True)
        tp = torch.tensor(PSW.reshape(idx.shape), requires_grad=True)
    y = F.embedding_bag(ag.tensor(idx), w, None if offs is None else ag.tensor(offs),
                        mode=mode, per_sample_weights=p, **kw)
    ty = torch.nn.functional.embedding_bag(torch.tensor(idx), tw,
                                           None if offs is None else torch.tensor(offs),
                                           mode=mode, per_sample_weights=tp, **kw)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), atol=1e-12)
    assert y.dtype == ag.float64 and tuple(y.shape) == tuple(ty.shape)
    g = np.random.default_rng(2).standard_normal(tuple(ty.shape))
    y.backward(ag.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), atol=1e-12)  # renorm
    if psw:
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_embedding_bag_matches_torch(name, mode):
    kw, idx, offs, _ = CASES[name]
    _run(kw, idx, offs, False, mode, _torch())


@pytest.mark.parametrize("name", sorted(PSW_CASES))
def test_embedding_bag_per_sample_weights_match_torch(name):
    kw, idx, offs = PSW_CASES[name]
    _run(kw, idx, offs, True, "sum", _torch())


def test_embedding_bag_max_ties_and_empty_input():
    torch = _torch()
    _run({}, np.array([6, 6, 1, 1]), np.array([0, 2]), False, "max", torch)
    _run({}, np.array([], dtype=np.int64), np.array([0, 0]), False, "mean", torch)


def test_embedding_bag_scale_grad_by_freq_divides_by_index_counts():
    # each occurrence's gradient divided by its index's count in the batch, as F.embedding
    idx = np.array([3, 3, 1, 5])
    for mode, scale in (("sum", 1.0), ("mean", 0.25)):
        w1 = ag.tensor(W, requires_grad=True)
        F.embedding_bag(ag.tensor(idx), w1, ag.tensor([0]), mode=mode,
                        scale_grad_by_freq=True).sum().backward()
        w2 = ag.tensor(W, requires_grad=True)
        F.embedding(ag.tensor(idx), w2, scale_grad_by_freq=True).sum().backward()
        np.testing.assert_allclose(w1.grad.numpy(), w2.grad.numpy() * scale)
    torch = _torch()
    _run({"scale_grad_by_freq": True}, np.array([3, 3, 1]), np.array([0, 1]), False, "sum",
         torch)


def test_embedding_bag_gradcheck_and_gradgradcheck():
    idx, offs = ag.tensor(IDX), ag.tensor(OFFS)
    w = ag.tensor(W, requires_grad=True)
    p = ag.tensor(PSW, requires_grad=True)
    for mode in ("sum", "mean", "max"):
        assert ag.gradcheck(lambda a: F.embedding_bag(idx, a, offs, mode=mode,
                                                      padding_idx=2), (w,))
    assert ag.gradcheck(lambda a, b: F.embedding_bag(idx, a, offs, mode="sum",
                                                     per_sample_weights=b), (w, p))
    assert ag.gradgradcheck(lambda a, b: F.embedding_bag(idx, a, offs, mode="sum",
                                                         per_sample_weights=b) ** 2, (w, p))
    assert ag.gradgradcheck(lambda a: F.embedding_bag(idx, a, offs) ** 2, (w,))


def test_embedding_bag_errors_like_torch():
    torch = _torch()
    TF = torch.nn.functional
    cases = [
        (lambda M, T, w: M.embedding_bag(T(IDX), w), ValueError),
        (lambda M, T, w: M.embedding_bag(T(IDX.reshape(2, 5)), w, T(OFFS)), ValueError),
        (lambda M, T, w: M.embedding_bag(T(IDX), w, T(OFFS.reshape(2, 2))), ValueError),
        (lambda M, T, w: M.embedding_bag(T(IDX), w, T(OFFS), mode="median"), ValueError),
        (lambda M, T, w: M.embedding_bag(T(IDX), w, T(OFFS), mode="max",
                                         scale_grad_by_freq=True), ValueError),
        (lambda M, T, w: M.embedding_bag(T(IDX), w, T(OFFS), mode="mean",
                                         per_sample_weights=T(PSW)), NotImplementedError),
        (lambda M, T, w: M.embedding_bag(T(IDX), w, T(OFFS), per_sample_weights=T(PSW[:3])),
         ValueError),
        (lambda M, T, w: M.embedding_bag(T(IDX), w, T(np.array([1, 2]))), RuntimeError),
        (lambda M, T, w: M.embedding_bag(T(IDX), w, T(np.array([0, 11]))), RuntimeError),
        (lambda M, T, w: M.embedding_bag(T(IDX + 1), w, T(OFFS)), RuntimeError),
        (lambda M, T, w: M.embedding_bag(T(IDX * 1.0), w, T(OFFS)), RuntimeError),
        (lambda M, T, w: M.embedding_bag(T(IDX.reshape(1, 2, 5)), w), ValueError),
    ]
    for fn, exc in cases:
        with pytest.raises(exc):
            fn(TF, torch.tensor, torch.tensor(W))
        with pytest.raises(exc):
            fn(F, ag.tensor, ag.tensor(W))


def test_embedding_bag_module_like_torch():
    torch = _torch()
    for kw in ({}, {"mode": "sum", "padding_idx": -1}, {"mode": "max", "max_norm": 2.0,
                                                         "norm_type": 1.0},
               {"include_last_offset": True, "scale_grad_by_freq": True}):
        ours, theirs = nn.EmbeddingBag(7, 3, **kw), torch.nn.EmbeddingBag(7, 3, **kw)
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        if kw.get("padding_idx") is not None:
            assert not ours.weight.detach().numpy()[6].any()
    ours = nn.EmbeddingBag.from_pretrained(ag.tensor(W), mode="sum")
    theirs = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(W), mode="sum")
    assert not ours.weight.requires_grad and not theirs.weight.requires_grad
    y = ours(ag.tensor(IDX), ag.tensor(OFFS), per_sample_weights=ag.tensor(PSW))
    ty = theirs(torch.tensor(IDX), torch.tensor(OFFS), per_sample_weights=torch.tensor(PSW))
    np.testing.assert_allclose(y.numpy(), ty.numpy(), atol=1e-12)
    with pytest.raises(AssertionError):
        nn.EmbeddingBag(3, 2, padding_idx=3)
    with pytest.raises(AssertionError):
        nn.EmbeddingBag(3, 2, _weight=ag.randn(2, 2))


@pytest.mark.parametrize("kw", [{"padding_idx": 4}, {"padding_idx": -3}, {"max_norm": 1.0},
                                {"max_norm": 1.5, "norm_type": 1.0},
                                {"scale_grad_by_freq": True}])
def test_embedding_options_match_torch(kw):
    torch = _torch()
    idx = np.array([[1, 2, 4], [5, 4, 1]])
    w, tw = ag.tensor(W.copy(), requires_grad=True), torch.tensor(W.copy(), requires_grad=True)
    y = F.embedding(ag.tensor(idx), w, **kw)
    ty = torch.nn.functional.embedding(torch.tensor(idx), tw, **kw)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy())
    g = np.random.default_rng(3).standard_normal(tuple(ty.shape))
    y.backward(ag.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy())
    np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy())
    ours = nn.Embedding.from_pretrained(ag.tensor(W), padding_idx=2)
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(W), padding_idx=2)
    assert repr(ours) == repr(theirs)
    assert ours.weight.requires_grad == theirs.weight.requires_grad


@pytest.mark.parametrize("args", [(5, 2, 7), (5, 2, 5), (5, 2, -6)])
def test_embedding_padding_idx_errors_like_torch(args):
    torch = _torch()
    with pytest.raises(AssertionError) as theirs:
        torch.nn.Embedding(args[0], args[1], padding_idx=args[2])
    with pytest.raises(AssertionError, match=f"^{theirs.value}$"):
        nn.Embedding(args[0], args[1], padding_idx=args[2])
    with pytest.raises(AssertionError) as theirs:
        torch.nn.Embedding(args[0], args[1], _weight=torch.zeros(2, 2))
    with pytest.raises(AssertionError, match=f"^{theirs.value}$"):
        nn.Embedding(args[0], args[1], _weight=ag.zeros(2, 2))


def test_embedding_bag_forward_mode_matches_finite_differences():
    from autograd.func import jvp

    idx, offs = ag.tensor(IDX), ag.tensor(OFFS)
    tw = np.random.default_rng(4).standard_normal(W.shape)
    tp = np.random.default_rng(5).standard_normal(PSW.shape)
    eps = 1e-6
    for mode in ("sum", "mean", "max"):
        fn = lambda w, m=mode: F.embedding_bag(idx, w, offs, mode=m, padding_idx=3)  # noqa: E731
        _, tan = jvp(fn, [ag.tensor(W)], [ag.tensor(tw)])
        fd = (fn(ag.tensor(W + eps * tw)).numpy() - fn(ag.tensor(W - eps * tw)).numpy()) / (2 * eps)
        np.testing.assert_allclose(tan.numpy(), fd, atol=1e-7)
    fn = lambda w, p: F.embedding_bag(idx, w, offs, mode="sum", per_sample_weights=p)  # noqa: E731
    _, tan = jvp(fn, [ag.tensor(W), ag.tensor(PSW)], [ag.tensor(tw), ag.tensor(tp)])
    fd = (fn(ag.tensor(W + eps * tw), ag.tensor(PSW + eps * tp)).numpy()
          - fn(ag.tensor(W - eps * tw), ag.tensor(PSW - eps * tp)).numpy()) / (2 * eps)
    np.testing.assert_allclose(tan.numpy(), fd, atol=1e-7)
