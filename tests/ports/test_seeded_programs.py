"""Seeded PyTorch programs print PyTorch's output (the guide's test of the API).

Each file in ``seeded/`` is a tutorial-style PyTorch program (training loops, sequence
models, attention, GANs, per-sample gradients, schedulers, data pipelines...) that seeds
PyTorch's generator and prints many values: losses, parameters, gradients, shapes, reprs,
exception class names. The test runs it twice in fresh processes: as written on PyTorch, and
with only its imports rewritten (``port_source``) on this project; the two outputs must agree
line by line, numbers to a relative 2e-5 (float32 results of different summation orders).
Everything else is compared as printed: ``torch.Size([2])``, ``torch.float32``,
``dtype=torch.int64`` and ``torch.return_types.max(...)`` are this project's text too.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_ports import port_source  # tests/ports is on sys.path (pytest prepends it)

pytest.importorskip("torch")

HERE = Path(__file__).parent / "seeded"
PROGRAMS = sorted(p.name for p in HERE.glob("*.py"))
_NUM = re.compile(r"-?\d+\.?\d*(?:e[+-]?\d+)?|nan|inf")
def _differences(want: str, got: str, rtol: float = 2e-5, atol: float = 1e-5) -> list:
    a, b = want.splitlines(), got.splitlines()
    bad = [] if len(a) == len(b) else [f"{len(a)} lines from PyTorch, {len(b)} here"]
    for i, (x, y) in enumerate(zip(a, b)):
        if x == y:
            continue
        nx, ny = _NUM.findall(x), _NUM.findall(y)
        ok = _NUM.split(x) == _NUM.split(y) and len(nx) == len(ny) and all(
            (u == v) or (u != u and v != v) or abs(u - v) <= rtol * max(abs(u), abs(v)) + atol
            for u, v in ((float(p), float(q)) for p, q in zip(nx, ny)))
        if not ok:
            bad.append(f"line {i + 1}\n  PyTorch: {x}\n  here:    {y}")
    return bad


def _run(path: Path, cwd: Path) -> str:
    env = dict(os.environ, PYTHONWARNINGS="ignore", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                         timeout=300, cwd=cwd, env=env)
    assert out.returncode == 0, f"{path.name} failed:\n{out.stderr[-2000:]}"
    return out.stdout


@pytest.mark.parametrize("name", PROGRAMS)
def test_seeded_program_prints_pytorchs_output(name, tmp_path):
    src = (HERE / name).read_text()
    ported = tmp_path / name
    ported.write_text(port_source(src))
    want = _run(HERE / name, tmp_path)
    got = _run(ported, tmp_path)
    bad = _differences(want, got)
    assert not bad, f"{name}: {len(bad)} differences\n" + "\n".join(bad[:10])


def test_the_comparison_can_fail():
    assert _differences("loss 0.5000\n", "loss 0.5001\n")
    assert _differences("a\n", "a\nb\n")
    assert not _differences("x tensor([1.0000])", "x tensor([1.0000])")
    assert _differences("torch.Size([2]) torch.float32", "autograd.Size([2]) float32")
