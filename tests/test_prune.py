"""``nn.utils.prune`` against PyTorch's ``torch.nn.utils.prune``: the reparametrization
(``<name>_orig``, ``<name>_mask``, the forward pre-hook), every method on Linear and Conv2d
weights and biases, the seeded random methods (this engine's random stream is PyTorch's, so
the masks are equal), iterative pruning through ``PruningContainer``, ``global_unstructured``,
``custom_from_mask``, ``remove``, ``is_pruned``, ``state_dict``, gradients and a short
training loop, the entries chosen among equal scores (PyTorch's ``topk`` ties) and the errors.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
import optim
from nn.utils import prune

torch = pytest.importorskip("torch")
TP = pytest.importorskip("torch.nn.utils.prune")

HAS_GPU = ag.cuda.is_available()


def _np(t):
    return t.detach().cpu().numpy()


def _pair(kind: str, seed: int = 0, dtype: str = "float32"):
    """(ours, theirs): the same module in both, PyTorch's weights copied into ours."""
    torch.manual_seed(seed)
    theirs = (torch.nn.Linear(6, 4) if kind == "linear" else torch.nn.Conv2d(3, 5, 3))
    ours = nn.Linear(6, 4) if kind == "linear" else nn.Conv2d(3, 5, 3)
    if dtype == "float64":
        theirs.double()
        ours.double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _same_state(ours, theirs):
    so, st = ours.state_dict(), theirs.state_dict()
    assert list(so.keys()) == list(st.keys())
    for k in st:
        np.testing.assert_array_equal(_np(so[k]), st[k].detach().numpy(), err_msg=k)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]


def _same_pruned(ours, theirs, name):
    _same_state(ours, theirs)
    np.testing.assert_array_equal(_np(getattr(ours, name)),
                                  getattr(theirs, name).detach().numpy())
    assert name not in ours._parameters
    assert isinstance(ours._parameters[name + "_orig"], nn.Parameter)
    assert type(getattr(ours, name)) is ag.Tensor


CALLS = {
    "identity": lambda P, m, n: P.identity(m, n),
    "random_unstructured_float": lambda P, m, n: P.random_unstructured(m, n, amount=0.4),
    "random_unstructured_int": lambda P, m, n: P.random_unstructured(m, n, amount=3),
    "l1_unstructured_float": lambda P, m, n: P.l1_unstructured(m, n, amount=0.3),
    "l1_unstructured_int": lambda P, m, n: P.l1_unstructured(m, n, amount=2),
    "random_structured_0": lambda P, m, n: P.random_structured(m, n, amount=0.5, dim=0),
    "random_structured_last": lambda P, m, n: P.random_structured(m, n, amount=2, dim=-1),
    "ln_structured_l2": lambda P, m, n: P.ln_structured(m, n, amount=0.5, n=2, dim=0),
    "ln_structured_l1_dim1": lambda P, m, n: P.ln_structured(m, n, amount=1, n=1, dim=1),
    "ln_structured_inf": lambda P, m, n: P.ln_structured(m, n, amount=0.4, n=float("inf"),
                                                         dim=-1),
    "ln_structured_neginf": lambda P, m, n: P.ln_structured(m, n, amount=2,
                                                            n=float("-inf"), dim=0),
}
STRUCTURED = {k for k in CALLS if "structured" in k and "unstructured" not in k}


@pytest.mark.parametrize("kind", ["linear", "conv"])
@pytest.mark.parametrize("name", ["weight", "bias"])
@pytest.mark.parametrize("call", sorted(CALLS))
def test_each_function_as_pytorch(kind, name, call):
    ours, theirs = _pair(kind, seed=3)
    if call in STRUCTURED and name == "bias":  # 1-D: the same ValueError
        with pytest.raises(ValueError) as te:
            CALLS[call](TP, theirs, name)
        with pytest.raises(ValueError) as oe:
            CALLS[call](prune, ours, name)
        assert str(oe.value) == str(te.value)
        _same_state(ours, theirs)  # rolled back: the parameter is back under `name`
        assert not prune.is_pruned(ours)
        return
    torch.manual_seed(11)
    ag.manual_seed(11)
    assert CALLS[call](prune, ours, name) is ours
    CALLS[call](TP, theirs, name)
    _same_pruned(ours, theirs, name)
    assert prune.is_pruned(ours)
    hooks = list(ours._forward_pre_hooks.values())
    assert len(hooks) == 1 and isinstance(hooks[0], prune.BasePruningMethod)
    assert hooks[0]._tensor_name == name
    assert type(hooks[0]).__name__ == type(next(iter(theirs._forward_pre_hooks.values()))).__name__


def test_seeded_random_methods_float64():
    ours, theirs = _pair("conv", seed=5, dtype="float64")
    for seed in (0, 1, 2):
        torch.manual_seed(seed)
        ag.manual_seed(seed)
        TP.random_unstructured(theirs, "weight", amount=0.25)
        prune.random_unstructured(ours, "weight", amount=0.25)
        TP.random_structured(theirs, "weight", amount=1, dim=1)
        prune.random_structured(ours, "weight", amount=1, dim=1)
    _same_pruned(ours, theirs, "weight")
    # the stream is left where PyTorch leaves it
    np.testing.assert_array_equal(_np(ag.rand(5)), torch.rand(5).numpy())


def test_iterative_pruning_combines_masks():
    ours, theirs = _pair("conv", seed=7)
    steps = [lambda P, m: P.random_unstructured(m, "weight", amount=0.3),
             lambda P, m: P.ln_structured(m, "weight", amount=0.5, n=2, dim=0),
             lambda P, m: P.l1_unstructured(m, "weight", amount=10),
             lambda P, m: P.random_structured(m, "weight", amount=1, dim=1),
             lambda P, m: P.identity(m, "weight"),
             lambda P, m: P.l1_unstructured(m, "weight", amount=0.5)]
    torch.manual_seed(0)
    ag.manual_seed(0)
    for step in steps:
        step(TP, theirs)
        step(prune, ours)
        _same_pruned(ours, theirs, "weight")
    hook, = ours._forward_pre_hooks.values()
    their_hook, = theirs._forward_pre_hooks.values()
    assert isinstance(hook, prune.PruningContainer)
    assert [type(h).__name__ for h in hook] == [type(h).__name__ for h in their_hook]
    assert len(hook) == len(steps) and hook[0]._tensor_name == "weight"


def test_apply_classmethods_and_prune_method():
    ours, theirs = _pair("linear", seed=1)
    m = prune.L1Unstructured.apply(ours, "weight", amount=5)
    tm = TP.L1Unstructured.apply(theirs, "weight", amount=5)
    assert isinstance(m, prune.L1Unstructured) and m.amount == tm.amount == 5
    c = prune.LnStructured.apply(ours, "weight", 1, 2, 0)
    TP.LnStructured.apply(theirs, "weight", 1, 2, 0)
    assert isinstance(c, prune.PruningContainer) and len(c) == 2
    _same_pruned(ours, theirs, "weight")
    assert prune.L1Unstructured.PRUNING_TYPE == "unstructured"
    assert prune.LnStructured.PRUNING_TYPE == prune.RandomStructured.PRUNING_TYPE == "structured"
    assert prune.CustomFromMask.PRUNING_TYPE == "global"
    # BasePruningMethod.prune: no module involved
    x = np.array([[0.5, -0.1, 2.0], [-3.0, 0.2, 0.05]], np.float32)
    dm = np.array([[1, 1, 1], [1, 0, 1]], np.float32)
    ot = prune.L1Unstructured(amount=2).prune(ag.tensor(x), default_mask=ag.tensor(dm))
    tt = TP.L1Unstructured(amount=2).prune(torch.tensor(x), default_mask=torch.tensor(dm))
    np.testing.assert_array_equal(_np(ot), tt.numpy())
    imp = np.arange(6, dtype=np.float32).reshape(2, 3)[::-1].copy()
    ot = prune.LnStructured(1, n=1, dim=1).prune(ag.tensor(x), importance_scores=ag.tensor(imp))
    tt = TP.LnStructured(1, n=1, dim=1).prune(torch.tensor(x), importance_scores=torch.tensor(imp))
    np.testing.assert_array_equal(_np(ot), tt.numpy())


def test_importance_scores():
    ours, theirs = _pair("conv", seed=2)
    rng = np.random.default_rng(0)
    imp = rng.standard_normal((5, 3, 3, 3)).astype(np.float32)
    prune.l1_unstructured(ours, "weight", amount=0.5, importance_scores=ag.tensor(imp))
    TP.l1_unstructured(theirs, "weight", amount=0.5, importance_scores=torch.tensor(imp))
    prune.ln_structured(ours, "weight", amount=2, n=1, dim=0, importance_scores=ag.tensor(imp))
    TP.ln_structured(theirs, "weight", amount=2, n=1, dim=0,
                     importance_scores=torch.tensor(imp))
    _same_pruned(ours, theirs, "weight")
    with pytest.raises(AssertionError):
        prune.l1_unstructured(ours, "weight", amount=1, importance_scores=ag.ones(3))


def test_global_unstructured():
    torch.manual_seed(0)
    tnet = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.Flatten(),
                               torch.nn.Linear(4 * 6 * 6, 10), torch.nn.Linear(10, 3))
    onet = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(4 * 6 * 6, 10),
                         nn.Linear(10, 3))
    onet.load_state_dict({k: v.detach().numpy() for k, v in tnet.state_dict().items()})

    def params(net):
        return [(net[0], "weight"), (net[2], "weight"), (net[3], "weight"), (net[3], "bias")]

    TP.global_unstructured(params(tnet), pruning_method=TP.L1Unstructured, amount=0.2)
    assert prune.global_unstructured(params(onet), pruning_method=prune.L1Unstructured,
                                     amount=0.2) is None
    _same_state(onet, tnet)
    # again, on top (only the unpruned entries are ranked), with importance scores and a
    # random method
    imp = {(onet[3], "weight"): ag.ones(3, 10)}
    timp = {(tnet[3], "weight"): torch.ones(3, 10)}
    TP.global_unstructured(params(tnet), pruning_method=TP.L1Unstructured, amount=50,
                           importance_scores=timp)
    prune.global_unstructured(params(onet), pruning_method=prune.L1Unstructured, amount=50,
                              importance_scores=imp)
    _same_state(onet, tnet)
    torch.manual_seed(4)
    ag.manual_seed(4)
    TP.global_unstructured(params(tnet), pruning_method=TP.RandomUnstructured, amount=0.1)
    prune.global_unstructured(params(onet), pruning_method=prune.RandomUnstructured,
                              amount=0.1)
    _same_state(onet, tnet)
    for (m, n), (tm, _) in zip(params(onet), params(tnet)):
        np.testing.assert_array_equal(_np(getattr(m, n)), getattr(tm, n).detach().numpy())
        assert isinstance(m._forward_pre_hooks[next(iter(m._forward_pre_hooks))],
                          prune.BasePruningMethod)
    x = np.random.default_rng(1).standard_normal((2, 1, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(_np(onet(ag.tensor(x))), tnet(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_custom_from_mask_and_custom_method():
    ours, theirs = _pair("linear")
    prune.custom_from_mask(ours, name="bias", mask=ag.tensor([0, 1, 0, 1]))
    TP.custom_from_mask(theirs, name="bias", mask=torch.tensor([0, 1, 0, 1]))
    mask = np.random.default_rng(0).random((4, 6)) > 0.5
    prune.custom_from_mask(ours, "weight", ag.tensor(mask))
    TP.custom_from_mask(theirs, "weight", torch.tensor(mask))
    prune.custom_from_mask(ours, "weight", ag.tensor(~mask | (np.arange(6) < 3)))
    TP.custom_from_mask(theirs, "weight", torch.tensor(~mask | (np.arange(6) < 3)))
    _same_pruned(ours, theirs, "weight")
    assert str(ours.bias_mask.dtype) == "torch.float32"

    def every_other(base):
        class FooBar(base):
            PRUNING_TYPE = "unstructured"

            def compute_mask(self, t, default_mask):
                mask = default_mask.clone()
                mask.view(-1)[::2] = 0
                return mask
        return FooBar

    prune.l1_unstructured(ours, "bias", amount=1)
    TP.l1_unstructured(theirs, "bias", amount=1)
    every_other(prune.BasePruningMethod).apply(ours, "bias")
    every_other(TP.BasePruningMethod).apply(theirs, "bias")
    _same_pruned(ours, theirs, "bias")
    with pytest.raises(TypeError):
        prune.BasePruningMethod()  # abstract


def test_remove_and_is_pruned():
    ours, theirs = _pair("conv", seed=9)
    orig = ours.weight
    assert not prune.is_pruned(ours)
    prune.l1_unstructured(ours, "weight", amount=0.5)
    TP.l1_unstructured(theirs, "weight", amount=0.5)
    torch.manual_seed(2)
    ag.manual_seed(2)
    prune.random_unstructured(ours, "bias", amount=1)
    TP.random_unstructured(theirs, "bias", amount=1)
    assert ours.weight_orig is orig
    seq = nn.Sequential(nn.ReLU(), ours)
    assert prune.is_pruned(seq) and not prune.is_pruned(nn.Sequential(nn.ReLU()))
    assert prune.remove(ours, "weight") is ours
    TP.remove(theirs, "weight")
    _same_state(ours, theirs)
    assert ours.weight is orig and isinstance(ours.weight, nn.Parameter)
    assert prune.is_pruned(ours)  # the bias still is
    prune.remove(ours, "bias")
    TP.remove(theirs, "bias")
    _same_state(ours, theirs)
    assert not prune.is_pruned(ours) and not ours._forward_pre_hooks
    with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
        prune.remove(ours, "weight")


def test_ties_are_chosen_as_pytorch():
    # after remove() the zeros are ties: pruning again picks among them as PyTorch's topk
    ours, theirs = _pair("linear", seed=4)
    for P, m in ((prune, ours), (TP, theirs)):
        P.l1_unstructured(m, "weight", amount=0.5)
        P.remove(m, "weight")
        P.l1_unstructured(m, "weight", amount=5)
    _same_pruned(ours, theirs, "weight")
    # equal scores, both topk paths (k * 64 <= n: partial sort; else nth_element), NaN
    rng = np.random.default_rng(0)
    for trial in range(150):
        n = int(rng.integers(2, 300))
        v = rng.integers(0, int(rng.integers(1, 5)), n).astype(np.float32)
        if trial % 5 == 0:
            v[rng.random(n) < 0.1] = np.nan
        k = int(rng.integers(0, n + 1))
        largest = bool(trial % 2)
        got = _np(prune._topk_indices(ag.tensor(v), k, largest))
        ref = np.sort(torch.topk(torch.tensor(v), k, largest=largest).indices.numpy())
        np.testing.assert_array_equal(got, ref, err_msg=f"{v} {k} {largest}")
    # channels of equal norm (zeroed after remove)
    ours, theirs = _pair("conv", seed=4)
    for P, m in ((prune, ours), (TP, theirs)):
        P.ln_structured(m, "weight", amount=3, n=2, dim=0)
        P.remove(m, "weight")
        P.ln_structured(m, "weight", amount=1, n=2, dim=0)  # keeps 2 of the 3 zero channels
    _same_pruned(ours, theirs, "weight")


def test_state_dict_and_load():
    ours, theirs = _pair("linear", seed=6)
    prune.l1_unstructured(ours, "weight", amount=0.25)
    TP.l1_unstructured(theirs, "weight", amount=0.25)
    assert list(ours.state_dict().keys()) == ["bias", "weight_orig", "weight_mask"]
    _same_state(ours, theirs)
    fresh = prune.identity(nn.Linear(6, 4), "weight")
    fresh.load_state_dict(ours.state_dict())
    x = ag.randn(3, 6)
    np.testing.assert_array_equal(_np(fresh(x)), _np(ours(x)))  # the hook recomputes weight


def test_forward_backward_gradients():
    ours, theirs = _pair("conv", seed=8)
    torch.manual_seed(1)
    ag.manual_seed(1)
    prune.random_unstructured(ours, "weight", amount=0.4)
    TP.random_unstructured(theirs, "weight", amount=0.4)
    prune.l1_unstructured(ours, "bias", amount=2)
    TP.l1_unstructured(theirs, "bias", amount=2)
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32)
    (ours(ag.tensor(x)) ** 2).sum().backward()
    (theirs(torch.tensor(x)) ** 2).sum().backward()
    for n in ("weight_orig", "bias_orig"):
        og, tg = getattr(ours, n).grad, getattr(theirs, n).grad
        np.testing.assert_allclose(_np(og), tg.numpy(), rtol=1e-5, atol=1e-5)
    assert (_np(ours.weight_orig.grad)[_np(ours.weight_mask) == 0] == 0).all()
    assert ours.weight_mask.grad is None and not ours.weight_mask.requires_grad
    assert ours.weight.grad_fn.name() == theirs.weight.grad_fn.name()


def test_training_loop_matches_pytorch():
    torch.manual_seed(0)
    tnet = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    onet = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))
    onet.load_state_dict({k: v.detach().numpy() for k, v in tnet.state_dict().items()})
    topt = torch.optim.SGD(tnet.parameters(), lr=0.1, momentum=0.9)  # built before pruning
    oopt = optim.SGD(onet.parameters(), lr=0.1, momentum=0.9)
    torch.manual_seed(3)
    ag.manual_seed(3)
    for P, net in ((TP, tnet), (prune, onet)):
        P.random_unstructured(net[0], "weight", amount=0.5)
        P.ln_structured(net[2], "weight", amount=1, n=1, dim=0)
        P.l1_unstructured(net[2], "bias", amount=1)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 5)).astype(np.float32)
    y = rng.integers(0, 3, 16)
    for _ in range(5):
        topt.zero_grad()
        oopt.zero_grad()
        tl = torch.nn.functional.cross_entropy(tnet(torch.tensor(x)), torch.tensor(y))
        ol = F.cross_entropy(onet(ag.tensor(x)), ag.tensor(y))
        tl.backward()
        ol.backward()
        topt.step()
        oopt.step()
        np.testing.assert_allclose(ol.item(), tl.item(), rtol=1e-5)
    for (on, op), (tn, tp) in zip(onet.named_parameters(), tnet.named_parameters()):
        assert on == tn
        np.testing.assert_allclose(_np(op), tp.detach().numpy(), rtol=1e-5, atol=1e-6)
    for P, net in ((TP, tnet), (prune, onet)):
        P.remove(net[0], "weight")
        P.remove(net[2], "weight")
        P.remove(net[2], "bias")
    for (on, op), (tn, tp) in zip(onet.named_parameters(), tnet.named_parameters()):
        assert on == tn
        np.testing.assert_allclose(_np(op), tp.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_pruning_container():
    a = prune.L1Unstructured(amount=1)
    a._tensor_name = "weight"
    b = prune.RandomUnstructured(amount=1)
    b._tensor_name = "bias"
    c = prune.PruningContainer(a)
    assert len(c) == 1 and c[0] is a and list(c) == [a] and c._tensor_name == "weight"
    with pytest.raises(ValueError, match="Can only add pruning methods acting on the parameter "
                                         "named 'weight'"):
        c.add_pruning_method(b)
    with pytest.raises(TypeError, match="is not a BasePruningMethod subclass"):
        c.add_pruning_method("x")
    # structured methods need `dim`
    s = prune.LnStructured(amount=1, n=2)
    s._tensor_name = "weight"
    del s.dim
    c.add_pruning_method(s)
    with pytest.raises(AttributeError, match="need to have the attribute `dim` defined"):
        c.compute_mask(ag.ones(3, 3), ag.ones(3, 3))


ERRORS = [
    (lambda P, m: P.l1_unstructured(m, "weight", amount=1.5), ValueError),
    (lambda P, m: P.l1_unstructured(m, "weight", amount=-1), ValueError),
    (lambda P, m: P.l1_unstructured(m, "weight", amount=-0.1), ValueError),
    (lambda P, m: P.random_unstructured(m, "weight", amount="0.3"), TypeError),
    (lambda P, m: P.random_unstructured(m, "weight", amount=None), TypeError),
    (lambda P, m: P.l1_unstructured(m, "weight", amount=25), ValueError),
    (lambda P, m: P.random_unstructured(m, "bias", amount=5), ValueError),
    (lambda P, m: P.ln_structured(m, "weight", amount=5, n=2, dim=0), ValueError),
    (lambda P, m: P.random_structured(m, "weight", amount=7, dim=1), ValueError),
    (lambda P, m: P.ln_structured(m, "weight", amount=1, n=2, dim=2), IndexError),
    (lambda P, m: P.random_structured(m, "weight", amount=1, dim=5), IndexError),
    (lambda P, m: P.ln_structured(m, "bias", amount=1, n=2, dim=0), ValueError),
    (lambda P, m: P.remove(m, "weight"), ValueError),
    (lambda P, m: P.global_unstructured(5, P.L1Unstructured, amount=1), TypeError),
    (lambda P, m: P.global_unstructured([(m, "weight")], P.L1Unstructured,
                                        importance_scores=[1], amount=1), TypeError),
    (lambda P, m: P.global_unstructured([(m, "weight")], P.LnStructured, amount=1, n=2),
     TypeError),
    (lambda P, m: P.l1_unstructured(m, "nope", amount=1), AttributeError),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_as_pytorch(i):
    call, exc = ERRORS[i]
    ours, theirs = _pair("linear")
    with pytest.raises(exc) as te:
        call(TP, theirs)
    with pytest.raises(exc) as oe:
        call(prune, ours)
    if exc is not AttributeError:
        assert (str(oe.value).split(" of module")[0]
                == str(te.value).replace("torch.nn.utils.prune", "nn.utils.prune")
                .split(" of module")[0])
    _same_state(ours, theirs)  # nothing changed (the failed pruning was rolled back)
    assert prune.is_pruned(ours) == TP.is_pruned(theirs) is False


def test_importable_as_pytorch_lays_it_out():
    import nn.utils.prune as p  # noqa: PLC0415 - the import itself is the test

    assert p is prune is nn.utils.prune
    for name in ("BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured",
                 "L1Unstructured", "RandomStructured", "LnStructured", "CustomFromMask",
                 "identity", "random_unstructured", "l1_unstructured", "random_structured",
                 "ln_structured", "global_unstructured", "custom_from_mask", "remove",
                 "is_pruned"):
        assert hasattr(p, name) and hasattr(TP, name)


@pytest.mark.gpu
@pytest.mark.skipif(not HAS_GPU, reason="needs CuPy and a CUDA GPU")
def test_on_cuda_as_on_cpu():
    ours, _ = _pair("conv", seed=2)
    gpu, _ = _pair("conv", seed=2)
    gpu.to("cuda")
    for m in (ours, gpu):
        ag.manual_seed(0)
        prune.l1_unstructured(m, "weight", amount=0.3)
        prune.ln_structured(m, "weight", amount=2, n=2, dim=0)
        prune.global_unstructured([(m, "weight"), (m, "bias")], prune.L1Unstructured,
                                  amount=3)
        prune.remove(m, "weight")
    np.testing.assert_array_equal(_np(gpu.weight), _np(ours.weight))
    np.testing.assert_array_equal(_np(gpu.bias_mask), _np(ours.bias_mask))
