"""Scans, sorting, searching and statistics (cummax, unique, histc, searchsorted...)."""

from __future__ import annotations
