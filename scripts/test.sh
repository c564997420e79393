#!/usr/bin/env bash
# Sets up (idempotent apt-get install), builds with warnings as errors, and runs every test:
# unit tests, guest tests, the official WASI test suite (from ../shared) — first in Release,
# then the unit and guest tests again under AddressSanitizer + UBSan, then 30 s of fuzzing per
# target: the policy parsers and the bundle reader (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# The wall time of each phase, printed at the end: what a slow CI run spent its time on.
PHASES=()
phase_start=$SECONDS
phase() {
  PHASES+=("$1 $((SECONDS - phase_start)) s")
  phase_start=$SECONDS
}
bash scripts/setup.sh
phase setup
JOBS=$(nproc)
source scripts/ccache.sh

PASSED=0
# What each failed test of the last ctest run in build dir $1 printed, again at the very end of
# the log (a CI report may keep only the tail): its failure lines (with the line after each) and its last lines.
failure_digest() {
  local dir=$1 t
  [ -f "$dir/Testing/Temporary/LastTestsFailed.log" ] || return 0
  echo
  echo "=== failed tests, what they printed (from $dir/Testing/Temporary/LastTest.log) ==="
  while IFS= read -r t; do
    t=${t#*:}
    echo "--- $t"
    awk -v name="$t" '
      $0 ~ /^[0-9]+\/[0-9]+ Test: / { sub(/^[0-9]+\/[0-9]+ Test: /, ""); on = ($0 == name); n = 0; next }
      on && /^<end of output>/ { on = 0 }
      on { lines[n++] = $0 }
      END {
        shown = 0
        for (i = 0; i < n && shown < 40; i++) if (lines[i] ~ /FAIL|Failure|error|Error|Traceback/) {
          print "  " substr(lines[i], 1, 400); if (i + 1 < n) print "  " substr(lines[i + 1], 1, 400); shown++
        }
        print "  [last lines]"
        for (i = (n > 30 ? n - 30 : 0); i < n; i++) print "  " substr(lines[i], 1, 400)
      }' "$dir/Testing/Temporary/LastTest.log"
  done < "$dir/Testing/Temporary/LastTestsFailed.log"
}

# Runs ctest in build dir $1 with extra args; adds its test count to PASSED (set -e stops the
# script on any failure, so a counted run is a passing run).
run_ctest() {
  local dir=$1
  shift
  local log
  log=$(mktemp)
  local rc=0
  (cd "$dir" && ctest --output-on-failure -j "$JOBS" "$@") | tee "$log" || rc=$?
  if [ "$rc" != 0 ]; then
    rm -f "$log"
    failure_digest "$dir"
    exit "$rc"
  fi
  local n
  n=$(sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -n 1)
  rm -f "$log"
  PASSED=$((PASSED + ${n:-0}))
}

# WASMCAP_BUILD_PYTHON: the python bundle (guest/python), cached by content in
# ${XDG_CACHE_HOME:-~/.cache}/wasmcap/python: a fresh machine builds CPython once (minutes).
# python/aot-compile compiles python.wasm for the aot engine into ${XDG_CACHE_HOME:-~/.cache}/
# wasmcap/aot-ci, also by content: ~144 CPU-s once per machine and input, < 1 s after (its own
# ctest TIMEOUT overrides --timeout 300 below; guest/python/README.md "CI cost of the AOT tests").
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DWASMCAP_WERROR=ON -DWASMCAP_BUILD_PYTHON=ON -DWASMCAP_FAILPOINTS=ON \
  "${CCACHE_LAUNCHER[@]}" >/dev/null
cmake --build build -j "$JOBS"
phase "release build"
run_ctest build --timeout 300
phase "release tests"

if [ "${WASMCAP_SKIP_ASAN:-0}" != "1" ]; then
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DWASMCAP_WERROR=ON \
    -DWASMCAP_SANITIZE=ON -DWASMCAP_FAILPOINTS=ON "${CCACHE_LAUNCHER[@]}" >/dev/null
  cmake --build build-asan -j "$JOBS"
  phase "sanitized build"
  # Not `slow` (minutes each) nor `timing` (tests that sleep or poll: under the sanitizers'
  # slowdown their waits stop meaning what they assert; tests/CMakeLists.txt).
  ASAN_OPTIONS=detect_leaks=1 run_ctest build-asan --timeout 600 -LE 'slow|timing'
  phase "sanitized tests"
fi

# --- Fuzzing: the manifest and host-config parsers and the bundle reader, 30 s each (FUZZ_SECONDS to change,
# WASMCAP_SKIP_FUZZ=1 to skip). Separate clang-19 build in build-fuzz/; see scripts/fuzz.sh.
if [ "${WASMCAP_SKIP_FUZZ:-0}" != "1" ]; then
  bash scripts/fuzz.sh
  phase "fuzz build and runs"
fi

echo
echo "wasmcap tests (Release + ASan ctest runs):"
echo "${PASSED} passed, 0 failed"
echo "time per phase: $(IFS=,; echo "${PHASES[*]}" | sed 's/,/, /g') (total $SECONDS s)"
