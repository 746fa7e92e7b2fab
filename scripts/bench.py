#!/usr/bin/env python
"""Benchmark: the autograd engine against hand-written NumPy and against PyTorch (CPU).

The same work is timed, side by side in one run, in

1. this engine (``autograd`` / ``nn`` / ``optim``),
2. a hand-written NumPy reference (explicit forward and backward, no autograd:
   ``scripts/_numpy_ref.py``), the lower bound for an engine built on NumPy,
3. PyTorch, when it is installed (otherwise its column reads "n/a"),

and the ratios engine/NumPy and engine/PyTorch are printed. Benchmarks:

(a) per-op overhead: 1,000 tiny element-wise ops (``y = y * w; y = y + x`` 500 times on
    shape-(4,) float32 tensors), then ``y.sum().backward()``; microseconds per op.
(b) one training step of an MLP 784-256-128-10 (ReLU, softmax cross-entropy, SGD with
    momentum) at batch 64 and 1024: forward, loss, zero_grad, backward, step.
(c) a long chain of 100,000 and 1,000,000 scalar ops (``y = y * 1.0001``, ``y = y + 0.0``
    alternating) forward + backward, and the engine's memory per recorded op (measured with
    tracemalloc in a separate process, not timed).
(d) one training step of a LeNet-5-like CNN on (64, 1, 28, 28) and (e) of an LSTM (input 28,
    hidden 128, 28 steps, batch 64, a Linear head on the last state), engine vs PyTorch
    from the same initial weights (copied by state_dict name); (f) of the ``cnn-bn`` model
    (conv3x3-BatchNorm-ReLU blocks of 32 and 64 channels, dropout, fc 3136-256-10; the loss
    check runs with the dropout rates at 0, the timed steps with them).

Everything runs on one thread (the BLAS thread variables are set before NumPy is imported,
and ``torch.set_num_threads(1)``), or, with ``--threads 1,2``, once per thread count, each
in its own process with ``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS``/``MKL_NUM_THREADS`` and
``torch.set_num_threads`` at that count, and the series are printed side by side.
The implementations take turns in rounds (engine, numpy,
torch, engine, ...) so machine noise hits all of them alike; within a round each runs one
untimed step (its data back into the CPU caches, as in a training loop where steps follow
each other) and then 5 timed steps; the chains are timed as single runs. The median (and
min) of the timed steps is reported.

NumPy's OpenBLAS picks its kernels by CPU model. Some machines pin ``OPENBLAS_CORETYPE`` (and
``OPENBLAS_L2_SIZE``) to an old kernel for the safety of old OpenBLAS builds: run benchmarks
with both unset in that command only, ``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python
scripts/bench.py``; the kernel OpenBLAS then chose is printed (threadpoolctl), with any
setting that was left in place.

Usage::

    python scripts/bench.py                      # everything (a few minutes)
    python scripts/bench.py --quick              # smoke run, well under a minute
    python scripts/bench.py --only a,b --repeat 50 --json out.json
    python scripts/bench.py --device cuda        # engine (CuPy) and torch on the GPU
    python scripts/bench.py --profile d          # per-op wall clock and cProfile of the engine
    python scripts/bench.py --only c --gc-off    # diagnostic: without Python's cyclic GC
    python scripts/bench.py --threads 1,2        # each thread count in its own process
    python scripts/bench.py --threads 2 --profile f   # the profile on 2 threads

Python's cyclic garbage collector stays on in timed runs (a user's program has it on), but
the objects alive after start-up (mostly PyTorch's) are ``gc.freeze()``-d so that the
collections the engine triggers do not also walk PyTorch's objects.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
THREADS = int(os.environ["OMP_NUM_THREADS"])  # --threads runs a child process per count

import argparse  # noqa: E402
import contextlib  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the repository root: autograd, nn, optim
sys.path.insert(0, str(HERE))  # _numpy_ref

# the engine before NumPy (its default for OpenBLAS's idle-thread spin applies either way:
# see autograd/__init__.py and parallel.shorten_blas_spin)
import autograd as ag  # noqa: E402, I001
import numpy as np  # noqa: E402

import _numpy_ref as ref  # noqa: E402

ag.backend.keep_freed_memory()  # glibc keeps freed blocks (see its docstring); both columns
import nn  # noqa: E402
import optim  # noqa: E402
from autograd.function import Node  # noqa: E402
from nn import functional as F  # noqa: E402

torch = None  # PyTorch is optional: imported by load_torch(), else its column reads n/a


def load_torch() -> None:
    """Import PyTorch if installed, single-threaded."""
    global torch
    try:
        import torch as _torch
    except ImportError:
        return
    torch = _torch
    torch.set_num_threads(THREADS)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set (or inter-op work already started)
        pass


ENGINE, NUMPY, TORCH = "engine", "numpy", "torch"
IMPLS = (ENGINE, NUMPY, TORCH)

CHAIN_FACTOR, CHAIN_SHIFT = 1.0001, 0.0
MLP_SIZES = (784, 256, 128, 10)
LR, MOMENTUM = 0.01, 0.9


# ---------------------------------------------------------------------------------------
# devices and timing
# ---------------------------------------------------------------------------------------

def _noop():
    pass


class Env:
    """Where each implementation runs and how to wait for it (GPU work is asynchronous)."""

    def __init__(self, device: str):
        self.device = device
        self.cuda = device == "cuda"
        self.eng_sync = _noop
        self.torch_sync = _noop
        self.has_torch = torch is not None
        self.notes = []
        if torch is None:
            self.notes.append("torch: not installed")
        if self.cuda:
            try:
                ag.backend.require_cupy()
            except RuntimeError as exc:
                raise SystemExit(f"bench.py: error: --device cuda: {exc}") from None
            self.eng_sync = ag.cuda.synchronize
            if torch is not None:
                if torch.cuda.is_available():
                    self.torch_sync = torch.cuda.synchronize
                else:
                    self.has_torch = False
                    self.notes.append("torch: installed without CUDA support, column skipped")
            self.notes.append("numpy reference: skipped on --device cuda")

    @property
    def impls(self):
        out = [ENGINE]
        if not self.cuda:
            out.append(NUMPY)
        if self.has_torch:
            out.append(TORCH)
        return out

    def eng_tensor(self, a, requires_grad=False):
        return ag.tensor(a, device=self.device, requires_grad=requires_grad)

    def torch_tensor(self, a, requires_grad=False):
        t = torch.tensor(a, device=self.device)
        return t.requires_grad_(requires_grad)


GC_OFF = False  # --gc-off: disable Python's cyclic garbage collector inside timed runs


# Between the cases' turns the process sleeps this long: each implementation's idle worker
# threads spin for a while after its last parallel region before they sleep (GNU OpenMP's,
# PyTorch's: up to ~10 ms; OpenBLAS's, as the engine sets it: ~0.3 ms; the engine's team:
# 2 ms), and on a machine with as many cores as threads a spinner of the case that just ran
# takes a core from the next one. In a training program only one of them runs.
IDLE_S = 0.03


def measure(cases: dict, repeat: int, warmup: int, block: int = 5) -> dict:
    """Time ``cases`` (name -> callable returning {phase: seconds}, with a "total" phase).

    After ``warmup`` untimed runs of each, the cases take turns in rounds (A B C, A B C...)
    so that machine noise hits all of them alike. Before its turn a case waits ``IDLE_S``
    (the others' idle threads fall asleep). Within a round each case runs one untimed
    step, which brings its own weights and buffers back into the CPU caches after the other
    implementations evicted them (as in a training loop, where one step follows another),
    then ``block`` timed steps. ``block=1`` (long runs: the chains) times single runs with no
    re-warming step. In all, ``repeat`` timed samples per case.

    Returns name -> phase -> list of seconds.
    """
    for _ in range(warmup):
        for fn in cases.values():
            fn()
    samples = {name: {} for name in cases}
    block = max(1, min(block, repeat))
    rounds = -(-repeat // block)
    for r in range(rounds):
        n = min(block, repeat - r * block)
        for name, fn in cases.items():
            gc.collect()  # leftovers of the previous case must not be charged to this one
            time.sleep(IDLE_S)  # the previous case's idle threads stop spinning (see IDLE_S)
            if block > 1:
                fn()  # untimed: this implementation's data back into the caches
            for _ in range(n):
                if GC_OFF:
                    gc.disable()
                try:
                    res = fn()
                finally:
                    gc.enable()
                for phase, sec in res.items():
                    samples[name].setdefault(phase, []).append(sec)
    return samples


def _clock(sync) -> float:
    sync()
    return time.perf_counter()


# ---------------------------------------------------------------------------------------
# (a) per-op overhead
# ---------------------------------------------------------------------------------------

def bench_overhead(env: Env, repeat: int, warmup: int, n_pairs: int = 500):
    rng = np.random.default_rng(0)
    xn = rng.random(4, dtype=np.float32)
    wn = np.full(4, 0.9, dtype=np.float32)  # y -> y * 0.9 + x stays bounded

    x, w = env.eng_tensor(xn, True), env.eng_tensor(wn, True)

    def engine():
        x.grad = w.grad = None
        t0 = _clock(env.eng_sync)
        y = x
        for _ in range(n_pairs):
            y = y * w
            y = y + x
        y.sum().backward()
        return {"total": _clock(env.eng_sync) - t0}

    def numpy_ref():
        t0 = time.perf_counter()
        ref.mul_add_chain(xn, wn, n_pairs)
        return {"total": time.perf_counter() - t0}

    cases = {ENGINE: engine}
    if NUMPY in env.impls:
        cases[NUMPY] = numpy_ref
    if TORCH in env.impls:
        xt, wt = env.torch_tensor(xn, True), env.torch_tensor(wn, True)

        def torch_run():
            xt.grad = wt.grad = None
            t0 = _clock(env.torch_sync)
            y = xt
            for _ in range(n_pairs):
                y = y * wt
                y = y + xt
            y.sum().backward()
            return {"total": _clock(env.torch_sync) - t0}

        cases[TORCH] = torch_run

    # the same gradients everywhere?
    engine()
    grads = {ENGINE: (_np(x.grad), _np(w.grad))}
    if NUMPY in cases:
        _, gx, gw = ref.mul_add_chain(xn, wn, n_pairs)
        grads[NUMPY] = (gx, gw)
    if TORCH in cases:
        cases[TORCH]()
        grads[TORCH] = (_np(xt.grad), _np(wt.grad))
    check = _compare_grads("(a) grads x, w", grads, rtol=1e-4)

    samples = measure(cases, repeat, warmup)
    n_ops = 2 * n_pairs
    row = _row("a_per_op", "(a) per-op overhead (us/op)", "us/op", samples, "total",
               1e6 / n_ops)
    return [row], [check]


# ---------------------------------------------------------------------------------------
# (b) MLP training step
# ---------------------------------------------------------------------------------------

def _engine_mlp(env: Env):
    ag.manual_seed(0)
    sizes = MLP_SIZES
    model = nn.Sequential(
        nn.Linear(sizes[0], sizes[1]), nn.ReLU(),
        nn.Linear(sizes[1], sizes[2]), nn.ReLU(),
        nn.Linear(sizes[2], sizes[3]),
    )
    params = [(_np(m.weight).copy(), _np(m.bias).copy())
              for m in model if isinstance(m, nn.Linear)]
    if env.cuda:
        model.to("cuda")
    return model, params


def _torch_mlp(env: Env, params):
    sizes = MLP_SIZES
    model = torch.nn.Sequential(
        torch.nn.Linear(sizes[0], sizes[1]), torch.nn.ReLU(),
        torch.nn.Linear(sizes[1], sizes[2]), torch.nn.ReLU(),
        torch.nn.Linear(sizes[2], sizes[3]),
    )
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for lin, (w, b) in zip(linears, params):
            lin.weight.copy_(torch.from_numpy(w))
            lin.bias.copy_(torch.from_numpy(b))
    return model.to(env.device)


def _sgd_case(opt, model, x, t, cross_entropy, sync):
    """One cross-entropy + optimizer training step, for either framework, as a pair:
    (a step returning the loss as a float, for the same-work check; a timed case for
    ``measure``)."""

    def step():
        loss = cross_entropy(model(x), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    def timed():
        t0 = _clock(sync)
        step()
        return {"total": _clock(sync) - t0}

    return (lambda: step().item()), timed


def bench_mlp(env: Env, batch: int, repeat: int, warmup: int, n_check_steps: int = 3):
    rng = np.random.default_rng(batch)
    xn = rng.standard_normal((batch, MLP_SIZES[0]), dtype=np.float32)
    tn = rng.integers(0, MLP_SIZES[-1], size=batch, dtype=np.int64)

    model, params = _engine_mlp(env)
    opt = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    x, t = env.eng_tensor(xn), env.eng_tensor(tn)
    steps, cases = {}, {}
    steps[ENGINE], cases[ENGINE] = _sgd_case(opt, model, x, t, F.cross_entropy, env.eng_sync)
    if NUMPY in env.impls:
        net = ref.MLP(params, lr=LR, momentum=MOMENTUM)
        steps[NUMPY] = lambda: net.train_step(xn, tn)

        def numpy_ref():
            t0 = time.perf_counter()
            net.train_step(xn, tn)
            return {"total": time.perf_counter() - t0}

        cases[NUMPY] = numpy_ref
    if TORCH in env.impls:
        tmodel = _torch_mlp(env, params)
        topt = torch.optim.SGD(tmodel.parameters(), lr=LR, momentum=MOMENTUM)
        xt, tt = env.torch_tensor(xn), env.torch_tensor(tn)
        steps[TORCH], cases[TORCH] = _sgd_case(topt, tmodel, xt, tt,
                                               torch.nn.functional.cross_entropy,
                                               env.torch_sync)

    # the same work? the loss of each of the first steps (step k's loss is computed with
    # the weights after k-1 updates, so this also checks backward and the optimizer)
    losses = {name: [step() for _ in range(n_check_steps)] for name, step in steps.items()}
    check = _compare_losses(f"(b) MLP batch {batch}", losses, atol=1e-4)

    samples = measure(cases, repeat, warmup)
    row = _row(f"b_mlp_step_batch{batch}", f"(b) MLP step batch {batch} (ms)", "ms/step",
               samples, "total", 1e3)
    return [row], [check]


# ---------------------------------------------------------------------------------------
# (d) LeNet-5 step and (e) LSTM step (engine vs PyTorch, same initial weights)
# ---------------------------------------------------------------------------------------

def _lenet(lib):
    """LeNet-5-like: conv5x5 6ch pad 2, ReLU, maxpool 2, conv5x5 16ch, ReLU, maxpool 2,
    flatten, fc 400-120-84-10 (lib: our nn or torch.nn: the same code builds both)."""
    return lib.Sequential(
        lib.Conv2d(1, 6, 5, padding=2), lib.ReLU(), lib.MaxPool2d(2),
        lib.Conv2d(6, 16, 5), lib.ReLU(), lib.MaxPool2d(2), lib.Flatten(),
        lib.Linear(400, 120), lib.ReLU(), lib.Linear(120, 84), lib.ReLU(), lib.Linear(84, 10))


class _LSTMNet:
    """LSTM(28 -> 128, batch_first) reading an image row by row, Linear(128, 10) head on the
    last hidden state."""

    def __init__(self, lib):
        self.lstm = lib.LSTM(28, 128, batch_first=True)
        self.head = lib.Linear(128, 10)
        self.lib = lib

    def __call__(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])

    def parameters(self):
        return list(self.lstm.parameters()) + list(self.head.parameters())

    def state_dict(self):
        sd = {"lstm." + k: v for k, v in self.lstm.state_dict().items()}
        sd.update({"head." + k: v for k, v in self.head.state_dict().items()})
        return sd


def _cnn_bn(lib):
    """The ``cnn-bn`` model of ``nn.zoo`` (scripts/train.py): two VGG-style blocks of
    conv3x3-BatchNorm-ReLU (32 and 64 channels) with max-pool and dropout, then fc 3136-256
    with BatchNorm1d, dropout and fc 256-10."""
    def block(i, o):
        return [lib.Conv2d(i, o, 3, padding=1, bias=False), lib.BatchNorm2d(o), lib.ReLU()]
    return lib.Sequential(
        *block(1, 32), *block(32, 32), lib.MaxPool2d(2), lib.Dropout(0.25),
        *block(32, 64), *block(64, 64), lib.MaxPool2d(2), lib.Dropout(0.25),
        lib.Flatten(), lib.Linear(64 * 7 * 7, 256, bias=False), lib.BatchNorm1d(256),
        lib.ReLU(), lib.Dropout(0.5), lib.Linear(256, 10))


def _dropout_rates(model, rates=None):
    """The dropout modules' rates (or set them): the loss check runs with them at 0, since
    each framework draws its own masks."""
    mods = [m for m in model.modules() if type(m).__name__ == "Dropout"]
    if rates is None:
        return [m.p for m in mods]
    for m, p in zip(mods, rates):
        m.p = p
    return None


def _copy_into_torch(ours: dict, theirs: dict) -> None:
    with torch.no_grad():
        for k, t in theirs.items():
            t.copy_(torch.from_numpy(_np(ours[k]).copy(order="C")))  # 0-d stays 0-d


def _bench_model(env: Env, name: str, key: str, build, xshape, repeat, warmup):
    rng = np.random.default_rng(0)
    xn = rng.random(xshape, dtype=np.float32)
    tn = rng.integers(0, 10, size=xshape[0], dtype=np.int64)
    ag.manual_seed(0)
    model = build(nn)
    opt = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    x, t = env.eng_tensor(xn), env.eng_tensor(tn)
    steps, cases = {}, {}
    steps[ENGINE], cases[ENGINE] = _sgd_case(opt, model, x, t, F.cross_entropy, env.eng_sync)
    if TORCH in env.impls:
        tmodel = build(torch.nn)
        tsd = tmodel.state_dict()
        _copy_into_torch(model.state_dict(), tsd)
        if env.cuda:
            for m in (tmodel.lstm, tmodel.head) if isinstance(tmodel, _LSTMNet) else (tmodel,):
                m.to("cuda")
        topt = torch.optim.SGD(tmodel.parameters(), lr=LR, momentum=MOMENTUM)
        xt, tt = env.torch_tensor(xn), env.torch_tensor(tn)
        steps[TORCH], cases[TORCH] = _sgd_case(topt, tmodel, xt, tt,
                                               torch.nn.functional.cross_entropy,
                                               env.torch_sync)
    models = {ENGINE: model, TORCH: tmodel if TORCH in env.impls else None}
    rates = {n: _dropout_rates(m) for n, m in models.items() if hasattr(m, "modules")}
    for n, r in rates.items():
        _dropout_rates(models[n], [0.0] * len(r))
    losses = {n: [st() for _ in range(3)] for n, st in steps.items()}
    for n, r in rates.items():
        _dropout_rates(models[n], r)
    check = _compare_losses(name, losses, atol=1e-4)
    samples = measure(cases, repeat, warmup)
    return [_row(key, f"{name} (ms)", "ms/step", samples, "total", 1e3)], [check]


def bench_lenet(env: Env, repeat: int, warmup: int, batch: int = 64):
    return _bench_model(env, f"(d) LeNet-5 step batch {batch}", "d_lenet_step", _lenet,
                        (batch, 1, 28, 28), repeat, warmup)


def bench_cnn_bn(env: Env, repeat: int, warmup: int, batch: int = 64):
    return _bench_model(env, f"(f) CNN+BatchNorm step batch {batch}", "f_cnn_bn_step",
                        _cnn_bn, (batch, 1, 28, 28), repeat, warmup)


def bench_lstm(env: Env, repeat: int, warmup: int, batch: int = 64):
    return _bench_model(env, f"(e) LSTM step batch {batch}", "e_lstm_step", _LSTMNet,
                        (batch, 28, 28), repeat, warmup)


# ---------------------------------------------------------------------------------------
# (c) long chains and memory per op
# ---------------------------------------------------------------------------------------

def _chain_run(x, n_ops, sync, scope=contextlib.nullcontext):
    """Forward + backward of the scalar chain from the leaf ``x`` (an engine or a torch
    tensor: same API); returns the phase times in seconds, the gradient lands in x.grad.
    The engine builds its chain inside ``ag.gc_relaxed()`` (``scope``), the documented way
    to build a very long graph (Python's collector otherwise rescans the live graph, which
    holds nothing it could collect); PyTorch's graph is not Python objects."""
    x.grad = None
    t0 = _clock(sync)
    with scope():
        y = x
        for _ in range(n_ops // 2):
            y = y * CHAIN_FACTOR
            y = y + CHAIN_SHIFT
    loss = y.sum()
    t1 = _clock(sync)
    loss.backward()
    t2 = _clock(sync)
    del y, loss  # free the graph (timed separately: it is part of what a user pays)
    t3 = _clock(sync)
    return {"total": t2 - t0, "forward": t1 - t0, "backward": t2 - t1, "free": t3 - t2}


def bench_chain(env: Env, n_ops: int, repeat: int, warmup: int, with_numpy: bool):
    xn = np.ones(1, dtype=np.float32)
    x = env.eng_tensor(xn, True)
    cases = {ENGINE: lambda: _chain_run(x, n_ops, env.eng_sync, ag.gc_relaxed)}
    grads = {}
    if with_numpy and NUMPY in env.impls:
        def numpy_ref():
            t0 = time.perf_counter()
            _, g = ref.scalar_chain(xn, n_ops, CHAIN_FACTOR, CHAIN_SHIFT)
            return {"total": time.perf_counter() - t0}

        cases[NUMPY] = numpy_ref
        grads[NUMPY] = ref.scalar_chain(xn, n_ops, CHAIN_FACTOR, CHAIN_SHIFT)[1]
    if TORCH in env.impls:
        xt = env.torch_tensor(xn, True)
        cases[TORCH] = lambda: _chain_run(xt, n_ops, env.torch_sync)

    samples = measure(cases, repeat, warmup, block=1)  # the first run doubles as the check
    grads[ENGINE] = _np(x.grad)
    if TORCH in cases:
        grads[TORCH] = _np(xt.grad)
    expected = np.float32(CHAIN_FACTOR) ** np.float32(n_ops // 2)
    check = _compare_grads(f"(c) chain {_count(n_ops)} grad (expect ~{expected:.6g})",
                           {k: (v,) for k, v in grads.items()}, rtol=1e-3)
    key = f"c_chain_{_count(n_ops)}"
    rows = [_row(key, f"(c) chain {_count(n_ops)} fwd+bwd (s)", "s", samples, "total", 1.0),
            _row(key + "_backward", "    of which backward (s)", "s", samples, "backward",
                 1.0)]
    return rows, [check]


def _chain_graph_arrays(root) -> tuple[int, int]:
    """Count the distinct arrays the recorded graph keeps alive (saved by nodes, or the
    data of tensors the nodes hold), by walking the graph from ``root.grad_fn`` through
    ``next_edges``; returns (count, sys.getsizeof of one array)."""
    seen_nodes, arrays = set(), {}
    stack = [root.grad_fn]
    arrays[id(root._data)] = root._data

    def scan(obj, depth):
        if type(obj).__name__ == "ndarray":  # NumPy or CuPy
            arrays[id(obj)] = obj
        elif isinstance(obj, ag.Tensor):
            arrays[id(obj._data)] = obj._data
        elif depth and isinstance(obj, (tuple, list)):
            for o in obj:
                scan(o, depth - 1)
        elif depth and isinstance(obj, dict):
            for o in obj.values():
                scan(o, depth - 1)

    while stack:
        node = stack.pop()
        if node is None or id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        for r in gc.get_referents(node):
            scan(r, 3)
        for e in node.next_edges:
            e = e[0] if isinstance(e, tuple) else e
            if isinstance(e, Node):
                stack.append(e)
    size = sys.getsizeof(root._data)
    return len(arrays), size


def _maxrss() -> int:
    """The process's peak resident set size so far, in bytes (``resource.getrusage``)."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r if sys.platform == "darwin" else r * 1024


def _peak_rss() -> int:
    """Like ``_maxrss`` but, on Linux, from /proc/self/status (VmHWM): getrusage's figure
    survives exec, so a child started by a big parent would report the parent's peak."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return _maxrss()


def memory_pass(impl: str, n_ops: int, traced_ops: int, device: str) -> dict:
    """Run in a fresh process (``--mem-pass``): build and backward the chain of ``n_ops``
    once untraced (for max RSS), then, for the engine, a chain of ``traced_ops`` under
    tracemalloc.

    Memory per op = (traced bytes - bytes of the live arrays) / n_ops, where the live arrays
    are those the graph keeps (counted by walking it) and each is charged
    ``sys.getsizeof`` of one such array.
    """
    env = Env(device)
    xn = np.ones(1, dtype=np.float32)
    sync = env.eng_sync if impl == ENGINE else env.torch_sync
    make = env.eng_tensor if impl == ENGINE else env.torch_tensor
    x = make(xn, True)
    gc.collect()
    rss0 = _peak_rss()
    t0 = time.perf_counter()
    times = _chain_run(x, n_ops, sync)
    out = {"impl": impl, "n_ops": n_ops, "rss_before": rss0, "rss_after": _peak_rss(),
           "wall_s": time.perf_counter() - t0, "times": times,
           "grad": float(_np(x.grad)[0])}
    out["rss_per_op"] = (out["rss_after"] - rss0) / n_ops
    if impl != ENGINE:
        return out

    import tracemalloc

    x.grad = None
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    y = x
    for _ in range(traced_ops // 2):
        y = y * CHAIN_FACTOR
        y = y + CHAIN_SHIFT
    loss = y.sum()
    del y
    graph_now, fwd_peak = tracemalloc.get_traced_memory()
    n_arrays, one_array = _chain_graph_arrays(loss)
    gc.collect()
    tracemalloc.reset_peak()  # the graph walk's own allocations are gone: not counted
    loss.backward()
    _, bwd_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    arrays_bytes = n_arrays * one_array
    graph_bytes = graph_now - base
    peak = max(fwd_peak, bwd_peak) - base
    out.update({
        "traced_ops": traced_ops, "traced_graph_bytes": graph_bytes,
        "traced_peak_bytes": peak, "live_arrays": n_arrays, "array_bytes_each": one_array,
        "graph_bytes_per_op": (graph_bytes - arrays_bytes) / traced_ops,
        "peak_bytes_per_op": (peak - arrays_bytes) / traced_ops,
    })
    return out


def run_memory_pass(impl: str, n_ops: int, traced_ops: int, device: str) -> dict | None:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--mem-pass", impl,
           "--mem-ops", str(n_ops), "--mem-traced-ops", str(traced_ops), "--device", device]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        print(f"  memory pass ({impl}, {n_ops} ops) FAILED (exit {p.returncode}):\n"
              + p.stderr[-3000:])
        return None
    return json.loads(p.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------
# checks, rows, printing
# ---------------------------------------------------------------------------------------

def _np(t) -> np.ndarray:
    """A NumPy copy of an engine or torch tensor (or array), without marking the engine
    tensor as exposed to the user."""
    if isinstance(t, np.ndarray):
        return t
    if isinstance(t, ag.Tensor):
        return ag.backend.to_numpy(t.detach()._data).copy()
    return t.detach().cpu().numpy().copy()


def _count(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k"


def _compare_grads(name, grads: dict, rtol: float) -> dict:
    base = grads[ENGINE]
    worst = 0.0
    for other in grads.values():
        for a, b in zip(base, other):
            scale = np.maximum(np.abs(a), 1e-30)
            worst = max(worst, float(np.max(np.abs(a - b) / scale)))
    ok = worst <= rtol
    shown = ", ".join(f"{k} {float(np.ravel(v[0])[0]):.6g}" for k, v in grads.items())
    return {"name": name, "ok": ok, "max_rel_diff": worst, "tol": rtol,
            "text": f"{name}: {shown}; max rel diff {worst:.2e} "
                    f"({'OK' if ok else 'MISMATCH'}, tol {rtol:g})"}


def _compare_losses(name, losses: dict, atol: float) -> dict:
    base = losses[ENGINE]
    worst = max(abs(a - b) for v in losses.values() for a, b in zip(base, v))
    ok = worst <= atol
    shown = "; ".join(f"{k} " + " ".join(f"{v:.7f}" for v in vals)
                      for k, vals in losses.items())
    return {"name": name, "ok": ok, "max_abs_diff": worst, "tol": atol, "losses": losses,
            "text": f"{name} losses of steps 1..{len(base)}: {shown}; max |diff| "
                    f"{worst:.2e} ({'OK' if ok else 'MISMATCH'}, tol {atol:g})"}


def _row(key, label, unit, samples, phase, scale) -> dict:
    """One table row: per implementation, median/min/samples of ``phase`` x ``scale``."""
    row = {"key": key, "label": label, "unit": unit, "phase": phase}
    for impl in IMPLS:
        s = samples.get(impl, {}).get(phase)
        if not s:
            row[impl] = None
            continue
        vals = [v * scale for v in s]
        row[impl] = {"median": statistics.median(vals), "min": min(vals), "n": len(vals),
                     "samples": vals}
    return row


def _fmt(v) -> str:
    if v is None:
        return "n/a"
    if v >= 1000:
        return f"{v:.0f}"
    if v >= 100:
        return f"{v:.1f}"
    if v >= 10:
        return f"{v:.2f}"
    return f"{v:.3f}" if v >= 0.01 else f"{v:.2e}"


def _ratio(a, b) -> str:
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.2f}x"


def print_table(rows, stat: str) -> None:
    head = (f"{'benchmark':<36}{'engine':>10}{'numpy':>10}{'torch':>10}"
            f"{'eng/np':>9}{'eng/torch':>11}")
    print(head)
    print("-" * len(head))
    for r in rows:
        v = {i: (r[i][stat] if r.get(i) else None) for i in IMPLS}
        print(f"{r['label']:<36}{_fmt(v[ENGINE]):>10}{_fmt(v[NUMPY]):>10}"
              f"{_fmt(v[TORCH]):>10}{_ratio(v[ENGINE], v[NUMPY]):>9}"
              f"{_ratio(v[ENGINE], v[TORCH]):>11}")


def _kernels_state() -> str:
    """Whether the engine's compiled CPU kernels (numba, the ``fast`` extra) are on."""
    import autograd._numba as anb  # noqa: PLC0415

    if not anb.available():
        return "off (numba not installed)"
    import numba  # noqa: PLC0415 - loaded by available()

    return f"on (numba {numba.__version__})" if anb.enabled() else "off (AUTOGRAD_NUMBA=0)"


def machine_info(env: Env) -> dict:
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "numpy": np.__version__,
        "torch": torch.__version__ if torch is not None else None,
        "torch_threads": torch.get_num_threads() if torch is not None else None,
        "autograd": getattr(ag, "__version__", "?"),
        "device": env.device,
        "loadavg": [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg")
        else None,
        "gc_off": GC_OFF,
        "thread_env": {v: os.environ.get(v) for v in
                       ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")},
    }
    return info


def _blas_kernel() -> str:
    """The kernel family (threadpoolctl's "architecture") of NumPy's BLAS, and its threads."""
    info = [i for i in ag.parallel.blas_info() if i.get("user_api") == "blas"]
    if not info:
        return "unknown (pip install threadpoolctl to see it)"
    return ", ".join(f"{i.get('architecture') or '?'} ({i.get('internal_api')}, "
                     f"{i.get('num_threads')} threads)" for i in info)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


# ---------------------------------------------------------------------------------------
# profiling (--profile)
# ---------------------------------------------------------------------------------------

@contextlib.contextmanager
def _op_timer():
    """Within the block, the wall-clock time and calls of every op's forward and backward
    (the ``Op`` subclasses' static methods, wrapped and restored after), keyed "Class.f" /
    "Class.b" (convolutions and pools also by their first input's shape); a call made while
    another timed call runs (an op inside a backward formula) counts in its caller."""
    from collections import defaultdict

    from autograd.function import Op

    acc, depth, saved = defaultdict(lambda: [0.0, 0]), [0], []

    def subclasses(c):
        for s in c.__subclasses__():
            yield s
            yield from subclasses(s)

    def wrap(cls, name):
        fn = cls.__dict__[name].__func__
        key = f"{cls.__name__}.{name[0]}"
        shaped = "Conv" in key or "Pool" in key

        def timed(*a, **k):
            if depth[0]:
                return fn(*a, **k)
            depth[0] += 1
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                kk = key + (str(tuple(a[1].shape)) if shaped and len(a) > 1
                            and hasattr(a[1], "shape") else "")
                rec = acc[kk]
                rec[0] += time.perf_counter() - t0
                rec[1] += 1
                depth[0] -= 1
        return timed

    for cls in set(subclasses(Op)):
        for name in ("forward", "backward"):
            if isinstance(cls.__dict__.get(name), staticmethod):
                saved.append((cls, name, cls.__dict__[name]))
                setattr(cls, name, staticmethod(wrap(cls, name)))
    try:
        yield acc
    finally:
        for cls, name, sm in saved:
            setattr(cls, name, sm)


def _profiled_model(env: Env, which: str):
    """(model, inputs, targets) of a training-step benchmark for ``--profile``: the MLP at
    batch 64 or 1024 (b64, b1024), LeNet (d), the LSTM (e) or cnn-bn (f) at batch 64."""
    if which in ("b64", "b1024"):
        batch = int(which[1:])
        rng = np.random.default_rng(batch)
        x = env.eng_tensor(rng.standard_normal((batch, MLP_SIZES[0]), dtype=np.float32))
        t = env.eng_tensor(rng.integers(0, MLP_SIZES[-1], size=batch, dtype=np.int64))
        return _engine_mlp(env)[0], x, t
    rng = np.random.default_rng(0)
    x = env.eng_tensor(rng.random((64, 28, 28) if which == "e" else (64, 1, 28, 28),
                                  dtype=np.float32))
    t = env.eng_tensor(rng.integers(0, 10, size=64, dtype=np.int64))
    ag.manual_seed(0)
    model = {"d": _lenet, "f": _cnn_bn}[which](nn) if which != "e" else _LSTMNet(nn)
    return model, x, t


def profile_engine(env: Env, which: str, n: int = 20) -> None:
    """Profile the engine alone on one benchmark: the wall clock per op (``_op_timer``),
    then cProfile's top functions."""
    import cProfile
    import pstats

    if which in ("b64", "b1024", "d", "e", "f"):
        model, x, t = _profiled_model(env, which)
        opt = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
        n = 5 if which == "f" else n  # cnn-bn: 0.1 s a step

        def work():
            for _ in range(n):
                loss = F.cross_entropy(model(x), t)
                opt.zero_grad()
                loss.backward()
                opt.step()
            env.eng_sync()
    elif which == "a":
        x = env.eng_tensor(np.ones(4, np.float32), True)
        w = env.eng_tensor(np.full(4, 0.9, np.float32), True)

        def work():
            for _ in range(n):
                y = x
                for _ in range(500):
                    y = y * w
                    y = y + x
                y.sum().backward()
    elif which in ("c100k", "c1M"):
        x = env.eng_tensor(np.ones(1, np.float32), True)
        ops = 100_000 if which == "c100k" else 1_000_000

        def work():
            _chain_run(x, ops, env.eng_sync)
    else:
        raise SystemExit(f"--profile: unknown benchmark {which!r}")
    # the thread counts this profile runs at: OMP_NUM_THREADS=2 alone leaves BLAS and the
    # engine at 1 (OPENBLAS_NUM_THREADS defaults to 1 here); --threads 2 sets all of them
    print(f"threads: engine {ag.parallel.engine_threads()}, BLAS {ag.get_num_threads()} "
          f"(OMP/OPENBLAS/MKL={os.environ.get('OMP_NUM_THREADS')}/"
          f"{os.environ.get('OPENBLAS_NUM_THREADS')}/{os.environ.get('MKL_NUM_THREADS')}; "
          "use --threads N with --profile)")
    work()  # warm-up
    # time spent in Python's cyclic garbage collector (cProfile charges it to whichever
    # function happened to allocate when a collection started)
    gc_time, gc_runs, gc_t0 = [0.0], [0, 0, 0], [0.0]

    def on_gc(phase, info):
        if phase == "start":
            gc_t0[0] = time.perf_counter()
        else:
            gc_time[0] += time.perf_counter() - gc_t0[0]
            gc_runs[info["generation"]] += 1

    t0 = time.perf_counter()
    gc.callbacks.append(on_gc)
    try:
        work()
    finally:
        gc.callbacks.remove(on_gc)
    wall = time.perf_counter() - t0
    print(f"engine on {which}, unprofiled: {wall:.3f} s, of which cyclic GC {gc_time[0]:.3f} s "
          f"({100 * gc_time[0] / wall:.0f}%; collections of generation 0/1/2: "
          f"{gc_runs[0]}/{gc_runs[1]}/{gc_runs[2]})")
    with _op_timer() as per_op:
        t0 = time.perf_counter()
        work()
        wall = time.perf_counter() - t0
    steps = 1 if which.startswith("c") else n
    in_ops = sum(sec for sec, _ in per_op.values())
    print(f"wall clock per op, ms per step (forward 'f' / backward 'b' of each op class, "
          f"ops called inside another op's forward or backward counted in it): "
          f"{1e3 * in_ops / steps:.3f} of {1e3 * wall / steps:.3f} ms in ops")
    for key, (sec, calls) in sorted(per_op.items(), key=lambda kv: -kv[1][0])[:20]:
        print(f"{1e3 * sec / steps:9.3f} ms {100 * sec / wall:5.1f}% {calls / steps:5.0f}x  "
              f"{key}")
    prof = cProfile.Profile()
    prof.enable()
    work()
    prof.disable()
    st = pstats.Stats(prof)
    total = st.total_tt
    print(f"cProfile of the engine on {which}: {total:.3f} s total (profiler inflates "
          "Python-heavy code)")
    rows = sorted(st.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:25]
    print(f"{'tottime':>9} {'%':>6} {'cumtime':>9} {'calls':>9}  function")
    for (fname, line, func), (_cc, nc, tt, ct, _) in rows:
        short = f"{Path(fname).parent.name}/{Path(fname).name}:{line}({func})"
        print(f"{tt:9.4f} {100 * tt / total:5.1f}% {ct:9.4f} {nc:9d}  {short}")


# ---------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default="a,b,c,d,e,f",
                   help="comma-separated benchmarks to run among a, b, c, d, e, f (default: all)")
    p.add_argument("--repeat", type=int, default=None,
                   help="timed repetitions for (a) and (b) (default 50 for (a) and batch 64, "
                        "20 for batch 1024); (c) uses min(N, 5) at 100k ops and min(N, 3) "
                        "at 1M ops")
    p.add_argument("--quick", action="store_true",
                   help="few repetitions, no timed 1M chain (its memory pass still runs "
                        "it): the whole run takes well under a minute")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                   help="run the engine and torch on this device (cuda: no numpy column)")
    p.add_argument("--json", metavar="OUT", help="also write the results to this JSON file")
    p.add_argument("--profile", metavar="BENCH",
                   help="instead of benchmarking, profile the engine on one of: a, b64, "
                        "b1024, c100k, c1M, d (LeNet), e (LSTM), f (cnn-bn): wall clock "
                        "per op, then cProfile")
    p.add_argument("--gc-off", action="store_true",
                   help="disable Python's cyclic garbage collector during timed runs (a "
                        "diagnostic: by default it runs, as in real use)")
    p.add_argument("--threads", metavar="N,M",
                   help="run the whole benchmark once per thread count (BLAS and PyTorch "
                        "threads), each in its own process, and print the series side by "
                        "side, e.g. --threads 1,2")
    p.add_argument("--mem-pass", choices=(ENGINE, TORCH), help=argparse.SUPPRESS)
    p.add_argument("--mem-ops", type=int, default=1_000_000, help=argparse.SUPPRESS)
    p.add_argument("--mem-traced-ops", type=int, default=1_000_000, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.only = {s.strip() for s in args.only.split(",") if s.strip()}
    bad = args.only - {"a", "b", "c", "d", "e", "f"}
    if bad:
        p.error(f"--only: unknown benchmark(s) {sorted(bad)}; choose among a, b, c, d, e, f")
    if args.repeat is not None and args.repeat < 1:
        p.error("--repeat must be at least 1")
    return args


def plan(args) -> dict:
    """Repetitions (repeat, warmup) per benchmark."""
    if args.quick:
        p = {"a": (10, 2), "b64": (10, 2), "b1024": (4, 1), "c100k": (2, 0), "c1M": None,
             "d": (5, 1), "e": (5, 1), "f": (3, 1)}
    else:
        p = {"a": (50, 5), "b64": (50, 5), "b1024": (20, 3), "c100k": (5, 1), "c1M": (3, 0),
             "d": (40, 5), "e": (40, 5), "f": (10, 2)}
    if args.repeat is not None:
        n = args.repeat
        for k in ("a", "b64", "b1024", "d", "e", "f"):
            p[k] = (n, p[k][1])
        p["c100k"] = (min(n, 5), 1)
        if p["c1M"] is not None:
            p["c1M"] = (min(n, 3), 0)  # the 100k runs just before serve as warm-up
    return p


def main(argv=None) -> int:
    global GC_OFF
    args = parse_args(argv)
    if args.threads:
        return run_thread_series(args, sys.argv[1:] if argv is None else list(argv))
    if args.mem_pass != ENGINE:
        load_torch()  # the engine's memory pass runs without it: cleaner RSS
    if args.mem_pass:
        print(json.dumps(memory_pass(args.mem_pass, args.mem_ops, args.mem_traced_ops,
                                     args.device)))
        return 0
    env = Env(args.device)
    GC_OFF = args.gc_off
    # Objects alive now (mostly from importing torch) are moved out of the collector's
    # sight: otherwise every full collection triggered by the engine's allocations would
    # also walk torch's hundreds of thousands of objects, a cost a program using the engine
    # alone does not pay.
    gc.collect()
    gc.freeze()
    if args.profile:
        profile_engine(env, args.profile)
        return 0

    info = machine_info(env)
    reps = plan(args)
    print(f"machine: {info['cpu']}, {info['cpu_count']} CPUs ({info['cpus_usable']} usable); "
          f"python {info['python']}, numpy {info['numpy']}, torch {info['torch'] or 'n/a'}; "
          f"threads: OMP/OPENBLAS/MKL={info['thread_env']['OMP_NUM_THREADS']}/"
          f"{info['thread_env']['OPENBLAS_NUM_THREADS']}/{info['thread_env']['MKL_NUM_THREADS']}"
          f", torch {info['torch_threads'] if info['torch_threads'] is not None else 'n/a'}; "
          f"device {env.device}; load average {info['loadavg']}"
          + f"; OpenBLAS kernel {_blas_kernel()}; compiled kernels {_kernels_state()}"
          + "".join(f"; {v}={os.environ[v]} (pinned)" for v in
                    ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if os.environ.get(v))
          + ("; cyclic GC off in timed runs" if GC_OFF else ""))
    for note in env.notes:
        print(f"note: {note}")
    print("timing: implementations take turns in rounds; in each round one untimed step "
          "(caches back) then 5 timed steps (chains: single runs); median (and min)")
    sys.stdout.flush()

    rows, checks, memory = [], [], {}
    t_start = time.perf_counter()

    def step(label, fn, *a):
        t0 = time.perf_counter()
        r, c = fn(*a)
        rows.extend(r)
        checks.extend(c)
        for ch in c:
            print("  check " + ch["text"])
        print(f"  [{label} done in {time.perf_counter() - t0:.1f} s]")
        sys.stdout.flush()

    if "a" in args.only:
        step("a", bench_overhead, env, *reps["a"])
    if "b" in args.only:
        step("b batch 64", bench_mlp, env, 64, *reps["b64"])
        step("b batch 1024", bench_mlp, env, 1024, *reps["b1024"])
    if "d" in args.only:
        step("d LeNet", bench_lenet, env, *reps["d"])
    if "e" in args.only:
        step("e LSTM", bench_lstm, env, *reps["e"])
    if "f" in args.only:
        step("f CNN+BN", bench_cnn_bn, env, *reps["f"])
    if "c" in args.only:
        step("c 100k", bench_chain, env, 100_000, *reps["c100k"], True)
        if reps["c1M"] is not None:
            step("c 1M", bench_chain, env, 1_000_000, *reps["c1M"], False)
        t0 = time.perf_counter()
        # --quick: the 1M chain still runs (untraced: backward must not recurse), but
        # tracemalloc, which makes it ~3x slower, watches a 100k chain
        traced = 100_000 if args.quick else 1_000_000
        memory[ENGINE] = run_memory_pass(ENGINE, 1_000_000, traced, env.device)
        if env.has_torch and not args.quick:
            memory[TORCH] = run_memory_pass(TORCH, 1_000_000, 0, env.device)
        print(f"  [c memory passes done in {time.perf_counter() - t0:.1f} s]")

    print()
    print(f"results (median of repetitions; engine/numpy/torch on {env.device})")
    print_table(rows, "median")
    print()
    print("min of repetitions")
    print_table(rows, "min")
    print()
    print("repetitions: " + ", ".join(
        f"{r['label'].split(' (')[0].strip()}: {r[ENGINE]['n']}" for r in rows
        if r.get(ENGINE) and r["phase"] == "total"))
    for ch in checks:
        print(("  " if ch["ok"] else "! ") + ch["text"])
    if memory:
        _print_memory(memory)
    print(f"process max RSS: {_maxrss() / 2**20:.0f} MiB; total time "
          f"{time.perf_counter() - t_start:.1f} s")

    if args.json:
        out = {"machine": info, "notes": env.notes, "repetitions": reps,
               "results": {r["key"]: r for r in rows}, "checks": checks, "memory": memory}
        Path(args.json).write_text(json.dumps(out, indent=2, default=str))
        print(f"wrote {args.json}")
    return 0 if all(ch["ok"] for ch in checks) else 1


def run_thread_series(args, argv: list) -> int:
    """``--threads 1,2``: this script once per thread count, in a child process with the
    thread variables set (they must be set before NumPy and PyTorch start their pools), then
    the medians side by side."""
    import tempfile

    counts = [int(c) for c in args.threads.split(",") if c.strip()]
    rest, skip = [], False
    for a in argv:  # the arguments without --threads/--json (each child writes its JSON)
        if skip:
            skip = False
            continue
        if a in ("--threads", "--json"):
            skip = True
            continue
        if a.startswith(("--threads=", "--json=")):
            continue
        rest.append(a)
    results, rc = {}, 0
    with tempfile.TemporaryDirectory() as tmp:
        for n in counts:
            out = Path(tmp) / f"t{n}.json"
            env = dict(os.environ, OMP_NUM_THREADS=str(n), OPENBLAS_NUM_THREADS=str(n),
                       MKL_NUM_THREADS=str(n))
            print(f"==== {n} thread{'s' if n > 1 else ''} ====", flush=True)
            r = subprocess.run([sys.executable, __file__, *rest, "--json", str(out)], env=env)
            rc = rc or r.returncode
            if out.exists():
                results[n] = json.loads(out.read_text())
    if not results:
        return rc or 1
    keys = list(next(iter(results.values()))["results"])
    print()
    print("side by side (median): engine / numpy / torch at each thread count; ratios "
          "engine/torch and engine/numpy")
    head = f"{'benchmark':<36}" + "".join(
        f"{f'{n}T eng':>10}{'np':>9}{'torch':>9}{'e/torch':>9}{'e/np':>7}" for n in results)
    print(head)
    print("-" * len(head))
    for k in keys:
        line, label = "", k
        for res in results.values():
            row = res["results"].get(k)
            if row is None:
                line += f"{'':>44}"
                continue
            label = row["label"]
            v = {i: (row[i]["median"] if row.get(i) else None) for i in IMPLS}
            line += (f"{_fmt(v[ENGINE]):>10}{_fmt(v[NUMPY]):>9}{_fmt(v[TORCH]):>9}"
                     f"{_ratio(v[ENGINE], v[TORCH]):>9}{_ratio(v[ENGINE], v[NUMPY]):>7}")
        print(f"{label[:35]:<36}{line}")
    if args.json:
        Path(args.json).write_text(json.dumps({str(n): r for n, r in results.items()},
                                              indent=2, default=str))
        print(f"wrote {args.json}")
    return rc


def _print_memory(memory: dict) -> None:
    m = memory.get(ENGINE)
    print()
    if m is None:
        print("memory (c): the engine's memory pass failed (see above)")
        return
    mib = 2**20
    print("memory (c), 1M-op chain, each in a fresh process, not timed:")
    print(f"  engine, tracemalloc ({_count(m['traced_ops'])}-op chain): graph after forward "
          f"{m['traced_graph_bytes'] / mib:.1f} MiB = {m['graph_bytes_per_op']:.0f} bytes/op; "
          f"peak over forward+backward {m['traced_peak_bytes'] / mib:.1f} MiB = "
          f"{m['peak_bytes_per_op']:.0f} bytes/op")
    print(f"    (arrays themselves subtracted: {m['live_arrays']} live arrays x "
          f"{m['array_bytes_each']} bytes)")
    for impl in (ENGINE, TORCH):
        r = memory.get(impl)
        if r is None:
            continue
        print(f"  {impl}, max RSS: {r['rss_before'] / 2**20:.0f} MiB before the chain, "
              f"{r['rss_after'] / 2**20:.0f} MiB after forward+backward = "
              f"{r['rss_per_op']:.0f} bytes/op (grad {r['grad']:.6g}, "
              f"fwd {r['times']['forward']:.2f} s, bwd {r['times']['backward']:.2f} s)")


if __name__ == "__main__":
    sys.exit(main())
