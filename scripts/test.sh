#!/usr/bin/env bash
# One command: install (if needed), lint, check formatting, and run the default test suite.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -m slow`).
set -euo pipefail
cd "$(dirname "$0")/.."
# The tests also cover the optional eGeMAPS extractor (opensmile; research-only licence).
HRI_EMO_EXTRAS=dev,egemaps bash scripts/install.sh
bash scripts/install-browser.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check src tests benchmarks
# Test files run in parallel, one core each (tests/conftest.py), at most 4 workers: the suite
# takes ~9 minutes on 2 cores against ~14 one file after another. `-n 0` runs it in one process.
.venv/bin/python -m pytest -n auto --maxprocesses 4 --dist loadfile "$@"
