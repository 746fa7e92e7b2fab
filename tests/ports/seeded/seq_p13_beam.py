import torch
import torch.nn as nn
import torch.nn.functional as F
torch.manual_seed(0)
torch.set_printoptions(precision=5)

V, E, Hd = 9, 5, 6
BOS, EOS = 1, 2
emb = nn.Embedding(V, E)
dec = nn.LSTMCell(E, Hd)
proj = nn.Linear(Hd, V)

# teacher-forced training with label smoothing, (N, C, T) layout
tgt = torch.randint(3, V, (3, 6)); tgt[:, 0] = BOS; tgt[2, 4:] = 0
opt = torch.optim.Adagrad(list(emb.parameters()) + list(dec.parameters()) + list(proj.parameters()), lr=0.1)
for step in range(4):
    h = torch.zeros(3, Hd); c = torch.zeros(3, Hd)
    logits = []
    for t in range(5):
        h, c = dec(emb(tgt[:, t]), (h, c))
        logits.append(proj(h))
    logits = torch.stack(logits, dim=2)  # (N, V, T)
    loss = F.cross_entropy(logits, tgt[:, 1:], ignore_index=0, label_smoothing=0.1)
    opt.zero_grad(); loss.backward(); opt.step()
    print("step", step, f"{loss.item():.6f}", logits.shape)
loss_none = F.cross_entropy(logits, tgt[:, 1:], reduction='none', ignore_index=0)
print("per token", loss_none.detach())
oh = F.one_hot(tgt, num_classes=V)
print("one_hot", oh.shape, oh.dtype, oh[0, :2])
print(F.nll_loss(F.log_softmax(logits, 1), tgt[:, 1:], weight=torch.linspace(0.5, 1.5, V)).item())

@torch.no_grad()
def beam_search(beam=3, max_len=6):
    h = torch.zeros(1, Hd); c = torch.zeros(1, Hd)
    seqs = torch.full((1, 1), BOS, dtype=torch.long)
    scores = torch.zeros(1)
    finished = []
    for t in range(max_len):
        h, c = dec(emb(seqs[:, -1]), (h, c))
        logp = F.log_softmax(proj(h), dim=-1)
        cand = (scores.unsqueeze(1) + logp).view(-1)
        top, idx = cand.topk(beam)
        prev = torch.div(idx, V, rounding_mode='floor')
        tok = idx % V
        seqs = torch.cat([seqs.index_select(0, prev), tok.unsqueeze(1)], 1)
        h, c = h[prev], c[prev]
        scores = top
        done = tok == EOS
        for i in done.nonzero(as_tuple=True)[0].tolist():
            finished.append((scores[i].item(), seqs[i].tolist()))
        scores = scores.masked_fill(done, float('-inf'))
        print("t", t, seqs.tolist(), scores)
    return finished, seqs, scores

fin, seqs, scores = beam_search()
print("finished", [(round(s, 5), q) for s, q in fin])
best = scores.argmax()
print("best", seqs[best].tolist(), scores.max())
# gather / where / expand / repeat_interleave typical ops
x = torch.randn(2, 4, 3)
lengths = torch.tensor([2, 4])
last = x.gather(1, (lengths - 1).view(-1, 1, 1).expand(-1, 1, 3)).squeeze(1)
print("last", last)
mask = torch.arange(4).unsqueeze(0) < lengths.unsqueeze(1)
print("mask", mask)
mean_pool = (x * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)
print("mean pool", mean_pool)
max_pool = x.masked_fill(~mask.unsqueeze(-1), float('-inf')).max(1)
print("max pool", max_pool.values, max_pool.indices)
print(torch.repeat_interleave(torch.tensor([[1, 2], [3, 4]]), 2, dim=0))
print(torch.flip(x, [1])[0])
print(torch.where(mask, lengths.unsqueeze(1), -1))
r = nn.utils.rnn.pad_sequence([torch.tensor([1, 2, 3]), torch.tensor([4])], batch_first=True, padding_value=-100)
print(r, r.dtype)
