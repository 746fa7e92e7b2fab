"""autograd: a reverse-mode automatic differentiation engine on NumPy (CPU) and CuPy (GPU)
with PyTorch's tensor API.

    >>> import autograd as ag
    >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4.])
"""

from __future__ import annotations

import gc as _gc
import os as _os

# Graphs are acyclic by construction (a node never references its outputs), so reference
# counting frees them the moment the loss is dropped; Python's cyclic collector finds nothing
# in them, yet with its default first threshold (700 allocations) it re-scans every live node
# over and over while a long graph is being built: a quarter of the time of a 100,000-op
# chain. So the first threshold is raised once, here. Set AUTOGRAD_KEEP_GC=1 to keep
# Python's default.
if not _os.environ.get("AUTOGRAD_KEEP_GC"):
    _t0, _t1, _t2 = _gc.get_threshold()
    if 0 < _t0 < 100_000:
        _gc.set_threshold(100_000, _t1, _t2)

from . import cuda  # noqa: F401
from . import viz  # noqa: F401
from . import functional  # noqa: F401
from .backend import Device
from .backend import Device as device
from .dtypes import (  # noqa: F401
    bool_,
    double,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    short,
    uint8,
)
from .engine import backward as _backward_fn  # noqa: F401
from .engine import grad
from .function import Function, once_differentiable
from .gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: F401
from .engine import gc_relaxed
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
from .ops import methods as _methods  # noqa: F401  (binds operators to Tensor)
from .ops.elementwise import (  # noqa: F401
    abs,
    absolute,
    add,
    allclose,
    bitwise_not,
    cast,
    ceil,
    clamp,
    clip,
    clone,
    cos,
    div,
    divide,
    eq,
    equal,
    erf,
    exp,
    expm1,
    floor,
    floor_divide,
    fmod,
    ge,
    greater,
    greater_equal,
    gt,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
    less,
    less_equal,
    log,
    log1p,
    log2,
    log10,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    maximum,
    minimum,
    mul,
    multiply,
    ne,
    neg,
    negative,
    not_equal,
    pow,
    reciprocal,
    relu,
    remainder,
    round,
    rsqrt,
    sigmoid,
    sign,
    sin,
    sqrt,
    square,
    sub,
    subtract,
    tan,
    tanh,
    true_divide,
    trunc,
    where,
)
from .ops.indexing import (  # noqa: F401
    argsort,
    argwhere,
    gather,
    index_select,
    masked_fill,
    nonzero,
    scatter,
    scatter_add,
    sort,
    take_along_dim,
    topk,
    tril,
    triu,
)
from .ops.linalg import bmm, dot, einsum, ger, inner, matmul, mm, mv, outer  # noqa: F401
from .ops.reduction import (  # noqa: F401
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    cumprod,
    cumsum,
    kthvalue,
    logsumexp,
    max,
    mean,
    median,
    min,
    norm,
    prod,
    std,
    std_mean,
    sum,
    var,
    var_mean,
)
from .ops.shape import (  # noqa: F401
    broadcast_shapes,
    broadcast_tensors,
    broadcast_to,
    cat,
    chunk,
    concat,
    concatenate,
    expand,
    flatten,
    flip,
    fliplr,
    flipud,
    hstack,
    movedim,
    moveaxis,
    pad,
    permute,
    repeat,
    reshape,
    roll,
    split,
    squeeze,
    stack,
    sum_to,
    swapaxes,
    swapdims,
    t,
    tile,
    transpose,
    unbind,
    unflatten,
    unsqueeze,
    view,
    vstack,
)
from .random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .tensor import (  # noqa: F401
    Parameter,
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

from .serialization import load, save, load_safetensors, save_safetensors  # noqa: F401

bool = bool_  # noqa: A001  (ag.bool, like torch.bool)

__version__ = "0.1.0"

_ = (Device, device)
