"""Grad modes: whether ops record the graph. One flag, one context manager per mode."""

from __future__ import annotations

import functools


class _State:
    # A module-level object so the hot path reads one attribute.
    enabled = True
    create_graph = False  # set by the engine while it runs backward formulas
    record_grad_norms = False  # autograd.viz: store each node's incoming gradient norm
    record_steps = None  # autograd.viz: a list collecting (node, grad, input grads) per step
    anomaly = False
    anomaly_check_nan = True


state = _State()


def is_grad_enabled() -> bool:
    """Return True when operations are being recorded for backward."""
    return state.enabled


class set_grad_enabled:
    """Enable or disable gradient recording; a function, a context manager and a decorator.

    Args:
        mode: True to record operations, False not to.
    """

    def __init__(self, mode: bool):
        self.prev = state.enabled
        self.mode = bool(mode)
        state.enabled = self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        state.enabled = self.prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(self.mode):
                return fn(*args, **kwargs)

        # __init__ already switched the mode when used as a decorator: switch it back.
        state.enabled = self.prev
        return wrapper


class _Mode:
    mode = True

    def __enter__(self):
        self.prev = state.enabled
        state.enabled = self.mode
        return self

    def __exit__(self, *exc):
        state.enabled = self.prev
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = state.enabled
            state.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                state.enabled = prev

        return wrapper


class no_grad(_Mode):
    """Context manager and decorator that disables gradient recording.

    Example:
        >>> with ag.no_grad():
        ...     y = x * 2   # y.requires_grad is False
    """

    mode = False


class enable_grad(_Mode):
    """Context manager and decorator that enables gradient recording (inside ``no_grad``)."""

    mode = True


class inference_mode(no_grad):
    """Alias of ``no_grad`` (PyTorch's faster variant; here they are the same)."""

    def __init__(self, mode: bool = True):
        self.mode = not mode


class detect_anomaly:
    """Context manager that checks every op for NaN/inf, forward and backward.

    Forward: the first op whose output holds NaN or inf raises, naming the op and the user's
    line that called it. Backward: the first gradient holding NaN/inf raises, naming the op
    whose backward produced it and where that op was created in the forward pass.
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        self.prev = (state.anomaly, state.anomaly_check_nan)
        state.anomaly = True
        state.anomaly_check_nan = self.check_nan
        return self

    def __exit__(self, *exc):
        state.anomaly, state.anomaly_check_nan = self.prev
        return False


class set_detect_anomaly(detect_anomaly):
    def __init__(self, mode: bool, check_nan: bool = True):
        self.prev = (state.anomaly, state.anomaly_check_nan)
        state.anomaly = bool(mode)
        state.anomaly_check_nan = check_nan

    def __enter__(self):
        return self


def is_anomaly_enabled() -> bool:
    return state.anomaly
