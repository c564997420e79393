#!/usr/bin/env bash
# Where `wasmcap mcp --listen` loads its HTTP transport module from (docs/mcp.md, "The HTTP
# transport module"): only <directory of the executable>/REL, and only a file owned by root or
# the user and writable by nobody else. A copy of the CLI without the module must refuse with
# capability_unavailable (exit 69) although a planted module (its constructor would write a
# marker) sits in the working directory, at REL relative to the working directory and on
# LD_LIBRARY_PATH; a module writable by others is refused; the real one at REL serves. And the
# CLI itself links neither libmicrohttpd nor a TLS library (the reason for the module: cold
# start).
#
#   http_module_test.sh WASMCAP MODULE REL
set -uo pipefail
WASMCAP=$1 MODULE=$2 REL=$3
T=$(mktemp -d)
SERVER=
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "http_module_test: FAIL: $*" >&2; exit 1; }
export WASMCAP_HOME=$T/home
mkdir -p "$WASMCAP_HOME" "$T/inst/bin" "$T/cwd" "$T/ldpath"

# No TLS stack or HTTP library in the CLI's own dependencies.
if ldd "$WASMCAP" | grep -E 'libmicrohttpd|libgnutls|libssl|libcrypto|httplib|libbrotli|libz\.'; then
  fail "the CLI links the HTTP/TLS stack (see above): it must stay in the module"
fi

cp "$WASMCAP" "$T/inst/bin/wasmcap"
cat > "$T/planted.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
__attribute__((constructor)) static void planted(void) {
  const char* m = getenv("MARKER");
  FILE* f = m ? fopen(m, "w") : NULL;
  if (f) fclose(f);
}
void* wasmcap_httpd_entry(unsigned v) { (void)v; return 0; }
C
cc -shared -fPIC -o "$T/planted.so" "$T/planted.c" || fail "cannot build the planted module"
name=$(basename "$REL")
cp "$T/planted.so" "$T/cwd/$name"
cp "$T/planted.so" "$T/ldpath/$name"
mkdir -p "$(dirname "$T/cwd/$REL")"
cp "$T/planted.so" "$T/cwd/$REL"

serve() {  # serve LOG: runs the copied CLI from $T/cwd; prints its exit status (124: still serving)
  (cd "$T/cwd" && MARKER=$T/marker LD_LIBRARY_PATH=$T/ldpath \
    timeout 5 "$T/inst/bin/wasmcap" mcp --listen 127.0.0.1:0 2>"$1" >/dev/null)
  echo $?
}

# 1. Not installed next to the executable: refused, whatever is planted elsewhere.
rc=$(serve "$T/err1")
[ "$rc" = 69 ] || fail "missing module: exit $rc (expected 69): $(cat "$T/err1")"
grep -q 'capability_unavailable' "$T/err1" && grep -q 'is not installed' "$T/err1" \
  || fail "missing module: unexpected message: $(cat "$T/err1")"
grep -qF "$T/inst/bin/$REL" "$T/err1" || fail "the message does not name the expected path: $(cat "$T/err1")"
[ ! -e "$T/marker" ] || fail "a planted module (cwd, cwd-relative or LD_LIBRARY_PATH) was loaded"

# 2. At the right place but writable by others: refused before loading.
mkdir -p "$(dirname "$T/inst/bin/$REL")"
cp "$MODULE" "$T/inst/bin/$REL"
chmod 0757 "$T/inst/bin/$REL"
rc=$(serve "$T/err2")
[ "$rc" = 69 ] && grep -q 'writable by others' "$T/err2" \
  || fail "world-writable module: exit $rc: $(cat "$T/err2")"
chmod 0775 "$T/inst/bin/$REL"
rc=$(serve "$T/err2b")
[ "$rc" = 69 ] && grep -q 'writable by others' "$T/err2b" \
  || fail "group-writable module: exit $rc: $(cat "$T/err2b")"

# 3. The real module, installed right: it serves (still running when timeout stops it).
chmod 0755 "$T/inst/bin/$REL"
rc=$(serve "$T/err3")
[ "$rc" = 124 ] && grep -q 'listening on http://127.0.0.1:' "$T/err3" \
  || fail "installed module: exit $rc: $(cat "$T/err3")"
[ ! -e "$T/marker" ] || fail "a planted module was loaded"
echo "http_module_test: ok"
