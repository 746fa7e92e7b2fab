"""The MPI backend: mpi4py's buffer-based non-blocking collectives on NumPy arrays.

Every operation works on the arrays themselves (``Iallreduce(MPI.IN_PLACE, buf)``,
``Ibcast(buf)``...), never on pickled Python objects, and returns MPI requests that the
caller polls against its deadline (see ``_common.Work``). mpi4py is imported here, lazily:
``import autograd`` never needs it, and importing ``mpi4py.MPI`` initialises MPI.
"""

from __future__ import annotations

import numpy as np

from ._common import DistributedError

INSTALL_HINT = ("the 'mpi' backend needs mpi4py on an MPI library: install OpenMPI "
                "(Debian/Ubuntu: `apt-get install openmpi-bin libopenmpi-dev`) and then "
                "`pip install \".[mpi]\"` (or `pip install mpi4py`); launch with "
                "`mpirun -n 2 python script.py`")


def import_mpi():
    """Return the ``mpi4py.MPI`` module or raise a DistributedError saying what to install."""
    try:
        from mpi4py import MPI  # noqa: PLC0415  (optional dependency, initialises MPI)
    except ImportError as exc:
        raise DistributedError(f"{INSTALL_HINT} ({type(exc).__name__}: {exc})") from None
    return MPI


def _bytes(a):
    """A flat uint8 view of a C-contiguous array: data movement without MPI datatypes
    (so float16 and any other dtype travel as they are)."""
    return a.reshape(-1).view(np.uint8)


class MPIBackend:
    """One MPI communicator (the world's duplicate, or a sub-group's)."""

    name = "mpi"
    device_type = "cpu"
    xp = np

    def __init__(self, comm, group_name: str):
        self.MPI = import_mpi()
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.global_rank = self.MPI.COMM_WORLD.Get_rank()
        self.group_name = group_name

    @classmethod
    def world(cls, group_name: str = "WORLD"):
        MPI = import_mpi()
        return cls(MPI.COMM_WORLD, group_name)

    def dup(self, group_name: str):
        """A private duplicate of this communicator (collective, blocking: call after a
        barrier that passed, so that every rank is known to be here)."""
        return type(self)(self.comm.Dup(), group_name)

    # ---- requests ------------------------------------------------------------------------
    def test(self, reqs) -> bool:
        return self.MPI.Request.Testall(reqs)

    # ---- reductions ----------------------------------------------------------------------
    def reduce_dtype(self, dtype):
        """The dtype a reduction runs in: MPI has no float16, so it is reduced in float32."""
        return np.dtype(np.float32) if dtype == np.float16 else dtype

    def _op(self, op: str, dtype):
        MPI = self.MPI
        if dtype == np.bool_:
            if op in ("sum", "max"):
                return MPI.LOR
            if op in ("product", "min"):
                return MPI.LAND
            raise DistributedError(f"ReduceOp {op.upper()} is not defined for bool tensors")
        if dtype.kind == "c" and op in ("min", "max"):
            raise DistributedError(f"ReduceOp {op.upper()} is not defined for complex tensors")
        return {"sum": MPI.SUM, "avg": MPI.SUM, "product": MPI.PROD, "min": MPI.MIN,
                "max": MPI.MAX}[op]

    def allreduce(self, buf, op: str):
        return [self.comm.Iallreduce(self.MPI.IN_PLACE, buf, op=self._op(op, buf.dtype))]

    def reduce(self, buf, op: str, root: int):
        mop = self._op(op, buf.dtype)
        if self.rank == root:
            return [self.comm.Ireduce(self.MPI.IN_PLACE, buf, op=mop, root=root)]
        return [self.comm.Ireduce(buf, None, op=mop, root=root)]

    def reduce_scatter(self, send, recv, op: str):
        return [self.comm.Ireduce_scatter_block(send, recv, op=self._op(op, send.dtype))]

    # ---- data movement -------------------------------------------------------------------
    def broadcast(self, buf, root: int):
        return [self.comm.Ibcast(_bytes(buf), root=root)]

    def allgather(self, send, recv):
        return [self.comm.Iallgather(_bytes(send), _bytes(recv))]

    def allgatherv(self, send, recv, counts):
        """Gather byte arrays of different lengths ``counts`` into ``recv``."""
        displs = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int).tolist()
        counts = [int(c) for c in counts]
        return [self.comm.Iallgatherv(_bytes(send),
                                      [_bytes(recv), counts, displs, self.MPI.BYTE])]

    def gather(self, send, recv, root: int):
        return [self.comm.Igather(_bytes(send), _bytes(recv) if recv is not None else None,
                                  root=root)]

    def scatter(self, send, recv, root: int):
        return [self.comm.Iscatter(_bytes(send) if send is not None else None, _bytes(recv),
                                   root=root)]

    def barrier(self):
        return [self.comm.Ibarrier()]

    # ---- groups and teardown -------------------------------------------------------------
    def split(self, ranks, group_name: str):
        """A communicator of ``ranks`` (ranks of this one), or None on the other ranks.
        Collective over this communicator."""
        member = self.rank in ranks
        color = 0 if member else self.MPI.UNDEFINED
        key = ranks.index(self.rank) if member else 0
        comm = self.comm.Split(color, key)
        if comm == self.MPI.COMM_NULL:
            return None
        return type(self)(comm, group_name)

    def destroy(self) -> None:
        if self.comm not in (self.MPI.COMM_WORLD, self.MPI.COMM_NULL):
            self.comm.Free()

    def abort(self, code: int = 1) -> None:
        self.MPI.COMM_WORLD.Abort(code)
