"""``nn.summary``: a torchinfo-style table of a model's layers, output shapes and sizes."""

from __future__ import annotations

import numpy as np

from autograd import dtypes as _dt
from autograd.grad_mode import no_grad
from autograd.tensor import Tensor, zeros

from .modules.module import Module

_COLS = (("Layer (type:depth-idx)", 40), ("Output Shape", 25), ("Param #", 15),
         ("Dtype", 10), ("Device", 8))


class ModelSummary:
    """What ``summary`` returns; ``str()`` of it is the table. Attributes: ``rows`` (one
    dict per layer), ``total_params``, ``trainable_params``, ``total_output_bytes``,
    ``input_bytes`` and ``params_bytes``."""

    def __init__(self, rows, total_params, trainable_params, input_bytes, output_bytes,
                 params_bytes):
        self.rows = rows
        self.total_params = total_params
        self.trainable_params = trainable_params
        self.input_bytes = input_bytes
        self.total_output_bytes = output_bytes
        self.params_bytes = params_bytes

    def __str__(self) -> str:
        width = sum(w for _, w in _COLS)
        rule, thin = "=" * width, "-" * width
        lines = [rule, "".join(_cell(name, w) for name, w in _COLS).rstrip(), rule]
        for r in self.rows:
            cells = (r["name"], r["output_shape"], r["params"], r["dtype"], r["device"])
            lines.append("".join(_cell(c, w) for c, (_, w) in zip(cells, _COLS)).rstrip())
        mb = 1024.0 ** 2
        fwd = 2 * self.total_output_bytes  # forward activations + their gradients
        lines += [
            rule,
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.total_params - self.trainable_params:,}",
            thin,
            f"Input size (MB): {self.input_bytes / mb:.2f}",
            f"Forward/backward pass size (MB): {fwd / mb:.2f}",
            f"Params size (MB): {self.params_bytes / mb:.2f}",
            f"Estimated Total Size (MB): {(self.input_bytes + fwd + self.params_bytes) / mb:.2f}",
            rule,
        ]
        return "\n".join(lines)

    __repr__ = __str__


def _cell(text, width: int) -> str:
    return str(text).ljust(width - 1) + " "


def _first_tensor(out):
    if isinstance(out, Tensor):
        return out
    if isinstance(out, (tuple, list)):
        for o in out:
            t = _first_tensor(o)
            if t is not None:
                return t
    if isinstance(out, dict):
        return _first_tensor(list(out.values()))
    return None


def _shape_str(out) -> str:
    if isinstance(out, Tensor):
        return str(list(out.shape))
    if isinstance(out, (tuple, list)):
        parts = [_shape_str(o) for o in out]
        parts = [p for p in parts if p != "--"]
        return (", ".join(parts) if len(parts) > 1 else parts[0]) if parts else "--"
    return "--"


def _nbytes(out) -> int:
    if isinstance(out, Tensor):
        return int(out._data.nbytes)
    if isinstance(out, (tuple, list)):
        return sum(_nbytes(o) for o in out)
    return 0


def summary(model: Module, input_shape, dtype=None, device=None, verbose: bool = True,
            depth: int = 10) -> ModelSummary:
    """Run ``model`` once on zeros of ``input_shape`` (batch dim included; a list of shapes
    for several inputs) and print each layer's output shape, parameter count, dtype and
    device, then the parameter totals and estimated sizes (like torchinfo).

    The model runs in eval mode under ``no_grad`` (so BatchNorm's running statistics and
    the RNG are left untouched); its training flags are restored afterwards.

    Args:
        model: the module to run.
        input_shape: e.g. ``(64, 784)``, or ``[(2, 3), (2, 4)]`` for two inputs.
        dtype: input dtype (default: the model's first parameter's, else the default dtype);
            a list gives one per input (e.g. int64 for an Embedding).
        device: input device (default: the model's first parameter's, else "cpu").
        verbose: print the table.
        depth: show nested modules down to this depth.

    Returns:
        A ``ModelSummary`` (``str()`` gives the table).

    Example:
        >>> nn.summary(nn.Sequential(nn.Linear(4, 8), nn.ReLU()), (2, 4))
    """
    shapes = [tuple(input_shape)] if input_shape and isinstance(input_shape[0], int) \
        else [tuple(s) for s in input_shape]
    first = next(iter(model.parameters()), None)
    if device is None:
        device = first.device if first is not None else "cpu"
    dtypes = list(dtype) if isinstance(dtype, (list, tuple)) else [dtype] * len(shapes)
    dtypes = [_dt.to_dtype(d) or (first.dtype if first is not None else
                                  _dt.get_default_dtype()) for d in dtypes]
    inputs = [zeros(*s, dtype=d, device=device) for s, d in zip(shapes, dtypes)]

    outputs: dict = {}
    handles = []
    mods = list(model.named_modules())
    for _, m in mods:
        def hook(mod, args, out, _id=id(m)):
            outputs.setdefault(_id, out)
        handles.append(m.register_forward_hook(hook))
    modes = [(m, m.training) for _, m in mods]
    try:
        model.eval()
        with no_grad():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes:
            object.__setattr__(m, "training", mode)

    rows = []
    counters: dict = {}
    out_bytes = 0

    def visit(m, d, prefix, last):
        nonlocal out_bytes
        out = outputs.get(id(m))
        own = sum(p.numel() for p in m.parameters(recurse=False))
        if d == 0:
            name = type(m).__name__
        else:
            counters[d] = counters.get(d, 0) + 1
            name = f"{prefix}{'└─' if last else '├─'}{type(m).__name__}: {d}-{counters[d]}"
        t = _first_tensor(out)
        leaf = not any(True for _ in m.children())
        if leaf:
            out_bytes += _nbytes(out)
        rows.append({
            "name": name, "output_shape": _shape_str(out),
            "params": f"{own:,}" if own else "--",
            "dtype": np.dtype(t.dtype).name if t is not None else "--",
            "device": str(t.device) if t is not None else "--",
            "module": m, "depth": d,
        })
        kids = list(m.children())
        if d >= depth:
            return
        sub = prefix + ("" if d == 0 else ("     " if last else "│    "))
        for i, c in enumerate(kids):
            visit(c, d + 1, sub, i == len(kids) - 1)

    visit(model, 0, "", True)
    params = list(model.parameters())
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    res = ModelSummary(rows, total, trainable,
                       sum(int(np.prod(s)) * np.dtype(d).itemsize
                           for s, d in zip(shapes, dtypes)),
                       out_bytes, sum(int(p._data.nbytes) for p in params))
    if verbose:
        print(res)
    return res
