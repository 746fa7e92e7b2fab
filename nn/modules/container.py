"""Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict, the
deprecated Container, and DataParallel (single-device here)."""

from __future__ import annotations

import operator
import warnings
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from itertools import chain, islice

from autograd import cuda as _cuda
from autograd.settings import typename as _typename
from autograd.tensor import Parameter, Tensor

from .module import Module


def _pairs(owner: str, seq, is_: str):
    """The (key, value) pairs of ``seq`` for ``owner.update``, checked with PyTorch's errors
    (``is_``: its wording before the type name, which differs between the two dicts)."""
    for j, p in enumerate(seq):
        if not isinstance(p, Iterable):
            raise TypeError(f"{owner} update sequence element #{j} should be Iterable; "
                            f"{is_}{type(p).__name__}")
        if len(p) != 2:
            raise ValueError(f"{owner} update sequence element #{j} has length {len(p)}; 2 is "
                             "required")
        yield p[0], p[1]

class Sequential(Module):
    """Runs modules one after another.

    Example:
        >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for k, m in args[0].items():
                self.add_module(k, m)
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), m)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def _item_by_idx(self, iterator, idx):
        """The ``idx``-th item of ``iterator`` (a view of ``_modules``), as PyTorch checks
        it: an IndexError out of range, a TypeError for a non-integer."""
        size = len(self)
        idx = operator.index(idx)
        if not -size <= idx < size:
            raise IndexError(f"index {idx} is out of range")
        return next(islice(iterator, idx % size, None))

    def __getitem__(self, idx):
        """A module, or for a slice a new Sequential of the same modules under their keys."""
        if isinstance(idx, slice):
            return self.__class__(OrderedDict(list(self._modules.items())[idx]))
        return self._item_by_idx(self._modules.values(), idx)

    def __setitem__(self, idx, module) -> None:
        setattr(self, self._item_by_idx(self._modules.keys(), idx), module)

    def __delitem__(self, idx) -> None:
        """Remove a module (or a slice of them); the rest are renumbered ``"0"``, ``"1"``..."""
        if isinstance(idx, slice):
            for key in list(self._modules.keys())[idx]:
                delattr(self, key)
        else:
            delattr(self, self._item_by_idx(self._modules.keys(), idx))
        self._renumber()

    def _renumber(self) -> None:
        object.__setattr__(self, "_modules", OrderedDict(
            (str(i), m) for i, m in enumerate(self._modules.values())))

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __add__(self, other) -> Sequential:
        if not isinstance(other, Sequential):
            raise ValueError("add operator supports only objects of Sequential class, but "
                             f"{type(other)} is given.")
        ret = Sequential()
        for layer in chain(self, other):
            ret.append(layer)
        return ret

    def __iadd__(self, other) -> Sequential:
        if not isinstance(other, Sequential):
            raise ValueError("add operator supports only objects of Sequential class, but "
                             f"{type(other)} is given.")
        offset = len(self)
        for i, module in enumerate(other):
            self.add_module(str(i + offset), module)
        return self

    def __mul__(self, other: int) -> Sequential:
        if not isinstance(other, int):
            raise TypeError(f"unsupported operand type(s) for *: {type(self)} and "
                            f"{type(other)}")
        if other <= 0:
            raise ValueError(f"Non-positive multiplication factor {other} for {type(self)}")
        ret = Sequential()
        for _ in range(other):
            for layer in self:
                ret.append(layer)
        return ret

    __rmul__ = __mul__

    def append(self, m: Module) -> Sequential:
        self.add_module(str(len(self)), m)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        """Put ``module`` at position ``index``; those after it move up one key."""
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module}")
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        if index < 0:
            index += n
        for i in range(n, index, -1):
            self._modules[str(i)] = self._modules[str(i - 1)]
        self._modules[str(index)] = module
        return self

    def extend(self, sequential) -> Sequential:
        for layer in sequential:
            self.append(layer)
        return self

    def pop(self, key):
        """Remove and return the module at ``key`` (an index or a slice)."""
        v = self[key]
        del self[key]
        return v


class ModuleList(Module):
    """A list of modules, registered for parameters()/to()/state_dict()."""

    def __init__(self, modules=None):
        super().__init__()
        for m in modules or []:
            self.append(m)

    def append(self, m: Module) -> ModuleList:
        self.add_module(str(len(self._modules)), m)
        return self

    def extend(self, ms) -> ModuleList:
        if not isinstance(ms, Iterable):
            raise TypeError("ModuleList.extend should be called with an iterable, but got "
                            + type(ms).__name__)
        for m in ms:
            self.append(m)
        return self

    def _abs_key(self, idx) -> str:
        idx = operator.index(idx)
        if not -len(self) <= idx < len(self):
            raise IndexError(f"index {idx} is out of range")
        return str(idx % len(self))

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self.__class__(list(self._modules.values())[i])
        return self._modules[self._abs_key(i)]

    def __setitem__(self, i, module) -> None:
        setattr(self, self._abs_key(i), module)

    def __delitem__(self, i) -> None:
        """Remove a module (or a slice of them); the rest are renumbered."""
        if isinstance(i, slice):
            for k in range(len(self._modules))[i]:
                delattr(self, str(k))
        else:
            delattr(self, self._abs_key(i))
        object.__setattr__(self, "_modules", OrderedDict(
            (str(k), m) for k, m in enumerate(self._modules.values())))

    def __iadd__(self, modules) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other) -> ModuleList:
        combined = ModuleList()
        for i, module in enumerate(chain(self, other)):
            combined.add_module(str(i), module)
        return combined

    def insert(self, index: int, module: Module) -> None:
        """Put ``module`` before position ``index``; those after it move up one key."""
        for i in range(len(self._modules), index, -1):
            self._modules[str(i)] = self._modules[str(i - 1)]
        self._modules[str(index)] = module

    def pop(self, key):
        """Remove and return the module at ``key`` (an index or a slice)."""
        v = self[key]
        del self[key]
        return v

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __repr__(self) -> str:
        """As PyTorch prints it: consecutive entries with the same repr collapsed into one
        line, ``(0-11): 12 x Block(...)``."""
        reprs = [repr(m) for m in self._modules.values()]
        if not reprs:
            return type(self).__name__ + "()"
        runs = []  # [first index, last index, repr]
        for i, r in enumerate(reprs):
            if runs and runs[-1][2] == r:
                runs[-1][1] = i
            else:
                runs.append([i, i, r])
        lines = []
        for a, b, r in runs:
            head = f"({a}): " if a == b else f"({a}-{b}): {b - a + 1} x "
            lines.append((head + r).replace("\n", "\n  "))
        return type(self).__name__ + "(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """An ordered dict of modules keyed by strings, registered under their keys. Built from
    or updated with a mapping (in its order) or an iterable of ``(key, module)`` pairs."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, k):
        return self._modules[k]

    def __setitem__(self, k, m):
        self.add_module(k, m)

    def __delitem__(self, k) -> None:
        del self._modules[k]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, k) -> bool:
        return k in self._modules

    def clear(self) -> None:
        self._modules.clear()

    def pop(self, k):
        """Remove ``k`` and return its module."""
        v = self[k]
        del self[k]
        return v

    def update(self, modules) -> None:
        """Add the entries of a mapping or of an iterable of ``(key, module)`` pairs,
        overwriting existing keys."""
        if not isinstance(modules, Iterable):
            raise TypeError("ModuleDict.update should be called with an iterable of key/value "
                            "pairs, but got " + type(modules).__name__)
        if isinstance(modules, (OrderedDict, ModuleDict, Mapping)):
            for key, module in modules.items():
                self[key] = module
            return
        for key, module in _pairs("ModuleDict", modules, "is"):
            self[key] = module

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()


# ---- parameter containers (PyTorch's ParameterList / ParameterDict) -----------------------

def _as_parameter(value):
    """A plain Tensor becomes a Parameter (as PyTorch's containers do); anything else is
    kept as it is (a Parameter, or any object, stored as an attribute)."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


def _param_line(key, p, typename: bool = False) -> str:
    """One entry of a ParameterList/ParameterDict repr. PyTorch names the type by dtype
    (``torch.float32``) in a ParameterList but by ``torch.typename`` (``torch.FloatTensor``)
    in a ParameterDict: ``typename`` picks the latter. The line is indented by two spaces,
    which ``Module.__repr__`` then indents again, as PyTorch's ``extra_repr`` is."""
    if isinstance(p, Tensor):
        size = "x".join(str(s) for s in p.shape)
        dev = f" ({p.device})" if p.device.type == "cuda" else ""
        kind = "Parameter" if isinstance(p, Parameter) else "Tensor"
        ty = _typename(p) if typename else p.dtype
        return f"  ({key}): {kind} containing: [{ty} of size {size}{dev}]"
    return f"  ({key}): Object of type: {type(p).__name__}"


class ParameterList(Module):
    """A list of Parameters, registered under the names ``"0"``, ``"1"``... (so that
    ``parameters()``, ``to()`` and ``state_dict()`` see them). Plain Tensors are wrapped
    into Parameters; other objects are kept as they are.

    Example:
        >>> params = nn.ParameterList([nn.Parameter(ag.randn(4, 4)) for _ in range(3)])
        >>> params.append(ag.zeros(4))
        >>> len(params), list(params.state_dict())[:2]
        (4, ['0', '1'])
    """

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self += values

    def _abs_index(self, idx) -> int:
        idx = operator.index(idx)
        if not -len(self) <= idx < len(self):
            raise IndexError(f"index {idx} is out of range")
        return idx % len(self) if len(self) else idx

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            out = self.__class__()
            for i in range(*idx.indices(len(self))):
                out.append(self[i])
            return out
        return getattr(self, str(self._abs_index(idx)))

    def __setitem__(self, idx, param) -> None:
        idx = self._abs_index(idx)
        setattr(self, str(idx), _as_parameter(param))

    def __setattr__(self, name, value) -> None:
        # an object stored under an index name that was a Parameter replaces it
        if name.isdigit() and name in self.__dict__.get("_parameters", {}) \
                and not isinstance(value, Parameter) and value is not None:
            del self._parameters[name]
        super().__setattr__(name, value)

    def __len__(self) -> int:
        return self._size

    def __iter__(self):
        return iter(self[i] for i in range(len(self)))

    def __iadd__(self, parameters):
        return self.extend(parameters)

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]

    def append(self, value) -> ParameterList:
        """Append ``value`` (a Tensor becomes a Parameter) at the end."""
        new_idx = len(self)
        self._size += 1
        self[new_idx] = value
        return self

    def extend(self, values) -> ParameterList:
        """Append every value of an iterable."""
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError("ParameterList.extend should be called with an iterable, but got "
                            + type(values).__name__)
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return "\n".join(_param_line(k, p) for k, p in enumerate(self))

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """An ordered dict of Parameters keyed by strings, registered under their keys (the
    ``state_dict`` names). Plain Tensors are wrapped into Parameters. ``update`` from an
    ``OrderedDict``/``ParameterDict`` or pairs keeps their order; from a plain mapping
    the keys are sorted (as PyTorch does).

    Example:
        >>> pd = nn.ParameterDict({"scale": nn.Parameter(ag.ones(3))})
        >>> pd["shift"] = ag.zeros(3)
        >>> list(pd.keys())
        ['scale', 'shift']
    """

    def __init__(self, parameters=None):
        super().__init__()
        self._keys = OrderedDict()
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _key_to_attr(key) -> str:
        if not isinstance(key, str):
            raise TypeError("Index given to ParameterDict cannot be used as a key as it is not "
                            f"a string (type is '{type(key).__name__}'). Open an issue on "
                            "github if you need non-string keys.")
        return key

    def __getitem__(self, key):
        attr = self._key_to_attr(key)
        if key not in self._keys:
            raise KeyError(key)
        return getattr(self, attr)

    def __setitem__(self, key, value) -> None:
        attr = self._key_to_attr(key)
        self._keys[key] = None
        setattr(self, attr, _as_parameter(value))

    def __setattr__(self, name, value) -> None:
        if name in self.__dict__.get("_parameters", {}) and value is not None \
                and not isinstance(value, Parameter):
            del self._parameters[name]
        super().__setattr__(name, value)

    def __delitem__(self, key) -> None:
        del self._keys[key]
        delattr(self, self._key_to_attr(key))

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(list(self._keys))

    def __contains__(self, key) -> bool:
        return key in self._keys

    def copy(self) -> ParameterDict:
        """A new ParameterDict holding the same Parameters."""
        return ParameterDict(OrderedDict((k, self[k]) for k in self._keys))

    def setdefault(self, key, default=None):
        """``self[key]``, set to ``default`` first when absent."""
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self) -> None:
        for k in list(self._keys):
            del self[k]

    def pop(self, key):
        """Remove ``key`` and return its Parameter."""
        v = self[key]
        del self[key]
        return v

    def popitem(self):
        """Remove and return the last ``(key, Parameter)`` inserted."""
        k, _ = self._keys.popitem()
        self._keys[k] = None  # put back so that __delitem__ finds it
        val = self[k]
        del self[k]
        return k, val

    def get(self, key, default=None):
        return self[key] if key in self else default

    def fromkeys(self, keys, default=None) -> ParameterDict:
        """A new ParameterDict with ``keys`` all set to ``default``."""
        return ParameterDict((k, default) for k in keys)

    def keys(self):
        return self._keys.keys()

    def items(self):
        return ((k, self[k]) for k in self._keys)

    def values(self):
        return (self[k] for k in self._keys)

    def update(self, parameters) -> None:
        """Add the entries of a mapping or of an iterable of ``(key, value)`` pairs,
        overwriting existing keys."""
        if not isinstance(parameters, Iterable):
            raise TypeError("ParametersDict.update should be called with an iterable of "
                            "key/value pairs, but got " + type(parameters).__name__)
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            for key, parameter in parameters.items():
                self[key] = parameter
        elif isinstance(parameters, Mapping):
            for key, parameter in sorted(parameters.items()):
                self[key] = parameter
        else:
            for key, parameter in _pairs("ParameterDict", parameters, "is "):
                self[key] = parameter

    def extra_repr(self) -> str:
        return "\n".join(_param_line(k, self[k], typename=True) for k in self._keys)

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterDict should not be called.")

    def __or__(self, other) -> ParameterDict:
        out = self.copy()
        out.update(other)
        return out

    def __ror__(self, other) -> ParameterDict:
        out = other.copy()
        out.update(self)
        return out

    def __ior__(self, other) -> ParameterDict:
        self.update(other)
        return self


class Container(Module):
    """Deprecated (as in PyTorch): a Module whose keyword arguments become its submodules.
    Subclass ``nn.Module`` instead.

    Example:
        >>> c = nn.Container(fc=nn.Linear(2, 3))  # doctest: +SKIP (FutureWarning)
    """

    def __init__(self, **kwargs):
        super().__init__()
        warnings.warn("`nn.Container` is deprecated. All of its functionality is now "
                      "implemented in `nn.Module`. Subclass that instead.", FutureWarning,
                      stacklevel=2)
        for key, value in kwargs.items():
            self.add_module(key, value)


class DataParallel(Module):
    """PyTorch's single-process data parallelism wrapper, on this engine's single device:
    it holds the wrapped ``module`` (``.module``, state_dict keys ``module.*``) and calls
    it on the whole batch. There is one device per process here, so nothing is
    scattered or replicated (PyTorch does the same on a machine without GPUs); use
    ``nn.parallel.DistributedDataParallel`` for data parallelism over processes.

    Args:
        module: the module to run.
        device_ids: recorded (``[]`` on the CPU, as PyTorch without CUDA).
        output_device: recorded.
        dim: the batch dim the inputs would be scattered along.

    Example:
        >>> model = nn.DataParallel(nn.Linear(4, 2))
        >>> model(ag.randn(8, 4)).shape
        (8, 2)
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0):
        super().__init__()
        self.module = module
        self.dim = dim
        if not _cuda.is_available():
            self.device_ids = []
            self.output_device = None
            return
        self.device_ids = [0] if device_ids is None else [
            d if isinstance(d, int) else int(str(d).split(":")[-1]) for d in device_ids]
        out = self.device_ids[0] if output_device is None else output_device
        self.output_device = out if isinstance(out, int) else int(str(out).split(":")[-1])

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
