"""Adadelta: PyTorch's update rule (``rho``, ``lr`` scaling the delta, default 1.0)."""

from __future__ import annotations

from autograd.backend import get_array_module
from autograd.grad_mode import no_grad

from .optimizer import Optimizer, _bump, _check, _writable


def adadelta(params, grads, square_avgs, acc_deltas, *, lr: float, rho: float, eps: float,
             weight_decay: float, maximize: bool) -> None:
    """The Adadelta update on raw arrays, written into each parameter array in place.

    PyTorch's formulas: ``v = rho v + (1 - rho) g²``,
    ``delta = sqrt(u + eps) / sqrt(v + eps) * g``, ``u = rho u + (1 - rho) delta²``,
    ``p -= lr delta``. Weight decay is an L2 term added to the gradient.

    Example:
        >>> p, g, v, u = np.ones(2), np.ones(2), np.zeros(2), np.zeros(2)
        >>> adadelta([p], [g], [v], [u], lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0,
        ...          maximize=False)
        >>> p  # 1 - sqrt(1e-6) / sqrt(0.1 + 1e-6)
        array([0.99683773, 0.99683773])
    """
    for i, p in enumerate(params):
        xp = get_array_module(p)
        g = -grads[i] if maximize else grads[i]
        if weight_decay != 0:
            g = g + weight_decay * p
        v, u = square_avgs[i], acc_deltas[i]
        v *= rho
        v += (1 - rho) * (g * g)
        std = xp.sqrt(v + eps)
        delta = xp.sqrt(u + eps)
        delta /= std
        delta *= g
        u *= rho
        u += (1 - rho) * (delta * delta)
        p += -lr * delta


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012), exactly as ``torch.optim.Adadelta``.

    Args:
        params: parameters or parameter groups.
        lr: coefficient that scales the delta before it is applied (default 1.0).
        rho: coefficient of the running averages of the squared gradient and squared delta.
        eps: added inside the square roots for numerical stability.
        weight_decay: L2 penalty added to the gradient.
        maximize: maximize the objective instead of minimizing it.
        foreach, fused, capturable, differentiable: accepted for PyTorch compatibility and
            stored in the groups; they select kernels in PyTorch and have no effect here (the
            update is always one vectorised pass per parameter, and never differentiable).

    State per parameter: ``step``, ``square_avg`` and ``acc_delta``.

    Example:
        >>> opt = optim.Adadelta(model.parameters(), rho=0.95)
        >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False):
        _check(lr >= 0, "learning rate", lr)
        _check(0.0 <= rho <= 1.0, "rho value", rho)
        _check(eps >= 0, "epsilon value", eps)
        _check(weight_decay >= 0, "weight_decay value", weight_decay)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, capturable=capturable,
                                      foreach=foreach, differentiable=differentiable))

    def _state(self, p, group) -> dict:
        return self._zeros_state(p, "square_avg", "acc_delta")

    @no_grad()
    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._closure_loss(closure)
        for g, ps, gs, sts in self._stepped_groups():
            adadelta([_writable(p) for p in ps], gs, [s["square_avg"] for s in sts],
                     [s["acc_delta"] for s in sts], lr=g["lr"], rho=g["rho"], eps=g["eps"],
                     weight_decay=g["weight_decay"], maximize=g["maximize"])
            _bump(ps)
        return loss
