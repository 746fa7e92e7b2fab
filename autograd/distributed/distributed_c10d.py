"""Process groups and collectives with ``torch.distributed``'s names and semantics.

    mpirun -n 2 python train.py          # every rank runs the same script

    import autograd.distributed as dist
    dist.init_process_group("mpi")       # rank and world size from the MPI launcher
    t = ag.tensor([float(dist.get_rank())])
    dist.all_reduce(t)                   # in place: t == [1.] on both ranks

Collectives modify their output tensors in place (and bump their version counters).
``async_op=True`` returns a ``Work`` handle; results are there once ``wait()`` returned.
Every collective waits against the group's ``timeout``: past it the job is aborted with a
message naming the rank and the collective (a rank died, raised, or skipped a collective),
never a hang. An uncaught exception on any rank also aborts the whole job.
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import sys
import zlib
from datetime import timedelta

import numpy as np

from ..ops.inplace import _write
from ..tensor import Tensor
from ._common import DistributedError, ReduceOp, Work, abort_job, check_op, to_seconds
from ._mpi import MPIBackend, import_mpi
from ._nccl import NCCLBackend, _import_nccl

default_pg_timeout = timedelta(minutes=30)


class Backend:
    """Backend names (``torch.distributed.Backend``)."""

    MPI = "mpi"
    NCCL = "nccl"
    GLOO = "gloo"


class ProcessGroup:
    """A set of ranks that run collectives together (the default group, or ``new_group``)."""

    def __init__(self, backend, ranks, timeout: float, name: str):
        self._backend = backend
        self._ranks = list(ranks)  # global ranks, in group-rank order
        self._timeout = timeout
        self._name = name
        self._seq = 0

    def rank(self) -> int:
        return self._backend.rank

    def size(self) -> int:
        return self._backend.size

    def name(self) -> str:
        return self._backend.name

    def __repr__(self) -> str:
        return (f"ProcessGroup({self._name!r}, backend={self._backend.name!r}, "
                f"ranks={self._ranks})")


class GroupMember:
    """``GroupMember.WORLD`` is the default group once initialised;
    ``NON_GROUP_MEMBER`` is what ``new_group`` returns on ranks outside the group."""

    WORLD = None
    NON_GROUP_MEMBER = object()


class _State:
    default: ProcessGroup | None = None
    groups: list = []
    prev_excepthook = None
    debug = (os.environ.get("AUTOGRAD_DISTRIBUTED_DEBUG")
             or os.environ.get("TORCH_DISTRIBUTED_DEBUG") or "OFF").upper()


_state = _State()


# ---------------------------------------------------------------------------------------
# availability and initialisation
# ---------------------------------------------------------------------------------------


def is_mpi_available() -> bool:
    """True when mpi4py is installed (it is not imported: that would initialise MPI)."""
    return importlib.util.find_spec("mpi4py") is not None


def is_nccl_available() -> bool:
    """True when CuPy with its NCCL binding is installed."""
    return importlib.util.find_spec("cupy") is not None


def is_available() -> bool:
    """True when a backend can be imported (``mpi``: mpi4py; ``nccl``: CuPy)."""
    return is_mpi_available() or is_nccl_available()


def is_initialized() -> bool:
    return _state.default is not None


def _env_int(name: str):
    v = os.environ.get(name)
    return None if v in (None, "") else int(v)


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout=None, world_size: int = -1, rank: int = -1, store=None,
                       group_name: str = "", pg_options=None, device_id=None) -> None:
    """Initialise the default process group.

    Args:
        backend: ``"mpi"`` (CPU tensors, mpi4py) or ``"nccl"`` (CUDA tensors, CuPy's NCCL);
            None picks ``"mpi"``.
        init_method: None or ``"env://"``. Processes are started and wired up by the MPI
            launcher (``mpirun -n N python script.py``); no TCP rendezvous.
        timeout: how long any collective may wait for the other ranks (a timedelta or
            seconds; default 30 minutes). Past it the job is aborted with a message naming
            the rank, instead of hanging.
        world_size, rank: if given (or set in the ``WORLD_SIZE``/``RANK`` environment), they
            must agree with the launcher's; with ``nccl`` and no launcher, ``world_size=1``.

    Raises:
        DistributedError: already initialised, unknown or missing backend (saying what to
            install), or a rank/world size that contradicts the launcher.
    """
    if _state.default is not None:
        raise DistributedError("trying to initialize the default process group twice! "
                               "(call destroy_process_group() first)")
    if store is not None:
        raise DistributedError("init_process_group: stores are not supported; the MPI "
                               "launcher (mpirun) wires the processes together")
    if init_method not in (None, "env://"):
        raise DistributedError(f"init_process_group: init_method={init_method!r} is not "
                               "supported; launch the processes with `mpirun -n N` instead")
    name = "mpi" if backend is None else str(backend).lower()
    if name not in (Backend.MPI, Backend.NCCL):
        raise DistributedError(f"init_process_group: backend {backend!r} is not available "
                               "here: use 'mpi' (CPU tensors, over mpi4py/OpenMPI) or 'nccl' "
                               "(CUDA tensors, over CuPy's NCCL)")
    tmo = to_seconds(default_pg_timeout if timeout is None else timeout)
    want_size = world_size if world_size is not None and world_size >= 0 \
        else _env_int("WORLD_SIZE")
    want_rank = rank if rank is not None and rank >= 0 else _env_int("RANK")

    if name == Backend.MPI:
        import_mpi()  # the clear error, before anything else
        world = MPIBackend.world("WORLD")
        _check_launcher(world.rank, world.size, want_rank, want_size)
        _barrier_raw(world, tmo, "init_process_group's barrier")
        be = world.dup("WORLD")
    else:
        _import_nccl()
        launched = _env_int("OMPI_COMM_WORLD_SIZE") or _env_int("PMI_SIZE") \
            or _env_int("PMIX_SIZE")
        if launched and launched > 1:
            world = MPIBackend.world("WORLD")
            _check_launcher(world.rank, world.size, want_rank, want_size)
            _barrier_raw(world, tmo, "init_process_group's barrier")
            be = NCCLBackend.world(world.rank, world.size)
        else:
            size = 1 if want_size is None else want_size
            if size != 1:
                raise DistributedError(
                    f"init_process_group('nccl'): world_size={size} needs the processes to "
                    "be started by an MPI launcher (the NCCL unique id is sent over MPI): "
                    f"`mpirun -n {size} python script.py`")
            be = NCCLBackend.world(0, 1)
    pg = ProcessGroup(be, range(be.size), tmo, "WORLD")
    _state.default = pg
    GroupMember.WORLD = pg
    if _state.prev_excepthook is None:
        _state.prev_excepthook = sys.excepthook
        sys.excepthook = _excepthook


def _check_launcher(mpi_rank, mpi_size, want_rank, want_size) -> None:
    if want_size is not None and want_size != mpi_size:
        raise DistributedError(
            f"init_process_group: world_size={want_size} was asked for (argument or WORLD_SIZE "
            f"environment variable) but the MPI launcher started {mpi_size} process(es); "
            f"launch with `mpirun -n {want_size} python ...`")
    if want_rank is not None and want_rank != mpi_rank:
        raise DistributedError(
            f"init_process_group: rank={want_rank} was asked for (argument or RANK environment "
            f"variable) but the MPI launcher made this process rank {mpi_rank}")


def _excepthook(tp, value, tb) -> None:
    prev = _state.prev_excepthook or sys.__excepthook__
    prev(tp, value, tb)
    pg = _state.default
    if pg is not None and pg._backend.size > 1:
        be = pg._backend
        sys.stderr.write(f"autograd.distributed: rank {be.global_rank} raised an uncaught "
                         f"{tp.__name__}; aborting the whole job so the other ranks do not "
                         "wait for it.\n")
        sys.stderr.flush()
        be.abort(1)


def destroy_process_group(group=None) -> None:
    """Tear down ``group`` (or the default group and every group made by ``new_group``)."""
    if group is None or group is _state.default:
        for pg in _state.groups:
            pg._backend.destroy()
        _state.groups = []
        if _state.default is not None:
            _state.default._backend.destroy()
        _state.default = None
        GroupMember.WORLD = None
        if _state.prev_excepthook is not None:
            sys.excepthook = _state.prev_excepthook
            _state.prev_excepthook = None
        return
    if group is GroupMember.NON_GROUP_MEMBER:
        return
    if group in _state.groups:
        _state.groups.remove(group)
        group._backend.destroy()


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization=False):
    """A process group of the given global ranks (all ranks by default). Every rank of the
    default group must call it, members or not; non-members get
    ``GroupMember.NON_GROUP_MEMBER``."""
    pg = _default("new_group")
    world = pg._backend.size
    ranks = list(range(world)) if ranks is None else sorted(int(r) for r in ranks)
    if not ranks or ranks[0] < 0 or ranks[-1] >= world or len(set(ranks)) != len(ranks):
        raise ValueError(f"new_group: ranks {ranks} must be distinct ranks in [0, {world})")
    if backend is not None and str(backend).lower() != pg._backend.name:
        raise DistributedError(f"new_group: backend {backend!r} differs from the default "
                               f"group's {pg._backend.name!r}")
    tmo = pg._timeout if timeout is None else to_seconds(timeout)
    _barrier_raw(pg._backend, tmo, "new_group's barrier")
    name = f"group{len(_state.groups) + 1}"
    be = pg._backend.split(ranks, name)
    if be is None:
        return GroupMember.NON_GROUP_MEMBER
    sub = ProcessGroup(be, ranks, tmo, name)
    _state.groups.append(sub)
    return sub


def _default(what: str) -> ProcessGroup:
    pg = _state.default
    if pg is None:
        raise DistributedError(f"{what}: the default process group has not been initialized; "
                               "call autograd.distributed.init_process_group() first")
    return pg


def _group(group, what: str):
    """The process group to use, or None on a rank that is not a member of ``group``."""
    pg = _default(what)
    if group is None or group is GroupMember.WORLD:
        return pg
    if group is GroupMember.NON_GROUP_MEMBER:
        return None
    if not isinstance(group, ProcessGroup):
        raise TypeError(f"{what}: group must be a ProcessGroup from new_group(), got "
                        f"{type(group).__name__}")
    return group


def get_rank(group=None) -> int:
    """This process's rank in ``group`` (the default group), -1 if not a member."""
    pg = _group(group, "get_rank")
    return -1 if pg is None else pg._backend.rank


def get_world_size(group=None) -> int:
    """The number of processes in ``group`` (the default group), -1 if not a member."""
    pg = _group(group, "get_world_size")
    return -1 if pg is None else pg._backend.size


def get_backend(group=None) -> str:
    pg = _group(group, "get_backend")
    return pg._backend.name


def get_process_group_ranks(group) -> list:
    pg = _group(group, "get_process_group_ranks")
    return list(pg._ranks)


def get_global_rank(group, group_rank: int) -> int:
    pg = _group(group, "get_global_rank")
    return pg._ranks[group_rank]


def get_group_rank(group, global_rank: int) -> int:
    pg = _group(group, "get_group_rank")
    try:
        return pg._ranks.index(global_rank)
    except ValueError:
        raise ValueError(f"rank {global_rank} is not in group {pg._name!r} "
                         f"(ranks {pg._ranks})") from None


# ---------------------------------------------------------------------------------------
# running a collective
# ---------------------------------------------------------------------------------------


def _barrier_raw(be, timeout: float, what: str) -> None:
    Work(be, be.barrier(), None, timeout, what).wait()


def _launch(pg: ProcessGroup, what: str, start, finish, async_op: bool, buf=None):
    """Start a collective (``start()`` posts it and returns its requests) and wait for it,
    or hand back its ``Work`` handle."""
    if _state.debug == "DETAIL":
        _check_same_collective(pg, what, buf)
    pg._seq += 1
    w = Work(pg._backend, start(), finish, pg._timeout,
             f"{what} (collective #{pg._seq} of group {pg._name!r})", pg)
    if async_op:
        return w
    w.wait()
    return None


def _check_same_collective(pg: ProcessGroup, what: str, buf) -> None:
    """Debug mode: before each collective, check that every rank is calling the same one
    (same kind, arguments, element count and dtype) instead of letting mismatched calls
    pair up and give wrong numbers."""
    be = pg._backend
    n = -1 if buf is None else int(buf.size)
    dt = 0 if buf is None else ord(buf.dtype.char)
    mine = np.array([zlib.crc32(what.encode()), n, dt], dtype=np.int64)
    everyone = be.xp.empty((be.size, 3), dtype=np.int64)
    Work(be, be.allgather(be.xp.asarray(mine), everyone), None, pg._timeout,
         f"the consistency check of {what}").wait()
    everyone = everyone.get() if hasattr(everyone, "get") else everyone
    if (everyone == everyone[0]).all():
        return
    calls = []
    for r, (_, n, dt) in enumerate(everyone.tolist()):
        calls.append(f"rank {pg._ranks[r]}: collective #{pg._seq + 1} "
                     + (what if r == be.rank else "(see below)")
                     + ("" if n < 0 else f" of {n} {np.dtype(chr(dt))} elements"))
    names = [None] * be.size
    _state.debug = "OFF"  # the name exchange must not check itself
    try:
        all_gather_object(names, what, group=pg)
    finally:
        _state.debug = "DETAIL"
    calls = [c.replace("(see below)", names[r]) for r, c in enumerate(calls)]
    raise DistributedError("the ranks called different collectives (debug level DETAIL):\n  "
                           + "\n  ".join(calls))


def set_debug_level(level: str) -> None:
    """``"OFF"`` (default) or ``"DETAIL"``: check before every collective that all ranks
    call the same one (one extra small all-gather per collective). The environment variable
    ``AUTOGRAD_DISTRIBUTED_DEBUG`` (or ``TORCH_DISTRIBUTED_DEBUG``) sets it at import."""
    level = str(level).upper()
    if level not in ("OFF", "INFO", "DETAIL"):
        raise ValueError(f"debug level must be OFF, INFO or DETAIL, got {level!r}")
    _state.debug = level


def get_debug_level() -> str:
    return _state.debug


def _check(t, what: str, arg: str, be):
    if not isinstance(t, Tensor):
        raise TypeError(f"{what}: {arg} must be a Tensor, got {type(t).__name__}")
    dev = t.device
    if dev.type != be.device_type:
        hint = ("move it with .cpu()" if be.device_type == "cpu"
                else "move it with .cuda() (one GPU per rank)")
        raise DistributedError(
            f"{what}: {arg} is on device {dev} but the process group's backend "
            f"{be.name!r} works on {be.device_type} tensors; {hint}, or initialise the "
            f"process group with backend={'nccl' if be.device_type == 'cpu' else 'mpi'!r}")
    return t._data


def _src_rank(pg: ProcessGroup, rank: int, what: str, arg: str) -> int:
    """Global rank -> rank in ``pg``."""
    try:
        return pg._ranks.index(int(rank))
    except ValueError:
        raise ValueError(f"{what}: {arg}={rank} is not a rank of group {pg._name!r} "
                         f"(its global ranks are {pg._ranks})") from None


def _contiguous_writeable(a) -> bool:
    return a.flags.c_contiguous and getattr(a.flags, "writeable", True)


def _inout(t, be, dtype=None):
    """The buffer a collective writes ``t``'s result into, and the function that puts the
    result in ``t`` once it is complete (in place when ``t``'s array can be the buffer)."""
    a = t._data
    if (dtype is None or dtype == a.dtype) and _contiguous_writeable(a):
        def done():
            t._vc[0] += 1
        return a, done
    buf = be.xp.array(a, dtype=dtype or a.dtype, order="C", copy=True)

    def done():
        _write(t, None, buf if buf.dtype == a.dtype else buf.astype(a.dtype))
    return buf, done


def _avg_check(op: str, dtype, what: str) -> None:
    if op == "avg" and dtype.kind not in "fcV":
        raise DistributedError(f"{what}: ReduceOp.AVG needs a floating-point tensor, got "
                               f"{dtype}")


def _then(*fs):
    def run():
        for f in fs:
            if f is not None:
                f()
    return run


def _scale(buf, op: str, n: int):
    if op != "avg":
        return None

    def f():
        buf[...] /= n
    return f


# ---------------------------------------------------------------------------------------
# collectives
# ---------------------------------------------------------------------------------------


def barrier(group=None, async_op: bool = False, device_ids=None):
    """Wait until every rank of ``group`` reached this call."""
    pg = _group(group, "barrier")
    if pg is None:
        return None
    return _launch(pg, "barrier", pg._backend.barrier, None, async_op)


def broadcast(tensor, src: int = 0, group=None, async_op: bool = False, group_src=None):
    """Copy ``tensor`` of global rank ``src`` into ``tensor`` on every rank of ``group``."""
    pg = _group(group, "broadcast")
    if pg is None:
        return None
    be = pg._backend
    _check(tensor, "broadcast", "tensor", be)
    root = group_src if group_src is not None else _src_rank(pg, src, "broadcast", "src")
    buf, done = _inout(tensor, be)
    return _launch(pg, f"broadcast(src={src})", lambda: be.broadcast(buf, root), done, async_op,
                   buf)


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce ``tensor`` over every rank of ``group`` with ``op``; every rank gets the
    result in ``tensor`` (in place)."""
    pg = _group(group, "all_reduce")
    if pg is None:
        return None
    be = pg._backend
    _check(tensor, "all_reduce", "tensor", be)
    op = check_op(op)
    _avg_check(op, tensor.dtype, "all_reduce")
    buf, done = _inout(tensor, be, be.reduce_dtype(tensor.dtype))
    return _launch(pg, f"all_reduce(op={op.upper()})", lambda: be.allreduce(buf, op),
                   _then(_scale(buf, op, be.size), done), async_op, buf)


def reduce(tensor, dst: int = 0, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce ``tensor`` over the ranks of ``group`` into ``tensor`` on global rank ``dst``
    (the other ranks' tensors are left as they were)."""
    pg = _group(group, "reduce")
    if pg is None:
        return None
    be = pg._backend
    _check(tensor, "reduce", "tensor", be)
    op = check_op(op)
    _avg_check(op, tensor.dtype, "reduce")
    root = _src_rank(pg, dst, "reduce", "dst")
    rdt = be.reduce_dtype(tensor.dtype)
    if be.rank == root:
        buf, done = _inout(tensor, be, rdt)
        fin = _then(_scale(buf, op, be.size), done)
    else:
        buf = be.xp.array(tensor._data, dtype=rdt, order="C", copy=True)
        fin = None
    return _launch(pg, f"reduce(dst={dst}, op={op.upper()})", lambda: be.reduce(buf, op, root),
                   fin, async_op, buf)


def _same(ts, ref, what: str, arg: str):
    for i, t in enumerate(ts):
        if tuple(t.shape) != tuple(ref.shape) or t.dtype != ref.dtype:
            raise ValueError(f"{what}: {arg}[{i}] has shape {list(t.shape)} and dtype "
                             f"{t.dtype}, expected shape {list(ref.shape)} and dtype "
                             f"{ref.dtype} (those of the input tensor)")


def _write_rows(ts, buf):
    def f():
        for i, t in enumerate(ts):
            _write(t, None, buf[i])
    return f


def all_gather(tensor_list, tensor, group=None, async_op: bool = False):
    """Every rank's ``tensor`` into ``tensor_list`` (one tensor per rank) on every rank."""
    pg = _group(group, "all_gather")
    if pg is None:
        return None
    be = pg._backend
    send = be.xp.ascontiguousarray(_check(tensor, "all_gather", "tensor", be))
    if len(tensor_list) != be.size:
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} tensors, expected "
                         f"one per rank ({be.size})")
    for i, t in enumerate(tensor_list):
        _check(t, "all_gather", f"tensor_list[{i}]", be)
    _same(tensor_list, tensor, "all_gather", "tensor_list")
    recv = be.xp.empty((be.size,) + tuple(tensor.shape), dtype=tensor.dtype)
    return _launch(pg, "all_gather", lambda: be.allgather(send, recv),
                   _write_rows(tensor_list, recv), async_op, send)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op: bool = False):
    """Every rank's ``input_tensor`` concatenated (along dim 0) into ``output_tensor``."""
    pg = _group(group, "all_gather_into_tensor")
    if pg is None:
        return None
    be = pg._backend
    send = be.xp.ascontiguousarray(_check(input_tensor, "all_gather_into_tensor",
                                          "input_tensor", be))
    _check(output_tensor, "all_gather_into_tensor", "output_tensor", be)
    if output_tensor.numel() != be.size * input_tensor.numel() or \
            output_tensor.dtype != input_tensor.dtype:
        raise ValueError(f"all_gather_into_tensor: output_tensor (shape "
                         f"{list(output_tensor.shape)}, {output_tensor.dtype}) must hold "
                         f"world_size={be.size} x the input (shape {list(input_tensor.shape)}, "
                         f"{input_tensor.dtype})")
    buf, done = _inout(output_tensor, be)
    return _launch(pg, "all_gather_into_tensor", lambda: be.allgather(send, buf), done,
                   async_op, send)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce ``input_list`` (one tensor per rank) over the ranks; rank ``i`` gets the
    reduction of everyone's ``input_list[i]`` in ``output``."""
    pg = _group(group, "reduce_scatter")
    if pg is None:
        return None
    be = pg._backend
    _check(output, "reduce_scatter", "output", be)
    op = check_op(op)
    _avg_check(op, output.dtype, "reduce_scatter")
    if len(input_list) != be.size:
        raise ValueError(f"reduce_scatter: input_list has {len(input_list)} tensors, expected "
                         f"one per rank ({be.size})")
    for i, t in enumerate(input_list):
        _check(t, "reduce_scatter", f"input_list[{i}]", be)
    _same(input_list, output, "reduce_scatter", "input_list")
    rdt = be.reduce_dtype(output.dtype)
    send = be.xp.stack([t._data for t in input_list]).astype(rdt, copy=False)
    buf, done = _inout(output, be, rdt)
    return _launch(pg, f"reduce_scatter(op={op.upper()})",
                   lambda: be.reduce_scatter(send, buf, op),
                   _then(_scale(buf, op, be.size), done), async_op, buf)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """``reduce_scatter`` with the per-rank inputs concatenated along dim 0 in ``input``."""
    pg = _group(group, "reduce_scatter_tensor")
    if pg is None:
        return None
    be = pg._backend
    _check(output, "reduce_scatter_tensor", "output", be)
    _check(input, "reduce_scatter_tensor", "input", be)
    op = check_op(op)
    _avg_check(op, output.dtype, "reduce_scatter_tensor")
    if input.numel() != be.size * output.numel() or input.dtype != output.dtype:
        raise ValueError(f"reduce_scatter_tensor: input (shape {list(input.shape)}, "
                         f"{input.dtype}) must hold world_size={be.size} x the output (shape "
                         f"{list(output.shape)}, {output.dtype})")
    rdt = be.reduce_dtype(output.dtype)
    send = be.xp.ascontiguousarray(input._data, dtype=rdt)
    buf, done = _inout(output, be, rdt)
    return _launch(pg, f"reduce_scatter_tensor(op={op.upper()})",
                   lambda: be.reduce_scatter(send, buf, op),
                   _then(_scale(buf, op, be.size), done), async_op, buf)


def gather(tensor, gather_list=None, dst: int = 0, group=None, async_op: bool = False):
    """Every rank's ``tensor`` into ``gather_list`` (one tensor per rank) on global rank
    ``dst``; the other ranks pass no list."""
    pg = _group(group, "gather")
    if pg is None:
        return None
    be = pg._backend
    send = be.xp.ascontiguousarray(_check(tensor, "gather", "tensor", be))
    root = _src_rank(pg, dst, "gather", "dst")
    recv = fin = None
    if be.rank == root:
        if gather_list is None or len(gather_list) != be.size:
            raise ValueError(f"gather: on the destination rank gather_list must hold one "
                             f"tensor per rank ({be.size})")
        for i, t in enumerate(gather_list):
            _check(t, "gather", f"gather_list[{i}]", be)
        _same(gather_list, tensor, "gather", "gather_list")
        recv = be.xp.empty((be.size,) + tuple(tensor.shape), dtype=tensor.dtype)
        fin = _write_rows(gather_list, recv)
    elif gather_list:
        raise ValueError("gather: gather_list must be given on the destination rank only")
    return _launch(pg, f"gather(dst={dst})", lambda: be.gather(send, recv, root), fin,
                   async_op, send)


def scatter(tensor, scatter_list=None, src: int = 0, group=None, async_op: bool = False):
    """Rank ``i`` gets ``scatter_list[i]`` of global rank ``src`` in ``tensor``."""
    pg = _group(group, "scatter")
    if pg is None:
        return None
    be = pg._backend
    _check(tensor, "scatter", "tensor", be)
    root = _src_rank(pg, src, "scatter", "src")
    send = None
    if be.rank == root:
        if scatter_list is None or len(scatter_list) != be.size:
            raise ValueError(f"scatter: on the source rank scatter_list must hold one tensor "
                             f"per rank ({be.size})")
        for i, t in enumerate(scatter_list):
            _check(t, "scatter", f"scatter_list[{i}]", be)
        _same(scatter_list, tensor, "scatter", "scatter_list")
        send = be.xp.stack([t._data for t in scatter_list])
    elif scatter_list:
        raise ValueError("scatter: scatter_list must be given on the source rank only")
    buf, done = _inout(tensor, be)
    return _launch(pg, f"scatter(src={src})", lambda: be.scatter(send, buf, root), done,
                   async_op, buf)


# ---------------------------------------------------------------------------------------
# picklable objects (setup and checks, not the hot path)
# ---------------------------------------------------------------------------------------


def _gather_bytes(pg: ProcessGroup, data: bytes, what: str) -> list:
    be = pg._backend
    xp = be.xp
    n = xp.array([len(data)], dtype=np.int64)
    counts = xp.empty(be.size, dtype=np.int64)
    _launch(pg, f"{what} (sizes)", lambda: be.allgather(n, counts), None, False, n)
    counts = [int(c) for c in (counts.get() if hasattr(counts, "get") else counts)]
    send = xp.asarray(np.frombuffer(data, dtype=np.uint8))
    recv = xp.empty(max(sum(counts), 1), dtype=np.uint8)
    _launch(pg, what, lambda: be.allgatherv(send, recv, counts), None, False)
    host = recv.get() if hasattr(recv, "get") else recv
    out, off = [], 0
    for c in counts:
        out.append(bytes(host[off:off + c]))
        off += c
    return out


def all_gather_object(object_list: list, obj, group=None) -> None:
    """Every rank's picklable ``obj`` into ``object_list`` (one entry per rank)."""
    pg = _group(group, "all_gather_object")
    if pg is None:
        return
    if len(object_list) != pg._backend.size:
        raise ValueError(f"all_gather_object: object_list has {len(object_list)} entries, "
                         f"expected one per rank ({pg._backend.size})")
    for i, b in enumerate(_gather_bytes(pg, pickle.dumps(obj), "all_gather_object")):
        object_list[i] = pickle.loads(b)


def broadcast_object_list(object_list: list, src: int = 0, group=None, device=None) -> None:
    """Replace ``object_list``'s entries on every rank with those of global rank ``src``."""
    pg = _group(group, "broadcast_object_list")
    if pg is None:
        return
    root = _src_rank(pg, src, "broadcast_object_list", "src")
    data = pickle.dumps(list(object_list)) if pg._backend.rank == root else b""
    got = pickle.loads(_gather_bytes(pg, data, "broadcast_object_list")[root])
    if len(got) != len(object_list):
        raise ValueError(f"broadcast_object_list: object_list has {len(object_list)} entries "
                         f"here but {len(got)} on rank {src}")
    object_list[:] = got


def _abort(message: str) -> None:
    """End the whole job with ``message`` (used when ranks disagree beyond repair)."""
    pg = _state.default
    abort_job(None if pg is None else pg._backend, message)


__all__ = ["Backend", "GroupMember", "ProcessGroup", "ReduceOp", "Work", "all_gather",
           "all_gather_into_tensor", "all_gather_object", "all_reduce", "barrier",
           "broadcast", "broadcast_object_list", "default_pg_timeout", "destroy_process_group",
           "gather", "get_backend", "get_debug_level", "get_global_rank",
           "get_group_rank", "get_process_group_ranks", "get_rank", "get_world_size",
           "init_process_group",
           "is_available", "is_initialized", "is_mpi_available", "is_nccl_available",
           "new_group", "reduce", "reduce_scatter", "reduce_scatter_tensor", "scatter",
           "set_debug_level"]
