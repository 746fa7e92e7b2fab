"""A variable-length sequence classifier: embedding, padded batches packed with
pack_padded_sequence (unsorted lengths), a 2-layer bidirectional GRU on the packed batch,
the final hidden states and a masked mean over pad_packed_sequence's output, a head with
spectral-norm, orthogonal and weight-norm parametrizations, gradient clipping, Adam."""
import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils import parametrizations
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

P_DROP = 0.1
NTOKEN, EMB, HID, NCLASS = 11, 6, 5, 3


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(NTOKEN, EMB, padding_idx=0)
        self.rnn = nn.GRU(EMB, HID, num_layers=2, bidirectional=True, batch_first=True,
                          dropout=P_DROP)
        self.mix = parametrizations.spectral_norm(nn.Linear(4 * HID, 4 * HID))
        self.rot = parametrizations.orthogonal(nn.Linear(4 * HID, 4 * HID, bias=False))
        self.head = parametrizations.weight_norm(nn.Linear(4 * HID, NCLASS))

    def forward(self, tokens, lengths):
        emb = self.embed(tokens)
        packed = pack_padded_sequence(emb, lengths, batch_first=True, enforce_sorted=False)
        out, h_n = self.rnn(packed)
        padded, lens = pad_packed_sequence(out, batch_first=True)
        mean = padded.sum(1) / lens.unsqueeze(1).to(padded.dtype)
        last = torch.cat([h_n[-2], h_n[-1]], dim=1)
        z = torch.tanh(self.mix(torch.cat([mean, last], dim=1)))
        return self.head(self.rot(z))


def build(dtype):
    return {"model": Classifier().to(dtype)}


def batch(rng, n):
    lengths = rng.integers(1, 8, n)
    seqs = [torch.tensor(rng.integers(1, NTOKEN, int(k))) for k in lengths]
    labels = torch.tensor([int(s.sum()) % NCLASS for s in seqs])
    return pad_sequence(seqs, batch_first=True), torch.tensor(lengths), labels


def train(models, dtype, steps):
    model = models["model"]
    rng = np.random.default_rng(5)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    criterion = nn.CrossEntropyLoss()
    losses = []
    model.train()
    for _ in range(steps):
        tokens, lengths, labels = batch(rng, 6)
        opt.zero_grad()
        loss = criterion(model(tokens, lengths), labels)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    return losses
