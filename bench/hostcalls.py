#!/usr/bin/env python3
"""Host-call-heavy guests on two wasmcap builds, interleaved (docs/performance.md).

The CPU-bound set (bench/run.py) hardly calls the host; WASI-heavy guests (a shell tool writing
line by line, a program reading the clock in a loop) spend their time crossing the host-call
boundary (docs/architecture.md, "How a host call works"). Three guests, each one loop of N calls
of one WASI function, written here as .wat (wat2wasm):

  args     args_sizes_get: no system call, so the boundary itself is most of the time
  clock    clock_time_get(monotonic): a vDSO clock read per call
  write    fd_write of one byte to stdout (redirected to /dev/null): a write(2) per call

For every engine asked (fast, aot) and guest, runs `wasmcap run` of this build and of --base
(another build directory, e.g. main's) --reps times, alternating which goes first, and reports
the median CPU time (user + sys of the child) and wall time of each, and their ratio. On a
shared, noisy machine --callgrind is the steadier measure: instruction counts of one run of each
(valgrind --tool=callgrind), at --callgrind-calls calls per loop.

  python3 bench/hostcalls.py --base OTHER_BUILD [--build-dir build] [--engines fast,aot]
                             [--reps 7] [--calls 2000000] [--callgrind] [--callgrind-calls 200000]
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
ROOT = os.path.dirname(HERE)

WASI = "wasi_snapshot_preview1"

# name -> (import declaration, one call with its result dropped, data segments)
GUESTS = {
    "args": (f'(import "{WASI}" "args_sizes_get" (func $f (param i32 i32) (result i32)))',
             "(drop (call $f (i32.const 0) (i32.const 4)))", ""),
    "clock": (f'(import "{WASI}" "clock_time_get" (func $f (param i32 i64 i32) (result i32)))',
              "(drop (call $f (i32.const 1) (i64.const 1) (i32.const 0)))", ""),
    # iovec {buf = 16, len = 1} at 0; the byte at 16.
    "write": (f'(import "{WASI}" "fd_write" (func $f (param i32 i32 i32 i32) (result i32)))',
              "(drop (call $f (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))",
              '(data (i32.const 0) "\\10\\00\\00\\00\\01\\00\\00\\00") (data (i32.const 16) "x")'),
}


def wat(name, calls):
    imp, call, data = GUESTS[name]
    return f"""(module {imp}
  (memory (export "memory") 1) {data}
  (func (export "_start") (local $i i32)
    (local.set $i (i32.const {calls}))
    (loop $l {call}
      (br_if $l (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))))
"""


def build_guests(tmp, calls):
    wat2wasm = shutil.which("wat2wasm")
    if not wat2wasm:
        sys.exit("wat2wasm (wabt) not found")
    out = {}
    for name in GUESTS:
        src = os.path.join(tmp, f"{name}-{calls}.wat")
        dst = os.path.join(tmp, f"{name}-{calls}.wasm")
        with open(src, "w") as f:
            f.write(wat(name, calls))
        subprocess.run([wat2wasm, src, "-o", dst], check=True)
        out[name] = dst
    return out


def command(cli, engine, module):
    return [cli, "run", "--timeout-ms", "0", "--engine", engine, "--max-output-bytes", str(1 << 40), module]


def run_once(cli, engine, module, env):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with open(os.devnull, "wb") as null:
        r = subprocess.run(command(cli, engine, module), stdout=null, stderr=subprocess.PIPE,
                           env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit(f"{cli} {engine} {module}: exit {r.returncode}: {r.stderr.decode()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def callgrind(cli, engine, module, env, tmp):
    out = os.path.join(tmp, "callgrind.out")
    with open(os.devnull, "wb") as null:
        r = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"] +
                           command(cli, engine, module), stdout=null, stderr=subprocess.PIPE,
                           env=env)
    if r.returncode != 0:
        return None
    with open(out) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                return int(line.split()[1])
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--base", required=True, help="the other build directory")
    ap.add_argument("--engines", default="fast,aot")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--calls", type=int, default=2_000_000)
    ap.add_argument("--callgrind", action="store_true")
    ap.add_argument("--callgrind-calls", type=int, default=200_000)
    args = ap.parse_args()

    builds = {"new": os.path.join(os.path.abspath(args.build_dir), "bin", "wasmcap"),
              "base": os.path.join(os.path.abspath(args.base), "bin", "wasmcap")}
    tmp = tempfile.mkdtemp(prefix="wasmcap-hostcalls-")
    try:
        envs = {}
        for b in builds:  # one AOT cache per build: each runs the objects it compiled
            env = dict(os.environ)
            env["WASMCAP_CACHE_DIR"] = os.path.join(tmp, "cache-" + b)
            envs[b] = env
        guests = build_guests(tmp, args.calls)
        engines = args.engines.split(",")
        print(f"{args.calls} calls per run, {args.reps} reps interleaved; medians; "
              f"ratio = new / base")
        print(f"{'engine':6} {'guest':6} {'cpu new':>9} {'cpu base':>9} {'ratio':>6}"
              f" {'wall new':>9} {'wall base':>9} {'ratio':>6} {'ns/call new':>11}")
        for engine in engines:
            for name, module in guests.items():
                for b in builds:  # warm-up: AOT compile, page cache
                    run_once(builds[b], engine, module, envs[b])
                cpu = {b: [] for b in builds}
                wall = {b: [] for b in builds}
                for rep in range(args.reps):
                    order = list(builds) if rep % 2 == 0 else list(reversed(list(builds)))
                    for b in order:
                        c, w = run_once(builds[b], engine, module, envs[b])
                        cpu[b].append(c)
                        wall[b].append(w)
                mc = {b: statistics.median(cpu[b]) for b in builds}
                mw = {b: statistics.median(wall[b]) for b in builds}
                print(f"{engine:6} {name:6} {mc['new']:9.3f} {mc['base']:9.3f} "
                      f"{mc['new'] / mc['base']:6.3f} {mw['new']:9.3f} {mw['base']:9.3f} "
                      f"{mw['new'] / mw['base']:6.3f} {mc['new'] / args.calls * 1e9:11.1f}")
        if args.callgrind:
            if not shutil.which("valgrind"):
                sys.exit("valgrind not found")
            small = build_guests(tmp, args.callgrind_calls)
            print(f"\ncallgrind instruction counts, {args.callgrind_calls} calls per run")
            print(f"{'engine':6} {'guest':6} {'Ir new':>14} {'Ir base':>14} {'ratio':>6} "
                  f"{'Ir/call diff':>12}")
            for engine in engines:
                for name, module in small.items():
                    for b in builds:
                        run_once(builds[b], engine, module, envs[b])
                    ir = {b: callgrind(builds[b], engine, module, envs[b], tmp) for b in builds}
                    if None in ir.values():
                        print(f"{engine:6} {name:6} n/a (valgrind could not run it)")
                        continue
                    print(f"{engine:6} {name:6} {ir['new']:14d} {ir['base']:14d} "
                          f"{ir['new'] / ir['base']:6.3f} "
                          f"{(ir['new'] - ir['base']) / args.callgrind_calls:12.1f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
