#!/usr/bin/env bash
# Installs the native TensorFlow backend for @tensorflow/tfjs-node without network access.
#
# tfjs-node's own install script downloads libtensorflow 2.9.1 and a prebuilt addon; where that host
# cannot be reached we build the addon from source against the shared libraries of a TensorFlow pip
# wheel (TF 2.21 exports the whole C and eager C API the addon uses). Order of attempts:
#   1. the binding already loads            -> nothing to do
#   2. tfjs-node's normal download install  -> works wherever the internet does
#   3. a local wheel: $TF_WHEEL, or `pip download tensorflow-cpu==$TF_VERSION` from pip's configured index
#   4. none of them                         -> loud warning; coopcut then runs on pure JS (~200x slower)
# The GPU package is installed the normal way only where CUDA is present (nvidia-smi answers).
# The script never fails `npm install`: a missing native backend is reported, not fatal.
set -u
cd "$(dirname "$0")/../.." || exit 0
ROOT=$(pwd)
TF_VERSION=${TF_VERSION:-2.21.0}
log() { echo "[coopcut native-tf] $*" >&2; }
loud() {
  printf '\n%s\n' "################################################################################" >&2
  for line in "$@"; do echo "#  $line" >&2; done
  printf '%s\n\n' "################################################################################" >&2
}
loads() { node -e "require('$1')" >/dev/null 2>&1; }

if [ -n "${COOPCUT_SKIP_NATIVE:-}" ]; then
  loud "COOPCUT_SKIP_NATIVE is set: the native TensorFlow backend was not installed." \
       "coopcut will run on the pure-JS backend, roughly 200 times slower."
  exit 0
fi

install_gpu() {
  local pkg="$ROOT/node_modules/@tensorflow/tfjs-node-gpu"
  [ -d "$pkg" ] || return 0
  command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1 || return 0
  loads @tensorflow/tfjs-node-gpu && { log "tfjs-node-gpu already loads"; return 0; }
  log "CUDA found: trying tfjs-node-gpu's normal install"
  (cd "$pkg" && timeout 600 node scripts/install.js gpu download >&2) || log "tfjs-node-gpu install failed; the CPU backend will be used"
}

PKG="$ROOT/node_modules/@tensorflow/tfjs-node"
if [ ! -f "$PKG/binding.gyp" ]; then
  loud "node_modules/@tensorflow/tfjs-node is missing: run npm install." ; exit 0
fi
if loads @tensorflow/tfjs-node; then
  log "native TensorFlow backend already loads"; install_gpu; exit 0
fi

if [ -z "${COOPCUT_NO_DOWNLOAD:-}" ]; then
  log "trying tfjs-node's normal install (downloads libtensorflow)"
  if (cd "$PKG" && timeout 300 node scripts/install.js >/dev/null 2>&1) && loads @tensorflow/tfjs-node; then
    log "native TensorFlow backend installed by download"; install_gpu; exit 0
  fi
  log "download install did not work here; trying a local TensorFlow wheel"
  rm -rf "$PKG/deps" "$PKG/lib" "$PKG/build"
fi

WHEEL=${TF_WHEEL:-}
CACHE="$ROOT/node_modules/.cache/coopcut"
if [ -z "$WHEEL" ]; then
  WHEEL=$(ls "$CACHE"/tensorflow_cpu-"$TF_VERSION"-*.whl 2>/dev/null | head -1)
fi
if [ -z "$WHEEL" ] && command -v pip >/dev/null 2>&1; then
  mkdir -p "$CACHE"
  log "asking pip for tensorflow-cpu==$TF_VERSION (pip's configured index)"
  timeout 600 pip download -q --retries 1 --no-deps --only-binary=:all: -d "$CACHE" "tensorflow-cpu==$TF_VERSION" >&2 \
    && WHEEL=$(ls "$CACHE"/tensorflow_cpu-"$TF_VERSION"-*.whl 2>/dev/null | head -1)
fi
if [ -z "$WHEEL" ] || [ ! -f "$WHEEL" ]; then
  loud "NO NATIVE TENSORFLOW BACKEND." \
       "tfjs-node could not download libtensorflow and no TensorFlow wheel was found" \
       "(set TF_WHEEL=/path/to/tensorflow_cpu-$TF_VERSION-...whl and run npm rebuild coopcut, or npm install again)." \
       "coopcut will run on the pure-JS backend, roughly 200 times slower."
  exit 0
fi

log "building the tfjs-node addon against $WHEEL"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
if ! unzip -q -o "$WHEEL" 'tensorflow/libtensorflow_cc.so.2' 'tensorflow/libtensorflow_framework.so.2' \
    'tensorflow/include/tensorflow/c/*' 'tensorflow/include/tensorflow/core/platform/ctstring*' \
    'tensorflow/include/tsl/platform/ctstring*' 'tensorflow/include/xla/tsl/c/*' -d "$T"; then
  loud "Could not unpack $WHEEL (is unzip installed?). coopcut will run on the pure-JS backend."; exit 0
fi
rm -rf "$PKG/deps"; mkdir -p "$PKG/deps/lib"
mv "$T/tensorflow/include" "$PKG/deps/include"
mv "$T/tensorflow/libtensorflow_cc.so.2" "$T/tensorflow/libtensorflow_framework.so.2" "$PKG/deps/lib/"
(
  cd "$PKG/deps/lib" || exit 1
  # Debug and local symbols only: the dynamic symbol table the addon links against is untouched.
  command -v strip >/dev/null && strip --strip-unneeded libtensorflow_cc.so.2 libtensorflow_framework.so.2
  ln -sf libtensorflow_cc.so.2 libtensorflow.so
  ln -sf libtensorflow_framework.so.2 libtensorflow_framework.so
  # tfjs-node's loader looks for the 2.9.1 name.
  ln -sf libtensorflow_cc.so.2 libtensorflow.so.2.9.1
)
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node_api.h ]; then export npm_config_nodedir=/usr; fi
(cd "$PKG" && rm -rf build lib && "$ROOT/node_modules/.bin/node-pre-gyp" install --build-from-source >&2) \
  || log "addon build failed"
if loads @tensorflow/tfjs-node; then
  log "native TensorFlow backend built from $WHEEL"
  install_gpu
  exit 0
fi
loud "NO NATIVE TENSORFLOW BACKEND: building tfjs-node against $WHEEL failed (see above)." \
     "coopcut will run on the pure-JS backend, roughly 200 times slower."
exit 0
