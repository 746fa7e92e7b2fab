"""Seeded random number generation shared by creation functions, dropout and DataLoader."""

from __future__ import annotations

import os

import numpy as np

from . import backend


class Generator:
    """A seeded generator (PyTorch's ``torch.Generator``) wrapping NumPy's PCG64."""

    def __init__(self, device="cpu"):
        self.device = device
        self._np = np.random.default_rng()
        self._cp = None
        self._seed = None

    def manual_seed(self, seed: int) -> Generator:
        self._seed = int(seed)
        self._np = np.random.default_rng(self._seed)
        self._cp = None
        return self

    def initial_seed(self) -> int | None:
        return self._seed

    def get_state(self):
        return self._np.bit_generator.state

    def set_state(self, st) -> None:
        self._np.bit_generator.state = st

    def _cupy(self):
        if self._cp is None:
            cp = backend.require_cupy()
            seed = int(self._np.integers(0, 2**63 - 1))
            self._cp = cp.random.RandomState(seed)
        return self._cp


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed every random number generator of the package (CPU and GPU)."""
    default_generator.manual_seed(seed)
    return default_generator


def seed() -> int:
    """Seed the generators from a non-deterministic source; return that seed (PyTorch's
    ``torch.seed()``)."""
    s = int.from_bytes(os.urandom(8), "little") & ((1 << 63) - 1)
    manual_seed(s)
    return s


def initial_seed() -> int | None:
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(st) -> None:
    default_generator.set_state(st)


def _gen_for(xp, generator=None):
    g = generator or default_generator
    return g._np if xp is np else g._cupy()


def thread_safe_generator():
    """The generator random transforms should use inside a DataLoader worker thread. This
    engine's workers are processes (each seeded, with its own global generator), so it is
    always None, as PyTorch returns in the main process and in process workers: pass it as
    ``generator=`` and the global generator is used."""
    return None
