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
    # ---- end 'reduce' ----

    # ---- rows added by helper 'shape' (keep inside this block) ----
    # ---- end 'shape' ----

    # ---- rows added by helper 'linalg' (keep inside this block) ----
    # ---- end 'linalg' ----

    # ---- rows added by helper 'nnact' (keep inside this block) ----
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
# (and which of the tied 0. and -0. topk returns is not specified either)
ZERO_SIGN_UNDEFINED = {"maximum", "minimum", "topk"}

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
    # ---- end 'reduce' ----

    # ---- rows added by helper 'shape' (keep inside this block) ----
    # ---- end 'shape' ----

    # ---- rows added by helper 'linalg' (keep inside this block) ----
    # ---- end 'linalg' ----

    # ---- rows added by helper 'nnact' (keep inside this block) ----
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
