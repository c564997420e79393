#!/usr/bin/env bash
# Builds the fuzz targets (policy parsers: manifest, host config; the JSON decoder under every
# JSON parse: json; the bundle reader: bundle; the AOT
# translator: aot_translate; the https ABI: https_abi; the shell parser: shell_parser; the shell's
# evaluation modules: shell_pattern, shell_arith, shell_printf, shell_test_expr,
# shell_read_split; nested shells' command lines and #! lines: shell_nested; the path
# resolver, openat2 against the portable walk: resolver; the fast interpreter against
# wabt's, the tests' oracle: fast_diff; the component decoder: component; the Canonical ABI's
# lifting of guest memory: canon; component values from JSON: json_val; from WAVE text: wave) with
# clang-19, libFuzzer and AddressSanitizer in build-fuzz/, then runs each for FUZZ_SECONDS seconds
# (default 30), as many at a time as there are cores, from the seed corpus in tests/<component>/corpus/<target>/. New inputs go to build-fuzz/corpus/ (the seed
# corpus in the source tree is never written). A crash, leak or failed invariant fails the script;
# the reproducer is saved as build-fuzz/artifacts/<target>-crash-*; replay it with
#   build-fuzz/bin/fuzz_<target> build-fuzz/artifacts/<file>
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
JOBS=$(nproc)
source scripts/ccache.sh

cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
  -DWASMCAP_FUZZ=ON -DWASMCAP_WERROR=ON -DWASMCAP_BUILD_TESTS=OFF -DWASMCAP_BUILD_GUESTS=OFF \
  "${CCACHE_LAUNCHER[@]}" >/dev/null
cmake --build build-fuzz -j "$JOBS"

mkdir -p build-fuzz/artifacts
# Symbolized stack traces in reports, when a symbolizer is installed.
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ] && command -v llvm-symbolizer >/dev/null; then
  export ASAN_SYMBOLIZER_PATH=$(command -v llvm-symbolizer)
fi
# One target: fuzz_TARGET from its seed corpus for FUZZ_SECONDS; its output to build-fuzz/logs/.
run_target() {
  local target=$1 component=$2 max_len=$3
  local dict=tests/policy/fuzz/json.dict
  local extra=()
  [ "$component" = bundle ] && dict=tests/bundle/fuzz/bundle.dict
  [ "$component" = engine ] && dict=tests/engine/fuzz/wasm.dict
  # The shell parser: -malloc_limit_mb bounds what one script may make the parser allocate.
  if [ "$component" = shell ]; then
    dict=tests/shell/fuzz/shell.dict
    extra=(-malloc_limit_mb=256)
  fi
  # The resolver: paths up to just past kMaxPathBytes (PATH_MAX - 1), so the length bound is hit.
  [ "$component" = platform ] && dict=tests/platform/fuzz/resolver.dict
  # The virtual root (WASI paths through "/", `..` and the preopens): the resolver's words.
  [ "$component" = wasi ] && dict=tests/platform/fuzz/resolver.dict
  # The component decoder: -malloc_limit_mb bounds what one input may make it allocate.
  if [ "$component" = component ]; then
    dict=tests/component/fuzz/component.dict
    extra=(-malloc_limit_mb=256)
    # Component values from JSON: JSON text after a type byte.
    [ "$target" = json_val ] && dict=tests/policy/fuzz/json.dict
    # Component values from WAVE text: WAVE text after a type byte.
    [ "$target" = wave ] && dict=tests/component/fuzz/wave.dict
  fi
  if [ "$component" = https ]; then
    dict=tests/https/fuzz/https_abi.dict
    extra=(-malloc_limit_mb=64)
  fi
  mkdir -p "build-fuzz/corpus/$target"
  "build-fuzz/bin/fuzz_$target" \
    -max_total_time="$FUZZ_SECONDS" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
    -dict="$dict" -print_final_stats=1 "${extra[@]}" \
    -artifact_prefix="build-fuzz/artifacts/$target-" \
    "build-fuzz/corpus/$target" "tests/$component/corpus/$target" >"build-fuzz/logs/$target.log" 2>&1
}

# target:component:max_len
# https_abi also runs under -malloc_limit_mb: one allocation over the limit is a finding (host
# memory for a request must be O(bounds), never O(guest memory x header count)).
SPECS=(manifest:policy:16384 host_config:policy:16384 tool_schema:policy:16384 json:policy:16384
       bundle:bundle:65536 aot_translate:engine:65536 https_abi:https:131072
       shell_parser:shell:16384 shell_pattern:shell:4096 shell_arith:shell:4096
       shell_printf:shell:4096 shell_test_expr:shell:4096 shell_read_split:shell:4096
       shell_nested:shell:1024
       resolver:platform:4200 virtual_root:wasi:4200
       fast_diff:engine:4096
       component:component:65536 canon:component:65536 json_val:component:16384
       wave:component:16384)
# $JOBS targets at a time (each libFuzzer process uses one core), each still for FUZZ_SECONDS:
# the same fuzzing per target in 1/JOBS of the wall time.
mkdir -p build-fuzz/logs
failed=()
for ((i = 0; i < ${#SPECS[@]}; i += JOBS)); do
  pids=() names=()
  for spec in "${SPECS[@]:i:JOBS}"; do
    IFS=: read -r target component max_len <<<"$spec"
    echo "fuzz: fuzz_$target for ${FUZZ_SECONDS}s"
    run_target "$target" "$component" "$max_len" &
    pids+=($!)
    names+=("$target")
  done
  for k in "${!pids[@]}"; do
    status=0
    wait "${pids[$k]}" || status=$?
    tail -n 12 "build-fuzz/logs/${names[$k]}.log"
    if [ "$status" -ne 0 ]; then
      echo "fuzz: fuzz_${names[$k]} failed (exit $status); reproducer in build-fuzz/artifacts/, log in build-fuzz/logs/${names[$k]}.log" >&2
      failed+=("${names[$k]}")
    fi
  done
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: findings in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all targets ran ${FUZZ_SECONDS}s without findings"
