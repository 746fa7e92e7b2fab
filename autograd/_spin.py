"""The compiled wait loop of ``autograd.parallel``'s worker team (numba, the ``fast`` extra)."""

from __future__ import annotations

from autograd._numba import kernel


@kernel()
def spin_until(flag, target, sched_yield, turns):  # pragma: no cover - compiled
    """Whether ``flag[0] >= target`` within ``turns`` polls, yielding the core between polls
    (``sched_yield``, a ctypes function: the call also makes the compiler read the flag
    again at each turn). Runs without the GIL."""
    for _ in range(turns):
        if flag[0] >= target:
            return True
        sched_yield()
    return flag[0] >= target
