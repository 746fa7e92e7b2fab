"""A small CNN classifier (conv, max-pool, dropout, linear) trained with SGD + momentum,
weight decay and a StepLR schedule, on synthetic 1x12x12 images."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

P_DROP = 0.25


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1)
        self.conv2 = nn.Conv2d(4, 8, 3, 1, padding=1)
        self.dropout1 = nn.Dropout(P_DROP)
        self.fc1 = nn.Linear(8 * 5 * 5, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = self.conv2(x)
        x = F.max_pool2d(F.relu(x), 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return F.log_softmax(self.fc2(x), dim=1)


def build(dtype):
    return {"model": Net().to(dtype)}


def train(models, dtype, steps):
    model = models["model"]
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal((steps, 8, 1, 12, 12)), dtype=dtype)
    y = torch.tensor(rng.integers(0, 3, (steps, 8)))
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    sched = optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.7)
    losses = []
    model.train()
    for i in range(steps):
        opt.zero_grad()
        loss = F.nll_loss(model(x[i]), y[i])
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        losses.append(F.nll_loss(model(x[0]), y[0], reduction="sum").item())
    return losses
