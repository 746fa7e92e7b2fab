import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
X = torch.rand(64, 1, 28, 28)
y = torch.randint(0, 10, (64,))
Xt = torch.rand(32, 1, 28, 28)
yt = torch.randint(0, 10, (32,))
training_data = TensorDataset(X, y)
test_data = TensorDataset(Xt, yt)
batch_size = 16
train_dataloader = DataLoader(training_data, batch_size=batch_size, shuffle=True)
test_dataloader = DataLoader(test_data, batch_size=batch_size)
for Xb, yb in test_dataloader:
    print(f"Shape of X [N, C, H, W]: {Xb.shape}")
    print(f"Shape of y: {yb.shape} {yb.dtype}")
    break

class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28*28, 32),
            nn.ReLU(),
            nn.Dropout(0.2),
            nn.Linear(32, 32),
            nn.ReLU(),
            nn.Linear(32, 10)
        )
    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits

model = NeuralNetwork()
print(model)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=1e-1)

def train(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        pred = model(X)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        loss, current = loss.item(), (batch + 1) * len(X)
        print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]", y.tolist())

def test(dataloader, model, loss_fn):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")

epochs = 3
for t in range(epochs):
    print(f"Epoch {t+1}\n-------------------------------")
    train(train_dataloader, model, loss_fn, optimizer)
    test(test_dataloader, model, loss_fn)
print("Done!")
for name, p in model.named_parameters():
    print(name, p.shape, p.sum().item())
print(model.linear_relu_stack[0].weight[0, :5])
print(model.linear_relu_stack[5].bias)
import io
buf = io.BytesIO()
torch.save(model.state_dict(), buf)
buf.seek(0)
model2 = NeuralNetwork()
print(model2.load_state_dict(torch.load(buf, weights_only=True)))
model2.eval()
x = Xt[0]
with torch.no_grad():
    pred = model2(x)
    print(pred, pred[0].argmax(0))
print(list(model.state_dict().keys()))
