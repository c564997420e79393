#!/usr/bin/env bash
# The main job: set up, build, and run a sample tool in a sandboxed workspace, showing what it
# could and could not touch.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" >/dev/null

demo=$(mktemp -d)
trap 'rm -rf "$demo"' EXIT
mkdir -p "$demo/ws" "$demo/data"
echo "the sandbox can read this" > "$demo/ws/notes.txt"
echo "TOP SECRET: outside the workspace" > "$demo/secret.txt"
echo "reference data" > "$demo/data/ref.txt"
ln -s /etc "$demo/ws/escape-link"

echo "\$ wasmcap run --dir $demo/ws::/work --dir $demo/data::/data:ro build/guest/demo.wasm"
set +e
./build/bin/wasmcap run --dir "$demo/ws::/work" --dir "$demo/data::/data:ro" \
  --timeout-ms 10000 build/guest/demo.wasm
status=$?
set -e
echo
echo "host view after the run:"
echo "  $demo/ws/report.txt: $(cat "$demo/ws/report.txt" 2>/dev/null || echo '(missing)')"
echo "  $demo/secret.txt unchanged: $(cat "$demo/secret.txt")"
exit $status
