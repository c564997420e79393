#!/usr/bin/env python3
"""The setup step of python/snippets-aot: compiles python.wasm for the aot engine into the
persistent per-user CI cache, so the snippet suite then runs on a cached object.

    aot_compile.py --wasmcap build/bin/wasmcap --bundles build/bundles \
        --module build/guest/python/python.wasm [--aot-cache DIR]

The cache (default: aot_cache_dir() below, ${XDG_CACHE_HOME:-~/.cache}/wasmcap/aot-ci) outlives
the build dir: wasmcap's AOT cache is keyed by the sha256 of the module + the compiler's identity +
the flags + the translator version, so a fresh build dir on the same machine hits it, and only a
changed input (a new python.wasm, compiler, flag or translator) compiles again. Concurrent
compiles of one entry are serialised by wasmcap itself (flock on KEY.lock, re-check, rename into
place; docs/aot.md "Cache"): a second ctest job waits for the first and reuses its object.

The compile runs under `nice -n 10` with explicit bounds (guest/python/README.md, "CI cost"):
  --compile-timeout-ms   COMPILE_TIMEOUT_MS: the default 120 s is too short for python.wasm's
                         ~3 CPU-minutes of gcc on a 2-core machine (killed with compile_limit)
  --compile-memory-mb    COMPILE_MEMORY_MB per compiler process (the default 4096; the biggest
                         unit's cc1 peaks at ~0.6 GB RSS since translator v5 splits the module)
Prints whether it was a hit (well under a second) and the compile's wall time.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pyharness  # noqa: E402

# Keep in sync with tests/python/CMakeLists.txt (the ctest TIMEOUT of python/aot-compile is
# this plus a margin) and guest/python/README.md.
COMPILE_TIMEOUT_MS = 2400 * 1000
COMPILE_MEMORY_MB = 4096
# Entries of this test cache untouched (neither read nor written) for this long are removed before
# the compile: objects of older python.wasm builds, compilers or translators (~9 MB each) would
# otherwise pile up on a long-lived machine. Removing an entry is always safe: it compiles again.
MAX_AGE_DAYS = 30


def prune(cache):
    cutoff = time.time() - MAX_AGE_DAYS * 86400
    removed = 0
    for name in os.listdir(cache):
        path = os.path.join(cache, name)
        try:
            st = os.lstat(path)
            if os.path.isfile(path) and max(st.st_atime, st.st_mtime) < cutoff:
                os.unlink(path)
                removed += 1
        except OSError:
            pass
    return removed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wasmcap", required=True)
    ap.add_argument("--bundles", required=True)
    ap.add_argument("--module", required=True, help="build/guest/python/python.wasm")
    ap.add_argument("--aot-cache", default=None)
    a = ap.parse_args()
    cache = pyharness.aot_cache_dir(a.aot_cache)
    c = pyharness.Checks()

    # The bundle must carry exactly this module, or the suite's run would miss the cache and
    # compile again inside its own deadline with the default bounds.
    with open(a.module, "rb") as f:
        want = hashlib.sha256(f.read()).hexdigest()
    p = subprocess.run([a.wasmcap, "bundle", "verify", "--json", "--trust",
                        os.path.join(a.bundles, "wasmcap-test.pub"),
                        os.path.join(a.bundles, "python.wcb")], capture_output=True)
    mods = json.loads(p.stdout)["modules"] if p.returncode == 0 else []
    if not c.check("python.wcb carries %s (sha256 %s)" % (a.module, want[:16]),
                   any(m["sha256"] == want for m in mods), p.stderr.decode(errors="replace") + repr(mods)):
        return c.finish()

    cmd = ["nice", "-n", "10", a.wasmcap, "compile", "--json", "--cache-dir", cache,
           "--compile-timeout-ms", str(COMPILE_TIMEOUT_MS),
           "--compile-memory-mb", str(COMPILE_MEMORY_MB), a.module]
    os.makedirs(cache, mode=0o700, exist_ok=True)
    print("cache: %s (%d entries older than %d days removed)" % (cache, prune(cache), MAX_AGE_DAYS))
    print("$ " + " ".join(cmd))
    sys.stdout.flush()
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, timeout=COMPILE_TIMEOUT_MS / 1000 + 120)
    wall = time.monotonic() - t0
    ok = c.check("wasmcap compile python.wasm exits 0", p.returncode == 0,
                 "exit %d\n%s" % (p.returncode, p.stderr.decode(errors="replace")[-3000:]))
    if ok:
        seconds = json.loads(p.stdout)["seconds"]
        print("%s: load %.1f s, wall %.1f s" % ("cache hit" if seconds < 5 else
                                                "compiled (or waited for a concurrent compile)", seconds, wall))
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
