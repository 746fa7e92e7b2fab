import math
import torch
import torch.nn as nn
import torch.nn.functional as F
torch.manual_seed(0)
torch.set_printoptions(precision=5)

q = torch.randn(2, 3, 4, 8, requires_grad=True)
k = torch.randn(2, 3, 6, 8, requires_grad=True)
v = torch.randn(2, 3, 6, 5, requires_grad=True)
o = F.scaled_dot_product_attention(q, k, v)
ref = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(8), -1) @ v
print("sdpa", o.shape, (o - ref).abs().max().item() < 1e-5)
print(o.detach()[0, 0])
o.sum().backward()
print("gq", q.grad[1, 2]); print("gk", k.grad[0, 0]); print("gv", v.grad[0, 1])
oc = F.scaled_dot_product_attention(q, k[:, :, :4], v[:, :, :4], is_causal=True)
print("causal", oc.detach()[1, 1])
oc2 = F.scaled_dot_product_attention(q, k, v, is_causal=True)
print("causal L!=S", oc2.detach()[0, 0])
bm = torch.rand(4, 6) > 0.3
bm[:, 0] = True
ob = F.scaled_dot_product_attention(q, k, v, attn_mask=bm)
print("bool mask", ob.detach()[0, 2])
fm = torch.randn(2, 1, 4, 6)
of = F.scaled_dot_product_attention(q, k, v, attn_mask=fm, dropout_p=0.0, scale=0.5)
print("float mask scale", of.detach()[1, 0])
try:
    F.scaled_dot_product_attention(q, k, v, attn_mask=bm, is_causal=True)
except Exception as e:
    print("both", type(e).__name__)
# fully masked row -> nan?
bm2 = torch.ones(4, 6, dtype=torch.bool); bm2[1] = False
print("fully masked", F.scaled_dot_product_attention(q, k, v, attn_mask=bm2).detach()[0, 0])
# enable_gqa
try:
    og = F.scaled_dot_product_attention(torch.randn(1, 4, 3, 8), torch.randn(1, 2, 3, 8), torch.randn(1, 2, 3, 8), enable_gqa=True)
    print("gqa", og.shape)
except Exception as e:
    print("gqa err", type(e).__name__, e)
# 3D input
print(F.scaled_dot_product_attention(torch.randn(2, 3, 4), torch.randn(2, 5, 4), torch.randn(2, 5, 4)).shape)

# EmbeddingBag
torch.manual_seed(1)
for mode in ["sum", "mean", "max"]:
    eb = nn.EmbeddingBag(10, 3, mode=mode)
    inp = torch.tensor([1, 2, 4, 5, 4, 3, 2, 9])
    offs = torch.tensor([0, 4])
    out = eb(inp, offs)
    print(mode, out.detach())
    out.pow(2).sum().backward()
    print(mode, "grad", eb.weight.grad)
    out2 = eb(torch.tensor([[1, 2, 4], [4, 3, 2]]))
    print(mode, "2d", out2.detach())
eb = nn.EmbeddingBag(10, 3, mode="sum", padding_idx=0)
print("psw", eb(torch.tensor([1, 0, 3, 0]), torch.tensor([0, 2]), per_sample_weights=torch.tensor([0.5, 1., 2., 3.])).detach())
eb2 = nn.EmbeddingBag(10, 3, mode="mean")
print("include_last", eb2(torch.tensor([1, 2, 3]), torch.tensor([0, 1, 3])).detach())
eb3 = nn.EmbeddingBag(10, 3, mode="mean", include_last_offset=True)
print("include_last_offset", eb3(torch.tensor([1, 2, 3, 4]), torch.tensor([0, 1, 4])).detach())
print(eb3)
eb4 = nn.EmbeddingBag.from_pretrained(torch.arange(12.).view(4, 3), mode="max")
print(eb4(torch.tensor([[0, 3], [1, 2]])))
print("F.embedding_bag", F.embedding_bag(torch.tensor([0, 1, 2]), torch.arange(12.).view(4, 3), torch.tensor([0, 2]), mode="sum"))

# CTC
torch.manual_seed(2)
T, C, N, S = 12, 5, 3, 4
logits = torch.randn(T, N, C, requires_grad=True)
lp = logits.log_softmax(2)
targets = torch.randint(1, C, (N, S), dtype=torch.long)
il = torch.full((N,), T, dtype=torch.long)
tl = torch.tensor([4, 2, 3])
for red in ["mean", "sum", "none"]:
    ctc = nn.CTCLoss(blank=0, reduction=red)
    loss = ctc(lp, targets, il, tl)
    print("ctc", red, loss.detach())
loss = nn.CTCLoss()(lp, targets, il, tl)
loss.backward()
print("ctc grad", logits.grad[:3, 0])
flat = torch.cat([targets[0, :4], targets[1, :2], targets[2, :3]])
print("ctc concat", F.ctc_loss(lp, flat, il, tl).item())
print("ctc inf", F.ctc_loss(lp[:2], targets, torch.tensor([2, 2, 2]), tl, reduction='none').detach())
print("ctc zero_inf", F.ctc_loss(lp[:2], targets, torch.tensor([2, 2, 2]), tl, reduction='none', zero_infinity=True).detach())
print("ctc varlen", F.ctc_loss(lp, targets, torch.tensor([12, 8, 10]), tl, reduction='sum', blank=4 if False else 0).item())
