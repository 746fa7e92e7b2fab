"""Graph nodes: the base of every op (``Op``) and of user-defined ops (``Function``).

Design of the backward formulas (why they look the way they do)
---------------------------------------------------------------
Every built-in op is one ``Op`` subclass whose ``forward(ctx, *arrays)`` runs on raw xp
arrays (NumPy or CuPy) and whose ``backward(ctx, *grads)`` returns one gradient per input.
Each backward formula is written **once**, with operators (``gy * y``) and the op wrappers
themselves (``exp``, ``sum_to``, ``transpose``...), which accept either raw arrays or Tensors:

* In the common case (``create_graph=False``) the engine hands backward raw arrays and
  ``ctx.saved_tensors`` returns the saved arrays: the formula runs as plain NumPy/CuPy, with
  no Tensor, no node and no graph. This keeps backward as cheap as hand-written NumPy.
* With ``create_graph=True`` the engine hands backward Tensors, and ``ctx.saved_tensors``
  re-wraps each saved array as a Tensor connected to the graph (a saved input becomes a
  tensor whose ``grad_fn`` is that input's producer; a saved output becomes one whose
  ``grad_fn`` is this node). The very same formula then records a graph that can itself be
  differentiated: higher-order gradients with no second set of formulas.

The alternatives were rejected: backward always on Tensors (PyTorch/DeZero style) makes
every first-order backward pay for graph bookkeeping it throws away, and two formulas per
op (one on arrays, one on Tensors) doubles the code a student has to read and lets them drift.

Memory and ownership: an output Tensor holds its node (``grad_fn``); a node holds one edge
per input (``next_edges``): ``(producer node, output index)``, or None when that input needs
no gradient. A leaf that requires grad is reached through a node of its own,
``AccumulateGrad`` (as in PyTorch), which writes ``.grad`` and runs the leaf's hooks; the leaf
holds it only weakly. A node holds the arrays its backward needs, never its outputs. There
are no reference cycles, so a graph is freed as soon as the user drops the loss. Gradients
are reduced to each input's shape and dtype in one place, the engine, from ``ctx._post``
recorded by broadcasting ops.

Observers (``grad_mode.add_observer``: anomaly detection, ``autograd.viz.record``) see every
recorded op through ``on_forward(node, outputs)``; the nodes carry no drawing fields.
"""

from __future__ import annotations

import functools
import numbers
import weakref

import numpy as np

from . import backend
from .backend import fp_quiet as _fp_quiet
from .backend import fp_restore as _fp_restore
from .dtypes import get_default_dtype, promote, scalar_as, scalar_result
from .grad_mode import no_grad, state
from .tensor import SAME_DTYPE, Tensor, _Lock, _make, complex_grad_message

FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)


class Node:
    """A node of the backward graph; also the ``ctx`` passed to forward and backward.

    Attributes set per instance only when used (class attributes are the defaults):
        next_edges: per input, ``(producer node, output index)`` or None (no gradient).
        saved: the arrays saved by ``save_for_backward``.
    """

    next_edges: tuple = ()
    saved: tuple = ()
    _saved_idx = None  # per saved array: input index, -1-k for output k, None for other
    _versions = None  # (version counter, version at save) per saved Tensor
    _lock = None
    _post = None  # ((shape, dtype) per input) when inputs were broadcast or promoted
    _released = False
    _nout = 1
    _pre_hooks = None  # {output_nr: [hook, ...]} from register_hook on non-leaf tensors
    _post_hooks = None  # [hook(grad_inputs, grad_outputs)] from Node.register_hook
    _node_prehooks = None  # [hook(grad_outputs)] from Node.register_prehook
    _cg_inputs = None  # Function: inputs as Tensors, kept for create_graph backward
    _plain = False  # the engine may call backward(ctx, g) directly (built-in ops)
    _custom = False  # a user Function: backward gets and returns Tensors
    _oshape = None  # shape of output 0 (its tensor may be gone; drawings show it)
    _unpack = None  # unpack hook of autograd.graph.saved_tensors_hooks when saved was packed
    _fw_saved = None  # forward AD: (level, {saved index: tangent}) for create_graph re-wraps
    _non_diff = ()  # Function: ids of outputs marked non-differentiable
    _dirty = ()  # Function: ids of inputs marked dirty (modified in place) by forward
    _saved_out = None  # Function: {saved index: output index} for saved outputs
    materialize_grads = True
    # PyTorch's name of the node when it is not f"{op class}Backward0": a class attribute of
    # the op (Square: "PowBackward0"), or set on the node by the call that knows the case
    # (``named``: transpose gives "TransposeBackward0", t() "TBackward0")
    _torch_name = None

    # -- ctx API --------------------------------------------------------------------------
    def save_for_backward(self, *xs) -> None:
        """Save arrays (in ``forward``) that ``backward`` needs; read them with
        ``ctx.saved_tensors``."""
        self.saved = xs

    @property
    def saved_tensors(self) -> tuple:
        if self._released:
            raise RuntimeError(FREED_MSG)
        saved = self.saved
        if self._unpack is not None:  # packed by saved_tensors_hooks: unpack on access
            saved = _unpack_all(self._unpack, saved)
        versions = self._versions
        if versions is not None:
            for vc, v in versions:
                if vc is not None and vc[0] != v:
                    self._check_versions()
        if not state.create_graph:
            return saved
        out = tuple(self._wrap_saved(j, a) for j, a in enumerate(saved))
        if self._fw_saved is not None:  # forward-over-reverse: re-wrapped inputs keep tangents
            level, tans = self._fw_saved
            for j, tan in tans.items():
                w = out[j]
                if isinstance(w, Tensor) and w.__dict__.get("_fw") is None:
                    w._fw = (level, tan)
        return out

    @property
    def needs_input_grad(self) -> tuple:
        return tuple(e is not None for e in self.next_edges)

    @property
    def next_functions(self) -> tuple:
        """PyTorch's ``((node, output_nr), ...)`` per input; ``(None, 0)`` for an input that
        needs no gradient, ``(AccumulateGrad, 0)`` for a leaf."""
        return tuple((None, 0) if e is None else e for e in self.next_edges)

    def name(self) -> str:
        """PyTorch's ``grad_fn.name()``: the node's PyTorch name (``MulBackward0``)."""
        n = self.backward_name()
        # PyTorch's nodes written by hand (not generated) print their C++ namespace
        return f"torch::autograd::{n}" if n in ("CopySlices", "CopyBackwards") else n

    def backward_name(self) -> str:
        """The name PyTorch prints for this node, which ``name()``, ``repr`` of the node and
        ``grad_fn=<...>`` in a tensor's repr show: ``_torch_name`` when the op's class or the
        call that made the node set it, else ``_overload_name()``."""
        n = self._torch_name
        return n if n is not None else self._overload_name()

    def _overload_name(self) -> str:
        """``f"{op class}Backward0"`` (``MulBackward0``); ops whose PyTorch name depends on
        the arguments (``sum()`` SumBackward0, ``sum(dim)`` SumBackward1) override this,
        reading what forward saved on the node: nothing is computed until a name is asked."""
        return f"{type(self).__name__}Backward0"

    def _op_name(self) -> str:
        """The op's own (class) name, ``Mul``: what drawings and memory reports label."""
        return type(self).__name__

    @property
    def metadata(self) -> dict:
        """A dict for the user's notes on this node (PyTorch's ``Node.metadata``)."""
        d = self.__dict__.get("_metadata")
        if d is None:
            d = self._metadata = {}
        return d

    def __repr__(self) -> str:
        return f"<{self.backward_name()} object at {id(self):#x}>"

    def mark_dirty(self, *tensors) -> None:
        """In ``Function.forward``: these inputs were modified in place (and are returned).
        As in PyTorch, ``apply`` returns the caller's input tensor itself, now an output of
        this function's node."""
        self._dirty = tuple(id(t) for t in tensors)

    def mark_non_differentiable(self, *outputs) -> None:
        """In ``Function.forward``: these outputs get no gradient (``requires_grad=False``);
        backward receives zeros for them (PyTorch's rule)."""
        self._non_diff = tuple(id(o) for o in outputs)

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value

    def register_hook(self, fn):
        """Register ``fn(grad_inputs, grad_outputs)``, run after this node's backward; it
        may return replacement ``grad_inputs``. Returns a handle with ``remove()``."""
        if self._post_hooks is None:
            self._post_hooks = []
        self._plain = False  # the engine's general path runs node hooks
        self._post_hooks.append(fn)
        return _NodeHookHandle(self._post_hooks, fn)

    def register_prehook(self, fn):
        """Register ``fn(grad_outputs)``, run before this node's backward; it may return
        replacement ``grad_outputs``. Returns a handle with ``remove()``."""
        if self._node_prehooks is None:
            self._node_prehooks = []
        self._plain = False
        self._node_prehooks.append(fn)
        return _NodeHookHandle(self._node_prehooks, fn)

    # -- internals ------------------------------------------------------------------------
    def _check_versions(self) -> None:
        for j, (vc, v) in enumerate(self._versions):
            if vc is not None and vc[0] != v:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: the tensor saved by {self.name()} (saved "
                    f"tensor #{j}, shape {tuple(getattr(self.saved[j], 'shape', ()))}, dtype "
                    f"{getattr(self.saved[j], 'dtype', '?')}) is at version {vc[0]}; expected "
                    f"version {v} "
                    "instead. Fix: use an out-of-place op (x = x + y instead of x += y), or "
                    "clone() the tensor before modifying it."
                )

    def _wrap_saved(self, j: int, a):
        if isinstance(a, Tensor) or a is None or not hasattr(a, "dtype"):
            return a  # already a Tensor, or a Python scalar / None
        if a.__class__ is not _ndarray and a.__class__.__module__ == "numpy":
            a = np.asarray(a)  # a NumPy scalar saved by forward: Tensors hold arrays
        k = self._saved_idx[j] if self._saved_idx is not None else None
        if k is None:
            return _make(a, None, False)
        if k < 0:  # output -1-k of this very node
            return _make(a, self, True, -1 - k)
        if self._cg_inputs is not None:
            return self._cg_inputs[k]
        e = self.next_edges[k]
        if e is None:
            return _make(a, None, False)
        fn, nr = e
        if fn.__class__ is AccumulateGrad:  # a leaf
            return fn.variable
        return _make(a, fn, True, nr)

    def _release(self) -> None:
        self.saved = ()
        self._released = True
        self._lock = None  # drops the lock: its arrays become writeable again
        self._cg_inputs = None


class Op(Node):
    """Base of built-in ops: ``forward(ctx, *arrays, **attrs)`` on raw xp arrays."""

    _plain = True  # the engine may call backward(ctx, g) directly (see engine.py)

    _broadcast = False  # element-wise binary op: promote dtypes, broadcast, reduce grads
    _float_result = False  # binary op whose integer operands become the default float
    _bool_error = None  # the message when the op refuses bool operands (sub)
    _out_dtype = None  # set by _prepare_binary: the result dtype when computed in another
    _opmath = 0  # float16 with a Python number in float32: 1 second operand, 2 either side
    _view = False  # the output shares memory with the first input

    @staticmethod
    def forward(ctx, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run the op. With Tensor inputs, returns Tensor(s) and records the graph when a
        gradient is needed; with only raw arrays, returns raw arrays (no graph at all),
        which is what lets backward formulas run on arrays."""
        if state.autocast is not None:  # autograd.amp.autocast: its per-op dtype policy
            args = state.autocast(cls, args)
        if state.transforms:  # forward AD / vmap in this thread: they run the op
            return state.transforms[-1].process(cls, args, kwargs)
        node = _new(cls)
        data = None
        record = False
        enabled = state.enabled
        edges = []
        xtype = None
        for i, a in enumerate(args):
            if isinstance(a, Tensor):
                if data is None:
                    data = list(args)
                d = a._data
                data[i] = d
                t = d.__class__
                if xtype is None:
                    xtype = t
                    x0 = a
                elif t is not xtype or (t is not _ndarray and a.device != x0.device):
                    _device_error(cls, x0, a)
                if a._rg and enabled:
                    record = True
                    # edges first, so forward can consult ctx.next_edges and save only what
                    # backward will use
                    fn = a.grad_fn
                    edges.append((fn, a._nr) if fn is not None else _leaf_edge(a))
                    continue
            edges.append(None)
        if data is None:  # raw arrays in, raw arrays out
            # (backward formulas: already inside the backward pass's quiet floating-point
            # state, or another op's forward: see ``backend.fp_quiet``)
            if cls._broadcast:
                data = list(args)
                _prepare_binary(node, data)
                y = cls.forward(node, *data, **kwargs)
                return y if node._out_dtype is None else _cast_out(node, y)
            return cls.forward(node, *args, **kwargs)
        if cls._broadcast:
            a, b = data
            # the common case inline: two arrays of one class, dtype and shape
            if not (a.__class__ is b.__class__ is _ndarray and a.dtype is b.dtype
                    and a.shape == b.shape):
                _prepare_binary(node, data)
        if record:
            node.next_edges = tuple(edges)
        tok = _fp_quiet()  # no NumPy warnings, as PyTorch (``backend.fp_quiet``)
        try:
            y = cls.forward(node, *data, **kwargs)
        except ValueError as e:
            if cls._broadcast:
                _broadcast_error(cls, data, e)
            raise
        finally:
            _fp_restore(tok)
        if node._out_dtype is not None:
            y = _cast_out(node, y)
        obs = state.observers
        if obs:
            for o in obs:
                o.on_forward(node, y)
        if y.__class__ is tuple:
            if record:
                for o in y:
                    if o.dtype.kind == "c":
                        _complex_error(cls, o)
                node._plain = False
                node._nout = len(y)
                node._out_meta = [(o.shape, o.dtype) for o in y]
            outs = tuple(_make_out(o, node if record else None, record, k)
                         for k, o in enumerate(y))
            if node._view:  # the class's, or False from a forward that copied
                for o in outs:
                    _mark_view(o, args[0])
        else:
            if y.__class__ is not _ndarray and y.__class__.__module__ == "numpy":
                y0, y = y, np.asarray(y)  # NumPy returns scalars for 0-d results; keep arrays
                if node.saved:  # a saved 0-d output must stay recognisable as the output
                    node.saved = tuple(y if a is y0 else a for a in node.saved)
            outs = _new(Tensor)
            outs._data = y
            outs._vc = [0]
            outs._saved_by = None
            if record:
                if y.dtype.kind == "c":
                    _complex_error(cls, y)
                outs.grad_fn = node
                outs._rg = True
                node._oshape = y.shape
            else:
                outs.grad_fn = None
                outs._rg = False
            if node._view:  # the class's, or False from a forward that copied
                _mark_view(outs, args[0])
        if record and node.saved:
            _register_saved(node, args, data, outs)
        return outs


class BinaryOp(Op):
    """Element-wise ops of two inputs (add, mul...): the same contract as ``Op.apply``,
    specialised for the hottest path of the engine (no loops over the arguments)."""

    _broadcast = True

    @classmethod
    def apply(cls, a, b):
        if state.transforms:  # forward AD / vmap in this thread: they run the op
            return state.transforms[-1].process(cls, (a, b), {})
        ta = isinstance(a, Tensor)
        tb = isinstance(b, Tensor)
        if not (ta or tb):
            return Op.apply.__func__(cls, a, b)  # raw arrays: no graph
        node = _new(cls)
        enabled = state.enabled
        ea = eb = None
        if ta:
            da = a._data
            if enabled and a._rg:
                fn = a.grad_fn
                if fn is not None:
                    ea = (fn, a._nr)
                else:  # a leaf: its live AccumulateGrad node (inlined _leaf_edge)
                    n = a._acc
                    n = n() if n is not None else None
                    ea = (n, 0) if n is not None else _leaf_edge(a)
        else:
            da = a
        if tb:
            db = b._data
            if enabled and b._rg:
                fn = b.grad_fn
                if fn is not None:
                    eb = (fn, b._nr)
                else:  # a leaf: its live AccumulateGrad node (inlined _leaf_edge)
                    n = b._acc
                    n = n() if n is not None else None
                    eb = (n, 0) if n is not None else _leaf_edge(b)
            if ta and da.__class__ is not db.__class__ or (
                    ta and da.__class__ is not _ndarray and a.device != b.device):
                _device_error(cls, a, b)
        else:
            db = b
        if da.__class__ is _ndarray:
            cb = db.__class__
            if cb is _ndarray:
                plain = da.dtype is db.dtype and da.shape == db.shape
            else:  # a float tensor (not 16-bit: PyTorch's float32 opmath) and a Python number
                plain = (cb is float or cb is int) and da.dtype.kind in "fV" and (
                    da.dtype.itemsize != 2)
        else:
            plain = False
        if not plain:
            data = [da, db]
            _prepare_binary(node, data)
            da, db = data
        record = ea is not None or eb is not None
        if record:
            node.next_edges = (ea, eb)
        tok = _fp_quiet()
        try:
            y = cls.forward(node, da, db)
        except ValueError as e:
            _broadcast_error(cls, (da, db), e)
        finally:
            _fp_restore(tok)
        if node._out_dtype is not None:
            y = _cast_out(node, y)
        obs = state.observers
        if obs:
            for o in obs:
                o.on_forward(node, y)
        if y.__class__ is not _ndarray and y.__class__.__module__ == "numpy":
            y0, y = y, np.asarray(y)  # NumPy returns scalars for 0-d results; keep arrays
            if node.saved:  # a saved 0-d output must stay recognisable as the output
                node.saved = tuple(y if s is y0 else s for s in node.saved)
        out = _new(Tensor)
        out._data = y
        out._vc = [0]
        out._saved_by = None
        if record:
            if y.dtype.kind == "c":
                _complex_error(cls, y)
            out.grad_fn = node
            out._rg = True
            node._oshape = y.shape
            for s in node.saved:  # Python scalars and Nones need no version tracking
                if s is not None and s.__class__ is not float and s.__class__ is not int:
                    _register_saved(node, (a, b), (da, db), out)
                    break
        else:
            out.grad_fn = None
            out._rg = False
        return out


def named(y, name: str):
    """Give the node that just made ``y`` PyTorch's name ``name`` and return ``y``: for the
    ops PyTorch names by how they were called (``transpose`` and ``t()`` both run Permute;
    PyTorch prints TransposeBackward0 and TBackward0). ``y`` must be the fresh output of one
    op call (never an input passed through), a raw array, or a Tensor without a graph."""
    fn = getattr(y, "grad_fn", None)
    if fn is not None:
        fn._torch_name = name
    return y


def _mark_view(out, base) -> None:
    """A view shares its base's memory: share the version counter and exposure."""
    out._vc = base._vc
    if base._exposed:
        out._exposed = True
    out._base = base  # (in-place ops on the view also update the base: ops/inplace.py)


_ndarray = np.ndarray
_new = object.__new__


class AccumulateGrad(Node):
    """The node of a leaf tensor that requires grad (PyTorch's AccumulateGrad).

    Every op using the leaf points at this one node, so the engine's dependency count sums
    the gradients of all paths before it runs; then it runs the leaf's hooks
    (``register_hook``), adds the gradient into ``.grad`` and runs the post-accumulate hooks
    (``register_post_accumulate_grad_hook``). The leaf holds it only through a weak
    reference: it lives as long as some graph uses the leaf.
    """

    def __init__(self, variable):
        self.variable = variable

    @property
    def _pre_hooks(self):
        hooks = self.variable._hooks
        return {0: hooks} if hooks else None

    @property
    def _oshape(self):
        return self.variable.shape

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"  # PyTorch's name() (its repr is shorter)

    def backward_name(self) -> str:
        return "AccumulateGrad"

    def accumulate(self, g, create_graph: bool, given: set) -> None:
        """Add ``g`` into ``variable.grad``. ``given`` holds the ids of arrays already handed
        out in this backward pass (root gradients, other leaves' grads): an array is copied
        before it becomes a ``.grad`` if it is one of them, a view, or read-only."""
        leaf = self.variable
        if self._node_prehooks:  # PyTorch: hook(grad_outputs) before the accumulation
            for h in list(self._node_prehooks):
                r = h((g if isinstance(g, Tensor) else _make(g),))
                if r is not None:
                    g = r[0] if create_graph else getattr(r[0], "_data", r[0])
        want = leaf._grad_dtype  # Tensor.grad_dtype set to another dtype: cast to it
        if want is not SAME_DTYPE and want is not None and g.dtype != want:
            g = g.to(want) if isinstance(g, Tensor) else g.astype(want)
        # (``_grad`` directly: the engine's gradients need none of the checks of ``.grad =``)
        if create_graph:
            gt = g if isinstance(g, Tensor) else _make(g)
            leaf._grad = gt if leaf._grad is None else leaf._grad + gt
        else:
            a = g._data if isinstance(g, Tensor) else g
            old = leaf._grad
            if old is None:
                leaf._grad = _make(_owned(a, given))
            else:
                if old.shape != a.shape:
                    raise RuntimeError(
                        f"backward: the existing .grad of a leaf has shape {tuple(old.shape)} "
                        f"but the new gradient has shape {tuple(a.shape)}"
                    )
                leaf._grad = _make(_owned(old._data + a, given))
        if leaf._post_acc_hooks:
            for h in list(leaf._post_acc_hooks):
                h(leaf)
        if self._post_hooks:  # PyTorch: hook((), grad_outputs) after the accumulation
            gt = g if isinstance(g, Tensor) else _make(g)
            for h in list(self._post_hooks):
                h((), (gt,))


def _owned(a, given: set):
    """An array safe to hand out as ``.grad``: writeable, not aliasing anything else."""
    if a.__class__ is not _ndarray and a.__class__.__module__ == "numpy":
        a = np.array(a)  # NumPy gives scalars for 0-d arithmetic; Tensors hold arrays
    elif (id(a) in given or getattr(a, "base", None) is not None
            or (a.__class__ is _ndarray and not a.flags.writeable)):
        a = a.copy()
    given.add(id(a))
    return a


def _leaf_edge(t):
    """The edge ``(AccumulateGrad, 0)`` to the leaf ``t``: its live node, or a new one."""
    ref = t._acc
    if ref is not None:
        n = ref()
        if n is not None:
            return (n, 0)
    n = AccumulateGrad(t)
    t._acc = weakref.ref(n)
    return (n, 0)


def grad_accumulator(t):
    """The AccumulateGrad node of the leaf ``t`` while a live graph uses it, else None."""
    ref = t._acc
    return None if ref is None else ref()


class _NodeHookHandle:
    def __init__(self, lst, hook):
        self._lst = lst
        self._hook = hook

    def remove(self) -> None:
        if self._hook in self._lst:
            self._lst.remove(self._hook)


def _make_out(y, fn, rg, nr=0):
    if y.__class__ is not _ndarray and y.__class__.__module__ == "numpy":
        y = np.asarray(y)  # NumPy returns scalars for 0-d results; keep arrays
    return _make(y, fn, rg, nr)


def _broadcast_error(cls, data, err):
    shapes = [list(getattr(d, "shape", ())) for d in data]
    raise RuntimeError(
        f"{cls.__name__}: the shapes {shapes[0]} and {shapes[1]} cannot be broadcast together "
        f"(sizes must match or be 1, aligned from the right): {err}"
    ) from None


def _complex_error(cls, y):
    raise RuntimeError(complex_grad_message(y, cls.__name__))


def _device_error(cls, a, b):
    raise RuntimeError(
        f"{cls.__name__}: expected all tensors to be on the same device, but found at least "
        f"two devices, {a.device} (shape {tuple(a.shape)}) and {b.device} (shape "
        f"{tuple(b.shape)}). Move them with .to(device) first."
    )


_NUMBERS = {int, float, bool}
_F16, _F32 = np.dtype(np.float16), np.dtype(np.float32)


def _cast_out(node, y):
    """Round a result computed in float32 to its float16 dtype (keeping a saved output
    recognisable as the output)."""
    with np.errstate(over="ignore"):  # rounding to float16 may overflow to inf, as PyTorch
        yc = y.astype(node._out_dtype)
    if node.saved:
        node.saved = tuple(yc if s is y else s for s in node.saved)
    return yc


def _half(node, data, a, b, ha, hb) -> None:
    """PyTorch's CPU arithmetic (add, sub, mul, div) of a float16 tensor and a Python number
    as the second operand computes in float32 from the number itself, rounding once:
    ``x_half / 1e5`` is not ``x_half / inf``."""
    if ha:
        data[0] = a.astype(_F32)
    if hb:
        data[1] = b.astype(_F32)
    node._out_dtype = _F16


def _type_error(node, a, b):
    for v in (a, b):
        if not hasattr(v, "dtype") and (isinstance(v, numbers.Number) and not
                                        isinstance(v, complex)):
            continue
        if hasattr(v, "dtype"):
            continue
        raise TypeError(
            f"{type(node).__name__}: expected Tensors or Python numbers, got "
            f"{type(a).__name__} and {type(b).__name__}; convert with autograd.tensor(...)")


def _prepare_binary(node, data) -> None:
    """PyTorch type promotion and broadcasting bookkeeping for element-wise binary ops."""
    a, b = data
    ca, cb = a.__class__, b.__class__
    if ca is cb is _ndarray:
        # the common case, kept short
        da, db = a.dtype, b.dtype
        if da is db or da == db:
            if a.shape != b.shape:
                node._post = ((a.shape, da), (b.shape, db))
            return
    # the common scalar case, kept short: a float tensor (not float16, whose arithmetic
    # PyTorch does in float32) with a Python int or float keeps its dtype and shape
    if (ca is _ndarray and (cb is float or cb is int) and a.dtype.kind in "fV"
            and a.dtype.itemsize != 2) or (cb is _ndarray and (ca is float or ca is int)
                                           and b.dtype.kind in "fV" and b.dtype.itemsize != 2):
        return
    ha, hb = hasattr(a, "dtype"), hasattr(b, "dtype")
    if not ha and a.__class__ not in _NUMBERS or not hb and b.__class__ not in _NUMBERS:
        _type_error(node, a, b)
    if node._bool_error is not None and (
            (a.dtype.kind == "b" if ha else a.__class__ is bool)
            or (b.dtype.kind == "b" if hb else b.__class__ is bool)):
        raise RuntimeError(node._bool_error)
    fr = node._float_result  # true division, atan2: integers go straight to a float
    if ha and hb:
        da, db = a.dtype, b.dtype
        post = None
        if da != db:
            dt = promote(a, b)
            if fr and dt.kind not in "fVc":
                dt = get_default_dtype()
            post = ((a.shape, da), (b.shape, db))
            if da != dt:
                data[0] = a.astype(dt)
            if db != dt:
                data[1] = b.astype(dt)
        elif a.shape != b.shape:
            post = ((a.shape, da), (b.shape, db))
        node._post = post
    elif ha:
        if b.__class__.__module__ == "numpy":  # numpy scalar: treat like a Python scalar
            data[1] = b = b.item()
        dt = scalar_result(a.dtype, b)
        if fr and dt.kind not in "fVc":
            dt = get_default_dtype()
        if node._opmath and dt == _F16 and b.__class__ is not bool:
            node._post = ((a.shape, a.dtype), None)
            return _half(node, data, a, b, True, False)
        if dt != a.dtype:
            data[0] = a.astype(dt)
            node._post = ((a.shape, a.dtype), None)
        elif dt.kind in "iu":
            data[1] = scalar_as(b, dt)
    elif hb:
        if a.__class__.__module__ == "numpy":
            data[0] = a = a.item()
        dt = scalar_result(b.dtype, a)
        if fr and dt.kind not in "fVc":
            dt = get_default_dtype()
        if node._opmath == 2 and dt == _F16 and a.__class__ is not bool:  # 2. * x_half
            node._post = (None, (b.shape, b.dtype))
            return _half(node, data, a, b, False, True)
        if dt != b.dtype:
            data[1] = b.astype(dt)
            node._post = (None, (b.shape, b.dtype))
        elif dt.kind in "iu":
            data[0] = scalar_as(a, dt)


_NO_VERSION = (None, 0)


def _register_saved(node, args, data, outs) -> None:
    """Find which saved arrays are inputs/outputs (for create_graph and the version check),
    and lock arrays the user can write into."""
    saved = node.saved
    idx = []
    versions = []
    ref = None
    for a in saved:
        if a is None or a.__class__ is float or a.__class__ is int:
            idx.append(None)  # nothing to track for a missing value or a Python scalar
            versions.append(_NO_VERSION)
            continue
        k = None
        t = None
        for i, d in enumerate(data):
            if a is d:
                k = i
                t = args[i]
                break
        else:
            if outs.__class__ is tuple:
                for i, o in enumerate(outs):
                    if o._data is a:
                        k = -1 - i
                        t = o
                        break
            elif outs._data is a:
                k = -1
                t = outs
        idx.append(k)
        if isinstance(t, Tensor):
            vc = t._vc
            versions.append((vc, vc[0]))
            if t._exposed:
                if node._lock is None:
                    node._lock = _Lock()
                node._lock.add(a)
            else:
                if ref is None:
                    ref = weakref.ref(node)
                t._saved_by = ref
        else:
            versions.append(_NO_VERSION)
    node._saved_idx = idx
    node._versions = versions
    if state.saved_hooks:
        _pack_saved(node)


def _is_array(a) -> bool:
    return a.__class__ is _ndarray or (hasattr(a, "__cuda_array_interface__")
                                       and hasattr(a, "dtype"))


def _pack_saved(node) -> None:
    """Apply the innermost ``saved_tensors_hooks`` pack hook to every saved array (as a
    Tensor, PyTorch's contract); ``saved_tensors`` unpacks on access."""
    pack, unpack = state.saved_hooks[-1]
    node.saved = tuple(pack(_make(a)) if _is_array(a) else
                       pack(a) if isinstance(a, Tensor) else _NotPacked(a)
                       for a in node.saved)
    node._unpack = unpack


class _NotPacked:
    """A saved value that is not an array (None, a Python scalar): kept as it is."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _unpack_all(unpack, saved) -> tuple:
    out = []
    for p in saved:
        if p.__class__ is _NotPacked:
            out.append(p.value)
            continue
        t = unpack(p)
        out.append(t._data if isinstance(t, Tensor) else t)
    return tuple(out)


# ---------------------------------------------------------------------------------------
# Public custom functions (PyTorch's torch.autograd.Function)
# ---------------------------------------------------------------------------------------


class Function(Node):
    """Base class for custom differentiable operations, as in PyTorch.

    Subclass it and write two static methods; ``forward`` receives Tensors (run without
    recording) and ``backward`` receives and returns Tensors, one gradient per input of
    ``forward`` (None for non-Tensor inputs). Call it with ``MyFn.apply(*args)``.

    Example:
        >>> class Square(ag.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x * x
        ...     @staticmethod
        ...     def backward(ctx, gy):
        ...         (x,) = ctx.saved_tensors
        ...         return 2 * x * gy
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must implement forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("a Function subclass must implement backward(ctx, *grads)")

    @staticmethod
    def setup_context(ctx, inputs, output):  # noqa: D401 - PyTorch-compatible hook
        return None

    def backward_name(self) -> str:
        """``MyFnBackward``: PyTorch names a custom Function's node after the class, with
        no number."""
        return f"{type(self).__name__}Backward"

    @classmethod
    def apply(cls, *args, **kwargs):
        if state.transforms:  # forward AD / vmap in this thread: they run the function
            return state.transforms[-1].process(cls, args, kwargs)
        node = cls.__new__(cls)
        tensors = [a for a in args if isinstance(a, Tensor)]
        record = state.enabled and any(t._rg for t in tensors)
        detached = [a.detach() if isinstance(a, Tensor) else a for a in args]
        # the edges are known before forward runs: ctx.needs_input_grad works there too
        edges = []
        for a in args:
            if record and isinstance(a, Tensor) and a._rg:
                fn = a.grad_fn
                edges.append((fn, a._nr) if fn is not None else _leaf_edge(a))
            else:
                edges.append(None)
        node.next_edges = tuple(edges)
        with no_grad():
            if cls.setup_context is not Function.setup_context:
                # PyTorch 2 style: forward(*args) without ctx, then setup_context
                out = cls.forward(*detached, **kwargs)
                cls.setup_context(node, tuple(detached), out)
            else:
                out = cls.forward(node, *detached, **kwargs)
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        for o in outs:
            if not isinstance(o, Tensor):
                raise TypeError(
                    f"{cls.__name__}.forward must return a Tensor or a tuple of Tensors, got "
                    f"{type(o).__name__}"
                )
        obs = state.observers
        if obs:
            for o in obs:
                o.on_forward(node, out)
        # inputs marked dirty: the caller's own tensor is the output (PyTorch's mark_dirty)
        dirty = {}
        for k, o in enumerate(outs):
            if id(o) in node._dirty:
                for a, d in zip(args, detached):
                    if o is d:
                        dirty[k] = a
                        break
        if not record:
            if not dirty:
                return out
            res = tuple(dirty.get(k, o) for k, o in enumerate(outs))
            return res[0] if single else res
        for a in dirty.values():
            if a._rg and a.grad_fn is None:
                raise RuntimeError("a leaf Variable that requires grad has been used in an "
                                   "in-place operation.")
        node._nout = len(outs)
        node._out_meta = [(o.shape, o.dtype) for o in outs]
        node._oshape = outs[0].shape
        node._cg_inputs = tuple(args)  # original tensors, for create_graph backward
        node._custom = True
        # Saved tensors: map detached inputs back to the originals.
        saved = node.saved
        if saved:
            remap = []
            saved_out = {}
            for j, s in enumerate(saved):
                for a, d in zip(args, detached):
                    if s is d:
                        remap.append(a)
                        break
                else:
                    for k, o in enumerate(outs):
                        if s is o:  # an output: create_graph backward differentiates it
                            saved_out[j] = k
                            break
                    remap.append(s)
            node.saved = tuple(remap)
            node._saved_out = saved_out or None
            node._versions = [
                (s._vc, s._vc[0]) if isinstance(s, Tensor) else (None, 0) for s in remap
            ]
            if state.saved_hooks:
                pack, unpack = state.saved_hooks[-1]
                node.saved = tuple(pack(s) if isinstance(s, Tensor) else _NotPacked(s)
                                   for s in remap)
                node._unpack = unpack
        new = []
        for k, o in enumerate(outs):
            diff = o.dtype.kind in "fcV" and id(o) not in node._non_diff
            if k in dirty:  # the input modified in place now comes out of this node
                t = dirty[k]
                t.grad_fn, t._rg, t._nr = (node, True, k) if diff else (None, False, 0)
                t._base = t._view_index = None
            elif diff:
                t = _make(o._data, node, True, k)
            else:  # integer outputs and those marked non-differentiable: no gradient
                t = _make(o._data, None, False)
            t._vc = o._vc  # same memory: an in-place change is seen by saved outputs
            new.append(t)
        return new[0] if single else tuple(new)

    @property
    def saved_tensors(self) -> tuple:
        if self._released:
            raise RuntimeError(FREED_MSG)
        if self._versions is not None:
            self._check_versions()
        saved = self.saved
        if self._unpack is not None:  # packed by saved_tensors_hooks: unpack on access
            saved = tuple(p.value if p.__class__ is _NotPacked else self._unpack(p)
                          for p in saved)
        if state.create_graph:
            if self._saved_out is None:
                return saved
            # a saved output, as the node's output tensor: differentiable through this node
            out = list(saved)
            for j, k in self._saved_out.items():
                if isinstance(out[j], Tensor):
                    t = _make(out[j]._data, self, True, k)
                    t._vc = out[j]._vc
                    out[j] = t
            return tuple(out)
        return tuple(s.detach() if isinstance(s, Tensor) else s for s in saved)


ONCE_MSG = ("trying to differentiate twice a function that was marked with "
             "@once_differentiable: {name}.backward is not differentiable itself")


def once_differentiable(fn):
    """Decorator for a custom ``backward`` that is not itself differentiable (PyTorch's).

    The backward runs without recording. When it runs inside ``create_graph=True`` and its
    incoming gradients require grad, its results are connected to the graph through a node
    that raises if anything tries to differentiate through them, instead of silently
    treating them as constants.
    """

    @functools.wraps(fn)
    def wrapper(ctx, *grads):
        with no_grad():
            out = fn(ctx, *grads)
        if not state.create_graph:
            return out
        live = [g for g in grads if isinstance(g, Tensor) and g._rg]
        if not live:
            return out
        name = type(ctx).__name__
        single = not isinstance(out, tuple)
        res = tuple(_DelayedError.apply(r, *live, name=name) if isinstance(r, Tensor) else r
                    for r in ((out,) if single else out))
        return res[0] if single else res

    return wrapper


class _DelayedError(Op):
    """Identity on its first input; differentiating through it raises (see
    ``once_differentiable``). The other inputs only connect it to the graph."""

    @staticmethod
    def forward(ctx, x, *live, name):
        ctx.fn_name = name
        return x

    @staticmethod
    def backward(ctx, gy):
        raise RuntimeError(ONCE_MSG.format(name=ctx.fn_name))


class _ToDevice(Op):
    """Copy to another device; the gradient goes back to the source device."""

    @staticmethod
    def forward(ctx, x, device):
        ctx.src = backend.device_of(x)
        return backend.to_device(x, device)

    @staticmethod
    def backward(ctx, gy):
        if isinstance(gy, Tensor):
            return gy.to(ctx.src)
        return backend.to_device(gy, ctx.src)
