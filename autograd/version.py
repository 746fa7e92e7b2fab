"""``autograd.version``: PyTorch's ``torch.version`` module, which scripts print to report
their environment (``torch.version.cuda``, ``torch.version.hip``, ``torch.version.debug``).

``cuda`` is the CUDA runtime version CuPy runs on (e.g. ``"12.4"``), or None without a usable
GPU (as a CPU-only PyTorch build's); ``hip``, ``rocm`` and ``xpu`` are None (no such
backends); ``git_version`` is None (not built from a recorded commit)."""

from __future__ import annotations

from . import backend

__version__ = "0.1.0"  # the package's version (``autograd.__version__`` is this one)

__all__ = ["__version__", "debug", "git_version", "hip", "rocm", "xpu"]  # and ``cuda``
debug = False
git_version = None
hip = None
rocm = None
xpu = None


def __getattr__(name):  # ``cuda``: asks CuPy on first use, so importing stays cheap (PEP 562)
    if name == "cuda":
        cp = backend._import_cupy()
        if cp is None:
            return None
        v = cp.cuda.runtime.runtimeGetVersion()  # e.g. 12040
        return f"{v // 1000}.{v % 1000 // 10}"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
