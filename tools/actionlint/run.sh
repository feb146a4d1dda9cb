#!/usr/bin/env bash
# Lints the GitHub Actions workflows with actionlint (it also runs shellcheck on `run:` scripts when shellcheck is
# on PATH). actionlint is built from the Go module proxy at a pinned version into a cache outside the repository,
# once; later runs reuse the binary.
# Environment: ACTIONLINT_BIN_DIR (where the binary lives, default $HOME/.cache/mlops-ts/bin), GO (go command).
# Extra arguments are passed to actionlint (default: every workflow under .github/workflows).
set -euo pipefail
ACTIONLINT_VERSION=v1.7.12
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin_dir="${ACTIONLINT_BIN_DIR:-$HOME/.cache/mlops-ts/bin}"
bin="$bin_dir/actionlint-$ACTIONLINT_VERSION"
log() { printf '[actionlint] %s\n' "$*" >&2; }

if [ ! -x "$bin" ]; then
  go_cmd="${GO:-go}"
  if ! command -v "$go_cmd" >/dev/null 2>&1; then
    if [ -x /usr/local/go/bin/go ]; then go_cmd=/usr/local/go/bin/go
    else log "Go is needed once to build actionlint $ACTIONLINT_VERSION (https://go.dev/dl/)"; exit 1; fi
  fi
  log "building actionlint $ACTIONLINT_VERSION from the Go module proxy into $bin_dir"
  mkdir -p "$bin_dir"
  tmp_bin="$(mktemp -d "$bin_dir/.build.XXXXXX")"
  trap 'rm -rf "$tmp_bin"' EXIT
  GOBIN="$tmp_bin" "$go_cmd" install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
  mv "$tmp_bin/actionlint" "$bin"
fi

cd "$root"
if [ "$#" -eq 0 ]; then
  shopt -s nullglob
  set -- .github/workflows/*.yml .github/workflows/*.yaml
  if [ "$#" -eq 0 ]; then log "no workflows under .github/workflows"; exit 1; fi
fi
if ! command -v shellcheck >/dev/null 2>&1; then log "shellcheck not on PATH: run: scripts are not shellchecked"; fi
"$bin" "$@"
log "ok: $*"
