"""``GradScaler``: dynamic loss scaling for float16 training (PyTorch's semantics).

The scale and the growth tracker live on the device of the first scaled tensor (CuPy arrays
on "cuda"), and the inf/NaN checks and the scale update are device arrays too: the only
device->host copy is the one per ``step()`` that decides whether to run the optimizer
(as in PyTorch).
"""

from __future__ import annotations

import enum
import warnings

import numpy as np

from .. import backend
from ..backend import get_array_module
from ..grad_mode import no_grad
from ..tensor import Tensor, _make


class OptState(enum.Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _refresh():
    return {"stage": OptState.READY, "found_inf_per_device": {}}


class GradScaler:
    """``torch.amp.GradScaler``: ``scale(loss).backward()``, optionally ``unscale_(opt)``
    (e.g. before gradient clipping), ``step(opt)`` (skipped when a gradient holds inf/NaN),
    ``update()`` (backs the scale off after a skipped step, grows it after
    ``growth_interval`` clean ones).

    Example:
        >>> scaler = GradScaler("cuda")
        >>> with ag.autocast("cuda"):
        ...     loss = loss_fn(model(x), y)
        >>> scaler.scale(loss).backward()
        >>> scaler.unscale_(opt); nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        >>> scaler.step(opt); scaler.update()
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0**16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True):
        self._device = str(device)
        if enabled and self._device.startswith("cuda") and not backend.cupy_available():
            warnings.warn("GradScaler is enabled, but CUDA is not available. Disabling.",
                          stacklevel=2)
            enabled = False
        self._enabled = bool(enabled)
        if self._enabled:
            if growth_factor <= 1.0:
                raise ValueError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise ValueError("The backoff factor must be < 1.0.")
        self._init_scale = float(init_scale)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._init_growth_tracker = 0
        self._scale = None  # 0-d float32 array, created on the first scaled tensor's device
        self._growth_tracker = None  # 0-d int32 array
        self._per_optimizer_states: dict = {}

    # ---- the scale ---------------------------------------------------------------------
    def _lazy_init(self, like):
        xp = get_array_module(like)
        self._scale = xp.full((), self._init_scale, dtype=np.float32)
        self._growth_tracker = xp.full((), self._init_growth_tracker, dtype=np.int32)

    def _opt_state(self, optimizer):
        return self._per_optimizer_states.setdefault(id(optimizer), _refresh())

    def scale(self, outputs):
        """``outputs`` (a tensor, or a list/tuple of them) multiplied by the scale."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            if self._scale is None:
                self._lazy_init(outputs._data)
            s = self._scale
            if get_array_module(s) is not get_array_module(outputs._data):
                s = backend.to_device(s, outputs.device)
            return outputs * _make(s)
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        raise ValueError("outputs must be a Tensor or an iterable of Tensors")

    def unscale_(self, optimizer) -> None:
        """Divide ``optimizer``'s gradients by the scale in place and record whether any
        holds inf/NaN (at most once per optimizer between ``update()`` calls)."""
        if not self._enabled:
            return
        st = self._opt_state(optimizer)
        if st["stage"] is OptState.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since "
                               "the last update().")
        if st["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        found = {}
        with no_grad():
            for group in optimizer.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g = p.grad._data
                    if self._scale is None:
                        self._lazy_init(g)
                    xp = get_array_module(g)
                    dev = str(p.grad.device)
                    inv = self._inv_scale(xp, p.grad.device)
                    bad = ~xp.isfinite(g).all()
                    found[dev] = bad if dev not in found else (found[dev] | bad)
                    p.grad._data = (g * inv).astype(g.dtype, copy=False)
                    p.grad._vc[0] += 1
        if not found and self._scale is not None:
            found[str(backend.device_of(self._scale))] = \
                get_array_module(self._scale).zeros((), dtype=bool)
        st["found_inf_per_device"] = found
        st["stage"] = OptState.UNSCALED

    def _inv_scale(self, xp, device):
        s = self._scale
        if get_array_module(s) is not xp:
            s = backend.to_device(s, device)
        return (1.0 / s.astype(np.float64)).astype(np.float32)

    def step(self, optimizer, *args, **kwargs):
        """Unscale (unless done) and run ``optimizer.step()`` unless a gradient held
        inf/NaN; returns the step's value (None when skipped)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is "
                               "enabled.")
        st = self._opt_state(optimizer)
        if st["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if st["stage"] is OptState.READY:
            self.unscale_(optimizer)
        if not st["found_inf_per_device"]:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        retval = None
        if not sum(bool(v) for v in st["found_inf_per_device"].values()):  # one sync
            retval = optimizer.step(*args, **kwargs)
        st["stage"] = OptState.STEPPED
        return retval

    def update(self, new_scale=None) -> None:
        """Set the scale for the next iteration: ``new_scale`` if given, else back off after
        an inf/NaN, grow after ``growth_interval`` clean steps (on the device: no sync)."""
        if not self._enabled:
            return
        if self._scale is None:
            self._per_optimizer_states = {}
            return
        xp = get_array_module(self._scale)
        if new_scale is not None:
            v = new_scale._data if isinstance(new_scale, Tensor) else new_scale
            if isinstance(v, (int, float)):
                self._scale = xp.full((), v, dtype=np.float32)
            else:
                self._scale = backend.to_device(v, backend.device_of(self._scale)).astype(
                    np.float32).reshape(())
        else:
            found = [backend.to_device(f, backend.device_of(self._scale))
                     for st in self._per_optimizer_states.values()
                     for f in st["found_inf_per_device"].values()]
            if not found:
                raise AssertionError("No inf checks were recorded prior to update.")
            inf = found[0]
            for f in found[1:]:
                inf = inf | f
            grown = self._growth_tracker + 1
            grow = grown == self._growth_interval
            bigger = self._scale * np.float32(self._growth_factor)
            scale = xp.where(grow & xp.isfinite(bigger), bigger, self._scale)
            self._scale = xp.where(inf, self._scale * np.float32(self._backoff_factor),
                                   scale).astype(np.float32)
            self._growth_tracker = xp.where(inf | grow, 0, grown).astype(np.int32)
        self._per_optimizer_states = {}

    # ---- queries and state ---------------------------------------------------------------
    def get_scale(self) -> float:
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else float(self._scale)

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = int(new_interval)

    def _get_growth_tracker(self) -> int:
        if not self._enabled:
            return 0
        g = self._growth_tracker
        return self._init_growth_tracker if g is None else int(g)

    def is_enabled(self) -> bool:
        return self._enabled

    def state_dict(self) -> dict:
        """The scaler's state (empty when disabled), as PyTorch's."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker()}

    def load_state_dict(self, state_dict: dict) -> None:
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._init_scale = float(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._init_growth_tracker = int(state_dict["_growth_tracker"])
        if self._scale is not None:
            xp = get_array_module(self._scale)
            self._scale = xp.full((), self._init_scale, dtype=np.float32)
            self._growth_tracker = xp.full((), self._init_growth_tracker, dtype=np.int32)
