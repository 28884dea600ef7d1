#!/usr/bin/env bash
# The main job on the embedded default: install, ingest the sample corpus, serve the web chat on
# http://127.0.0.1:7860 (open demo mode: no login, staff role, loopback only). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/civicrag ingest corpus
.venv/bin/civicrag status
exec .venv/bin/civicrag serve --host 127.0.0.1 --port 7860 --open-demo
