"""Draw the seeds' examples into a folder (SVG and PNG) with autograd.viz.

    python scripts/draw_graph.py --out graphs/

1. the dependency-graph example z = x² + y², x = u² − v², y = u·v, after backward, with the
   two paths from u to z highlighted and their local derivatives on the edges;
2. the 2-2-1 XOR network with the hand-set weights W = [[1,1],[1,1]], b = [0,−1],
   U = [1,−2], c = 0, coloured by gradient norm;
3. one LeNet-5 training step, with each layer collapsed into a box, and in full.
"""

from __future__ import annotations

import argparse
import os
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

import autograd as ag  # noqa: E402
import nn
import nn.functional as F
from autograd import viz


def seeds_example(out: str) -> list[str]:
    u = ag.tensor(1.5, requires_grad=True)
    v = ag.tensor(-0.7, requires_grad=True)
    u.name, v.name = "u", "v"
    x = u**2 - v**2
    y = u * v
    z = x**2 + y**2
    z.name = "z"
    z.backward(retain_graph=True)
    return [viz.draw(z, os.path.join(out, f"seeds_example.{ext}"), highlight=(u, z))
            for ext in ("svg", "png")]


def xor_network(out: str) -> list[str]:
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    with ag.no_grad():
        model[0].weight.copy_(ag.tensor([[1.0, 1.0], [1.0, 1.0]]))
        model[0].bias.copy_(ag.tensor([0.0, -1.0]))
        model[2].weight.copy_(ag.tensor([[1.0, -2.0]]))
        model[2].bias.copy_(ag.tensor([0.0]))
    x = ag.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    target = ag.tensor([[0.0], [1.0], [1.0], [0.0]])
    pred = model(x)
    loss = F.mse_loss(pred, target + 0.1)  # a small offset so there is a gradient to show
    loss.name = "loss"
    with viz.record_grad_norms():
        loss.backward()
    params = dict(model.named_parameters())
    return [viz.draw(loss, os.path.join(out, f"xor_2_2_1.{ext}"), params=params,
                     color_by="grad_norm") for ext in ("svg", "png")]


def lenet_step(out: str) -> list[str]:
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )
    x = ag.randn(8, 1, 28, 28)
    y = ag.randint(0, 10, (8,))
    loss = F.cross_entropy(model(x), y)
    loss.name = "loss"
    loss.backward()
    params = dict(model.named_parameters())
    paths = [viz.draw(loss, os.path.join(out, f"lenet_step_collapsed.{ext}"), params=params,
                      collapse=model, rankdir="TB") for ext in ("svg", "png")]
    paths.append(viz.draw(loss, os.path.join(out, "lenet_step_full.svg"), params=params))
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="graphs", help="output folder")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    ag.manual_seed(0)
    for fn in (seeds_example, xor_network, lenet_step):
        for p in fn(args.out):
            print("wrote", p)


if __name__ == "__main__":
    main()
