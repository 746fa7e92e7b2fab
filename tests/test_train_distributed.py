"""``scripts/train.py --distributed`` under ``mpirun`` (issue 16, item 4): data-parallel quick
runs of the MLP and of the CNN with (Sync)BatchNorm on 2 ranks, where only rank 0 prints and
writes files, and checkpoints written on 2 ranks that resume on 2 ranks (bitwise equal to an
uninterrupted run) and on 1 rank (the same computation in another reduction order: close).

Each rank runs in its own working folder (an MPMD launch with ``-wdir``) with relative
``--out``/``--checkpoint`` paths, so the tests see what each rank wrote; ``--tag-output``
shows which rank printed what. The checkpoint to resume from exists only in rank 0's folder
(rank 0 sends it to the others). The runs skip when mpi4py or mpirun is missing, unless
AUTOGRAD_REQUIRE_MPI=1 (CI), where that is a failure.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd as ag

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT / "scripts" / "train.py"
HAVE_MPI = importlib.util.find_spec("mpi4py") is not None and shutil.which("mpirun")
if not HAVE_MPI and os.environ.get("AUTOGRAD_REQUIRE_MPI") == "1":
    raise RuntimeError("AUTOGRAD_REQUIRE_MPI=1 but mpi4py or mpirun is missing: install "
                       "`openmpi-bin libopenmpi-dev` and `pip install \".[mpi]\"`")
HAVE_HOOK = hasattr(ag.Tensor, "register_post_accumulate_grad_hook")


def needs_mpi(f):
    f = pytest.mark.skipif(not HAVE_MPI, reason="needs mpi4py and mpirun (OpenMPI)")(f)
    return pytest.mark.skipif(not HAVE_HOOK, reason="the engine lacks "
                              "Tensor.register_post_accumulate_grad_hook")(f)


QUICK = ["--distributed", "--quick", "--seed", "3"]
_TAG = re.compile(r"\[\d+,(\d+)\]<(?:stdout|stderr)>:")


def _launch(folder: Path, n: int, args: list[str], timeout: int = 180):
    """``mpirun`` of ``train.py args`` on ``n`` ranks, rank r working in ``folder/r<r>``.

    Returns:
        (the CompletedProcess, {rank: what it printed (stdout, then stderr)}).
    """
    env = dict(os.environ)
    env.update({
        "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]),
        "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
        "OMPI_MCA_btl": "self,vader",  # one machine: shared memory, no network probing
        "OMPI_MCA_btl_vader_single_copy_mechanism": "none",  # containers forbid CMA
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    })
    cmd = ["mpirun", "--oversubscribe", "--tag-output"]
    for r in range(n):
        (folder / f"r{r}").mkdir(parents=True, exist_ok=True)
        if r:
            cmd.append(":")
        cmd += ["-n", "1", "-wdir", str(folder / f"r{r}"), sys.executable, str(TRAIN), *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                       cwd=folder)
    # OpenMPI tags each chunk a rank writes ("[jobid,rank]<stdout>:"), not each line
    by_rank: dict[int, str] = {}
    for stream in (p.stdout, p.stderr):
        parts = _TAG.split(stream)
        for rank, chunk in zip(parts[1::2], parts[2::2]):
            by_rank[int(rank)] = by_rank.get(int(rank), "") + chunk
    return p, by_rank


def _ok(p) -> None:
    assert p.returncode == 0, f"rc={p.returncode}\n{p.stdout[-3000:]}\n{p.stderr[-5000:]}"


def _weights(path: Path) -> dict:
    return {k: v.numpy() for k, v in ag.load(path)["model"].items()}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every launch once: an uninterrupted 2-rank run per model (with a checkpoint), and for
    each model a 2-rank run stopped after epoch 1 that then resumes on 2 ranks; for the MLP
    also on 1 rank."""
    base = tmp_path_factory.mktemp("ddp-train")
    out = {}
    for model in ("mlp", "cnn-bn"):
        args = ["--model", model, *QUICK, "--out", "out", "--checkpoint", "ck.ag"]
        out[model, "full"] = _launch(base / model / "full", 2, args)
        p, _ = part = _launch(base / model / "part", 2, [*args, "--no-progress",
                                                          "--stop-after", "1"])
        out[model, "part"] = part
        resumes = (2, 1) if model == "mlp" else (2,)
        if p.returncode != 0:
            continue
        for n in resumes:
            d = base / model / f"resume{n}"
            (d / "r0").mkdir(parents=True)
            shutil.copy(base / model / "part" / "r0" / "ck.ag", d / "r0" / "ck.ag")
            out[model, f"resume{n}"] = _launch(d, n, [*args, "--no-progress", "--resume"])
    return base, out


@needs_mpi
@pytest.mark.parametrize("model", ["mlp", "cnn-bn"])
def test_quick_two_ranks_only_rank0_prints_and_writes(runs, model):
    base, out = runs
    p, by_rank = out[model, "full"]
    _ok(p)
    assert 1 not in by_rank, f"rank 1 printed: {by_rank[1][:500]}"
    text = by_rank[0]
    for e in (1, 2):
        assert text.count(f"epoch   {e}/2  train loss") == 1, text[-2000:]
    assert "batch 64 per rank x 2 ranks = 128" in text
    assert "DistributedDataParallel(" in text
    assert ("SyncBatchNorm(" in text) == (model == "cnn-bn")
    assert "final test accuracy" in text
    r0, r1 = base / model / "full" / "r0", base / model / "full" / "r1"
    assert list(r1.iterdir()) == []  # rank 1 wrote nothing
    assert (r0 / "ck.ag").is_file() and (r0 / "out" / "curves.png").is_file()
    m = json.loads((r0 / "out" / "metrics.json").read_text())
    assert m["world_size"] == 2 and m["global_batch"] == 128 and m["epochs_done"] == 2
    assert m["train_size"] == 384 and m["test_size"] == 256
    h = m["epochs"]
    assert h[1]["train_loss"] < h[0]["train_loss"]
    ck = ag.load(r0 / "ck.ag")
    assert ck["world_size"] == 2 and ck["global_batch"] == 128 and ck["epoch"] == 2
    assert not any(k.startswith("module.") for k in ck["model"])  # the unwrapped model


@needs_mpi
@pytest.mark.parametrize("model", ["mlp", "cnn-bn"])
def test_resume_on_two_ranks_is_bitwise(runs, model):
    """Stopped after epoch 1 and resumed on 2 ranks: exactly the uninterrupted weights,
    optimizer state and BatchNorm statistics (dropout draws from per-rank, per-epoch seeds).
    The checkpoint exists only in rank 0's folder."""
    base, out = runs
    for kind in ("full", "part", "resume2"):
        _ok(out[model, kind][0])
    _, by_rank = out[model, "resume2"]
    assert 1 not in by_rank
    text = by_rank[0]
    assert "resumed from ck.ag after epoch 1" in text and "epoch   1/2" not in text
    assert "epoch   2/2" in text
    full = ag.load(base / model / "full" / "r0" / "ck.ag")
    res = ag.load(base / model / "resume2" / "r0" / "ck.ag")
    assert res["epoch"] == 2
    for k, v in full["model"].items():
        assert np.array_equal(v.numpy(), res["model"][k].numpy()), k
    for a, b in zip(full["optimizer"]["state"].values(), res["optimizer"]["state"].values()):
        for k, v in a.items():
            if isinstance(v, ag.Tensor):
                assert np.array_equal(v.numpy(), b[k].numpy()), k
    assert full["scheduler"] == res["scheduler"]
    assert list(base.joinpath(model, "resume2", "r1").iterdir()) == []


@needs_mpi
def test_resume_two_rank_checkpoint_on_one_rank(runs):
    """The MLP's 2-rank checkpoint resumed on 1 rank keeps the global batch (128 on one
    rank) and reads the same samples per step: the same math, summed in another order."""
    base, out = runs
    p, by_rank = out["mlp", "resume1"]
    _ok(p)
    text = by_rank[0]
    assert "batch 128 per rank x 1 rank = 128" in text, text[-2000:]
    full = _weights(base / "mlp" / "full" / "r0" / "ck.ag")
    res = _weights(base / "mlp" / "resume1" / "r0" / "ck.ag")
    for k, v in full.items():
        np.testing.assert_allclose(res[k], v, rtol=0, atol=1e-6, err_msg=k)
    m = json.loads((base / "mlp" / "resume1" / "r0" / "out" / "metrics.json").read_text())
    assert m["world_size"] == 1 and m["epochs_done"] == 2
    m2 = json.loads((base / "mlp" / "full" / "r0" / "out" / "metrics.json").read_text())
    assert abs(m["final_test_loss"] - m2["final_test_loss"]) < 1e-4


@needs_mpi
def test_divergence_and_bad_resume_end_every_rank(tmp_path):
    """A NaN loss stops every rank at the same batch (the loss is averaged over the ranks
    before the test), exit code 1, the message printed once; a checkpoint that cannot be
    resumed from ends every rank with exit code 2 and one error line."""
    p, by_rank = _launch(tmp_path / "div", 2, [*QUICK, "--model", "mlp", "--optimizer", "sgd",
                                               "--lr", "1e5", "--no-progress", "--out", "out"],
                         timeout=120)
    assert p.returncode == 1, p.stdout[-2000:] + p.stderr[-2000:]
    assert 1 not in by_rank, by_rank.get(1, "")[:500]
    assert by_rank[0].count("training stopped: the loss (mean over the 2 ranks) became") == 1
    m = json.loads((tmp_path / "div" / "r0" / "out" / "metrics.json").read_text())
    assert m["stopped"].startswith("training stopped")
    p, by_rank = _launch(tmp_path / "bad", 2, [*QUICK, "--model", "mlp", "--out", "out",
                                               "--checkpoint", "missing.ag", "--resume"],
                         timeout=120)
    assert p.returncode == 2, p.stdout[-2000:] + p.stderr[-2000:]
    assert 1 not in by_rank
    assert by_rank[0].count("train.py: error: cannot resume from missing.ag: no such file") == 1


def _script(name: str):
    spec = importlib.util.spec_from_file_location(f"_{name}_script", ROOT / "scripts" /
                                                  f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_distributed_without_mpi4py_is_a_usage_error(monkeypatch, tmp_path, capsys):
    train = _script("train")
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    assert train.main(["--model", "mlp", "--quick", "--distributed", "--out",
                       str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("train.py: error: --distributed:"), err
    assert "[mpi]" in err[0]


def test_help_says_the_batch_is_per_rank(capsys):
    with pytest.raises(SystemExit):
        _script("train").parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "global batch is this times the number of ranks" in text
    assert "--no-sync-bn" in text


def test_utils_data_distributed_alias():
    from autograd.data import DistributedSampler
    from autograd.utils.data.distributed import DistributedSampler as Alias

    assert Alias is DistributedSampler
