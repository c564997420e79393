#!/usr/bin/env bash
# Components written in the component text format (tests/component/wat/*.wat), turned into
# binaries by npm's jco (`jco parse`, wasm-tools' text parser; installed into the build tree once,
# jco_install.sh), cached by the content hash of the text and the jco version; then runs the
# instantiation and Canonical ABI tests (component_run_test.cc) on them.
#   run_components.sh BUILD_DIR TEST_BINARY [gtest args...]
set -euo pipefail
BUILD=$1
TEST_BIN=$2
shift 2
. "$(dirname "$0")/jco_install.sh"
CACHE=$BUILD/component-wat-cache
OUT=$CACHE/current
mkdir -p "$CACHE" "$OUT"
for wat in "$(dirname "$0")"/wat/*.wat; do
  name=$(basename "$wat" .wat)
  key=$( (sha256sum <"$wat"; echo "jco $JCO_VERSION parse") | sha256sum | cut -c1-32)
  if [ ! -s "$CACHE/$key.wasm" ]; then
    "$JCO" parse "$wat" -o "$CACHE/$key.tmp.wasm"
    mv "$CACHE/$key.tmp.wasm" "$CACHE/$key.wasm"
  fi
  cp "$CACHE/$key.wasm" "$OUT/$name.wasm"
done
WASMCAP_TEST_COMPONENT_WAT_DIR=$OUT exec "$TEST_BIN" "$@"
