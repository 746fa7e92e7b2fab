"""Run under ``mpirun -n 2``: scenarios of autograd.distributed, DDP, SyncBatchNorm and the
DistributedSampler. Launched by tests/test_distributed.py, which reads the ``RESULT`` line
that rank 0 prints (each scenario's outcome on every rank).

    mpirun -n 2 python tests/_distributed_worker.py all
    mpirun -n 2 python tests/_distributed_worker.py kill|timeout|raise   (fault scenarios)
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import traceback

import numpy as np

import autograd as ag
import autograd.distributed as dist
import nn
import optim
from autograd.data import DistributedSampler, TensorDataset
from autograd.distributed import DistributedError, ReduceOp
from nn.parallel import DistributedDataParallel as DDP

R = W = None

# ---------------------------------------------------------------------------------------
# collectives
# ---------------------------------------------------------------------------------------

DTYPES = ["float32", "float64", "float16", "int32", "int64", "uint8", "bool"]
OPS = ["SUM", "AVG", "MAX", "MIN", "PRODUCT"]


def _data(rank, dtype, shape=(3, 4)):
    rng = np.random.default_rng(100 + rank)
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype in ("int32", "int64", "uint8"):
        return rng.integers(1, 5, shape).astype(dtype)
    return rng.uniform(0.5, 1.5, shape).astype(dtype)


def _expect(op, dtype, shape=(3, 4)):
    xs = np.stack([_data(k, dtype, shape) for k in range(W)])
    if dtype == "bool":
        return {"SUM": xs.any(0), "MAX": xs.any(0), "MIN": xs.all(0),
                "PRODUCT": xs.all(0)}[op]
    acc = xs.astype(np.float64) if dtype == "float16" else xs
    out = {"SUM": acc.sum(0), "AVG": acc.sum(0) / W, "MAX": acc.max(0), "MIN": acc.min(0),
           "PRODUCT": acc.prod(0)}[op]
    return out.astype(dtype)


def _close(got, want, dtype):
    got = np.asarray(got)
    assert got.dtype == np.dtype(dtype), (got.dtype, dtype)
    if dtype == "float16":
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=2e-3)
    elif dtype == "float32":
        np.testing.assert_allclose(got, want, rtol=1e-6)
    elif dtype == "float64":
        np.testing.assert_allclose(got, want, rtol=1e-14)
    else:
        np.testing.assert_array_equal(got, want)


def scen_all_reduce():
    checked = 0
    for dt in DTYPES:
        for op in OPS:
            x = ag.tensor(_data(R, dt))
            if op == "AVG" and dt not in ("float32", "float64", "float16"):
                try:
                    dist.all_reduce(x, op=getattr(ReduceOp, op))
                except DistributedError as e:
                    assert "AVG" in str(e)
                    continue
                raise AssertionError(f"AVG on {dt} did not raise")
            v0 = x._version
            dist.all_reduce(x, op=getattr(ReduceOp, op))
            assert x._version > v0
            _close(x.numpy(), _expect(op, dt), dt)
            checked += 1
    # a non-contiguous view is reduced through a copy and written back
    base = ag.tensor(_data(R, "float64", (4, 3)))
    t = base.T
    dist.all_reduce(t)
    _close(t.numpy(), _expect("SUM", "float64", (4, 3)).T, "float64")
    return {"checked": checked}


def scen_collectives():
    f = "float64"
    x = ag.tensor(_data(R, f))
    dist.broadcast(x, src=1)
    _close(x.numpy(), _data(1, f), f)
    # all_gather / all_gather_into_tensor
    outs = [ag.zeros(3, 4, dtype=ag.float64) for _ in range(W)]
    dist.all_gather(outs, ag.tensor(_data(R, f)))
    for k in range(W):
        _close(outs[k].numpy(), _data(k, f), f)
    big = ag.zeros(3 * W, 4, dtype=ag.int32)
    dist.all_gather_into_tensor(big, ag.tensor(_data(R, "int32")))
    _close(big.numpy(), np.concatenate([_data(k, "int32") for k in range(W)]), "int32")
    # reduce_scatter / reduce_scatter_tensor
    out = ag.zeros(3, 4, dtype=ag.float64)
    dist.reduce_scatter(out, [ag.tensor(_data(R, f) * (i + 1)) for i in range(W)])
    _close(out.numpy(), _expect("SUM", f) * (R + 1), f)
    out = ag.zeros(2, 4, dtype=ag.float32)
    inp = ag.tensor(np.concatenate([_data(R, "float32", (2, 4)) * (i + 1) for i in range(W)]))
    dist.reduce_scatter_tensor(out, inp, op=ReduceOp.MAX)
    _close(out.numpy(), _expect("MAX", "float32", (2, 4)) * np.float32(R + 1), "float32")
    # reduce to rank 1: others keep their input
    x = ag.tensor(_data(R, "int64"))
    dist.reduce(x, dst=1, op=ReduceOp.PRODUCT)
    _close(x.numpy(), _expect("PRODUCT", "int64") if R == 1 else _data(R, "int64"), "int64")
    # gather to rank 1, scatter from rank 0
    gl = [ag.zeros(3, 4, dtype=ag.float64) for _ in range(W)] if R == 1 else None
    dist.gather(ag.tensor(_data(R, f)), gl, dst=1)
    if R == 1:
        for k in range(W):
            _close(gl[k].numpy(), _data(k, f), f)
    y = ag.zeros(3, 4, dtype=ag.float64)
    sl = [ag.tensor(_data(k, f) + 10) for k in range(W)] if R == 0 else None
    dist.scatter(y, sl, src=0)
    _close(y.numpy(), _data(R, f) + 10, f)
    # async handles
    ts = [ag.tensor(_data(R, f) * i) for i in range(1, 4)]
    works = [dist.all_reduce(t, async_op=True) for t in ts]
    assert all(isinstance(w, dist.Work) for w in works)
    for i, w in enumerate(works, start=1):
        assert w.wait() is True
        assert w.is_completed()
        _close(ts[i - 1].numpy(), _expect("SUM", f) * i, f)
    w = dist.barrier(async_op=True)
    while not w.is_completed():
        pass
    # groups
    g = dist.new_group([1])
    if R == 1:
        assert dist.get_rank(g) == 0 and dist.get_world_size(g) == 1
        t = ag.tensor([5.0])
        dist.all_reduce(t, group=g)
        assert t.item() == 5.0
    else:
        assert dist.get_rank(g) == -1
        assert dist.all_reduce(ag.tensor([1.0]), group=g) is None
    g2 = dist.new_group([0, 1])
    t = ag.tensor([float(R + 1)])
    dist.all_reduce(t, op=ReduceOp.AVG, group=g2)
    assert t.item() == (W + 1) / 2
    # picklable objects
    objs = [None] * W
    dist.all_gather_object(objs, {"rank": R, "pad": "x" * (R * 100)})
    assert [o["rank"] for o in objs] == list(range(W))
    lst = [R, "hello"] if R == 1 else [None, None]
    dist.broadcast_object_list(lst, src=1)
    assert lst == [1, "hello"]
    return {}


class _FakeCuda(ag.Tensor):
    @property
    def device(self):
        return ag.device("cuda", 0)


def scen_bad_use():
    msgs = {}
    t = ag.tensor([1.0])
    t.__class__ = _FakeCuda
    try:
        dist.all_reduce(t)
        raise AssertionError("no error for a cuda tensor on the mpi backend")
    except DistributedError as e:
        msgs["device"] = str(e)
        assert "cuda:0" in str(e) and "'mpi'" in str(e)
    try:
        dist.init_process_group("mpi")
        raise AssertionError("second init_process_group did not raise")
    except DistributedError as e:
        msgs["twice"] = str(e)
    try:
        dist.broadcast(ag.tensor([1.0]), src=5)
        raise AssertionError("bad src did not raise")
    except ValueError as e:
        msgs["src"] = str(e)
    # the model differs across ranks: every rank raises, naming the parameter and the rank
    ag.manual_seed(0)
    try:
        DDP(nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2 + R)))
        raise AssertionError("different shapes did not raise")
    except DistributedError as e:
        msgs["shape"] = str(e)
        assert "'1.weight'" in str(e) and "rank 1" in str(e), str(e)
    return msgs


# ---------------------------------------------------------------------------------------
# DDP: 20 steps on 2 ranks == one process on the global batch (float64)
# ---------------------------------------------------------------------------------------


def _mlp():
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(),
                         nn.Linear(16, 3))


def _cnn():
    # no bias before a BatchNorm: its gradient is zero up to rounding, which Adam would
    # turn into steps of size lr in random directions
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 4, 3, padding=1, bias=False),
                         nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                         nn.Linear(4 * 4 * 4, 3, bias=False), nn.BatchNorm1d(3))


class _LSTMNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 8, batch_first=True)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def _batch(kind, step, n):
    rng = np.random.default_rng(1000 + step)
    if kind == "mlp":
        return rng.standard_normal((n, 6)), rng.standard_normal((n, 3))
    if kind == "cnn":
        return rng.standard_normal((n, 2, 8, 8)), rng.standard_normal((n, 3))
    return rng.standard_normal((n, 5, 3)), rng.standard_normal((n, 2))


def _equivalence(kind, make, opt_make, sync_bn=False, steps=20, per_rank=8, cap=0.0005):
    prev = ag.get_default_dtype()
    ag.set_default_dtype(ag.float64)
    try:
        ag.manual_seed(0)
        ref = make()
        ag.manual_seed(0 if R == 0 else 12345)  # ranks start different: DDP copies rank 0's
        local = make()
        if sync_bn:
            local = nn.SyncBatchNorm.convert_sync_batchnorm(local)
            assert any(isinstance(m, nn.SyncBatchNorm) for m in local.modules())
        model = DDP(local, bucket_cap_mb=cap)
        opt_ref, opt = opt_make(ref.parameters()), opt_make(model.parameters())
        n = per_rank * W
        for step in range(steps):
            X, Y = _batch(kind, step, n)
            opt_ref.zero_grad()
            nn.functional.mse_loss(ref(ag.tensor(X)), ag.tensor(Y)).backward()
            opt_ref.step()
            sl = slice(R * per_rank, (R + 1) * per_rank)
            opt.zero_grad()
            nn.functional.mse_loss(model(ag.tensor(X[sl])), ag.tensor(Y[sl])).backward()
            opt.step()
        sd_ref, sd = ref.state_dict(), model.module.state_dict()
        assert list(sd_ref) == list(sd)
        diff = max(float(np.max(np.abs(sd_ref[k].numpy().astype(np.float64)
                                       - sd[k].numpy().astype(np.float64))))
                   for k in sd)
        assert diff < 1e-10, diff
        moved = max(float(np.max(np.abs(sd_ref[k].numpy() - v)))
                    for k, v in _init_state(make).items())
        assert moved > 1e-3, moved  # it did train
        return {"max_diff": diff, "buckets": len(model._buckets)}
    finally:
        ag.set_default_dtype(prev)


def _init_state(make):
    ag.manual_seed(0)
    return {k: v.numpy().astype(np.float64) for k, v in make().state_dict().items()
            if v.dtype.kind == "f"}


def scen_ddp_mlp():
    return _equivalence("mlp", _mlp, lambda p: optim.SGD(p, lr=0.1, momentum=0.9))


def scen_ddp_cnn_syncbn():
    return _equivalence("cnn", _cnn, lambda p: optim.Adam(p, lr=0.01), sync_bn=True)


def scen_ddp_lstm():
    return _equivalence("lstm", _LSTMNet, lambda p: optim.RMSprop(p, lr=0.01))


def scen_no_sync():
    ag.set_default_dtype(ag.float64)
    try:
        ag.manual_seed(0)
        ref = _mlp()
        ag.manual_seed(0)
        model = DDP(_mlp())
        X, Y = _batch("mlp", 0, 4 * W)
        nn.functional.mse_loss(ref(ag.tensor(X)), ag.tensor(Y)).backward()
        mine = [(R * 4, R * 4 + 2), (R * 4 + 2, R * 4 + 4)]  # two micro-batches per rank
        with model.no_sync():
            a, b = mine[0]
            (nn.functional.mse_loss(model(ag.tensor(X[a:b])), ag.tensor(Y[a:b])) / 2).backward()
        local = model.module[0].weight.grad.numpy().copy()
        everyone = [None] * W
        dist.all_gather_object(everyone, local)
        assert np.abs(everyone[0] - everyone[1]).max() > 1e-6  # not synchronised yet
        a, b = mine[1]
        (nn.functional.mse_loss(model(ag.tensor(X[a:b])), ag.tensor(Y[a:b])) / 2).backward()
        diff = max(float(np.abs(p.grad.numpy() - q.grad.numpy()).max())
                   for p, q in zip(ref.parameters(), model.module.parameters()))
        assert diff < 1e-12, diff
        return {"max_diff": diff}
    finally:
        ag.set_default_dtype(ag.float32)


class _TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 2)
        self.b = nn.Linear(4, 2)

    def forward(self, x, use_b):
        y = self.a(x)
        return y + self.b(x) if use_b else y


def scen_unused():
    ag.set_default_dtype(ag.float64)
    try:
        X = ag.tensor(_batch("mlp", 3, 4)[0][:, :4] + R)
        # used on rank 0 only: the average counts rank 1's gradient as zero
        ag.manual_seed(0)
        plain = _TwoHeads()
        plain(X, R == 0).pow(2).mean().backward()
        grads = {n: (p.grad.numpy() if p.grad is not None else np.zeros(p.shape))
                 for n, p in plain.named_parameters()}
        allg = [None] * W
        dist.all_gather_object(allg, grads)
        ag.manual_seed(0)
        model = DDP(_TwoHeads(), find_unused_parameters=True, bucket_cap_mb=1e-5)
        for _ in range(2):  # twice: the second iteration must not complain
            model.zero_grad()
            model(X, R == 0).pow(2).mean().backward()
        for n, p in model.module.named_parameters():
            want = sum(g[n] for g in allg) / W
            assert np.abs(p.grad.numpy() - want).max() < 1e-12, n
        # unused everywhere: its .grad stays None
        model.zero_grad()
        model(X, False).pow(2).mean().backward()
        assert model.module.b.weight.grad is None and model.module.a.weight.grad is not None
        # without find_unused_parameters: the next forward says which parameters got none
        ag.manual_seed(0)
        strict = DDP(_TwoHeads())
        strict(X, False).pow(2).mean().backward()
        try:
            strict(X, False)
            raise AssertionError("no error for an unused parameter")
        except RuntimeError as e:
            assert "b.weight" in str(e) and "find_unused_parameters" in str(e), str(e)
            msg = str(e)
        return {"msg": msg}
    finally:
        ag.set_default_dtype(ag.float32)


def scen_overlap():
    """The first bucket's all-reduce starts while backward is still running: before the
    gradient of the first layer's output has been computed."""
    ag.manual_seed(0)
    layers = []
    for _ in range(6):
        layers += [nn.Linear(128, 128), nn.Tanh()]
    model = DDP(nn.Sequential(*layers), bucket_cap_mb=0.07)
    X = ag.randn(64, 128)
    times = {}
    h = model.module[0](X)

    def mark(g):
        times["first_layer_grad"] = time.perf_counter()

    h.register_hook(mark)
    out = h
    for m in list(model.module)[1:]:
        out = m(out)
    # the forward went around DDP.forward: prepare by hand as DDP.forward does
    model._prepare_for_backward(out)
    out.pow(2).mean().backward()
    st = model.comm_stats[-1]
    assert st["buckets"] >= 3, st
    first_launch = st["launch_times"][0]
    assert first_launch < times["first_layer_grad"], (first_launch, times)
    return {"buckets": st["buckets"], "launched_at_hook": st["launched_at_hook"],
            "hooks": st["hooks"], "lead_s": times["first_layer_grad"] - first_launch,
            "completed_before_wait": st["completed_before_wait"]}


def scen_sampler():
    ds = TensorDataset(ag.arange(23))
    mine = []
    for epoch in range(2):
        s = DistributedSampler(ds, seed=3)
        assert s.num_replicas == W and s.rank == R and len(s) == 12
        s.set_epoch(epoch)
        mine.append(list(s))
    everyone = [None] * W
    dist.all_gather_object(everyone, mine)
    for epoch in range(2):
        shards = [e[epoch] for e in everyone]
        flat = sorted(i for sh in shards for i in sh)
        assert set(flat) == set(range(23)) and len(flat) == 24  # one index padded
    assert everyone[0][0] != everyone[0][1]
    return {}


def scen_syncbn_eval():
    """Eval mode uses the running statistics, which SyncBatchNorm averaged globally."""
    ag.manual_seed(0)
    bn = nn.SyncBatchNorm(3)
    x = ag.tensor(np.random.default_rng(R).standard_normal((5, 3, 2)).astype(np.float32))
    bn(x)
    ref = nn.BatchNorm1d(3)
    xs = [None] * W
    dist.all_gather_object(xs, x.numpy())
    ref(ag.tensor(np.concatenate(xs)))
    assert np.allclose(bn.running_mean.numpy(), ref.running_mean.numpy(), atol=1e-6)
    assert np.allclose(bn.running_var.numpy(), ref.running_var.numpy(), atol=1e-6)
    bn.eval()
    ref.eval()
    assert np.allclose(bn(x).detach().numpy(), ref(x).detach().numpy(), atol=1e-6)
    return {}


def scen_broadcast_buffers():
    """Plain BatchNorm under DDP: every forward starts from rank 0's running statistics."""
    ag.manual_seed(R)  # ranks start different; DDP copies rank 0's parameters and buffers
    model = DDP(nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)))
    bn = model.module[1]
    got = []
    for step in range(2):
        x = ag.tensor(np.random.default_rng(10 * step + R).standard_normal((6, 3))
                      .astype(np.float32))
        model(x)
        got.append(bn.running_mean.numpy().copy())
    everyone = [None] * W
    dist.all_gather_object(everyone, [got, model.module[0].weight.detach().numpy()])
    assert np.array_equal(everyone[0][1], everyone[1][1])  # parameters broadcast
    assert not np.allclose(everyone[0][0][0], everyone[1][0][0])  # local batch statistics
    model(ag.zeros(2, 3))  # the next forward starts by copying rank 0's buffers
    # rank 0's statistics after step 1, updated with the batch mean of Linear(0) = bias
    bias = model.module[0].bias.detach().numpy()
    assert np.allclose(bn.running_mean.numpy(), 0.9 * everyone[0][0][1] + 0.1 * bias,
                       atol=1e-6)
    return {}


def scen_mismatch_debug():
    """With the DETAIL debug level, ranks calling different collectives get an error naming
    each rank's call instead of pairing them up."""
    dist.set_debug_level("DETAIL")
    try:
        x = ag.tensor([1.0, 2.0, 3.0])
        dist.all_reduce(x)  # the same call on every rank passes the check
        assert x.tolist() == [2.0, 4.0, 6.0]
        try:
            if R == 0:
                dist.all_reduce(x)
            else:  # rank 1 skipped the all_reduce and went on to the next collective
                dist.broadcast(ag.zeros(5), src=0)
            raise AssertionError("no error for different collectives")
        except DistributedError as e:
            msg = str(e)
        assert "rank 0: collective" in msg and "all_reduce(op=SUM) of 3 float32" in msg, msg
        assert "rank 1: collective" in msg and "broadcast(src=0) of 5 float32" in msg, msg
        return {"msg": msg}
    finally:
        dist.set_debug_level("OFF")


SCENARIOS = {k[5:]: v for k, v in list(globals().items()) if k.startswith("scen_")}


# ---------------------------------------------------------------------------------------
# faults: each ends the job
# ---------------------------------------------------------------------------------------


def fault(kind: str) -> None:
    ag.manual_seed(0)
    model = DDP(_mlp())
    opt = optim.SGD(model.parameters(), lr=0.01)
    X, Y = (a.astype(np.float32) for a in _batch("mlp", 0, 8))
    for step in range(100000):
        if step == 3 and R == 1:
            print(f"rank 1: {kind} at step 3", flush=True)
            if kind == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            if kind == "raise":
                raise ValueError("boom on rank 1")
            if kind == "timeout":  # skips the next collective and stays alive
                time.sleep(120)
                sys.exit(0)
        opt.zero_grad()
        nn.functional.mse_loss(model(ag.tensor(X)), ag.tensor(Y)).backward()
        opt.step()


def main(argv):
    global R, W
    what = argv[1] if len(argv) > 1 else "all"
    timeout = float(os.environ.get("DIST_TEST_TIMEOUT", "60"))
    if what == "env":  # WORLD_SIZE/RANK that contradict the launcher: a clear error
        try:
            dist.init_process_group("mpi", timeout=timeout)
        except DistributedError as e:
            print(f"ENVERR {e}", flush=True)
            assert not dist.is_initialized()
        return
    dist.init_process_group("mpi", timeout=timeout)
    R, W = dist.get_rank(), dist.get_world_size()
    if what in ("kill", "raise", "timeout"):
        fault(what)
        return
    names = list(SCENARIOS) if what == "all" else what.split(",")
    results = {}
    for name in names:
        t0 = time.perf_counter()
        try:
            out = SCENARIOS[name]() or {}
            results[name] = {"ok": True, **out}
        except Exception:
            results[name] = {"ok": False, "error": traceback.format_exc()}
        results[name]["seconds"] = round(time.perf_counter() - t0, 3)
        dist.barrier()
    everyone = [None] * W
    dist.all_gather_object(everyone, results)
    if R == 0:
        print("RESULT " + json.dumps(everyone, default=str), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv)
