"""RMSprop: PyTorch's update rule (smoothing ``alpha``, centered variant, momentum)."""

from __future__ import annotations

from autograd.backend import get_array_module
from autograd.grad_mode import no_grad

from .optimizer import Optimizer, _bump, _check, _writable


def rmsprop(params, grads, square_avgs, grad_avgs, momentum_buffers, *, lr: float,
            alpha: float, eps: float, weight_decay: float, momentum: float, centered: bool,
            maximize: bool) -> None:
    """The RMSprop update on raw arrays, written into each parameter array in place.

    PyTorch's formulas: ``v = alpha v + (1 - alpha) g²``; centered:
    ``ḡ = lerp(ḡ, g, 1 - alpha)`` and ``avg = sqrt(v - ḡ²) + eps``, else ``avg = sqrt(v) + eps``;
    with momentum ``buf = momentum buf + g / avg`` and ``p -= lr buf``, else
    ``p -= lr g / avg``. Weight decay is an L2 term added to the gradient.

    Example:
        >>> p, g, v = np.ones(2), np.full(2, 0.1), np.zeros(2)
        >>> rmsprop([p], [g], [v], [None], [None], lr=0.01, alpha=0.99, eps=1e-8,
        ...         weight_decay=0.0, momentum=0.0, centered=False, maximize=False)
        >>> p  # 1 - 0.01 * 0.1 / sqrt(0.01 * 0.01)
        array([0.9, 0.9])
    """
    for i, p in enumerate(params):
        xp = get_array_module(p)
        g = -grads[i] if maximize else grads[i]
        if weight_decay != 0:
            g = g + weight_decay * p
        v = square_avgs[i]
        v *= alpha
        v += (1 - alpha) * (g * g)
        if centered:
            ga = grad_avgs[i]
            ga += (1 - alpha) * (g - ga)  # ga.lerp_(g, 1 - alpha)
            avg = xp.sqrt(v - ga * ga)
        else:
            avg = xp.sqrt(v)
        avg += eps
        if momentum > 0:
            buf = momentum_buffers[i]
            buf *= momentum
            buf += g / avg
            p += -lr * buf
        else:
            p += -lr * (g / avg)


class RMSprop(Optimizer):
    """RMSprop (Hinton, Lecture 6e), exactly as ``torch.optim.RMSprop``.

    Args:
        params: parameters or parameter groups.
        lr: learning rate.
        alpha: smoothing constant of the running average of the squared gradient.
        eps: added to the denominator for numerical stability.
        weight_decay: L2 penalty added to the gradient.
        momentum: momentum factor (0 disables the buffer).
        centered: normalize by an estimate of the gradient's variance instead of its second
            moment.
        maximize: maximize the objective instead of minimizing it.
        foreach, fused, capturable, differentiable: accepted for PyTorch compatibility and
            stored in the groups; they select kernels in PyTorch and have no effect here (the
            update is always one vectorised pass per parameter, and never differentiable).

    State per parameter: ``step``, ``square_avg``, and ``momentum_buffer`` (momentum > 0) and
    ``grad_avg`` (centered).

    Example:
        >>> opt = optim.RMSprop(model.parameters(), lr=1e-2, momentum=0.9, centered=True)
        >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False):
        _check(lr >= 0, "learning rate", lr)
        _check(eps >= 0, "epsilon value", eps)
        _check(momentum >= 0, "momentum value", momentum)
        _check(weight_decay >= 0, "weight_decay value", weight_decay)
        _check(alpha >= 0, "alpha value", alpha)
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps,
                                      centered=centered, weight_decay=weight_decay,
                                      capturable=capturable, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable))

    def _state(self, p, group) -> dict:
        st = self._st.get(p)
        xp = get_array_module(p)
        if not st:
            st = self._st[p] = {"step": 0.0, "square_avg": xp.zeros_like(p._data)}
        if group["momentum"] > 0 and "momentum_buffer" not in st:
            st["momentum_buffer"] = xp.zeros_like(p._data)
        if group["centered"] and "grad_avg" not in st:
            st["grad_avg"] = xp.zeros_like(p._data)
        return st

    @no_grad()
    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._closure_loss(closure)
        for g, ps, gs, sts in self._stepped_groups():
            rmsprop([_writable(p) for p in ps], gs, [s["square_avg"] for s in sts],
                    [s.get("grad_avg") for s in sts], [s.get("momentum_buffer") for s in sts],
                    lr=g["lr"], alpha=g["alpha"], eps=g["eps"],
                    weight_decay=g["weight_decay"], momentum=g["momentum"],
                    centered=g["centered"], maximize=g["maximize"])
            _bump(ps)
        return loss
