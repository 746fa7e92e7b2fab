import math
import torch
import torch.nn as nn
from torch.optim.lr_scheduler import LRScheduler, LambdaLR, SequentialLR, ConstantLR, ExponentialLR
torch.manual_seed(0)
m = nn.Linear(2, 1)

class WarmupCosine(LRScheduler):
    def __init__(self, optimizer, warmup, total, last_epoch=-1):
        self.warmup, self.total = warmup, total
        super().__init__(optimizer, last_epoch)
    def get_lr(self):
        e = self.last_epoch
        if e < self.warmup:
            return [b * (e + 1) / self.warmup for b in self.base_lrs]
        p = (e - self.warmup) / max(1, self.total - self.warmup)
        return [b * 0.5 * (1 + math.cos(math.pi * p)) for b in self.base_lrs]

opt = torch.optim.Adam(m.parameters(), lr=0.1)
s = WarmupCosine(opt, 3, 10)
print(s.last_epoch, s.get_last_lr(), s.base_lrs, opt.param_groups[0]['lr'])
x = torch.randn(5, 2)
for i in range(10):
    opt.zero_grad(); m(x).pow(2).mean().backward(); opt.step(); s.step()
    print(i, s.last_epoch, [round(v, 8) for v in s.get_last_lr()])
sd = s.state_dict(); print(sorted(sd))
opt.param_groups[0]['lr'] = 0.5
print(s.get_last_lr(), opt.param_groups[0]['lr'])
def warmup(step):
    return min(1.0, (step + 1) / 4)
opt2 = torch.optim.SGD(m.parameters(), lr=1.0)
s2 = LambdaLR(opt2, lr_lambda=[warmup])
print(s2.state_dict()['lr_lambdas'])
s3 = SequentialLR(opt2, [ConstantLR(opt2, 0.1, total_iters=2), ExponentialLR(opt2, 0.5)], milestones=[2])
for i in range(5):
    opt2.step(); s3.step(); print(s3.get_last_lr(), s3.last_epoch)
print(sorted(s3.state_dict().keys()))
print(type(s3._schedulers[1]).__name__)
