#!/usr/bin/env bash
# Real-client test: the official MCP TypeScript SDK drives `wasmcap mcp` over stdio and HTTP.
# The SDK is installed by npm into BUILD/mcp-node (cached across runs, never committed).
#   sdk_test.sh WASMCAP BUILD_DIR SOURCE_DIR
set -euo pipefail
WASMCAP=$1 BUILD=$2 SRC=$3
NODE_DIR=$BUILD/mcp-node
"$SRC/tests/mcp/sdk_install.sh" "$NODE_DIR"
cp "$SRC/tests/mcp/sdk_client.mjs" "$NODE_DIR/sdk_client.mjs"
cp "$SRC/tests/mcp/sdk_v2_client.mjs" "$NODE_DIR/sdk_v2_client.mjs"

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
# The v2 client on the 2026-07-28 revision (its own audit file: it looks for its spin record).
sed "s|$T/audit.jsonl|$T/audit-v2.jsonl|" "$T/config.json" > "$T/config-v2.json"
node sdk_v2_client.mjs stdio "$WASMCAP" "$T/config-v2.json"
# The file exists before the server starts: the background job opens it itself, possibly after
# the first `sed` below has run (which then failed the script under `set -e`: a flake).
: > "$T/server-v2.err"
"$WASMCAP" mcp --config "$T/config-v2.json" --listen 127.0.0.1:0 2>> "$T/server-v2.err" &
V2=$!
trap 'kill $V2 2>/dev/null; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
PORT=
for _ in $(seq 100); do
  PORT=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/mcp.*|\1|p' "$T/server-v2.err")
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "$PORT" ] || { cat "$T/server-v2.err" >&2; exit 1; }
: > "$T/audit-v2.jsonl"
node sdk_v2_client.mjs http "http://127.0.0.1:$PORT/mcp" "$T/audit-v2.jsonl"
# No secret value ever reaches the audit log.
if grep -q dummy-token "$T/audit.jsonl"; then echo "secret value in the audit log" >&2; exit 1; fi
echo "sdk_test: PASS"
