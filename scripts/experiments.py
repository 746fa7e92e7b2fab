"""The small experiments of the project; each prints its result.

- ``xor``: the 2-2-1 ReLU network with hand-set weights W = [[1, 1], [1, 1]], b = [0, -1],
  U = [1, -2], c = 0 computes XOR exactly; the same architecture learned from random
  initialisations (20 seeds): how many reach 100 % and their final losses.
- ``perceptron``: Rosenblatt's perceptron learning rule converges on AND (epochs and weights)
  and never converges on XOR (its weights enter a cycle); a one-hidden-layer MLP trained by
  backpropagation learns XOR.
- ``optimizers``: SGD vs SGD with momentum vs Adam on the same MLP (Fashion-MNIST): learning
  curves in one PNG (experiments 3-8 are ``scripts/train.py`` runs).
- ``table``: the Markdown table of the ``train.py`` runs found under ``--out`` (their
  ``metrics.json``), for ``results/RESULTS.md``.

Examples:
    python scripts/experiments.py xor
    python scripts/experiments.py perceptron
    AUTOGRAD_DATA=/work/shared/data python scripts/experiments.py optimizers --epochs 10
    python scripts/experiments.py all
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _p in (str(ROOT), str(HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import train as T  # noqa: E402  (scripts/train.py, a sibling: experiments 3-9 are its runs)

import autograd as ag  # noqa: E402
import nn  # noqa: E402
import nn.functional as F  # noqa: E402
import optim  # noqa: E402

XOR_X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
XOR_Y = [0.0, 1.0, 1.0, 0.0]
AND_Y = [0.0, 0.0, 0.0, 1.0]


def _save(args, name: str, result: dict) -> None:
    """Write ``result`` to ``<out>/<name>/<name>.json``."""
    folder = Path(args.out) / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")


# ---- (1) XOR with a 2-2-1 ReLU network -------------------------------------------------------

def xor_net() -> nn.Sequential:
    """The 2-2-1 network y = U relu(W x + b) + c."""
    return nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))


def xor_hand_set() -> list[float]:
    """Outputs of the 2-2-1 ReLU network with the hand-set weights on the four XOR inputs.

    W = [[1, 1], [1, 1]], b = [0, -1], U = [1, -2], c = 0: the hidden units compute
    x1 + x2 and relu(x1 + x2 - 1), and y = h1 - 2 h2 is 0, 1, 1, 0.

    Returns:
        The four outputs, in the order (0,0), (0,1), (1,0), (1,1).
    """
    net = xor_net()
    with ag.no_grad():
        net[0].weight.copy_(ag.tensor([[1.0, 1.0], [1.0, 1.0]]))
        net[0].bias.copy_(ag.tensor([0.0, -1.0]))
        net[2].weight.copy_(ag.tensor([[1.0, -2.0]]))
        net[2].bias.copy_(ag.tensor([0.0]))
        out = net(ag.tensor(XOR_X))
    return [float(v) for v in out.reshape(-1).tolist()]


def xor_learned(seeds: int = 20, steps: int = 2000, lr: float = 0.05, first: int = 0) -> dict:
    """Train the 2-2-1 ReLU network on XOR from ``seeds`` random initialisations (the seeds
    ``first``, ``first + 1``...).

    Full-batch Adam on the mean squared error; a run "reaches 100 %" when all four outputs
    round to the right bit (output > 0.5 means 1).

    Returns:
        ``{"solved": k, "seeds": n, "runs": [{"seed", "loss", "outputs", "solved"}, ...]}``
    """
    x, y = ag.tensor(XOR_X), ag.tensor(XOR_Y).reshape(4, 1)
    runs = []
    for seed in range(first, first + seeds):
        ag.manual_seed(seed)
        net = xor_net()
        opt = optim.Adam(net.parameters(), lr=lr)
        for _ in range(steps):
            loss = F.mse_loss(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        with ag.no_grad():
            out = net(x).reshape(-1)
            final = F.mse_loss(out.reshape(4, 1), y).item()
        preds = [int(v > 0.5) for v in out.tolist()]
        runs.append({"seed": seed, "loss": final, "outputs": [round(v, 4) for v in out.tolist()],
                     "solved": preds == [int(t) for t in XOR_Y]})
    return {"solved": sum(r["solved"] for r in runs), "seeds": seeds, "steps": steps,
            "runs": runs}


def run_xor(args) -> dict:
    """Experiment 1: print the hand-set outputs and the learned runs' summary."""
    outs = xor_hand_set()
    print("XOR with hand-set weights W=[[1,1],[1,1]], b=[0,-1], U=[1,-2], c=0:")
    for (a, b), o in zip(XOR_X, outs):
        print(f"  x = ({a:.0f}, {b:.0f})  ->  y = {o:g}")
    print(f"  exactly XOR: {outs == XOR_Y}")
    res = xor_learned(args.seeds, args.steps)
    print(f"\nThe same 2-2-1 ReLU network learned from random initialisation ({res['seeds']} "
          f"seeds, full-batch Adam lr=0.05, {res['steps']} steps, MSE):")
    for r in res["runs"]:
        tag = "100 %" if r["solved"] else "stuck"
        print(f"  seed {r['seed']:2d}: loss {r['loss']:.6f}  outputs {r['outputs']}  {tag}")
    stuck = sorted({round(r["loss"], 3) for r in res["runs"] if not r["solved"]})
    line = f"  {res['solved']}/{res['seeds']} seeds reach 100 % (loss ~0)"
    if stuck:
        line += ("; the others end in a local minimum with dead ReLUs (loss "
                 + ", ".join(f"{v:.3f}" for v in stuck) + ")")
    print(line)
    result = {"hand_set_outputs": outs, **res}
    _save(args, "xor", result)
    return result


# ---- (2) Rosenblatt's perceptron ----------------------------------------------------------

def perceptron(targets, max_epochs: int = 100, lr: float = 1.0) -> dict:
    """Rosenblatt's perceptron learning rule on the four binary inputs.

    y = step(w . x + b) (1 when w . x + b > 0); after each sample w += lr (t - y) x and
    b += lr (t - y). Starts from w = 0, b = 0 and visits the samples in a fixed order, so the
    run is exact (integer arithmetic). A state (w, b) at the start of an epoch that was seen
    before proves the rule cycles forever.

    Args:
        targets: the four target bits for (0,0), (0,1), (1,0), (1,1).
        max_epochs: give up after this many epochs.
        lr: the learning rate.

    Returns:
        ``{"converged", "epochs", "w", "b", "errors", "cycle"}``: ``epochs`` is the first
        epoch without a mistake (or ``max_epochs``); ``errors`` the mistakes per epoch;
        ``cycle`` (first epoch, period) when the weights repeat, else None.
    """
    x = ag.tensor(XOR_X, dtype=ag.float64)
    w = ag.zeros(2, dtype=ag.float64)
    b = 0.0
    errors, seen = [], {}
    cycle = None
    for epoch in range(1, max_epochs + 1):
        state = (tuple(w.tolist()), b)
        if state in seen and cycle is None:
            cycle = (seen[state], epoch - seen[state])
        seen.setdefault(state, epoch)
        mistakes = 0
        for xi, t in zip(x, targets):
            y = 1.0 if float((w * xi).sum().item()) + b > 0 else 0.0
            if y != t:
                mistakes += 1
                w = w + lr * (t - y) * xi
                b += lr * (t - y)
        errors.append(mistakes)
        if mistakes == 0:
            return {"converged": True, "epochs": epoch, "w": w.tolist(), "b": b,
                    "errors": errors, "cycle": None}
    return {"converged": False, "epochs": max_epochs, "w": w.tolist(), "b": b,
            "errors": errors, "cycle": cycle}


def mlp_xor(seed: int = 0, hidden: int = 4, steps: int = 1000, lr: float = 0.05) -> dict:
    """A one-hidden-layer MLP (2-hidden-1, tanh, sigmoid output, BCE) trained on XOR.

    Returns:
        ``{"outputs", "predictions", "loss", "solved"}``.
    """
    ag.manual_seed(seed)
    net = nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, 1))
    x, y = ag.tensor(XOR_X), ag.tensor(XOR_Y).reshape(4, 1)
    opt = optim.Adam(net.parameters(), lr=lr)
    for _ in range(steps):
        loss = F.binary_cross_entropy_with_logits(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with ag.no_grad():
        logits = net(x)
        p = ag.sigmoid(logits).reshape(-1).tolist()
        final = F.binary_cross_entropy_with_logits(logits, y).item()
    preds = [int(v > 0.5) for v in p]
    return {"outputs": [round(v, 4) for v in p], "predictions": preds, "loss": final,
            "solved": preds == [int(t) for t in XOR_Y]}


def run_perceptron(args) -> dict:
    """Experiment 2: the perceptron on AND and XOR, then an MLP on XOR."""
    res_and = perceptron(AND_Y, args.max_epochs)
    print("Rosenblatt's perceptron rule (w = 0, b = 0, lr = 1, samples in order):")
    print(f"  AND: converged after {res_and['epochs']} epochs (mistakes per epoch "
          f"{res_and['errors']}); w = {res_and['w']}, b = {res_and['b']}")
    res_xor = perceptron(XOR_Y, args.max_epochs)
    msg = "converged" if res_xor["converged"] else "did NOT converge"
    print(f"  XOR: {msg} within {res_xor['epochs']} epochs (mistakes in the last epochs "
          f"{res_xor['errors'][-5:]})")
    if res_xor["cycle"]:
        start, period = res_xor["cycle"]
        print(f"       the weights at the start of epoch {start + period} equal those of epoch "
              f"{start}: the rule cycles with period {period} and never converges")
    mlp = mlp_xor()
    print(f"  a 2-4-1 tanh MLP trained by backpropagation learns XOR: outputs "
          f"{mlp['outputs']} -> {mlp['predictions']} (loss {mlp['loss']:.4f})")
    result = {"and": res_and, "xor": res_xor, "mlp_xor": mlp}
    _save(args, "perceptron", result)
    return result


# ---- (9) SGD vs momentum vs Adam ------------------------------------------------------------

OPTIMIZER_RUNS = (("sgd", 0.01), ("momentum", 0.01), ("adam", 0.001))


def run_optimizers(args) -> dict:
    """Experiment 9: the MLP trained with SGD, momentum and Adam; one PNG of the curves."""
    out = Path(args.out) / "optimizers"
    out.mkdir(parents=True, exist_ok=True)
    curves = {}
    for name, lr in OPTIMIZER_RUNS:
        argv = ["--model", "mlp", "--optimizer", name, "--lr", str(lr), "--schedule", "none",
                "--epochs", str(args.epochs), "--seed", str(args.seed), "--no-progress",
                "--out", str(out / name)]
        if args.quick:
            argv.append("--quick")
        if args.dataset:
            argv += ["--dataset", args.dataset]
        print(f"--- mlp with {name} (lr {lr}) ---", flush=True)
        if T.main(argv) != 0:
            raise SystemExit(f"the {name} run diverged")
        curves[name] = json.loads((out / name / "metrics.json").read_text())
    summary = {name: {"lr": lr, "final_test_acc": curves[name]["final_test_acc"],
                      "final_train_loss": curves[name]["epochs"][-1]["train_loss"],
                      "seconds_per_epoch": curves[name]["seconds_per_epoch"]}
               for name, lr in OPTIMIZER_RUNS}
    print("\nSGD vs momentum vs Adam on the 784-256-128-10 MLP:")
    for name, s in summary.items():
        print(f"  {name:9s} lr {s['lr']:<6g} final train loss {s['final_train_loss']:.4f}  "
              f"test accuracy {s['final_test_acc']:.4f}")
    path = plot_optimizers(curves, out / "optimizers.png")
    if path:
        print(f"curves written to {path}")
    else:
        print("note: matplotlib is not installed: no optimizers.png")
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def plot_optimizers(curves: dict, path: Path) -> Path | None:
    """Training loss and test accuracy per epoch for each optimizer, in one PNG."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    for (name, lr), m in ((r, curves[r[0]]) for r in OPTIMIZER_RUNS):
        ep = [h["epoch"] for h in m["epochs"]]
        label = f"{name} (lr {lr:g})"
        ax1.plot(ep, [h["train_loss"] for h in m["epochs"]], "o-", label=label)
        ax2.plot(ep, [h["test_acc"] for h in m["epochs"]], "o-", label=label)
    ax1.set(xlabel="epoch", ylabel="training loss", yscale="log",
            title="MLP: training loss (epoch mean)")
    ax2.set(xlabel="epoch", ylabel="test accuracy", title="MLP: test accuracy")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


# ---- the results table ----------------------------------------------------------------------

TRAIN_RUNS = (
    ("nielsen-quadratic", "(3) Nielsen 784-30-10 sigmoid, quadratic cost, SGD"),
    ("nielsen-cross-entropy", "(3) Nielsen 784-30-10 sigmoid, cross-entropy + L2, SGD"),
    ("mlp", "(4) MLP 784-256-128-10 ReLU, Adam"),
    ("lenet", "(5) LeNet-5"),
    ("cnn-bn", "(6) CNN + BatchNorm + dropout"),
    ("lstm", "(7) LSTM, image row by row"),
    ("autoencoder", "(8) Autoencoder 784-256-64-256-784"),
)


def results_table(folder: Path) -> str:
    """A Markdown table of the ``train.py`` runs whose ``metrics.json`` lie under ``folder``.

    Columns: experiment, command, final test accuracy (the autoencoder: test loss and MSE),
    epochs, wall-clock and CPU seconds per epoch, total minutes.
    """
    rows = ["| experiment | command | test result | epochs | s/epoch (wall) | s/epoch (CPU) "
            "| total min |", "|---|---|---|---|---|---|---|"]
    for name, label in TRAIN_RUNS:
        path = folder / name / "metrics.json"
        if not path.exists():
            continue
        m = json.loads(path.read_text())
        if not m.get("epochs"):
            continue
        if m.get("final_test_acc") is not None:
            result = f"accuracy **{m['final_test_acc']:.4f}**"
        else:
            result = f"BCE {m['final_test_loss']:.4f}, MSE {m['final_test_mse']:.4f}"
        cpu = m.get("cpu_seconds_per_epoch")
        cpu = f"{cpu:.1f}" if isinstance(cpu, (int, float)) else "-"
        rows.append(f"| {label} | `{m['command']}` | {result} | {m['epochs_done']} | "
                    f"{m['seconds_per_epoch']:.1f} | {cpu} | {m['total_minutes']:.1f} |")
    return "\n".join(rows)


def run_table(args) -> str:
    """Print the Markdown table of the ``train.py`` runs found under ``--out``."""
    table = results_table(Path(args.out))
    print(table)
    return table


# ---- command line ---------------------------------------------------------------------------

def main(argv=None) -> int:
    """Command-line entry point: run the chosen experiment(s)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("experiment", choices=("xor", "perceptron", "optimizers", "all", "table"))
    ap.add_argument("--seeds", type=int, default=20, help="xor: random initialisations")
    ap.add_argument("--steps", type=int, default=2000, help="xor: training steps per seed")
    ap.add_argument("--max-epochs", type=int, default=100, help="perceptron: epoch limit")
    ap.add_argument("--epochs", type=int, default=10, help="optimizers: epochs per run")
    ap.add_argument("--seed", type=int, default=0, help="optimizers: the seed")
    ap.add_argument("--dataset", choices=("fashion-mnist", "sample"), default=None)
    ap.add_argument("--quick", action="store_true", help="optimizers: a smoke run")
    ap.add_argument("--out", default=str(ROOT / "results"), help="output folder")
    args = ap.parse_args(argv)
    todo = ("xor", "perceptron", "optimizers") if args.experiment == "all" else (
        args.experiment,)
    for name in todo:
        t0 = time.perf_counter()
        print(f"=== {name} ===")
        {"xor": run_xor, "perceptron": run_perceptron, "optimizers": run_optimizers,
         "table": run_table}[name](args)
        print(f"({time.perf_counter() - t0:.1f} s)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
