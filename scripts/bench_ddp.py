"""Data-parallel scaling on CPU: samples/s of one training step of the MLP (784-256-128-10,
batch 1024 per rank) and of LeNet-5 (batch 128 per rank), one thread per process:

  * 1 process (plain model) vs 2 processes (``DistributedDataParallel`` over MPI);
  * this project's DDP vs PyTorch's DDP (gloo backend) on the same 2 processes;
  * communication per step: the time of the gradient all-reduces on their own, and the part
    of it left waiting at the end of backward (the rest was hidden behind backward).

    python scripts/bench_ddp.py [--steps 30] [--json out.json]

It runs the 1-process cases itself, then ``mpirun -n 2 --oversubscribe`` on itself for the
2-process ones. A machine with fewer than 2 free cores makes the 2-process figures
meaningless; the script prints the load average next to them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import autograd as ag  # noqa: E402
import autograd.distributed as dist  # noqa: E402  (does not import mpi4py)

ag.backend.keep_freed_memory()  # as bench.py and train.py: freed arrays are reused
import nn  # noqa: E402
import nn.functional as F  # noqa: E402
import optim  # noqa: E402
from nn.parallel import DistributedDataParallel as DDP  # noqa: E402

try:
    import torch  # noqa: E402

    torch.set_num_threads(1)
except ImportError:  # PyTorch is optional: its columns are left out
    torch = None

BATCH = {"mlp": 1024, "cnn": 128}


def _model(lib, kind):
    if kind == "mlp":
        return lib.Sequential(lib.Linear(784, 256), lib.ReLU(), lib.Linear(256, 128),
                              lib.ReLU(), lib.Linear(128, 10))
    return lib.Sequential(
        lib.Conv2d(1, 6, 5, padding=2), lib.ReLU(), lib.MaxPool2d(2),
        lib.Conv2d(6, 16, 5), lib.ReLU(), lib.MaxPool2d(2), lib.Flatten(),
        lib.Linear(400, 120), lib.ReLU(), lib.Linear(120, 84), lib.ReLU(), lib.Linear(84, 10))


def _data(kind, n, seed):
    rng = np.random.default_rng(seed)
    shape = (n, 784) if kind == "mlp" else (n, 1, 28, 28)
    return (rng.standard_normal(shape, dtype=np.float32),
            rng.integers(0, 10, n, dtype=np.int64))


def _time(step, steps, sync=None):
    """The median time of one step (the machine may be shared: the median ignores the
    steps during which another process had the CPU)."""
    for _ in range(3):
        step()
    if sync:
        sync()
    ts, cs = [], []
    for _ in range(steps):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        ts.append(time.perf_counter() - t0)
        cs.append(time.process_time() - c0)
    if sync:
        sync()
    _time.cpu = float(np.median(cs))  # CPU seconds of this process (all its threads) per step
    return float(np.median(ts))


def _ours(kind, steps, wrap=None, sync=None, seed=0):
    ag.manual_seed(0)
    model = _model(nn, kind)
    if wrap:
        model = wrap(model)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    xn, tn = _data(kind, BATCH[kind], seed)
    x, t = ag.tensor(xn), ag.tensor(tn)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), t).backward()
        opt.step()

    return _time(step, steps, sync), model


def _theirs(kind, steps, wrap=None, sync=None, seed=0):
    torch.manual_seed(0)
    model = _model(torch.nn, kind)
    if wrap:
        model = wrap(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    xn, tn = _data(kind, BATCH[kind], seed)
    x, t = torch.from_numpy(xn), torch.from_numpy(tn)

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), t).backward()
        opt.step()

    return _time(step, steps, sync)


def single(steps):
    out = {}
    for kind in BATCH:
        out[kind] = {"ours_s": _ours(kind, steps)[0], "ours_cpu": _time.cpu}
        if torch is not None:
            out[kind]["torch_s"] = _theirs(kind, steps)
            out[kind]["torch_cpu"] = _time.cpu
    return out


def worker(steps):
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    out = {}
    for kind in BATCH:
        s, model = _ours(kind, steps, wrap=DDP, sync=dist.barrier, seed=rank)
        cpu = _time.cpu
        stats = model.comm_stats[-steps:]
        # the same all-reduces on their own, between barriers
        flats = [np.zeros(b.numel, b.dtype) for b in model._buckets]
        be = model._backend

        def comm():
            for f in flats:
                be.comm.Allreduce(be.MPI.IN_PLACE, f)

        comm_s = _time(comm, steps, dist.barrier)
        wait_s = float(np.median([st["wait_s"] for st in stats]))
        out[kind] = {"ours_s": s, "ours_cpu": cpu, "comm_s": comm_s, "exposed_s": wait_s,
                     "buckets": len(model._buckets)}
    if torch is not None and torch.distributed.is_available():
        import torch.distributed as tdist  # noqa: PLC0415

        # PyTorch's own TCP rendezvous on localhost, ranks taken from MPI
        tdist.init_process_group("gloo", init_method="tcp://127.0.0.1:29517", rank=rank,
                                 world_size=world)
        for kind in BATCH:
            out[kind]["torch_s"] = _theirs(
                kind, steps, wrap=lambda m: torch.nn.parallel.DistributedDataParallel(m),
                sync=tdist.barrier, seed=rank)
            out[kind]["torch_cpu"] = _time.cpu
        tdist.destroy_process_group()
    if rank == 0:
        print("BENCH " + json.dumps(out), flush=True)
    dist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--json", default=None)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.steps)
        # gloo's worker thread can abort the process when it meets Python's finalisation
        # (pthread_exit while taking the GIL): finish MPI, then leave without finalising
        from mpi4py import MPI  # noqa: PLC0415 - the worker runs under mpirun

        if not MPI.Is_finalized():
            MPI.Finalize()
        sys.stdout.flush()
        os._exit(0)
    one = single(args.steps)
    if not shutil.which("mpirun"):
        sys.exit("mpirun not found: install OpenMPI and mpi4py (pip install \".[mpi]\")")
    env = {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_btl": "self,vader", "OMPI_MCA_btl_vader_single_copy_mechanism": "none"}
    p = subprocess.run(["mpirun", "-n", "2", "--oversubscribe", "--bind-to", "none",
                        sys.executable, os.path.abspath(__file__), "--worker", "--steps",
                        str(args.steps)], capture_output=True, text=True, env=env)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("BENCH ")]
    if p.returncode or not lines:
        sys.exit(f"the 2-process run failed:\n{p.stdout[-2000:]}\n{p.stderr[-3000:]}")
    two = json.loads(lines[-1][6:])
    load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else []
    print(f"{os.cpu_count()} cores, load average {' '.join(load)}; 1 thread per process; "
          "samples/s; 'vs torch': our 2-process step time / PyTorch DDP's (gloo); 'comm': "
          "the all-reduces alone; 'waited': time DDP waited for them at the end of backward "
          "(includes waiting for a slower rank)")
    print(f"{'model':5} {'batch/rank':>10} {'1 proc s/s':>11} {'2 proc s/s':>11} {'scaling':>8} "
          f"{'torch 1p':>9} {'torch 2p':>9} {'vs torch':>9} {'comm ms':>8} {'waited ms':>10} "
          f"{'hidden':>7}")
    res = {"single": one, "two": two, "load": load}
    for kind, b in BATCH.items():
        s1, s2 = b / one[kind]["ours_s"], 2 * b / two[kind]["ours_s"]
        t2 = two[kind].get("torch_s")
        ratio = two[kind]["ours_s"] / t2 if t2 else float("nan")
        comm, exp = two[kind]["comm_s"], two[kind]["exposed_s"]
        hidden = max(0.0, 1 - exp / comm) if comm > 0 else float("nan")
        t1 = one[kind].get("torch_s")
        print(f"{kind:5} {b:>10} {s1:>11.0f} {s2:>11.0f} {s2 / s1:>7.2f}x "
              f"{(b / t1 if t1 else float('nan')):>9.0f} "
              f"{(2 * b / t2 if t2 else float('nan')):>9.0f} {ratio:>8.2f}x "
              f"{comm * 1e3:>8.2f} {exp * 1e3:>10.2f} {hidden:>6.0%}")
        res[kind] = {"scaling": s2 / s1, "torch_step_ratio": ratio, "hidden": hidden}
    print("CPU ms per step and process (median; less sensitive to other processes' load):")
    for kind in BATCH:
        row = [f"{name} {d[kind][key] * 1e3:.1f}" for name, d, key in (
            ("ours 1p", one, "ours_cpu"), ("ours 2p", two, "ours_cpu"),
            ("torch 1p", one, "torch_cpu"), ("torch 2p", two, "torch_cpu")) if key in d[kind]]
        print(f"  {kind}: " + ", ".join(row))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
