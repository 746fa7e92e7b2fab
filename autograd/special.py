"""``torch.special``: special functions (helper 'elem')."""

from __future__ import annotations
