"""Neural-network layers, losses and initialisation on top of ``autograd``."""

from autograd.tensor import Parameter

from . import functional, init, parallel, utils
from .modules import *  # noqa: F403
from .modules import __all__ as _mods
from .summary import summary

__all__ = ["Parameter", "functional", "init", "parallel", "summary", "utils", *_mods]
