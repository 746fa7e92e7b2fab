"""``nn.utils.init``: ``skip_init``, a module whose parameter values are left unspecified
(PyTorch's)."""

from __future__ import annotations

import inspect

from ..modules.module import Module

__all__ = ["skip_init"]


def skip_init(module_cls, *args, **kwargs):
    """An instance of ``module_cls(*args, **kwargs)`` whose parameters and buffers hold
    unspecified values (PyTorch leaves them uninitialised; here they hold whatever the
    constructor drew), on ``device`` (default CPU). The class must take a ``device``
    argument.

    Example:
        >>> m = nn.utils.skip_init(nn.Linear, 5, 1)
        >>> nn.init.orthogonal_(m.weight)  # initialise it yourself
    """
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    kwargs["device"] = kwargs.pop("device", "cpu")
    return module_cls(*args, **kwargs)
