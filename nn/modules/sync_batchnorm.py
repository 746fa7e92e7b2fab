"""SyncBatchNorm: batch normalisation whose batch statistics are taken over every rank of a
process group (ChainerMN's multi-node BatchNorm; ``torch.nn.SyncBatchNorm``).

Forward all-reduces the per-channel sums (then the sums of squared deviations from the
global mean) so that every rank normalises with the mean and variance of the global batch;
backward all-reduces the two per-channel sums the input gradient needs (of ``gy`` and of
``gy * x_hat``). With DistributedDataParallel averaging the parameter gradients, training
on N ranks equals training one process on the N local batches put together.
"""

from __future__ import annotations

from autograd import distributed as dist
from autograd.backend import get_array_module
from autograd.function import Function
from autograd.grad_mode import no_grad
from autograd.ops.inplace import _write
from autograd.tensor import _make

from .normalization import _BatchNorm


def _all_reduce_array(a, pg) -> None:
    dist.all_reduce(_make(a), group=pg)


class _SyncBatchNormFunction(Function):
    """y = (x - mean) / sqrt(var + eps) * weight + bias with the global batch's statistics.

    Not differentiable twice (its backward runs on arrays)."""

    @staticmethod
    def forward(ctx, x, weight, bias, eps=1e-5, pg=None, stats=None):
        xd = x._data
        xp = get_array_module(xd)
        nd = xd.ndim
        c = xd.shape[1]
        axes = (0,) + tuple(range(2, nd))
        shape = (1, c) + (1,) * (nd - 2)
        buf = xp.empty(c + 1, dtype=xd.dtype)
        buf[:c] = xd.sum(axis=axes)
        buf[c] = xd.size // c
        _all_reduce_array(buf, pg)
        n = float(buf[c])
        mean = buf[:c] / n
        d = xd - mean.reshape(shape)
        sq = (d * d).sum(axis=axes)
        _all_reduce_array(sq, pg)
        var = sq / n
        invstd = 1.0 / xp.sqrt(var + eps)
        xhat = d * invstd.reshape(shape)
        y = xhat
        wd = None if weight is None else weight._data
        if wd is not None:
            y = y * wd.reshape(shape)
        if bias is not None:
            y = y + bias._data.reshape(shape)
        if stats is not None:
            stats["mean"], stats["var"], stats["count"] = mean, var, n
        ctx.sbn = (xhat, invstd, wd, n, axes, shape, pg)
        return _make(y.astype(xd.dtype, copy=False))

    @staticmethod
    def backward(ctx, gy):
        xhat, invstd, wd, n, axes, shape, pg = ctx.sbn
        g = gy._data
        xp = get_array_module(g)
        c = xhat.shape[1]
        sum_dy = g.sum(axis=axes)
        sum_dy_xhat = (g * xhat).sum(axis=axes)
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        gx = gw = gb = None
        if need_w:
            gw = _make(sum_dy_xhat.copy())  # local: DDP averages parameter gradients
        if need_b:
            gb = _make(sum_dy.copy())
        if need_x:
            buf = xp.concatenate([sum_dy, sum_dy_xhat])
            _all_reduce_array(buf, pg)
            scale = invstd if wd is None else invstd * wd
            gxd = (g - (buf[:c] / n).reshape(shape) - xhat * (buf[c:] / n).reshape(shape)) \
                * scale.reshape(shape)
            gx = _make(gxd.astype(g.dtype, copy=False))
        return gx, gw, gb


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation over the union of the batches of all ranks of ``process_group``.

    In training mode, under an initialised process group of more than one rank, the mean
    and variance are those of the global batch (forward and backward synchronise over the
    group); otherwise (eval mode, one process) it is a plain BatchNorm. Inputs are
    (N, C, ...) of any number of dims. Use ``convert_sync_batchnorm`` to swap the
    BatchNorm layers of a model.

    Args:
        num_features: C.
        eps, momentum, affine, track_running_stats: as in ``BatchNorm1d``.
        process_group: the ranks to synchronise over (default: all).

    Example:
        >>> model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        >>> model = nn.parallel.DistributedDataParallel(model)
    """

    _expected_dims = (2, 3, 4, 5, 6)
    _dims_msg = "at least 2D"

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, process_group=None,
                 device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats,
                         device=device, dtype=dtype)
        self.process_group = process_group

    def forward(self, x):
        self._check_input(x)
        if not self.training or not dist.is_initialized():
            return super().forward(x)
        pg = self.process_group
        if dist.get_world_size(pg) <= 1:
            return super().forward(x)
        pg_obj = dist.distributed_c10d._group(pg, "SyncBatchNorm")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats and self.num_batches_tracked is not None:
            nbt = self.num_batches_tracked
            _write(nbt, None, nbt._data + 1)
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(nbt.item())
        stats = {}
        y = _SyncBatchNormFunction.apply(x, self.weight, self.bias, eps=self.eps, pg=pg_obj,
                                         stats=stats)
        if self.track_running_stats and self.running_mean is not None:
            n = stats["count"]
            with no_grad():
                for buf, stat in ((self.running_mean, stats["mean"]),
                                  (self.running_var, stats["var"] * (n / max(n - 1.0, 1.0)))):
                    d = buf._data
                    _write(buf, None, (d * (1.0 - factor) + stat * factor).astype(d.dtype,
                                                                                   copy=False))
        return y

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """Return ``module`` with every BatchNorm*d layer replaced by a SyncBatchNorm that
        shares its parameters and buffers (``module`` itself when it is one)."""
        out = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, process_group)
            for name in ("weight", "bias"):
                out._parameters[name] = module._parameters.get(name)
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                out._buffers[name] = module._buffers.get(name)
            out.training = module.training
        for name, child in list(module.named_children()):
            new = cls.convert_sync_batchnorm(child, process_group)
            if new is not child:
                out._modules[name] = new
        return out
