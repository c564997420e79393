#!/usr/bin/env bash
# Real components from a real toolchain, never vendored: installs @bytecodealliance/jco from npm
# into the build tree (once), wraps clang-built WASI Preview 1 guests (build/guest/*.wasm) with
# `jco new --wasi-command` (the preview1 adapter jco ships) into components, cached by the
# content hash of the guest and the jco version, and runs the decoder's tests on them
# (component_jco_test.cc) or the escape suite (component_escape_test.cc). jco 1.35's `new` runs
# on the system's node (>= 20); no node 22 needed.
#   jco_components.sh BUILD_DIR TEST_BINARY
set -euo pipefail
BUILD=$1
TEST_BIN=$2
. "$(dirname "$0")/jco_install.sh"
CACHE=$BUILD/component-cache
OUT=$CACHE/current
mkdir -p "$CACHE" "$OUT"
for guest in hello args_env escape; do
  module=$BUILD/guest/$guest.wasm
  key=$( (sha256sum <"$module"; echo "jco $JCO_VERSION new --wasi-command") | sha256sum | cut -c1-32)
  if [ ! -s "$CACHE/$key.wasm" ]; then
    "$JCO" new "$module" --wasi-command -o "$CACHE/$key.tmp.wasm"
    mv "$CACHE/$key.tmp.wasm" "$CACHE/$key.wasm"
  fi
  cp "$CACHE/$key.wasm" "$OUT/$guest.component.wasm"
  cp "$module" "$OUT/$guest.wasm"
done
WASMCAP_TEST_COMPONENT_DIR=$OUT exec "$TEST_BIN"
