"""The backward sweep.

``backward()`` and ``grad()`` walk the recorded graph in reverse topological order without
recursion: one iterative depth-first pass counts, for every node, how many edges point at it
(its dependencies); then Kahn's algorithm runs a node once all its dependents have handed it
their gradients. Gradients arriving at a node from several paths are summed out of place
(dz/du = dz/dx·dx/du + dz/dy·dy/du), so every path counts exactly once. Leaves are nodes too
(``AccumulateGrad``), so a leaf's ``.grad`` is written once, with the sum over all paths, as
soon as the last path reaches it. Each node's saved arrays are released right after its
backward ran, unless ``retain_graph``.

Every edge has one form, ``(node, output index)``. The sweep itself is ``run_backward``;
hooks, capture for ``autograd.grad`` and observers (anomaly detection, drawings) are called
from it but live elsewhere.
"""

from __future__ import annotations

import gc
import os
import threading
from contextlib import contextmanager

import numpy as np

from . import backend
from . import hooks as _hooks
from .function import FREED_MSG, AccumulateGrad, _leaf_edge, _owned, grad_accumulator
from .grad_mode import add_observer, remove_observer, state
from .ops.elementwise import cast
from .ops.shape import stack as _stack
from .ops.shape import sum_to
from .tensor import Tensor, _make, as_tensor, zeros_like


def run_backward(roots, root_grads, retain_graph, create_graph, capture=None):
    """Sweep the graph from ``roots`` (tensors) with ``root_grads`` (arrays, or Tensors
    when ``create_graph``). Without ``capture``, leaves accumulate into ``.grad``; with
    ``capture`` (tensors), nothing is accumulated, only the part of the graph leading to
    them runs, and their gradients are returned in that order. The backward formulas run
    without NumPy's floating-point warnings, as PyTorch's (``backend.fp_quiet``)."""
    tok = backend.fp_quiet()
    try:
        return _sweep(roots, root_grads, retain_graph, create_graph, capture)
    finally:
        backend.fp_restore(tok)


def _sweep(roots, root_grads, retain_graph, create_graph, capture):
    """``run_backward``'s work."""
    grads = {}  # node -> gradient (a list, one per output, for multi-output nodes)
    for t, g in zip(roots, root_grads):
        fn, nr = _root_edge(t)
        _add_grad(grads, fn, nr, g)
    start = list(grads)
    if capture is None:
        wanted, run, deps = None, None, _count_deps(start)
    else:
        wanted = _capture_targets(capture)
        run, deps = _needed(start, wanted)
    given = {id(getattr(g, "_data", g)) for g in root_grads}  # arrays not to alias in .grad
    captured = {}
    ready = [n for n in start if not deps.get(n)]
    obs = state.observers
    with _backward_mode(create_graph):
        while ready:
            node = ready.pop()
            g = grads.pop(node)
            if node._pre_hooks:
                g = _run_pre_hooks(node, g, create_graph)
            if wanted is not None:
                if node in wanted:
                    for nr in wanted[node]:
                        captured[(node, nr)] = g if node._nout == 1 else g[nr]
                if node not in run:
                    continue
            if node.__class__ is AccumulateGrad:
                node.accumulate(g, create_graph, given)
                continue
            if node._released:
                raise RuntimeError(FREED_MSG)
            if node._plain:
                gxs = node.backward(node, g)
                if gxs.__class__ is not tuple:
                    gxs = (gxs,)
            else:
                gxs = _call_backward(node, g, create_graph)
            for o in obs:
                o.on_backward(node, g, gxs)
            if not retain_graph:
                # PyTorch frees the saved tensors; a node that saved none (add, sum, view...)
                # stays usable, so only nodes that saved something refuse a second backward
                had_saved = bool(node.saved)
                if node._lock is not None or node._cg_inputs is not None:
                    node._release()
                    node._released = had_saved
                elif had_saved:
                    node.saved = ()
                    node._released = True
            post = node._post
            i = -1
            for e in node.next_edges:
                i += 1
                if e is None or gxs[i] is None:
                    continue
                gx = gxs[i]
                if post is not None and post[i] is not None:
                    shape, dt = post[i]
                    if gx.shape != shape:
                        gx = sum_to(gx, shape)
                    if gx.dtype != dt:
                        gx = cast(gx, dt)
                fn, nr = e
                d = deps.get(fn)
                if d is None:  # autograd.grad: a branch that reaches no wanted input
                    continue
                if fn._nout == 1:
                    old = grads.get(fn)
                    grads[fn] = gx if old is None else old + gx
                else:
                    _add_grad(grads, fn, nr, gx)
                deps[fn] = d - 1
                if d == 1:
                    ready.append(fn)
    if capture is None:
        return None
    return [_captured(t, captured, given, create_graph) for t in capture]


# ---------------------------------------------------------------------------------------
# pieces of the sweep
# ---------------------------------------------------------------------------------------

def _root_edge(t: Tensor):
    if t.grad_fn is not None:
        return t.grad_fn, t._nr
    if t._rg:
        return _leaf_edge(t)
    raise RuntimeError(
        "element 0 of tensors does not require grad and does not have a grad_fn: "
        f"the output (shape {tuple(t.shape)}) was not computed from any tensor "
        "with requires_grad=True (or it was computed under no_grad)."
    )


def _count_deps(start) -> dict:
    """For every node reachable from ``start``: how many edges point at it (iterative)."""
    deps = dict.fromkeys(start, 0)  # a node enters once, when first met: then its edges
    stack = list(deps)
    while stack:
        for e in stack.pop().next_edges:
            if e is None:
                continue
            n = e[0]
            c = deps.get(n)
            if c is None:
                deps[n] = 1
                stack.append(n)
            else:
                deps[n] = c + 1
    return deps


def _capture_targets(capture) -> dict:
    """{node: {output index}} of the tensors whose gradients ``autograd.grad`` returns."""
    wanted = {}
    for t in capture:
        if t.grad_fn is not None:
            wanted.setdefault(t.grad_fn, set()).add(t._nr)
        else:
            acc = grad_accumulator(t)
            if acc is not None:  # else no live graph uses the leaf: its gradient is None
                wanted.setdefault(acc, set()).add(0)
    return wanted


def _captured(t, captured, given, create_graph):
    fn = t.grad_fn if t.grad_fn is not None else grad_accumulator(t)
    g = captured.get((fn, 0 if t.grad_fn is None else t._nr))
    if g is not None and not isinstance(g, Tensor):
        g = _make(_owned(g, given))
    return g


@contextmanager
def _backward_mode(create_graph: bool):
    """This thread's modes while backward formulas run: record only with ``create_graph``
    (and then mark the nodes made, for drawings); the collector relaxed (``gc_relaxed``)."""
    prev = state.enabled, state.create_graph
    state.enabled = state.create_graph = create_graph
    marker = _MadeInBackward() if create_graph else None
    if marker is not None:
        add_observer(marker)
    try:
        with gc_relaxed():
            yield
    finally:
        if marker is not None:
            remove_observer(marker)
        state.enabled, state.create_graph = prev


class _MadeInBackward:
    """Observer active during ``create_graph`` sweeps: remembers the nodes they create."""

    def on_forward(self, node, outputs) -> None:
        _hooks.made_in_backward.add(node)

    def on_backward(self, node, grad, input_grads) -> None:
        pass


def _add_grad(grads, node, nr, g):
    if node._nout == 1:
        old = grads.get(node)
        grads[node] = g if old is None else old + g
    else:
        buf = grads.get(node)
        if buf is None:
            buf = grads[node] = [None] * node._nout
        buf[nr] = g if buf[nr] is None else buf[nr] + g


def _call_hooks(hooks, g, create_graph):
    if g.__class__ is not np.ndarray and g.__class__.__module__ == "numpy":
        g = np.asarray(g)  # a 0-d gradient computed as a NumPy scalar: hooks get Tensors
    for h in list(hooks):
        gt = g if isinstance(g, Tensor) else _make(g)
        r = h(gt)
        if r is not None:
            g = r if create_graph else getattr(r, "_data", r)
    return g


def _run_pre_hooks(node, g, create_graph):
    hooks = node._pre_hooks
    if node._nout == 1:
        return _call_hooks(hooks.get(0, ()), g, create_graph)
    g = list(g)
    for nr, hs in hooks.items():
        if g[nr] is not None:
            g[nr] = _call_hooks(hs, g[nr], create_graph)
    return g


def _materialize(node, g):
    """Multi-output nodes: fill outputs that received no gradient with zeros."""
    if all(x is not None for x in g) or not node.materialize_grads:
        return g
    ref = next(x for x in g if x is not None)
    xp = backend.get_array_module(ref)
    out = []
    for x, (shape, dtype) in zip(g, node._out_meta):
        if x is None:
            z = xp.zeros(shape, dtype=dtype)
            x = _make(z) if isinstance(ref, Tensor) else z
        out.append(x)
    return out


def _call_backward(node, g, create_graph):
    """Backward of a node that is not a plain single-output op: multi-output ops, user
    Functions (Tensors in and out), and nodes with hooks of their own."""
    gs = _materialize(node, g) if node._nout != 1 else [g]
    if node._node_prehooks:
        for h in list(node._node_prehooks):
            r = h(tuple(x if x is None or isinstance(x, Tensor) else _make(x) for x in gs))
            if r is not None:
                gs = [x if x is None or create_graph else getattr(x, "_data", x) for x in r]
    if node._custom:
        gs = [x if x is None or isinstance(x, Tensor) else _make(x) for x in gs]
    gxs = node.backward(node, *gs)
    if gxs.__class__ is not tuple:
        gxs = (gxs,)
    if node._custom:
        n = len(node.next_edges)
        if len(gxs) > n and all(x is None for x in gxs[n:]):
            # trailing Nones beyond the inputs are dropped, as PyTorch does: a backward
            # written for forward(ctx, input, weight, bias=None) may return grad_bias=None
            # when bias was not passed
            gxs = gxs[:n]
        if len(gxs) != n:
            raise RuntimeError(
                f"function {node.backward_name()} returned an incorrect number of gradients "
                f"(expected {len(node.next_edges)}, got {len(gxs)})"
            )
        if not create_graph:
            gxs = tuple(None if x is None else getattr(x, "_data", x) for x in gxs)
    if node._post_hooks:
        wrap = [x if x is None or isinstance(x, Tensor) else _make(x) for x in gxs]
        for h in list(node._post_hooks):
            r = h(tuple(wrap), tuple(x if x is None or isinstance(x, Tensor) else _make(x)
                                     for x in gs))
            if r is not None:
                wrap = list(r)
        gxs = tuple(x if x is None or create_graph else getattr(x, "_data", x) for x in wrap)
    return gxs


def _needed(start, wanted):
    """For autograd.grad: the nodes whose backward must run to reach the wanted nodes, and
    the dependency counts restricted to them. Iterative post-order DFS."""
    order = []
    seen = set()
    for s in start:
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
    useful = set()  # nodes that are wanted or lead to a wanted node
    run = set()
    for n in order:  # children before parents
        if any(c in useful for c in _children(n)):
            run.add(n)
        if n in run or n in wanted:
            useful.add(n)
    deps = {}
    for n in run:
        for c in _children(n):
            if c in useful:
                deps[c] = deps.get(c, 0) + 1
    return run, deps


def _children(n):
    for e in n.next_edges:
        if e is not None:
            yield e[0]


# ---------------------------------------------------------------------------------------
# the collector, relaxed while big graphs are swept (or, opted in, built)
# ---------------------------------------------------------------------------------------

_gc_lock = threading.Lock()
_gc_depth = 0
_gc_saved = None


@contextmanager
def gc_relaxed(threshold: int = 1_000_000):
    """Raise Python's first cyclic-GC threshold for the duration of the block.

    Graphs are acyclic by construction (a node never references its outputs), so reference
    counting frees them; the cyclic collector finds nothing in them, yet with its default
    first threshold (700 allocations) it re-scans every live node over and over while a long
    graph is built or swept: a quarter of the time of a 100,000-op chain. (With a threshold
    of 100,000 it still ran ~5 times over that chain's forward, ~10% of it: an op allocates
    ~4.5 tracked objects.) The engine uses this around every backward sweep; wrap the
    forward pass of a very long graph in it to get the same there. Nested and concurrent
    uses (threads) are counted: the threshold is restored when the last block exits. Set
    ``AUTOGRAD_KEEP_GC=1`` to never change it.
    """
    global _gc_depth, _gc_saved
    with _gc_lock:
        if _gc_depth == 0 and not _keep_gc:
            t0, t1, t2 = gc.get_threshold()
            if 0 < t0 < threshold:
                _gc_saved = (t0, t1, t2)
                gc.set_threshold(threshold, t1, t2)
        _gc_depth += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_depth -= 1
            if _gc_depth == 0 and _gc_saved is not None:
                gc.set_threshold(*_gc_saved)
                _gc_saved = None


_keep_gc = bool(os.environ.get("AUTOGRAD_KEEP_GC"))


# ---------------------------------------------------------------------------------------
# public entry points
# ---------------------------------------------------------------------------------------

def _as_list(x):
    if x is None:
        return None
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def _root_grad(t: Tensor, g, create_graph: bool, i: int = 0):
    """Validate and normalise the gradient given for an output."""
    if g is None:
        if t._data.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs; this output has "
                f"shape {tuple(t.shape)}. Pass backward(gradient=...) with a tensor of that "
                "shape, or reduce the output first (e.g. loss.sum() or loss.mean())."
            )
        xp = backend.get_array_module(t._data)
        arr = xp.ones(t._data.shape, dtype=t._data.dtype)
        return _make(arr) if create_graph else arr
    if not isinstance(g, Tensor):
        g = as_tensor(g, dtype=t.dtype, device=t.device)
    if tuple(g.shape) != tuple(t.shape):
        raise RuntimeError(
            f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] "
            f"has a shape of {t.shape}."
        )
    if g.device != t.device:
        raise RuntimeError(
            f"backward: the gradient is on {g.device} but the output is on {t.device}"
        )
    return g if create_graph else g._data


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             inputs=None) -> None:
    """Accumulate into ``.grad`` of the leaves the gradient of ``tensors`` (PyTorch's
    ``torch.autograd.backward``).

    Args:
        tensors: the output tensor(s) to differentiate.
        grad_tensors: the gradient with respect to each output (None for one-element ones).
        retain_graph: keep the saved arrays so backward can run again (default:
            ``create_graph``).
        create_graph: record the backward pass so it can be differentiated again.
        inputs: accumulate only into these tensors' ``.grad``.
    """
    tensors = _as_list(tensors)
    grads = _as_list(grad_tensors) or [None] * len(tensors)
    if len(grads) != len(tensors):
        raise RuntimeError(
            f"backward: got {len(tensors)} tensors but {len(grads)} gradients"
        )
    if retain_graph is None:
        retain_graph = create_graph
    root_grads = [_root_grad(t, g, create_graph, i)
                  for i, (t, g) in enumerate(zip(tensors, grads))]
    if inputs is None:
        run_backward(tensors, root_grads, retain_graph, create_graph)
        return
    inputs = _as_list(inputs)
    got = run_backward(tensors, root_grads, retain_graph, create_graph, capture=inputs)
    for t, g in zip(inputs, got):
        if g is None or (t.grad_fn is not None and not t._retains_grad):
            continue
        t.grad = g if t._grad is None else t._grad + g
        if t._post_acc_hooks:
            for h in list(t._post_acc_hooks):
                h(t)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return the gradients of ``outputs`` with respect to ``inputs`` (a tuple), without
    touching ``.grad``.

    Args:
        outputs: tensor(s) to differentiate.
        inputs: tensor(s) to differentiate with respect to.
        grad_outputs: the vector in the vector-Jacobian product (ones for scalars).
        retain_graph: keep the graph (default: ``create_graph``).
        create_graph: record the gradient computation, for higher-order derivatives.
        allow_unused: return None for inputs the outputs do not depend on instead of raising.
        is_grads_batched: dim 0 of every ``grad_outputs`` tensor is a batch of vectors; the
            gradients get the same leading batch dim (a Jacobian from the rows of an
            identity, in one call). Computed as one backward pass per vector.
        materialize_grads: return zeros instead of None for unused inputs.
    """
    if is_grads_batched:
        return _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph,
                             allow_unused, materialize_grads)
    outputs = _as_list(outputs)
    inputs = _as_list(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: inputs must be Tensors, got {type(t).__name__}")
        if not t._rg:
            raise RuntimeError(
                f"One of the differentiated Tensors does not require grad (shape "
                f"{tuple(t.shape)}); call requires_grad_() on it before computing the outputs."
            )
    if allow_unused is None:
        allow_unused = materialize_grads
    gouts = _as_list(grad_outputs) or [None] * len(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    root_grads = [_root_grad(o, g, create_graph, i)
                  for i, (o, g) in enumerate(zip(outputs, gouts))]
    got = run_backward(outputs, root_grads, retain_graph, create_graph, capture=inputs)
    res = []
    for i, (t, g) in enumerate(zip(inputs, got)):
        if g is None:
            if materialize_grads:
                g = zeros_like(t)
            elif not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in "
                    "the graph. Set allow_unused=True if this is the desired behavior."
                )
        elif not create_graph and isinstance(g, Tensor) and g.grad_fn is not None:
            g = g.detach()
        res.append(g)
    return tuple(res)


def _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                  materialize_grads):
    """``grad(..., is_grads_batched=True)``: the gradients for each vector along dim 0 of
    ``grad_outputs``, stacked along a new dim 0 (None where an input is unused)."""
    gouts = _as_list(grad_outputs)
    if not gouts or any(not isinstance(g, Tensor) for g in gouts):
        raise RuntimeError("grad: is_grads_batched=True needs a Tensor in grad_outputs for "
                           "every output, with the batch in dim 0")
    sizes = {g.shape[0] if g.ndim else None for g in gouts}
    if len(sizes) != 1 or None in sizes:
        raise RuntimeError("grad: with is_grads_batched=True every grad_outputs tensor must "
                           f"have the same size in dim 0, got shapes "
                           f"{[tuple(g.shape) for g in gouts]}")
    (n,) = sizes
    if retain_graph is None:
        retain_graph = create_graph
    per = [grad(outputs, inputs, [g[b] for g in gouts],
                retain_graph=retain_graph or b < n - 1, create_graph=create_graph,
                allow_unused=allow_unused, materialize_grads=materialize_grads)
           for b in range(n)]
    res = []
    for k, t in enumerate(_as_list(inputs)):
        col = [p[k] for p in per]
        if all(g is None for g in col):
            res.append(None)
        else:
            col = [zeros_like(t) if g is None else g for g in col]
            res.append(_stack(col, 0))
    return tuple(res)
