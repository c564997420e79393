#!/usr/bin/env bash
# Component tools (docs/mcp.md, "Component tools"): tests/component/wat/call.wat (made a binary
# by tests/component/run_components.sh, which runs this with WASMCAP_TEST_COMPONENT_WAT_DIR) in a
# signed bundle whose manifest says "component_tools", listed and called through the official
# SDK clients v1 and v2 over stdio (sdk_component_client.mjs); the audit records of the calls;
# `wasmcap tool list`; a bundle update that changes the module needs --force.
#   sdk_component_test.sh WASMCAP BUILD_DIR SOURCE_DIR
set -euo pipefail
WASMCAP=$1 BUILD=$2 SRC=$3
NODE_DIR=$BUILD/mcp-node
"$SRC/tests/mcp/sdk_install.sh" "$NODE_DIR"
cp "$SRC/tests/mcp/sdk_component_client.mjs" "$NODE_DIR/sdk_component_client.mjs"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export WASMCAP_HOME=$T/home
mkdir -p "$WASMCAP_HOME/trust" "$T/src"
cp "$BUILD/bundles/wasmcap-test.pub" "$WASMCAP_HOME/trust/"
cp "$WASMCAP_TEST_COMPONENT_WAT_DIR/call.wasm" "$T/src/call.wasm"
# Every export but spin: the whole interface, and top-level functions by name.
cat > "$T/src/calc.json" <<'JSON'
{"name": "calc", "version": "1.0.0", "module": "call.wasm",
 "component_tools": ["example:call/ops", "add", "div", "norm2", "trap"]}
JSON
"$WASMCAP" bundle pack --manifest "$T/src/calc.json" --key "$BUILD/bundles/wasmcap-test.key" --out "$T/calc.wcb" >/dev/null
"$WASMCAP" bundle install "$T/calc.wcb" >/dev/null
cat > "$T/config.json" <<JSON
{ "plugins": { "calc": {} }, "audit": { "file": "$T/audit.jsonl" } }
JSON

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
"$WASMCAP" tool list --config "$T/config.json" > "$T/list" 2>&1 || fail "tool list: $(head -c 400 "$T/list")"
grep -q "ops_add" "$T/list" || fail "tool list has no ops_add: $(head -c 400 "$T/list")"
grep -q "spin" "$T/list" && fail "tool list has spin, which the manifest does not select"

cd "$NODE_DIR"
node sdk_component_client.mjs v1 "$WASMCAP" "$T/config.json" || fail "the v1 client"
node sdk_component_client.mjs v2 "$WASMCAP" "$T/config.json" || fail "the v2 client"
# One tool_call record per call, the export's outcome in it: ok, the error case, a refused
# argument, a trap.
record() { grep '"event":"tool_call"' "$T/audit.jsonl" | grep "\"tool\":\"$1\"" | grep -q "\"outcome\":\"$2\"" ||
  fail "no $2 record for $1: $(tail -n 3 "$T/audit.jsonl")"; }
record div tool_error
record add invalid_arguments
record add ok
record norm2 ok
record trap trap_unreachable

# A component tool's surface comes from the module: an update whose module differs is refused
# without --force (rug-pull defence), even with the same manifest otherwise.
cp "$WASMCAP_TEST_COMPONENT_WAT_DIR/command.wasm" "$T/src/call.wasm"
sed 's/"1.0.0"/"1.0.1"/' "$T/src/calc.json" > "$T/src/calc2.json"
"$WASMCAP" bundle pack --manifest "$T/src/calc2.json" --key "$BUILD/bundles/wasmcap-test.key" --out "$T/calc2.wcb" >/dev/null
if "$WASMCAP" bundle install "$T/calc2.wcb" > "$T/upd" 2>&1; then
  fail "an update changing a component tools' module installed without --force"
fi
grep -q "component tools: the module changed" "$T/upd" || fail "the refusal does not say why: $(head -c 400 "$T/upd")"
# The installed one no longer offers a tool it lists but does not export: reported, not offered.
[ "$fails" = 0 ] || exit 1
echo "sdk_component_test: PASS"
