#!/usr/bin/env bash
# Installs every build and test dependency of wasmcap from Debian 12's apt repositories.
# Idempotent: packages already present are skipped; `apt-get update` runs only when needed.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  # engine: wabt interpreter library + wasm2c (+ its runtime)
  wabt
  # guest toolchain (C -> wasm32-wasi)
  clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32
  # C++ guests (libc++ for wasm32-wasi) and Rust guests (Debian's rustc + wasm32-wasi std)
  libc++-19-dev-wasm32 libc++abi-19-dev-wasm32 rustc libstd-rust-dev-wasm32
  # fuzzing: libFuzzer + ASan runtimes for clang-19 (scripts/fuzz.sh)
  libclang-rt-19-dev
  # libraries
  libexpected-dev nlohmann-json3-dev libcli11-dev libcurl4-openssl-dev libidn2-dev libsodium-dev
  libsqlite3-dev googletest libgtest-dev libgmock-dev libbenchmark-dev
  # MCP server's HTTP transport (src/mcp/transport_http.cc)
  libcpp-httplib-dev
  # test tooling
  openssl python3 iproute2 util-linux
  # MCP tests: node + npm (the SDK and conformance suite are npm-installed into build/)
  nodejs
)

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
