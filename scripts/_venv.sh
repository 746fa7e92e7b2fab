# Sourced by demo.sh and test.sh: make .venv (installing python3-venv on Debian if needed)
# and set $PY to its interpreter.
if [ ! -x .venv/bin/python ]; then
  if ! python3 -m venv .venv 2>/dev/null; then
    rm -rf .venv
    if command -v apt-get >/dev/null 2>&1; then
      echo "python3 -m venv failed; installing python3-venv" >&2
      (apt-get update -qq && apt-get install -y -qq python3-venv) >/dev/null
    fi
    python3 -m venv .venv
  fi
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
fi
PY=.venv/bin/python
export PY
