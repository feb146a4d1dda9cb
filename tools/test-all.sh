#!/usr/bin/env bash
# The project's test command (README: `npm test`; CI: .ci/run calls exactly this).
# 1. setup (npm ci, pinned Python tools in .venv, DVC remote, raw data) — idempotent
# 2. Nx: project graph in sync, then lint, typecheck, build and test of every project
#    (tests start their own dvc repos, mlflow servers and S3 server on loopback)
# 3. the CI workflow checked with actionlint
# 4. a closing line "tests: N passed, N failed, N skipped" summed over every vitest run
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
log() { printf '\n[test-all] %s\n' "$*" >&2; }
status=0
step() { # name, command...
  local name=$1; shift
  log "$name"
  local t0=$SECONDS
  if "$@"; then log "$name: ok ($((SECONDS - t0))s)"; else log "$name: FAILED ($((SECONDS - t0))s)"; status=1; fi
}

bash tools/setup.sh || { log "setup failed"; exit 1; }
export PATH="$root/.venv/bin:$PATH"
export NX_NO_CLOUD=true NX_DAEMON=false NX_TUI=false

results="$root/tmp/test-results"
rm -rf "$results" && mkdir -p "$results"
export VITEST_JSON_DIR="$results"

step "S3 test server (moto) install" bash tools/s3/install.sh
step "nx sync:check" npx nx sync:check
step "lint, typecheck, build" npx nx run-many -t lint typecheck build --parallel=2 --outputStyle=stream
# Tests run one project at a time: they start real servers and the machine has two cores.
step "tests" npx nx run-many -t test --parallel=1 --skip-nx-cache --outputStyle=stream
step "actionlint" bash tools/actionlint/run.sh

node tools/summarize-tests.mjs "$results" || status=1
exit $status
