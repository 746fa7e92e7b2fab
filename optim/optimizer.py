"""``Optimizer``: parameter groups, per-parameter state, state_dict round trips.

Each optimizer file follows one pattern: a pure update function on raw NumPy/CuPy arrays
(``sgd``, ``adam``, ``rmsprop``...) that writes the parameter arrays in place, and an
``Optimizer`` subclass whose ``step`` gathers the arrays of one parameter group, creates missing
state lazily with the parameter's array module, calls that function under ``no_grad`` and bumps
each parameter's version counter.
"""

from __future__ import annotations

import numbers

import numpy as np

from autograd import backend
from autograd.grad_mode import enable_grad
from autograd.tensor import Tensor


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

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        self.state: dict = {}
        self.param_groups: list[dict] = []
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params argument given to the optimizer should be an "
                "iterable of Tensors or dicts, but got a Tensor"
            )
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, group: dict) -> None:
        group = dict(group)
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{type(self).__name__} can only optimize Tensors, got {type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"{type(self).__name__}: can't optimize a non-leaf Tensor (shape "
                    f"{list(p.shape)}, grad_fn={p.grad_fn.name()}); optimize the leaf it "
                    "was computed from, or detach().requires_grad_() a copy"
                )
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        group["params"] = params
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for g in self.param_groups:
            for p in g["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad._data[...] = 0

    def step(self, closure=None):
        raise NotImplementedError

    @staticmethod
    def _closure_loss(closure):
        """Re-evaluate the model with gradients enabled (``step(closure)``), or None."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

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
                if p in self.state:
                    state[index[id(p)]] = {k: _export(k, v) for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
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
                if k == "step":
                    new[k] = float(v.item() if hasattr(v, "item") else v)
                elif isinstance(v, Tensor) or hasattr(v, "shape"):
                    arr = v._data if isinstance(v, Tensor) else v
                    arr = backend.to_device(arr, p.device)
                    if arr.dtype.kind == "f":
                        arr = arr.astype(p.dtype)
                    new[k] = arr.copy()
                else:
                    new[k] = v
            state[p] = new
        self.state = state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        return "\n".join(lines) + "\n)"


def _export(key: str, v):
    """A state entry as it appears in ``state_dict()``: arrays become (copied) Tensors and
    'step' a 0-d float32 Tensor, as in PyTorch."""
    if key == "step" and isinstance(v, numbers.Number):
        return Tensor(np.array(v, dtype=np.float32))
    if hasattr(v, "shape") and not isinstance(v, Tensor):
        return Tensor(v)
    return v
