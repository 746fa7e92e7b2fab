"""NumPy's own BLAS GEMM, callable from compiled kernels (numba, the ``fast`` extra).

Why: a compiled kernel that needs a matrix product in the middle of its loop (a convolution's
columns of a few samples, multiplied by the weight, then scattered into the output) would
otherwise return to Python for ``np.matmul`` and come back, once per chunk of samples. On two
threads those returns take turns at the GIL, and the second core sat idle: LeNet's second
convolution ran 1.1-1.2x faster on two threads than on one, while the same GEMMs alone ran
1.5-1.9x faster. With the GEMM called from inside the kernel, each thread makes one call for
its range of samples and never touches the GIL.

``gemm(dtype)`` returns the ``cblas_?gemm`` entry point of the BLAS library NumPy loaded
(found by ``threadpoolctl``, the ``threads`` extra) as a ctypes function that numba-compiled
code takes as an argument and calls: row-major, ``gemm(ROW_MAJOR, ta, tb, m, n, k, alpha,
a_ptr, lda, b_ptr, ldb, beta, c_ptr, ldc)`` with pointers from ``array.ctypes.data``. It is
None when there is no such library (no threadpoolctl, a BLAS without a CBLAS symbol we know),
for dtypes other than float32/float64, or with the compiled kernels switched off: callers then
run their NumPy path.

Symbols tried, in order: ``scipy_cblas_?gemm64_`` (the ``scipy-openblas64`` NumPy wheels ship,
64-bit integers), ``cblas_?gemm64_`` (an ILP64 OpenBLAS), ``scipy_cblas_?gemm`` and
``cblas_?gemm`` (32-bit integers: Debian's and most system BLAS libraries).
"""

from __future__ import annotations

import ctypes
import os

import numpy as np

from autograd import _numba
from autograd.parallel import _controller

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112

_SYMBOLS = (("scipy_cblas_{}gemm64_", ctypes.c_int64), ("cblas_{}gemm64_", ctypes.c_int64),
            ("scipy_cblas_{}gemm", ctypes.c_int), ("cblas_{}gemm", ctypes.c_int))
_SCALAR = {"s": ctypes.c_float, "d": ctypes.c_double}
_found = None  # {np.dtype: ctypes function}, filled on first use


def _numpy_blas_paths() -> list:
    """File paths of the BLAS libraries loaded in this process, NumPy's first (the one under
    NumPy's install directory, where the wheels keep theirs)."""
    ctl = _controller()
    if ctl is None:
        return []
    paths = [c.filepath for c in ctl.lib_controllers if c.user_api == "blas"]
    root = os.path.dirname(os.path.dirname(np.__file__))
    return sorted(paths, key=lambda p: not p.startswith(os.path.join(root, "numpy")))


def _bind(lib, kind: str):
    for pattern, integer in _SYMBOLS:
        fn = getattr(lib, pattern.format(kind), None)
        if fn is None:
            continue
        scalar, ptr = _SCALAR[kind], ctypes.c_void_p
        fn.restype = None
        fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, integer, integer, integer,
                       scalar, ptr, integer, ptr, integer, scalar, ptr, integer]
        return fn
    return None


def _load() -> dict:
    found = {}
    for path in _numpy_blas_paths():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        s, d = _bind(lib, "s"), _bind(lib, "d")
        if s is not None and d is not None:
            found = {np.dtype(np.float32): s, np.dtype(np.float64): d}
            break
    return found


def gemm(dtype):
    """The CBLAS GEMM of NumPy's BLAS for ``dtype`` (float32 or float64) as a ctypes function
    for compiled kernels, or None (see the module docstring)."""
    global _found
    if not _numba.enabled():
        return None
    if _found is None:
        _found = _load()
    return _found.get(np.dtype(dtype))
