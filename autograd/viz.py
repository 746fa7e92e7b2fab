"""Drawing the graph: the forward pass, the backward sweep, and the chain rule's paths.

``to_dot(t)`` returns a ``graphviz.Digraph`` (shown inline in Jupyter) of everything ``t``
depends on: tensor boxes (name, shape, dtype, the value when small, the gradient after
backward) and op ellipses (the op's name and saved attributes such as ``dim``), with edges in
the direction of the forward pass. After ``backward()`` each op carries its number in the
order the sweep processed it. ``draw(t, path)`` renders a file with Graphviz's ``dot``.
Building the DOT source needs only the ``graphviz`` Python package; rendering needs the
``dot`` binary.

What the core keeps is what backward needs. For teaching, ``with viz.record():`` around the
forward and backward passes adds an observer (see ``grad_mode``) that notes, for every op,
its output value, the gradient that reached it, its step in the backward sweep and the local
derivatives of scalar ops; drawings then show them even after a plain ``backward()`` has freed
the graph. Module calls are noted through a global module forward hook (``autograd.hooks``),
so ``collapse=model`` works on any graph.
"""

from __future__ import annotations

import inspect
import itertools
import math
import os
import shutil
import textwrap
import weakref
from contextlib import contextmanager

import numpy as np

from . import backend
from . import hooks as _hooks
from .function import AccumulateGrad, Node
from .grad_mode import add_observer, remove_observer, state
from .tensor import Tensor

INSTALL_HINT = (
    "Graphviz's `dot` program was not found on PATH; it is needed to render drawings "
    "(to_dot() works without it). Install Graphviz: `apt-get install graphviz` (Debian/Ubuntu), "
    "`brew install graphviz` (macOS) or `conda install graphviz`."
)

_SKIP_ATTRS = {
    "saved", "next_edges", "in_shape", "shapes", "dtypes", "in_dtype", "src", "rows", "tt",
    "valid", "w_t", "weight", "xs", "v_shape", "v_dtype", "denom", "sizes", "materialize_grads",
}


def _graphviz():
    try:
        import graphviz  # noqa: PLC0415  (imported lazily: only drawings need it)
    except ImportError as e:  # pragma: no cover - graphviz is a dependency
        raise ImportError("autograd.viz needs the graphviz package: pip install graphviz") from e
    return graphviz


def _fmt_array(a, max_elems: int) -> str | None:
    a = backend.to_numpy(a)
    if a.size > max_elems:
        return None
    if a.ndim == 0:
        v = a.item()
        return f"{v:.4g}" if isinstance(v, float) else str(v)
    return np.array2string(a, precision=3, separator=",", suppress_small=True,
                           max_line_width=40).replace("\n", "")


def _shape_str(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")" if len(shape) != 1 else f"({shape[0]},)"


def _op_attrs(node) -> list[str]:
    out = []
    for k, v in vars(node).items():
        if k.startswith("_") or k in _SKIP_ATTRS:
            continue
        if isinstance(v, (bool, int, float, str)) or v is None or (
            isinstance(v, tuple) and len(v) <= 6 and all(isinstance(e, (int, type(None)))
                                                         for e in v)
        ):
            s = f"{k}={v}"
            if len(s) <= 30:
                out.append(s)
    return out


def _edges(node):
    """(input index, target) for each input of ``node`` that carries a gradient; a leaf is
    drawn as its tensor, not as its AccumulateGrad node."""
    for i, e in enumerate(node.next_edges):
        if e is None:
            continue
        c = e[0]
        yield i, (c.variable if c.__class__ is AccumulateGrad else c)


# ---------------------------------------------------------------------------------------
# what drawings know beyond the graph: module calls (always) and notes (viz.record)
# ---------------------------------------------------------------------------------------

_module_calls = weakref.WeakKeyDictionary()  # output node -> (module, boundary nodes/leaves)


def _on_module_call(module, args, out):
    """Global module forward hook: remember where each call's subgraph starts, so that
    ``collapse=`` can draw the call as one box. The innermost module producing a node wins."""
    fn = getattr(out, "grad_fn", None)
    if fn is not None and fn not in _module_calls:
        _module_calls[fn] = (module, tuple(a.grad_fn if a.grad_fn is not None else a
                                           for a in args if isinstance(a, Tensor)))


_module_hook = _hooks.add(_hooks.module_forward_hooks, _on_module_call)


class _Note:
    """What ``record()`` noted about one op."""

    __slots__ = ("value", "vnorm", "grad", "gnorm", "step", "local", "__weakref__")

    def __init__(self):
        self.value = self.vnorm = self.grad = self.gnorm = self.step = None
        self.local = {}


_notes = weakref.WeakKeyDictionary()  # node -> _Note
_steps = itertools.count(1)  # the backward steps of every recorded sweep, in order


def _small(a, max_elems: int = 64):
    """A host copy of ``a`` when it is small, else None; and its L2 norm."""
    h = backend.to_numpy(getattr(a, "_data", a))
    norm = float(np.sqrt((np.abs(h.astype(np.float64)) ** 2).sum())) if h.dtype.kind in \
        "biufc" else None
    return (h.copy() if h.size <= max_elems else None), norm


class Recorder:
    """The observer behind ``record()``: notes values, gradients, sweep steps and local
    derivatives of the ops it sees, in weak tables keyed by node (freed with the graph).

    Args:
        values: note each op's output value (small ones; the norm of large ones).
        grads: note the gradient reaching each op and the local derivatives of scalar ops.
        steps: a list that receives ``(node, grad, input grads)`` per backward step.
    """

    def __init__(self, values: bool = True, grads: bool = True, steps: list | None = None):
        self.values = values
        self.grads = grads
        self.steps = steps

    def _note(self, node) -> _Note:
        n = _notes.get(node)
        if n is None:
            n = _notes[node] = _Note()
        return n

    def on_forward(self, node, outputs) -> None:
        if self.values and node.next_edges:
            y = outputs[0] if outputs.__class__ is tuple else outputs
            n = self._note(node)
            n.value, n.vnorm = _small(y)

    def on_backward(self, node, grad, input_grads) -> None:
        if self.steps is not None:
            self.steps.append((node, grad, input_grads))
        n = self._note(node)
        n.step = next(_steps)
        if not self.grads:
            return
        parts = grad if isinstance(grad, list) else [grad]
        sq = 0.0
        for p in parts:
            if p is not None:
                _, pn = _small(p, 0)
                sq += pn * pn
        n.gnorm = sq ** 0.5
        if not isinstance(grad, list):
            n.grad, _ = _small(grad)
        for i, _c in _edges(node):
            d = _local_derivative(node, i)
            if d is not None:
                n.local[i] = d


@contextmanager
def record(values: bool = True, grads: bool = True):
    """Within this block (in this thread), note what drawings need to teach: every op's
    value, the gradient that reached it, its backward step and its local derivatives.

    Example:
        >>> with viz.record():
        ...     z = (u**2 - v**2) ** 2 + (u * v) ** 2
        ...     z.backward()
        >>> viz.to_dot(z, highlight=(u, z))   # values, grads and ∂ labels, graph freed
    """
    rec = Recorder(values, grads)
    add_observer(rec)
    try:
        yield rec
    finally:
        remove_observer(rec)


def _collect(root: Tensor):
    """All nodes and leaf tensors ``root`` depends on (iterative), and the edges."""
    nodes, leaves, edges = [], [], []
    if root.grad_fn is None:
        return nodes, [root] if root._rg else [], edges
    seen = {root.grad_fn}
    stack = [root.grad_fn]
    while stack:
        n = stack.pop()
        nodes.append(n)
        for i, c in _edges(n):
            edges.append((c, n, i))
            if c in seen:
                continue
            seen.add(c)
            if isinstance(c, Node):
                stack.append(c)
            else:
                leaves.append(c)
    return nodes, leaves, edges


def _path_set(nodes, edges, leaf, output: Tensor):
    """Graph elements lying on some path from ``leaf`` to ``output``."""
    target = leaf.grad_fn if leaf.grad_fn is not None else leaf
    children = {}
    for c, n, _ in edges:
        children.setdefault(n, []).append(c)
    # reaches[x]: target is reachable from x going backward (towards the inputs)
    reaches = {}
    order = []
    start = output.grad_fn
    if start is None:
        return {target} if output is leaf else set()
    stack = [(start, False)]
    while stack:
        x, done = stack.pop()
        if done:
            order.append(x)
            continue
        if x in reaches:
            continue
        reaches[x] = False
        stack.append((x, True))
        for c in children.get(x, []):
            if c not in reaches:
                stack.append((c, False))
    for x in order:
        reaches[x] = x is target or any(c is target or reaches.get(c, False)
                                        for c in children.get(x, []))
    on = {x for x, r in reaches.items() if r}
    if on:
        on.add(target)
    return on


def _edge_derivative(node, i):
    """The local derivative of edge ``i`` of ``node``: noted by ``record()``, or computed
    from the live graph."""
    note = _notes.get(node)
    if note is not None and i in note.local:
        return note.local[i]
    return _local_derivative(node, i)


def _local_derivative(node, i):
    """d(output)/d(input i) of a scalar op, from its own backward (None if unavailable)."""
    if node._released or not node._plain or node._oshape is None:
        return None
    if int(np.prod(node._oshape)) != 1:
        return None
    xp = np
    for a in node.saved:
        if hasattr(a, "dtype"):
            xp = backend.get_array_module(a)
            break
    dt = next((a.dtype for a in node.saved if hasattr(a, "dtype")), np.float64)
    g = xp.ones(node._oshape, dtype=dt)
    prev = state.create_graph, state.enabled
    state.create_graph, state.enabled = False, False
    try:
        gxs = node.backward(node, g)
    except Exception:  # a drawing must not fail because of a label
        return None
    finally:
        state.create_graph, state.enabled = prev
    gxs = gxs if isinstance(gxs, tuple) else (gxs,)
    gx = gxs[i] if i < len(gxs) else None
    if gx is None or getattr(gx, "size", 1) != 1:
        if gx is not None and node._post is not None and node._post[i] is not None:
            gx = backend.to_numpy(gx).sum()
        else:
            return None
    return float(backend.to_numpy(gx).reshape(-1)[0]) if hasattr(gx, "shape") else float(gx)


def _norm_colour(v: float | None, lo: float, hi: float) -> str:
    """Light blue (small gradient) through yellow to red (large), on a log scale; grey when
    unknown. Light colours keep the labels readable."""
    if v is None:
        return "#dddddd"
    lv = math.log10(max(v, 1e-30))
    t = 0.5 if hi <= lo else min(max((lv - lo) / (hi - lo), 0.0), 1.0)
    stops = [(0x9e, 0xca, 0xe1), (0xff, 0xff, 0xb2), (0xfc, 0x92, 0x72)]
    (r0, g0, b0), (r1, g1, b1) = (stops[0], stops[1]) if t < 0.5 else (stops[1], stops[2])
    u = t * 2 if t < 0.5 else t * 2 - 1
    r, g, b = (int(c0 + u * (c1 - c0)) for c0, c1 in ((r0, r1), (g0, g1), (b0, b1)))
    return f"#{r:02x}{g:02x}{b:02x}"


def _tensor_norm(t: Tensor | None) -> float | None:
    if t is None:
        return None
    a = backend.to_numpy(t._data).astype(np.float64)
    return float(np.sqrt((a * a).sum()))


def to_dot(tensor: Tensor, show_grad: bool = True, show_shapes: bool = True,
           show_values: bool = True, highlight=None, color_by: str | None = None,
           collapse=None, params: dict | None = None, max_value_elems: int = 6,
           max_nodes: int | None = None, rankdir: str = "LR"):
    """Draw everything ``tensor`` depends on as a ``graphviz.Digraph``.

    Args:
        tensor: the output (often the loss).
        show_grad: show ``.grad`` of tensors that have one (leaves after backward).
        show_shapes: show shape and dtype.
        show_values: show values of tensors with at most ``max_value_elems`` elements.
        highlight: ``(leaf, output)``: mark every path from ``leaf`` to ``output`` (the sum
            over all paths of the chain rule) and label each edge on them with its local
            derivative when the op is scalar.
        color_by: ``"grad_norm"`` colours tensors (and ops, when recorded with
            ``record_grad_norms()``) by gradient magnitude, blue small to red large.
        collapse: an ``nn.Module`` (its direct children) or a list of modules: each call of
            one of them is drawn as a single box.
        params: ``{name: tensor}`` (e.g. ``dict(model.named_parameters())``), or a module,
            to name leaves (``0.weight``); a module given as ``collapse`` names them too.
        max_nodes: collapse everything when the graph has more op nodes than this.
        rankdir: Graphviz layout direction ("LR" or "TB").

    Returns:
        A ``graphviz.Digraph``; in Jupyter it renders inline.
    """
    gv = _graphviz()
    nodes, leaves, edges = _collect(tensor)
    if params is None and hasattr(collapse, "named_parameters"):
        params = collapse
    if hasattr(params, "named_parameters"):
        params = dict(params.named_parameters())
    names = {id(t): n for n, t in (params or {}).items()}
    notes = {n: _notes.get(n) for n in nodes}

    # ---- collapsing module calls ----
    members = {}  # node -> (box id, module label)
    box_norm = {}  # box id -> gradient norm at the module's output (record_grad_norms)
    if collapse is not None:
        mods = list(collapse.children()) if hasattr(collapse, "children") else list(collapse)
        mod_names = {}
        if hasattr(collapse, "named_modules"):
            mod_names = {id(m): n for n, m in collapse.named_modules()}
        wanted = {id(m) for m in mods}
        for n in nodes:
            mc = _module_calls.get(n)
            if mc is None or id(mc[0]) not in wanted:
                continue
            mod, boundary = mc
            bid = f"mod{id(n)}"
            box_norm[bid] = _gnorm(notes[n])  # the gradient reaching the module's output
            label = type(mod).__name__ + (f" ({mod_names[id(mod)]})" if id(mod) in
                                          mod_names else "")
            stop = set(boundary)
            stack = [n]
            while stack:
                x = stack.pop()
                if x in members or x in stop:
                    continue
                members[x] = (bid, label)
                for _, c in _edges(x):
                    if isinstance(c, Node) and c not in stop:
                        stack.append(c)

    hl = set()
    if highlight is not None:
        leaf, out = highlight
        hl = _path_set(nodes, edges, leaf, out)

    bw_nodes = [n for n in nodes if notes[n] is not None and notes[n].step is not None]
    bw_rank = {n: k + 1 for k, n in enumerate(sorted(bw_nodes, key=lambda n: notes[n].step))}

    leaf_norms = {leaf: _tensor_norm(leaf.grad) for leaf in leaves}
    op_norms = {n: _gnorm(notes[n]) for n in nodes}
    vals = [v for v in list(leaf_norms.values()) + list(op_norms.values()) if v]
    lo = math.log10(min(vals)) if vals else 0.0
    hi = math.log10(max(vals)) if vals else 0.0

    dot = gv.Digraph(graph_attr={"rankdir": rankdir, "fontsize": "10"},
                     node_attr={"fontsize": "10", "fontname": "Helvetica"})
    too_many = max_nodes is not None and len(nodes) > max_nodes
    if too_many:
        dot.node("summary", f"graph of {len(nodes)} ops and {len(leaves)} leaves\n"
                 f"(more than max_nodes={max_nodes}: collapsed)", shape="box")
        dot.node("root", _tensor_label(tensor, "output", show_shapes, show_values, show_grad,
                                       max_value_elems), shape="box")
        dot.edge("summary", "root")
        return dot

    def nid(x):
        if x in members:
            return members[x][0]
        return f"t{id(x)}" if isinstance(x, Tensor) else f"o{id(x)}"

    # leaves
    for leaf in leaves:
        kind = "Parameter" if type(leaf).__name__ == "Parameter" else "leaf"
        nm = leaf.name or names.get(id(leaf)) or kind
        attrs = {"shape": "box", "style": "filled,rounded",
                 "fillcolor": "#cfe8cf" if kind == "Parameter" else "#fff2b3"}
        if color_by == "grad_norm":
            attrs["fillcolor"] = _norm_colour(leaf_norms[leaf], lo, hi)
        if leaf in hl:
            attrs["penwidth"] = "3"
            attrs["color"] = "#d62728"
        dot.node(nid(leaf), _tensor_label(leaf, nm, show_shapes, show_values, show_grad,
                                          max_value_elems), **attrs)

    # ops and their output tensors
    drawn_boxes = set()
    bw_cluster = gv.Digraph(name="cluster_backward", graph_attr={
        "label": "created during backward (create_graph=True)", "style": "dashed",
        "color": "#888888"})
    has_bw = False
    for n in nodes:
        if n in members:
            bid, label = members[n]
            if bid not in drawn_boxes:
                drawn_boxes.add(bid)
                fill = "#e0e0ff"
                if color_by == "grad_norm" and box_norm.get(bid) is not None:
                    fill = _norm_colour(box_norm[bid], lo, hi)
                dot.node(bid, label, shape="box3d", style="filled", fillcolor=fill)
            continue
        made_in_bw = n in _hooks.made_in_backward
        target = bw_cluster if made_in_bw else dot
        has_bw = has_bw or made_in_bw
        lines = [n._op_name()]
        lines += _op_attrs(n)
        if n in bw_rank:
            lines.append(f"backward step {bw_rank[n]}")
        attrs = {"shape": "ellipse", "style": "filled", "fillcolor": "#f0f0f0"}
        if color_by == "grad_norm" and op_norms[n] is not None:
            attrs["fillcolor"] = _norm_colour(op_norms[n], lo, hi)
        if n in hl:
            attrs["penwidth"] = "3"
            attrs["color"] = "#d62728"
        target.node(nid(n), "\n".join(lines), **attrs)
        # the op's output tensor
        out_label = _node_output_label(n, notes[n], tensor, show_shapes, show_values,
                                       show_grad, max_value_elems)
        oattrs = {"shape": "box", "style": "rounded"}
        if n is tensor.grad_fn:
            oattrs.update(style="filled,rounded,bold", fillcolor="#ffd0d0")
        target.node(f"v{id(n)}", out_label, **oattrs)
        eattrs = {"color": "#d62728", "penwidth": "2.5"} if n in hl else {}
        target.edge(nid(n), f"v{id(n)}", arrowsize="0.6", **eattrs)
    if has_bw:
        dot.subgraph(bw_cluster)

    # edges, in the forward direction: producer's output -> consumer op
    drawn = set()
    for c, n, i in edges:
        src = nid(c) if isinstance(c, Tensor) else (
            members[c][0] if c in members else f"v{id(c)}")
        dst = nid(n)
        if src == dst:
            continue
        if (src, dst) in drawn:
            continue
        drawn.add((src, dst))
        attrs = {}
        if c in hl and n in hl:
            attrs.update(color="#d62728", penwidth="2.5")
            d = _edge_derivative(n, i)
            if d is not None:
                attrs["label"] = f"∂={d:.4g}"
                attrs["fontcolor"] = "#d62728"
        dot.edge(src, dst, **attrs)
    if tensor.grad_fn is None:
        dot.node("root", _tensor_label(tensor, "output", show_shapes, show_values, show_grad,
                                       max_value_elems), shape="box")
    return dot


make_dot = to_dot


def _tensor_label(t: Tensor, name, show_shapes, show_values, show_grad, max_elems) -> str:
    lines = [str(name)]
    if show_shapes:
        lines.append(f"{_shape_str(t.shape)} {np.dtype(t.dtype).name}")
    if show_values:
        v = _fmt_array(t._data, max_elems)
        if v is not None:
            lines.append(f"value {v}")
    if show_grad and t._grad is not None:
        g = _fmt_array(t._grad._data, max_elems)
        lines.append(f"grad {g}" if g is not None else f"|grad| {_tensor_norm(t._grad):.3g}")
    return "\n".join(lines)


def _gnorm(note):
    return None if note is None else note.gnorm


def _fmt_noted(arr, norm, max_elems):
    txt = None if arr is None else _fmt_array(arr, max_elems)
    return txt if txt is not None else (f"|{norm:.3g}|" if norm is not None else None)


def _node_output_label(n, note, root, show_shapes, show_values, show_grad, max_elems) -> str:
    """The box of an op's output: the tensor itself when it is the root, else what the node
    and the notes of ``record()`` know (the tensor is usually gone)."""
    names = _hooks.node_names.get(n)
    lines = [names[0]] if names and 0 in names else []
    if n is root.grad_fn:
        lines = [root.name or "output"]
        if show_shapes:
            lines.append(f"{_shape_str(root.shape)} {np.dtype(root.dtype).name}")
        v = _fmt_array(root._data, max_elems) if show_values else None
    else:
        if show_shapes and n._oshape is not None:
            lines.append(_shape_str(n._oshape))
        elif n._nout != 1:
            lines.append(f"{n._nout} outputs")
        v = _fmt_noted(note.value, note.vnorm, max_elems) if (show_values and note) else None
    if v is not None:
        lines.append(f"value {v}")
    if show_grad:
        if n is root.grad_fn and root._grad is not None:
            g = _fmt_array(root._grad._data, max_elems)
            lines.append(f"grad {g}" if g is not None else
                         f"|grad| {_tensor_norm(root._grad):.3g}")
        elif note is not None and note.gnorm is not None:
            g = None if note.grad is None else _fmt_array(note.grad, max_elems)
            lines.append(f"grad {g}" if g is not None else f"|grad| {note.gnorm:.3g}")
    return "\n".join(lines) or " "


# ---------------------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------------------

def draw(tensor: Tensor, path: str, format: str | None = None, **kwargs) -> str:
    """Render the graph of ``tensor`` to ``path`` (svg, png or pdf) with Graphviz's ``dot``.

    Args:
        tensor: the output to draw.
        path: the file to write; its extension picks the format unless ``format`` is given.
        format: "svg", "png" or "pdf".
        **kwargs: passed to ``to_dot``.

    Returns:
        The path written.
    """
    fmt = (format or os.path.splitext(path)[1].lstrip(".") or "svg").lower()
    if fmt not in ("svg", "png", "pdf"):
        raise ValueError(f"draw: format must be 'svg', 'png' or 'pdf', got {fmt!r}")
    if shutil.which("dot") is None:
        raise RuntimeError(INSTALL_HINT)
    dot = to_dot(tensor, **kwargs)
    data = dot.pipe(format=fmt)
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return path


# ---------------------------------------------------------------------------------------
# the backward sweep, one step at a time
# ---------------------------------------------------------------------------------------

@contextmanager
def record_grad_norms():
    """Within this block, backward notes for every node the norm of the gradient reaching
    it, which ``to_dot(..., color_by="grad_norm")`` then shows on every op (``record()``
    without the values)."""
    with record(values=False) as rec:
        yield rec


def _rule(node) -> str:
    """The op's vector-Jacobian rule: the return line(s) of its backward, as written."""
    try:
        src = textwrap.dedent(inspect.getsource(type(node).backward))
    except (OSError, TypeError):
        return "(custom backward)"
    body = [ln.strip() for ln in src.splitlines()[1:] if ln.strip() and not
            ln.strip().startswith(("#", '"""', "@"))]
    rets = [ln for ln in body if ln.startswith("return")]
    return "\n".join(rets[-2:] if rets else body[-1:])


class BackwardSteps(list):
    """The backward sweep as a list of steps; each step is a dict with the node, the rule it
    applies, the gradient it received and the drawing at that moment (``step["dot"]``).
    In Jupyter it shows a slider (ipywidgets) or the drawings one after another."""

    def _ipython_display_(self):  # pragma: no cover - needs a notebook
        from IPython.display import SVG, display

        try:
            import ipywidgets as w

            def show(i):
                s = self[i]
                print(s["text"])
                display(SVG(s["dot"].pipe(format="svg")))

            w.interact(show, i=w.IntSlider(min=0, max=len(self) - 1, value=0))
        except ImportError:
            for s in self:
                print(s["text"])
                display(s["dot"])


def backward_steps(loss: Tensor, gradient=None, **kwargs) -> BackwardSteps:
    """Run ``loss.backward()`` (keeping the graph) and return the sweep step by step.

    At each step the drawing highlights the node being processed, shows the vector-Jacobian
    rule it applies and the gradient it received; gradients arriving at a tensor from
    several consumers are shown accumulating (b = a + a receives 1 + 1).

    Args:
        loss: the output to differentiate.
        gradient: as for ``backward``.
        **kwargs: passed to ``to_dot``.
    """
    records = []
    rec = Recorder(values=False, steps=records)
    add_observer(rec)
    try:
        loss.backward(gradient, retain_graph=True)
    finally:
        remove_observer(rec)
    gv = _graphviz()
    steps = BackwardSteps()
    received = {}  # node or leaf -> gradient accumulated so far
    for k, (node, g, gxs) in enumerate(records):
        for (i, tgt) in _edges(node):
            gx = gxs[i] if i < len(gxs) else None
            if gx is None:
                continue
            arr = backend.to_numpy(getattr(gx, "_data", gx))
            received[tgt] = received.get(tgt, 0) + arr if tgt in received else arr.copy()
        base = to_dot(loss, **kwargs)
        dot = gv.Digraph(graph_attr=base.graph_attr, node_attr=base.node_attr)
        dot.body = list(base.body)
        dot.node(f"o{id(node)}", style="filled,bold", fillcolor="#ffb347", penwidth="3")
        for tgt, acc in received.items():
            tid = f"t{id(tgt)}" if isinstance(tgt, Tensor) else f"v{id(tgt)}"
            txt = _fmt_array(acc, 6)
            lab = f"grad so far: {txt}" if txt is not None else \
                f"|grad so far| {float(np.sqrt((acc.astype(float) ** 2).sum())):.3g}"
            dot.node(f"acc{k}_{id(tgt)}", lab, shape="note", fontsize="9")
            dot.edge(f"acc{k}_{id(tgt)}", tid, style="dotted", arrowhead="none")
        gtxt = _fmt_array(backend.to_numpy(getattr(g, "_data", g)), 6) if not isinstance(
            g, list) else "(several outputs)"
        text = (f"step {k + 1}/{len(records)}: {node._op_name()} receives grad {gtxt} and applies\n"
                f"    {_rule(node)}")
        steps.append({"node": node, "name": node._op_name(), "rule": _rule(node), "grad": g,
                      "text": text, "dot": dot})
    return steps


# ---------------------------------------------------------------------------------------
# per-layer gradient norms during training
# ---------------------------------------------------------------------------------------

class GradNormTracker:
    """Record the gradient norm of each parameter (or layer) after every backward.

    Example:
        >>> tracker = GradNormTracker(model)
        >>> for x, y in loader:
        ...     loss = F.cross_entropy(model(x), y); loss.backward()
        ...     tracker.record(); opt.step(); opt.zero_grad()
        >>> tracker.plot()
    """

    def __init__(self, model, by: str = "parameter"):
        self.model = model
        self.by = by
        self.history: dict[str, list[float]] = {}

    def record(self) -> dict[str, float]:
        norms = {}
        for name, p in self.model.named_parameters():
            if p.grad is None:
                continue
            key = name if self.by == "parameter" else name.rsplit(".", 1)[0]
            norms[key] = norms.get(key, 0.0) + _tensor_norm(p.grad) ** 2
        norms = {k: v ** 0.5 for k, v in norms.items()}
        for k, v in norms.items():
            self.history.setdefault(k, []).append(v)
        return norms

    def plot(self, ax=None, title: str | None = None):
        return plot_grad_norms(self.history, ax=ax, title=title)


def plot_grad_norms(history, ax=None, title: str | None = None, logy: bool = True):
    """Plot per-layer gradient norms (a dict name -> list of norms, or a tracker).

    With a single point per layer it draws bars (layer depth on x): the picture of vanishing
    gradients in a deep sigmoid net. Needs matplotlib (the ``notebooks`` extra).
    """
    import matplotlib.pyplot as plt  # noqa: PLC0415

    if isinstance(history, GradNormTracker):
        history = history.history
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    if all(len(v) == 1 for v in history.values()):
        names = list(history)
        ax.bar(range(len(names)), [history[n][0] for n in names], color="#4c72b0")
        ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
        ax.set_ylabel("gradient norm")
    else:
        for name, vals in history.items():
            ax.plot(vals, label=name)
        ax.set_xlabel("step")
        ax.set_ylabel("gradient norm")
        ax.legend(fontsize=7)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    return ax
