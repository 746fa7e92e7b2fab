"""Dropout variants against PyTorch: exact scaling, channel-wise masks, eval mode,
warnings/errors, gradients (statistical checks with a fixed seed)."""

import math
import warnings

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

ALPHA = 1.7580993408473766


def _alpha_ab(p):
    a = 1.0 / math.sqrt((ALPHA * ALPHA * p + 1) * (1 - p))
    return a, ALPHA * a * p, ALPHA * a * (p - 1)  # scale, kept shift, dropped value


def _channels_constant(y, lead):
    v = y.reshape(y.shape[:lead] + (-1,))
    return bool((v.min(-1) == v.max(-1)).all())


def test_alpha_dropout_values_stats_and_grad():
    p = 0.3
    a, kept_shift, dropped = _alpha_ab(p)
    ag.manual_seed(0)
    x = ag.tensor(np.random.default_rng(0).standard_normal((400, 250)), requires_grad=True)
    y = F.alpha_dropout(x, p, training=True)
    yd, xd = y.detach().numpy(), x.detach().numpy()
    is_drop = np.isclose(yd, dropped, rtol=0, atol=1e-12)
    np.testing.assert_allclose(yd[~is_drop], a * xd[~is_drop] + kept_shift, rtol=1e-12)
    assert abs(is_drop.mean() - p) < 0.01
    # the point of alpha dropout: zero mean and unit variance are kept
    assert abs(yd.mean()) < 0.02 and abs(yd.std() - 1) < 0.02
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(is_drop, 0.0, a), rtol=1e-12)
    # the same moments as PyTorch's
    torch.manual_seed(0)
    yt = TF.alpha_dropout(torch.tensor(xd), p, training=True).numpy()
    assert abs(yt.mean() - yd.mean()) < 0.02 and abs(yt.std() - yd.std()) < 0.02
    dt, = np.unique(yt[np.isclose(yt, dropped, atol=1e-12)])[:1]
    assert dt == pytest.approx(dropped, abs=1e-12)


def test_alpha_dropout_defaults_and_edges():
    x = ag.randn(5, 4)
    assert F.alpha_dropout(x) is x  # training=False by default, as in PyTorch
    assert F.feature_alpha_dropout(x) is x
    assert F.alpha_dropout(x, 0.0, True) is x
    z = F.alpha_dropout(x, 1.0, True)
    zt = TF.alpha_dropout(torch.tensor(x.numpy()), 1.0, True)
    np.testing.assert_array_equal(z.numpy(), zt.numpy())
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.alpha_dropout(x, 1.5, True)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        F.feature_alpha_dropout(ag.ones(3), 0.5, True)


def test_feature_alpha_dropout_whole_channels():
    p = 0.4
    a, kept_shift, dropped = _alpha_ab(p)
    ag.manual_seed(1)
    x = ag.zeros(50, 40, 3, 3)
    y = F.feature_alpha_dropout(x, p, training=True).numpy()
    assert _channels_constant(y, 2)
    vals = np.unique(y).astype(np.float64)
    assert all(np.isclose(v, [kept_shift, dropped], rtol=1e-6).any() for v in vals)
    assert abs((np.isclose(y[:, :, 0, 0], dropped)).mean() - p) < 0.03


@pytest.mark.parametrize("fn,shape,lead", [
    (F.dropout1d, (30, 20, 7), 2), (F.dropout1d, (40, 9), 1),
    (F.dropout3d, (6, 20, 2, 3, 2), 2), (F.dropout3d, (40, 2, 3, 2), 1),
    (F.dropout2d, (6, 20, 3, 3), 2),
])
def test_channel_dropouts(fn, shape, lead):
    p = 0.3
    ag.manual_seed(2)
    x = ag.ones(*shape, requires_grad=True)
    y = fn(x, p)
    yd = y.detach().numpy()
    assert yd.shape == shape
    assert _channels_constant(yd, lead)
    assert set(np.unique(yd)) <= {0.0, np.float32(1 / (1 - p))}
    assert abs((yd == 0).mean() - p) < 0.08
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), yd)  # the gradient is the mask's scale
    assert fn(x, p, training=False) is x


def test_channel_dropout_inplace():
    ag.manual_seed(4)
    x = ag.ones(10, 6)
    y = F.dropout1d(x, 0.5, inplace=True)
    assert y is x and _channels_constant(x.numpy(), 1)
    x3 = ag.ones(6, 2, 2, 2)
    assert F.dropout3d(x3, 0.5, inplace=True) is x3
    assert _channels_constant(x3.numpy(), 1)


def test_dropout_warnings_and_errors_like_torch():
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input"):
        F.dropout1d(ag.ones(2, 3, 4, 5))
    with pytest.raises(RuntimeError):
        TF.dropout1d(torch.ones(2, 3, 4, 5))
    for ours, theirs, shape in [(F.dropout2d, TF.dropout2d, (4, 5)),
                                (F.dropout3d, TF.dropout3d, (4, 5, 6))]:
        with warnings.catch_warnings(record=True) as wo:
            warnings.simplefilter("always")
            ours(ag.ones(*shape), 0.5)
        with warnings.catch_warnings(record=True) as wt:
            warnings.simplefilter("always")
            theirs(torch.ones(*shape), 0.5)
        assert [str(w.message) for w in wo] == [str(w.message) for w in wt]
    with pytest.warns(UserWarning, match="interpreted as shape \\(N, C, L\\)"):
        y = F.dropout2d(ag.ones(30, 20, 5), 0.5)
    assert _channels_constant(y.numpy(), 2)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            F.dropout2d(ag.ones(3), 0.5)
    with pytest.raises(ValueError):
        nn.Dropout1d(-0.1)


@pytest.mark.parametrize("ours,theirs", [
    (nn.AlphaDropout, torch.nn.AlphaDropout), (nn.FeatureAlphaDropout,
                                               torch.nn.FeatureAlphaDropout),
    (nn.Dropout1d, torch.nn.Dropout1d), (nn.Dropout3d, torch.nn.Dropout3d),
])
def test_dropout_modules(ours, theirs):
    assert repr(ours()) == repr(theirs())
    assert repr(ours(0.2, True)) == repr(theirs(0.2, True))
    m = ours(0.5)
    x = ag.randn(4, 3, 5, 2, 2) if ours is nn.Dropout3d else ag.randn(4, 3, 5)
    assert m.eval()(x) is x
    ag.manual_seed(5)
    y = m.train()(x)
    assert not np.allclose(y.numpy(), x.numpy())
    assert list(m.state_dict()) == []


# ---- the torch-namespace forms ------------------------------------------------------------------

def test_namespace_dropouts_like_torch():
    x = ag.randn(40, 30)
    for name in ("dropout", "alpha_dropout", "feature_dropout", "feature_alpha_dropout"):
        f, tf = getattr(ag, name), getattr(torch, name)
        assert f(x, 0.5, False) is x and f(x, 0.0, True) is x
        z, tz = f(x, 1.0, True), tf(torch.tensor(x.numpy()), 1.0, True)
        np.testing.assert_array_equal(z.numpy(), tz.numpy())
        assert np.array_equal(np.signbit(z.numpy()), np.signbit(tz.numpy()))
        with pytest.raises(RuntimeError, match="between 0 and 1"):
            f(x, 1.5, True)
        y = getattr(ag, name + "_")(x.clone(), 0.5, True)
        assert y.shape == x.shape
    ag.manual_seed(0)
    y = ag.dropout(x, 0.25, True).numpy()
    kept = y != 0
    np.testing.assert_allclose(y[kept], x.numpy()[kept] / 0.75, rtol=1e-6)
    assert abs((~kept).mean() - 0.25) < 0.05
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
        ag.dropout(ag.tensor([1, 2, 3]), 0.5, True)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        ag.feature_dropout(ag.ones(3), 0.5, True)


def test_native_dropout():
    ag.manual_seed(1)
    x = ag.tensor(np.random.default_rng(0).standard_normal((50, 40)), requires_grad=True)
    out, mask = ag.native_dropout(x, 0.3, True)
    assert mask.dtype == ag.bool and out.shape == x.shape
    m = mask.numpy()
    np.testing.assert_allclose(out.detach().numpy(), np.where(m, x.detach().numpy() / 0.7, 0),
                               rtol=1e-12)
    assert abs((~m).mean() - 0.3) < 0.03
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), m / 0.7, rtol=1e-12)
    o2, m2 = ag.native_dropout(x, 0.3, False)
    to2, tm2 = torch.native_dropout(torch.tensor(x.detach().numpy()), 0.3, False)
    assert o2 is not x and m2.numpy().all() and tm2.numpy().all()
    np.testing.assert_array_equal(o2.detach().numpy(), to2.numpy())


def test_dropout_forward_mode():
    import autograd.forward_ad as fwAD

    x, t = ag.randn(6, 5, dtype=ag.float64), ag.randn(6, 5, dtype=ag.float64)
    ag.manual_seed(2)
    with fwAD.dual_level():
        y = ag.alpha_dropout(fwAD.make_dual(x, t), 0.4, True)
        yp, tan = fwAD.unpack_dual(y)
    a = 1.0 / math.sqrt((ALPHA * ALPHA * 0.4 + 1) * 0.6)
    dropped = np.isclose(yp.numpy(), ALPHA * a * (0.4 - 1))
    np.testing.assert_allclose(tan.numpy(), np.where(dropped, 0.0, a * t.numpy()), rtol=1e-12)
