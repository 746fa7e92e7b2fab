import torch
from torch import nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset, random_split
torch.manual_seed(0)
# softmax regression from scratch
def softmax(X):
    X_exp = torch.exp(X); partition = X_exp.sum(1, keepdim=True); return X_exp / partition
Xs = torch.randn(60, 6); ys = torch.randint(0, 3, (60,))
W = torch.normal(0, 0.01, size=(6, 3), requires_grad=True); b = torch.zeros(3, requires_grad=True)
def net(X): return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)
def cross_entropy(y_hat, y): return -torch.log(y_hat[range(len(y_hat)), y])
def accuracy(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())
for epoch in range(3):
    for i in range(0, 60, 20):
        l = cross_entropy(net(Xs[i:i+20]), ys[i:i+20]); l.mean().backward()
        with torch.no_grad():
            for p in (W, b): p -= 0.5 * p.grad; p.grad.zero_()
    print(epoch, float(cross_entropy(net(Xs), ys).mean()), accuracy(net(Xs), ys) / 60)
# MNIST-like MLP
torch.manual_seed(1)
images = torch.rand(100, 1, 8, 8); labels = torch.randint(0, 10, (100,))
ds = TensorDataset(images, labels)
train_ds, val_ds = random_split(ds, [80, 20], generator=torch.Generator().manual_seed(42))
print(len(train_ds), len(val_ds), train_ds.indices[:5])
g = torch.Generator(); g.manual_seed(0)
train_loader = DataLoader(train_ds, batch_size=16, shuffle=True, generator=g)
val_loader = DataLoader(val_ds, batch_size=16)
class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 10))
    def forward(self, x): return self.linear_relu_stack(self.flatten(x))
model = MLP()
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=1e-1, momentum=0.9)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
for epoch in range(3):
    model.train()
    for batch, (X, y) in enumerate(train_loader):
        pred = model(X); loss = loss_fn(pred, y)
        loss.backward(); optimizer.step(); optimizer.zero_grad()
        if batch % 2 == 0:
            print(f"loss: {loss.item():>7f}  [{(batch + 1) * len(X):>5d}/{len(train_loader.dataset):>5d}]")
    scheduler.step()
    model.eval(); test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in val_loader:
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    print(f"Accuracy: {(100 * correct / len(val_ds)):>0.1f}%, Avg loss: {test_loss / len(val_loader):>8f}", scheduler.get_last_lr())
print(F.softmax(model(images[:2]), dim=1).max(1))
print(torch.argmax(model(images[:4]), dim=1))
