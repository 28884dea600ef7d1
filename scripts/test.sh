#!/usr/bin/env bash
# Install civicrag with its test dependencies (Python packages into .venv; Debian chromium and
# Tesseract when missing), then lint and run the test suite. Tests over the real corpus in
# ../shared/corpus run when it is present and skip otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
bash scripts/install.sh test
.venv/bin/ruff check .
.venv/bin/python -m pytest -q "$@"
