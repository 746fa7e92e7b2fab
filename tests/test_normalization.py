"""Normalisation layers against PyTorch (weights copied): instance norm, local response
norm, CrossMapLRN2d, RMS norm, and the batch/layer/group norm options (momentum=None,
track_running_stats=False, bias=False...), in train and eval modes, with gradients,
float64 gradchecks and state_dict round trips."""

import warnings

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape) * 2.0 + 0.5


def _both(a, requires_grad=False):
    return (ag.tensor(a.copy(), requires_grad=requires_grad),
            torch.tensor(a.copy(), requires_grad=requires_grad))


def _close(ours, theirs, rtol=1e-9, atol=1e-10):
    o = ours.detach().numpy() if hasattr(ours, "detach") else np.asarray(ours)
    t = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    np.testing.assert_allclose(np.asarray(o, np.float64), np.asarray(t, np.float64),
                               rtol=rtol, atol=atol)


def _copy_state(m, tm):
    """Load the torch module's state into ours (the weights copied)."""
    m.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})


def _check_module(m, tm, shapes, grads=True, steps=2):
    """Run both modules on the same inputs for ``steps`` steps in train then eval mode;
    compare outputs, input/parameter gradients and state (running statistics)."""
    for mode in ("train", "eval"):
        getattr(m, mode)()
        getattr(tm, mode)()
        for step in range(steps):
            xo, xt = _both(_rand(*shapes, seed=step), requires_grad=grads)
            yo, yt = m(xo), tm(xt)
            _close(yo, yt)
            if grads:
                g = _rand(*yt.shape, seed=10 + step)
                yo.backward(ag.tensor(g))
                yt.backward(torch.tensor(g))
                _close(xo.grad, xt.grad, rtol=1e-8, atol=1e-9)
                for (n, p), (tn, tp) in zip(m.named_parameters(), tm.named_parameters()):
                    assert n == tn
                    _close(p.grad, tp.grad, rtol=1e-8, atol=1e-9)
                    p.grad = None
                    tp.grad = None
            so, st = m.state_dict(), tm.state_dict()
            assert list(so) == list(st)
            for k in st:
                _close(so[k], st[k])


# ---- instance norm ----------------------------------------------------------------------

IN_CASES = [
    (nn.InstanceNorm1d, torch.nn.InstanceNorm1d, (4, 3, 7), {}),
    (nn.InstanceNorm1d, torch.nn.InstanceNorm1d, (3, 7), {}),  # unbatched
    (nn.InstanceNorm1d, torch.nn.InstanceNorm1d, (4, 3, 7), {"affine": True}),
    (nn.InstanceNorm1d, torch.nn.InstanceNorm1d, (4, 3, 7),
     {"affine": True, "track_running_stats": True}),
    (nn.InstanceNorm1d, torch.nn.InstanceNorm1d, (3, 7),
     {"affine": True, "track_running_stats": True, "momentum": 0.3}),
    (nn.InstanceNorm2d, torch.nn.InstanceNorm2d, (2, 3, 4, 5),
     {"track_running_stats": True, "momentum": None}),
    (nn.InstanceNorm2d, torch.nn.InstanceNorm2d, (3, 4, 5), {"affine": True, "eps": 1e-3}),
    (nn.InstanceNorm3d, torch.nn.InstanceNorm3d, (2, 3, 2, 3, 4),
     {"affine": True, "track_running_stats": True}),
    (nn.InstanceNorm3d, torch.nn.InstanceNorm3d, (3, 2, 3, 4), {"affine": True,
                                                               "bias": False}),
]


@pytest.mark.parametrize("i", range(len(IN_CASES)))
def test_instance_norm_modules_vs_torch(i):
    ours, theirs, shape, kw = IN_CASES[i]
    m, tm = ours(3, **kw, dtype=ag.float64), theirs(3, **kw, dtype=torch.float64)
    assert repr(m) == repr(tm)
    if m.weight is not None:  # non-trivial affine parameters
        with torch.no_grad():
            tm.weight.copy_(torch.tensor([0.5, -1.5, 2.0], dtype=torch.float64))
            if tm.bias is not None:
                tm.bias.copy_(torch.tensor([0.1, 0.2, -0.3], dtype=torch.float64))
    _copy_state(m, tm)
    _check_module(m, tm, shape)


def test_instance_norm_functional_vs_torch_and_gradcheck():
    a = _rand(2, 3, 5)
    rm, rv = np.array([0.1, -0.2, 0.3]), np.array([1.5, 0.5, 2.0])
    w, b = np.array([0.5, 1.5, -1.0]), np.array([0.2, 0.0, -0.1])
    for use_input_stats in (True, False):
        rmo, rmt = _both(rm)
        rvo, rvt = _both(rv)
        xo, xt = _both(a, True)
        wo, wt = _both(w, True)
        bo, bt = _both(b, True)
        yo = F.instance_norm(xo, rmo, rvo, wo, bo, use_input_stats, 0.2, 1e-4)
        yt = TF.instance_norm(xt, rmt, rvt, wt, bt, use_input_stats, 0.2, 1e-4)
        _close(yo, yt)
        _close(rmo, rmt)
        _close(rvo, rvt)
        yo.backward(ag.tensor(_rand(2, 3, 5, seed=3)))
        yt.backward(torch.tensor(_rand(2, 3, 5, seed=3)))
        for o, t in ((xo, xt), (wo, wt), (bo, bt)):
            _close(o.grad, t.grad)
    xs = ag.tensor(a, requires_grad=True)
    ws, bs = ag.tensor(w, requires_grad=True), ag.tensor(b, requires_grad=True)
    assert ag.gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (xs, ws, bs))
    assert ag.gradgradcheck(lambda x: F.instance_norm(x), (xs,))


def test_instance_norm_errors_and_warnings():
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        F.instance_norm(ag.ones(2, 3, 1))
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        TF.instance_norm(torch.ones(2, 3, 1))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.InstanceNorm1d(3)(ag.ones(2, 3, 4, 5))
    with pytest.raises(ValueError, match="expected 3D or 4D input"):
        nn.InstanceNorm2d(3)(ag.ones(2, 3))
    with pytest.raises(ValueError, match="to match num_features"):
        nn.InstanceNorm1d(4, affine=True)(ag.ones(2, 3, 5))
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(4)(ag.randn(2, 3, 5))
    # eval without running statistics: the input's own statistics, as PyTorch
    x = _rand(2, 3, 6)
    m, tm = nn.InstanceNorm1d(3).eval(), torch.nn.InstanceNorm1d(3).eval()
    _close(m(ag.tensor(x)), tm(torch.tensor(x)))


def test_instance_norm_num_batches_tracked_like_torch():
    m, tm = nn.InstanceNorm1d(3, track_running_stats=True), \
        torch.nn.InstanceNorm1d(3, track_running_stats=True)
    a = _rand(2, 3, 4).astype(np.float32)
    for _ in range(3):
        m(ag.tensor(a))
        tm(torch.tensor(a))
    assert int(m.num_batches_tracked.item()) == int(tm.num_batches_tracked.item())


# ---- local response norm / CrossMapLRN2d ---------------------------------------------------

@pytest.mark.parametrize("shape", [(2, 7, 5), (2, 7, 3, 4), (1, 5, 2, 3, 2)])
@pytest.mark.parametrize("size", [1, 2, 3, 5, 8])
def test_local_response_norm_vs_torch(shape, size):
    m, tm = nn.LocalResponseNorm(size, 0.3, 0.75, 1.5), \
        torch.nn.LocalResponseNorm(size, 0.3, 0.75, 1.5)
    assert repr(m) == repr(tm)
    _check_module(m, tm, shape, steps=1)


def test_local_response_norm_gradcheck_and_errors():
    x = ag.tensor(_rand(1, 5, 2, 2), requires_grad=True)
    assert ag.gradcheck(lambda t: F.local_response_norm(t, 3, 0.5, 0.75, 1.0), (x,))
    with pytest.raises(ValueError, match="3D or higher"):
        F.local_response_norm(ag.ones(2, 3), 2)
    e = ag.ones(0, 3, 4)
    assert F.local_response_norm(e, 2) is e


@pytest.mark.parametrize("size", [2, 3, 4, 5, 9])
def test_cross_map_lrn2d_vs_torch(size):
    m, tm = nn.CrossMapLRN2d(size, 0.5, 0.75, 2.0), torch.nn.CrossMapLRN2d(size, 0.5, 0.75, 2.0)
    assert repr(m) == repr(tm)
    _check_module(m, tm, (2, 6, 3, 2), steps=1)
    with pytest.raises(ValueError, match="Expected input to be 4D"):
        m(ag.ones(2, 3, 4))


# ---- RMS norm -------------------------------------------------------------------------------

@pytest.mark.parametrize("ns,kw", [(4, {}), ((3, 4), {"eps": 1e-3}),
                                   ((4,), {"elementwise_affine": False}),
                                   ([2, 3, 4], {"eps": 0.5})])
def test_rms_norm_module_vs_torch(ns, kw):
    m, tm = nn.RMSNorm(ns, **kw, dtype=ag.float64), torch.nn.RMSNorm(ns, **kw,
                                                                   dtype=torch.float64)
    assert repr(m) == repr(tm)
    if tm.weight is not None:
        with torch.no_grad():
            tm.weight.copy_(torch.tensor(_rand(*tm.weight.shape, seed=4)))
    _copy_state(m, tm)
    _check_module(m, tm, (2, 3, 4) if ns != [2, 3, 4] else (2, 2, 3, 4))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_rms_norm_eps_none_is_dtype_eps(dtype):
    a = (_rand(3, 5) * 1e-5).astype(dtype)  # small: eps matters
    yo = F.rms_norm(ag.tensor(a), [5])
    yt = TF.rms_norm(torch.tensor(a), [5])
    assert str(yo.dtype) == f"torch.{dtype}"
    tol = {"float16": 2e-3, "float32": 1e-6, "float64": 1e-12}[dtype]
    _close(yo, yt, rtol=tol, atol=tol)


def test_rms_norm_gradcheck_and_errors():
    x = ag.tensor(_rand(2, 3, 4), requires_grad=True)
    w = ag.tensor(_rand(3, 4, seed=1), requires_grad=True)
    assert ag.gradcheck(lambda x, w: F.rms_norm(x, (3, 4), w, 1e-3), (x, w))
    assert ag.gradgradcheck(lambda x: F.rms_norm(x, (4,)), (x,))
    with pytest.raises(RuntimeError, match="expected input with shape"):
        F.rms_norm(ag.ones(2, 3), [4])


# ---- batch / layer / group norm options -------------------------------------------------------

BN_CASES = [
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (6, 3), {}),
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (6, 3, 4), {"momentum": None}),
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (6, 3, 4), {"track_running_stats": False}),
    (nn.BatchNorm2d, torch.nn.BatchNorm2d, (2, 3, 4, 2), {"affine": False}),
    (nn.BatchNorm2d, torch.nn.BatchNorm2d, (2, 3, 4, 2), {"bias": False}),
    (nn.BatchNorm3d, torch.nn.BatchNorm3d, (2, 3, 2, 2, 2), {"momentum": 0.5, "eps": 1e-3}),
]


@pytest.mark.parametrize("i", range(len(BN_CASES)))
def test_batch_norm_options_vs_torch(i):
    ours, theirs, shape, kw = BN_CASES[i]
    m, tm = ours(3, **kw, dtype=ag.float64), theirs(3, **kw, dtype=torch.float64)
    assert repr(m) == repr(tm)
    if tm.weight is not None:
        with torch.no_grad():
            tm.weight.copy_(torch.tensor([0.5, -1.5, 2.0], dtype=torch.float64))
    _copy_state(m, tm)
    _check_module(m, tm, shape, steps=3)


def test_batch_norm_eval_without_running_stats_uses_batch_stats():
    m = nn.BatchNorm1d(3, track_running_stats=False).eval()
    tm = torch.nn.BatchNorm1d(3, track_running_stats=False).eval()
    a = _rand(5, 3).astype(np.float32)
    _close(m(ag.tensor(a)), tm(torch.tensor(a)), rtol=1e-5, atol=1e-6)
    assert m.running_mean is None and "running_mean" not in m.state_dict()


def test_batch_norm_state_dict_round_trip_from_torch():
    tm = torch.nn.BatchNorm2d(3)
    tm.train()
    for s in range(3):
        tm(torch.tensor(_rand(2, 3, 2, 2, seed=s).astype(np.float32)))
    m = nn.BatchNorm2d(3)
    _copy_state(m, tm)
    assert int(m.num_batches_tracked.item()) == 3
    m.eval()
    tm.eval()
    a = _rand(2, 3, 2, 2, seed=9).astype(np.float32)
    _close(m(ag.tensor(a)), tm(torch.tensor(a)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kw", [{}, {"elementwise_affine": False}, {"bias": False},
                                {"eps": 1e-2}])
def test_layer_norm_options_vs_torch(kw):
    m, tm = nn.LayerNorm((3, 4), **kw, dtype=ag.float64), \
        torch.nn.LayerNorm((3, 4), **kw, dtype=torch.float64)
    assert repr(m) == repr(tm)
    if tm.weight is not None:
        with torch.no_grad():
            tm.weight.copy_(torch.tensor(_rand(3, 4, seed=5)))
    _copy_state(m, tm)
    _check_module(m, tm, (2, 3, 4), steps=1)


@pytest.mark.parametrize("kw", [{}, {"affine": False}, {"eps": 1e-2}])
def test_group_norm_options_vs_torch(kw):
    m, tm = nn.GroupNorm(2, 4, **kw, dtype=ag.float64), \
        torch.nn.GroupNorm(2, 4, **kw, dtype=torch.float64)
    assert repr(m) == repr(tm)
    if tm.weight is not None:
        with torch.no_grad():
            tm.weight.copy_(torch.tensor(_rand(4, seed=6)))
            tm.bias.copy_(torch.tensor(_rand(4, seed=7)))
    _copy_state(m, tm)
    _check_module(m, tm, (3, 4, 5), steps=1)


def test_functional_exports():
    for name in ("instance_norm", "local_response_norm", "rms_norm"):
        assert callable(getattr(F, name))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.InstanceNorm2d(3)(ag.randn(2, 3, 4, 4))


def test_forward_mode_jvp_matches_finite_differences():
    import autograd.forward_ad as fwAD
    from nn.functional.normalization import cross_map_lrn2d

    x, t = ag.tensor(_rand(2, 6, 3, 2)), ag.tensor(_rand(2, 6, 3, 2, seed=1))
    w, tw = ag.tensor(_rand(3, 2, seed=2)), ag.tensor(_rand(3, 2, seed=3))
    cases = [(lambda a: cross_map_lrn2d(a, 3, 0.5, 0.75, 1.0), (x,), (t,)),
             (lambda a, b: F.rms_norm(a, (3, 2), b, 1e-3), (x, w), (t, tw)),
             (lambda a: F.instance_norm(a), (x,), (t,)),
             (lambda a: F.local_response_norm(a, 3, 0.5), (x,), (t,))]
    for f, args, tans in cases:
        with fwAD.dual_level():
            y = f(*[fwAD.make_dual(a, b) for a, b in zip(args, tans)])
            jv = fwAD.unpack_dual(y).tangent.numpy()
        e = 1e-6
        fd = (f(*[a + b * e for a, b in zip(args, tans)]).numpy()
              - f(*[a - b * e for a, b in zip(args, tans)]).numpy()) / (2 * e)
        np.testing.assert_allclose(jv, fd, rtol=1e-5, atol=1e-7)
