"""RAdam: Adam with a rectified adaptive learning rate (Liu et al., 2020), PyTorch's rule."""

from __future__ import annotations

from autograd.backend import get_array_module
from autograd.grad_mode import no_grad

from .adam import _check_adam_args
from .optimizer import Optimizer, _bump, _writable


def radam(params, grads, exp_avgs, exp_avg_sqs, steps, *, beta1: float, beta2: float,
          lr: float, weight_decay: float, eps: float, decoupled_weight_decay: bool,
          maximize: bool) -> None:
    """The RAdam update on raw arrays, written into each parameter array in place.

    PyTorch's formulas: the moments as in Adam; ``rho_inf = 2 / (1 - beta2) - 1``,
    ``rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)``; when ``rho_t > 5`` the step is
    ``lr m̂ r_t sqrt(1 - beta2^t) / (sqrt(v) + eps)`` with the rectification
    ``r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))``,
    else plain momentum ``lr m̂`` (``m̂ = m / (1 - beta1^t)``).

    Example:
        >>> p, g, m, v = np.ones(2), np.full(2, 0.5), np.zeros(2), np.zeros(2)
        >>> radam([p], [g], [m], [v], [1], beta1=0.9, beta2=0.999, lr=0.1, weight_decay=0.0,
        ...       eps=1e-8, decoupled_weight_decay=False, maximize=False)
        >>> p  # rho_1 = 1 <= 5: an SGD-with-momentum step
        array([0.95, 0.95])
    """
    for i, p in enumerate(params):
        xp = get_array_module(p)
        g = -grads[i] if maximize else grads[i]
        if weight_decay != 0:
            if decoupled_weight_decay:
                p *= 1 - lr * weight_decay
            else:
                g = g + weight_decay * p
        m, v = exp_avgs[i], exp_avg_sqs[i]
        tmp = g - m
        tmp *= 1 - beta1
        m += tmp  # m.lerp_(g, 1 - beta1)
        xp.multiply(g, g, out=tmp)
        tmp *= 1 - beta2
        v *= beta2
        v += tmp
        step = steps[i]
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        update = m / bias_correction1  # the bias-corrected first moment
        update *= lr
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            xp.sqrt(v, out=tmp)
            tmp += eps
            xp.divide(bias_correction2 ** 0.5, tmp, out=tmp)  # the adaptive learning rate
            update *= tmp
            update *= rect
        p -= update


class RAdam(Optimizer):
    """RAdam (Liu et al., 2020), exactly as ``torch.optim.RAdam``.

    Args:
        params: parameters or parameter groups.
        lr: learning rate.
        betas: coefficients of the running averages of the gradient and of its square.
        eps: added to the denominator for numerical stability.
        weight_decay: L2 penalty added to the gradient (decoupled when
            ``decoupled_weight_decay``: RAdamW).
        decoupled_weight_decay: decay the weights directly (``p *= 1 - lr * wd``).
        foreach, capturable, differentiable: accepted for PyTorch compatibility and stored in
            the groups; they select kernels in PyTorch and have no effect here.
        maximize: maximize the objective instead of minimizing it.

    State per parameter: ``step``, ``exp_avg`` and ``exp_avg_sq``.

    Example:
        >>> opt = optim.RAdam(model.parameters(), lr=1e-3)
        >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False):
        _check_adam_args(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      differentiable=differentiable))

    def _state(self, p, group) -> dict:
        return self._zeros_state(p, "exp_avg", "exp_avg_sq")

    @no_grad()
    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._closure_loss(closure)
        for g, ps, gs, sts in self._stepped_groups():
            beta1, beta2 = g["betas"]
            radam([_writable(p) for p in ps], gs, [s["exp_avg"] for s in sts],
                  [s["exp_avg_sq"] for s in sts], [s["step"] for s in sts], beta1=beta1,
                  beta2=beta2, lr=g["lr"], weight_decay=g["weight_decay"], eps=g["eps"],
                  decoupled_weight_decay=g["decoupled_weight_decay"], maximize=g["maximize"])
            _bump(ps)
        return loss
