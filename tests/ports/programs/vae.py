"""A variational autoencoder (the PyTorch example's architecture, smaller): reparameterised
sampling with noise supplied per step, BCE reconstruction + KL divergence, Adam."""
import numpy as np
import torch
from torch import nn, optim
from torch.nn import functional as F

P_DROP = 0.0


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(36, 20)
        self.fc21 = nn.Linear(20, 4)
        self.fc22 = nn.Linear(20, 4)
        self.fc3 = nn.Linear(4, 20)
        self.fc4 = nn.Linear(20, 36)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar, eps):
        std = torch.exp(0.5 * logvar)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x, eps):
        mu, logvar = self.encode(x.view(-1, 36))
        z = self.reparameterize(mu, logvar, eps)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 36), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def build(dtype):
    return {"model": VAE().to(dtype)}


def train(models, dtype, steps):
    model = models["model"]
    rng = np.random.default_rng(1)
    data = torch.tensor(rng.uniform(0, 1, (steps, 16, 6, 6)), dtype=dtype)
    noise = torch.tensor(rng.standard_normal((steps, 16, 4)), dtype=dtype)
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for i in range(steps):
        optimizer.zero_grad()
        recon, mu, logvar = model(data[i], noise[i])
        loss = loss_function(recon, data[i], mu, logvar)
        loss.backward()
        optimizer.step()
        losses.append(loss.item() / len(data[i]))
    return losses
