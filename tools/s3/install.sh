#!/usr/bin/env bash
# Installs the loopback S3 server for tests (moto's server mode, see README.md) into its own venv.
# Idempotent and quick when already installed (a hash of requirements.txt + constraints.txt is stamped
# into the venv); safe to run from several test processes at once (flock).
# Prints the venv's python interpreter path as the last line on stdout; progress goes to stderr.
# Environment: PYTHON (interpreter that creates the venv, default python3),
#              MLOPS_S3_VENV (venv folder, default tools/s3/.venv).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${MLOPS_S3_VENV:-$here/.venv}"
log() { printf '[s3-install] %s\n' "$*" >&2; }

mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9

req_hash=$(cat "$here/requirements.txt" "$here/constraints.txt" | sha256sum | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" = "$req_hash" ]; then
  log "moto server up to date in $venv"
else
  t0=$SECONDS
  py="${PYTHON:-python3}"
  if [ ! -x "$venv/bin/python" ]; then
    log "creating $venv with $("$py" --version 2>&1)"
    "$py" -m venv "$venv"
  fi
  log "installing tools/s3/requirements.txt into $venv (30-80 s the first time)"
  "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q \
    -r "$here/requirements.txt" -c "$here/constraints.txt"
  "$venv/bin/python" -c 'import boto3, flask, flask_cors, moto.moto_server.threaded_moto_server'
  echo "$req_hash" > "$venv/.requirements.sha256"
  log "installed in $((SECONDS - t0)) s"
fi
echo "$venv/bin/python"
