#!/usr/bin/env bash
# Opt-in native TensorFlow backend: @tensorflow/tfjs-node built here against the libraries of the PyPI wheel
# tensorflow-cpu (no download from tfjs-node's CDN). `npm run setup -- --native-tf` (or MLOPS_NATIVE_TF=1) runs it.
#   1. build, once, in a cache OUTSIDE the repository ($MLOPS_NATIVE_TF_CACHE, default ~/.cache/mlops-ts/native-tf,
#      folder tfjs-node-<v>_tensorflow-cpu-<v>/):
#      - pip downloads the pinned wheel (hash-checked, --require-hashes), extract_wheel.py takes its two libraries and
#        the C API headers out of it (the 274 MB wheel is deleted afterwards; the libraries are ~850 MB);
#      - npm ci of cache-package.json/cache-package-lock.json (tfjs-node and its dependencies, its own folder, never
#        the workspace's package.json) with install scripts off;
#      - deps/lib (symlinks: the names tfjs-node's install script and binding.gyp expect → the wheel's libraries) and
#        deps/include, then `npm rebuild --build-from-source` runs tfjs-node's install script, which sees deps/lib and
#        builds the addon with node-gyp against the running Node's headers (npm_config_nodedir = its prefix, so
#        node-gyp downloads nothing);
#      - checks it by loading it there: backend `tensorflow`, TF_Version = the wheel's version.
#   2. for this workspace, node_modules/.native-tf: a copy of the built tfjs-node (3.5 MB; its libraries stay linked
#      to the cache) whose `@tensorflow/tfjs` and `@tensorflow/tfjs-core` resolve to the workspace's own copies, so the
#      backend registers into the one tfjs-core engine the workspace uses (npm ci removes it; setup puts it back).
#      Checked with @mlops-ts/model-train's selectBackend('tensorflow', { nativeTfDir }) and one op (2 + 3).
# Prints that folder as the last line on stdout (apps find it there by default; MLOPS_NATIVE_TF_DIR overrides).
# Idempotent: a second run checks the stamp and both loads (seconds). Safe to run from several processes (flock).
# npm 11 install-script approval: cache-package.json's allowScripts allows tfjs-node's script and denies core-js's
# (a banner); with an npm that knows --strict-allow-scripts, anything else unreviewed fails the build.
# Every failure ends with one line "[native-tf] FAILED: <what>" (and exit 1); tool output goes to <cache>/build.log.
# Environment: MLOPS_NATIVE_TF_CACHE, PYTHON (runs pip; default .venv/bin/python, else python3).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
TFJS_NODE_VERSION=4.22.0
TF_VERSION=2.21.0
WHEEL=tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl
WHEEL_SHA256=2b847d217b02ee7731ed91431daf3250daa0196c3c94614d23be27232e6e5b6c
BUILD_REV=1 # bump when the build steps below change

log() { printf '[native-tf] %s\n' "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) fail "only linux-x64 is supported (the wheel is manylinux x86_64); found $(uname -s)-$(uname -m)" ;;
esac
cache="${MLOPS_NATIVE_TF_CACHE:-$HOME/.cache/mlops-ts/native-tf}"
dir="$cache/tfjs-node-${TFJS_NODE_VERSION}_tensorflow-cpu-${TF_VERSION}"
pkg="$dir/pkg"
tfjs_node="$pkg/node_modules/@tensorflow/tfjs-node"
build_log="$dir/build.log"
mkdir -p "$dir" || fail "cannot create the cache folder $dir"
exec 9>"$dir/.lock"
flock 9

stamp_want="$(cat "$here/cache-package.json" "$here/cache-package-lock.json" "$here/extract_wheel.py" | sha256sum | cut -d' ' -f1) $WHEEL_SHA256 rev$BUILD_REV"

# Loads tfjs-node from the cache folder (its own tfjs copy) and prints "<backend> <TF_Version>".
probe_cache() {
  (cd "$pkg" && TF_CPP_MIN_LOG_LEVEL=1 node -e '
    const tf = require("@tensorflow/tfjs-node");
    process.stdout.write(`${tf.getBackend()} ${tf.backend().binding.TF_Version}\n`);' 2>>"$build_log")
}

build() {
  local t0=$SECONDS
  rm -f "$dir/.built"
  : >"$build_log"
  log "building tfjs-node $TFJS_NODE_VERSION on tensorflow-cpu $TF_VERSION in $dir (once; a few minutes, build log: $build_log)"
  local py="${PYTHON:-}"
  if [ -z "$py" ]; then if [ -x "$root/.venv/bin/python" ]; then py="$root/.venv/bin/python"; else py=python3; fi; fi
  command -v "$py" >/dev/null 2>&1 || fail "no Python interpreter '$py' (pip downloads the wheel; node-gyp needs Python 3 too): install python3 or set PYTHON"
  "$py" -m pip --version >/dev/null 2>&1 || fail "$py has no pip: install it (python3 -m ensurepip) or set PYTHON to one that has it"
  command -v make >/dev/null 2>&1 || fail "no make on PATH: node-gyp needs make and a C++ compiler (Debian: apt-get install build-essential)"
  command -v "${CXX:-g++}" >/dev/null 2>&1 || fail "no C++ compiler (${CXX:-g++}) on PATH: node-gyp needs one (Debian: apt-get install build-essential)"

  # 1. tfjs-node and its dependencies, no install scripts yet (its script would try the CDN without deps/)
  rm -rf "$pkg" && mkdir -p "$pkg"
  cp "$here/cache-package.json" "$pkg/package.json"
  cp "$here/cache-package-lock.json" "$pkg/package-lock.json"
  log "npm ci @tensorflow/tfjs-node@$TFJS_NODE_VERSION (install scripts off)"
  (cd "$pkg" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >>"$build_log" 2>&1 ||
    fail "npm ci of @tensorflow/tfjs-node@$TFJS_NODE_VERSION in $pkg failed (no npm registry access?): $(grep -v '^\s*$' "$build_log" | tail -1)"

  # 2. the wheel's libraries and headers
  if [ ! -f "$dir/libtensorflow/.wheel-$WHEEL_SHA256" ]; then
    mkdir -p "$dir/wheel"
    printf 'tensorflow-cpu==%s --hash=sha256:%s\n' "$TF_VERSION" "$WHEEL_SHA256" >"$dir/wheel/requirements.txt"
    log "downloading $WHEEL (274 MB, hash-checked)"
    "$py" -m pip download --disable-pip-version-check --no-input -q --no-deps --require-hashes \
      --only-binary=:all: --platform manylinux_2_27_x86_64 --python-version 3.11 --implementation cp \
      -r "$dir/wheel/requirements.txt" -d "$dir/wheel" >>"$build_log" 2>&1 ||
      fail "pip could not download tensorflow-cpu==$TF_VERSION ($WHEEL) from the package index (no PyPI access, or a hash mismatch): $(grep -v '^\s*$' "$build_log" | tail -1)"
    log "extracting libtensorflow_cc.so.2, libtensorflow_framework.so.2 and the C API headers"
    "$py" "$here/extract_wheel.py" "$dir/wheel/$WHEEL" "$dir/libtensorflow" "$tfjs_node/binding" >>"$build_log" 2>&1 ||
      fail "could not extract the libraries from $dir/wheel/$WHEEL: $(tail -1 "$build_log")"
    touch "$dir/libtensorflow/.wheel-$WHEEL_SHA256"
    rm -rf "$dir/wheel"
  fi

  # 3. deps/: the names install.js checks (libtensorflow.so.2.9.1) and binding.gyp links (-ltensorflow
  #    -ltensorflow_framework), plus the wheel's sonames the built addon asks for at run time (rpath deps/lib)
  local lib="$dir/libtensorflow/lib"
  mkdir -p "$tfjs_node/deps/lib"
  for name in libtensorflow.so.2.9.1 libtensorflow.so libtensorflow_cc.so.2; do ln -sfn "$lib/libtensorflow_cc.so.2" "$tfjs_node/deps/lib/$name"; done
  for name in libtensorflow_framework.so.2.9.1 libtensorflow_framework.so libtensorflow_framework.so.2; do ln -sfn "$lib/libtensorflow_framework.so.2" "$tfjs_node/deps/lib/$name"; done
  ln -sfn "$dir/libtensorflow/include" "$tfjs_node/deps/include"

  # 4. the addon, built from source with node-gyp (npm's own) against this Node's headers
  local nodedir
  nodedir="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  local env_nodedir=()
  if [ -f "$nodedir/include/node/node_api.h" ]; then env_nodedir=(env "npm_config_nodedir=$nodedir")
  else log "no Node headers under $nodedir/include/node: node-gyp will download them for Node $(node --version)"; fi
  local strict=()
  if [ "$(npm config get strict-allow-scripts 2>/dev/null)" = false ]; then strict=(--strict-allow-scripts); fi
  log "compiling the tfjs-node addon (node-gyp, Node $(node --version), N-API $(node -p process.versions.napi))"
  (cd "$pkg" && "${env_nodedir[@]}" npm rebuild @tensorflow/tfjs-node --build-from-source "${strict[@]}" --foreground-scripts --loglevel=error) >>"$build_log" 2>&1 ||
    fail "building the tfjs-node addon failed (compiler, Python 3 for node-gyp, or Node headers): $(grep -E 'error|Error|ERR' "$build_log" | tail -1)"
  ls "$tfjs_node"/lib/napi-v*/tfjs_binding.node >/dev/null 2>&1 || fail "npm rebuild finished but no lib/napi-v*/tfjs_binding.node in $tfjs_node"

  local probe
  probe="$(probe_cache)" || fail "the built tfjs-node does not load: $(grep -v '^\s*$' "$build_log" | tail -1)"
  [ "$probe" = "tensorflow $TF_VERSION" ] || fail "the built tfjs-node reports '$probe', expected 'tensorflow $TF_VERSION'"
  echo "$stamp_want" >"$dir/.built"
  log "built in $((SECONDS - t0)) s"
}

# A cache hit is the stamp plus the addon; loading it is checked once, through the workspace, at the end.
cached=0
if [ "$(cat "$dir/.built" 2>/dev/null)" = "$stamp_want" ] && ls "$tfjs_node"/lib/napi-v*/tfjs_binding.node >/dev/null 2>&1; then
  cached=1
  log "tfjs-node $TFJS_NODE_VERSION on tensorflow-cpu $TF_VERSION already built in $dir"
else
  build
fi

# 5. this workspace's view: node_modules/.native-tf/node_modules/@tensorflow/tfjs-node (a copy) whose tfjs and
#    tfjs-core are symlinks to the packages @mlops-ts/model-train imports; its other dependencies link to the cache.
[ -d "$root/node_modules/@tensorflow/tfjs" ] || fail "the workspace has no node_modules/@tensorflow/tfjs: run npm ci (npm run setup) first"
tfjs_dir="$(cd "$root/libs/model-train" && node -p 'require("path").dirname(require.resolve("@tensorflow/tfjs/package.json"))')"
core_dir="$(cd "$tfjs_dir" && node -p 'require("path").dirname(require.resolve("@tensorflow/tfjs-core/package.json"))')"
for p in "$tfjs_dir" "$core_dir"; do
  v="$(node -p "require('$p/package.json').version")"
  [ "$v" = "$TFJS_NODE_VERSION" ] || fail "the workspace's $(basename "$p") is $v but tfjs-node $TFJS_NODE_VERSION needs the same version (change TFJS_NODE_VERSION and cache-package*.json together)"
done
view="$root/node_modules/.native-tf"
tmp="$(mktemp -d "$root/node_modules/.native-tf.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/node_modules/@tensorflow"
cp -a "$tfjs_node" "$tmp/node_modules/@tensorflow/tfjs-node"
rm -rf "$tmp/node_modules/@tensorflow/tfjs-node/build" "$tmp/node_modules/@tensorflow/tfjs-node/binding"
ln -s "$tfjs_dir" "$tmp/node_modules/@tensorflow/tfjs"
ln -s "$core_dir" "$tmp/node_modules/@tensorflow/tfjs-core"
for dep in "$pkg"/node_modules/*; do
  name="$(basename "$dep")"
  case "$name" in
    @tensorflow) ;;
    @*) mkdir -p "$tmp/node_modules/$name"; for sub in "$dep"/*; do ln -s "$sub" "$tmp/node_modules/$name/$(basename "$sub")"; done ;;
    *) ln -s "$dep" "$tmp/node_modules/$name" ;;
  esac
done
printf '%s\n' "{\"built\": \"$dir\", \"tfjs\": \"$tfjs_dir\"}" >"$tmp/native-tf.json"
rm -rf "$view"
mv "$tmp" "$view"
trap - EXIT
check_log="$view/check.log"
check="$(cd "$root" && TF_CPP_MIN_LOG_LEVEL=1 node --conditions=@mlops-ts/source --import tsx --input-type=module -e "
  const { selectBackend } = await import('@mlops-ts/model-train');
  const tf = await import('@tensorflow/tfjs');
  const s = await selectBackend('tensorflow', { nativeTfDir: process.argv[1] });
  const sum = tf.add(tf.scalar(2), tf.scalar(3)).dataSync()[0];
  process.stdout.write(s.backend + ' ' + tf.backend().binding.TF_Version + ' 2+3=' + sum + '\n');" "$view" 2>"$check_log")" ||
  fail "the workspace cannot load tfjs-node from $view: $(grep -v '^\s*$' "$check_log" | tail -1)$([ $cached = 1 ] && echo " (rm -rf $dir rebuilds it)")"
[ "$check" = "tensorflow $TF_VERSION 2+3=5" ] || fail "the workspace's selectBackend('tensorflow', { nativeTfDir }) and one op gave '$check', expected 'tensorflow $TF_VERSION 2+3=5'"
log "ready: backend tensorflow (TF $TF_VERSION) for this workspace from $view"
echo "$view"
