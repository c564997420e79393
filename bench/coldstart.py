#!/usr/bin/env python3
"""Cold start of the wasmcap CLI (bench/notes/2026-11-23-coldstart.md, "Cold start"). Standard library only.

For `hello` (guest/hello.c): wall time of one whole process, median of --reps runs interleaved
across runtimes (so load drift on a shared machine hits all of them alike), as a ratio to a
native hello built from the same C source with `cc -O2` (the process floor), plus the number of
shared objects each process loads (LD_DEBUG=files: linked and dlopen()ed alike).

Runtimes: native; wasmcap aot with a cached object; wasmcap interp (its own interpreter);
wasmcap interp on a never-seen module (a fresh cache directory per run: validated and
recorded); wasmcap auto with a cached object; wasmcap auto on a never-seen module (a fresh cache per run:
the first run interprets and compiles in the background, docs/aot.md "Engine choice"). Optional
peers when on PATH (never downloaded): wasm3, iwasm.

  python3 bench/coldstart.py [--build-dir build] [--reps 30] [--json out.json]
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


CPU = {}  # argv[0] + engine -> CPU ms samples (user + system of the child)


def run(argv, env=None):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ms = (time.perf_counter() - t0) * 1000.0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    run.last_cpu = ((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)) * 1000.0
    if p.returncode != 0 or not p.stdout.startswith(b"hello from wasm"):
        raise SystemExit("%s failed (%d): %s" % (" ".join(argv), p.returncode, p.stderr[-500:]))
    return ms


def shared_objects(argv, env):
    e = dict(env or os.environ)
    e["LD_DEBUG"] = "files"
    p = subprocess.run(argv, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                       errors="replace")
    names = set()
    for line in p.stderr.splitlines():
        if "file=" in line and ("[0];" in line or "needed by" in line or "dynamically loaded" in line):
            names.add(line.split("file=", 1)[1].split()[0].rstrip(";"))
    return len(names)


def wait_for_workers(cache, limit_s=300):
    """Until no background compile holds a slot lock of `cache` (docs/aot.md)."""
    import fcntl
    deadline = time.time() + limit_s
    while time.time() < deadline:
        busy = False
        for i in range(2):
            path = os.path.join(cache, "bg-%d.lock" % i)
            if not os.path.exists(path):
                continue
            with open(path, "rb") as f:
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    busy = True
        if not busy:
            return
        time.sleep(0.1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--json")
    ap.add_argument("--before", help="another wasmcap binary (e.g. main's) measured side by side")
    a = ap.parse_args()
    wasmcap = os.path.join(a.build_dir, "bin", "wasmcap")
    hello = os.path.join(a.build_dir, "guest", "hello.wasm")
    tmp = tempfile.mkdtemp(prefix="wasmcap-coldstart-")
    try:
        # Both binaries run from copies written the same way: the same bytes exec'd from the
        # linker's output took 8% more CPU and 13 more page faults per hello than from a copy
        # (how the file's page cache was filled: bench/notes/2026-11-24-cold-left.md, 2026-11-24), which made a
        # binary measured against a copy of itself read 4-7% slower than its "before".
        os.makedirs(os.path.join(tmp, "bin"))
        wasmcap = shutil.copy(wasmcap, os.path.join(tmp, "bin", "wasmcap"))
        if a.before:
            a.before = shutil.copy(a.before, os.path.join(tmp, "bin", "wasmcap-before"))
        native = os.path.join(tmp, "hello-native")
        subprocess.run(["cc", "-O2", "-o", native, os.path.join(ROOT, "guest", "hello.c")],
                       check=True)
        cache = os.path.join(tmp, "cache")
        env = dict(os.environ, WASMCAP_CACHE_DIR=cache)
        subprocess.run([wasmcap, "compile", hello], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        cache_b = os.path.join(tmp, "cache-before")
        env_b = dict(os.environ, WASMCAP_CACHE_DIR=cache_b)
        if a.before:
            subprocess.run([a.before, "compile", hello], env=env_b, check=True,
                           stdout=subprocess.DEVNULL)
        # One cached run more than 2 s after the compile lets the cache record the verified
        # object (docs/aot.md, "Cold start"); later runs are the steady state. The --before
        # binary gets the same warm-up (without it, its first runs re-hashed the object and
        # its aot row read ~0.3 ms too high).
        time.sleep(2.2)
        run([wasmcap, "run", "--engine", "aot", hello], env)
        run([wasmcap, "run", "--engine", "interp", hello], env)
        if a.before:
            run([a.before, "run", "--engine", "aot", hello], env_b)
            run([a.before, "run", "--engine", "interp", hello], env_b)

        fresh = {"n": 0}

        def fresh_env():
            fresh["n"] += 1
            return dict(os.environ, WASMCAP_CACHE_DIR=os.path.join(tmp, "fresh%d" % fresh["n"]))

        runtimes = [
            ("native hello (floor)", lambda: ([native], None)),
            ("wasmcap aot, cached", lambda: ([wasmcap, "run", "--engine", "aot", hello], env)),
            ("wasmcap auto, cached", lambda: ([wasmcap, "run", "--engine", "auto", "-q", hello], env)),
            ("wasmcap interp (own interpreter)", lambda: ([wasmcap, "run", "--engine", "interp", hello], env)),
            # A fresh cache directory per run: the module is validated and recorded each time
            # (docs/fast-interp.md, "Validated-module records"); the row above reuses the record.
            ("wasmcap interp, never-seen module", lambda: ([wasmcap, "run", "--engine", "interp", hello],
                                                           fresh_env())),
        ]
        if a.before:
            runtimes += [
                ("before: aot, cached", lambda: ([a.before, "run", "--engine", "aot", hello], env_b)),
                ("before: auto, cached", lambda: ([a.before, "run", "--engine", "auto", "-q", hello], env_b)),
                ("before: interp", lambda: ([a.before, "run", "--engine", "interp", hello], env_b)),
            ]
        for peer, argv in (("wasm3", ["wasm3", hello]), ("iwasm", ["iwasm", hello])):
            if shutil.which(peer):
                runtimes.append((peer, lambda argv=argv: (argv, None)))
        times = {name: [] for name, _ in runtimes}
        cpu = {name: [] for name, _ in runtimes}
        for _ in range(a.reps):
            for name, make in runtimes:
                argv, e = make()
                times[name].append(run(argv, e))
                cpu[name].append(run.last_cpu)
        # A never-seen module under auto: a fresh cache each time; the background compile it
        # starts is waited for before the next measurement, so it never overlaps one.
        # With --before, that binary's never-seen run is measured interleaved with this one's.
        never_seen = [("wasmcap auto, never-seen module", wasmcap)]
        if a.before:
            never_seen.append(("before: auto, never-seen module", a.before))
        for name, _ in never_seen:
            times[name] = []
            cpu[name] = []
        for _ in range(min(a.reps, 5)):
            for name, binary in never_seen:
                e = fresh_env()
                times[name].append(run([binary, "run", "--engine", "auto", "-q", hello], e))
                cpu[name].append(run.last_cpu)
                wait_for_workers(e["WASMCAP_CACHE_DIR"])
        for name, binary in never_seen:
            runtimes.append((name, lambda binary=binary: ([binary, "run", "--engine", "auto", "-q",
                                                           hello], fresh_env())))
        floor = statistics.median(times["native hello (floor)"])
        cpu_floor = max(statistics.median(cpu["native hello (floor)"]), 0.001)
        rows = []
        for name, make in runtimes:
            argv, e = make()
            med = statistics.median(times[name])
            c = statistics.median(cpu[name])
            rows.append({"runtime": name, "median_ms": round(med, 2),
                         "ratio_to_native": round(med / floor, 2),
                         "cpu_ms": round(c, 2), "cpu_ratio_to_native": round(c / cpu_floor, 2),
                         "shared_objects": shared_objects(argv, e)})
        print("Cold start, hello: per process, median of %d (interleaved); CPU = user + system"
              % a.reps)
        print("%-34s %9s %8s %8s %8s %5s" % ("runtime", "wall ms", "x native", "CPU ms",
                                             "x native", ".so"))
        for r in rows:
            print("%-34s %9.2f %8.2f %8.2f %8.2f %5d" % (
                r["runtime"], r["median_ms"], r["ratio_to_native"], r["cpu_ms"],
                r["cpu_ratio_to_native"], r["shared_objects"]))
        if a.json:
            with open(a.json, "w") as f:
                json.dump({"reps": a.reps, "rows": rows}, f, indent=2)
        # The .so count above started one more background compile: let it finish before the
        # directory goes (it holds no descriptor of ours; this only keeps /tmp tidy).
        wait_for_workers(os.path.join(tmp, "fresh%d" % fresh["n"]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
