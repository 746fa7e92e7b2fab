"""``nn.utils.prune``: pruning of parameters by a mask (PyTorch's ``torch.nn.utils.prune``).

Pruning ``module.<name>`` moves the parameter to ``<name>_orig``, stores a 0/1 mask in the
buffer ``<name>_mask``, and makes ``module.<name>`` the plain tensor ``<name>_orig * <name>_mask``,
recomputed before every forward by the pruning method itself, registered as a forward pre-hook.
Gradients flow to ``<name>_orig`` through the mask. Pruning the same parameter again combines
the masks in a ``PruningContainer``: the new method only acts on the entries (or, for
structured methods, the channels) that are still unpruned. ``remove`` makes the pruning
permanent.

The methods draw from the global generator as PyTorch does (``rand_like`` of the scores for
``RandomUnstructured``, ``rand(n_channels)`` for ``RandomStructured``), so a seeded program
prunes the same entries. The entries chosen among equal scores (L1 ties, zeroed weights)
are PyTorch's too: its CPU ``topk`` selects with the C++ standard library's
``std::nth_element`` / ``std::partial_sort``, which is reproduced here (``_topk_indices``).

Example:
    >>> import nn.utils.prune as prune
    >>> m = prune.l1_unstructured(nn.Linear(4, 3), name="weight", amount=0.5)
    >>> sorted(m.state_dict().keys())
    ['bias', 'weight_mask', 'weight_orig']
    >>> prune.remove(m, "weight")  # weight is a Parameter again, with half its entries 0
"""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable

import numpy as np

from autograd import backend
from autograd.ops import reduction as R
from autograd.tensor import Tensor, ones_like, rand, rand_like, tensor, zeros_like

from .convert_parameters import parameters_to_vector

__all__ = ["BasePruningMethod", "CustomFromMask", "Identity", "L1Unstructured", "LnStructured",
           "PruningContainer", "RandomStructured", "RandomUnstructured", "custom_from_mask",
           "global_unstructured", "identity", "is_pruned", "l1_unstructured", "ln_structured",
           "random_structured", "random_unstructured", "remove"]


class BasePruningMethod(ABC):
    """Base class of the pruning methods: a subclass defines ``PRUNING_TYPE``
    ('unstructured', 'structured' (with a ``dim`` attribute) or 'global') and
    ``compute_mask``; ``apply`` prunes a module's parameter with it.

    An instance that has been applied is the module's forward pre-hook: called as
    ``method(module, inputs)`` it sets ``module.<name>`` to ``<name>_orig * <name>_mask``.

    Example (a custom method pruning every other entry):
        >>> class EveryOther(prune.BasePruningMethod):
        ...     PRUNING_TYPE = "unstructured"
        ...     def compute_mask(self, t, default_mask):
        ...         mask = default_mask.clone()
        ...         mask.view(-1)[::2] = 0
        ...         return mask
        >>> EveryOther.apply(nn.Linear(3, 2), "bias")
    """

    _tensor_name: str  # the name of the pruned parameter, set by ``apply``

    def __call__(self, module, inputs) -> None:
        """The forward pre-hook: ``module.<name> = <name>_orig * <name>_mask``."""
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The mask (same shape as ``t``) of this method for the importance scores ``t``,
        on top of ``default_mask`` (the mask of earlier pruning; all ones at first)."""

    def apply_mask(self, module) -> Tensor:
        """``<name>_orig * <name>_mask`` of ``module`` (the mask cast to the parameter's
        dtype); differentiable with respect to ``<name>_orig``."""
        if self._tensor_name is None:
            raise AssertionError(f"Module {module} has to be pruned")
        mask = getattr(module, self._tensor_name + "_mask")
        orig = getattr(module, self._tensor_name + "_orig")
        return mask.to(dtype=orig.dtype) * orig

    @classmethod
    def apply(cls, module, name: str, *args, importance_scores=None, **kwargs):
        """Prune ``module.<name>`` with ``cls(*args, **kwargs)`` and return the method now
        registered as the module's forward pre-hook: the new method itself the first time,
        otherwise the ``PruningContainer`` of every method applied to ``name``.

        Args:
            module: the module holding the parameter.
            name: the parameter's name in ``module``.
            importance_scores: a tensor of the parameter's shape whose values rank its
                entries (default: the parameter itself, as currently pruned).

        The first time, the parameter moves to ``<name>_orig`` (the same Parameter object,
        so an optimizer built before keeps updating it); if computing the mask fails, it
        is put back under ``name`` and the error re-raised.
        """
        method = _composite_method(cls, module, name, *args, **kwargs)
        orig = getattr(module, name)
        if importance_scores is not None:
            if importance_scores.shape != orig.shape:
                raise AssertionError(
                    f"importance_scores should have the same shape as parameter {name} of "
                    f"{module}, got {importance_scores.shape} vs {orig.shape}")
        else:
            importance_scores = orig
        if not isinstance(method, PruningContainer):  # first pruning of `name`
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = ones_like(orig)
        else:
            default_mask = getattr(module, name + "_mask").detach().clone()
        try:
            mask = method.compute_mask(importance_scores, default_mask=default_mask)
            module.register_buffer(name + "_mask", mask)
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if not isinstance(method, PruningContainer):  # roll back the reparametrization
                orig = getattr(module, name + "_orig")
                module.register_parameter(name, orig)
                del module._parameters[name + "_orig"]
            raise
        return method

    def prune(self, t: Tensor, default_mask: Tensor | None = None,
              importance_scores: Tensor | None = None) -> Tensor:
        """``t`` times the mask this method computes for it (from ``importance_scores``,
        default ``t``, on top of ``default_mask``, default all ones); no module involved."""
        if importance_scores is not None:
            if importance_scores.shape != t.shape:
                raise AssertionError(
                    f"importance_scores should have the same shape as tensor t, got "
                    f"{importance_scores.shape} vs {t.shape}")
        else:
            importance_scores = t
        default_mask = default_mask if default_mask is not None else ones_like(t)
        return t * self.compute_mask(importance_scores, default_mask=default_mask)

    def remove(self, module) -> None:
        """Make the pruning permanent: ``<name>_orig`` (the same Parameter object) takes the
        pruned values and is registered under ``name`` again; ``<name>_mask`` is dropped.
        (The forward pre-hook is left to the caller: see the function ``remove``.)"""
        if self._tensor_name is None:
            raise AssertionError(f"Module {module} has to be pruned before pruning can be "
                                 "removed")
        weight = self.apply_mask(module)
        if hasattr(module, self._tensor_name):
            delattr(module, self._tensor_name)
        orig = module._parameters[self._tensor_name + "_orig"]
        orig.data = weight.data
        del module._parameters[self._tensor_name + "_orig"]
        del module._buffers[self._tensor_name + "_mask"]
        setattr(module, self._tensor_name, orig)


def _composite_method(cls, module, name: str, *args, **kwargs) -> BasePruningMethod:
    """The method to register for pruning ``module.<name>`` with ``cls(*args, **kwargs)``:
    the new method, or, when ``name`` is already pruned, the earlier method's
    ``PruningContainer`` with the new one appended. The earlier hook is unregistered."""
    old_method, found = None, []
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            old_method = hook
            found.append(k)
    if len(found) > 1:
        raise AssertionError(f"Avoid adding multiple pruning hooks to the same tensor {name} "
                             f"of module {module}. Use a PruningContainer.")
    for k in found:
        del module._forward_pre_hooks[k]
    method = cls(*args, **kwargs)
    method._tensor_name = name
    if isinstance(old_method, PruningContainer):
        old_method.add_pruning_method(method)
        method = old_method
    elif old_method is not None:
        container = PruningContainer(old_method)
        container.add_pruning_method(method)
        method = container
    return method


class PruningContainer(BasePruningMethod):
    """The sequence of pruning methods applied to one parameter (iterative pruning).

    Its mask is the last method's mask computed on the part of the tensor the earlier
    masks left: the entries still 1 ('unstructured'), the channels along the method's
    ``dim`` not entirely 0 ('structured'), or the whole tensor ('global'), combined with
    the earlier mask. ``len``, iteration and indexing give the methods.
    """

    def __init__(self, *args) -> None:
        self._pruning_methods: tuple = ()
        if len(args) == 1:
            self._tensor_name = args[0]._tensor_name
            self.add_pruning_method(args[0])
        else:
            for method in args:
                self.add_pruning_method(method)

    def add_pruning_method(self, method) -> None:
        """Append ``method`` (a ``BasePruningMethod`` acting on this container's tensor)."""
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._tensor_name != method._tensor_name:
            raise ValueError("Can only add pruning methods acting on the parameter named "
                             f"'{self._tensor_name}' to PruningContainer {self}. Found "
                             f"'{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The last method's mask on the part of ``t`` that ``default_mask`` left unpruned,
        written into ``default_mask.to(t.dtype)`` (``default_mask`` itself, in place, when
        it already has that dtype, as PyTorch)."""
        method = self._pruning_methods[-1]
        mask = default_mask
        new_mask = mask.to(dtype=t.dtype)
        if method.PRUNING_TYPE == "unstructured":
            slc = mask == 1
        elif method.PRUNING_TYPE == "structured":
            if not hasattr(method, "dim"):
                raise AttributeError('Pruning methods of PRUNING_TYPE "structured" need to '
                                     "have the attribute `dim` defined.")
            n_dims = t.dim()
            dim = method.dim
            if dim < 0:
                dim = n_dims + dim
            if dim < 0:
                raise IndexError(f"Index is out of bounds for tensor with dimensions {n_dims}")
            keep_channel = mask.sum(dim=[d for d in range(n_dims) if d != dim]) != 0
            slc = [slice(None)] * n_dims
            slc[dim] = keep_channel
            slc = tuple(slc)
        elif method.PRUNING_TYPE == "global":
            slc = (slice(None),) * len(t.shape)
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {method.PRUNING_TYPE}")
        partial_mask = method.compute_mask(t[slc], default_mask=mask[slc])
        new_mask[slc] = partial_mask.to(dtype=new_mask.dtype)
        return new_mask


class Identity(BasePruningMethod):
    """Prunes nothing: the reparametrization with a mask of ones."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return default_mask

    @classmethod
    def apply(cls, module, name: str):
        """Reparametrize ``module.<name>`` with a mask of ones."""
        return super().apply(module, name)


def _unstructured_mask(amount, t: Tensor, default_mask: Tensor, scores, largest: bool):
    """``default_mask`` with ``amount`` more entries of ``t`` set to 0: those of the largest
    (or smallest) ``scores()`` (a flat tensor, computed only when something is pruned, as
    PyTorch draws its random scores)."""
    tensor_size = t.nelement()
    nparams_toprune = _compute_nparams_toprune(amount, tensor_size)
    _validate_pruning_amount(nparams_toprune, tensor_size)
    mask = default_mask.clone()
    if nparams_toprune != 0:
        mask.view(-1)[_topk_indices(scores(), nparams_toprune, largest=largest)] = 0
    return mask


class _Unstructured(BasePruningMethod):
    """An unstructured method pruning ``amount`` of the entries (validated as PyTorch)."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount) -> None:
        _validate_pruning_amount_init(amount)
        self.amount = amount


class RandomUnstructured(_Unstructured):
    """Prunes ``amount`` of the (unpruned) entries, chosen at random: those with the
    largest of ``rand_like(t)``.

    Args:
        amount: a float in [0, 1] (the fraction of the entries, rounded) or an int >= 0
            (their number).
    """

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return _unstructured_mask(self.amount, t, default_mask,
                                  lambda: rand_like(t).view(-1), largest=True)

    @classmethod
    def apply(cls, module, name: str, amount):
        """Prune ``amount`` random entries of ``module.<name>``."""
        return super().apply(module, name, amount=amount)


class L1Unstructured(_Unstructured):
    """Prunes ``amount`` of the (unpruned) entries, those of smallest absolute value.

    Args:
        amount: a float in [0, 1] (the fraction of the entries, rounded) or an int >= 0
            (their number).
    """

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return _unstructured_mask(self.amount, t, default_mask,
                                  lambda: t.detach().abs().view(-1), largest=False)

    @classmethod
    def apply(cls, module, name: str, amount, importance_scores=None):
        """Prune the ``amount`` entries of ``module.<name>`` of smallest ``|score|`` (the
        scores default to the parameter)."""
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


def _structured_counts(t: Tensor, amount, dim: int) -> tuple:
    """(channels along ``dim``, how many of them to prune), validated as PyTorch does: ``t``
    has 2+ dims, ``dim`` is in range, ``amount`` is at most the channels."""
    _validate_structured_pruning(t)
    _validate_pruning_dim(t, dim)
    tensor_size = t.shape[dim]
    nparams_toprune = _compute_nparams_toprune(amount, tensor_size)
    _validate_pruning_amount(nparams_toprune, tensor_size)
    return tensor_size, nparams_toprune


class RandomStructured(BasePruningMethod):
    """Prunes ``amount`` of the (unpruned) channels along ``dim``, chosen at random: those
    with the smallest of ``rand(n_channels)``.

    Args:
        amount: a float in [0, 1] (the fraction of the channels, rounded) or an int >= 0
            (their number).
        dim: the dim whose indices are the channels (default -1).
    """

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim: int = -1) -> None:
        _validate_pruning_amount_init(amount)
        self.amount = amount
        self.dim = dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The mask zeroing the chosen channels, times ``default_mask``.

        Raises:
            ValueError: ``t`` has fewer than 2 dims; IndexError: ``dim`` is out of range.
        """
        tensor_size, nparams_toprune = _structured_counts(t, self.amount, self.dim)
        if nparams_toprune == 0:
            return default_mask
        prob = rand(tensor_size)
        threshold = R.kthvalue(prob, k=nparams_toprune).values
        mask = zeros_like(t)
        slc = [slice(None)] * len(t.shape)
        slc[self.dim] = prob > threshold
        mask[tuple(slc)] = 1
        mask *= default_mask.to(dtype=mask.dtype)
        return mask

    @classmethod
    def apply(cls, module, name: str, amount, dim: int = -1):
        """Prune ``amount`` random channels along ``dim`` of ``module.<name>``."""
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Prunes ``amount`` of the (unpruned) channels along ``dim``, those of smallest
    L``n``-norm (taken over every other dim).

    Args:
        amount: a float in [0, 1] (the fraction of the channels, rounded) or an int >= 0
            (their number).
        n: the norm's order, as ``p`` of ``norm`` (int, float, inf, -inf, 'fro', 'nuc').
        dim: the dim whose indices are the channels (default -1).
    """

    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim: int = -1) -> None:
        _validate_pruning_amount_init(amount)
        self.amount = amount
        self.n = n
        self.dim = dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The mask keeping the channels of largest norm, times ``default_mask``.

        Raises:
            ValueError: ``t`` has fewer than 2 dims; IndexError: ``dim`` is out of range.
        """
        tensor_size, nparams_toprune = _structured_counts(t, self.amount, self.dim)
        nparams_tokeep = tensor_size - nparams_toprune
        norm = _compute_norm(t.detach(), self.n, self.dim)
        keep = _topk_indices(norm, nparams_tokeep, largest=True)
        if nparams_toprune == 0:
            return default_mask
        mask = zeros_like(t)
        slc = [slice(None)] * len(t.shape)
        slc[self.dim] = keep
        mask[tuple(slc)] = 1
        mask *= default_mask.to(dtype=mask.dtype)
        return mask

    @classmethod
    def apply(cls, module, name: str, amount, n, dim: int, importance_scores=None):
        """Prune the ``amount`` channels along ``dim`` of ``module.<name>`` whose scores
        (default: the parameter) have the smallest L``n``-norm."""
        return super().apply(module, name, amount=amount, n=n, dim=dim,
                             importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prunes by a given mask (1 keeps, 0 prunes), combined with any earlier mask."""

    PRUNING_TYPE = "global"

    def __init__(self, mask: Tensor) -> None:
        self.mask = mask

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        if default_mask.shape != self.mask.shape:
            raise AssertionError(f"default_mask shape {default_mask.shape} must match "
                                 f"self.mask shape {self.mask.shape}")
        return default_mask * self.mask.to(dtype=default_mask.dtype)

    @classmethod
    def apply(cls, module, name: str, mask: Tensor):
        """Prune ``module.<name>`` by ``mask``."""
        return super().apply(module, name, mask=mask)


# ---- the functional interface -----------------------------------------------------------

def identity(module, name: str):
    """Reparametrize ``module.<name>`` as ``<name>_orig * <name>_mask`` with a mask of ones,
    pruning nothing. Returns ``module``.

    Example:
        >>> prune.identity(nn.Linear(2, 3), "bias").bias_mask
        tensor([1., 1., 1.])
    """
    Identity.apply(module, name)
    return module


def random_unstructured(module, name: str, amount):
    """Prune ``amount`` (a fraction in [0, 1] or a count) of the unpruned entries of
    ``module.<name>``, chosen at random. Returns ``module``.

    Example:
        >>> m = prune.random_unstructured(nn.Linear(2, 3), "weight", amount=1)
        >>> (m.weight_mask == 0).sum()
        tensor(1)
    """
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name: str, amount, importance_scores=None):
    """Prune ``amount`` (a fraction in [0, 1] or a count) of the unpruned entries of
    ``module.<name>``: those of smallest absolute value (of ``importance_scores`` when
    given). Returns ``module``.

    Example:
        >>> m = prune.l1_unstructured(nn.Linear(2, 3), "weight", amount=0.2)
        >>> list(m.state_dict().keys())
        ['bias', 'weight_orig', 'weight_mask']
    """
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name: str, amount, dim: int):
    """Prune ``amount`` (a fraction in [0, 1] or a count) of the unpruned channels along
    ``dim`` of ``module.<name>``, chosen at random. Returns ``module``.

    Example:
        >>> m = prune.random_structured(nn.Linear(5, 3), "weight", amount=3, dim=1)
        >>> int(((m.weight == 0).all(dim=0)).sum())
        3
    """
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name: str, amount, n, dim: int, importance_scores=None):
    """Prune ``amount`` (a fraction in [0, 1] or a count) of the unpruned channels along
    ``dim`` of ``module.<name>``: those of smallest L``n``-norm (of ``importance_scores``
    when given). Returns ``module``.

    Example:
        >>> m = prune.ln_structured(nn.Conv2d(5, 3, 2), "weight", amount=0.3, n=2, dim=0)
    """
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs) -> None:
    """Prune the parameters ``(module, name)`` of ``parameters`` together: the scores of all
    of them, flattened into one vector, are ranked at once by ``pruning_method`` (an
    'unstructured' method class such as ``prune.L1Unstructured``, built with ``kwargs``,
    e.g. ``amount``); each parameter then gets its part of the mask (``custom_from_mask``).

    Args:
        parameters: an iterable of ``(module, name)`` pairs.
        pruning_method: the method class (``PRUNING_TYPE`` must be 'unstructured').
        importance_scores: a dict ``(module, name) -> scores`` (default: the parameters).

    Example:
        >>> prune.global_unstructured([(net[0], "weight"), (net[2], "weight")],
        ...                           pruning_method=prune.L1Unstructured, amount=0.2)
    """
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    importance_scores = importance_scores if importance_scores is not None else {}
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    relevant_importance_scores = parameters_to_vector(
        [importance_scores.get((module, name), getattr(module, name))
         for module, name in parameters])
    default_mask = parameters_to_vector(
        [getattr(module, name + "_mask", ones_like(getattr(module, name)))
         for module, name in parameters])
    container = PruningContainer()
    container._tensor_name = "temp"
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError('Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. '
                        f"Found method {pruning_method} of type {method.PRUNING_TYPE}")
    container.add_pruning_method(method)
    final_mask = container.compute_mask(relevant_importance_scores, default_mask)
    pointer = 0
    for module, name in parameters:
        param = getattr(module, name)
        num_param = param.numel()
        param_mask = final_mask[pointer:pointer + num_param].view_as(param)
        custom_from_mask(module, name, mask=param_mask)
        pointer += num_param


def custom_from_mask(module, name: str, mask: Tensor):
    """Prune ``module.<name>`` by the given 0/1 ``mask`` (combined with any earlier mask).
    Returns ``module``.

    Example:
        >>> m = prune.custom_from_mask(nn.Linear(5, 3), name="bias",
        ...                            mask=torch.tensor([0, 1, 0]))
        >>> m.bias_mask
        tensor([0., 1., 0.])
    """
    CustomFromMask.apply(module, name, mask)
    return module


def remove(module, name: str):
    """Make the pruning of ``module.<name>`` permanent: ``name`` is a Parameter again
    holding the pruned values, ``<name>_orig``, ``<name>_mask`` and the hook are gone.
    Returns ``module``.

    Raises:
        ValueError: ``module.<name>`` is not pruned.

    Example:
        >>> m = prune.remove(prune.random_unstructured(nn.Linear(5, 7), "weight", 0.2),
        ...                  "weight")
    """
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning "
                     "can be removed")


def is_pruned(module) -> bool:
    """Whether ``module`` or one of its submodules has a pruning forward pre-hook.

    Example:
        >>> prune.is_pruned(nn.Linear(5, 7))
        False
    """
    for _, submodule in module.named_modules():
        for hook in submodule._forward_pre_hooks.values():
            if isinstance(hook, BasePruningMethod):
                return True
    return False


# ---- validation and helpers --------------------------------------------------------------

def _validate_pruning_amount_init(amount) -> None:
    """``amount`` must be a float in [0, 1] or a non-negative int (TypeError / ValueError)."""
    if not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral)
            and (float(amount) > 1.0 or float(amount) < 0.0)):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a "
                         "non-negative integer")


def _validate_pruning_amount(amount, tensor_size: int) -> None:
    """An int ``amount`` must not exceed the number of entries (channels) to prune."""
    if isinstance(amount, numbers.Integral) and amount > tensor_size:
        raise ValueError(f"amount={amount} should be smaller than the number of parameters to "
                         f"prune={tensor_size}")


def _validate_structured_pruning(t: Tensor) -> None:
    """Structured pruning needs channels: ``t`` must have at least 2 dims."""
    shape = t.shape
    if len(shape) <= 1:
        raise ValueError("Structured pruning can only be applied to multidimensional tensors. "
                         f"Found tensor of shape {shape} with {len(shape)} dims")


def _compute_nparams_toprune(amount, tensor_size: int) -> int:
    """The number of entries (channels) to prune: ``amount`` itself when an int, else
    ``round(amount * tensor_size)`` (Python's rounding, half to even)."""
    if isinstance(amount, numbers.Integral):
        return amount
    return round(amount * tensor_size)


def _validate_pruning_dim(t: Tensor, dim: int) -> None:
    if dim >= t.dim():
        raise IndexError(f"Invalid index {dim} for tensor of size {t.shape}")


def _compute_norm(t: Tensor, n, dim: int) -> Tensor:
    """The L``n``-norm of ``t`` over every dim but ``dim`` (one value per channel)."""
    dims = list(range(t.dim()))
    if dim < 0:
        dim = dims[dim]
    dims.remove(dim)
    return R.norm(t, p=n, dim=dims)


def _topk_indices(t: Tensor, k: int, largest: bool) -> Tensor:
    """The (sorted) indices of the ``k`` largest / smallest entries of the 1-D ``t``, the
    same set as PyTorch's CPU ``torch.topk(t, k, largest=largest).indices``, ties included.

    Without a tie across the k-th value the set is plain; otherwise (or with NaNs, which
    rank as the largest values) PyTorch's selection is replayed: it puts ``(value, index)``
    pairs through ``std::partial_sort`` when ``k * 64 <= n`` and ``std::nth_element``
    otherwise, comparing the values only, and which of equal values end among the first
    ``k`` is decided by those algorithms (libstdc++'s, reproduced by ``_stl_select``).
    """
    values = backend.to_numpy(t._data).reshape(-1).astype(np.float64)
    n = values.size
    if k == 0:
        idx = np.zeros(0, dtype=np.int64)
    elif k == n:
        idx = np.arange(n, dtype=np.int64)
    else:
        idx = None
        if not np.isnan(values).any():
            s = -values if largest else values
            kth = np.partition(s, k - 1)[k - 1]
            if np.count_nonzero(s <= kth) == k:  # no tie across the k-th value
                idx = np.flatnonzero(s <= kth).astype(np.int64)
        if idx is None:
            idx = np.sort(np.asarray(_stl_select(values.tolist(), k, largest), dtype=np.int64))
    return tensor(idx, device=t.device)


def _stl_select(values: list, k: int, largest: bool) -> list:
    """The indices of the first ``k`` of the pairs ``(values[i], i)`` after libstdc++'s
    ``std::partial_sort(first, first + k, last)`` (when ``k * 64 <= n``) or
    ``std::nth_element(first, first + k - 1, last)``, with PyTorch's topk comparator
    (``x > y``, or ``x < y`` when not ``largest``; NaN counts as larger than any number).
    ``0 < k < len(values)``."""
    a = [(v, i) for i, v in enumerate(values)]
    n = len(a)
    if largest:
        def less(x, y):
            return (x[0] != x[0] and y[0] == y[0]) or x[0] > y[0]
    else:
        def less(x, y):
            return (x[0] == x[0] and y[0] != y[0]) or x[0] < y[0]

    def adjust_heap(first, hole, length, value):  # std::__adjust_heap + std::__push_heap
        top = second = hole
        while second < (length - 1) // 2:
            second = 2 * (second + 1)
            if less(a[first + second], a[first + second - 1]):
                second -= 1
            a[first + hole] = a[first + second]
            hole = second
        if length % 2 == 0 and second == (length - 2) // 2:
            second = 2 * (second + 1)
            a[first + hole] = a[first + second - 1]
            hole = second - 1
        parent = (hole - 1) // 2
        while hole > top and less(a[first + parent], value):
            a[first + hole] = a[first + parent]
            hole = parent
            parent = (hole - 1) // 2
        a[first + hole] = value

    def heap_select(first, middle, last):  # std::__heap_select
        length = middle - first
        if length >= 2:  # std::__make_heap
            parent = (length - 2) // 2
            while True:
                adjust_heap(first, parent, length, a[first + parent])
                if parent == 0:
                    break
                parent -= 1
        for i in range(middle, last):
            if less(a[i], a[first]):  # std::__pop_heap
                value = a[i]
                a[i] = a[first]
                adjust_heap(first, 0, length, value)

    def insertion_sort(first, last):  # std::__insertion_sort
        for i in range(first + 1, last):
            val = a[i]
            if less(val, a[first]):
                a[first + 1:i + 1] = a[first:i]
                a[first] = val
            else:
                j = i - 1
                while less(val, a[j]):
                    a[j + 1] = a[j]
                    j -= 1
                a[j + 1] = val

    def introselect(first, nth, last):  # std::__introselect
        depth = 2 * ((last - first).bit_length() - 1)
        while last - first > 3:
            if depth == 0:
                heap_select(first, nth + 1, last)
                a[first], a[nth] = a[nth], a[first]
                return
            depth -= 1
            # std::__move_median_to_first of first + 1, mid, last - 1
            p, q, r = first + 1, first + (last - first) // 2, last - 1
            if less(a[p], a[q]):
                m = q if less(a[q], a[r]) else (r if less(a[p], a[r]) else p)
            else:
                m = p if less(a[p], a[r]) else (r if less(a[q], a[r]) else q)
            a[first], a[m] = a[m], a[first]
            # std::__unguarded_partition of [first + 1, last) around a[first]
            lo, hi, pivot = first + 1, last, a[first]
            while True:
                while less(a[lo], pivot):
                    lo += 1
                hi -= 1
                while less(pivot, a[hi]):
                    hi -= 1
                if not lo < hi:
                    break
                a[lo], a[hi] = a[hi], a[lo]
                lo += 1
            if lo <= nth:
                first = lo
            else:
                last = lo
        insertion_sort(first, last)

    if k * 64 <= n:
        heap_select(0, k, n)
    else:
        introselect(0, k - 1, n)
    return [i for _, i in a[:k]]
