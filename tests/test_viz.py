"""autograd.viz: DOT structure, backward numbering, highlighted paths, colours, rendering."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import autograd as ag
from autograd import viz

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz `dot` binary not installed")


def parse(dot):
    """(node id -> label, set of (src, dst) edges, node id -> attribute string) from DOT."""
    nodes, edges, attrs = {}, set(), {}
    for line in dot.source.replace("\n", "\\n").split("\t"):
        line = line.strip().replace("\\n", "\n").strip()
        m = re.match(r'^(\w+) -> (\w+)', line)
        if m:
            edges.add((m.group(1), m.group(2)))
            continue
        m = re.match(r'^(\w+) \[(.*)\]$', line, re.S)
        if m and m.group(1) not in ("graph", "node", "edge"):
            lab = re.search(r'label=(?:"([^"]*)"|([^\s\]]+))', m.group(2))
            nodes[m.group(1)] = (lab.group(1) or lab.group(2) or "") if lab else ""
            attrs[m.group(1)] = m.group(2)
    return nodes, edges, attrs


def seeds_example():
    u = ag.tensor(1.5, dtype=ag.float64, requires_grad=True)
    v = ag.tensor(-0.7, dtype=ag.float64, requires_grad=True)
    u.name, v.name = "u", "v"
    x = u**2 - v**2
    y = u * v
    z = x**2 + y**2
    return u, v, z


def op_names(nodes):
    return sorted(lab.split("\n")[0] for k, lab in nodes.items() if k.startswith("o"))


def test_structure_of_the_seed_example():
    u, v, z = seeds_example()
    nodes, edges, _ = parse(viz.to_dot(z))
    assert op_names(nodes) == ["Add", "Mul", "Square", "Square", "Square", "Square", "Sub"]
    leaves = {k: lab for k, lab in nodes.items() if k.startswith("t")}
    assert sorted(lab.split("\n")[0] for lab in leaves.values()) == ["u", "v"]
    uid, vid = f"t{id(u)}", f"t{id(v)}"
    # u feeds Square(u) and Mul; v feeds Square(v) and Mul: 4 leaf edges
    leaf_edges = {(s, d) for s, d in edges if s in (uid, vid)}
    assert len(leaf_edges) == 4
    # each op has exactly one output box, and 7 ops => 7 op->value edges
    assert sum(1 for s, d in edges if s.startswith("o") and d.startswith("v")) == 7
    # total edges: 4 from leaves + 7 op->value + 6 value->op (Sq,Sq->Sub; Sub->Sq; Mul->Sq;
    # Sq,Sq->Add)
    assert len(edges) == 17
    out = nodes[f"v{id(z.grad_fn)}"]
    assert "value 4.2" in out and "()" in out


def test_values_grads_and_shapes_shown():
    w = ag.tensor([[1.0, 2.0]], requires_grad=True)
    w.name = "w"
    loss = (w * 3).sum()
    loss.backward()
    nodes, _, _ = parse(viz.to_dot(loss))
    lab = nodes[f"t{id(w)}"]
    assert "w" in lab and "(1, 2) float32" in lab and "value [[1.,2.]]" in lab
    assert "grad [[3.,3.]]" in lab
    nodes2, _, _ = parse(viz.to_dot(loss, show_values=False, show_grad=False,
                                     show_shapes=False))
    assert nodes2[f"t{id(w)}"] == "w"


def test_intermediate_names_shown():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.name = "hidden"
    out = h.sum()
    nodes, _, _ = parse(viz.to_dot(out))
    assert nodes[f"v{id(h.grad_fn)}"].startswith("hidden")


def test_op_attributes_shown():
    x = ag.randn(3, 4, requires_grad=True)
    y = x.sum(dim=1, keepdim=True)
    nodes, _, _ = parse(viz.to_dot(y))
    lab = nodes[f"o{id(y.grad_fn)}"]
    assert lab.startswith("Sum") and "axes=(1,)" in lab and "keepdim=True" in lab


def test_numbering_equals_real_backward_order():
    steps = []
    rec = viz.Recorder(values=False, steps=steps)
    from autograd.grad_mode import add_observer, remove_observer

    u, v, z = seeds_example()
    add_observer(rec)
    try:
        z.backward()
    finally:
        remove_observer(rec)
    real = [n for n, _, _ in steps]
    assert len(real) == 7  # every op of the seed example, once
    nodes, _, _ = parse(viz.to_dot(z))
    for k, n in enumerate(real, 1):
        assert f"backward step {k}" in nodes[f"o{id(n)}"]


def test_record_shows_values_grads_and_edge_derivatives_after_a_plain_backward():
    """The teaching picture of the seed example z = x² + y², x = u² − v², y = uv, drawn
    after a plain backward() that freed the graph."""
    with viz.record():
        u = ag.tensor(1.5, dtype=ag.float64, requires_grad=True)
        v = ag.tensor(-0.7, dtype=ag.float64, requires_grad=True)
        u.name, v.name = "u", "v"
        x = u**2 - v**2
        y = u * v
        x.name, y.name = "x", "y"
        z = x**2 + y**2
        z.name = "z"
        z.backward()  # no retain_graph: the saved arrays are gone
    xv, yv, uv, vv = 1.5**2 - 0.7**2, 1.5 * -0.7, 1.5, -0.7
    dot = viz.to_dot(z, highlight=(u, z))
    nodes, edges, attrs = parse(dot)

    def box(name):
        return next(lab for lab in nodes.values() if lab.split("\n")[0] == name)

    for name, val, grad in (("x", xv, 2 * xv), ("y", yv, 2 * yv), ("z", xv**2 + yv**2, 1.0),
                            ("u", uv, 4 * uv**3 - 2 * uv * vv**2),
                            ("v", vv, 4 * vv**3 - 2 * uv**2 * vv)):
        lab = box(name)
        got_v = float(re.search(r"value (\S+)", lab).group(1))
        got_g = float(re.search(r"grad (\S+)", lab).group(1))
        assert got_v == pytest.approx(val, rel=1e-3), (name, lab)
        assert got_g == pytest.approx(grad, rel=1e-3), (name, lab)
    # the edges on the two u -> z paths keep their local derivatives (closed forms)
    labels = [float(m) for m in re.findall(r'label="∂=([^"]+)"', dot.source)]
    for closed in (2 * uv, vv, 2 * xv, 2 * yv):  # ∂(u²)/∂u, ∂y/∂u, ∂(x²)/∂x, ∂(y²)/∂y
        assert any(d == pytest.approx(closed, rel=1e-3) for d in labels), (closed, labels)
    assert labels.count(1.0) >= 3  # Sub(u², ...), Add(x², ...), Add(..., y²)
    # without record() the same drawing has no intermediate values (the graph is freed)
    u2 = ag.tensor(1.5, dtype=ag.float64, requires_grad=True)
    z2 = (u2**2) ** 2
    z2.backward()
    assert "∂=" not in viz.to_dot(z2, highlight=(u2, z2)).source


def test_parameter_names_from_a_module():
    import nn

    model = nn.Sequential(nn.Linear(3, 2), nn.Tanh(), nn.Linear(2, 1))
    out = model(ag.randn(4, 3)).sum()
    nodes, _, _ = parse(viz.to_dot(out, params=model))
    first = {lab.split("\n")[0] for k, lab in nodes.items() if k.startswith("t")}
    assert {"0.weight", "0.bias", "2.weight", "2.bias"} <= first


def test_highlight_marks_exactly_the_paths():
    a = ag.tensor(2.0, requires_grad=True)
    b = ag.tensor(3.0, requires_grad=True)
    p = a * 2.0
    q = b.exp()
    r = p + q
    out = r * a
    dot = viz.to_dot(out, highlight=(b, out))
    nodes, edges, attrs = parse(dot)
    marked = {k for k, at in attrs.items() if "penwidth=3" in at}
    expected = {f"t{id(b)}", f"o{id(q.grad_fn)}", f"o{id(r.grad_fn)}", f"o{id(out.grad_fn)}"}
    assert marked == expected
    # the edge b -> Exp carries the local derivative exp(3)
    assert re.search(r"label=\"∂=20\.09\"", dot.source)
    dot2 = viz.to_dot(out, highlight=(a, out))
    _, _, attrs2 = parse(dot2)
    marked2 = {k for k, at in attrs2.items() if "penwidth=3" in at}
    assert marked2 == {f"t{id(a)}", f"o{id(p.grad_fn)}", f"o{id(r.grad_fn)}",
                       f"o{id(out.grad_fn)}"}


def test_colour_follows_grad_norm():
    a = ag.tensor([1e-4], requires_grad=True)
    b = ag.tensor([1.0], requires_grad=True)
    c = ag.tensor([1e3], requires_grad=True)
    loss = (a * 1e-3 + b * 1.0 + c * 1e3).sum()
    with viz.record_grad_norms():
        loss.backward()
    _, _, attrs = parse(viz.to_dot(loss, color_by="grad_norm"))

    def red(t):
        col = re.search(r'fillcolor="#([0-9a-f]{6})"', attrs[f"t{id(t)}"]).group(1)
        return int(col[:2], 16) - int(col[4:], 16)  # red minus blue

    assert red(a) < red(b) < red(c)


def test_double_backward_nodes_clustered_apart():
    x = ag.tensor(0.5, dtype=ag.float64, requires_grad=True)
    y = x.sin() * x
    (g,) = ag.grad(y, x, create_graph=True)
    dot = viz.to_dot(g)
    assert "subgraph cluster_backward" in dot.source
    assert "created during backward" in dot.source


def test_collapse_module_calls():
    import nn

    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    out = model(ag.randn(3, 4)).sum()
    full, _, _ = parse(viz.to_dot(out))
    small, _, _ = parse(viz.to_dot(out, collapse=model))
    boxes = [lab for k, lab in small.items() if k.startswith("mod")]
    assert sorted(boxes) == ["Linear (0)", "Linear (2)", "ReLU (1)"]
    assert len(small) < len(full)


@needs_dot
def test_render_svg_and_png(tmp_path):
    _, _, z = seeds_example()
    z.backward()
    svg = viz.draw(z, str(tmp_path / "g.svg"))
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    png = viz.draw(z, str(tmp_path / "g.png"))
    with open(png, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob("*.tmp"))


@needs_dot
def test_large_graph_draws(tmp_path):
    x = ag.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    path = viz.draw(y, str(tmp_path / "big.svg"))  # all 10,000 ops, laid out by dot
    assert ET.parse(path).getroot().tag.endswith("svg")
    assert viz.to_dot(y).source.count("Mul") == 10_000
    small = viz.to_dot(y, max_nodes=2000)  # or collapsed into a summary
    assert "10000 ops" in small.source


def test_without_dot_binary(monkeypatch, tmp_path):
    _, _, z = seeds_example()
    monkeypatch.setattr(shutil, "which", lambda name: None)
    dot = viz.to_dot(z)  # needs no binary
    assert "Add" in dot.source
    with pytest.raises(RuntimeError, match="apt-get install graphviz.*brew install graphviz"):
        viz.draw(z, str(tmp_path / "g.svg"))


def test_backward_steps_show_accumulation():
    a = ag.tensor(3.0, requires_grad=True)
    b = a + a
    c = b * 2.0
    steps = viz.backward_steps(c)
    assert [s["name"] for s in steps] == ["Mul", "Add"]
    assert "gy * b" in steps[0]["rule"] or "gy *" in steps[0]["rule"]
    assert "return gy, gy" in steps[1]["rule"]
    last = steps[-1]["dot"].source
    assert "grad so far: 4" in last  # b = a + a: a receives 2 + 2
    assert a.grad.item() == 4.0


def test_grad_norm_tracker():
    import nn

    model = nn.Sequential(nn.Linear(3, 3), nn.Sigmoid(), nn.Linear(3, 1))
    tr = viz.GradNormTracker(model, by="layer")
    for _ in range(3):
        model.zero_grad()
        model(ag.randn(5, 3)).sum().backward()
        norms = tr.record()
    assert set(norms) == {"0", "2"} and all(len(v) == 3 for v in tr.history.values())
    np.testing.assert_allclose(
        norms["2"], np.sqrt(sum(float((p.grad.numpy() ** 2).sum())
                                for p in model[2].parameters())), rtol=1e-6)
