"""Neural-network layers, losses and initialisation on top of ``autograd``."""

import autograd as _autograd

if not getattr(_autograd, "_AUTOGRAD_NUMPY", False):  # pragma: no cover - environment check
    raise ImportError(
        f"nn needs this project's autograd package, but `import autograd` found another "
        f"one at {getattr(_autograd, '__file__', '?')} (the PyPI package 'autograd' by HIPS "
        "installs the same top-level name). Fix: `pip uninstall autograd`, then reinstall "
        "this project (`pip install -e .`), or run from its checkout."
    )

from autograd.tensor import Parameter  # noqa: E402

from . import functional, init, parallel, parameter, utils  # noqa: E402
from .modules import *  # noqa: E402,F403
from .modules import __all__ as _mods  # noqa: E402
from .summary import summary  # noqa: E402

__all__ = ["Parameter", "functional", "init", "parallel", "parameter", "summary", "utils",
           *_mods]
