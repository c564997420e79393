#!/usr/bin/env bash
# The `bash` tool with the official MCP TypeScript SDK clients (1.x with a session, the v2
# client on the stateless 2026-07-28 revision), over stdio and Streamable HTTP. The 1.x session
# runs an agent's transcript (here-documents, sed, grep, loops, cd), reviews the diff and applies
# it; the project must then be the tree the same transcript makes when bash runs it on a copy.
#   sdk_bash_test.sh WASMCAP BUILD_DIR SOURCE_DIR
set -euo pipefail
WASMCAP=$1 BUILD=$2 SRC=$3
NODE_DIR=$BUILD/mcp-node
"$SRC/tests/mcp/sdk_install.sh" "$NODE_DIR"
cp "$SRC/tests/mcp/sdk_bash_client.mjs" "$NODE_DIR/sdk_bash_client.mjs"

T=$(mktemp -d)
trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
export WASMCAP_HOME=$T/home
mkdir -p "$WASMCAP_HOME/trust"
cp "$BUILD/bundles/wasmcap-test.pub" "$WASMCAP_HOME/trust/"
"$WASMCAP" bundle install "$BUILD/bundles/coreutils.wcb" >/dev/null

# The agent's transcript: one command line per call (JSON strings), relative to the project.
cat > "$T/transcript.jsonl" <<'JSON'
"mkdir -p app && cd app"
"cat > hello.txt <<'EOF'\nhello world\nsecond line\nEOF"
"sed -i 's/world/there/' hello.txt"
"printf '%s\\n' one two three > list.txt; grep -n t list.txt > matches.txt"
"sed -i 's/beta/gamma/' ../notes.txt"
"for f in hello.txt matches.txt; do cat \"$f\" >> all.txt; done"
"export N=3; seq $N | sort -r > desc.txt; rm list.txt"
"if [ -d ../app ]; then echo yes > flag; fi; cat > ../app.cfg <<EOF\nn=$N\nEOF"
JSON
fresh() {  # the real project, and its workspace, as before any session
  chmod -R u+w "$T/proj" 2>/dev/null || true
  rm -rf "$T/proj"
  mkdir -p "$T/proj"
  printf 'alpha\nbeta\n' > "$T/proj/notes.txt"
  "$WASMCAP" ws discard proj >/dev/null 2>&1 || true
  "$WASMCAP" ws create --from "$T/proj" --name proj >/dev/null
}
# The same transcript under bash, on a copy: the tree the session must produce.
mkdir -p "$T/expected" && printf 'alpha\nbeta\n' > "$T/expected/notes.txt"
python3 -c 'import json,sys; print("\n".join(json.loads(l) for l in open(sys.argv[1]) if l.strip()))' \
  "$T/transcript.jsonl" > "$T/transcript.sh"
(cd "$T/expected" && bash -e "$T/transcript.sh")

echo '{"mcp": {"bash": {"workspace": "proj", "apply": true}}, "audit": {"file": "'"$T/audit.jsonl"'"}}' > "$T/config.json"
export WASMCAP CONFIG=$T/config.json AUDIT=$T/audit.jsonl PROJ=$T/proj TRANSCRIPT=$T/transcript.jsonl OUT=$T/listing
cd "$NODE_DIR"
for mode in stdio http; do
  fresh
  node sdk_bash_client.mjs v1 "$mode"
  diff -r "$T/expected" "$T/proj"   # applied: the tree bash made on its copy
  fresh
  node sdk_bash_client.mjs v2 "$mode"
  diff -r <(printf 'alpha\nbeta\n') "$T/proj/notes.txt"
done
echo "sdk_bash_test: PASS"
