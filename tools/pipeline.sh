#!/usr/bin/env bash
# The README's run command: set up, then run the whole pipeline on embedded defaults.
#   - DVC: the configured default remote (setup adds a local folder remote when none is configured)
#   - MLflow: MLFLOW_TRACKING_URI if set, else a local `mlflow server` (SQLite + served artifacts in .mlflow/)
#     started here for the duration of the run; its UI URL is printed
# Extra arguments go to `dvc repro` (e.g. `npm run pipeline -- featurize` or `-- --force`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
log() { printf '[pipeline] %s\n' "$*" >&2; }

bash tools/setup.sh
export PATH="$root/.venv/bin:$PATH"

if [ -z "${MLFLOW_TRACKING_URI:-}" ]; then
  info="$(mktemp)"
  # node itself in the background (not a shell function), so $! is the process the exit trap stops
  node --conditions=@mlops-ts/source --import tsx apps/tracking-server/src/main.ts start --dir .mlflow --info "$info" &
  server_pid=$!
  stop_server() { local rc=$?; kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; rm -f "$info"; exit "$rc"; }
  trap stop_server EXIT
  for _ in $(seq 1 120); do [ -s "$info" ] && break; kill -0 "$server_pid" 2>/dev/null || break; sleep 0.5; done
  [ -s "$info" ] || { log "the local MLflow server did not start"; exit 1; }
  MLFLOW_TRACKING_URI="$(cat "$info")"
  export MLFLOW_TRACKING_URI
  log "MLflow UI: $MLFLOW_TRACKING_URI (local server, stops when the pipeline ends; reopen with: npm run mlflow-ui)"
fi
export MLOPS_PIPELINE_RUN_ID="${MLOPS_PIPELINE_RUN_ID:-$(node -e 'console.log(crypto.randomUUID())')}"
log "pipeline run $MLOPS_PIPELINE_RUN_ID"

dvc repro "$@"
if dvc remote default >/dev/null 2>&1; then
  log "dvc push"
  dvc push
fi
log "dvc status"
dvc status
dvc metrics show
