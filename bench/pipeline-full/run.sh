#!/usr/bin/env bash
# The whole pipeline (every stage of dvc.yaml: prepare, featurize, train/evaluate of each model, compare, report) on
# all 3,000,000 flights, timed stage by stage: wall time and peak resident memory (max RSS of the stage's largest
# process, from /usr/bin/time -v) per stage and in total. One run, on demand, never part of the tests.
#
#   bash bench/pipeline-full/run.sh [rows]     (rows: data.rows for the run, 0 = all, the default)
#
# It works on a clone of the current commit in bench/pipeline-full/.work/repo (the repository's own workspace, DVC
# cache and dvc.lock are not touched): params.yaml there gets data.rows, the raw data is copied in, and each stage
# runs as `dvc repro --single-item --force <stage>` in dvc.yaml's order, against a local MLflow server started for
# the run (ClearML: offline sessions inside the clone, unless CLEARML_* is set). Needs `npm run setup` first.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rows="${1:-0}"
work="$here/.work"
repo="$work/repo"
export PATH="$root/.venv/bin:$PATH"
[ -f "$root/data/raw/flights.parquet" ] || { echo "data/raw/flights.parquet is missing: run 'npm run setup' first" >&2; exit 1; }
command -v dvc >/dev/null || { echo "dvc is not in $root/.venv: run 'npm run setup' first" >&2; exit 1; }

rm -rf "$work" && mkdir -p "$work"
git clone --quiet --no-hardlinks "$root" "$repo"
cp "$root/data/raw/flights.parquet" "$repo/data/raw/"
cd "$repo"
# the repository's installed packages (its root node_modules and the per-project ones npm nested under apps/, libs/),
# linked: never run npm ci / tools/setup.sh inside the clone — npm would empty the linked folders
ln -s "$root/node_modules" node_modules
for d in "$root"/apps/*/node_modules "$root"/libs/*/node_modules; do
  [ -d "$d" ] && ln -s "$d" "${d#"$root"/}"
done
"$root/.venv/bin/python" - "$rows" <<'PY'
import sys, yaml
p = yaml.safe_load(open("params.yaml"))
p["data"]["rows"] = int(sys.argv[1])
yaml.safe_dump(p, open("params.yaml", "w"), sort_keys=False)
PY

server_pid=""
stop_server() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true; }
trap stop_server EXIT
if [ -z "${MLFLOW_TRACKING_URI:-}" ]; then
  node --conditions=@mlops-ts/source --import tsx apps/tracking-server/src/main.ts start --dir "$work/mlflow" --info "$work/mlflow.uri" &
  server_pid=$!
  for _ in $(seq 1 120); do [ -s "$work/mlflow.uri" ] && break; kill -0 "$server_pid" 2>/dev/null || break; sleep 0.5; done
  [ -s "$work/mlflow.uri" ] || { echo "the local MLflow server did not start" >&2; exit 1; }
  MLFLOW_TRACKING_URI="$(cat "$work/mlflow.uri")"
  export MLFLOW_TRACKING_URI
fi
export MLOPS_BACKEND_NOTICE_SHOWN=1 MLOPS_PIPELINE_RUN_ID="bench-$(date +%s)"

: > "$work/times"
started=$(date +%s.%N)
for stage in $(dvc stage list --name-only); do
  echo "== $stage" >&2
  /usr/bin/time -v -o "$work/$stage.time" dvc repro --single-item --force "$stage" > "$work/$stage.log" 2>&1 ||
    { tail -20 "$work/$stage.log" >&2; echo "stage $stage failed (log: $work/$stage.log)" >&2; exit 1; }
  grep -E 'plan:|rows/s|done in|early stopping' "$work/$stage.log" | tail -3 | sed 's/^/   /' >&2 || true
  awk -v s="$stage" -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); t=0; for(i=1;i<=n;i++) t=t*60+a[i]} /Maximum resident set size/ {r=$2} END {print s, t, r}' "$work/$stage.time" >> "$work/times"
done
total=$(echo "$(date +%s.%N) - $started" | bc)

awk -v rows="$rows" -v total="$total" -v cores="$(nproc)" -v load="$(cut -d' ' -f1-3 /proc/loadavg)" '
  { wall[NR]=$2; rss[NR]=$3; name[NR]=$1; sum+=$2; if ($3 > peak) peak=$3 }
  END {
    printf "\nwhole pipeline, data.rows=%s (0 = all 3,000,000), %s cores, load average %s at the end, one run\n", rows, cores, load
    printf "%-22s %9s %14s\n", "stage", "wall (s)", "peak RSS (MiB)"
    for (i = 1; i <= NR; i++) printf "%-22s %9.1f %14.0f\n", name[i], wall[i], rss[i] / 1024
    printf "%-22s %9.1f %14.0f   (wall of all stages incl. dvc; peak = the largest stage)\n", "total", total, peak / 1024
    printf "goals: total < 480 s: %s; every stage < 2048 MiB: %s\n", (total < 480 ? "met" : "missed"), (peak / 1024 < 2048 ? "met" : "missed")
  }' "$work/times"
