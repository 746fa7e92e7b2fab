"""Tests of the training library (``nn.zoo``: the models; ``nn.training``: the epoch loop
with its divergence stop, evaluation, checkpoints with exact resume) and of the command lines
``scripts/train.py`` and ``scripts/experiments.py``, on the bundled Fashion-MNIST sample
(``--quick``: a few hundred images, 2 epochs)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
import optim
from autograd.data import DataLoader, TensorDataset
from nn.training import (
    CheckpointError,
    TrainingDiverged,
    evaluate,
    load_checkpoint,
    random_hflip,
    save_checkpoint,
    train_epoch,
)
from nn.zoo import MODELS, AutoEncoder, RowLSTM, Standardize, build_model

ROOT = Path(__file__).resolve().parents[1]


def _script(name: str):
    """``scripts/<name>.py`` as a module, loaded from its file (scripts/ is not a package).

    Registered under its own name, so that experiments.py's ``import train`` finds it.
    """
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


train = _script("train")
experiments = _script("experiments")


def _metrics(folder: Path) -> dict:
    return json.loads((folder / "metrics.json").read_text())


@pytest.mark.parametrize("model", MODELS)
def test_quick_run_every_model_loss_falls(model, tmp_path, capsys):
    assert train.main(["--model", model, "--quick", "--no-progress", "--out",
                       str(tmp_path)]) == 0
    m = _metrics(tmp_path)
    epochs = m["epochs"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert epochs[1]["train_loss"] < epochs[0]["train_loss"]
    assert m["train_size"] == train.QUICK_TRAIN and m["test_size"] == train.QUICK_TEST
    assert (tmp_path / "curves.png").stat().st_size > 0
    out = capsys.readouterr().out
    assert "epoch   2/2  train loss" in out and "test loss" in out
    if model == "autoencoder":
        assert epochs[0]["test_acc"] is None and m["final_test_mse"] > 0
        assert (tmp_path / "reconstructions.png").stat().st_size > 0
    else:
        assert 0.0 <= m["final_test_acc"] <= 1.0


@pytest.mark.parametrize("model", ["cnn-bn", "lstm"])
def test_resume_equals_uninterrupted_run(model, tmp_path):
    # dropout, shuffling and the random flips (--augment) all draw from the package RNG
    base = ["--model", model, "--quick", "--no-progress", "--epochs", "2", "--augment"]
    full, part = tmp_path / "full.ag", tmp_path / "part.ag"
    assert train.main(base + ["--out", str(tmp_path / "a"), "--checkpoint", str(full)]) == 0
    assert train.main(base + ["--out", str(tmp_path / "b"), "--checkpoint", str(part),
                              "--stop-after", "1"]) == 0
    assert ag.load(part)["epoch"] == 1
    ag.manual_seed(123)  # the resumed run must not depend on the RNG state it starts with
    assert train.main(base + ["--out", str(tmp_path / "b"), "--checkpoint", str(part),
                              "--resume"]) == 0
    a, b = ag.load(full), ag.load(part)
    assert a["epoch"] == b["epoch"] == 2
    assert a["model"].keys() == b["model"].keys()
    for k in a["model"]:
        assert np.array_equal(a["model"][k].numpy(), b["model"][k].numpy()), k
    for sa, sb in zip(a["optimizer"]["state"].values(), b["optimizer"]["state"].values()):
        for k in sa:
            assert np.array_equal(np.asarray(sa[k].numpy()), np.asarray(sb[k].numpy())), k
    ha, hb = _metrics(tmp_path / "a")["epochs"], _metrics(tmp_path / "b")["epochs"]
    assert [(h["train_loss"], h["test_loss"]) for h in ha] == [
        (h["train_loss"], h["test_loss"]) for h in hb]


def test_nan_loss_stops_with_the_op_that_produced_it(tmp_path, capsys):
    with np.errstate(all="ignore"):
        rc = train.main(["--model", "mlp", "--quick", "--no-progress", "--optimizer", "sgd",
                         "--lr", "1e30", "--out", str(tmp_path)])
    assert rc == 1
    err = capsys.readouterr().err
    assert "training stopped: the loss became nan at epoch 1" in err
    assert "ag.detect_anomaly()" in err
    assert "anomaly detected in forward: Linear produced" in err
    assert "(in module 4 (Linear))" in err
    assert "anomaly detected" in _metrics(tmp_path)["stopped"]


def test_per_model_defaults():
    a = train.parse_args(["--model", "nielsen"])
    assert (a.optimizer, a.lr, a.batch_size, a.epochs, a.cost) == ("sgd", 3.0, 10, 30,
                                                                    "quadratic")
    a = train.parse_args(["--model", "nielsen", "--cost", "cross-entropy", "--l2", "5"])
    assert a.lr == train.NIELSEN_CE_LR and a.l2 == 5.0
    a = train.parse_args(["--model", "lstm", "--quick"])
    assert a.epochs == train.QUICK_EPOCHS and a.dataset == "sample"
    assert train.parse_args(["--model", "lstm", "--quick", "--epochs", "1"]).epochs == 1
    assert train.parse_args([]).dataset == "fashion-mnist"


def test_nielsen_l2_term_is_lambda_over_2n_sum_of_weights_squared():
    args = train.parse_args(["--model", "nielsen", "--l2", "5.0"])
    ag.manual_seed(0)
    model = build_model("nielsen", args.cost)
    loss_fn, data_loss = train.make_loss(args, 1000)
    x, y = ag.rand(3, 1, 28, 28), ag.tensor([1, 2, 3])
    out = model(x)
    reg = sum(float((p.detach().numpy().astype(np.float64) ** 2).sum())
              for n, p in model.named_parameters() if n.endswith("weight"))
    diff = loss_fn(model, out, x, y).item() - data_loss(model, out, x, y).item()
    assert diff == pytest.approx(5.0 / (2 * 1000) * reg, rel=1e-5)
    # quadratic cost: 1/(2m) sum ||y - sigmoid(z)||^2 over the batch
    a = 1 / (1 + np.exp(-out.detach().numpy().astype(np.float64)))
    target = np.eye(10)[[1, 2, 3]]
    assert data_loss(model, out, x, y).item() == pytest.approx(
        0.5 * ((a - target) ** 2).sum() / 3, rel=1e-5)


def test_xor_hand_set_weights_give_exactly_xor():
    assert experiments.xor_hand_set() == [0.0, 1.0, 1.0, 0.0]


def test_xor_learned_from_random_initialisation():
    res = experiments.xor_learned(seeds=2, steps=2000, first=8)  # seed 8 solves it
    assert res["runs"][0]["solved"] and res["runs"][0]["loss"] < 1e-4
    for r in res["runs"]:  # either solved, or stuck in a local minimum with a clear gap
        assert r["solved"] == (r["loss"] < 0.01)


def test_perceptron_converges_on_and_and_cycles_on_xor():
    res = experiments.perceptron(experiments.AND_Y)
    assert res["converged"] and res["epochs"] == 6
    assert res["w"] == [2.0, 1.0] and res["b"] == -2.0
    assert res["errors"] == [1, 3, 3, 2, 1, 0]
    res = experiments.perceptron(experiments.XOR_Y, max_epochs=100)
    assert not res["converged"] and res["epochs"] == 100
    assert min(res["errors"]) > 0 and res["cycle"] is not None


def test_mlp_learns_xor():
    res = experiments.mlp_xor()
    assert res["solved"] and res["predictions"] == [0, 1, 1, 0]


def test_experiments_cli_xor_perceptron_and_optimizers(tmp_path, capsys):
    out_dir = ["--out", str(tmp_path)]
    assert experiments.main(["perceptron", *out_dir]) == 0
    assert experiments.main(["xor", "--seeds", "1", "--steps", "200", *out_dir]) == 0
    assert json.loads((tmp_path / "xor" / "xor.json").read_text())["hand_set_outputs"] == [
        0.0, 1.0, 1.0, 0.0]
    assert json.loads((tmp_path / "perceptron" / "perceptron.json").read_text())["and"][
        "epochs"] == 6
    out = capsys.readouterr().out
    assert "AND: converged after 6 epochs" in out and "XOR: did NOT converge" in out
    assert "exactly XOR: True" in out
    assert experiments.main(["optimizers", "--quick", "--epochs", "1", "--out",
                             str(tmp_path)]) == 0
    assert (tmp_path / "optimizers" / "optimizers.png").stat().st_size > 0
    summary = json.loads((tmp_path / "optimizers" / "summary.json").read_text())
    assert set(summary) == {"sgd", "momentum", "adam"}


def test_results_table_lists_the_runs(tmp_path):
    assert train.main(["--model", "mlp", "--quick", "--no-progress", "--epochs", "1", "--out",
                       str(tmp_path / "mlp")]) == 0
    table = experiments.results_table(tmp_path)
    lines = table.splitlines()
    assert len(lines) == 3 and lines[2].startswith("| (4) MLP")
    assert "`python scripts/train.py --model mlp --quick" in lines[2]


# ---- nn.zoo ---------------------------------------------------------------------------------

# Parameter counts, layer by layer (weight + bias; BatchNorm: weight + bias per channel).
PARAMS = {
    "mlp": (784 * 256 + 256) + (256 * 128 + 128) + (128 * 10 + 10),
    "nielsen": (784 * 30 + 30) + (30 * 10 + 10),
    "lenet": (6 * 25 + 6) + (16 * 6 * 25 + 16) + (400 * 120 + 120) + (120 * 84 + 84)
    + (84 * 10 + 10),
    "cnn-bn": 9 * (1 * 32 + 32 * 32 + 32 * 64 + 64 * 64) + 2 * (32 + 32 + 64 + 64)
    + 64 * 7 * 7 * 256 + 2 * 256 + (256 * 10 + 10),
    "lstm": 4 * 128 * (28 + 128) + 2 * 4 * 128 + (128 * 10 + 10),
    "autoencoder": (784 * 256 + 256) + (256 * 64 + 64) + (64 * 256 + 256) + (256 * 784 + 784),
}


def test_the_zoo_lists_every_model():
    assert set(MODELS) == set(PARAMS)


@pytest.mark.parametrize("name", MODELS)
def test_build_model_parameter_count_and_output_shape(name):
    ag.manual_seed(0)
    model = build_model(name)
    assert sum(p.numel() for p in model.parameters()) == PARAMS[name]
    model.eval()
    with ag.no_grad():
        out = model(ag.rand(3, 1, 28, 28))
    assert out.shape == ((3, 784) if name == "autoencoder" else (3, 10))
    assert bool(ag.isfinite(out).all().item())


def test_build_model_is_seeded_and_rejects_unknown_names():
    ag.manual_seed(1)
    a = build_model("lenet").state_dict()
    ag.manual_seed(1)
    b = build_model("lenet").state_dict()
    assert all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in a)
    with pytest.raises(ValueError, match="unknown model 'resnet'"):
        build_model("resnet")


def test_nielsen_initialisation_follows_the_book():
    ag.manual_seed(0)
    w = build_model("nielsen", "quadratic")[1].weight.detach().numpy()
    assert abs(w.std() - 1.0) < 0.05  # chapter 1: N(0, 1)
    w = build_model("nielsen", "cross-entropy")[1].weight.detach().numpy()
    assert abs(w.std() * np.sqrt(784) - 1.0) < 0.05  # chapter 3: N(0, 1/n_in)


def test_zoo_modules():
    x = ag.full((2, 1, 28, 28), 0.5)
    assert np.allclose(Standardize()(x).numpy(), (0.5 - 0.2860) / 0.3530)
    assert "mean=0.286" in repr(Standardize())
    ag.manual_seed(0)
    assert RowLSTM(8)(x).shape == (2, 10)
    rec = AutoEncoder().reconstruct(x)
    assert rec.shape == x.shape
    assert 0.0 <= float(rec.min().item()) and float(rec.max().item()) <= 1.0


# ---- nn.training ----------------------------------------------------------------------------

def _ce(model, out, x, y):
    return F.cross_entropy(out, y)


def _toy_data(n: int = 48):
    g = np.random.default_rng(0)
    x = g.random((n, 1, 4, 4), dtype=np.float32)
    y = (x.reshape(n, -1).sum(1) > 8).astype(np.int64)
    return TensorDataset(ag.tensor(x), ag.tensor(y))


def _toy_run(path: Path, epochs: range, resume: bool):
    """A small run with everything that draws from the package RNG (shuffling, dropout,
    random flips), Adam and a cosine schedule, checkpointed after every epoch."""
    ag.manual_seed(7)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 12), nn.ReLU(), nn.Dropout(0.3),
                          nn.Linear(12, 2))
    loader = DataLoader(_toy_data(), batch_size=10, shuffle=True)
    opt = optim.Adam(model.parameters(), lr=0.01)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=3 * len(loader))
    history = []
    if resume:
        ag.manual_seed(999)  # the resumed run must not depend on the RNG state it starts with
        ck = load_checkpoint(path, model, opt, sched, model_name="toy")
        history = ck["history"]
        assert ck["epoch"] == epochs.start - 1
    for epoch in epochs:
        stats = train_epoch(model, loader, _ce, opt, sched, epoch=epoch, augment=random_hflip)
        history.append(stats["loss"])
        save_checkpoint(path, model, opt, sched, epoch=epoch, history=history,
                        model_name="toy")
    return model, opt, history


def test_exact_resume_is_bitwise(tmp_path):
    full, part = tmp_path / "full.ag", tmp_path / "part.ag"
    m_full, o_full, h_full = _toy_run(full, range(1, 4), resume=False)
    _toy_run(part, range(1, 2), resume=False)  # interrupted after epoch 1
    m_part, o_part, h_part = _toy_run(part, range(2, 4), resume=True)
    assert h_full == h_part
    a, b = m_full.state_dict(), m_part.state_dict()
    for k in a:
        assert np.array_equal(a[k].numpy(), b[k].numpy()), k
    for sa, sb in zip(o_full.state_dict()["state"].values(),
                      o_part.state_dict()["state"].values()):
        for k in sa:
            assert np.array_equal(np.asarray(sa[k].numpy() if hasattr(sa[k], "numpy")
                                             else sa[k]),
                                  np.asarray(sb[k].numpy() if hasattr(sb[k], "numpy")
                                             else sb[k])), k
    assert o_full.param_groups[0]["lr"] == o_part.param_groups[0]["lr"]


def test_train_epoch_reports_loss_and_accuracy_and_evaluate_agrees():
    ag.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    loader = DataLoader(_toy_data(), batch_size=16)
    seen = []
    stats = train_epoch(model, loader, _ce, optim.SGD(model.parameters(), lr=0.0),
                        on_batch=lambda s: seen.append(s["samples"]))
    assert seen == [16, 32, 48] and stats["samples"] == 48
    ev = evaluate(model, loader, _ce)
    assert stats["loss"] == pytest.approx(ev["loss"], rel=1e-5)  # lr 0: the same weights
    assert stats["acc"] == pytest.approx(ev["acc"])
    assert model.training  # evaluate restores the mode
    ae = train_epoch(model, loader, _ce, optim.SGD(model.parameters(), lr=0.0),
                     classify=False)
    assert ae["acc"] is None


def test_divergence_stop_names_the_op_and_the_module():
    ag.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 2))
    with ag.no_grad():
        model[1].bias.fill_(10.0)
        model[3].weight.fill_(1e38)  # its output overflows to inf; the loss becomes NaN
    before = model[1].weight.detach().numpy().copy()
    loader = DataLoader(_toy_data(), batch_size=16)
    with np.errstate(all="ignore"), pytest.raises(TrainingDiverged) as info:
        train_epoch(model, loader, _ce, optim.SGD(model.parameters(), lr=0.1), epoch=3)
    msg = str(info.value)
    assert msg.startswith("training stopped: the loss became nan at epoch 3, batch 1.")
    assert "anomaly detected in forward: Linear produced" in msg
    assert "(in module 3 (Linear))" in msg
    assert info.value.history == []
    # the bad batch stepped nothing
    assert np.array_equal(model[1].weight.detach().numpy(), before)
    assert all(p.grad is None or not np.any(p.grad.numpy()) for p in model.parameters())


def test_divergence_stop_names_parameters_that_are_already_non_finite():
    ag.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    with ag.no_grad():
        model[1].bias.fill_(float("nan"))
    with np.errstate(all="ignore"), pytest.raises(TrainingDiverged, match=(
            "Parameters already non-finite before this batch: 1.bias")):
        train_epoch(model, DataLoader(_toy_data(), batch_size=16), _ce,
                    optim.SGD(model.parameters(), lr=0.1))


def _mlp_checkpoint(path: Path, name: str = "mlp", model: str = "mlp") -> Path:
    """A checkpoint like the one ``train.py --model mlp`` writes after epoch 1."""
    ag.manual_seed(0)
    net = build_model(model)
    opt = optim.Adam(net.parameters(), lr=1e-3)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    save_checkpoint(path, net, opt, sched, epoch=1, history=[{"epoch": 1}], model_name=name)
    return path


def test_load_checkpoint_errors_are_one_line_and_name_the_file(tmp_path):
    good = _mlp_checkpoint(tmp_path / "good.ag")
    ag.manual_seed(0)
    model = build_model("mlp")
    opt = optim.Adam(model.parameters())

    def error(path, **kw) -> str:
        with pytest.raises(CheckpointError) as info:
            load_checkpoint(path, kw.pop("model", model), kw.pop("opt", opt), **kw)
        msg = str(info.value)
        assert "\n" not in msg and msg.startswith(f"{path}: ")
        assert info.value.path == str(path)
        return info.value.reason

    assert error(tmp_path / "none.ag") == "no such file"
    assert "is a directory" in error(tmp_path)
    (tmp_path / "junk.ag").write_bytes(b"\x00garbage" * 50)
    assert error(tmp_path / "junk.ag").startswith("cannot be read: ")
    (tmp_path / "cut.ag").write_bytes(good.read_bytes()[:500])
    assert error(tmp_path / "cut.ag").startswith("cannot be read: ")
    ag.save({"weights": ag.zeros(3)}, tmp_path / "other.ag")
    assert "is not a training checkpoint" in error(tmp_path / "other.ag")
    assert error(good, model_name="lenet") == "holds a 'mlp' model, not 'lenet'"
    assert error(good, model=build_model("nielsen")).startswith("does not fit the model: ")
    assert error(good, opt=optim.SGD(model.parameters(), lr=0.1)) == (
        "holds optimizer state of type Adam, not SGD")
    ck = load_checkpoint(good, model, opt, model_name="mlp")
    assert ck["epoch"] == 1 and ck["history"] == [{"epoch": 1}]
    with pytest.raises(TypeError, match="rng"):
        save_checkpoint(tmp_path / "x.ag", model, rng=None)


# ---- train.py: a bad checkpoint is a one-line error, exit code 2 ------------------------------

def _corrupt(data: bytes) -> bytes:
    mid = bytearray(data)
    for i in range(len(mid) // 2, len(mid) // 2 + 64):
        mid[i] ^= 0x5A
    return bytes(mid)


BAD_CHECKPOINTS = {  # name: (bytes from the good checkpoint, model to resume, words expected)
    "missing": (None, "mlp", "no such file"),
    "truncated": (lambda d: d[: len(d) // 3], "mlp", "cannot be read"),
    "corrupt": (_corrupt, "mlp", "cannot be read"),
    "empty": (lambda d: b"", "mlp", "cannot be read"),
    "garbage": (lambda d: bytes(range(256)) * 8, "mlp", "cannot be read"),
    "not-a-checkpoint": ("foreign", "mlp", "is not a training checkpoint"),
    "other-model": (lambda d: d, "lenet", "holds a 'mlp' model, not 'lenet'"),
    "shape-mismatch": ("nielsen-as-mlp", "mlp", "does not fit the model"),
}


def test_train_py_rejects_bad_checkpoints_with_one_line_and_exit_code_2(tmp_path):
    good = _mlp_checkpoint(tmp_path / "good.ag").read_bytes()
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    procs = {}
    for name, (make, model, _) in BAD_CHECKPOINTS.items():
        path = tmp_path / f"{name}.ag"
        if make == "foreign":
            ag.save({"format": "something else", "model": {}}, path)
        elif make == "nielsen-as-mlp":
            _mlp_checkpoint(path, name="mlp", model="nielsen")
        elif make is not None:
            path.write_bytes(make(good))
        cmd = [sys.executable, str(ROOT / "scripts" / "train.py"), "--model", model,
               "--quick", "--no-progress", "--out", str(tmp_path / name), "--checkpoint",
               str(path), "--resume"]
        procs[name] = (path, subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                              stderr=subprocess.PIPE, text=True, env=env))
    for name, (path, proc) in procs.items():  # started together, to overlap their imports
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 2, (name, err)
        assert "Traceback" not in err, (name, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1, (name, err)
        assert lines[0].startswith(f"train.py: error: cannot resume from {path}: "), (name, err)
        assert BAD_CHECKPOINTS[name][2] in lines[0], (name, err)


def test_train_py_unwritable_checkpoint_is_a_one_line_error(tmp_path, capsys):
    ck = tmp_path / "no-such-folder" / "run.ag"
    assert train.main(["--model", "nielsen", "--quick", "--no-progress", "--out",
                       str(tmp_path), "--checkpoint", str(ck)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"train.py: error: cannot write checkpoint {ck}: its folder does not exist"]
