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
[ "$status" -eq 0 ] || exit $status

# --- 2. An agent's toolbox: the signed core-utils bundle, installed and run by name ------------
# A private registry and trust store for the demo (normally ~/.local/share/wasmcap). The bundle
# was signed at build time with a TEST key; the operator trusts it by copying its public half.
export WASMCAP_HOME="$demo/home"
mkdir -p "$WASMCAP_HOME/trust"
cp build/bundles/wasmcap-test.pub "$WASMCAP_HOME/trust/"
W=./build/bin/wasmcap
show() { echo; echo "\$ wasmcap ${*@Q}" | sed "s|$demo|\$DEMO|g"; set +e; "$W" "$@"; echo "  (exit $?)"; set -e; }

echo
echo "== 2. install the signed core-utils bundle, run its tools in the workspace =="
cp build/bundles/coreutils.wcb "$demo/tampered.wcb"
# Flip one byte near the end (inside the module): the bundle no longer matches its signature.
size=$(stat -c %s "$demo/tampered.wcb")
printf '\x00' | dd of="$demo/tampered.wcb" bs=1 seek=$((size - 100)) conv=notrunc status=none
show bundle install "$demo/tampered.wcb"
show bundle install build/bundles/coreutils.wcb
show bundle list
printf 'TODO: ship it\nDONE: tests\nTODO: docs\n' > "$demo/ws/tasks.txt"
show run --dir "$demo/ws::/work" coreutils ls -l
show run --dir "$demo/ws::/work" coreutils grep -n TODO tasks.txt
show run --dir "$demo/ws::/work" coreutils wc -l tasks.txt notes.txt
show run --dir "$demo/ws::/work" coreutils cat ../secret.txt
show run --dir "$demo/ws::/work" coreutils cat escape-link/passwd
show run coreutils ls

# --- 3. The network: only through the https host API, only where granted -----------------------
# Every request below is refused by policy before any DNS lookup or connection, and each refusal
# is an audit event. (No traffic leaves this machine.)
echo
echo "== 3. outbound HTTPS through the policy (grants, https only, public addresses) =="
echo "s3cr3t-demo-token" > "$demo/token"
cp build/guest/fetch.wasm "$demo/fetch.wasm"
cat > "$demo/fetch.json" <<JSON
{ "name": "fetch", "version": "0.1.0", "module": "fetch.wasm",
  "permissions": { "args": true, "host_api": { "https": {
    "allow": [ { "host": "api.example.com", "methods": ["GET"], "path_prefix": "/v1/" },
               { "host": "metadata.internal", "methods": ["GET"] } ],
    "secrets": ["tok"] } } } }
JSON
cat > "$demo/host.json" <<JSON
{ "plugins": { "fetch": { "grants": { "host_api": { "https": {
    "allow": [ { "host": "api.example.com", "methods": ["GET"], "path_prefix": "/v1/" },
               { "host": "metadata.internal", "methods": ["GET"] } ],
    "secrets": { "tok": { "file": "$demo/token", "hosts": ["api.example.com"] } } } } } } },
  "network": { "resolve": { "metadata.internal": "169.254.169.254" } },
  "audit": { "file": "$demo/audit.jsonl" } }
JSON
fetch() { show run --manifest "$demo/fetch.json" --config "$demo/host.json" "$demo/fetch.wasm" "$@"; }
fetch https://evil.example.net/exfil            # host not granted
fetch -X POST https://api.example.com/v1/items  # method not granted
fetch https://api.example.com/admin             # outside the path prefix
fetch http://api.example.com/v1/items           # not https
fetch https://metadata.internal/latest/         # granted name, link-local address
fetch -H 'Authorization: secret:tok' https://metadata.internal/  # secret bound to another host
echo
echo "audit log ($demo/audit.jsonl): $(wc -l < "$demo/audit.jsonl") events (run_start/run_end and one per request), e.g."
grep '"event":"https_request"' "$demo/audit.jsonl" | head -n 1
echo "the denied requests, queried with wasmcap audit:"
./build/bin/wasmcap audit "$demo/audit.jsonl" --decision denied
echo "the secret's value appears in the audit log $(grep -c s3cr3t-demo-token "$demo/audit.jsonl" || true) times"

# --- 4. An agent session: a shadow workspace, a shell whose every command is a WASI tool --------
# The project is copied (copy-on-write where the file system can) into a workspace; the shell's
# commands run on the copy; the operator reviews the diff; only `ws apply` touches the project.
echo
echo "== 4. agent session: shadow workspace + wasmcap sh, review the diff, apply =="
mkdir -p "$demo/project/src"
printf 'def main():\n    # TODO: greet\n    print("hi")\n' > "$demo/project/src/app.py"
printf '# demo\n' > "$demo/project/README.md"
show ws create --from "$demo/project" --name demo-fix
show sh --workspace demo-fix -c 'grep -rn TODO . | wc -l
sed -i "s/# TODO: greet/print(\"hello\")/" src/app.py && grep -c hello src/app.py
echo "- greets" >> README.md
ls /etc; curl example.com'
show ws diff demo-fix
echo "the project is untouched until apply: $(grep -c TODO "$demo/project/src/app.py") TODO line(s) left"
show ws apply demo-fix
echo "after apply: src/app.py has $(grep -c hello "$demo/project/src/app.py") hello line(s); README.md ends with '$(tail -n 1 "$demo/project/README.md")'"
