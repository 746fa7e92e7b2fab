"""What the backends share: ``ReduceOp``, the ``Work`` handle, and the deadline that turns
a hung collective into the end of the job instead of a hang.

MPI and NCCL give non-blocking collectives (``MPI_Iallreduce``, NCCL kernels on a stream)
but no timeout. So every collective here is started non-blocking and waited for by polling
it against a deadline (the process group's ``timeout``); past the deadline the rank prints
what it was waiting for and aborts the whole job (``MPI_Abort``), which is the only way to
get out of a collective that another rank will never join.
"""

from __future__ import annotations

import os
import sys
import time
import traceback


class ReduceOp:
    """Reduction operations of ``all_reduce``, ``reduce`` and ``reduce_scatter``
    (``torch.distributed.ReduceOp``)."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"

    _ALL = ("sum", "avg", "product", "min", "max")


def check_op(op) -> str:
    name = getattr(op, "name", op)  # also accept an Enum-like object with .name
    if isinstance(name, str) and name.lower() in ReduceOp._ALL:
        return name.lower()
    raise ValueError(f"unknown reduction op {op!r}: use autograd.distributed.ReduceOp.SUM, AVG, "
                     "PRODUCT, MIN or MAX")


class DistributedError(RuntimeError):
    """Bad use of ``autograd.distributed`` (no process group, wrong device, missing backend)."""


def abort_job(backend, message: str, code: int = 1) -> None:
    """Print ``message`` with this rank's stack and end every process of the job."""
    sys.stderr.write(f"\n{message}\n")
    try:
        traceback.print_stack(file=sys.stderr)
    except Exception:  # printing the stack is best effort
        pass
    sys.stderr.flush()
    sys.stdout.flush()
    if backend is not None:
        try:
            backend.abort(code)
        except Exception:
            pass
    os._exit(code)


def poll(done, deadline: float, on_timeout) -> None:
    """Call ``done()`` until it returns True; past ``deadline`` (time.monotonic) call
    ``on_timeout()`` (which ends the job).

    MPI progresses a non-blocking collective only inside MPI calls, and a multi-round
    algorithm needs every rank to poll promptly; so the first milliseconds poll as fast as
    possible, yielding the CPU between polls (``sleep(0)``), and only a long wait (a rank
    still computing) backs off to sleeps of up to a millisecond, which leave the CPU to
    the ranks that are still working.
    """
    if done():
        return
    start = time.monotonic()
    naps = 0
    while not done():
        now = time.monotonic()
        if now - start < 0.005:
            time.sleep(0)
            continue
        if now > deadline:
            on_timeout()
            return
        naps += 1
        time.sleep(min(1e-3, 1e-5 * naps))


class Work:
    """The handle of a collective started with ``async_op=True`` (``torch.distributed.Work``).

    The result is in the output tensors once ``wait()`` returned. Output tensors must not be
    read or written before that.
    """

    __slots__ = ("_backend", "_reqs", "_finish", "_deadline", "_what", "_done", "_group")

    def __init__(self, backend, reqs, finish, timeout: float, what: str, group=None):
        self._backend = backend
        self._reqs = reqs
        self._finish = finish
        self._deadline = time.monotonic() + timeout
        self._what = what
        self._done = False
        self._group = group

    def _complete(self) -> None:
        self._done = True
        self._reqs = None
        f, self._finish = self._finish, None
        if f is not None:
            f()

    def is_completed(self) -> bool:
        """True once the collective finished (its results are then written, as by ``wait``)."""
        if not self._done and self._backend.test(self._reqs):
            self._complete()
        return self._done

    def wait(self, timeout=None) -> bool:
        """Block until the collective finished and its results are in the output tensors.

        Past the process group's timeout (or ``timeout``, seconds or a timedelta, when
        shorter) the job is aborted with a message naming this rank and the collective.
        """
        if self._done:
            return True
        deadline = self._deadline
        if timeout is not None:
            deadline = min(deadline, time.monotonic() + to_seconds(timeout))
        be = self._backend
        reqs = self._reqs
        poll(lambda: be.test(reqs), deadline, self._timed_out)
        self._complete()
        return True

    def result(self):
        return []

    def _timed_out(self) -> None:
        be = self._backend
        abort_job(be, (
            f"autograd.distributed: rank {be.global_rank} (rank {be.rank} of {be.size} in group "
            f"{be.group_name!r}, backend {be.name!r}) timed out waiting for {self._what}: the "
            "other ranks did not complete it within the timeout. A rank died or raised, or "
            "the ranks called different collectives (one skipped this one). Aborting the job."
        ))


def to_seconds(timeout) -> float:
    if hasattr(timeout, "total_seconds"):
        return float(timeout.total_seconds())
    t = float(timeout)
    if not t > 0:
        raise ValueError(f"timeout must be positive, got {timeout!r}")
    return t
