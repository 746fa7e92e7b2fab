"""An LSTM language model (the PyTorch word_language_model example's structure): embedding,
2-layer LSTM with dropout between layers, decoder, truncated BPTT with detached hidden
state, gradient clipping, plain SGD updates written by hand as in the example."""
import numpy as np
import torch
import torch.nn as nn

P_DROP = 0.2
NTOKEN, NINP, NHID = 13, 8, 12


class RNNModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(P_DROP)
        self.encoder = nn.Embedding(NTOKEN, NINP)
        self.rnn = nn.LSTM(NINP, NHID, 2, dropout=P_DROP)
        self.decoder = nn.Linear(NHID, NTOKEN)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output).view(-1, NTOKEN)
        return nn.functional.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        return (weight.new_zeros(2, bsz, NHID), weight.new_zeros(2, bsz, NHID))


def repackage_hidden(h):
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


def build(dtype):
    return {"model": RNNModel().to(dtype)}


def train(models, dtype, steps):
    model = models["model"]
    rng = np.random.default_rng(3)
    data = torch.tensor(rng.integers(0, NTOKEN, (steps * 5 + 1, 4)))
    criterion = nn.NLLLoss()
    hidden = model.init_hidden(4)
    lr = 2.0
    losses = []
    model.train()
    for i in range(steps):
        x, y = data[i * 5:(i + 1) * 5], data[i * 5 + 1:(i + 1) * 5 + 1].reshape(-1)
        model.zero_grad()
        hidden = repackage_hidden(hidden)
        output, hidden = model(x, hidden)
        loss = criterion(output, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
        losses.append(loss.item())
    return losses
