#!/usr/bin/env bash
# `wasmcap run COMPONENT` and `wasmcap plan` end to end (docs/components.md, "Running a
# component"): the WASI 0.2 command wat/command.wat (made a binary by run_components.sh, which
# runs this with WASMCAP_TEST_COMPONENT_WAT_DIR) on interp and aot, under the grants, limits and
# records of a core module's run; stdout and exit status compared with jco's reference host
# (`jco run`: the component transpiled, on node's WASI 0.2 shim) where the two agree to compare.
# `wasmcap call` on wat/call.wat's typed exports, its results compared with `jco transpile`'s.
#   cli_components.sh BUILD_DIR WASMCAP
set -uo pipefail
BUILD=$1
WASMCAP=$2
. "$(dirname "$0")/jco_install.sh"
C=$WASMCAP_TEST_COMPONENT_WAT_DIR/command.wasm
U=$WASMCAP_TEST_COMPONENT_WAT_DIR/unserved.wasm
K=$WASMCAP_TEST_COMPONENT_WAT_DIR/call.wasm
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# run NAME EXPECTED_STATUS ARGS...: wasmcap's stdout in $T/out, stderr in $T/err.
run() {
  local name=$1 want=$2
  shift 2
  timeout 60 "$WASMCAP" run -q "$@" >"$T/out" 2>"$T/err"
  local got=$?
  [ "$got" = "$want" ] || fail "$name: exit $got, expected $want; stderr: $(head -c 400 "$T/err")"
}
has() { grep -q -- "$2" "$T/$1" || fail "$3: no '$2' in $1: $(head -c 400 "$T/$1")"; }

for e in interp aot; do
  run "$e hello" 0 --engine $e "$C" hello
  [ "$(cat "$T/out")" = "hello from a component" ] || fail "$e hello: stdout '$(cat "$T/out")'"
  run "$e args" 0 --engine $e "$C" args 'a b' c
  [ "$(tail -n +2 "$T/out")" = "$(printf 'args\na b\nc')" ] || fail "$e args: stdout '$(cat "$T/out")'"
  # The fixed clock and the seeded random stream make a run deterministic; another seed differs.
  run "$e random" 0 --engine $e --clock fixed=2026-01-01T00:00:00Z --random seed=3 "$C" random
  cp "$T/out" "$T/random.$e"
  # 2026-01-01T00:00:00Z is 0x6955b900 seconds.
  has out " 000000006955b900.0000000000000000" "$e fixed clock"
  run "$e random again" 0 --engine $e --clock fixed=2026-01-01T00:00:00Z --random seed=3 "$C" random
  cmp -s "$T/out" "$T/random.$e" || fail "$e: seed=3 twice differs"
  run "$e random seed 4" 0 --engine $e --clock fixed=2026-01-01T00:00:00Z --random seed=4 "$C" random
  cmp -s "$T/out" "$T/random.$e" && fail "$e: seed=4 gives seed=3's output"
  # No clock or random granted: the call traps naming the grant.
  run "$e random denied" 80 --engine $e --clock deny "$C" random
  has err "not granted" "$e random denied"
  run "$e exit-with-code" 7 --engine $e "$C" code
  run "$e run returns err" 1 --engine $e "$C" err
  run "$e trap" 80 --engine $e "$C" trap
  has err "trap_unreachable" "$e trap"
  run "$e deadline" 82 --engine $e --timeout-ms 300 "$C" spin
  has err "deadline_exceeded" "$e deadline"
  run "$e output cap" 84 --engine $e --max-output-bytes 100000 "$C" flood
  [ "$(wc -c <"$T/out")" -le 100000 ] || fail "$e output cap: $(wc -c <"$T/out") bytes written"
  has err "output_limit" "$e output cap"
done
# Fuel, on the engine that meters it (aot refuses --fuel, as for a core module).
run "fuel" 81 --engine interp --fuel 100000 "$C" spin
has err "fuel_exhausted" "fuel"
[ "$(cat "$T/random.interp")" = "$(cat "$T/random.aot")" ] || fail "interp and aot random differ"
# A component's fuel is reported as a module's (--json, run_end): on interp, what its guest code used.
timeout 60 "$WASMCAP" run --engine interp --json "$C" hello >"$T/out" 2>"$T/err" || fail "json run: $(head -c 400 "$T/err")"
node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  if (!(j.fuel_consumed > 0) || j.exit_code !== 0) throw new Error("fuel_consumed");' "$T/out" ||
  fail "interp --json fuel_consumed: $(head -c 400 "$T/out")"

# Every import the host does not serve is named before anything runs, by run and by plan.
run "unserved" 67 "$U"
has err '"wasi:sockets/tcp@0.2.0#connect", "wasi:sockets/tcp@0.2.0#listen"' "unserved"
# --invoke is a core module's; a component runs wasi:cli/run.
run "invoke" 64 --invoke run "$C"
has err "wasi:cli/run" "invoke"

# A run granting https to a component serves it through wasi:http (component_http_test.cc
# fetches through it); the command, which makes no request, runs as without the grant.
run "https" 0 --allow-https example.com "$C" hello
has out "hello from a component" "https"

# A manifest run: run_start and run_end records in the host config's audit file; plan names the
# unserved imports and the grants the imports need.
cp "$C" "$T/cmd.wasm"
cp "$U" "$T/uns.wasm"
cat >"$T/m.json" <<'EOF'
{"name": "cmd", "version": "1.0.0", "module": "cmd.wasm", "permissions": {"args": true}}
EOF
printf '{"audit": {"file": "%s/audit.jsonl"}, "plugins": {"cmd": {"grants": {}}}}\n' "$T" >"$T/c.json"
pushd "$T" >/dev/null
run "manifest run" 0 --manifest m.json --config c.json cmd.wasm hello
popd >/dev/null
has out "hello from a component" "manifest run"
grep -q '"event":"run_start"' "$T/audit.jsonl" || fail "no run_start record"
grep -q '"event":"run_end".*"exit_code":0' "$T/audit.jsonl" || fail "no run_end record with exit 0: $(cat "$T/audit.jsonl")"
(cd "$T" && timeout 60 "$WASMCAP" plan --manifest m.json --config c.json cmd.wasm >"$T/out" 2>"$T/err")
[ $? = 0 ] || fail "plan: $(cat "$T/err")"
has out 'imports "wasi:random/random@0.2.0" but the plan grants no random' "plan grants"
(cd "$T" && timeout 60 "$WASMCAP" plan --manifest m.json --config c.json uns.wasm >"$T/out" 2>"$T/err")
st=$?
[ $st = 77 ] || fail "plan unserved: exit $st"
has out '"wasi:sockets/tcp@0.2.0#listen"' "plan unserved"

# A component made by `jco new` (wit-component's preview1 adapter) shares a table between its
# core instances: it runs on interp, aot and auto, printing what `jco run` prints, and plan
# passes it on each engine.
"$JCO" new "$BUILD/guest/hello.wasm" --wasi-command -o "$T/hello.component.wasm" || fail "jco new"
(cd "$T" && timeout 120 "$JCO" run "$T/hello.component.wasm" >"$T/jco.out" 2>"$T/jco.err")
jst=$?
for e in interp aot auto; do
  run "$e shared table" $jst --engine $e "$T/hello.component.wasm"
  cmp -s "$T/out" "$T/jco.out" || fail "$e shared table: stdout '$(cat "$T/out")' vs jco's '$(cat "$T/jco.out")'"
  [ -s "$T/out" ] || fail "$e shared table: no output"
done
cp "$T/hello.component.wasm" "$T/cmd.wasm"
for e in interp aot; do
  (cd "$T" && timeout 60 "$WASMCAP" plan --engine $e --manifest m.json --config c.json cmd.wasm >"$T/out" 2>"$T/err")
  st=$?
  [ $st = 0 ] || fail "plan shared table on $e: exit $st: $(cat "$T/out" "$T/err")"
done

# `wasmcap compile COMPONENT` compiles each of its core modules into the aot cache, so a run
# compiles nothing: with a 1 ms compile bound the run fails before and succeeds after.
CD=$T/aot-cache
timeout 120 "$WASMCAP" run -q --engine aot --cache-dir "$CD" --compile-timeout-ms 1 "$T/hello.component.wasm" \
  >"$T/out" 2>"$T/err" && fail "aot run with a 1 ms compile bound before compile succeeded"
timeout 600 "$WASMCAP" compile --json --cache-dir "$CD" "$T/hello.component.wasm" >"$T/out" 2>"$T/err" ||
  fail "compile component: $(head -c 400 "$T/err")"
node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const m = j.core_modules;
  if (j.component !== true || !Array.isArray(m) || m.length < 2) throw new Error("core_modules");
  if (!m.every((x) => /^[0-9a-f]{64}$/.test(x.sha256) && x.size > 8)) throw new Error("sha256/size");
  if (new Set(m.map((x) => x.offset)).size !== m.length) throw new Error("offsets");' \
  "$T/out" || fail "compile --json: $(head -c 600 "$T/out")"
run "aot after compile" $jst --engine aot --cache-dir "$CD" --compile-timeout-ms 1 "$T/hello.component.wasm"
cmp -s "$T/out" "$T/jco.out" || fail "aot after compile: stdout '$(cat "$T/out")'"
timeout 120 "$WASMCAP" compile --cache-dir "$CD" "$T/hello.component.wasm" >"$T/out" 2>"$T/err" ||
  fail "compile component again: $(head -c 400 "$T/err")"
has out '^compiled the [0-9]* core modules of component .* for the aot engine' "compile text"
printf 'not wasm' >"$T/bad.wasm"
timeout 60 "$WASMCAP" compile --cache-dir "$CD" "$T/bad.wasm" >"$T/out" 2>"$T/err" && fail "compile of a non-module succeeded"
printf '\0asm\x0d\0\x01\0\x01\x05' >"$T/bad.wasm"
timeout 60 "$WASMCAP" compile --cache-dir "$CD" "$T/bad.wasm" >"$T/out" 2>"$T/err" && fail "compile of a malformed component succeeded"
has err "component" "compile of a malformed component names it"

# `wasmcap inspect` describes a component: its imports, what the host does not serve, its exports
# with their WIT signatures and the grants its imports read.
timeout 60 "$WASMCAP" inspect "$K" >"$T/out" 2>"$T/err" || fail "inspect call.wasm: $(head -c 400 "$T/err")"
has out '^  div(a: s32, b: s32) -> result<s32, string>$' "inspect exports"
has out '^grants its imports read: none$' "inspect grants"
timeout 60 "$WASMCAP" inspect "$C" >"$T/out" 2>"$T/err" || fail "inspect command.wasm: $(head -c 400 "$T/err")"
has out '^  wasi:cli/run@0.2.0#run() -> result$' "inspect command export"
has out '^grants its imports read: .*clocks, random' "inspect command grants"
timeout 60 "$WASMCAP" inspect "$U" >"$T/out" 2>"$T/err" || fail "inspect unserved.wasm: $(head -c 400 "$T/err")"
has out "not served by wasmcap's WASI 0.2 host" "inspect unserved"
timeout 60 "$WASMCAP" inspect --json "$K" >"$T/out" 2>"$T/err" || fail "inspect --json"
node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  if (!j.exports.some((f) => f.name === "add" && f.signature === "(a: u32, b: u32) -> u32")) throw new Error("add");' \
  "$T/out" || fail "inspect --json: $(head -c 400 "$T/out")"

# A component as a shell command and an MCP tool: a signed bundle whose module is the jco-made
# component, installed; `wasmcap sh` runs it by name in a pipeline on interp and aot, and
# `wasmcap tool call` calls its tool (PreparedModule prepares components and runs them).
"$WASMCAP" run -q "$T/hello.component.wasm" >"$T/hello.expected" 2>/dev/null || fail "hello component run"
H=$T/home
mkdir -p "$H/trust" "$T/cb"
cp "$BUILD/bundles/wasmcap-test.pub" "$H/trust/"
cp "$T/hello.component.wasm" "$T/cb/hello.wasm"
cat >"$T/cb/manifest.json" <<'EOF'
{"name": "chello", "version": "0.1.0", "module": "hello.wasm", "description": "hello, as a component",
 "permissions": {"args": true}, "commands": {"chello": {}},
 "tools": [{"name": "chello", "description": "Says hello.",
            "input_schema": {"type": "object", "additionalProperties": false, "properties": {}},
            "invoke": {"argv": ["chello"]}}]}
EOF
"$WASMCAP" bundle pack --manifest "$T/cb/manifest.json" --key "$BUILD/bundles/wasmcap-test.key" \
  --out "$T/cb/chello.wcb" >/dev/null || fail "bundle pack of a component"
WASMCAP_HOME=$H "$WASMCAP" bundle install "$T/cb/chello.wcb" >/dev/null || fail "bundle install of a component"
for e in interp aot; do
  WASMCAP_HOME=$H timeout 120 "$WASMCAP" sh --engine $e -c 'chello | chello >/dev/null; chello; echo "status $?"' \
    >"$T/out" 2>"$T/err" || fail "$e sh component: $(head -c 400 "$T/err")"
  cmp -s "$T/out" <(cat "$T/hello.expected"; echo "status 0") ||
    fail "$e sh component: '$(head -c 400 "$T/out")' $(head -c 400 "$T/err")"
done
printf '{"plugins": {"chello": {"grants": {}}}}\n' >"$T/cb/config.json"
WASMCAP_HOME=$H timeout 120 "$WASMCAP" tool call chello --config "$T/cb/config.json" --json '{}' >"$T/out" 2>"$T/err" ||
  fail "tool call of a component: $(head -c 400 "$T/err")"
node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const want = require("fs").readFileSync(process.argv[2], "utf8") + "arg[1]=chello\n";  // the argv template
  if (r.isError || r.content[0].text !== want) throw new Error(JSON.stringify(r));' "$T/out" "$T/hello.expected" ||
  fail "tool call of a component: $(head -c 400 "$T/out")"

# jco's reference host: the same stdout and exit status (argv[0] differs: jco passes its own).
for args in "hello" "args x y" "code" "err"; do
  # shellcheck disable=SC2086
  (cd "$T" && timeout 120 "$JCO" run "$C" $args >"$T/jco.out" 2>"$T/jco.err")
  jst=$?
  # shellcheck disable=SC2086
  run "compare $args" $jst "$C" $args
  if [ "${args%% *}" = args ]; then
    diff <(tail -n +2 "$T/out") <(tail -n +2 "$T/jco.out") >/dev/null || fail "compare $args: stdout differs"
  else
    cmp -s "$T/out" "$T/jco.out" || fail "compare $args: stdout differs: '$(cat "$T/out")' vs '$(cat "$T/jco.out")'"
  fi
done

# `wasmcap call` (docs/components.md, "Calling an export") on wat/call.wat's typed exports: the
# result as one line of JSON on stdout; a result's err case exits 1; bad arguments (their JSON
# path named), an unknown function and a core module are refused before the run starts (no
# audit record, the host config's audit file untouched); traps and limits exit as a run's.
call() {
  local name=$1 want=$2
  shift 2
  timeout 60 "$WASMCAP" call -q "$@" >"$T/out" 2>"$T/err"
  local got=$?
  [ "$got" = "$want" ] || fail "$name: exit $got, expected $want; stderr: $(head -c 400 "$T/err")"
}
out_is() { [ "$(cat "$T/out")" = "$2" ] || fail "$1: stdout '$(cat "$T/out")', expected '$2'"; }
printf '{"audit": {"file": "%s/call-audit.jsonl"}}\n' "$T" >"$T/call.json"
records() { if [ -f "$T/call-audit.jsonl" ]; then wc -l <"$T/call-audit.jsonl"; else echo 0; fi; }
for e in interp aot; do
  call "$e call add" 0 --engine $e "$K" add --json '{"a": 40, "b": 2}'
  out_is "$e call add" 42
  call "$e call div ok" 0 --engine $e "$K" div --json '{"a": -7, "b": 2}'
  out_is "$e call div ok" '{"ok":-3}'
  call "$e call div err" 1 --engine $e "$K" div --json '{"a": 7, "b": 0}'
  out_is "$e call div err" '{"err":"division by zero"}'
  call "$e call tuple" 0 --engine $e "$K" norm2 --json '{"p": [-2147483648, -2147483648]}'
  out_is "$e call tuple" '"9223372036854775808"'
  before=$(records)
  call "$e call audited" 0 --engine $e --config "$T/call.json" "$K" add --json '{"a": 1, "b": 2}'
  [ "$(records)" = $((before + 2)) ] || fail "$e call audited: $(records) records, expected $((before + 2))"
  grep -q '"event":"run_end".*"exit_code":0' "$T/call-audit.jsonl" || fail "$e call audited: no run_end"
  before=$(records)
  call "$e call bad json" 64 --engine $e --config "$T/call.json" "$K" norm2 --json '{"p": [3, "x"]}'
  has err 'invalid_argument: \$\.p\[1\]: expected s32' "$e call bad json"
  [ -s "$T/out" ] && fail "$e call bad json: stdout '$(cat "$T/out")'"
  call "$e call out of range" 64 --engine $e --config "$T/call.json" "$K" add --json '{"a": 4294967296, "b": 0}'
  has err '\$\.a: expected u32' "$e call out of range"
  call "$e call missing" 64 --engine $e --config "$T/call.json" "$K" add --json '{"a": 1}'
  has err 'missing parameter b' "$e call missing"
  call "$e call not json" 64 --engine $e --config "$T/call.json" "$K" add --json '{"a": 1,'
  # The call in WAVE (docs/components.md, "WAVE"): the result printed in WAVE; a refusal names
  # the byte and leaves no record.
  call "$e call wave" 0 --engine $e "$K" 'add(40, 2)'
  out_is "$e call wave" 42
  call "$e call wave err" 1 --engine $e "$K" 'div(7, 0)'
  out_is "$e call wave err" 'err("division by zero")'
  call "$e call wave ok" 0 --engine $e "$K" ' div( -7 , 2, ) '
  out_is "$e call wave ok" 'ok(-3)'
  call "$e call wave tuple" 0 --engine $e "$K" 'norm2((-2147483648, -2147483648))'
  out_is "$e call wave tuple" '9223372036854775808'
  call "$e call wave iface" 0 --engine $e "$K" 'example:call/ops#add(4294967295, 1)'
  out_is "$e call wave iface" 0
  before=$(records)
  call "$e call wave bad" 64 --engine $e --config "$T/call.json" "$K" 'norm2((3, "x"))'
  has err 'the arguments (WAVE) at byte 4: expected s32' "$e call wave bad"
  call "$e call wave and json" 64 --engine $e --config "$T/call.json" "$K" 'add(1, 2)' --json '{}'
  call "$e call wave unclosed" 64 --engine $e --config "$T/call.json" "$K" 'add(1, 2'
  [ "$(records)" = "$before" ] || fail "$e call wave refusals wrote audit records"
  call "$e call unknown" 67 --engine $e --config "$T/call.json" "$K" nope
  has err 'no function "nope"' "$e call unknown"
  has err 'wasmcap call COMPONENT --list' "$e call unknown"
  [ "$(records)" = "$before" ] || fail "$e call: a refused call left $(($(records) - before)) audit record(s)"
  call "$e call trap" 80 --engine $e "$K" trap
  has err trap_unreachable "$e call trap"
  call "$e call overflow trap" 80 --engine $e "$K" div --json '{"a": -2147483648, "b": -1}'
  has err trap_integer_overflow "$e call overflow trap"
  call "$e call deadline" 82 --engine $e --timeout-ms 300 "$K" spin
  has err deadline_exceeded "$e call deadline"
done
call "call no parameters" 64 "$K" spin --json '{"n": 1}'
has err '$.n: unknown parameter (the function takes none: {})' "call no parameters"
call "call fuel" 81 --engine interp --fuel 100000 "$K" spin
has err fuel_exhausted "call fuel"
call "call interface" 0 "$K" 'example:call/ops#add' --json '{"a": 3, "b": 4}'
out_is "call interface" 7
call "call json-file stdin" 0 "$K" add --json-file - <<<'{"a": 5, "b": 6}'
out_is "call json-file stdin" 11
# The arguments' text is bounded: an endless file is refused after 64 MiB, not read to its end.
call "call endless json-file" 64 "$K" add --json-file /dev/zero
has err "more than 64 MiB of arguments" "call endless json-file"
call "call no function" 64 "$K"
has err "--list" "call no function"
call "call core module" 64 "$BUILD/guest/hello.wasm" main
has err "not a component" "call core module"
call "call list" 0 "$K" --list
has out '^div(a: s32, b: s32) -> result<s32, string>$' "call list"
has out '^norm2(p: tuple<s32, s32>) -> u64$' "call list"
has out '^example:call/ops#add(a: u32, b: u32) -> u32$' "call list"
has out '"required":\["a","b"\]' "call list"
call "call list-json" 0 "$K" --list-json
node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const f = j.functions.map((x) => x.name + "(" + x.params.join(",") + ")").join(" ");
  if (f !== "add(a,b) div(a,b) example:call/ops#add(a,b) norm2(p) spin() trap()") throw new Error(f);
  if (j.functions[1].output_schema.oneOf.length !== 2) throw new Error("div output schema");
  if (j.functions[1].signature !== "(a: s32, b: s32) -> result<s32, string>") throw new Error("div signature");' "$T/out" ||
  fail "call list-json: $(head -c 400 "$T/out")"
# jco's reference host: wat/call.wat transpiled by `jco transpile`, the same calls on node
# (call_compare.mjs), the same results as wasmcap call prints them.
"$JCO" transpile "$K" -o "$T/transpiled" --name call >/dev/null || fail "jco transpile call.wasm"
node "$(dirname "$0")/call_compare.mjs" "$T/transpiled/call.js" >"$T/jco.calls" || fail "call_compare.mjs"
: >"$T/ours.calls"
while read -r name fn args; do
  timeout 60 "$WASMCAP" call -q "$K" "$fn" --json "$args" >"$T/out" 2>/dev/null
  st=$?
  if [ $st -ge 80 ]; then echo "$name: trap"; else echo "$name: $(cat "$T/out")"; fi >>"$T/ours.calls"
done <<'EOF'
add add {"a": 40, "b": 2}
add-wraps add {"a": 4294967295, "b": 2}
div div {"a": -7, "b": 2}
div-by-zero div {"a": 7, "b": 0}
norm2 norm2 {"p": [3, -4]}
norm2-big norm2 {"p": [-2147483648, -2147483648]}
ops-add example:call/ops#add {"a": 1, "b": 2}
trap trap {}
EOF
[ "$(wc -l <"$T/jco.calls")" = 8 ] || fail "jco calls: $(cat "$T/jco.calls")"
diff "$T/jco.calls" "$T/ours.calls" || fail "wasmcap call differs from jco transpile"

if [ "$fails" != 0 ]; then
  echo "$fails failure(s)"
  exit 1
fi
echo "cli_components: all passed"
