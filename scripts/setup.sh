#!/usr/bin/env bash
# Installs every build and test dependency of wasmcap from Debian 12's apt repositories.
# Idempotent: packages already present are skipped; `apt-get update` runs only when needed.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  # compiler cache for scripts/test.sh's three builds (scripts/ccache.sh)
  ccache
  # engine: wabt interpreter library + wasm2c (+ its runtime)
  wabt
  # guest toolchain (C -> wasm32-wasi)
  clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32
  # C++ guests (libc++ for wasm32-wasi) and Rust guests (Debian's rustc + wasm32-wasi std, and
  # Debian's cargo, which docs/guests.md's Cargo route uses)
  libc++-19-dev-wasm32 libc++abi-19-dev-wasm32 rustc libstd-rust-dev-wasm32 cargo
  # fuzzing: libFuzzer + ASan runtimes for clang-19 (scripts/fuzz.sh)
  libclang-rt-19-dev
  # libraries
  libexpected-dev nlohmann-json3-dev libcli11-dev libcurl4-openssl-dev libidn2-dev libsodium-dev libre2-dev
  libsqlite3-dev googletest libgtest-dev libgmock-dev libbenchmark-dev
  # MCP server's HTTP transport (src/mcp/httpd_module.cc); cpp-httplib is the tests' HTTP client
  libmicrohttpd-dev libcpp-httplib-dev
  # test tooling
  openssl python3 iproute2 util-linux
  # MCP tests: node + npm (the SDK and conformance suite are npm-installed into build/)
  nodejs
  # the python bundle (guest/python/build.sh): llvm-ar/llvm-ranlib for wasm archives, Debian's
  # python3.11 as CPython's build Python, dpkg-source to unpack Debian's source packages
  llvm-19 python3.11 dpkg-dev
  # the toolbox bundle (guest/toolbox/build.sh: Debian's source packages, through the deb-src entry
  # below); tests/toolbox compares it with Debian's binaries of the same packages
  mawk jq diffutils patch
  # the toolbox's xxd and column are compared with Debian's /usr/bin/xxd (package xxd, from vim's
  # source) and /usr/bin/column (bsdextrautils, from util-linux's)
  xxd bsdextrautils
  # the toolbox's tree and bc are compared with Debian's /usr/bin/tree and /usr/bin/bc; bc's
  # build runs its fix-libmath_h, an ed script
  tree bc ed
)

# Debian's source archive (deb-src) for the same mirror and suites as the binary one, so that
# guest/python/build.sh can `apt-get source python3.11 zlib` (guest/toolbox/build.sh: mawk, jq, diffutils;
# guest/git/build.sh: libgit2, zlib, http-parser).
# Read from the machine's own /etc/apt/sources.list.d/debian.sources when present (deb822: URIs +
# Suites of the main archive).
DEB_SRC=/etc/apt/sources.list.d/wasmcap-deb-src.sources
need_update=0
if [ ! -f "$DEB_SRC" ]; then
  uri=http://deb.debian.org/debian
  suites="bookworm bookworm-updates"
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    # The first stanza is the main archive (the security archive's source is not mirrored).
    u=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
    su=$(awk '/^Suites:/ {$1=""; sub(/^ /, ""); print; exit}' /etc/apt/sources.list.d/debian.sources)
    [ -n "$u" ] && uri=$u
    [ -n "$su" ] && suites=$su
  fi
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$uri" "$suites" | $SUDO tee "$DEB_SRC" >/dev/null
  echo "setup: added $DEB_SRC (deb-src $uri $suites)"
  need_update=1
fi
if [ "$need_update" = 1 ] || ! apt-get source --print-uris python3.11 >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
