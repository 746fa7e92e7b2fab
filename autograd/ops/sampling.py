"""Random sampling ops (bernoulli, multinomial, normal...) and in-place fills."""

from __future__ import annotations
