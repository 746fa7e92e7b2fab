"""NAdam: Adam with Nesterov momentum (Dozat, 2016), PyTorch's update rule."""

from __future__ import annotations

from autograd.backend import get_array_module
from autograd.grad_mode import no_grad

from .adam import _check_adam_args
from .optimizer import Optimizer, _bump, _check, _scalar_dtype, _writable


def nadam(params, grads, exp_avgs, exp_avg_sqs, mu_products, steps, *, beta1: float,
          beta2: float, lr: float, weight_decay: float, momentum_decay: float, eps: float,
          decoupled_weight_decay: bool, maximize: bool) -> list:
    """The NAdam update on raw arrays, written into each parameter array in place; returns
    the new ``mu_products`` (kept, as in PyTorch, in the scalar dtype: float32 by default).

    PyTorch's formulas: with ``t = steps[i]``, ``mu_t = beta1 (1 - 0.5 * 0.96^(t psi))``,
    ``prod *= mu_t``, ``m = lerp(m, g, 1 - beta1)``, ``v = beta2 v + (1 - beta2) g²``,
    ``denom = sqrt(v / (1 - beta2^t)) + eps``,
    ``p -= lr (1 - mu_t) / (1 - prod) g / denom + lr mu_{t+1} / (1 - prod mu_{t+1}) m / denom``.

    Example:
        >>> p, g, m, v = np.ones(2), np.full(2, 0.5), np.zeros(2), np.zeros(2)
        >>> _ = nadam([p], [g], [m], [v], [1.0], [1], beta1=0.9, beta2=0.999, lr=0.1,
        ...           weight_decay=0.0, momentum_decay=4e-3, eps=1e-8,
        ...           decoupled_weight_decay=False, maximize=False)
    """
    sdt = _scalar_dtype()
    out = []
    for i, p in enumerate(params):
        xp = get_array_module(p)
        g = -grads[i] if maximize else grads[i]
        step = steps[i]
        bias_correction2 = 1 - beta2 ** step
        if weight_decay != 0:
            if decoupled_weight_decay:
                p *= 1 - lr * weight_decay
            else:
                g = g + weight_decay * p
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_product = float(sdt(mu_products[i]) * sdt(mu))  # a scalar-dtype tensor in PyTorch
        out.append(mu_product)
        m, v = exp_avgs[i], exp_avg_sqs[i]
        tmp = g - m
        tmp *= 1 - beta1
        m += tmp  # m.lerp_(g, 1 - beta1)
        xp.multiply(g, g, out=tmp)
        tmp *= 1 - beta2
        v *= beta2
        v += tmp
        denom = v / bias_correction2
        xp.sqrt(denom, out=denom)
        denom += eps
        xp.divide(g, denom, out=tmp)
        tmp *= -lr * (1.0 - mu) / (1.0 - mu_product)
        p += tmp
        xp.divide(m, denom, out=tmp)
        tmp *= -lr * mu_next / (1.0 - mu_product * mu_next)
        p += tmp
    return out


class NAdam(Optimizer):
    """NAdam (Dozat, 2016), exactly as ``torch.optim.NAdam``.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 2e-3).
        betas: coefficients of the running averages of the gradient and of its square.
        eps: added to the denominator for numerical stability.
        weight_decay: L2 penalty added to the gradient (decoupled, as in AdamW, when
            ``decoupled_weight_decay``: NAdamW).
        momentum_decay: psi, the decay of the momentum schedule ``mu_t``.
        decoupled_weight_decay: decay the weights directly (``p *= 1 - lr * wd``).
        foreach, capturable, differentiable: accepted for PyTorch compatibility and stored in
            the groups; they select kernels in PyTorch and have no effect here.
        maximize: maximize the objective instead of minimizing it.

    State per parameter: ``step``, ``mu_product`` (scalars), ``exp_avg`` and ``exp_avg_sq``.

    Example:
        >>> opt = optim.NAdam(model.parameters(), lr=2e-3, momentum_decay=4e-3)
        >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    _scalar_state = ("step", "mu_product")

    def __init__(self, params, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False):
        _check_adam_args(lr, betas, eps, weight_decay)
        _check(momentum_decay >= 0, "momentum_decay value", momentum_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable))

    def _state(self, p, group) -> dict:
        st = self._st.get(p)
        if not st:
            xp = get_array_module(p)
            st = self._st[p] = {"step": 0.0, "mu_product": 1.0,
                                  "exp_avg": xp.zeros_like(p._data),
                                  "exp_avg_sq": xp.zeros_like(p._data)}
        return st

    @no_grad()
    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._closure_loss(closure)
        for g, ps, gs, sts in self._stepped_groups():
            beta1, beta2 = g["betas"]
            prods = nadam([_writable(p) for p in ps], gs, [s["exp_avg"] for s in sts],
                          [s["exp_avg_sq"] for s in sts], [s["mu_product"] for s in sts],
                          [s["step"] for s in sts], beta1=beta1, beta2=beta2, lr=g["lr"],
                          weight_decay=g["weight_decay"], momentum_decay=g["momentum_decay"],
                          eps=g["eps"], decoupled_weight_decay=g["decoupled_weight_decay"],
                          maximize=g["maximize"])
            for st, prod in zip(sts, prods):
                st["mu_product"] = prod
            _bump(ps)
        return loss
