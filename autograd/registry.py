"""The op registry: every public op is registered once, next to its wrapper.

A registration records what the layers above need to know about an op, so that adding an
op is its ``Op`` class (or a composite of other ops), one ``@register(...)`` and one test-table
row (PyTorch's ``native_functions.yaml``/``derivatives.yaml``; tinygrad's rule table):

* ``autograd/__init__.py`` takes its op namespace (``ag.exp``, ``ag.arcsin``...) from here;
* ``autograd/ops/methods.py`` binds ``Tensor.exp`` and the in-place ``Tensor.exp_``;
* ``autograd/numpy_compat.py`` maps ``np.exp(t)`` (ufuncs) and ``np.sum(t)`` (functions);
* tools iterate it: table-driven tests, edge sweeps, API coverage, forward mode later.

Registering returns the function itself, unchanged. The namespace and the Tensor methods
hold that function object, or, for an op whose arguments PyTorch names differently
(``input``/``other`` for this code's ``x``/``a``/``b``, ``axis``/``keepdims`` for ``dim``/
``keepdim``), a thin wrapper accepting PyTorch's keywords (``_keyword_aliases``; about 0.1 us
a call).

Example (the house style, in ``autograd/ops/<family>.py``)::

    @register(op=Asin, family="elementwise", aliases=("arcsin",), inplace=True,
              numpy=("arcsin",), domain=((-1.0, 1.0),))
    def asin(x):
        return Asin.apply(x)
"""

from __future__ import annotations

import functools
import inspect
import math

_INF = math.inf
REAL = (-_INF, _INF)


class OpInfo:
    """What the registry knows about one op.

    Attributes:
        name: the public name (``ag.<name>``, ``Tensor.<name>``).
        fn: the function (``fn(x, ...)``); the object bound in the namespace and, unless
            ``method`` is a callable, as the Tensor method.
        op: the ``Op`` subclass computing it, or None for a composite of other ops (or an op
            without a graph, such as a comparison).
        family: ``elementwise``, ``shape``, ``reduction``, ``indexing``, ``linalg``,
            ``conversion``...
        aliases: other public names for the same op (``arcsin`` for ``asin``); they get the
            same namespace entry, method and in-place variant.
        function: True when the op is in the ``autograd`` namespace (False for Tensor-only
            methods such as ``to``, ``zero_``).
        method: the Tensor method: True binds ``fn``; a callable binds that callable (when the
            method's signature differs, e.g. ``Tensor.where(condition, other)``); False
            binds none.
        inplace: True when ``Tensor.<name>_`` (and ``<alias>_``) exist, as in PyTorch.
        numpy: NumPy names (``"arcsin"``, ``"linalg.norm"``) this op serves through
            ``__array_ufunc__``/``__array_function__``.
        arity: the number of tensor inputs (None: variable, e.g. ``cat``).
        domain: per input, the open interval ``(lo, hi)`` where the op is defined and
            differentiable (``(-1, 1)`` for ``asin``); for tests and sweeps.
        differentiable: False for ops whose results carry no gradient (comparisons,
            ``argmax``...).
        int_to_float: True when integer/bool inputs give the default float dtype (``exp``,
            ``asin``, ``atan2``), as in PyTorch.
    """

    __slots__ = ("name", "fn", "op", "family", "aliases", "function", "method", "inplace",
                 "numpy", "arity", "domain", "differentiable", "int_to_float")

    def __init__(self, name, fn, op, family, aliases, function, method, inplace, numpy,
                 arity, domain, differentiable, int_to_float):
        self.name = name
        self.fn = fn
        self.op = op
        self.family = family
        self.aliases = aliases
        self.function = function
        self.method = method
        self.inplace = inplace
        self.numpy = numpy
        self.arity = arity
        self.domain = domain
        self.differentiable = differentiable
        self.int_to_float = int_to_float

    @property
    def names(self) -> tuple:
        """The name followed by the aliases."""
        return (self.name,) + self.aliases

    @property
    def method_fn(self):
        """The callable bound as the Tensor method (None when there is none)."""
        if self.method is True:
            return self.fn
        return self.method or None

    def __repr__(self) -> str:
        op = self.op.__name__ if self.op is not None else "composite"
        return f"OpInfo({self.name!r}, family={self.family!r}, op={op})"


_OPS: dict[str, OpInfo] = {}  # every public name (names and aliases) -> its entry
_ENTRIES: list[OpInfo] = []  # in registration order


def _tuple(v) -> tuple:
    if v is None:
        return ()
    if isinstance(v, str):
        return (v,)
    return tuple(v)


def register(name: str | None = None, *, family: str, op=None, aliases=(), function=True,
             method=True, inplace=False, numpy=(), arity=1, domain=None,
             differentiable=True, int_to_float=False):
    """Decorator registering the op wrapper below it; returns the function unchanged.

    Args:
        name: the public name (default: the function's ``__name__``).
        family, op, aliases, function, method, inplace, numpy, arity, domain,
        differentiable, int_to_float: see ``OpInfo``. ``domain`` defaults to the whole
            real line for every input.

    Raises:
        ValueError: the name or an alias is already registered.
    """

    def deco(fn):
        n = name or fn.__name__
        al = _tuple(aliases)
        for k in (n,) + al:
            if k in _OPS:
                raise ValueError(f"op name {k!r} is already registered ({_OPS[k]!r})")
        if getattr(fn, "__name__", n) != n and hasattr(fn, "__code__"):
            fn.__name__ = fn.__qualname__ = n  # wrappers made by a factory: name them
        dom = domain
        if dom is None and arity:
            dom = (REAL,) * arity
        info = OpInfo(n, _keyword_aliases(fn, n), op, family, al, function, method, inplace,
                      _tuple(numpy), arity, dom, differentiable, int_to_float)
        for k in (n,) + al:
            _OPS[k] = info
        _ENTRIES.append(info)
        return fn

    return deco


# PyTorch's names of an op's second operand where they are not ``other``
_SECOND_NAMES = {"pow": "exponent", "mm": "mat2", "bmm": "mat2", "outer": "vec2",
                 "ger": "vec2", "mv": "vec"}
_FIRST_NAMES = {"split": "tensor"}  # and ``input`` everywhere else


def _keyword_aliases(fn, name: str):
    """``fn``, or ``fn`` taking PyTorch's keyword names for its arguments: PyTorch's argument
    parser accepts ``axis=`` for every argument named ``dim`` and ``keepdims=`` for
    ``keepdim`` (``torch.sum(x, axis=0, keepdims=True)``), and its operands are named
    ``input`` and ``other`` (``torch.add(input=x, other=y)``, ``x.mul(other=y)``,
    ``torch.pow(x, exponent=2)``) where this project's code says ``x``/``a`` and ``b``.
    Only ops with such arguments are wrapped; the wrapper renames and calls through."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return fn
    ren = {}
    if "dim" in params and "axis" not in params:
        ren["axis"] = "dim"
    if "keepdim" in params and "keepdims" not in params:
        ren["keepdims"] = "keepdim"
    names = [k for k, p in params.items()
             if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    first = next((k for k in names if k in ("x", "a")), None)
    if first is not None and "input" not in params:
        ren[_FIRST_NAMES.get(name, "input")] = first
    second = next((k for k in names if k in ("b", "y", "v")), None)
    if second is not None and "other" not in params:
        ren["other"] = second
        if name in _SECOND_NAMES:
            ren[_SECOND_NAMES[name]] = second
    if not ren:
        return fn

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if kwargs:
            for alias, real in ren.items():
                if alias in kwargs:
                    if real in kwargs:
                        raise TypeError(f"{fn.__name__}() got multiple values for argument "
                                        f"'{real}'")
                    kwargs[real] = kwargs.pop(alias)
        return fn(*args, **kwargs)

    return wrapper


def add(fn, name: str, **kwargs):
    """``register(name, **kwargs)(fn)``: the form for wrappers made by a factory
    (``exp = add(_unary(Exp, np.exp), "exp", ...)``)."""
    return register(name, **kwargs)(fn)


def get(name: str) -> OpInfo:
    """The entry of an op by its name or one of its aliases.

    Raises:
        KeyError: no op of that name is registered.
    """
    return _OPS[name]


def ops(family: str | None = None) -> list[OpInfo]:
    """Every registered op (of one family when given), in registration order."""
    if family is None:
        return list(_ENTRIES)
    return [e for e in _ENTRIES if e.family == family]


def namespace() -> dict:
    """``{public name: function}`` for every op in the ``autograd`` namespace, aliases
    included."""
    out = {}
    for e in _ENTRIES:
        if e.function:
            for k in e.names:
                out[k] = e.fn
    return out


class RuleTable:
    """Per-op rules that tools attach to Op classes by class name (forward-mode JVP rules,
    vmap batching rules), looked up along the class's MRO and cached per class."""

    def __init__(self, stop=(object,)):
        self._rules = {}
        self._by_class = {}
        self._stop = stop  # base classes where the MRO walk ends (Op: its rule is no rule)

    def add(self, names, rule) -> None:
        for n in names:
            self._rules[n] = rule
        self._by_class.clear()

    def find(self, cls):
        """The rule of ``cls`` (or of its nearest registered base class), or None."""
        try:
            return self._by_class[cls]
        except KeyError:
            pass
        rule = None
        for c in cls.__mro__:
            if c in self._stop or c is object:
                break
            rule = self._rules.get(c.__name__)
            if rule is not None:
                break
        self._by_class[cls] = rule
        return rule

    def missing(self) -> list:
        """Names of the differentiable registered ops whose Op class has no rule here."""
        return sorted(e.name for e in _ENTRIES
                      if e.differentiable and e.op is not None and self.find(e.op) is None)
