"""Rprop: resilient backpropagation (Riedmiller & Braun, 1993), PyTorch's update rule."""

from __future__ import annotations

from autograd.backend import get_array_module
from autograd.grad_mode import no_grad

from .optimizer import Optimizer, _bump, _check, _writable


def rprop(params, grads, prevs, step_sizes, *, step_size_min: float, step_size_max: float,
          etaminus: float, etaplus: float, maximize: bool) -> None:
    """The Rprop update on raw arrays, written into each parameter array in place.

    PyTorch's formulas: where ``g * prev`` is positive the step size grows by ``etaplus``,
    where negative it shrinks by ``etaminus`` and that coordinate's gradient is taken as 0
    (no move, and no sign change next time); the step size is clamped to
    ``[step_size_min, step_size_max]``; ``p -= sign(g) * step_size``; ``prev = g``.

    Example:
        >>> p, g = np.ones(2), np.array([0.5, -0.5])
        >>> prev, size = np.zeros(2), np.full(2, 0.01)
        >>> rprop([p], [g], [prev], [size], step_size_min=1e-6, step_size_max=50,
        ...       etaminus=0.5, etaplus=1.2, maximize=False)
        >>> p
        array([0.99, 1.01])
    """
    for i, p in enumerate(params):
        xp = get_array_module(p)
        g = -grads[i] if maximize else grads[i]
        prev, size = prevs[i], step_sizes[i]
        dt = size.dtype.type
        s = g * prev
        neg = s < 0
        factor = xp.where(s > 0, dt(etaplus), xp.where(neg, dt(etaminus), dt(1)))
        size *= factor
        xp.clip(size, step_size_min, step_size_max, out=size)
        xp.copyto(prev, g)
        prev[neg] = 0  # a sign change: no move now, and no sign change seen next time
        xp.sign(prev, out=s)
        s *= size
        p -= s


class Rprop(Optimizer):
    """Rprop, exactly as ``torch.optim.Rprop``: per-coordinate step sizes adapted from the
    sign of successive gradients (their magnitude is ignored).

    Args:
        params: parameters or parameter groups.
        lr: the initial step size.
        etas: ``(etaminus, etaplus)``, the factors shrinking and growing the step sizes.
        step_sizes: ``(min, max)`` allowed step sizes.
        capturable, foreach, differentiable: accepted for PyTorch compatibility and stored in
            the groups; they select kernels in PyTorch and have no effect here.
        maximize: maximize the objective instead of minimizing it.

    State per parameter: ``step``, ``prev`` (the last gradient used) and ``step_size``.

    Example:
        >>> opt = optim.Rprop(model.parameters(), lr=1e-2, etas=(0.5, 1.2))
        >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params, lr: float = 1e-2, etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False):
        _check(lr >= 0, "learning rate", lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        super().__init__(params, dict(lr=lr, etas=etas, step_sizes=step_sizes,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))

    def _state(self, p, group) -> dict:
        st = self._st.get(p)
        if not st:
            xp = get_array_module(p)
            st = self._st[p] = {"step": 0.0, "prev": xp.zeros_like(p._data),
                                  "step_size": xp.full_like(p._data, group["lr"])}
        return st

    @no_grad()
    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._closure_loss(closure)
        for g, ps, gs, sts in self._stepped_groups():
            etaminus, etaplus = g["etas"]
            size_min, size_max = g["step_sizes"]
            rprop([_writable(p) for p in ps], gs, [s["prev"] for s in sts],
                  [s["step_size"] for s in sts], step_size_min=size_min,
                  step_size_max=size_max, etaminus=etaminus, etaplus=etaplus,
                  maximize=g["maximize"])
            _bump(ps)
        return loss
