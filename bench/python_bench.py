#!/usr/bin/env python3
"""The python bundle against native python3.11, in one run (a benchmark, not a test).

    bench/python_bench.py --wasmcap build/bin/wasmcap --bundles build/bundles \
        [--engines interp,aot] [--runs 3] [--aot-cache DIR] [--module python.wasm]

Measures, per runtime, the median wall time and CPU time (user + sys; ratios are of CPU time,
the steadier number on a shared machine) of N runs of
  start-up:  python -c pass
  workload:  bench/python_workload.py (json round trips + regex scans + a pure-Python loop)
and prints a table with the ratio to native python3.11 (Debian's /usr/bin/python3.11, started
plainly like the bundle: both import site). The workload prints a checksum;
every runtime must print the native one. The bundle is installed into a temporary $WASMCAP_HOME.
For --engines aot, python.wasm (--module, default BUNDLES/../guest/python/python.wasm) is first
compiled with `wasmcap compile` and the bounds it needs (--compile-timeout-ms, default 2400000;
the default 120 s is too short for it on 2 cores), reported as "aot compile" (wall, CPU; a warm
cache takes well under a second); the first run is then reported separately and not in the median.
The AOT cache is --aot-cache, else wasmcap's default (~/.cache/wasmcap/aot).
"""
import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd, env=None, cwd=None):
    """(wall seconds, CPU seconds of the child: user + sys, stdout). CPU time is the steadier
    number on a shared machine: other processes inflate wall time, not the child's own CPU."""
    c0 = children_cpu()
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, env=env, cwd=cwd, timeout=3600)
    dt = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), p.stderr.decode(errors="replace")[-2000:]))
    return dt, children_cpu() - c0, p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wasmcap", required=True)
    ap.add_argument("--bundles", required=True)
    ap.add_argument("--engines", default="interp")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--aot-cache", default=None)
    ap.add_argument("--native", default="/usr/bin/python3.11")
    ap.add_argument("--module", default=None, help="python.wasm, for the aot compile")
    ap.add_argument("--compile-timeout-ms", type=int, default=2400000)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="wasmcap-pybench-")
    try:
        home = os.path.join(tmp, "home")
        ws = os.path.join(tmp, "ws")
        os.makedirs(os.path.join(home, "trust"))
        os.makedirs(ws)
        for f in os.listdir(a.bundles):
            if f.endswith(".pub"):
                shutil.copy(os.path.join(a.bundles, f), os.path.join(home, "trust"))
        env = dict(os.environ, WASMCAP_HOME=home)
        subprocess.run([a.wasmcap, "bundle", "install", os.path.join(a.bundles, "python.wcb")],
                       check=True, env=env, capture_output=True)
        shutil.copy(os.path.join(HERE, "python_workload.py"), ws)

        rows = []
        compiled = None
        if "aot" in a.engines.split(","):
            module = a.module or os.path.join(a.bundles, "..", "guest", "python", "python.wasm")
            cmd = [a.wasmcap, "compile", "--compile-timeout-ms", str(a.compile_timeout_ms), module]
            if a.aot_cache:
                cmd[2:2] = ["--cache-dir", a.aot_cache]
            compiled = timed(cmd)[:2]
            sys.stderr.write("aot compile done\n")
        def measure(label, cmd, workload, runs, first_separately=False):
            startup, work, want, first = [], [], None, None
            for i in range(runs + (1 if first_separately else 0)):
                ds, cs, _ = timed(cmd + ["-c", "pass"], env=env)
                dw, cw, out = timed(cmd + [workload], env=env)
                if first_separately and i == 0:
                    first = ds
                    continue
                startup.append((ds, cs))
                work.append((dw, cw))
                want = out
            med = lambda xs, k: statistics.median(x[k] for x in xs)  # noqa: E731
            rows.append((label, med(startup, 0), med(work, 0), want.decode().strip(), first,
                         med(startup, 1), med(work, 1)))
            sys.stderr.write("%s done\n" % label)

        measure("native python3.11", [a.native], os.path.join(ws, "python_workload.py"), a.runs)
        for engine in a.engines.split(","):
            cmd = [a.wasmcap, "run", "--engine", engine, "--dir", ws + "::/work"]
            if a.aot_cache:
                cmd += ["--cache-dir", a.aot_cache]
            measure("wasmcap %s" % engine, cmd + ["python"], "/work/python_workload.py", a.runs,
                    first_separately=(engine == "aot"))
        base = rows[0]
        print("%-22s %10s %10s %6s %10s %10s %6s  %s" % (
            "runtime", "start wall", "start CPU", "ratio", "work wall", "work CPU", "ratio", "checksum"))
        for label, s, w, out, first, cs, cw in rows:
            print("%-22s %10.3f %10.3f %6.1f %10.3f %10.3f %6.1f  %s%s" % (
                label, s, cs, cs / base[5], w, cw, cw / base[6], out,
                "" if out == base[3] else "  MISMATCH"))
            if first is not None:
                print("%-22s first run (compile + start-up): %.1f s" % ("", first))
        if compiled is not None:
            print("aot compile (wasmcap compile python.wasm): %.1f s wall, %.1f s CPU (user + sys,"
                  " compilers included)" % compiled)
        if any(r[3] != base[3] for r in rows):
            return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
