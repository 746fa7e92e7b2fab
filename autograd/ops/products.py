"""Products and fused multiply-adds (addmm, baddbmm, kron, tensordot, cross, cdist...)."""

from __future__ import annotations
