"""Tensors print as PyTorch's do (values, widths, notation, summaries, suffixes), and
f-strings format one-element 0-d tensors."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
from autograd import _tensor_str

torch = pytest.importorskip("torch")

CASES = {
    "floats": lambda T: T.tensor([1.5, 2.0]),
    "ints": lambda T: T.tensor([1, 2]),
    "small": lambda T: T.tensor([[1e-5, 1.0]]),
    "scalar": lambda T: T.tensor(1.5),
    "bools": lambda T: T.tensor([True, False]),
    "empty": lambda T: T.zeros(0, 3),
    "wide": lambda T: T.tensor([1e10, 1.0]),
    "nonfinite": lambda T: T.tensor([float("nan"), float("inf"), 1.5]),
    "integer floats": lambda T: T.tensor([-1.0, 2.0]),
    "summarised 1-d": lambda T: T.arange(2000.0),
    "summarised 2-d": lambda T: T.arange(3000).reshape(30, 100),
    "3-d": lambda T: T.tensor(np.linspace(-3, 3, 40).reshape(2, 4, 5).astype(np.float32)),
    "requires grad": lambda T: T.tensor([[1.0, -2.5], [3.25, 4.0]], requires_grad=True),
    "grad_fn": lambda T: T.tensor([1.0, 2.0], requires_grad=True) * 2,
    "zeros": lambda T: T.zeros(3),
    "signed zero": lambda T: T.tensor([0.0, -0.0]),
    "int scalar": lambda T: T.tensor(7),
    "big ints as floats": lambda T: T.tensor([123456789.0, 1.0]),
    "int32": lambda T: T.tensor([1, 2], dtype=T.int32),
    "float64 matrix": lambda T: T.tensor(np.arange(1200, dtype=np.float64).reshape(40, 30) / 7),
    "float16": lambda T: T.tensor([1.0, 2.5], dtype=T.float16),
    "empty int64": lambda T: T.arange(0),
    "empty bool 2-d": lambda T: T.zeros(2, 0, dtype=T.bool),
    "max along a dim": lambda T: T.tensor([[1.0, 5.0, 5.0], [7.0, 0.0, 2.0]]).max(1),
    "sort": lambda T: T.sort(T.tensor([3, 1, 2]), descending=True),
    "aminmax": lambda T: T.aminmax(T.tensor([3.5, -1.0])),
}


def _same(s: str) -> str:
    return s.replace("torch.", "").replace("autograd.", "")


@pytest.mark.parametrize("name", sorted(CASES))
def test_repr_matches_pytorch(name):
    make = CASES[name]
    assert _same(repr(make(ag))) == _same(repr(make(torch)))
    assert str(make(ag)) == repr(make(ag))


def test_return_types_are_named_tuples():
    r = ag.tensor([[1.0, 4.0], [3.0, 2.0]]).max(1)
    values, indices = r
    assert r.values is values and r[1] is indices and r._fields == ("values", "indices")
    assert type(r) is ag.return_types.max
    assert repr(r) == str(r) and repr(r).startswith("torch.return_types.max(\nvalues=")


class _Twice(ag.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, gy):
        return gy * 2


def test_grad_fn_names_match_pytorch():
    """A node prints as PyTorch's (``<SumBackward0 object at ...>``); a custom Function's
    node is ``<ClassBackward>``, without the number."""
    for T in (ag, torch):
        x = T.ones(2, requires_grad=True)
        y = (x * 3).sum()
        assert repr(y.grad_fn).startswith("<SumBackward0 object at 0x")
        assert repr(y.grad_fn.next_functions[0][0]).startswith("<MulBackward0 object at")
        assert repr((x * 3).grad_fn.next_functions[0][0]).startswith("<AccumulateGrad object")
    ours = _Twice.apply(ag.ones(2, requires_grad=True))
    assert repr(ours) == "tensor([2., 2.], grad_fn=<_TwiceBackward>)"
    assert repr(ours.grad_fn).startswith("<_TwiceBackward object at 0x")


def test_format_of_zero_dim_tensors():
    assert f"{ag.tensor(3.14159):.2f}" == "3.14"
    assert f"{ag.tensor(12):5d}" == "   12"
    assert f"{ag.tensor([1.0, 2.0])}" == str(ag.tensor([1.0, 2.0]))
    with pytest.raises(TypeError):
        f"{ag.tensor([1.0, 2.0]):.2f}"


def test_set_printoptions_like_pytorch():
    x = np.linspace(0, 1, 7).astype(np.float32)
    try:
        for kw in (dict(precision=2), dict(profile="short"), dict(sci_mode=True),
                   dict(threshold=5, edgeitems=1), dict(linewidth=20)):
            ag.set_printoptions(**kw)
            torch.set_printoptions(**kw)
            assert _same(repr(ag.tensor(x))) == _same(repr(torch.tensor(x))), kw
            ag.set_printoptions(profile="default")
            torch.set_printoptions(profile="default")
    finally:
        ag.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")
    assert _tensor_str.get_printoptions()["precision"] == 4
    with pytest.raises(ValueError, match="profile"):
        ag.set_printoptions(profile="nope")


def test_module_reprs_match_pytorch():
    """``print(model)`` as PyTorch prints it (ModuleList runs collapsed, extra_repr fields)."""
    torch = pytest.importorskip("torch")
    import nn

    cases = [
        lambda L: L.Conv2d(3, 8, 3, stride=2, padding=1),
        lambda L: L.BatchNorm2d(8),
        lambda L: L.LSTM(4, 8, 2, batch_first=True),
        lambda L: L.MultiheadAttention(8, 2),
        lambda L: L.TransformerEncoderLayer(8, 2, 16),
        lambda L: L.Embedding(10, 4, padding_idx=0),
        lambda L: L.Sequential(L.Linear(2, 3), L.ReLU(), L.Flatten(), L.Unflatten(1, (3, 1))),
        lambda L: L.ModuleList([L.Linear(2, 2) for _ in range(3)] + [L.ReLU(), L.Tanh(),
                                                                     L.Tanh()]),
        lambda L: L.ModuleList(),
        lambda L: L.Upsample(scale_factor=2, mode="bilinear"),
        lambda L: L.GELU(approximate="tanh"),
        lambda L: L.ConvTranspose2d(3, 4, 3),
        lambda L: L.GroupNorm(2, 8),
    ]
    for make in cases:
        assert repr(make(nn)) == repr(make(torch.nn))
