"""Train any of the project's models on Fashion-MNIST from one command line.

Models (``--model``):

- ``mlp``: 784-256-128-10 ReLU network, Adam.
- ``nielsen``: the classic 784-30-10 sigmoid network of Michael Nielsen's book *Neural Networks
  and Deep Learning*: quadratic cost on one-hot targets and plain mini-batch SGD (batch 10,
  eta = 3.0); ``--cost cross-entropy`` and ``--l2 LAMBDA`` (lambda/(2n) * sum w^2) as in
  chapter 3.
- ``lenet``: LeNet-5-like CNN (conv5x5 6 pad 2, ReLU, maxpool, conv5x5 16, ReLU, maxpool,
  fc 400-120-84-10).
- ``cnn-bn``: a VGG-style CNN with BatchNorm and dropout (two conv3x3 blocks of 32 and 64
  channels, fc 256), Adam with a cosine learning-rate schedule.
- ``lstm``: an LSTM reading the image row by row (28 steps of 28 pixels, hidden 128) with a
  linear head on the last hidden state.
- ``autoencoder``: dense 784-256-64-256-784 autoencoder with a sigmoid output (BCE or MSE
  loss); it also draws a grid of test images and their reconstructions.

Every run prints a tqdm bar per epoch (live loss and accuracy) and one log line per epoch,
and writes to ``--out`` (default ``results/<model>``): ``metrics.json`` (rewritten after
every epoch), ``curves.png`` (loss and accuracy curves; skipped with a note without
matplotlib) and, for the autoencoder, ``reconstructions.png``.

``--checkpoint PATH`` saves (atomically, with ``ag.save``) the model, optimizer, LR scheduler,
the RNG state and the history at the end of every epoch; ``--resume`` continues from it and
ends with exactly the weights an uninterrupted run would have. A checkpoint that cannot be
resumed from (missing, corrupt, truncated, not a checkpoint, another model) ends the run with
one ``train.py: error: ...`` line and exit code 2. When the loss becomes NaN or inf, training
stops (exit code 1) with a message naming the first op that produced it: the batch is re-run
under ``ag.detect_anomaly()``.

``--distributed`` trains data-parallel over the processes started by an MPI launcher
(``mpirun -n 4 python scripts/train.py --model cnn-bn --distributed``): every rank holds the
model wrapped in ``nn.parallel.DistributedDataParallel`` (gradients averaged over the ranks),
reads its shard of the training data through a ``DistributedSampler`` (reshuffled every epoch
with ``set_epoch``), and ``--batch-size`` is per rank, as in PyTorch: the global batch is
``--batch-size`` x the number of ranks (the learning rate is not rescaled). The BatchNorm
layers become ``nn.SyncBatchNorm`` (statistics over the global batch; ``--no-sync-bn`` keeps
per-rank statistics). Evaluation is split over the ranks and summed, so every rank gets the
same figures. Only rank 0 prints, draws progress bars and writes ``--out`` and the checkpoint;
the checkpoint holds the unwrapped model (``ddp.module``), so it resumes with any number of
ranks or without ``--distributed``, and rank 0 sends it to the others (it needs to exist only
where rank 0 runs). On the same number of ranks a resumed run ends with exactly the weights of
an uninterrupted one; on another number it is the same computation up to rounding, except
for dropout masks (drawn per rank). A ``--distributed`` resume keeps the checkpoint's global
batch unless ``--batch-size`` is given. The backend is MPI (mpi4py) for ``--device cpu`` and
NCCL (CuPy) for ``--device cuda``.

The library parts live in the package: the models in ``nn.zoo`` (``build_model``), the epoch
loop with its divergence stop, ``evaluate`` and the checkpoints in ``nn.training``; this
script adds the command line, the data, losses, optimizers, schedules and the outputs.

Examples:
    python scripts/train.py --model lenet --epochs 15
    python scripts/train.py --model nielsen --cost cross-entropy --l2 5.0 --lr 0.5
    python scripts/train.py --model mlp --quick                  # a smoke run on the sample
    python scripts/train.py --model cnn-bn --checkpoint /tmp/cnn.ag --resume
    mpirun -n 4 python scripts/train.py --model cnn-bn --distributed   # 4 processes

The full data is looked up in ``--data-dir``, then ``$AUTOGRAD_DATA/fashion-mnist`` (e.g.
``AUTOGRAD_DATA=/work/shared/data``) and the other places ``FashionMNIST`` searches;
``--dataset sample`` uses the 4,000/1,000-image sample shipped with the package.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _p in (str(ROOT), str(HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

import autograd as ag  # noqa: E402
import autograd.distributed as dist  # noqa: E402

ag.backend.keep_freed_memory()  # a training loop reuses its freed arrays (see the docstring)
import nn  # noqa: E402
import nn.functional as F  # noqa: E402
import optim  # noqa: E402
from autograd.data import DataLoader  # noqa: E402
from autograd.data.dataset import Subset  # noqa: E402
from autograd.data.datasets import FashionMNIST  # noqa: E402
from autograd.data.distributed import DistributedSampler  # noqa: E402
from autograd.distributed import DistributedError  # noqa: E402
from nn.training import (  # noqa: E402
    CheckpointError,
    TrainingDiverged,
    evaluate,
    load_checkpoint,
    random_hflip,
    read_checkpoint,
    save_checkpoint,
    train_epoch,
)
from nn.zoo import MODELS, build_model  # noqa: E402

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop")

# Per-model defaults for the options left unset on the command line.
DEFAULTS = {
    "mlp": dict(optimizer="adam", lr=1e-3, batch_size=64, epochs=20, schedule="cosine",
                augment=False),
    "nielsen": dict(optimizer="sgd", lr=3.0, batch_size=10, epochs=30, schedule="none",
                    augment=False),
    "lenet": dict(optimizer="adam", lr=1e-3, batch_size=64, epochs=30, schedule="cosine",
                  augment=True),
    "cnn-bn": dict(optimizer="adam", lr=1e-3, batch_size=64, epochs=10, schedule="cosine",
                   augment=False),
    "lstm": dict(optimizer="adam", lr=1e-3, batch_size=64, epochs=20, schedule="cosine",
                 augment=False),
    "autoencoder": dict(optimizer="adam", lr=1e-3, batch_size=128, epochs=20,
                        schedule="cosine", augment=False),
}
NIELSEN_CE_LR = 0.5  # the book's learning rate for the cross-entropy cost (chapter 3)
QUICK_TRAIN, QUICK_TEST, QUICK_EPOCHS = 384, 256, 2


class UsageError(Exception):
    """A problem with the command line's files (a checkpoint that cannot be resumed from or
    written): ``main`` prints it as one ``train.py: error: ...`` line and exits with 2."""


# ---- losses ---------------------------------------------------------------------------------

def make_loss(args, n_train: int):
    """The training loss ``loss(model, out, x, y) -> Tensor`` for ``args.model``.

    Returns:
        (train_loss, data_loss): the loss that is minimised (with the L2 term, if any) and
        the data term alone (used on the test set).
    """
    if args.model == "nielsen":
        def data_loss(model, out, x, y):
            target = F.one_hot(y, 10).to(out.dtype)
            m = out.shape[0]
            if args.cost == "quadratic":  # C = 1/(2m) sum_x ||y(x) - a(x)||^2
                return ((ag.sigmoid(out) - target) ** 2).sum() * (0.5 / m)
            # C = -1/m sum_x sum_j [y_j ln a_j + (1 - y_j) ln(1 - a_j)]
            return F.binary_cross_entropy_with_logits(out, target, reduction="sum") / m

        if not args.l2:
            return data_loss, data_loss

        def train_loss(model, out, x, y):  # + lambda/(2n) sum_w w^2 (weights, not biases)
            reg = sum((p * p).sum() for name, p in model.named_parameters()
                      if name.endswith("weight"))
            return data_loss(model, out, x, y) + reg * (args.l2 / (2 * n_train))

        return train_loss, data_loss
    if args.model == "autoencoder":
        def ae_loss(model, out, x, y):
            target = x.reshape(x.shape[0], -1)
            if args.ae_loss == "bce":
                return F.binary_cross_entropy_with_logits(out, target)
            return F.mse_loss(ag.sigmoid(out), target)

        return ae_loss, ae_loss

    def ce(model, out, x, y):
        return F.cross_entropy(out, y)

    return ce, ce


# ---- optimisation ---------------------------------------------------------------------------

def make_optimizer(args, params):
    """The optimizer named by ``args.optimizer``."""
    kw = dict(lr=args.lr, weight_decay=args.weight_decay)
    name = args.optimizer
    if name == "sgd":
        return optim.SGD(params, **kw)
    if name in ("momentum", "nesterov"):
        return optim.SGD(params, momentum=args.momentum, nesterov=name == "nesterov", **kw)
    if name == "adam":
        return optim.Adam(params, **kw)
    if name == "adamw":
        return optim.AdamW(params, **kw)
    if name == "rmsprop":
        return optim.RMSprop(params, **kw)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")


def make_scheduler(args, opt, steps_per_epoch: int):
    """An LR scheduler stepped after every batch (cosine or step decay), or None."""
    total = max(1, args.epochs * steps_per_epoch)
    if args.schedule == "cosine":
        return optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
    if args.schedule == "step":  # x0.1 after each third of the run
        return optim.lr_scheduler.StepLR(opt, step_size=max(1, total // 3), gamma=0.1)
    return None


# ---- data -----------------------------------------------------------------------------------

def load_data(args):
    """The training and test datasets (``--quick``: the first few hundred images)."""
    root = "sample" if args.dataset == "sample" else args.data_dir
    try:
        train = FashionMNIST(root=root, train=True)
        test = FashionMNIST(root=root, train=False)
    except RuntimeError as e:
        raise SystemExit(
            f"{e}\nFor the full data pass --data-dir DIR (the folder with the IDX .gz files) "
            "or set AUTOGRAD_DATA (e.g. AUTOGRAD_DATA=/work/shared/data); for the bundled "
            "sample use --dataset sample.") from None
    if args.quick:
        train = Subset(train, range(min(QUICK_TRAIN, len(train))))
        test = Subset(test, range(min(QUICK_TEST, len(test))))
    return train, test


# ---- outputs --------------------------------------------------------------------------------

def _clean(v):
    """JSON-safe: NaN and inf become None (JSON has no literal for them)."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


def write_json(path: Path, obj) -> None:
    """Write ``obj`` as JSON atomically (a temporary file renamed into place)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(_clean(obj), indent=2) + "\n")
    os.replace(tmp, path)


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def plot_curves(history: list, path: Path, title: str) -> Path | None:
    """Loss (and accuracy) per epoch, train and test, as a PNG; None without matplotlib."""
    plt = _pyplot()
    if plt is None or not history:
        return None
    ep = [h["epoch"] for h in history]
    has_acc = history[0].get("train_acc") is not None
    fig, axes = plt.subplots(1, 2 if has_acc else 1, figsize=(10 if has_acc else 5, 3.8))
    axes = np.atleast_1d(axes)
    axes[0].plot(ep, [h["train_loss"] for h in history], "o-", label="train")
    axes[0].plot(ep, [h["test_loss"] for h in history], "s-", label="test")
    axes[0].set(xlabel="epoch", ylabel="loss", title=f"{title}: loss")
    if has_acc:
        axes[1].plot(ep, [h["train_acc"] for h in history], "o-", label="train")
        axes[1].plot(ep, [h["test_acc"] for h in history], "s-", label="test")
        axes[1].set(xlabel="epoch", ylabel="accuracy", title=f"{title}: accuracy")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_reconstructions(model, dataset, path: Path, n: int = 10) -> Path | None:
    """A grid: ``n`` test images (top row) and their reconstructions (bottom row)."""
    plt = _pyplot()
    if plt is None:
        return None
    x, _ = next(iter(DataLoader(dataset, batch_size=n)))
    model.eval()
    with ag.no_grad():
        rec = model.reconstruct(x)
    x, rec = x.cpu().numpy(), rec.cpu().numpy()
    fig, axes = plt.subplots(2, n, figsize=(n * 0.9, 2.1))
    for i in range(n):
        for row, img in enumerate((x[i, 0], rec[i, 0])):
            axes[row, i].imshow(img, cmap="gray", vmin=0, vmax=1)
            axes[row, i].axis("off")
    axes[0, 0].set_title("original", fontsize=8, loc="left")
    axes[1, 0].set_title("reconstruction", fontsize=8, loc="left")
    fig.tight_layout(pad=0.2)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


# ---- command line ---------------------------------------------------------------------------

def parse_args(argv=None) -> argparse.Namespace:
    """Parse the command line and fill per-model defaults."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=MODELS, default="mlp")
    ap.add_argument("--dataset", choices=("fashion-mnist", "sample"), default=None,
                    help="default: sample with --quick, else fashion-mnist")
    ap.add_argument("--data-dir", default=None, help="folder holding the IDX .gz files")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=None,
                    help="per process: with --distributed the global batch is this times "
                         "the number of ranks (PyTorch's convention)")
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--optimizer", choices=OPTIMIZERS, default=None)
    ap.add_argument("--momentum", type=float, default=0.9, help="for momentum and nesterov")
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--schedule", choices=("none", "cosine", "step"), default=None,
                    help="learning-rate schedule, stepped every batch")
    ap.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                    help="random horizontal flips of the training images")
    ap.add_argument("--clip-grad", type=float, default=None, help="clip the gradient norm")
    ap.add_argument("--cost", choices=("quadratic", "cross-entropy"), default="quadratic",
                    help="nielsen: the cost function")
    ap.add_argument("--l2", type=float, default=0.0,
                    help="nielsen: L2 regularisation lambda (adds lambda/(2n) sum w^2)")
    ap.add_argument("--ae-loss", choices=("bce", "mse"), default="bce",
                    help="autoencoder: reconstruction loss")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--checkpoint", default=None,
                    help="save a checkpoint here at the end of every epoch")
    ap.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    ap.add_argument("--stop-after", type=int, default=None,
                    help="stop after this many epochs in this run (simulates an interruption)")
    ap.add_argument("--quick", action="store_true",
                    help=f"smoke run: {QUICK_TRAIN} training / {QUICK_TEST} test images, "
                         f"{QUICK_EPOCHS} epochs")
    ap.add_argument("--detect-anomaly", action="store_true",
                    help="train under ag.detect_anomaly() (slow)")
    ap.add_argument("--out", default=None, help="output folder (default results/<model>)")
    ap.add_argument("--no-progress", action="store_true", help="no tqdm bars")
    ap.add_argument("--distributed", action="store_true",
                    help="data-parallel over the ranks of an MPI launch (mpirun -n N ...): "
                         "DistributedDataParallel, a DistributedSampler, global batch = "
                         "--batch-size x ranks; only rank 0 prints and writes files")
    ap.add_argument("--sync-bn", action=argparse.BooleanOptionalAction, default=True,
                    help="with --distributed: turn BatchNorm into SyncBatchNorm (batch "
                         "statistics over all ranks; default); --no-sync-bn keeps per-rank "
                         "statistics")
    args = ap.parse_args(argv)
    d = DEFAULTS[args.model]
    if args.model == "nielsen" and args.cost == "cross-entropy":
        d = {**d, "lr": NIELSEN_CE_LR}
    for k, v in d.items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    if args.quick and argv_lacks(argv, "--epochs"):
        args.epochs = QUICK_EPOCHS
    if args.dataset is None:
        args.dataset = "sample" if args.quick else "fashion-mnist"
    if args.out is None:
        args.out = str(ROOT / "results" / args.model)
    if args.resume and not args.checkpoint:
        ap.error("--resume needs --checkpoint PATH")
    return args


def argv_lacks(argv, flag: str) -> bool:
    """True when ``flag`` was not given on the command line."""
    argv = sys.argv[1:] if argv is None else argv
    return not any(a == flag or a.startswith(flag + "=") for a in argv)


# ---- distributed ----------------------------------------------------------------------------

class _Ranks:
    """Where this process stands in a ``--distributed`` run (rank 0 of 1 otherwise)."""

    def __init__(self, distributed: bool):
        self.on = distributed
        self.rank = dist.get_rank() if distributed else 0
        self.world = dist.get_world_size() if distributed else 1
        self.lead = self.rank == 0

    def agree(self, error: str | None) -> None:
        """Raise ``UsageError`` on every rank when any rank has an ``error`` (so that no rank
        goes on to wait for the others in a collective)."""
        if not self.on:
            if error:
                raise UsageError(error)
            return
        errors = [None] * self.world
        dist.all_gather_object(errors, error)
        for r, e in enumerate(errors):
            if e:
                raise UsageError(e if r == 0 else f"(rank {r}) {e}")

    def sum(self, values, device) -> list:
        """The element-wise sum of ``values`` (floats) over the ranks, in float64."""
        if not self.on or self.world == 1:
            return [float(v) for v in values]
        t = ag.tensor(np.asarray(values, dtype=np.float64), device=device)
        dist.all_reduce(t)
        return [float(v) for v in t.cpu().numpy()]


def init_distributed(args) -> None:
    """``init_process_group`` for ``--distributed``: NCCL for CUDA devices, else MPI."""
    backend = "nccl" if str(args.device).startswith("cuda") else "mpi"
    dist.init_process_group(backend)


def rank_seed(seed: int, epoch: int, rank: int) -> int:
    """The package RNG's seed for ``rank`` in ``epoch`` of a ``--distributed`` run (dropout
    and augmentation draw from it): distinct per rank, and a function of the epoch alone, so
    that a resumed run draws what the uninterrupted one drew."""
    return int(np.random.SeedSequence([seed, epoch, rank]).generate_state(1, np.uint64)[0])


def fetch_checkpoint(args, ranks: _Ranks, tmp: Path) -> tuple[Path, int | None]:
    """``--resume`` with ``--distributed``: rank 0 checks and reads the checkpoint and sends
    its bytes to the other ranks, which keep them in ``tmp`` (the file need only exist where
    rank 0 runs).

    Returns:
        (this rank's path to the checkpoint, the global batch of the run that wrote it, or
        None when unknown).
    """
    box = [None, None, None]  # error, global batch, bytes
    if ranks.lead:
        try:
            ck = read_checkpoint(args.checkpoint)
            saved = ck.get("args") if isinstance(ck.get("args"), dict) else {}
            try:
                box[1] = int(ck.get("global_batch") or saved["batch_size"])
            except (KeyError, TypeError, ValueError):
                pass
            if ranks.world > 1:
                box[2] = Path(args.checkpoint).read_bytes()
        except CheckpointError as e:
            box[0] = f"cannot resume from {e}"
        except OSError as e:
            box[0] = f"cannot resume from {args.checkpoint}: {e}"
    if ranks.world > 1:
        dist.broadcast_object_list(box, src=0)
    if box[0]:
        raise UsageError(box[0])
    if ranks.lead:
        return Path(args.checkpoint), box[1]
    path = tmp / Path(args.checkpoint).name
    path.write_bytes(box[2])
    return path, box[1]


def distributed_divergence(ranks: _Ranks):
    """The divergence message of a ``--distributed`` run (``train_epoch``'s ``diagnose``):
    re-running a batch under ``ag.detect_anomaly()`` would need every rank, so it says how
    to find the op instead."""
    def diagnose(model, loss_fn, x, y, value, epoch, batch, live_hint=""):
        return (f"training stopped: the loss (mean over the {ranks.world} ranks) became "
                f"{value} at epoch {epoch}, batch {batch}.\nIn a --distributed run the batch "
                "is not re-run under ag.detect_anomaly(); resume from the last checkpoint "
                "in one process (without --distributed) with --detect-anomaly to name the op "
                "that produced it.")
    return diagnose


# ---- training -------------------------------------------------------------------------------

def train(args) -> dict:
    """Run the training described by ``args`` (see ``parse_args``).

    With ``args.distributed`` the default process group must be initialised (``main`` does
    it: ``init_distributed``).

    Returns:
        The metrics written to ``metrics.json``.

    Raises:
        TrainingDiverged: the loss became NaN or inf (the message names the op).
        UsageError: the ``--resume`` checkpoint cannot be used, or the checkpoint cannot
            be written.
    """
    ranks = _Ranks(args.distributed)
    if not ranks.on:
        return _train(args, ranks, None)
    with tempfile.TemporaryDirectory(prefix="train-ckpt-") as tmp:  # a received checkpoint
        return _train(args, ranks, Path(tmp))


def _train(args, ranks: _Ranks, tmp: Path | None) -> dict:
    device = args.device
    out_dir = Path(args.out)
    if ranks.lead:
        out_dir.mkdir(parents=True, exist_ok=True)
    ag.manual_seed(args.seed)
    train_set, test_set = load_data(args)
    ck_path = args.checkpoint
    if ranks.on and args.resume:
        ck_path, saved_batch = fetch_checkpoint(args, ranks, tmp)
        if saved_batch and argv_lacks(getattr(args, "_argv", None), "--batch-size"):
            if saved_batch % ranks.world == 0:  # keep the checkpoint's global batch
                args.batch_size = saved_batch // ranks.world
            else:
                print(f"note: the checkpoint's global batch {saved_batch} is not a multiple "
                      f"of {ranks.world} ranks; using --batch-size {args.batch_size}")
    model = build_model(args.model, args.cost)
    if ranks.on and args.sync_bn:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model = model.to(device)
    classify = args.model != "autoencoder"
    loss_fn, data_loss = make_loss(args, len(train_set))
    sampler = None
    if ranks.on:
        sampler = DistributedSampler(train_set, seed=args.seed)
        train_loader = DataLoader(train_set, batch_size=args.batch_size, sampler=sampler,
                                  device=device)
        lo, hi = (len(test_set) * r // ranks.world for r in (ranks.rank, ranks.rank + 1))
        test_part = Subset(test_set, range(lo, hi))  # evaluation is split over the ranks
    else:
        train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                                  device=device)
        test_part = test_set
    test_loader = DataLoader(test_part, batch_size=1000, device=device)
    opt = make_optimizer(args, model.parameters())
    sched = make_scheduler(args, opt, len(train_loader))
    n_params = sum(p.numel() for p in model.parameters())

    history: list[dict] = []
    start = 0
    if args.resume:
        error = None
        try:
            ck = load_checkpoint(ck_path, model, opt, sched, map_location=device,
                                 model_name=args.model)
            try:
                start, history = int(ck["epoch"]), list(ck["history"])
            except (KeyError, TypeError, ValueError) as e:
                raise CheckpointError(args.checkpoint,
                                      f"has no valid epoch and history ({e!r})") from e
        except CheckpointError as e:
            if ranks.on and not ranks.lead:  # name the user's file, not the received copy
                e = CheckpointError(args.checkpoint, e.reason)
            error = f"cannot resume from {e}"
        if ranks.on and not ranks.lead:
            Path(ck_path).unlink(missing_ok=True)
        ranks.agree(error)
        print(f"resumed from {args.checkpoint} after epoch {start}")
    error = None
    if ranks.lead and args.checkpoint and not Path(args.checkpoint).resolve().parent.is_dir():
        error = f"cannot write checkpoint {args.checkpoint}: its folder does not exist"
    ranks.agree(error)
    net = model
    if ranks.on:  # rank 0's parameters and buffers are copied to the others here
        net = nn.parallel.DistributedDataParallel(model)
    batch = f"batch {args.batch_size}"
    if ranks.on:
        batch = (f"batch {args.batch_size} per rank x {ranks.world} "
                 f"rank{'s' if ranks.world > 1 else ''} = "
                 f"{args.batch_size * ranks.world}")
    print(f"{args.model}: {n_params:,} parameters, {len(train_set):,} training and "
          f"{len(test_set):,} test images ({args.dataset}), {args.optimizer} lr={args.lr}, "
          f"{batch}, {args.epochs} epochs, device {device}")
    print(net)
    metrics = {"model": args.model, "command": command_line(args),
               "args": {k: v for k, v in vars(args).items() if not k.startswith("_")},
               "parameters": n_params, "train_size": len(train_set),
               "test_size": len(test_set), "epochs": history}
    if ranks.on:
        metrics.update(world_size=ranks.world, global_batch=args.batch_size * ranks.world)
    dist_kw = {}
    if ranks.on:
        dist_kw = dict(reduce_loss=lambda v: ranks.sum([v], device)[0] / ranks.world,
                       diagnose=distributed_divergence(ranks))
    tty = sys.stderr.isatty()
    stop = args.epochs if args.stop_after is None else min(args.epochs, start + args.stop_after)
    for epoch in range(start + 1, stop + 1):
        if ranks.on:
            sampler.set_epoch(epoch)
            ag.manual_seed(rank_seed(args.seed, epoch, ranks.rank))
        t0, c0 = time.perf_counter(), time.process_time()
        bar = tqdm(train_loader, desc=f"epoch {epoch}/{args.epochs}", unit="batch",
                   leave=False, disable=args.no_progress or not ranks.lead,
                   mininterval=0.2 if tty else 30.0, dynamic_ncols=True)

        def show(stats, bar=bar):
            post = f"loss={stats['loss']:.4f}"
            if stats["acc"] is not None:
                post += f" acc={stats['acc']:.4f}"
            bar.set_postfix_str(post, refresh=False)

        try:
            tr = train_epoch(net, bar, loss_fn, opt, sched, epoch=epoch, classify=classify,
                             clip_grad=args.clip_grad,
                             augment=random_hflip if args.augment else None,
                             detect_anomaly=args.detect_anomaly, on_batch=show,
                             live_hint="run with --detect-anomaly", **dist_kw)
        except TrainingDiverged as e:
            e.history = history
            raise
        finally:
            bar.close()
        if ranks.on:  # the epoch's figures over the whole training set
            n = tr["samples"]
            loss_sum, acc_sum, n = ranks.sum([tr["loss"] * n, (tr["acc"] or 0.0) * n, n],
                                             device)
            tr = {"loss": loss_sum / n, "acc": acc_sum / n if classify else None,
                  "samples": int(n)}
        if not tty and not args.no_progress and ranks.lead:  # a log file: a new line
            print(file=sys.stderr, flush=True)
        train_s = time.perf_counter() - t0
        ev = evaluate_split(model, test_loader, data_loss, classify,
                            args.model == "autoencoder", ranks, device)
        rec = {"epoch": epoch, "train_loss": tr["loss"], "train_acc": tr["acc"],
               "test_loss": ev["loss"], "test_acc": ev.get("acc"),
               "lr": opt.param_groups[0]["lr"], "train_seconds": train_s,
               "seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0}
        if "mse" in ev:
            rec["test_mse"] = ev["mse"]
        history.append(rec)
        line = f"epoch {epoch:3d}/{args.epochs}  train loss {rec['train_loss']:.4f}"
        if classify:
            line += f" acc {rec['train_acc']:.4f}"
        line += f"  test loss {rec['test_loss']:.4f}"
        line += f" acc {rec['test_acc']:.4f}" if classify else f" mse {rec['test_mse']:.5f}"
        line += f"  lr {rec['lr']:.2e}  {rec['seconds']:.1f} s (cpu {rec['cpu_seconds']:.1f} s)"
        print(line, flush=True)
        if args.checkpoint:
            error = None
            if ranks.lead:
                extra = {}
                if ranks.on:
                    extra = dict(world_size=ranks.world,
                                 global_batch=args.batch_size * ranks.world)
                try:
                    save_checkpoint(args.checkpoint, model, opt, sched, epoch=epoch,
                                    history=history, model_name=args.model,
                                    args=_clean(vars(args)), **extra)
                except OSError as e:
                    error = f"cannot write checkpoint {args.checkpoint}: {e}"
            if ranks.on:
                ranks.agree(error)
            elif error:
                raise UsageError(error)
        _finish(metrics, history, model, test_set, out_dir, args, write_pictures=False,
                write=ranks.lead)
    return _finish(metrics, history, model, test_set, out_dir, args, write_pictures=True,
                   write=ranks.lead)


def evaluate_split(model, loader, loss_fn, classify: bool, extra_mse: bool, ranks: _Ranks,
                   device) -> dict:
    """``evaluate`` on this rank's part of the test set, combined over the ranks (every rank
    gets the same figures); the plain ``evaluate`` without ``--distributed``."""
    if not ranks.on:
        return evaluate(model, loader, loss_fn, classify, extra_mse=extra_mse)
    n = len(loader.dataset)
    ev = evaluate(model, loader, loss_fn, classify, extra_mse=extra_mse) if n else {}
    keys = ["loss"] + (["acc"] if classify else []) + (["mse"] if extra_mse else [])
    sums = ranks.sum([ev.get(k, 0.0) * n for k in keys] + [n], device)
    return {k: v / sums[-1] for k, v in zip(keys, sums)}


def _finish(metrics, history, model, test_set, out_dir: Path, args,
            write_pictures: bool, write: bool = True) -> dict:
    """Update the summary fields and write metrics.json (and the pictures at the end);
    ``write=False`` (ranks other than 0): only the summary."""
    metrics["epochs"] = history
    if history:
        last = history[-1]
        metrics["epochs_done"] = last["epoch"]
        metrics["final_test_loss"] = last["test_loss"]
        metrics["final_test_acc"] = last["test_acc"]
        if last["test_acc"] is not None:
            metrics["best_test_acc"] = max(h["test_acc"] for h in history)
        if "test_mse" in last:
            metrics["final_test_mse"] = last["test_mse"]
        secs = [h["seconds"] for h in history]
        metrics["seconds_per_epoch"] = sum(secs) / len(secs)
        metrics["total_minutes"] = sum(secs) / 60
        cpu = [h.get("cpu_seconds", math.nan) for h in history]
        metrics["cpu_seconds_per_epoch"] = sum(cpu) / len(cpu)
    if not write:
        return metrics
    if write_pictures:
        notes = []
        if plot_curves(history, out_dir / "curves.png", args.model) is None and history:
            notes.append("matplotlib is not installed: no curves.png")
        if args.model == "autoencoder":
            if plot_reconstructions(model, test_set, out_dir / "reconstructions.png"):
                print(f"reconstructions written to {out_dir / 'reconstructions.png'}")
        for note in notes:
            print(f"note: {note}")
    write_json(out_dir / "metrics.json", metrics)
    return metrics


def main(argv=None) -> int:
    """Command-line entry point.

    Returns:
        0 on success, 1 when the training diverged (the reason is printed on stderr), 2 when
        the ``--resume`` checkpoint cannot be used or the checkpoint cannot be written, or
        ``--distributed`` cannot start (one ``train.py: error: ...`` line on stderr, like
        argparse's usage errors). With ``--distributed`` every rank returns the same code
        and only rank 0 prints.
    """
    args = parse_args(argv)
    args._argv = list(sys.argv[1:] if argv is None else argv)
    if not args.distributed:
        return _main(args, lead=True)
    try:
        init_distributed(args)
    except DistributedError as e:
        print(f"train.py: error: --distributed: {e}", file=sys.stderr, flush=True)
        return 2
    lead = dist.get_rank() == 0
    # the other ranks print nothing and repeat no warning (stderr stays open for their
    # tracebacks); an uncaught exception ends the whole job (autograd.distributed's
    # excepthook), so no `finally` here
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(
            sys.stdout if lead else devnull), warnings.catch_warnings():
        if not lead:
            warnings.simplefilter("ignore")
        code = _main(args, lead)
    dist.destroy_process_group()
    return code


def _main(args, lead: bool) -> int:
    try:
        metrics = train(args)
    except UsageError as e:
        if lead:
            print(f"train.py: error: {e}", file=sys.stderr, flush=True)
        return 2
    except TrainingDiverged as e:
        if lead:
            print(str(e), file=sys.stderr, flush=True)
            write_json(Path(args.out) / "metrics.json", {
                "model": args.model, "command": command_line(args), "stopped": str(e),
                "epochs": e.history})
        return 1
    if metrics.get("final_test_acc") is not None:
        print(f"final test accuracy {metrics['final_test_acc']:.4f} (best "
              f"{metrics['best_test_acc']:.4f}); {metrics['seconds_per_epoch']:.1f} s per "
              f"epoch, {metrics['total_minutes']:.1f} min in all")
    elif metrics.get("epochs"):
        print(f"final test loss {metrics['final_test_loss']:.5f}; "
              f"{metrics['seconds_per_epoch']:.1f} s per epoch")
    print(f"metrics written to {Path(args.out) / 'metrics.json'}")
    return 0


def command_line(args) -> str:
    """The command that ran (for metrics.json)."""
    return " ".join(["python scripts/train.py", *getattr(args, "_argv", [])])


if __name__ == "__main__":
    sys.exit(main())
