"""Compiled ReLU forward and backward (numba, the ``fast`` extra; see ``autograd._numba``).

The NumPy code of ``Relu`` makes two passes in forward (the maximum, then a scan for zeros
to keep relu(-0.) = -0.) and four in backward (a comparison, its negation, the multiply and
a finiteness scan of the gradient so inf and nan pass as ``where`` would pass them). Each
kernel here is one pass over flat C-contiguous arrays (slices of them, so ``elementwise.py``
can give each engine thread one). The loops run over ``range(len)``: with a ``range(a, b)``
of arbitrary bounds numba cannot prove the indices non-negative, keeps a wraparound test per
element and does not vectorise (measured 10x slower). The selects keep PyTorch's
semantics without the extra scans: relu(-0.) = -0. and relu(nan) = nan (``v < 0`` is false
for both), and the gradient is ``0 if y <= 0 else gy`` (threshold_backward: a nan output
passes the gradient, and inf/nan gradients pass unchanged). No ``fastmath``: the nan
comparisons must stay.
"""

from __future__ import annotations

from autograd._numba import kernel


@kernel()
def relu_forward(x, y):  # pragma: no cover - compiled
    zero = x.dtype.type(0)
    for i in range(x.shape[0]):
        v = x[i]
        y[i] = zero if v < zero else v


@kernel()
def relu_backward(gy, y, out):  # pragma: no cover - compiled
    zero = gy.dtype.type(0)
    for i in range(gy.shape[0]):
        out[i] = zero if y[i] <= zero else gy[i]
