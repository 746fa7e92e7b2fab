"""``nn.utils.spectral_norm``: the old-style spectral normalisation by a forward pre-hook
(PyTorch's): ``weight = weight_orig / sigma``, sigma the largest singular value estimated by
power iteration with the buffers ``weight_u`` and ``weight_v``."""

from __future__ import annotations

from autograd.backend import get_array_module
from autograd.grad_mode import no_grad
from autograd.ops import linalg as LA
from autograd.ops import shape as S
from autograd.random import _gen_for
from autograd.tensor import Parameter, Tensor, as_tensor

from ..functional.normalization import normalize
from ..modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d

__all__ = ["SpectralNorm", "remove_spectral_norm", "spectral_norm"]


def _reshape_to_matrix(weight: Tensor, dim: int) -> Tensor:
    """``weight`` as a matrix with ``dim`` first and the other dims flattened."""
    if dim != 0:
        weight = S.permute(weight, dim, *[d for d in range(weight.ndim) if d != dim])
    return S.reshape(weight, (weight.shape[0], -1))


def _store(buf: Tensor, value: Tensor) -> None:
    """Write ``value`` into the buffer in place (PyTorch's ``out=``)."""
    buf._data[...] = value._data
    buf._vc[0] += 1


def _random_unit(like: Tensor, n: int, eps: float) -> Tensor:
    """A unit vector with normal draws, ``like``'s dtype and device."""
    xp = get_array_module(like._data)
    arr = xp.asarray(_gen_for(xp).standard_normal(n), dtype=like.dtype)
    return normalize(as_tensor(arr), dim=0, eps=eps)


class SpectralNorm:
    """The forward pre-hook of ``spectral_norm``."""

    _version = 1

    def __init__(self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        self.name = name
        self.dim = dim
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        return _reshape_to_matrix(weight, self.dim)

    def compute_weight(self, module, do_power_iteration: bool) -> Tensor:
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with no_grad():
                wm = weight_mat.detach()
                for _ in range(self.n_power_iterations):
                    _store(v, normalize(LA.mv(S.t(wm), u), dim=0, eps=self.eps))
                    _store(u, normalize(LA.mv(wm, v), dim=0, eps=self.eps))
        u, v = u.detach().clone(), v.detach().clone()
        sigma = (u * LA.mv(weight_mat, v)).sum()
        return weight / sigma

    def remove(self, module) -> None:
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs) -> None:
        setattr(module, self.name,
                self.compute_weight(module, do_power_iteration=module.training))

    @staticmethod
    def apply(module, name: str, n_power_iterations: int, dim: int, eps: float):
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two spectral_norm hooks on the same "
                                   f"parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        with no_grad():
            h, w = fn.reshape_weight_to_matrix(weight).shape
            u = _random_unit(weight, h, fn.eps)
            v = _random_unit(weight, w, fn.eps)
        delattr(module, fn.name)
        module.register_parameter(fn.name + "_orig", weight)
        setattr(module, fn.name, weight.detach())
        module.register_buffer(fn.name + "_u", u)
        module.register_buffer(fn.name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None):
    """Divide ``module.<name>`` by its spectral norm (estimated by ``n_power_iterations``
    power-iteration steps per training forward), with the parameter ``<name>_orig`` and the
    buffers ``<name>_u``, ``<name>_v``, by a forward pre-hook.

    Args:
        module: the module.
        name: the weight's name.
        n_power_iterations: power-iteration steps per forward in training mode.
        eps: added in the normalisations for stability.
        dim: the output dim (0, or 1 for transposed convolutions when None).

    Example:
        >>> m = nn.utils.spectral_norm(nn.Linear(20, 40))
        >>> m.weight_u.shape
        (40,)
    """
    if dim is None:
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) \
            else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module, name: str = "weight"):
    """Undo ``spectral_norm``: ``module.<name>`` is a plain parameter again (the current
    normalised value).

    Example:
        >>> nn.utils.remove_spectral_norm(m)
    """
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"spectral_norm of '{name}' not found in {module}")
