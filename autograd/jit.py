"""``torch.jit`` for programs that script or trace a model on the way: this engine has no
TorchScript compiler, so ``script`` and ``trace`` return the model or function itself (same
results, run eagerly), the decorators leave functions as they are, and ``save``/``load`` of
TorchScript archives raise (use ``state_dict()`` with ``autograd.save``)."""

from __future__ import annotations


def script(obj, optimize=None, _frames_up: int = 0, _rcb=None, example_inputs=None):
    """``obj`` itself (no TorchScript here): it runs eagerly with the same results."""
    return obj


def trace(func, example_inputs=None, *args, **kwargs):
    """``func`` itself (no tracing here): it runs eagerly with the same results."""
    return func


def trace_module(mod, inputs, *args, **kwargs):
    return mod


def ignore(drop=False, **kwargs):
    """Decorator (with or without arguments) leaving the function unchanged."""
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    return fn


def export(fn):
    return fn


def is_scripting() -> bool:
    """False: code always runs eagerly here."""
    return False


def is_tracing() -> bool:
    """False: code always runs eagerly here."""
    return False


def save(m, f, _extra_files=None):
    raise RuntimeError("jit.save: this engine has no TorchScript archives; save the "
                       "weights with autograd.save(model.state_dict(), path)")


def load(f, map_location=None, _extra_files=None):
    raise RuntimeError("jit.load: this engine cannot read TorchScript archives; load a "
                       "state_dict with autograd.load(path) and model.load_state_dict")
