"""Stochastic Weight Averaging and EMA of weights: ``torch.optim.swa_utils``.

``AveragedModel`` keeps a running average (SWA by default, or an exponential moving average)
of a model's parameters; ``SWALR`` anneals each group's learning rate to a constant SWA
learning rate; ``update_bn`` recomputes BatchNorm statistics for the averaged weights.

This module builds on ``nn`` (``AveragedModel`` is a ``Module``), so unlike the rest of
``optim`` it is loaded on first use of ``optim.swa_utils`` rather than by ``import optim``.

Example:
    >>> from optim.swa_utils import SWALR, AveragedModel, update_bn
    >>> swa_model = AveragedModel(model)
    >>> swa_sched = SWALR(opt, swa_lr=0.05)
    >>> for epoch in range(100):
    ...     train_one_epoch(model, opt)
    ...     if epoch > 75:
    ...         swa_model.update_parameters(model); swa_sched.step()
    >>> update_bn(loader, swa_model)
"""

from __future__ import annotations

import copy
import itertools
import math

import autograd as ag
from autograd.grad_mode import no_grad
from nn.modules.module import Module
from nn.modules.normalization import _BatchNorm

from .lr_scheduler import LRScheduler, _per_group, _warn_get_lr_called_outside_step
from .optimizer import _bump, _writable

__all__ = ["SWALR", "AveragedModel", "get_ema_avg_fn", "get_ema_multi_avg_fn",
           "get_swa_avg_fn", "get_swa_multi_avg_fn", "update_bn"]


def _lerp_(targets, ends, weight: float) -> None:
    """``torch._foreach_lerp_``: ``t = lerp(t, e, weight)`` in place, with PyTorch's two
    formulas (which keep ``weight = 1`` exact)."""
    for t, e in zip(targets, ends):
        a, b = _writable(t), e._data
        if abs(weight) < 0.5:
            a += weight * (b - a)
        else:
            a[...] = b - (b - a) * (1 - weight)
    _bump(targets)


def _check_decay(decay: float) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] "
                         "range.")


def get_ema_multi_avg_fn(decay: float = 0.999):
    """An in-place EMA update of lists of tensors, ``ema = lerp(ema, current, 1 - decay)``,
    for ``AveragedModel(multi_avg_fn=...)``.

    Example:
        >>> ema_model = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.99))
    """
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param_list, current_param_list, _):
        if ema_param_list[0].dtype.kind in "fV":
            _lerp_(ema_param_list, current_param_list, 1 - decay)
        else:
            for p_ema, p_model in zip(ema_param_list, current_param_list):
                p_ema.copy_(p_ema * decay + p_model * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    """An in-place running-mean update of lists of tensors,
    ``avg = lerp(avg, current, 1 / (n + 1))``, for ``AveragedModel(multi_avg_fn=...)``.

    Example:
        >>> swa_model = AveragedModel(model, multi_avg_fn=get_swa_multi_avg_fn())
    """

    @no_grad()
    def swa_update(averaged_param_list, current_param_list, num_averaged):
        if averaged_param_list[0].dtype.kind in "fV":
            # as in PyTorch, with a tensor count the weight is a default-dtype tensor
            _lerp_(averaged_param_list, current_param_list, float(1 / (num_averaged + 1)))
        else:
            for p_avg, p_model in zip(averaged_param_list, current_param_list):
                p_avg.copy_(p_avg + (p_model - p_avg) / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay: float = 0.999):
    """An EMA of one tensor, ``decay * ema + (1 - decay) * current`` (returned), for
    ``AveragedModel(avg_fn=...)``.

    Example:
        >>> ema_model = AveragedModel(model, avg_fn=get_ema_avg_fn(0.99))
    """
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    """A running mean of one tensor, ``avg + (current - avg) / (n + 1)`` (returned), for
    ``AveragedModel(avg_fn=...)``.

    Example:
        >>> swa_model = AveragedModel(model, avg_fn=get_swa_avg_fn())
    """

    @no_grad()
    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    """A copy of ``model`` whose parameters are the average of the ones it is updated with
    (``update_parameters``): an equal-weight running mean (SWA, Izmailov et al., 2018) by
    default, or what ``avg_fn``/``multi_avg_fn`` computes (e.g. an EMA).

    Args:
        model: the model to average (deep-copied).
        device: move the copy there.
        avg_fn: ``avg_fn(averaged, current, n_averaged) -> new averaged`` per tensor.
        multi_avg_fn: ``multi_avg_fn(averaged_list, current_list, n_averaged)``, in place.
        use_buffers: average the buffers too (else they are copied from ``model``).

    Example:
        >>> swa_model = AveragedModel(model)
        >>> swa_model.update_parameters(model)
        >>> out = swa_model(x)
    """

    def __init__(self, model: Module, device=None, avg_fn=None, multi_avg_fn=None,
                 use_buffers: bool = False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", ag.tensor(0, dtype=ag.int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    @no_grad()
    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current parameters (and buffers, with ``use_buffers``) into the
        average; the first call copies them."""
        if self.use_buffers:
            mine = list(itertools.chain(self.module.parameters(), self.module.buffers()))
            theirs = list(itertools.chain(model.parameters(), model.buffers()))
        else:
            mine, theirs = list(self.parameters()), list(model.parameters())
        mine_d, theirs_d = [], []
        first = int(self.n_averaged.item()) == 0
        for p_avg, p_model in zip(mine, theirs):
            p_model_ = p_model.detach().to(p_avg.device)
            mine_d.append(p_avg.detach())
            theirs_d.append(p_model_)
            if first:
                p_avg.detach().copy_(p_model_)
        if not first:
            n = self.n_averaged
            if self.multi_avg_fn is not None:
                self.multi_avg_fn(mine_d, theirs_d, n)
            else:  # PyTorch's per-tensor path (the CPU's, also the default here)
                avg_fn = self.avg_fn if self.avg_fn is not None else get_swa_avg_fn()
                for p_avg, p_model in zip(mine_d, theirs_d):
                    p_avg.copy_(avg_fn(p_avg, p_model, n.to(p_avg.device)))
        if not self.use_buffers:
            for b_swa, b_model in zip(self.module.buffers(), model.buffers()):
                b_swa.detach().copy_(b_model.detach().to(b_swa.device))
        self.n_averaged += 1


@no_grad()
def update_bn(loader, model: Module, device=None) -> None:
    """Recompute the running statistics of every BatchNorm layer of ``model`` with one pass
    over ``loader`` (a cumulative average over its batches), as the averaged weights need.

    Args:
        loader: an iterable of input batches (or of tuples/lists whose first item is one).
        model: the model (its mode is restored afterwards).
        device: move each batch there first.

    Example:
        >>> update_bn(train_loader, swa_model)
    """
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    for x in loader:
        if isinstance(x, (list, tuple)):
            x = x[0]
        if device is not None:
            x = x.to(device)
        model(x)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's learning rate from its current value to ``swa_lr`` over
    ``anneal_epochs`` epochs (cosine or linear), then hold it: the SWA phase's schedule.

    Args:
        optimizer: wrapped optimizer.
        swa_lr: the SWA learning rate (one value, or one per group).
        anneal_epochs: epochs of the annealing (0: switch at once).
        anneal_strategy: 'cos' or 'linear'.
        last_epoch: index of the last epoch.

    Example:
        >>> swa_sched = SWALR(opt, swa_lr=0.05, anneal_epochs=5, anneal_strategy="linear")
    """

    def __init__(self, optimizer, swa_lr, anneal_epochs: int = 10,
                 anneal_strategy: str = "cos", last_epoch: int = -1) -> None:
        swa_lrs = _per_group("swa_lr", optimizer, swa_lr)
        for lr, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" \
            else self._linear_anneal

    def get_lr(self) -> list:
        _warn_get_lr_called_outside_step(self)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        prev_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha)
                    for g in self.optimizer.param_groups]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [g["swa_lr"] * alpha + lr * (1 - alpha)
                for g, lr in zip(self.optimizer.param_groups, prev_lrs)]

    def state_dict(self) -> dict:
        """The state, without the optimizer and the annealing function."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)


