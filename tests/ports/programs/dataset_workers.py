"""A custom map-style Dataset read through a DataLoader with 2 worker processes (batching,
collation of (tensor, int) pairs, drop_last), an MLP trained with RMSprop and a
ReduceLROnPlateau schedule, and an evaluation pass over a TensorDataset."""
import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

P_DROP = 0.0


class Squares(Dataset):
    def __init__(self, n, dtype):
        rng = np.random.default_rng(6)
        self.x = rng.uniform(-1, 1, (n, 5))
        self.dtype = dtype

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        x = torch.tensor(self.x[i], dtype=self.dtype)
        return x, int((self.x[i] ** 2).sum() > 1.6)


def build(dtype):
    return {"model": nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Dropout(P_DROP),
                                   nn.Linear(16, 2)).to(dtype)}


def train(models, dtype, steps):
    model = models["model"]
    loader = DataLoader(Squares(steps * 8 + 3, dtype), batch_size=8, shuffle=False,
                        num_workers=2, drop_last=True)
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for x, y in loader:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        sched.step(loss.item())
        losses.append(loss.item())
    assert len(losses) == steps
    xs = torch.tensor(np.random.default_rng(7).uniform(-1, 1, (20, 5)), dtype=dtype)
    ev = DataLoader(TensorDataset(xs, (xs ** 2).sum(1) > 1.6), batch_size=6)
    with torch.no_grad():
        for xb, yb in ev:
            losses.append(loss_fn(model(xb), yb.long()).item())
    return losses
