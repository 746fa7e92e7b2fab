"""Linear maps: ``linear`` (fused, for speed) and ``bilinear``."""

from __future__ import annotations

from autograd.function import Op
from autograd.ops import reduction as R
from autograd.ops import shape as S
from autograd.ops.linalg import matmul, matmul_arrays

from ._utils import _shape


class Linear(Op):
    """y = x @ W.T + b, fused so backward is three GEMM-sized steps and no copies."""

    def _overload_name(self) -> str:
        """PyTorch's node for ``linear``: a 2-D input is AddmmBackward0 with a bias and
        MmBackward0 without; other inputs are folded to 2-D and viewed back, ViewBackward0
        with a bias, else UnsafeViewBackward0 (SqueezeBackward4 for a 1-D input)."""
        nd = len(self._oshape)
        if len(self.next_edges) == 3:  # called with a bias
            return "AddmmBackward0" if nd == 2 else "ViewBackward0"
        return "MmBackward0" if nd == 2 else "SqueezeBackward4" if nd == 1 else \
            "UnsafeViewBackward0"

    @staticmethod
    def forward(ctx, x, w, b=None):
        if x.shape[-1] != w.shape[1]:
            raise RuntimeError(
                f"linear: input has {x.shape[-1]} features in its last dim (shape "
                f"{list(x.shape)}), but the weight expects {w.shape[1]} (weight shape "
                f"{list(w.shape)})"
            )
        if x.dtype != w.dtype:
            raise RuntimeError(
                f"linear: input dtype {x.dtype} does not match weight dtype {w.dtype}; "
                "convert the input (x.float()) or the module (.double())"
            )
        e = ctx.next_edges
        if e:  # empty when no graph is recorded (no_grad, or no input requires grad)
            ctx.save_for_backward(x if e[1] is not None else None,
                                  w if e[0] is not None else None)
        y = matmul_arrays(x, w.T)
        if b is not None:
            y += b
        return y

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        e = ctx.next_edges
        gx = gw = gb = None
        if e[0] is not None:
            gx = matmul_arrays(gy, w)
        if e[1] is not None:
            if gy.ndim == 2:
                gw = matmul_arrays(S.transpose(gy, 0, 1), x)
            else:
                g2 = S.reshape(gy, (-1, gy.shape[-1]))
                gw = matmul_arrays(S.transpose(g2, 0, 1), S.reshape(x, (-1, x.shape[-1])))
        if len(e) > 2 and e[2] is not None:
            gb = R.sum(gy, dim=tuple(range(gy.ndim - 1))) if gy.ndim > 1 else gy
        return gx, gw, gb


def linear(input, weight, bias=None):
    """``input @ weight.T + bias`` (weight has shape (out_features, in_features))."""
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias)


def bilinear(input1, input2, weight, bias=None):
    """``y[..., o] = sum_ij x1[..., i] W[o, i, j] x2[..., j] + b[o]``."""
    o, i1, i2 = weight.shape
    if input1.shape[-1] != i1 or input2.shape[-1] != i2 or \
            tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise RuntimeError(
            f"bilinear: expected inputs of shapes [*, {i1}] and [*, {i2}] with the same "
            f"leading dims (weight shape {_shape(weight)}), got {_shape(input1)} and "
            f"{_shape(input2)}")
    lead = tuple(input1.shape[:-1])
    x1 = S.reshape(input1, (-1, i1))
    x2 = S.reshape(input2, (-1, i2))
    w2 = S.reshape(S.permute(weight, 1, 0, 2), (i1, o * i2))
    t = S.reshape(matmul(x1, w2), (-1, o, i2))
    y = R.sum(t * S.unsqueeze(x2, 1), dim=2)
    if bias is not None:
        y = y + bias
    return S.reshape(y, lead + (o,))
