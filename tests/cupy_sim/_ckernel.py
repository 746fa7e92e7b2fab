"""The stand-in's ``ElementwiseKernel``: runs, one element at a time in Python, a kernel body
written in a small subset of CUDA C, with C's semantics where they differ from Python's
(integer division and remainder truncate toward zero). Anything outside the subset raises
``NotImplementedError`` when the kernel is built, so a fast path is tested only if it keeps
to what the stand-in can check.

The subset, one statement per line:

* ``[const] TYPE name = expr;`` with TYPE one of ``int``, ``long long``, ``ptrdiff_t``,
  ``size_t``, ``float``, ``double`` or a type placeholder of the parameters (``T``);
* ``name = expr;``, ``name += expr;`` (also ``-=``, ``*=``);
* ``for (int v = a; v < b; ++v) {`` ... ``}``;
* ``if (cond) continue;`` and ``if (cond) break;``;
* expressions of names, integer and float literals, ``+ - * / %``, comparisons, ``&& ||``,
  parentheses (no casts) and ``raw_param[index]`` (a C-order flat index into the raw array, like
  CuPy's ``CArray::operator[]``; out of bounds raises ``IndexError``).

Parameters follow CuPy: ``in_params``/``out_params`` are "[raw] TYPE name" lists; ``i`` is
the element index; non-raw arrays are read/written at element ``i`` of their broadcast
shape; outputs must be passed (the stand-in does not allocate them). ``calls`` counts the
launches.
"""

from __future__ import annotations

import re

import numpy as np

_DTYPES = {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
           "float16", "float32", "float64", "bool", "complex64", "complex128"}
_CTYPES = r"(?:int|long long|long|ptrdiff_t|size_t|float|double|bool|[A-Z]\w*)"


class CInt(int):
    """An integer with C's ``/`` and ``%`` (truncating toward zero)."""

    def _w(self, v):
        return CInt(v) if isinstance(v, int) and not isinstance(v, bool) else v

    def __add__(self, o):
        return self._w(int(self) + o) if isinstance(o, int) else int(self) + o

    __radd__ = __add__

    def __sub__(self, o):
        return self._w(int(self) - o) if isinstance(o, int) else int(self) - o

    def __rsub__(self, o):
        return self._w(o - int(self)) if isinstance(o, int) else o - int(self)

    def __mul__(self, o):
        return self._w(int(self) * o) if isinstance(o, int) else int(self) * o

    __rmul__ = __mul__

    def __neg__(self):
        return CInt(-int(self))

    def __truediv__(self, o):
        if not isinstance(o, int):
            return int(self) / o
        if o == 0:
            raise ZeroDivisionError("integer division by zero in a kernel")
        q = abs(int(self)) // abs(int(o))
        return CInt(q if (self < 0) == (o < 0) else -q)

    def __rtruediv__(self, o):
        return CInt(o) / self if isinstance(o, int) else o / int(self)

    def __mod__(self, o):
        if not isinstance(o, int):
            raise NotImplementedError("the stand-in's kernels take % of integers only")
        return CInt(int(self) - int(self / o) * int(o))

    def __rmod__(self, o):
        return CInt(o) % self


def _val(v):
    """An array element as a kernel value: integers get C's arithmetic."""
    return CInt(int(v)) if isinstance(v, np.integer) else v


class _Raw:
    """A raw array parameter: C-order flat indexing with a bounds check."""

    def __init__(self, a):
        self._a = a

    def __getitem__(self, k):
        k = int(k)
        if not 0 <= k < self._a.size:
            raise IndexError(f"raw array index {k} out of bounds for size {self._a.size}")
        return _val(self._a[np.unravel_index(k, self._a.shape)])


def _params(spec: str):
    out = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        words = part.split()
        raw = words[0] == "raw"
        words = words[1:] if raw else words
        if len(words) != 2:
            raise NotImplementedError(f"ElementwiseKernel parameter {part!r}")
        out.append((raw, words[0], words[1]))
    return out


def _expr(e: str) -> str:
    rest = e.replace("&&", " ").replace("||", " ")
    bad = re.search(r"[?&|^~]|<<|>>|\+\+|--|->|\(\s*" + _CTYPES + r"\s*\)", rest)
    if bad:
        raise NotImplementedError(f"the stand-in's kernels do not support {bad[0]!r} in {e!r}")
    e = e.replace("&&", " and ").replace("||", " or ")
    if re.search(r"!(?!=)", e):  # C's ! binds tighter than Python's not: not emulated
        raise NotImplementedError(f"the stand-in's kernels do not support '!' in {e!r}")
    # integer literals keep C's division: 7 / 2 == 3, -7 / 2 == -3
    return re.sub(r"(?<![.\w])(\d+)[uUlL]*(?![.\w])", r"_I(\1)", e)


def translate(body: str) -> str:
    """The kernel body as the body of a Python function (indented by 4)."""
    lines, depth = [], 1
    for raw_line in body.splitlines():
        s = raw_line.split("//")[0].strip()
        if not s:
            continue
        pad = "    " * depth
        m = re.fullmatch(r"(?:const\s+)?(" + _CTYPES + r")\s+(\w+)\s*=\s*(.+);", s)
        if m:
            lines.append(f"{pad}{m[2]} = _decl({_expr(m[3])}, {m[1]!r})")
            continue
        m = re.fullmatch(r"for\s*\(\s*int\s+(\w+)\s*=\s*(.+?);\s*(\w+)\s*<\s*(.+?);\s*"
                         r"(?:\+\+(\w+)|(\w+)\+\+)\s*\)\s*\{", s)
        if m and m[1] == m[3] == (m[5] or m[6]):
            lines.append(f"{pad}for {m[1]} in _range({_expr(m[2])}, {_expr(m[4])}):")
            depth += 1
            continue
        m = re.fullmatch(r"if\s*\((.+)\)\s*(continue|break);", s)
        if m:
            lines.append(f"{pad}if {_expr(m[1])}: {m[2]}")
            continue
        if s == "}":
            if depth == 1:
                raise NotImplementedError("unbalanced '}' in a kernel body")
            depth -= 1
            continue
        m = re.fullmatch(r"(\w+)\s*([-+*]?=)\s*(.+);", s)
        if m:
            lines.append(f"{pad}{m[1]} {m[2]} {_expr(m[3])}")
            continue
        raise NotImplementedError(f"the stand-in's kernels do not support the statement {s!r}")
    if depth != 1:
        raise NotImplementedError("unbalanced '{' in a kernel body")
    return "\n".join(lines) or "    pass"


def _range(a, b):
    return (CInt(v) for v in range(int(a), int(b)))


class ElementwiseKernel:
    """See the module docstring."""

    def __init__(self, in_params, out_params, operation, name="kernel", **kwargs):
        self.name = name
        self.calls = 0
        self.in_params = _params(in_params)
        self.out_params = _params(out_params)
        names = [p[2] for p in self.in_params + self.out_params]
        outs = [p[2] for p in self.out_params if not p[0]]
        src = (f"def _kernel(i, {', '.join(names)}):\n{translate(operation)}\n"
               f"    return ({', '.join(outs)}{',' if outs else ''})\n")
        self.source = src
        env = {"_I": CInt, "_range": _range, "_decl": None}
        exec(compile(src, f"<ElementwiseKernel {name}>", "exec"), env)  # noqa: S102
        self._fn, self._env = env["_kernel"], env

    def _unwrap(self, a):
        """The NumPy array under a device array, else None (the stand-in overrides it)."""
        return None

    def __call__(self, *args, size=None, block_size=None, stream=None):
        params = self.in_params + self.out_params
        if len(args) != len(params):
            raise NotImplementedError(
                f"ElementwiseKernel {self.name!r}: the stand-in needs all {len(params)} "
                f"arguments, outputs included; got {len(args)}")
        types, vals, arrays = {}, [], []
        for (raw, ty, name), a in zip(params, args):
            arr = self._unwrap(a)
            if arr is not None:
                if ty in _DTYPES:
                    if arr.dtype != np.dtype(ty):
                        raise TypeError(f"ElementwiseKernel {self.name!r}: {name} must be "
                                        f"{ty}, got {arr.dtype}")
                elif types.setdefault(ty, arr.dtype) != arr.dtype:
                    raise TypeError(f"ElementwiseKernel {self.name!r}: type {ty} bound to "
                                    f"both {types[ty]} and {arr.dtype}")
                vals.append((raw, arr))
                if not raw:
                    arrays.append(arr)
            elif isinstance(a, np.ndarray) or raw:
                raise TypeError(f"ElementwiseKernel {self.name!r}: Unsupported type "
                                f"{type(a)} for {name}")
            elif ty in _DTYPES:
                v = np.dtype(ty).type(a)
                vals.append((False, CInt(int(v)) if np.dtype(ty).kind in "iu" else v))
            else:
                vals.append((False, a))
        if not arrays:
            raise NotImplementedError(f"ElementwiseKernel {self.name!r}: the stand-in needs "
                                      "an output array")
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
        total = int(np.prod(shape)) if size is None else int(size)

        def decl(v, ctype):
            ty = types.get(ctype)
            if ty is not None:
                return _val(ty.type(v))
            if ctype in ("int", "long", "long long", "ptrdiff_t", "size_t"):
                return CInt(int(v))
            if ctype in ("float", "double"):
                return (np.float32 if ctype == "float" else np.float64)(v)
            if ctype == "bool":
                return bool(v)
            raise NotImplementedError(f"kernel variable of type {ctype!r}")

        self._env["_decl"] = decl
        n_in = len(self.in_params)
        views = []
        for raw, v in vals:
            if isinstance(v, np.ndarray):
                views.append(_Raw(v) if raw else np.broadcast_to(v, shape))
            else:
                views.append(v)
        elem = [k for k, (raw, v) in enumerate(vals) if isinstance(v, np.ndarray) and not raw]
        outs = [k for k in elem if k >= n_in]
        for idx in range(total):
            pos = np.unravel_index(idx, shape) if shape else ()
            call = list(views)
            for k in elem:
                call[k] = _val(views[k][pos])
            res = self._fn(CInt(idx), *call)
            for k, r in zip(outs, res):
                vals[k][1][pos] = r
        self.calls += 1
        ret = [args[k] for k in outs]
        return ret[0] if len(ret) == 1 else tuple(ret)
