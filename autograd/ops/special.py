"""Element-wise special functions (lgamma, digamma, erfinv, xlogy, logaddexp...)."""

from __future__ import annotations
