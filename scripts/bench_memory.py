"""Peak memory of one training step, this engine vs PyTorch on the CPU, per workload of
``bench.py``: the MLP at batch 64 and 1024, LeNet-5, the LSTM and the cnn-bn model.

Each (workload, framework) pair runs in a fresh process, with glibc told to map every block
of 64 KiB or more on its own and to give it back when freed (``MALLOC_MMAP_THRESHOLD_``,
``MALLOC_TRIM_THRESHOLD_``), so that RSS follows the live arrays. It builds the model, the
optimizer and the data, runs 3 warm-up steps (optimizer state and lazy set-up now exist),
resets the kernel's peak-RSS mark (``/proc/self/clear_refs``) and runs one step. The figure
is that step's peak RSS above the RSS just before it (activations, gradients, temporaries),
plus, for this engine, the buffers its scratch pool keeps between steps
(``autograd.backend.scratch_pool``). Linux only.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python scripts/bench_memory.py
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

WORKLOADS = ("mlp64", "mlp1024", "lenet", "lstm", "cnn-bn")


def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def _child(workload: str, framework: str) -> dict:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import numpy as np  # noqa: PLC0415 - the child process only

    import autograd as ag  # noqa: PLC0415

    ag.backend.keep_freed_memory = lambda *a, **k: False  # keep glibc as the parent set it
    import bench  # noqa: PLC0415 - builds the same models as the timing benchmark

    if framework == "torch":
        import torch  # noqa: PLC0415

        torch.set_num_threads(1)
        lib, optim, ce = torch.nn, torch.optim, torch.nn.functional.cross_entropy
        tensor = torch.from_numpy
    else:
        import autograd as ag  # noqa: PLC0415

        ag.backend.keep_freed_memory = lambda *a, **k: False  # bench.py would call it
        import nn  # noqa: PLC0415
        import optim  # noqa: PLC0415
        from nn import functional as F  # noqa: PLC0415

        lib, ce, tensor = nn, F.cross_entropy, ag.tensor
    batch = {"mlp64": 64, "mlp1024": 1024}.get(workload, 64)
    rng = np.random.default_rng(0)
    if workload.startswith("mlp"):
        model = lib.Sequential(lib.Linear(784, 256), lib.ReLU(), lib.Linear(256, 128),
                               lib.ReLU(), lib.Linear(128, 10))
        shape = (batch, 784)
    elif workload == "lenet":
        model, shape = bench._lenet(lib), (batch, 1, 28, 28)
    elif workload == "lstm":
        model, shape = bench._LSTMNet(lib), (batch, 28, 28)
    else:
        model, shape = bench._cnn_bn(lib), (batch, 1, 28, 28)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = tensor(rng.random(shape, dtype=np.float32))
    t = tensor(rng.integers(0, 10, size=batch, dtype=np.int64))

    def step():
        loss = ce(model(x), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return float(loss.item())

    for _ in range(3):
        step()
    gc.collect()
    before = _rss_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM (the peak RSS) to the current RSS
    step()
    peak = _rss_kib("VmHWM")
    pool = ag.backend.scratch_pool.nbytes / 2**20 if framework == "engine" else 0.0
    return {"workload": workload, "framework": framework, "rss_before_mib": before / 1024,
            "scratch_pool_mib": pool, "step_peak_mib": (peak - before) / 1024 + pool}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", default=",".join(WORKLOADS),
                   help=f"comma-separated workloads among {', '.join(WORKLOADS)}")
    p.add_argument("--json", metavar="OUT", help="also write the results to this JSON file")
    p.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(_child(*args.child)))
        return 0
    try:
        import torch  # noqa: F401, PLC0415
        frameworks = ("engine", "torch")
    except ImportError:
        frameworks = ("engine",)
    results = []
    print(f"{'workload':10} {'engine MiB':>11} {'torch MiB':>10} {'ratio':>6}")
    for w in [s.strip() for s in args.only.split(",") if s.strip()]:
        row = {}
        for fw in frameworks:
            env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536", MALLOC_TRIM_THRESHOLD_="0")
            out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", w, fw],
                                 capture_output=True, text=True, check=True, env=env)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            results.append(r)
            row[fw] = r["step_peak_mib"]
        t = row.get("torch")
        ratio = f"{row['engine'] / t:.2f}x" if t else "n/a"
        print(f"{w:10} {row['engine']:11.1f} {t if t is not None else float('nan'):10.1f} "
              f"{ratio:>6}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
