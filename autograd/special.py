"""``torch.special``: special functions (helper 'elem').

The same ops as the ``autograd`` namespace where PyTorch has both (``special.erfc`` is
``autograd.erfc``), and the ones PyTorch has only here (``erfcx``, ``i0e``, ``i1``, ``i1e``,
``ndtr``, ``ndtri``, ``log_ndtr``, ``entr``, ``xlog1py``, ``zeta``), all registered in
``autograd/ops/special.py``; ``softmax``/``log_softmax`` are ``autograd.softmax`` and
``autograd.log_softmax`` (``special.softmax(x, dim, dtype=None)``).
"""

from __future__ import annotations

from .ops import elementwise as _E
from .ops import reduction as _R
from .ops import special as _S

expit = _E.sigmoid
logit = _S.logit
erf = _E.erf
erfc = _S.erfc
erfcx = _S.special_erfcx
erfinv = _S.erfinv
gammaln = _S.lgamma
digamma = psi = _S.digamma
polygamma = _S.polygamma
multigammaln = _S.mvlgamma
i0 = _S.i0
i0e = _S.special_i0e
i1 = _S.special_i1
i1e = _S.special_i1e
ndtr = _S.special_ndtr
ndtri = _S.special_ndtri
log_ndtr = _S.special_log_ndtr
sinc = _S.sinc
entr = _S.special_entr
xlogy = _S.xlogy
xlog1py = _S.special_xlog1py
zeta = _S.special_zeta
logsumexp = _R.logsumexp
softmax = _R.softmax
log_softmax = _R.log_softmax
exp2 = _S.exp2
expm1 = _E.expm1
log1p = _E.log1p
gammainc = _S.igamma
gammaincc = _S.igammac


def round(input, decimals: int = 0):  # noqa: A001,A002 - PyTorch's names
    """``torch.round`` (``decimals`` places)."""
    return _E.round(input, decimals=decimals)


__all__ = ["digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1",
           "gammainc", "gammaincc", "gammaln", "i0", "i0e", "i1", "i1e", "log1p", "log_ndtr",
           "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr", "ndtri", "polygamma",
           "psi", "round", "sinc", "softmax", "xlog1py", "xlogy", "zeta"]
