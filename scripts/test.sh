#!/usr/bin/env bash
# The whole test suite, from a fresh machine: Debian packages for the real servers the tests
# start (Samba, Dovecot, PostgreSQL, Chromium, Tesseract), the Python environment with the
# test extras, then pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh
bash scripts/install.sh test
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
