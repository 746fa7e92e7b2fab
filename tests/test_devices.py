"""Device dispatch: the same code on "cpu" (NumPy) and "cuda" (CuPy).

Every case runs on the CPU; the "cuda" parameter is marked ``gpu`` and skipped unless CuPy
sees a GPU, where it compares the GPU's values and gradients with the CPU's.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag

HAS_GPU = ag.cuda.is_available()
gpu = pytest.mark.skipif(not HAS_GPU, reason="needs CuPy and a CUDA GPU")
DEVICES = ["cpu", pytest.param("cuda", marks=[pytest.mark.gpu, gpu])]


def _run(fn, arrays, device):
    ts = [ag.tensor(a, device=device, requires_grad=a.dtype.kind == "f") for a in arrays]
    out = fn(*ts)
    out.sum().backward()
    grads = [None if t.grad is None else t.grad.cpu().numpy() for t in ts]
    return out.detach().cpu().numpy(), grads


CASES = {
    "add_broadcast": (lambda a, b: a + b, [(3, 1), (1, 4)]),
    "mul_div": (lambda a, b: a * b / (b * b + 1), [(2, 3), (2, 3)]),
    "matmul": (lambda a, b: a @ b, [(5, 3), (3, 4)]),
    "batched_matmul": (lambda a, b: a @ b, [(2, 5, 3), (3, 4)]),
    "unary_chain": (lambda a: (a.tanh() + a.sigmoid() * a.exp()).relu(), [(4, 4)]),
    "reduce_sum_mean": (lambda a: a.sum(1) + a.mean(1), [(3, 5)]),
    "shape_ops": (lambda a: a.reshape(6, 2).T.flip(0)[1:], [(3, 4)]),
    "cat_stack": (lambda a, b: ag.cat([a, b], 1) * ag.stack([a, b]).sum(0).sum(1, keepdim=True),
                  [(2, 3), (2, 3)]),
    "index": (lambda a: a[ag.tensor([0, 2, 2])] * 2, [(4, 3)]),
    "einsum": (lambda a, b: ag.einsum("ij,jk->ik", a, b), [(2, 3), (3, 2)]),
    "pad": (lambda a: ag.pad(a, (1, 2)), [(2, 3)]),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_op_on_device_matches_numpy_cpu(case, device):
    fn, shapes = CASES[case]
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    out_cpu, g_cpu = _run(fn, arrays, "cpu")
    out, g = _run(fn, arrays, device)
    assert out.shape == out_cpu.shape
    np.testing.assert_allclose(out, out_cpu, rtol=1e-6, atol=1e-9)
    for a, b in zip(g, g_cpu):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("device", DEVICES)
def test_creation_and_transfer(device):
    t = ag.zeros(2, 3, device=device)
    assert t.device == device
    assert str(t.device) == ("cpu" if device == "cpu" else "cuda:0")
    back = t.to("cpu")
    assert back.device == "cpu" and isinstance(back.numpy(), np.ndarray)
    x = ag.randn(3, requires_grad=True)
    y = x.to(device) * 2
    y.sum().backward()  # the gradient flows back across the device move
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 2.0])
    assert x.grad.device == "cpu"


def test_device_parsing():
    assert ag.device("cuda") == ag.device("cuda:0")
    assert ag.device("cpu") == "cpu"
    with pytest.raises(ValueError, match="unknown device"):
        ag.zeros(2, device="tpu")
    for d in (ag.device("cpu"), ag.device("cuda", 1), ag.device("cuda:0")):
        copy = ag.device(d)  # torch.device(a_device), as PyTorch accepts
        assert (copy.type, copy.index, str(copy), repr(copy)) == (d.type, d.index, str(d), repr(d))
    with pytest.raises(TypeError):
        ag.device(ag.device("cuda"), 1)


def test_device_as_context_manager_and_to_memory_format_like_torch():
    """``with torch.device(...)`` sets the default device for the block (nested blocks
    restore theirs); ``to(memory_format=...)`` is accepted (the values are the same)."""
    torch = pytest.importorskip("torch")

    def trace(lib):
        seen = []
        with lib.device("cpu") as d:
            seen += [str(d), str(lib.zeros(1).device), str(lib.get_default_device())]
            with lib.device("cpu"):
                seen.append(str(lib.ones(2).device))
            seen.append(str(lib.get_default_device()))
        seen.append(str(lib.get_default_device()))
        x = lib.arange(24.0).reshape(1, 2, 3, 4)
        for fmt in (lib.channels_last, lib.contiguous_format, lib.preserve_format):
            y = x.to(memory_format=fmt)
            seen += [tuple(y.shape), y.flatten().tolist() == x.flatten().tolist()]
        y = x.to("cpu", lib.float64, memory_format=lib.contiguous_format)
        seen.append(str(y.dtype).split(".")[-1])
        with pytest.raises(TypeError):
            x.to(memory_format="channels_last")
        return seen

    assert trace(ag) == trace(torch)
    assert str(ag.get_default_device()) == "cpu"


@gpu
@pytest.mark.gpu
def test_mixing_devices_raises():
    a = ag.ones(3)
    b = ag.ones(3, device="cuda")
    with pytest.raises(RuntimeError, match="same device"):
        a + b


# ---- layers, losses, training, data, files, drawings on each device --------------------------

import nn  # noqa: E402
import nn.functional as F  # noqa: E402


def _module_run(make, x_np, device, extra=None):
    ag.manual_seed(0)
    m = make()
    m.to(device)
    x = ag.tensor(x_np, device=device, requires_grad=x_np.dtype.kind == "f")
    out = m(x) if extra is None else m(x, *extra(device))
    if isinstance(out, tuple):
        out = out[0]
    (out * out).sum().backward()
    grads = {n: p.grad.cpu().numpy() for n, p in m.named_parameters() if p.grad is not None}
    gx = None if x.grad is None else x.grad.cpu().numpy()
    return out.detach().cpu().numpy(), gx, grads


LAYERS = {
    "linear": (lambda: nn.Linear(5, 3), (4, 5)),
    "conv2d": (lambda: nn.Conv2d(2, 3, 3, padding=1, stride=2), (2, 2, 7, 7)),
    "conv1d": (lambda: nn.Conv1d(2, 3, 3), (2, 2, 9)),
    "conv_transpose2d": (lambda: nn.ConvTranspose2d(2, 3, 3, stride=2), (2, 2, 4, 4)),
    "maxpool2d": (lambda: nn.MaxPool2d(2), (2, 3, 6, 6)),
    "avgpool2d": (lambda: nn.AvgPool2d(3, stride=2, padding=1), (2, 3, 6, 6)),
    "adaptive_avgpool2d": (lambda: nn.AdaptiveAvgPool2d((2, 3)), (2, 3, 7, 6)),
    "batchnorm1d": (lambda: nn.BatchNorm1d(4), (6, 4)),
    "batchnorm2d": (lambda: nn.BatchNorm2d(3), (4, 3, 5, 5)),
    "layernorm": (lambda: nn.LayerNorm(6), (3, 6)),
    "groupnorm": (lambda: nn.GroupNorm(2, 4), (3, 4, 5)),
    "gelu": (lambda: nn.GELU(), (3, 7)),
    "gelu_tanh": (lambda: nn.GELU(approximate="tanh"), (3, 7)),
    "silu_softplus_elu": (lambda: nn.Sequential(nn.SiLU(), nn.Softplus(), nn.ELU()), (3, 7)),
    "leaky_hardtanh_relu6": (lambda: nn.Sequential(nn.LeakyReLU(0.1), nn.Hardtanh(), nn.ReLU6()),
                             (3, 7)),
    "log_softmax": (lambda: nn.LogSoftmax(dim=1), (3, 7)),
    "rnn": (lambda: nn.RNN(4, 5, batch_first=True), (2, 3, 4)),
    "lstm": (lambda: nn.LSTM(4, 5, num_layers=2, batch_first=True), (2, 3, 4)),
    "gru": (lambda: nn.GRU(4, 5, bidirectional=True), (3, 2, 4)),
    "lstm_cell": (lambda: nn.LSTMCell(4, 5), (2, 4)),
    "mha": (lambda: nn.MultiheadAttention(8, 2, batch_first=True), (2, 3, 8)),
    "upsample": (lambda: nn.Upsample(scale_factor=2), (1, 2, 3, 3)),
    "fold_unfold": (lambda: nn.Unfold(2), (1, 2, 4, 4)),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_layer_on_device_matches_cpu(layer, device):
    make, shape = LAYERS[layer]
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    extra = None
    if layer == "mha":
        def extra(dev):
            y = ag.tensor(x, device=dev)
            return y, y
    want = _module_run(make, x, "cpu", extra)
    got = _module_run(make, x, device, extra)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-4, atol=1e-5)
    assert got[2].keys() == want[2].keys()
    for k in want[2]:
        np.testing.assert_allclose(got[2][k], want[2][k], rtol=1e-4, atol=1e-5, err_msg=k)


def test_embedding_on_device_matches_cpu_all():
    for device in [d if isinstance(d, str) else d.values[0] for d in DEVICES]:
        if device == "cuda" and not HAS_GPU:
            continue
        ag.manual_seed(0)
        e = nn.Embedding(6, 3, padding_idx=0).to(device)
        out = e(ag.tensor([[1, 0, 5, 5]], device=device))
        out.sum().backward()
        g = e.weight.grad.cpu().numpy()
        assert g[5].tolist() == [2.0, 2.0, 2.0] and g[0].tolist() == [0.0, 0.0, 0.0]


LOSSES = {
    "cross_entropy": lambda x, t: F.cross_entropy(x, t),
    "cross_entropy_smooth_weight": lambda x, t: F.cross_entropy(
        x, t, weight=ag.ones(5, device=x.device) * 0.5, label_smoothing=0.1, ignore_index=2),
    "nll": lambda x, t: F.nll_loss(F.log_softmax(x, 1), t),
    "mse": lambda x, t: F.mse_loss(x, x.detach() * 0.5 + 1),
    "l1_smooth_huber": lambda x, t: (F.l1_loss(x, x.detach() * 0.3) + F.smooth_l1_loss(x, x * 0)
                                     + F.huber_loss(x, x.detach() + 2)),
    "bce": lambda x, t: F.binary_cross_entropy(ag.sigmoid(x), (x.detach() > 0).float()),
    "bce_logits": lambda x, t: F.binary_cross_entropy_with_logits(x, (x.detach() > 0).float()),
    "kl_div": lambda x, t: F.kl_div(F.log_softmax(x, 1), F.softmax(x.detach() * 2, 1),
                                    reduction="batchmean"),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_loss_on_device_matches_cpu(loss, device):
    rng = np.random.default_rng(2)
    xs = rng.standard_normal((6, 5)).astype(np.float32)
    ts = rng.integers(0, 5, 6)
    res = []
    for dev in ("cpu", device):
        x = ag.tensor(xs, device=dev, requires_grad=True)
        out = LOSSES[loss](x, ag.tensor(ts, device=dev))
        out.backward()
        assert out.device == dev
        res.append((out.item(), x.grad.cpu().numpy()))
    assert res[1][0] == pytest.approx(res[0][0], rel=1e-5, abs=1e-6)
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("device", DEVICES)
def test_dataloader_moves_batches_to_device(device):
    from autograd.utils.data import DataLoader, TensorDataset

    ds = TensorDataset(ag.arange(12.0).reshape(6, 2), ag.arange(6))
    for pin in (False, True):
        batches = list(DataLoader(ds, batch_size=4, device=device, pin_memory=pin))
        assert [len(b[0]) for b in batches] == [4, 2]
        assert all(b[0].device == device and b[1].device == device for b in batches)
        np.testing.assert_array_equal(batches[1][0].cpu().numpy(), [[8.0, 9.0], [10.0, 11.0]])


@pytest.mark.parametrize("device", DEVICES)
def test_save_load_map_location(device, tmp_path):
    ag.manual_seed(0)
    m = nn.Linear(3, 2).to(device)
    path = str(tmp_path / "m.ag")
    ag.save({"sd": m.state_dict(), "t": ag.ones(2, device=device)}, path)
    same = ag.load(path)
    assert same["t"].device == device and same["sd"]["weight"].device == device
    cpu = ag.load(path, map_location="cpu")
    assert cpu["sd"]["weight"].device == "cpu"
    np.testing.assert_array_equal(cpu["sd"]["weight"].numpy(), m.weight.detach().cpu().numpy())
    back = ag.load(path, map_location=device)
    assert back["sd"]["bias"].device == device
    m2 = nn.Linear(3, 2).to(device)
    m2.load_state_dict(cpu["sd"])  # a CPU state dict into a device model: copied over
    assert m2.weight.device == device
    np.testing.assert_array_equal(m2.weight.detach().cpu().numpy(), cpu["sd"]["weight"].numpy())


@pytest.mark.parametrize("device", DEVICES)
def test_viz_of_device_tensors(device):
    from autograd import viz

    x = ag.randn(3, 4, device=device, requires_grad=True)
    with viz.record():
        y = (x.tanh() * 2).sum()
    y.backward()
    dot = str(getattr(viz.to_dot(y, show_values=True), "source", None)
              or viz.to_dot(y, show_values=True))
    assert "Tanh" in dot and "digraph" in dot
    steps = viz.backward_steps((x * x).sum())
    assert len(steps) >= 1


@pytest.mark.filterwarnings("ignore:invalid value")
@pytest.mark.parametrize("device", DEVICES)
def test_forward_nan_detection(device):
    x = ag.tensor([1.0, -1.0, 4.0], device=device, requires_grad=True)
    with pytest.raises(FloatingPointError, match="forward.*[Ll]og.*nan"):
        with ag.autograd.detect_anomaly():
            x.log()
    with ag.autograd.detect_anomaly():
        y = (x * x).sqrt().sum()
    y.backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), [1.0, -1.0, 1.0])


@pytest.mark.parametrize("device", DEVICES)
def test_random_and_creation_on_device(device):
    ag.manual_seed(3)
    for t in (ag.randn(2, 3, device=device), ag.rand(4, device=device),
              ag.randint(0, 5, (3,), device=device), ag.full((2,), 7.0, device=device),
              ag.arange(5, device=device), ag.eye(3, device=device),
              ag.zeros_like(ag.ones(2, device=device))):
        assert t.device == device
    d = nn.Dropout(0.5).to(device)
    out = d(ag.ones(1000, device=device))
    assert 300 < int((out == 0).sum().item()) < 700


# ---- every op family on the device: forward and gradient as on the CPU -----------------------

_POS = lambda a: a.abs() + 0.5  # noqa: E731  (a positive input)
SWEEP = {
    **{u: (lambda u: lambda a: getattr(ag, u)(a))(u) for u in (
        "neg", "exp", "expm1", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "abs", "square",
        "erf", "floor", "ceil", "trunc", "sign", "clone", "atan", "asinh", "round")},
    **{u: (lambda u: lambda a: getattr(ag, u)(_POS(a)))(u) for u in (
        "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "reciprocal")},
    "asin_acos_atanh": lambda a: ag.asin(a.tanh() * 0.9) + ag.acos(a.tanh() * 0.9)
    + ag.atanh(a.tanh() * 0.9),
    "acosh": lambda a: ag.acosh(_POS(a) + 1),
    "binary": lambda a: ag.atan2(a, a + 1) + ag.maximum(a, a * 0.5) + ag.minimum(a, 1 - a)
    + (a ** 2) % 1.5 + ag.fmod(a, 0.7) + ag.floor_divide(a, 0.3) + a.pow(3),
    "clamp_where": lambda a: a.clamp(-0.5, 0.5) + ag.where(a > 0, a, a * 0.1),
    "compare_logic": lambda a: a * ((a > 0) & (a < 1) | (a == 0) ^ (a != a)).float()
    + ag.logical_not(a > 0).float() + ag.isfinite(a).float() + ag.isnan(a).float(),
    "cast": lambda a: a.double().float().half().float() + a.long().float(),
    "shape": lambda a: a.permute(1, 0).reshape(-1).unsqueeze(0).expand(2, -1).flatten()
    .unflatten(0, (2, -1)).squeeze().repeat(1, 2).tile((2, 1)).roll(1, 0).fliplr().flipud()
    .contiguous().movedim(0, 1),
    "split_chunk_unbind": lambda a: ag.cat(list(a.split(2, 1)), 0).sum()
    + ag.cat(a.chunk(2, 0)).sum()
    + ag.stack(a.unbind(0)).sum() + ag.hstack([a, a]).sum() + ag.vstack([a, a]).sum(),
    "broadcast": lambda a: sum(ag.broadcast_tensors(a, a[:1])),
    "gather_scatter": lambda a: a.gather(1, ag.tensor([[0, 1], [1, 0], [2, 2]], device=a.device))
    .sum() + ag.zeros(3, 4, device=a.device).scatter_add(
        1, ag.tensor([[0, 0], [1, 3], [2, 2]], device=a.device), a[:, :2]).sum()
    + ag.zeros(3, 4, device=a.device).scatter(
        1, ag.tensor([[0, 1], [1, 3], [2, 0]], device=a.device), a[:, :2]).sum(),
    "index_select_take": lambda a: a.index_select(0, ag.tensor([2, 0, 2], device=a.device))
    + ag.take_along_dim(a, ag.tensor([[0, 1, 0, 1]] * 3, device=a.device)[:, :4], 1)[:1],
    "masked_tril_triu": lambda a: a.masked_fill(a > 0.5, 0.0) + a.tril() * 2 + a.triu(1),
    "sort_topk": lambda a: a.sort(1)[0] + a.sort(1, descending=True)[0]
    + a.topk(4, 1)[0] + a.argsort(1).float(),
    "nonzero": lambda a: a.reshape(-1)[ag.nonzero(a.reshape(-1) > 0).reshape(-1)].sum()
    + ag.argwhere(a > 0).float().sum(),
    "setitem_index": lambda a: a[ag.tensor([True, False, True], device=a.device)][:, 1:3] * 3
    + a[[0, 2], [1, 2]].sum(),
    "linalg": lambda a: (a @ a.T).sum() + ag.mm(a, a.T).sum() + ag.mv(a, a[0]).sum()
    + ag.dot(a[0], a[1]) + ag.outer(a[0], a[1]).sum() + ag.bmm(a[None], a.T[None]).sum(),
    "reductions": lambda a: a.sum() + a.mean(0).sum() + a.prod(1).sum() + a.var(1).sum()
    + a.std(0).sum() + a.amax(1).sum() + a.amin(0).sum() + a.max() + a.min(1)[0].sum()
    + a.logsumexp(1).sum() + a.norm() + a.norm(p=1, dim=1).sum() + a.median()
    + a.kthvalue(2, 1)[0].sum() + ag.var_mean(a, 1)[0].sum() + ag.std_mean(a)[1],
    "arg_reductions": lambda a: a * (a.argmax(1).float().sum() + a.argmin().float()
                                     + a.all().float() + (a > 0).any(1).float().sum()),
    "cumulative": lambda a: a.cumsum(1) + (a * 0.5 + 1).cumprod(0),
    "inplace": lambda a: a.clone().mul_(2).add_(1).clamp_(max=2.0).exp_(),
    "softmax_family": lambda a: F.softmax(a, 1) + F.log_softmax(a, 0) + F.gelu(a)
    + F.silu(a) + F.softplus(a) + F.elu(a) + F.leaky_relu(a) + F.hardtanh(a),
    "normalize_dropout_eval": lambda a: F.normalize(a, dim=1) + F.dropout(a, 0.3, training=False)
    + F.layer_norm(a, (4,)) + F.pad(a, (1, 1))[:, 1:-1],
    "conv_pool_functional": lambda a: F.max_pool1d(a[None], 2).sum() + F.avg_pool1d(a[None], 2)
    .sum() + F.conv1d(a[None], a[:2, None, :2].expand(2, 3, 2)).sum()
    + F.interpolate(a[None], scale_factor=2)
    .sum(),
    "embedding_onehot": lambda a: F.embedding(ag.tensor([0, 2, 1], device=a.device), a).sum()
    + F.one_hot(ag.tensor([0, 3], device=a.device), 4).float().sum() * a.sum(),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", sorted(SWEEP))
def test_op_sweep_on_device_matches_cpu(case, device):
    fn = SWEEP[case]
    a = np.random.default_rng(5).standard_normal((3, 4)).astype(np.float32)
    res = []
    for dev in ("cpu", device):
        x = ag.tensor(a, device=dev, requires_grad=True)
        out = fn(x)
        assert out.device == dev
        out.sum().backward()
        res.append((out.detach().cpu().numpy(),
                    None if x.grad is None else x.grad.cpu().numpy()))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=2e-5, atol=1e-5)
    if res[0][1] is not None:
        np.testing.assert_allclose(res[1][1], res[0][1], rtol=2e-5, atol=1e-5)
