"""The NCCL backend: CuPy's NCCL bindings (``cupy.cuda.nccl``) on CuPy arrays, one GPU per
rank. The communicator's unique id goes from rank 0 to the others over MPI (mpi4py), as in
ChainerMN; a single process (world size 1) needs no MPI.

Every operation is enqueued on the current CUDA stream and returns a CUDA event recorded
after it, which the caller polls against its deadline (see ``_common.Work``).

Not run by this project's test suite (it has no GPU): written against CuPy's documented
``NcclCommunicator`` API (allReduce, reduce, broadcast, allGather, reduceScatter, send,
recv, groupStart/groupEnd, abort).
"""

from __future__ import annotations

import os

import numpy as np

from .. import backend as _backend
from ._common import DistributedError
from ._mpi import MPIBackend, import_mpi

INSTALL_HINT = ("the 'nccl' backend needs CuPy with NCCL on a CUDA GPU (one GPU per rank): "
                "`pip install \".[cuda]\"`, plus mpi4py (`pip install \".[mpi]\"`) to run "
                "more than one process under `mpirun`")


def _import_nccl():
    cp = _backend._import_cupy()
    if cp is None:
        raise DistributedError(f"{INSTALL_HINT} (CuPy is not usable here: "
                               f"{_backend._cupy_error or 'not installed'})")
    try:
        from cupy.cuda import nccl  # noqa: PLC0415  (optional: CuPy's NCCL binding)
    except ImportError as exc:
        raise DistributedError(f"{INSTALL_HINT} (cupy.cuda.nccl: {exc})") from None
    if not getattr(nccl, "available", True):
        raise DistributedError(f"{INSTALL_HINT} (this CuPy was built without NCCL)")
    return cp, nccl


def _launcher_local_rank() -> int:
    for k in ("LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID",
              "SLURM_LOCALID"):
        if k in os.environ:
            return int(os.environ[k])
    return 0


class NCCLBackend:
    name = "nccl"
    device_type = "cuda"

    def __init__(self, rank: int, size: int, mpi: MPIBackend | None, group_name: str,
                 global_rank: int | None = None):
        cp, nccl = _import_nccl()
        self.cp, self.nccl, self.xp = cp, nccl, cp
        self.mpi = mpi  # for the unique id, object collectives and sub-groups
        self.rank, self.size = rank, size
        self.global_rank = rank if global_rank is None else global_rank
        self.group_name = group_name
        uid = nccl.get_unique_id() if rank == 0 else None
        if size > 1:
            uid = mpi.comm.bcast(uid, root=0)  # 128 bytes, once, at initialisation
        self.comm = nccl.NcclCommunicator(size, uid, rank)
        self._dtypes = {
            np.dtype(np.float16): nccl.NCCL_FLOAT16, np.dtype(np.float32): nccl.NCCL_FLOAT32,
            np.dtype(np.float64): nccl.NCCL_FLOAT64, np.dtype(np.int32): nccl.NCCL_INT32,
            np.dtype(np.int64): nccl.NCCL_INT64, np.dtype(np.uint8): nccl.NCCL_UINT8,
            np.dtype(np.int8): nccl.NCCL_INT8, np.dtype(np.bool_): nccl.NCCL_UINT8,
        }

    @classmethod
    def world(cls, rank: int, size: int, group_name: str = "WORLD"):
        cp, _ = _import_nccl()
        mpi = None
        if size > 1:
            import_mpi()
            mpi = MPIBackend.world(group_name).dup(group_name)
            rank, size = mpi.rank, mpi.size
        ndev = cp.cuda.runtime.getDeviceCount()
        cp.cuda.Device(_launcher_local_rank() % ndev).use()
        return cls(rank, size, mpi, group_name)

    # ---- helpers -------------------------------------------------------------------------
    def _stream(self):
        return self.cp.cuda.get_current_stream()

    def _event(self):
        ev = self.cp.cuda.Event(disable_timing=True)
        ev.record(self._stream())
        return [ev]

    def _dt(self, a):
        try:
            return self._dtypes[np.dtype(a.dtype)]
        except KeyError:
            raise DistributedError(f"the 'nccl' backend has no {a.dtype} tensors") from None

    def _op(self, op: str, dtype):
        n = self.nccl
        if dtype == np.bool_:
            op = {"sum": "max", "product": "min"}.get(op, op)
        return {"sum": n.NCCL_SUM, "avg": n.NCCL_SUM, "product": n.NCCL_PROD,
                "min": n.NCCL_MIN, "max": n.NCCL_MAX}[op]

    def test(self, reqs) -> bool:
        return all(ev.done for ev in reqs)

    def reduce_dtype(self, dtype):
        return dtype

    # ---- collectives ---------------------------------------------------------------------
    def allreduce(self, buf, op: str):
        p = buf.data.ptr
        self.comm.allReduce(p, p, buf.size, self._dt(buf), self._op(op, buf.dtype),
                            self._stream().ptr)
        return self._event()

    def reduce(self, buf, op: str, root: int):
        p = buf.data.ptr
        self.comm.reduce(p, p, buf.size, self._dt(buf), self._op(op, buf.dtype), root,
                         self._stream().ptr)
        return self._event()

    def reduce_scatter(self, send, recv, op: str):
        self.comm.reduceScatter(send.data.ptr, recv.data.ptr, recv.size, self._dt(recv),
                                self._op(op, recv.dtype), self._stream().ptr)
        return self._event()

    def broadcast(self, buf, root: int):
        p = buf.data.ptr
        self.comm.broadcast(p, p, buf.size, self._dt(buf), root, self._stream().ptr)
        return self._event()

    def allgather(self, send, recv):
        self.comm.allGather(send.data.ptr, recv.data.ptr, send.size, self._dt(send),
                            self._stream().ptr)
        return self._event()

    def gather(self, send, recv, root: int):
        s, n = self._stream().ptr, send.size
        dt = self._dt(send)
        self.nccl.groupStart()
        self.comm.send(send.data.ptr, n, dt, root, s)
        if self.rank == root:
            for r in range(self.size):
                self.comm.recv(recv[r].data.ptr, n, dt, r, s)
        self.nccl.groupEnd()
        return self._event()

    def scatter(self, send, recv, root: int):
        s, n = self._stream().ptr, recv.size
        dt = self._dt(recv)
        self.nccl.groupStart()
        if self.rank == root:
            for r in range(self.size):
                self.comm.send(send[r].data.ptr, n, dt, r, s)
        self.comm.recv(recv.data.ptr, n, dt, root, s)
        self.nccl.groupEnd()
        return self._event()

    def allgatherv(self, send, recv, counts):
        # object collectives only: padded to the longest, over NCCL
        m = int(max(counts))
        pad = self.cp.zeros(m, np.uint8)
        pad[:send.size] = send
        full = self.cp.empty(m * self.size, np.uint8)
        self.allgather(pad, full)
        self._stream().synchronize()
        off = 0
        for r, c in enumerate(counts):
            recv[off:off + int(c)] = full[r * m:r * m + int(c)]
            off += int(c)
        return self._event()

    def barrier(self):
        one = self.cp.ones(1, np.float32)
        return self.allreduce(one, "sum")

    # ---- groups and teardown -------------------------------------------------------------
    def split(self, ranks, group_name: str):
        if self.mpi is None:  # world size 1: the only group is this one
            return type(self)(0, 1, None, group_name, self.global_rank) if ranks == [0] \
                else None
        sub = self.mpi.split(ranks, group_name)
        if sub is None:
            return None
        return type(self)(sub.rank, sub.size, sub, group_name, self.global_rank)

    def destroy(self) -> None:
        self.comm.destroy()
        if self.mpi is not None:
            self.mpi.destroy()

    def abort(self, code: int = 1) -> None:
        try:
            self.comm.abort()
        finally:
            if self.mpi is not None:
                self.mpi.abort(code)
