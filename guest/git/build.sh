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
# Cached by content as the toolbox is (guest/toolbox/build.sh): KEY = sha256(source package
# versions + toolchain versions + the recipe files: this script, *.c, *.h, patches/), in
# ${WASMCAP_GIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmcap/git}/KEY/.
set -euo pipefail

WORK=$(realpath -m "$1")
OUT=$(realpath -m "$2")
HERE=$(cd "$(dirname "$0")" && pwd)
JOBS=${WASMCAP_GIT_JOBS:-2}
NICE="nice -n 10"
CLANG=/usr/bin/clang-19
PACKAGES=(libgit2 zlib http-parser)

RECIPE=("$HERE/build.sh")
while IFS= read -r f; do RECIPE+=("$f"); done < <(find "$HERE" "$HERE/compat" -maxdepth 1 \( -name '*.c' -o -name '*.h' \) | sort)
while IFS= read -r f; do RECIPE+=("$f"); done < <(find "$HERE/patches" -type f | sort)

die() { echo "git build: $*" >&2; exit 1; }
for tool in "$CLANG" /usr/bin/wasm-ld-19 /usr/bin/llvm-ar-19 /usr/bin/llvm-ranlib-19 cmake \
            dpkg-source; do
  command -v "$tool" >/dev/null || die "missing $tool: run scripts/setup.sh"
done
[ -f /usr/lib/wasm32-wasi/libc.a ] || die "missing wasi-libc: run scripts/setup.sh"

DSCS=()
for p in "${PACKAGES[@]}"; do
  uri=$(apt-get source --print-uris "$p" 2>/dev/null | grep -o "'[^']*\.dsc'" | tr -d "'" | head -n1) || true
  [ -n "$uri" ] || die "apt cannot find the source package $p: run scripts/setup.sh (adds deb-src) and apt-get update"
  DSCS+=("$(basename "$uri" | sed "s/%2[bB]/+/g; s/%3[aA]/:/g")")
done

toolchain_id() {
  "$CLANG" --version | head -n1
  dpkg-query -W -f='${Package} ${Version}\n' wasi-libc lld-19 llvm-19 2>/dev/null || true
}
KEY=$( { printf '%s\n' "${DSCS[@]}"; toolchain_id; sha256sum "${RECIPE[@]}" | awk '{print $1}'; } |
       sha256sum | cut -c1-24)
CACHE_ROOT=${WASMCAP_GIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmcap/git}
CACHE=$CACHE_ROOT/$KEY

install_from_cache() {
  rm -rf "$OUT.tmp"
  mkdir -p "$OUT.tmp"
  cp -a "$CACHE/git.wasm" "$CACHE/BUILDINFO" "$OUT.tmp/"
  rm -rf "$OUT"
  mv "$OUT.tmp" "$OUT"
  echo "git build: installed from $CACHE (${DSCS[*]})"
}

if [ -f "$OUT/BUILDINFO" ] && grep -qx "key: $KEY" "$OUT/BUILDINFO" && [ -f "$CACHE/COMPLETE" ]; then
  echo "git build: $OUT is up to date (key $KEY)"
  exit 0
fi
if [ -f "$CACHE/COMPLETE" ]; then install_from_cache; exit 0; fi
mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/$KEY.lock"
if ! flock -n 9; then
  echo "git build: waiting for another build of key $KEY"
  flock 9
fi
if [ -f "$CACHE/COMPLETE" ]; then install_from_cache; exit 0; fi
echo "git build: cache miss, building ${DSCS[*]} (key $KEY; a few minutes)"
mkdir -p "$WORK"

# --- sources: Debian's source packages with Debian's patches, then ours (patches/PACKAGE/) -------
SRC=$WORK/src
mkdir -p "$SRC"
unpack() {  # unpack PACKAGE DSC -> $SRC/PACKAGE
  local p=$1 dsc=$2 stamp
  stamp="$SRC/.$p-$( { cat "$HERE"/patches/"$p"/*.patch 2>/dev/null || true; } | sha256sum | cut -c1-16)-$dsc"
  [ -f "$stamp" ] && [ -d "$SRC/$p" ] && return 0
  rm -rf "${SRC:?}/$p" "$SRC/.$p-"*
  [ -f "$SRC/$dsc" ] || (cd "$SRC" && apt-get source --download-only "$p" >/dev/null 2>&1) ||
    die "apt-get source $p failed"
  (cd "$SRC" && dpkg-source -x "$dsc" "$p" >"$SRC/$p.unpack.log" 2>&1) ||
    die "dpkg-source -x $dsc failed ($SRC/$p.unpack.log)"
  for patch in "$HERE"/patches/"$p"/*.patch; do
    [ -f "$patch" ] || continue
    patch -d "$SRC/$p" -p1 -N --quiet <"$patch" || die "$patch does not apply to $dsc"
  done
  touch "$stamp"
}
for i in "${!PACKAGES[@]}"; do unpack "${PACKAGES[$i]}" "${DSCS[$i]}"; done

# --- a clean wasm32-wasi sysroot and compiler wrapper (as guest/toolbox/build.sh) -----------------
SDK=$WORK/sdk
SYSROOT=$SDK/sysroot
rm -rf "$SDK"
mkdir -p "$SDK/bin" "$SYSROOT/include/wasm32-wasi" "$SYSROOT/lib/wasm32-wasi"
for f in /usr/include/wasm32-wasi/*; do ln -s "$f" "$SYSROOT/include/wasm32-wasi/"; done
for f in /usr/lib/wasm32-wasi/*; do ln -s "$f" "$SYSROOT/lib/wasm32-wasi/"; done
CC=$SDK/bin/cc
printf '#!/bin/sh\nexec %s --target=wasm32-wasi --sysroot=%s -ffile-prefix-map=%s/= "$@"\n' \
  "$CLANG" "$SYSROOT" "$WORK" >"$CC"
chmod +x "$CC"
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
LIBKEY=$( { printf '%s\n' "${DSCS[@]}"; toolchain_id; sha256sum "$HERE/build.sh" "$HERE"/compat/* "$HERE"/patches/*/* |
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
STAGE=$WORK/stage
rm -rf "$STAGE"; mkdir -p "$STAGE"
$NICE "$CC" -O2 -Wall -Wextra -Wno-missing-field-initializers $EMUL -I"$SRC/libgit2/include" "$HERE"/git*.c -I"$HERE" \
  "$WORK/libgit2-build/libgit2.a" "$DEPS/lib/libhttp_parser.a" "$DEPS/lib/libz.a" "$DEPS/lib/libwasmcapgit.a" \
  -lwasi-emulated-signal -lwasi-emulated-getpid -lwasi-emulated-process-clocks -lwasi-emulated-mman \
  -Wl,--strip-debug -Wl,-z,stack-size=4194304 -o "$STAGE/git.wasm"
{
  for d in "${DSCS[@]}"; do echo "source: $d"; done
  toolchain_id
  echo "key: $KEY"
} >"$STAGE/BUILDINFO"

TMPC=$(mktemp -d "$CACHE_ROOT/.tmp.XXXXXX")
cp -a "$STAGE/git.wasm" "$STAGE/BUILDINFO" "$TMPC/"
touch "$TMPC/COMPLETE"
mv -T "$TMPC" "$CACHE" 2>/dev/null || rm -rf "$TMPC"
install_from_cache
