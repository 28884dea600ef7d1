#!/usr/bin/env bash
# The main job on the embedded default: install, ingest the sample corpus, show the index status.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/civicrag ingest corpus
.venv/bin/civicrag status
