import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
torch.manual_seed(42)

text = "hello world, this is a tiny char level language model. hello again!"
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
itos = {i: c for c, i in stoi.items()}
data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
print("vocab", len(chars), "data", data.shape, data.dtype)

class CharLSTM(nn.Module):
    def __init__(self, vocab, emb=8, hidden=16, layers=2):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb)
        self.lstm = nn.LSTM(emb, hidden, num_layers=layers, batch_first=True, dropout=0.1)
        self.head = nn.Linear(hidden, vocab)
    def forward(self, x, state=None):
        e = self.emb(x)
        o, state = self.lstm(e, state)
        return self.head(o), state

model = CharLSTM(len(chars))
print(model)
print("params", sum(p.numel() for p in model.parameters()))
opt = optim.Adam(model.parameters(), lr=1e-2)
seq_len, bs = 10, 4
for step in range(8):
    ix = torch.randint(0, len(data) - seq_len - 1, (bs,))
    x = torch.stack([data[i:i + seq_len] for i in ix])
    y = torch.stack([data[i + 1:i + seq_len + 1] for i in ix])
    logits, _ = model(x)
    loss = F.cross_entropy(logits.view(-1, len(chars)), y.view(-1))
    opt.zero_grad()
    loss.backward()
    gn = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    opt.step()
    print(f"step {step} ix {ix.tolist()} loss {loss.item():.6f} gradnorm {gn.item():.6f}")

# truncated BPTT with detach
state = None
model.train()
for chunk in range(3):
    x = data[chunk * 10: chunk * 10 + 10].unsqueeze(0)
    y = data[chunk * 10 + 1: chunk * 10 + 11].unsqueeze(0)
    logits, state = model(x, state)
    state = tuple(s.detach() for s in state)
    loss = F.cross_entropy(logits.transpose(1, 2), y)
    opt.zero_grad(); loss.backward()
    nn.utils.clip_grad_value_(model.parameters(), 0.05)
    opt.step()
    print("tbptt", chunk, round(loss.item(), 5))

# sampling
model.eval()
with torch.no_grad():
    x = torch.tensor([[stoi['h']]])
    state = None
    out = ['h']
    for _ in range(20):
        logits, state = model(x, state)
        probs = F.softmax(logits[:, -1] / 0.8, dim=-1)
        nxt = torch.multinomial(probs, 1)
        out.append(itos[nxt.item()])
        x = nxt
    print("sample", repr(''.join(out)))
    logits, _ = model(data[:5].unsqueeze(0))
    print("greedy", logits.argmax(-1).tolist())
    print("logprobs", F.log_softmax(logits, -1)[0, :2])
print(model.state_dict().keys())
print({k: tuple(v.shape) for k, v in model.state_dict().items()})
