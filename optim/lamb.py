"""LAMB: layer-wise adaptive moments for large-batch training (You et al., 2019).

PyTorch has no LAMB; this follows Algorithm 2 of the paper ("Large Batch Optimization for Deep
Learning: Training BERT in 76 minutes", ICLR 2020) with the identity scaling function
``phi(z) = z``:

    m = beta1 m + (1 - beta1) g                     v = beta2 v + (1 - beta2) g²
    m̂ = m / (1 - beta1^t)                           v̂ = v / (1 - beta2^t)
    r = m̂ / (sqrt(v̂) + eps) + weight_decay * p
    ratio = ||p|| / ||r||   (1 when either norm is 0)
    p -= lr * ratio * r

Norms are Euclidean norms over each whole parameter tensor (a "layer"). ``bias_correction=False``
uses ``m`` and ``v`` directly (as in some reference implementations).
"""

from __future__ import annotations

from autograd.backend import get_array_module
from autograd.grad_mode import no_grad

from .optimizer import Optimizer, _bump, _check, _writable


def lamb(params, grads, exp_avgs, exp_avg_sqs, steps, *, lr: float, beta1: float,
         beta2: float, eps: float, weight_decay: float, bias_correction: bool,
         maximize: bool) -> None:
    """The LAMB update on raw arrays, written into each parameter array in place (see the
    module docstring for the formulas).

    Example:
        >>> p, g, m, v = np.full(4, 2.0), np.full(4, 0.5), np.zeros(4), np.zeros(4)
        >>> lamb([p], [g], [m], [v], [1], lr=0.1, beta1=0.9, beta2=0.999, eps=1e-6,
        ...      weight_decay=0.0, bias_correction=True, maximize=False)
        >>> p  # r ≈ 1 everywhere, trust ratio ||p|| / ||r|| ≈ 2: p -= 0.1 * 2 * 1
        array([1.8, 1.8, 1.8, 1.8])
    """
    for i, p in enumerate(params):
        xp = get_array_module(p)
        g = -grads[i] if maximize else grads[i]
        m, v = exp_avgs[i], exp_avg_sqs[i]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * (g * g)
        if bias_correction:
            step = steps[i]
            m_hat = m / (1 - beta1 ** step)
            v_hat = v / (1 - beta2 ** step)
        else:
            m_hat, v_hat = m, v
        denom = xp.sqrt(v_hat)
        denom += eps
        r = m_hat / denom
        if weight_decay != 0:
            r += weight_decay * p
        w_norm = xp.sqrt((p * p).sum())
        r_norm = xp.sqrt((r * r).sum())
        ok = (w_norm > 0) & (r_norm > 0)
        ratio = xp.where(ok, w_norm / xp.where(ok, r_norm, 1), 1)  # no sync on the GPU
        p -= (lr * ratio).astype(p.dtype) * r


class LAMB(Optimizer):
    """LAMB (You et al., 2019): Adam's direction, rescaled per parameter tensor by the trust
    ratio ``||p|| / ||r||``. Not in PyTorch; see this module's docstring for the exact rule.

    Args:
        params: parameters or parameter groups.
        lr: learning rate.
        betas: coefficients of the running averages of the gradient and of its square.
        eps: added to the denominator for numerical stability (1e-6, as in the paper's code).
        weight_decay: decoupled weight decay added to the Adam direction before the trust
            ratio is computed.
        bias_correction: divide the moments by ``1 - beta^t``.
        maximize: maximize the objective instead of minimizing it.

    State per parameter: ``step``, ``exp_avg`` and ``exp_avg_sq``.

    Example:
        >>> opt = optim.LAMB(model.parameters(), lr=1e-3, weight_decay=0.01)
        >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-6, weight_decay: float = 0.0, bias_correction: bool = True, *,
                 maximize: bool = False):
        _check(lr >= 0, "learning rate", lr)
        _check(eps >= 0, "epsilon value", eps)
        _check(0.0 <= betas[0] < 1.0, "beta parameter at index 0", betas[0])
        _check(0.0 <= betas[1] < 1.0, "beta parameter at index 1", betas[1])
        _check(weight_decay >= 0, "weight_decay value", weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay,
                                      bias_correction=bias_correction, maximize=maximize))

    def _state(self, p, group) -> dict:
        return self._zeros_state(p, "exp_avg", "exp_avg_sq")

    @no_grad()
    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._closure_loss(closure)
        for g, ps, gs, sts in self._stepped_groups():
            beta1, beta2 = g["betas"]
            lamb([_writable(p) for p in ps], gs, [s["exp_avg"] for s in sts],
                 [s["exp_avg_sq"] for s in sts], [s["step"] for s in sts], lr=g["lr"],
                 beta1=beta1, beta2=beta2, eps=g["eps"], weight_decay=g["weight_decay"],
                 bias_correction=g["bias_correction"], maximize=g["maximize"])
            _bump(ps)
        return loss


Lamb = LAMB
