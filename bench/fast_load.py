#!/usr/bin/env python3
"""The fast engine's load path, before/after (bench/notes/2026-11-23-fast-load-lazy-bodies.md, "fast interpreter load path").
A benchmark, not a test. Standard library only.

    bench/fast_load.py --after build/bin/wasmcap --before /work/main/build/bin/wasmcap \
        [--runs 5] [--work DIR] [--cases synth21,synth81,hello,python,esbuild] [--json OUT]
        [--one-thread] [--fifo] [--cold-warm]

--one-thread adds a third series, the --after binary with WASMCAP_FAST_VALIDATE_THREADS=1 (its
bodies validated on one thread). --fifo runs every process under SCHED_FIFO priority 1 (as `chrt -f 1`, set on this script and
inherited): on a
machine shared with other jobs the process then gets whole CPUs, as on an idle machine (without
it, the kernel's fair share between sessions caps the process at its share, however many
threads it has). Use it for a few short runs only: it starves everything else meanwhile.
--cold-warm runs the --after binary twice per round, with validated-module records
(docs/fast-interp.md, "Validated-module records"): "after, cold" in a fresh, empty cache
directory ($WASMCAP_CACHE_DIR; the module was never seen: validated and recorded) and "after,
warm" in a directory primed by one run before the measurements (validation skipped). Without it
every binary runs with a fresh cache directory per run as well, so the numbers are "cold".

Cases (each `wasmcap run --engine interp ...`, WASMCAP_FAST_STATS=1):
  synth21   python3 bench/aot/gen_many_funcs.py 32000 OUT --body 16 --noop-start (21.5 MB;
            `_start` returns at once: the run is process start, load, instantiation, exit)
  synth81   the same with 120,000 functions (81 MB)
  hello     build/guest/hello.wasm (next to --after's bin/)
  python    python.wasm -c pass, from the cached CPython build (~/.cache/wasmcap/python/*/; the
            module imports the https host API, so the run passes --allow-https example.invalid)
  esbuild   esbuild.wasm --version, if bench/realprograms.py has fetched it
            (~/.cache/wasmcap/bench-npm/esbuild-wasi-preview1-*/package/esbuild.wasm)
Missing inputs are skipped with a note. Runs are interleaved (before, after, before, ...), so
load drift on a shared machine hits both alike. Per binary and case: median wall, median CPU
(user + sys of the child), max peak RSS, and from the stats lines the median time to the first
instruction (first guest function translated, from the spawn) and the load's own timers
(wasmcap-fast-load: validate / split+declarations, wall and CPU where the binary prints them).
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def run(argv, env):
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    t0_ns = time.time_ns()
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err.seek(0)
    text = err.read().decode(errors="replace")
    r = {"rc": os.waitstatus_to_exitcode(status), "wall_s": wall,
         "cpu_s": ru.ru_utime + ru.ru_stime, "maxrss_mb": ru.ru_maxrss / 1024.0}
    for line in text.splitlines():
        if line.startswith("wasmcap-fast-load "):
            r["load"] = json.loads(line.split(" ", 1)[1])
        elif line.startswith("wasmcap-fast-stats "):
            s = json.loads(line.split(" ", 1)[1])
            if s.get("first_func_ready_unix_ns"):
                r["first_ms"] = (s["first_func_ready_unix_ns"] - t0_ns) / 1e6
    if r["rc"] != 0:
        r["err"] = text[-500:]
    return r


def cases(a, work):
    out = {}
    gen = os.path.join(HERE, "aot", "gen_many_funcs.py")
    for name, n in (("synth21", 32000), ("synth81", 120000)):
        path = os.path.join(work, "%s.wasm" % name)
        if not os.path.exists(path):
            subprocess.run([sys.executable, gen, str(n), path, "--body", "16", "--noop-start"],
                           check=True, stdout=subprocess.DEVNULL)
        out[name] = [path]
    hello = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(a.after))), "guest",
                         "hello.wasm")
    if os.path.exists(hello):
        out["hello"] = [hello]
    py = sorted(glob.glob(os.path.expanduser("~/.cache/wasmcap/python/*/python.wasm")))
    if py:
        root = os.path.join(os.path.dirname(py[-1]), "root", "usr")
        out["python"] = ["--allow-https", "example.invalid", "--dir", root + "::/usr", py[-1],
                         "-c", "pass"]
    es = sorted(glob.glob(os.path.expanduser(
        "~/.cache/wasmcap/bench-npm/esbuild-wasi-preview1-*/package/esbuild.wasm")))
    if es:
        out["esbuild"] = [es[-1], "--version"]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--after", required=True)
    ap.add_argument("--before")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "wasmcap-fast-load"))
    ap.add_argument("--cases", default="synth21,synth81,hello,python,esbuild")
    ap.add_argument("--json")
    ap.add_argument("--one-thread", action="store_true")
    ap.add_argument("--fifo", action="store_true")
    ap.add_argument("--cold-warm", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    available = cases(a, a.work)
    fresh = lambda: {"WASMCAP_CACHE_DIR": tempfile.mkdtemp(dir=a.work, prefix="cache-")}
    warm_dir = tempfile.mkdtemp(dir=a.work, prefix="warm-")
    bins = [("before", a.before, fresh)] if a.before else []
    if a.cold_warm:
        bins.append(("after, cold", a.after, fresh))
        bins.append(("after, warm", a.after, lambda: {"WASMCAP_CACHE_DIR": warm_dir}))
    else:
        bins.append(("after", a.after, fresh))
    if a.one_thread:
        bins.append(("after, 1 thread", a.after,
                     lambda: dict(fresh(), WASMCAP_FAST_VALIDATE_THREADS="1")))
    prefix = []
    if a.fifo:
        # SCHED_FIFO for this process, inherited by every child it spawns (no `chrt` exec in
        # the measured time, which matters for hello).
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    env = dict(os.environ, WASMCAP_FAST_STATS="1")
    results = {}
    for case in a.cases.split(","):
        if case not in available:
            print("skipped %s: input not found" % case, file=sys.stderr)
            continue
        runs = 1 if case == "synth81" else a.runs
        if a.cold_warm:  # prime the warm directory (module file record + validation record)
            run([a.after, "run", "--engine", "interp", *available[case]],
                dict(env, WASMCAP_CACHE_DIR=warm_dir))
        for _ in range(runs):
            for label, binary, extra in bins:
                r = run([*prefix, binary, "run", "--engine", "interp", *available[case]],
                        dict(env, **extra()))
                if r["rc"] != 0:
                    print("%s %s: exit %d %s" % (label, case, r["rc"], r.get("err", "")),
                          file=sys.stderr)
                results.setdefault(case, {}).setdefault(label, []).append(r)
    med = lambda xs: statistics.median(xs) if xs else None
    table = []
    print("| case | binary | wall s | CPU s | peak RSS MB | first instruction ms | load: validate ms (CPU) | load: split+decls ms (CPU) |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for case, per in results.items():
        for label, rs in per.items():
            loads = [r["load"] for r in rs if "load" in r]
            row = {
                "case": case, "binary": label, "runs": len(rs),
                "wall_s": med([r["wall_s"] for r in rs]),
                "cpu_s": med([r["cpu_s"] for r in rs]),
                "maxrss_mb": max(r["maxrss_mb"] for r in rs),
                "first_ms": med([r["first_ms"] for r in rs if "first_ms" in r]),
                "validate_ms": med([l["validate_ms"] + l.get("scan_ms", 0) for l in loads]),
                "validate_cpu_ms": med([l["validate_cpu_ms"] for l in loads if "validate_cpu_ms" in l]),
                "ir_ms": med([l["ir_ms"] for l in loads]),
                "ir_cpu_ms": med([l["ir_cpu_ms"] for l in loads if "ir_cpu_ms" in l]),
            }
            table.append(row)
            f = lambda v, fmt: "-" if v is None else fmt % v
            print("| %s | %s | %s | %s | %s | %s | %s (%s) | %s (%s) |" % (
                case, label, f(row["wall_s"], "%.3f"), f(row["cpu_s"], "%.3f"),
                f(row["maxrss_mb"], "%.0f"), f(row["first_ms"], "%.0f"),
                f(row["validate_ms"], "%.0f"), f(row["validate_cpu_ms"], "%.0f"),
                f(row["ir_ms"], "%.0f"), f(row["ir_cpu_ms"], "%.0f")))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                       "loadavg": os.getloadavg(), "fifo": a.fifo, "rows": table}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
