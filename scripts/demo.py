"""Demo: train an MLP on the Fashion-MNIST sample that ships with the package (offline).

It shows the whole loop a PyTorch user knows (a Dataset and DataLoader, a model, a loss, an
optimizer, a tqdm progress bar), prints the test accuracy, and draws the backpropagation
graph of one training step.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys  # noqa: E402
import time
from pathlib import Path  # noqa: E402

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

import autograd as ag  # noqa: E402
import nn
import nn.functional as F
import optim
from autograd import viz
from autograd.data import DataLoader
from autograd.data.datasets import FashionMNIST


def evaluate(model, loader) -> float:
    model.eval()
    correct = total = 0
    with ag.no_grad():
        for x, y in loader:
            correct += int((model(x).argmax(1) == y).sum().item())
            total += len(y)
    model.train()
    return correct / total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="demo_out", help="folder for the graph drawing")
    args = ap.parse_args()

    ag.manual_seed(args.seed)
    train = FashionMNIST(root="sample", train=True)
    test = FashionMNIST(root="sample", train=False)
    train_loader = DataLoader(train, batch_size=64, shuffle=True)
    test_loader = DataLoader(test, batch_size=500)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128),
                          nn.ReLU(), nn.Linear(128, 10))
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    print(f"Fashion-MNIST sample: {len(train)} training and {len(test)} test images")
    print(model)
    t0 = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        bar = tqdm(train_loader, desc=f"epoch {epoch}/{args.epochs}", unit="batch")
        for x, y in bar:
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            bar.set_postfix(loss=f"{loss.item():.3f}")
    acc = evaluate(model, test_loader)
    print(f"test accuracy: {acc:.3f} after {args.epochs} epochs "
          f"({time.perf_counter() - t0:.1f} s)")

    # draw the graph of one step: each layer a box, coloured by gradient norm
    os.makedirs(args.out, exist_ok=True)
    x, y = next(iter(DataLoader(train, batch_size=8)))
    loss = F.cross_entropy(model(x), y)
    loss.name = "loss"
    with viz.record_grad_norms():
        loss.backward()
    kw = dict(params=dict(model.named_parameters()), collapse=model, color_by="grad_norm")
    if shutil.which("dot"):
        path = viz.draw(loss, os.path.join(args.out, "backprop_graph.svg"), **kw)
    else:
        path = os.path.join(args.out, "backprop_graph.gv")
        viz.to_dot(loss, **kw).save(path)
        print("(Graphviz's `dot` is not installed: wrote the DOT source instead)")
    print(f"backprop graph of one training step written to {path}")


if __name__ == "__main__":
    main()
