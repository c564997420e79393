#!/usr/bin/env bash
# Real-client test: the official MCP TypeScript SDK drives `wasmcap mcp` over stdio and HTTP.
# The SDK is installed by npm into BUILD/mcp-node (cached across runs, never committed).
#   sdk_test.sh WASMCAP BUILD_DIR SOURCE_DIR
set -euo pipefail
WASMCAP=$1 BUILD=$2 SRC=$3
SDK_VERSION=1.32.2
NODE_DIR=$BUILD/mcp-node
if [ ! -f "$NODE_DIR/node_modules/@modelcontextprotocol/sdk/package.json" ] ||
   ! grep -q "\"version\": \"$SDK_VERSION\"" "$NODE_DIR/node_modules/@modelcontextprotocol/sdk/package.json"; then
  mkdir -p "$NODE_DIR"
  echo '{"private":true}' > "$NODE_DIR/package.json"
  npm install --prefix "$NODE_DIR" --no-audit --no-fund --loglevel=error "@modelcontextprotocol/sdk@$SDK_VERSION"
fi
cp "$SRC/tests/mcp/sdk_client.mjs" "$NODE_DIR/sdk_client.mjs"

T=$(mktemp -d)
trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
export WASMCAP_HOME=$T/home
mkdir -p "$WASMCAP_HOME/trust" "$T/ws" "$T/src"
cp "$BUILD/bundles/wasmcap-test.pub" "$WASMCAP_HOME/trust/"
printf 'alpha\nbeta\n' > "$T/ws/notes.txt"
"$WASMCAP" bundle install "$BUILD/bundles/coreutils.wcb" >/dev/null

# fetch (the example's manifest with its tool) and a spinning plugin, signed with the test key.
cp "$BUILD/guest/fetch.wasm" "$T/src/fetch.wasm"
cp "$SRC/examples/fetch/manifest.json" "$T/src/fetch.json"
"$WASMCAP" bundle pack --manifest "$T/src/fetch.json" --key "$BUILD/bundles/wasmcap-test.key" --out "$T/fetch.wcb" >/dev/null
cp "$BUILD/guest/spin.wasm" "$T/src/spin.wasm"
cat > "$T/src/spin.json" <<'JSON'
{"name": "spinner", "version": "1.0.0", "module": "spin.wasm",
 "tools": [{"name": "spin", "description": "Never finishes (tests deadlines and cancellation)",
            "input_schema": {"type": "object", "additionalProperties": false}, "invoke": {}}]}
JSON
"$WASMCAP" bundle pack --manifest "$T/src/spin.json" --key "$BUILD/bundles/wasmcap-test.key" --out "$T/spin.wcb" >/dev/null
"$WASMCAP" bundle install "$T/fetch.wcb" >/dev/null
"$WASMCAP" bundle install "$T/spin.wcb" >/dev/null

echo dummy-token > "$T/github_token"
chmod 600 "$T/github_token"
cat > "$T/config.json" <<JSON
{ "plugins": {
    "coreutils": { "grants": { "fs": [ { "guest": "/work", "host": "$T/ws", "access": "rw" } ] } },
    "fetch": { "grants": { "host_api": { "https": {
        "allow": [ { "host": "api.github.com", "methods": ["GET"], "path_prefix": "/" } ],
        "secrets": { "github_token": { "file": "$T/github_token", "hosts": ["api.github.com"] } } } } } },
    "spinner": {} },
  "audit": { "file": "$T/audit.jsonl" } }
JSON
export WASMCAP CONFIG=$T/config.json WS=$T/ws AUDIT=$T/audit.jsonl
cd "$NODE_DIR"
node sdk_client.mjs stdio
node sdk_client.mjs http
# No secret value ever reaches the audit log.
if grep -q dummy-token "$T/audit.jsonl"; then echo "secret value in the audit log" >&2; exit 1; fi
echo "sdk_test: PASS"
