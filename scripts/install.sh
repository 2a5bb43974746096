#!/usr/bin/env bash
# Create .venv and install HRI-EMO with every dependency (CPU torch pinned by constraints.txt).
# Idempotent: a second run only re-checks the install. HRI_EMO_EXTRAS picks the extras (default: dev).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -c constraints.txt -e ".[${HRI_EMO_EXTRAS:-dev}]"
