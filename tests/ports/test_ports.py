"""Ports: PyTorch programs run unchanged except for their imports (issue 11).

Each file in ``programs/`` is a small training program written once, in PyTorch's style, with
PyTorch's imports (``import torch``, ``import torch.nn as nn``, ``from torch.utils.data
import DataLoader``...). The test runs it twice:

* as written, on PyTorch;
* with ONLY its import lines rewritten (``import autograd as torch``, ``import nn``,
  ``import optim``, ``from autograd.utils.data import ...``; checked: every other line is
  byte-identical), on this project;

copies PyTorch's initial weights into this project's models through ``state_dict()`` /
``load_state_dict()`` (the keys must match), trains both for ``STEPS`` steps on the same
data and compares the losses: float64 to 1e-10, float32 to 1e-5.

Dropout draws its masks from each framework's own generator, so the comparison runs use
``P_DROP = 0`` (the layers stay in the model, in training mode); ``test_port_trains_with_
dropout`` then runs each program here with its own dropout rate and checks the losses are
finite and differ from the dropout-free run where the program has dropout.

Each program defines ``build(dtype) -> {name: module}`` and ``train(models, dtype, steps) ->
[loss, ...]``.
"""

from __future__ import annotations

import math
import re
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import autograd as ag

torch = pytest.importorskip("torch")

PROGRAMS = sorted(p.stem for p in (Path(__file__).parent / "programs").glob("*.py"))
STEPS = 20
TOL = {"float64": 1e-10, "float32": 1e-5}

# where PyTorch's modules are here: the longest matching prefix wins
MODULES = [("torch.nn", "nn"), ("torch.optim", "optim"), ("torch", "autograd")]


def _module(path: str) -> str:
    for theirs, ours in MODULES:
        if path == theirs or path.startswith(theirs + "."):
            return ours + path[len(theirs):]
    return path


def port_line(line: str) -> str:
    """One line with its PyTorch import swapped for this project's (other lines unchanged):
    ``import torch`` -> ``import autograd as torch``, ``import torch.nn as nn`` -> ``import
    nn as nn``, ``from torch.utils.data import X`` -> ``from autograd.utils.data import X``,
    ``from torch import nn, optim`` -> ``from autograd import nn, optim``."""
    m = re.match(r"^from (torch[\w.]*) import (.*)$", line)
    if m:
        return f"from {_module(m.group(1))} import {m.group(2)}"
    m = re.match(r"^import (torch[\w.]*)( as \w+)?$", line)
    if m:
        alias = m.group(2) or (" as torch" if m.group(1) == "torch" else "")
        if not alias:
            raise AssertionError(f"use `import {m.group(1)} as <name>` in a port: {line!r}")
        return f"import {_module(m.group(1))}{alias}"
    return line


def port_source(src: str) -> str:
    """``src`` with its PyTorch imports swapped for this project's (nothing else)."""
    return "\n".join(port_line(line) for line in src.splitlines()) + "\n"


def load(name: str, ours: bool):
    path = Path(__file__).parent / "programs" / f"{name}.py"
    src = path.read_text()
    if ours:
        src = port_source(src)
        assert not any(re.match(r"^(from|import) torch", line) for line in src.splitlines())
    mod = types.ModuleType(f"port_{name}_{'ours' if ours else 'torch'}")
    mod.__file__ = str(path)
    sys.modules[mod.__name__] = mod  # worker processes and pickling find the classes
    exec(compile(src, str(path), "exec"), mod.__dict__)
    return mod


def copy_weights(theirs: dict, ours: dict) -> None:
    for k, tm in theirs.items():
        sd = {n: ag.tensor(v.detach().numpy().copy()) for n, v in tm.state_dict().items()}
        ours_keys = set(ours[k].state_dict())
        assert ours_keys == set(sd), f"{k}: state_dict keys differ: {ours_keys ^ set(sd)}"
        ours[k].load_state_dict(sd)


def run_pair(name, dt, p_drop=0.0):
    mt, mo = load(name, False), load(name, True)
    mt.P_DROP = mo.P_DROP = p_drop
    tdt, odt = getattr(torch, dt), getattr(ag, dt)
    torch.manual_seed(0)
    theirs = mt.build(tdt)
    ours = mo.build(odt)
    copy_weights(theirs, ours)
    lt = mt.train(theirs, tdt, STEPS)
    lo = mo.train(ours, odt, STEPS)
    return lt, lo


@pytest.mark.parametrize("dt", ["float64", "float32"])
@pytest.mark.parametrize("name", PROGRAMS)
def test_port_matches_pytorch(name, dt):
    lt, lo = run_pair(name, dt)
    assert len(lo) == len(lt) >= STEPS
    assert all(math.isfinite(v) for v in lo)
    np.testing.assert_allclose(lo, lt, rtol=TOL[dt], atol=TOL[dt],
                               err_msg=f"{name} ({dt}): losses differ from PyTorch's")


@pytest.mark.parametrize("name", PROGRAMS)
def test_port_trains_with_dropout(name):
    mod = load(name, True)
    rate = mod.P_DROP
    ag.manual_seed(1)
    models = mod.build(ag.float64)
    losses = mod.train(models, ag.float64, STEPS)
    assert all(math.isfinite(v) for v in losses)
    if rate > 0:
        mod.P_DROP = 0.0
        ag.manual_seed(1)
        plain = mod.train(mod.build(ag.float64), ag.float64, STEPS)
        assert not np.allclose(losses, plain), f"{name}: dropout {rate} changed nothing"


def test_only_imports_differ():
    for name in PROGRAMS:
        src = (Path(__file__).parent / "programs" / f"{name}.py").read_text()
        ported = port_source(src)
        diff = [(a, b) for a, b in zip(src.splitlines(), ported.splitlines()) if a != b]
        assert diff, f"{name}: no PyTorch import found"
        assert all(a.startswith(("import torch", "from torch")) for a, _ in diff), diff
