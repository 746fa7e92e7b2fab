"""``nn.modules.utils``: PyTorch's small helpers of the same module, which user code imports
(``from torch.nn.modules.utils import _pair, consume_prefix_in_state_dict_if_present``)."""

from __future__ import annotations

import collections.abc
from itertools import repeat

__all__ = ["consume_prefix_in_state_dict_if_present"]


def _ntuple(n: int, name: str = "parse"):
    """A function that makes an ``n``-tuple of a value (repeated) or of an iterable (as is),
    as PyTorch's: ``_pair(3) == (3, 3)``, ``_pair((1, 2)) == (1, 2)``."""

    def parse(x):
        if isinstance(x, collections.abc.Iterable):
            return tuple(x)
        return tuple(repeat(x, n))

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def consume_prefix_in_state_dict_if_present(state_dict: dict, prefix: str) -> None:
    """Strip ``prefix`` from the keys of ``state_dict`` that start with it, in place (keys
    keep their order relative to each other, moved to the end, as PyTorch's).

    A state dict saved from a ``DataParallel``/``DistributedDataParallel`` model has keys
    ``"module.<name>"``; after ``consume_prefix_in_state_dict_if_present(sd, "module.")``
    the plain model loads it.
    """
    for key in list(state_dict.keys()):
        if key.startswith(prefix):
            state_dict[key[len(prefix):]] = state_dict.pop(key)
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is not None:  # PyTorch's per-module metadata, when a state dict carries it
        for key in list(metadata.keys()):
            if key and (key == prefix.replace(".", "") or key.startswith(prefix)):
                metadata[key[len(prefix):]] = metadata.pop(key)
