"""Padding: ``pad`` (PyTorch's ``F.pad``: constant, reflect, replicate or circular), with
PyTorch's argument rules (which ranks each mode takes, reflect/circular size limits, negative
pads crop)."""

from __future__ import annotations

from autograd.ops import shape as S

from ._utils import _shape_str, torch_node

_MODES = ("constant", "reflect", "replicate", "circular")


def _check_pad(input, pad, mode, value) -> tuple:
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but "
            f"got padding length {len(pad)} and input of dimension {input.ndim}")
    if mode not in _MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if mode == "constant":
        for i in range(len(pad) // 2):
            n = input.shape[input.ndim - 1 - i]
            if n + pad[2 * i] + pad[2 * i + 1] < 0:
                raise RuntimeError(
                    f"pad: the padded size of dimension {input.ndim - 1 - i} would be negative "
                    f"(size {n}, padding {pad[2 * i:2 * i + 2]})")
        return pad
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    k = len(pad) // 2
    if k not in (1, 2, 3) or input.ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    if input.dtype.kind == "b" and mode != "circular":
        raise NotImplementedError(f'"{mode}_pad{k}d" not implemented for \'Bool\'')
    spatial = input.shape[input.ndim - k:]
    if any(n == 0 for n in spatial) or (input.ndim == k + 2 and input.shape[1] == 0):
        raise RuntimeError(
            f"pad: expected a tensor with possibly 0 batch size and other non-zero dimensions "
            f"for input, but got: {_shape_str(input.shape)}")
    for i in range(k):
        lo, hi = pad[2 * i], pad[2 * i + 1]
        d = input.ndim - 1 - i
        n = input.shape[d]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(
                "Argument #4: Padding size should be less than the corresponding input "
                f"dimension, but got: padding ({lo}, {hi}) at dimension {d} of input "
                f"{list(input.shape)}")
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if n + lo + hi < 0:
            raise RuntimeError(f"pad: the padded size of dimension {d} would be negative "
                               f"(size {n}, padding ({lo}, {hi}))")
    return pad


@torch_node(lambda input, pad, mode="constant", *a, **k: "CopySlices" if mode == "circular"
            else None)
def pad(input, pad, mode: str = "constant", value=None):
    """Pad the last ``len(pad) // 2`` dims of ``input``: ``pad`` lists (before, after) pairs
    starting from the last dim, e.g. ``(left, right, top, bottom)`` for the last two; a
    negative amount crops.

    Args:
        input: any tensor for 'constant'; for the other modes (C, *spatial) or
            (N, C, *spatial) with 1 to 3 spatial dims (``len(pad)`` = 2, 4 or 6).
        pad: (before, after) amounts, last dim first.
        mode: 'constant' (fill with ``value``, default 0), 'reflect' (mirror without
            repeating the edge; each pad < the size), 'replicate' (repeat the edge) or
            'circular' (wrap around; each pad <= the size).
        value: the fill of 'constant' padding.

    Returns:
        The padded tensor (differentiable; the gradient sums back into the input).

    Example:
        >>> F.pad(ag.ones(1, 2, 2), (1, 1)).shape
        (1, 2, 4)
    """
    p = _check_pad(input, pad, mode, value)
    return S.pad(input, p, mode, 0.0 if value is None else value)
