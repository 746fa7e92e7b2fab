"""DistributedDataParallel: data-parallel training, one model replica per process.

Every rank runs the same script on its own shard of the data (``DistributedSampler``). At
construction rank 0's parameters and buffers are broadcast to the others. During backward
each parameter's ``register_post_accumulate_grad_hook`` marks it ready in its bucket
(buckets of about ``bucket_cap_mb``, in reverse registration order, which is roughly the
order in which backward produces the gradients); a bucket whose gradients are all there is
flattened into one buffer and its all-reduce starts at once, non-blocking, while backward
goes on computing the gradients of earlier layers. When the last bucket is launched, DDP
waits for all of them and writes the averaged gradients back into ``.grad``. The optimizer
then sees the same averaged gradients on every rank, so any optimizer works unchanged.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import numpy as np

from autograd import distributed as dist
from autograd.backend import to_numpy
from autograd.distributed._common import DistributedError, Work
from autograd.grad_mode import is_grad_enabled
from autograd.ops.inplace import _write
from autograd.tensor import Tensor, _make

from ..modules.module import Module


class _Bucket:
    __slots__ = ("index", "params", "offsets", "numel", "dtype", "pending", "ready", "flat",
                 "work", "launch_time", "launched_at_hook")

    def __init__(self, index: int, params: list, dtype):
        self.index = index
        self.params = params
        self.offsets = []
        off = 0
        for p in params:
            self.offsets.append(off)
            off += p.numel()
        self.numel = off
        self.dtype = dtype
        self.reset()

    def reset(self) -> None:
        self.pending = len(self.params)
        self.ready = set()
        self.flat = None
        self.work = None
        self.launch_time = None
        self.launched_at_hook = None


def _outputs(obj, out: list) -> list:
    if isinstance(obj, Tensor):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _outputs(o, out)
    elif isinstance(obj, dict):
        for o in obj.values():
            _outputs(o, out)
    return out


def _reached_leaves(outputs) -> set:
    """ids of the leaf tensors that the graph of ``outputs`` reaches (iterative DFS)."""
    seen, leaves = set(), set()
    stack = []
    for t in outputs:
        if t.grad_fn is not None:
            stack.append(t.grad_fn)
        elif t.requires_grad:
            leaves.add(id(t))
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        var = getattr(node, "variable", None)  # an AccumulateGrad node: its leaf
        if isinstance(var, Tensor):
            leaves.add(id(var))
        for e in getattr(node, "next_edges", ()):
            if e is None:
                continue
            if e.__class__ is tuple:
                e = e[0]
            if isinstance(e, Tensor):
                leaves.add(id(e))
            elif id(e) not in seen:
                stack.append(e)
    return leaves


class DistributedDataParallel(Module):
    """Data-parallel training of ``module`` over the ranks of the process group
    (``torch.nn.parallel.DistributedDataParallel``).

    Args:
        module: the model; every rank builds the same architecture (checked at
            construction) and rank 0's parameters and buffers are copied to the others.
        device_ids: None for CPU models; with the NCCL backend, ``[i]``, the rank's GPU.
        broadcast_buffers: copy rank 0's buffers (BatchNorm running statistics) to every
            rank at the start of each forward.
        process_group: the group to train over (default: the default group).
        bucket_cap_mb: gradients are all-reduced in buckets of about this many MiB.
        find_unused_parameters: walk the graph after each forward and mark the parameters
            that it does not reach as ready (their gradients are counted as zero; a parameter
            unused on every rank keeps its ``.grad``). Without it, a parameter that gets no
            gradient makes the next forward raise.

    The gradients are averaged over the ranks: with each rank's loss a mean over its local
    batch, they equal the gradient of the mean over the global batch.

    Example:
        >>> dist.init_process_group("mpi")          # under mpirun -n 2
        >>> model = nn.parallel.DistributedDataParallel(nn.Linear(4, 2))
        >>> opt = optim.SGD(model.parameters(), lr=0.1)
        >>> model(x).pow(2).mean().backward()       # gradients averaged over the ranks
        >>> opt.step()
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, process_group=None, bucket_cap_mb=25,
                 find_unused_parameters: bool = False, check_reduction: bool = False,
                 gradient_as_bucket_view: bool = False, static_graph: bool = False):
        super().__init__()
        if not dist.is_initialized():
            raise DistributedError(
                "DistributedDataParallel: the default process group has not been "
                "initialized; call autograd.distributed.init_process_group() first (and "
                "launch the ranks with `mpirun -n N python script.py`)")
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be an nn.Module, got "
                            f"{type(module).__name__}")
        if not hasattr(Tensor, "register_post_accumulate_grad_hook"):
            raise DistributedError("DistributedDataParallel needs "
                                   "Tensor.register_post_accumulate_grad_hook in the engine")
        pg = dist.distributed_c10d._group(process_group, "DistributedDataParallel")
        if pg is None:
            raise DistributedError("DistributedDataParallel: this rank is not a member of "
                                   "process_group")
        self.module = module
        self.process_group = pg
        self.device_ids = device_ids
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.bucket_cap_mb = bucket_cap_mb
        self.require_backward_grad_sync = True
        self.world_size = pg.size()
        be = pg._backend
        self._backend = be
        if device_ids is not None and be.device_type == "cpu":
            raise DistributedError("DistributedDataParallel: device_ids must be None for a CPU "
                                   f"model (backend {be.name!r}), got {device_ids!r}")

        self._all_params = list(module.named_parameters())  # frozen ones are broadcast too
        named = [(n, p) for n, p in self._all_params if p.requires_grad]
        self._named_params = named
        self._param_names = {id(p): n for n, p in named}
        self._named_buffers = [(n, b) for n, b in module.named_buffers() if b is not None]
        for kind, items in (("parameter", self._all_params), ("buffer", self._named_buffers)):
            for n, t in items:
                if t.device.type != be.device_type:
                    raise DistributedError(
                        f"DistributedDataParallel: {kind} {n!r} is on {t.device} but the "
                        f"process group's backend {be.name!r} works on {be.device_type} "
                        "tensors; move the model first")
        self._verify_same_model()
        self._broadcast_coalesced([p for _, p in self._all_params]
                                  + [b for _, b in self._named_buffers])
        self._build_buckets(bucket_cap_mb)
        self._handles = [p.register_post_accumulate_grad_hook(self._hook) for _, p in named]
        self._armed = False
        self._hooks_seen = 0
        self._next_launch = 0
        self._local_used = None
        self.comm_stats = []  # per synchronised backward: see _finalize

    # ---- construction ----------------------------------------------------------------------
    def _verify_same_model(self) -> None:
        mine = [("parameter", n, tuple(p.shape), str(p.dtype)) for n, p in self._all_params]
        mine += [("buffer", n, tuple(b.shape), str(b.dtype)) for n, b in self._named_buffers]
        pg = self.process_group
        everyone = [None] * pg.size()
        dist.all_gather_object(everyone, mine, group=pg)
        ref = everyone[0]
        for r, theirs in enumerate(everyone[1:], start=1):
            for a, b in zip(ref, theirs):
                if a != b:
                    raise DistributedError(
                        f"DistributedDataParallel: {b[0]} {b[1]!r} has shape {list(b[2])} "
                        f"({b[3]}) on rank {pg._ranks[r]} but {a[0]} {a[1]!r} has shape "
                        f"{list(a[2])} ({a[3]}) on rank {pg._ranks[0]}; every rank must "
                        "build the same model")
            if len(ref) != len(theirs):
                raise DistributedError(
                    f"DistributedDataParallel: rank {pg._ranks[r]} has {len(theirs)} "
                    f"parameters and buffers but rank {pg._ranks[0]} has {len(ref)}; every "
                    "rank must build the same model")

    def _broadcast_coalesced(self, tensors) -> None:
        """Copy rank 0's values of ``tensors`` to every rank, in one broadcast of bytes."""
        if not tensors or self.world_size == 1:
            return
        be = self._backend
        xp = be.xp
        flat = xp.concatenate([xp.ascontiguousarray(t._data).reshape(-1).view(np.uint8)
                               for t in tensors])
        pg = self.process_group
        w = Work(be, be.broadcast(flat, 0), None, pg._timeout,
                 f"DistributedDataParallel's broadcast of {len(tensors)} parameters/buffers")
        pg._seq += 1
        w.wait()
        if be.rank == 0:
            return
        off = 0
        for t in tensors:
            n = t._data.nbytes
            _write(t, None, flat[off:off + n].view(t.dtype).reshape(t.shape))
            off += n

    def _build_buckets(self, cap_mb) -> None:
        cap = max(1, int(float(cap_mb) * 1024 * 1024))
        # as PyTorch: the first bucket (the last layers' gradients) is small, so that its
        # all-reduce starts early in backward
        first_cap = min(cap, 1024 * 1024)
        buckets, cur, size, dt = [], [], 0, None
        for _, p in reversed(self._named_params):
            nb = p._data.nbytes
            limit = first_cap if not buckets else cap
            if cur and (p.dtype != dt or size + nb > limit):
                buckets.append(_Bucket(len(buckets), cur, dt))
                cur, size = [], 0
            cur.append(p)
            size += nb
            dt = p.dtype
        if cur:
            buckets.append(_Bucket(len(buckets), cur, dt))
        self._buckets = buckets
        self._bucket_of = {id(p): b for b in buckets for p in b.params}

    # ---- forward -----------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        if self._armed and self._hooks_seen:
            self._unfinished_error()
        sync = is_grad_enabled() and self.require_backward_grad_sync
        if self.broadcast_buffers and self._named_buffers:
            self._broadcast_coalesced([b for _, b in self._named_buffers])
        out = self.module(*inputs, **kwargs)
        if sync and self._buckets:
            self._prepare_for_backward(out)
        else:
            self._armed = False
        return out

    def _unfinished_error(self):
        missing = [self._param_names[id(p)] for b in self._buckets for p in b.params
                   if id(p) not in b.ready]
        self._armed = False
        raise RuntimeError(
            "DistributedDataParallel: the previous iteration's gradient reduction did not "
            "finish, because these parameters got no gradient in backward: "
            f"{', '.join(missing[:20])}{' ...' if len(missing) > 20 else ''}. Pass "
            "find_unused_parameters=True if some parameters are unused in the forward pass "
            "(make sure the loss depends on every output of forward).")

    def _prepare_for_backward(self, out) -> None:
        for b in self._buckets:
            b.reset()
        self._armed = True
        self._hooks_seen = 0
        self._next_launch = 0
        self._t_first_hook = None
        self._local_used = None
        if self.find_unused_parameters:
            reached = _reached_leaves(_outputs(out, []))
            used = np.ones(len(self._named_params), dtype=np.uint8)
            for i, (_, p) in enumerate(self._named_params):
                if id(p) not in reached:
                    used[i] = 0
                    self._mark_ready(p, hook=False)
            self._local_used = used
            self._launch_ready()

    # ---- backward ----------------------------------------------------------------------------
    def _hook(self, p) -> None:
        if not self._armed:
            return  # no_sync(), or a backward that no forward of this wrapper prepared
        if self._t_first_hook is None:
            self._t_first_hook = time.perf_counter()
        self._hooks_seen += 1
        self._mark_ready(p, hook=True)
        if not self._launch_ready():
            # keep the launched all-reduces moving: MPI progresses them inside MPI calls
            for b in self._buckets[:self._next_launch]:
                if b.work is not None and not b.work._done:
                    b.work.is_completed()

    def _mark_ready(self, p, hook: bool) -> None:
        b = self._bucket_of[id(p)]
        if id(p) in b.ready:
            raise RuntimeError(
                f"DistributedDataParallel: parameter {self._param_names[id(p)]!r} was marked "
                "ready twice in one iteration (a second backward through the same forward, "
                "or a parameter used in the forward but also marked unused); run one "
                "backward per forward")
        b.ready.add(id(p))
        b.pending -= 1

    def _launch_ready(self) -> bool:
        """Start the all-reduce of every complete bucket, in bucket order (every rank must
        issue the collectives in the same order). True once all are launched and reduced."""
        bs = self._buckets
        while self._next_launch < len(bs) and bs[self._next_launch].pending == 0:
            self._launch(bs[self._next_launch])
            self._next_launch += 1
        if self._next_launch == len(bs):
            self._finalize()
            return True
        return False

    def _launch(self, b: _Bucket) -> None:
        be = self._backend
        xp = be.xp
        flat = xp.empty(b.numel, dtype=b.dtype)
        for p, off in zip(b.params, b.offsets):
            n = p.numel()
            g = p.grad
            if g is None:
                flat[off:off + n] = 0
            else:
                flat[off:off + n] = g._data.reshape(-1)
        b.flat = flat
        b.launch_time = time.perf_counter()
        b.launched_at_hook = self._hooks_seen
        pg = self.process_group
        pg._seq += 1
        b.work = Work(be, be.allreduce(flat, "sum"), None, pg._timeout,
                      f"DistributedDataParallel's gradient all-reduce of bucket {b.index} "
                      f"(collective #{pg._seq} of group {pg._name!r})")

    def _finalize(self) -> None:
        self._armed = False
        t0 = time.perf_counter()
        done_before = [b.work._done or b.work.is_completed() for b in self._buckets]
        for b in self._buckets:
            b.work.wait()
        t1 = time.perf_counter()
        globally_used = None
        if self._local_used is not None:
            used = _make(self._backend.xp.asarray(self._local_used))
            dist.all_reduce(used, op=dist.ReduceOp.MAX, group=self.process_group)
            globally_used = to_numpy(used._data)
        index = {id(p): i for i, (_, p) in enumerate(self._named_params)}
        w = self.world_size
        for b in self._buckets:
            flat = b.flat
            flat /= w
            for p, off in zip(b.params, b.offsets):
                if globally_used is not None and not globally_used[index[id(p)]]:
                    continue  # no rank used it: its .grad stays as it was
                n = p.numel()
                p.grad = _make(flat[off:off + n].reshape(p.shape))
            b.flat = None
            b.work = None
        self.comm_stats.append({
            "buckets": len(self._buckets),
            "first_hook": self._t_first_hook,
            "launch_times": [b.launch_time for b in self._buckets],
            "launched_at_hook": [b.launched_at_hook for b in self._buckets],
            "hooks": self._hooks_seen,
            "completed_before_wait": done_before,
            "wait_s": t1 - t0,
        })
        if len(self.comm_stats) > 100:
            del self.comm_stats[:50]

    # ---- user API ------------------------------------------------------------------------------
    @contextmanager
    def no_sync(self):
        """Within this context, backward accumulates gradients locally without all-reducing
        them; the first backward after it all-reduces the accumulated gradients."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def extra_repr(self) -> str:
        return (f"world_size={self.world_size}, buckets={len(self._buckets)}, "
                f"broadcast_buffers={self.broadcast_buffers}, "
                f"find_unused_parameters={self.find_unused_parameters}")
