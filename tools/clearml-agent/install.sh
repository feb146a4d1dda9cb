#!/usr/bin/env bash
# Installs the pinned clearml-agent (requirements.txt beside this script) into its own venv, idempotently.
# Its own venv because its pins (requests, urllib3, psutil, attrs ...) may clash with the project .venv's.
# Prints the path of the agent executable on stdout (everything else goes to stderr).
# Environment: MLOPS_CLEARML_AGENT_VENV (default ~/.cache/mlops-ts/clearml-agent-venv),
#              PYTHON (interpreter for the venv, default python3.11, else python3).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${MLOPS_CLEARML_AGENT_VENV:-$HOME/.cache/mlops-ts/clearml-agent-venv}"
log() { printf '[clearml-agent] %s\n' "$*" >&2; }
req="$here/requirements.txt"
cons="$here/constraints.txt"
want=$(cat "$req" "$cons" | sha256sum | cut -d' ' -f1)
if [ -x "$venv/bin/clearml-agent" ] && [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" = "$want" ]; then
  log "clearml-agent up to date in $venv"
else
  py="${PYTHON:-}"
  if [ -z "$py" ]; then py=$(command -v python3.11 || command -v python3); fi
  if [ ! -x "$venv/bin/python" ]; then
    log "creating $venv with $("$py" --version 2>&1)"
    mkdir -p "$(dirname "$venv")"
    "$py" -m venv "$venv"
  fi
  log "installing $(grep -v '^#' "$req" | tr '\n' ' ')into $venv"
  "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$req" -c "$cons"
  "$venv/bin/clearml-agent" --version >/dev/null 2>&1 || { log "clearml-agent does not run after the install"; exit 1; }
  echo "$want" > "$venv/.requirements.sha256"
  log "installed $("$venv/bin/python" -m pip show clearml-agent 2>/dev/null | sed -n 's/^Version: /clearml-agent /p') in $venv"
fi
echo "$venv/bin/clearml-agent"
