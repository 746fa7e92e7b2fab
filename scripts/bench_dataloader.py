#!/usr/bin/env python
"""One epoch of the MLP (784-256-128-10, SGD with momentum) on Fashion-MNIST's 60,000
training images read sample by sample through a ``DataLoader`` (batch 64, shuffled, a
per-sample transform: uint8 -> float32 in [0, 1], flattened), with ``num_workers`` 0 and 2,
in this engine and in PyTorch (when installed), side by side in one run.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python scripts/bench_dataloader.py
    python scripts/bench_dataloader.py --workers 0,2 --limit 20000 --threads 1

The data is looked up in ``--data-dir``, then ../shared/data/fashion-mnist and
/usr/share/datasets/fashion-mnist; ``--limit`` shortens the epoch. Each configuration runs
once after an untimed warm-up of 20 batches; the times are wall-clock seconds per epoch,
worker start-up included (as a user waits for it).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import numpy as np  # noqa: E402

import autograd as ag  # noqa: E402
import nn  # noqa: E402
import optim  # noqa: E402
from autograd.data import DataLoader, Dataset  # noqa: E402
from autograd.data.datasets import read_idx  # noqa: E402

DIRS = [HERE.parent.parent / "shared" / "data" / "fashion-mnist",
        Path("/usr/share/datasets/fashion-mnist")]


class Images(Dataset):
    """The images as uint8 arrays, converted one sample at a time (as a transform would)."""

    def __init__(self, x, y, as_tensor):
        self.x, self.y, self.as_tensor = x, y, as_tensor

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.as_tensor(self.x[i].reshape(-1).astype(np.float32) / 255.0), int(self.y[i])


def _mlp(lib):
    return lib.Sequential(lib.Linear(784, 256), lib.ReLU(), lib.Linear(256, 128), lib.ReLU(),
                          lib.Linear(128, 10))


def epoch(loader_cls, ds, lib, opt_mod, loss_fn, workers, seed_fn):
    seed_fn(0)
    model = _mlp(lib)
    opt = opt_mod.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loader = loader_cls(ds, batch_size=64, shuffle=True, num_workers=workers)
    t0, n, last = None, 0, None
    for k, (x, y) in enumerate(loader):
        if k == 20:
            t0 = time.perf_counter()
            n = 0
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        n += len(y)
        last = loss.item()
    return time.perf_counter() - t0, n, last


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", default="0,2")
    ap.add_argument("--limit", type=int, default=None, help="use the first N images")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--threads", type=int, default=1, help="BLAS/PyTorch threads")
    args = ap.parse_args(argv)
    ag.set_num_threads(args.threads)
    dirs = ([Path(args.data_dir)] if args.data_dir else []) + DIRS
    d = next((p for p in dirs if (p / "train-images-idx3-ubyte.gz").exists()), None)
    if d is None:
        print("bench_dataloader: Fashion-MNIST not found in " + ", ".join(map(str, dirs)))
        return 2
    x = read_idx(str(d / "train-images-idx3-ubyte.gz"))
    y = read_idx(str(d / "train-labels-idx1-ubyte.gz"))
    if args.limit:
        x, y = x[:args.limit], y[:args.limit]
    workers = [int(w) for w in args.workers.split(",")]
    try:
        import torch
        import torch.utils.data as tud
        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
    print(f"{len(x)} images from {d}; batch 64; threads {args.threads}; "
          f"{os.cpu_count()} CPUs; times exclude the first 20 batches")
    rows = []
    for w in workers:
        ours = epoch(DataLoader, Images(x, y, ag.from_numpy), nn, optim,
                     nn.functional.cross_entropy, w, ag.manual_seed)
        theirs = None
        if torch is not None:
            theirs = epoch(tud.DataLoader, Images(x, y, torch.from_numpy), torch.nn,
                           torch.optim, torch.nn.functional.cross_entropy, w,
                           torch.manual_seed)
        rows.append((w, ours, theirs))
        print(f"  workers={w}: engine {ours[0]:.2f} s ({ours[1] / ours[0]:.0f} samples/s, last "
              f"loss {ours[2]:.3f})" + (f"; torch {theirs[0]:.2f} s ({theirs[1] / theirs[0]:.0f}"
                                         f" samples/s); engine/torch {ours[0] / theirs[0]:.2f}x"
                                         if theirs else ""), flush=True)
    base = rows[0][1][0]
    for w, ours, _ in rows[1:]:
        print(f"engine: workers={w} vs workers={rows[0][0]}: {base / ours[0]:.2f}x faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
