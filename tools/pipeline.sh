#!/usr/bin/env bash
# The README's run command: set up, then run the whole pipeline on embedded defaults.
#   - DVC: the configured default remote (setup adds a local folder remote when none is configured)
#   - MLflow: MLFLOW_TRACKING_URI if set, else a local `mlflow server` (SQLite + served artifacts in .mlflow/)
#     started here for the duration of the run; its UI URL is printed
#   - `npm run check` first: every stage's params and the feature columns against the raw table, all problems at
#     once; bad params stop here, before `dvc repro` deletes any stage's previous outputs
#   - the backend notice once per run (native TensorFlow built or not; stages skip theirs: MLOPS_BACKEND_NOTICE_SHOWN=1)
#   - ends with a short summary (tools/summary.mjs: data quality, ranking, baseline, champion); the full table is
#     `dvc metrics show`
#   - nothing to run (no arguments, `dvc status` clean): no check, no MLflow server, no repro; push + summary only
# Extra arguments go to `dvc repro` (e.g. `npm run pipeline -- featurize` or `-- --force`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
log() { printf '[pipeline] %s\n' "$*" >&2; }

bash tools/setup.sh
export PATH="$root/.venv/bin:$PATH"

# Nothing to run (no extra arguments and `dvc status` finds every stage up to date): the params check, the MLflow
# server and dvc repro would all find nothing to do, so they are skipped; the outputs are pushed and summarised.
if [ $# -eq 0 ] && dvc status --quiet >/dev/null 2>&1; then
  log "dvc status: every stage is up to date, nothing to run (no MLflow server started; npm run pipeline -- --force reruns every stage)"
  if dvc remote default >/dev/null 2>&1; then
    log "dvc push"
    dvc push
  fi
  log "summary (all metrics: dvc metrics show; experiments: dvc exp show --only-changed)"
  node tools/summary.mjs
  exit 0
fi

# Params and feature columns, before anything runs (DVC deletes a stage's outputs before running its command).
if [ -f apps/check/src/main.ts ] && [ -n "$(node -p "require('./package.json').scripts?.check ?? ''")" ]; then
  log "npm run check"
  npm run -s check || { rc=$?; log "stopped before dvc repro: fix the problems above (no stage ran, every output is as it was)"; exit "$rc"; }
else
  log "npm run check is not available here (no apps/check/src/main.ts or no \"check\" script): each stage checks its own params when it runs"
fi

# The training backend notice, once for the whole run instead of once per stage.
if [ "${MLOPS_BACKEND_NOTICE_SHOWN:-}" != "1" ]; then
  if [ -n "${MLOPS_NATIVE_TF_DIR:-}" ] || [ -d node_modules/.native-tf ]; then
    log "native TensorFlow backend found: backend auto trains on it from batch 1024 (wasm below, where wasm was faster) and evaluates on it"
  elif ! node -e "require.resolve('@tensorflow/tfjs-node', { paths: [process.argv[1]] })" "$root/libs/model-train" >/dev/null 2>&1; then
    log "native TensorFlow backend not built: training uses the wasm backend (else cpu); npm run setup -- --native-tf builds it"
  fi
fi
export MLOPS_BACKEND_NOTICE_SHOWN=1

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
  # the run links the stages record (run records, metrics/compare.json) point at `npm run mlflow-ui`, which serves
  # the same .mlflow store after this server is gone, not at this run's port
  export MLOPS_MLFLOW_UI_URI="${MLOPS_MLFLOW_UI_URI:-http://127.0.0.1:5000}"
  log "MLflow UI: $MLFLOW_TRACKING_URI (local server, stops when the pipeline ends; reopen with: npm run mlflow-ui)"
fi
export MLOPS_PIPELINE_RUN_ID="${MLOPS_PIPELINE_RUN_ID:-$(node -e 'console.log(crypto.randomUUID())')}"
log "pipeline run $MLOPS_PIPELINE_RUN_ID"
if [ -z "${CLEARML_API_HOST:-}" ] && [ ! -f "${CLEARML_CONFIG_FILE:-$HOME/clearml.conf}" ]; then
  log "ClearML: no server configured (CLEARML_API_HOST + keys, or ~/clearml.conf): runs go to offline sessions in .mlops/clearml-offline/"
fi
started_marker="$(mktemp)"

dvc repro "$@"
# The ClearML offline sessions this run wrote (the stages name each one with its import command).
sessions="$(find .mlops/clearml-offline -maxdepth 1 -name '*.zip' -newer "$started_marker" 2>/dev/null | sort || true)"
rm -f "$started_marker"
if [ -n "$sessions" ]; then
  log "ClearML offline sessions written: $(printf '%s\n' "$sessions" | wc -l) in .mlops/clearml-offline/; send each to a server with: npm run clearml -- import <zip> (a train session first; an evaluate session continuing it with --task <the id that import printed>)"
fi
if dvc remote default >/dev/null 2>&1; then
  log "dvc push"
  dvc push
fi
log "dvc status"
dvc status
log "summary (all metrics: dvc metrics show; experiments: dvc exp show --only-changed)"
node tools/summary.mjs
