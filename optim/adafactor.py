"""Adafactor (Shazeer & Stern, 2018) as ``torch.optim.Adafactor`` implements it."""

from __future__ import annotations

import numpy as np

from autograd.backend import get_array_module
from autograd.grad_mode import no_grad

from .optimizer import Optimizer, _bump, _writable


def adafactor(params, grads, row_vars, col_vars, variances, steps, *, d: float, lr: float,
              beta2_decay: float, weight_decay: float, eps1, eps2: float,
              maximize: bool) -> None:
    """The Adafactor update on raw arrays, written into each parameter array in place.

    PyTorch's formulas: with ``t = steps[i]``, ``beta2_t = 1 - t^beta2_decay``,
    ``rho_t = min(lr, 1 / sqrt(t))``, ``alpha = max(eps2, RMS(p)) rho_t`` (RMS before the
    weight decay ``p *= 1 - lr wd``). For a parameter with 2 or more dimensions the second
    moment is factored: ``R = lerp(R, mean(g², -1), 1 - beta2_t)``,
    ``C = lerp(C, mean(g², -2), 1 - beta2_t)``, ``V = R C / max(mean(R, -2), eps1)``; for a
    vector ``V = lerp(V, g², 1 - beta2_t)``. Then ``u = g / sqrt(max(V, eps1²))`` and
    ``p -= alpha / max(1, RMS(u) / d) * u``. ``eps1=None`` means the dtype's machine epsilon.

    Example:
        >>> p, g, v = np.ones(2), np.full(2, 0.5), np.zeros(2)
        >>> adafactor([p], [g], [None], [None], [v], [1], d=1.0, lr=1e-2, beta2_decay=-0.8,
        ...           weight_decay=0.0, eps1=None, eps2=1e-3, maximize=False)
        >>> p  # rho_1 = lr, RMS(p) = 1, u = sign(g)
        array([0.99, 0.99])
    """
    for i, p in enumerate(params):
        xp = get_array_module(p)
        g = -grads[i] if maximize else grads[i]
        if eps1 is None:  # PyTorch sets it from the first parameter of the group
            eps1 = float(np.finfo(p.dtype).eps)
        step = steps[i]
        one_minus_beta2_t = step ** beta2_decay
        rho_t = min(lr, 1 / (step ** 0.5))
        alpha = max(eps2, float(xp.linalg.norm(p.reshape(-1))) / (p.size ** 0.5)) * rho_t
        if weight_decay != 0:
            p *= 1 - lr * weight_decay
        if g.ndim > 1:
            row_var, col_var = row_vars[i], col_vars[i]
            g2 = g * g
            row_var += one_minus_beta2_t * (xp.mean(g2, axis=-1, keepdims=True) - row_var)
            col_var += one_minus_beta2_t * (xp.mean(g2, axis=-2, keepdims=True) - col_var)
            del g2
            var_estimate = row_var @ col_var
            var_estimate /= xp.maximum(xp.mean(row_var, axis=-2, keepdims=True), eps1)
        else:
            variance = variances[i]
            g2 = g * g
            g2 -= variance
            g2 *= one_minus_beta2_t
            variance += g2
            var_estimate = variance.copy()
        update = xp.maximum(var_estimate, eps1 * eps1, out=var_estimate)
        xp.sqrt(update, out=update)
        xp.divide(1, update, out=update)  # rsqrt
        update *= g
        denom = max(1.0, float(xp.linalg.norm(update.reshape(-1)))
                    / ((update.size ** 0.5) * d))
        update *= -alpha / denom
        p += update


class Adafactor(Optimizer):
    """Adafactor, exactly as ``torch.optim.Adafactor``: factored second moments (one row and
    one column vector per matrix, applied to the last two dimensions) for parameters with 2 or
    more dimensions, a full second moment for vectors, relative step sizes and update
    clipping.

    Args:
        params: parameters or parameter groups.
        lr: the maximum relative step size (``rho_t = min(lr, 1/sqrt(t))``).
        beta2_decay: the decay rate of ``beta2`` (``beta2_t = 1 - t^beta2_decay``), <= 0.
        eps: ``(eps1, eps2)``: eps1 guards the denominator (None: the dtype's machine epsilon),
            eps2 the smallest relative step.
        d: clipping threshold on the RMS of the update.
        weight_decay: decoupled weight decay coefficient (``p *= 1 - lr * wd``).
        foreach: accepted for PyTorch compatibility; no effect here.
        maximize: maximize the objective instead of minimizing it.

    State per parameter: ``step`` and ``row_var``/``col_var`` (2 or more dimensions) or
    ``variance``.

    Example:
        >>> opt = optim.Adafactor(model.parameters(), lr=1e-2)
        >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params, lr: float = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple = (None, 1e-3), d: float = 1.0, weight_decay: float = 0.0, *,
                 foreach: bool | None = None, maximize: bool = False):
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize))

    def _state(self, p, group) -> dict:
        st = self._st.get(p)
        if not st:
            xp = get_array_module(p)
            st = self._st[p] = {"step": 0.0}
            shape = p.grad.shape
            if len(shape) > 1:
                st["row_var"] = xp.zeros((*shape[:-1], 1), dtype=p.grad._data.dtype)
                st["col_var"] = xp.zeros((*shape[:-2], 1, shape[-1]),
                                         dtype=p.grad._data.dtype)
            else:
                st["variance"] = xp.zeros_like(p._data)
        return st

    @no_grad()
    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._closure_loss(closure)
        for g, ps, gs, sts in self._stepped_groups():
            eps1, eps2 = g["eps"]
            adafactor([_writable(p) for p in ps], gs, [s.get("row_var") for s in sts],
                      [s.get("col_var") for s in sts], [s.get("variance") for s in sts],
                      [s["step"] for s in sts], d=g["d"], lr=g["lr"],
                      beta2_decay=g["beta2_decay"], weight_decay=g["weight_decay"],
                      eps1=eps1, eps2=eps2, maximize=g["maximize"])
            _bump(ps)
        return loss
