import random
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
torch.manual_seed(0)
random.seed(0)

SRC_V, TGT_V, EMB, HID = 12, 11, 6, 8
SOS, EOS, PAD = 1, 2, 0

class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(SRC_V, EMB, padding_idx=PAD)
        self.rnn = nn.GRU(EMB, HID, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(2 * HID, HID)
        self.drop = nn.Dropout(0.2)
    def forward(self, src, lens):
        e = self.drop(self.emb(src))
        packed = nn.utils.rnn.pack_padded_sequence(e, lens, batch_first=True, enforce_sorted=False)
        out, h = self.rnn(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
        h = torch.tanh(self.fc(torch.cat((h[-2], h[-1]), dim=1)))
        return out, h

class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.Linear(2 * HID + HID, HID)
        self.v = nn.Linear(HID, 1, bias=False)
    def forward(self, hidden, enc_out, mask):
        L = enc_out.shape[1]
        hidden = hidden.unsqueeze(1).repeat(1, L, 1)
        energy = torch.tanh(self.attn(torch.cat((hidden, enc_out), dim=2)))
        a = self.v(energy).squeeze(2)
        a = a.masked_fill(mask == 0, -1e10)
        return F.softmax(a, dim=1)

class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(TGT_V, EMB)
        self.attention = Attention()
        self.rnn = nn.GRU(2 * HID + EMB, HID)
        self.out = nn.Linear(2 * HID + HID + EMB, TGT_V)
        self.drop = nn.Dropout(0.2)
    def forward(self, inp, hidden, enc_out, mask):
        e = self.drop(self.emb(inp.unsqueeze(0)))
        a = self.attention(hidden, enc_out, mask).unsqueeze(1)
        weighted = torch.bmm(a, enc_out).permute(1, 0, 2)
        o, h = self.rnn(torch.cat((e, weighted), dim=2), hidden.unsqueeze(0))
        pred = self.out(torch.cat((o.squeeze(0), weighted.squeeze(0), e.squeeze(0)), dim=1))
        return pred, h.squeeze(0), a.squeeze(1)

class Seq2Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = Encoder(); self.dec = Decoder()
    def forward(self, src, lens, trg, tf_ratio=0.5):
        B, T = trg.shape
        outputs = torch.zeros(T, B, TGT_V)
        enc_out, h = self.enc(src, lens)
        mask = (src != PAD)[:, :enc_out.shape[1]]
        inp = trg[:, 0]
        attns = []
        for t in range(1, T):
            out, h, a = self.dec(inp, h, enc_out, mask)
            outputs[t] = out
            attns.append(a)
            teacher = random.random() < tf_ratio
            inp = trg[:, t] if teacher else out.argmax(1)
        return outputs, torch.stack(attns, 1)

def init_weights(m):
    for name, p in m.named_parameters():
        if 'weight' in name:
            nn.init.normal_(p.data, mean=0, std=0.1)
        else:
            nn.init.constant_(p.data, 0)

model = Seq2Seq()
model.apply(init_weights)
print(sum(p.numel() for p in model.parameters() if p.requires_grad))
opt = optim.Adam(model.parameters(), lr=5e-3)
crit = nn.CrossEntropyLoss(ignore_index=PAD)

src = torch.randint(3, SRC_V, (4, 6))
lens = torch.tensor([6, 3, 5, 2])
for i, l in enumerate(lens):
    src[i, l:] = PAD
trg = torch.randint(3, TGT_V, (4, 5))
trg[:, 0] = SOS; trg[:, -1] = EOS; trg[1, 3:] = PAD
print(src); print(trg)
for epoch in range(5):
    model.train()
    opt.zero_grad()
    out, attn = model(src, lens, trg)
    loss = crit(out[1:].reshape(-1, TGT_V), trg.t()[1:].reshape(-1))
    loss.backward()
    gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    print(epoch, f"{loss.item():.6f}", f"{gn.item():.6f}")
model.eval()
with torch.no_grad():
    out, attn = model(src, lens, trg, 0.0)
    print("attn", attn[1])
    print("attn rows sum", attn.sum(-1))
    print("pred", out.argmax(-1).t())
    print(F.cross_entropy(out[1:].reshape(-1, TGT_V), trg.t()[1:].reshape(-1), ignore_index=PAD, reduction='sum'))
