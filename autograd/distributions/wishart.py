"""The Wishart distribution (PyTorch's ``torch.distributions.wishart``): draws by the
Bartlett decomposition, reparameterised through its chi-squared (Gamma) diagonal."""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from ..linalg import cholesky as _cholesky
from ..linalg import slogdet as _slogdet
from ..ops.elementwise import where
from ..ops.linalg import cholesky_solve as _cholesky_solve
from ..ops.shape import broadcast_shapes
from ..tensor import arange, eye, randn, tensor
from . import constraints
from ._special import digamma
from .continuous import Chi2
from .distribution import Distribution, ExponentialFamily
from .extra import _mvlgamma
from .multivariate import _precision_to_scale_tril
from .utils import lazy_property

__all__ = ["Wishart"]

_LOG_2 = math.log(2)


def _mvdigamma(x, p):
    if not bool((x > (p - 1) / 2).all()):
        raise AssertionError("Wrong domain for multivariate digamma function.")
    return digamma(x.unsqueeze(-1) - arange(p, dtype=x.dtype, device=x.device) / 2).sum(-1)


class Wishart(ExponentialFamily):
    """The Wishart distribution of ``df`` degrees of freedom and scale given by exactly one
    of ``covariance_matrix``, ``precision_matrix`` or ``scale_tril``."""

    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def arg_constraints(self):
        return {"covariance_matrix": constraints.positive_definite,
                "precision_matrix": constraints.positive_definite,
                "scale_tril": constraints.lower_cholesky,
                "df": constraints.greater_than(self.event_shape[-1] - 1)}

    def __init__(self, df, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        if ((covariance_matrix is not None) + (scale_tril is not None)
                + (precision_matrix is not None)) != 1:
            raise AssertionError("Exactly one of covariance_matrix or precision_matrix or "
                                 "scale_tril may be specified.")
        param = next(p for p in (covariance_matrix, precision_matrix, scale_tril)
                     if p is not None)
        if param.dim() < 2:
            raise ValueError("scale_tril must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        if isinstance(df, numbers.Number):
            batch_shape = tuple(param.shape[:-2])
            self.df = tensor(float(df), dtype=param.dtype, device=param.device)
        else:
            batch_shape = broadcast_shapes(tuple(param.shape[:-2]), tuple(df.shape))
            self.df = df.expand(*batch_shape)
        event_shape = tuple(param.shape[-2:])
        if bool((self.df <= event_shape[-1] - 1).any()):
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = "
                             f"{event_shape[-1] - 1}.")
        if scale_tril is not None:
            self.scale_tril = param.expand(*batch_shape, -1, -1)
        elif covariance_matrix is not None:
            self.covariance_matrix = param.expand(*batch_shape, -1, -1)
        else:
            self.precision_matrix = param.expand(*batch_shape, -1, -1)
        if bool((self.df < event_shape[-1]).any()):
            warnings.warn("Low df values detected. Singular samples are highly likely to "
                          "occur for ndim - 1 < df < ndim.", stacklevel=2)
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        self._batch_dims = [-(x + 1) for x in range(len(self._batch_shape))]
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = _cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)
        self._dist_chi2 = self._chi2(self.df, batch_shape)

    def _chi2(self, df, batch_shape):
        p = self._event_shape[-1]
        offsets = arange(p, dtype=self._unbroadcasted_scale_tril.dtype,
                         device=self._unbroadcasted_scale_tril.device)
        return Chi2(df=df.unsqueeze(-1) - offsets.expand(*batch_shape, p))

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Wishart, _instance)
        batch_shape = tuple(batch_shape)
        cov_shape = batch_shape + self.event_shape
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril.expand(*cov_shape)
        new.df = self.df.expand(*batch_shape)
        new._batch_dims = [-(x + 1) for x in range(len(batch_shape))]
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                new.__dict__[name] = self.__dict__[name].expand(*cov_shape)
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._dist_chi2 = new._chi2(new.df, batch_shape)
        new._validate_args = self._validate_args
        return new

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(*(self._batch_shape + self._event_shape))

    @lazy_property
    def covariance_matrix(self):
        lo = self._unbroadcasted_scale_tril
        return (lo @ lo.transpose(-2, -1)).expand(*(self._batch_shape + self._event_shape))

    @lazy_property
    def precision_matrix(self):
        lo = self._unbroadcasted_scale_tril
        identity = eye(self._event_shape[-1], dtype=lo.dtype, device=lo.device)
        return _cholesky_solve(identity.expand(*lo.shape), lo).expand(
            *(self._batch_shape + self._event_shape))

    @property
    def mean(self):
        return self.df.reshape(*(self._batch_shape + (1, 1))) * self.covariance_matrix

    @property
    def mode(self):
        factor = self.df - self.covariance_matrix.shape[-1] - 1
        factor = where(factor <= 0, np.nan, factor)
        return factor.reshape(*(self._batch_shape + (1, 1))) * self.covariance_matrix

    @property
    def variance(self):
        v = self.covariance_matrix
        diag_v = v.diagonal(dim1=-2, dim2=-1)
        return self.df.reshape(*(self._batch_shape + (1, 1))) * (
            v.pow(2) + diag_v.unsqueeze(-1) * diag_v.unsqueeze(-2))

    def _bartlett_sampling(self, sample_shape=()):
        p = self._event_shape[-1]
        eps = float(np.finfo(self._unbroadcasted_scale_tril.dtype).eps)
        diag = self._dist_chi2.rsample(sample_shape).sqrt().clamp(min=eps).diag_embed()
        lower = randn(tuple(sample_shape) + self._batch_shape + (p, p), dtype=diag.dtype,
                      device=diag.device).tril(-1)
        chol = self._unbroadcasted_scale_tril @ (diag + lower)
        return chol @ chol.transpose(-2, -1)

    def rsample(self, sample_shape=(), max_try_correction=None):
        """A reparameterised draw; draws that come out singular (possible for df close to
        ndim - 1) are redrawn up to ``max_try_correction`` times (default 10)."""
        if max_try_correction is None:
            max_try_correction = 10
        sample_shape = (sample_shape,) if isinstance(sample_shape, int) else tuple(
            sample_shape)
        sample = self._bartlett_sampling(sample_shape)
        singular = ~constraints.positive_definite.check(sample.detach())
        if bool(singular.any()):
            warnings.warn("Singular sample detected.", stacklevel=2)
            for _ in range(max_try_correction):
                sample_new = self._bartlett_sampling(sample_shape)
                sample = where(singular.unsqueeze(-1).unsqueeze(-1), sample_new, sample)
                singular = ~constraints.positive_definite.check(sample.detach())
                if not bool(singular.any()):
                    break
        return sample

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        nu = self.df
        p = self._event_shape[-1]
        lo = self._unbroadcasted_scale_tril
        return (-nu * (p * _LOG_2 / 2 + lo.diagonal(dim1=-2, dim2=-1).log().sum(-1))
                - _mvlgamma(nu / 2, p)
                + (nu - p - 1) / 2 * _slogdet(value).logabsdet
                - _cholesky_solve(value, lo.expand(*value.shape)).diagonal(
                    dim1=-2, dim2=-1).sum(-1) / 2)

    def entropy(self):
        nu = self.df
        p = self._event_shape[-1]
        lo = self._unbroadcasted_scale_tril
        return ((p + 1) * (p * _LOG_2 / 2 + lo.diagonal(dim1=-2, dim2=-1).log().sum(-1))
                + _mvlgamma(nu / 2, p) - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p)
                + nu * p / 2)

    @property
    def _natural_params(self):
        nu = self.df
        p = self._event_shape[-1]
        return -self.precision_matrix / 2, (nu - p - 1) / 2

    def _log_normalizer(self, x, y):
        p = self._event_shape[-1]
        return ((y + (p + 1) / 2) * (-_slogdet(-2 * x).logabsdet + _LOG_2 * p)
                + _mvlgamma(y + (p + 1) / 2, p))
