#!/usr/bin/env bash
# Sets up a fresh clone (idempotent; quick when already done):
#   1. npm dependencies from the lock (npm ci when node_modules is missing or older than the lock)
#   2. the pinned Python tools (requirements.txt) in the project venv .venv
#   3. a default DVC remote (a local folder outside the repository) unless one is configured
#   4. the raw data: dvc pull, else ingest from the pinned npm package (md5 checked against the .dvc pointer)
# constraints.txt pins the whole resolved set, so a fresh install resolves nothing and matches every machine.
# Environment: PYTHON (interpreter for the venv, default python3), MLOPS_DVC_REMOTE (local remote folder),
#              MLOPS_SKIP_DATA=1 (stop after the toolchain).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
log() { printf '[setup] %s\n' "$*" >&2; }

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then log "Node.js >= 20.19 is required (found $(node --version))"; exit 1; fi

# 1. npm
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
else
  log "npm dependencies up to date"
fi

# 2. Python tools
py="${PYTHON:-python3}"
req_hash=$(cat requirements.txt constraints.txt | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ]; then
  log "creating .venv with $($py --version 2>&1)"
  "$py" -m venv .venv
fi
if [ "$(cat .venv/.requirements.sha256 2>/dev/null)" != "$req_hash" ]; then
  log "installing requirements.txt into .venv (first time takes a few minutes)"
  .venv/bin/python -m pip install --disable-pip-version-check -q -r requirements.txt -c constraints.txt
  echo "$req_hash" > .venv/.requirements.sha256
else
  log "Python tools up to date ($(.venv/bin/dvc --version 2>/dev/null | head -1 | sed 's/^/dvc /'))"
fi
export PATH="$root/.venv/bin:$PATH"

# 3. DVC remote
if ! dvc remote default >/dev/null 2>&1; then
  remote="${MLOPS_DVC_REMOTE:-$HOME/.cache/mlops-ts/dvc-remote}"
  mkdir -p "$remote"
  log "no DVC remote configured: using local folder $remote (.dvc/config.local)"
  dvc remote add --local --force --default local "$remote" >/dev/null
fi

# 4. raw data
if [ "${MLOPS_SKIP_DATA:-0}" != "1" ]; then
  node --conditions=@mlops-ts/source --import tsx apps/ingest/src/main.ts
fi
log "ready"
