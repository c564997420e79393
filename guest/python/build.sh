#!/usr/bin/env bash
# Builds CPython 3.11 for wasm32-wasi from Debian's source packages (python3.11, zlib) with
# Debian's clang-19 + lld-19 + wasi-libc, following CPython's own Tools/wasm recipe, and installs
# python.wasm + the standard library (precompiled .pyc) into OUT.
#
#   guest/python/build.sh WORK OUT
#
# WORK  scratch folder (sources, objects); never committed, may be deleted at any time.
# OUT   receives python.wasm, root/ (the bundle's read-only data tree: the standard library, see
#       make-root.py), tests/test (CPython's regression tests, for tests/python) and BUILDINFO.
#
# The result is cached by content: KEY = sha256(source package versions + the recipe files), in
# ${WASMCAP_PYTHON_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmcap/python}/KEY/. A cache hit
# copies the cached result into OUT and builds nothing. Every workaround is in README.md.
set -euo pipefail

WORK=$(realpath -m "$1")
OUT=$(realpath -m "$2")
HERE=$(cd "$(dirname "$0")" && pwd)
SDK_DIR=$(cd "$HERE/../sdk" && pwd)
JOBS=${WASMCAP_PYTHON_JOBS:-2}
NICE="nice -n 10"
BUILD_PYTHON=/usr/bin/python3.11
CLANG=/usr/bin/clang-19

# The recipe: every file whose content changes the result. (The build machine's toolchain
# versions are part of the key too, so a new clang or wasi-libc rebuilds.)
RECIPE=("$HERE/build.sh" "$HERE/Setup.local" "$HERE/wasmcapmodule.c" "$HERE/strip-stdlib.txt"
        "$HERE/make-root.py" "$SDK_DIR/wasmcap_https.c" "$SDK_DIR/wasmcap_https.h")
while IFS= read -r f; do RECIPE+=("$f"); done < <(find "$HERE/lib" "$HERE/patches" -type f | sort)

die() { echo "python build: $*" >&2; exit 1; }
for tool in "$CLANG" /usr/bin/wasm-ld-19 /usr/bin/llvm-ar-19 /usr/bin/llvm-ranlib-19 "$BUILD_PYTHON" dpkg-source; do
  command -v "$tool" >/dev/null || die "missing $tool: run scripts/setup.sh"
done
[ -f /usr/lib/wasm32-wasi/libc.a ] || die "missing wasi-libc: run scripts/setup.sh"

# Source package versions, from apt's index (no download): `apt-get source --print-uris` names the
# .dsc it would fetch. Needs the deb-src entry that scripts/setup.sh adds.
dsc_of() {
  apt-get source --print-uris "$1" 2>/dev/null | grep -o "'[^']*\.dsc'" | tr -d "'" | head -n1
}
PY_DSC_URI=$(dsc_of python3.11) || true
Z_DSC_URI=$(dsc_of zlib) || true
[ -n "$PY_DSC_URI" ] && [ -n "$Z_DSC_URI" ] ||
  die "apt cannot find the python3.11/zlib source packages: run scripts/setup.sh (adds deb-src) and apt-get update"
PY_DSC=$(basename "$PY_DSC_URI" | sed "s/%2[bB]/+/g")
Z_DSC=$(basename "$Z_DSC_URI" | sed "s/%2[bB]/+/g")

toolchain_id() {
  "$CLANG" --version | head -n1
  dpkg-query -W -f='${Package} ${Version}\n' wasi-libc lld-19 python3.11 2>/dev/null || true
}
KEY=$( { echo "$PY_DSC"; echo "$Z_DSC"; toolchain_id; sha256sum "${RECIPE[@]}" | awk '{print $1}'; } |
       sha256sum | cut -c1-24)
CACHE_ROOT=${WASMCAP_PYTHON_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmcap/python}
CACHE=$CACHE_ROOT/$KEY

install_from_cache() {
  rm -rf "$OUT.tmp"
  mkdir -p "$OUT.tmp"
  cp -a "$CACHE/python.wasm" "$CACHE/root" "$CACHE/tests" "$CACHE/BUILDINFO" "$OUT.tmp/"
  rm -rf "$OUT"
  mv "$OUT.tmp" "$OUT"
  echo "python build: installed from $CACHE ($PY_DSC)"
}

if [ -f "$OUT/BUILDINFO" ] && grep -qx "key: $KEY" "$OUT/BUILDINFO" && [ -f "$CACHE/COMPLETE" ]; then
  echo "python build: $OUT is up to date (key $KEY)"
  exit 0
fi
if [ -f "$CACHE/COMPLETE" ]; then
  install_from_cache
  exit 0
fi
echo "python build: cache miss, building $PY_DSC + $Z_DSC (key $KEY; several minutes)"

mkdir -p "$WORK"
cd "$WORK"

# --- sources: Debian's source packages, upstream trees (see README.md, "Debian patches") ----------
SRC_STAMP="$WORK/src/$PY_DSC+$Z_DSC"
if [ ! -f "$SRC_STAMP" ]; then
  rm -rf "$WORK/src"
  mkdir -p "$WORK/src"
  (cd "$WORK/src" && apt-get source --download-only python3.11 zlib >/dev/null)
  (cd "$WORK/src" && dpkg-source -x --skip-patches "$PY_DSC" cpython >/dev/null)
  (cd "$WORK/src" && dpkg-source -x --skip-patches "$Z_DSC" zlib >/dev/null)
  touch "$SRC_STAMP"
fi
PYSRC=$WORK/src/cpython
ZSRC=$WORK/src/zlib
# Our patches to CPython (patches/*.patch, README.md says why), each applied once; a stamp names
# the patch's content. (Changed a patch? Delete WORK to start from a fresh tree.)
for p in "$HERE"/patches/*.patch; do
  stamp="$PYSRC/.wasmcap-applied-$(basename "$p")-$(sha256sum "$p" | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    patch -d "$PYSRC" -p1 -N --quiet <"$p" || die "patch $p does not apply"
    touch "$stamp"
  fi
done

# --- a WASI-SDK-shaped folder around Debian's toolchain -----------------------------------------
# CPython's Tools/wasm/wasi-env expects WASI_SDK_PATH/bin/{clang,clang++,wasm-ld,llvm-ar,ranlib}
# and WASI_SDK_PATH/share/wasi-sysroot. The sysroot holds only wasi-libc (+ our zlib): with
# --sysroot=/usr clang would also see glibc's headers and the host's pkg-config files.
SDK=$WORK/wasi-sdk
SYSROOT=$SDK/share/wasi-sysroot
rm -rf "$SDK"
# clang's wasm32-wasi driver looks in SYSROOT/{include,lib}/wasm32-wasi, as Debian installs them.
SYSINC=$SYSROOT/include/wasm32-wasi
SYSLIB=$SYSROOT/lib/wasm32-wasi
mkdir -p "$SDK/bin" "$SYSINC" "$SYSLIB"
for f in /usr/include/wasm32-wasi/*; do ln -s "$f" "$SYSINC/"; done
for f in /usr/lib/wasm32-wasi/*; do ln -s "$f" "$SYSLIB/"; done
wrap() { printf '#!/bin/sh\nexec %s "$@"\n' "$2" >"$SDK/bin/$1"; chmod +x "$SDK/bin/$1"; }
wrap clang "$CLANG --target=wasm32-wasi"
wrap clang++ "/usr/bin/clang++-19 --target=wasm32-wasi"
wrap clang-cpp "$CLANG --target=wasm32-wasi -E"
wrap wasm-ld /usr/bin/wasm-ld-19
wrap llvm-ar /usr/bin/llvm-ar-19
wrap ranlib /usr/bin/llvm-ranlib-19
wrap llvm-ranlib /usr/bin/llvm-ranlib-19

# --- zlib (Debian's zlib source package): a static libz.a in the sysroot ------------------------
if [ ! -f "$WORK/zlib-obj/libz.a" ]; then
  rm -rf "$WORK/zlib-obj"
  mkdir -p "$WORK/zlib-obj"
  zobjs=()
  for c in adler32 compress crc32 deflate gzclose gzlib gzread gzwrite infback inffast inflate \
           inftrees trees uncompr zutil; do
    $NICE "$SDK/bin/clang" --sysroot="$SYSROOT" -O2 -D_LARGEFILE64_SOURCE=1 -DHAVE_HIDDEN \
      -w -c "$ZSRC/$c.c" -o "$WORK/zlib-obj/$c.o"
    zobjs+=("$WORK/zlib-obj/$c.o")
  done
  /usr/bin/llvm-ar-19 rcs "$WORK/zlib-obj/libz.a" "${zobjs[@]}"
fi
cp "$WORK/zlib-obj/libz.a" "$SYSLIB/libz.a"
cp "$ZSRC/zlib.h" "$ZSRC/zconf.h" "$SYSINC/"

# --- our built-in module `wasmcap` (the https host API) ------------------------------------------
cp "$HERE/wasmcapmodule.c" "$SDK_DIR/wasmcap_https.c" "$SDK_DIR/wasmcap_https.h" "$PYSRC/Modules/"

# --- CPython: configure + make, as Tools/wasm/README.md describes ---------------------------------
PYB=$WORK/build
mkdir -p "$PYB"
mkdir -p "$PYB/Modules"
cp "$HERE/Setup.local" "$PYB/Modules/Setup.local"
cd "$PYB"
if [ ! -f Makefile ]; then
  # -Wno-error=int-conversion: clang 19 makes int->pointer conversion an error; timemodule.c
  # passes an int clock id where wasi-libc's clockid_t is a pointer (README.md).
  # --strip-debug: no DWARF in python.wasm (the name section stays, so traps name functions).
  # ZLIB_CFLAGS/ZLIB_LIBS: configure's pkg-config check would need a zlib.pc in the sysroot.
  CONFIG_SITE=$PYSRC/Tools/wasm/config.site-wasm32-wasi WASI_SDK_PATH=$SDK \
  CFLAGS="-Wno-error=int-conversion" LDFLAGS="-Wl,--strip-debug" \
  ZLIB_CFLAGS="" ZLIB_LIBS="-lz" \
    $NICE "$PYSRC/Tools/wasm/wasi-env" "$PYSRC/configure" -C \
      --host=wasm32-unknown-wasi --build="$("$PYSRC/config.guess")" \
      --with-build-python="$BUILD_PYTHON" \
      --prefix=/usr/local --disable-test-modules --without-ensurepip \
      >"$WORK/configure.log" 2>&1 || { tail -40 "$WORK/configure.log"; die "configure failed (log: $WORK/configure.log)"; }
fi
WASI_SDK_PATH=$SDK $NICE "$PYSRC/Tools/wasm/wasi-env" make -j"$JOBS" python.wasm pybuilddir.txt \
  >"$WORK/make.log" 2>&1 || { tail -40 "$WORK/make.log"; die "make failed (log: $WORK/make.log)"; }

# --- the result: python.wasm, the bundle's root tree, CPython's tests --------------------------------
STAGE=$WORK/stage
rm -rf "$STAGE"
mkdir -p "$STAGE/stdlib"
cp "$PYB/python.wasm" "$STAGE/python.wasm"
# The standard library, less what cannot work under WASI or is only for development
# (strip-stdlib.txt: one path relative to Lib/ per line), plus the sysconfig data the build
# generated and our own files (lib/: the `wasmcap` package, sitecustomize.py).
(cd "$PYSRC/Lib" && tar cf - --exclude=__pycache__ .) | (cd "$STAGE/stdlib" && tar xf -)
grep -v '^\s*\(#\|$\)' "$HERE/strip-stdlib.txt" | while read -r p; do
  rm -rf "${STAGE:?}/stdlib/$p"
done
cp "$PYB/$(cat "$PYB/pybuilddir.txt")"/_sysconfigdata_*.py "$STAGE/stdlib/"
cp -r "$HERE/lib/." "$STAGE/stdlib/"
find "$STAGE/stdlib" -name __pycache__ -prune -exec rm -rf {} +
$NICE "$BUILD_PYTHON" "$HERE/make-root.py" "$STAGE/stdlib" "$STAGE/root"
# CPython's own regression tests, for tests/python (not shipped in the bundle), precompiled.
mkdir -p "$STAGE/tests"
cp -r "$PYSRC/Lib/test" "$STAGE/tests/test"
find "$STAGE/tests" -name __pycache__ -prune -exec rm -rf {} +
$NICE "$BUILD_PYTHON" -m compileall -q -j"$JOBS" --invalidation-mode unchecked-hash \
  -d /work/test "$STAGE/tests/test" >/dev/null 2>&1 || true
{
  echo "python3.11 source: $PY_DSC (upstream tree, Debian patches not applied)"
  echo "zlib source: $Z_DSC"
  toolchain_id
  echo "key: $KEY"
} >"$STAGE/BUILDINFO"

# --- publish to the cache (atomically), then install from it --------------------------------------
mkdir -p "$CACHE_ROOT"
TMPC=$(mktemp -d "$CACHE_ROOT/.tmp.XXXXXX")
cp -a "$STAGE/python.wasm" "$STAGE/root" "$STAGE/tests" "$STAGE/BUILDINFO" "$TMPC/"
touch "$TMPC/COMPLETE"
rm -rf "$CACHE"
mv "$TMPC" "$CACHE"
install_from_cache
