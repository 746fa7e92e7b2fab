"""Muon: momentum orthogonalised by a Newton–Schulz iteration, as ``torch.optim.Muon``."""

from __future__ import annotations

import math

import numpy as np

from autograd.backend import get_array_module
from autograd.grad_mode import no_grad

from .optimizer import Optimizer, _bump, _writable

EPS = 1e-7
DEFAULT_A = 3.4445
DEFAULT_B = -4.7750
DEFAULT_C = 2.0315
DEFAULT_NS_STEPS = 5


def _bf16(x):
    """Round to bfloat16 (nearest, ties to even) and return the values as float32: PyTorch
    runs the Newton–Schulz iteration in bfloat16, which NumPy/CuPy lack, so each bfloat16
    result is emulated by one rounding of the float32 result."""
    xp = get_array_module(x)
    x32 = xp.ascontiguousarray(x, dtype=np.float32)
    u = x32.view(np.uint32)
    r = u >> 16
    r &= 1
    r += 0x7FFF
    r += u
    r &= 0xFFFF0000
    out = r.view(np.float32)
    if xp is not np or np.isnan(x32).any():  # a NaN must not round to inf
        out = xp.where(xp.isnan(x32), x32, out)
    return out


def zeropower_via_newtonschulz(grad, ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C),
                               ns_steps: int = DEFAULT_NS_STEPS, eps: float = EPS):
    """An approximately orthogonal matrix with the singular vectors of ``grad`` (2-D array):
    ``ns_steps`` quintic Newton–Schulz iterations ``X <- a X + (b A + c A²) X`` with
    ``A = X Xᵀ``, from ``X = G / max(||G||_F, eps)`` (transposed so that rows <= columns),
    in bfloat16 precision as PyTorch computes it. Returns float32 arrays holding bfloat16
    values.

    Example:
        >>> o = zeropower_via_newtonschulz(np.random.randn(4, 8))
        >>> np.linalg.svd(o.astype(float))[1].round(1)  # singular values near 1
    """
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if grad.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    xp = get_array_module(grad)
    a, b, c = (np.float32(v) for v in ns_coefficients)
    x = _bf16(grad)
    tall = grad.shape[0] > grad.shape[1]
    if tall:
        x = x.T
    norm = _bf16(xp.sqrt(xp.sum(x * x, dtype=np.float32)))
    x = _bf16(x / _bf16(xp.maximum(norm, np.float32(eps))))
    for _ in range(ns_steps):  # addmm(gram, gram, gram, beta=b, alpha=c); addmm(x, ., x, beta=a)
        gram = _bf16(x @ x.T)
        update = gram @ gram
        update *= c
        update += b * gram
        update = _bf16(update)
        y = update @ x
        y += a * x
        x = _bf16(y)
    return x.T if tall else x


def _adjust_lr(lr: float, adjust_lr_fn, shape) -> float:
    """PyTorch's learning-rate adjustment for an ``A x B`` matrix: 'original' (default)
    ``sqrt(max(1, A / B))``, 'match_rms_adamw' ``0.2 sqrt(max(A, B))``."""
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, rows / cols))
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(rows, cols))
    else:
        ratio = 1.0
    return lr * ratio


def muon(params, grads, momentum_bufs, *, lr: float, weight_decay: float, momentum: float,
         nesterov: bool, ns_coefficients, ns_steps: int, eps: float, adjust_lr_fn) -> None:
    """The Muon update on raw 2-D arrays, written into each parameter array in place.

    PyTorch's formulas: ``B = lerp(B, g, 1 - momentum)``; the update ``U = lerp(g, B,
    momentum)`` (Nesterov) or ``B``; ``O = NS(U)``; ``p *= 1 - lr wd``;
    ``p -= adjust_lr(lr, shape) O``.

    Example:
        >>> p, g, b = np.ones((2, 3)), np.random.randn(2, 3), np.zeros((2, 3))
        >>> muon([p], [g], [b], lr=0.02, weight_decay=0.1, momentum=0.95, nesterov=True,
        ...      ns_coefficients=(3.4445, -4.775, 2.0315), ns_steps=5, eps=1e-7,
        ...      adjust_lr_fn=None)
    """
    for i, p in enumerate(params):
        g = grads[i]
        if g.ndim != 2:
            raise ValueError("Param gradient must be a 2D matrix")
        buf = momentum_bufs[i]
        buf += (1 - momentum) * (g - buf)
        update = g + momentum * (buf - g) if nesterov else buf
        update = zeropower_via_newtonschulz(update, ns_coefficients, ns_steps, eps)
        adjusted_lr = _adjust_lr(lr, adjust_lr_fn, p.shape)
        p *= 1 - lr * weight_decay
        p += -adjusted_lr * update.astype(p.dtype)


class Muon(Optimizer):
    """Muon (Jordan et al., 2024), exactly as ``torch.optim.Muon``: SGD momentum whose update
    is orthogonalised by a Newton–Schulz iteration, with decoupled weight decay. For 2-D
    parameters only (optimize biases and embeddings with AdamW).

    Args:
        params: 2-D parameters or parameter groups.
        lr: learning rate.
        weight_decay: decoupled weight decay coefficient.
        momentum: momentum factor.
        nesterov: use the Nesterov form of the momentum.
        ns_coefficients: ``(a, b, c)`` of the quintic Newton–Schulz polynomial.
        eps: lower bound on the norm the gradient is divided by.
        ns_steps: number of Newton–Schulz iterations (< 100).
        adjust_lr_fn: None or 'original' (``lr sqrt(max(1, A/B))``) or 'match_rms_adamw'
            (``0.2 lr sqrt(max(A, B))``).

    State per parameter: ``momentum_buffer``.

    Example:
        >>> opt = optim.Muon([p for p in model.parameters() if p.ndim == 2], lr=0.02)
        >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params, lr: float = 1e-3, weight_decay: float = 0.1,
                 momentum: float = 0.95, nesterov: bool = True,
                 ns_coefficients: tuple[float, float, float] = (DEFAULT_A, DEFAULT_B,
                                                                DEFAULT_C),
                 eps: float = EPS, ns_steps: int = DEFAULT_NS_STEPS, adjust_lr_fn=None):
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ["original", "match_rms_adamw"]:
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum,
                                      nesterov=nesterov, ns_coefficients=ns_coefficients,
                                      eps=eps, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn))
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError("Muon only supports 2D parameters whereas we found a "
                                     f"parameter with size: {p.shape}")

    @no_grad()
    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._closure_loss(closure)
        for g in self.param_groups:
            ps, gs = self._with_grads(g)
            if not ps:
                continue
            bufs = []
            for p in ps:
                st = self._st.setdefault(p, {})
                if "momentum_buffer" not in st:
                    st["momentum_buffer"] = get_array_module(p).zeros_like(p.grad._data)
                bufs.append(st["momentum_buffer"])
            muon([_writable(p) for p in ps], gs, bufs, lr=g["lr"],
                 weight_decay=g["weight_decay"], momentum=g["momentum"],
                 nesterov=g["nesterov"], ns_coefficients=g["ns_coefficients"],
                 ns_steps=g["ns_steps"], eps=g["eps"], adjust_lr_fn=g["adjust_lr_fn"])
            _bump(ps)
        return loss
