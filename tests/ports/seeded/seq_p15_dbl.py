import torch
import torch.nn as nn
torch.manual_seed(0)
torch.set_printoptions(precision=5)
for cls in [nn.RNN, nn.GRU, nn.LSTM]:
    m = cls(2, 3, batch_first=True)
    x = torch.randn(2, 4, 2, requires_grad=True)
    y = m(x)[0]
    g, = torch.autograd.grad(y.pow(2).sum(), x, create_graph=True)
    print(cls.__name__, "gx", g.detach()[0])
    try:
        pen = g.pow(2).sum()
        pen.backward()
        print(cls.__name__, "dbl", m.weight_hh_l0.grad.norm())
    except Exception as e:
        print(cls.__name__, "dbl err", type(e).__name__, str(e)[:80])
attn = nn.MultiheadAttention(4, 2, batch_first=True)
x = torch.randn(1, 3, 4, requires_grad=True)
o, _ = attn(x, x, x)
g, = torch.autograd.grad(o.sum(), x, create_graph=True)
g.pow(2).sum().backward()
print("mha dbl", attn.in_proj_weight.grad.norm())
cell = nn.GRUCell(2, 3)
x = torch.randn(2, 2, requires_grad=True)
h = cell(x)
g, = torch.autograd.grad(h.sum(), x, create_graph=True)
g.sum().backward()
print("cell dbl", cell.weight_ih.grad.norm())
