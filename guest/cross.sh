# guest/cross.sh — what every bundle built from Debian's source packages shares (sourced by
# guest/toolbox/build.sh and guest/git/build.sh, not run): the toolchain checks, the source
# packages' versions from apt's index, the content key and the cache, `apt-get source` +
# `dpkg-source -x` + our patches, the clean wasm32-wasi sysroot with a `cc` wrapper around
# Debian's clang-19, and publishing the result.
#
# The sourcing script sets, then calls the functions in this order:
#   CROSS_NAME       the bundle (toolbox, git): messages, the cache folder, WASMCAP_<NAME>_CACHE
#                    and WASMCAP_<NAME>_JOBS
#   CROSS_PACKAGES   the Debian source packages (array)
#   CROSS_RECIPE     its own recipe files (array: build.sh, its sources, patches/, compat/);
#                    this file and the guest SDK's sources it links (GUEST_SDK_FILES) are added
#   CROSS_ARTIFACTS  what it leaves in $STAGE for OUT (array, e.g. toolbox.wasm)
#   CROSS_TOOLS      host tools it needs besides the common ones (array)
#   cross_begin WORK OUT   checks, versions (DSCS), KEY; exits 0 when OUT has KEY or the cache
#                          has it (copied into OUT); else takes the build lock of KEY
#   cross_unpack           $SRC/PACKAGE for each package: Debian's patches, then patches/PACKAGE/
#   cross_sysroot          $SYSROOT (wasi-libc only) and $CC (clang-19 --target=wasm32-wasi)
#   ... the bundle's own build, into $STAGE ...
#   cross_publish          BUILDINFO, the cache (atomically), then OUT from the cache
#
# The result is cached by content: KEY = sha256(source package versions + toolchain versions +
# every recipe file, this one included), in
# ${WASMCAP_<NAME>_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmcap/<name>}/KEY/. So a change here
# rebuilds every bundle that sources it; a change of one bundle's recipe rebuilds that bundle.

CROSS_SH=${BASH_SOURCE[0]}
GUEST_DIR=$(cd "$(dirname "$CROSS_SH")" && pwd)
CROSS_SH=$GUEST_DIR/cross.sh
# The guest SDK's sources these bundles link (guest/sdk/): the working directory from $PWD or
# the first preopen.
GUEST_SDK=$GUEST_DIR/sdk
GUEST_SDK_FILES=("$GUEST_SDK/wasmcap_workdir.c" "$GUEST_SDK/wasmcap_workdir.h")
CLANG=/usr/bin/clang-19
NICE="nice -n 10"

die() { echo "$CROSS_NAME build: $*" >&2; exit 1; }

toolchain_id() {
  "$CLANG" --version | head -n1
  dpkg-query -W -f='${Package} ${Version}\n' wasi-libc lld-19 llvm-19 2>/dev/null || true
}

cross_begin() {
  WORK=$(realpath -m "$1")
  OUT=$(realpath -m "$2")
  local upper p uri var
  upper=$(echo "$CROSS_NAME" | tr a-z A-Z)
  var=WASMCAP_${upper}_JOBS
  JOBS=${!var:-2}
  var=WASMCAP_${upper}_CACHE
  CACHE_ROOT=${!var:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmcap/$CROSS_NAME}

  for tool in "$CLANG" /usr/bin/wasm-ld-19 /usr/bin/llvm-ar-19 /usr/bin/llvm-ranlib-19 dpkg-source \
              "${CROSS_TOOLS[@]}"; do
    command -v "$tool" >/dev/null || die "missing $tool: run scripts/setup.sh"
  done
  [ -f /usr/lib/wasm32-wasi/libc.a ] || die "missing wasi-libc: run scripts/setup.sh"

  # Source package versions from apt's index (no download); needs scripts/setup.sh's deb-src entry.
  DSCS=()
  for p in "${CROSS_PACKAGES[@]}"; do
    uri=$(apt-get source --print-uris "$p" 2>/dev/null | grep -o "'[^']*\.dsc'" | tr -d "'" | head -n1) || true
    [ -n "$uri" ] || die "apt cannot find the source package $p: run scripts/setup.sh (adds deb-src) and apt-get update"
    DSCS+=("$(basename "$uri" | sed "s/%2[bB]/+/g; s/%3[aA]/:/g")")
  done

  KEY=$( { printf '%s\n' "${DSCS[@]}"; toolchain_id
           sha256sum "${CROSS_RECIPE[@]}" "$CROSS_SH" "${GUEST_SDK_FILES[@]}" | awk '{print $1}'; } |
         sha256sum | cut -c1-24)
  CACHE=$CACHE_ROOT/$KEY

  if [ -f "$OUT/BUILDINFO" ] && grep -qx "key: $KEY" "$OUT/BUILDINFO" && [ -f "$CACHE/COMPLETE" ]; then
    echo "$CROSS_NAME build: $OUT is up to date (key $KEY)"
    exit 0
  fi
  if [ -f "$CACHE/COMPLETE" ]; then cross_install; exit 0; fi
  # One build per key at a time on this machine: another checkout building the same key holds the
  # lock; when it is released the result is in the cache.
  mkdir -p "$CACHE_ROOT"
  exec 9>"$CACHE_ROOT/$KEY.lock"
  if ! flock -n 9; then
    echo "$CROSS_NAME build: waiting for another build of key $KEY"
    flock 9
  fi
  if [ -f "$CACHE/COMPLETE" ]; then cross_install; exit 0; fi
  echo "$CROSS_NAME build: cache miss, building ${DSCS[*]} (key $KEY; a few minutes)"
  mkdir -p "$WORK"
  SRC=$WORK/src
  STAGE=$WORK/stage
}

cross_install() {
  local a
  rm -rf "$OUT.tmp"
  mkdir -p "$OUT.tmp"
  for a in "${CROSS_ARTIFACTS[@]}" BUILDINFO; do cp -a "$CACHE/$a" "$OUT.tmp/"; done
  rm -rf "$OUT"
  mv "$OUT.tmp" "$OUT"
  echo "$CROSS_NAME build: installed from $CACHE (${DSCS[*]})"
}

# Sources: Debian's source packages with Debian's patches, then ours (patches/PACKAGE/*.patch of
# the sourcing script's folder). A tree is re-extracted when its .dsc or our patches change (the
# stamp names both).
cross_unpack() {
  local here i p dsc stamp patch
  here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
  mkdir -p "$SRC"
  for i in "${!CROSS_PACKAGES[@]}"; do
    p=${CROSS_PACKAGES[$i]} dsc=${DSCS[$i]}
    stamp="$SRC/.$p-$( { cat "$here"/patches/"$p"/*.patch 2>/dev/null || true; } | sha256sum | cut -c1-16)-$dsc"
    [ -f "$stamp" ] && [ -d "$SRC/$p" ] && continue
    rm -rf "${SRC:?}/$p" "$SRC/.$p-"*
    [ -f "$SRC/$dsc" ] || (cd "$SRC" && apt-get source --download-only "$p" >/dev/null 2>&1) ||
      die "apt-get source $p failed"
    (cd "$SRC" && dpkg-source -x "$dsc" "$p" >"$SRC/$p.unpack.log" 2>&1) ||
      die "dpkg-source -x $dsc failed ($SRC/$p.unpack.log)"
    for patch in "$here"/patches/"$p"/*.patch; do
      [ -f "$patch" ] || continue
      patch -d "$SRC/$p" -p1 -N --quiet <"$patch" || die "$patch does not apply to $dsc"
    done
    touch "$stamp"
  done
}

# A clean wasm32-wasi sysroot and compiler wrapper. Only wasi-libc: with --sysroot=/usr clang
# would also see glibc's headers (setjmp.h, pthread.h) and configure would find things wasi-libc
# does not have.
cross_sysroot() {
  local sdk=$WORK/sdk f
  SYSROOT=$sdk/sysroot
  rm -rf "$sdk"
  mkdir -p "$sdk/bin" "$SYSROOT/include/wasm32-wasi" "$SYSROOT/lib/wasm32-wasi"
  for f in /usr/include/wasm32-wasi/*; do ln -s "$f" "$SYSROOT/include/wasm32-wasi/"; done
  for f in /usr/lib/wasm32-wasi/*; do ln -s "$f" "$SYSROOT/lib/wasm32-wasi/"; done
  CC=$sdk/bin/cc
  # -ffile-prefix-map: assert()'s __FILE__ names the source relative to WORK, so the module's
  # bytes do not depend on where the build ran (one AOT cache entry for every checkout).
  printf '#!/bin/sh\nexec %s --target=wasm32-wasi --sysroot=%s -ffile-prefix-map=%s/= "$@"\n' \
    "$CLANG" "$SYSROOT" "$WORK" >"$CC"
  chmod +x "$CC"
  rm -rf "$STAGE"
  mkdir -p "$STAGE"
}

# BUILDINFO (sources, toolchain, key) beside the artifacts in $STAGE, published to the cache
# atomically, then installed into OUT from it.
cross_publish() {
  local d a tmpc
  {
    for d in "${DSCS[@]}"; do echo "source: $d"; done
    toolchain_id
    echo "key: $KEY"
  } >"$STAGE/BUILDINFO"
  tmpc=$(mktemp -d "$CACHE_ROOT/.tmp.XXXXXX")
  for a in "${CROSS_ARTIFACTS[@]}" BUILDINFO; do cp -a "$STAGE/$a" "$tmpc/"; done
  touch "$tmpc/COMPLETE"
  # Another checkout may have published the same key meanwhile: keep the first (same content).
  mv -T "$tmpc" "$CACHE" 2>/dev/null || rm -rf "$tmpc"
  cross_install
}
