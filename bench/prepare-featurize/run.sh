#!/usr/bin/env bash
# Times prepare + featurize on all 3,000,000 flights: the TypeScript stages (nodejs-polars) against the same steps in
# Python polars (the same engine) and in pandas. One run each; prints wall time, the ratios TypeScript / polars and
# TypeScript / pandas and the peak resident memory of every process.
# Usage: bash bench/prepare-featurize/run.sh [rows]    (rows: 0 = all, the default)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rows="${1:-0}"
work="$here/.work"
venv="$here/.venv"
cd "$root"

req_hash=$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" != "$req_hash" ]; then
  echo "creating/updating the bench venv ($venv)" >&2
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r "$here/requirements.txt"
  echo "$req_hash" > "$venv/.requirements.sha256"
fi
[ -f data/raw/flights.parquet ] || { echo "data/raw/flights.parquet is missing: run 'npm run setup' (or dvc pull) first" >&2; exit 1; }

rm -rf "$work" && mkdir -p "$work"
# The repository's params with only data.rows changed.
"$venv/bin/python" - "$rows" "$work/params.yaml" <<'PY'
import sys, yaml
p = yaml.safe_load(open("params.yaml"))
p["data"]["rows"] = int(sys.argv[1])
yaml.safe_dump(p, open(sys.argv[2], "w"), sort_keys=False)
PY

# measure NAME CMD... → appends "NAME seconds maxrss_kib" to $work/times
measure() {
  local name="$1"; shift
  /usr/bin/time -v -o "$work/$name.time" "$@"
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$work/$name.time")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/$name.time")
  echo "$name $wall $rss" >> "$work/times"
}

node_stage=(node --conditions=@mlops-ts/source --import tsx)
measure ts-prepare "${node_stage[@]}" apps/prepare/src/main.ts --params "$work/params.yaml" --out "$work/ts/prepared" --metrics "$work/ts/data_quality.json"
measure ts-featurize "${node_stage[@]}" apps/featurize/src/main.ts --params "$work/params.yaml" --in "$work/ts/prepared" --out "$work/ts/features"
measure polars-prepare "$venv/bin/python" "$here/polars_pipeline.py" prepare "$work/params.yaml" "$work/polars"
measure polars-featurize "$venv/bin/python" "$here/polars_pipeline.py" featurize "$work/params.yaml" "$work/polars"
measure pandas-prepare "$venv/bin/python" "$here/pandas_pipeline.py" prepare "$work/params.yaml" "$work/pandas"
measure pandas-featurize "$venv/bin/python" "$here/pandas_pipeline.py" featurize "$work/params.yaml" "$work/pandas"

awk -v rows="$rows" -v cores="$(nproc)" -v load="$(cut -d' ' -f1-3 /proc/loadavg)" '
  { wall[$1]=$2; rss[$1]=$3 }
  END {
    ts = wall["ts-prepare"] + wall["ts-featurize"]; po = wall["polars-prepare"] + wall["polars-featurize"]
    pd = wall["pandas-prepare"] + wall["pandas-featurize"]
    printf "\nprepare + featurize, rows=%s (0 = all), %s cores, load average %s at the end, one run each (wall clock incl. process start)\n", rows, cores, load
    printf "%-18s %9s %14s\n", "step", "wall (s)", "peak RSS (MiB)"
    n = split("ts-prepare ts-featurize polars-prepare polars-featurize pandas-prepare pandas-featurize", k, " ")
    for (i = 1; i <= n; i++) printf "%-18s %9.2f %14.0f\n", k[i], wall[k[i]], rss[k[i]] / 1024
    printf "%-18s %9.2f\n%-18s %9.2f\n%-18s %9.2f\n", "TypeScript total", ts, "polars total", po, "pandas total", pd
    printf "time ratio TypeScript / polars: %.2f (prepare %.2f, featurize %.2f)\n", ts / po, wall["ts-prepare"] / wall["polars-prepare"], wall["ts-featurize"] / wall["polars-featurize"]
    printf "time ratio TypeScript / pandas: %.2f (prepare %.2f, featurize %.2f)\n", ts / pd, wall["ts-prepare"] / wall["pandas-prepare"], wall["ts-featurize"] / wall["pandas-featurize"]
  }' "$work/times"
