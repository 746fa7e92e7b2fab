"""Activation modules."""

from __future__ import annotations

from autograd import dtypes as _dt
from autograd.ops import elementwise as E
from autograd.tensor import Parameter, empty

from .. import functional as F
from .. import init as _init
from .module import Module


class ReLU(Module):
    """max(0, x).

    Example:
        >>> nn.ReLU()(ag.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.relu(x, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def forward(self, x):
        return E.sigmoid(x)


class Tanh(Module):
    def forward(self, x):
        return E.tanh(x)


class Softmax(Module):
    """``exp(x) / sum(exp(x))`` along ``dim``.

    Example:
        >>> nn.Softmax(dim=1)(ag.randn(2, 3)).sum(1)
        tensor([1., 1.])
    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """``log(softmax(x))`` along ``dim``.

    Example:
        >>> y = nn.LogSoftmax(dim=1)(ag.randn(2, 3))
    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.log_softmax(x, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


# ---- norm/dropout/embedding/activations/losses family -------------------------------------

def _inplace_str(inplace: bool) -> str:
    return ", inplace=True" if inplace else ""


class LeakyReLU(Module):
    """``x`` where ``x > 0`` else ``negative_slope * x``.

    Example:
        >>> nn.LeakyReLU(0.1)(ag.tensor([-1.0, 2.0]))
        tensor([-0.1,  2. ])
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}{_inplace_str(self.inplace)}"


class ELU(Module):
    """``x`` where ``x > 0`` else ``alpha * (exp(x) - 1)``.

    Example:
        >>> y = nn.ELU(alpha=1.0)(ag.randn(4))
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x):
        return F.elu(x, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}{_inplace_str(self.inplace)}"


class GELU(Module):
    """Gaussian error linear unit ``x * Phi(x)``; ``approximate='tanh'`` for the tanh form.

    Example:
        >>> y = nn.GELU(approximate="tanh")(ag.randn(4))
    """

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = approximate  # checked by F.gelu at the call, as in PyTorch

    def forward(self, x):
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """``x * sigmoid(x)``.

    Example:
        >>> y = nn.SiLU()(ag.randn(4))
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.silu(x, self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Softplus(Module):
    """``log(1 + exp(beta x)) / beta``, linear above ``threshold``.

    Example:
        >>> y = nn.Softplus(beta=2.0)(ag.randn(4))
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """Clamp into ``[min_val, max_val]``.

    Example:
        >>> nn.Hardtanh(-2.0, 2.0)(ag.tensor([-3.0, 1.0]))
        tensor([-2.,  1.])
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__()
        if not max_val > min_val:  # PyTorch's check (an assert there): strictly greater
            raise AssertionError(f"max_val ({max_val}) must be greater than min_val "
                                 f"({min_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, x):
        return F.hardtanh(x, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_str(self.inplace)}"


class ReLU6(Hardtanh):
    """``min(max(0, x), 6)``.

    Example:
        >>> nn.ReLU6()(ag.tensor([-1.0, 7.0]))
        tensor([0., 6.])
    """

    def __init__(self, inplace: bool = False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


# ---- added for the drop-in sweep ------------------------------------------------------------

class CELU(Module):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``.

    Example:
        >>> y = nn.CELU(alpha=2.0)(ag.randn(4))
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x):
        return F.celu(x, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}{_inplace_str(self.inplace)}"


class SELU(Module):
    """Self-normalising ``scale * elu(x, alpha)`` (alpha ~ 1.6733, scale ~ 1.0507).

    Example:
        >>> y = nn.SELU()(ag.randn(4))
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.selu(x, self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class GLU(Module):
    """Gated linear unit: halves ``a, b`` of the input along ``dim``; ``a * sigmoid(b)``.

    Example:
        >>> nn.GLU()(ag.randn(4, 6)).shape
        (4, 3)
    """

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.glu(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Hardshrink(Module):
    """``x`` where ``|x| > lambd``, else 0.

    Example:
        >>> nn.Hardshrink(0.5)(ag.tensor([-1.0, 0.2, 0.7]))
        tensor([-1. ,  0. ,  0.7])
    """

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, x):
        return F.hardshrink(x, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(Module):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0.

    Example:
        >>> y = nn.Softshrink(0.5)(ag.randn(4))
    """

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, x):
        return F.softshrink(x, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Hardsigmoid(Module):
    """``relu6(x + 3) / 6``.

    Example:
        >>> y = nn.Hardsigmoid()(ag.randn(4))
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.hardsigmoid(x, self.inplace)


class Hardswish(Module):
    """``x * relu6(x + 3) / 6``.

    Example:
        >>> y = nn.Hardswish()(ag.randn(4))
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.hardswish(x, self.inplace)


class Mish(Module):
    """``x * tanh(softplus(x))``.

    Example:
        >>> y = nn.Mish()(ag.randn(4))
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.mish(x, self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class PReLU(Module):
    """``x`` where ``x > 0`` else ``a * x`` with a learnable slope ``a``: one for all
    channels or one per channel (``num_parameters`` = C), initialised to ``init``.

    Example:
        >>> act = nn.PReLU(3)
        >>> act(ag.randn(2, 3, 4)).shape
        (2, 3, 4)
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(empty(num_parameters, dtype=_dt.to_dtype(dtype)
                                      or _dt.get_default_dtype()))
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self) -> None:
        _init.constant_(self.weight, self.init)

    def forward(self, x):
        return F.prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class RReLU(Module):
    """Randomised leaky ReLU: random slopes in ``[lower, upper]`` for negative inputs in
    training, the mean slope in eval.

    Example:
        >>> y = nn.RReLU(0.1, 0.3)(ag.randn(4))
    """

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False):
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, x):
        return F.rrelu(x, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}{_inplace_str(self.inplace)}"


class Softmin(Module):
    """``softmax(-x)`` along ``dim``.

    Example:
        >>> y = nn.Softmin(dim=1)(ag.randn(2, 3))
    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmin(x, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax2d(Module):
    """Softmax over the channels of (N, C, H, W) or (C, H, W) inputs, at each position.

    Example:
        >>> y = nn.Softmax2d()(ag.randn(2, 3, 4, 4))
    """

    def forward(self, x):
        if x.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {x.ndim}D "
                             "instead")
        return F.softmax(x, -3, _stacklevel=5)


class Softsign(Module):
    """``x / (1 + |x|)``.

    Example:
        >>> y = nn.Softsign()(ag.randn(4))
    """

    def forward(self, x):
        return F.softsign(x)


class Tanhshrink(Module):
    """``x - tanh(x)``.

    Example:
        >>> y = nn.Tanhshrink()(ag.randn(4))
    """

    def forward(self, x):
        return F.tanhshrink(x)


class Threshold(Module):
    """``x`` where ``x > threshold``, else ``value``.

    Example:
        >>> nn.Threshold(0.1, 20.0)(ag.tensor([0.0, 1.0]))
        tensor([20.,  1.])
    """

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, x):
        return F.threshold(x, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}{_inplace_str(self.inplace)}"


class LogSigmoid(Module):
    """``log(sigmoid(x))``, stable.

    Example:
        >>> y = nn.LogSigmoid()(ag.randn(4))
    """

    def forward(self, x):
        return F.logsigmoid(x)
