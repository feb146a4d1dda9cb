#!/usr/bin/env bash
# Creates bench/train-keras/.venv with TensorFlow's CPU build (≈ 600 MB; only this benchmark needs it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"
if [[ ! -x "$here/.venv/bin/python" ]]; then
  "$python" -m venv "$here/.venv"
fi
"$here/.venv/bin/pip" install --quiet -r "$here/requirements.txt"
"$here/.venv/bin/python" -c 'import tensorflow as tf; print("tensorflow", tf.__version__)'
