"""Forward-mode automatic differentiation (PyTorch's ``torch.autograd.forward_ad``).

Inside ``with dual_level():``, ``make_dual(x, v)`` returns a tensor carrying a tangent
``v`` next to its value; every op computes its output's tangent from its inputs' tangents
(the Jacobian-vector product ``J v``) in the same pass as the value, and
``unpack_dual(y)`` returns ``(primal, tangent)``. One forward pass gives one column of the
Jacobian (``J e_i``), where reverse mode gives one row per backward pass.

How it is built
---------------
``dual_level`` puts an interpreter on this thread's ``grad_mode.state.transforms``; while it
is there ``Op.apply`` hands every op to it. The interpreter runs the op as usual (the
reverse-mode graph is recorded as always, so forward-over-reverse works: differentiate a
gradient computed with ``create_graph=True`` and its tangent is a Hessian-vector product)
and, when some input carries a tangent, applies the op's JVP rule. Rules run on raw arrays
(NumPy or CuPy), like the backward formulas, and are written once per op *kind*:

* element-wise unary ops: ``jvp(t) = backward(ctx, t)`` (their Jacobian is diagonal);
* element-wise ops of several inputs: ``sum_i backward_i(ctx, 1) * t_i``;
* linear ops (reshape, permute, indexing, sum, cat, pooling...): the op itself applied to
  the tangents;
* multilinear ops (matmul, einsum): the sum over inputs of the op with one input replaced
  by its tangent;
* the rest (normalisation, softmax, cross entropy, norms, products...): explicit formulas.

Composite ops (``nn.functional.mse_loss``, ``layer_norm``...) get their JVP for free since
they are made of ops. An op with no rule (the RNN layers, ``scatter_reduce``) gets its JVP
from its reverse mode, the transpose of its VJP (``_jvp_by_vjp``), when its backward is
differentiable; otherwise ``NotImplementedError`` naming it. Rules are
keyed by the op class name (walking the class's bases), so ``nn`` ops need no import here.
Custom ``Function`` subclasses may define ``jvp(ctx, *tangents)`` as in PyTorch.

Only one dual level at a time (as in PyTorch); tangents carry no graph themselves.
"""

from __future__ import annotations

import itertools
import math
import sys
from collections import namedtuple

import numpy as np

from . import registry
from .backend import add_at, get_array_module
from .engine import grad
from .function import Function, Op, _prepare_binary
from .grad_mode import state
from .ops.shape import Reshape
from .tensor import Tensor, _make

__all__ = ["dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual",
           "UnpackedDualTensor", "jvp_rule", "has_jvp_rule", "ops_without_jvp_rule",
           "registry_ops_without_jvp_rule"]

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])

_levels = itertools.count(1)  # every dual level gets a new number: stale tangents are ignored


# ---------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------

class dual_level:
    """Context manager for a forward-AD level: tangents made with ``make_dual`` inside it
    are propagated through every op, and forgotten when it exits."""

    def __enter__(self):
        self.level = enter_dual_level()
        return self.level

    def __exit__(self, *exc):
        exit_dual_level(level=self.level)
        return False


def enter_dual_level() -> int:
    for tr in state.transforms:
        if isinstance(tr, _ForwardAD):
            raise RuntimeError("Nested forward mode AD is not supported at the moment "
                               "(one dual_level at a time, as in PyTorch)")
    tr = _ForwardAD(next(_levels))
    state.transforms = state.transforms + (tr,)
    return tr.level


def exit_dual_level(*, level=None) -> None:
    stack = state.transforms
    for i in range(len(stack) - 1, -1, -1):
        tr = stack[i]
        if isinstance(tr, _ForwardAD) and (level is None or tr.level == level):
            state.transforms = stack[:i] + stack[i + 1:]
            return
    raise RuntimeError("exit_dual_level: no dual level is active")


def _current():
    for tr in reversed(state.transforms):
        if isinstance(tr, _ForwardAD):
            return tr
    return None


def make_dual(tensor, tangent, *, level=None) -> Tensor:
    """A tensor with the value of ``tensor`` (sharing its memory, and its reverse-mode graph)
    and the tangent ``tangent`` (same shape) at the current dual level."""
    tr = _current()
    if tr is None:
        raise RuntimeError("make_dual: must be called inside a dual level: "
                           "`with autograd.forward_ad.dual_level():`")
    if not isinstance(tensor, Tensor):
        raise TypeError(f"make_dual: expected a Tensor primal, got {type(tensor).__name__}")
    if type(tensor).__name__ == "BatchedTensor":
        raise NotImplementedError(
            "forward AD of a tensor batched by vmap (jvp/jacfwd/hessian inside vmap) is not "
            "supported; use jacrev inside vmap, or vmap inside the forward-mode transform"
        )
    td = tangent._data if isinstance(tangent, Tensor) else tangent
    if tuple(getattr(td, "shape", ())) != tuple(tensor.shape):
        raise RuntimeError(
            f"make_dual: the tangent has shape {tuple(getattr(td, 'shape', ()))} but the "
            f"primal has shape {tuple(tensor.shape)}; they must match"
        )
    if tensor.dtype.kind not in "fcV":
        raise ValueError(f"make_dual: expected a floating point primal, got {tensor.dtype}")
    out = _alias(tensor)
    xp = get_array_module(tensor._data)
    out._fw = (tr.level, xp.asarray(td, dtype=tensor.dtype))
    return out


def unpack_dual(tensor, *, level=None) -> UnpackedDualTensor:
    """``(primal, tangent)`` of ``tensor``: the tangent is None when it has none at the
    current level (or outside any level)."""
    t = _tangent_of(tensor, level)
    if t is None:
        return UnpackedDualTensor(tensor, None)
    return UnpackedDualTensor(_alias(tensor), _make(t))


def _alias(t: Tensor) -> Tensor:
    """A tensor sharing ``t``'s array and (when it requires grad) its graph, no tangent."""
    if t._rg:
        stack = state.transforms
        state.transforms = ()
        try:
            from_graph = Reshape.apply(t, shape=t.shape)  # a view node: gradients flow
        finally:
            state.transforms = stack
        return from_graph
    out = _make(t._data)
    out._vc = t._vc
    return out


def _tangent_of(t, level=None):
    fw = getattr(t, "_fw", None) if isinstance(t, Tensor) else None
    if fw is None:
        return None
    if level is None:
        tr = _current()
        if tr is None:
            return None
        level = tr.level
    return fw[1] if fw[0] == level else None


# ---------------------------------------------------------------------------------------
# the interpreter
# ---------------------------------------------------------------------------------------

_FAKE_EDGE = (None, 0)  # makes forward save everything (the ctx is only read by a rule)


class _ForwardAD:
    """Runs every op; computes output tangents with the op's JVP rule."""

    def __init__(self, level: int):
        self.level = level

    def process(self, cls, args, kwargs):
        level = self.level
        tans = None
        for i, a in enumerate(args):
            fw = getattr(a, "_fw", None) if isinstance(a, Tensor) else None
            if fw is not None and fw[0] == level:
                if tans is None:
                    tans = [None] * len(args)
                tans[i] = fw[1]
        stack = state.transforms
        i = stack.index(self)
        below = stack[:i] + stack[i + 1:]
        state.transforms = below
        try:
            if tans is None:
                return cls.apply(*args, **kwargs)
            if issubclass(cls, Function):
                return _function_jvp(cls, args, kwargs, tans, level)
            return _op_jvp(cls, args, kwargs, tans, level)
        finally:
            state.transforms = stack


def _function_jvp(cls, args, kwargs, tans, level):
    if getattr(cls, "jvp", None) is None:
        raise NotImplementedError(
            f"forward AD: the custom Function {cls.__name__} has no jvp(ctx, *tangents) "
            "static method; define one to use it under forward mode (autograd.forward_ad, "
            "autograd.func.jvp/jacfwd)"
        )
    out = cls.apply(*args, **kwargs)
    ctx = cls.__new__(cls)
    detached = [a.detach() if isinstance(a, Tensor) else a for a in args]
    prev = state.enabled
    state.enabled = False
    try:
        if cls.setup_context is not Function.setup_context:
            # PyTorch 2 style: forward(*args) without ctx, then setup_context fills ctx
            cls.setup_context(ctx, tuple(detached), cls.forward(*detached, **kwargs))
        else:
            cls.forward(ctx, *detached, **kwargs)
        tg = cls.jvp(ctx, *[None if t is None else _make(t) for t in tans])
    finally:
        state.enabled = prev
    outs = out if isinstance(out, tuple) else (out,)
    tgs = tg if isinstance(tg, tuple) else (tg,)
    for o, t in zip(outs, tgs):
        _attach(o, getattr(t, "_data", t), level)
    return out


def _jvp_by_vjp(cls, args, kwargs, tans, level):
    """The JVP of an op with no rule, from its reverse mode: ``g(u) = J^T u`` is linear in
    ``u``, so ``J t`` is the gradient of ``<g(u), t>`` with respect to ``u`` (the "double
    VJP"). It needs the op's backward to be differentiable (``create_graph``, as the RNN
    layers' is) and costs one more forward and two backward passes on top of the op itself;
    an op whose backward is not differentiable raises NotImplementedError naming it."""
    out = cls.apply(*args, **kwargs)
    which = [i for i, t in enumerate(tans) if t is not None]
    prev = state.enabled, state.create_graph
    state.enabled, state.create_graph = True, False
    try:
        xs = [a.detach() if isinstance(a, Tensor) else a for a in args]
        for i in which:
            xs[i].requires_grad_(True)
        ys = cls.apply(*xs, **kwargs)
        ys = ys if ys.__class__ is tuple else (ys,)
        fl = [k for k, y in enumerate(ys) if _is_float_arr(y._data)]
        us = [_make(_zeros_like(ys[k]._data)).requires_grad_(True) for k in fl]
        gs = grad([ys[k] for k in fl], [xs[i] for i in which], grad_outputs=us,
                  create_graph=True, allow_unused=True)
        pairs = [(g, _make(tans[i])) for g, i in zip(gs, which) if g is not None]
        if any(not g.requires_grad for g, _ in pairs):
            raise NotImplementedError(
                f"forward AD: no JVP rule for op {cls.__name__} ({cls.__module__}) and its "
                "backward is not differentiable, so it cannot be differentiated in forward "
                "mode (autograd.forward_ad, autograd.func.jvp/jacfwd). Use reverse mode "
                "(autograd.grad, autograd.func.vjp/jacrev) for it.")
        jts = grad([g for g, _ in pairs], us, grad_outputs=[t for _, t in pairs],
                   allow_unused=True) if pairs else [None] * len(us)
    finally:
        state.enabled, state.create_graph = prev
    outs = out if out.__class__ is tuple else (out,)
    for k, jt in zip(fl, jts):
        _attach(outs[k], _zeros_like(outs[k]._data) if jt is None else jt._data, level)
    return out


def _op_jvp(cls, args, kwargs, tans, level):
    rule = _find_rule(cls)
    if rule is None:
        return _jvp_by_vjp(cls, args, kwargs, tans, level)
    fn, needs_ctx = rule
    record = state.enabled and any(isinstance(a, Tensor) and a._rg for a in args)
    ctx = None
    if record:
        out = cls.apply(*args, **kwargs)
        if needs_ctx:
            o0 = out[0] if out.__class__ is tuple else out
            node = o0.grad_fn
            if node is not None and all(t is None or (i < len(node.next_edges) and
                                                      node.next_edges[i] is not None)
                                        for i, t in enumerate(tans)):
                ctx = node
        ys = tuple(o._data for o in out) if out.__class__ is tuple else out._data
        if needs_ctx and ctx is None:  # the recorded node saved too little: a full ctx
            ctx, _ = _run_full(cls, args, kwargs)
    else:
        ctx, ys = _run_full(cls, args, kwargs)
        out = _wrap(cls, ys, args, ctx._view)
    prims = tuple(a._data if isinstance(a, Tensor) else a for a in args)
    prev = state.enabled, state.create_graph
    state.enabled = state.create_graph = False
    try:
        tg = fn(cls, ctx, prims, tuple(tans), ys, kwargs)
    finally:
        state.enabled, state.create_graph = prev
    if out.__class__ is tuple:
        for o, t in zip(out, tg):
            _attach(o, t, level)
    else:
        _attach(out, tg, level)
    if record:
        _note_saved(out, args, tans, level)
    return out


def _note_saved(out, args, tans, level) -> None:
    """Remember the tangents of the saved inputs/outputs of the recorded node, so that a
    create_graph backward (forward-over-reverse) sees them on its re-wrapped tensors."""
    o0 = out[0] if out.__class__ is tuple else out
    node = o0.grad_fn
    idx = getattr(node, "_saved_idx", None) if node is not None else None
    if not idx:
        return
    outs = out if out.__class__ is tuple else (out,)
    found = {}
    for j, k in enumerate(idx):
        if k is None:
            continue
        if k >= 0:
            t = tans[k] if k < len(tans) else None
        else:
            fw = outs[-1 - k].__dict__.get("_fw")
            t = fw[1] if fw is not None and fw[0] == level else None
        if t is not None:
            found[j] = t
    if found:
        node._fw_saved = (level, found)


def _run_full(cls, args, kwargs):
    """Run forward on a fresh ctx that saves everything (no graph)."""
    node = object.__new__(cls)
    data = [a._data if isinstance(a, Tensor) else a for a in args]
    node.next_edges = tuple(_FAKE_EDGE if isinstance(a, Tensor) else None for a in args)
    if cls._broadcast:
        _prepare_binary(node, data)
    y = cls.forward(node, *data, **kwargs)
    if y.__class__ is tuple:
        y = tuple(np.asarray(o) if isinstance(o, np.generic) else o for o in y)
    elif isinstance(y, np.generic):
        y = np.asarray(y)
    return node, y


def _wrap(cls, ys, args, view):
    obs = state.observers
    if obs:
        node = object.__new__(cls)
        for o in obs:
            o.on_forward(node, ys)
    if ys.__class__ is tuple:
        outs = tuple(_make(y) for y in ys)
    else:
        outs = _make(ys)
    if view:  # (the op's ``_view``; a reshape that copied says False on its ctx)
        base = args[0]
        for o in (outs if outs.__class__ is tuple else (outs,)):
            o._vc = base._vc
            if base._exposed:
                o._exposed = True
    return outs


def _attach(out, t, level) -> None:
    if t is None or not isinstance(out, Tensor):
        return
    y = out._data
    if y.dtype.kind not in "fcV":
        return
    xp = get_array_module(y)
    if not hasattr(t, "shape") or isinstance(t, np.generic):
        t = xp.asarray(t)
    if t.dtype != y.dtype:
        t = t.astype(y.dtype)
    if t.shape != y.shape:
        t = xp.ascontiguousarray(xp.broadcast_to(t, y.shape))
    out._fw = (level, t)


# ---------------------------------------------------------------------------------------
# rules
# ---------------------------------------------------------------------------------------

# op class name -> (fn(cls, ctx, primals, tangents, outputs, kwargs), needs_ctx)
_RULES = registry.RuleTable(stop=(Op,))


def jvp_rule(*names, needs_ctx: bool = False):
    """Register a JVP rule for the ops named ``names`` (class names): ``fn(cls, ctx,
    primals, tangents, outputs, kwargs)`` returns the output tangent(s) on raw arrays;
    ``tangents[i]`` is None where input i carries none."""

    def deco(fn):
        _RULES.add(names, (fn, needs_ctx))
        return fn

    return deco


def _find_rule(cls):
    return _RULES.find(cls)


def registry_ops_without_jvp_rule() -> list:
    """Names of the differentiable ops of the op registry whose Op class has no JVP rule
    (composites need none: they are made of ops)."""
    return _RULES.missing()


def has_jvp_rule(cls) -> bool:
    return _find_rule(cls) is not None


def ops_without_jvp_rule() -> list:
    """Names of the Op classes defined so far that have no JVP rule."""
    out = []
    stack = list(Op.__subclasses__())
    while stack:
        c = stack.pop()
        stack.extend(c.__subclasses__())
        if c.__name__.startswith("_") or c.__name__ == "BinaryOp":
            continue
        if _find_rule(c) is None:
            out.append(c.__name__)
    return sorted(set(out))


def _fresh(cls):
    return object.__new__(cls)


def _zeros_like(a):
    return get_array_module(a).zeros(np.shape(a), dtype=getattr(a, "dtype", None) or
                                     np.float64)


def _is_float_arr(a) -> bool:
    return hasattr(a, "dtype") and hasattr(a, "shape") and a.dtype.kind in "fcV"


def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def _only_first(cls, tans):
    for i, t in enumerate(tans[1:], 1):
        if t is not None:
            raise NotImplementedError(
                f"forward AD: op {cls.__name__} has a JVP rule for its first input only; "
                f"input {i} carries a tangent"
            )


# -- element-wise unary: jvp(t) = backward(ctx, t) --------------------------------------

@jvp_rule("Neg", "Exp", "Expm1", "Log", "Log2", "Log10", "Log1p", "Sqrt", "Rsqrt", "Sin",
          "Cos", "Tan", "Tanh", "Sigmoid", "Relu", "Abs", "Square", "Reciprocal", "Erf",
          "Clamp", "LeakyRelu", "Elu", "Gelu", "Silu", "Softplus", "Hardtanh", "Asin", "Acos",
          "Atan", "Asinh", "Acosh", "Atanh", "NanToZero",
          "Threshold", "Hardshrink", "Softshrink", "Hardsigmoid", "Hardswish", "Mish",  # nn
          # autograd/ops/special.py (helper 'elem')
          "_Unary", "Polygamma", "Logit", "NanToNum", "Frexp", needs_ctx=True)
def _unary(cls, ctx, prims, tans, ys, kwargs):
    _only_first(cls, tans)
    g = cls.backward(ctx, tans[0])
    return g[0] if g.__class__ is tuple else g


@jvp_rule("_Rounding", "Floor", "Ceil", "Round", "Trunc", "Sign", "DivTrunc", "DivFloor", "Angle",
          "RandomDraw")
def _zero(cls, ctx, prims, tans, ys, kwargs):
    return _zeros_like(ys)


# -- element-wise of several inputs: sum_i backward_i(ones) * t_i ------------------------

@jvp_rule("Maximum", "Minimum", "Remainder", "Fmod", "Atan2", "BinaryCrossEntropy",
          # autograd/ops/special.py (helper 'elem')
          "Copysign", "Logaddexp", "Logaddexp2", "Hypot", "Xlogy", "Fmax", "ClampMin",
          "Nextafter", "Lerp", "Ldexp", needs_ctx=True)
def _elementwise(cls, ctx, prims, tans, ys, kwargs):
    xp = get_array_module(ys)
    gs = cls.backward(ctx, xp.ones(ys.shape, dtype=ys.dtype))
    if gs.__class__ is not tuple:
        gs = (gs,)
    out = None
    for g, t in zip(gs, tans):
        if t is not None:
            out = _add(out, g * t)
    return out


@jvp_rule("Igamma", "Zeta", needs_ctx=True)  # helper 'elem'
def _second_only(cls, ctx, prims, tans, ys, kwargs):
    """Ops differentiable in their second input only (PyTorch has no first derivative)."""
    if tans[0] is not None:
        raise NotImplementedError(
            f"forward AD: the derivative of {cls.__name__} with respect to its first input is "
            "not implemented (as in PyTorch)")
    return None if tans[1] is None else cls.grad_other(ctx, tans[1])


@jvp_rule("BCEWithLogits", needs_ctx=True)
def _bce_logits(cls, ctx, prims, tans, ys, kwargs):
    if len(tans) > 2 and tans[2] is not None:
        x, t, pw = prims
        sp = np.logaddexp(0, -x) if get_array_module(x) is np else \
            get_array_module(x).logaddexp(0, -x)
        extra = tans[2] * t * sp
    else:
        extra = None
    return _add(_elementwise(cls, ctx, prims, tans[:2] + (None,) * (len(tans) - 2), ys,
                             kwargs), extra)


@jvp_rule("Mul")
def _mul(cls, ctx, prims, tans, ys, kwargs):
    a, b = prims
    ta, tb = tans
    return _add(None if ta is None else ta * b, None if tb is None else a * tb)


@jvp_rule("Div")
def _div(cls, ctx, prims, tans, ys, kwargs):
    a, b = prims
    ta, tb = tans
    return _add(None if ta is None else ta / b, None if tb is None else -tb * ys / b)


@jvp_rule("Pow")
def _pow(cls, ctx, prims, tans, ys, kwargs):
    a, b = prims
    ta, tb = tans
    xp = get_array_module(ys)
    out = None
    # the rules of Pow.backward (PyTorch's): 0 where the exponent is 0; a**b * log(a)
    # taken as 0 where a == 0 and b >= 0 (-inf where a == 0 and b < 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        if ta is not None:
            if hasattr(b, "dtype"):
                out = ta * xp.where(b == 0, 0.0, b * a ** (b - 1))
            else:
                out = ta * 0 if b == 0 else ta * b * a ** (b - 1)
        if tb is not None:
            out = _add(out, tb * xp.where((a == 0) & (b >= 0), 0.0, ys * xp.log(a)))
    return out


@jvp_rule("LogCumSumExp")
def _logcumsumexp(cls, ctx, prims, tans, ys, kwargs):
    """sum_{j <= i} exp(x_j - y_i) t_j, as log-cum-sum-exps of the positive and the negative
    parts of t (the op itself, so it neither overflows nor underflows)."""
    _only_first(cls, tans)
    x, t = prims[0], tans[0]
    xp = get_array_module(ys)
    out = None
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        la = xp.log(xp.abs(t)) + x
        for part, sign in ((t > 0, 1.0), (t < 0, -1.0)):
            lp = cls.forward(_fresh(cls), xp.where(part, la, -xp.inf).astype(ys.dtype),
                             **kwargs)
            term = sign * xp.exp(lp - ys)
            out = term if out is None else out + term
    return out.astype(ys.dtype, copy=False)


# -- linear ops: the op applied to the tangents -----------------------------------------

@jvp_rule("Reshape", "Permute", "BroadcastTo", "SumTo", "Repeat", "Flip", "Roll", "Split",
          "Unbind", "GetItem", "Gather", "IndexSelect", "IndexGrad", "Sum", "Mean", "Cumsum",
          "TakeAlongDim", "ScatterAlongDim", "Tril", "Triu", "Embedding", "UnfoldOp",
          "FoldOp", "AvgPool2dOp", "AvgSpreadOp", "MaxPoolScatterOp", "MaxPoolGatherOp",
          "Cast", "_ToDevice", "ToDevice", "Contiguous", "Clone", "TensorUnfold",
          "TensorUnfoldGrad", "Diagonal", "DiagonalGrad")
def _linear_first(cls, ctx, prims, tans, ys, kwargs):
    _only_first(cls, tans)
    return cls.forward(_fresh(cls), tans[0], *prims[1:], **kwargs)


@jvp_rule("PadConstant")
def _pad(cls, ctx, prims, tans, ys, kwargs):
    _only_first(cls, tans)
    if len(prims) > 2:
        return cls.forward(_fresh(cls), tans[0], prims[1], 0.0, **kwargs)
    if len(prims) > 1:
        return cls.forward(_fresh(cls), tans[0], prims[1], **dict(kwargs, value=0.0))
    return cls.forward(_fresh(cls), tans[0], **dict(kwargs, value=0.0))


def _linear_all(fixed=()):
    def fn(cls, ctx, prims, tans, ys, kwargs):
        targs = []
        for i, (p, t) in enumerate(zip(prims, tans)):
            if t is not None:
                targs.append(t)
            elif i in fixed:
                targs.append(p)
            elif _is_float_arr(p):
                targs.append(_zeros_like(p))
            elif isinstance(p, (int, float)) and not isinstance(p, bool):
                targs.append(0.0 if isinstance(p, float) else 0)
            else:
                targs.append(p)
        return cls.forward(_fresh(cls), *targs, **kwargs)

    return fn


jvp_rule("Add", "Sub", "Cat", "Stack")(_linear_all())
jvp_rule("Where", "MaskedFill")(_linear_all(fixed=(0,)))
jvp_rule("SetItem", "Scatter", "Overwrite")(_linear_all())


@jvp_rule("ScatterAdd")
def _scatter_add(cls, ctx, prims, tans, ys, kwargs):
    return _linear_all(fixed=(2,))(cls, ctx, prims, tans, ys, kwargs)


@jvp_rule("ScatterReduceAll")
def _scatter_reduce(cls, ctx, prims, tans, ys, kwargs):
    # scatter_reduce/index_reduce: tx * wx + scatter_add(ts * ws), the op's own weights
    x, src = prims
    wx, ws = cls.weights(x, src, ys, kwargs["index"], kwargs["reduce"], kwargs["include_self"])
    tx, ts = tans
    xp = get_array_module(ys)
    out = xp.zeros(ys.shape, dtype=ys.dtype) if tx is None else (tx * wx).astype(ys.dtype)
    if ts is not None:
        add_at(xp, out, kwargs["index"], (ts * ws).astype(ys.dtype))
    return out


# -- multilinear: sum over inputs of the op with one input replaced by its tangent -------

@jvp_rule("MatMul", "Einsum", "ConvWeightOp")
def _multilinear(cls, ctx, prims, tans, ys, kwargs):
    out = None
    for i, t in enumerate(tans):
        if t is None:
            continue
        args = list(prims)
        args[i] = t
        out = _add(out, cls.forward(_fresh(cls), *args, **kwargs))
    return out


def _affine(bias_shape):
    """Bilinear in (input, weight) plus a bias (argument 2)."""

    def fn(cls, ctx, prims, tans, ys, kwargs):
        out = None
        for i in (0, 1):
            if tans[i] is None:
                continue
            args = list(prims[:2])
            args[i] = tans[i]
            out = _add(out, cls.forward(_fresh(cls), *args, None, **kwargs))
        if len(tans) > 2 and tans[2] is not None:
            out = _add(out, tans[2].reshape(bias_shape(ys)))
        return out

    return fn


jvp_rule("Linear")(_affine(lambda y: (-1,)))
jvp_rule("Conv2dOp", "ConvTranspose2dOp")(_affine(lambda y: (1, -1, 1, 1)))


# -- explicit rules ------------------------------------------------------------------------

@jvp_rule("MaxPool2dOp", needs_ctx=True)
def _maxpool(cls, ctx, prims, tans, ys, kwargs):
    (code,) = ctx.saved_tensors
    code = getattr(code, "_data", code)
    gather = _find_cls("MaxPoolGatherOp", cls)
    return gather.forward(_fresh(gather), tans[0], code, geom=kwargs["geom"])


def _find_cls(name, near):
    return getattr(sys.modules[near.__module__], name)


@jvp_rule("Prod")
def _prod(cls, ctx, prims, tans, ys, kwargs):
    # d prod = sum_i t_i * prod_{j != i} x_j, computed with a division where no x is zero
    x = prims[0]
    axes, keepdim = _p(prims, kwargs, 1, "axes"), _p(prims, kwargs, 2, "keepdim")
    t = tans[0]
    xp = get_array_module(x)
    yk = ys if keepdim else ys.reshape(_keep_shape(x.shape, axes))
    if not bool((x == 0).any()):
        d = (t * (yk / x)).sum(axis=axes, keepdims=keepdim)
        return d
    # exact with zeros: product of the others via exclusive cumulative products
    out = xp.zeros(yk.shape, dtype=ys.dtype)
    ax = tuple(sorted(a % x.ndim for a in (axes if axes else range(x.ndim))))
    perm = tuple(i for i in range(x.ndim) if i not in ax) + ax
    xs = x.transpose(perm).reshape(x.shape[:0] + tuple(x.shape[i] for i in perm[:x.ndim -
                                                                              len(ax)]) + (-1,))
    ts = t.transpose(perm).reshape(xs.shape)
    ones = xp.ones(xs.shape[:-1] + (1,), dtype=xs.dtype)
    left = xp.cumprod(xp.concatenate([ones, xs[..., :-1]], axis=-1), axis=-1)
    right = xp.flip(xp.cumprod(xp.flip(xp.concatenate([xs[..., 1:], ones], axis=-1), -1),
                               axis=-1), -1)
    d = (ts * left * right).sum(axis=-1)
    out = d.reshape(yk.shape)
    return out if keepdim else out.reshape(ys.shape)


def _p(prims, kwargs, i, name, default=None):
    """Argument ``i`` of the op, given positionally or by keyword ``name``."""
    return prims[i] if len(prims) > i else kwargs.get(name, default)


def _keep_shape(shape, axes):
    axes = tuple(a % len(shape) for a in (axes if axes else range(len(shape))))
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


@jvp_rule("Var")
def _var(cls, ctx, prims, tans, ys, kwargs):
    x = prims[0]
    axes, correction = _p(prims, kwargs, 1, "axes"), _p(prims, kwargs, 2, "correction")
    keepdim, sqrt = _p(prims, kwargs, 3, "keepdim"), _p(prims, kwargs, 4, "sqrt")
    t = tans[0]
    n = int(np.prod([x.shape[a] for a in (axes if axes else range(x.ndim))])) if x.ndim else 1
    den = max(n - correction, 0)
    d = x - x.mean(axis=axes, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        dv = (2.0 * d * t).sum(axis=axes, keepdims=keepdim) / (den if den else math.nan)
        if not sqrt:
            return dv
        xp = get_array_module(ys)
        return xp.where(ys == 0, 0.0, dv / (2 * xp.where(ys == 0, 1.0, ys)))


@jvp_rule("Amax", needs_ctx=True)
def _amax(cls, ctx, prims, tans, ys, kwargs):
    x, axes = prims[0], _p(prims, kwargs, 1, "axes")
    keepdim = _p(prims, kwargs, 2, "keepdim")
    yk = ys if keepdim else ys.reshape(_keep_shape(x.shape, axes))
    mask = x == yk
    cnt = mask.sum(axis=axes, keepdims=True)
    return ((tans[0] * mask) / cnt).sum(axis=axes, keepdims=keepdim)


@jvp_rule("Median")
def _median(cls, ctx, prims, tans, ys, kwargs):
    x = prims[0]
    mask = x != x if ys != ys else x == ys
    return (tans[0] * mask).sum() / mask.sum()


@jvp_rule("LogSumExp")
def _lse(cls, ctx, prims, tans, ys, kwargs):
    x, axes = prims[0], _p(prims, kwargs, 1, "axes")
    keepdim = _p(prims, kwargs, 2, "keepdim")
    xp = get_array_module(x)
    yk = ys if keepdim else ys.reshape(_keep_shape(x.shape, axes))
    return (xp.exp(x - yk) * tans[0]).sum(axis=axes, keepdims=keepdim)


@jvp_rule("Norm")
def _norm(cls, ctx, prims, tans, ys, kwargs):
    x, p = prims[0], _p(prims, kwargs, 1, "p")
    axes, keepdim = _p(prims, kwargs, 2, "axes"), _p(prims, kwargs, 3, "keepdim")
    t = tans[0]
    xp = get_array_module(x)
    yk = ys if keepdim else ys.reshape(_keep_shape(x.shape, axes))
    if p == 0:
        return xp.zeros_like(ys)
    if p == 1:
        return (xp.sign(x) * t).sum(axis=axes, keepdims=keepdim)
    if p in (math.inf, -math.inf):
        a = xp.abs(x)
        mask = a == yk
        cnt = mask.sum(axis=axes, keepdims=True)
        return ((xp.sign(x) * t * mask) / cnt).sum(axis=axes, keepdims=keepdim)
    s = (xp.sign(x) * xp.abs(x) ** (p - 1) * t).sum(axis=axes, keepdims=keepdim)
    ypm = ys ** (p - 1)
    return xp.where(ypm == 0, 0.0, s / xp.where(ypm == 0, 1.0, ypm))


@jvp_rule("Cumprod")
def _cumprod(cls, ctx, prims, tans, ys, kwargs):
    x, axis = prims[0], _p(prims, kwargs, 1, "axis")
    t = tans[0]
    xp = get_array_module(x)
    if not bool((x == 0).any()):
        return ys * xp.cumsum(t / x, axis=axis)
    # exact: dy_k = sum_{i<=k} t_i prod_{j<=k, j!=i} x_j (quadratic, only with zeros)
    xm = xp.moveaxis(x, axis, -1)
    tm = xp.moveaxis(t, axis, -1)
    n = xm.shape[-1]
    out = xp.zeros(xm.shape, dtype=ys.dtype)
    for i in range(n):
        xi = xm.copy()
        xi[..., i] = tm[..., i]
        c = xp.cumprod(xi, axis=-1)
        out[..., i:] += c[..., i:]
    return xp.moveaxis(out, -1, axis)


@jvp_rule("LogSoftmax")
def _log_softmax(cls, ctx, prims, tans, ys, kwargs):
    dim = _p(prims, kwargs, 1, "dim")
    xp = get_array_module(ys)
    t = tans[0]
    return t - (xp.exp(ys) * t).sum(axis=dim, keepdims=True)


@jvp_rule("Softmax")
def _softmax(cls, ctx, prims, tans, ys, kwargs):
    dim = _p(prims, kwargs, 1, "dim")
    t = tans[0]
    return ys * (t - (ys * t).sum(axis=dim, keepdims=True))


@jvp_rule("CrossEntropy", needs_ctx=True)
def _cross_entropy(cls, ctx, prims, tans, ys, kwargs):
    _only_first(cls, tans)
    xp = get_array_module(ys)
    g = cls.backward(ctx, xp.ones(ys.shape, dtype=ys.dtype))
    g = g[0] if g.__class__ is tuple else g
    prod = g * tans[0]
    if ys.ndim == 0:
        return prod.sum()
    return prod.sum(axis=1)


@jvp_rule("Prelu")
def _prelu(cls, ctx, prims, tans, ys, kwargs):
    x, w = prims[0], prims[1]
    xp = get_array_module(x)
    out = None
    if tans[0] is not None:
        out = xp.where(x > 0, tans[0], w * tans[0])
    if len(tans) > 1 and tans[1] is not None:
        out = _add(out, xp.where(x > 0, 0, x * tans[1]))
    return out


@jvp_rule("RMSNormOp", "CrossMapLRN2d", "_AffineNoise", needs_ctx=True)
def _own_jvp(cls, ctx, prims, tans, ys, kwargs):
    """Ops (of nn) that carry their JVP as a static method ``jvp(ctx, primals, tangents,
    outputs)`` next to their forward and backward."""
    return cls.jvp(ctx, prims, tans, ys)


@jvp_rule("Normalize", needs_ctx=True)
def _normalize(cls, ctx, prims, tans, ys, kwargs):
    x, w = prims[0], _p(prims, kwargs, 1, "weight")
    tx, tw = tans[0], tans[1] if len(tans) > 1 else None
    tb = tans[2] if len(tans) > 2 else None
    axes = ctx.axes
    rstd = ctx.rstd
    xhat = (x - ctx.mean) * rstd
    out = None
    if tx is not None:
        dxhat = (tx - tx.mean(axis=axes, keepdims=True)
                 - xhat * (tx * xhat).mean(axis=axes, keepdims=True)) * rstd
        out = dxhat * w if w is not None else dxhat
    if tw is not None:
        out = _add(out, xhat * tw)
    if tb is not None:
        out = _add(out, tb)
    return out


