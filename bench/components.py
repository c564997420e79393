#!/usr/bin/env python3
"""WASI 0.2 components against the same program as a core module, and against the reference host
(issue #33, "Performance"), side by side in one run. Standard library only; npm's jco (installed
into the build tree by the component tests, tests/component/jco_install.sh) makes the components.

1. Start: build/guest/hello.wasm (a P1 module) and the same module wrapped by `jco new
   --wasi-command` (wit-component's preview1 adapter), each run by `wasmcap run` --reps times per
   engine, interleaved, after one warm-up run each and --settle-s seconds after the component was
   made (as an installed one is); the component's median wall time over the module's (target:
   <= 1.5x).
2. Calls: bench/components/calls.wat (made a binary by `jco parse`), its `echo` export called with
   a 1 KiB string and a list of 100 three-field records (each with a string) and returning both:
   nanoseconds per call from C++ (build/bench/component_calls: instantiated once, on interp and
   aot; the Canonical ABI both ways, realloc, post-return) and through `jco transpile`'s bindings
   on node (bench/components/calls.mjs), the reference host.

  python3 bench/components.py [--build-dir build] [--reps 15] [--calls 2000] [--settle-s 2.5] [--json out.json]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def wall(cmd, env=None):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--json")
    ap.add_argument("--settle-s", type=float, default=2.5,
                    help="wait after making the component (a file changed within 2 s is hashed at every "
                         "run: docs/bundles.md, 'Verification of installed bundles')")
    a = ap.parse_args()
    build = os.path.abspath(a.build_dir)
    wasmcap = os.path.join(build, "bin", "wasmcap")
    jco = os.path.join(build, "node-jco", "node_modules", ".bin", "jco")
    calls_bin = os.path.join(build, "bench", "component_calls")
    for path, what in ((wasmcap, "build/bin/wasmcap"), (calls_bin, "build/bench/component_calls"),
                       (jco, "jco (run `ctest -R component_jco` once: it installs it)")):
        if not os.path.exists(path):
            sys.exit("components.py: %s is missing: %s" % (path, what))
    work = tempfile.mkdtemp(prefix="wasmcap-components-")
    out = {"start": {}, "calls": []}
    try:
        module = os.path.join(build, "guest", "hello.wasm")
        component = os.path.join(work, "hello.component.wasm")
        subprocess.run([jco, "new", module, "--wasi-command", "-o", component], check=True,
                       stdout=subprocess.DEVNULL)
        time.sleep(a.settle_s)
        env = dict(os.environ, WASMCAP_CACHE_DIR=os.path.join(work, "aot"))
        print("start of hello (wasmcap run, wall ms, median of %d)" % a.reps)
        print("%-8s %10s %10s %8s" % ("engine", "P1 module", "component", "ratio"))
        for engine in ("interp", "aot"):
            for f in (module, component):  # warm: compile the AOT objects, fill the records
                wall([wasmcap, "run", "-q", "--engine", engine, f], env)
            times = {module: [], component: []}
            for _ in range(a.reps):
                for f in (module, component):
                    times[f].append(wall([wasmcap, "run", "-q", "--engine", engine, f], env))
            m, c = statistics.median(times[module]), statistics.median(times[component])
            out["start"][engine] = {"module_ms": m * 1e3, "component_ms": c * 1e3, "ratio": c / m}
            print("%-8s %10.1f %10.1f %7.2fx" % (engine, m * 1e3, c * 1e3, c / m))

        calls = os.path.join(work, "calls.wasm")
        subprocess.run([jco, "parse", os.path.join(HERE, "components", "calls.wat"), "-o", calls], check=True)
        rows = []
        for engine in ("interp", "aot"):
            r = subprocess.run([calls_bin, calls, engine, str(a.calls)], capture_output=True, text=True, env=env,
                               check=True)
            rows.append(json.loads(r.stdout))
        js = os.path.join(work, "js")
        subprocess.run([jco, "transpile", calls, "-o", js, "--name", "calls"], check=True, stdout=subprocess.DEVNULL)
        r = subprocess.run(["node", os.path.join(HERE, "components", "calls.mjs"), os.path.join(js, "calls.js"),
                            str(a.calls)], capture_output=True, text=True, check=True)
        rows.append(json.loads(r.stdout))
        ref = rows[-1]["ns_per_call"]
        print("\necho(1 KiB string, 100 records) -> both, host -> guest, us per call (best of 5 x %d)" % a.calls)
        for row in rows:
            print("%-34s %8.1f  x%.2f of jco%s" % (row["engine"], row["ns_per_call"] / 1e3, row["ns_per_call"] / ref,
                                                  "" if row.get("result_equal") else "  RESULT DIFFERS"))
        out["calls"] = rows
        if a.json:
            with open(a.json, "w") as f:
                json.dump(out, f, indent=1)
        if not all(row.get("result_equal") for row in rows):
            sys.exit(1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
