#!/usr/bin/env bash
# The test command (README, CI): fills .venv on first use, then runs the whole suite.
# Extra arguments go to pytest, e.g. ./run_tests.sh -m "not slow" or ./run_tests.sh tests/test_losses.py
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup_venv.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
# Style first (seconds): ruff's lint rules and its formatter, line length 110 (pyproject.toml).
.venv/bin/ruff check lib tests benchmarks scripts
.venv/bin/ruff format --check lib tests benchmarks scripts
exec .venv/bin/python -m pytest -q "$@"
