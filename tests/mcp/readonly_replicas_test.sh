#!/usr/bin/env bash
# Replicas on a read-only registry volume (docs/mcp.md#many-replicas-stateless-http): bundles are
# installed into a registry, which is then made read-only twice over: `chmod -R a-w` (the test may
# run as root, who writes through modes, so this part also runs with --registry-read-only and
# checks that nothing below the registry changed), and a real read-only bind mount in a private
# mount namespace (unshare -rm, else unshare -m; skipped with 77 when neither works), where any
# write would fail with EROFS. There `wasmcap tool call`, `bundle list` and two concurrent
# `wasmcap mcp --listen` servers must work, and install/remove must be refused naming the
# read-only registry.
#   readonly_replicas_test.sh WASMCAP BUILD_DIR
set -euo pipefail
WASMCAP=$1 BUILD=$2

T=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  chmod -R u+w "$T" 2>/dev/null || true
  rm -rf "$T" || true
}
trap cleanup EXIT
export WASMCAP_HOME=$T/home
mkdir -p "$WASMCAP_HOME/trust" "$T/ws"
cp "$BUILD/bundles/wasmcap-test.pub" "$WASMCAP_HOME/trust/"
printf 'alpha\nbeta\n' > "$T/ws/notes.txt"
"$WASMCAP" bundle install "$BUILD/bundles/coreutils.wcb" >/dev/null
cat > "$T/config.json" <<JSON
{ "plugins": { "coreutils": { "grants": { "fs": [ { "guest": "/work", "host": "$T/ws", "access": "rw" } ] } } } }
JSON
sed 's/^{/{ "registry": { "read_only": true },/' "$T/config.json" > "$T/config-ro.json"

fail() { echo "FAIL: $*" >&2; exit 1; }
# Every file below the registry with its size, mode and mtime: what must not change.
snapshot() { find "$WASMCAP_HOME/registry" -printf '%p %s %m %T@\n' | sort; }
call_cat() {  # extra flags...
  "$WASMCAP" tool call cat --config "$T/config.json" "$@" --json '{"paths": ["/work/notes.txt"]}'
}

# --- 1. chmod a-w, explicit read-only mode: works, and writes nothing --------------------------
chmod -R a-w "$WASMCAP_HOME/registry"
before=$(snapshot)
out=$(call_cat --registry-read-only) || fail "tool call on a chmod a-w registry: $out"
grep -q alpha <<<"$out" || fail "tool call output: $out"
out=$("$WASMCAP" bundle list --config "$T/config-ro.json") || fail "bundle list: $out"
grep -q coreutils <<<"$out" || fail "bundle list output: $out"
if out=$("$WASMCAP" bundle install --config "$T/config-ro.json" "$BUILD/bundles/coreutils.wcb" 2>&1); then
  fail "install into a read-only registry succeeded: $out"
fi
grep -q "read-only" <<<"$out" || fail "install refusal does not name the read-only registry: $out"
[ "$before" = "$(snapshot)" ] || { diff <(echo "$before") <(snapshot) >&2; fail "the read-only mode changed the registry"; }
echo "chmod a-w + --registry-read-only: ok, registry unchanged"
chmod -R u+w "$WASMCAP_HOME/registry"

# --- 2. a real read-only bind mount ------------------------------------------------------------
UNSHARE=
for u in "unshare -rm" "unshare -m"; do
  if $u sh -c "mount --bind '$T' '$T' && mount -o remount,bind,ro '$T'" 2>/dev/null; then
    UNSHARE=$u
    break
  fi
done
if [ -z "$UNSHARE" ]; then
  echo "SKIP: no private mount namespace here (unshare -rm / -m); the chmod part passed"
  exit 77
fi

# Everything below runs in one private namespace where the registry is a read-only mount (the
# ws directory and the server logs live outside it).
mkdir -p "$T/out"
cat > "$T/inner.sh" <<'SH'
set -euo pipefail
WASMCAP=$1 BUILD=$2 T=$3
export WASMCAP_HOME=$T/home
mount --bind "$WASMCAP_HOME" "$WASMCAP_HOME"
mount -o remount,bind,ro "$WASMCAP_HOME"
fail() { echo "FAIL: $*" >&2; exit 1; }
touch "$WASMCAP_HOME/registry/probe" 2>/dev/null && fail "the bind mount is writable"
# Automatic: the registry is not writable (EROFS), so it opens read-only without any flag.
out=$("$WASMCAP" tool call cat --config "$T/config.json" --json '{"paths": ["/work/notes.txt"]}') ||
  fail "tool call on a read-only mount: $out"
grep -q alpha <<<"$out" || fail "tool call output: $out"
if out=$("$WASMCAP" bundle install "$BUILD/bundles/coreutils.wcb" 2>&1); then fail "install succeeded: $out"; fi
grep -q "read-only" <<<"$out" || fail "install refusal: $out"
if out=$("$WASMCAP" bundle remove coreutils 2>&1); then fail "remove succeeded: $out"; fi
grep -q "read-only" <<<"$out" || fail "remove refusal: $out"
# Two replicas on the same read-only volume, called concurrently.
PORTS=()
for i in 1 2; do
  "$WASMCAP" mcp --config "$T/config.json" --listen 127.0.0.1:0 2> "$T/out/server$i.err" &
  echo $! >> "$T/out/pids"
done
for i in 1 2; do
  p=
  for _ in $(seq 100); do
    p=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/mcp.*|\1|p' "$T/out/server$i.err")
    [ -n "$p" ] && break
    sleep 0.1
  done
  [ -n "$p" ] || { cat "$T/out/server$i.err" >&2; fail "server $i did not start"; }
  PORTS+=("$p")
done
body='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"grep","arguments":{"pattern":"beta","paths":["/work/notes.txt"]},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}'
CURLS=()
for round in 1 2 3; do
  for p in "${PORTS[@]}"; do
    curl -sS --max-time 30 -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
      -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/call' -H 'Mcp-Name: grep' \
      --data "$body" "http://127.0.0.1:$p/mcp" > "$T/out/r-$p-$round.json" &
    CURLS+=($!)
  done
done
for c in "${CURLS[@]}"; do wait "$c" || fail "curl failed"; done
for f in "$T"/out/r-*.json; do
  grep -q '"isError":false' "$f" && grep -q beta "$f" || fail "a replica call failed: $(cat "$f")"
done
echo "calls answered by both replicas: $(ls "$T"/out/r-*.json | wc -l)"
kill $(cat "$T/out/pids") 2>/dev/null || true
SH
# (|| true: the inner script has killed them already; a failed kill must not fail the test)
trap 'kill $(cat "$T/out/pids" 2>/dev/null) 2>/dev/null || true; cleanup' EXIT
$UNSHARE bash "$T/inner.sh" "$WASMCAP" "$BUILD" "$T"
echo "read-only bind mount ($UNSHARE): ok"
