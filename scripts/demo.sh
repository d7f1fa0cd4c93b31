#!/usr/bin/env bash
# Set up the environment and run the demo: night frames (../shared when present, else generated)
# through the models, with a side-by-side picture and timings.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
export YOLO_OFFLINE=1 YOLO_AUTOINSTALL=false
exec .venv/bin/llie demo -o demo_out "$@"
