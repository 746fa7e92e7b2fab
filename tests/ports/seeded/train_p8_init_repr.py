import math
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(11)
w = torch.empty(3, 5)
for name, fn in [
    ("uniform_", lambda t: nn.init.uniform_(t, a=-0.5, b=0.5)),
    ("normal_", lambda t: nn.init.normal_(t, mean=1.0, std=0.1)),
    ("constant_", lambda t: nn.init.constant_(t, 0.3)),
    ("ones_", nn.init.ones_), ("zeros_", nn.init.zeros_), ("eye_", nn.init.eye_),
    ("xavier_uniform_", nn.init.xavier_uniform_),
    ("xavier_uniform_g", lambda t: nn.init.xavier_uniform_(t, gain=nn.init.calculate_gain('relu'))),
    ("xavier_normal_", nn.init.xavier_normal_),
    ("kaiming_uniform_", nn.init.kaiming_uniform_),
    ("kaiming_uniform_a", lambda t: nn.init.kaiming_uniform_(t, a=math.sqrt(5))),
    ("kaiming_normal_", lambda t: nn.init.kaiming_normal_(t, mode='fan_out', nonlinearity='relu')),
    ("kaiming_normal_lrelu", lambda t: nn.init.kaiming_normal_(t, a=0.2, nonlinearity='leaky_relu')),
    ("trunc_normal_", lambda t: nn.init.trunc_normal_(t, std=0.02)),
    ("trunc_normal_ab", lambda t: nn.init.trunc_normal_(t, mean=0., std=1., a=-0.5, b=0.5)),
    ("orthogonal_", nn.init.orthogonal_),
    ("orthogonal_g", lambda t: nn.init.orthogonal_(t, gain=2.0)),
    ("sparse_", lambda t: nn.init.sparse_(t, sparsity=0.5)),
]:
    r = fn(w)
    print(name, r is w, w)
for nl in ['linear', 'conv2d', 'sigmoid', 'tanh', 'relu', 'selu']:
    print(nl, nn.init.calculate_gain(nl))
print(nn.init.calculate_gain('leaky_relu', 0.2))
c = torch.empty(4, 2, 3, 3)
nn.init.dirac_(c[:, :2])
print(c[:2, :, 1])
nn.init.kaiming_uniform_(c, nonlinearity='relu')
print(c.flatten()[:6])
nn.init.xavier_normal_(c)
print(c.std())
try:
    nn.init.xavier_uniform_(torch.empty(5))
except Exception as e:
    print(type(e).__name__)

class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False)
        self.bn = nn.BatchNorm2d(c, momentum=0.2, eps=1e-3)
        self.act = nn.SiLU()
    def forward(self, x):
        return x + self.act(self.bn(self.conv(x)))

class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, kernel_size=(3, 5), stride=(2, 1), padding=(1, 2), dilation=1)
        self.blocks = nn.ModuleList([Block(4) for _ in range(2)])
        self.heads = nn.ModuleDict({'cls': nn.Linear(4, 3), 'reg': nn.Sequential(nn.Linear(4, 2), nn.Sigmoid())})
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.pool2 = nn.AdaptiveMaxPool2d((2, 3))
        self.mp = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
        self.ap = nn.AvgPool2d(2)
        self.ln = nn.LayerNorm([4], elementwise_affine=True)
        self.gn = nn.GroupNorm(2, 4)
        self.bn1 = nn.BatchNorm1d(4, affine=False, track_running_stats=True)
        self.inorm = nn.InstanceNorm2d(4)
        self.emb = nn.Embedding(10, 4, max_norm=1.0)
        self.embbag = nn.EmbeddingBag(10, 4, mode='mean')
        self.lstm = nn.LSTM(4, 5, num_layers=2, batch_first=True, dropout=0.1)
        self.gru = nn.GRU(4, 3, bidirectional=True)
        self.rnn = nn.RNN(4, 3, nonlinearity='relu')
        self.drop = nn.Dropout(0.25)
        self.drop2 = nn.Dropout2d()
        self.upsample = nn.Upsample(scale_factor=2, mode='nearest')
        self.convT = nn.ConvTranspose2d(4, 2, 2, stride=2, output_padding=0)
        self.conv1 = nn.Conv1d(4, 4, 3, padding='same', padding_mode='reflect')
        self.flat = nn.Flatten(start_dim=1)
        self.unflat = nn.Unflatten(1, (2, 2))
        self.acts = nn.Sequential(nn.ReLU(), nn.ReLU6(), nn.LeakyReLU(negative_slope=0.02, inplace=True), nn.PReLU(num_parameters=4), nn.ELU(alpha=0.5), nn.GELU(approximate='tanh'), nn.GELU(), nn.Tanh(), nn.Softmax(dim=1), nn.LogSoftmax(dim=-1), nn.Hardtanh(-2, 2), nn.Softplus(beta=2), nn.Mish(), nn.Hardswish(), nn.Identity(), nn.Softsign(), nn.Tanhshrink(), nn.Threshold(0.1, 20.0), nn.CELU(), nn.SELU(), nn.GLU(), nn.Hardsigmoid(), nn.LogSigmoid(), nn.Softmin(dim=0), nn.RReLU())
        self.bil = nn.Bilinear(4, 3, 2)
        self.mha = nn.MultiheadAttention(4, 2, batch_first=True)
        self.tel = nn.TransformerEncoderLayer(d_model=4, nhead=2, dim_feedforward=8, dropout=0.0, batch_first=True)
        self.pad = nn.ZeroPad2d((1, 1, 2, 0))
        self.rpad = nn.ReflectionPad2d(1)
        self.cs = nn.CosineSimilarity(dim=1)
        self.pd = nn.PixelShuffle(2)
        self.lnn = nn.Linear(4, 4, bias=False)
        self.register_buffer('mask', torch.ones(2))
        self.register_buffer('tmp', torch.zeros(1), persistent=False)
        self.scale = nn.Parameter(torch.tensor(1.5))
    def forward(self, x):
        x = self.stem(x)
        for b in self.blocks:
            x = b(x)
        return self.heads['cls'](self.pool(x).flatten(1))

m = Model()
print(m)
print(len(list(m.parameters())), sum(p.numel() for p in m.parameters()))
print([n for n, _ in m.named_parameters()])
print([n for n, _ in m.named_modules()])
print([n for n, _ in m.named_children()])
print([type(c).__name__ for c in m.children()][:10])
print([n for n, _ in m.named_buffers()])
print(list(m.state_dict().keys()))
print(m.heads['reg'][0].weight, m.stem.bias)
print(m.lstm.weight_ih_l0.shape, m.lstm.weight_hh_l1[0], m.gru.bias_hh_l0_reverse)
print(m.mha.in_proj_weight[0], m.mha.out_proj.bias)
print(m.tel.linear1.weight[0], m.emb.weight[0], m.acts[3].weight, m.bil.weight[0])
print(m.scale, m.mask)
print(m.get_submodule('blocks.1.bn'), m.get_parameter('blocks.0.conv.weight').shape)
out = m(torch.randn(2, 3, 8, 8))
print(out)
def init_weights(mod):
    if isinstance(mod, nn.Linear):
        nn.init.xavier_uniform_(mod.weight)
        if mod.bias is not None:
            nn.init.zeros_(mod.bias)
    elif isinstance(mod, nn.Conv2d):
        nn.init.kaiming_normal_(mod.weight, mode='fan_out', nonlinearity='relu')
r = m.apply(init_weights)
print(r is m, m.heads.cls.weight, m.stem.weight[0, 0])
print(m(torch.randn(2, 3, 8, 8)))
print(m.extra_repr() == '', m.stem.extra_repr(), m.bn1.extra_repr())
m.requires_grad_(False)
print(sum(p.requires_grad for p in m.parameters()))
m.half()
print(m.stem.weight.dtype, m.mask.dtype)
m.float()
m.zero_grad()
print(m.stem.weight.grad)
m.to(torch.float64)
print(m.lnn.weight.dtype, m.scale.dtype)
