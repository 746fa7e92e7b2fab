"""Adagrad: PyTorch's update rule (learning-rate decay, initial accumulator value)."""

from __future__ import annotations

from autograd.backend import get_array_module
from autograd.grad_mode import no_grad

from .optimizer import Optimizer, _bump, _check, _check_kernels, _writable


def adagrad(params, grads, state_sums, steps, *, lr: float, weight_decay: float,
            lr_decay: float, eps: float, maximize: bool) -> None:
    """The Adagrad update on raw arrays, written into each parameter array in place.

    PyTorch's formulas: with ``t = steps[i]`` (counting this step),
    ``clr = lr / (1 + (t - 1) lr_decay)``, ``sum += g²``, ``p -= clr g / (sqrt(sum) + eps)``.
    Weight decay is an L2 term added to the gradient.

    Example:
        >>> p, g, s = np.ones(2), np.full(2, 0.5), np.zeros(2)
        >>> adagrad([p], [g], [s], [1], lr=0.1, weight_decay=0.0, lr_decay=0.0, eps=1e-10,
        ...         maximize=False)
        >>> p  # 1 - 0.1 * 0.5 / sqrt(0.25)
        array([0.9, 0.9])
    """
    for i, p in enumerate(params):
        xp = get_array_module(p)
        g = -grads[i] if maximize else grads[i]
        if weight_decay != 0:
            g = g + weight_decay * p
        clr = lr / (1 + (steps[i] - 1) * lr_decay)
        s = state_sums[i]
        s += g * g
        std = xp.sqrt(s)
        std += eps
        p += -clr * (g / std)


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011), exactly as ``torch.optim.Adagrad``.

    Args:
        params: parameters or parameter groups.
        lr: learning rate.
        lr_decay: the learning rate at step t is ``lr / (1 + (t - 1) * lr_decay)``.
        weight_decay: L2 penalty added to the gradient.
        initial_accumulator_value: starting value of the sum of squared gradients. A
            parameter group's own value is honoured (PyTorch always uses the constructor's).
        eps: added to the denominator for numerical stability.
        maximize: maximize the objective instead of minimizing it.
        foreach, fused, capturable, differentiable: accepted for PyTorch compatibility and
            stored in the groups; they select kernels in PyTorch and have no effect here (the
            update is always one vectorised pass per parameter, and never differentiable).

    State per parameter: ``step`` and ``sum``.

    Example:
        >>> opt = optim.Adagrad(model.parameters(), lr=1e-2, lr_decay=1e-4)
        >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None):
        _check(lr >= 0, "learning rate", lr)
        _check(lr_decay >= 0, "lr_decay value", lr_decay)
        _check(weight_decay >= 0, "weight_decay value", weight_decay)
        _check(initial_accumulator_value >= 0, "initial_accumulator_value value",
               initial_accumulator_value)
        _check(eps >= 0, "epsilon value", eps)
        _check_kernels(foreach, fused, differentiable)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, fused=fused))

    def _state(self, p, group) -> dict:
        st = self._st.get(p)
        if not st:
            xp = get_array_module(p)
            st = self._st[p] = {
                "step": 0.0,
                "sum": xp.full_like(p._data, group["initial_accumulator_value"]),
            }
        return st

    @no_grad()
    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._closure_loss(closure)
        for g, ps, gs, sts in self._stepped_groups():
            adagrad([_writable(p) for p in ps], gs, [s["sum"] for s in sts],
                    [s["step"] for s in sts], lr=g["lr"], weight_decay=g["weight_decay"],
                    lr_decay=g["lr_decay"], eps=g["eps"], maximize=g["maximize"])
            _bump(ps)
        return loss
