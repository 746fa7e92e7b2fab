"""Neural-network layers, losses and initialisation on top of ``autograd``."""

from autograd.tensor import Parameter

from . import functional, init
from .modules import *  # noqa: F403
from .modules import __all__ as _mods

__all__ = ["Parameter", "functional", "init", *_mods]
