"""autograd.distributed, nn.parallel.DistributedDataParallel, nn.SyncBatchNorm and
DistributedSampler.

The multi-process tests start ``mpirun -n 2 --oversubscribe`` on tests/_distributed_worker.py
(one launch runs every scenario; each fault scenario has its own). They skip when mpi4py or
mpirun is missing, unless AUTOGRAD_REQUIRE_MPI=1 (set by CI, which installs both), where
that is a failure.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import autograd as ag
import autograd.distributed as dist
import nn
from autograd.data import DistributedSampler, TensorDataset
from autograd.distributed import DistributedError

ROOT = Path(__file__).resolve().parents[1]
WORKER = ROOT / "tests" / "_distributed_worker.py"
HAVE_MPI = importlib.util.find_spec("mpi4py") is not None and shutil.which("mpirun")
if not HAVE_MPI and os.environ.get("AUTOGRAD_REQUIRE_MPI") == "1":
    raise RuntimeError("AUTOGRAD_REQUIRE_MPI=1 but mpi4py or mpirun is missing: install "
                       "`openmpi-bin libopenmpi-dev` and `pip install \".[mpi]\"`")
needs_mpi = pytest.mark.skipif(not HAVE_MPI, reason="needs mpi4py and mpirun (OpenMPI)")
# DDP starts its all-reduces from the engine's post-accumulate-grad hooks
HAVE_HOOK = hasattr(ag.Tensor, "register_post_accumulate_grad_hook")
needs_hook = pytest.mark.skipif(not HAVE_HOOK, reason="the engine lacks "
                                "Tensor.register_post_accumulate_grad_hook")


def _mpirun(args, timeout=150, extra_env=None):
    env = dict(os.environ)
    env.update({
        "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]),
        "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
        "OMPI_MCA_btl": "self,vader",  # one machine: shared memory, no network probing
        "OMPI_MCA_btl_vader_single_copy_mechanism": "none",  # containers forbid CMA
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    })
    env.update(extra_env or {})
    cmd = ["mpirun", "-n", "2", "--oversubscribe", sys.executable, str(WORKER), *args]
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                       cwd=ROOT)
    return p, time.monotonic() - t0


@pytest.fixture(scope="module")
def results():
    p, _ = _mpirun(["all"])
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
    assert p.returncode == 0 and lines, f"rc={p.returncode}\n{p.stdout[-3000:]}\n" \
                                        f"{p.stderr[-5000:]}"
    return json.loads(lines[-1][len("RESULT "):])


def _check(results, name):
    for rank, res in enumerate(results):
        r = res[name]
        assert r["ok"], f"rank {rank}:\n{r.get('error')}"
    return results[0][name]


DDP_SCENARIOS = {"bad_use", "ddp_mlp", "ddp_cnn_syncbn", "ddp_lstm", "no_sync", "unused",
                 "overlap", "broadcast_buffers"}
SCENARIOS = ["all_reduce", "collectives", "bad_use", "ddp_mlp", "ddp_cnn_syncbn", "ddp_lstm",
             "no_sync", "unused", "overlap", "sampler", "syncbn_eval", "broadcast_buffers",
             "mismatch_debug"]


@needs_mpi
@pytest.mark.parametrize("name", SCENARIOS)
def test_two_ranks(results, name):
    """Collectives vs NumPy for every ReduceOp and dtype; async handles; groups; DDP on an
    MLP, a CNN with SyncBatchNorm and an LSTM (20 steps, float64) equal to one process on
    the global batch; no_sync; unused parameters; an all-reduce started during backward;
    the sampler; bad use."""
    if name in DDP_SCENARIOS and not HAVE_HOOK:
        pytest.skip("the engine lacks Tensor.register_post_accumulate_grad_hook")
    r = _check(results, name)
    if name.startswith("ddp_"):
        assert r["max_diff"] < 1e-10 and r["buckets"] > 1


@needs_mpi
@needs_hook
@pytest.mark.parametrize("kind,needle", [
    ("kill", "exited on signal 9"),
    ("raise", "rank 1 raised an uncaught ValueError"),
    ("timeout", "rank 0 (rank 0 of 2 in group 'WORLD', backend 'mpi') timed out waiting for "
                "DistributedDataParallel's gradient all-reduce"),
])
def test_fault_ends_the_job(kind, needle):
    """A rank killed, raising, or skipping a collective ends both processes quickly, with a
    non-zero exit code and a message naming the rank."""
    p, took = _mpirun([kind], timeout=90, extra_env={"DIST_TEST_TIMEOUT": "3"})
    out = p.stdout + p.stderr
    assert p.returncode != 0, out[-3000:]
    assert took < 60, took
    assert needle in out, out[-3000:]


@needs_mpi
def test_env_contradicting_the_launcher():
    p, _ = _mpirun(["env"], timeout=60, extra_env={"WORLD_SIZE": "3"})
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.count("ENVERR init_process_group: world_size=3 was asked for") == 2, \
        p.stdout
    assert "mpirun -n 3" in p.stdout


# ---------------------------------------------------------------------------------------
# one process, no MPI needed
# ---------------------------------------------------------------------------------------


def test_import_does_not_need_mpi4py():
    code = ("import sys, autograd, nn, autograd.distributed, autograd.data; "
            "assert 'mpi4py' not in sys.modules and 'mpi4py.MPI' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_not_initialized_errors():
    assert not dist.is_initialized()
    with pytest.raises(DistributedError, match="init_process_group"):
        nn.parallel.DistributedDataParallel(nn.Linear(2, 2))
    with pytest.raises(DistributedError, match="init_process_group"):
        dist.get_rank()
    with pytest.raises(DistributedError, match="init_process_group"):
        dist.all_reduce(ag.ones(2))
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(range(4))


def test_missing_or_unknown_backend(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(DistributedError, match=r"pip install .*\[mpi\]"):
        dist.init_process_group("mpi")
    with pytest.raises(DistributedError, match="'mpi'.*'nccl'"):
        dist.init_process_group("gloo")
    with pytest.raises(DistributedError, match="init_method"):
        dist.init_process_group("mpi", init_method="tcp://10.0.0.1:23456")
    assert not dist.is_initialized()


@pytest.mark.skipif(ag.cuda.is_available(), reason="checks the error without CuPy")
def test_nccl_without_cupy_is_a_clear_error():
    with pytest.raises(DistributedError, match=r"CuPy.*\.\[cuda\]"):
        dist.init_process_group("nccl")
    assert not dist.is_initialized()


@pytest.mark.parametrize("n,replicas,drop_last", [(23, 2, False), (23, 3, False),
                                                   (23, 3, True), (24, 4, True), (5, 8, False)])
def test_sampler_shards(n, replicas, drop_last):
    ds = TensorDataset(ag.arange(n))
    for shuffle in (True, False):
        shards = [DistributedSampler(ds, replicas, r, shuffle=shuffle, seed=7,
                                     drop_last=drop_last) for r in range(replicas)]
        lists = [list(s) for s in shards]
        assert len({len(x) for x in lists}) == 1 and len(lists[0]) == len(shards[0])
        flat = [i for x in lists for i in x]
        if drop_last:
            assert len(set(flat)) == len(flat) == (n // replicas) * replicas  # disjoint
        else:
            assert set(flat) == set(range(n))  # covering; padding repeats the first ones
            assert len(flat) == -(-n // replicas) * replicas
            if n >= replicas:
                assert len(flat) - len(set(flat)) == len(flat) - n
        if not shuffle and n >= 2 * replicas:
            assert lists[0][:2] == [0, replicas]
    s = DistributedSampler(ds, replicas, 0, seed=7)
    e0 = list(s)
    assert list(s) == e0  # same epoch, same order
    s.set_epoch(1)
    assert list(s) != e0


def test_sampler_bad_rank():
    with pytest.raises(ValueError, match="invalid rank 2"):
        DistributedSampler(range(4), num_replicas=2, rank=2)


def test_sampler_with_dataloader():
    ds = TensorDataset(ag.arange(10))
    loader = ag.data.DataLoader(ds, batch_size=2,
                                sampler=DistributedSampler(ds, 2, 1, shuffle=False))
    assert [b[0].tolist() for b in loader] == [[1, 3], [5, 7], [9]]


def test_sync_batchnorm_single_process_is_batchnorm():
    def make():
        ag.manual_seed(0)
        return nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU(),
                             nn.Sequential(nn.Flatten(), nn.Linear(12, 4), nn.BatchNorm1d(4)))

    ref, model = make(), make()
    w = model[1].weight
    conv = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert isinstance(conv[1], nn.SyncBatchNorm) and isinstance(conv[3][2], nn.SyncBatchNorm)
    assert conv[1].weight is w  # shares the parameters and buffers
    assert list(conv.state_dict()) == list(ref.state_dict())
    x = ag.randn(5, 2, 4, 4)
    for _ in range(2):
        assert np.allclose(conv(x).detach().numpy(), ref(x).detach().numpy(), atol=1e-6)
    for (k, a), b in zip(conv.state_dict().items(), ref.state_dict().values()):
        assert np.allclose(a.numpy(), b.numpy()), k
    conv.eval()
    ref.eval()
    assert np.allclose(conv(x).detach().numpy(), ref(x).detach().numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="at least 2D"):
        nn.SyncBatchNorm(3)(ag.randn(3))
