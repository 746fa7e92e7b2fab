"""``nn.utils.parametrizations``: ``weight_norm``, ``spectral_norm`` and ``orthogonal`` as
parametrizations (PyTorch's), registered with ``nn.utils.parametrize``."""

from __future__ import annotations

from enum import Enum, auto

import numpy as np

from autograd import linalg as LA
from autograd.grad_mode import no_grad
from autograd.ops import elementwise as E
from autograd.ops import indexing as IX
from autograd.ops import linalg as L
from autograd.ops import shape as S
from autograd.tensor import Tensor, eye, randn, zeros, zeros_like

from ..functional.normalization import normalize
from ..modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from ..modules.module import Module
from . import parametrize
from .spectral_norm import _random_unit, _reshape_to_matrix, _store
from .weight_norm import _norm_except_dim, _weight_norm

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


# ---- orthogonal ------------------------------------------------------------------------------

def _mT(x: Tensor) -> Tensor:
    return S.transpose(x, -2, -1)


def _is_orthogonal(Q: Tensor) -> bool:
    n, k = Q.shape[-2], Q.shape[-1]
    eps = 10.0 * n * float(np.finfo(np.dtype(Q.dtype)).eps)
    d = (L.matmul(_mT(Q), Q) - eye(k, dtype=Q.dtype, device=Q.device)).abs()
    return bool((d <= eps).all())


def _make_orthogonal(A: Tensor) -> Tensor:
    """The Q of A = QR (A tall) with diag(R) >= 0."""
    X, tau = L.geqrf(A)
    Q = LA.householder_product(X, tau)
    return Q * S.unsqueeze(IX.diagonal(X, 0, -2, -1).sign(), -2)


class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


class _Orthogonal(Module):
    """Maps an unconstrained matrix (batch) to an orthogonal one (PyTorch's)."""

    def __init__(self, weight: Tensor, orthogonal_map: _OrthMaps, *,
                 use_trivialization: bool = True) -> None:
        super().__init__()
        self.shape = tuple(weight.shape)
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def _has_base(self) -> bool:
        return "base" in self._buffers

    def forward(self, X: Tensor) -> Tensor:
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = _mT(X)
            n, k = k, n
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = IX.tril(X)
            if n != k:  # embed into a square matrix
                pad = zeros(*X.shape[:-2], n, n - k, dtype=X.dtype, device=X.device)
                X = S.cat([X, pad], -1)
            A = X - _mT(X)  # skew-symmetric
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = LA.matrix_exp(A)
            else:  # the Cayley retraction (I + A/2)(I - A/2)^{-1}
                Id = eye(n, dtype=A.dtype, device=A.device)
                Q = LA.solve(Id - 0.5 * A, Id + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:
            A = IX.tril(X, -1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = LA.householder_product(A, tau)
            # the diagonal of X holds +-1 (not differentiated: PyTorch casts it to int)
            Q = Q * S.unsqueeze(IX.diagonal(X, 0, -2, -1).detach().to("int32"), -2)
        if self._has_base():
            Q = L.matmul(self.base, Q)
        if transposed:
            Q = _mT(Q)
        return Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        with no_grad():
            if tuple(Q.shape) != self.shape:
                raise ValueError(f"Expected a matrix or batch of matrices of shape "
                                 f"{self.shape}. Got a tensor of shape {tuple(Q.shape)}.")
            Q_init = Q
            n, k = Q.shape[-2], Q.shape[-1]
            transpose = n < k
            if transpose:
                Q = _mT(Q)
                n, k = k, n
            if not self._has_base():
                if self.orthogonal_map in (_OrthMaps.cayley, _OrthMaps.matrix_exp):
                    raise NotImplementedError(
                        "It is not possible to assign to the matrix exponential or the Cayley "
                        "parametrizations when use_trivialization=False.")
                A, tau = L.geqrf(Q)
                # the diagonal of A := the signs of diag(R) (flipped where tau == 0: no
                # reflection there), so that forward rebuilds this Q
                sign = IX.diagonal(A, 0, -2, -1).sign()
                sign = E.where(tau == 0.0, -sign, sign)
                mask = eye(n, k, dtype=A.dtype, device=A.device)
                A = A * (1 - mask) + S.unsqueeze(sign, -2) * mask
                return _mT(A) if transpose else A
            if n == k:
                Q = _make_orthogonal(Q) if not _is_orthogonal(Q) else Q.clone()
            else:  # complete Q to a full n x n orthogonal matrix
                N = randn(*(tuple(Q.shape[:-2]) + (n, n - k)), dtype=Q.dtype,
                          device=Q.device)
                Q = _make_orthogonal(S.cat([Q, N], -1))
            self.base = Q
            # -I: householder(zeros) == I, and the diagonal holds the signs
            rows, cols = Q_init.shape[-2], Q_init.shape[-1]
            return zeros_like(Q_init) - eye(rows, cols, dtype=Q_init.dtype,
                                            device=Q_init.device)


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Parametrize ``module.<name>`` (a matrix or batch of matrices) to be orthogonal
    (``Q^T Q = I`` for a tall, ``Q Q^T = I`` for a wide matrix).

    Args:
        module: the module.
        name: the tensor's name.
        orthogonal_map: 'matrix_exp', 'cayley' or 'householder' (default: 'matrix_exp'
            for square matrices, else 'householder').
        use_trivialization: keep a ``base`` buffer so that the map is taken around it (the
            "dynamic trivialization"); needed to assign to ``module.<name>``.

    Example:
        >>> orth = nn.utils.parametrizations.orthogonal(nn.Linear(20, 40))
        >>> Q = orth.weight  # Q.T @ Q == I
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of "
                         f"{weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] \
            else "householder"
    orth_enum = getattr(_OrthMaps, orthogonal_map, None)
    if orth_enum is None:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


# ---- weight norm ------------------------------------------------------------------------------

class _WeightNorm(Module):
    """``weight = g * v / ||v||`` from (``original0`` = g, ``original1`` = v)."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        if dim is None:
            dim = -1
        self.dim = dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor):
        return _norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int = 0):
    """Weight normalisation as a parametrization: ``module.<name>`` = ``g * v / ||v||``
    with g = ``parametrizations.<name>.original0`` and v = ``original1`` (the norm over every
    dim but ``dim``; the whole tensor when ``dim`` is None).

    Example:
        >>> m = nn.utils.parametrizations.weight_norm(nn.Linear(20, 40))
        >>> m.parametrizations.weight.original0.shape
        (40, 1)
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


# ---- spectral norm ---------------------------------------------------------------------------

class _SpectralNorm(Module):
    """``weight / sigma``, sigma the spectral norm estimated by power iteration with the
    buffers ``_u`` and ``_v`` (updated in training mode)."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError("Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            with no_grad():
                self.register_buffer("_u", _random_unit(weight, h, eps))
                self.register_buffer("_v", _random_unit(weight, w, eps))
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        return _reshape_to_matrix(weight, self.dim)

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        with no_grad():
            wm = weight_mat.detach()
            for _ in range(n_power_iterations):
                _store(self._u, normalize(L.mv(wm, self._v), dim=0, eps=self.eps))
                _store(self._v, normalize(L.mv(S.t(wm), self._u), dim=0, eps=self.eps))

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u, v = self._u.detach().clone(), self._v.detach().clone()
        sigma = (u * L.mv(weight_mat, v)).sum()
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Spectral normalisation as a parametrization: ``module.<name>`` is divided by its
    largest singular value, estimated by power iteration (``n_power_iterations`` steps at
    every access in training mode; 15 at registration) with the buffers
    ``parametrizations.<name>.0._u`` and ``._v``.

    Example:
        >>> snm = nn.utils.parametrizations.spectral_norm(nn.Linear(20, 40))
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) \
            else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
