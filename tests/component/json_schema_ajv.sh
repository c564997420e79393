#!/usr/bin/env bash
# The JSON Schemas of json_val.h checked by a real JSON Schema 2020-12 validator: npm's ajv
# (AJV_VERSION, installed into BUILD/node-ajv once) must accept each sample of json_val_test
# exactly when json_to_val/json_to_args did, in strict mode (an unknown keyword or an invalid
# schema fails).   json_schema_ajv.sh BUILD_DIR JSON_VAL_TEST
set -euo pipefail
BUILD=$1
TEST_BIN=$2
AJV_VERSION=8.17.1
NODE_DIR=$BUILD/node-ajv
if ! grep -q "\"version\": \"$AJV_VERSION\"" "$NODE_DIR/node_modules/ajv/package.json" 2>/dev/null; then
  mkdir -p "$NODE_DIR"
  echo '{"private":true}' > "$NODE_DIR/package.json"
  npm install --prefix "$NODE_DIR" --no-audit --no-fund --loglevel=error "ajv@$AJV_VERSION"
fi
SAMPLES=$(mktemp)
trap 'rm -f "$SAMPLES"' EXIT
WASMCAP_JSON_VAL_SAMPLES=$SAMPLES "$TEST_BIN" --gtest_brief=1 >/dev/null
node "$(dirname "$0")/json_schema_check.mjs" "$NODE_DIR" "$SAMPLES"
