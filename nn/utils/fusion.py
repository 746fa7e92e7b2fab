"""``nn.utils.fusion``: fold an eval-mode batch norm into the convolution or linear layer
before it (PyTorch's): ``bn(conv(x)) == fused_conv(x)``."""

from __future__ import annotations

import copy

from autograd.ops import elementwise as E
from autograd.ops import shape as S
from autograd.tensor import Parameter, Tensor, ones_like, zeros_like

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval",
           "fuse_linear_bn_weights"]


def fuse_conv_bn_eval(conv, bn, transpose: bool = False):
    """A copy of ``conv`` whose weight and bias include the eval-mode ``bn`` after it.

    Args:
        conv: a (transposed) convolution in eval mode.
        bn: the batch norm applied to its output, in eval mode, with running statistics.
        transpose: ``conv`` is a transposed convolution (output channels on dim 1).

    Example:
        >>> fused = nn.utils.fuse_conv_bn_eval(conv.eval(), bn.eval())
    """
    assert not (conv.training or bn.training), "Fusion only for eval!"
    fused = copy.deepcopy(conv)
    assert bn.running_mean is not None and bn.running_var is not None
    fused.weight, fused.bias = fuse_conv_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias,
        transpose)
    return fused


def fuse_conv_bn_weights(conv_w: Tensor, conv_b, bn_rm: Tensor, bn_rv: Tensor, bn_eps: float,
                         bn_w, bn_b, transpose: bool = False):
    """The weight and bias (as Parameters) of a convolution followed by an eval-mode batch
    norm: ``w * gamma / sqrt(var + eps)`` per output channel and ``(b - mean) * gamma /
    sqrt(var + eps) + beta``.

    Example:
        >>> w, b = nn.utils.fuse_conv_bn_weights(conv.weight, conv.bias, bn.running_mean,
        ...                                      bn.running_var, bn.eps, bn.weight, bn.bias)
    """
    w_dtype = conv_w.dtype
    b_dtype = conv_b.dtype if conv_b is not None else w_dtype
    if conv_b is None:
        conv_b = zeros_like(bn_rm)
    if bn_w is None:
        bn_w = ones_like(bn_rm)
    if bn_b is None:
        bn_b = zeros_like(bn_rm)
    rsqrt = E.rsqrt(bn_rv + bn_eps)
    shape = ([1, -1] if transpose else [-1, 1]) + [1] * (conv_w.ndim - 2)
    fused_w = (conv_w * S.reshape(bn_w * rsqrt, shape)).to(w_dtype)
    fused_b = ((conv_b - bn_rm) * rsqrt * bn_w + bn_b).to(b_dtype)
    return Parameter(fused_w, conv_w.requires_grad), Parameter(fused_b, conv_b.requires_grad)


def fuse_linear_bn_eval(linear, bn):
    """A copy of ``linear`` whose weight and bias include the eval-mode ``bn`` after it
    (``bn.num_features`` equal to ``linear.out_features``, or 1).

    Example:
        >>> fused = nn.utils.fuse_linear_bn_eval(fc.eval(), bn.eval())
    """
    assert not (linear.training or bn.training), "Fusion only for eval!"
    fused = copy.deepcopy(linear)
    assert linear.out_features == bn.num_features or bn.num_features == 1, (
        "To fuse, linear.out_features == bn.num_features or bn.num_features == 1, got "
        f"linear.out_features={linear.out_features} and bn.num_features={bn.num_features}")
    assert bn.running_mean is not None and bn.running_var is not None
    fused.weight, fused.bias = fuse_linear_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias)
    return fused


def fuse_linear_bn_weights(linear_w: Tensor, linear_b, bn_rm: Tensor, bn_rv: Tensor,
                           bn_eps: float, bn_w: Tensor, bn_b: Tensor):
    """The weight and bias (as Parameters) of a linear layer followed by an eval-mode batch
    norm.

    Example:
        >>> w, b = nn.utils.fuse_linear_bn_weights(fc.weight, fc.bias, bn.running_mean,
        ...                                        bn.running_var, bn.eps, bn.weight, bn.bias)
    """
    if linear_b is None:
        linear_b = zeros_like(bn_rm)
    scale = bn_w * E.rsqrt(bn_rv + bn_eps)
    fused_w = linear_w * S.unsqueeze(scale, -1)
    fused_b = (linear_b - bn_rm) * scale + bn_b
    return Parameter(fused_w, linear_w.requires_grad), Parameter(fused_b, linear_b.requires_grad)
