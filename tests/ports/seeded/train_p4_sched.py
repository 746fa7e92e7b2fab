import torch
import torch.nn as nn
from torch.optim import SGD, Adam
from torch.optim import lr_scheduler
from torch.optim.lr_scheduler import (StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR,
    ReduceLROnPlateau, OneCycleLR, LambdaLR, SequentialLR, LinearLR, ChainedScheduler,
    CosineAnnealingWarmRestarts, CyclicLR, PolynomialLR, ConstantLR, MultiplicativeLR)

def model():
    torch.manual_seed(0)
    return nn.Linear(3, 1)

torch.manual_seed(5)
X = torch.randn(10, 3); Y = torch.randn(10, 1)

def run(name, mk_sched, epochs=12, opt_cls=SGD, **okw):
    m = model()
    okw.setdefault('lr', 0.1)
    opt = opt_cls(m.parameters(), **okw)
    sched = mk_sched(opt)
    lrs = []
    for ep in range(epochs):
        opt.zero_grad()
        loss = ((m(X) - Y) ** 2).mean()
        loss.backward()
        opt.step()
        if isinstance(sched, ReduceLROnPlateau):
            sched.step(round(loss.item(), 1))
        else:
            sched.step()
        lrs.append([round(x, 10) for x in sched.get_last_lr()])
    print(name, lrs)
    print("   last loss", loss.item(), "lr in group", opt.param_groups[0]['lr'])
    sd = sched.state_dict()
    print("   sched sd keys", sorted(k for k in sd.keys()))
    return opt, sched

run("StepLR", lambda o: StepLR(o, step_size=3, gamma=0.5))
run("MultiStepLR", lambda o: MultiStepLR(o, milestones=[2, 5, 9], gamma=0.1))
run("ExponentialLR", lambda o: ExponentialLR(o, gamma=0.9))
run("Cosine", lambda o: CosineAnnealingLR(o, T_max=5, eta_min=0.001))
run("CosineWR", lambda o: CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.01))
run("Plateau", lambda o: ReduceLROnPlateau(o, mode='min', factor=0.5, patience=1, threshold=0.01))
run("Plateau-max", lambda o: ReduceLROnPlateau(o, mode='max', factor=0.2, patience=0, cooldown=1, min_lr=1e-3))
run("OneCycle", lambda o: OneCycleLR(o, max_lr=0.5, total_steps=12))
run("OneCycle-adam", lambda o: OneCycleLR(o, max_lr=0.01, epochs=3, steps_per_epoch=4, pct_start=0.25, anneal_strategy='linear'), opt_cls=Adam, lr=1e-3)
run("OneCycle-3p", lambda o: OneCycleLR(o, max_lr=0.3, total_steps=12, three_phase=True, div_factor=10, final_div_factor=100), momentum=0.9)
run("LambdaLR", lambda o: LambdaLR(o, lr_lambda=lambda ep: 0.95 ** ep))
run("MultiplicativeLR", lambda o: MultiplicativeLR(o, lr_lambda=lambda ep: 0.9))
run("Warmup+Cos", lambda o: SequentialLR(o, schedulers=[LinearLR(o, start_factor=0.1, total_iters=4), CosineAnnealingLR(o, T_max=8)], milestones=[4]))
run("LinearLR", lambda o: LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=5))
run("ConstantLR", lambda o: ConstantLR(o, factor=0.5, total_iters=3))
run("Poly", lambda o: PolynomialLR(o, total_iters=8, power=2.0))
run("Chained", lambda o: ChainedScheduler([ConstantLR(o, factor=0.5, total_iters=2), ExponentialLR(o, gamma=0.9)]))
run("Cyclic", lambda o: CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3), momentum=0.9)
run("Cyclic-tri2", lambda o: CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=2, mode='triangular2', cycle_momentum=False))

# param groups with different lr
torch.manual_seed(0)
net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
opt = SGD([{'params': net[0].parameters()}, {'params': net[2].parameters(), 'lr': 0.01, 'momentum': 0.5}], lr=0.1, momentum=0.9)
sched = StepLR(opt, step_size=2, gamma=0.1)
for i in range(5):
    opt.zero_grad()
    l = ((net(X) - Y) ** 2).mean(); l.backward(); opt.step(); sched.step()
    print(i, l.item(), sched.get_last_lr(), [g['lr'] for g in opt.param_groups], [g['momentum'] for g in opt.param_groups])
print(opt)
print(sched.state_dict())
print(opt.param_groups[1].keys())
opt.add_param_group({'params': [torch.zeros(2, requires_grad=True)], 'lr': 0.3})
print(len(opt.param_groups), opt.param_groups[2]['lr'], opt.param_groups[2]['momentum'])
# scheduler with initial_lr
print([g.get('initial_lr') for g in opt.param_groups])
# warning order: scheduler.step before optimizer.step
import warnings
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    m = model(); o = SGD(m.parameters(), lr=1.0); s = StepLR(o, 1, 0.5)
    s.step()
    print(len(w), [type(x.message).__name__ for x in w], s.get_last_lr())
