"""Printing tensors as PyTorch prints them: ``repr``/``str``, and ``set_printoptions``.

The rules follow PyTorch's: floating values get 4 decimals (``1.5000``), or none with a
trailing dot when every finite value is an integer (``1.``), or scientific notation when the
finite non-zero magnitudes span more than 1000x, exceed 1e8 or fall below 1e-4 (integers:
only the first two); all elements share one width; more than ``threshold`` elements are
summarised with ``...`` and ``edgeitems`` per side; lines wrap at ``linewidth``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrintOptions()

_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None) -> None:
    """Set how tensors print (PyTorch's ``torch.set_printoptions``).

    Args:
        precision: digits after the decimal point (default 4).
        threshold: more elements than this are summarised with ``...`` (default 1000).
        edgeitems: elements shown at each end of a summarised dimension (default 3).
        linewidth: characters per line before wrapping (default 80).
        profile: "default", "short" or "full"; applied first, the other arguments override.
        sci_mode: True or False forces scientific notation on or off; None chooses.
    """
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}, "
                             f"got {profile!r}")
        for k, v in _PROFILES[profile].items():
            setattr(PRINT_OPTS, k, v)
    for k, v in (("precision", precision), ("threshold", threshold),
                 ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if v is not None:
            setattr(PRINT_OPTS, k, v)
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict:
    """The current print options, as a dict."""
    return dict(vars(PRINT_OPTS))


class _Formatter:
    """One width and one notation for all the values of a tensor."""

    def __init__(self, values: np.ndarray):
        self.floating = values.dtype.kind in "fV"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        p = PRINT_OPTS.precision
        if not self.floating:
            for v in flat.tolist():
                self.max_width = max(self.max_width, len(str(v)))
        else:
            vals = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
            if vals.size:
                mag = np.abs(vals)
                vmin, vmax = float(mag.min()), float(mag.max())
                self.int_mode = bool(np.all(vals == np.ceil(vals)))
                self.sci_mode = (vmax / vmin > 1000.0 or vmax > 1.0e8 or vmin < 1.0e-4
                                 if PRINT_OPTS.sci_mode is None else PRINT_OPTS.sci_mode)
                for v in vals.tolist():
                    if self.sci_mode:
                        s = f"{v:.{p}e}"
                    elif self.int_mode:
                        s = f"{v:.0f}."
                    else:
                        s = f"{v:.{p}f}"
                    self.max_width = max(self.max_width, len(s))

    def width(self) -> int:
        return self.max_width

    def format(self, v) -> str:
        p = PRINT_OPTS.precision
        if self.floating:
            if self.sci_mode:
                s = f"{v:{self.max_width}.{p}e}"
            elif self.int_mode:
                s = f"{v:.0f}" + ("" if (math.isinf(v) or math.isnan(v)) else ".")
            else:
                s = f"{v:.{p}f}"
        else:
            s = f"{v}"
        return (self.max_width - len(s)) * " " + s


class _ComplexFormatter:
    """PyTorch's complex layout: the real and the imaginary parts each with their own
    formatter (width, notation), joined as ``real+imagj`` / ``real-imagj``."""

    def __init__(self, values: np.ndarray):
        self.re, self.im = _Formatter(values.real), _Formatter(values.imag)

    def width(self) -> int:
        return self.re.width() + self.im.width() + 1  # the "j"

    def format(self, v) -> str:
        imag = (self.im.format(v.imag) + "j").lstrip()
        return self.re.format(v.real) + (imag if imag[0] in "+-" else "+" + imag)


def _summarized(a: np.ndarray) -> np.ndarray:
    """The values shown when ``a`` is summarised (the edge items of every dimension)."""
    e = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        return np.concatenate([a[:e], a[-e:]]) if a.shape[0] > 2 * e else a
    if not e:
        return a[(slice(0, 0),) * a.ndim]
    rows = range(a.shape[0]) if a.shape[0] <= 2 * e else [*range(e),
                                                          *range(a.shape[0] - e, a.shape[0])]
    return np.stack([_summarized(a[i]) for i in rows])


def _vector(a, indent, summarize, fmt) -> str:
    per_line = max(1, int(math.floor((PRINT_OPTS.linewidth - indent) / (fmt.width() + 2))))
    e = PRINT_OPTS.edgeitems
    if summarize and not e:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * e:
        data = ([fmt.format(v) for v in a[:e].tolist()] + [" ..."]
                + [fmt.format(v) for v in a[-e:].tolist()])
    else:
        data = [fmt.format(v) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(a, indent, summarize, fmt) -> str:
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector(a, indent, summarize, fmt)
    e = PRINT_OPTS.edgeitems
    if summarize and a.shape[0] > 2 * e:
        parts = ([_nested(a[i], indent + 1, summarize, fmt) for i in range(e)] + ["..."]
                 + [_nested(a[i], indent + 1, summarize, fmt)
                    for i in range(a.shape[0] - e, a.shape[0])])
    else:
        parts = [_nested(a[i], indent + 1, summarize, fmt) for i in range(a.shape[0])]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def array_str(a: np.ndarray, indent: int) -> str:
    """The body of a tensor's repr (without ``tensor(`` and the suffixes)."""
    if a.size == 0:
        return "[]"
    if a.dtype.kind in "fV" and a.dtype.itemsize < 4 or a.dtype.name == "bfloat16":
        a = a.astype(np.float32)  # format half precision through float32, as PyTorch does
    summarize = a.size > PRINT_OPTS.threshold
    fmt = (_ComplexFormatter if a.dtype.kind == "c" else _Formatter)(
        _summarized(a) if summarize else a)
    return _nested(a, indent, summarize, fmt)


def add_suffixes(body: str, suffixes, indent: int) -> str:
    """``body`` followed by ``, suffix`` items, wrapped at the line width; then ``)``."""
    out = [body]
    last = len(body) - body.rfind("\n") + 1
    for s in suffixes:
        if last + len(s) + 2 > PRINT_OPTS.linewidth:
            out.append(",\n" + " " * indent + s)
            last = indent + len(s)
        else:
            out.append(", " + s)
            last += len(s) + 2
    out.append(")")
    return "".join(out)
