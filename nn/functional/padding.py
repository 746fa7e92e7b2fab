"""Padding: ``pad`` (PyTorch's ``F.pad``: constant, reflect, replicate or circular)."""

from __future__ import annotations

from autograd.ops import shape as S


def pad(input, pad, mode: str = "constant", value=None):
    """Pad the last ``len(pad) // 2`` dims of ``input``: ``pad`` lists (before, after) pairs
    starting from the last dim, e.g. ``(left, right, top, bottom)`` for the last two.

    Args:
        mode: 'constant' (fill with ``value``, default 0), 'reflect', 'replicate' or
            'circular'.

    Example:
        >>> F.pad(ag.ones(1, 2, 2), (1, 1)).shape
        (1, 2, 4)
    """
    return S.pad(input, pad, mode, 0.0 if value is None else value)
