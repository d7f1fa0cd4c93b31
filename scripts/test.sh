#!/usr/bin/env bash
# Set up the environment and run the test suite (ROS tests run too when a ROS 2 install is found).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
for ros in /opt/ros/*/setup.bash; do
  # shellcheck disable=SC1090
  [ -f "$ros" ] && { set +u; source "$ros"; set -u; echo "sourced $ros"; break; }
done
export YOLO_OFFLINE=1 YOLO_AUTOINSTALL=false
export PATH="$PWD/.venv/bin:$PATH"
exec .venv/bin/python -m pytest -q "$@"
