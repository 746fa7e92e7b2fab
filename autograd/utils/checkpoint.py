"""Activation checkpointing (PyTorch's ``torch.utils.checkpoint``): trade compute for memory.

``checkpoint(fn, *args)`` runs ``fn`` without recording (no node, no saved array of ``fn``
survives the forward pass) and records one node, ``CheckpointBackward``, whose inputs are
the tensor arguments and the parameters ``fn`` uses. The node keeps only the inputs and the
RNG state. Its backward restores that RNG state (so dropout draws the same mask), runs
``fn`` again with recording on, and backpropagates through that fresh graph with
``autograd.grad``; the gradients are exactly those of the uncheckpointed function.

Which parameters ``fn`` uses: those of ``fn`` itself when it is a module (or a bound method
of one), found up front so that ``autograd.grad`` can reach them through the node;
parameters that a plain closure captures are found on the recomputed graph and receive
their gradient directly into ``.grad`` (PyTorch's reentrant behaviour).
``use_reentrant`` is accepted for compatibility: both values run this implementation.
"""

from __future__ import annotations

from .. import hooks as _hooks
from ..engine import grad as _grad
from ..function import AccumulateGrad, Node, _leaf_edge
from ..grad_mode import enable_grad, no_grad, state
from ..random import default_generator
from ..tensor import Tensor, _make

__all__ = ["checkpoint", "checkpoint_sequential"]


def _params_of(fn) -> list:
    """Tensors requiring grad that ``fn`` (a module, a bound method of one) owns."""
    owner = fn if hasattr(fn, "parameters") else getattr(fn, "__self__", None)
    if owner is None or not hasattr(owner, "parameters"):
        return []
    try:
        return [p for p in owner.parameters() if isinstance(p, Tensor) and p._rg]
    except TypeError:
        return []


class CheckpointBackward(Node):
    """The one node a checkpointed call records (see the module docstring)."""

    _plain = False

    def backward_name(self) -> str:
        return "CheckpointBackward"

    @staticmethod
    def backward(ctx, *gouts):
        if ctx._released:
            raise RuntimeError(
                "checkpoint: backward through a checkpointed region a second time needs "
                "retain_graph=True on the first backward."
            )
        create_graph = state.create_graph
        targets = ctx.targets
        # inputs: fresh leaves for the recomputation (their grads flow out of this node)
        inputs = []
        for i, a in enumerate(ctx.args):
            if isinstance(a, Tensor):
                # create_graph: recompute from the original inputs, so that the gradient
                # stays connected to them (double backward through a checkpoint)
                t = (targets[i] if create_graph and ctx.next_edges[i] is not None else
                     _make(a._data, None, ctx.next_edges[i] is not None))
                inputs.append(t)
            else:
                inputs.append(a)
        rng = default_generator.get_state()
        try:
            if ctx.rng_state is not None:
                default_generator.set_state(ctx.rng_state)
            with enable_grad():
                prev_cg = state.create_graph
                state.create_graph = False
                try:
                    out = ctx.fn(*inputs, **ctx.kwargs)
                finally:
                    state.create_graph = prev_cg
        finally:
            if ctx.rng_state is not None:
                default_generator.set_state(rng)
        outs = out if isinstance(out, tuple) else (out,)
        roots, rgrads = [], []
        for o, g in zip(outs, gouts):
            if isinstance(o, Tensor) and o._rg and g is not None:
                roots.append(o)
                rgrads.append(g if isinstance(g, Tensor) else _make(g))
        n_in = len(ctx.args)
        wanted = [inputs[i] for i in range(n_in) if ctx.next_edges[i] is not None]
        wanted += targets[n_in:]
        # leaves a closure captured: not edges of this node, they accumulate directly
        known = {id(t) for t in wanted}
        extra = [t for t in _leaves(roots) if id(t) not in known]
        if not roots:
            return tuple(None for _ in ctx.next_edges)
        with enable_grad() if create_graph else no_grad():
            got = _grad(roots, wanted + extra, grad_outputs=rgrads, retain_graph=create_graph,
                        create_graph=create_graph, allow_unused=True)
        res = []
        k = 0
        for i in range(len(ctx.next_edges)):
            if ctx.next_edges[i] is None:
                res.append(None)
                continue
            g = got[k]
            k += 1
            res.append(g if g is None or create_graph else g._data)
        for t, g in zip(extra, got[len(wanted):]):
            if g is None:
                continue
            g = g if create_graph else g.detach()
            t.grad = g if t.grad is None else t.grad + g
        return tuple(res)

    def _release(self) -> None:
        super()._release()
        self.args = ()


def _leaves(roots) -> list:
    """The leaf tensors requiring grad that the graph behind ``roots`` reaches."""
    seen, out, stack = set(), [], [r.grad_fn for r in roots if r.grad_fn is not None]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        if n.__class__ is AccumulateGrad:
            out.append(n.variable)
            continue
        for e in n.next_edges:
            if e is not None:
                stack.append(e[0])
    return out


def checkpoint(function, *args, use_reentrant: bool = False, preserve_rng_state: bool = True,
               context_fn=None, determinism_check: str = "default", debug: bool = False,
               **kwargs):
    """Run ``function(*args, **kwargs)`` without keeping its intermediate values; backward
    runs it again to get them (PyTorch's ``torch.utils.checkpoint.checkpoint``).

    Args:
        function: the function (or module) to run.
        *args: its arguments; Tensors among them get gradients.
        use_reentrant: accepted for PyTorch compatibility; both values behave the same.
        preserve_rng_state: restore the RNG state before recomputing, so random ops
            (dropout) draw the same values as in the forward pass.
        **kwargs: keyword arguments passed to ``function``.

    Returns:
        What ``function`` returns (a Tensor or a tuple of Tensors).
    """
    if not state.enabled or state.transforms:
        return function(*args, **kwargs)
    params = _params_of(function)
    ids = {id(a) for a in args}
    params = [p for p in params if id(p) not in ids]
    needs = any(isinstance(a, Tensor) and a._rg for a in args) or bool(params)
    rng_state = default_generator.get_state() if preserve_rng_state else None
    with no_grad():
        out = function(*args, **kwargs)
    if not needs:
        return out
    single = not isinstance(out, tuple)
    outs = (out,) if single else out
    node = object.__new__(CheckpointBackward)
    edges = []
    for a in list(args) + params:
        if isinstance(a, Tensor) and a._rg:
            fn = a.grad_fn
            edges.append((fn, a._nr) if fn is not None else _leaf_edge(a))
        else:
            edges.append(None)
    node.next_edges = tuple(edges)
    node.args = tuple(a.detach() if isinstance(a, Tensor) else a for a in args)
    node.targets = list(args) + params
    node.fn = function
    node.kwargs = kwargs
    node.rng_state = rng_state
    node._nout = len(outs)
    node._out_meta = [(o.shape, o.dtype) for o in outs if isinstance(o, Tensor)]
    node._oshape = outs[0].shape if isinstance(outs[0], Tensor) else None
    obs = state.observers
    if obs:
        for o in obs:
            o.on_forward(node, out)
    new = []
    for k, o in enumerate(outs):
        if isinstance(o, Tensor) and o.dtype.kind in "fcV":
            new.append(_make(o._data, node, True, k))
        else:
            new.append(o)
    res = new[0] if single else tuple(new)
    if hasattr(function, "named_modules") and _hooks.module_forward_hooks:
        # the module ran without a graph: tell the global module hooks (drawings, the
        # memory report) that this node is its call
        for hook in list(_hooks.module_forward_hooks.values()):
            hook(function, args, res)
    return res


def checkpoint_sequential(functions, segments: int, input, use_reentrant: bool = False,
                          **kwargs):
    """Checkpoint a sequence of functions (or an ``nn.Sequential``) in ``segments`` chunks:
    only the chunks' boundary activations are kept; the last chunk runs normally
    (PyTorch's ``torch.utils.checkpoint.checkpoint_sequential``).

    Args:
        functions: a list of callables or an ``nn.Sequential``.
        segments: how many chunks to split them into.
        input: the input of the first function.
    """
    if hasattr(functions, "children") and not isinstance(functions, (list, tuple)):
        functions = list(functions.children())
    functions = list(functions)
    n = len(functions)
    if segments < 1:
        raise ValueError(f"checkpoint_sequential: segments must be >= 1, got {segments}")
    size = max(1, n // segments)
    x = input
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        if end >= n - 1:
            break
        x = checkpoint(_Run(functions[start:end + 1]), x, use_reentrant=use_reentrant,
                       **kwargs)
    for f in functions[end + 1:]:
        x = f(x)
    return x


class _Run:
    """A run of functions as one callable; exposes their parameters for ``checkpoint``."""

    def __init__(self, fns):
        self.fns = fns

    def __call__(self, x):
        for f in self.fns:
            x = f(x)
        return x

    def parameters(self):
        for f in self.fns:
            if hasattr(f, "parameters"):
                yield from f.parameters()
