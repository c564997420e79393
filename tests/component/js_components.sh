#!/usr/bin/env bash
# JavaScript components from a real toolchain, never vendored: componentize-js (installed with
# jco from npm into the build tree, jco_install.sh) builds tests/component/js/fetcher.js into a
# WASI 0.2 component (StarlingMonkey, ~12 MB, ~20-40 s), cached by the content hash of the
# script, its WIT and the jco version; then runs TEST_BINARY with WASMCAP_TEST_JS_COMPONENT. With
# WASMCAP_TEST_ENGINE=aot, first `wasmcap compile`s it into the tests' per-user AOT cache
# (${XDG_CACHE_HOME:-~/.cache}/wasmcap/aot-ci, as the bundles' aot tests: keyed by content, a few
# minutes of CPU once per machine and input, under a second after), named to the test by
# WASMCAP_TEST_AOT_CACHE.
#   js_components.sh BUILD_DIR TEST_BINARY [gtest args...]
set -euo pipefail
BUILD=$1
TEST_BIN=$2
shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/jco_install.sh"
CACHE=$BUILD/component-cache
mkdir -p "$CACHE"
key=$( (sha256sum <"$HERE/js/fetcher.js"; sha256sum <"$HERE/js/wit/world.wit";
        echo "jco $JCO_VERSION componentize-js") | sha256sum | cut -c1-32)
if [ ! -s "$CACHE/$key.js.wasm" ]; then
  "$NODE_DIR/node_modules/.bin/componentize-js" "$HERE/js/fetcher.js" --wit "$HERE/js/wit" -n fetcher \
    -o "$CACHE/$key.js.tmp.wasm" >/dev/null
  mv "$CACHE/$key.js.tmp.wasm" "$CACHE/$key.js.wasm"
fi
if [ "${WASMCAP_TEST_ENGINE:-interp}" = aot ]; then
  export WASMCAP_TEST_AOT_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/wasmcap/aot-ci
  mkdir -p "$WASMCAP_TEST_AOT_CACHE"
  nice -n 10 "$BUILD/bin/wasmcap" compile --cache-dir "$WASMCAP_TEST_AOT_CACHE" --compile-timeout-ms 1500000 \
    "$CACHE/$key.js.wasm" >/dev/null
fi
WASMCAP_TEST_JS_COMPONENT=$CACHE/$key.js.wasm exec "$TEST_BIN" "$@"
