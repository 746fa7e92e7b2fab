"""``autocast``: mixed precision with PyTorch's per-op policy.

Inside ``with autocast("cuda"):`` every op that PyTorch runs in lower
precision (matmul, mm/bmm, einsum, linear, conv, conv-transpose) casts its float32 inputs on
that device to the autocast dtype, and every op PyTorch runs in float32 (sum, mean, prod, var,
cumsum/cumprod, logsumexp, norms, softmax, log_softmax, cross-entropy and the BCE losses,
exp/log and their relatives, softplus, rsqrt, reciprocal, tan, asin, acos) casts its float16
inputs up to float32. Binary element-wise ops take the widest input type (their normal
promotion). On the CPU (``autocast("cpu")``) PyTorch's CPU lists apply: matmul, linear and
conv in the lower precision, and only cross-entropy, the BCE losses and prod forced to float32
(softmax, sums and exp stay in the lower precision there, as in PyTorch). float64 tensors
are never cast (as in PyTorch). The casts are recorded ops, so gradients flow back to
float32 parameters in float32.

How: ``grad_mode.state.autocast`` (per thread) holds a policy object that ``Op.apply`` calls
with the op class and its arguments before running it; outside a region it is None and
costs one attribute read per op.

bfloat16: NumPy and CuPy have no bfloat16 arithmetic (ml_dtypes gives NumPy a storage type
without BLAS, and CuPy cannot hold it), so bfloat16 autocast is emulated: the inputs of a
lower-precision op are rounded to bfloat16 (round-to-nearest-even, as ml_dtypes and the
hardware do) and kept in float32 storage, as a bfloat16 tensor core reads bfloat16 and
accumulates in float32. Results therefore report dtype float32 under bfloat16 autocast.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

from ..backend import get_array_module
from ..forward_ad import jvp_rule
from ..function import Op
from ..grad_mode import state
from ..ops.elementwise import cast
from ..tensor import Tensor


def _bfloat16():
    """ml_dtypes' bfloat16 dtype (the bf16 extra; imported on first use: it is slow to
    import), or the name "bfloat16" without it (the emulation needs no ml_dtypes)."""
    try:
        import ml_dtypes  # noqa: PLC0415 - optional, and only when bfloat16 is asked for

        return np.dtype(ml_dtypes.bfloat16)
    except ImportError:  # pragma: no cover
        return "bfloat16"


def __getattr__(name):  # ``bfloat16``, resolved lazily (PEP 562)
    if name == "bfloat16":
        return _bfloat16()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

float16 = np.dtype("float16")
float32 = np.dtype("float32")

# PyTorch's autocast op lists, by our op class names (autocast_mode.cpp's lower_precision_fp
# and fp32 lists)
LOWER_PRECISION_OPS = frozenset({"MatMul", "Einsum", "Linear", "Conv2dOp",
                                 "ConvTranspose2dOp"})
FP32_OPS = frozenset({
    "Sum", "Mean", "Prod", "Var", "Cumsum", "Cumprod", "LogSumExp", "Norm", "Normalize",
    "Softmax", "LogSoftmax", "CrossEntropy", "BCEWithLogits", "BinaryCrossEntropy",
    "Exp", "Expm1", "Log", "Log2", "Log10", "Log1p", "Reciprocal", "Rsqrt", "Tan", "Asin",
    "Acos", "Softplus",
})
_DEFAULT = {"cuda": float16, "cpu": "bfloat16"}
# the CPU lists are shorter (PyTorch's CPU autocast keeps softmax, sums, exp... in the lower
# precision; only these losses and prod run in float32)
CPU_LOWER_PRECISION_OPS = frozenset({"MatMul", "Linear", "Conv2dOp", "ConvTranspose2dOp"})
CPU_FP32_OPS = frozenset({"Prod", "CrossEntropy", "BCEWithLogits", "BinaryCrossEntropy"})
_LISTS = {"cuda": (LOWER_PRECISION_OPS, FP32_OPS), "cpu": (CPU_LOWER_PRECISION_OPS, CPU_FP32_OPS)}


def _is_bf16(dtype) -> bool:
    if isinstance(dtype, str):
        return dtype == "bfloat16"
    return "bfloat16" in (getattr(dtype, "name", None), getattr(dtype, "__name__", None))


def round_to_bfloat16(x):
    """A float32 array rounded to the nearest bfloat16 value (ties to even), still float32;
    NaN stays NaN. Bit arithmetic, so it runs the same on NumPy and CuPy arrays."""
    xp = get_array_module(x)
    x = xp.ascontiguousarray(x, dtype=xp.float32)
    u = x.view(xp.uint32)
    r = (u + xp.uint32(0x7FFF) + ((u >> xp.uint32(16)) & xp.uint32(1))) & xp.uint32(0xFFFF0000)
    return xp.where(xp.isnan(x), x, r.view(xp.float32))


class RoundBFloat16(Op):
    """Round to bfloat16 precision (float32 storage); the gradient is rounded likewise (a
    bfloat16 op's gradient is bfloat16)."""

    @staticmethod
    def forward(ctx, x):
        return round_to_bfloat16(x)

    @staticmethod
    def backward(ctx, gy):
        return gy if isinstance(gy, Tensor) else round_to_bfloat16(gy)


@jvp_rule("RoundBFloat16")
def _round_bfloat16_jvp(cls, ctx, primals, tangents, outputs, kwargs):
    """Forward mode, as backward: the tangent rounded to bfloat16 (straight through)."""
    return round_to_bfloat16(tangents[0])


_ANY = LOWER_PRECISION_OPS | FP32_OPS | CPU_LOWER_PRECISION_OPS | CPU_FP32_OPS


class _Policy:
    """The per-thread cast hook: ``dtypes`` maps a device type to its autocast dtype."""

    __slots__ = ("dtypes",)

    def __init__(self, dtypes: dict):
        self.dtypes = dtypes

    def __call__(self, cls, args):
        name = cls.__name__
        if name not in _ANY:
            return args
        out = None
        for i, a in enumerate(args):
            if not isinstance(a, Tensor):
                continue
            dt = a._data.dtype
            if dt.kind not in "fV" or dt.itemsize == 8:
                continue
            dev = "cpu" if a._data.__class__ is np.ndarray else "cuda"
            want = self.dtypes.get(dev)
            if want is None:
                continue
            lower, fp32 = _LISTS[dev]
            if name in lower:
                if _is_bf16(want):
                    new = RoundBFloat16.apply(a if dt == float32 else cast(a, float32))
                elif dt != want:
                    new = cast(a, want)
                else:
                    continue
            elif name in fp32 and dt != float32:
                new = cast(a, float32)
            else:
                continue
            if out is None:
                out = list(args)
            out[i] = new
        return args if out is None else tuple(out)


class autocast:
    """``with autocast(device_type, dtype=None, enabled=True):`` run the block's ops with
    PyTorch's mixed-precision policy (see the module docstring), in this thread; also a
    decorator. ``dtype`` defaults to float16 on "cuda" and bfloat16 on "cpu"; regions nest
    (an inner ``enabled=False`` turns it off for its block).

    Example:
        >>> with ag.autocast("cuda"):
        ...     loss = loss_fn(model(x), y)   # matmul/conv in float16, the loss in float32
        >>> scaler.scale(loss).backward()     # backward outside the region, as in PyTorch
    """

    def __init__(self, device_type: str = "cuda", dtype=None, enabled: bool = True,
                 cache_enabled=None):
        if device_type not in ("cuda", "cpu"):
            raise RuntimeError(f"User specified an unsupported autocast device_type "
                               f"'{device_type}' (expected 'cuda' or 'cpu')")
        self.device = device_type
        if dtype is None:
            dtype = _DEFAULT[device_type]
        if _is_bf16(dtype):
            dtype = _bfloat16()
        else:
            dtype = np.dtype(dtype)
            if dtype != float16:
                warnings.warn(f"In autocast, but the target dtype {dtype} is not supported: "
                              "only float16 and bfloat16. Disabling autocast.", stacklevel=2)
                enabled = False
        self.fast_dtype = dtype
        self._enabled = bool(enabled)
        self._prev = None

    def __enter__(self):
        self._prev = state.autocast
        dtypes = dict(self._prev.dtypes) if self._prev is not None else {}
        if self._enabled:
            dtypes[self.device] = self.fast_dtype
        else:
            dtypes.pop(self.device, None)
        state.autocast = _Policy(dtypes) if dtypes else None
        return self

    def __exit__(self, *exc):
        state.autocast = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with autocast(self.device, self.fast_dtype, self._enabled):
                return fn(*args, **kwargs)

        return wrapper


def is_autocast_enabled(device_type: str = "cuda") -> bool:
    """True inside an enabled autocast region for ``device_type`` (in this thread)."""
    p = state.autocast
    return p is not None and device_type in p.dtypes


def get_autocast_dtype(device_type: str = "cuda"):
    """The dtype autocast uses for ``device_type`` now (its default outside a region)."""
    p = state.autocast
    if p is not None and device_type in p.dtypes:
        return p.dtypes[device_type]
    d = _DEFAULT[device_type]
    return _bfloat16() if _is_bf16(d) else d


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast supports ``device_type``: "cpu" and "cuda" here."""
    return device_type in ("cpu", "cuda")


def _cast_inputs(value, device_type: str, dtype):
    """``value`` with its floating Tensors on ``device_type`` (float64 ones excepted) cast to
    ``dtype``, through lists, tuples and dicts, as PyTorch's ``custom_fwd`` casts inputs."""
    if isinstance(value, Tensor):
        eligible = (value.is_floating_point() and value.device.type == device_type
                    and value.dtype != np.float64)
        return value.to(dtype) if eligible else value
    if isinstance(value, dict):
        return {k: _cast_inputs(v, device_type, dtype) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_inputs(v, device_type, dtype) for v in value)
    return value


def custom_fwd(fwd=None, *, device_type: str, cast_inputs=None):
    """Decorate the ``forward`` of a custom ``autograd.Function`` for autocast, as PyTorch's
    ``torch.amp.custom_fwd``.

    Without ``cast_inputs``, ``forward`` runs under the autocast state it is called in (and
    ``custom_bwd`` gives ``backward`` the same state). With ``cast_inputs=dtype``, inside an
    enabled autocast region ``forward`` runs with autocast off and its floating inputs on
    ``device_type`` cast to ``dtype`` (outside a region it runs as it is).

    Example:
        >>> class MyMM(ag.autograd.Function):
        ...     @staticmethod
        ...     @ag.amp.custom_fwd(device_type="cpu", cast_inputs=ag.float32)
        ...     def forward(ctx, a, b): ...
        ...     @staticmethod
        ...     @ag.amp.custom_bwd(device_type="cpu")
        ...     def backward(ctx, g): ...
    """
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(ctx, *args, **kwargs):
        ctx._autocast_dtype = get_autocast_dtype(device_type)
        enabled = is_autocast_enabled(device_type)
        if cast_inputs is None:
            ctx._fwd_used_autocast = enabled
            return fwd(ctx, *args, **kwargs)
        ctx._fwd_used_autocast = False
        if not enabled:
            return fwd(ctx, *args, **kwargs)
        with autocast(device_type, enabled=False):
            return fwd(ctx, *_cast_inputs(args, device_type, cast_inputs),
                       **_cast_inputs(kwargs, device_type, cast_inputs))

    return decorate_fwd


def custom_bwd(bwd=None, *, device_type: str):
    """Decorate the ``backward`` of a custom ``autograd.Function`` whose ``forward`` has
    ``custom_fwd``: ``backward`` runs under the autocast state ``forward`` ran in, as
    PyTorch's ``torch.amp.custom_bwd``."""
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(ctx, *args, **kwargs):
        with autocast(device_type, dtype=ctx._autocast_dtype, enabled=ctx._fwd_used_autocast):
            return bwd(ctx, *args, **kwargs)

    return decorate_bwd
