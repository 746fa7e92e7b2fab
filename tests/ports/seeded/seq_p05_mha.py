import torch
import torch.nn as nn
import torch.nn.functional as F
torch.manual_seed(0)
torch.set_printoptions(precision=5)

E, H = 8, 2
mha = nn.MultiheadAttention(E, H, batch_first=True)
print(mha)
for n, p in mha.named_parameters():
    print(n, tuple(p.shape), round(p.abs().sum().item(), 4))
q = torch.randn(2, 4, E); k = torch.randn(2, 5, E); v = torch.randn(2, 5, E)
out, w = mha(q, k, v)
print("out", out.shape, out.detach()[0])
print("w", w.shape, w.detach()[1])
out, w = mha(q, k, v, average_attn_weights=False)
print("w per head", w.shape, w.detach()[0, 1])
out, w = mha(q, k, v, need_weights=False)
print("no weights", w)
kpm = torch.tensor([[False, False, False, True, True], [False, False, False, False, False]])
out, w = mha(q, k, v, key_padding_mask=kpm)
print("kpm w", w.detach()[0])
print("kpm out", out.detach()[0])
# float key padding mask
fkpm = torch.zeros(2, 5); fkpm[0, 3:] = float('-inf')
out2, w2 = mha(q, k, v, key_padding_mask=fkpm)
print("float kpm same", torch.allclose(out, out2, atol=1e-6))
# self attention with causal bool mask
x = torch.randn(2, 4, E, requires_grad=True)
causal = torch.triu(torch.ones(4, 4, dtype=torch.bool), diagonal=1)
o, w = mha(x, x, x, attn_mask=causal)
print("causal w", w.detach()[0])
fm = torch.zeros(4, 4).masked_fill(causal, float('-inf'))
o2, w2 = mha(x, x, x, attn_mask=fm)
print("float mask same", torch.allclose(o, o2, atol=1e-6))
o.sum().backward()
print("x grad", x.grad[0])
print("in_proj grad", mha.in_proj_weight.grad.norm())
print("out_proj grad", mha.out_proj.weight.grad.norm(), mha.out_proj.bias.grad)
# 3D attn_mask (B*H, L, S)
m3 = torch.zeros(4, 4, 5); m3[:, :, 0] = -1e9
o3, w3 = mha(q, k, v, attn_mask=m3)
print("3d mask w", w3.detach()[1])
# both masks
o4, w4 = mha(q, k, v, attn_mask=torch.zeros(4, 5, dtype=torch.bool), key_padding_mask=kpm, average_attn_weights=False)
print("both", w4.detach()[0, 0])
# seq-first, kdim/vdim, bias options
torch.manual_seed(1)
m2 = nn.MultiheadAttention(6, 3, kdim=4, vdim=5, add_bias_kv=True, add_zero_attn=True, dropout=0.0)
for n, p in m2.named_parameters():
    print(n, tuple(p.shape))
q = torch.randn(3, 2, 6); k = torch.randn(7, 2, 4); v = torch.randn(7, 2, 5)
o, w = m2(q, k, v)
print("kdim out", o.shape, o.detach()[:, 0])
print("kdim w", w.shape, w.detach()[0])
m3_ = nn.MultiheadAttention(6, 2, bias=False)
print([n for n, _ in m3_.named_parameters()])
# unbatched
o, w = mha(torch.randn(3, E), torch.randn(3, E), torch.randn(3, E))
print("unbatched", o.shape, w.shape)
# eval mode fast path
mha.eval()
with torch.no_grad():
    x = torch.randn(2, 4, E)
    o, w = mha(x, x, x, key_padding_mask=kpm[:, :4])
    print("eval", o[0], w[0])
    o, _ = mha(x, x, x, need_weights=False, is_causal=True, attn_mask=causal)
    print("eval causal", o[1])
try:
    nn.MultiheadAttention(7, 2)
except Exception as e:
    print("bad heads", type(e).__name__)
# dropout in train mode
torch.manual_seed(3)
md = nn.MultiheadAttention(E, H, dropout=0.3, batch_first=True)
x = torch.randn(1, 3, E)
o, w = md(x, x, x)
print("dropout w", w.detach())
print("dropout o", o.detach())
