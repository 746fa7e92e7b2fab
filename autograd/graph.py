"""The live graph as PyTorch's ``torch.autograd.graph`` shows it: saved-tensor hooks, offloading
saved arrays to the host, and a memory report of what a graph holds.

Saved-tensor hooks
------------------
Ops keep the arrays their backward needs with ``ctx.save_for_backward``. Inside
``saved_tensors_hooks(pack, unpack)`` every array an op saves is handed to ``pack`` (as a
Tensor) right when the op is recorded, and the node keeps whatever ``pack`` returns; the
backward pass (or anything reading ``ctx.saved_tensors``) gets ``unpack(packed)`` back.
The hooks are per thread, as PyTorch's are, and nest (the innermost pair applies). With no
hooks active an op pays one thread-local read. ``save_on_cpu()`` is the classic use: GPU
activations wait in host memory until backward needs them.

Memory report
-------------
``memory_report(loss)`` walks the graph behind ``loss`` and adds up the bytes of the arrays
its nodes hold for backward (saved arrays and arrays kept as ctx attributes, each array
counted once), per op type, per module (innermost ``nn.Module`` call whose output the op
fed, found through the module calls that ``autograd.viz`` notes for every forward) and in
total: ``print(report)`` or ``report.as_dict()``. It is what shows how much activation
checkpointing (``autograd.utils.checkpoint``) saves.
"""

from __future__ import annotations

import threading

import numpy as np

from . import backend
from .function import AccumulateGrad, Node, _NotPacked
from .grad_mode import state
from .tensor import Tensor, _make
from .viz import _module_calls

__all__ = ["Node", "saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks",
           "memory_report", "MemoryReport", "register_multi_grad_hook"]


class saved_tensors_hooks:
    """Context manager: ops recorded inside it pack their saved arrays with ``pack_hook``
    and backward unpacks them with ``unpack_hook`` (PyTorch's
    ``torch.autograd.graph.saved_tensors_hooks``).

    Args:
        pack_hook: ``pack(tensor) -> anything``, called once per saved array when the op is
            recorded. It must not modify the tensor in place.
        unpack_hook: ``unpack(packed) -> tensor``, called every time backward reads the saved
            array; it must return a tensor with the same value as the one given to ``pack``.

    Example:
        >>> with saved_tensors_hooks(lambda t: t.numpy().copy(), ag.tensor):
        ...     y = (x * x).sum()
    """

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        if state.saved_hooks is None:
            raise RuntimeError(_DISABLED_MSG.format(msg=_disabled_msg.get()))
        state.saved_hooks = state.saved_hooks + ((self.pack_hook, self.unpack_hook),)
        return self

    def __exit__(self, *exc):
        state.saved_hooks = state.saved_hooks[:-1]
        return False


_DISABLED_MSG = "saved_tensors_hooks are disabled here: {msg}"


class _DisabledMsg(threading.local):
    value = ""

    def get(self) -> str:
        return self.value


_disabled_msg = _DisabledMsg()


class disable_saved_tensors_hooks:
    """Context manager: entering ``saved_tensors_hooks`` inside it raises with
    ``error_message``; hooks already active are suspended while it is open."""

    def __init__(self, error_message: str = "saved tensors default hooks are disabled"):
        self.error_message = error_message

    def __enter__(self):
        self.prev = state.saved_hooks, _disabled_msg.value
        state.saved_hooks = None
        _disabled_msg.value = self.error_message
        return self

    def __exit__(self, *exc):
        state.saved_hooks, _disabled_msg.value = self.prev
        return False


class save_on_cpu(saved_tensors_hooks):
    """Saved arrays of GPU ops wait in host memory until backward copies them back
    (PyTorch's ``torch.autograd.graph.save_on_cpu``). Arrays already on the CPU are kept
    as they are.

    Args:
        pin_memory: copy into page-locked host memory (faster transfers back, CuPy only).
    """

    def __init__(self, pin_memory: bool = False):
        def pack(t):
            a = t._data
            if a.__class__ is np.ndarray:
                return (None, a)
            dev = backend.device_of(a)
            if pin_memory:
                host = _pinned_copy(a)
            else:
                host = backend.to_numpy(a)
            return (dev, host)

        def unpack(p):
            dev, host = p
            if dev is None:
                return _make(host)
            return _make(backend.to_device(host, dev))

        super().__init__(pack, unpack)


def _pinned_copy(a):
    cp = backend.require_cupy()
    mem = cp.cuda.alloc_pinned_memory(a.nbytes)
    host = np.frombuffer(mem, a.dtype, a.size).reshape(a.shape)
    a.get(out=host)
    return host


# ---------------------------------------------------------------------------------------
# multi-grad hook (PyTorch's torch.autograd.graph.register_multi_grad_hook, mode "all")
# ---------------------------------------------------------------------------------------

def register_multi_grad_hook(tensors, fn):
    """Call ``fn(grads)`` once the gradients of all ``tensors`` reached by a backward pass
    are computed (None for those not reached). Returns a handle with ``remove()``."""
    tensors = list(tensors)
    pending = {}

    def make(i):
        def hook(g):
            pending[i] = g
            if len(pending) == len(tensors):
                grads = [pending.get(k) for k in range(len(tensors))]
                pending.clear()
                fn(grads)
            return None
        return hook

    handles = [t.register_hook(make(i)) for i, t in enumerate(tensors)]
    return _MultiHandle(handles)


class _MultiHandle:
    def __init__(self, handles):
        self.handles = handles

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


# ---------------------------------------------------------------------------------------
# memory report
# ---------------------------------------------------------------------------------------

_NODE_SKIP = {"next_edges", "_saved_idx", "_versions", "_lock", "_post", "_out_meta",
              "_cg_inputs", "_oshape", "_stack", "_unpack"}


def _arrays_in(obj, out, depth=0):
    """Collect the arrays (NumPy/CuPy, or Tensors' arrays) inside a saved value."""
    if obj is None or depth > 3:
        return
    c = obj.__class__
    if c is np.ndarray or (hasattr(obj, "__cuda_array_interface__") and hasattr(obj, "nbytes")):
        out.append(obj)
    elif isinstance(obj, Tensor):
        out.append(obj._data)
    elif c is _NotPacked:
        _arrays_in(obj.value, out, depth + 1)
    elif c is tuple or c is list:
        for o in obj:
            _arrays_in(o, out, depth + 1)
    elif c is dict:
        for o in obj.values():
            _arrays_in(o, out, depth + 1)


def _node_arrays(node) -> list:
    out = []
    _arrays_in(node.saved, out)
    d = getattr(node, "__dict__", None)
    if d:
        for k, v in d.items():
            if k not in _NODE_SKIP and k != "saved":
                _arrays_in(v, out)
    return out


def _walk(roots, leaves=None) -> list:
    """Every node reachable from ``roots`` (AccumulateGrad nodes excluded), iteratively;
    the leaves' arrays go into ``leaves`` (id -> array)."""
    seen = set()
    order = []
    stack = [r for r in roots if r is not None]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        if n.__class__ is not AccumulateGrad:
            order.append(n)
        elif leaves is not None:
            leaves[id(n.variable._data)] = n.variable._data
        for e in n.next_edges:
            if e is not None and e[0] not in seen:
                stack.append(e[0])
    return order


def _module_of(nodes, names) -> dict:
    """node -> module name, the innermost module call whose output the node fed."""
    live = set(nodes)
    calls = []
    for n in nodes:
        mc = _module_calls.get(n)
        if mc is None:
            continue
        module, bounds = mc
        stop = {id(b) for b in bounds}
        sub = []
        seen = set()
        stack = [n]
        while stack:
            m = stack.pop()
            if m in seen or id(m) in stop or m not in live:
                continue
            seen.add(m)
            sub.append(m)
            for e in m.next_edges:
                if e is not None:
                    stack.append(e[0])
        calls.append((len(sub), module, sub))
    calls.sort(key=lambda c: c[0])
    owner = {}
    counts = {}
    for _, module, sub in calls:
        name = names.get(id(module))
        if name is None:
            base = type(module).__name__
            counts[base] = counts.get(base, 0) + 1
            name = names[id(module)] = f"{base}#{counts[base]}"
        for m in sub:
            owner.setdefault(m, name)
    return owner


class MemoryReport:
    """Bytes held for backward by the live graph behind some tensors.

    Attributes:
        total: bytes of all arrays the nodes hold (each array counted once).
        by_op: ``{op name: bytes}``; by_module: ``{module name: bytes}`` (``"-"`` for ops
            outside any module call); nodes: how many nodes the graph has;
            by_device: ``{device: bytes}``; leaf_bytes: bytes of the leaves the graph uses
            (parameters), which nodes may also hold but which are not counted above.
    """

    def __init__(self, total, by_op, by_module, nodes, by_device, leaf_bytes=0):
        self.leaf_bytes = leaf_bytes
        self.total = total
        self.by_op = by_op
        self.by_module = by_module
        self.nodes = nodes
        self.by_device = by_device

    def as_dict(self) -> dict:
        return {"total_bytes": self.total, "nodes": self.nodes, "by_op": dict(self.by_op),
                "by_module": dict(self.by_module), "by_device": dict(self.by_device),
                "leaf_bytes": self.leaf_bytes}

    max_rows = 12  # rows per table in str(); the rest is summed into one line

    def __str__(self) -> str:
        lines = [f"saved for backward: {_fmt(self.total)} in {self.nodes} nodes "
                 f"(leaves/parameters, not counted: {_fmt(self.leaf_bytes)})"]
        for title, table in (("by op", self.by_op), ("by module", self.by_module)):
            if not table:
                continue
            lines.append(f"  {title}:")
            items = sorted(table.items(), key=lambda kv: -kv[1])
            shown, rest = items[:self.max_rows], items[self.max_rows:]
            width = max([len(k) for k, _ in shown] + [len(f"({len(rest)} more)")] * bool(rest))
            for k, v in shown:
                pct = 100.0 * v / self.total if self.total else 0.0
                lines.append(f"    {k:<{width}}  {_fmt(v):>10}  {pct:5.1f}%")
            if rest:
                v = sum(b for _, b in rest)
                pct = 100.0 * v / self.total if self.total else 0.0
                lines.append(f"    {f'({len(rest)} more)':<{width}}  {_fmt(v):>10}  {pct:5.1f}%")
        return "\n".join(lines)

    __repr__ = __str__


def _fmt(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024.0
    return str(n)  # pragma: no cover


def memory_report(tensors, model=None, depth=None) -> MemoryReport:
    """Report the bytes held by the saved arrays of the graph behind ``tensors``.

    Args:
        tensors: a tensor (e.g. the loss) or a list of tensors.
        model: optional ``nn.Module`` whose ``named_modules()`` names the modules (otherwise
            modules are named by class, ``Linear#3``).
        depth: with ``model``, group modules by the first ``depth`` parts of their dotted
            names (``depth=1``: ``"3.1"`` counts for ``"3"``).

    Returns:
        A ``MemoryReport``: ``total``, ``by_op``, ``by_module``, ``by_device``; ``str()`` of it
        is a table, ``as_dict()`` a plain dict.
    """
    if isinstance(tensors, (Tensor, Node)):
        tensors = [tensors]
    roots = [t if isinstance(t, Node) else t.grad_fn for t in tensors]
    leaves = {}
    nodes = _walk(roots, leaves)
    names = {}
    if model is not None:
        names = {id(m): (n or type(m).__name__) for n, m in model.named_modules()}
    owner = _module_of(nodes, names)
    seen = set(leaves)  # parameters are not what the graph adds: counted apart
    params = sum(int(a.nbytes) for a in leaves.values())
    total = 0
    by_op, by_module, by_device = {}, {}, {}
    for n in reversed(nodes):  # roughly forward order: an array counts for its first saver
        size = 0
        for a in _node_arrays(n):
            if id(a) in seen:
                continue
            seen.add(id(a))
            b = int(a.nbytes)
            size += b
            dev = str(backend.device_of(a)) if a.__class__ is not np.ndarray else "cpu"
            by_device[dev] = by_device.get(dev, 0) + b
        total += size
        op = n._op_name()
        by_op[op] = by_op.get(op, 0) + size
        mod = owner.get(n, "-")
        if depth is not None and mod != "-":
            mod = ".".join(mod.split(".")[:depth])
        by_module[mod] = by_module.get(mod, 0) + size
    return MemoryReport(total, by_op, by_module, len(nodes), by_device, params)
