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
extras=""
if (($# > 0)); then extras="[$(IFS=,; echo "$*")]"; fi
.venv/bin/python -m pip install --quiet -e ".${extras}" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import scanner.cli" && echo "schoonschip installed: .venv/bin/schoonschip"
