"""Process-wide hook tables that higher layers fill and lower layers call.

``nn.Module.__call__`` runs the global module hooks kept here (PyTorch's
``nn.modules.module.register_module_forward_pre_hook`` / ``register_module_forward_hook``
add to these tables); ``autograd.viz`` registers one while it records module boundaries.
Keeping the tables in the bottom layer lets a drawing tool observe modules without the core
(or ``nn``) knowing about drawings.
"""

from __future__ import annotations

import itertools
import weakref
from collections import OrderedDict

module_forward_pre_hooks: OrderedDict = OrderedDict()  # id -> hook(module, args) -> args|None
module_forward_hooks: OrderedDict = OrderedDict()  # id -> hook(module, args, out) -> out|None

# graph node -> {output index: name}, written by ``Tensor.name = ...`` on an intermediate
# tensor and read by drawings (the tensor itself is usually gone by then)
node_names: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

# nodes created while a create_graph backward ran (drawings show them apart)
made_in_backward: weakref.WeakSet = weakref.WeakSet()

_ids = itertools.count()


class RemovableHandle:
    """Returned by every ``register_*hook``: ``handle.remove()`` unregisters the hook; also a
    context manager that removes it on exit."""

    def __init__(self, table, key=None):
        self._table = table
        self.id = next(_ids) if key is None else key

    def remove(self) -> None:
        self._table.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


def add(table, hook) -> RemovableHandle:
    """Put ``hook`` in ``table`` (one of the dicts above, or any dict); return its handle."""
    h = RemovableHandle(table)
    table[h.id] = hook
    return h
