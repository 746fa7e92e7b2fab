import math
import torch
import torch.nn.functional as F
# makemore MLP (Karpathy)
words = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "abigail"]
chars = sorted(list(set(''.join(words))))
stoi = {s: i + 1 for i, s in enumerate(chars)}; stoi['.'] = 0
itos = {i: s for s, i in stoi.items()}
vocab_size = len(itos)
block_size = 3
def build_dataset(words):
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + '.':
            ix = stoi[ch]
            X.append(context); Y.append(ix)
            context = context[1:] + [ix]
    return torch.tensor(X), torch.tensor(Y)
X, Y = build_dataset(words)
print(X.shape, X.dtype, Y.shape, Y.dtype)
g = torch.Generator().manual_seed(2147483647)
C = torch.randn((vocab_size, 5), generator=g)
W1 = torch.randn((15, 40), generator=g) * (5/3) / (15 ** 0.5)
b1 = torch.randn(40, generator=g) * 0.01
W2 = torch.randn((40, vocab_size), generator=g) * 0.01
b2 = torch.randn(vocab_size, generator=g) * 0
parameters = [C, W1, b1, W2, b2]
print(sum(p.nelement() for p in parameters))
for p in parameters:
    p.requires_grad = True
lossi = []
for i in range(30):
    ix = torch.randint(0, X.shape[0], (16,), generator=g)
    emb = C[X[ix]]
    h = torch.tanh(emb.view(-1, 15) @ W1 + b1)
    logits = h @ W2 + b2
    loss = F.cross_entropy(logits, Y[ix])
    for p in parameters:
        p.grad = None
    loss.backward()
    lr = 0.1 if i < 20 else 0.01
    for p in parameters:
        p.data += -lr * p.grad
    if i % 10 == 0:
        print(f'{i:7d}: {loss.item():.4f}')
    lossi.append(loss.log10().item())
print(lossi[-1])
@torch.no_grad()
def split_loss():
    emb = C[X]
    h = torch.tanh(emb.view(emb.shape[0], -1) @ W1 + b1)
    return F.cross_entropy(h @ W2 + b2, Y).item()
print(split_loss())
g = torch.Generator().manual_seed(2147483647 + 10)
for _ in range(5):
    out = []; context = [0] * block_size
    while True:
        emb = C[torch.tensor([context])]
        h = torch.tanh(emb.view(1, -1) @ W1 + b1)
        probs = F.softmax(h @ W2 + b2, dim=1)
        ix = torch.multinomial(probs, num_samples=1, generator=g).item()
        context = context[1:] + [ix]; out.append(ix)
        if ix == 0 or len(out) > 12: break
    print(''.join(itos[i] for i in out))
# bigram counts
N = torch.zeros((vocab_size, vocab_size), dtype=torch.int32)
for w in words:
    chs = ['.'] + list(w) + ['.']
    for ch1, ch2 in zip(chs, chs[1:]):
        N[stoi[ch1], stoi[ch2]] += 1
P = (N + 1).float(); P /= P.sum(1, keepdims=True)
print(P[0, :5], P.sum(1)[:3])
xs = torch.tensor([0, 5, 13]); xenc = F.one_hot(xs, num_classes=vocab_size).float()
print(xenc.shape, xenc.dtype)
W = torch.randn((vocab_size, vocab_size), generator=g, requires_grad=True)
for k in range(3):
    logits = xenc @ W
    counts = logits.exp(); probs = counts / counts.sum(1, keepdims=True)
    loss = -probs[torch.arange(3), torch.tensor([5, 13, 1])].log().mean() + 0.01 * (W ** 2).mean()
    W.grad = None; loss.backward(); W.data += -50 * W.grad
    print(loss.item())
# linear regression from scratch
torch.manual_seed(42)
true_w = torch.tensor([2, -3.4]); true_b = 4.2
Xr = torch.normal(0, 1, (100, 2)); yr = torch.matmul(Xr, true_w) + true_b
yr += torch.normal(0, 0.01, yr.shape); yr = yr.reshape((-1, 1))
w = torch.normal(0, 0.01, size=(2, 1), requires_grad=True); b = torch.zeros(1, requires_grad=True)
for epoch in range(3):
    for i in range(0, 100, 10):
        l = ((Xr[i:i+10] @ w + b - yr[i:i+10]) ** 2 / 2).sum()
        l.backward()
        with torch.no_grad():
            for param in [w, b]:
                param -= 0.03 * param.grad / 10
                param.grad.zero_()
    with torch.no_grad():
        print(f'epoch {epoch + 1}, loss {float(((Xr @ w + b - yr) ** 2 / 2).mean()):f}')
print(w.reshape(true_w.shape), b)
# polynomial fit
dtype = torch.float
x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
y = torch.sin(x)
torch.manual_seed(0)
a = torch.randn((), dtype=dtype, requires_grad=True); bb = torch.randn((), dtype=dtype, requires_grad=True)
c = torch.randn((), dtype=dtype, requires_grad=True); d = torch.randn((), dtype=dtype, requires_grad=True)
learning_rate = 1e-6
for t in range(300):
    y_pred = a + bb * x + c * x ** 2 + d * x ** 3
    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        print(t, loss.item())
    loss.backward()
    with torch.no_grad():
        a -= learning_rate * a.grad; bb -= learning_rate * bb.grad
        c -= learning_rate * c.grad; d -= learning_rate * d.grad
        a.grad = None; bb.grad = None; c.grad = None; d.grad = None
print(f'Result: y = {a.item()} + {bb.item()} x + {c.item()} x^2 + {d.item()} x^3')
p = torch.tensor([1, 2, 3]); xx = x.unsqueeze(-1).pow(p)
model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
loss_fn = torch.nn.MSELoss(reduction='sum')
for t in range(200):
    loss = loss_fn(model(xx), y)
    if t % 100 == 99: print(t, loss.item())
    model.zero_grad(); loss.backward()
    with torch.no_grad():
        for param in model.parameters():
            param -= 1e-6 * param.grad
print(model[0].weight)
