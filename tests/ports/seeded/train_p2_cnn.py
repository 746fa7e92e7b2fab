import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(42)

class Net(nn.Module):
    def __init__(self, num_classes=5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, kernel_size=3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, stride=1, padding=1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Dropout2d(0.1),
        )
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(p=0.5),
            nn.Linear(16, 12),
            nn.LeakyReLU(0.1),
            nn.Linear(12, num_classes),
        )

    def forward(self, x):
        x = self.features(x)
        x = self.pool(x)
        return self.classifier(x)

model = Net()
print(model)
print(sum(p.numel() for p in model.parameters()), sum(p.numel() for p in model.parameters() if p.requires_grad))
for name, m in model.named_modules():
    print(repr(name), type(m).__name__)
for name, c in model.named_children():
    print(name, type(c).__name__)
for name, b in model.named_buffers():
    print(name, b.shape, b.dtype if b.dtype != torch.int64 else 'long', b.flatten()[:3])

X = torch.randn(40, 3, 16, 16)
y = torch.randint(0, 5, (40,))
loader = DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True, drop_last=False)
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
crit = nn.CrossEntropyLoss()
for epoch in range(2):
    model.train()
    running = 0.0
    for i, (xb, yb) in enumerate(loader):
        opt.zero_grad()
        out = model(xb)
        loss = crit(out, yb)
        loss.backward()
        opt.step()
        running += loss.item() * xb.size(0)
        print(epoch, i, f"{loss.item():.6f}", model.features[0].weight.grad.abs().sum().item() if model.features[0].weight.grad is not None else None)
    print("epoch", epoch, running / len(loader.dataset))
    print("bn1 running_mean", model.features[1].running_mean)
    print("bn1 running_var", model.features[1].running_var)
    print("bn1 num_batches_tracked", model.features[1].num_batches_tracked)

model.eval()
with torch.no_grad():
    o1 = model(X[:4])
    o2 = model(X[:4])
    print(o1)
    print(torch.equal(o1, o2))
model.train()
with torch.no_grad():
    o3 = model(X[:4])
    o4 = model(X[:4])
    print(o3)
    print(torch.equal(o3, o4))
print(model.training, model.features.training, model.classifier[1].training)
model.eval()
print(model.training, model.features[1].training)
probs = F.softmax(o1, dim=1)
print(probs.sum(1))
print(probs.max(1))
print(torch.topk(probs, 2, dim=1))
print(model.features[0].weight.grad.shape, model.features[1].weight.grad[:4])
print(model.state_dict()['features.1.num_batches_tracked'])
print([k for k in model.state_dict().keys()])
