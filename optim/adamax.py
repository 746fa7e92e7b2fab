"""Adamax: Adam with the infinity norm, PyTorch's update rule."""

from __future__ import annotations

from autograd.backend import get_array_module
from autograd.grad_mode import no_grad

from .adam import _check_adam_args
from .optimizer import Optimizer, _bump, _writable


def adamax(params, grads, exp_avgs, exp_infs, steps, *, eps: float, beta1: float,
           beta2: float, lr: float, weight_decay: float, maximize: bool) -> None:
    """The Adamax update on raw arrays, written into each parameter array in place.

    PyTorch's formulas: with ``t = steps[i]`` (counting this step),
    ``m = lerp(m, g, 1 - beta1)``, ``u = max(beta2 u, |g| + eps)``,
    ``p -= lr / (1 - beta1^t) * m / u``. Weight decay is an L2 term added to the gradient.

    Example:
        >>> p, g, m, u = np.ones(2), np.full(2, 0.5), np.zeros(2), np.zeros(2)
        >>> adamax([p], [g], [m], [u], [1], eps=1e-8, beta1=0.9, beta2=0.999, lr=0.1,
        ...        weight_decay=0.0, maximize=False)
        >>> p.round(6)  # the first step moves each coordinate by about lr
        array([0.9, 0.9])
    """
    for i, p in enumerate(params):
        xp = get_array_module(p)
        g = -grads[i] if maximize else grads[i]
        if weight_decay != 0:
            g = g + weight_decay * p
        m, u = exp_avgs[i], exp_infs[i]
        tmp = g - m
        tmp *= 1 - beta1
        m += tmp  # m.lerp_(g, 1 - beta1)
        u *= beta2
        xp.abs(g, out=tmp)
        tmp += eps
        xp.maximum(u, tmp, out=u)
        clr = lr / (1 - beta1 ** steps[i])
        xp.divide(m, u, out=tmp)
        tmp *= -clr
        p += tmp


class Adamax(Optimizer):
    """Adamax (Kingma & Ba, 2015, section 7), exactly as ``torch.optim.Adamax``.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 2e-3).
        betas: coefficients of the running average of the gradient and of the decay of the
            infinity norm.
        eps: added to the infinity norm for numerical stability.
        weight_decay: L2 penalty added to the gradient.
        foreach, capturable, differentiable: accepted for PyTorch compatibility and stored in
            the groups; they select kernels in PyTorch and have no effect here.
        maximize: maximize the objective instead of minimizing it.

    State per parameter: ``step``, ``exp_avg`` and ``exp_inf``.

    Example:
        >>> opt = optim.Adamax(model.parameters(), lr=2e-3)
        >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False):
        _check_adam_args(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))

    def _state(self, p, group) -> dict:
        return self._zeros_state(p, "exp_avg", "exp_inf")

    @no_grad()
    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._closure_loss(closure)
        for g, ps, gs, sts in self._stepped_groups():
            beta1, beta2 = g["betas"]
            adamax([_writable(p) for p in ps], gs, [s["exp_avg"] for s in sts],
                   [s["exp_inf"] for s in sts], [s["step"] for s in sts], eps=g["eps"],
                   beta1=beta1, beta2=beta2, lr=g["lr"], weight_decay=g["weight_decay"],
                   maximize=g["maximize"])
            _bump(ps)
        return loss
