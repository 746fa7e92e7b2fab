"""``nn.utils.stateless``: call a module with some of its parameters and buffers swapped
for other tensors (PyTorch's ``functional_call``)."""

from __future__ import annotations

import contextlib
import warnings

from autograd.tensor import Tensor

__all__ = ["functional_call"]


def _tied_names(module) -> dict:
    """name -> the names of every parameter/buffer that is the same tensor (tied weights)."""
    by_id: dict = {}
    for mp, m in _all_modules(module):
        for table in (m._parameters, m._buffers):
            for n, t in table.items():
                if t is not None:
                    by_id.setdefault(id(t), []).append(mp + ("." if mp else "") + n)
    return {n: names for names in by_id.values() for n in names}


def _all_modules(module, prefix: str = ""):
    """Every (path, module), shared submodules once per path (PyTorch's
    ``named_modules(remove_duplicate=False)``)."""
    stack = [(prefix, module)]
    while stack:
        p, m = stack.pop()
        yield p, m
        for n, sub in reversed(list(m._modules.items())):
            if sub is not None:
                stack.append((p + ("." if p else "") + n, sub))


def _locate(module, name: str):
    *path, leaf = name.split(".")
    mod = module
    for p in path:
        mod = getattr(mod, p)
    return mod, leaf


@contextlib.contextmanager
def _reparametrize_module(module, tensors: dict, tie_weights: bool = False,
                          strict: bool = False):
    """Swap the tensors named in ``tensors`` into ``module`` for the duration of the block."""
    known = _tied_names(module)
    if tie_weights:
        expanded = dict(tensors)
        for name, value in tensors.items():
            for other in known.get(name, ()):
                if other in tensors and tensors[other] is not value:
                    tied = sorted(n for n in known[name] if n in tensors)
                    raise ValueError(f"functional_call got multiple values for keys {tied}, "
                                     "which are tied. Consider using tie_weights=False")
                expanded.setdefault(other, value)
        tensors = expanded
    if strict:
        missing = sorted(k for k in known if k not in tensors)
        unexpected = sorted(k for k in tensors if k not in known)
        if missing or unexpected:
            msg = f"Error(s) in reparametrizing for {type(module).__name__}:\n"
            if unexpected:
                msg += "\tUnexpected key(s): " + ", ".join(f"'{k}'" for k in unexpected) + ".\n"
            if missing:
                msg += "\tMissing key(s): " + ", ".join(f"'{k}'" for k in missing) + ".\n"
            raise RuntimeError(msg.rstrip("\n"))
    saved = []
    try:
        for name, value in tensors.items():
            mod, leaf = _locate(module, name)
            for table in (mod._parameters, mod._buffers):
                if leaf in table:
                    saved.append((table, leaf, table[leaf]))
                    table[leaf] = value
                    break
            else:  # another attribute (a parametrized tensor: its setter runs), PyTorch's
                orig = getattr(mod, leaf, _MISSING)
                if orig is not _MISSING and not isinstance(orig, Tensor):
                    raise TypeError(f"attribute `{leaf}`: {orig} is not an instance of Tensor")
                saved.append((mod, leaf, orig))
                setattr(mod, leaf, value)
        yield
    finally:
        for holder, leaf, old in reversed(saved):
            if isinstance(holder, dict):
                holder[leaf] = old
            elif old is _MISSING:
                if hasattr(holder, leaf):
                    delattr(holder, leaf)
            else:
                setattr(holder, leaf, old)


_MISSING = object()


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *,
                    tie_weights: bool = True, strict: bool = False):
    """Call ``module`` with the parameters and buffers named (dotted paths) in
    ``parameters_and_buffers`` replaced by the given tensors, restoring them afterwards;
    gradients flow to the given tensors. Deprecated in PyTorch in favor of
    ``torch.func.functional_call`` (warns, as PyTorch does).

    Args:
        module: the module to call.
        parameters_and_buffers: dict name -> tensor (or a tuple of such dicts).
        args: the positional arguments (a single non-tuple value is wrapped).
        kwargs: the keyword arguments.
        tie_weights: a value given for one of several tied names replaces them all.
        strict: the names must be exactly the module's parameters and buffers.

    Example:
        >>> out = nn.utils.stateless.functional_call(model, {"weight": w}, (x,))
    """
    warnings.warn(
        "`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will "
        "be removed in a future version of PyTorch. Please use `torch.func.functional_call` "
        "instead which is a drop-in replacement.", FutureWarning, stacklevel=2)
    return _functional_call(module, parameters_and_buffers, args, kwargs,
                            tie_weights=tie_weights, strict=strict)


def _functional_call(module, parameters_and_buffers, args=None, kwargs=None, *,
                     tie_weights: bool = True, strict: bool = False):
    if isinstance(parameters_and_buffers, (tuple, list)):
        merged: dict = {}
        for d in parameters_and_buffers:
            dup = [k for k in d if k in merged]
            if dup:
                raise ValueError(f"{dup} appeared in multiple dictionaries; behavior of "
                                 "functional call is ambiguous")
            merged.update(d)
    else:
        merged = dict(parameters_and_buffers)
    for k, v in merged.items():
        if not isinstance(v, Tensor):
            raise TypeError(f"functional_call: the value of {k!r} must be a Tensor, got "
                            f"{type(v).__name__}")
    kwargs = {} if kwargs is None else kwargs
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrize_module(module, merged, tie_weights=tie_weights, strict=strict):
        return module(*args, **kwargs)
