"""Reusable parts of a training loop: one epoch with a divergence stop, evaluation, and
checkpoints that resume exactly.

- ``train_epoch``: one pass over the batches (forward, loss, backward, optional gradient
  clipping, optimizer and scheduler steps). When the loss becomes NaN or inf it raises
  ``TrainingDiverged`` with a message from ``diagnose_divergence``, which re-runs the batch
  under ``ag.detect_anomaly()`` and names the first op that produced the non-finite value.
- ``evaluate``: mean loss (and accuracy) over a loader, in eval mode, without a graph.
- ``save_checkpoint`` / ``load_checkpoint``: the model, optimizer, LR scheduler, the package
  RNG state and any extra fields (epoch, history...) in one ``ag.save`` file, written
  atomically. Restoring all of them makes a resumed run end with exactly the weights of an
  uninterrupted one (shuffling, dropout and augmentation draw from the package RNG). Every
  way a checkpoint can be unusable (missing, corrupt, truncated, not a checkpoint, written
  for another model) raises ``CheckpointError`` with a one-line message naming the file.

The optimizer and scheduler are duck-typed (``zero_grad``/``step``/``state_dict``/
``load_state_dict``, ``param_groups``), so this module does not depend on ``optim``.

Example:
    >>> import autograd as ag, nn, optim
    >>> from nn.training import train_epoch
    >>> _ = ag.manual_seed(0)
    >>> model = nn.Linear(3, 2)
    >>> opt = optim.SGD(model.parameters(), lr=0.1)
    >>> batches = [(ag.randn(4, 3), ag.tensor([0, 1, 1, 0]))]
    >>> ce = lambda model, out, x, y: nn.functional.cross_entropy(out, y)
    >>> sorted(train_epoch(model, batches, ce, opt))
    ['acc', 'loss', 'samples']
"""

from __future__ import annotations

import math
import os
import re

import autograd as ag

from . import functional as F
from .utils import clip_grad_norm_

__all__ = ["CKPT_FORMAT", "CheckpointError", "TrainingDiverged", "diagnose_divergence",
           "evaluate", "load_checkpoint", "random_hflip", "read_checkpoint", "save_checkpoint",
           "train_epoch"]

# The "format" field of a checkpoint; kept from the first version so that old files load.
CKPT_FORMAT = "autograd-train-checkpoint"
# The fields every checkpoint written by ``save_checkpoint`` has.
_CKPT_FIELDS = ("format", "model", "optimizer", "scheduler", "rng")
# ag.load's messages start with "ag.load(<file>): "; the CheckpointError names the file itself.
_LOAD_PREFIX = re.compile(r"^ag\.load\(.*?\):\s*")


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or inf; the message names the op that produced it.

    Args:
        message: the explanation (from ``diagnose_divergence``).
        history: the metrics of the epochs completed before it happened.

    Attributes:
        history: as given (a list; the caller may fill it in when it catches the error).
    """

    def __init__(self, message: str, history: list | None = None):
        super().__init__(message)
        self.history = [] if history is None else history


class CheckpointError(ag.CheckpointError):
    """A checkpoint cannot be used: missing, unreadable, not a checkpoint, or written for a
    different model or optimizer.

    ``str(error)`` is one line that names the file and what is wrong with it.

    Attributes:
        path: the checkpoint's path.
        reason: what is wrong, without the path.
    """

    def __init__(self, path, reason: str):
        self.path = os.fspath(path)
        self.reason = _one_line(reason)
        super().__init__(f"{self.path}: {self.reason}")


def _one_line(text: str) -> str:
    """``text`` with its line breaks and tabs folded (error messages may span lines)."""
    return "; ".join(" ".join(line.split()) for line in str(text).splitlines()
                     if line.strip())


# ---- one epoch, divergence ------------------------------------------------------------------

def random_hflip(x):
    """Flip each image of the batch left-right with probability 1/2 (package RNG).

    Args:
        x: images (N, C, H, W).

    Returns:
        A tensor like ``x``.
    """
    flip = ag.rand(x.shape[0], device=x.device) < 0.5
    return ag.where(flip.reshape(-1, 1, 1, 1), x.flip(-1), x)


def _all_finite(t) -> bool:
    return bool(ag.isfinite(t).all().item())


def diagnose_divergence(model, loss_fn, x, y, value: float, epoch: int, batch: int,
                        live_hint: str = "train under ag.detect_anomaly()") -> str:
    """Explain a non-finite loss: re-run the batch under ``ag.detect_anomaly()``.

    Args:
        model: the model, with the parameters that produced the non-finite loss.
        loss_fn: ``loss_fn(model, out, x, y) -> Tensor``.
        x, y: the batch.
        value: the loss value (NaN or inf).
        epoch, batch: where it happened (1-based), for the message.
        live_hint: how to catch it live when the re-run does not reproduce it.

    Returns:
        A message naming the first op whose output (forward) or gradient (backward) was NaN
        or inf, the module it ran in, and the parameters that were already non-finite.
    """
    msg = [f"training stopped: the loss became {value} at epoch {epoch}, batch {batch}."]
    bad = [name for name, p in model.named_parameters() if not _all_finite(p)]
    if bad:
        msg.append(f"Parameters already non-finite before this batch: {', '.join(bad)} "
                   "(the previous optimizer step produced them: is the learning rate too high?)")
    entered: list[str] = []  # the modules entered so far, to say where the op ran
    handles = [m.register_forward_pre_hook(
        lambda mod, inp, name=name: entered.append(f"{name} ({type(mod).__name__})"))
        for name, m in model.named_modules() if name and not list(m.children())]
    try:
        with ag.detect_anomaly():
            out = model(x)
            entered.append("the loss")
            loss = loss_fn(model, out, x, y)
            loss.backward()
    except FloatingPointError as e:
        where = ""
        if str(e).startswith("anomaly detected in forward") and entered:
            where = f" (in module {entered[-1]})" if entered[-1] != "the loss" else " (in the loss)"
        msg.append(f"Re-running the batch under ag.detect_anomaly(){where}: {e}")
    else:
        msg.append("Re-running the batch under ag.detect_anomaly() did not reproduce it "
                   f"(dropout draws a new mask); {live_hint} to catch it live.")
    finally:
        for h in handles:
            h.remove()
        model.zero_grad()
    return "\n".join(msg)


def train_epoch(model, batches, loss_fn, optimizer, scheduler=None, *, epoch: int = 1,
                classify: bool = True, clip_grad: float | None = None, augment=None,
                detect_anomaly: bool = False, on_batch=None,
                live_hint: str = "train under ag.detect_anomaly()", reduce_loss=None,
                diagnose=None) -> dict:
    """One training pass over ``batches``, stopping when the loss becomes NaN or inf.

    Per batch: ``augment(x)`` if given, forward, ``loss_fn``, ``optimizer.zero_grad()``,
    backward, gradient-norm clipping, ``optimizer.step()``, ``scheduler.step()``.
    The model is put in training mode first.

    Args:
        model: the model.
        batches: an iterable of ``(x, y)`` (a ``DataLoader``, possibly wrapped in a progress
            bar).
        loss_fn: ``loss_fn(model, out, x, y) -> Tensor`` (the model is passed for
            regularisation terms).
        optimizer: an object with ``zero_grad()`` and ``step()``.
        scheduler: an object with ``step()``, stepped after every batch, or None.
        epoch: the epoch's number, for the divergence message.
        classify: also count the accuracy of ``out.argmax(1)`` against ``y``.
        clip_grad: clip the gradients' total norm to this value (None: no clipping).
        augment: a function applied to each input batch (e.g. ``random_hflip``), or None.
        detect_anomaly: run every batch under ``ag.detect_anomaly()`` (slow).
        on_batch: called after every step as ``on_batch(stats)`` with the running
            ``{"loss", "acc", "samples"}`` (e.g. to update a progress bar).
        live_hint: passed to ``diagnose_divergence``.
        reduce_loss: for data-parallel training, a function mapping this process's loss
            value to the one every process agrees on (e.g. the mean over the ranks, by an
            all-reduce); the divergence test and the running loss use it, so that every
            rank stops at the same batch. None: the local value.
        diagnose: replaces ``diagnose_divergence`` (same arguments), e.g. where re-running
            a batch alone would need the other ranks.

    Returns:
        ``{"loss": mean training loss, "acc": accuracy or None, "samples": count}``.

    Raises:
        TrainingDiverged: the loss became NaN or inf; nothing was stepped for that batch.
    """
    model.train()
    seen = loss_sum = correct = 0.0
    stats = {"loss": math.nan, "acc": None, "samples": 0}
    for b, (x, y) in enumerate(batches, 1):
        if augment is not None:
            x = augment(x)
        with ag.set_detect_anomaly(detect_anomaly):
            out = model(x)
            loss = loss_fn(model, out, x, y)
            value = loss.item()
            if reduce_loss is not None:
                value = reduce_loss(value)
            if not math.isfinite(value):
                raise TrainingDiverged((diagnose or diagnose_divergence)(
                    model, loss_fn, x, y, value, epoch, b, live_hint=live_hint))
            optimizer.zero_grad()
            loss.backward()
        if clip_grad:
            clip_grad_norm_(model.parameters(), clip_grad)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        n = x.shape[0]
        seen += n
        loss_sum += value * n
        if classify:
            correct += (out.argmax(1) == y).sum().item()
        stats = {"loss": loss_sum / seen, "acc": correct / seen if classify else None,
                 "samples": int(seen)}
        if on_batch is not None:
            on_batch(stats)
    return stats


def evaluate(model, loader, loss_fn, classify: bool = True, extra_mse: bool = False) -> dict:
    """Mean loss (and accuracy) of ``model`` over ``loader``, in eval mode, without a graph.

    Args:
        model: the model; its training mode is restored afterwards.
        loader: an iterable of ``(x, y)`` batches.
        loss_fn: ``loss_fn(model, out, x, y) -> Tensor``, a mean over the batch.
        classify: also report the accuracy of ``out.argmax(1)``.
        extra_mse: also report the mean squared error between ``sigmoid(out)`` and the
            flattened input (for autoencoders).

    Returns:
        ``{"loss": ...}`` plus ``"acc"`` and ``"mse"`` when asked for.
    """
    was_training = model.training
    model.eval()
    total = loss_sum = correct = mse_sum = 0.0
    with ag.no_grad():
        for x, y in loader:
            out = model(x)
            n = x.shape[0]
            loss_sum += loss_fn(model, out, x, y).item() * n
            total += n
            if classify:
                correct += (out.argmax(1) == y).sum().item()
            if extra_mse:
                mse_sum += F.mse_loss(ag.sigmoid(out), x.reshape(n, -1)).item() * n
    model.train(was_training)
    res = {"loss": loss_sum / total}
    if classify:
        res["acc"] = correct / total
    if extra_mse:
        res["mse"] = mse_sum / total
    return res


# ---- checkpoints ----------------------------------------------------------------------------

def save_checkpoint(path, model, optimizer=None, scheduler=None, **extra) -> None:
    """Save everything needed to resume exactly, atomically (``ag.save``).

    Args:
        path: the file to write (replaced only once the new one is complete).
        model: its ``state_dict()`` is saved.
        optimizer, scheduler: objects with ``state_dict()``, or None.
        **extra: more fields to store (e.g. ``epoch``, ``history``, ``model_name``); values
            ``ag.save`` accepts (tensors, numbers, strings, lists, dicts, None).
    """
    reserved = (set(_CKPT_FIELDS) | {"optimizer_class", "scheduler_class"}) & set(extra)
    if reserved:
        raise TypeError(f"save_checkpoint: {', '.join(sorted(reserved))} cannot be extra fields")
    ag.save({
        "format": CKPT_FORMAT, **extra,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "rng": ag.get_rng_state(),
        # to refuse, on resume, a state written by another kind of optimizer or scheduler
        "optimizer_class": type(optimizer).__name__ if optimizer is not None else None,
        "scheduler_class": type(scheduler).__name__ if scheduler is not None else None,
    }, path)


def read_checkpoint(path, map_location=None) -> dict:
    """Read and check a checkpoint written by ``save_checkpoint``, restoring nothing.

    Args:
        path: the checkpoint file.
        map_location: the device for its tensors (as in ``ag.load``).

    Returns:
        The checkpoint's dict.

    Raises:
        CheckpointError: the file is missing, unreadable, corrupt, truncated or not a
            checkpoint.
    """
    if not os.path.exists(path):
        raise CheckpointError(path, "no such file")
    if os.path.isdir(path):
        raise CheckpointError(path, "is a directory, not a checkpoint file")
    try:
        ck = ag.load(path, map_location=map_location)
    # ag.load reports bad files as RuntimeError (or a subclass); the OS and the decoders may
    # raise their own errors first.
    except (RuntimeError, OSError, ValueError, EOFError, MemoryError) as e:
        raise CheckpointError(path, f"cannot be read: {_LOAD_PREFIX.sub('', str(e))}") from e
    if not isinstance(ck, dict) or ck.get("format") != CKPT_FORMAT:
        raise CheckpointError(path, "is not a training checkpoint (an ag.save file without "
                                    f"format {CKPT_FORMAT!r})")
    missing = [k for k in _CKPT_FIELDS if k not in ck]
    if missing:
        raise CheckpointError(path, f"is incomplete: no {', '.join(missing)}")
    return ck


def load_checkpoint(path, model, optimizer=None, scheduler=None, *, map_location=None,
                    model_name: str | None = None, restore_rng: bool = True) -> dict:
    """Restore a checkpoint written by ``save_checkpoint``.

    Args:
        path: the checkpoint file.
        model: receives the saved ``state_dict`` (strictly: same keys and shapes).
        optimizer, scheduler: receive their saved state when given (and saved).
        map_location: the device for the loaded tensors (as in ``ag.load``).
        model_name: when given, the checkpoint's ``model_name`` field must equal it.
        restore_rng: also restore the package RNG state (needed for an exact resume).

    Returns:
        The checkpoint's dict (its extra fields: ``epoch``, ``history``...).

    Raises:
        CheckpointError: the file is missing, unreadable or not a checkpoint, or its state
            does not fit the model, optimizer or scheduler.
    """
    ck = read_checkpoint(path, map_location)
    if model_name is not None and ck.get("model_name") != model_name:
        raise CheckpointError(path, f"holds a {ck.get('model_name')!r} model, not "
                                    f"{model_name!r}")
    try:
        model.load_state_dict(ck["model"])
    except (RuntimeError, KeyError, ValueError, TypeError, AttributeError) as e:
        raise CheckpointError(path, f"does not fit the model: {e}") from e
    parts = [("optimizer", optimizer), ("scheduler", scheduler)]
    for field, obj in parts:
        if obj is None or ck[field] is None:
            continue
        saved = ck.get(f"{field}_class")  # absent in checkpoints of the first version
        if saved is not None and saved != type(obj).__name__:
            raise CheckpointError(path, f"holds {field} state of type {saved}, not "
                                        f"{type(obj).__name__}")
        try:
            obj.load_state_dict(ck[field])
        except (RuntimeError, KeyError, ValueError, TypeError, AttributeError,
                IndexError) as e:
            raise CheckpointError(path, f"does not fit the {field}: {e}") from e
    if restore_rng:
        try:
            ag.set_rng_state(ck["rng"])
        except (RuntimeError, KeyError, ValueError, TypeError) as e:
            raise CheckpointError(path, f"holds an unusable RNG state: {e}") from e
    return ck
