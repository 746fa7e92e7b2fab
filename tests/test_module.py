"""nn.Module API (registration, traversal, modes, conversion, state_dict, hooks, repr),
nn.summary and nn.utils (gradient clipping, parameter vectors), against PyTorch's
behaviour where torch is installed."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F


def _torch():
    return pytest.importorskip("torch")


def arr(t):
    return t.detach().numpy()


def close(a, b, atol=1e-10, rtol=1e-7):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=atol, rtol=rtol)


def build(M):
    """The same little model in both libraries (M = nn or torch.nn)."""

    class Block(M.Module):
        def __init__(self):
            super().__init__()
            self.fc = M.Linear(4, 3)
            self.scale = M.Parameter(M.Linear(1, 1).weight.detach().reshape(1) * 0 + 1)
            self.bn = M.BatchNorm1d(3)
            self.register_buffer("steps", None)
            self.register_buffer("cache", M.Linear(1, 2).bias.detach() * 0, persistent=False)

        def forward(self, x):
            return F.relu(self.bn(self.fc(x))) * self.scale if M is nn else \
                self.bn(self.fc(x)).relu() * self.scale

    class Net(M.Module):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.head = M.Sequential(M.Linear(3, 3), M.Tanh(), M.Linear(3, 2))

        def forward(self, x):
            return self.head(self.block(x))

    return Net()


# ---- registration and traversal ------------------------------------------------------------

def test_names_and_order_match_torch():
    torch = _torch()
    ours, theirs = build(nn), build(torch.nn)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for k, v in theirs.state_dict().items():
        assert tuple(ours.state_dict()[k].shape) == tuple(v.shape)
    assert [n for n, _ in ours.named_parameters(recurse=False)] == []
    assert [n for n, _ in ours.block.named_parameters(prefix="x", recurse=False)] == ["x.scale"]


def test_shared_parameters_and_modules_are_deduplicated_like_torch():
    torch = _torch()
    for M in (nn, torch.nn):
        m = M.Sequential(M.Linear(3, 3), M.Linear(3, 3))
        m[1].weight = m[0].weight  # tied weights
        shared = M.Linear(2, 2)
        outer = M.Sequential(m, shared, shared)
        names = [n for n, _ in outer.named_parameters()]
        mods = [n for n, _ in outer.named_modules()]
        keys = list(outer.state_dict())
        if M is nn:
            ours = (names, mods, keys, len(list(outer.parameters())))
        else:
            theirs = (names, mods, keys, len(list(outer.parameters())))
    assert ours == theirs
    assert ours[0] == ["0.0.weight", "0.0.bias", "0.1.bias", "1.weight", "1.bias"]
    assert "2.weight" in ours[2]  # state_dict keeps every name (as PyTorch does)


def test_remove_duplicate_false_and_shared_buffers_like_torch():
    """``remove_duplicate=False`` lists every name of a tied parameter, buffer or module
    (as ``functional_call`` needs); by default a buffer shared by two modules is listed
    once, like a shared parameter."""
    torch = _torch()

    def traverse(M, lib):
        m = M.Sequential(M.Embedding(5, 3), M.Linear(3, 5, bias=False))
        m[1].weight = m[0].weight  # weight tying (lm_head.weight = embedding.weight)
        shared = M.Linear(2, 2)
        m.append(shared)
        m.append(shared)
        buf = lib.zeros(2)
        m[0].register_buffer("pos", buf)
        m[1].register_buffer("pos", buf)
        return [[n for n, _ in m.named_parameters()],
                [n for n, _ in m.named_parameters(remove_duplicate=False)],
                [n for n, _ in m.named_buffers()],
                [n for n, _ in m.named_buffers(remove_duplicate=False)],
                [n for n, _ in m.named_modules()],
                [n for n, _ in m.named_modules(remove_duplicate=False)],
                [n for n, _ in m[1].named_parameters(prefix="h", recurse=False,
                                                     remove_duplicate=False)],
                len(list(m.parameters())), len(list(m.buffers())), list(m.state_dict())]

    ours, theirs = traverse(nn, ag), traverse(torch.nn, torch)
    assert ours == theirs
    assert ours[1] == ["0.weight", "1.weight", "2.weight", "2.bias", "3.weight", "3.bias"]
    assert ours[2] == ["0.pos"] and ours[3] == ["0.pos", "1.pos"]


def test_buffers_persistent_and_not():
    m = nn.Module()
    m.register_buffer("a", ag.zeros(2))
    m.register_buffer("b", ag.ones(1), persistent=False)
    m.register_buffer("c", None)
    assert [n for n, _ in m.named_buffers()] == ["a", "b"]
    assert list(m.state_dict()) == ["a"]
    m.a = ag.ones(2)  # assigning a tensor to a buffer name replaces the buffer
    assert (m.state_dict()["a"].numpy() == 1).all()
    m.load_state_dict({"a": np.full(2, 5.0)})
    assert (m.a.numpy() == 5).all()


def test_registration_errors_and_none_assignment():
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="nn.Parameter or None"):
        m.weight = ag.zeros(2, 2)
    with pytest.raises(TypeError, match="nn.Parameter or None"):
        m.register_parameter("w2", ag.zeros(2))
    with pytest.raises(KeyError, match="contain"):
        m.register_buffer("a.b", ag.zeros(1))
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("in_features", ag.zeros(1))
    m.bias = None  # stays registered as None, like PyTorch
    assert "bias" in m._parameters and m.bias is None
    assert list(m.state_dict()) == ["weight"]
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = m.nothing

    class Early(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def test_get_submodule_and_parameter():
    m = build(nn)
    assert m.get_submodule("head.2") is m.head[2]
    assert m.get_submodule("") is m
    assert m.get_parameter("block.fc.bias") is m.block.fc.bias
    with pytest.raises(AttributeError, match="nope"):
        m.get_submodule("block.nope")


def test_train_eval_propagate():
    m = build(nn)
    assert all(x.training for x in m.modules())
    assert m.eval() is m
    assert not any(x.training for x in m.modules())
    m.block.train()
    assert m.block.bn.training and not m.training and not m.head[0].training
    m.train()
    assert all(x.training for x in m.modules())


def test_zero_grad_and_requires_grad():
    m = build(nn)
    m(ag.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(p.grad is not None and (p.grad.numpy() == 0).all() for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_apply_visits_children_first_and_returns_self():
    m = build(nn)
    seen = []
    assert m.apply(lambda mod: seen.append(type(mod).__name__)) is m
    assert seen == ["Linear", "BatchNorm1d", "Block", "Linear", "Tanh", "Linear",
                    "Sequential", "Net"]
    m.apply(lambda mod: nn.init.zeros_(mod.bias) if isinstance(mod, nn.Linear) else None)
    assert (arr(m.head[0].bias) == 0).all()


def test_to_dtype_keeps_parameter_identity_and_buffers():
    m = build(nn)
    params = list(m.parameters())
    w = m.block.fc.weight
    m(ag.randn(5, 4)).sum().backward()
    assert m.double() is m
    assert [id(p) for p in m.parameters()] == [id(p) for p in params]
    assert all(p.dtype == ag.float64 and p.grad.dtype == ag.float64 for p in m.parameters())
    assert m.block.bn.running_mean.dtype == ag.float64
    assert m.block.bn.num_batches_tracked.dtype == ag.int64
    assert m(ag.randn(2, 4, dtype=ag.float64)).dtype == ag.float64
    m.to(dtype=ag.float32)
    assert m.block.fc.weight.dtype == ag.float32 and w is m.block.fc.weight


# ---- state_dict ---------------------------------------------------------------------------

def test_state_dict_roundtrip_and_detached():
    a, b = build(nn), build(nn)
    sd = a.state_dict()
    assert all(not t.requires_grad for t in sd.values())
    res = b.load_state_dict(sd)
    assert repr(res) == "<All keys matched successfully>"
    missing, unexpected = res
    assert missing == [] and unexpected == []
    x = ag.randn(3, 4)
    close(arr(a.eval()(x)), arr(b.eval()(x)))
    w = b.block.fc.weight
    b.load_state_dict(a.state_dict())
    assert b.block.fc.weight is w  # loaded in place: the Parameter object is kept
    assert a.state_dict(keep_vars=True)["block.fc.weight"] is a.block.fc.weight


def test_load_state_dict_reports_like_torch():
    torch = _torch()
    sd = dict(nn.Linear(4, 3).state_dict())
    sd["extra"] = ag.zeros(1)
    del sd["bias"]
    m = nn.Linear(4, 3)
    tm = torch.nn.Linear(4, 3)
    with pytest.raises(RuntimeError) as ours:
        m.load_state_dict(sd)
    with pytest.raises(RuntimeError) as theirs:
        tm.load_state_dict({k: torch.tensor(v.numpy()) for k, v in sd.items()})
    assert str(ours.value) == str(theirs.value)
    assert str(ours.value).startswith("Error(s) in loading state_dict for Linear:\n\t"
                                      'Missing key(s) in state_dict: "bias". ')
    res = m.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["bias"] and res.unexpected_keys == ["extra"]
    assert "missing_keys=['bias']" in repr(res)
    assert (arr(m.weight) == sd["weight"].numpy()).all()


def test_load_state_dict_size_mismatch_raises_and_loads_nothing():
    m = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    before = arr(m[0].weight).copy()
    sd = dict(nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 5)).state_dict())
    with pytest.raises(RuntimeError, match=r"size mismatch for 1.weight: copying a param with "
                                           r"shape torch.Size\(\[5, 3\]\) from checkpoint, "
                                           r"the shape in current model is "
                                           r"torch.Size\(\[2, 3\]\)"):
        m.load_state_dict(sd, strict=False)
    assert (arr(m[0].weight) == before).all()


def test_load_state_dict_assign_like_torch():
    """``assign=True``: the state dict's tensors become the parameters (wrapped in Parameter,
    keeping each replaced parameter's requires_grad) and buffers, in their own dtype and
    sharing memory, as PyTorch's."""
    torch = _torch()

    def trace(lib):
        lib.manual_seed(0)
        m = lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.BatchNorm1d(2))
        m[0].bias.requires_grad_(False)
        src = lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.BatchNorm1d(2)).double()
        sd = src.state_dict()
        old_weight = m[0].weight
        res = m.load_state_dict(sd, assign=True)
        w, b, rm = m[0].weight, m[0].bias, m[1].running_mean
        sd["0.weight"][0, 0] = 7.0  # shared memory: the model sees it
        sd["1.running_mean"][0] = 5.0
        return (list(res.missing_keys), list(res.unexpected_keys), type(w).__name__,
                w.requires_grad, b.requires_grad, str(w.dtype).split(".")[-1],
                str(rm.dtype).split(".")[-1], w is old_weight, w[0, 0].item(), rm[0].item(),
                m(lib.ones(4, 3, dtype=lib.float64)).sum().item())

    ours, theirs = trace(ag), trace(torch)
    assert ours[:-1] == theirs[:-1]
    close(ours[-1], theirs[-1])
    m = nn.Linear(3, 2)
    with pytest.raises(RuntimeError, match="size mismatch"):
        m.load_state_dict(nn.Linear(3, 4).state_dict(), assign=True)


def test_consume_prefix_in_state_dict_if_present_like_torch():
    theirs = _torch().nn.modules.utils.consume_prefix_in_state_dict_if_present
    from nn.modules.utils import _pair, _triple, consume_prefix_in_state_dict_if_present

    keys = ["module.0.weight", "other", "module.0.bias", "module"]
    ours_sd = dict.fromkeys(keys, 1)
    theirs_sd = dict.fromkeys(keys, 1)
    consume_prefix_in_state_dict_if_present(ours_sd, "module.")
    theirs(theirs_sd, "module.")
    assert list(ours_sd) == list(theirs_sd) == ["other", "module", "0.weight", "0.bias"]
    assert nn.modules.utils is not None and _pair(3) == (3, 3) and _pair((1, 2)) == (1, 2)
    assert _triple(2) == (2, 2, 2)
    m = nn.Sequential(nn.Linear(2, 2))
    sd = {"module." + k: v for k, v in nn.Sequential(nn.Linear(2, 2)).state_dict().items()}
    consume_prefix_in_state_dict_if_present(sd, "module.")
    assert m.load_state_dict(sd).missing_keys == []


def test_torch_weights_load_by_name_and_outputs_match():
    torch = _torch()
    ours, theirs = build(nn), build(torch.nn)
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    theirs(torch.tensor(x))  # move the running statistics away from their init
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for mode in ("train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        close(arr(ours(ag.tensor(x))), theirs(torch.tensor(x)).detach().numpy(),
              atol=1e-5, rtol=1e-5)


# ---- hooks and repr -----------------------------------------------------------------------

def test_forward_hooks():
    m = nn.Linear(3, 2)
    calls = []
    h = m.register_forward_hook(lambda mod, args, out: calls.append((mod, args, out.shape)))
    x = ag.randn(4, 3)
    m(x)
    assert calls[0][0] is m and calls[0][1][0] is x and calls[0][2] == (4, 2)
    h.remove()
    m(x)
    assert len(calls) == 1
    with m.register_forward_hook(lambda mod, args, out: out * 0):
        assert (arr(m(x)) == 0).all()
    assert (arr(m(x)) != 0).any()
    with m.register_forward_pre_hook(lambda mod, args: (args[0] * 0,)):
        close(arr(m(x)), np.broadcast_to(arr(m.bias), (4, 2)))



def _hook_trace(M, mm):
    """The order in which global and per-module hooks see a two-layer model's calls (M =
    nn or torch.nn, mm its modules.module)."""
    model = M.Sequential(M.Linear(3, 2), M.ReLU())
    names = {id(m): type(m).__name__ for m in model.modules()}
    log = []
    hs = [
        mm.register_module_forward_pre_hook(lambda m, a: log.append(("gpre", names[id(m)]))),
        mm.register_module_forward_hook(lambda m, a, o: log.append(("gpost", names[id(m)]))),
        model[0].register_forward_pre_hook(lambda m, a: log.append(("pre", "Linear"))),
        model[0].register_forward_hook(lambda m, a, o: log.append(("post", "Linear"))),
    ]
    return model, log, hs


def test_global_module_hooks_run_like_torch():
    """register_module_forward_pre_hook / register_module_forward_hook: every module call,
    global hooks before the module's own, in PyTorch's order; removable."""
    torch = _torch()
    import torch.nn.modules.module as tmm

    import nn.modules.module as mm

    logs = []
    for M, lib, x in ((nn, mm, ag.randn(4, 3)), (torch.nn, tmm, torch.randn(4, 3))):
        model, log, hs = _hook_trace(M, lib)
        try:
            model(x)
        finally:
            for h in hs:
                h.remove()
        model(x)  # removed: nothing more is logged
        logs.append(log)
    assert logs[0] == logs[1]
    assert logs[0][:3] == [("gpre", "Sequential"), ("gpre", "Linear"), ("pre", "Linear")]


def test_global_module_hooks_modify_and_flags():
    import nn.modules.module as mm
    from autograd import hooks

    before = (dict(hooks.module_forward_hooks), dict(hooks.module_forward_pre_hooks))
    m = nn.Linear(3, 2)
    x = ag.randn(4, 3)
    with mm.register_module_forward_pre_hook(lambda mod, a: a[0] * 0):  # not a tuple: wrapped
        close(arr(m(x)), np.broadcast_to(arr(m.bias), (4, 2)))
    with mm.register_module_forward_hook(lambda mod, a, o: o * 0):
        with m.register_forward_hook(lambda mod, a, o: o + 1):  # the module's own runs last
            assert (arr(m(x)) == 1).all()
    seen = []
    with mm.register_module_forward_hook(lambda mod, a, kw, o: seen.append(kw),
                                         with_kwargs=True):
        nn.Softmax()(x)
        nn.Sequential(nn.Identity())(x)
    assert seen and all(kw == {} for kw in seen)

    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    got = []
    with mm.register_module_forward_hook(lambda mod, a, o: got.append(o), always_call=True), \
            mm.register_module_forward_hook(lambda mod, a, o: got.append("never")):
        with pytest.raises(ValueError, match="boom"):
            Boom()(x)
    assert got == [None]
    # every hook registered here is gone (autograd.viz keeps its own, registered at import)
    assert (dict(hooks.module_forward_hooks), dict(hooks.module_forward_pre_hooks)) == before


def test_module_call_leaves_graph_nodes_alone():
    """Module.__call__ writes nothing into the graph (drawing tools use the global hooks)."""
    m = nn.Sequential(nn.Linear(3, 2), nn.Tanh())
    y = m(ag.randn(4, 3, requires_grad=True))
    todo, seen = [y.grad_fn], set()
    while todo:
        node = todo.pop()
        if node is None or not hasattr(node, "next_edges") or id(node) in seen:
            continue
        seen.add(id(node))
        assert "_module_call" not in vars(node)
        todo.extend(node.next_edges)

def test_repr_matches_torch():
    torch = _torch()
    for M in (nn, torch.nn):
        seq = M.Sequential(M.Linear(4, 3), M.ReLU(), M.Sequential(M.Linear(3, 2, bias=False),
                                                                  M.Softmax(dim=1)),
                           M.Dropout(0.1), M.LayerNorm(2), M.Embedding(5, 2))
        if M is nn:
            ours = repr(seq)
        else:
            theirs = repr(seq)
    assert ours == theirs
    assert ours.splitlines()[1] == "  (0): Linear(in_features=4, out_features=3, bias=True)"
    assert repr(build(nn)) == repr(build(torch.nn)).replace("torch.nn.", "")


# ---- summary ------------------------------------------------------------------------------

def test_summary_table(capsys):
    m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Sequential(nn.Linear(8, 2),
                                                                nn.BatchNorm1d(2)))
    m[2][1].weight.requires_grad_(False)
    res = nn.summary(m, (5, 4))
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert str(res) == out.rstrip("\n")
    assert lines[1].split() == ["Layer", "(type:depth-idx)", "Output", "Shape", "Param", "#",
                                "Dtype", "Device"]
    rows = [ln for ln in lines if ln.startswith(("Sequential", "├", "└", " "))]
    assert rows[0].split()[:3] == ["Sequential", "[5,", "2]"]
    assert rows[1].split() == ["├─Linear:", "1-1", "[5,", "8]", "40", "float32", "cpu"]
    assert rows[2].split() == ["├─ReLU:", "1-2", "[5,", "8]", "--", "float32", "cpu"]
    assert rows[3].split()[:2] == ["└─Sequential:", "1-3"]
    assert rows[4].split()[:5] == ["├─Linear:", "2-1", "[5,", "2]", "18"]
    assert rows[5].split()[:5] == ["└─BatchNorm1d:", "2-2", "[5,", "2]", "4"]
    assert "Total params: 62" in out and "Trainable params: 60" in out
    assert "Non-trainable params: 2" in out
    assert res.total_params == 62 and res.trainable_params == 60
    assert "Estimated Total Size (MB)" in out


def test_summary_leaves_the_model_untouched_and_handles_several_inputs(capsys):
    m = nn.Sequential(nn.BatchNorm1d(3), nn.Dropout(0.5))
    state = ag.get_rng_state()
    nn.summary(m, (4, 3))
    assert m.training and m[0].training
    assert m[0].num_batches_tracked.item() == 0 and not m[0]._forward_hooks
    assert ag.equal(ag.get_rng_state(), state)
    res = nn.summary(nn.Bilinear(2, 3, 4).double(), [(5, 2), (5, 3)], verbose=False)
    assert res.rows[0]["output_shape"] == "[5, 4]" and res.rows[0]["dtype"] == "float64"
    emb = nn.summary(nn.Embedding(10, 3), (2, 7), dtype=ag.int64, verbose=False)
    assert emb.rows[0]["output_shape"] == "[2, 7, 3]" and emb.total_params == 30
    assert capsys.readouterr().out.count("Total params") == 1


# ---- nn.utils -----------------------------------------------------------------------------

def _grads_pair(seed=0):
    torch = _torch()
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (4,), (2, 2)]
    gs = [rng.standard_normal(s) * 3 for s in shapes]
    ours = [ag.zeros(*s, dtype=ag.float64, requires_grad=True) for s in shapes]
    theirs = [torch.zeros(*s, dtype=torch.float64, requires_grad=True) for s in shapes]
    for o, t, g in zip(ours, theirs, gs):
        o.grad = ag.tensor(g)
        t.grad = torch.tensor(g)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3, float("inf"), "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1000.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = _torch()
    ours, theirs = _grads_pair()
    tn = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    on = nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    close(arr(on), tn.numpy())
    for o, t in zip(ours, theirs):
        close(o.grad.numpy(), t.grad.numpy())


def test_clip_grad_norm_edge_cases():
    p = ag.zeros(3, requires_grad=True)
    assert nn.utils.clip_grad_norm_([p], 1.0).item() == 0.0  # no gradients
    p.grad = ag.tensor([3.0, 4.0, 0.0])
    assert nn.utils.clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)  # a single tensor
    close(p.grad.numpy(), [0.6, 0.8, 0.0], atol=1e-6)
    p.grad = ag.tensor([np.inf, 1.0, 0.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    m = nn.Linear(3, 2)
    m(ag.randn(4, 3)).sum().backward()
    total = nn.utils.clip_grad_norm_(m.parameters(), 0.1)
    assert total.item() > 0.1
    after = np.sqrt(sum((p.grad.numpy() ** 2).sum() for p in m.parameters()))
    assert after == pytest.approx(0.1, rel=1e-4)


def test_clip_grad_value_matches_torch():
    torch = _torch()
    ours, theirs = _grads_pair(1)
    torch.nn.utils.clip_grad_value_(theirs, 1.5)
    assert nn.utils.clip_grad_value_(ours, 1.5) is None
    for o, t in zip(ours, theirs):
        close(o.grad.numpy(), t.grad.numpy())


def test_parameters_vector_roundtrip_and_torch():
    torch = _torch()
    ours, theirs = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    v = nn.utils.parameters_to_vector(ours.parameters())
    close(arr(v), torch.nn.utils.parameters_to_vector(theirs.parameters()).detach().numpy())
    (v * ag.arange(8, dtype=ag.float32)).sum().backward()  # differentiable
    close(ours.weight.grad.numpy(), np.arange(6).reshape(2, 3))
    new = ag.arange(8, dtype=ag.float32)
    w = ours.weight
    nn.utils.vector_to_parameters(new, ours.parameters())
    assert ours.weight is w
    close(arr(ours.weight), np.arange(6).reshape(2, 3))
    close(arr(ours.bias), [6, 7])
    with pytest.raises(TypeError, match="expected Tensor"):
        nn.utils.vector_to_parameters(np.zeros(8), ours.parameters())
    with pytest.raises(RuntimeError, match="8 elements"):
        nn.utils.vector_to_parameters(ag.zeros(7), ours.parameters())


def _errors(M, fn):
    try:
        fn(M)
    except Exception as e:  # noqa: BLE001 - the class and message are compared
        return type(e).__name__, str(e)
    return None


def test_registration_errors_like_torch():
    torch = pytest.importorskip("torch")
    T = torch.nn

    def mod(M):
        class Net(M.Module):
            def __init__(self):
                super().__init__()
                self.fc = M.Linear(2, 2)
                self.register_buffer("buf", None)
        return Net()

    cases = [
        lambda M: mod(M).add_module("a.b", M.ReLU()),
        lambda M: mod(M).add_module("", M.ReLU()),
        lambda M: mod(M).add_module("x", 3),
        lambda M: mod(M).add_module(3, M.ReLU()),
        lambda M: mod(M).add_module("forward", M.ReLU()),
        lambda M: setattr(mod(M), "fc", "string"),
        lambda M: setattr(mod(M).fc, "weight", 3),
        lambda M: setattr(mod(M), "buf", [1.0]),
        lambda M: mod(M).register_buffer("fc", None),
        lambda M: mod(M).register_buffer("a.b", None),
        lambda M: mod(M).register_buffer(1, None),
        lambda M: mod(M).register_parameter("p", 3),
        lambda M: mod(M).get_submodule("fc.weight"),
        lambda M: mod(M).get_submodule("fc.nope"),
        lambda M: M.ModuleList()(),
        lambda M: mod(M).train("yes"),
        lambda M: mod(M).to(torch.int32 if M is T else ag.int32),
        lambda M: M.Unflatten(1, (2, "a")),
        lambda M: M.Unflatten(1, 5),
        lambda M: mod(M).fc.load_state_dict({"weight": [1.0], "bias": None}),
    ]
    for i, case in enumerate(cases):
        assert _errors(nn, case) == _errors(T, case), i
    # a None child stays registered (and printed); a plain attribute may precede __init__
    for M in (nn, T):
        m = mod(M)
        m.fc = None
        assert list(m._modules) == ["fc"] and "(fc): None" in repr(m)

        class Early(M.Module):
            def __init__(self):
                self.flag = True
                super().__init__()
        assert Early().flag
    assert sorted(k for k in dir(nn.Linear(1, 1)) if not k.startswith("_"))[-3:] == [
        "type", "weight", "zero_grad"]


def test_repr_like_torch():
    torch = pytest.importorskip("torch")

    def build_(M, size):
        class Two(M.Module):
            def __init__(self):
                super().__init__()
                self.fc = M.Linear(1, 1)

            def extra_repr(self):
                return "line one\nline two"

        class Lone(M.Module):
            def extra_repr(self):
                return "a\nb"

        return M.Sequential(
            M.Sequential(Two(), Lone()),
            M.Unflatten(1, [2, 3]), M.Unflatten(1, size([2, 3])),
            M.ModuleDict({"p": M.ParameterDict({"w": M.Parameter(M.Linear(2, 2).weight.double())}),
                          "l": M.ParameterList([M.Parameter(M.Linear(2, 2).weight)])}))

    assert repr(build_(nn, ag.Size)) == repr(build_(torch.nn, torch.Size))


def test_train_calls_children_train_and_type_converts_all():
    torch = pytest.importorskip("torch")

    def run(M, lib):
        class FrozenBN(M.Module):  # keeps its BatchNorm in eval mode (a common override)
            def __init__(self):
                super().__init__()
                self.bn = M.BatchNorm1d(2)

            def train(self, mode=True):
                super().train(mode)
                self.bn.eval()
                return self

        m = M.Sequential(M.Linear(2, 2), FrozenBN())
        m.train()
        modes = [x.training for x in m.modules()]
        m.type(lib.float64)
        dts = [str(t.dtype) for t in m.state_dict().values()]
        return modes, dts

    assert run(nn, ag) == run(torch.nn, torch)
    assert run(nn, ag)[0] == [True, True, True, False]


def test_full_backward_hook_warns_when_no_input_requires_grad():
    lin = nn.Linear(2, 2)
    seen = []
    lin.register_full_backward_hook(lambda m, gi, go: seen.append(gi))
    with pytest.warns(UserWarning, match="no inputs require gradients") as rec:
        lin(ag.ones(1, 2)).sum().backward()
    assert seen == [(None,)] and rec[0].filename == __file__
