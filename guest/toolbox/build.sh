#!/usr/bin/env bash
# Builds the toolbox (awk, jq, ... : README.md) for wasm32-wasi from Debian's source packages with
# Debian's clang-19 + lld-19 + wasi-libc, as ONE multi-call module toolbox.wasm in OUT.
#
#   guest/toolbox/build.sh WORK OUT
#
# WORK  scratch folder (sources, objects); never committed, may be deleted at any time.
# OUT   receives toolbox.wasm and BUILDINFO.
#
# One module, several programs: each program is compiled to LLVM bitcode (-flto) with its main
# renamed to NAME_main, its objects are joined (llvm-link) and internalized (opt: every symbol
# but NAME_main becomes local), then compiled to one object. So two programs' globals (two
# copies of gnulib, two `usage` functions) never collide, and toolbox.c picks one by argv[0].
#
# The result is cached by content: KEY = sha256(source package versions + toolchain versions +
# the recipe files: this script, toolbox.c, patches/), in
# ${WASMCAP_TOOLBOX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmcap/toolbox}/KEY/. A cache hit
# copies the cached result into OUT and builds nothing.
set -euo pipefail

WORK=$(realpath -m "$1")
OUT=$(realpath -m "$2")
HERE=$(cd "$(dirname "$0")" && pwd)
JOBS=${WASMCAP_TOOLBOX_JOBS:-2}
NICE="nice -n 10"
CLANG=/usr/bin/clang-19
PACKAGES=(mawk jq diffutils)

RECIPE=("$HERE/build.sh" "$HERE/toolbox.c")
while IFS= read -r f; do RECIPE+=("$f"); done < <(find "$HERE/patches" "$HERE/compat" -type f | sort)

die() { echo "toolbox build: $*" >&2; exit 1; }
for tool in "$CLANG" /usr/bin/wasm-ld-19 /usr/bin/llvm-ar-19 /usr/bin/llvm-ranlib-19 \
            /usr/bin/llvm-link-19 /usr/bin/opt-19 /usr/bin/llvm-nm-19 dpkg-source gcc; do
  command -v "$tool" >/dev/null || die "missing $tool: run scripts/setup.sh"
done
[ -f /usr/lib/wasm32-wasi/libc.a ] || die "missing wasi-libc: run scripts/setup.sh"

# Source package versions from apt's index (no download); needs scripts/setup.sh's deb-src entry.
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
CACHE_ROOT=${WASMCAP_TOOLBOX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmcap/toolbox}
CACHE=$CACHE_ROOT/$KEY

install_from_cache() {
  rm -rf "$OUT.tmp"
  mkdir -p "$OUT.tmp"
  cp -a "$CACHE/toolbox.wasm" "$CACHE/BUILDINFO" "$OUT.tmp/"
  rm -rf "$OUT"
  mv "$OUT.tmp" "$OUT"
  echo "toolbox build: installed from $CACHE (${DSCS[*]})"
}

if [ -f "$OUT/BUILDINFO" ] && grep -qx "key: $KEY" "$OUT/BUILDINFO" && [ -f "$CACHE/COMPLETE" ]; then
  echo "toolbox build: $OUT is up to date (key $KEY)"
  exit 0
fi
if [ -f "$CACHE/COMPLETE" ]; then
  install_from_cache
  exit 0
fi
# One build per key at a time on this machine: another checkout building the same key holds the
# lock; when it is released the result is in the cache.
mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/$KEY.lock"
if ! flock -n 9; then
  echo "toolbox build: waiting for another build of key $KEY"
  flock 9
fi
if [ -f "$CACHE/COMPLETE" ]; then
  install_from_cache
  exit 0
fi
echo "toolbox build: cache miss, building ${DSCS[*]} (key $KEY; a few minutes)"
mkdir -p "$WORK"

# --- sources: Debian's source packages with Debian's patches, then ours (patches/PACKAGE/) -------
# A tree is re-extracted when its .dsc or our patches change (the stamp names both).
SRC=$WORK/src
mkdir -p "$SRC"
unpack() {  # unpack PACKAGE DSC -> $SRC/PACKAGE
  local p=$1 dsc=$2 stamp
  stamp="$SRC/.$p-$(cat "$HERE"/patches/"$p"/*.patch 2>/dev/null | sha256sum | cut -c1-16)-$dsc"
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

# --- a clean wasm32-wasi sysroot and compiler wrapper ----------------------------------------------
# Only wasi-libc: with --sysroot=/usr clang would also see glibc's headers (setjmp.h, pthread.h)
# and configure would find things wasi-libc does not have.
SDK=$WORK/sdk
SYSROOT=$SDK/sysroot
rm -rf "$SDK"
mkdir -p "$SDK/bin" "$SYSROOT/include/wasm32-wasi" "$SYSROOT/lib/wasm32-wasi"
for f in /usr/include/wasm32-wasi/*; do ln -s "$f" "$SYSROOT/include/wasm32-wasi/"; done
for f in /usr/lib/wasm32-wasi/*; do ln -s "$f" "$SYSROOT/lib/wasm32-wasi/"; done
CC=$SDK/bin/cc
# -ffile-prefix-map: assert()'s __FILE__ names the source relative to WORK, so the module's bytes
# do not depend on where the build ran (one AOT cache entry for every checkout).
printf '#!/bin/sh\nexec %s --target=wasm32-wasi --sysroot=%s -ffile-prefix-map=%s/= "$@"\n' \
  "$CLANG" "$SYSROOT" "$WORK" >"$CC"
chmod +x "$CC"
# wasi-libc's defined functions, for the feature tests of programs built without configure.
LIBC_SYMS=$WORK/libc-symbols.txt
/usr/bin/llvm-nm-19 --defined-only "$SYSROOT/lib/wasm32-wasi/libc.a" 2>/dev/null |
  awk '$2 ~ /^[TW]$/ {print $3}' | sort -u >"$LIBC_SYMS"
have() { grep -qx "$1" "$LIBC_SYMS"; }

# unit NAME OBJECTS...: the bitcode objects of one program -> $WORK/NAME.o, public: NAME_main.
unit() {
  local name=$1; shift
  /usr/bin/llvm-link-19 "$@" -o "$WORK/$name.bc"
  /usr/bin/opt-19 -passes=internalize -internalize-public-api-list="${name}_main" \
    "$WORK/$name.bc" -o "$WORK/$name.int.bc"
  $NICE "$CLANG" --target=wasm32-wasi -O2 -c "$WORK/$name.int.bc" -o "$WORK/$name.o"
}

# --- mawk: its own configure (cross), objects as bitcode ------------------------------------------
build_mawk() {
  local b=$WORK/mawk-build
  # From scratch on every cache miss: make cannot see a changed flag or wrapper.
  rm -rf "$b"
  mkdir -p "$b"
  (cd "$b" && CC=$CC AR=/usr/bin/llvm-ar-19 RANLIB=/usr/bin/llvm-ranlib-19 CFLAGS="-O2" \
    $NICE "$SRC/mawk/configure" --host=wasm32-unknown-wasi --build="$(gcc -dumpmachine)" \
      >"$b/configure.log" 2>&1) || { tail -30 "$b/configure.log"; die "mawk configure failed ($b/configure.log)"; }
  # The objects only (mawk's own link would look for main); scancode.c is generated by a host
  # program (BUILD_CC), as in a native build.
  printf 'wasmcap-objs: $(OBJS)\nwasmcap-list:\n\t@echo $(OBJS)\n' >"$b/wasmcap.mk"
  (cd "$b" && $NICE make -j"$JOBS" -f Makefile -f wasmcap.mk wasmcap-objs \
     CFLAGS="-O2 -flto -Dmain=mawk_main" >"$b/make.log" 2>&1) ||
    { tail -30 "$b/make.log"; die "mawk make failed ($b/make.log)"; }
  local objs
  read -r -a objs < <(cd "$b" && make -s -f Makefile -f wasmcap.mk wasmcap-list)
  unit mawk "${objs[@]/#/$b/}"
}

# --- jq: no configure in Debian's tree (autoreconf would be needed), so the library's files are
# compiled here; the HAVE_ macros configure.ac would define come from wasi-libc's symbols. -------
build_jq() {
  local b=$WORK/jq-build s=$SRC/jq/src defs=(-DIEEE_8087 -DHAVE_ALLOCA_H) f F objs=()
  rm -rf "$b"
  mkdir -p "$b/src"
  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$/\\n"/' "$s/builtin.jq" >"$b/src/builtin.inc"
  echo "#define JQ_VERSION \"$("$SRC/jq/scripts/version")\"" >"$b/src/version.h"
  for F in $(grep -o 'HAVE_[A-Z0-9_]*' "$s/libm.h" | sort -u | sed 's/^HAVE_//'); do
    f=$(echo "$F" | tr A-Z a-z)
    if have "$f"; then defs+=("-DHAVE_$F"); fi
  done
  for f in timegm strptime gmtime_r gmtime localtime_r localtime gettimeofday strftime \
           getentropy memmem isatty; do
    if have "$f"; then defs+=("-DHAVE_$(echo "$f" | tr a-z A-Z)"); fi
  done
  grep -q tm_gmtoff /usr/include/wasm32-wasi/__struct_tm.h && defs+=(-DHAVE_TM_TM_GMT_OFF)
  # No oniguruma (Debian links the system libonig): test/match/capture/scan/split/2/sub/gsub
  # fail with jq's own message "jq was compiled without ONIGURUMA regex libary".
  for f in builtin bytecode compile execute jq_test jv jv_alloc jv_aux jv_dtoa jv_file jv_parse \
           jv_print jv_unicode linker locfile util main lexer parser; do
    $NICE "$CC" -O2 -flto -I"$b" -I"$s" "${defs[@]}" -Dmain=jq_main -Wno-unused-parameter \
      -Wno-macro-redefined -c "$s/$f.c" -o "$b/$f.o" 2>>"$b/make.log" ||
      { tail -30 "$b/make.log"; die "jq: $f.c failed ($b/make.log)"; }
    objs+=("$b/$f.o")
  done
  unit jq "${objs[@]}"
}

# --- GNU diffutils (diff, cmp): its own configure (cross) with gnulib, and compat/ for what
# gnulib expects and WASI lacks (compat/compat.h says which) ---------------------------------------
build_diffutils() {
  local b=$WORK/diffutils-build s=$SRC/diffutils c=$WORK/compat
  local emul="-D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_GETPID -D_WASI_EMULATED_PROCESS_CLOCKS"
  local flags="-O2 $emul -include $HERE/compat/compat.h"
  rm -rf "$b" "$c"
  mkdir -p "$b" "$c"
  # Debian's patch touches m4/ (loongarch): keep automake's outputs newer than their inputs, or
  # make would run aclocal/automake (not installed, and not needed).
  touch "$s/aclocal.m4"; sleep 1
  touch "$s/configure" "$s/lib/config.hin"
  find "$s" -name Makefile.in -exec touch {} +
  $NICE "$CC" -O2 -D_GNU_SOURCE -D_WASI_EMULATED_SIGNAL -I"$HERE/compat" -c "$HERE/compat/compat.c" \
    -o "$c/compat.o"
  /usr/bin/llvm-ar-19 rcs "$c/libwasmcapcompat.a" "$c/compat.o"
  # ac_cv_func_sig*: compat/ supplies no-op signal blocking, so gnulib does not replace it (its
  # replacement supports only 32 signals; wasi-libc's emulation has 65).
  (cd "$b" && CC=$CC AR=/usr/bin/llvm-ar-19 RANLIB=/usr/bin/llvm-ranlib-19 CFLAGS="$flags" \
    CPPFLAGS="-I$HERE/compat" LDFLAGS="-L$c" \
    LIBS="-lwasmcapcompat -lwasi-emulated-signal -lwasi-emulated-getpid -lwasi-emulated-process-clocks" \
    ac_cv_func_sigprocmask=yes ac_cv_func_sigaction=yes \
    $NICE "$s/configure" --host=wasm32-unknown-wasi --build="$(gcc -dumpmachine)" --disable-nls \
      --without-libsigsegv >"$b/configure.log" 2>&1) ||
    { tail -30 "$b/configure.log"; die "diffutils configure failed ($b/configure.log)"; }
  # No `pr` to paginate through: diff -l says "pagination not supported on this host".
  sed -i 's|^#define PR_PROGRAM .*|#define PR_PROGRAM ""|' "$b/lib/config.h"
  (cd "$b" && $NICE make -j"$JOBS" -C lib CFLAGS="$flags -flto" >"$b/make-lib.log" 2>&1) ||
    { tail -30 "$b/make-lib.log"; die "diffutils lib failed ($b/make-lib.log)"; }
  printf 'wasmcap-list-%%:\n\t@echo $($*_OBJECTS) $(libver_a_OBJECTS)\n' >"$b/src/wasmcap.mk"
  (cd "$b/src" && $NICE make version.h paths.h >"$b/make-src.log" 2>&1) || die "diffutils src failed"
  mkdir -p "$b/libobjs"
  (cd "$b/libobjs" && /usr/bin/llvm-ar-19 x "$b/lib/libdiffutils.a")
  local p objs
  for p in diff cmp; do
    read -r -a objs < <(cd "$b/src" && make -s -f Makefile -f wasmcap.mk "wasmcap-list-$p")
    (cd "$b/src" && rm -f "${objs[@]}" && $NICE make -j"$JOBS" "${objs[@]}" CFLAGS="$flags -flto -Dmain=${p}_main" \
      >>"$b/make-src.log" 2>&1) || { tail -30 "$b/make-src.log"; die "diffutils $p failed ($b/make-src.log)"; }
    unit "$p" "${objs[@]/#/$b/src/}" "$b"/libobjs/*.o
  done
}

build_mawk
build_jq
build_diffutils

# --- the module ----------------------------------------------------------------------------------
# --strip-debug: no DWARF (the name section stays, so traps name functions). 4 MiB of stack
# instead of wasm-ld's 64 KiB: awk functions and jq filters recurse in C (a deep recursion is
# then a trap at the bound, not memory corruption).
STAGE=$WORK/stage
rm -rf "$STAGE"
mkdir -p "$STAGE"
$NICE "$CC" -O2 -Wall -Wextra "$HERE/toolbox.c" "$WORK/mawk.o" "$WORK/jq.o" "$WORK/diff.o" \
  "$WORK/cmp.o" -L"$WORK/compat" -lwasmcapcompat -lwasi-emulated-signal -lwasi-emulated-getpid \
  -lwasi-emulated-process-clocks -lm \
  -Wl,--strip-debug -Wl,-z,stack-size=4194304 -o "$STAGE/toolbox.wasm"
{
  for d in "${DSCS[@]}"; do echo "source: $d"; done
  toolchain_id
  echo "key: $KEY"
} >"$STAGE/BUILDINFO"

# --- publish to the cache (atomically), then install from it --------------------------------------
TMPC=$(mktemp -d "$CACHE_ROOT/.tmp.XXXXXX")
cp -a "$STAGE/toolbox.wasm" "$STAGE/BUILDINFO" "$TMPC/"
touch "$TMPC/COMPLETE"
# Another checkout may have published the same key meanwhile: keep the first (same content).
mv -T "$TMPC" "$CACHE" 2>/dev/null || rm -rf "$TMPC"
install_from_cache
