#!/usr/bin/env bash
# Training rows/s with tracking on vs off: what the buffered MLflow logger costs inside the training loop.
# Runs the train stage twice on the current data/features (same model, params, seed, backend): once with
# --no-tracking, once against a local `mlflow server` started here, and prints the ratio of one run.
#   bash bench/tracking-overhead/run.sh [model]      (default mlp_small; data/features must exist: dvc repro featurize)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
model="${1:-mlp_small}"
[ -f data/features/meta.json ] || .venv/bin/dvc repro featurize
work="$(mktemp -d)"
app() { node --conditions=@mlops-ts/source --import tsx "$@"; }
rows_per_s() { grep -o '[0-9]* rows/s on [a-z]*' "$1" | tail -1; }

# node itself in the background (not a shell function), so $! is the process the exit trap stops
node --conditions=@mlops-ts/source --import tsx apps/tracking-server/src/main.ts start --dir "$work/mlflow" --info "$work/uri" 2>"$work/server.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 120); do [ -s "$work/uri" ] && break; sleep 0.5; done
[ -s "$work/uri" ] || { cat "$work/server.log"; exit 1; }

echo "training $model without tracking ..." >&2
app apps/train/src/main.ts --model "$model" --out "$work/off" --no-tracking 2>"$work/off.log"
echo "training $model with MLflow tracking ($(cat "$work/uri")) ..." >&2
MLFLOW_TRACKING_URI="$(cat "$work/uri")" MLOPS_PIPELINE_RUN_ID=bench app apps/train/src/main.ts --model "$model" --out "$work/on" 2>"$work/on.log"

off=$(rows_per_s "$work/off.log"); on=$(rows_per_s "$work/on.log")
printf '%-22s %s\n' "tracking off" "$off" "tracking on (MLflow)" "$on"
node -e 'const [a,b]=process.argv.slice(1).map(s=>parseInt(s,10)); console.log(`ratio on/off: ${(b/a).toFixed(3)} (1.0 = no overhead)`)' "$off" "$on"
