"""ASGD: averaged stochastic gradient descent (Polyak & Juditsky, 1992), PyTorch's rule."""

from __future__ import annotations

from autograd.backend import get_array_module
from autograd.grad_mode import no_grad

from .optimizer import Optimizer, _bump, _check, _scalar_dtype, _writable


def asgd(params, grads, axs, mus, etas, steps, *, lambd: float, lr: float, t0: float,
         alpha: float, weight_decay: float, maximize: bool) -> tuple[list, list]:
    """The ASGD update on raw arrays, written into each parameter array (and its average
    ``ax``) in place; returns the new ``(etas, mus)``.

    PyTorch's formulas: ``p *= 1 - lambd eta``, ``p -= eta g``; ``ax += mu (p - ax)`` (a copy
    of ``p`` while ``mu == 1``); then ``eta = lr / (1 + lambd lr t)^alpha`` and
    ``mu = 1 / max(1, t - t0)``, both kept in the scalar dtype (float32 by default) as
    PyTorch's 0-d state tensors are.

    Example:
        >>> p, g, ax = np.ones(2), np.full(2, 0.5), np.zeros(2)
        >>> _ = asgd([p], [g], [ax], [1.0], [0.1], [1], lambd=0.0, lr=0.1, t0=1e6, alpha=0.75,
        ...          weight_decay=0.0, maximize=False)
        >>> p, ax
        (array([0.95, 0.95]), array([0.95, 0.95]))
    """
    sdt = _scalar_dtype()
    new_etas, new_mus = [], []
    for i, p in enumerate(params):
        g = -grads[i] if maximize else grads[i]
        if weight_decay != 0:
            g = g + weight_decay * p
        eta, mu, ax, step = etas[i], mus[i], axs[i], steps[i]
        p *= 1 - lambd * eta
        p += -eta * g
        if mu != 1:
            ax += mu * (p - ax)
        else:
            ax[...] = p
        new_etas.append(float(sdt(lr / ((1 + lambd * lr * step) ** alpha))))
        new_mus.append(float(sdt(1 / max(1, step - t0))))
    return new_etas, new_mus


class ASGD(Optimizer):
    """Averaged SGD, exactly as ``torch.optim.ASGD``: the running average of the iterates
    (from step ``t0`` on) is kept in the state as ``ax``.

    Args:
        params: parameters or parameter groups.
        lr: learning rate.
        lambd: decay term.
        alpha: power of the ``eta`` update.
        t0: the step at which averaging starts.
        weight_decay: L2 penalty added to the gradient.
        foreach, capturable, differentiable: accepted for PyTorch compatibility and stored in
            the groups; they select kernels in PyTorch and have no effect here.
        maximize: maximize the objective instead of minimizing it.

    State per parameter: ``step``, ``eta``, ``mu`` (scalars) and ``ax`` (the average).

    Example:
        >>> opt = optim.ASGD(model.parameters(), lr=1e-2, t0=100)
        >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    _scalar_state = ("step", "eta", "mu")

    def __init__(self, params, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False):
        _check(lr >= 0, "learning rate", lr)
        _check(weight_decay >= 0, "weight_decay value", weight_decay)
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _state(self, p, group) -> dict:
        st = self._st.get(p)
        if not st:
            xp = get_array_module(p)
            st = self._st[p] = {"step": 0.0, "eta": float(_scalar_dtype()(group["lr"])),
                                  "mu": 1.0, "ax": xp.zeros_like(p._data)}
        return st

    @no_grad()
    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._closure_loss(closure)
        for g, ps, gs, sts in self._stepped_groups():
            etas, mus = asgd([_writable(p) for p in ps], gs, [s["ax"] for s in sts],
                             [s["mu"] for s in sts], [s["eta"] for s in sts],
                             [s["step"] for s in sts], lambd=g["lambd"], lr=g["lr"],
                             t0=g["t0"], alpha=g["alpha"], weight_decay=g["weight_decay"],
                             maximize=g["maximize"])
            for st, eta, mu in zip(sts, etas, mus):
                st["eta"], st["mu"] = eta, mu
            _bump(ps)
        return loss
