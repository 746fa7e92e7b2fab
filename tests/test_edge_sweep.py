"""The edge sweep: every registered op against PyTorch at its edges (issue 12).

Generated from the op registry (autograd/registry.py): every op meets every edge value
(0, -0.0, +-1, +-inf, nan, the smallest subnormal, the largest finite value, negatives,
integer-valued floats, the finite ends of its registered domain and its own special points)
in every dtype (float16, float32, float64, int32, int64, uint8, bool) and the shapes 0-d,
empty, broadcasting pairs and non-contiguous (transposed, sliced, expanded). For each case
it compares with PyTorch: whether an error is raised and its exception class, the result's
type, dtype and shape, its values (NaN-aware, the sign of zero included) and, for the
floating dtypes, the gradient wherever PyTorch's is not NaN.

How an op is called: element-wise ops of arity 1 and 2 and reductions are called by rule
(``op(x)``, ``op(x, y)``, ``op(x)``/``op(x, dim)``/``op(x, dim, keepdim=True)``); an op
whose arguments the rule cannot guess has a row in ``CALLS`` (``lambda M, x: ...`` where
``M`` is ``autograd`` or ``torch``). ``test_every_op_is_swept`` fails for a newly registered
op that has neither, so nothing is silently left out.

Where PyTorch itself is inconsistent (docs/TORCH_DIFFERENCES.md), the cases are listed in
``KNOWN`` with the reason, and skipped; nothing else is.

Run ``python tests/test_edge_sweep.py`` for the figures (ops x edge classes, disagreements).
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
import pytest

import autograd as ag
from autograd import registry

torch = pytest.importorskip("torch")

DTYPES = ("float16", "float32", "float64", "int32", "int64", "uint8", "bool")
FLOATS = ("float16", "float32", "float64")
GRAD_DTYPES = ("float32", "float64")

# ---- edge values ------------------------------------------------------------------------


def _float_edges(dt):
    fi = np.finfo(dt)
    sub = fi.smallest_subnormal
    return [
        ("zero", 0.0), ("negzero", -0.0), ("one", 1.0), ("negone", -1.0),
        ("inf", math.inf), ("neginf", -math.inf), ("nan", math.nan),
        ("subnormal", float(sub)), ("negsubnormal", -float(sub)),
        ("maxfinite", float(fi.max)), ("negmaxfinite", -float(fi.max)),
        ("negative", -2.5), ("negative", -0.5), ("intvalued", 2.0), ("intvalued", -3.0),
        ("intvalued", 7.0), ("fraction", 0.5), ("fraction", 1.5),
    ]


def _int_edges(dt):
    ii = np.iinfo(dt)
    out = [("zero", 0), ("one", 1), ("intvalued", 2), ("intvalued", 3), ("intvalued", 7),
           ("maxfinite", int(ii.max))]
    if ii.min < 0:
        out += [("negone", -1), ("negative", -3), ("minint", int(ii.min))]
    else:
        out += [("intvalued", 128)]
    return out


EDGE_CLASSES = ("zero", "negzero", "one", "negone", "inf", "neginf", "nan", "subnormal",
                "maxfinite", "negative", "intvalued", "special")


def special_points(info, k):
    """The op's own special points for input ``k``: the finite ends of its registered
    domain (log at 0, asin at +-1, acosh at 1, log1p at -1) and the table below."""
    pts = []
    if info.domain and k < len(info.domain):
        for v in info.domain[k]:
            if math.isfinite(v):
                pts.append(v)
    pts += SPECIAL.get(info.name, {}).get(k, [])
    return pts


# extra special points per op and input (pow: 0 to the powers 0, -1, -2, 0.5, -0.3...)
SPECIAL = {
    "pow": {0: [0.0, -0.0, 1.0], 1: [0.0, -1.0, -2.0, 0.5, -0.3, 2.0, 3.0]},
    "tan": {0: [math.pi / 2]},
    "remainder": {1: [0.0, -0.0]},
    "fmod": {1: [0.0, -0.0]},
    "div": {1: [0.0, -0.0]},
    "atan2": {0: [0.0, -0.0], 1: [0.0, -0.0]},
    "round": {0: [0.5, 1.5, 2.5, -0.5, -2.5]},
}


def edge_vector(dt, info=None, k=0, name=None):
    """(classes, values) for dtype ``dt``: every edge value that exists in it (``name``:
    the swept form, for EXCLUDED_EDGES; the op's name by default)."""
    if info is not None:
        name = name or info.name
    skip = EXCLUDED_EDGES.get((name, k), ()) if info is not None else ()
    if dt in FLOATS:
        pairs = _float_edges(dt)
        pairs = [p for p in pairs if p[0] not in skip]
        if info is not None:
            pairs += [("special", v) for v in special_points(info, k)]
    elif dt == "bool":
        pairs = [("zero", False), ("one", True)]
    else:
        pairs = _int_edges(dt)
        pairs = [p for p in pairs if p[0] not in skip]
        if info is not None:
            pairs += [("special", int(v)) for v in special_points(info, k)
                      if float(v).is_integer() and np.iinfo(dt).min <= v <= np.iinfo(dt).max]
    classes = [c for c, _ in pairs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vals = np.array([v for _, v in pairs], dtype=dt)
    return classes, vals


def _grid(dt, n=16, info=None):
    """A (4, 4) array holding every edge value of ``dt`` (cycled)."""
    _, v = edge_vector(dt, info)
    return np.resize(v, n).reshape(4, n // 4)


# ---- tensors for both libraries, same layouts ---------------------------------------------


def _tt(a):
    return torch.from_numpy(np.array(a, copy=True))


def make_pair(a, layout="contiguous", requires_grad=False):
    """(autograd tensor, torch tensor) holding ``a`` in the given memory layout."""
    rg = requires_grad and a.dtype.kind == "f"
    if layout == "contiguous":
        x, y = ag.tensor(a.copy()), _tt(a)
        leaves = (x, y)
    elif layout == "transposed":
        b = np.ascontiguousarray(a.T)
        x, y = ag.tensor(b), _tt(b)
        leaves = (x, y)
    elif layout == "sliced":
        b = np.repeat(a, 2, axis=-1) if a.ndim else a
        x, y = ag.tensor(b), _tt(b)
        leaves = (x, y)
    elif layout == "expanded":
        b = a[..., :1] if a.ndim else a
        x, y = ag.tensor(b.copy()), _tt(b)
        leaves = (x, y)
    else:
        raise ValueError(layout)
    if rg:
        x.requires_grad_(True)
        y.requires_grad_(True)
    if layout == "transposed":
        x, y = x.T, y.T
    elif layout == "sliced" and a.ndim:
        x, y = x[..., ::2], y[..., ::2]
    elif layout == "expanded" and a.ndim:
        x, y = x.expand(*a.shape), y.expand(*a.shape)
    return x, y, leaves


# ---- comparison -------------------------------------------------------------------------

_TOL = {"float16": 2e-3, "float32": 3e-6, "float64": 1e-12, "bfloat16": 1e-2}


def _np(v):
    if isinstance(v, torch.Tensor):
        return v.detach().numpy()
    if isinstance(v, ag.Tensor):
        return v.detach().numpy()
    return v


def _dtname(v):
    d = v.dtype
    if isinstance(d, torch.dtype):
        return str(d).replace("torch.", "")
    return str(np.dtype(d))


def compare_values(a, e, dt, what, zero_sign=True):
    """Problems found comparing ``a`` (ours, array) with ``e`` (PyTorch's, array)."""
    if a.shape != e.shape:
        return [f"{what}: shape {a.shape} != torch {e.shape}"]
    if a.dtype.kind != "f" or e.dtype.kind != "f":
        if not np.array_equal(a, e):
            bad = np.argwhere(a != e)[:3].tolist()
            return [f"{what}: values differ at {bad}: {a[tuple(np.array(bad).T)]} vs "
                    f"{e[tuple(np.array(bad).T)]}"]
        return []
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    nan_a, nan_e = np.isnan(a64), np.isnan(e64)
    probs = []
    ok = nan_a == nan_e
    tol = _TOL.get(str(e.dtype), 1e-6) if dt is None else _TOL.get(dt, 1e-6)
    with np.errstate(all="ignore"):
        close = (a64 == e64) | (np.abs(a64 - e64) <= tol * np.abs(e64) + tol * 1e-3) | (
            nan_a & nan_e)
        # a value PyTorch gives at the largest finite magnitude may round to inf in ours
        close |= np.isinf(a64) & np.isinf(e64) & (np.sign(a64) == np.sign(e64))
    ok &= close
    zero = (e64 == 0) & (a64 == 0)
    if zero_sign:
        ok &= ~zero | (np.signbit(a64) == np.signbit(e64))
    if not ok.all():
        bad = np.argwhere(~ok)[:3]
        idx = tuple(bad.T)
        probs.append(f"{what}: values differ at {bad.tolist()}: ours {a[idx]} torch {e[idx]}")
    return probs


def compare(ours, theirs, dt, what="out", zero_sign=True):
    """Problems comparing our result with PyTorch's (any nesting of tuples/tensors)."""
    if isinstance(theirs, torch.Tensor):
        if not isinstance(ours, ag.Tensor):
            return [f"{what}: ours is {type(ours).__name__}, torch gives a Tensor"]
        p = []
        if _dtname(ours) != _dtname(theirs):
            p.append(f"{what}: dtype {_dtname(ours)} != torch {_dtname(theirs)}")
        if tuple(ours.shape) != tuple(theirs.shape):
            return p + [f"{what}: shape {tuple(ours.shape)} != torch {tuple(theirs.shape)}"]
        return p + compare_values(_np(ours), _np(theirs), _dtname(theirs), what, zero_sign)
    if isinstance(theirs, (tuple, list)):
        if not isinstance(ours, (tuple, list)) or len(ours) != len(theirs):
            return [f"{what}: ours is {type(ours).__name__}, torch gives "
                    f"{type(theirs).__name__} of {len(theirs)}"]
        p = []
        for i, (o, t) in enumerate(zip(ours, theirs)):
            p += compare(o, t, dt, f"{what}[{i}]", zero_sign)
        return p
    if isinstance(ours, ag.Tensor):
        return [f"{what}: ours is a Tensor, torch gives {type(theirs).__name__}"]
    if isinstance(theirs, float) and isinstance(ours, float) and math.isnan(theirs):
        return [] if math.isnan(ours) else [f"{what}: {ours} != torch nan"]
    if ours != theirs or type(ours) is not type(theirs):
        return [f"{what}: {ours!r} != torch {theirs!r}"]
    return []


def _run(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(), None
        except Exception as e:  # noqa: BLE001 - the exception class is what is compared
            return None, e


def _floats_of(out):
    if isinstance(out, (tuple, list)):
        r = []
        for o in out:
            r += _floats_of(o)
        return r
    if hasattr(out, "requires_grad") and out.requires_grad and _dtname(out) in FLOATS:
        return [out]
    return []


def _grads(out, leaves, lib):
    """Gradients of sum(output * 1) for every floating output w.r.t. ``leaves``."""
    outs = _floats_of(out)
    if not outs:
        return None
    if lib is torch:
        gs = torch.autograd.grad(outs, leaves, [torch.ones_like(o) for o in outs],
                                 allow_unused=True)
    else:
        gs = ag.grad(outs, leaves, [ag.ones_like(o) for o in outs], allow_unused=True)
    return gs


_CURRENT = [None]  # the op being swept


def check_case(call, args_np, dt, layout="contiguous", grad=True, label="", zero_sign=None):
    """Run ``call(M, *tensors)`` for both libraries on the arrays ``args_np`` (NumPy
    arrays, or Python scalars passed through) and return the list of problems."""
    if zero_sign is None:
        zero_sign = _CURRENT[0] not in ZERO_SIGN_UNDEFINED
    want_grad = grad and any(isinstance(a, np.ndarray) and a.dtype.kind == "f"
                             and str(a.dtype) in GRAD_DTYPES for a in args_np)
    ours, theirs, leaves_o, leaves_t = [], [], [], []
    for a in args_np:
        if isinstance(a, np.ndarray):
            x, y, lv = make_pair(a, layout, requires_grad=want_grad)
            ours.append(x)
            theirs.append(y)
            if want_grad and a.dtype.kind == "f":
                leaves_o.append(lv[0])
                leaves_t.append(lv[1])
        else:
            ours.append(a)
            theirs.append(a)
    t_out, t_err = _run(lambda: call(torch, *theirs))
    if isinstance(t_err, TypeError) and "scalar" in label and (
            NUMBER_ARGS in str(t_err) or "invalid combination" in str(t_err)):
        return []  # a Python number where PyTorch's signature wants a Tensor: see NUMBER_ARGS
    o_out, o_err = _run(lambda: call(ag, *ours))
    if t_err is not None or o_err is not None:
        if t_err is None:
            return [f"{label}: ours raises {type(o_err).__name__}: {o_err}"[:400]]
        if o_err is None:
            return [f"{label}: torch raises {type(t_err).__name__} ({str(t_err)[:120]}), "
                    "ours does not"]
        if not isinstance(o_err, type(t_err)):
            return [f"{label}: ours raises {type(o_err).__name__} ({str(o_err)[:150]}), torch "
                    f"{type(t_err).__name__}"]
        return []
    probs = [f"{label}: {p}" for p in compare(o_out, t_out, dt, zero_sign=zero_sign)]
    if probs or not leaves_t:
        return probs
    tg, terr = _run(lambda: _grads(t_out, leaves_t, torch))
    if terr is not None or tg is None:
        return probs
    og, oerr = _run(lambda: _grads(o_out, leaves_o, ag))
    if oerr is not None:
        return [f"{label}: backward raises {type(oerr).__name__}: {oerr}"[:400]]
    if og is None:
        return [f"{label}: no gradient where torch has one"]
    for i, (g1, g2) in enumerate(zip(og, tg)):
        if g2 is None:
            continue
        if g1 is None:
            probs.append(f"{label}: grad[{i}] is None, torch has one")
            continue
        a, e = _np(g1), _np(g2)
        if a.shape != e.shape:
            probs.append(f"{label}: grad[{i}] shape {a.shape} != torch {e.shape}")
            continue
        mask = ~np.isnan(e.astype(np.float64))  # compare where torch's grad is finite or inf
        probs += [f"{label}: {p}" for p in
                  compare_values(np.where(mask, a, 0), np.where(mask, e, 0), _dtname(g2),
                                 f"grad[{i}]", zero_sign=False)]
    return probs


# ---- how each op is called ------------------------------------------------------------


def _m(name):
    """Call by name: ``M.name`` for functions, the Tensor method otherwise."""
    info = registry.get(name)
    if info.function:
        return lambda M, *xs: getattr(M, name)(*xs)
    return lambda M, x, *xs: getattr(x, name)(*xs)


def _dtype(M, name):
    return getattr(M, name)


# rows for ops whose arguments cannot be guessed: name -> [(label, call, n_tensor_inputs)]
CALLS = {
    # conversion
    "to": [("to_f64", lambda M, x: x.to(M.float64), 1),
           ("to_i32", lambda M, x: x.to(M.int32), 1), ("to_cpu", lambda M, x: x.to("cpu"), 1)],
    "cpu": [("cpu", lambda M, x: x.cpu(), 1)],
    "cuda": [],  # needs a GPU: the device tests cover it
    "float": [("float", lambda M, x: x.float(), 1)],
    "double": [("double", lambda M, x: x.double(), 1)],
    "half": [("half", lambda M, x: x.half(), 1)],
    "long": [("long", lambda M, x: x.long(), 1)],
    "int": [("int", lambda M, x: x.int(), 1)],
    "bool": [("bool", lambda M, x: x.bool(), 1)],
    "type": [("type_f64", lambda M, x: x.type(M.float64), 1)],
    "type_as": [("type_as", lambda M, x, y: x.type_as(y), 2)],
    "cast": [("cast_f32", lambda M, x: (M.cast(x, ag.float32) if M is ag
                                        else x.to(torch.float32)), 1),
             ("cast_i64", lambda M, x: (M.cast(x, ag.int64) if M is ag
                                        else x.to(torch.int64)), 1)],
    # shape
    "reshape": [("reshape", lambda M, x: M.reshape(x, (-1,)), 1),
                ("reshape_bad", lambda M, x: M.reshape(x, (5, 7)), 1),
                ("view", lambda M, x: x.reshape(2, -1), 1)],
    "view": [("view_flat", lambda M, x: x.view(-1), 1),
             ("view_2", lambda M, x: x.view(2, -1), 1),
             ("view_mT", lambda M, x: x.mT.view(-1), 1)],
    "permute": [("permute", lambda M, x: M.permute(x, (1, 0)), 1),
                ("permute_rep", lambda M, x: M.permute(x, (0, 0)), 1)],
    "transpose": [("transpose", lambda M, x: M.transpose(x, 0, 1), 1),
                  ("transpose_range", lambda M, x: M.transpose(x, 0, 5), 1)],
    "t": [("t", lambda M, x: M.t(x), 1)],
    "broadcast_to": [("broadcast_to", lambda M, x: M.broadcast_to(x, (2, 4, 4)), 1),
                     ("broadcast_bad", lambda M, x: M.broadcast_to(x, (3,)), 1)],
    "expand": [("expand", lambda M, x: x.expand(3, 4, 4), 1),
               ("expand_m1", lambda M, x: x.expand(-1, 4), 1)],
    "expand_as": [("expand_as", lambda M, x, y: x.expand_as(y), 2)],
    "sum_to": [("sum_to", lambda M, x: (M.sum_to(x, (1, 4)) if M is ag
                                        else x.sum_to_size(1, 4)), 1)],
    "broadcast_tensors": [("broadcast_tensors",
                           lambda M, x, y: M.broadcast_tensors(x, y[:1]), 2)],
    "broadcast_shapes": [("broadcast_shapes",
                          lambda M: tuple(M.broadcast_shapes((2, 1), (3,))), 0),
                         ("broadcast_shapes_bad",
                          lambda M: tuple(M.broadcast_shapes((2,), (3,))), 0)],
    "squeeze": [("squeeze", lambda M, x: M.squeeze(x[:1]), 1),
                ("squeeze_dim", lambda M, x: M.squeeze(x[:1], 0), 1)],
    "unsqueeze": [("unsqueeze", lambda M, x: M.unsqueeze(x, 1), 1),
                  ("unsqueeze_neg", lambda M, x: M.unsqueeze(x, -1), 1),
                  ("unsqueeze_range", lambda M, x: M.unsqueeze(x, 4), 1)],
    "flatten": [("flatten", lambda M, x: M.flatten(x), 1),
                ("flatten_range", lambda M, x: M.flatten(x, 1, 0), 1)],
    "unflatten": [("unflatten", lambda M, x: M.unflatten(x, 1, (2, -1)), 1)],
    "repeat": [("repeat", lambda M, x: x.repeat(2, 1, 3), 1),
               ("repeat_few", lambda M, x: x.repeat(2), 1)],
    "tile": [("tile", lambda M, x: M.tile(x, (2,)), 1)],
    "flip": [("flip", lambda M, x: M.flip(x, (0,)), 1),
             ("flip_rep", lambda M, x: M.flip(x, (0, 0)), 1),
             ("flip_range", lambda M, x: M.flip(x, (3,)), 1)],
    "fliplr": [("fliplr", lambda M, x: M.fliplr(x), 1)],
    "flipud": [("flipud", lambda M, x: M.flipud(x), 1)],
    "roll": [("roll", lambda M, x: M.roll(x, 1, 0), 1),
             ("roll_flat", lambda M, x: M.roll(x, 3), 1),
             ("roll_mismatch", lambda M, x: M.roll(x, (1, 2), (0,)), 1)],
    "cat": [("cat", lambda M, x, y: M.cat([x, y], 0), 2),
            ("cat_bad", lambda M, x, y: M.cat([x, y[:, :1].T], 1), 2)],
    "stack": [("stack", lambda M, x, y: M.stack([x, y], 1), 2),
              ("stack_bad", lambda M, x, y: M.stack([x, y[:1]]), 2)],
    "hstack": [("hstack", lambda M, x, y: M.hstack([x, y]), 2)],
    "vstack": [("vstack", lambda M, x, y: M.vstack([x, y]), 2)],
    "split": [("split", lambda M, x: M.split(x, 3, 1), 1),
              ("split_list", lambda M, x: M.split(x, [1, 3], 0), 1)],
    "chunk": [("chunk", lambda M, x: M.chunk(x, 3, 1), 1)],
    "unbind": [("unbind", lambda M, x: M.unbind(x, 1), 1)],
    "contiguous": [("contiguous", lambda M, x: x.contiguous(), 1)],
    "movedim": [("movedim", lambda M, x: M.movedim(x, 0, 1), 1)],
    "pad": [("pad", lambda M, x: (M.pad(x, (1, 2)) if M is ag
                                  else torch.nn.functional.pad(x, (1, 2))), 1)],
    "view_as": [("view_as", lambda M, x, y: x.reshape(-1).view_as(y), 2)],
    "reshape_as": [("reshape_as", lambda M, x, y: x.reshape_as(y), 2)],
    "is_contiguous": [("is_contiguous", lambda M, x: x.is_contiguous(), 1)],
    # indexing
    "gather": [("gather", lambda M, x: M.gather(x, 1, M.tensor([[0, 1], [2, 3], [3, 3],
                                                                 [0, 0]])), 1),
               ("gather_range", lambda M, x: M.gather(x, 1, M.tensor([[9]])), 1)],
    "scatter": [("scatter", lambda M, x: M.scatter(x, 1, M.tensor([[0], [2]]), x[:2, :1]), 1)],
    "scatter_add": [("scatter_add",
                     lambda M, x: M.scatter_add(x, 0, M.tensor([[1, 0, 3, 2]]), x[:1]), 1)],
    "index_select": [("index_select", lambda M, x: M.index_select(x, 0, M.tensor([3, 0, 0])), 1),
                     ("index_select_range",
                      lambda M, x: M.index_select(x, 0, M.tensor([9])), 1)],
    "take_along_dim": [("take_along_dim",
                        lambda M, x: M.take_along_dim(x, M.tensor([[0], [3], [1], [2]]), 1), 1)],
    "masked_fill": [("masked_fill", lambda M, x: M.masked_fill(x, x != x, 0.0), 1),
                    ("masked_fill_i", lambda M, x: M.masked_fill(x, M.tensor(True), 2), 1)],
    "masked_select": [("masked_select", lambda M, x: M.masked_select(x, x > 0), 1),
                      ("masked_select_b", lambda M, x: M.masked_select(x, M.tensor(True)), 1)],
    "masked_scatter": [("masked_scatter", lambda M, x: M.masked_scatter(x, x > 0, x * 2), 1)],
    "tril": [("tril", lambda M, x: M.tril(x), 1), ("tril_k", lambda M, x: M.tril(x, -1), 1)],
    "triu": [("triu", lambda M, x: M.triu(x, 1), 1)],
    "sort": [("sort", lambda M, x: M.sort(x, dim=1, stable=True), 1),
             ("sort_desc", lambda M, x: M.sort(x, dim=0, descending=True, stable=True), 1)],
    "argsort": [("argsort", lambda M, x: M.argsort(x, dim=1, stable=True), 1)],
    "logsumexp": [("logsumexp", lambda M, x: M.logsumexp(x, 1), 1),
                  ("logsumexp_all", lambda M, x: M.logsumexp(x, (0, 1), keepdim=True), 1)],
    "topk": [("topk", lambda M, x: M.topk(x, 2, 1)[0], 1),
             ("topk_small", lambda M, x: M.topk(x, 2, 0, largest=False)[0], 1),
             ("topk_range", lambda M, x: M.topk(x, 9, 1), 1)],
    "nonzero": [("nonzero", lambda M, x: M.nonzero(x), 1),
                ("nonzero_tuple", lambda M, x: M.nonzero(x, as_tuple=True), 1)],
    "argwhere": [("argwhere", lambda M, x: M.argwhere(x), 1)],
    "zero_": [("zero_", lambda M, x: x.clone().zero_(), 1)],
    "fill_": [("fill_", lambda M, x: x.clone().fill_(2), 1)],
    "copy_": [("copy_", lambda M, x, y: x.clone().copy_(y), 2)],
    # linalg
    "matmul": [("matmul", lambda M, x, y: M.matmul(x, y), 2),
               ("matmul_vec", lambda M, x, y: M.matmul(x, y[0]), 2),
               ("matmul_bad", lambda M, x, y: M.matmul(x, y[:3]), 2)],
    "mm": [("mm", lambda M, x, y: M.mm(x, y), 2),
           ("mm_1d", lambda M, x, y: M.mm(x, y[0]), 2)],
    "bmm": [("bmm", lambda M, x, y: M.bmm(x[None], y[None]), 2),
            ("bmm_2d", lambda M, x, y: M.bmm(x, y), 2)],
    "mv": [("mv", lambda M, x, y: M.mv(x, y[0]), 2)],
    "dot": [("dot", lambda M, x, y: M.dot(x[0], y[1]), 2),
            ("dot_bad", lambda M, x, y: M.dot(x[0], y[1, :3]), 2)],
    "outer": [("outer", lambda M, x, y: M.outer(x[0], y[1]), 2)],
    "inner": [("inner", lambda M, x, y: M.inner(x, y), 2),
              ("inner_1d", lambda M, x, y: M.inner(x[0], y[1]), 2),
              ("inner_bad", lambda M, x, y: M.inner(x, y[:, :3]), 2)],
    "einsum": [("einsum", lambda M, x, y: M.einsum("ij,jk->ik", x, y), 2),
               ("einsum_diag", lambda M, x, y: M.einsum("ii->i", x), 2),
               ("einsum_bad", lambda M, x, y: M.einsum("ij,jk->ik", x, y[:3]), 2)],
    # reductions with required arguments
    "kthvalue": [("kthvalue", lambda M, x: M.kthvalue(x, 2, 1)[0], 1),
                 ("kthvalue_range", lambda M, x: M.kthvalue(x, 9, 1), 1)],
    "norm": [("norm", lambda M, x: M.norm(x), 1), ("norm_1", lambda M, x: M.norm(x, 1, 0), 1),
             ("norm_inf", lambda M, x: M.norm(x, math.inf, 1), 1)],
    "cumsum": [("cumsum", lambda M, x: M.cumsum(x, 1), 1)],
    "cumprod": [("cumprod", lambda M, x: M.cumprod(x, 0), 1)],
    "median": [("median", lambda M, x: M.median(x), 1),
               ("median_dim", lambda M, x: M.median(x, 1)[0], 1)],
    "max": [("max", lambda M, x: M.max(x), 1), ("max_dim", lambda M, x: M.max(x, 1)[0], 1),
            ("max_binary", lambda M, x: M.max(x, x.T), 1)],
    "min": [("min", lambda M, x: M.min(x), 1), ("min_dim", lambda M, x: M.min(x, 0)[0], 1)],
    "argmax": [("argmax", lambda M, x: M.argmax(x[:, :1] * 0), 1)],
    "argmin": [("argmin", lambda M, x: M.argmin(x[:1] * 0, 1), 1)],
    # element-wise ops with more arguments
    "where": [("where", lambda M, x, y: M.where(x > 0, x, y), 2),
              ("where_scalars", lambda M, x: M.where(x > 0, 4, 2), 1),
              ("where_scalar", lambda M, x: M.where(x > 0, x, 2.5), 1)],
    "clamp": [("clamp", lambda M, x: M.clamp(x, -1, 2), 1),
              ("clamp_f", lambda M, x: M.clamp(x, min=0.5), 1),
              ("clamp_none", lambda M, x: M.clamp(x), 1)],
    "equal": [("equal", lambda M, x, y: M.equal(x, y), 2)],
    "allclose": [("allclose", lambda M, x, y: M.allclose(x, y), 2)],
    "isclose": [("isclose", lambda M, x, y: M.isclose(x, y), 2)],
    "round": [("round", lambda M, x: M.round(x), 1),
              ("round_dec", lambda M, x: M.round(x, decimals=1), 1)],

    # ---- rows added by helper 'elem' (keep inside this block) ----
    "polygamma": [("polygamma0", lambda M, x: M.polygamma(0, x), 1),
                  ("polygamma1", lambda M, x: M.polygamma(1, x), 1),
                  ("polygamma3", lambda M, x: M.polygamma(3, x), 1),
                  ("polygamma_neg", lambda M, x: M.polygamma(-1, x), 1),
                  ("polygamma_method", lambda M, x: x.polygamma(2), 1)],
    "polygamma_": [("polygamma_", lambda M, x: x.clone().polygamma_(1), 1)],
    "mvlgamma": [("mvlgamma", lambda M, x: M.mvlgamma(x, 1), 1),
                 ("mvlgamma3", lambda M, x: M.mvlgamma(x.abs() + 2, 3), 1),
                 ("mvlgamma_bad", lambda M, x: M.mvlgamma(x, 3), 1)],
    "lerp": [("lerp", lambda M, x, y, w: M.lerp(x, y, w), 3),
             ("lerp_scalar", lambda M, x, y: M.lerp(x, y, 0.3), 2),
             ("lerp_scalar_hi", lambda M, x, y: M.lerp(x, y, 0.75), 2)],
    "float_power_": [("float_power_", lambda M, x, y: x.clone().float_power_(y), 2),
                     ("float_power_s", lambda M, x: x.clone().float_power_(2.5), 1)],
    "special_erfcx": [("erfcx", lambda M, x: M.special.erfcx(x), 1)],
    "special_i0e": [("i0e", lambda M, x: M.special.i0e(x), 1)],
    "special_i1": [("i1", lambda M, x: M.special.i1(x), 1)],
    "special_i1e": [("i1e", lambda M, x: M.special.i1e(x), 1)],
    "special_ndtr": [("ndtr", lambda M, x: M.special.ndtr(x), 1)],
    "special_ndtri": [("ndtri", lambda M, x: M.special.ndtri(x), 1)],
    "special_log_ndtr": [("log_ndtr", lambda M, x: M.special.log_ndtr(x), 1)],
    "special_entr": [("entr", lambda M, x: M.special.entr(x), 1)],
    "special_xlog1py": [("xlog1py", lambda M, x, y: M.special.xlog1py(x, y), 2)],
    "special_zeta": [("zeta", lambda M, x, y: M.special.zeta(x, y), 2)],
    "logit": [("logit", lambda M, x: M.logit(x), 1),
              ("logit_eps", lambda M, x: M.logit(x, 0.25), 1)],
    # torch's sgn backward returns a ZeroTensor (no numpy()); adding 0 * x materialises it
    "sgn": [("sgn", lambda M, x: M.sgn(x.detach()), 1),
            ("sgn_grad", lambda M, x: M.sgn(x) + x * 0, 1)],
    "nan_to_num": [("nan_to_num", lambda M, x: M.nan_to_num(x), 1),
                   ("nan_to_num_args", lambda M, x: M.nan_to_num(x, 1.5, 2.0, -3.0), 1)],
    # ---- end 'elem' ----

    # ---- rows added by helper 'reduce' (keep inside this block) ----
    "cummax": [("cummax", lambda M, x: M.cummax(x, 1), 1),
               ("cummax_0d", lambda M, x: M.cummax(x[0, 0], 0), 1)],
    "cummin": [("cummin", lambda M, x: M.cummin(x, 0), 1)],
    "logcumsumexp": [("logcumsumexp", lambda M, x: M.logcumsumexp(x, 1), 1)],
    "cumsum_": [("cumsum_", lambda M, x: x.clone().cumsum_(1), 1)],
    "cumprod_": [("cumprod_", lambda M, x: x.detach().clone().cumprod_(0), 1)],
    "aminmax": [("aminmax", lambda M, x: M.aminmax(x), 1),
                ("aminmax_dim", lambda M, x: M.aminmax(x, dim=1, keepdim=True), 1)],
    "nansum": [("nansum", lambda M, x: M.nansum(x), 1),
               ("nansum_dim", lambda M, x: M.nansum(x, 1, keepdim=True), 1)],
    "nanmean": [("nanmean", lambda M, x: M.nanmean(x), 1),
                ("nanmean_dim", lambda M, x: M.nanmean(x, 0), 1)],
    "nanmedian": [("nanmedian", lambda M, x: M.nanmedian(x), 1),
                  ("nanmedian_dim", lambda M, x: M.nanmedian(x, 1), 1)],
    "mode": [("mode", lambda M, x: M.mode(x, 1), 1),
             ("mode_keep", lambda M, x: M.mode(x, 0, True), 1)],
    "msort": [("msort", lambda M, x: M.msort(x), 1)],
    "count_nonzero": [("count_nonzero", lambda M, x: M.count_nonzero(x), 1),
                      ("count_nonzero_dim", lambda M, x: M.count_nonzero(x, (0, 1)), 1)],
    "bincount": [("bincount", lambda M, x: M.bincount(x.reshape(-1)), 1),
                 ("bincount_w", lambda M, x: M.bincount(M.tensor([0, 3, 3, 1]), x[0], 6), 1)],
    "histc": [("histc", lambda M, x: M.histc(x, bins=5, min=-3, max=3), 1),
              ("histc_auto", lambda M, x: M.histc(x, bins=4), 1)],
    "histogram": [("histogram", lambda M, x: M.histogram(x, 4, range=(-3.0, 3.0)), 1),
                  ("histogram_w", lambda M, x: M.histogram(x[0].abs(), 3, range=(0.0, 4.0),
                                                           weight=x[1], density=True), 1)],
    "quantile": [("quantile", lambda M, x: M.quantile(x, 0.3), 1),
                 ("quantile_dim", lambda M, x: M.quantile(
                     x, M.tensor([0.0, 0.5, 1.0], dtype=x.dtype), 1, True), 1),
                 ("quantile_mid", lambda M, x: M.quantile(x, 0.5, 0, interpolation="midpoint"),
                  1)],
    "nanquantile": [("nanquantile", lambda M, x: M.nanquantile(x, 0.3), 1),
                    ("nanquantile_dim", lambda M, x: M.nanquantile(x, 0.75, 1,
                                                                   interpolation="lower"), 1)],
    "histogramdd": [("histogramdd", lambda M, x: M.histogramdd(x, 3, range=[-3.0, 3.0] * 4), 1),
                    ("histogramdd_auto", lambda M, x: M.histogramdd(x[:, :2], [2, 3]), 1)],
    "searchsorted": [("searchsorted", lambda M, x: M.searchsorted(
        M.tensor([-3.0, 0.0, 1.0, 7.0]).to(x.dtype), x), 1),
                     ("searchsorted_nd", lambda M, x: M.searchsorted(x, x, right=True), 1)],
    "bucketize": [("bucketize", lambda M, x: M.bucketize(x, M.tensor([-1, 0, 2])), 1)],
    "isin": [("isin", lambda M, x, y: M.isin(x, y[0]), 2),
             ("isin_inv", lambda M, x: M.isin(x, 2, invert=True), 1)],
    "unique": [("unique", lambda M, x: M.unique(x, return_inverse=True, return_counts=True), 1),
               ("unique_dim", lambda M, x: M.unique(x, dim=1, return_counts=True), 1)],
    "unique_consecutive": [("unique_consecutive", lambda M, x: M.unique_consecutive(
        x, return_inverse=True, return_counts=True), 1)],
    "diff": [("diff", lambda M, x: M.diff(x), 1),
             ("diff_n", lambda M, x, y: M.diff(x, 2, 0, prepend=y[:1], append=y), 2)],
    "trace": [("trace", lambda M, x: M.trace(x), 1)],
    "cov": [("cov", lambda M, x: M.cov(x), 1),
            ("cov_w", lambda M, x: M.cov(x, correction=0, fweights=M.tensor([1, 2, 0, 3]),
                                         aweights=M.tensor([0.5, 1.0, 2.0, 1.0])), 1)],
    "corrcoef": [("corrcoef", lambda M, x: M.corrcoef(x), 1)],
    "renorm": [("renorm", lambda M, x: M.renorm(x, 2, 0, 1.5), 1),
               ("renorm_1", lambda M, x: M.renorm(x, 1, 1, 5.0), 1)],
    "trapezoid": [("trapezoid", lambda M, x: M.trapezoid(x), 1),
                  ("trapezoid_x", lambda M, x, y: M.trapezoid(x, y, dim=0), 2),
                  ("trapezoid_dx", lambda M, x: M.trapezoid(x, dx=0.5, dim=0), 1)],
    "cumulative_trapezoid": [("cumulative_trapezoid",
                              lambda M, x: M.cumulative_trapezoid(x), 1),
                             ("cumulative_trapezoid_x",
                              lambda M, x, y: M.cumulative_trapezoid(x, y[0]), 2)],
    "gradient": [("gradient", lambda M, x: M.gradient(x), 1),
                 ("gradient_2", lambda M, x: M.gradient(x, spacing=[2.0, 0.5], edge_order=2),
                  1)],
    # random ops: rows whose results are certain (p = 0 or 1, std = 0, a one-hot
    # distribution, a one-value range) or multiplied by 0, so that the dtype, shape, errors
    # and gradients are compared, not PyTorch's random numbers
    "bernoulli": [("bernoulli", lambda M, x: M.bernoulli(x), 1),
                  ("bernoulli_det", lambda M, x: M.bernoulli((x != x).to(x.dtype)), 1),
                  ("bernoulli_p", lambda M, x: M.bernoulli(x, 1.0), 1)],
    "bernoulli_": [("bernoulli_", lambda M, x: x.clone().bernoulli_(1.0), 1),
                   ("bernoulli__bad", lambda M, x: x.clone().bernoulli_(2.0), 1)],
    "poisson": [("poisson", lambda M, x: M.poisson(x.clamp(max=0)), 1),
                ("poisson_det", lambda M, x: M.poisson(x * 0), 1)],
    "binomial": [("binomial", lambda M, x: M.binomial(M.zeros_like(x), M.ones_like(x)), 1)],
    "multinomial": [("multinomial", lambda M, x: M.multinomial(x, 1), 1),
                    ("multinomial_det",
                     lambda M, x: M.multinomial(M.eye(4, dtype=x.dtype), 1), 1),
                    ("multinomial_rep",
                     lambda M, x: M.multinomial(M.eye(4, dtype=x.dtype), 3, True), 1),
                    ("multinomial_bad", lambda M, x: M.multinomial(M.ones(4), 5), 1)],
    "normal": [("normal", lambda M, x: M.normal(x, 0.0) + 0.0, 1),
               ("normal_std", lambda M, x: M.normal(0.0, x.clamp(max=0)) + 0.0, 1),
               ("normal_tt", lambda M, x: M.normal(x, M.zeros_like(x)) + 0.0, 1),
               ("normal_size", lambda M: M.normal(2.0, 0.0, (2, 3)), 0)],
    "normal_": [("normal_", lambda M, x: x.clone().normal_(2.0, 0.0), 1)],
    "uniform_": [("uniform_", lambda M, x: x.clone().uniform_(2.0, 2.0), 1),
                 ("uniform__bad", lambda M, x: x.clone().uniform_(3.0, 2.0), 1)],
    "exponential_": [("exponential_", lambda M, x: x.clone().exponential_(2.0) * 0, 1)],
    "cauchy_": [("cauchy_", lambda M, x: x.clone().cauchy_() * 0 + 1, 1)],
    "geometric_": [("geometric_", lambda M, x: x.clone().geometric_(0.5) * 0 + 1, 1)],
    "log_normal_": [("log_normal_", lambda M, x: x.clone().log_normal_(0.0, 1.0) * 0 + 1, 1)],
    "random_": [("random_", lambda M, x: x.clone().random_(3, 4), 1),
                ("random__to", lambda M, x: x.clone().random_(1) * 1, 1),
                ("random__default", lambda M, x: x.clone().random_() * 0, 1)],
    "randint_like": [("randint_like", lambda M, x: M.randint_like(x, 3, 4), 1),
                     ("randint_like_high", lambda M, x: M.randint_like(x, 1), 1)],
    "hann_window": [("hann_window", lambda M: M.hann_window(8), 0),
                    ("hann_window_sym", lambda M: M.hann_window(7, False, dtype=M.float64), 0),
                    ("hann_window_bad", lambda M: M.hann_window(-1), 0),
                    ("hann_window_int", lambda M: M.hann_window(4, dtype=M.int64), 0)],
    "hamming_window": [("hamming_window", lambda M: M.hamming_window(9, True, 0.6, 0.3), 0),
                       ("hamming_window_1", lambda M: M.hamming_window(1), 0)],
    "bartlett_window": [("bartlett_window", lambda M: M.bartlett_window(9), 0),
                        ("bartlett_window_sym", lambda M: M.bartlett_window(6, False), 0)],
    "blackman_window": [("blackman_window", lambda M: M.blackman_window(10), 0),
                        ("blackman_window_0", lambda M: M.blackman_window(0), 0)],
    "kaiser_window": [("kaiser_window", lambda M: M.kaiser_window(8), 0),
                      ("kaiser_window_b", lambda M: M.kaiser_window(7, False, 5.0,
                                                                     dtype=M.float64), 0)],
    # ---- end 'reduce' ----

    # ---- rows added by helper 'shape' (keep inside this block) ----
    # queries and factories
    "nelement": [("nelement", lambda M, x: x.nelement(), 1)],
    "ndimension": [("ndimension", lambda M, x: x.ndimension(), 1)],
    "stride": [("stride", lambda M, x: x.stride(), 1),
               ("stride_dim", lambda M, x: x.stride(-1), 1),
               ("stride_range", lambda M, x: x.stride(2), 1)],
    "is_same_size": [("is_same_size", lambda M, x, y: M.is_same_size(x, y), 2),
                     ("is_same_size_no", lambda M, x, y: x.is_same_size(y[:1]), 2)],
    "is_nonzero": [("is_nonzero", lambda M, x: M.is_nonzero(x), 1),
                   ("is_nonzero_1", lambda M, x: x.reshape(-1)[:1].is_nonzero(), 1)],
    "is_signed": [("is_signed", lambda M, x: M.is_signed(x), 1)],
    "is_floating_point": [("is_floating_point", lambda M, x: M.is_floating_point(x), 1)],
    "is_complex": [("is_complex", lambda M, x: M.is_complex(x), 1)],
    "is_conj": [("is_conj", lambda M, x: M.is_conj(x), 1)],
    "conj": [("conj", lambda M, x: M.conj(x), 1)],
    "conj_physical": [("conj_physical", lambda M, x: M.conj_physical(x), 1)],
    "resolve_conj": [("resolve_conj", lambda M, x: M.resolve_conj(x), 1),
                     ("resolve_neg", lambda M, x: M.resolve_neg(x), 1)],
    "real": [("real", lambda M, x: M.real(x), 1)],
    # the sweep's dtypes are real: imag raises for them (complex values: test_complex_parts)
    "imag": [("imag", lambda M, x: M.imag(x), 1)],
    "numel": [("numel", lambda M, x: M.numel(x), 1)],
    "get_device": [("get_device", lambda M, x: M.get_device(x), 1)],
    "is_cpu": [("is_cpu", lambda M, x: x.is_cpu, 1)],
    "new_empty": [("new_empty", lambda M, x: x.new_empty(2, 3).shape, 1)],
    "new_zeros": [("new_zeros", lambda M, x: x.new_zeros(2, 3), 1),
                  ("new_zeros_dt", lambda M, x: x.new_zeros((2,), dtype=M.int32), 1)],
    "new_ones": [("new_ones", lambda M, x: x.new_ones((2, 3)), 1)],
    "new_full": [("new_full", lambda M, x: x.new_full((2,), 3), 1)],
    "new_tensor": [("new_tensor", lambda M, x: x.new_tensor([1, 2]), 1)],
    "empty_strided": [("empty_strided", lambda M: M.empty_strided((2, 3), (1, 2)).stride(), 0)],
    "new_empty_strided": [("new_empty_strided",
                           lambda M, x: x.new_empty_strided((2, 3), (1, 2)).stride(), 1)],
    "empty_permuted": [("empty_permuted",
                        lambda M: M.empty_permuted((2, 3, 4), (2, 0, 1)).stride(), 0)],
    "scalar_tensor": [("scalar_tensor", lambda M: M.scalar_tensor(3), 0),
                      ("scalar_tensor_dt", lambda M: M.scalar_tensor(3, dtype=M.int64), 0)],
    "asarray": [("asarray", lambda M, x: M.asarray(x), 1),
                ("asarray_dt", lambda M, x: M.asarray(x, dtype=M.float64), 1),
                ("asarray_list", lambda M: M.asarray([[1, 2], [3, 4]]), 0)],
    "frombuffer": [("frombuffer", lambda M: M.frombuffer(bytearray(b"\x01\x02\x03\x04"),
                                                          dtype=M.int16), 0),
                   ("frombuffer_bad", lambda M: M.frombuffer(bytearray(b"\x01\x02\x03"),
                                                              dtype=M.int16), 0)],
    "range": [("range", lambda M: M.range(0, 1, 0.25), 0),
              ("range_int", lambda M: M.range(1, 4, dtype=M.int64), 0)],
    # shape
    "ravel": [("ravel", lambda M, x: M.ravel(x), 1)],
    "split_with_sizes": [("split_with_sizes", lambda M, x: M.split_with_sizes(x, [1, 3], 1), 1),
                         ("split_with_sizes_bad", lambda M, x: x.split_with_sizes([1, 1]), 1)],
    "unsafe_split": [("unsafe_split", lambda M, x: M.unsafe_split(x, 3, 1), 1)],
    "unsafe_chunk": [("unsafe_chunk", lambda M, x: M.unsafe_chunk(x, 3, 1), 1)],
    "unsafe_split_with_sizes": [("unsafe_split_with_sizes",
                                 lambda M, x: M.unsafe_split_with_sizes(x, [3, 1], 1), 1)],
    "rot90": [("rot90", lambda M, x: M.rot90(x), 1), ("rot90_2", lambda M, x: M.rot90(x, 2), 1),
              ("rot90_m1", lambda M, x: M.rot90(x, -1, (1, 0)), 1),
              ("rot90_bad", lambda M, x: M.rot90(x, 1, (0, 0)), 1)],
    "atleast_1d": [("atleast_1d", lambda M, x: M.atleast_1d(x), 1),
                   ("atleast_1d_many", lambda M, x, y: M.atleast_1d(x, y[0, 0]), 2)],
    "atleast_2d": [("atleast_2d", lambda M, x: M.atleast_2d(x.reshape(-1)), 1)],
    "atleast_3d": [("atleast_3d", lambda M, x: M.atleast_3d([x, x.reshape(-1)]), 1)],
    "column_stack": [("column_stack", lambda M, x, y: M.column_stack([x, y.reshape(-1)[:4]]),
                      2)],
    "dstack": [("dstack", lambda M, x, y: M.dstack([x, y]), 2)],
    "tensor_split": [("tensor_split", lambda M, x: M.tensor_split(x, 3, 1), 1),
                     ("tensor_split_idx", lambda M, x: M.tensor_split(x, [3, 1], 0), 1),
                     ("tensor_split_neg", lambda M, x: M.tensor_split(x, (-1,), 1), 1)],
    "hsplit": [("hsplit", lambda M, x: M.hsplit(x, 2), 1),
               ("hsplit_bad", lambda M, x: M.hsplit(x, 3), 1)],
    "vsplit": [("vsplit", lambda M, x: M.vsplit(x, [1]), 1)],
    "dsplit": [("dsplit", lambda M, x: M.dsplit(x[None], [1]), 1)],
    "meshgrid": [("meshgrid", lambda M, x, y: M.meshgrid(x[0], y[1], indexing="ij"), 2),
                 ("meshgrid_xy", lambda M, x, y: M.meshgrid([x[0], y[1, :2], x[1, :3]],
                                                            indexing="xy"), 2)],
    "block_diag": [("block_diag", lambda M, x, y: M.block_diag(x, y[:2]), 2)],
    "tril_indices": [("tril_indices", lambda M: M.tril_indices(3, 4, -1), 0),
                     ("tril_indices_bad", lambda M: M.tril_indices(3, 4, dtype=M.float32), 0)],
    "triu_indices": [("triu_indices", lambda M: M.triu_indices(4, 3, 1), 0)],
    "unravel_index": [("unravel_index", lambda M: M.unravel_index(
        M.tensor([0, 5, 11, -1, 100]), (3, 4)), 0),
        ("unravel_index_float", lambda M, x: M.unravel_index(x, (3, 4)), 1)],
    # indexing
    "narrow": [("narrow", lambda M, x: M.narrow(x, 1, 1, 2), 1),
               ("narrow_neg", lambda M, x: x.narrow(0, -2, 2), 1),
               ("narrow_bad", lambda M, x: M.narrow(x, 0, 3, 2), 1)],
    "narrow_copy": [("narrow_copy", lambda M, x: M.narrow_copy(x, 1, 1, 2), 1)],
    "select": [("select", lambda M, x: M.select(x, 1, -1), 1),
               ("select_range", lambda M, x: x.select(0, 4), 1)],
    "diagonal": [("diagonal", lambda M, x: M.diagonal(x), 1),
                 ("diagonal_off", lambda M, x: M.diagonal(x, -1, 1, 0), 1),
                 ("diagonal_3d", lambda M, x, y: M.diagonal(M.stack([x, y]), 1, 0, 2), 2)],
    "diag_embed": [("diag_embed", lambda M, x: M.diag_embed(x), 1),
                   ("diag_embed_off", lambda M, x: M.diag_embed(x, -1, 0, 2), 1)],
    "diag": [("diag", lambda M, x: M.diag(x), 1), ("diag_1d", lambda M, x: M.diag(x[0], 1), 1)],
    "diagflat": [("diagflat", lambda M, x: M.diagflat(x[:2], -1), 1)],
    "diagonal_scatter": [("diagonal_scatter",
                          lambda M, x, y: M.diagonal_scatter(x, y[0], 0), 2),
                         ("diagonal_scatter_off",
                          lambda M, x, y: M.diagonal_scatter(x, y[0, :3], 1, 1, 0), 2)],
    "select_scatter": [("select_scatter", lambda M, x, y: M.select_scatter(x, y[1], 0, 2), 2)],
    "slice_scatter": [("slice_scatter",
                       lambda M, x, y: M.slice_scatter(x, y[:, :2], 1, 0, 4, 2), 2)],
    "as_strided": [("as_strided", lambda M, x: M.as_strided(x.contiguous(), (3, 2), (1, 2), 1),
                    1),
                   ("as_strided_bad", lambda M, x: M.as_strided(x.contiguous(), (3, 3), (4, 4)),
                    1)],
    # as_strided reads the contiguous layout here, PyTorch the storage: contiguous inputs
    "as_strided_": [("as_strided_", lambda M, x: x.detach().contiguous().clone().as_strided_(
        (2, 2), (1, 2)), 1)],
    # (self detached: PyTorch's gradient for self is wrong, it passes the gradient of the
    # scattered positions where they are overwritten; tests/test_indexing.py gradchecks it)
    "as_strided_scatter": [("as_strided_scatter",
                            lambda M, x, y: M.as_strided_scatter(
                                x.detach().contiguous(), y[:2, :2], (2, 2), (1, 4), 1), 2)],
    "unfold": [("unfold", lambda M, x: x.unfold(1, 2, 1), 1),
               ("unfold_step", lambda M, x: x.unfold(0, 3, 2), 1),
               ("unfold_bad", lambda M, x: x.unfold(1, 5, 1), 1)],
    "scatter_reduce": [
        (f"scatter_reduce_{r}_{inc}",
         (lambda r, inc: lambda M, x, y: M.scatter_reduce(
             x, 0, M.tensor([[0, 1, 0, 3], [0, 0, 2, 2]]), y[:2], r, include_self=inc))(r, inc),
         2) for r in ("sum", "prod", "mean", "amax", "amin") for inc in (True, False)],
    "index_add": [("index_add", lambda M, x, y: M.index_add(x, 0, M.tensor([0, 2, 0]), y[:3]),
                   2),
                  ("index_add_alpha",
                   lambda M, x, y: x.index_add(1, M.tensor([3, 1]), y[:, :2], alpha=2), 2)],
    "index_copy": [("index_copy", lambda M, x, y: M.index_copy(x, 1, M.tensor([2, 0]), y[:, :2]),
                    2)],
    "index_fill": [("index_fill", lambda M, x: M.index_fill(x, 1, M.tensor([2, -1]), -2), 1)],
    "index_reduce": [
        (f"index_reduce_{r}_{inc}",
         (lambda r, inc: lambda M, x, y: M.index_reduce(  # (PyTorch fails on expanded f16)
             x.contiguous(), 0, M.tensor([0, 1, 0]), y[:3].contiguous(), r,
             include_self=inc))(r, inc), 2)
        for r in ("prod", "mean", "amax", "amin") for inc in (True, False)],
    "index_put": [("index_put", lambda M, x, y: M.index_put(
        x, (M.tensor([0, 2]), M.tensor([1, 1])), y[0, :2]), 2),
        ("index_put_acc", lambda M, x, y: M.index_put(
            x, (M.tensor([0, 0, 3]),), y[1], accumulate=True), 2)],
    "take": [("take", lambda M, x: M.take(x, M.tensor([[0, 5], [-1, 3]])), 1),
             ("take_range", lambda M, x: M.take(x, M.tensor([16])), 1)],
    "put": [("put", lambda M, x, y: M.put(x, M.tensor([0, 5, -1]), y[0, :3]), 2),
            ("put_acc", lambda M, x, y: x.put(M.tensor([1, 1]), y[1, :2], accumulate=True), 2)],
    "repeat_interleave": [("repeat_interleave", lambda M, x: M.repeat_interleave(x, 2), 1),
                          ("repeat_interleave_t", lambda M, x: x.repeat_interleave(
                              M.tensor([1, 0, 2, 1]), dim=1), 1),
                          ("repeat_interleave_counts",
                           lambda M: M.repeat_interleave(M.tensor([2, 0, 1])), 0)],
    "combinations": [("combinations", lambda M, x: M.combinations(x[0]), 1),
                     ("combinations_rep", lambda M, x: M.combinations(x[1, :3], 3, True), 1)],
    "cartesian_prod": [("cartesian_prod", lambda M, x, y: M.cartesian_prod(x[0], y[1, :2]), 2)],
    "nonzero_static": [("nonzero_static", lambda M, x: M.nonzero_static(x, size=5), 1),
                       ("nonzero_static_m", lambda M, x: x.nonzero_static(size=1, fill_value=7),
                        1)],
    "index_put_": [("index_put_", lambda M, x, y: M.index_put_(
        x * 1, (M.tensor([0, 2]),), y[:2], accumulate=True), 2)],
    "H": [("H", lambda M, x: x.H, 1), ("H_1d", lambda M, x: x[0].H, 1)],
    "mH": [("mH", lambda M, x: x.mH, 1), ("mH_3d", lambda M, x: x[None].mH, 1)],
    "sum_to_size": [("sum_to_size", lambda M, x: x.sum_to_size(1, 4), 1),
                    ("sum_to_size_t", lambda M, x: x.sum_to_size((4,)), 1),
                    ("sum_to_size_bad", lambda M, x: x.sum_to_size(2, 4), 1)],
    # the *_copy variants
    "alias_copy": [("alias_copy", lambda M, x: M.alias_copy(x), 1)],
    "as_strided_copy": [("as_strided_copy", lambda M, x: M.as_strided_copy(
        x.contiguous(), (2, 2), (1, 2)), 1)],
    "detach_copy": [("detach_copy", lambda M, x: M.detach_copy(x), 1)],
    "diagonal_copy": [("diagonal_copy", lambda M, x: M.diagonal_copy(x, 1), 1)],
    "expand_copy": [("expand_copy", lambda M, x: M.expand_copy(x, (2, 4, 4)), 1)],
    "permute_copy": [("permute_copy", lambda M, x: M.permute_copy(x, (1, 0)), 1)],
    "select_copy": [("select_copy", lambda M, x: M.select_copy(x, 0, 1), 1)],
    "slice_copy": [("slice_copy", lambda M, x: M.slice_copy(x, 1, 1, 4, 2), 1)],
    "split_copy": [("split_copy", lambda M, x: M.split_copy(x, 3, 1), 1)],
    "split_with_sizes_copy": [("split_with_sizes_copy",
                               lambda M, x: M.split_with_sizes_copy(x, [1, 3]), 1)],
    "squeeze_copy": [("squeeze_copy", lambda M, x: M.squeeze_copy(x[:1]), 1)],
    "t_copy": [("t_copy", lambda M, x: M.t_copy(x), 1)],
    "transpose_copy": [("transpose_copy", lambda M, x: M.transpose_copy(x, 0, 1), 1)],
    "unbind_copy": [("unbind_copy", lambda M, x: M.unbind_copy(x, 1), 1)],
    "unsqueeze_copy": [("unsqueeze_copy", lambda M, x: M.unsqueeze_copy(x, 1), 1)],
    "unfold_copy": [("unfold_copy", lambda M, x: M.unfold_copy(x, 0, 2, 2), 1)],
    "view_copy": [("view_copy", lambda M, x: M.view_copy(x.contiguous(), (2, -1)), 1)],
    # in place
    "fill": [("fill", lambda M, x: M.fill(x, 2), 1),
             ("fill_t", lambda M, x, y: M.fill(x, y[0, 0]), 2)],
    "fill_diagonal_": [("fill_diagonal_", lambda M, x: x.detach().clone().fill_diagonal_(5), 1),
                       ("fill_diagonal_wrap", lambda M, x: M.cat([x, x]).detach().clone()
                        .fill_diagonal_(-1, wrap=True), 1)],
    "squeeze_": [("squeeze_", lambda M, x: (x * 1)[:1].squeeze_(0), 1)],
    "unsqueeze_": [("unsqueeze_", lambda M, x: (x * 1).unsqueeze_(1), 1)],
    "t_": [("t_", lambda M, x: (x * 1).t_(), 1)],
    "transpose_": [("transpose_", lambda M, x: (x * 1).transpose_(1, 0), 1),
                   ("swapdims_", lambda M, x: (x * 1).swapdims_(0, -1), 1)],
    "detach": [("detach", lambda M, x: M.detach(x), 1)],
    "detach_": [("detach_", lambda M, x: M.detach_(x * 1), 1)],
    # ---- end 'shape' ----

    # ---- rows added by helper 'linalg' (keep inside this block) ----
    "addmm": [("addmm", lambda M, x, y: M.addmm(x, x, y), 2),
              ("addmm_ab", lambda M, x, y: M.addmm(x[0], x, y, beta=2, alpha=-1), 2),
              ("addmm_beta0", lambda M, x, y: M.addmm(x, y, y, beta=0), 2),
              ("addmm_bad", lambda M, x, y: M.addmm(x, x, y[:3]), 2)],
    "addmv": [("addmv", lambda M, x, y: M.addmv(x[0], x, y[1]), 2),
              ("addmv_beta0", lambda M, x, y: M.addmv(x[0], y, y[1], beta=0, alpha=2), 2)],
    "addr": [("addr", lambda M, x, y: M.addr(x, x[0], y[1]), 2),
             ("addr_bcast", lambda M, x, y: M.addr(x[:1], x[1], y[1], alpha=2), 2)],
    "baddbmm": [("baddbmm", lambda M, x, y: M.baddbmm(x[None], x[None], y[None]), 2),
                ("baddbmm_beta0", lambda M, x, y: M.baddbmm(x, y[None], x[None], beta=0), 2)],
    "addbmm": [("addbmm", lambda M, x, y: M.addbmm(x, M.stack([x, y]), M.stack([y, x])), 2)],
    "addcmul": [("addcmul", lambda M, x, y: M.addcmul(x, x, y), 2),
                ("addcmul_v", lambda M, x, y: M.addcmul(x, y[0], y, value=2), 2)],
    "addcdiv": [("addcdiv", lambda M, x, y: M.addcdiv(x, x, y), 2),
                ("addcdiv_v", lambda M, x, y: M.addcdiv(x[0], y, x, value=-0.5), 2)],
    "kron": [("kron", lambda M, x, y: M.kron(x, y[:2, :1]), 2),
             ("kron_1d", lambda M, x, y: M.kron(x[0], y), 2)],
    "tensordot": [("tensordot", lambda M, x, y: M.tensordot(x, y, 1), 2),
                  ("tensordot_l", lambda M, x, y: M.tensordot(x, y, ([0], [1])), 2),
                  ("tensordot_bad", lambda M, x, y: M.tensordot(x, y[:3], 1), 2)],
    "cross": [("cross", lambda M, x, y: M.cross(x[:3], y[1:], dim=0), 2),
              ("cross_bad", lambda M, x, y: M.cross(x, y, dim=1), 2)],
    "vdot": [("vdot", lambda M, x, y: M.vdot(x[0], y[1]), 2)],
    "chain_matmul": [("chain_matmul", lambda M, x, y: M.chain_matmul(x, y, x), 2)],
    "cdist": [("cdist", lambda M, x, y: M.cdist(x, y), 2),
              ("cdist_nomm", lambda M, x, y: M.cdist(
                  x, y, compute_mode="donot_use_mm_for_euclid_dist"), 2),
              ("cdist_p1", lambda M, x, y: M.cdist(x, y, p=1), 2)],
    "dist": [("dist", lambda M, x, y: M.dist(x, y), 2),
             ("dist_inf", lambda M, x, y: M.dist(x, y, math.inf), 2)],
    "adjoint": [("adjoint", lambda M, x: M.adjoint(x), 1)],
    "det": [("det", lambda M, x: M.det(x), 1), ("det_batch", lambda M, x: M.det(x[None]), 1)],
    "slogdet": [("slogdet", lambda M, x: M.slogdet(x), 1)],
    "logdet": [("logdet", lambda M, x: M.logdet(x), 1)],
    "inverse": [("inverse", lambda M, x: M.inverse(x), 1),
                ("inverse_rect", lambda M, x: M.inverse(x[:3]), 1)],
    "cholesky": [("cholesky", lambda M, x: M.cholesky(x), 1),
                 ("cholesky_spd", lambda M, x: M.cholesky(x @ x.T + 4 * M.eye(4, dtype=x.dtype)),
                  1)],
    "cholesky_inverse": [("cholesky_inverse", lambda M, x: M.cholesky_inverse(x), 1)],
    "cholesky_solve": [("cholesky_solve", lambda M, x, y: M.cholesky_solve(y, x), 2)],
    "qr": [("qr", lambda M, x: M.qr(x), 1), ("qr_wide", lambda M, x: M.qr(x[:3]), 1)],
    "svd": [("svd_vals", lambda M, x: M.svd(x)[1], 1)],
    "triangular_solve": [("triangular_solve", lambda M, x, y: M.triangular_solve(y, x), 2),
                         ("triangular_solve_t", lambda M, x, y: M.triangular_solve(
                             y, x, upper=False, transpose=True, unitriangular=True), 2)],
    "matrix_exp": [("matrix_exp", lambda M, x: M.matrix_exp(x), 1)],
    "matrix_power": [("matrix_power", lambda M, x: M.matrix_power(x, 3), 1),
                     ("matrix_power_0", lambda M, x: M.matrix_power(x, 0), 1),
                     ("matrix_power_neg", lambda M, x: M.matrix_power(x, -1), 1)],
    "lu": [("lu", lambda M, x: M.lu(x), 1)],
    "lu_unpack": [("lu_unpack", lambda M, x: M.lu_unpack(*M.linalg.lu_factor(x)), 1)],
    "lu_solve": [("lu_solve", lambda M, x, y: M.lu_solve(y, *M.linalg.lu_factor(x)), 2)],
    "pinverse": [("pinverse", lambda M, x: M.pinverse(x), 1)],
    "nuclear_norm": [("nuclear_norm", lambda M, x: M.nuclear_norm(x), 1)],
    "geqrf": [("geqrf", lambda M, x: M.geqrf(x), 1), ("geqrf_wide", lambda M, x: M.geqrf(x[:2]),
                                                        1)],
    "orgqr": [("orgqr", lambda M, x, y: M.orgqr(x, y[0, :3]), 2)],
    "ormqr": [("ormqr", lambda M, x, y: M.ormqr(x, y[0, :3], y), 2),
              ("ormqr_t", lambda M, x, y: M.ormqr(x, y[0], y[:2], left=False, transpose=True), 2)],
    "svd_lowrank": [("svd_lowrank", lambda M, x: M.svd_lowrank(x, q=4)[1], 1)],
    "pca_lowrank": [("pca_lowrank", lambda M, x: M.pca_lowrank(x, q=3, center=False)[1], 1)],
    "frobenius_norm": [("frobenius_norm", lambda M, x: M.frobenius_norm(x), 1),
                       ("frobenius_norm_d", lambda M, x: M.frobenius_norm(x, (0, 1), True), 1)],
    # ---- end 'linalg' ----

    # ---- rows added by helper 'nnact' (keep inside this block) ----
    "softmax": [("softmax_dim", lambda M, x: M.softmax(x, 1), 1),
                ("softmax_dim0", lambda M, x: M.softmax(x, 0), 1),
                ("softmax_method", lambda M, x: x.softmax(-1), 1),
                ("softmax_dtype", lambda M, x: M.softmax(x, 1, dtype=M.float64), 1),
                ("softmax_range", lambda M, x: M.softmax(x, 2), 1)],
    "log_softmax": [("log_softmax_dim", lambda M, x: M.log_softmax(x, 1), 1),
                    ("log_softmax_dim0", lambda M, x: M.log_softmax(x, 0), 1),
                    ("log_softmax_method", lambda M, x: x.log_softmax(-1), 1),
                    ("log_softmax_dtype", lambda M, x: M.log_softmax(x, 0, dtype=M.float64),
                     1),
                    ("log_softmax_range", lambda M, x: M.log_softmax(x, -3), 1)],
    "celu": [("celu", lambda M, x: M.celu(x), 1),
             ("celu_alpha", lambda M, x: M.celu(x, 0.5), 1)],
    "celu_": [("celu_", lambda M, x: M.celu_(x.clone(), 2.0), 1)],
    "selu": [("selu", lambda M, x: M.selu(x), 1)],
    "selu_": [("selu_", lambda M, x: M.selu_(x.clone()), 1)],
    "threshold": [("threshold", lambda M, x: M.threshold(x, 0.5, -2.0), 1),
                  ("threshold_int", lambda M, x: M.threshold(x, 1, 7), 1)],
    "threshold_": [("threshold_", lambda M, x: M.threshold_(x.clone(), 0.5, 3.0), 1)],
    "hardshrink": [("hardshrink", lambda M, x: M.hardshrink(x), 1),
                   ("hardshrink_method", lambda M, x: x.hardshrink(2.0), 1)],
    "rrelu": [("rrelu_eval", lambda M, x: M.rrelu(x), 1),
              ("rrelu_fixed", lambda M, x: M.rrelu(x, 0.25, 0.25, True), 1)],
    "rrelu_": [("rrelu_", lambda M, x: M.rrelu_(x.clone(), 0.2, 0.4), 1)],
    "dropout": [("dropout_eval", lambda M, x: M.dropout(x, 0.5, False), 1),
                ("dropout_p0", lambda M, x: M.dropout(x, 0.0, True), 1),
                ("dropout_p1", lambda M, x: M.dropout(x, 1.0, True), 1),
                ("dropout_badp", lambda M, x: M.dropout(x, 1.5, True), 1)],
    "dropout_": [("dropout__p1", lambda M, x: M.dropout_(x.clone(), 1.0, True), 1),
                 ("dropout__eval", lambda M, x: M.dropout_(x.clone(), 0.3, False), 1)],
    "feature_dropout": [("feature_dropout_eval", lambda M, x: M.feature_dropout(x, 0.5, False),
                         1),
                        ("feature_dropout_p1", lambda M, x: M.feature_dropout(x, 1.0, True),
                         1)],
    "feature_dropout_": [("feature_dropout__p1",
                          lambda M, x: M.feature_dropout_(x.clone(), 1.0, True), 1)],
    "alpha_dropout": [("alpha_dropout_eval", lambda M, x: M.alpha_dropout(x, 0.5, False), 1),
                      ("alpha_dropout_p1", lambda M, x: M.alpha_dropout(x, 1.0, True), 1),
                      ("alpha_dropout_badp", lambda M, x: M.alpha_dropout(x, -0.5, True), 1)],
    "alpha_dropout_": [("alpha_dropout__p1",
                        lambda M, x: M.alpha_dropout_(x.clone(), 1.0, True), 1)],
    "feature_alpha_dropout": [("feature_alpha_dropout_eval",
                               lambda M, x: M.feature_alpha_dropout(x, 0.5, False), 1),
                              ("feature_alpha_dropout_p1",
                               lambda M, x: M.feature_alpha_dropout(x, 1.0, True), 1)],
    "feature_alpha_dropout_": [("feature_alpha_dropout__p1",
                                lambda M, x: M.feature_alpha_dropout_(x.clone(), 1.0, True),
                                1)],
    "native_dropout": [("native_dropout_eval", lambda M, x: M.native_dropout(x, 0.5, False), 1),
                       ("native_dropout_p1", lambda M, x: M.native_dropout(x, 1.0, True), 1)],
    "prelu": [("prelu", lambda M, x, w: M.prelu(x, w.reshape(-1)[:1]), 2),
              ("prelu_method", lambda M, x, w: x.prelu(w[0]), 2)],
    # ---- end 'nnact' ----

    # ---- rows added by helper 'nnloss' (keep inside this block) ----
    # ---- end 'nnloss' ----

    # ---- rows added by helper 'vision' (keep inside this block) ----
    # ---- end 'vision' ----

    # ---- rows added by helper 'optim' (keep inside this block) ----
    # ---- end 'optim' ----

    # ---- rows added by helper 'lead' (keep inside this block) ----
    "vander": [("vander", lambda M, x: M.vander(x.reshape(-1)[:4], N=3), 1)],
    "segment_reduce": [
        ("segment_reduce_" + r, (lambda r: lambda M, x: M.segment_reduce(
            x.reshape(-1), r, lengths=M.tensor([x.numel()])))(r), 1)
        for r in ("sum", "max", "min", "prod")],
    "bfloat16": [("bfloat16", lambda M, x: x.bfloat16().float(), 1)],
    "hash_tensor": [("hash_tensor", lambda M, x: M.hash_tensor(x), 1),
                    ("hash_tensor_dim", lambda M, x: M.hash_tensor(x, -1, keepdim=True), 1)],
    "byte": [("byte", lambda M, x: x.byte(), 1)],
    "char": [("char", lambda M, x: x.char(), 1)],
    "short": [("short", lambda M, x: x.short(), 1)],
    # ---- end 'lead' ----
    # complex tensors cannot require grad here (docs/TORCH_DIFFERENCES.md): detached
    "cfloat": [("cfloat", lambda M, x: x.detach().cfloat().real, 1)],
    "cdouble": [("cdouble", lambda M, x: x.detach().cdouble().imag, 1)],
    "view_as_real": [("view_as_real", lambda M, x: M.view_as_real(x.detach().cdouble()), 1)],
    # (float16 would give complex32, which does not exist here: the rows compute in double)
    "view_as_complex": [("view_as_complex", lambda M, x: M.view_as_real(M.view_as_complex(
        M.stack([x.detach(), x.detach() * 2], -1).double().contiguous())), 1)],
    "complex": [("complex", lambda M, x, y: M.view_as_real(M.complex(x.detach().double(),
                                                                     y.detach().double())), 2)],
    "polar": [("polar", lambda M, x, y: M.view_as_real(M.polar(x.detach().double(),
                                                               y.detach().double())), 2)],
    "new": [("new_data", lambda M, x: x.new([1, 2]), 1),
            ("new_size", lambda M, x: x.new(2, 3).shape, 1),
            ("new_empty_legacy", lambda M, x: x.new().shape, 1)],
    # callables whose results fit every dtype (out-of-range results: PyTorch's errors vary)
    "apply_": [("apply_", lambda M, x: x.detach().clone().apply_(lambda v: abs(v) > 1), 1)],
    "map_": [("map_", lambda M, x, y: x.detach().clone().map_(
        y.detach(), lambda a, b: a if a > b else b), 2)],
    # resize_ keeps the elements in memory order: contiguous inputs (PyTorch's clone keeps
    # a transposed layout)
    # (a grown tensor's new elements are uninitialised: only its shape is compared)
    "resize_": [("resize_", lambda M, x: (lambda r: r if x.numel() >= 2 else r.shape)(
        x.detach().contiguous().clone().resize_(2, 1)), 1)],
    "resize_as_": [("resize_as_", lambda M, x, y: x.detach().contiguous().clone().resize_as_(y[:1]),
                    2)],

}


# more forms of element-wise binary ops, swept like the op itself
VARIANTS = {
    "div": [("div_trunc", lambda M, a, b: M.div(a, b, rounding_mode="trunc"), 2),
            ("div_floor", lambda M, a, b: M.div(a, b, rounding_mode="floor"), 2)],
    "add": [("add_alpha", lambda M, a, b: M.add(a, b, alpha=2), 2)],
}


def generated_calls(info):
    """(label, call, n_inputs) rows for ``info``: its CALLS rows, else by rule."""
    if info.name in CALLS:
        return CALLS[info.name]
    f = _m(info.name)
    if info.family in ("elementwise", "inplace") and info.arity == 1:
        return [(info.name, f, 1)]
    if info.family == "elementwise" and info.arity == 2:
        return [(info.name, f, 2)] + VARIANTS.get(info.name, [])
    if info.family == "reduction" and info.arity == 1:
        return [(info.name, f, 1),
                (info.name + "_dim", lambda M, x: f(M, x, 1), 1),
                (info.name + "_keep", lambda M, x: f(M, x, -1, True), 1),
                (info.name + "_range", lambda M, x: f(M, x, 2), 1)]
    return None


# ---- the documented places where PyTorch is inconsistent (docs/TORCH_DIFFERENCES.md) -------
# Each entry names what the sweep skips there, and why; nothing else is skipped.

# edge classes left out of one input of one op: (op, input) -> classes
EXCLUDED_EDGES = {
    # PyTorch's vectorised fmod (SLEEF) returns nan for a subnormal divisor where its scalar
    # loop (short tensors, loop tails) returns the exact C result: two answers for one input
    ("fmod", 1): ("subnormal", "negsubnormal"),
    ("remainder", 1): ("subnormal", "negsubnormal"),
    # ... and the same for a quotient a / b beyond the largest finite value
    ("fmod", 0): ("maxfinite", "negmaxfinite"),
    ("remainder", 0): ("maxfinite", "negmaxfinite"),
    # PyTorch's var/std (Welford) overflow at the largest finite values: float64 variance
    # nan where it is inf, float32 std's gradient 0 where it is not (its backward divides
    # by std * (n - 1), beyond float32's range); this project accumulates in PyTorch's
    # accumulation dtype (float32 -> float64) and gives the overflowing result inf
    ("var", 0): ("maxfinite", "negmaxfinite"),
    ("std", 0): ("maxfinite", "negmaxfinite"),
    ("var_mean", 0): ("maxfinite", "negmaxfinite"),
    ("std_mean", 0): ("maxfinite", "negmaxfinite"),
    # PyTorch's backward of pow computes exponent - 1 in the exponent's integer dtype: at the
    # smallest int32/int64 it wraps around to the largest (a gradient of -0. for 0 ** -2**31)
    ("pow", 1): ("minint",),
    # PyTorch's integer div(rounding_mode="trunc") of the smallest int32/int64 by -1 kills
    # the process with SIGFPE (its vectorised loop divides in C); this project returns the
    # wrapped value, as its floor mode does
    ("div_trunc", 0): ("minint",),
    # PyTorch's lcm(min int, max int) divides min int by gcd = -1 in C: SIGFPE kills the
    # process (helper 'elem'); this project returns the wrapped value
    ("lcm", 0): ("minint",),
    ("lcm", 1): ("minint",),
    # PyTorch's Cephes-derived igamma/igammac at a subnormal or the largest finite `a`
    # (helper 'elem'): igammac(5e-324, x) is 5e-324 (not 1 - igamma = 1), and
    # x^a e^-x / Gamma(a) underflows to 0 or is inf - inf differently per loop
    ("igamma", 0): ("subnormal", "negsubnormal", "maxfinite", "negmaxfinite"),
    ("igammac", 0): ("subnormal", "negsubnormal", "maxfinite", "negmaxfinite"),
}

# Python numbers where PyTorch's signature wants a Tensor (maximum(x, 2), atan2(x, 1.),
# fmod(2, x), logical_and(x, True)...): PyTorch accepts numbers for add/mul/eq... but not for
# these; this project accepts them for every binary element-wise op, with PyTorch's
# promotion. The sweep skips a number case where PyTorch raises that TypeError.
NUMBER_ARGS = "must be Tensor, not"

# ops whose sign of a zero result PyTorch does not define: maximum(0., -0.) is -0. in its
# scalar loop and 0. in its vectorised loop (and the other way round)
# (and which of the tied 0. and -0. topk returns is not specified either; inner sums the
# products of an expanded operand in its own order, -0. + -0. there, +0. in the BLAS's)
ZERO_SIGN_UNDEFINED = {"maximum", "minimum", "topk", "inner"}

# Gradients of two inputs of different floating dtypes (float16 with float32...): PyTorch's
# backward formulas run on each saved input in its own dtype (a float16 input squared
# underflows to 0 in atan2's backward), this project's in the promoted dtype (the forward's
# precision). The sweep compares those gradients on finite, normal values only
# (the "bcast-grad-mixed" case), not at the edges.


# ---- the sweep --------------------------------------------------------------------------


def _arrays_for(info, dt, n, rng):
    """The inputs of a table-driven call: ``n`` (4, 4) grids of every edge value."""
    if not n:
        return []
    g = _grid(dt, info=info)
    return [g] + [np.roll(g, i + 1) for i in range(n - 1)]


def sweep_elementwise_unary(info, call, label):
    probs, seen = [], set()
    for dt in DTYPES:
        classes, v = edge_vector(dt, info, 0)
        seen.update((c, dt) for c in classes)
        for layout in ("contiguous", "transposed", "sliced", "expanded"):
            a = v if layout == "contiguous" else np.stack([v, v[::-1]])
            probs += check_case(call, [a], dt, layout, label=f"{label}[{dt},{layout}]")
        for s in v:  # every value as a 0-d tensor too
            probs += check_case(call, [np.array(s)], dt, label=f"{label}[{dt},0d={s}]")
        probs += check_case(call, [np.zeros((2, 0), dtype=dt)], dt, label=f"{label}[{dt},empty]")
    probs += check_case(lambda M: call(M, "x"), [], "float32", label=f"{label}[str]")
    return probs, seen


def sweep_elementwise_binary(info, call, label):
    probs, seen = [], set()
    rng = np.random.default_rng(1)
    for da in DTYPES:
        ca, va = edge_vector(da, info, 0, label)
        seen.update((c, da) for c in ca)
        for db in DTYPES:
            cb, vb = edge_vector(db, info, 1, label)
            seen.update((c, db) for c in cb)
            # every pair of values, element by element (gradients compared per element)
            ga, gb = np.meshgrid(va, vb, indexing="ij")
            # (gradients of mixed floating dtypes: see MIXED_GRADS below)
            probs += check_case(call, [ga.ravel(), gb.ravel()], da,
                                label=f"{label}[{da},{db},pairs]",
                                grad=da == db)
            # the in-place form: PyTorch's result, or its refusal to cast the result back
            if info.inplace and label == info.name:
                probs += check_case(
                    lambda M, x, y: getattr(x.clone(), info.name + "_")(y),
                    [ga.ravel(), gb.ravel()], da, label=f"{label}_[{da},{db},inplace]",
                    grad=False)
            # the same pairs as a broadcasting pair (n, 1) x (1, m)
            probs += check_case(call, [va[:, None], vb[None, :]], da,
                                label=f"{label}[{da},{db},bcast]", grad=False)
            # 0-d with dimensioned (the promotion of 0-d tensors)
            sa, sb = va[rng.integers(len(va))], vb[rng.integers(len(vb))]
            probs += check_case(call, [np.array(sa), vb], da, label=f"{label}[{da},{db},0d-a]",
                                grad=False)
            probs += check_case(call, [va, np.array(sb)], da, label=f"{label}[{da},{db},0d-b]",
                                grad=False)
        # Python scalars on either side
        _, vb = edge_vector(da, info, 1, label)
        for s in (True, 0, 2, -3, 0.0, -0.0, 2.5, math.inf, math.nan):
            probs += check_case(lambda M, x, s=s: call(M, x, s), [va], da,
                                label=f"{label}[{da},scalar {s!r}]", grad=False)
            probs += check_case(lambda M, x, s=s: call(M, s, x), [vb], da,
                                label=f"{label}[scalar {s!r},{da}]", grad=False)
        probs += check_case(call, [np.zeros((2, 0), da), np.zeros((1,), da)], da,
                            label=f"{label}[{da},empty]")
        probs += check_case(call, [np.zeros((2, 3), da), np.zeros((2,), da)], da,
                            label=f"{label}[{da},bad-shapes]", grad=False)
    probs += check_case(lambda M, x: call(M, x, "x"), [va], "float32", label=f"{label}[str]",
                        grad=False)
    # gradients through broadcasting (summed back to each input's shape), finite values
    a, b = np.array([[1.5], [-2.0], [0.75]]), np.array([0.5, 2.0, -1.25, 3.0])
    for dt in GRAD_DTYPES:
        probs += check_case(call, [a.astype(dt), b.astype(dt)], dt,
                            label=f"{label}[{dt},bcast-grad]")
        probs += check_case(call, [a.astype(dt), b.astype("float64" if dt == "float32"
                                                         else "float32")], dt,
                            label=f"{label}[{dt},bcast-grad-mixed]")
        probs += check_case(call, [a.astype(dt), np.array([1, 2, -3, 4], "int32")], dt,
                            label=f"{label}[{dt},bcast-grad-int]")
    for layout in ("transposed", "sliced", "expanded"):
        _, v = edge_vector("float32", info, 0)
        a = np.stack([v, v[::-1]])
        probs += check_case(call, [a, a[::-1].copy()], "float32", layout,
                            label=f"{label}[float32,{layout}]")
    return probs, seen


def sweep_table(info, call, n, label):
    probs, seen = [], set()
    rng = np.random.default_rng(2)
    for dt in DTYPES:
        classes, _ = edge_vector(dt, info)
        seen.update((c, dt) for c in classes if c != "special")
        arrays = _arrays_for(info, dt, n, rng)
        for layout in ("contiguous", "transposed", "sliced", "expanded"):
            probs += check_case(call, arrays, dt, layout, label=f"{label}[{dt},{layout}]")
    if n:
        probs += check_case(call, [np.array(2.0)] * n, "float32", label=f"{label}[0d]",
                            grad=False)
        probs += check_case(call, [np.zeros((0, 4), np.float32)] * n, "float32",
                            label=f"{label}[empty]", grad=False)
    return probs, seen


def sweep_op(info):
    """(problems, {(edge class, dtype)} met) for one registered op."""
    rows = generated_calls(info)
    probs, seen = [], set()
    _CURRENT[0] = info.name
    for label, call, n in rows or ():
        if info.family == "elementwise" and info.name not in CALLS and n == 1:
            p, s = sweep_elementwise_unary(info, call, label)
        elif info.family == "elementwise" and info.name not in CALLS and n == 2:
            p, s = sweep_elementwise_binary(info, call, label)
        else:
            p, s = sweep_table(info, call, n, label)
        probs += p
        seen |= s
    return [p for p in probs if not _known(info.name, p)], seen


def _known(name, problem):
    for (op, dt, frag), _reason in KNOWN_CASES.items():
        frags = (frag,) if isinstance(frag, str) else (frag or ())
        if op == name and (dt is None or f"[{dt}" in problem) and all(
                f in problem for f in frags):
            return True
    return False


# (op, dtype or None, fragment of the problem or None): reason (docs/TORCH_DIFFERENCES.md)
KNOWN_CASES: dict = {
    ("var_mean", None, "out[1]: values differ"): "the mean var_mean returns comes from "
    "PyTorch's Welford update: nan for two infinities, where torch.mean gives inf; this "
    "project returns mean()'s result",
    ("std_mean", None, "out[1]: values differ"): "as var_mean",
    ("mul", "float16", ",int32,0d-b]"): "a 0-d integer tensor as the second operand of a "
    "float16 op: PyTorch's mul takes it in float32 (0 * -2**31 is -0.), its add and sub "
    "convert it to float16 first (inf); this project converts it to float16 (as add)",
    ("add", None, ("add_alpha[", "values differ")): "OPEN: PyTorch computes a + alpha * b "
    "with one rounding (a fused multiply-add; float16 in float32): near the largest finite "
    "values alpha * b overflows here first (inf - inf is nan where PyTorch gives inf)",
    ("cumprod", None, "grad[0]"): "OPEN: cumprod's gradient divides by x before the first "
    "zero of a slice: inexact for subnormal x, where PyTorch's is exact",
    ("prod", None, ("prod[", "grad[0]")): "PyTorch's gradient of prod over all elements is "
    "0 everywhere when two or more are zero, even beside inf/nan, while prod over a dim "
    "gives the products of the others (nan there); this project uses the products of the "
    "others in both (exact second derivatives too)",
    ("topk", None, "grad[0]"): "which of tied elements topk selects is not specified by "
    "PyTorch (its values agree); the gradient goes to the selected one",
    ("index_select", None, "[0d]"): "PyTorch raises IndexError for an out-of-range index but "
    "RuntimeError when the indexed tensor is 0-d or empty; this project raises IndexError",
    ("index_select", None, "[empty]"): "as above",
    ("inner", None, ("out: values differ", "torch [nan]")): "PyTorch's inner on "
    "infinities depends on its CPU kernel: on an AMD EPYC (AVX-512) it gives nan for "
    "-inf * inf + 0 * 0, whose value is -inf (NumPy's and this project's answer); on Intel "
    "machines it agreed",
    ("median", None, ("median_dim[", ",expanded]")): "PyTorch's median(dim) of an expanded "
    "(stride-0) tensor returns values that are not in the tensor (torch.tensor([[inf]])"
    ".expand(1, 4).median(1) gives 0.); the contiguous copy gives the right answer, ours",

    # ---- rows added by helper 'elem' (keep inside this block) ----
    ("special_i1e", "float32", "grad[0]"): "PyTorch's float32 gradient i0e(x) - i1e(x) * "
    "(sign(x) + 1/x) cancels (x = 7: ~5 digits lost); this project's values agree to ~4e-6",
    ("mvlgamma", "float32", "grad[0]"): "PyTorch's float32 digamma is good to ~1e-7 "
    "absolute; a sum of digammas near cancellation differs by ~4e-6 relative",
    ("logaddexp2", "float16", "values differ"): "PyTorch's float16/float32 logaddexp2(x, x) "
    "is x + 1 - 1.06e-8 (-1.06e-8 for x = -1, its 1/log(2) in float32) and the sign of a "
    "zero result differs between its loops; this project gives x + 1",
    ("logaddexp2", "float32", "values differ"): "as above",
    ("logaddexp2", None, ",float32,pairs]"): "as above (integers with float32)",
    ("logaddexp2", None, ",float32,bcast]"): "as above (integers with float32)",
    ("ldexp", None, "values differ"): "PyTorch's ldexp at extreme integer exponents: int64 "
    "exponents wrap to int32 (2**63 - 1 acts as -1), and integer inputs overflow 2 ** e to "
    "inf first (0 * inf is nan); this project computes C's ldexp (exact, 0 * 2**e is 0)",
    ("fmax", None, "-0."): "the sign of a zero result from 0. and -0. depends on "
    "PyTorch's loop (as maximum)",
    ("fmin", None, "-0."): "as fmax",
    ("clamp_min", None, "-0."): "as fmax",
    ("clamp_max", None, "-0."): "as fmax",
    ("nextafter", None, "-0."): "nextafter(-0., 0.) is 0. or -0. depending on "
    "PyTorch's loop",
    ("logaddexp2", None, "-0."): "as above (the sign of a zero result)",
    ("lerp", "float64", "-0."): "PyTorch's lerp rounds start + w * (end - start) once (a "
    "fused multiply-add): the sign of a zero result from subnormals; this project rounds "
    "twice in float64 (float32/float16 are computed in float64, as the fma)",
    ("ldexp", None, "bcast-grad-int"): "PyTorch's ldexp gradient computes 2 ** other in the "
    "integer dtype (0 for negative exponents) while its forward is exact; this project's "
    "gradient is 2 ** other",
    # ---- end 'elem' ----

    # ---- rows added by helper 'reduce' (keep inside this block) ----
    ("quantile", None, ("quantile_mid[", "torch [-0.")): "OPEN: PyTorch interpolates "
    "with a fused multiply-add (one rounding): half the smallest subnormal below 0. rounds "
    "to -0. there, to 0. here",
    ("nanmedian", None, ("nanmedian[", "ours 0.0 torch -0.0")): "which of the tied 0. and -0. "
    "nanmedian over all elements returns is not specified by PyTorch (an unstable "
    "nth_element); this project takes the first in a stable order",
    ("nanmedian", None, ("nanmedian_dim[", ",expanded]")): "as median(dim): PyTorch's "
    "nanmedian(dim) of an expanded (stride-0) tensor returns values that are not in the "
    "tensor; the contiguous copy gives the right answer, ours",
    # ---- end 'reduce' ----

    # ---- rows added by helper 'shape' (keep inside this block) ----
    ("index_reduce", None, ("index_reduce_amax_True", "ours [0.] torch [-0.]")): "which of "
    "tied 0. and -0. amax keeps: PyTorch's index_reduce takes the source's, its scatter_reduce "
    "self's; this project keeps self's in both",
    # ---- end 'shape' ----

    # ---- rows added by helper 'linalg' (keep inside this block) ----
    ("addmm", None, "values differ"): "sums of products that overflow: inf or nan depends on "
    "the order in which the BLAS kernel accumulates (PyTorch's addmm/addmv/baddbmm kernels "
    "and its mm/bmm differ among themselves: (3e38 + 3e38 - 3e38 + 1) is inf in torch.addmv "
    "and 3e38 in torch.dot)",
    ("addmv", None, "values differ"): "as addmm",
    ("addbmm", None, "values differ"): "as addmm",
    ("baddbmm", None, "values differ"): "as addmm",
    ("tensordot", None, "values differ"): "as addmm",
    ("chain_matmul", None, "values differ"): "as addmm",
    ("cholesky", None, "torch _LinAlgError"): "PyTorch raises its own class "
    "torch._C._LinAlgError (a RuntimeError); this project raises autograd.linalg.LinAlgError "
    "(a RuntimeError) for the same inputs",
    ("cholesky_inverse", None, "torch _LinAlgError"): "as cholesky",
    ("svd", None, "torch _LinAlgError"): "as cholesky",
    ("pinverse", None, "torch _LinAlgError"): "as cholesky",
    ("nuclear_norm", None, "torch _LinAlgError"): "as cholesky",
    ("inverse", None, "torch _LinAlgError"): "as cholesky",
    ("matrix_power", None, "torch _LinAlgError"): "as cholesky",
    ("ormqr", None, ("ormqr_t[", "grad[1]: values differ")): "the gradient for tau at "
    "infinite entries: PyTorch's ormqr backward and the reflector-by-reflector chain rule "
    "here sum overflowing products in different orders (nan here where PyTorch gives inf)",
    ("svd_lowrank", None, "torch _LinAlgError"): "as cholesky",
    ("pca_lowrank", None, "torch _LinAlgError"): "as cholesky",
    ("kron", None, ("kron_1d[", ",transposed]")): "PyTorch's kron of a 1-D slice of a "
    "transposed tensor raises 'view size is not compatible' (a view where it needs a copy); "
    "this project returns the product",
    # ---- end 'linalg' ----

    # ---- rows added by helper 'nnact' (keep inside this block) ----
    ("hardshrink", None, (",sliced]", "grad[0]")): "PyTorch's hardshrink gradient at nan is "
    "0 from its vectorised loop (contiguous) and gy from its scalar loop (strided); this "
    "project gives 0 for every layout",
    # ---- end 'nnact' ----

    # ---- rows added by helper 'nnloss' (keep inside this block) ----
    # ---- end 'nnloss' ----

    # ---- rows added by helper 'vision' (keep inside this block) ----
    # ---- end 'vision' ----

    # ---- rows added by helper 'optim' (keep inside this block) ----
    # ---- end 'optim' ----

    # ---- rows added by helper 'lead' (keep inside this block) ----
    # ---- end 'lead' ----

}

OPS = [e for e in registry.ops()]
NO_SWEEP = {"cuda"}  # needs a GPU (tests/test_devices.py covers it)


def test_every_op_is_swept():
    missing = [e.name for e in OPS if generated_calls(e) is None and e.name not in NO_SWEEP]
    assert not missing, (f"these registered ops have no rule to call them: add a row to "
                         f"CALLS in tests/test_edge_sweep.py: {missing}")


def test_documented_skips():
    """Every op the sweep skips a case of is in docs/TORCH_DIFFERENCES.md."""
    import pathlib

    doc = (pathlib.Path(__file__).parent.parent / "docs" / "TORCH_DIFFERENCES.md").read_text()
    names = {k[0] for k in EXCLUDED_EDGES} | set(ZERO_SIGN_UNDEFINED) | {
        k[0] for k in KNOWN_CASES}
    names = {n.split("_")[0] if n == "div_trunc" else n for n in names}
    missing = sorted(n for n in names if f"`{n}" not in doc)
    assert not missing, f"skipped by the sweep but not documented: {missing}"


@pytest.mark.parametrize("name", [e.name for e in OPS if e.name not in NO_SWEEP])
def test_edge_sweep(name):
    probs, _ = sweep_op(registry.get(name))
    assert not probs, f"{len(probs)} disagreements with PyTorch:\n" + "\n".join(probs[:30])


if __name__ == "__main__":  # the figures: ops x edge classes swept, disagreements, time
    import sys

    t0 = time.perf_counter()
    names = sys.argv[1:] or [e.name for e in OPS if e.name not in NO_SWEEP]
    total, cells = 0, set()
    for n in names:
        try:
            p, s = sweep_op(registry.get(n))
        except Exception as e:  # noqa: BLE001
            p, s = [f"{n}: the sweep itself failed: {type(e).__name__}: {e}"], set()
        cells |= {(n,) + c for c in s}
        total += len(p)
        for line in p[:8]:
            print(line)
        if p:
            print(f"== {n}: {len(p)}")
    issue = {"negsubnormal": "subnormal", "negmaxfinite": "maxfinite", "minint": "negative"}
    per_op = {}
    for op, cls, _dt in cells:
        c = issue.get(cls, cls)
        if c in EDGE_CLASSES:
            per_op.setdefault(op, set()).add(c)
    full = sum(1 for v in per_op.values() if set(EDGE_CLASSES[:-1]) <= v)
    print(f"{len(names)} ops; {sum(len(v) for v in per_op.values())} op x edge-class cells of "
          f"the issue's {len(EDGE_CLASSES)} classes ({full} ops meet all {len(EDGE_CLASSES) - 1} "
          f"generic classes, {sum('special' in v for v in per_op.values())} their own special "
          f"points); {len(cells)} op x edge-class x dtype cells; {total} disagreements outside "
          f"docs/TORCH_DIFFERENCES.md; {time.perf_counter() - t0:.1f} s")
