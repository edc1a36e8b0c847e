#!/usr/bin/env bash
# Installs schoonschip into ./.venv (Python 3.11+). Pass extras as arguments, e.g.
#   scripts/install.sh postgres dask
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip >/dev/null
# `compile`: mypyc and setuptools, for the C build of the detection hot path below
wanted=("$@")
if [[ "${SCHOONSCHIP_NO_COMPILE:-0}" != "1" ]]; then wanted=(compile "${wanted[@]}"); fi
extras=""
if ((${#wanted[@]} > 0)); then extras="[$(IFS=,; echo "${wanted[*]}")]"; fi
.venv/bin/python -m pip install --quiet -e ".${extras}" 2>&1 | grep -v "^WARNING: Location" || true
# The detection hot path compiled to C with mypyc (~20 % less CPU per text, the same results;
# docs/decisions.md, 2026-12-03). Rebuilt only when its sources changed. Without a C compiler,
# or with SCHOONSCHIP_NO_COMPILE=1, detection runs as plain Python: `schoonschip check` says so.
if [[ "${SCHOONSCHIP_NO_COMPILE:-0}" != "1" ]]; then
  .venv/bin/python scripts/build_compiled.py 2>&1 | grep -v ": warning: \|^pyproject.toml: note" || true
else
  .venv/bin/python scripts/build_compiled.py --clean >/dev/null
fi
.venv/bin/python -c "import scanner.cli" && echo "schoonschip installed: .venv/bin/schoonschip"
