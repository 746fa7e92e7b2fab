#!/usr/bin/env bash
# Set up a virtualenv with the package, then run the demo training (offline). README command (1).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_venv.sh
"$PY" -m pip install -q -e .
"$PY" scripts/demo.py "$@"
