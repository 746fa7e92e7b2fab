"""``autograd.utils.data``: the same objects as ``autograd.data`` (PyTorch's
``torch.utils.data``): datasets, samplers, ``DataLoader``, ``default_collate``."""

from ...data import *  # noqa: F401,F403
from ...data import __all__  # noqa: F401
