#!/usr/bin/env bash
# Build the report: set up .venv if needed, run notebooks/NN_*.ipynb in order with papermill, export HTML
# and PDF, and replace reports/ only when every step succeeded.
#
#   ./run_all.sh                      profile gpu when CUDA is available, else cpu
#   ./run_all.sh --profile smoke      minutes; for CI and trying things
#   ./run_all.sh --profile full       the gpu scale on the offline models (no model hub needed)
#   ./run_all.sh --only 01,03         just these notebooks (+ the report notebook); keeps the rest of reports/
#   ./run_all.sh --from 02            02 and everything after it
#   ./run_all.sh --help               all options (python -m hatespeech.publish)
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup_venv.sh
exec .venv/bin/python -m hatespeech.publish "$@"
