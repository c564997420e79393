#!/usr/bin/env bash
# CLI cold-start figure: median wall time of `wasmcap run hello.wasm` per engine, with the AOT
# object already cached (one untimed warm-up run compiles it). A measurement, not a test.
#   bash bench/aot/cli_hello.sh [BUILD_DIR] [RUNS]
set -euo pipefail
build=${1:-build}
runs=${2:-30}
cache=$(mktemp -d /tmp/wasmcap-cli-hello-XXXXXX)
trap 'rm -rf "$cache"' EXIT
hello=$build/guest/hello.wasm
"$build/bin/wasmcap" run --engine aot --cache-dir "$cache" "$hello" >/dev/null
python3 - "$build/bin/wasmcap" "$hello" "$cache" "$runs" <<'PY'
import statistics, subprocess, sys, time
wasmcap, hello, cache, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
for engine in ("aot", "interp"):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([wasmcap, "run", "--engine", engine, "--cache-dir", cache, hello],
                       stdout=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - t) * 1000)
    print("cli hello %-6s median %.2f ms  min %.2f ms  (%d runs)" %
          (engine, statistics.median(times), min(times), runs))
PY
