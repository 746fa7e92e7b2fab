import math
import torch
import torch.nn as nn
import torch.nn.functional as F
torch.manual_seed(0)
torch.set_printoptions(precision=5)

class PositionalEncoding(nn.Module):
    def __init__(self, d_model, dropout=0.1, max_len=50):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, 1, d_model)
        pe[:, 0, 0::2] = torch.sin(position * div_term)
        pe[:, 0, 1::2] = torch.cos(position * div_term)
        self.register_buffer('pe', pe)
    def forward(self, x):
        x = x + self.pe[:x.size(0)]
        return self.dropout(x)

pe = PositionalEncoding(8)
print("pe", pe.pe[:3, 0], pe.pe.dtype)
print("buffers", [n for n, _ in pe.named_buffers()], list(pe.state_dict().keys()))

class TransformerModel(nn.Module):
    def __init__(self, ntoken, d_model, nhead, d_hid, nlayers, dropout=0.1, norm_first=False, act="relu"):
        super().__init__()
        self.pos_encoder = PositionalEncoding(d_model, dropout)
        layer = nn.TransformerEncoderLayer(d_model, nhead, d_hid, dropout, activation=act, norm_first=norm_first)
        self.transformer_encoder = nn.TransformerEncoder(layer, nlayers, enable_nested_tensor=False)
        self.embedding = nn.Embedding(ntoken, d_model)
        self.d_model = d_model
        self.linear = nn.Linear(d_model, ntoken)
        self.init_weights()
    def init_weights(self):
        initrange = 0.1
        self.embedding.weight.data.uniform_(-initrange, initrange)
        self.linear.bias.data.zero_()
        self.linear.weight.data.uniform_(-initrange, initrange)
    def forward(self, src, src_mask=None, pad_mask=None):
        src = self.embedding(src) * math.sqrt(self.d_model)
        src = self.pos_encoder(src)
        output = self.transformer_encoder(src, src_mask, src_key_padding_mask=pad_mask)
        return self.linear(output)

mask = nn.Transformer.generate_square_subsequent_mask(5)
print("mask", mask)
for norm_first, act in [(False, "relu"), (True, "gelu"), (False, F.gelu)]:
    torch.manual_seed(1)
    model = TransformerModel(20, 8, 2, 16, 2, 0.1, norm_first, act)
    print(sum(p.numel() for p in model.parameters()))
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    data = torch.randint(0, 20, (6, 3))
    tgt = torch.randint(0, 20, (6, 3))
    m = nn.Transformer.generate_square_subsequent_mask(6)
    model.train()
    for step in range(3):
        out = model(data, m)
        loss = F.cross_entropy(out.view(-1, 20), tgt.view(-1))
        opt.zero_grad(); loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        opt.step()
        print("train", norm_first, step, f"{loss.item():.6f}")
    model.eval()
    with torch.no_grad():
        pad = torch.zeros(3, 6, dtype=torch.bool); pad[0, 4:] = True
        out = model(data, m, pad)
        print("eval out", out[:2, 0])
        out2 = model(data)
        print("eval nomask", out2[-1, 2])

# decoder layer and full Transformer
torch.manual_seed(2)
tr = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=16, dropout=0.0, batch_first=True)
print(tr.encoder.layers[0].self_attn.in_proj_weight.sum().item())
src = torch.randn(2, 5, 8); tgt = torch.randn(2, 4, 8)
tm = tr.generate_square_subsequent_mask(4)
skpm = torch.tensor([[False]*5, [False, False, False, True, True]])
out = tr(src, tgt, tgt_mask=tm, src_key_padding_mask=skpm, memory_key_padding_mask=skpm)
print("transformer out", out.shape, out.detach()[1])
out.pow(2).mean().backward()
print("grad", tr.decoder.layers[1].multihead_attn.out_proj.weight.grad.norm())
print("grad enc", tr.encoder.layers[0].linear1.weight.grad.norm())
print("norm", type(tr.encoder.norm).__name__, type(tr.decoder.norm).__name__)
tr.eval()
with torch.no_grad():
    out = tr(src, tgt, tgt_mask=tm, tgt_is_causal=True)
    print("eval", out[0])

torch.manual_seed(3)
dl = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, norm_first=True, activation="gelu")
dec = nn.TransformerDecoder(dl, 2, norm=nn.LayerNorm(8))
mem = torch.randn(5, 2, 8); t = torch.randn(3, 2, 8)
o = dec(t, mem, tgt_mask=nn.Transformer.generate_square_subsequent_mask(3), tgt_key_padding_mask=torch.tensor([[False, False, True], [False]*3]))
print("decoder", o.detach())
print(dl)
# layer in train mode with dropout
torch.manual_seed(4)
el = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.2, batch_first=True)
x = torch.randn(2, 3, 8)
y = el(x)
print("dropout layer", y.detach())
el.eval()
print("eval layer", el(x).detach())
print("eval layer kpm", el(x, src_key_padding_mask=torch.tensor([[False, True, True], [False]*3])).detach())
