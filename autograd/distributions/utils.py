"""Helpers shared by the distributions (PyTorch's ``torch.distributions.utils``)."""

from __future__ import annotations

import functools
import numbers

import numpy as np

from ..dtypes import get_default_dtype
from ..grad_mode import enable_grad
from ..ops.shape import broadcast_shapes
from ..ops.shape import cat as _cat
from ..tensor import Tensor, randn, tensor
from ._special import softplus

euler_constant = 0.57721566490153286060


class lazy_property(functools.cached_property):  # noqa: N801  (PyTorch's name)
    """A property computed on first use and then stored on the instance.

    As in PyTorch it is computed with gradient recording on, so a value first needed inside
    ``no_grad`` (``probs`` by ``Categorical.sample()``) still carries its graph when
    ``log_prob`` or ``entropy`` reuse it later.
    """

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        with enable_grad():
            return super().__get__(instance, owner)


def _dtype_of(values):
    for v in values:
        if isinstance(v, Tensor):
            return v.dtype, v.device
    return get_default_dtype(), None


def broadcast_all(*values):
    """Broadcast numbers and tensors to one shape; numbers become tensors of the first
    tensor's dtype (the default dtype when there is none)."""
    if not all(isinstance(v, (Tensor, numbers.Number)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers.Number, "
                         "torch.Tensor or objects implementing __torch_function__.")
    dt, dev = _dtype_of(values)
    vs = [v if isinstance(v, Tensor) else tensor(v, dtype=dt, device=dev) for v in values]
    if len(vs) == 1:
        return (vs[0],)
    shape = broadcast_shapes(*[tuple(v.shape) for v in vs])
    # a tensor already of the full shape is returned as it is (no view node in its graph)
    return tuple(v if tuple(v.shape) == shape else v.expand(*shape) for v in vs)


def _finfo(t):
    return np.finfo(t.dtype if isinstance(t, Tensor) else get_default_dtype())


def clamp_probs(probs):
    eps = float(_finfo(probs).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return ps_clamped.log() - (-ps_clamped).log1p()
    return ps_clamped.log()


def logits_to_probs(logits, is_binary=False):
    if is_binary:
        return logits.sigmoid()
    return logits.softmax(-1)


def _sum_rightmost(value, dim):
    if dim == 0:
        return value
    required = value.shape[: value.dim() - dim]
    return value.reshape(*required, -1).sum(-1)


def _standard_normal(shape, dtype, device):
    return randn(tuple(shape), dtype=dtype, device=device)


_softplus = softplus


def tril_matrix_to_vec(mat, diag=0):
    """The lower-triangular part (diagonal offset ``diag``) of the last two dimensions, as
    a vector in row-major order."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    rows, cols = np.tril_indices(n, diag)
    return mat[..., rows, cols]


def vec_to_tril_matrix(vec, diag=0):
    """The inverse of ``tril_matrix_to_vec``: a square matrix, zero above diagonal
    ``diag`` (differentiable: a gather from the vector with a zero appended)."""
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * vec.shape[-1]
                            + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    eps = float(np.finfo(vec.dtype).eps)
    if round(n) - n > eps:
        raise ValueError(f"The size of last dimension is {vec.shape[-1]} which cannot be "
                         "expressed as the lower triangular part of a square D x D matrix.")
    n = round(n)
    k = vec.shape[-1]
    index = np.full((n, n), k, dtype=np.int64)
    rows, cols = np.tril_indices(n, diag)
    if len(rows) != k:
        raise ValueError(f"The size of last dimension is {k} which cannot be expressed as the "
                         "lower triangular part of a square D x D matrix.")
    index[rows, cols] = np.arange(len(rows))
    padded = _cat([vec, vec.new_zeros(tuple(vec.shape[:-1]) + (1,))], -1)
    return padded[..., tensor(index, device=vec.device)]
