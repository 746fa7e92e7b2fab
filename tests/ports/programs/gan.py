"""A small GAN (DCGAN's recipe on 1x8x8 images): a generator with Linear, BatchNorm1d and
ReLU, a convolutional discriminator with LeakyReLU and Dropout2d, BCEWithLogitsLoss, two Adam
optimizers with betas=(0.5, 0.999), alternating updates with detach()."""
import numpy as np
import torch
import torch.nn as nn

P_DROP = 0.3
NZ = 6


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Linear(NZ, 32), nn.BatchNorm1d(32), nn.ReLU(True),
            nn.Linear(32, 64), nn.Tanh())

    def forward(self, z):
        return self.main(z).view(-1, 1, 8, 8)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, 4, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True), nn.Dropout2d(P_DROP),
            nn.Conv2d(4, 8, 4, 2, 1), nn.BatchNorm2d(8), nn.LeakyReLU(0.2, inplace=True),
            nn.Flatten(), nn.Linear(8 * 2 * 2, 1))

    def forward(self, x):
        return self.main(x).view(-1)


def build(dtype):
    return {"netG": Generator().to(dtype), "netD": Discriminator().to(dtype)}


def train(models, dtype, steps):
    netG, netD = models["netG"], models["netD"]
    rng = np.random.default_rng(5)
    real = torch.tensor(rng.uniform(-1, 1, (steps, 8, 1, 8, 8)), dtype=dtype)
    noise = torch.tensor(rng.standard_normal((steps, 8, NZ)), dtype=dtype)
    criterion = nn.BCEWithLogitsLoss()
    optD = torch.optim.Adam(netD.parameters(), lr=2e-3, betas=(0.5, 0.999))
    optG = torch.optim.Adam(netG.parameters(), lr=2e-3, betas=(0.5, 0.999))
    losses = []
    for i in range(steps):
        netD.zero_grad()
        label = torch.full((8,), 1.0, dtype=dtype)
        errD_real = criterion(netD(real[i]), label)
        errD_real.backward()
        fake = netG(noise[i])
        label.fill_(0.0)
        errD_fake = criterion(netD(fake.detach()), label)
        errD_fake.backward()
        optD.step()
        netG.zero_grad()
        label.fill_(1.0)
        errG = criterion(netD(fake), label)
        errG.backward()
        optG.step()
        losses += [(errD_real + errD_fake).item(), errG.item()]
    return losses
