"""The backward sweep.

``backward()`` and ``grad()`` walk the recorded graph in reverse topological order without
recursion: one iterative depth-first pass counts, for every node, how many edges point at it
(its dependencies); then Kahn's algorithm runs a node once all its dependents have handed it
their gradients. Gradients arriving at a node from several paths are summed out of place
(dz/du = dz/dx·dx/du + dz/dy·dy/du), so every path counts exactly once. Each node's saved
arrays are released right after its backward ran, unless ``retain_graph``.
"""

from __future__ import annotations

import numpy as np

from .function import FREED_MSG, Node
from .grad_mode import state
from .tensor import Tensor, _make


class _Sweep:
    """A global step counter: node._bw records when the sweep processed each node."""

    step = 0
    last_start = 0


_sweep = _Sweep()


def _norm(g) -> float:
    """L2 norm of a gradient (several outputs: of all of them), as a float."""
    from .backend import get_array_module

    parts = g if isinstance(g, list) else [g]
    total = 0.0
    for p in parts:
        if p is None:
            continue
        a = _as_array(p)
        xp = get_array_module(a)
        total += float(xp.sum(xp.abs(a.astype("float64")) ** 2))
    return total ** 0.5


def _is_node(e) -> bool:
    return isinstance(e, Node)


def _as_array(g):
    return g._data if isinstance(g, Tensor) else g


def _root_grad(t: Tensor, g, create_graph: bool):
    """Validate and normalise the gradient given for an output."""
    if g is None:
        if t._data.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs; this output has "
                f"shape {tuple(t.shape)}. Pass backward(gradient=...) with a tensor of that "
                "shape, or reduce the output first (e.g. loss.sum() or loss.mean())."
            )
        from .backend import get_array_module

        xp = get_array_module(t._data)
        arr = xp.ones(t._data.shape, dtype=t._data.dtype)
        return _make(arr) if create_graph else arr
    if not isinstance(g, Tensor):
        from .tensor import as_tensor

        g = as_tensor(g, dtype=t.dtype, device=t.device)
    if tuple(g.shape) != tuple(t.shape):
        raise RuntimeError(
            f"backward: the gradient has shape {tuple(g.shape)}, but the output has shape "
            f"{tuple(t.shape)}; they must match."
        )
    if g.device != t.device:
        raise RuntimeError(
            f"backward: the gradient is on {g.device} but the output is on {t.device}"
        )
    return g if create_graph else g._data


def _call_hooks(hooks, g, create_graph):
    if g.__class__ is not np.ndarray and g.__class__.__module__ == "numpy":
        g = np.asarray(g)  # a 0-d gradient computed as a NumPy scalar: hooks get Tensors
    for h in list(hooks):
        gt = g if isinstance(g, Tensor) else _make(g)
        r = h(gt)
        if r is not None:
            g = r if create_graph else _as_array(r)
    return g


def _check_finite(node, i, gx):
    from .backend import get_array_module

    a = _as_array(gx)
    if a.dtype.kind not in "fc":
        return
    xp = get_array_module(a)
    if not bool(xp.isfinite(a).all()):
        bad = "nan" if bool(xp.isnan(a).any()) else "inf"
        where = (
            f"The op was created at:\n{node._stack}"
            if node._stack
            else "Run the forward pass inside ag.detect_anomaly() to see where it was created."
        )
        raise FloatingPointError(
            f"anomaly detected in backward: {node.name()}Backward returned {bad} values in "
            f"its gradient for input {i} (shape {tuple(a.shape)}). {where}"
        )


def _materialize(node, g):
    """Multi-output nodes: fill outputs that received no gradient with zeros."""
    if all(x is not None for x in g) or not node.materialize_grads:
        return g
    ref = next(x for x in g if x is not None)
    from .backend import get_array_module

    xp = get_array_module(ref)
    out = []
    for x, (shape, dtype) in zip(g, node._out_meta):
        if x is None:
            z = xp.zeros(shape, dtype=dtype)
            x = _make(z) if isinstance(ref, Tensor) else z
        out.append(x)
    return out


def _call_backward(node, g, create_graph):
    if node._nout != 1:
        g = _materialize(node, g)
    if getattr(node, "_is_custom", False):
        # user Functions get and return Tensors
        gs = g if node._nout != 1 else (g,)
        gs = [x if x is None or isinstance(x, Tensor) else _make(x) for x in gs]
        gxs = node.backward(node, *gs)
        if gxs.__class__ is not tuple:
            gxs = (gxs,)
        if len(gxs) != len(node.next_edges):
            raise RuntimeError(
                f"function {node.name()}Backward returned an incorrect number of gradients "
                f"(expected {len(node.next_edges)}, got {len(gxs)})"
            )
        if not create_graph:
            gxs = tuple(None if x is None else _as_array(x) for x in gxs)
        return gxs
    if node._nout == 1:
        gxs = node.backward(node, g)
    else:
        gxs = node.backward(node, *g)
    return gxs if gxs.__class__ is tuple else (gxs,)


def run_backward(roots, root_grads, retain_graph, create_graph, capture=None,
                 accumulate=True):
    """Sweep the graph from ``roots``.

    Args:
        roots: output tensors; root_grads: their gradients (arrays, or Tensors when
            ``create_graph``).
        capture: tensors whose gradients to return (``autograd.grad``); then only the
            needed part of the graph runs.
        accumulate: write leaf gradients into ``.grad``.

    Returns:
        The captured gradients, in the order of ``capture`` (or None).
    """
    from .ops.elementwise import cast
    from .ops.shape import sum_to

    grads = {}  # node -> gradient (list per output for multi-output nodes)
    leaf_grads = {}  # leaf tensor -> gradient
    start = []
    for t, g in zip(roots, root_grads):
        fn = t.grad_fn
        if fn is None:
            if not t._rg:
                raise RuntimeError(
                    "element 0 of tensors does not require grad and does not have a grad_fn: "
                    f"the output (shape {tuple(t.shape)}) was not computed from any tensor "
                    "with requires_grad=True (or it was computed under no_grad)."
                )
            old = leaf_grads.get(t)
            leaf_grads[t] = g if old is None else old + g
            continue
        _add_grad(grads, fn, t._nr, g)
        start.append(fn)

    cap_nodes = cap_leaves = None
    if capture is not None:
        cap_nodes = {}
        cap_leaves = set()
        for t in capture:
            if t.grad_fn is None:
                cap_leaves.add(t)
            else:
                cap_nodes.setdefault(t.grad_fn, set()).add(t._nr)

    # 1. count dependencies (iterative DFS); in capture mode only over the needed subgraph
    if capture is None:
        deps = {}
        stack = list(dict.fromkeys(start))
        seen = set(stack)
        while stack:
            n = stack.pop()
            for e in n.next_edges:
                if e is None:
                    continue
                if e.__class__ is tuple:
                    e = e[0]
                elif not isinstance(e, Node):
                    continue
                c = deps.get(e)
                if c is None:
                    deps[e] = 1
                    if e not in seen:
                        seen.add(e)
                        stack.append(e)
                else:
                    deps[e] = c + 1
        run = None
    else:
        run, deps = _needed(start, cap_nodes, cap_leaves)

    # 2. Kahn's sweep
    _sweep.last_start = _sweep.step
    ready = [n for n in dict.fromkeys(start) if deps.get(n, 0) == 0]
    captured = {}
    prev_enabled, prev_cg = state.enabled, state.create_graph
    state.enabled = create_graph
    state.create_graph = create_graph
    anomaly = state.anomaly
    capturing = cap_nodes is not None
    rec_norms = state.record_grad_norms
    rec_steps = state.record_steps
    step = _sweep.step
    try:
        while ready:
            node = ready.pop()
            node._bw = step  # the order of the sweep, for drawings (autograd.viz)
            step += 1
            g = grads.pop(node)
            if node._pre_hooks:
                g = _run_pre_hooks(node, g, create_graph)
            if rec_norms:
                node._gnorm = _norm(g)
            if capturing:
                if node in cap_nodes:
                    for nr in cap_nodes[node]:
                        captured[(node, nr)] = g[nr] if node._nout != 1 else g
                if node not in run:
                    continue
            if node._released:
                raise RuntimeError(FREED_MSG)
            if node._plain:
                gxs = node.backward(node, g)
                if gxs.__class__ is not tuple:
                    gxs = (gxs,)
            else:
                gxs = _call_backward(node, g, create_graph)
            if rec_steps is not None:
                rec_steps.append((node, g, gxs))
            if not retain_graph:
                node.saved = ()
                node._released = True
                if node._lock is not None or node._cg_inputs is not None:
                    node._release()
            post = node._post
            i = -1
            for e in node.next_edges:
                i += 1
                if e is None:
                    continue
                gx = gxs[i]
                if gx is None:
                    continue
                if post is not None and post[i] is not None:
                    shape, dt = post[i]
                    if gx.shape != shape:
                        gx = sum_to(gx, shape)
                    if gx.dtype != dt:
                        gx = cast(gx, dt)
                if anomaly:
                    _check_finite(node, i, gx)
                if isinstance(e, Node):
                    d = deps.get(e)
                    if d is None:  # autograd.grad: a branch that reaches no input
                        continue
                    old = grads.get(e)
                    grads[e] = gx if old is None else old + gx
                    d -= 1
                    deps[e] = d
                    if d == 0:
                        ready.append(e)
                elif e.__class__ is tuple:
                    tgt, nr = e
                    d = deps.get(tgt)
                    if d is None:
                        continue
                    _add_grad(grads, tgt, nr, gx)
                    d -= 1
                    deps[tgt] = d
                    if d == 0:
                        ready.append(tgt)
                else:  # a leaf tensor
                    if capturing and e not in cap_leaves and not accumulate:
                        continue
                    old = leaf_grads.get(e)
                    leaf_grads[e] = gx if old is None else old + gx
    finally:
        state.enabled, state.create_graph = prev_enabled, prev_cg
        _sweep.step = step

    # 3. leaves: hooks, then capture or accumulate into .grad
    root_ids = {id(_as_array(g)) for g in root_grads}
    given = set()
    for leaf, g in leaf_grads.items():
        if leaf._hooks:
            g = _call_hooks(leaf._hooks, g, create_graph)
        if cap_leaves is not None and leaf in cap_leaves:
            captured[leaf] = g
            if accumulate:
                _accumulate(leaf, g, create_graph, root_ids, given)
        elif accumulate and cap_leaves is None:
            _accumulate(leaf, g, create_graph, root_ids, given)
    if capture is None:
        return None
    out = []
    for t in capture:
        g = captured.get(t) if t.grad_fn is None else captured.get((t.grad_fn, t._nr))
        if g is not None and not isinstance(g, Tensor):
            g = _make(_owned(g, root_ids, given))
        out.append(g)
    return out


def _add_grad(grads, node, nr, g):
    if node._nout == 1:
        old = grads.get(node)
        grads[node] = g if old is None else old + g
    else:
        buf = grads.get(node)
        if buf is None:
            buf = grads[node] = [None] * node._nout
        buf[nr] = g if buf[nr] is None else buf[nr] + g


def _run_pre_hooks(node, g, create_graph):
    hooks = node._pre_hooks
    if node._nout == 1:
        return _call_hooks(hooks.get(0, ()), g, create_graph)
    g = list(g)
    for nr, hs in hooks.items():
        if g[nr] is not None:
            g[nr] = _call_hooks(hs, g[nr], create_graph)
    return g


def _owned(a, root_ids, given):
    """An array safe to hand out as ``.grad``: writeable, not aliasing anything else."""
    if a.__class__ is not np.ndarray and a.__class__.__module__ == "numpy":
        a = np.array(a)  # NumPy gives scalars for 0-d arithmetic; Tensors hold arrays
        given.add(id(a))
        return a
    i = id(a)
    if (i in root_ids or i in given or getattr(a, "base", None) is not None
            or (isinstance(a, np.ndarray) and not a.flags.writeable)):
        a = a.copy()
    given.add(id(a))
    return a


def _accumulate(leaf, g, create_graph, root_ids, given):
    if create_graph:
        gt = g if isinstance(g, Tensor) else _make(g)
        leaf.grad = gt if leaf.grad is None else leaf.grad + gt
        return
    a = _as_array(g)
    old = leaf.grad
    if old is None:
        leaf.grad = _make(_owned(a, root_ids, given))
    else:
        if old.shape != a.shape:
            raise RuntimeError(
                f"backward: the existing .grad of a leaf has shape {tuple(old.shape)} but the "
                f"new gradient has shape {tuple(a.shape)}"
            )
        leaf.grad = _make(_owned(old._data + a, root_ids, given))


def _needed(start, cap_nodes, cap_leaves):
    """For autograd.grad: the nodes whose backward must run to reach the inputs, and the
    dependency counts restricted to them. Iterative post-order DFS."""
    order = []
    seen = set()
    for s in dict.fromkeys(start):
        if s in seen:
            continue
        seen.add(s)
        stack = [(s, iter(_children(s)))]
        while stack:
            n, it = stack[-1]
            for c in it:
                if c not in seen:
                    seen.add(c)
                    stack.append((c, iter(_children(c))))
                    break
            else:
                stack.pop()
                order.append(n)
    visit = set()
    run = set()
    for n in order:  # children before parents
        for e in n.next_edges:
            if e is None:
                continue
            c = e[0] if e.__class__ is tuple else e
            if (isinstance(c, Node) and c in visit) or c in cap_leaves:
                run.add(n)
                break
        if n in run or n in cap_nodes:
            visit.add(n)
    deps = {}
    for n in run:
        for e in n.next_edges:
            if e is None:
                continue
            c = e[0] if e.__class__ is tuple else e
            if isinstance(c, Node) and c in visit:
                deps[c] = deps.get(c, 0) + 1
    return run, deps


def _children(n):
    for e in n.next_edges:
        if e is None:
            continue
        c = e[0] if e.__class__ is tuple else e
        if isinstance(c, Node):
            yield c


def _as_list(x):
    if x is None:
        return None
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             inputs=None) -> None:
    """Accumulate into ``.grad`` of the leaves the gradient of ``tensors`` (PyTorch's
    ``torch.autograd.backward``)."""
    tensors = _as_list(tensors)
    grads = _as_list(grad_tensors) or [None] * len(tensors)
    if len(grads) != len(tensors):
        raise RuntimeError(
            f"backward: got {len(tensors)} tensors but {len(grads)} gradients"
        )
    if retain_graph is None:
        retain_graph = create_graph
    root_grads = [_root_grad(t, g, create_graph) for t, g in zip(tensors, grads)]
    if inputs is not None:
        inputs = _as_list(inputs)
        got = run_backward(tensors, root_grads, retain_graph, create_graph, capture=inputs,
                           accumulate=False)
        for t, g in zip(inputs, got):
            if g is None:
                continue
            if t.grad_fn is not None and not t._retains_grad:
                continue
            t.grad = g if t.grad is None else t.grad + g
        return
    run_backward(tensors, root_grads, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, materialize_grads=False):
    """Return the gradients of ``outputs`` with respect to ``inputs`` (a tuple), without
    touching ``.grad``.

    Args:
        outputs: tensor(s) to differentiate.
        inputs: tensor(s) to differentiate with respect to.
        grad_outputs: the vector in the vector-Jacobian product (ones for scalars).
        retain_graph: keep the graph (default: ``create_graph``).
        create_graph: record the gradient computation, for higher-order derivatives.
        allow_unused: return None for inputs the outputs do not depend on instead of raising.
        materialize_grads: return zeros instead of None for unused inputs.
    """
    single = isinstance(inputs, Tensor)
    outputs = _as_list(outputs)
    inputs = _as_list(inputs)
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: inputs must be Tensors, got {type(t).__name__}")
        if not t._rg:
            raise RuntimeError(
                f"grad: one of the inputs (shape {tuple(t.shape)}) does not require grad; "
                "call requires_grad_() on it before computing the outputs."
            )
    if allow_unused is None:
        allow_unused = materialize_grads
    gouts = _as_list(grad_outputs) or [None] * len(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    pairs = [(o, g) for o, g in zip(outputs, gouts)]
    root_grads = [_root_grad(o, g, create_graph) for o, g in pairs]
    got = run_backward([o for o, _ in pairs], root_grads, retain_graph, create_graph,
                       capture=inputs, accumulate=False)
    res = []
    for t, g in zip(inputs, got):
        if g is None:
            if materialize_grads:
                from .tensor import zeros_like

                g = zeros_like(t)
            elif not allow_unused:
                raise RuntimeError(
                    f"grad: one of the differentiated Tensors (shape {tuple(t.shape)}) appears "
                    "to not have been used in the graph. Set allow_unused=True if this is the "
                    "desired behavior."
                )
        elif not create_graph and isinstance(g, Tensor) and g.grad_fn is not None:
            g = g.detach()
        res.append(g)
    return tuple(res) if not single or True else res[0]
