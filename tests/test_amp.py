"""Mixed precision: ``autocast``'s per-op policy, bfloat16 rounding, ``GradScaler`` against
``torch.amp.GradScaler``, and float16 training that follows the float32 loss trajectory, on
the CPU and on the CuPy stand-in ("cuda")."""

from __future__ import annotations

import pathlib
import sys
import threading

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
import optim
from autograd import backend
from autograd.amp import GradScaler, autocast, round_to_bfloat16

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import cupy_sim  # noqa: E402

try:
    import torch
except ImportError:  # the torch comparisons skip cleanly
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch (the oracle) is not installed")


@pytest.fixture(params=["cpu", "cuda"])
def device(request):
    """Each test on the CPU and on the CuPy stand-in."""
    if request.param == "cpu":
        yield "cpu"
        return
    prev = (backend._cupy, backend._cupyx)
    backend.use_cupy_module(cupy_sim.module, cupy_sim.cupyx)
    try:
        yield "cuda"
    finally:
        backend.use_cupy_module(*prev)


# ---- bfloat16 ------------------------------------------------------------------------------

def test_round_to_bfloat16_matches_ml_dtypes():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    rng = np.random.default_rng(0)
    a = np.concatenate([rng.standard_normal(5000) * 10.0 ** rng.integers(-30, 30, 5000),
                        [0.0, -0.0, np.inf, -np.inf, np.nan, 3.4028235e38, -3.4028235e38,
                         1e-45, 1.0 + 2**-8, 1.0 + 3 * 2**-8, 65504.0]]).astype(np.float32)
    want = a.astype(ml_dtypes.bfloat16).astype(np.float32)
    got = round_to_bfloat16(a)
    np.testing.assert_array_equal(got, want)  # NaN == NaN for assert_array_equal
    assert ag.amp.bfloat16 == np.dtype(ml_dtypes.bfloat16)


# ---- the policy ----------------------------------------------------------------------------

def test_autocast_policy(device):
    ag.manual_seed(0)
    x = ag.randn(4, 6, device=device)
    lin = nn.Linear(6, 5).to(device)
    conv = nn.Conv2d(2, 3, 3).to(device)
    img = ag.randn(1, 2, 5, 5, device=device)
    with autocast(device, dtype=ag.float16):
        assert ag.amp.is_autocast_enabled(device)
        y = lin(x)
        assert y.dtype == ag.float16  # linear: lower precision
        assert (x @ x.T).dtype == ag.float16 and ag.bmm(x[None], x.T[None]).dtype == ag.float16
        assert conv(img).dtype == ag.float16
        assert F.cross_entropy(y, ag.tensor([0, 1, 2, 3], device=device)).dtype == ag.float32
        assert y.prod().dtype == ag.float32
        if device == "cuda":  # CUDA's lists: einsum low; reductions, softmax, exp float32
            assert ag.einsum("ij,kj->ik", x, x).dtype == ag.float16
            for r in (y.sum(), y.mean(), F.softmax(y, 1), F.log_softmax(y, 1), y.exp(),
                      y.norm(), y.logsumexp(1), y.cumsum(1)):
                assert r.dtype == ag.float32, r
        else:  # the CPU's (PyTorch's): those stay in the lower precision
            assert y.sum().dtype == F.softmax(y, 1).dtype == y.exp().dtype == ag.float16
        assert (y + x[:, :5]).dtype == ag.float32  # widest input type
        assert (y * 2).dtype == ag.float16
        d = ag.randn(3, 3, dtype=ag.float64, device=device)
        assert (d @ d).dtype == ag.float64  # float64 is never cast
        with autocast(device, enabled=False):
            assert (x @ x.T).dtype == ag.float32
            assert not ag.amp.is_autocast_enabled(device)
        other = "cpu" if device == "cuda" else "cuda"
        assert not ag.amp.is_autocast_enabled(other)
    assert not ag.amp.is_autocast_enabled(device)
    assert (x @ x.T).dtype == ag.float32
    loss = F.mse_loss(y.float(), ag.zeros(4, 5, device=device))
    loss.backward()
    assert lin.weight.grad.dtype == ag.float32 and lin.weight.grad.device == device


def test_autocast_only_casts_its_device_type(device):
    x = ag.randn(3, 3)  # CPU tensor
    with autocast("cuda"):
        assert (x @ x).dtype == ag.float32  # a cuda region leaves CPU ops alone
    with autocast("cpu", dtype=ag.float16):
        assert (x @ x).dtype == ag.float16


def test_autocast_bfloat16_emulated(device):
    x = ag.randn(8, 8, device=device, requires_grad=True)
    with autocast(device, dtype="bfloat16"):
        y = x @ x
    assert y.dtype == ag.float32  # bfloat16 values in float32 storage (see autocast_mode)
    xb = round_to_bfloat16(x.detach().cpu().numpy())
    np.testing.assert_allclose(y.detach().cpu().numpy(), xb @ xb, rtol=1e-5, atol=1e-5)
    y.sum().backward()
    assert x.grad.dtype == ag.float32
    assert not np.array_equal(xb, x.detach().cpu().numpy())  # it did round


def test_autocast_decorator_threads_and_errors():
    @autocast("cpu", dtype=ag.float16)
    def f(a):
        return a @ a

    a = ag.randn(2, 2)
    assert f(a).dtype == ag.float16
    seen = []
    with autocast("cpu", dtype=ag.float16):
        t = threading.Thread(target=lambda: seen.append((a @ a).dtype))
        t.start()
        t.join()
        assert (a @ a).dtype == ag.float16
    assert seen == [ag.float32]  # per thread, as in PyTorch
    with pytest.raises(RuntimeError, match="device_type"):
        autocast("tpu")
    with pytest.warns(UserWarning, match="Disabling autocast"):
        ac = autocast("cpu", dtype=ag.float64)
    with ac:
        assert (a @ a).dtype == ag.float32
    assert ag.amp.get_autocast_dtype("cuda") == ag.float16


@needs_torch
def test_output_dtypes_match_torch_autocast_cpu():
    rng = np.random.default_rng(0)
    xa = rng.standard_normal((4, 6)).astype(np.float32)
    ours, theirs = ag.tensor(xa), torch.tensor(xa)
    cases = {
        "matmul": (lambda m, x: x @ x.T), "sum": (lambda m, x: (x @ x.T).sum()),
        "softmax": (lambda m, x: m.softmax(x @ x.T, 1)),
        "log_softmax": (lambda m, x: m.log_softmax(x @ x.T, 1)),
        "add_f16_f32": (lambda m, x: (x @ x.T)[:, :4] + x[:, :4]),
        "mul_scalar": (lambda m, x: (x @ x.T) * 2),
        "exp": (lambda m, x: (x @ x.T).exp()),
    }
    got = {}
    for name, fn in cases.items():
        with autocast("cpu", dtype=ag.float16):
            a = fn(F, ours)
        with torch.autocast("cpu", dtype=torch.float16):
            b = fn(torch, theirs)
        got[name] = (str(a.dtype), str(b.dtype))
    assert all(a == b for a, b in got.values()), got


# ---- GradScaler ----------------------------------------------------------------------------

def _scripted(make_scaler, param_cls, opt_cls, tensor, bad_steps, steps=9):
    """Run ``steps`` scaler iterations; gradients hold inf/NaN on ``bad_steps``."""
    scaler = make_scaler()
    w = param_cls(tensor(np.ones(3, dtype=np.float32)))
    opt = opt_cls([w], lr=0.1)
    record = []
    for k in range(steps):
        opt.zero_grad()
        loss = (w * tensor(np.array([1.0, 2.0, 3.0], dtype=np.float32))).sum()
        scaler.scale(loss).backward()
        if k in bad_steps:
            g = w.grad
            g[1] = float("inf") if bad_steps[k] == "inf" else float("nan")
        if k % 2:
            scaler.unscale_(opt)
        scaler.step(opt)
        scaler.update()
        record.append((scaler.get_scale(), scaler._get_growth_tracker(),
                       [round(float(v), 6) for v in w.detach().cpu().numpy()]))
    return record, scaler.state_dict()


@needs_torch
def test_grad_scaler_matches_torch_on_scripted_inf_nan_steps():
    bad = {1: "inf", 2: "nan", 6: "inf"}
    kw = dict(init_scale=2.0**10, growth_factor=3.0, backoff_factor=0.25, growth_interval=2)
    ours = _scripted(lambda: GradScaler("cpu", **kw), ag.nn.Parameter if hasattr(ag, "nn")
                     else nn.Parameter, optim.SGD, ag.tensor, bad)
    theirs = _scripted(lambda: torch.amp.GradScaler("cpu", **kw), torch.nn.Parameter,
                       torch.optim.SGD, torch.tensor, bad)
    assert ours[0] == theirs[0]
    assert ours[1] == theirs[1]


def test_grad_scaler_semantics(device):
    w = nn.Parameter(ag.ones(2, device=device))
    opt = optim.SGD([w], lr=1.0)
    scaler = GradScaler(device, init_scale=8.0, growth_interval=1)
    assert scaler.get_scale() == 8.0
    scaler.scale((w * 2).sum()).backward()
    np.testing.assert_array_equal(w.grad.cpu().numpy(), [16.0, 16.0])
    scaler.unscale_(opt)
    np.testing.assert_array_equal(w.grad.cpu().numpy(), [2.0, 2.0])  # unscaled: clip now
    total = nn.utils.clip_grad_norm_([w], 1.0)
    assert float(total.item()) == pytest.approx(8 ** 0.5)
    with pytest.raises(RuntimeError, match="already been called"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)
    scaler.update()
    assert scaler.get_scale() == 16.0  # grown after growth_interval clean steps
    np.testing.assert_allclose(w.detach().cpu().numpy(), [1 - 0.5 ** 0.5] * 2, rtol=1e-6)
    sd = scaler.state_dict()
    assert sd == {"scale": 16.0, "growth_factor": 2.0, "backoff_factor": 0.5,
                  "growth_interval": 1, "_growth_tracker": 0}
    other = GradScaler(device)
    other.load_state_dict(sd)
    assert other.state_dict() == sd
    with pytest.raises(RuntimeError, match="empty"):
        other.load_state_dict({})
    off = GradScaler(device, enabled=False)
    assert off.state_dict() == {} and off.get_scale() == 1.0 and off.scale(w) is w
    scaler.update(4.0)
    assert scaler.get_scale() == 4.0


# ---- float16 training follows float32 --------------------------------------------------------

def _cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(8 * 4 * 4, 10))


def _train(device, amp: bool, steps: int = 15):
    ag.manual_seed(0)
    model = _cnn().to(device)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    scaler = GradScaler(device, init_scale=2.0**12, enabled=amp)
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.random((32, 1, 16, 16), dtype=np.float32)).to(device)
    y = ag.tensor((rng.random(32) * 10).astype(np.int64)).to(device)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        with autocast(device, dtype=ag.float16, enabled=amp):
            out = model(x)
            loss = F.cross_entropy(out, y)
        if amp:
            assert out.dtype == ag.float16 and loss.dtype == ag.float32
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        losses.append(loss.item())
    return np.array(losses)


def test_float16_training_follows_float32_trajectory(device):
    ref = _train(device, amp=False)
    mixed = _train(device, amp=True)
    assert ref[-1] < ref[0] - 0.2  # it learns
    np.testing.assert_allclose(mixed, ref, rtol=0.03, atol=0.02)


def test_torch_cuda_amp_spellings(device):
    with ag.cuda.amp.autocast():
        assert ag.amp.is_autocast_enabled("cuda")
    if device == "cuda":
        scaler = ag.cuda.amp.GradScaler(init_scale=4.0)
    else:
        with pytest.warns(UserWarning, match="CUDA is not available"):
            scaler = ag.cuda.amp.GradScaler(init_scale=4.0)
    assert scaler.get_scale() == (4.0 if device == "cuda" else 1.0)  # disabled without CUDA


def test_torch_cpu_amp_spellings():
    """``torch.cpu.amp.autocast()`` / ``torch.cpu.amp.GradScaler()``: PyTorch's deprecated
    aliases of ``amp.autocast('cpu')`` / ``amp.GradScaler('cpu')``, with its FutureWarning."""
    with pytest.warns(FutureWarning, match="deprecated"):
        region = ag.cpu.amp.autocast()
    with region:
        assert ag.amp.is_autocast_enabled("cpu")
        assert str(ag.amp.get_autocast_dtype("cpu")) == "bfloat16"
        out = ag.tensor([[1.0 + 2.0**-10]]) @ ag.tensor([[1.0]])
        assert out.item() == 1.0  # the matmul ran in (emulated) bfloat16
    assert not ag.amp.is_autocast_enabled("cpu")
    with pytest.warns(FutureWarning, match="deprecated"):
        with ag.cpu.amp.autocast(enabled=False):
            assert not ag.amp.is_autocast_enabled("cpu")
    with pytest.warns(FutureWarning, match="deprecated"):
        scaler = ag.cpu.amp.GradScaler(init_scale=8.0)
    assert scaler.is_enabled() and scaler.get_scale() == 8.0
    if torch is not None:
        with pytest.warns(FutureWarning):
            want = torch.cpu.amp.GradScaler(init_scale=8.0).get_scale()
        assert want == scaler.get_scale()


def test_custom_fwd_and_bwd_like_torch():
    """``amp.custom_fwd``/``custom_bwd`` on a custom Function: the autocast state its forward
    and backward see, and the result, as PyTorch's."""
    if torch is None:
        pytest.skip("PyTorch (the oracle) is not installed")

    def trace(lib, cast_inputs):
        seen = []

        class Square(lib.autograd.Function):
            @staticmethod
            @lib.amp.custom_fwd(device_type="cpu", cast_inputs=cast_inputs)
            def forward(ctx, a, scale=1.0):
                seen.append(("fwd", lib.is_autocast_enabled("cpu")))
                ctx.save_for_backward(a)
                return a * a * scale

            @staticmethod
            @lib.amp.custom_bwd(device_type="cpu")
            def backward(ctx, g):
                seen.append(("bwd", lib.is_autocast_enabled("cpu")))
                (a,) = ctx.saved_tensors
                return 2 * a * g, None

        x = lib.tensor([1.5, -2.0], requires_grad=True)
        with lib.autocast("cpu", dtype=lib.bfloat16):
            y = Square.apply(x, 2.0)
        y.sum().backward()
        y2 = Square.apply(x, 1.0)  # outside a region
        y2.sum().backward()
        return seen, y.float().tolist(), x.grad.tolist()

    for cast in (None, "float32"):
        ours = trace(ag, None if cast is None else ag.float32)
        theirs = trace(torch, None if cast is None else torch.float32)
        assert ours == theirs
    assert ag.amp.is_autocast_available("cpu") and torch.amp.is_autocast_available("cpu")


def test_bfloat16_autocast_under_forward_ad():
    import autograd.forward_ad as fwAD

    a = ag.tensor([[1.0, 2.0], [3.0, 4.0]])
    t = ag.tensor([[1.001, 0.0], [0.0, 1.0]])
    with fwAD.dual_level(), autocast("cpu", dtype="bfloat16"):
        out = fwAD.make_dual(a, t) @ a
        tangent = fwAD.unpack_dual(out).tangent
    want = round_to_bfloat16(t.numpy()) @ a.numpy()  # the tangent rounded like the input
    np.testing.assert_allclose(tangent.numpy(), want, rtol=1e-6)
