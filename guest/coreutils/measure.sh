#!/usr/bin/env bash
# Multi-call module vs one module per tool: module size and start-up time on the interpreter.
# Usage: guest/coreutils/measure.sh [BUILD_DIR]   (needs a built build/bin/wasmcap)
# Start-up = wall time of `wasmcap run` for a tool doing almost nothing (`wc -c empty`), median
# of 15 runs, both variants measured in the same script, one after the other.
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
build=${1:-$src/../../build}
wasmcap=$build/bin/wasmcap
out=$(mktemp -d /tmp/coreutils-measure.XXXXXX)
trap 'rm -rf "$out"' EXIT
flags=(--target=wasm32-wasi --sysroot=/usr -O2 -Wl,--strip-debug -Wl,-z,stack-size=1048576)
sources=("$src"/*.c)
clang-19 "${flags[@]}" "${sources[@]}" -o "$out/coreutils.wasm"
tools=(cat cp find grep head ls mkdir mv pwd rm sed tail wc)
total=0
for t in "${tools[@]}"; do
  clang-19 "${flags[@]}" -DCU_ONLY_TOOL="$t" "${sources[@]}" -o "$out/$t.wasm"
  total=$((total + $(stat -c %s "$out/$t.wasm")))
done
mkdir -p "$out/ws" && : > "$out/ws/empty"
printf '(module (func (export "_start")))' > "$out/nop.wat" && wat2wasm "$out/nop.wat" -o "$out/nop.wasm"
multi=$(stat -c %s "$out/coreutils.wasm")
printf 'multi-call coreutils.wasm: %d bytes\n' "$multi"
printf 'one module per tool: %d bytes in total (%d tools); per tool:\n' "$total" "${#tools[@]}"
for t in "${tools[@]}"; do printf '  %-6s %7d bytes\n' "$t" "$(stat -c %s "$out/$t.wasm")"; done
# Interleaved runs (A B C A B C ...) so that load from other processes hits every variant alike.
python3 - "$wasmcap" "$out" <<'PY'
import statistics, subprocess, sys, time
wasmcap, out = sys.argv[1:]
def cmd(module, *args):
    return [wasmcap, "run", "--dir", out + "/ws::/work", module] + list(args)
variants = {
    "empty module (runtime floor)": cmd(out + "/nop.wasm"),
    "multi-call: coreutils wc -c empty": cmd(out + "/coreutils.wasm", "wc", "-c", "empty"),
    "per tool:   wc.wasm -c empty": cmd(out + "/wc.wasm", "wc", "-c", "empty"),
    "multi-call: coreutils grep -c x empty": cmd(out + "/coreutils.wasm", "grep", "-c", "x", "empty"),
    "per tool:   grep.wasm -c x empty": cmd(out + "/grep.wasm", "grep", "-c", "x", "empty"),
}
times = {k: [] for k in variants}
for _ in range(21):
    for k, c in variants.items():
        t = time.perf_counter()
        subprocess.run(c, stdout=subprocess.DEVNULL)
        times[k].append((time.perf_counter() - t) * 1000)
print("start-up, wall time of one wasmcap run, median of 21 interleaved runs:")
for k, v in times.items():
    print("  %-40s %6.1f ms" % (k, statistics.median(v)))
PY
