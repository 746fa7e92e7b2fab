"""Adam (with AMSGrad) and AdamW: PyTorch's update rules."""

from __future__ import annotations

import numpy as np

from autograd import fused
from autograd.backend import get_array_module
from autograd.grad_mode import no_grad

from . import _kernels
from .optimizer import Optimizer, _bump, _check, _check_kernels, _writable


def adam(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, *, amsgrad: bool,
         beta1: float, beta2: float, lr: float, weight_decay: float, eps: float,
         maximize: bool, decoupled_weight_decay: bool = False) -> None:
    """The Adam/AdamW update on raw arrays, written into each parameter array in place.

    PyTorch's formulas: with ``t = steps[i]`` (already incremented by the caller),
    ``m = lerp(m, g, 1 - beta1)``, ``v = beta2 v + (1 - beta2) g²``,
    ``p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)``; AMSGrad divides by
    the running maximum of ``v`` instead. Weight decay is an L2 term added to the gradient, or
    with ``decoupled_weight_decay`` (AdamW) ``p *= 1 - lr * weight_decay`` before the update.

    Args:
        params: parameter arrays, updated in place.
        grads: gradient arrays (not modified).
        exp_avgs: first-moment arrays, updated in place.
        exp_avg_sqs: second-moment arrays, updated in place.
        max_exp_avg_sqs: running maxima of the second moments (used when ``amsgrad``).
        steps: the step number of each parameter, counting this step.

    Example:
        >>> p, g = np.ones(3), np.full(3, 0.5)
        >>> m, v = np.zeros(3), np.zeros(3)
        >>> adam([p], [g], [m], [v], [None], [1], amsgrad=False, beta1=0.9, beta2=0.999,
        ...      lr=0.1, weight_decay=0.0, eps=1e-8, maximize=False)
        >>> p  # the first Adam step moves every coordinate by about lr
        array([0.9, 0.9, 0.9])
    """
    for i, p in enumerate(params):
        xp = get_array_module(p)
        g = -grads[i] if maximize else grads[i]
        if xp is not np and not amsgrad:  # the GPU: one fused kernel for the whole update
            dec = decoupled_weight_decay and weight_decay != 0
            fused.adam_update(p, g, exp_avgs[i], exp_avg_sqs[i], beta1, beta2,
                              lr / (1 - beta1 ** steps[i]), (1 - beta2 ** steps[i]) ** 0.5, eps,
                              1 - lr * weight_decay if dec else 1.0,
                              0.0 if dec else float(weight_decay))
            continue
        arrays = (p, grads[i], exp_avgs[i], exp_avg_sqs[i]) + \
            ((max_exp_avg_sqs[i],) if amsgrad else ())
        if (kern := _kernels.compiled(_kernels.adam_step, arrays)) is not None:  # CPU: 1 pass
            dec = decoupled_weight_decay and weight_decay != 0
            flat = [a.reshape(-1) for a in arrays]
            vmax = flat[4] if amsgrad else flat[3]
            scal = (amsgrad, maximize, 0.0 if dec else float(weight_decay),
                    1 - lr * weight_decay if dec else 1.0, 1 - beta1, beta2, 1 - beta2,
                    -(lr / (1 - beta1 ** steps[i])), (1 - beta2 ** steps[i]) ** 0.5, eps)
            _kernels.over_slices(
                lambda a, b: kern(*(f[a:b] for f in flat[:4]), vmax[a:b], *scal), p.size)
            continue
        if weight_decay != 0:
            if decoupled_weight_decay:
                p *= 1 - lr * weight_decay
            else:
                g = g + weight_decay * p
        m, v = exp_avgs[i], exp_avg_sqs[i]
        m += (1 - beta1) * (g - m)  # m.lerp_(g, 1 - beta1)
        v *= beta2
        v += (1 - beta2) * (g * g)
        step = steps[i]
        bias_correction1 = 1 - beta1 ** step
        bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        step_size = lr / bias_correction1
        if amsgrad:
            vmax = max_exp_avg_sqs[i]
            xp.maximum(vmax, v, out=vmax)
            denom = xp.sqrt(vmax)
        else:
            denom = xp.sqrt(v)
        denom /= bias_correction2_sqrt
        denom += eps
        p += -step_size * (m / denom)


def _check_adam_args(lr, betas, eps, weight_decay) -> None:
    _check(lr >= 0, "learning rate", lr)
    _check(eps >= 0, "epsilon value", eps)
    _check(0.0 <= betas[0] < 1.0, "beta parameter at index 0", betas[0])
    _check(0.0 <= betas[1] < 1.0, "beta parameter at index 1", betas[1])
    _check(weight_decay >= 0, "weight_decay value", weight_decay)


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), optionally AMSGrad, exactly as ``torch.optim.Adam``.

    Args:
        params: parameters or parameter groups.
        lr: learning rate.
        betas: coefficients of the running averages of the gradient and of its square.
        eps: added to the denominator for numerical stability.
        weight_decay: L2 penalty added to the gradient (decoupled, as in AdamW, when
            ``decoupled_weight_decay``).
        amsgrad: use the running maximum of the second moment (Reddi et al., 2018).
        maximize: maximize the objective instead of minimizing it.
        decoupled_weight_decay: decay the weights directly (``p *= 1 - lr * wd``): AdamW.
        foreach, fused, capturable, differentiable: accepted for PyTorch compatibility and
            stored in the groups; they select kernels in PyTorch and have no effect here (the
            update is always one vectorised pass per parameter, and never differentiable).

    State per parameter: ``step`` (a float), ``exp_avg``, ``exp_avg_sq`` and, with AMSGrad,
    ``max_exp_avg_sq`` (arrays on the parameter's device).

    Example:
        >>> opt = optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999))
        >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False):
        _check_adam_args(lr, betas, eps, weight_decay)
        _check_kernels(foreach, fused, differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable,
                                      fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _state(self, p, group) -> dict:
        st = self._st.get(p)
        if not st:
            xp = get_array_module(p)
            st = self._st[p] = {"step": 0.0, "exp_avg": xp.zeros_like(p._data),
                                  "exp_avg_sq": xp.zeros_like(p._data)}
        if group["amsgrad"] and "max_exp_avg_sq" not in st:
            st["max_exp_avg_sq"] = get_array_module(p).zeros_like(p._data)
        return st

    @no_grad()
    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._closure_loss(closure)
        for g, ps, gs, sts in self._stepped_groups():
            beta1, beta2 = g["betas"]
            adam([_writable(p) for p in ps], gs, [s["exp_avg"] for s in sts],
                 [s["exp_avg_sq"] for s in sts], [s.get("max_exp_avg_sq") for s in sts],
                 [s["step"] for s in sts], amsgrad=g["amsgrad"], beta1=beta1, beta2=beta2,
                 lr=g["lr"], weight_decay=g["weight_decay"], eps=g["eps"],
                 maximize=g["maximize"],
                 decoupled_weight_decay=g.get("decoupled_weight_decay", False))
            _bump(ps)
        return loss


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay, exactly as
    ``torch.optim.AdamW`` (``p *= 1 - lr * weight_decay`` before the Adam update; the decay
    never enters the moments).

    Args:
        params: parameters or parameter groups.
        lr: learning rate.
        betas: coefficients of the running averages of the gradient and of its square.
        eps: added to the denominator for numerical stability.
        weight_decay: decoupled weight decay coefficient (default 1e-2, as in PyTorch).
        amsgrad: use the running maximum of the second moment.
        maximize: maximize the objective instead of minimizing it.
        foreach, fused, capturable, differentiable: accepted for PyTorch compatibility and
            stored in the groups; they select kernels in PyTorch and have no effect here (the
            update is always one vectorised pass per parameter, and never differentiable).

    Example:
        >>> opt = optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
        >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         foreach=foreach, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        for g in self.param_groups:  # as in PyTorch: an AdamW always decays decoupled
            g["decoupled_weight_decay"] = True
