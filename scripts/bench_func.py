"""Speed figures for issue 15: vmap per-sample gradients vs a loop (64 samples), and the
step time of a checkpointed 20-layer MLP vs the plain one (with the saved-memory ratio).

    PYTHONPATH=. python scripts/bench_func.py

Times are CPU times (``time.process_time``) with one BLAS thread, best of several runs.
"""

from __future__ import annotations

import os

# one BLAS thread, and CPU time rather than wall time: the figures then hold on a busy machine
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import time  # noqa: E402

import autograd as ag  # noqa: E402
import nn  # noqa: E402
import nn.functional as F  # noqa: E402
from autograd.func import functional_call, grad, vmap  # noqa: E402
from autograd.graph import memory_report  # noqa: E402
from autograd.utils.checkpoint import checkpoint  # noqa: E402


def _best(fn, reps=5):
    fn()
    best = float("inf")
    for _ in range(reps):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def per_sample(model, x, y):
    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss(p, xi, yi):
        out = functional_call(model, p, (xi.unsqueeze(0),))
        return -(F.log_softmax(out, -1) * yi.unsqueeze(0)).sum()

    vm = vmap(grad(loss), in_dims=(None, 0, 0))
    g = grad(loss)
    t_vmap = _best(lambda: vm(params, x, y))
    t_loop = _best(lambda: [g(params, x[i], y[i]) for i in range(x.shape[0])])
    return t_loop, t_vmap


def main() -> None:
    ag.manual_seed(0)
    n = 64
    mlp = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    y = F.one_hot(ag.randint(0, 10, (n,)), 10).float()
    t_loop, t_vmap = per_sample(mlp, ag.randn(n, 784), y)
    print(f"per-sample grads, MLP 784-128-10, {n} samples: loop {t_loop * 1e3:.1f} ms, "
          f"vmap {t_vmap * 1e3:.1f} ms, speed-up {t_loop / t_vmap:.1f}x")
    small = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 10))
    t_loop, t_vmap = per_sample(small, ag.randn(n, 32), y)
    print(f"per-sample grads, MLP 32-64-10, {n} samples: loop {t_loop * 1e3:.1f} ms, "
          f"vmap {t_vmap * 1e3:.1f} ms, speed-up {t_loop / t_vmap:.1f}x")
    cnn = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(8 * 14 * 14, 10))
    t_loop, t_vmap = per_sample(cnn, ag.randn(n, 1, 28, 28), y)
    print(f"per-sample grads, CNN conv8-pool-fc, {n} samples: loop {t_loop * 1e3:.1f} ms, "
          f"vmap {t_vmap * 1e3:.1f} ms, speed-up {t_loop / t_vmap:.1f}x")

    for act in (nn.GELU, nn.ReLU):
        _bench_checkpoint(act)


def _bench_checkpoint(act, width=256, depth=20, batch=128):
    """Step time and saved memory of 20 residual-free FFN blocks Linear-act-Linear, plain
    and with every block checkpointed (plain and checkpointed steps interleaved, best of 7)."""
    ag.manual_seed(0)
    blocks = [nn.Sequential(nn.Linear(width, 4 * width), act(), nn.Linear(4 * width, width))
              for _ in range(depth)]
    params = [p for b in blocks for p in b.parameters()]
    x = ag.randn(batch, width)

    def loss_of(ckpt):
        h = x
        for b in blocks:
            h = checkpoint(b, h) if ckpt else b(h)
        return (h ** 2).mean()

    def step(ckpt):
        loss_of(ckpt).backward()
        for p in params:
            p.grad = None

    best = {False: float("inf"), True: float("inf")}
    for _ in range(7):
        for ck in (False, True):
            t0 = time.process_time()
            step(ck)
            best[ck] = min(best[ck], time.process_time() - t0)
    m_plain, m_ck = memory_report(loss_of(False)).total, memory_report(loss_of(True)).total
    print(f"{depth} blocks Linear-{act.__name__}-Linear (width {width}, batch {batch}): step "
          f"{best[False] * 1e3:.1f} ms plain, {best[True] * 1e3:.1f} ms checkpointed (ratio "
          f"{best[True] / best[False]:.2f}); saved arrays {m_plain / 2**20:.1f} MiB vs "
          f"{m_ck / 2**20:.1f} MiB ({m_plain / m_ck:.1f}x less)")


if __name__ == "__main__":
    main()
