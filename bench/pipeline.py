#!/usr/bin/env python3
"""The run pipeline on two wasmcap builds, paired (issue #29 item 1; bench/notes/2026-11-25-run-pipeline.md).

Two figures, each for every engine asked, this build against --base (another build directory,
e.g. main's at the branch point), the pairs interleaved with the order alternating, so load
drift on a shared machine hits both alike:

  cold   `wasmcap run --engine E guest/hello.wasm` (stdout to /dev/null): wall time and CPU time
         (user + sys of the child) of the whole process, median of --reps pairs. The aot engine
         runs on an object the warm-up run cached (a private cache directory per build).
  rerun  the C API: bench/capi/rerun.c, compiled against each build's headers and libwasmcap,
         loads hello.wasm once and calls wasmcap_run --runs times on that handle; the figure
         is the median wall time of one wasmcap_run, median over --reps pairs of processes.

Ratios are this build / base (below 1: this build is faster). Standard library only; needs a C
compiler (cc) for rerun.c.

  python3 bench/pipeline.py --base OTHER_BUILD [--build-dir build] [--engines interp,aot]
                            [--reps 30] [--runs 200] [--json out.json]
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def build_paths(build_dir):
    b = os.path.abspath(build_dir)
    # The checkout of a build directory: its CMakeCache names the source directory.
    src = None
    with open(os.path.join(b, "CMakeCache.txt")) as f:
        for line in f:
            if line.startswith("CMAKE_HOME_DIRECTORY:"):
                src = line.split("=", 1)[1].strip()
    if src is None:
        raise SystemExit("%s: no CMAKE_HOME_DIRECTORY in CMakeCache.txt" % b)
    cli = os.path.join(b, "bin", "wasmcap")
    hello = os.path.join(b, "guest", "hello.wasm")
    for p in (cli, hello, os.path.join(b, "lib", "libwasmcap.so")):
        if not os.path.exists(p):
            raise SystemExit("%s is missing: build the targets wasmcap, wasmcap_shared and guests" % p)
    return {"dir": b, "src": src, "cli": cli, "hello": hello, "lib": os.path.join(b, "lib")}


def compile_rerun(paths, out):
    cmd = ["cc", "-O2", "-o", out, os.path.join(HERE, "capi", "rerun.c"),
           "-I", os.path.join(paths["src"], "include"), "-I", os.path.join(paths["dir"], "include"),
           "-L", paths["lib"], "-Wl,-rpath," + paths["lib"], "-lwasmcap"]
    subprocess.run(cmd, check=True)


def timed(argv, env):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = (time.perf_counter() - t0) * 1000.0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = ((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)) * 1000.0
    if p.returncode != 0:
        raise SystemExit("%s failed (%d): %s" % (" ".join(argv), p.returncode, p.stderr[-500:]))
    return wall, cpu, p.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--base", required=True, help="the other build directory")
    ap.add_argument("--engines", default="interp,aot")
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--runs", type=int, default=200, help="wasmcap_run calls per rerun process")
    ap.add_argument("--json", help="write the figures here")
    a = ap.parse_args()
    builds = {"new": build_paths(a.build_dir), "base": build_paths(a.base)}
    engines = [e for e in a.engines.split(",") if e]
    report = {"build": builds["new"]["dir"], "base": builds["base"]["dir"], "reps": a.reps,
              "runs": a.runs, "load": os.getloadavg()[0], "cold": {}, "rerun": {}}
    with tempfile.TemporaryDirectory(prefix="wasmcap-pipeline-") as tmp:
        env = {}
        for k, p in builds.items():
            rerun = os.path.join(tmp, "rerun-" + k)
            compile_rerun(p, rerun)
            p["rerun"] = rerun
            e = dict(os.environ)
            e["WASMCAP_CACHE_DIR"] = os.path.join(tmp, "cache-" + k)
            e["XDG_CACHE_HOME"] = os.path.join(tmp, "xdg-" + k)
            env[k] = e
        for engine in engines:
            samples = {k: {"wall": [], "cpu": []} for k in builds}
            for k, p in builds.items():  # warm-up: caches the aot object, pages in the binaries
                timed([p["cli"], "run", "--engine", engine, "-q", p["hello"]], env[k])
            for i in range(a.reps):
                order = ["new", "base"] if i % 2 == 0 else ["base", "new"]
                for k in order:
                    p = builds[k]
                    wall, cpu, _ = timed([p["cli"], "run", "--engine", engine, "-q", p["hello"]], env[k])
                    samples[k]["wall"].append(wall)
                    samples[k]["cpu"].append(cpu)
            cold = {k: {m: statistics.median(v) for m, v in s.items()} for k, s in samples.items()}
            cold["ratio_wall"] = cold["new"]["wall"] / cold["base"]["wall"]
            cold["ratio_cpu"] = cold["new"]["cpu"] / cold["base"]["cpu"]
            report["cold"][engine] = cold
            print("cold  %-6s wall %.2f ms vs %.2f ms (%.3fx)  cpu %.2f ms vs %.2f ms (%.3fx)" %
                  (engine, cold["new"]["wall"], cold["base"]["wall"], cold["ratio_wall"],
                   cold["new"]["cpu"], cold["base"]["cpu"], cold["ratio_cpu"]), flush=True)

            per_run = {k: [] for k in builds}
            load = {k: [] for k in builds}
            for i in range(a.reps):
                order = ["new", "base"] if i % 2 == 0 else ["base", "new"]
                for k in order:
                    p = builds[k]
                    _, _, out = timed([p["rerun"], engine, p["hello"], str(a.runs)], env[k])
                    ms_load, ms_median, _ = (float(x) for x in out.split())
                    per_run[k].append(ms_median)
                    load[k].append(ms_load)
            rr = {k: {"run_ms": statistics.median(per_run[k]), "load_ms": statistics.median(load[k])}
                  for k in builds}
            rr["ratio"] = rr["new"]["run_ms"] / rr["base"]["run_ms"]
            report["rerun"][engine] = rr
            print("rerun %-6s one wasmcap_run %.3f ms vs %.3f ms (%.3fx)  load %.2f ms vs %.2f ms" %
                  (engine, rr["new"]["run_ms"], rr["base"]["run_ms"], rr["ratio"],
                   rr["new"]["load_ms"], rr["base"]["load_ms"]), flush=True)
    report["load_end"] = os.getloadavg()[0]
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
