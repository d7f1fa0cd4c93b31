#!/usr/bin/env bash
# Create (or reuse) the project virtualenv and link it at ./.venv.
# The environment is cached outside the clone, keyed by a hash of setup.py + constraints.txt,
# so a second run on the same machine takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
key=$(cat setup.py constraints.txt | sha256sum | cut -c1-16)
cache="${LLIE_VENV_CACHE:-$HOME/.cache/llie}"
venv="$cache/venv-$key"
if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.complete" ]; then
  echo "creating $venv (first run: installs torch, onnxruntime, ultralytics; a few minutes)"
  rm -rf "$venv"
  mkdir -p "$cache"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q -e ".[all]" -c constraints.txt
  touch "$venv/.complete"
fi
# The editable install points at this clone (the cache may have been built from another one).
"$venv/bin/pip" install -q --no-deps --no-build-isolation -e . >/dev/null
ln -sfn "$venv" .venv
