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
# The reference host: wat/compare.wat transpiled by `jco transpile` and called on node
# (compare.mjs); the calls' results, cached by the component, script and jco version, are what
# component_run_test's MatchesJcoTranspile compares wasmcap's with.
key=$( (sha256sum <"$OUT/compare.wasm"; sha256sum <"$(dirname "$0")/compare.mjs"; echo "jco $JCO_VERSION transpile") |
  sha256sum | cut -c1-32)
if [ ! -s "$CACHE/$key.expected" ]; then
  rm -rf "$CACHE/transpiled"
  "$JCO" transpile "$OUT/compare.wasm" -o "$CACHE/transpiled" --name compare >/dev/null
  node "$(dirname "$0")/compare.mjs" "$CACHE/transpiled/compare.js" >"$CACHE/$key.tmp"
  mv "$CACHE/$key.tmp" "$CACHE/$key.expected"
fi
cp "$CACHE/$key.expected" "$OUT/compare.expected"
WASMCAP_TEST_COMPONENT_WAT_DIR=$OUT exec "$TEST_BIN" "$@"
