#!/usr/bin/env bash
# One command: install everything, then run the main job (the demo) on the embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/hri-emo demo "$@"
