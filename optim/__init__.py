"""Optimizers with PyTorch's update rules, and learning-rate schedulers.

Example:
    >>> import optim
    >>> opt = optim.AdamW(model.parameters(), lr=1e-3)
    >>> sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
"""

import importlib as _importlib

import autograd as _autograd

if not getattr(_autograd, "_AUTOGRAD_NUMPY", False):  # pragma: no cover - environment check
    raise ImportError(
        f"optim needs this project's autograd package, but `import autograd` found another "
        f"one at {getattr(_autograd, '__file__', '?')} (the PyPI package 'autograd' by HIPS "
        "installs the same top-level name). Fix: `pip uninstall autograd`, then reinstall "
        "this project (`pip install -e .`), or run from its checkout."
    )

from . import lr_scheduler, optimizer  # noqa: E402
from .adadelta import Adadelta  # noqa: E402
from .adafactor import Adafactor  # noqa: E402
from .adagrad import Adagrad  # noqa: E402
from .adam import Adam, AdamW  # noqa: E402
from .adamax import Adamax  # noqa: E402
from .asgd import ASGD  # noqa: E402
from .lamb import LAMB, Lamb  # noqa: E402
from .lbfgs import LBFGS  # noqa: E402
from .muon import Muon  # noqa: E402
from .nadam import NAdam  # noqa: E402
from .optimizer import Optimizer  # noqa: E402
from .radam import RAdam  # noqa: E402
from .rmsprop import RMSprop  # noqa: E402
from .rprop import Rprop  # noqa: E402
from .sgd import SGD  # noqa: E402

# SparseAdam is left out on purpose: PyTorch's requires sparse gradients, and this engine has no
# sparse layout (dense gradients would make it plain Adam with lazily updated moments).
__all__ = ["ASGD", "LAMB", "LBFGS", "SGD", "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW",
           "Adamax", "Lamb", "Muon", "NAdam", "Optimizer", "RAdam", "RMSprop", "Rprop",
           "lr_scheduler", "optimizer", "swa_utils"]


def __getattr__(name):
    """``optim.swa_utils`` (as ``torch.optim.swa_utils``) is loaded on first use (PEP 562):
    it builds on ``nn``, which ``import optim`` itself does not load."""
    if name == "swa_utils":
        return _importlib.import_module(f"{__name__}.swa_utils")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
