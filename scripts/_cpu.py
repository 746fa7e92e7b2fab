"""Run before NumPy is imported: pick OpenBLAS's AVX-512 kernels on CPUs it does not know.

OpenBLAS (the BLAS inside NumPy's wheels) chooses its kernels by CPU model. On recent AMD
EPYC/Ryzen (Zen 4/5) it does not recognise the model and falls back to its AVX2 "Haswell"
kernels, although the CPU has AVX-512: single-thread float32 GEMMs then run at half speed
(measured here: 107 vs 209 GFLOP/s). Setting OPENBLAS_CORETYPE=SkylakeX selects the
AVX-512 kernels. This only takes effect before NumPy is loaded, so scripts call it first
thing; users can export the variable themselves. It never overrides a value already set and
does nothing on CPUs without the AVX-512 subsets those kernels use.
"""

from __future__ import annotations

import os

_NEEDED = {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"}


def tune_openblas() -> str | None:
    """Set OPENBLAS_CORETYPE=SkylakeX when the CPU supports it; return what was set."""
    if "OPENBLAS_CORETYPE" in os.environ:
        return None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
            else:
                return None
    except OSError:
        return None
    if _NEEDED <= flags:
        os.environ["OPENBLAS_CORETYPE"] = "SkylakeX"
        return "SkylakeX"
    return None
