#!/usr/bin/env bash
# The whole test suite, from a fresh machine: Debian packages for the real servers the tests
# start (Samba, Dovecot, PostgreSQL, Chromium, Tesseract), the Python environment with the
# test extras, real .pst/.ost sample files (scripts/fetch-test-data.sh), the code rules (ruff,
# mypy, the import-linter layering contracts in pyproject.toml; any finding fails the run
# before a test starts), then pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh
bash scripts/install.sh test
bash scripts/fetch-test-data.sh
echo "code rules: ruff"
.venv/bin/ruff check --quiet .
echo "code rules: mypy"
.venv/bin/mypy
echo "code rules: import-linter"
.venv/bin/lint-imports --no-cache
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
