#!/usr/bin/env bash
# One pass of the project's tests on the Node first on PATH (tools/test.sh runs it on the machine's Node, then on Node 24).
# 1. setup (npm ci, pinned Python tools in .venv, DVC remote, raw data) — idempotent
# 2. Nx: project graph in sync, then lint, typecheck and build of every project
# 3. every project's tests, never from the Nx cache (they start their own dvc repos, mlflow servers and S3 server on
#    loopback)
#    The ClearML suites use the server CLEARML_API_HOST + keys name (CI: the docker-compose one), else start the local
#    test server (../shared/clearml-server/start.sh, via tools/testing/clearml-server.ts); with none they skip with
#    one loud line, and fail under CI=true. The web UI test needs Chromium (step 1 installs it; CHROMIUM overrides).
# 4. the CI workflow checked with actionlint
# 5. a closing line "tests: N passed, N failed, N skipped" summed over every vitest run
# Environment:
#   MLOPS_AFFECTED=1     only the projects `nx affected` names (base/head from NX_BASE/NX_HEAD, else nx.json's
#                        defaultBase); the default is every project
#   MLOPS_TESTS_ONLY=1   setup and tests only (steps 2 and 4 skipped): tools/test.sh's second pass on Node 24
#   MLOPS_TEST_NATIVE_TF 1 = setup builds/links the native TensorFlow backend (tools/test.sh sets it; default: MLOPS_NATIVE_TF)
#   MLOPS_TEST_LABEL     name of this pass in the reports (default: node<major>); reports go to tmp/test-results/<label>
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

node_version=$(node --version)
label="${MLOPS_TEST_LABEL:-node$(node -p 'process.versions.node.split(".")[0]')}"
log "Node $node_version ($(command -v node)), pass '$label'"

MLOPS_NATIVE_TF="${MLOPS_TEST_NATIVE_TF:-${MLOPS_NATIVE_TF:-0}}" bash tools/setup.sh || { log "setup failed"; exit 1; }
export PATH="$root/.venv/bin:$PATH"
export NX_NO_CLOUD=true NX_DAEMON=false NX_TUI=false

results="$root/tmp/test-results/$label"
rm -rf "$results" && mkdir -p "$results"
export VITEST_JSON_DIR="$results"

if [ "${MLOPS_AFFECTED:-0}" = "1" ]; then
  nx_run() { npx nx affected "$@"; }
  log "projects: those nx affected names (base ${NX_BASE:-defaultBase}, head ${NX_HEAD:-working tree})"
else
  nx_run() { npx nx run-many "$@"; }
fi

if [ -n "${CLEARML_API_HOST:-}" ]; then log "ClearML: the tests use the server at $CLEARML_API_HOST (CLEARML_API_HOST)"
else log "ClearML: no CLEARML_API_HOST; the tests use or start the local test server (../shared/clearml-server)"; fi
step "S3 test server (moto) install" bash tools/s3/install.sh
if [ "${MLOPS_TESTS_ONLY:-0}" != "1" ]; then
  step "nx sync:check" npx nx sync:check
  step "lint, typecheck, build" nx_run -t lint typecheck build --parallel=2 --outputStyle=stream
fi
# Tests run one project at a time: they start real servers and the machine has two cores.
step "tests (Node $node_version)" nx_run -t test --parallel=1 --skip-nx-cache --outputStyle=stream
if [ "${MLOPS_TESTS_ONLY:-0}" != "1" ]; then
  step "actionlint" bash tools/actionlint/run.sh
fi

log "test reports of pass '$label' (Node $node_version)"
if [ "${MLOPS_AFFECTED:-0}" = "1" ] && [ -z "$(ls "$results" 2>/dev/null)" ]; then
  log "no project affected: no tests ran"
else
  node tools/summarize-tests.mjs "$results" || status=1
fi
exit $status
