"""``torch.dtype`` objects: ``autograd.float32`` and ``t.dtype`` print, compare, hash and
answer as PyTorch's do, and still work wherever NumPy takes a dtype."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import autograd as ag

NAMES = ["float16", "float32", "float64", "bfloat16", "complex64", "complex128", "int8",
         "int16", "int32", "int64", "uint8", "bool"]
ALIASES = {"half": "float16", "float": "float32", "double": "float64", "short": "int16",
           "int": "int32", "long": "int64", "cfloat": "complex64", "cdouble": "complex128"}


@pytest.mark.parametrize("name", NAMES)
def test_attributes_match_torch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(ag, name), getattr(torch, name)
    assert repr(ours) == repr(theirs) and str(ours) == str(theirs)
    for attr in ("is_floating_point", "is_complex", "is_signed", "itemsize"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    assert str(ours.to_real()) == str(theirs.to_real())
    if not name.startswith(("int", "uint", "bool", "bfloat", "float16")):  # no complex32
        assert str(ours.to_complex()) == str(theirs.to_complex())
    assert isinstance(ours, ag.dtype)


def test_aliases_are_the_same_objects():
    for alias, name in ALIASES.items():
        assert getattr(ag, alias) is getattr(ag, name), alias


def test_tensor_dtype_is_the_module_constant():
    x = ag.zeros(2, 3)
    assert x.dtype is ag.float32 and isinstance(x.dtype, ag.dtype)
    assert ag.tensor([1, 2]).dtype is ag.int64
    assert ag.tensor([True]).dtype is ag.bool
    assert x.double().dtype is ag.float64 and x.to(ag.float16).dtype is ag.float16
    assert ag.get_default_dtype() is ag.float32
    assert str(x.dtype) == "torch.float32"


def test_printed_like_torch():
    torch = pytest.importorskip("torch")
    cases = [lambda T: T.tensor([1.0, 2.0], dtype=T.float64),
             lambda T: T.tensor([1, 2], dtype=T.int32),
             lambda T: T.zeros(2, 3).shape,
             lambda T: [T.float32, T.int64],
             lambda T: {"dtype": T.bfloat16},
             lambda T: T.promote_types(T.int64, T.float16),
             lambda T: T.result_type(T.tensor([1]), 2.5),
             lambda T: T.tensor([[1.0, 5.0], [3.0, 2.0]]).max(0)]
    for f in cases:
        assert repr(f(ag)) == repr(f(torch))
        assert str(f(ag)) == str(f(torch))


def test_numpy_interoperates():
    d = ag.float32
    assert d == np.float32 and np.float32 == d and d == np.dtype("float32") == d
    assert d != np.float64 and not (d == np.float64) and d != ag.float64
    assert d in (np.float32, np.float64) and np.dtype("float32") in (d,)
    assert hash(d) == hash(np.dtype("float32"))
    assert {np.dtype("float32"): 1}[d] == 1 and {d: 2}[np.dtype("float32")] == 2
    assert np.zeros(2, dtype=d).dtype == np.float32
    assert np.arange(3).astype(ag.float64).dtype == np.float64
    assert np.dtype(ag.int16) == np.int16
    assert np.issubdtype(d, np.floating) and not np.issubdtype(ag.int64, np.floating)
    assert np.finfo(d).eps == np.finfo(np.float32).eps
    assert np.result_type(ag.int8, np.int16) == np.int16
    assert d.kind == "f" and d.name == "float32" and d.type is np.float32 and d.char == "f"
    assert ag.float32 != "float64" and ag.float32 != None  # noqa: E711


def test_pickle_copy_and_save(tmp_path):
    for d in (ag.float32, ag.int64, ag.bool, ag.complex64, ag.bfloat16):
        assert pickle.loads(pickle.dumps(d)) is d
        assert copy.copy(d) is d and copy.deepcopy(d) is d
    path = tmp_path / "d.pt"
    ag.save({"dtype": ag.float64, "list": [ag.int32, ag.bool]}, path)
    back = ag.load(path)
    assert back["dtype"] is ag.float64 and back["list"] == [ag.int32, ag.bool]
    assert back["list"][1] is ag.bool


def test_dtype_arguments_accept_it():
    x = ag.arange(6, dtype=ag.float32)
    assert x.view(ag.int32).dtype is ag.int32
    assert x.type(ag.float64).dtype is ag.float64
    assert ag.zeros(2, dtype=x.dtype).dtype is ag.float32
    assert ag.ones_like(x, dtype=ag.int64).dtype is ag.int64
    assert x.sum(dtype=ag.float64).dtype is ag.float64
    assert x.to(ag.tensor([1], dtype=ag.int8)).dtype is ag.int8


def test_the_checks_can_fail():
    assert ag.float32 != ag.float64 and ag.float32.is_floating_point
    assert not ag.int64.is_floating_point and not ag.uint8.is_signed
    assert ag.complex64.is_complex and not ag.float32.is_complex
