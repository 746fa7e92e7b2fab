"""PyTorch's global switches and queries (autograd/settings.py), each set and read back
beside PyTorch's own."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag

torch = pytest.importorskip("torch")


@pytest.fixture
def restore():
    yield
    ag.use_deterministic_algorithms(False)
    torch.use_deterministic_algorithms(False)
    ag.set_float32_matmul_precision("highest")
    torch.set_float32_matmul_precision("highest")
    ag.set_default_dtype(ag.float32)
    ag.set_default_device(None)
    ag.set_warn_always(False)
    torch.set_warn_always(False)


def test_determinism(restore):
    for mode, warn_only in [(True, False), (True, True), (False, False)]:
        ag.use_deterministic_algorithms(mode, warn_only=warn_only)
        torch.use_deterministic_algorithms(mode, warn_only=warn_only)
        assert ag.are_deterministic_algorithms_enabled() == \
            torch.are_deterministic_algorithms_enabled()
        assert ag.is_deterministic_algorithms_warn_only_enabled() == \
            torch.is_deterministic_algorithms_warn_only_enabled()
        assert ag.get_deterministic_debug_mode() == torch.get_deterministic_debug_mode()
    for m in ("default", "warn", "error", 0, 1, 2):
        ag.set_deterministic_debug_mode(m)
        torch.set_deterministic_debug_mode(m)
        assert ag.get_deterministic_debug_mode() == torch.get_deterministic_debug_mode()
    for bad in ("loud", 3):
        with pytest.raises(RuntimeError):
            torch.set_deterministic_debug_mode(bad)
        with pytest.raises(RuntimeError):
            ag.set_deterministic_debug_mode(bad)
    with pytest.raises(TypeError):
        ag.use_deterministic_algorithms("yes")


def test_matmul_precision_and_flags(restore):
    for p in ("high", "medium", "highest"):
        ag.set_float32_matmul_precision(p)
        assert ag.get_float32_matmul_precision() == p
    with pytest.raises(RuntimeError):
        ag.set_float32_matmul_precision("low")
    assert ag.set_flush_denormal(True) is False
    tiny = ag.tensor([1e-40], dtype=ag.float32)
    assert tiny.item() != 0.0  # subnormals are kept, as the False above says
    ag.set_warn_always(True)
    assert ag.is_warn_always_enabled()


def test_typename():
    for dt, tdt in [(ag.float32, torch.float32), (ag.float64, torch.float64),
                    (ag.int64, torch.int64), (ag.uint8, torch.uint8), (ag.bool, torch.bool),
                    (ag.int16, torch.int16), (ag.float16, torch.float16)]:
        assert ag.typename(ag.zeros(2, dtype=dt)) == torch.typename(torch.zeros(2, dtype=tdt))
    assert ag.typename(3) == torch.typename(3)


def test_default_device_and_tensor_type(restore):
    ag.set_default_device("cpu")
    assert ag.get_default_device() == ag.device("cpu")
    assert ag.zeros(2).device == ag.device("cpu")
    with pytest.warns(UserWarning, match="deprecated"):
        ag.set_default_tensor_type("torch.DoubleTensor")
    assert ag.get_default_dtype() == ag.float64
    assert ag.tensor([1.5]).dtype == ag.float64
    with pytest.warns(UserWarning), pytest.raises(TypeError):
        ag.set_default_tensor_type("torch.LongTensor")


def test_autocast_state():
    assert not ag.is_autocast_cpu_enabled()
    ag.set_autocast_enabled("cpu", True)
    try:
        assert ag.is_autocast_enabled("cpu") and ag.is_autocast_cpu_enabled()
        assert str(ag.get_autocast_cpu_dtype()) == "bfloat16"
    finally:
        ag.set_autocast_enabled("cpu", False)
    assert not ag.is_autocast_enabled("cpu")
    with ag.autocast("cpu"):
        assert ag.is_autocast_cpu_enabled()
    assert ag.is_autocast_cache_enabled()
    ag.clear_autocast_cache()


def test_anomaly_switch():
    ag.set_anomaly_enabled(True, check_nan=False)
    try:
        assert ag.is_anomaly_enabled() and not ag.is_anomaly_check_nan_enabled()
    finally:
        ag.set_anomaly_enabled(False)
    assert not ag.is_anomaly_enabled()


def test_cond_and_while_loop():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = ag.cond(x.sum() > 0, lambda v: v * 2, lambda v: v * 3, (x,))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
    with pytest.raises(RuntimeError):
        ag.cond(ag.tensor([True, False]), lambda: 1, lambda: 2)
    i, s = ag.while_loop(lambda i, s: i < 5, lambda i, s: (i + 1, s + i), (ag.tensor(0),
                                                                             ag.tensor(0)))
    ti, ts = torch.while_loop(lambda i, s: i < 5, lambda i, s: (i + 1, s + i),
                              (torch.tensor(0), torch.tensor(0)))
    assert (i.item(), s.item()) == (ti.item(), ts.item())
