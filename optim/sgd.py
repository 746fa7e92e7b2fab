"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from autograd.grad_mode import enable_grad, no_grad

from . import _kernels
from .optimizer import Optimizer, _check_kernels, _writable


def sgd(params, grads, bufs, *, lr, momentum, dampening, weight_decay, nesterov, maximize):
    """The update on raw arrays, written into each parameter array in place (PyTorch's
    formulas: the buffer starts as the first gradient)."""
    for i, (p, g) in enumerate(zip(params, grads)):
        buf = bufs[i] if momentum else None
        if buf is not None and \
                (kern := _kernels.compiled(_kernels.sgd_step, (p, g, buf))) is not None:
            pf, gf, bf = p.reshape(-1), g.reshape(-1), buf.reshape(-1)  # the CPU: one pass
            # floats (an int 0 default would compile a second signature)
            scal = (float(weight_decay), float(momentum), float(dampening))
            _kernels.over_slices(lambda a, b: kern(pf[a:b], gf[a:b], bf[a:b], maximize,
                                                   *scal, nesterov, lr), p.size)
            continue
        if maximize:
            g = -g
        if weight_decay:
            g = g + weight_decay * p
        if momentum:
            buf = bufs[i]
            if buf is None:
                buf = bufs[i] = g.copy()
            else:
                buf *= momentum
                if dampening:
                    buf += (1 - dampening) * g
                else:
                    buf += g
            g = g + momentum * buf if nesterov else buf
        p -= lr * g


class SGD(Optimizer):
    """Stochastic gradient descent.

    Args:
        params: parameters or parameter groups.
        lr: learning rate.
        momentum: momentum factor.
        dampening: dampening for momentum.
        weight_decay: L2 penalty added to the gradient.
        nesterov: Nesterov momentum.
        maximize: maximize the objective instead of minimizing it.
        foreach, fused, capturable, differentiable: accepted for PyTorch compatibility and
            stored in the groups; they select kernels in PyTorch and have no effect here (the
            update is always one vectorised pass per parameter, and never differentiable).

    Example:
        >>> opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False,
                 fused: bool | None = None):
        if lr < 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        _check_kernels(foreach, fused, differentiable)
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    @no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for g in self.param_groups:
            ps, gs, bufs = [], [], []
            for p in g["params"]:
                if p.grad is None:
                    continue
                ps.append(p)
                gs.append(p.grad._data)
                bufs.append(self._st.get(p, {}).get("momentum_buffer"))
            arrays = [_writable(p) for p in ps]
            sgd(arrays, gs, bufs, lr=g["lr"], momentum=g["momentum"],
                dampening=g["dampening"], weight_decay=g["weight_decay"],
                nesterov=g["nesterov"], maximize=g["maximize"])
            for p, b in zip(ps, bufs):
                p._vc[0] += 1  # an in-place update: saved copies of p are now stale
                if g["momentum"]:
                    self._st.setdefault(p, {})["momentum_buffer"] = b
        return loss
