#!/usr/bin/env bash
# Builds `git` (README.md) for wasm32-wasi: Debian 12's libgit2 (with the zlib and http-parser it
# links, also Debian's source packages) cross-built with Debian's clang-19 + lld-19 + wasi-libc,
# and the front end git.c, into ONE module git.wasm in OUT.
#
#   guest/git/build.sh WORK OUT
#
# WORK  scratch folder (sources, objects); never committed, may be deleted at any time.
# OUT   receives git.wasm and BUILDINFO.
#
# Sources, sysroot, content key and cache: guest/cross.sh (shared with guest/toolbox/build.sh).
# KEY covers this script, *.c, *.h, compat/, patches/, cross.sh and the guest SDK's sources; the
# cache is ${WASMCAP_GIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmcap/git}/KEY/.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CROSS_NAME=git
CROSS_PACKAGES=(libgit2 zlib http-parser)
CROSS_ARTIFACTS=(git.wasm)
CROSS_TOOLS=(cmake)
CROSS_RECIPE=("$HERE/build.sh")
while IFS= read -r f; do CROSS_RECIPE+=("$f"); done < <(find "$HERE" "$HERE/compat" -maxdepth 1 \( -name '*.c' -o -name '*.h' \) | sort)
while IFS= read -r f; do CROSS_RECIPE+=("$f"); done < <(find "$HERE/patches" -type f | sort)
# shellcheck source=../cross.sh
source "$HERE/../cross.sh"

cross_begin "$1" "$2"
cross_unpack
cross_sysroot

EMUL="-D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_GETPID -D_WASI_EMULATED_PROCESS_CLOCKS -D_WASI_EMULATED_MMAN"
DEPS=$WORK/deps

# --- zlib: its files compiled directly (its configure probes for a shared library) ---------------
build_zlib() {
  local b=$WORK/zlib-build s=$SRC/zlib f objs=()
  rm -rf "$b"; mkdir -p "$b"
  for f in adler32 compress crc32 deflate infback inffast inflate inftrees trees uncompr zutil; do
    $NICE "$CC" -O2 -DHAVE_UNISTD_H -I"$s" -c "$s/$f.c" -o "$b/$f.o" 2>>"$b/make.log" ||
      { tail -20 "$b/make.log"; die "zlib: $f.c failed"; }
    objs+=("$b/$f.o")
  done
  /usr/bin/llvm-ar-19 rcs "$DEPS/lib/libz.a" "${objs[@]}"
  cp "$s/zlib.h" "$s/zconf.h" "$DEPS/include/"
}

# --- http-parser: one file (libgit2 links it for its HTTP transport, which nothing here reaches:
# there is no network) -------------------------------------------------------------------------
build_http_parser() {
  local s=$SRC/http-parser
  $NICE "$CC" -O2 -I"$s" -c "$s/http_parser.c" -o "$DEPS/http_parser.o"
  /usr/bin/llvm-ar-19 rcs "$DEPS/lib/libhttp_parser.a" "$DEPS/http_parser.o"
  cp "$s/http_parser.h" "$DEPS/include/"
}

# --- libgit2: its own CMake (cross). No threads, no HTTPS/SSH/NTLM/GSSAPI/iconv; regex from
# wasi-libc (regcomp), SHA-1 with collision detection, SHA-256 built in; NO_MMAP: libgit2's own
# read-into-memory fallback for git_futils_mmap (WASI has no mmap). -------------------------------
build_libgit2() {
  local b=$WORK/libgit2-build
  rm -rf "$b"; mkdir -p "$b"
  cat >"$b/toolchain.cmake" <<TC
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR wasm32)
set(CMAKE_C_COMPILER $CC)
set(CMAKE_AR /usr/bin/llvm-ar-19)
set(CMAKE_RANLIB /usr/bin/llvm-ranlib-19)
set(CMAKE_FIND_ROOT_PATH $DEPS $SYSROOT)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
TC
  (cd "$b" && $NICE cmake -S "$SRC/libgit2" -B . -DCMAKE_TOOLCHAIN_FILE="$b/toolchain.cmake" \
     -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS="-O2 $EMUL -DNO_MMAP -I$HERE/compat -include $HERE/compat/wasi.h" \
     -DBUILD_SHARED_LIBS=OFF -DBUILD_TESTS=OFF -DBUILD_CLI=OFF -DUSE_THREADS=OFF \
     -DUSE_HTTPS=OFF -DUSE_SSH=OFF -DUSE_NTLMCLIENT=OFF -DUSE_GSSAPI=OFF -DUSE_ICONV=OFF \
     -DUSE_SHA1=CollisionDetection -DUSE_SHA256=Builtin -DREGEX_BACKEND=regcomp \
     -DUSE_HTTP_PARSER=system -DHTTP_PARSER_INCLUDE_DIR="$DEPS/include" \
     -DHTTP_PARSER_LIBRARY="$DEPS/lib/libhttp_parser.a" \
     -DZLIB_INCLUDE_DIR="$DEPS/include" -DZLIB_LIBRARY="$DEPS/lib/libz.a" \
     >"$b/cmake.log" 2>&1) || { tail -30 "$b/cmake.log"; die "libgit2 cmake failed ($b/cmake.log)"; }
  (cd "$b" && $NICE cmake --build . -j"$JOBS" --target libgit2package >"$b/make.log" 2>&1) ||
    { grep -B2 -A8 'error' "$b/make.log" | head -60; die "libgit2 build failed ($b/make.log)"; }
}

build_compat() {
  $NICE "$CC" -O2 -Wall -Wextra -c "$HERE/compat/compat.c" -o "$DEPS/compat.o"
  /usr/bin/llvm-ar-19 rcs "$DEPS/lib/libwasmcapgit.a" "$DEPS/compat.o"
}

# The libraries are rebuilt only when what they are made of changed (not for an edit of the
# front end git*.c): their own key, kept in WORK.
LIBKEY=$( { printf '%s\n' "${DSCS[@]}"; toolchain_id; sha256sum "$HERE/build.sh" "$CROSS_SH" "$HERE"/compat/* "$HERE"/patches/*/* |
          awk '{print $1}'; } | sha256sum | cut -c1-24)
if [ -f "$WORK/libs.key" ] && [ "$(cat "$WORK/libs.key")" = "$LIBKEY" ] &&
   [ -f "$WORK/libgit2-build/libgit2.a" ]; then
  echo "git build: libgit2, zlib, http-parser up to date in $WORK (key $LIBKEY)"
else
  rm -f "$WORK/libs.key"
  rm -rf "$DEPS"
  mkdir -p "$DEPS/include" "$DEPS/lib"
  build_compat
  build_zlib
  build_http_parser
  build_libgit2
  echo "$LIBKEY" >"$WORK/libs.key"
fi

# --- the module: git.c on libgit2 ----------------------------------------------------------------
$NICE "$CC" -O2 -Wall -Wextra -Wno-missing-field-initializers $EMUL -I"$SRC/libgit2/include" -I"$HERE" \
  -I"$GUEST_SDK" "$HERE"/git*.c "$GUEST_SDK/wasmcap_workdir.c" \
  "$WORK/libgit2-build/libgit2.a" "$DEPS/lib/libhttp_parser.a" "$DEPS/lib/libz.a" "$DEPS/lib/libwasmcapgit.a" \
  -lwasi-emulated-signal -lwasi-emulated-getpid -lwasi-emulated-process-clocks -lwasi-emulated-mman \
  -Wl,--strip-debug -Wl,-z,stack-size=4194304 -o "$STAGE/git.wasm"
cross_publish
