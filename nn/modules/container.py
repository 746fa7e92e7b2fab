"""Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict, the
deprecated Container, and DataParallel (single-device here)."""

from __future__ import annotations

import operator
import warnings
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from autograd import cuda as _cuda
from autograd.tensor import Parameter, Tensor

from .module import Module


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

    def __getitem__(self, i):
        mods = list(self._modules.values())
        if isinstance(i, slice):
            return Sequential(*mods[i])
        return mods[i]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, m: Module) -> Sequential:
        self.add_module(str(len(self)), m)
        return self


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
        for m in ms:
            self.append(m)
        return self

    def __getitem__(self, i):
        mods = list(self._modules.values())
        if isinstance(i, slice):
            return ModuleList(mods[i])
        return mods[i]

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
    def __init__(self, modules=None):
        super().__init__()
        for k, m in (modules or {}).items():
            self.add_module(k, m)

    def __getitem__(self, k):
        return self._modules[k]

    def __setitem__(self, k, m):
        self.add_module(k, m)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

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


def _param_line(key, p) -> str:
    if isinstance(p, Tensor):
        size = "x".join(str(s) for s in p.shape)
        dev = f" ({p.device})" if p.device.type == "cuda" else ""
        kind = "Parameter" if isinstance(p, Parameter) else "Tensor"
        return f"({key}): {kind} containing: [autograd.{p.dtype.name} of size {size}{dev}]"
    return f"({key}): Object of type: {type(p).__name__}"


def _container_repr(module, lines) -> str:
    name = type(module).__name__
    if not lines:
        return name + "()"
    return name + "(\n" + "\n".join("    " + ln for ln in lines) + "\n)"


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

    def __repr__(self) -> str:
        return _container_repr(self, [_param_line(k, p) for k, p in enumerate(self)])

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
            for j, p in enumerate(parameters):
                if not isinstance(p, Iterable):
                    raise TypeError(f"ParameterDict update sequence element #{j} should be "
                                    f"Iterable; is {type(p).__name__}")
                if len(p) != 2:
                    raise ValueError(f"ParameterDict update sequence element #{j} has length "
                                     f"{len(p)}; 2 is required")
                self[p[0]] = p[1]

    def extra_repr(self) -> str:
        return "\n".join(_param_line(k, self[k]) for k in self._keys)

    def __repr__(self) -> str:
        return _container_repr(self, [_param_line(k, self[k]) for k in self._keys])

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
