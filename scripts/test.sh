#!/usr/bin/env bash
# Set up a virtualenv with the test dependencies, then lint and run the whole test suite.
# This is README command (2), and what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_venv.sh
# The mpi extra (mpi4py) builds against the MPI library that .ci/run installs; without one,
# install the rest and let the distributed tests skip.
"$PY" -m pip install -q -e ".[test,notebooks,safetensors,fast,mpi]" \
  || { echo "note: mpi4py could not be installed (no MPI library?); the distributed tests will be skipped"
       "$PY" -m pip install -q -e ".[test,notebooks,safetensors,fast]"; }
# PyTorch is an optional test oracle. Only a locally available wheel is used (pip's
# find-links); never a multi-GB download. Its small dependencies come from the index.
wheels=$(mktemp -d)
if "$PY" -m pip download -q --no-index --no-deps -d "$wheels" torch==2.13.0 2>/dev/null; then
  "$PY" -m pip install -q "$wheels"/torch-*.whl \
    || echo "note: PyTorch could not be installed; the torch-oracle tests will be skipped"
else
  echo "note: no local PyTorch wheel; the torch-oracle tests will be skipped"
fi
rm -rf "$wheels"
"$PY" -m ruff check autograd nn optim tests scripts
"$PY" scripts/api_coverage.py || true  # PyTorch's API present here, per area (information)
"$PY" -m pytest -q -p no:cacheprovider "$@"
# The GPU code paths without a GPU: every device-parametrised "cuda" case (the gpu mark) again,
# on the strict CuPy stand-in of tests/cupy_sim (about 10 s).
"$PY" -m pytest -q -p no:cacheprovider --cuda-sim -m gpu tests
