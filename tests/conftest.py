"""Shared pytest configuration: a small, deadline-free hypothesis profile (float64 gradient
checks are slow enough that per-example deadlines only produce flaky failures)."""

from hypothesis import settings

settings.register_profile("ci", max_examples=25, deadline=None)
settings.load_profile("ci")
