"""``Optimizer``: parameter groups, per-parameter state, state_dict round trips.

Each optimizer file follows one pattern: a pure update function on raw NumPy/CuPy arrays
(``sgd``, ``adam``, ``rmsprop``...) that writes the parameter arrays in place, and an
``Optimizer`` subclass whose ``step`` gathers the arrays of one parameter group, creates missing
state lazily with the parameter's array module, calls that function under ``no_grad`` and bumps
each parameter's version counter.
"""

from __future__ import annotations

import numbers
import warnings
from collections import OrderedDict
from collections.abc import MutableMapping

import numpy as np

from autograd import backend, hooks
from autograd.backend import get_array_module
from autograd.dtypes import get_default_dtype
from autograd.grad_mode import enable_grad
from autograd.settings import typename
from autograd.tensor import Tensor, as_tensor, tensor

# process-wide step hooks (PyTorch's ``torch.optim.optimizer.register_optimizer_step_*_hook``)
_global_step_pre_hooks: OrderedDict = OrderedDict()
_global_step_post_hooks: OrderedDict = OrderedDict()


def register_optimizer_step_pre_hook(hook) -> hooks.RemovableHandle:
    """Run ``hook(optimizer, args, kwargs)`` before every optimizer's ``step``; it may return
    ``(new_args, new_kwargs)``.

    Example:
        >>> h = optim.optimizer.register_optimizer_step_pre_hook(lambda o, a, k: None)
        >>> h.remove()
    """
    return hooks.add(_global_step_pre_hooks, hook)


def register_optimizer_step_post_hook(hook) -> hooks.RemovableHandle:
    """Run ``hook(optimizer, args, kwargs)`` after every optimizer's ``step``.

    Example:
        >>> h = optim.optimizer.register_optimizer_step_post_hook(lambda o, a, k: None)
        >>> h.remove()
    """
    return hooks.add(_global_step_post_hooks, hook)


def _scalar_dtype():
    """PyTorch's ``_get_scalar_dtype()``: scalar state (``step``, ``mu_product``...) is float64
    when the default dtype is float64, else float32."""
    return np.float64 if get_default_dtype() == np.float64 else np.float32


def _hooked_step(step):
    """Wrap a subclass's ``step`` so that the step pre- and post-hooks run around it (once,
    even when an overriding ``step`` calls ``super().step()``)."""

    def wrapper(self, *args, **kwargs):
        if getattr(self, "_in_step", False):
            return step(self, *args, **kwargs)
        for hook in (*_global_step_pre_hooks.values(), *self._optimizer_step_pre_hooks.values()):
            out = hook(self, args, kwargs)
            if out is not None:
                if not (isinstance(out, tuple) and len(out) == 2):
                    raise RuntimeError(
                        "optimizer step pre-hook must return None or a tuple of "
                        f"(new_args, new_kwargs), but got {out}."
                    )
                args, kwargs = out
        self._in_step = True
        try:
            result = step(self, *args, **kwargs)
        finally:
            self._in_step = False
        self._opt_called = True
        for hook in (*self._optimizer_step_post_hooks.values(),
                     *_global_step_post_hooks.values()):
            hook(self, args, kwargs)
        return result

    wrapper.__wrapped__ = step
    wrapper.__name__ = step.__name__
    wrapper.__qualname__ = getattr(step, "__qualname__", step.__name__)
    wrapper.__doc__ = step.__doc__
    wrapper._hooked = True
    return wrapper


def _writable(p):
    """The parameter's array, made writeable if a graph had locked it (the version counter
    bumped by the caller keeps that graph honest)."""
    a = p._data
    if type(a) is np.ndarray and not a.flags.writeable:  # CuPy arrays have no such flag
        backend.unlock(a)
    return a


def _bump(params) -> None:
    """Record an in-place update of each parameter: copies saved by a graph are now stale."""
    for p in params:
        p._vc[0] += 1


def _check(ok: bool, what: str, value) -> None:
    if not ok:
        raise ValueError(f"Invalid {what}: {value}")


def _check_kernels(foreach, fused, differentiable=False) -> None:
    """PyTorch's checks on the kernel switches (which otherwise have no effect here)."""
    if fused and foreach:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
    if fused and differentiable:
        raise RuntimeError("`fused` does not support `differentiable`")


class Optimizer:
    """Base class: keeps ``param_groups`` (dicts with 'params' and hyper-parameters) and
    ``state[p]`` (created lazily, on the parameter's device).

    Args:
        params: an iterable of Tensors, or of dicts defining parameter groups.
        defaults: default hyper-parameters for groups that do not set them.

    Example:
        >>> opt = optim.Adam([{"params": model.fc1.parameters()},
        ...                   {"params": model.fc2.parameters(), "lr": 1e-4}], lr=1e-3)
        >>> opt.zero_grad(); loss.backward(); opt.step()
        >>> sd = opt.state_dict()  # {"state": {0: {...}, ...}, "param_groups": [...]}
        >>> opt.load_state_dict(sd)
    """

    # state entries kept as Python floats here and saved as 0-d tensors of the scalar dtype
    _scalar_state: tuple = ("step",)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_hooked", False):
            cls.step = _hooked_step(step)

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        self._st: dict = {}  # param -> {name: array or number}: what the updates use
        self.param_groups: list[dict] = []
        self._optimizer_step_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_post_hooks: OrderedDict = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                "dicts, but got " + typename(params)
            )
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, group: dict) -> None:
        """Add a parameter group (a dict with 'params' and optional hyper-parameters; missing
        ones come from ``defaults``). ``params`` may hold ``(name, tensor)`` pairs, whose
        names are kept in the group's 'param_names' as in PyTorch."""
        if not isinstance(group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(group).__name__}")
        group = dict(group)
        params = group["params"]
        if isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        params = [params] if isinstance(params, Tensor) else list(params)
        named = bool(params) and all(isinstance(p, tuple) and len(p) == 2 for p in params)
        if named:
            group["param_names"] = [n for n, _ in params]
            params = [p for _, p in params]
        if self.param_groups and ("param_names" in self.param_groups[0]) != named:
            raise ValueError("all optimizer param groups should be with/without names.")
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is "
                    + typename(p)
                )
            if not p.is_leaf:
                raise ValueError(
                    f"{type(self).__name__}: can't optimize a non-leaf Tensor (shape "
                    f"{list(p.shape)}, grad_fn={p.grad_fn.name()}); optimize the leaf it "
                    "was computed from, or detach().requires_grad_() a copy"
                )
        if len({id(p) for p in params}) != len(params):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        group["params"] = params
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        self.param_groups.append(group)

    # ---- hooks (PyTorch's Optimizer.register_*_hook) ----
    def register_step_pre_hook(self, hook) -> hooks.RemovableHandle:
        """Run ``hook(optimizer, args, kwargs)`` before ``step``; it may return
        ``(new_args, new_kwargs)`` to replace the arguments.

        Example:
            >>> h = opt.register_step_pre_hook(lambda o, args, kwargs: None)
            >>> h.remove()
        """
        return hooks.add(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook) -> hooks.RemovableHandle:
        """Run ``hook(optimizer, args, kwargs)`` after ``step``.

        Example:
            >>> h = opt.register_step_post_hook(lambda o, args, kwargs: None)
        """
        return hooks.add(self._optimizer_step_post_hooks, hook)

    @staticmethod
    def _add(table, hook, prepend: bool) -> hooks.RemovableHandle:
        h = hooks.add(table, hook)
        if prepend:
            table.move_to_end(h.id, last=False)
        return h

    def register_state_dict_pre_hook(self, hook, prepend: bool = False):
        """Run ``hook(optimizer)`` before ``state_dict`` builds its result.

        Example:
            >>> h = opt.register_state_dict_pre_hook(lambda o: None)
        """
        return self._add(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend: bool = False):
        """Run ``hook(optimizer, state_dict)`` on the result of ``state_dict``; a returned
        dict replaces it.

        Example:
            >>> h = opt.register_state_dict_post_hook(lambda o, sd: None)
        """
        return self._add(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend: bool = False):
        """Run ``hook(optimizer, state_dict)`` before ``load_state_dict``; a returned dict is
        loaded instead.

        Example:
            >>> h = opt.register_load_state_dict_pre_hook(lambda o, sd: None)
        """
        return self._add(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend: bool = False):
        """Run ``hook(optimizer)`` after ``load_state_dict``.

        Example:
            >>> h = opt.register_load_state_dict_post_hook(lambda o: None)
        """
        return self._add(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to None (default, as in PyTorch), or to
        zeros in place with ``set_to_none=False``."""
        for g in self.param_groups:
            for p in g["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad._data[...] = 0

    @property
    def state(self) -> _State:
        """Per-parameter state as PyTorch shows it: ``state[p]`` is a dict-like of the
        parameter's buffers as Tensors (``exp_avg``, ``momentum_buffer``...: they share memory
        with what the updates use, so in-place changes count, and a Tensor stored there, e.g.
        moved to another device, is used from then on) and of its counters (``step``: a
        Python float here, a 0-d Tensor in PyTorch); ``{}`` for a parameter without state
        yet, as PyTorch's defaultdict."""
        return _State(self._st)

    @state.setter
    def state(self, value) -> None:
        self._st = {p: {k: _kept(v) for k, v in dict(st).items()} for p, st in value.items()}

    def step(self, closure=None):
        raise NotImplementedError

    @staticmethod
    def _closure_loss(closure):
        """Re-evaluate the model with gradients enabled (``step(closure)``), or None."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def _zeros_state(self, p, *names) -> dict:
        """``self._st[p]``, made on first use as ``{"step": 0.0, name: zeros_like(p)...}``."""
        st = self._st.get(p)
        if not st:
            zeros = get_array_module(p._data).zeros_like
            st = self._st[p] = {"step": 0.0, **{n: zeros(p._data) for n in names}}
        return st

    def _stepped_groups(self):
        """``(group, params, grads, states)`` for each group with gradients, each state's
        ``step`` advanced by one (``self._state(p, group)`` makes a missing state)."""
        for g in self.param_groups:
            ps, gs = self._with_grads(g)
            if not ps:
                continue
            sts = [self._state(p, g) for p in ps]
            for st in sts:
                st["step"] += 1
            yield g, ps, gs, sts

    @staticmethod
    def _with_grads(group: dict):
        """The parameters of ``group`` that have a gradient, and those gradients' arrays."""
        ps, gs = [], []
        for p in group["params"]:
            if p.grad is not None:
                ps.append(p)
                gs.append(p.grad._data)
        return ps, gs

    def state_dict(self) -> dict:
        """``{"state": {index: {name: value}}, "param_groups": [{..., "params": [index]}]}``,
        PyTorch's layout: parameters are numbered in group order, arrays become Tensors and
        scalar state (``step``...) 0-d Tensors."""
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        index = {}
        groups = []
        for g in self.param_groups:
            ids = []
            for p in g["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in g.items() if k != "params"}, "params": ids})
        state = {}
        for g in self.param_groups:
            for p in g["params"]:
                if p in self._st:
                    state[index[id(p)]] = {k: _export(k, v, self._scalar_state)
                                           for k, v in self._st[p].items()}
        sd = {"state": state, "param_groups": groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            out = hook(self, sd)
            if out is not None:
                sd = out
        return sd

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a dict from ``state_dict`` (ours or PyTorch's): hyper-parameters and state,
        moved to each parameter's device and cast to its floating dtype."""
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            out = hook(self, state_dict)
            if out is not None:
                state_dict = out
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError("an optimizer state dict has the keys 'state' and 'param_groups'")
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        params = [p for g in self.param_groups for p in g["params"]]
        for g, sg in zip(self.param_groups, groups):
            if len(g["params"]) != len(sg["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size "
                    "of optimizer's group"
                )
        for i in state_dict["state"]:
            if not 0 <= int(i) < len(params):
                raise ValueError(
                    f"loaded state dict has state for parameter {i}, but the optimizer has only "
                    f"{len(params)} parameters"
                )
        for g, sg in zip(self.param_groups, groups):  # nothing is changed until all checks pass
            for k, v in sg.items():
                if k != "params":
                    g[k] = list(v) if isinstance(v, list) else v
        state = {}
        for i, st in state_dict["state"].items():
            p = params[int(i)]
            new = {}
            for k, v in st.items():
                if k in self._scalar_state:
                    new[k] = float(v.item() if hasattr(v, "item") else v)
                else:
                    new[k] = _import(v, p)
            state[p] = new
        self._st = state
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)

    def __repr__(self) -> str:
        """PyTorch's layout: each group's hyper-parameters in sorted order, the groups
        separated by a blank line."""
        groups = []
        for i, g in enumerate(self.param_groups):
            lines = [f"Parameter Group {i}"]
            lines += [f"    {k}: {g[k]}" for k in sorted(g) if k != "params"]
            groups.append("\n".join(lines))
        return f"{type(self).__name__} (\n" + "\n\n".join(groups) + "\n)"


def _shown(v):
    """A state entry as users see it: arrays as Tensors sharing their memory (lists, as
    LBFGS's history, element by element); anything else as stored."""
    if isinstance(v, list):
        return [_shown(x) for x in v]
    if hasattr(v, "shape") and hasattr(v, "dtype") and not isinstance(v, Tensor):
        return as_tensor(v)
    return v


def _kept(v):
    """A state entry a user stores, as the updates use it: a Tensor's array (the same
    memory), lists element by element, anything else as given."""
    if isinstance(v, list):
        return [_kept(x) for x in v]
    return v._data if isinstance(v, Tensor) else v


class _ParamState(MutableMapping):
    """One parameter's state (``optimizer.state[p]``): reads give Tensors over the stored
    arrays, writes store a Tensor's array (see ``Optimizer.state``)."""

    __slots__ = ("_d",)

    def __init__(self, d: dict):
        self._d = d

    def __getitem__(self, k):
        return _shown(self._d[k])

    def __setitem__(self, k, v) -> None:
        self._d[k] = _kept(v)

    def __delitem__(self, k) -> None:
        del self._d[k]

    def __iter__(self):
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __repr__(self) -> str:
        return repr(dict(self.items()))


class _State(MutableMapping):
    """``optimizer.state``: parameter -> ``_ParamState``, made (empty) on first access as
    PyTorch's ``defaultdict(dict)``; ``get``, ``in`` and iteration see only what exists."""

    __slots__ = ("_st",)

    def __init__(self, st: dict):
        self._st = st

    def __getitem__(self, p) -> _ParamState:
        d = self._st.get(p)
        if d is None:
            d = self._st[p] = {}
        return _ParamState(d)

    def get(self, p, default=None):
        d = self._st.get(p)
        return default if d is None else _ParamState(d)

    def __contains__(self, p) -> bool:
        return p in self._st

    def __setitem__(self, p, v) -> None:
        self._st[p] = {k: _kept(x) for k, x in dict(v).items()}

    def __delitem__(self, p) -> None:
        del self._st[p]

    def __iter__(self):
        return iter(self._st)

    def __len__(self) -> int:
        return len(self._st)

    def __repr__(self) -> str:
        return repr(dict(self.items()))


def _export(key: str, v, scalar_keys=("step",)):
    """A state entry as it appears in ``state_dict()``: arrays become (copied) Tensors (also
    inside lists, as LBFGS's history) and scalar state ('step'...) a 0-d Tensor of the
    scalar dtype (float32), as in PyTorch."""
    if key in scalar_keys and isinstance(v, numbers.Number):
        return as_tensor(np.array(v, dtype=_scalar_dtype()))
    if hasattr(v, "shape") and not isinstance(v, Tensor):
        return tensor(v)
    if isinstance(v, list):
        return [_export(None, x) for x in v]
    return v


def _import(v, p):
    """A loaded state entry as this optimizer keeps it: Tensors (ours or PyTorch's) and arrays
    become arrays on ``p``'s device, floating ones in ``p``'s dtype; lists are converted
    element by element."""
    if isinstance(v, Tensor) or hasattr(v, "shape"):
        arr = v._data if isinstance(v, Tensor) else v
        arr = backend.to_device(arr, p.device)
        if arr.dtype.kind in "fV":
            arr = arr.astype(p.dtype)
        return arr.copy()
    if isinstance(v, list):
        return [_import(x, p) for x in v]
    return v
