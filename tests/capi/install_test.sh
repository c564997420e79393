#!/usr/bin/env bash
# Installs the build into a temporary prefix, then builds examples/embed-c (and examples/call-c)
# OUT OF TREE against the installed package only -- with find_package (shared and static) and with pkg-config (shared
# and static) -- and runs each build on a guest. A missing install rule, header, dependency in
# the link interface or exported symbol fails here.
#
#   install_test.sh BUILD_DIR SOURCE_DIR GUEST_DIR
set -euo pipefail
build=$1 src=$2 guests=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

fail() { echo "install_test: FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >"$work/install.log" || { cat "$work/install.log"; fail "cmake --install"; }

# The installed files.
[ -x "$prefix/bin/wasmcap" ] || fail "bin/wasmcap not installed"
"$prefix/bin/wasmcap" --version | grep -q wasmcap || fail "installed wasmcap does not run"
[ -f "$prefix/include/wasmcap/wasmcap.h" ] || fail "include/wasmcap/wasmcap.h not installed"
[ -f "$prefix/include/wasmcap/runtime.h" ] || fail "C++ headers not installed"
libdir=$(dirname "$(find "$prefix" -name libwasmcap.a | head -1)")
[ -f "$libdir/libwasmcap.a" ] || fail "libwasmcap.a not installed"
so=$(find "$libdir" -name 'libwasmcap.so.*.*' | head -1)
[ -n "$so" ] || fail "libwasmcap.so.X.Y.Z not installed"
soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libwasmcap.so.0" ] || fail "SONAME is '$soname', expected libwasmcap.so.0"
[ -L "$libdir/$soname" ] || fail "$soname symlink not installed"
[ -L "$libdir/libwasmcap.so" ] || fail "libwasmcap.so (development symlink) not installed"
[ -f "$libdir/pkgconfig/wasmcap.pc" ] || fail "wasmcap.pc not installed"
[ -f "$libdir/cmake/wasmcap/wasmcapConfig.cmake" ] || fail "CMake package not installed"
[ -f "$libdir/cmake/wasmcap/wasmcapConfigVersion.cmake" ] || fail "CMake package version file not installed"

[ -s "$prefix/share/man/man1/wasmcap.1" ] || fail "man page not installed"
grep -q '^.TH WASMCAP 1' "$prefix/share/man/man1/wasmcap.1" || fail "man page is not troff"
bash -n "$prefix/share/bash-completion/completions/wasmcap" || fail "bash completion does not parse"

# The guest SDKs and the shipped bundles (docs/bundles.md, "First-time setup"): a plugin builds
# against the installed C SDK alone, and `wasmcap setup` on a fresh home trusts the shipped key
# and installs the shipped bundles, after which the installed `wasmcap sh` has its commands.
data=$prefix/share/wasmcap
for f in "$src"/guest/sdk/*.[ch]; do
  cmp -s "$f" "$data/sdk/c/$(basename "$f")" || fail "C guest SDK file $(basename "$f") not installed"
done
[ -f "$data/sdk/rust/Cargo.toml" ] && [ -f "$data/sdk/rust/src/lib.rs" ] || fail "Rust guest SDK not installed"
[ -f "$data/bundles/coreutils.wcb" ] || fail "coreutils bundle not installed"
ls "$data"/bundles/*.pub >/dev/null 2>&1 || fail "the bundles' public key is not installed"
ls "$data"/bundles/*.key >/dev/null 2>&1 && fail "a secret signing key was installed"
clang-19 --target=wasm32-wasi --sysroot=/usr -O2 -I"$data/sdk/c" "$src/guest/fetch.c" \
  "$data/sdk/c/wasmcap_https.c" -o "$work/fetch.wasm" || fail "a plugin does not build against the installed C SDK"
"$prefix/bin/wasmcap" inspect "$work/fetch.wasm" | grep -q 'func wasmcap_https.request' \
  || fail "the plugin built against the installed SDK does not import wasmcap_https.request"
WASMCAP_HOME=$work/first "$prefix/bin/wasmcap" setup >"$work/setup.out" 2>&1 \
  || fail "installed wasmcap setup: $(cat "$work/setup.out")"
out=$(WASMCAP_HOME=$work/first "$prefix/bin/wasmcap" sh --dir "$work::/work" -c 'echo hi | wc -c' 2>&1) \
  || fail "installed wasmcap sh after setup: $out"
[ "$out" = 3 ] || fail "installed wasmcap sh after setup printed '$out', expected 3"

# The HTTP transport module (docs/mcp.md, "The HTTP transport module"): installed in
# LIBDIR/wasmcap, not writable by others, and found by the installed CLI (which links no
# libmicrohttpd or TLS library itself): `mcp --listen` serves until stopped.
[ -f "$libdir/wasmcap/wasmcap-mcp-http.so" ] || fail "LIBDIR/wasmcap/wasmcap-mcp-http.so not installed"
cli_libs=$(ldd "$prefix/bin/wasmcap")
grep -qE 'libmicrohttpd|libgnutls|libssl|libcrypto|httplib' <<<"$cli_libs" && fail "the installed CLI links the HTTP/TLS stack"
set +e
WASMCAP_HOME=$work/home timeout 5 "$prefix/bin/wasmcap" mcp --listen 127.0.0.1:0 >/dev/null 2>"$work/listen.err"
rc=$?
set -e
[ $rc -eq 124 ] && grep -q 'listening on http://127.0.0.1:' "$work/listen.err" \
  || fail "installed wasmcap mcp --listen: exit $rc: $(cat "$work/listen.err")"

# The shared library exports the C API and nothing else (no C++ symbols: their ABI is not stable).
exported=$(nm -D --defined-only "$so" | awk '{print $3}' | sed 's/@.*//' | grep -v '^WASMCAP_0$' | sort)
# (Here-strings, not `echo | grep -q`: under pipefail grep -q's early exit gives echo SIGPIPE and
# the pipeline fails even on a match — this test failed that way under load.)
grep -qv '^wasmcap_' <<<"$exported" && fail "libwasmcap.so exports non-C-API symbols: $(grep -v '^wasmcap_' <<<"$exported" | head -5)"
for fn in $(grep -o 'WASMCAP_API [^(]*(' "$src/include/wasmcap/wasmcap.h" | grep -o 'wasmcap_[a-z0-9_]*(' | tr -d '('); do
  grep -qx "$fn" <<<"$exported" || fail "libwasmcap.so does not export $fn"
done

# The C header stands alone: only the C standard library, strict C89/C99/C11, and C++.
for std in c99 c11; do
  echo '#include <wasmcap/wasmcap.h>
int main(void) { return wasmcap_version_number() == WASMCAP_VERSION_NUMBER ? 0 : 1; }' >"$work/h.c"
  cc -std=$std -Wall -Wextra -Wpedantic -Werror -fsyntax-only -I "$prefix/include" "$work/h.c" \
    || fail "wasmcap.h does not compile as $std"
done
echo '#include <wasmcap/wasmcap.h>' | c++ -x c++ -std=c++11 -Wall -Werror -fsyntax-only -I "$prefix/include" - \
  || fail "wasmcap.h does not compile as C++11"

check_run() {  # check_run LABEL BINARY
  local out
  out=$("$2" "$guests/hello.wasm" world 2>"$work/audit") || fail "$1: embed-c exited $?: $out $(cat "$work/audit")"
  [ "$out" = $'hello from wasm\narg[1]=world' ] || fail "$1: unexpected output: $out"
  # The library's own run records reach the embedder's audit callback: run_start, then run_end.
  grep -c '' "$work/audit" | grep -qx 2 && head -n 1 "$work/audit" | grep -q '^audit: {.*"event":"run_start"' \
    && tail -n 1 "$work/audit" | grep -q '^audit: {.*"event":"run_end".*"exit_code":0' \
    || fail "$1: the audit callback did not get run_start and run_end: $(cat "$work/audit")"
  # An error path: a missing module is not_found, exit 66.
  set +e
  "$2" "$work/missing.wasm" >/dev/null 2>"$work/err"
  local rc=$?
  set -e
  [ $rc -eq 66 ] && grep -q 'not_found' "$work/err" || fail "$1: missing module: exit $rc, $(cat "$work/err")"
  echo "install_test: $1 ok"
}

# find_package: shared (wasmcap::wasmcap) and static (wasmcap::wasmcap_static).
for kind in shared static; do
  flag=OFF
  [ $kind = static ] && flag=ON
  cmake -S "$src/examples/embed-c" -B "$work/cmake-$kind" -DCMAKE_PREFIX_PATH="$prefix" \
    -DEMBED_STATIC=$flag -DCMAKE_BUILD_TYPE=Release >"$work/cfg-$kind.log" 2>&1 \
    || { cat "$work/cfg-$kind.log"; fail "find_package($kind): configure"; }
  cmake --build "$work/cmake-$kind" >"$work/build-$kind.log" 2>&1 \
    || { cat "$work/build-$kind.log"; fail "find_package($kind): build"; }
  check_run "find_package($kind)" "$work/cmake-$kind/embed-c"
done
grep -q "libwasmcap.so.0 => $libdir" <<<"$(ldd "$work/cmake-shared/embed-c")" || fail "shared build does not load the installed libwasmcap.so.0"
grep -q libwasmcap <<<"$(ldd "$work/cmake-static/embed-c")" && fail "static build links libwasmcap.so"

# pkg-config: shared, and static (libwasmcap.a + the private libraries --static lists).
export PKG_CONFIG_PATH=$libdir/pkgconfig
cc "$src/examples/embed-c/main.c" $(pkg-config --cflags --libs wasmcap) -Wl,-rpath,"$libdir" \
  -o "$work/pc-shared" || fail "pkg-config (shared): build"
check_run "pkg-config(shared)" "$work/pc-shared"
cc $(pkg-config --cflags wasmcap) "$src/examples/embed-c/main.c" "$libdir/libwasmcap.a" \
  $(pkg-config --static --libs wasmcap | sed 's/-lwasmcap\b//') -o "$work/pc-static" \
  || fail "pkg-config (static): build"
check_run "pkg-config(static)" "$work/pc-static"
# examples/call-c: a component's typed exports called from C, built with find_package against
# the installed package, on tests/component/wat/call.wat (made a binary by run_components.sh,
# which runs this script with WASMCAP_TEST_COMPONENT_WAT_DIR set).
comp=${WASMCAP_TEST_COMPONENT_WAT_DIR:?install_test.sh is run by tests/component/run_components.sh}/call.wasm
cmake -S "$src/examples/call-c" -B "$work/call-c" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
  >"$work/cfg-call.log" 2>&1 || { cat "$work/cfg-call.log"; fail "call-c: configure"; }
cmake --build "$work/call-c" >"$work/build-call.log" 2>&1 || { cat "$work/build-call.log"; fail "call-c: build"; }
callc=$work/call-c/call-c
grep -qx 'div(a: s32, b: s32) -> result<s32, string>' <<<"$("$callc" "$comp")" || fail "call-c: listing: $("$callc" "$comp")"
out=$("$callc" "$comp" div s32:7 s32:2) || fail "call-c div 7 2: exit $?"
[ "$out" = "ok(3)" ] || fail "call-c div 7 2 printed '$out'"
set +e
out=$("$callc" "$comp" div s32:7 s32:0)
rc=$?
set -e
[ $rc -eq 1 ] && [ "$out" = 'err("division by zero")' ] || fail "call-c div 7 0: exit $rc, '$out'"
set +e
"$callc" "$comp" div u32:7 s32:0 >/dev/null 2>"$work/err"
rc=$?
set -e
[ $rc -eq 64 ] && grep -q 'invalid_argument: \$.a: expected s32, got u32' "$work/err" \
  || fail "call-c with a u32 for an s32: exit $rc, $(cat "$work/err")"
out=$("$callc" "$comp" norm2 2>&1) && fail "call-c norm2 without its argument succeeded: $out"
echo "install_test: call-c ok"
echo "install_test: all ok"
