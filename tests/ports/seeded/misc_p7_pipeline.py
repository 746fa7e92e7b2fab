import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset, DataLoader, random_split, WeightedRandomSampler

torch.manual_seed(0)
rng = np.random.RandomState(0)

class Blobs(Dataset):
    def __init__(self, n=60):
        self.X = rng.randn(n, 1, 6, 6).astype(np.float32)
        self.y = rng.randint(0, 3, size=n)
        self.w = rng.rand(n)
    def __len__(self):
        return len(self.y)
    def __getitem__(self, i):
        return self.X[i], int(self.y[i]), float(self.w[i])

ds = Blobs()
train, val = random_split(ds, [0.8, 0.2], generator=torch.Generator().manual_seed(3))
print(len(train), len(val), train.indices[:5])
counts = torch.bincount(torch.tensor([ds.y[i] for i in train.indices]), minlength=3)
print(counts)
weights = 1.0 / counts.float()
sample_w = weights[torch.tensor([ds.y[i] for i in train.indices])]
sampler = WeightedRandomSampler(sample_w, num_samples=len(train), replacement=True)
dl = DataLoader(train, batch_size=16, sampler=sampler)
vdl = DataLoader(val, batch_size=8)

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 3 * 3, 3)
    def forward(self, x):
        x = F.interpolate(x, scale_factor=0.5, mode='bilinear', align_corners=False)
        x = F.relu(self.conv(F.pad(x, (0, 0, 0, 0), mode='constant')))
        x = F.unfold(x, 1).view(x.size(0), -1)
        return self.fc(x)

model = Net()
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
for epoch in range(3):
    model.train()
    tot = 0.0
    for xb, yb, wb in dl:
        out = model(xb)
        loss = (F.cross_entropy(out, yb, reduction='none') * wb).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        tot += loss.item() * len(yb)
        print(type(xb).__name__, xb.dtype, yb.dtype, wb.dtype, loss.dtype, yb.tolist())
    model.eval()
    correct, n = 0, 0
    all_pred = []
    with torch.no_grad():
        for xb, yb, _ in vdl:
            logits = model(xb)
            top2 = logits.topk(2, dim=1).indices
            correct += (top2 == yb.unsqueeze(1)).any(1).sum().item()
            n += yb.numel()
            all_pred.append(logits.argmax(1))
    preds = torch.cat(all_pred)
    vals, cnt = preds.unique(return_counts=True)
    print(f"epoch {epoch} loss {tot / len(train):.6f} top2 {correct / n:.3f}", vals.tolist(), cnt.tolist())
conf = torch.zeros(3, 3, dtype=torch.long)
yv = torch.tensor([ds.y[i] for i in val.indices])
conf.index_put_((yv, preds), torch.ones_like(yv), accumulate=True)
print(conf, conf.diag().sum() / conf.sum())
print(torch.stack([p.grad.norm() for p in model.parameters()]))
