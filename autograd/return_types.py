"""PyTorch's ``torch.return_types``: the named tuples of ops that return several tensors
(``max(x, dim)`` gives ``(values, indices)``, ``sort`` likewise, ``linalg.qr`` ``(Q, R)``...).

Each is a ``namedtuple`` (indexing, unpacking, ``.values`` and ``._fields`` all work) that
prints as PyTorch prints its result types, one field per line::

    torch.return_types.max(
    values=tensor([0.6614, 0.3817]),
    indices=tensor([0, 3]))

They live in this module under their names (``autograd.return_types.max``), which also lets
them pickle; like every printed name here (``torch.float32``, ``torch.Size``), the repr says
``torch.``, as PyTorch's does, so that a ported program prints PyTorch's text.
"""

from __future__ import annotations

from collections import namedtuple


def _repr(self) -> str:
    fields = ",\n".join(f"{k}={v!r}" for k, v in zip(self._fields, self))
    return f"torch.return_types.{type(self).__name__}(\n{fields})"


def structseq(name: str, fields) -> type:
    """The result type ``name`` with ``fields``, made once and kept in this module.

    Raises:
        ValueError: ``name`` already exists with other fields.
    """
    cls = globals().get(name)
    if cls is not None:
        if cls._fields != tuple(fields):
            raise ValueError(f"return type {name!r} already has fields {cls._fields}, "
                             f"not {tuple(fields)}")
        return cls
    cls = namedtuple(name, fields, module=__name__)
    cls.__repr__ = _repr
    globals()[name] = cls
    return cls
