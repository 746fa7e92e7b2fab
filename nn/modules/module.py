"""``nn.Module``: parameters and submodules registered by attribute assignment; the global
module hooks (``register_module_forward_pre_hook``, ``register_module_forward_hook``)."""

from __future__ import annotations

import warnings
from collections import OrderedDict, namedtuple
from collections.abc import Iterator

import numpy as np

from autograd import backend, dtypes
from autograd import hooks as _hooks
from autograd.dtypes import bfloat16_dtype
from autograd.function import Function
from autograd.grad_mode import no_grad, state
from autograd.hooks import RemovableHandle
from autograd.settings import typename as _typename
from autograd.tensor import Parameter, Size, Tensor, as_tensor

# ids of global forward hooks registered with_kwargs / always_call (PyTorch's flags); an id is
# never reused, so an entry left after its hook is removed is inert
_global_forward_hooks_with_kwargs: dict = {}
_global_forward_hooks_always_called: dict = {}
_NO_HOOKS: dict = {}  # stands in for the hook dicts of a module whose __init__ did not run


def register_module_forward_pre_hook(hook) -> RemovableHandle:
    """Register a forward pre-hook common to all modules (PyTorch's; meant for debugging,
    profiling and drawing tools).

    ``hook(module, args) -> None or modified args`` runs before every ``Module.forward``,
    before the module's own pre-hooks; a returned value that is not a tuple is wrapped in
    one. Keyword arguments go to ``forward`` only.

    Returns:
        A handle whose ``remove()`` unregisters the hook (also a context manager).

    Example:
        >>> seen = []
        >>> with register_module_forward_pre_hook(lambda m, a: seen.append(m)):
        ...     nn.Linear(2, 2)(ag.randn(1, 2))
    """
    return _hooks.add(_hooks.module_forward_pre_hooks, hook)


def register_module_forward_hook(hook, *, with_kwargs: bool = False,
                                 always_call: bool = False) -> RemovableHandle:
    """Register a forward hook common to all modules (PyTorch's).

    ``hook(module, args, output) -> None or modified output`` runs after every
    ``Module.forward``, before the module's own forward hooks.

    Args:
        hook: the callable; with ``with_kwargs`` it is called as
            ``hook(module, args, kwargs, output)``.
        always_call: also call it (with ``output=None``) when ``forward`` raises; the
            exception is then re-raised.

    Returns:
        A handle whose ``remove()`` unregisters the hook (also a context manager).
    """
    h = _hooks.add(_hooks.module_forward_hooks, hook)
    if with_kwargs:
        _global_forward_hooks_with_kwargs[h.id] = True
    if always_call:
        _global_forward_hooks_always_called[h.id] = True
    return h


class Module:
    """Base class of all layers and models.

    Assigning a ``Parameter`` or a ``Module`` to an attribute registers it, in order.

    Example:
        >>> class MLP(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.fc = nn.Linear(4, 2)
        ...     def forward(self, x):
        ...         return self.fc(x)
    """

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_pre_hooks", OrderedDict())
        # ids of this module's hooks registered with_kwargs / always_call (PyTorch's flags)
        object.__setattr__(self, "_forward_hooks_with_kwargs", {})
        object.__setattr__(self, "_forward_hooks_always_called", {})
        object.__setattr__(self, "_forward_pre_hooks_with_kwargs", {})
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "training", True)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        # hooks, global ones first (PyTorch's order); three dict checks when there are none
        d = self.__dict__
        pre = d.get("_forward_pre_hooks", _NO_HOOKS)
        if pre or _hooks.module_forward_pre_hooks:
            pre_kw = d.get("_forward_pre_hooks_with_kwargs", _NO_HOOKS)
            for hid, hook in (*_hooks.module_forward_pre_hooks.items(), *pre.items()):
                if hid in pre_kw:
                    r = hook(self, args, kwargs)
                    if r is not None:
                        if not (isinstance(r, tuple) and len(r) == 2):
                            raise RuntimeError("forward pre-hook must return None or a tuple "
                                               f"of (new_args, new_kwargs), but got {r}.")
                        args, kwargs = r
                else:
                    r = hook(self, args)
                    if r is not None:
                        args = r if isinstance(r, tuple) else (r,)
        bw = None
        if d.get("_backward_hooks") or d.get("_backward_pre_hooks"):
            bw = _BackwardHook(self, list(self._backward_hooks.values()),
                               list(self._backward_pre_hooks.values()))
            args = bw.setup_input_hook(args)
        post = d.get("_forward_hooks", _NO_HOOKS)
        if not (post or _hooks.module_forward_hooks):
            out = self.forward(*args, **kwargs)
            return out if bw is None else bw.setup_output_hook(out)
        post_kw = d.get("_forward_hooks_with_kwargs", _NO_HOOKS)
        always = d.get("_forward_hooks_always_called", _NO_HOOKS)
        hooks = [*_hooks.module_forward_hooks.items(), *post.items()]
        try:
            out = self.forward(*args, **kwargs)
        except Exception:
            for hid, hook in hooks:
                if hid in _global_forward_hooks_always_called or hid in always:
                    try:
                        _call_forward_hook(hook, hid, post_kw, self, args, kwargs, None)
                    except Exception as e:  # the forward's exception is the one to raise
                        warnings.warn(f"forward hook with always_call=True raised an "
                                      f"exception that was ignored: {e!r}", stacklevel=2)
            raise
        for hid, hook in hooks:
            r = _call_forward_hook(hook, hid, post_kw, self, args, kwargs, out)
            if r is not None:
                out = r
        return out if bw is None else bw.setup_output_hook(out)

    # ---- registration -------------------------------------------------------------------
    def __setattr__(self, name: str, value) -> None:
        # PyTorch's rules: a Parameter or Module value registers it (dropping whatever held
        # the name); a name already registered as a parameter/child/buffer only takes a value
        # of its kind or None (which stays registered, as None); anything else is a plain
        # attribute (allowed even before Module.__init__).
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, self._buffers, self._modules)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                "(torch.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, self._parameters, self._buffers)
            self._modules[name] = value  # an existing name keeps its place in the order
        elif params is not None and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' "
                                "(torch.nn.Module or None expected)")
            self._modules[name] = None
        elif params is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                "(torch.nn.Buffer, torch.Tensor or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str, *tables) -> None:
        """Drop ``name`` from the instance dict and the given registries (before it is
        registered as something else)."""
        self.__dict__.pop(name, None)
        for t in tables:
            t.pop(name, None)
            if t is self._buffers:
                self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name: str):
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            if key in d and name in d[key]:
                return d[key][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __dir__(self):
        """The attributes, with the parameters, buffers and children (as PyTorch lists them)."""
        keys = [*dir(type(self)), *self.__dict__, *self._parameters, *self._modules,
                *self._buffers]
        # drop the names that are not valid Python identifiers (a Sequential's "0"...)
        return sorted(k for k in keys if not k[0].isdigit())

    def __delattr__(self, name: str) -> None:
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (a Parameter or None) under ``name``."""
        _check_name(self, name, "parameter", "_parameters")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter "
                            f"'{name}' (torch.nn.Parameter or None required)")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True):
        """Register a Tensor (or None) that is state but not a parameter (e.g. BatchNorm's
        running mean): it follows ``.to()`` and, when ``persistent``, ``state_dict``."""
        _check_name(self, name, "buffer", "_buffers")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer "
                            f"'{name}' (torch Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` (a Module or None) as the child ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {_typename(name)}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name:
            raise KeyError(f'module name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError('module name can\'t be empty string ""')
        self._modules[name] = module

    register_module = add_module

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False):
        """Call ``hook(module, args, output)`` after every forward; a non-None return value
        replaces the output. Returns a handle with ``remove()``.

        Args:
            prepend: run it before this module's other forward hooks (global hooks still
                come first).
            with_kwargs: call it as ``hook(module, args, kwargs, output)``.
            always_call: also call it (with ``output=None``) when ``forward`` raises; the
                exception is then re-raised.
        """
        h = _add_hook(self, "_forward_hooks", hook, prepend)
        if with_kwargs:
            self.__dict__.setdefault("_forward_hooks_with_kwargs", {})[h.id] = True
        if always_call:
            self.__dict__.setdefault("_forward_hooks_always_called", {})[h.id] = True
        return h

    def register_forward_pre_hook(self, hook, *, prepend: bool = False,
                                  with_kwargs: bool = False):
        """Call ``hook(module, args)`` before every forward; a non-None return value
        replaces the positional arguments (a value that is not a tuple is wrapped in one).
        With ``with_kwargs`` it is called as ``hook(module, args, kwargs)`` and returns None
        or ``(new_args, new_kwargs)``. ``prepend`` runs it before this module's other
        pre-hooks. Returns a handle with ``remove()``."""
        h = _add_hook(self, "_forward_pre_hooks", hook, prepend)
        if with_kwargs:
            self.__dict__.setdefault("_forward_pre_hooks_with_kwargs", {})[h.id] = True
        return h

    def register_full_backward_hook(self, hook, prepend: bool = False):
        """Call ``hook(module, grad_input, grad_output)`` when the gradients with respect to
        the module's positional Tensor inputs have been computed (PyTorch's full backward
        hook). ``grad_input`` and ``grad_output`` are tuples with one entry per positional
        argument / output (None for non-Tensors and for inputs that need no gradient); a
        non-None return value replaces ``grad_input``. Returns a handle with ``remove()``.

        Example (Grad-CAM):
            >>> grads = {}
            >>> conv.register_full_backward_hook(lambda m, gi, go: grads.update(out=go[0]))
        """
        return _add_hook(self, "_backward_hooks", hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend: bool = False):
        """Call ``hook(module, grad_output)`` when the gradients with respect to the module's
        outputs have been computed, before they flow into it; a non-None return value
        replaces ``grad_output``. Returns a handle with ``remove()``."""
        return _add_hook(self, "_backward_pre_hooks", hook, prepend)

    def get_submodule(self, target: str) -> Module:
        """The submodule at the dotted path ``target`` ('' is the module itself)."""
        mod = self
        for item in target.split(".") if target else []:
            # Any attribute is followed (as PyTorch does), then checked to be a Module
            if not hasattr(mod, item):
                raise AttributeError(f"{type(mod).__name__} has no attribute `{item}`")
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return mod

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at the dotted path ``target``."""
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if not hasattr(mod, name):
            raise AttributeError(f"{type(mod).__name__} has no attribute `{name}`")
        if not isinstance(getattr(mod, name), Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return getattr(mod, name)

    def get_buffer(self, target: str):
        """The buffer at the dotted path ``target``."""
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if not hasattr(mod, name):
            raise AttributeError(f"{type(mod).__name__} has no attribute `{name}`")
        if name not in mod._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return mod._buffers[name]

    # ---- traversal ----------------------------------------------------------------------
    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        """``(name, module)`` for this module and every submodule; a module reached twice
        is yielded once unless ``remove_duplicate=False``."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is None:
                continue
            yield from m.named_modules(memo, prefix + ("." if prefix else "") + name,
                                       remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, members, prefix: str, recurse: bool, remove_duplicate: bool):
        """``(name, tensor)`` over ``members(module)`` of this module (and its submodules
        with ``recurse``): a tensor shared by several modules or names (tied weights) is
        yielded once, at its first name, unless ``remove_duplicate=False``, as PyTorch."""
        seen = set()
        mods = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                if recurse else [(prefix, self)])
        for mp, m in mods:
            for name, t in members(m):
                if t is None or id(t) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(t))
                yield mp + ("." if mp else "") + name, t

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True):
        yield from self._named_members(lambda m: m._parameters.items(), prefix, recurse,
                                       remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True):
        yield from self._named_members(lambda m: m._buffers.items(), prefix, recurse,
                                       remove_duplicate)

    def buffers(self, recurse: bool = True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ---- modes and utilities --------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        object.__setattr__(self, "training", mode)
        # Each child's own train() is called, so that a module overriding it (keeping its
        # BatchNorms in eval mode, say) is obeyed inside a parent's train()/eval()
        for m in self.children():
            m.train(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the parameters' gradients: to None (default), or, with
        ``set_to_none=False``, to zeros in place (the same ``.grad`` tensors, detached from
        any graph; +0 everywhere, even where they held -x, inf or NaN), as PyTorch."""
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.detach_()
                with no_grad():
                    p.grad.zero_()

    def apply(self, fn) -> Module:
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def to(self, *args, **kwargs) -> Module:
        """Move/cast parameters and buffers in place (Parameter objects keep their identity).
        A dtype, which must be floating or complex, casts only the floating and complex
        tensors."""
        dtype = kwargs.get("dtype")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif a is not None and _is_dtype(a):
                dtype = a
        if dtype is not None and dtypes.to_dtype(dtype).kind not in "fVc":
            raise TypeError("nn.Module.to only accepts floating point or complex dtypes, but "
                            f"got desired dtype={dtypes.dtype.of(dtypes.to_dtype(dtype))}")
        for m in self.modules():
            for p in m._parameters.values():
                if p is not None:
                    new = p.detach().to(*args, **kwargs) if _is_float(p) else \
                        p.detach().to(*[a for a in args if not _is_dtype(a)],
                                      device=kwargs.get("device"))
                    p._data = new._data
                    if p.grad is not None:
                        p.grad = p.grad.to(*args, **kwargs)
            for name, b in m._buffers.items():
                if b is not None:
                    dev_only = not _is_float(b)
                    m._buffers[name] = b.to(*[a for a in args if not (dev_only and
                                                                       _is_dtype(a))],
                                            **({} if not dev_only else
                                               {k: v for k, v in kwargs.items() if k != "dtype"}))
        return self

    def type(self, dst_type) -> Module:
        """Every parameter and buffer (integer ones too, unlike ``to``) cast to ``dst_type``
        (a dtype or a legacy name such as ``"torch.DoubleTensor"``)."""
        for m in self.modules():
            for p in m._parameters.values():
                if p is not None:
                    p._data = p.detach().type(dst_type)._data
                    if p.grad is not None:
                        p.grad = p.grad.type(dst_type)
            for name, b in m._buffers.items():
                if b is not None:
                    m._buffers[name] = b.type(dst_type)
        return self

    def cpu(self) -> Module:
        return self.to("cpu")

    def cuda(self, device=None) -> Module:
        return self.to("cuda" if device is None else f"cuda:{device}")

    def float(self) -> Module:
        return self.to("float32")

    def double(self) -> Module:
        return self.to("float64")

    def half(self) -> Module:
        """Floating parameters and buffers to float16."""
        return self.to("float16")

    def bfloat16(self) -> Module:
        """Floating parameters and buffers to bfloat16 (ml_dtypes)."""
        return self.to(bfloat16_dtype())

    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False):
        """An ordered dict name -> tensor of the parameters and persistent buffers, module by
        module (each module's parameters, then its buffers, then its children's), as PyTorch
        orders it; a tensor shared by two modules appears under both names."""
        out = OrderedDict() if destination is None else destination
        for name, p in self._parameters.items():
            if p is not None:
                out[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                out[prefix + name] = b if keep_vars else b.detach()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(out, prefix + name + ".", keep_vars)
        return out

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy tensors (or arrays, e.g. a PyTorch state_dict converted with ``.numpy()``) into
        the parameters and buffers by name; parameters keep their identity.

        With ``strict`` missing or unexpected keys raise; a shape mismatch always raises.
        Nothing is loaded when an error is raised. Returns (missing_keys, unexpected_keys).

        With ``assign=True`` (PyTorch's) the state dict's tensors themselves become the
        parameters and buffers, in their own dtype and sharing their memory, instead of being
        copied into the existing ones: a parameter is wrapped in a new ``Parameter`` (or, if it
        already is one, kept) with the ``requires_grad`` of the parameter it replaces. An
        optimizer built before then still holds the replaced parameters.
        """
        for name, m in self.named_modules():  # lazy modules materialise from the shapes
            hook = getattr(m, "_lazy_load_hook", None)
            if hook is not None:
                hook(state_dict, name + "." if name else "")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        for k in own:
            if k not in state_dict:
                continue
            src = state_dict[k]
            # NumPy (or CuPy) arrays are welcome here too
            if not (isinstance(src, Tensor) or isinstance(src, np.ndarray)
                    or backend.is_cupy_array(src)):
                errors.append(f'While copying the parameter named "{k}", expected torch.Tensor '
                              f"or Tensor-like object from checkpoint but received {type(src)}")
            elif tuple(src.shape) != tuple(own[k].shape):
                errors.append(f"size mismatch for {k}: copying a param with shape "
                              f"{Size(src.shape)} from checkpoint, the shape in current model "
                              f"is {Size(own[k].shape)}.")
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        if assign:
            self._assign_state(state_dict)
            return _IncompatibleKeys(missing, unexpected)
        with no_grad():
            for k, t in own.items():
                if k in state_dict:
                    src = state_dict[k]
                    arr = src._data if isinstance(src, Tensor) else src
                    t._data = _copy_like(arr, t)
                    t._vc[0] += 1
        return _IncompatibleKeys(missing, unexpected)

    def _assign_state(self, state_dict, prefix: str = "") -> None:
        """``load_state_dict(assign=True)``'s work, in ``state_dict()``'s walk: make each
        entry of ``state_dict`` found under this module's names its parameter or buffer."""
        for name, p in self._parameters.items():
            if p is not None and prefix + name in state_dict:
                src = state_dict[prefix + name]
                if isinstance(src, Parameter):
                    src.requires_grad_(p.requires_grad)
                else:
                    src = Parameter(src.detach() if isinstance(src, Tensor) else as_tensor(src),
                                    requires_grad=p.requires_grad)
                self._parameters[name] = src
        for name, b in self._buffers.items():
            if (b is not None and name not in self._non_persistent_buffers_set
                    and prefix + name in state_dict):
                src = state_dict[prefix + name]
                self._buffers[name] = src if isinstance(src, Tensor) else as_tensor(src)
        for name, m in self._modules.items():
            if m is not None:
                m._assign_state(state_dict, prefix + name + ".")

    # ---- printing -------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, m in self._modules.items():
            mr = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {mr}")
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        main = type(self).__name__ + "("
        if len(extra_lines) == 1 and not lines:
            return main + extra + ")"
        if not extra_lines and not lines:
            return main + ")"
        # A multi-line extra_repr goes one line each, indented as the children are
        return main + "\n  " + "\n  ".join(extra_lines + lines) + "\n)"


def _call_forward_hook(hook, hid, with_kwargs, module, args, kwargs, out):
    if hid in _global_forward_hooks_with_kwargs or hid in with_kwargs:
        return hook(module, args, kwargs, out)
    return hook(module, args, out)


def _add_hook(module, table: str, hook, prepend: bool) -> RemovableHandle:
    """Register ``hook`` in the module's hook dict ``table`` (created if the module's
    ``__init__`` did not run), first when ``prepend``."""
    d = module.__dict__.get(table)
    if d is None:
        d = OrderedDict()
        object.__setattr__(module, table, d)
    h = _hooks.add(d, hook)
    if prepend:
        d.move_to_end(h.id, last=False)
    return h


class BackwardHookFunction(Function):
    """Identity on the Tensors it is given: its node is where a module's full backward hooks
    see the gradients with respect to the module's inputs or outputs (PyTorch's)."""

    @staticmethod
    def forward(ctx, *tensors):
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return grads


class _BackwardHook:
    """One forward call's full backward hooks (PyTorch's ``torch.utils.hooks.BackwardHook``).

    The positional Tensor inputs and the outputs pass through ``BackwardHookFunction``. In
    backward, the outputs' node records ``grad_output`` (after the backward pre-hooks, which
    may replace it); the inputs' node then calls the hooks with ``grad_input``, which they
    may replace. When no input requires grad, the hooks run at the outputs' node with
    ``grad_input`` all None."""

    def __init__(self, module, user_hooks, user_pre_hooks):
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs = None
        self.n_inputs = self.n_outputs = 0
        self.input_tensors_index = self.output_tensors_index = None
        self.input_requires_grad = ()

    @staticmethod
    def _pack_with_none(indices, values, size):
        res = [None] * size
        for i, v in zip(indices, values):
            res[i] = v
        return tuple(res)

    @staticmethod
    def _apply_on_tensors(args):
        """``args`` with its Tensors passed through ``BackwardHookFunction`` (those that need
        no gradient are kept as they are), the node, and the Tensors' indices; ``args``
        unchanged with no node when no gradient is recorded."""
        idx = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        tensors = [args[i] for i in idx]
        if not (state.enabled and any(t.requires_grad for t in tensors)):
            return args, None, None
        new = BackwardHookFunction.apply(*tensors)
        out = list(args)
        node = None
        for i, t, n in zip(idx, tensors, new):
            if t.requires_grad:
                out[i] = n
                node = n.grad_fn
        return tuple(out), node, idx

    def setup_input_hook(self, args):
        res, node, idx = self._apply_on_tensors(args)
        self.n_inputs = len(args)
        self.input_tensors_index = idx
        if node is None:
            return res
        rg = [args[i].requires_grad for i in idx]

        def hook(grad_inputs, _):
            if self.grad_outputs is None:  # the gradient did not come through the outputs
                return None
            grads = [g if r else None for g, r in zip(grad_inputs, rg)]
            res = self._pack_with_none(idx, grads, self.n_inputs)
            for user_hook in self.user_hooks:
                out = user_hook(self.module, res, self.grad_outputs)
                if out is None:
                    continue
                if len(out) != len(res):
                    raise RuntimeError(f"Backward hook returned an invalid number of "
                                       f"grad_input, got {len(out)}, but expected {len(res)}")
                res = out
            self.grad_outputs = None
            return tuple(res[i] for i in idx)

        node.register_hook(hook)
        return res

    def setup_output_hook(self, out):
        is_tuple = isinstance(out, tuple)
        args = out if is_tuple else (out,)
        res, node, idx = self._apply_on_tensors(args)
        self.n_outputs = len(args)
        self.output_tensors_index = idx
        if node is None:
            return out

        def hook(_, grad_outputs):
            self.grad_outputs = self._pack_with_none(idx, grad_outputs, self.n_outputs)
            for user_pre_hook in self.user_pre_hooks:
                r = user_pre_hook(self.module, self.grad_outputs)
                if r is None:
                    continue
                if len(r) != len(self.grad_outputs):
                    raise RuntimeError(f"Backward pre hook returned an invalid number of "
                                       f"grad_output, got {len(r)}, but expected "
                                       f"{len(self.grad_outputs)}")
                self.grad_outputs = r
            local = self.grad_outputs
            if self.input_tensors_index is None:  # no input requires grad: call them here
                warnings.warn(
                    "Full backward hook is firing when gradients are computed with respect to "
                    "module outputs since no inputs require gradients. See https://docs."
                    "pytorch.org/docs/main/generated/torch.nn.Module.html#torch.nn.Module."
                    "register_full_backward_hook for more details.",
                    stacklevel=7)  # the user's .backward() line, as PyTorch's points to
                grad_inputs = (None,) * self.n_inputs
                for user_hook in self.user_hooks:
                    r = user_hook(self.module, grad_inputs, self.grad_outputs)
                    if r is not None and not (isinstance(r, tuple)
                                              and all(g is None for g in r)):
                        raise RuntimeError(
                            "Backward hook for Modules where no input requires gradient "
                            "should always return None or None for all gradients.")
                self.grad_outputs = None
            return tuple(local[i] for i in idx)

        node.register_hook(hook)
        return res if is_tuple else res[0]


def _is_dtype(a) -> bool:
    if isinstance(a, backend.Device):
        return False
    s = str(a)
    return not (s == "cpu" or s.startswith("cuda"))


def _is_float(t) -> bool:
    """Whether ``Module.to`` casts ``t`` to the dtype asked for (PyTorch: floating or complex)."""
    return t.is_floating_point() or t.is_complex()


def _copy_like(arr, t):
    out = backend.to_device(backend.to_numpy(arr) if t.device.type == "cpu" else arr, t.device)
    return out.astype(t.dtype, copy=True)


def _check_name(module, name, kind: str, table: str) -> None:
    """PyTorch's checks of a parameter or buffer name (``kind``) registered in ``table``."""
    if table not in module.__dict__:
        raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {_typename(name)}")
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain "."')
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')
    if hasattr(module, name) and name not in module.__dict__[table]:
        raise KeyError(f"attribute '{name}' already exists")


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: ``(missing_keys, unexpected_keys)``."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (f"_IncompatibleKeys(missing_keys={self.missing_keys}, "
                f"unexpected_keys={self.unexpected_keys})")
