import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence, pack_sequence
torch.manual_seed(0)
torch.set_printoptions(precision=5)

seqs = [torch.randn(3, 2), torch.randn(5, 2), torch.randn(1, 2), torch.randn(4, 2)]
padded = pad_sequence(seqs, batch_first=True)
print("padded", padded.shape, padded)
padded2 = pad_sequence(seqs, padding_value=-1.0)
print("padded seqfirst", padded2.shape, padded2[:, 0])
lengths = torch.tensor([len(s) for s in seqs])
packed = pack_padded_sequence(padded, lengths, batch_first=True, enforce_sorted=False)
print("data", packed.data)
print("batch_sizes", packed.batch_sizes)
print("sorted_indices", packed.sorted_indices)
print("unsorted_indices", packed.unsorted_indices)
print(type(packed).__name__, isinstance(packed, tuple))

lstm = nn.LSTM(2, 3, batch_first=True, num_layers=2, bidirectional=True)
out, (h, c) = lstm(packed)
print("out type", type(out).__name__)
print("out data", out.data.detach())
unp, lens = pad_packed_sequence(out, batch_first=True)
print("unpacked", unp.shape, unp.detach())
print("lens", lens)
print("h", h.detach())
print("c", c.detach())
unp2, lens2 = pad_packed_sequence(out, batch_first=True, padding_value=9.0, total_length=7)
print("total_length", unp2.shape, unp2[2].detach())
loss = unp.sum() + h[-1].pow(2).sum()
loss.backward()
print("grad w_ih_l0", lstm.weight_ih_l0.grad)
print("grad w_hh_l1_reverse", lstm.weight_hh_l1_reverse.grad)

# GRU over packed with enforce_sorted=True on sorted input
order = torch.argsort(lengths, descending=True)
sorted_seqs = [seqs[i] for i in order]
ps = pack_sequence(sorted_seqs)
print("pack_sequence batch_sizes", ps.batch_sizes, ps.sorted_indices)
gru = nn.GRU(2, 4)
o, hh = gru(ps)
print("gru h", hh.detach())
ps2 = pack_sequence(seqs, enforce_sorted=False)
o2, hh2 = gru(ps2)
print("gru h unsorted", hh2.detach())
try:
    pack_padded_sequence(padded, lengths, batch_first=True)
except Exception as e:
    print("unsorted err", type(e).__name__)

# dropout between layers
torch.manual_seed(5)
rnn = nn.GRU(3, 4, num_layers=3, dropout=0.5)
x = torch.randn(4, 2, 3)
rnn.train()
y1, _ = rnn(x)
y2, _ = rnn(x)
print("train y1", y1.detach())
print("train differs", not torch.equal(y1, y2))
rnn.eval()
y3, _ = rnn(x)
y4, _ = rnn(x)
print("eval y", y3.detach(), torch.equal(y3, y4))

# LSTMCell / GRUCell / RNNCell loops
torch.manual_seed(7)
cell = nn.LSTMCell(3, 5)
gcell = nn.GRUCell(3, 5)
rcell = nn.RNNCell(3, 5, nonlinearity='tanh')
x = torch.randn(6, 2, 3)
hx = torch.zeros(2, 5); cx = torch.zeros(2, 5)
gh = torch.randn(2, 5)
rh = None
outs = []
for t in range(6):
    hx, cx = cell(x[t], (hx, cx))
    gh = gcell(x[t], gh)
    rh = rcell(x[t], rh)
    outs.append(hx)
outs = torch.stack(outs)
print("cell outs", outs.detach())
print("gh", gh.detach()); print("rh", rh.detach())
(outs.sum() + gh.sum() + rh.sum()).backward()
print("cell grad", cell.weight_hh.grad)
print("gcell grad", gcell.bias_ih.grad)
print("rcell grad", rcell.weight_ih.grad)
print(cell, gcell, rcell)
# unbatched cell
print(cell(torch.randn(3))[0].shape)
