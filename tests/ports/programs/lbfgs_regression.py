"""Non-linear regression fitted with L-BFGS and its strong-Wolfe line search (closure API),
then a few plain L-BFGS steps without line search."""
import numpy as np
import torch
import torch.nn as nn

P_DROP = 0.0


def build(dtype):
    torch.manual_seed(0)
    return {"model": nn.Sequential(nn.Linear(2, 10), nn.Tanh(), nn.Linear(10, 1)).to(dtype)}


def train(models, dtype, steps):
    model = models["model"]
    rng = np.random.default_rng(4)
    x = torch.tensor(rng.uniform(-1, 1, (64, 2)), dtype=dtype)
    y = torch.sin(3 * x[:, :1]) * x[:, 1:] + 0.5 * x[:, :1] ** 2
    losses = []
    opt = torch.optim.LBFGS(model.parameters(), lr=1, max_iter=2, history_size=5,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        return loss

    for _ in range(steps):
        losses.append(opt.step(closure).item())
    opt2 = torch.optim.LBFGS(model.parameters(), lr=0.5, max_iter=3)
    for _ in range(3):
        def closure2():
            opt2.zero_grad()
            loss = nn.functional.mse_loss(model(x), y)
            loss.backward()
            return loss
        losses.append(opt2.step(closure2).item())
    return losses
