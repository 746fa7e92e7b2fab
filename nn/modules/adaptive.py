"""``nn.AdaptiveLogSoftmaxWithLoss`` (PyTorch's; Grave et al., "Efficient softmax
approximation for GPUs"): a head over the frequent classes and one cluster token per tail
cluster, each tail cluster a low-rank projection of its own."""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from autograd.backend import get_array_module
from autograd.ops import reduction as R
from autograd.ops import shape as S
from autograd.ops.indexing import gather
from autograd.tensor import Tensor, _make

from .. import functional as F
from .container import ModuleList, Sequential
from .linear import Linear
from .module import Module

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Adaptive softmax: classes below ``cutoffs[0]`` are scored by the head; the others
    through their cluster's token in the head plus a softmax inside the cluster, whose
    projection shrinks by ``div_value`` per cluster.

    Args:
        in_features: features of the input.
        n_classes: number of classes.
        cutoffs: increasing cutoffs between 1 and n_classes - 1 splitting the classes into
            clusters.
        div_value: the hidden size of cluster i is ``in_features // div_value ** (i + 1)``.
        head_bias: a bias in the head.

    Returns (forward):
        ``(output, loss)`` namedtuple: the log-probability of each target (N,) and the mean
        negative log-likelihood.

    Example:
        >>> asm = nn.AdaptiveLogSoftmaxWithLoss(16, 100, cutoffs=[10, 50])
        >>> out, loss = asm(ag.randn(4, 16), ag.tensor([1, 20, 70, 99]))
    """

    def __init__(self, in_features: int, n_classes: int, cutoffs, div_value: float = 4.0,
                 head_bias: bool = False, device=None, dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers "
                             "sorted in an increasing order, where each value is between 1 "
                             "and n_classes-1")
        kw = {"device": device, "dtype": dtype}
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, **kw)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hsz = int(in_features // (div_value ** (i + 1)))
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hsz, bias=False, **kw),
                                        Linear(hsz, osz, bias=False, **kw)))

    def reset_parameters(self) -> None:
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def forward(self, input_, target_):
        """``(output, loss)``: log-probabilities of the targets and their mean NLL.

        Args:
            input_: (N, in_features) or (in_features,).
            target_: (N,) or () class indices.
        """
        t = target_._data if isinstance(target_, Tensor) else np.asarray(target_)
        if t.ndim == 1:
            if input_.shape[0] != t.shape[0]:
                raise RuntimeError("Input and target should have the same size in the batch "
                                   "dimension.")
            if input_.ndim != 2:
                raise RuntimeError(f"1D target tensor expects 2D input tensors, but found "
                                   f"inputs with size {list(input_.shape)}")
        elif t.ndim == 0:
            if input_.ndim != 1:
                raise RuntimeError(f"0D target tensor expects 1D input tensors, but found "
                                   f"inputs with size {list(input_.shape)}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = t.ndim > 0
        x = input_ if batched else S.unsqueeze(input_, 0)
        t = t.reshape(-1)
        xp = get_array_module(t)
        n = t.shape[0]
        if n and (int(t.min()) < 0 or int(t.max()) >= self.n_classes):
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but "
                               f"values in range [{int(t.min())}, {int(t.max())}] were "
                               f"found. ")
        # the head's class for each row: its target in the shortlist, else its cluster token
        cluster = xp.searchsorted(xp.asarray(self.cutoffs), t, "right")  # 0 = shortlist
        gather_inds = xp.where(cluster == 0, t, self.shortlist_size + cluster - 1)
        head_logprob = F.log_softmax(self.head(x), dim=1)
        output = S.squeeze(gather(head_logprob, 1, gather_inds[:, None]), 1)
        pieces, rows = [], []
        for i in range(1, self.n_clusters + 1):
            r = xp.flatnonzero(cluster == i)
            if r.size == 0:
                continue
            rel = t[r] - self.cutoffs[i - 1]
            lp = F.log_softmax(self.tail[i - 1](x[r]), dim=1)
            pieces.append(S.squeeze(gather(lp, 1, rel[:, None]), 1))
            rows.append(r)
        if pieces:
            # the tail terms in row order (zero for shortlist rows)
            short = xp.flatnonzero(cluster == 0)
            pieces.insert(0, _make(xp.zeros(short.size, dtype=head_logprob.dtype)))
            order = xp.argsort(xp.concatenate([short] + rows), kind="stable")
            output = output + S.cat(pieces, 0)[order]
        loss = R.mean(-output)
        if not batched:
            output = S.squeeze(output, 0)
        return _ASMoutput(output, loss)

    def _get_full_log_prob(self, input, head_output):
        head_logprob = F.log_softmax(head_output, dim=1)
        parts = [head_logprob[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            cluster_logprob = F.log_softmax(self.tail[i](input), dim=1)
            parts.append(cluster_logprob
                         + S.unsqueeze(head_logprob[:, self.shortlist_size + i], 1))
        return S.cat(parts, 1)

    def log_prob(self, input):
        """Log-probabilities of every class: (N, n_classes).

        Example:
            >>> asm = nn.AdaptiveLogSoftmaxWithLoss(8, 20, [5, 10])
            >>> asm.log_prob(ag.randn(3, 8)).shape
            (3, 20)
        """
        return self._get_full_log_prob(input, self.head(input))

    def predict(self, input):
        """The most likely class of each row (N,), computing the full distribution only for
        rows whose head argmax is a cluster token.

        Example:
            >>> asm = nn.AdaptiveLogSoftmaxWithLoss(8, 20, [5, 10])
            >>> asm.predict(ag.randn(3, 8)).shape
            (3,)
        """
        head_output = self.head(input)
        out = R.argmax(head_output, dim=1)
        od = out._data.copy()
        xp = get_array_module(od)
        tail = od >= self.shortlist_size
        if not bool(tail.any()):
            return out
        r = xp.flatnonzero(tail)
        lp = self._get_full_log_prob(input[r], head_output[r])
        od[r] = R.argmax(lp, dim=1)._data
        return _make(od)
