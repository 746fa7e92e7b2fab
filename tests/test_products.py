"""Products and fused multiply-adds (autograd/ops/products.py) against PyTorch: values in
float32/float64 (broadcast inputs, batches), float64 gradcheck/gradgradcheck, dtype rules and
errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd as ag

torch = pytest.importorskip("torch")


def rnd(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def both(arrs, dtype="float64", rg=False):
    a = [ag.tensor(x.astype(dtype), requires_grad=rg) for x in arrs]
    t = [torch.tensor(x.astype(dtype), requires_grad=rg) for x in arrs]
    return a, t


def _np(x):
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    return x.detach().numpy()


# (name, fn(M, *xs), input shapes, gradgrad)
CASES = [
    ("addmm", lambda M, i, a, b: M.addmm(i, a, b), [(3, 4), (3, 2), (2, 4)], True),
    ("addmm_bcast", lambda M, i, a, b: M.addmm(i, a, b, beta=0.5, alpha=-2),
     [(4,), (3, 2), (2, 4)], True),
    ("addmm_beta0", lambda M, i, a, b: M.addmm(i, a, b, beta=0), [(1, 4), (3, 2), (2, 4)],
     False),
    ("addmv", lambda M, i, a, v: M.addmv(i, a, v, beta=2, alpha=3), [(3,), (3, 2), (2,)],
     True),
    ("addr", lambda M, i, a, b: M.addr(i, a, b, alpha=2), [(3, 1), (3,), (4,)], True),
    ("baddbmm", lambda M, i, a, b: M.baddbmm(i, a, b, beta=0.5), [(2, 3, 4), (2, 3, 5),
                                                                  (2, 5, 4)], True),
    ("baddbmm_bcast", lambda M, i, a, b: M.baddbmm(i, a, b), [(4,), (2, 3, 5), (2, 5, 4)],
     False),
    ("addbmm", lambda M, i, a, b: M.addbmm(i, a, b, alpha=0.5), [(3, 4), (2, 3, 5),
                                                                 (2, 5, 4)], True),
    ("addcmul", lambda M, i, a, b: M.addcmul(i, a, b, value=-1.5), [(3, 1), (1, 4), (3, 4)],
     True),
    ("addcdiv", lambda M, i, a, b: M.addcdiv(i, a, b + 3 * b.sign(), value=2),
     [(3, 4), (4,), (3, 1)], True),
    ("kron", lambda M, a, b: M.kron(a, b), [(2, 3), (3, 2)], True),
    ("kron_nd", lambda M, a, b: M.kron(a, b), [(2, 1, 3), (3, 2)], False),
    ("tensordot", lambda M, a, b: M.tensordot(a, b, 2), [(2, 3, 4), (3, 4, 5)], True),
    ("tensordot_lists", lambda M, a, b: M.tensordot(a, b, ([0, 2], [2, 0])),
     [(2, 3, 4), (4, 5, 2)], True),
    ("tensordot_0", lambda M, a, b: M.tensordot(a, b, 0), [(2, 3), (4,)], False),
    ("cross", lambda M, a, b: M.cross(a, b, dim=1), [(2, 3, 4), (1, 3, 4)], True),
    ("linalg_cross", lambda M, a, b: M.linalg.cross(a, b), [(4, 3), (4, 3)], True),
    ("vdot", lambda M, a, b: M.vdot(a, b), [(5,), (5,)], True),
    ("dist", lambda M, a, b: M.dist(a, b), [(3, 4), (4,)], True),
    ("dist_p3", lambda M, a, b: M.dist(a, b, 3), [(3, 4), (3, 4)], True),
    ("dist_inf", lambda M, a, b: M.dist(a, b, float("inf")), [(3, 4), (3, 4)], False),
    ("cdist", lambda M, a, b: M.cdist(a, b), [(2, 5, 3), (2, 4, 3)], True),
    ("cdist_mm", lambda M, a, b: M.cdist(a, b), [(30, 3), (27, 3)], False),
    ("cdist_bcast", lambda M, a, b: M.cdist(a, b, compute_mode="use_mm_for_euclid_dist"),
     [(2, 1, 5, 3), (3, 4, 3)], False),
    ("cdist_p1", lambda M, a, b: M.cdist(a, b, p=1), [(5, 3), (4, 3)], True),
    ("cdist_p3", lambda M, a, b: M.cdist(a, b, p=3), [(5, 3), (4, 3)], False),
    ("cdist_inf", lambda M, a, b: M.cdist(a, b, p=float("inf")), [(5, 3), (4, 3)], False),
    ("multi_dot", lambda M, a, b, c: M.linalg.multi_dot([a, b, c]), [(3,), (3, 4), (4, 2)],
     True),
    ("multi_dot4", lambda M, a, b, c, d: M.linalg.multi_dot([a, b, c, d]),
     [(5, 3), (3, 7), (7, 2), (2, 6)], False),
    ("chain_matmul", lambda M, a, b, c: M.chain_matmul(a, b, c), [(2, 3), (3, 4), (4, 2)],
     False),
    ("adjoint", lambda M, a: M.adjoint(a), [(2, 3, 4)], False),
    ("mH", lambda M, a: a.mH, [(2, 3, 4)], False),
    ("H", lambda M, a: a.H * 1, [(3, 4)], False),
]


@pytest.mark.parametrize("name,fn,shapes,gg", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_against_torch(name, fn, shapes, gg, dtype):
    arrs = [rnd(*s, seed=k) for k, s in enumerate(shapes)]
    a, t = both(arrs, dtype, rg=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out, ref = fn(ag, *a), fn(torch, *t)
    assert tuple(out.shape) == tuple(ref.shape)
    assert str(out.dtype) == str(ref.dtype)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(_np(out), _np(ref), rtol=tol, atol=tol)
    if dtype == "float64" and out.requires_grad:
        g = rnd(*out.shape, seed=9)
        ga = ag.autograd.grad(out, a, ag.tensor(g), allow_unused=True)
        gt = torch.autograd.grad(ref, t, torch.tensor(g), allow_unused=True)
        for x, y in zip(ga, gt):
            if y is None or x is None:  # (beta = 0: PyTorch's gradient of input is zeros)
                assert not (_np(x).any() if x is not None else _np(y).any())
            else:
                np.testing.assert_allclose(_np(x), _np(y), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name,fn,shapes,gg", [c for c in CASES if c[0] not in ("mH", "H")],
                         ids=[c[0] for c in CASES if c[0] not in ("mH", "H")])
def test_gradcheck(name, fn, shapes, gg):
    arrs = [rnd(*s, seed=k) for k, s in enumerate(shapes)]
    a = [ag.tensor(x, requires_grad=True) for x in arrs]

    def f(*xs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(ag, *xs)

    assert ag.gradcheck(f, a)
    if gg:
        assert ag.gradgradcheck(f, a)


def test_inplace_variants():
    for name, shapes in [("addmm_", [(3, 4), (3, 2), (2, 4)]), ("addmv_", [(3,), (3, 2), (2,)]),
                         ("addr_", [(3, 4), (3,), (4,)]),
                         ("baddbmm_", [(2, 3, 4), (2, 3, 5), (2, 5, 4)]),
                         ("addbmm_", [(3, 4), (2, 3, 5), (2, 5, 4)]),
                         ("addcmul_", [(3, 4), (3, 4), (4,)]),
                         ("addcdiv_", [(3, 4), (3, 4), (4,)])]:
        arrs = [rnd(*s, seed=k) for k, s in enumerate(shapes)]
        a, t = both(arrs)
        ra = getattr(a[0], name)(*a[1:], alpha=2) if "addc" not in name else getattr(
            a[0], name)(*a[1:], value=2)
        rt = getattr(t[0], name)(*t[1:], alpha=2) if "addc" not in name else getattr(
            t[0], name)(*t[1:], value=2)
        assert ra is a[0]
        np.testing.assert_allclose(_np(a[0]), _np(rt), rtol=1e-12, atol=1e-12)


def test_beta_zero_ignores_nan():
    i = np.full((2, 2), np.nan)
    m = rnd(2, 2)
    for fn in (lambda M, i, m: M.addmm(i, m, m, beta=0),
               lambda M, i, m: M.addmv(i[0], m, m[0], beta=0),
               lambda M, i, m: M.baddbmm(i[None], m[None], m[None], beta=0),
               lambda M, i, m: M.addr(i, m[0], m[1], beta=0)):
        a, t = both([i, m])
        np.testing.assert_allclose(_np(fn(ag, *a)), _np(fn(torch, *t)), rtol=1e-12)
        assert not np.isnan(_np(fn(ag, *a))).any()


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "float16"])
def test_dtypes_like_torch(dtype):
    x = (rnd(3, 3) * 3).astype(dtype)
    calls = [lambda M, x: M.addmm(x, x, x), lambda M, x: M.addmv(x[0], x, x[1]),
             lambda M, x: M.addr(x, x[0], x[1]), lambda M, x: M.addcmul(x, x, x),
             lambda M, x: M.addcdiv(x, x, x), lambda M, x: M.kron(x, x),
             lambda M, x: M.cross(x, x, dim=0), lambda M, x: M.vdot(x[0], x[1]),
             lambda M, x: M.tensordot(x, x, 1), lambda M, x: M.dist(x, x),
             lambda M, x: M.cdist(x, x), lambda M, x: M.baddbmm(x[None], x[None], x[None])]
    for fn in calls:
        ra = rt = ea = et = None
        try:
            rt = fn(torch, torch.tensor(x))
        except Exception as e:  # noqa: BLE001
            et = e
        try:
            ra = fn(ag, ag.tensor(x))
        except Exception as e:  # noqa: BLE001
            ea = e
        assert type(ea) is type(et), (ea, et)
        if rt is not None:
            assert str(ra.dtype) == str(rt.dtype)
            np.testing.assert_allclose(_np(ra).astype(float), _np(rt).astype(float),
                                       rtol=1e-3)


ERRORS = [
    (lambda M, a: M.addmm(a, a[0], a), RuntimeError),
    (lambda M, a: M.addmm(a, a, a[:2]), RuntimeError),
    (lambda M, a: M.addmm(a, a.double(), a.double()), RuntimeError),
    (lambda M, a: M.addmv(a, a, a[0]), RuntimeError),
    (lambda M, a: M.addbmm(a, a[None], a[None, :2]), RuntimeError),
    (lambda M, a: M.tensordot(a, a[:2], 1), RuntimeError),
    (lambda M, a: M.tensordot(a, a, ([0], [0, 1])), RuntimeError),
    (lambda M, a: M.cross(a[:, :2], a[:, :2], dim=1), RuntimeError),
    (lambda M, a: M.vdot(a, a), RuntimeError),
    (lambda M, a: M.cdist(a, a[:, :2]), RuntimeError),
    (lambda M, a: M.cdist(a[0], a), RuntimeError),
    (lambda M, a: M.linalg.multi_dot([a]), RuntimeError),
    (lambda M, a: M.linalg.multi_dot([a, a[:2]]), RuntimeError),
    (lambda M, a: a[0].mH, RuntimeError),
    (lambda M, a: a[None].H, RuntimeError),
]


@pytest.mark.parametrize("k", range(len(ERRORS)))
def test_errors(k):
    fn, cls = ERRORS[k]
    x = rnd(3, 3).astype("float32")
    with pytest.raises(cls):
        fn(torch, torch.tensor(x))
    with pytest.raises(cls):
        fn(ag, ag.tensor(x))


def test_cross_default_dim_warns():
    x, y = rnd(2, 3), rnd(2, 3, seed=1)
    with pytest.warns(UserWarning):
        out = ag.cross(ag.tensor(x), ag.tensor(y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = torch.cross(torch.tensor(x), torch.tensor(y))
    np.testing.assert_allclose(_np(out), _np(ref), rtol=1e-12)


def test_cdist_p0_stays_in_the_graph():
    # p = 0 counts the differing coordinates: a graph node (CdistBackward0) with zero
    # gradients, as in PyTorch, not a constant
    rs = np.random.default_rng(0)
    a, t = both([rs.standard_normal((2, 4, 3)), rs.standard_normal((2, 5, 3))], rg=True)
    out, ref = ag.cdist(a[0], a[1], p=0), torch.cdist(t[0], t[1], p=0)
    np.testing.assert_array_equal(_np(out), _np(ref))
    assert out.grad_fn.name() == ref.grad_fn.name() == "CdistBackward0"
    ga = ag.autograd.grad(out.sum(), a)
    gt = torch.autograd.grad(ref.sum(), t)
    for u, v in zip(ga, gt):
        np.testing.assert_array_equal(_np(u), _np(v))


def test_cdist_gradient_at_zero_distance():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    a, t = both([x, x], rg=True)
    for mode in ("use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"):
        ga = ag.autograd.grad(ag.cdist(a[0], a[1], compute_mode=mode).sum(), a)
        gt = torch.autograd.grad(torch.cdist(t[0], t[1], compute_mode=mode).sum(), t)
        for u, v in zip(ga, gt):
            np.testing.assert_allclose(_np(u), _np(v), rtol=1e-12, atol=1e-12)
