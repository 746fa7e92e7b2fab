"""Autograd modes, kept per thread as PyTorch does: grad mode, inference mode, anomaly mode,
the create-graph flag of a running backward, and the observers watching the graph.

``no_grad()`` in one thread never changes what another thread records, and a backward pass
changes only its own thread's mode while it runs. Everything here is read on the hot path
of every op, so it is one ``threading.local`` object whose class attributes are the
defaults each new thread starts from.

Observers are objects with two optional methods, ``on_forward(node, outputs)`` (called by
every recorded op right after its forward) and ``on_backward(node, grad, input_grads)``
(called by the backward sweep right after a node's backward, before its saved arrays are
freed). Anomaly detection (below) and ``autograd.viz.record()`` are observers: the core only
calls them.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import sys
import threading
import traceback

from .backend import get_array_module


class _State(threading.local):
    enabled = True  # record the graph
    inference = False  # inside inference_mode
    create_graph = False  # set by the engine while it runs backward formulas with a graph
    observers = ()  # a tuple (replaced, never mutated) of the observers of this thread
    anomaly = False
    anomaly_check_nan = True
    saved_hooks = ()  # stack of (pack, unpack) from autograd.graph.saved_tensors_hooks
    transforms = ()  # stack of interpreters (forward AD, vmap) that Op.apply hands ops to
    autocast = None  # autograd.amp's per-op cast hook while an autocast region is active


state = _State()


def add_observer(obs) -> None:
    """Start calling ``obs`` for the ops and backward steps of this thread."""
    state.observers = state.observers + (obs,)


def remove_observer(obs) -> None:
    """Stop calling ``obs`` (a no-op when it is not registered)."""
    state.observers = tuple(o for o in state.observers if o is not obs)


def is_grad_enabled() -> bool:
    """Return True when operations are being recorded for backward (in this thread)."""
    return state.enabled


@contextlib.contextmanager
def _grad_mode(mode: bool):
    """Set grad mode to ``mode`` in this thread for the block, then restore it."""
    prev = state.enabled
    state.enabled = mode
    try:
        yield
    finally:
        state.enabled = prev


def _wrap_generator(ctx_factory, fn):
    """Decorate the generator function ``fn`` so that its body runs under a fresh
    ``ctx_factory()`` each time it resumes (the first ``next``, each ``send``/``throw``/
    ``close``), and the caller's mode is back in force at each ``yield``, as PyTorch's
    decorators do: ``@no_grad()`` on a generator disables grad inside it, not around the call
    that merely creates it."""

    @functools.wraps(fn)
    def generator(*args, **kwargs):
        gen = fn(*args, **kwargs)
        try:
            with ctx_factory():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with ctx_factory():
                        gen.close()
                    raise
                except BaseException:  # noqa: BLE001  (thrown in by the caller: pass it on)
                    with ctx_factory():
                        response = gen.throw(*sys.exc_info())
                else:
                    with ctx_factory():
                        response = gen.send(request)
        except StopIteration as e:
            return e.value

    return generator


class _Mode:
    """A context manager and decorator that sets grad mode for its block, in this thread.
    As a decorator of a generator function it sets the mode while the generator's body runs
    (see ``_wrap_generator``)."""

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
        if inspect.isgeneratorfunction(fn):
            return _wrap_generator(lambda: _grad_mode(mode), fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = state.enabled
            state.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                state.enabled = prev

        return wrapper


class set_grad_enabled(_Mode):
    """Enable or disable gradient recording; a function, a context manager and a decorator.

    Called as a function it switches the mode of the calling thread at once (as PyTorch's);
    as a context manager or decorator it restores the previous mode afterwards.

    Args:
        mode: True to record operations, False not to.
    """

    def __init__(self, mode: bool):
        self.prev = state.enabled
        self.mode = bool(mode)
        state.enabled = self.mode

    def __enter__(self):
        return self

    def __call__(self, fn):
        # __init__ already switched the mode when used as a decorator: switch it back.
        state.enabled = self.prev
        return super().__call__(fn)


class _NoParamMode(_Mode):
    """A ``_Mode`` whose decorator may also be written without parentheses
    (``@ag.no_grad`` as well as ``@ag.no_grad()``), as PyTorch's."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamMode):
    """Context manager and decorator that disables gradient recording in this thread.

    Example:
        >>> with ag.no_grad():
        ...     y = x * 2   # y.requires_grad is False
    """

    mode = False


class enable_grad(_NoParamMode):
    """Context manager and decorator that enables gradient recording (inside ``no_grad``)."""

    mode = True


class inference_mode(_Mode):
    """``no_grad`` that also reports ``is_inference_mode_enabled()`` (PyTorch's faster variant;
    here both skip the graph the same way).

    Args:
        mode: True to enter inference mode (gradients off); False to leave it inside an
            ``inference_mode()`` block (PyTorch's: inference mode off, gradients on). A
            function instead (``@ag.inference_mode`` without parentheses) is decorated with
            ``inference_mode()``.
    """

    def __new__(cls, mode=True):
        if isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)

    def __init__(self, mode: bool = True):
        self.on = bool(mode)
        self.mode = not self.on  # PyTorch's InferenceMode(enabled) sets grad mode to !enabled

    def __enter__(self):
        self.prev_inf = state.inference
        state.inference = self.on
        return super().__enter__()

    def __exit__(self, *exc):
        state.inference = self.prev_inf
        return super().__exit__(*exc)

    def __call__(self, fn):
        if inspect.isgeneratorfunction(fn):
            return _wrap_generator(lambda: inference_mode(self.on), fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(self.on):
                return fn(*args, **kwargs)

        return wrapper


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()`` (in this thread)."""
    return state.inference


# ---------------------------------------------------------------------------------------
# anomaly detection: an observer
# ---------------------------------------------------------------------------------------

# this project's packages (autograd, and nn and optim beside it), by absolute path: a user's
# checkout may itself sit under a directory named "nn" or "optim"
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PACKAGE_DIRS = tuple(os.path.join(_ROOT, p) + os.sep for p in ("autograd", "nn", "optim"))


def _user_frame() -> str:
    """The innermost stack frame outside this project's packages, as 'file:line in fn'."""
    stack = traceback.extract_stack()[:-1]
    for fr in reversed(stack):
        if not os.path.abspath(fr.filename).startswith(_PACKAGE_DIRS):
            return f'File "{fr.filename}", line {fr.lineno}, in {fr.name}\n    {fr.line}'
    fr = stack[-1]
    return f'File "{fr.filename}", line {fr.lineno}, in {fr.name}\n    {fr.line}'


def _bad_value(a):
    """'nan' or 'inf' when the floating array ``a`` holds one, else None."""
    if not hasattr(a, "dtype") or a.dtype.kind not in "fcV":
        return None
    xp = get_array_module(a)
    if bool(xp.isfinite(a).all()):
        return None
    return "nan" if bool(xp.isnan(a).any()) else "inf"


class AnomalyError(RuntimeError, FloatingPointError):
    """What ``detect_anomaly`` raises at a NaN/inf. A ``RuntimeError``, the class PyTorch
    raises (``except RuntimeError`` around ``loss.backward()`` catches it), and a
    ``FloatingPointError``."""


class AnomalyObserver:
    """Remembers where each op was created and raises ``AnomalyError`` at the first
    NaN/inf, forward or backward, naming the op and the user's line that created it."""

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def on_forward(self, node, outputs) -> None:
        node._stack = _user_frame()  # the observer's own note on the node; dies with it
        if not self.check_nan:
            return
        for k, o in enumerate(outputs if outputs.__class__ is tuple else (outputs,)):
            bad = _bad_value(getattr(o, "_data", o))
            if bad:
                raise AnomalyError(
                    f"anomaly detected in forward: {node._op_name()} produced {bad} in output {k} "
                    f"(shape {tuple(o.shape)}, dtype {o.dtype}). The op was called at:\n"
                    f"{node._stack}"
                )

    def on_backward(self, node, grad, input_grads) -> None:
        if not self.check_nan:
            return
        for i, gx in enumerate(input_grads):
            bad = None if gx is None else _bad_value(getattr(gx, "_data", gx))
            if bad:
                stack = getattr(node, "_stack", None)
                where = (f"The op was created at:\n{stack}" if stack else
                         "Run the forward pass inside ag.detect_anomaly() to see where it was "
                         "created.")
                raise AnomalyError(
                    f"anomaly detected in backward: {node.backward_name()} returned {bad} "
                    f"values in its gradient for input {i} (shape {tuple(gx.shape)}). {where}"
                )


class detect_anomaly:
    """Context manager (and decorator) that checks every op for NaN/inf, forward and backward,
    in this thread.

    Forward: the first op whose output holds NaN or inf raises, naming the op and the user's
    line that called it. Backward: the first gradient holding NaN/inf raises, naming the op
    whose backward produced it and where that op was created in the forward pass.
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan
        self.obs = None

    def __enter__(self):
        self.prev = state.anomaly
        state.anomaly = True
        self.obs = AnomalyObserver(self.check_nan)
        add_observer(self.obs)
        return self

    def __exit__(self, *exc):
        remove_observer(self.obs)
        state.anomaly = self.prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


class set_detect_anomaly:
    """Turn anomaly detection on or off in this thread (a function and a context manager)."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self.prev = (state.anomaly, state.observers)
        _set_anomaly(bool(mode), check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        state.anomaly, state.observers = self.prev
        return False


def _set_anomaly(mode: bool, check_nan: bool) -> None:
    state.observers = tuple(o for o in state.observers if not isinstance(o, AnomalyObserver))
    state.anomaly = mode
    if mode:
        add_observer(AnomalyObserver(check_nan))


def is_anomaly_enabled() -> bool:
    return state.anomaly


def is_anomaly_check_nan_enabled() -> bool:
    return any(o.check_nan for o in state.observers if isinstance(o, AnomalyObserver))
