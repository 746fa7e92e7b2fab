"""The CuPy stand-in (tests/cupy_sim): that it is as strict as CuPy, and what it finds: host
transfers in a training step (0 beyond ``loss.item()``), pinned memory, the memory pool.

These run in the normal suite (the stand-in is installed for each test and removed after);
``pytest --cuda-sim -m gpu`` runs every device-parametrised "cuda" case on it.
"""

from __future__ import annotations

import json
import pathlib
import sys

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
import optim

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import cupy_sim  # noqa: E402

cp = cupy_sim.module




# ---- the stand-in is CuPy's shape ---------------------------------------------------------

def test_namespace_is_cupys():
    names = json.loads((pathlib.Path(cupy_sim.__file__).with_name("cupy_names.json")).read_text())
    assert names["cupy_version"] and len(names["cupy"]) > 400
    public = {n for n in vars(cp) if not n.startswith("_")}
    assert public <= set(names["cupy"])
    assert set(dir(cp)) == set(names["cupy"])
    for missing in ("erf", "bernoulli", "float128"):  # NumPy/SciPy names CuPy lacks
        assert missing not in names["cupy"]
        with pytest.raises(AttributeError):
            getattr(cp, missing)
    assert cupy_sim.cupyx.scipy.special.erf is not None
    with pytest.raises(AttributeError):
        cp.add.nonexistent_method  # noqa: B018
    assert set(names["ufunc_methods"]) >= {"at", "reduce", "outer"}
    with pytest.raises(NotImplementedError, match="not in the stand-in"):
        cp.RawModule(code="")  # a real CuPy name the stand-in does not implement


def test_arrays_are_not_numpy_and_refuse_implicit_conversion():
    a = cp.arange(6.0).reshape(2, 3)
    assert not isinstance(a, np.ndarray) and type(a).__name__ == "ndarray"
    for conv in (np.asarray, np.array, lambda x: x.__array__()):
        with pytest.raises(TypeError, match="Implicit conversion"):
            conv(a)
    with pytest.raises(TypeError):
        a + np.ones(3)  # a NumPy array in a CuPy op
    with pytest.raises(TypeError):
        np.ones(3) + a
    with pytest.raises(TypeError):
        cp.maximum(a, np.ones(3))
    assert isinstance(np.exp(a), cp.ndarray)  # NumPy ufunc -> CuPy's
    assert isinstance(np.concatenate([a, a]), cp.ndarray)  # NumPy function -> CuPy's
    b = cp.zeros(3)
    np.add.at(b, cp.asarray([0, 0, 2]), 1.0)  # ufunc.at via __array_ufunc__: CuPy's add.at
    np.testing.assert_array_equal(b.get(), [2.0, 0.0, 1.0])
    with pytest.raises(TypeError):
        np.busday_count(a, a)  # a NumPy function CuPy lacks
    s = a.sum()
    assert isinstance(s, cp.ndarray) and s.shape == ()  # 0-d array, not a NumPy scalar
    assert isinstance(a[0, 0], cp.ndarray)
    assert isinstance(cp.asnumpy(a), np.ndarray) and isinstance(a.get(), np.ndarray)
    assert cp.asarray(a) is a
    out = cp.empty((2, 3))
    assert cp.add(a, 1, out=out) is out


def test_transfers_are_counted():
    a = cp.arange(4.0)
    with cupy_sim._transfers.counting() as c:
        a.get()
        float(a[1])
        a.sum().item()
        repr(a)
        _ = a * 2 + cp.exp(a)  # stays on the device
    assert c.count == 4, c.where


def test_fuse_allows_only_kernel_operations():
    @cp.fuse()
    def ok(x, y):
        return cp.exp(x) * y + 1

    @cp.fuse()
    def indexes(x):
        return x[0]

    @cp.fuse()
    def syncs(x):
        return float(x.sum())

    a = cp.arange(3.0)
    np.testing.assert_allclose(ok(a, a).get(), np.exp(np.arange(3.0)) * np.arange(3.0) + 1)
    for f in (indexes, syncs):
        with pytest.raises(TypeError, match="fuse"):
            f(a)


def test_memory_pool_and_pinned_memory(sim):
    pool = cp.get_default_memory_pool()
    before = ag.cuda.memory_allocated()
    x = ag.zeros(1000, device="cuda")  # 4000 bytes
    assert ag.cuda.memory_allocated() - before == 4000
    assert ag.cuda.memory_reserved() >= ag.cuda.memory_allocated()
    del x
    assert ag.cuda.memory_allocated() == before
    assert ag.cuda.memory_reserved() >= before + 4000  # kept by the pool...
    ag.cuda.empty_cache()
    assert pool.free_bytes() == 0  # ...until emptied
    from autograd.utils.data import DataLoader, TensorDataset

    ds = TensorDataset(ag.arange(8.0).reshape(4, 2), ag.arange(4))
    batch = next(iter(DataLoader(ds, batch_size=2, pin_memory=True)))
    assert all(cupy_sim._is_pinned(t.numpy()) for t in batch)
    assert batch[0].device == "cpu"
    moved = batch[0].to("cuda", non_blocking=True)
    assert moved.device == "cuda"
    np.testing.assert_array_equal(moved.cpu().numpy(), [[0.0, 1.0], [2.0, 3.0]])
    cupy_sim._h2d_async.clear()
    gpu = list(DataLoader(ds, batch_size=2, pin_memory=True, device="cuda"))
    assert cupy_sim._h2d_async == [True] * 4  # 2 batches x (x, y): async, from pinned memory
    assert all(t.device == "cuda" for b in gpu for t in b)


# ---- training steps do no host transfers -----------------------------------------------------

def _lenet():
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, 10))


class _LSTMNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(28, 32, batch_first=True)
        self.head = nn.Linear(32, 10)

    def forward(self, x):
        out, _ = self.lstm(x.reshape(x.shape[0], 28, 28))
        return self.head(out[:, -1])


MODELS = {
    "mlp": (lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(),
                                  nn.Linear(64, 10)), optim.SGD, {"lr": 0.1, "momentum": 0.9}),
    "lenet": (_lenet, optim.Adam, {"lr": 1e-3}),
    "lstm": (_LSTMNet, optim.AdamW, {"lr": 1e-3}),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_training_step_does_no_host_transfer(name, sim, capsys):
    make, opt_cls, kw = MODELS[name]
    ag.manual_seed(0)
    model = make().to("cuda")
    opt = opt_cls(model.parameters(), **kw)
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.random((8, 1, 28, 28), dtype=np.float32)).to("cuda")
    y = ag.tensor(rng.integers(0, 10, 8)).to("cuda")
    losses = []
    counts = []
    for _ in range(3):
        with cupy_sim._transfers.counting() as c:
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            counts.append((c.count, list(c.where)))
        losses.append(loss.item())  # the one transfer the user asks for
    with capsys.disabled():
        print(f"\n[cuda-sim] {name}: device->host transfers per training step "
              f"(besides loss.item()): {[n for n, _ in counts]}")
    assert all(n == 0 for n, _ in counts), counts
    assert losses[-1] < losses[0]
