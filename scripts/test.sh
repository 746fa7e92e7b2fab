#!/usr/bin/env bash
# Set up a virtualenv with the test dependencies, then lint and run the whole test suite.
# This is README command (2), and what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_venv.sh
"$PY" -m pip install -q -e ".[test,safetensors]"
# PyTorch is an optional test oracle: install it only from a local wheel (never a download)
"$PY" -m pip install -q --no-index torch==2.13.0 2>/dev/null \
  || echo "note: PyTorch not available locally; the torch-oracle tests will be skipped"
"$PY" -m ruff check autograd nn optim tests scripts
"$PY" -m pytest -q -p no:cacheprovider "$@"
