"""``nn.utils.convert_parameters``: parameters to one vector and back (PyTorch's)."""

from __future__ import annotations

from autograd.grad_mode import no_grad
from autograd.ops import shape as S
from autograd.tensor import Tensor, zeros

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _params(parameters) -> list:
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def parameters_to_vector(parameters) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (differentiable).

    Example:
        >>> vec = nn.utils.parameters_to_vector(model.parameters())
    """
    ps = _params(parameters)
    if ps:
        dev = ps[0].device
        for p in ps:
            if p.device != dev:
                raise TypeError(f"parameters_to_vector: found two parameters on different "
                                f"devices ({dev} and {p.device}); this is not supported")
    if not ps:
        return zeros(0)
    return S.cat([S.reshape(p, (-1,)) for p in ps])


def vector_to_parameters(vec, parameters) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into ``parameters`` (in order, reshaped).

    Example:
        >>> nn.utils.vector_to_parameters(vec, model.parameters())
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected Tensor, but got: {type(vec).__name__}")
    ps = _params(parameters)
    total = sum(p.numel() for p in ps)
    if vec.ndim != 1 or vec.shape[0] != total:
        raise RuntimeError(f"vector_to_parameters: expected a 1-D vector of {total} elements "
                           f"(the parameters' total), got shape {list(vec.shape)}")
    data = vec.detach()._data
    pointer = 0
    with no_grad():
        for p in ps:
            n = p.numel()
            p._data = data[pointer:pointer + n].reshape(p.shape).astype(p.dtype, copy=True)
            p._vc[0] += 1
            pointer += n
