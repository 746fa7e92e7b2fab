import torch
import torch.nn as nn
import torch.nn.functional as F
torch.manual_seed(0)
torch.set_printoptions(precision=5)

q = torch.randn(1, 2, 3, 4); k = torch.randn(1, 2, 3, 4); v = torch.randn(1, 2, 3, 4)
torch.manual_seed(1)
o = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
print("sdpa dropout", o)
torch.manual_seed(1)
o = F.scaled_dot_product_attention(q, k, v, dropout_p=0.3, is_causal=True)
print("sdpa dropout causal", o)
print("after", torch.rand(2))

torch.manual_seed(2)
layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, bias=False, layer_norm_eps=1e-6, batch_first=True)
print([n for n, _ in layer.named_parameters()])
print(layer.norm1)
x = torch.randn(2, 3, 8)
print(layer(x, is_causal=True, src_mask=nn.Transformer.generate_square_subsequent_mask(3)).detach()[0])

torch.manual_seed(3)
tr = nn.Transformer(8, 2, 1, 1, 16, 0.0, activation="gelu", norm_first=True, batch_first=True)
src, tgt = torch.randn(2, 4, 8), torch.randn(2, 3, 8)
print(tr(src, tgt, tgt_mask=tr.generate_square_subsequent_mask(3), tgt_is_causal=True).detach()[1])
mem = tr.encoder(src)
print("decoder", tr.decoder(tgt, mem, tgt_mask=nn.Transformer.generate_square_subsequent_mask(3)).detach()[0, 0])

# F.multi_head_attention_forward direct
torch.manual_seed(4)
m = nn.MultiheadAttention(4, 2)
x = torch.randn(3, 2, 4)
o, w = F.multi_head_attention_forward(x, x, x, 4, 2, m.in_proj_weight, m.in_proj_bias, None, None, False, 0.0, m.out_proj.weight, m.out_proj.bias, training=False)
print("mhaf", o.detach()[0], w.detach()[0])
# separate proj weights
m2 = nn.MultiheadAttention(4, 2, kdim=3, vdim=3)
print([n for n, _ in m2.named_parameters()], m2._qkv_same_embed_dim)
o, w = m2(torch.randn(2, 1, 4), torch.randn(5, 1, 3), torch.randn(5, 1, 3), average_attn_weights=False)
print(o.shape, w.shape)
# MHA with is_causal and need_weights
x = torch.randn(2, 3, 4)
mb = nn.MultiheadAttention(4, 2, batch_first=True)
cm = nn.Transformer.generate_square_subsequent_mask(3)
o1, w1 = mb(x, x, x, attn_mask=cm, is_causal=True)
print("is_causal w", w1.detach()[0])
# key_padding_mask all masked row -> nan?
kpm = torch.tensor([[True, True, True], [False, False, True]])
o2, w2 = mb(x, x, x, key_padding_mask=kpm)
print("all masked", o2.detach()[0], w2.detach()[0])
mb.eval()
with torch.no_grad():
    o3, w3 = mb(x, x, x, key_padding_mask=kpm)
    print("all masked eval", o3[0], w3[0])
# attention weights backprop
mb.train()
o, w = mb(x, x, x)
w.sum().backward()
print("w grad", mb.in_proj_weight.grad.abs().sum())
