"""autograd: a reverse-mode automatic differentiation engine on NumPy (CPU) and CuPy (GPU)
with PyTorch's tensor API.

    >>> import autograd as ag
    >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4.])
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys


def _short_blas_spin() -> bool:
    """OpenBLAS's idle threads spin for 2**28 cycles (about 0.1 s) after every multi-threaded
    call before they sleep, holding the other cores all that time: the engine's own threads
    (``parallel.parallel_groups``, numba's kernels) then share a core with a spinner and run
    at half speed (the cnn-bn step on 2 threads: 170 ms instead of 120). OpenBLAS reads
    ``OPENBLAS_THREAD_TIMEOUT`` (2**N cycles) once, when NumPy loads it; when this package is
    imported first and the user has not set it, ask for 2**20 cycles (about 0.3 ms: a run of
    back-to-back BLAS calls, an LSTM's steps, still finds its threads awake). The variable is
    removed again once NumPy is loaded, so nothing else sees it. When NumPy was imported
    first, ``parallel.shorten_blas_spin`` does the same through OpenBLAS's own calls."""
    if "numpy" in sys.modules or "OPENBLAS_THREAD_TIMEOUT" in os.environ:
        return False
    os.environ["OPENBLAS_THREAD_TIMEOUT"] = "20"
    return True


_numpy_first = "numpy" in sys.modules and "OPENBLAS_THREAD_TIMEOUT" not in os.environ
if _short_blas_spin():
    import numpy  # noqa: F401 - loads OpenBLAS, which reads the variable now
    del os.environ["OPENBLAS_THREAD_TIMEOUT"]

from . import cuda  # noqa: F401
from . import viz  # noqa: F401
from . import functional  # noqa: F401
from .backend import Device
from .backend import Device as device
from .dtypes import (  # noqa: F401
    bool_,
    can_cast,
    cdouble,
    cfloat,
    complex64,
    complex128,
    double,
    finfo,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    iinfo,
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    result_type,
    set_default_dtype,
    short,
    uint8,
    uint16,
    uint32,
    uint64,
    layout,
    memory_format,
    strided,
    contiguous_format,
    channels_last,
    channels_last_3d,
    preserve_format,
)
from . import dtypes as _dtypes
from .engine import backward as _backward_fn  # noqa: F401
from .engine import grad
from .function import Function, once_differentiable
from .gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: F401
from ._tensor_str import get_printoptions, set_printoptions
from .engine import gc_relaxed
from .parallel import (  # noqa: F401
    get_num_interop_threads,
    get_num_threads,
    set_num_interop_threads,
    set_num_threads,
)
if _numpy_first:  # NumPy loaded OpenBLAS with its long spin: shorten it now
    from .parallel import shorten_blas_spin as _shorten

    _shorten()
from .grad_mode import (
    detect_anomaly,
    is_inference_mode_enabled,
    enable_grad,
    inference_mode,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    set_detect_anomaly,
    set_grad_enabled,
)
from . import registry as _registry
from .ops import methods as _methods  # noqa: F401  (binds the ops to Tensor)
from .random import (  # noqa: F401
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
    thread_safe_generator,
)
from .tensor import (  # noqa: F401
    Parameter,
    Size,
    Tensor,
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_dlpack,
    from_numpy,
    full,
    full_like,
    is_tensor,
    linspace,
    logspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    to_dlpack,
    zeros,
    zeros_like,
)

from .serialization import CheckpointError, load, load_safetensors, save, save_safetensors  # noqa: F401,E501

bool = bool_  # noqa: A001  (ag.bool, like torch.bool)

# PyTorch's constants: torch.pi, torch.e, torch.inf, torch.nan (Python floats) and
# torch.newaxis (None, for indexing)
from math import e, inf, nan, pi  # noqa: E402,F401

newaxis = None

from .version import __version__  # noqa: E402
_AUTOGRAD_NUMPY = True  # tells nn/optim this is our autograd, not the PyPI package HIPS autograd

# PyTorch's namespaces, for programs written as `import autograd as torch`
from . import accelerator, autograd, backends, return_types, utils  # noqa: E402,F401
# issue 15: forward-mode AD, function transforms (torch.func), the graph API (torch.autograd.graph)
from . import forward_ad, func, graph  # noqa: E402,F401
from . import amp  # noqa: E402,F401
from .amp import autocast  # noqa: E402,F401
# global switches and queries (torch.use_deterministic_algorithms, torch.set_default_device...)
from .settings import (  # noqa: E402,F401
    are_deterministic_algorithms_enabled,
    clear_autocast_cache,
    compile,
    cond,
    get_autocast_cpu_dtype,
    get_autocast_gpu_dtype,
    get_default_device,
    get_deterministic_debug_mode,
    get_float32_matmul_precision,
    is_anomaly_check_nan_enabled,
    is_autocast_cache_enabled,
    is_autocast_cpu_enabled,
    is_deterministic_algorithms_warn_only_enabled,
    is_warn_always_enabled,
    set_anomaly_enabled,
    set_autocast_cache_enabled,
    set_autocast_cpu_dtype,
    set_autocast_cpu_enabled,
    set_autocast_dtype,
    set_autocast_enabled,
    set_autocast_gpu_dtype,
    set_default_device,
    set_default_tensor_type,
    set_deterministic_debug_mode,
    set_float32_matmul_precision,
    set_flush_denormal,
    set_warn_always,
    from_file,
    get_device_module,
    init_num_threads,
    is_distributed,
    typename,
    use_deterministic_algorithms,
    while_loop,
)
from .amp import get_autocast_dtype, is_autocast_enabled  # noqa: E402,F401
from .func import vmap  # noqa: E402,F401
# torch.linalg and torch.special
from . import cpu, fft, jit, linalg, special, testing, version  # noqa: E402,F401
from .tensor_types import (  # noqa: E402,F401
    BFloat16Tensor,
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
)
# torch.distributions
from . import distributions  # noqa: E402,F401

from .dtypes import dtype  # noqa: E402,F401  (isinstance(t.dtype, ag.dtype) holds)


def __getattr__(name):
    """Names that live above this package, looked up on first use (PEP 562), which keeps
    ``import autograd`` free of ``nn``:

    * ``autograd.nn`` and ``autograd.optim`` are the top-level ``nn`` and ``optim`` packages
      (the same module objects);
    * PyTorch's top-level forms of neural-network functions (``torch.conv2d``,
      ``torch.dropout(input, p, train)``, ``torch.lstm_cell``...) come from
      ``nn/functional/_torch_names.py``, with PyTorch's signatures of the ``torch.`` forms.
    """
    if name in ("nn", "optim"):
        return importlib.import_module(name)
    if name == "bfloat16":  # ml_dtypes' bfloat16: about a second to import, so on first use
        return _dtypes.dtype.of(_dtypes.bfloat16_dtype())
    if name == "int":  # torch.int is int32 (not bound here: it would hide the builtin)
        return _dtypes.int32
    # (a submodule not imported yet, `from autograd import fused`, is not looked up there)
    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is None:
        fn = _torch_names().get(name)
        if fn is not None:
            return fn
    raise AttributeError(f"module 'autograd' has no attribute {name!r}")


def _torch_names() -> dict:
    """``nn.functional._torch_names.TORCH_FUNCTIONS``, or {} while ``nn`` is being imported
    (a lookup then must not import it a second time) or when it is not importable."""
    mod = sys.modules.get("nn.functional")
    if mod is not None and getattr(getattr(mod, "__spec__", None), "_initializing", False):
        return {}
    try:
        return importlib.import_module("nn.functional._torch_names").TORCH_FUNCTIONS
    except ModuleNotFoundError:  # pragma: no cover - autograd installed without nn
        return {}


def __dir__():
    return sorted(set(globals()) | {"nn", "optim", "bfloat16"} | set(_torch_names()))


_ = (Device, device)

# the op namespace (ag.exp, ag.arcsin, ag.cat...): every op registered in autograd.registry
globals().update(_registry.namespace())
# PyTorch's in-place function forms of the ops that have one (torch.abs_(t), torch.exp_(t))
globals().update({k + "_": getattr(Tensor, k + "_") for info in _registry.ops()
                  if info.inplace and info.function for k in info.names})
