"""Optimizers with PyTorch's update rules, and learning-rate schedulers.

Example:
    >>> import optim
    >>> opt = optim.AdamW(model.parameters(), lr=1e-3)
    >>> sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
"""

import autograd as _autograd

if not getattr(_autograd, "_AUTOGRAD_NUMPY", False):  # pragma: no cover - environment check
    raise ImportError(
        f"optim needs this project's autograd package, but `import autograd` found another "
        f"one at {getattr(_autograd, '__file__', '?')} (the PyPI package 'autograd' by HIPS "
        "installs the same top-level name). Fix: `pip uninstall autograd`, then reinstall "
        "this project (`pip install -e .`), or run from its checkout."
    )

from . import lr_scheduler  # noqa: E402
from .adadelta import Adadelta  # noqa: E402
from .adagrad import Adagrad  # noqa: E402
from .adam import Adam, AdamW  # noqa: E402
from .lamb import LAMB, Lamb  # noqa: E402
from .optimizer import Optimizer  # noqa: E402
from .rmsprop import RMSprop  # noqa: E402
from .sgd import SGD  # noqa: E402

__all__ = ["LAMB", "SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Lamb", "Optimizer", "RMSprop",
           "lr_scheduler"]
