"""Normalisation layers: BatchNorm1d/2d/3d, LayerNorm, GroupNorm, InstanceNorm1d/2d/3d,
LocalResponseNorm, CrossMapLRN2d, RMSNorm (PyTorch's parameters, buffers, defaults and
state_dict keys)."""

from __future__ import annotations

import warnings

from autograd import dtypes as _dt
from autograd.ops import shape as S
from autograd.ops.inplace import _write
from autograd.tensor import Parameter, empty, ones, tensor, zeros

from .. import functional as F
from .. import init
from ..functional.normalization import cross_map_lrn2d as _cross_map_lrn2d
from .module import Module


def _dtype(dtype):
    return _dt.to_dtype(dtype) or _dt.get_default_dtype()


class _BatchNorm(Module):
    _expected_dims: tuple = ()
    _dims_msg = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__()
        dt = _dtype(dtype)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(empty(num_features, dtype=dt))
            if bias:
                self.bias = Parameter(empty(num_features, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dt))
            self.register_buffer("running_var", ones(num_features, dtype=dt))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=_dt.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            _write(self.num_batches_tracked, None, 0)

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def _check_input(self, x) -> None:
        if x.ndim not in self._expected_dims:
            raise ValueError(f"{type(self).__name__}({self.num_features}): expected "
                             f"{self._dims_msg} input (got {x.ndim}D input of shape "
                             f"{list(x.shape)})")
        if x.shape[1] != self.num_features:
            raise RuntimeError(f"{type(self).__name__}({self.num_features}): expected input "
                               f"with {self.num_features} channels in dim 1, got shape "
                               f"{list(x.shape)}")

    def forward(self, x):
        self._check_input(x)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            nbt = self.num_batches_tracked
            _write(nbt, None, nbt._data + 1)
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(nbt.item())
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        track = not self.training or self.track_running_stats
        return F.batch_norm(x, self.running_mean if track else None,
                            self.running_var if track else None, self.weight, self.bias,
                            use_batch, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs over N (and L), per channel C.

    In training mode it normalises with the batch mean and biased variance and updates
    ``running_mean``/``running_var`` (``momentum`` 0.1, unbiased variance; ``momentum=None``
    for a cumulative average); in eval mode it uses the running statistics.

    Args:
        num_features: C.
        eps: added to the variance.
        momentum: weight of the new batch statistic in the running average.
        affine: learn a per-channel ``weight`` (ones) and ``bias`` (zeros).
        track_running_stats: keep running statistics (else batch statistics always).

    Example:
        >>> bn = nn.BatchNorm1d(16)
        >>> bn(ag.randn(8, 16)).shape
        (8, 16)
    """

    _expected_dims = (2, 3)
    _dims_msg = "2D or 3D"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs, per channel (see ``BatchNorm1d``).

    Example:
        >>> bn = nn.BatchNorm2d(3)
        >>> bn(ag.randn(4, 3, 8, 8)).shape
        (4, 3, 8, 8)
    """

    _expected_dims = (4,)
    _dims_msg = "4D"


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of (N, C, D, H, W) inputs, per channel (see ``BatchNorm1d``).

    Example:
        >>> bn = nn.BatchNorm3d(3)
    """

    _expected_dims = (5,)
    _dims_msg = "5D"


class LayerNorm(Module):
    """Normalise over the trailing ``normalized_shape`` dims of each sample, then apply an
    element-wise ``weight`` (ones) and ``bias`` (zeros).

    Args:
        normalized_shape: int or tuple: the trailing dims to normalise over.
        eps: added to the variance.
        elementwise_affine: learn ``weight`` (and ``bias`` when ``bias=True``).

    Example:
        >>> ln = nn.LayerNorm(16)
        >>> ln(ag.randn(2, 5, 16)).shape
        (2, 5, 16)
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        dt = _dtype(dtype)
        if elementwise_affine:
            self.weight = Parameter(empty(*self.normalized_shape, dtype=dt))
            if bias:
                self.bias = Parameter(empty(*self.normalized_shape, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x):
        k = len(self.normalized_shape)
        if x.ndim < k or tuple(x.shape[x.ndim - k:]) != self.normalized_shape:
            raise RuntimeError(
                f"LayerNorm({self.normalized_shape}): expected input with shape "
                f"[*, {', '.join(map(str, self.normalized_shape))}], got {list(x.shape)}")
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """Normalise groups of ``num_channels / num_groups`` channels (with all positions) of
    each sample; per-channel ``weight`` (ones) and ``bias`` (zeros) when ``affine``.

    Example:
        >>> gn = nn.GroupNorm(2, 6)
        >>> gn(ag.randn(4, 6, 5)).shape
        (4, 6, 5)
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups, self.num_channels = num_groups, num_channels
        self.eps, self.affine = eps, affine
        dt = _dtype(dtype)
        if affine:
            self.weight = Parameter(empty(num_channels, dtype=dt))
            if bias:
                self.bias = Parameter(empty(num_channels, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x):
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise RuntimeError(f"GroupNorm({self.num_groups}, {self.num_channels}): expected "
                               f"input of shape [N, {self.num_channels}, *], got "
                               f"{list(x.shape)}")
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")


# ---- instance norm, local response norm, RMS norm ---------------------------------------

class _InstanceNorm(_BatchNorm):
    _no_batch_dim = 0

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def _check_input(self, x) -> None:
        nb = self._no_batch_dim
        if x.ndim not in (nb, nb + 1):
            raise ValueError(f"expected {nb}D or {nb + 1}D input (got {x.ndim}D input)")

    def forward(self, x):
        self._check_input(x)
        fdim = x.ndim - self._no_batch_dim
        if x.shape[fdim] != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={fdim} to match num_features "
                                 f"({self.num_features}), but got: {x.shape[fdim]}.")
            warnings.warn(f"input's size at dim={fdim} does not match num_features. You can "
                          "silence this warning by not passing in num_features, which is not "
                          "used because affine=False", UserWarning, stacklevel=2)
        unbatched = x.ndim == self._no_batch_dim
        if unbatched:
            x = S.unsqueeze(x, 0)
        y = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            self.momentum if self.momentum is not None else 0.0, self.eps)
        return S.squeeze(y, 0) if unbatched else y


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or unbatched (C, L) inputs: each channel of each
    sample normalised over L. No affine parameters and no running statistics by default
    (``affine=True``, ``track_running_stats=True`` add them, as in PyTorch).

    Example:
        >>> norm = nn.InstanceNorm1d(4, affine=True)
        >>> norm(ag.randn(2, 4, 10)).shape
        (2, 4, 10)
    """

    _no_batch_dim = 2


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or (C, H, W) inputs (see ``InstanceNorm1d``).

    Example:
        >>> y = nn.InstanceNorm2d(3)(ag.randn(2, 3, 8, 8))
    """

    _no_batch_dim = 3


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of (N, C, D, H, W) or (C, D, H, W) inputs (see
    ``InstanceNorm1d``).

    Example:
        >>> y = nn.InstanceNorm3d(3)(ag.randn(2, 3, 4, 4, 4))
    """

    _no_batch_dim = 4


class LocalResponseNorm(Module):
    """Local response normalisation across channels:
    ``x / (k + alpha / size * sum(x^2 over size neighbouring channels)) ** beta``.

    Example:
        >>> y = nn.LocalResponseNorm(2)(ag.randn(2, 8, 5, 5))
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, x):
        return F.local_response_norm(x, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class CrossMapLRN2d(Module):
    """PyTorch's legacy cross-channel LRN of 4-D inputs (Lua Torch's SpatialCrossMapLRN),
    with its forward and backward as they are (see ``F.normalization.CrossMapLRN2d``).

    Example:
        >>> y = nn.CrossMapLRN2d(3)(ag.randn(2, 8, 5, 5))
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, x):
        return _cross_map_lrn2d(x, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class RMSNorm(Module):
    """Root-mean-square normalisation over the trailing ``normalized_shape`` dims, times a
    learnable ``weight`` (ones) when ``elementwise_affine``; ``eps=None`` uses the input
    dtype's machine epsilon.

    Example:
        >>> norm = nn.RMSNorm(16)
        >>> norm(ag.randn(2, 5, 16)).shape
        (2, 5, 16)
    """

    def __init__(self, normalized_shape, eps: float | None = None,
                 elementwise_affine: bool = True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(empty(*self.normalized_shape, dtype=_dtype(dtype)))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, x):
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
