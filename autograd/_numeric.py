"""Floating-point helpers shared by the creation functions and the random samplers."""

from __future__ import annotations


def fma(a, b, c):
    """``a * b + c`` rounded once (a fused multiply-add, as PyTorch's compiled CPU kernels
    compute ``start + step * i`` and ``x * (high - low) + low``), for float64 arrays and
    numbers: the exact product (Dekker's split) plus an exact sum (Knuth's two-sum)."""
    p = a * b
    s = 134217729.0  # 2**27 + 1
    t = s * a
    ah = t - (t - a)
    al = a - ah
    t = s * b
    bh = t - (t - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl  # p + e == a * b exactly
    r = p + c
    z = r - p
    err = (p - (r - z)) + (c - z)  # r + err == p + c exactly
    return r + (err + e)
