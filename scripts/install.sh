#!/usr/bin/env bash
# Create .venv with Python 3.11 and install civicrag into it. Extras: scripts/install.sh test
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-python3.11}
command -v "$py" >/dev/null 2>&1 || py=python3
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
fi
extras=${1:-}
# torch is pinned to 2.13.0 in pyproject.toml: that CPU build is what pip resolves here
# (any other version would pull a multi-GB CUDA build).
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}"
