"""Regenerate tests/cupy_sim/cupy_names.json: the names the real CuPy has, which the CuPy
stand-in of the tests (tests/cupy_sim) is allowed to have, and no others.

CuPy imports on a machine without a GPU (creating an array then fails, reading its namespace
does not). Run with a CuPy installed (``pip install cupy-cuda12x``):

    python scripts/cupy_names.py            # writes tests/cupy_sim/cupy_names.json
"""

from __future__ import annotations

import inspect
import json
import pathlib
import sys

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "cupy_sim" / "cupy_names.json"


def _public(obj) -> list[str]:
    return sorted(n for n in dir(obj) if not n.startswith("_"))


def main() -> int:
    import cupy  # noqa: PLC0415 - optional; this script exists to read it
    import cupy.cuda.memory  # noqa: PLC0415, F401
    import cupyx  # noqa: PLC0415
    import cupyx.scipy.special  # noqa: PLC0415

    ufunc_type = type(cupy.add)
    names = {
        "cupy_version": cupy.__version__,
        "cupy": _public(cupy),
        "ufuncs": sorted(n for n in _public(cupy) if isinstance(getattr(cupy, n), ufunc_type)),
        "ufunc_methods": _public(cupy.add),
        "ndarray": sorted(n for n in dir(cupy.ndarray)
                          if not n.startswith("_") or n.startswith("__")),
        "linalg": _public(cupy.linalg),
        "random": _public(cupy.random),
        "random_RandomState": _public(cupy.random.RandomState),
        "fft": _public(cupy.fft),
        "lib": _public(cupy.lib),
        "lib_stride_tricks": _public(cupy.lib.stride_tricks),
        "cuda": _public(cupy.cuda),
        "cuda_runtime": _public(cupy.cuda.runtime),
        "cuda_Device": _public(cupy.cuda.Device),
        "cuda_Stream": _public(cupy.cuda.Stream),
        "MemoryPool": _public(cupy.cuda.MemoryPool),
        "PinnedMemoryPool": _public(cupy.cuda.PinnedMemoryPool),
        "cupyx": _public(cupyx),
        "cupyx_scipy_special": _public(cupyx.scipy.special),
    }
    # keyword names of the functions whose signature Python can read (the Cython ufuncs and
    # ndarray methods have none): the stand-in refuses a keyword CuPy's function lacks
    sigs = {}
    for qual, mod in (("", cupy), ("linalg.", cupy.linalg)):
        for n in _public(mod):
            f = getattr(mod, n)
            if not callable(f) or isinstance(f, type):
                continue
            try:
                ps = inspect.signature(f).parameters.values()
            except (TypeError, ValueError):
                continue
            if any(p.kind is p.VAR_KEYWORD for p in ps):
                continue
            sigs[qual + n] = [p.name for p in ps if p.kind is not p.VAR_POSITIONAL]
    names["signatures"] = sigs
    OUT.write_text(json.dumps(names, indent=0, sort_keys=True) + "\n")
    print(f"wrote {OUT} (CuPy {cupy.__version__}: {len(names['cupy'])} names)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
