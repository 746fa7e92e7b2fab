"""``torch.linalg``: linear-algebra functions with gradients (helper 'linalg')."""

from __future__ import annotations
