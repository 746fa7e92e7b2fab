"""PyTorch's keyword names for arguments: ``torch.add(input=x, other=y)``,
``x.mul(other=y)``, ``torch.pow(x, exponent=2)``, ``torch.mm(input=a, mat2=b)``,
``torch.sum(input=x, dim=0)``... are accepted as PyTorch accepts them (the registry's
``_keyword_aliases``), with the same results."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag

torch = pytest.importorskip("torch")


def _calls(M):
    x = M.arange(6.).reshape(2, 3)
    idx = M.tensor([[0, 1, 2], [2, 1, 0]])
    return {
        "gather": lambda: M.gather(x, dim=1, index=idx),
        "gather_input": lambda: M.gather(input=x, dim=1, index=idx),
        "scatter": lambda: M.zeros(2, 3).scatter(dim=1, index=idx, src=x),
        "add_other": lambda: M.add(x, other=x, alpha=2),
        "add_input": lambda: M.add(input=x, other=x),
        "mul_other": lambda: x.mul(other=x),
        "matmul": lambda: M.matmul(input=x, other=x.t()),
        "sum_input": lambda: M.sum(input=x, dim=0),
        "clamp": lambda: M.clamp(input=x, min=1, max=3),
        "where": lambda: M.where(condition=x > 2, input=x, other=M.zeros_like(x)),
        "cat": lambda: M.cat(tensors=[x, x], dim=0),
        "stack": lambda: M.stack(tensors=[x, x], dim=0),
        "max_dim": lambda: M.max(input=x, dim=1),
        "mean": lambda: x.mean(dim=-1, keepdim=True),
        "transpose": lambda: M.transpose(input=x, dim0=0, dim1=1),
        "reshape": lambda: M.reshape(input=x, shape=(3, 2)),
        "topk": lambda: M.topk(input=x, k=2, dim=1),
        "softmax": lambda: M.softmax(input=x, dim=1),
        "exp": lambda: M.exp(input=x),
        "pow": lambda: M.pow(input=x, exponent=2),
        "flatten": lambda: M.flatten(input=x, start_dim=0),
        "masked_fill": lambda: x.masked_fill(mask=x > 2, value=0.0),
        "index_select": lambda: M.index_select(input=x, dim=1, index=M.tensor([0, 2])),
        "unsqueeze": lambda: M.unsqueeze(input=x, dim=0).shape,
        "squeeze": lambda: M.squeeze(input=x.unsqueeze(0), dim=0).shape,
        "argmax": lambda: M.argmax(input=x, dim=1),
        "norm": lambda: M.norm(input=x, p=2, dim=1),
        "einsum": lambda: M.einsum("ij,kj->ik", x, x),
        "bmm": lambda: M.bmm(input=x[None], mat2=x.t()[None]),
        "mm": lambda: M.mm(input=x, mat2=x.t()),
        "eq": lambda: M.eq(input=x, other=x),
        "lt": lambda: x.lt(other=3),
        "sub": lambda: M.sub(input=x, other=1, alpha=2),
        "div": lambda: M.div(input=x, other=2, rounding_mode="floor"),
        "chunk": lambda: M.chunk(input=x, chunks=3, dim=1)[0],
        "split": lambda: M.split(tensor=x, split_size_or_sections=1, dim=0)[0],
        "cumsum": lambda: M.cumsum(input=x, dim=1),
        "sort": lambda: M.sort(input=x, dim=1, descending=True),
        "abs": lambda: M.abs(input=x),
        "relu": lambda: M.relu(input=x),
        "F.relu": lambda: M.nn.functional.relu(input=x),
        "F.linear": lambda: M.nn.functional.linear(input=x, weight=M.ones(2, 3)),
        "F.cross_entropy": lambda: M.nn.functional.cross_entropy(input=x, target=M.tensor([0, 1])),
        "F.mse": lambda: M.nn.functional.mse_loss(input=x, target=x * 2),
        "F.softmax": lambda: M.nn.functional.softmax(input=x, dim=1),
        "F.pad": lambda: M.nn.functional.pad(input=x, pad=(1, 1)),
        "F.dropout": lambda: M.nn.functional.dropout(input=x, p=0.0),
        "full": lambda: M.full(size=(2,), fill_value=3.0),
        "zeros": lambda: M.zeros(size=(2,)),
        "arange": lambda: M.arange(start=0, end=4, step=2),
        "linspace": lambda: M.linspace(start=0, end=1, steps=3),
        "randn_like": lambda: M.randn_like(input=x).shape,
        "repeat_interleave": lambda: M.repeat_interleave(input=x, repeats=2, dim=0).shape,
        "roll": lambda: M.roll(input=x, shifts=1, dims=1),
        "flip": lambda: M.flip(input=x, dims=(1,)),
        "tril": lambda: M.tril(input=x, diagonal=0),
        "diag": lambda: M.diag(input=x[0]),
        "outer": lambda: M.outer(input=x[0], vec2=x[1]),
        "lerp": lambda: M.lerp(input=x, end=x * 2, weight=0.5),
        "isclose": lambda: M.isclose(input=x, other=x),
        "allclose": lambda: M.allclose(input=x, other=x),
        "logsumexp": lambda: M.logsumexp(input=x, dim=1),
        "var": lambda: M.var(input=x, dim=1, unbiased=False),
        "std_correction": lambda: M.std(x, dim=1, correction=0),
    }


def _plain(v):
    if isinstance(v, tuple):
        return tuple(_plain(u) for u in v)
    if hasattr(v, "detach"):
        return np.asarray(v.detach().numpy())
    return v


@pytest.mark.parametrize("name", sorted(_calls(torch)))
def test_keyword_call_matches_torch(name):
    ours, theirs = _calls(ag)[name](), _calls(torch)[name]()
    a, b = _plain(ours), _plain(theirs)
    for u, v in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
        if isinstance(v, np.ndarray):
            assert u.dtype == v.dtype and u.shape == v.shape, name
            np.testing.assert_allclose(u, v, rtol=1e-6)
        else:
            assert u == v, name


def test_unknown_or_doubled_keywords_still_fail():
    x = ag.ones(2)
    with pytest.raises(TypeError):
        ag.add(x, x, other=x)  # other given twice
    with pytest.raises(TypeError):
        ag.exp(inp=x)
