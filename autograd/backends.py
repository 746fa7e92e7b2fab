"""``autograd.backends``: PyTorch's ``torch.backends`` settings objects.

PyTorch programs set these flags (``torch.backends.cudnn.benchmark = True``...). They are real
settings here: reading returns what was set, and they are per process as in PyTorch. Where a
flag has no effect on this backend, its docstring says so.
"""

from __future__ import annotations

from contextlib import contextmanager

from . import backend


class _Flags:
    """A group of settings: attribute reads and writes, and ``flags(...)`` for a block."""

    _doc: dict = {}

    def __init__(self, **defaults):
        object.__setattr__(self, "_values", dict(defaults))

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no setting {name!r}") from None

    def __setattr__(self, name, value):
        if name not in self._values:
            raise AttributeError(
                f"{type(self).__name__} has no setting {name!r}; settings: "
                f"{sorted(self._values)}"
            )
        self._values[name] = value

    @contextmanager
    def flags(self, **kw):
        """Set some settings for the duration of a block."""
        old = {k: getattr(self, k) for k in kw}
        for k, v in kw.items():
            setattr(self, k, v)
        try:
            yield
        finally:
            for k, v in old.items():
                setattr(self, k, v)


class _Cudnn(_Flags):
    """``cudnn.enabled``, ``benchmark``, ``deterministic``, ``allow_tf32``: accepted and kept.
    No effect here: this engine's convolutions are GEMMs (NumPy/CuPy), not cuDNN calls,
    and are deterministic on the CPU."""

    def is_available(self) -> bool:
        """False: convolutions do not go through cuDNN in this engine."""
        return False

    def version(self):
        return None


class _Matmul(_Flags):
    """``allow_tf32``, ``allow_fp16_reduced_precision_reduction``: accepted and kept. No
    effect: CuPy's GEMMs follow CuPy's own settings (``CUPY_TF32``)."""


class _Cuda:
    """``backends.cuda``: ``matmul`` flags and ``is_built()``."""

    def __init__(self):
        self.matmul = _Matmul(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                              allow_bf16_reduced_precision_reduction=True)

    def is_built(self) -> bool:
        """True when CuPy is installed (this engine's CUDA support)."""
        return backend.cupy_available()


class _Mps:
    def is_available(self) -> bool:
        """False: Apple's MPS is not a backend of this engine."""
        return False

    def is_built(self) -> bool:
        return False


cudnn = _Cudnn(enabled=True, benchmark=False, deterministic=False, allow_tf32=True)
cuda = _Cuda()
mps = _Mps()
