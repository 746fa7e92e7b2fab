"""Smoke tests of scripts/train.py and scripts/experiments.py, run in-process on the bundled
Fashion-MNIST sample (``--quick``: a few hundred images, 2 epochs)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import experiments  # noqa: E402
import train  # noqa: E402

import autograd as ag  # noqa: E402


def _metrics(folder: Path) -> dict:
    return json.loads((folder / "metrics.json").read_text())


@pytest.mark.parametrize("model", train.MODELS)
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


def test_resume_rejects_a_missing_or_foreign_checkpoint(tmp_path):
    with pytest.raises(SystemExit, match="does not exist"):
        train.main(["--model", "mlp", "--quick", "--no-progress", "--out", str(tmp_path),
                    "--checkpoint", str(tmp_path / "none.ag"), "--resume"])
    ck = tmp_path / "mlp.ag"
    train.main(["--model", "mlp", "--quick", "--no-progress", "--epochs", "1", "--out",
                str(tmp_path), "--checkpoint", str(ck)])
    with pytest.raises(SystemExit, match="holds a 'mlp' model"):
        train.main(["--model", "lenet", "--quick", "--no-progress", "--out", str(tmp_path),
                    "--checkpoint", str(ck), "--resume"])


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
    model = train.build_model("nielsen", args.cost)
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
    res = experiments.xor_learned(seeds=2, steps=2000)
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
