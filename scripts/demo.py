"""Demo: train a small MLP on the two-spirals problem (data generated here, offline).

It shows the whole loop a PyTorch user knows: a model, a loss, an optimizer, a tqdm progress
bar, and the test accuracy at the end.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from tqdm import tqdm

import autograd as ag
import nn
import nn.functional as F
import optim


def spirals(n: int, noise: float, rng: np.random.Generator):
    """Two interleaved spirals, a classic problem a linear model cannot solve."""
    t = np.sqrt(rng.random(n)) * 3 * np.pi
    cls = rng.integers(0, 2, n)
    r = t / (3 * np.pi)
    ang = t + np.pi * cls
    x = np.stack([r * np.cos(ang), r * np.sin(ang)], 1) + noise * rng.standard_normal((n, 2))
    return x.astype(np.float32), cls.astype(np.int64)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    ag.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    xtr, ytr = spirals(2000, 0.02, rng)
    xte, yte = spirals(1000, 0.02, rng)
    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                          nn.Linear(64, 2))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    print(model)
    t0 = time.perf_counter()
    bar = tqdm(range(args.epochs), desc="training", unit="epoch")
    for _ in bar:
        perm = rng.permutation(len(xtr))
        for i in range(0, len(xtr), 64):
            idx = perm[i:i + 64]
            x, y = ag.tensor(xtr[idx]), ag.tensor(ytr[idx])
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        bar.set_postfix(loss=f"{loss.item():.4f}")
    with ag.no_grad():
        pred = model(ag.tensor(xte)).argmax(1).numpy()
    acc = float((pred == yte).mean())
    print(f"test accuracy: {acc:.3f}  ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
