"""ParameterList, ParameterDict, Container, DataParallel and the lazy modules, against
PyTorch's behaviour (names, state_dict keys, shapes inferred, reprs, errors)."""

import math
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import autograd as ag
import nn
import optim

torch = pytest.importorskip("torch")


# ---- ParameterList ----------------------------------------------------------------------------

def test_parameter_list_like_torch():
    pl = nn.ParameterList([nn.Parameter(ag.ones(2, 3)), ag.zeros(2)])
    tpl = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(2, 3)), torch.zeros(2)])
    assert len(pl) == len(tpl) == 2
    assert all(isinstance(p, nn.Parameter) for p in pl)  # plain tensors wrapped
    assert list(pl.state_dict()) == list(tpl.state_dict()) == ["0", "1"]
    assert [n for n, _ in pl.named_parameters()] == ["0", "1"]
    pl.append(ag.ones(4))
    pl.extend([ag.ones(1), nn.Parameter(ag.ones(5))])
    pl += [ag.zeros(6)]
    assert len(pl) == 6 and pl[-1].shape == (6,) and pl[3].shape == (1,)
    assert isinstance(pl[1:3], nn.ParameterList) and len(pl[1:3]) == 2
    assert pl[1:3][0] is pl[1]
    p = nn.Parameter(ag.ones(7))
    pl[0] = p
    assert pl[0] is p and pl.state_dict()["0"].shape == (7,)
    with pytest.raises(IndexError):
        pl[10]
    with pytest.raises(RuntimeError, match="should not be called"):
        pl(1)
    with pytest.raises(TypeError):
        pl.extend(5)


def test_parameter_list_objects_repr_and_training():
    pl = nn.ParameterList([nn.Parameter(ag.ones(2, 3)), 5, "s"])
    assert list(pl.state_dict()) == ["0"]
    assert pl[1] == 5 and pl[2] == "s"
    assert repr(pl) == ("ParameterList(\n"
                        "    (0): Parameter containing: [torch.float32 of size 2x3]\n"
                        "    (1): Object of type: int\n"
                        "    (2): Object of type: str\n)")
    assert repr(nn.ParameterList()) == "ParameterList()"

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.ws = nn.ParameterList([nn.Parameter(ag.tensor([2.0])) for _ in range(3)])

        def forward(self, x):
            for w in self.ws:
                x = x * w
            return x

    m = M()
    opt = optim.SGD(m.parameters(), lr=0.1)
    m(ag.tensor([1.0])).sum().backward()
    opt.step()
    assert [float(w.item()) for w in m.ws] == pytest.approx([1.6, 1.6, 1.6])
    assert list(m.state_dict()) == ["ws.0", "ws.1", "ws.2"]
    m2 = M()
    m2.load_state_dict(m.state_dict())
    assert float(m2.ws[2].item()) == pytest.approx(1.6)
    m.double()
    assert m.ws[0].dtype == ag.float64


# ---- ParameterDict ----------------------------------------------------------------------------

def test_parameter_dict_like_torch():
    pd = nn.ParameterDict({"b": nn.Parameter(ag.ones(2)), "a": ag.zeros(3)})
    tpd = torch.nn.ParameterDict({"b": torch.nn.Parameter(torch.ones(2)), "a": torch.zeros(3)})
    assert list(pd.keys()) == list(tpd.keys()) == ["a", "b"]  # a plain dict is sorted
    assert list(pd.state_dict()) == list(tpd.state_dict())
    od = nn.ParameterDict(OrderedDict([("z", ag.ones(1)), ("y", ag.ones(2))]))
    assert list(od) == ["z", "y"]
    pairs = nn.ParameterDict([("q", ag.ones(1)), ("p", ag.ones(1))])
    assert list(pairs.keys()) == ["q", "p"]
    pd["c"] = ag.ones(4)
    assert isinstance(pd["c"], nn.Parameter) and "c" in pd and len(pd) == 3
    assert [k for k, _ in pd.items()] == ["a", "b", "c"]
    assert [tuple(v.shape) for v in pd.values()] == [(3,), (2,), (4,)]
    c = pd.pop("a")
    assert tuple(c.shape) == (3,) and "a" not in pd and "a" not in pd.state_dict()
    assert pd.get("nope") is None and pd.get("b") is pd["b"]
    k, v = pd.popitem()
    assert k == "c" and list(pd) == ["b"]
    pd.setdefault("d", ag.ones(1))
    assert list(pd) == ["b", "d"]
    cp = pd.copy()
    assert cp["b"] is pd["b"] and list(cp) == list(pd)
    merged = pd | {"e": ag.ones(2)}
    assert list(merged) == ["b", "d", "e"] and list(pd) == ["b", "d"]
    pd |= {"e": ag.ones(2)}
    assert list(pd) == ["b", "d", "e"]
    assert list(reversed(pd)) == ["e", "d", "b"]
    fk = pd.fromkeys(["x", "y"], ag.ones(2))
    assert list(fk) == ["x", "y"]
    del pd["d"]
    assert list(pd) == ["b", "e"]
    pd.clear()
    assert len(pd) == 0 and pd.state_dict() == OrderedDict()
    with pytest.raises(TypeError, match="not a string"):
        pd[1]
    with pytest.raises(KeyError):
        pd["missing"]
    with pytest.raises(ValueError, match="has length 3"):
        pd.update([("a", 1, 2)])
    with pytest.raises(TypeError):
        pd.update(5)
    with pytest.raises(RuntimeError, match="should not be called"):
        pd()
    p = nn.ParameterDict({"w": ag.ones(2, 2)})
    # PyTorch names the type as torch.typename does here, and a lone entry stays on one line
    assert repr(p) == repr(torch.nn.ParameterDict({"w": torch.ones(2, 2)})) == (
        "ParameterDict(  (w): Parameter containing: [torch.FloatTensor of size 2x2])")


# ---- Container / DataParallel -------------------------------------------------------------------

def test_container_is_deprecated_module():
    with pytest.warns(FutureWarning, match="nn.Container` is deprecated"):
        c = nn.Container(a=nn.Linear(2, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tc = torch.nn.Container(a=torch.nn.Linear(2, 3))
    assert list(c.state_dict()) == list(tc.state_dict())
    assert repr(c) == repr(tc)


def test_data_parallel_wraps_and_calls():
    lin = nn.Linear(4, 2)
    dp = nn.DataParallel(lin)
    tdp = torch.nn.DataParallel(torch.nn.Linear(4, 2))
    assert dp.module is lin
    assert list(dp.state_dict()) == list(tdp.state_dict()) == ["module.weight", "module.bias"]
    assert repr(dp) == repr(tdp)
    x = ag.randn(8, 4)
    np.testing.assert_array_equal(dp(x).detach().numpy(), lin(x).detach().numpy())
    assert dp.device_ids == tdp.device_ids == []
    dp(x).sum().backward()
    assert lin.weight.grad is not None


# ---- lazy modules -------------------------------------------------------------------------------

def test_uninitialized_parameter():
    p = nn.UninitializedParameter()
    assert repr(p) == "<UninitializedParameter>"
    with pytest.raises(RuntimeError, match="uninitialized parameter"):
        _ = p.shape
    p.materialize((2, 3))
    assert type(p) is nn.Parameter and p.shape == (2, 3) and p.requires_grad
    b = nn.UninitializedBuffer(dtype=ag.float64)
    b.materialize(4)
    assert type(b) is ag.Tensor and b.shape == (4,) and b.dtype == ag.float64


def test_lazy_linear_like_torch():
    m, tm = nn.LazyLinear(3), torch.nn.LazyLinear(3)
    assert repr(m) == repr(tm)
    assert list(m.state_dict()) == list(tm.state_dict())
    assert m.has_uninitialized_params() and tm.has_uninitialized_params()
    x = np.random.default_rng(0).standard_normal((2, 5)).astype(np.float32)
    y = m(ag.tensor(x))
    tm(torch.tensor(x))
    assert type(m) is nn.Linear and type(tm) is torch.nn.Linear
    assert repr(m) == repr(tm) and m.in_features == 5
    assert m.weight.shape == tuple(tm.weight.shape) and isinstance(m.weight, nn.Parameter)
    bound = 1 / math.sqrt(5)  # PyTorch's init, applied once the size is known
    assert np.abs(m.weight.detach().numpy()).max() <= bound
    assert np.abs(m.bias.detach().numpy()).max() <= bound
    assert m.weight.detach().numpy().std() > 0.05
    assert y.shape == (2, 3)
    # the weights copied from torch: the same numbers
    m.load_state_dict({k: v.numpy() for k, v in tm.state_dict().items()})
    np.testing.assert_allclose(m(ag.tensor(x)).detach().numpy(),
                               tm(torch.tensor(x)).detach().numpy(), rtol=1e-5)  # float32
    assert nn.LazyLinear(3, bias=False).has_uninitialized_params()
    assert nn.LazyLinear(3, bias=False).bias is None


def test_lazy_state_dict_load_materialises():
    t = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    s = nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.LazyLinear(2))
    s.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    assert s[0].weight.shape == (4, 3) and s[0].in_features == 3
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(s(ag.tensor(x)).detach().numpy(),
                               t(torch.tensor(x)).detach().numpy(), rtol=1e-6, atol=1e-7)
    assert type(s[0]) is nn.Linear


CONV_CASES = [
    ("LazyConv1d", (4, 3), {}, (2, 5, 9)),
    ("LazyConv1d", (4, 3), {"groups": 2, "bias": False}, (6, 9)),
    ("LazyConv2d", (4, 3), {"stride": 2, "padding": 1}, (2, 3, 7, 6)),
    ("LazyConv2d", (6, (3, 2)), {"dilation": 2, "groups": 3}, (3, 8, 8)),
    ("LazyConvTranspose1d", (4, 3), {"stride": 2, "output_padding": 1}, (2, 5, 6)),
    ("LazyConvTranspose2d", (4, 3), {"groups": 2}, (2, 6, 5, 5)),
    ("LazyConv3d", (4, 3), {}, (2, 3, 5, 5, 5)),
    ("LazyConvTranspose3d", (4, 3), {}, (2, 3, 4, 4, 4)),
]


@pytest.mark.parametrize("name,args,kw,shape", CONV_CASES)
def test_lazy_convs_like_torch(name, args, kw, shape):
    if not hasattr(nn, name):
        pytest.skip(f"{name[4:]} is not in nn.modules.conv yet")
    m, tm = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(m) == repr(tm)
    assert list(m.state_dict()) == list(tm.state_dict())
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    m(ag.tensor(x))
    tm(torch.tensor(x))
    assert type(m).__name__ == type(tm).__name__ == name[4:]
    assert repr(m) == repr(tm)
    assert m.weight.shape == tuple(tm.weight.shape)
    m.load_state_dict({k: v.numpy() for k, v in tm.state_dict().items()})
    np.testing.assert_allclose(m(ag.tensor(x)).detach().numpy(),
                               tm(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5)


def test_lazy_conv_errors():
    with pytest.raises(RuntimeError, match="Expected 3D \\(unbatched\\) or 4D \\(batched\\)"):
        nn.LazyConv2d(4, 3)(ag.ones(2, 3))
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.LazyConv1d(4, 3, groups=2)(ag.ones(2, 3, 9))


NORM_CASES = [
    ("LazyBatchNorm1d", {}, (4, 3)),
    ("LazyBatchNorm1d", {"affine": False}, (4, 3, 5)),
    ("LazyBatchNorm2d", {"track_running_stats": False}, (4, 3, 2, 2)),
    ("LazyBatchNorm3d", {"momentum": None}, (2, 3, 2, 2, 2)),
    ("LazyInstanceNorm1d", {}, (2, 3, 5)),
    ("LazyInstanceNorm2d", {"affine": False, "track_running_stats": False}, (2, 3, 4, 4)),
    ("LazyInstanceNorm3d", {"bias": False}, (2, 3, 2, 2, 2)),
]


@pytest.mark.parametrize("name,kw,shape", NORM_CASES)
def test_lazy_norms_like_torch(name, kw, shape):
    m = getattr(nn, name)(**kw, dtype=ag.float64)
    tm = getattr(torch.nn, name)(**kw, dtype=torch.float64)
    assert repr(m) == repr(tm)
    assert list(m.state_dict()) == list(tm.state_dict())
    x = np.random.default_rng(3).standard_normal(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # instance norm without parameters: size warning
        yo = m(ag.tensor(x))
        yt = tm(torch.tensor(x))
    assert type(m).__name__ == type(tm).__name__ == name[4:]
    assert repr(m) == repr(tm)
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-9,
                               atol=1e-10)
    for k, v in tm.state_dict().items():
        np.testing.assert_allclose(m.state_dict()[k].numpy(), v.numpy(), rtol=1e-9)


def test_lazy_module_to_dtype_before_first_call():
    b = nn.LazyBatchNorm2d().double()
    b(ag.ones(4, 3, 2, 2, dtype=ag.float64))
    assert b.running_mean.dtype == ag.float64 and b.weight.dtype == ag.float64
    m = nn.LazyLinear(2).double()
    m(ag.ones(3, 4, dtype=ag.float64))
    assert m.weight.dtype == ag.float64 and m.weight.shape == (2, 4)
