#!/usr/bin/env python3
"""wasmcap benchmark runner (docs/performance.md). Python 3 standard library only.

In one run, for every program in bench/programs/: the native build (gcc -O2), wasmcap's AOT
engine (after a warm-up run that fills its cache), wasmcap's interpreter (at a reduced scale,
with its own native baseline at that scale) and node's V8 through node:wasi. Each measurement
is the median of --reps runs, interleaved (rep 1 of every runtime, then rep 2, ...) so that
load drift on a shared machine hits every runtime alike. Prints a table of seconds and
ratio-to-native with the geometric mean per runtime, writes the same as JSON, and checks that
every runtime printed exactly the native checksum line. Then cold-start figures: wall time of
`hello` per engine (interp; AOT cached and uncached; node; a native hello as the floor).

An engine that is not available (e.g. no AOT engine in this build) is reported as "n/a" with
the reason; it is not an error. A checksum mismatch or a failing run is: the exit status is 1.

  python3 bench/run.py [--build-dir build] [--reps 5] [--quick] [--programs fib,sieve]
                       [--runtimes native,aot,interp,node] [--out results.json]
                       [--fast-baseline OTHER_BUILD_DIR]

--fast-baseline adds a runtime "fast@base": the fast engine of another build (e.g. main's, to
check that a change does not slow it down), run interleaved with "fast" at the same scale; the
report gives its ratio to native and the geomean of fast / fast@base.

--aot-shifts 16,32,48 also runs the AOT engine (and aot@base) on objects whose code is moved by
that many bytes (runtimes "aot+16", ...): a compiler wrapper puts `.skip N` in front of the
generated module's code, nothing else changes. On some CPUs the same machine code runs up to 1.5x
slower at another offset (bench/notes/2026-11-23-aot-code-placement.md, "code placement"), so a comparison of two AOT
builds is only meaningful over several placements; the report gives every placement's ratio and
the geomean of aot / aot@base over all (program, placement) pairs.

Peers, optional: wasm3 ("wasm3"), WAMR's interpreter ("wamr": iwasm, fast-interp or classic as
it was built) and WAMR AOT ("wamr-aot": wamrc, then iwasm on the .aot file), each found on PATH
or through $WASMCAP_BENCH_WASM3 / $WASMCAP_BENCH_IWASM / $WASMCAP_BENCH_WAMRC (a path). The
project never downloads or builds them; a peer that is not there is "n/a", not an error. The
interpreters run at the fast engine's scale against the same native baseline; WAMR AOT at full
scale, its wamrc compile time reported per program (`wamrc_compile_s`).
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# name -> (full scale, interpreter scale). Full scales give ~0.6-1 s of native CPU time on
# the reference machine (docs/performance.md), long enough that process start-up (node's is
# ~0.1 s of CPU) is a small part; interpreter scales are 1/100 of that, so the interpreter
# (~100-300x native) runs ~1-3 s. Ratios are always taken at equal scale.
PROGRAMS = {
    "bytecode": (1200, 12),
    "fib": (20000, 200),
    "json": (2000, 20),
    "lz": (2000, 20),
    "matmul": (8000, 80),
    "nbody": (3000, 30),
    "sha256": (8000, 80),
    "sieve": (6000, 60),
    "sort": (1200, 12),
    "strsearch": (1600, 16),
}
SHIFT_MARK = "wasmcap_bench_shift_end"  # the label after the .skip of a shifted compile
QUICK_DIVISOR = 100  # --quick: full scales / 100, interpreter scale 1, one repetition

RUNTIMES = ["native", "aot", "interp", "fast", "node", "wasm3", "wamr", "wamr-aot"]
# Peers (never downloaded): runtime -> [(env var, program on PATH)] it needs.
PEERS = {
    "wasm3": [("WASMCAP_BENCH_WASM3", "wasm3")],
    "wamr": [("WASMCAP_BENCH_IWASM", "iwasm")],
    "wamr-aot": [("WASMCAP_BENCH_IWASM", "iwasm"), ("WASMCAP_BENCH_WAMRC", "wamrc")],
}
# Interpreter peers run at the fast engine's scale, against native at that scale.
FAST_SCALE_PEERS = ("wasm3", "wamr")
# The interpreter runs at reduced scales, against a native baseline at the same scale: as runtime
# "interp" at the interpreter scale, and as runtime "fast" at FAST_FACTOR times that (at the
# interpreter scale its process start-up would be a large part of the time). Both are
# `--engine interp`, the one interpreter (wabt's, which "interp" once named, left the product in
# issue #29); the two names stay so that results compare with older ones.
INTERPRETERS = ("interp", "fast")
FAST_FACTOR = 10
NODE_FLAGS = ["--no-incremental-marking", "--disable-warning=ExperimentalWarning"]


class Runner:
    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build_dir)
        self.cli = os.path.join(self.build, "bin", "wasmcap")
        self.base_cli = (os.path.join(os.path.abspath(args.fast_baseline), "bin", "wasmcap")
                         if args.fast_baseline else None)
        # --aot-baseline: the aot engine of another build, with a private cache of its own.
        self.aot_base_cli = (os.path.join(os.path.abspath(args.aot_baseline), "bin", "wasmcap")
                             if args.aot_baseline else None)
        self.node = shutil.which("node")
        self.peer_tools = {}  # program name -> path, for the peers found (probe())
        self.node_script = os.path.join(HERE, "node_wasi.mjs")
        self.tmp = tempfile.mkdtemp(prefix="wasmcap-bench-")
        # The AOT cache used by this run: private, so "cached" means cached by this run's
        # warm-up, not by whatever was in the user's cache.
        self.aot_cache = os.path.join(self.tmp, "aot-cache")
        os.makedirs(self.aot_cache)
        self.aot_cache_flag = None  # set by probe_aot() when `run --help` shows one
        self.aot_base_cache = os.path.join(self.tmp, "aot-cache-base")
        os.makedirs(self.aot_base_cache)
        self.shift_cc = {}  # shift -> compiler wrapper (--aot-shifts)
        self.failures = []

    # --- running one command ---------------------------------------------------------------
    def run(self, argv, env=None, timeout=None):
        """Runs argv; returns dict(wall, cpu, rc, out, err). cpu = user+sys of the child (and
        its threads), from RUSAGE_CHILDREN deltas: this runner waits for one child at a time."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        try:
            p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=env, timeout=timeout or self.args.timeout)
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err = "timeout", e.stdout or b"", (e.stderr or b"") + b" (timed out)"
        except OSError as e:
            rc, out, err = "oserror", b"", str(e).encode()
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return {"wall": wall, "cpu": cpu, "rc": rc,
                "out": out.decode("utf-8", "replace"), "err": err.decode("utf-8", "replace")}

    def aot_env(self, cache_dir):
        env = dict(os.environ)
        env["XDG_CACHE_HOME"] = cache_dir
        env["WASMCAP_CACHE_DIR"] = cache_dir  # the AOT tier's documented override
        return env

    def shifted_cc(self, shift):
        """A C compiler wrapper that moves the generated module's code by `shift` bytes: it
        prepends a top-level `.skip` to module.c (emitted before every function of the file),
        followed by the local label SHIFT_MARK (check_shift finds the first function after it),
        and runs the real compiler ($WASMCAP_CC, else cc). Its path differs per shift, and the
        compiler's path is part of the AOT cache key, so each placement has objects of its own."""
        if shift not in self.shift_cc:
            real = shutil.which(os.environ.get("WASMCAP_CC") or "cc") or "cc"
            path = os.path.join(self.tmp, f"cc-shift{shift}")
            with open(path, "w") as f:
                f.write(f"""#!{sys.executable}
import os, sys
for a in sys.argv[1:]:
    if os.path.basename(a) == "module.c":
        with open(a) as src:
            text = src.read()
        with open(a, "w") as dst:
            dst.write('__asm__(".text\\\\n.skip {shift}, 0x90\\\\n{SHIFT_MARK}:\\\\n");\\n' + text)
os.execv({real!r}, [{real!r}] + sys.argv[1:])
""")
            os.chmod(path, 0o700)
            self.shift_cc[shift] = path
        return self.shift_cc[shift]

    def text_symbols(self, cache_dir):
        """{name: address} of the text symbols of the newest shared object of an AOT cache
        directory (the one the last warm-up compiled), or None when it has none."""
        objs = [os.path.join(cache_dir, f) for f in os.listdir(cache_dir) if f.endswith(".so")]
        if not objs:
            return None
        r = self.run(["nm", max(objs, key=os.path.getmtime)], timeout=60)
        syms = {}
        for line in r["out"].splitlines():
            f = line.split()
            if len(f) == 3 and f[1] in "tT":
                syms[f[2]] = int(f[0], 16)
        return syms

    def check_shift(self, program, label):
        """The object of placement `label` (aot+N) must have its module code N bytes (rounded up
        to the 16-byte function alignment) after the unshifted object's: else the comparison
        would not be one of placements. Measured on the first function after the `.skip`: code
        after a loop head may move by another amount, since loop heads are aligned to 32 bytes
        (docs/aot.md, kLoopAlignFlag) and absorb part of the shift in their padding."""
        if not shutil.which("nm"):
            return  # binutils missing: no check (the measurement itself still runs)
        base_rt, shift = label.split("+")
        caches = {"aot": self.aot_cache, "aot@base": self.aot_base_cache}
        a = self.text_symbols(caches[base_rt])
        b = self.text_symbols(os.path.join(self.tmp, f"aot-cache-{label}"))
        want = (int(shift) + 15) // 16 * 16
        moved, first = "?", "?"
        if a is not None and b is not None and SHIFT_MARK in b:
            after = sorted((addr, name) for name, addr in b.items()
                           if addr >= b[SHIFT_MARK] and name != SHIFT_MARK)
            if after and after[0][1] in a:
                first = after[0][1]
                moved = after[0][0] - a[first]
        if moved != want:
            self.fail(f"{program} on {label}: the module's code ({first}) moved by {moved} bytes, "
                      f"not {want} (no placement comparison)")

    def command(self, runtime, program, scale, cache_dir=None):
        """(argv, env) running `program` (a name, or a .wasm / native path for hello)."""
        if "+" in runtime:  # aot+16, aot@base+16: a shifted placement (--aot-shifts)
            base_rt, shift = runtime.split("+")
            argv, env = self.command(base_rt, program, scale,
                                     os.path.join(self.tmp, f"aot-cache-{runtime}"))
            os.makedirs(os.path.join(self.tmp, f"aot-cache-{runtime}"), mode=0o700,
                        exist_ok=True)
            env["WASMCAP_CC"] = self.shifted_cc(int(shift))
            return argv, env
        wasm = program if program.endswith(".wasm") else os.path.join(
            self.build, "bench", "wasm", program + ".wasm")
        args = [] if scale is None else [str(scale)]
        if runtime == "native":
            exe = program if os.path.isabs(program) else os.path.join(
                self.build, "bench", "native", program)
            return [exe] + args, None
        if runtime in INTERPRETERS:
            return [self.cli, "run", "--timeout-ms", "0", "--engine", "interp", wasm] + args, None
        if runtime == "aot@base":
            cache = cache_dir or self.aot_base_cache
            flag = [self.aot_cache_flag, cache] if self.aot_cache_flag else []
            return ([self.aot_base_cli, "run", "--timeout-ms", "0", "--engine", "aot"] + flag + [wasm] + args,
                    self.aot_env(cache))
        if runtime == "fast@base":
            return [self.base_cli, "run", "--timeout-ms", "0", "--engine", "interp", wasm] + args, None
        if runtime == "aot":
            cache = cache_dir or self.aot_cache
            flag = [self.aot_cache_flag, cache] if self.aot_cache_flag else []
            return ([self.cli, "run", "--timeout-ms", "0", "--engine", "aot"] + flag + [wasm] + args,
                    self.aot_env(cache))
        if runtime == "node":
            return [self.node] + NODE_FLAGS + [self.node_script, wasm] + args, None
        if runtime == "wasm3":
            return [self.peer_tools["wasm3"], wasm] + args, None
        if runtime == "wamr":
            return [self.peer_tools["iwasm"], wasm] + args, None
        if runtime == "wamr-aot":
            return [self.peer_tools["iwasm"], self.wamr_aot_file(wasm)] + args, None
        raise ValueError(runtime)

    def wamr_aot_file(self, wasm):
        name = os.path.basename(wasm)[:-len(".wasm")]
        return os.path.join(self.tmp, "wamr-aot", name + ".aot")

    def wamrc_compile(self, wasm):
        """Compiles wasm with wamrc (once per module); returns the run dict (wall/cpu/rc)."""
        out = self.wamr_aot_file(wasm)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        r = self.run([self.peer_tools["wamrc"], "-o", out, wasm], timeout=3600)
        if r["rc"] == 0 and not os.path.exists(out):
            r["rc"], r["err"] = "no output", f"wamrc wrote no {out}"
        return r

    def find_peer_tool(self, env_var, program):
        """A peer's executable: $env_var when set (it must be executable), else PATH."""
        given = os.environ.get(env_var)
        if given:
            return (given, None) if os.access(given, os.X_OK) else (
                None, f"${env_var}={given} is not an executable file")
        found = shutil.which(program)
        return (found, None) if found else (
            None, f"{program} not found on PATH (or set ${env_var}); peers are never downloaded")

    # --- availability ------------------------------------------------------------------------
    def probe(self):
        """runtime -> None (available) or the reason it is not."""
        hello = os.path.join(self.build, "guest", "hello.wasm")
        reasons = {"native": None}
        if not os.access(self.cli, os.X_OK):
            reasons["interp"] = reasons["fast"] = reasons["aot"] = f"{self.cli} not built"
        else:
            for engine in ("interp", "fast", "aot"):
                if engine == "aot":
                    self.find_aot_cache_flag()
                argv, env = self.command(engine, hello, None)
                r = self.run(argv, env=env, timeout=600)
                if r["rc"] == 0 and r["out"].startswith("hello from wasm"):
                    reasons[engine] = None
                else:
                    first = (r["err"].strip() or r["out"].strip() or f"exit {r['rc']}")
                    reasons[engine] = (f"`{' '.join(argv[1:6])}` failed: "
                                       + first.splitlines()[0])
        if not self.node:
            reasons["node"] = "node not found on PATH"
        else:
            argv, _ = self.command("node", hello, None)
            r = self.run(argv, timeout=120)
            if r["rc"] == 0 and r["out"].startswith("hello from wasm"):
                reasons["node"] = None
            else:
                first = (r["err"].strip() or f"exit {r['rc']}").splitlines()[0]
                reasons["node"] = f"node:wasi failed: {first}"
        for rt, tools in PEERS.items():
            reasons[rt] = None
            for env_var, program in tools:
                path, why = self.find_peer_tool(env_var, program)
                if why:
                    reasons[rt] = why
                    break
                self.peer_tools[program] = path
            if reasons[rt]:
                continue
            if rt == "wamr-aot":
                r = self.wamrc_compile(hello)
                if r["rc"] != 0:
                    first = (r["err"].strip() or f"exit {r['rc']}").splitlines()[0]
                    reasons[rt] = f"wamrc failed on hello.wasm: {first}"
                    continue
            argv, _ = self.command(rt, hello, None)
            r = self.run(argv, timeout=120)
            if not (r["rc"] == 0 and r["out"].startswith("hello from wasm")):
                first = (r["err"].strip() or r["out"].strip() or f"exit {r['rc']}").splitlines()[0]
                reasons[rt] = f"{argv[0]} failed on hello.wasm: {first}"
        return reasons

    def find_aot_cache_flag(self):
        """The AOT tier keeps its cache in --cache-dir, else $WASMCAP_CACHE_DIR, else under
        $XDG_CACHE_HOME (this runner sets both variables); if `wasmcap run --help` lists a
        cache-dir option, it is passed as well so the cache is ours either way."""
        r = self.run([self.cli, "run", "--help"], timeout=60)
        m = re.search(r"(--(?:aot-)?cache-dir)\b", r["out"] + r["err"])
        self.aot_cache_flag = m.group(1) if m else None

    # --- measurements ------------------------------------------------------------------------
    def expected_line(self, program, scale):
        return f"{program} scale={scale} checksum="

    def measure_programs(self, programs, runtimes, reasons):
        reps = self.args.reps
        results = []
        for name in programs:
            full, small = PROGRAMS[name]
            fast_scale = small * FAST_FACTOR
            if self.args.quick:
                full, small = max(1, full // QUICK_DIVISOR), 1
                fast_scale = 1
            # (label, runtime, scale): the interpreter has its own native baseline at its scale.
            plan = []
            for rt in runtimes:
                if reasons.get(rt):
                    continue
                if rt == "fast" or rt in FAST_SCALE_PEERS:
                    if not any(label == "native@fast" for label, _, _ in plan):
                        plan.append(("native@fast", "native", fast_scale))
                    plan.append((rt, rt, fast_scale))
                    if rt != "fast":
                        continue
                    if self.base_cli:
                        plan.append(("fast@base", "fast@base", fast_scale))
                elif rt == "interp":
                    plan.append(("native@interp", "native", small))
                    plan.append(("interp", "interp", small))
                else:
                    plan.append((rt, rt, full))
                    if rt == "aot" and self.aot_base_cli:
                        plan.append(("aot@base", "aot@base", full))
                    if rt == "aot":
                        for s in self.args.aot_shifts:
                            plan.append((f"aot+{s}", f"aot+{s}", full))
                            if self.aot_base_cli:
                                plan.append((f"aot@base+{s}", f"aot@base+{s}", full))
            # Reference checksums from the native build, and the AOT warm-up (fills the cache).
            ref = {}
            for scale in {full, small, fast_scale}:
                r = self.run(self.command("native", name, scale)[0])
                if r["rc"] != 0:
                    self.fail(f"{name}: native run at scale {scale} failed: {r['err'].strip()}")
                ref[scale] = r["out"]
            warm = None
            wamrc = None
            if any(rt == "wamr-aot" for _, rt, _ in plan):
                wasm = os.path.join(self.build, "bench", "wasm", name + ".wasm")
                wamrc = self.wamrc_compile(wasm)
                if wamrc["rc"] != 0:
                    self.fail(f"{name}: wamrc failed: {wamrc['err'].strip()}")
            for aot_rt in ["aot", "aot@base"] + [rt for _, rt, _ in plan if "+" in rt]:
                if any(rt == aot_rt for _, rt, _ in plan):
                    argv, env = self.command(aot_rt, name, 1)
                    w = self.run(argv, env=env)
                    if aot_rt == "aot":
                        warm = w["wall"]
                    if w["rc"] != 0:
                        self.fail(f"{name}: {aot_rt} warm-up failed: {w['err'].strip()}")
                    elif "+" in aot_rt:
                        self.check_shift(name, aot_rt)
            samples = {label: [] for label, _, _ in plan}
            status = {label: "ok" for label, _, _ in plan}
            for rep in range(reps):
                for label, rt, scale in plan:
                    if status[label] != "ok":
                        continue
                    argv, env = self.command(rt, name, scale)
                    r = self.run(argv, env=env)
                    if r["rc"] != 0:
                        status[label] = f"failed (exit {r['rc']}): " + (
                            r["err"].strip().splitlines() or [""])[0]
                        self.fail(f"{name} on {label}: {status[label]}")
                    elif r["out"] != ref[scale] or not r["out"].startswith(
                            self.expected_line(name, scale)):
                        status[label] = (f"checksum mismatch: got {r['out'].strip()!r}, "
                                         f"native printed {ref[scale].strip()!r}")
                        self.fail(f"{name} on {label}: {status[label]}")
                    else:
                        samples[label].append((r["wall"], r["cpu"]))
                self.progress(f"{name}: rep {rep + 1}/{reps}")
            row = {"program": name, "scale": full, "interp_scale": small, "fast_scale": fast_scale,
                   "checksum": ref[full].strip(), "aot_warmup_wall_s": warm, "runtimes": {}}
            if wamrc is not None and wamrc["rc"] == 0:
                row["wamrc_compile_s"] = {"wall": wamrc["wall"], "cpu": wamrc["cpu"]}
            for label, rt, scale in plan:
                s = samples[label]
                entry = {"scale": scale, "status": status[label], "runs": len(s)}
                if status[label] == "ok" and s:
                    entry["wall_s"] = statistics.median(w for w, _ in s)
                    entry["cpu_s"] = statistics.median(c for _, c in s)
                    entry["wall_samples_s"] = [round(w, 6) for w, _ in s]
                row["runtimes"][label] = entry
            for label, base in (("aot", "native"), ("aot@base", "native"), ("node", "native"),
                                ("interp", "native@interp"), ("fast", "native@fast"),
                                ("fast@base", "native@fast"), ("wasm3", "native@fast"),
                                ("wamr", "native@fast"), ("wamr-aot", "native")) + tuple(
                                    (lbl, "native") for lbl, _, _ in plan if "+" in lbl):
                e, b = row["runtimes"].get(label), row["runtimes"].get(base)
                if e and b and "wall_s" in e and "wall_s" in b:
                    e["ratio_wall"] = e["wall_s"] / b["wall_s"]
                    e["ratio_cpu"] = e["cpu_s"] / b["cpu_s"] if b["cpu_s"] > 0 else None
            results.append(row)
        return results

    def measure_cold(self, runtimes, reasons):
        """Wall time of `hello` per engine (median of --cold-reps)."""
        hello_wasm = os.path.join(self.build, "guest", "hello.wasm")
        hello_native = os.path.join(self.build, "bench", "native", "hello")
        n = self.args.cold_reps
        rows = []

        def series(label, make):
            walls, err = [], None
            for _ in range(n):
                argv, env = make()
                r = self.run(argv, env=env)
                if r["rc"] != 0 or not r["out"].startswith("hello from wasm"):
                    err = (r["err"].strip() or f"exit {r['rc']}").splitlines()[0]
                    self.fail(f"cold start {label}: {err}")
                    break
                walls.append(r["wall"])
            row = {"what": label, "runs": len(walls)}
            if err:
                row["status"] = f"failed: {err}"
            else:
                row["status"] = "ok"
                row["wall_s"] = statistics.median(walls)
                row["wall_samples_s"] = [round(w, 6) for w in walls]
            rows.append(row)

        def na(label, reason):
            rows.append({"what": label, "status": "n/a", "reason": reason})

        if "native" in runtimes:
            if os.access(hello_native, os.X_OK):
                series("native hello (process floor)", lambda: ([hello_native], None))
            else:
                na("native hello (process floor)", f"{hello_native} not built")
        if "interp" in runtimes:
            if reasons.get("interp"):
                na("wasmcap interp", reasons["interp"])
            else:
                series("wasmcap interp", lambda: self.command("interp", hello_wasm, None))
        if "fast" in runtimes:
            if reasons.get("fast"):
                na("wasmcap fast", reasons["fast"])
            else:
                series("wasmcap fast", lambda: self.command("fast", hello_wasm, None))
        if "aot" in runtimes:
            if reasons.get("aot"):
                na("wasmcap aot, cached", reasons["aot"])
                na("wasmcap aot, uncached", reasons["aot"])
            else:
                # probe() ran hello once with our cache: it is hot.
                series("wasmcap aot, cached", lambda: self.command("aot", hello_wasm, None))
                # Uncached: a fresh, empty cache dir per run. Check the engine really used it
                # (it must hold something afterwards), else the figure would be a cached one.
                probe_dir = tempfile.mkdtemp(dir=self.tmp, prefix="cold-")
                argv, env = self.command("aot", hello_wasm, None, cache_dir=probe_dir)
                self.run(argv, env=env)
                if not any(os.scandir(probe_dir)):
                    na("wasmcap aot, uncached",
                       "the AOT engine wrote nothing to the XDG_CACHE_HOME / cache-dir given "
                       "to it, so its cache could not be pointed at an empty dir")
                else:
                    series("wasmcap aot, uncached", lambda: self.command(
                        "aot", hello_wasm, None,
                        cache_dir=tempfile.mkdtemp(dir=self.tmp, prefix="cold-")))
        for rt, label in (("wasm3", "wasm3"), ("wamr", "WAMR iwasm (interpreter)"),
                          ("wamr-aot", "WAMR iwasm, .aot from wamrc")):
            if rt in runtimes:
                if reasons.get(rt):
                    na(label, reasons[rt])
                else:
                    # probe() compiled hello for wamr-aot already.
                    series(label, lambda rt=rt: self.command(rt, hello_wasm, None))
        if "node" in runtimes:
            if reasons.get("node"):
                na("node (V8) node:wasi", reasons["node"])
            else:
                series("node (V8) node:wasi", lambda: self.command("node", hello_wasm, None))
        return rows

    # --- reporting -----------------------------------------------------------------------
    def fail(self, msg):
        self.failures.append(msg)
        print(f"FAIL: {msg}", file=sys.stderr)

    def progress(self, msg):
        if not self.args.quiet:
            print(f"  .. {msg}", file=sys.stderr, flush=True)


def geomean(values):
    values = [v for v in values if v and v > 0]
    if not values:
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))


def fmt_s(v):
    return "-" if v is None else f"{v:.4f}"


def fmt_x(v):
    if v is None:
        return "-"
    return f"{v:.0f}x" if v >= 20 else f"{v:.2f}x"


def render(report):
    metrics = [report["metric"]] + [m for m in ("wall", "cpu") if m != report["metric"]]
    parts = [render_table(report, m) for m in metrics]
    return "\n\n".join(parts) + "\n\n" + render_rest(report)


def render_table(report, metric):
    key, rkey = f"{metric}_s", f"ratio_{metric}"
    lines = []
    rts = report["runtimes"]
    cols = [("native", "native"), ("aot", "wasmcap aot"), ("aot@base", "aot@base"),
            ("node", "node (V8)"), ("wamr-aot", "WAMR AOT")]
    cols = [c for c in cols if c[0] in rts]
    head = f"{'program':<10} {'scale':>6}"
    for rt, title in cols:
        head += f" | {title:>20}"
    interps = [rt for rt in INTERPRETERS + ("fast@base",) + FAST_SCALE_PEERS if rt in rts]
    if interps:
        head += f" || {'interp scale':>12} {'native':>8}"
        for rt in interps:
            head += f" {(rt if rt in FAST_SCALE_PEERS else 'wasmcap ' + rt):>18}"
    what = ("wall-clock time" if metric == "wall"
            else "CPU time (user+sys of the process, all threads)")
    lines.append(f"Seconds of {what}, median of {report['reps']}, and ratio to native")
    lines.append(head)
    lines.append("-" * len(head))
    for row in report["programs"]:
        line = f"{row['program']:<10} {row['scale']:>6}"
        for rt, _ in cols:
            e = row["runtimes"].get(rt)
            if rt in report["unavailable"]:
                cell = "n/a"
            elif not e or key not in e:
                cell = e["status"].split(":")[0] if e else "-"
            elif rt == "native":
                cell = fmt_s(e[key])
            else:
                cell = f"{fmt_s(e[key])} ({fmt_x(e.get(rkey))})"
            line += f" | {cell:>20}"
        if interps:
            b = row["runtimes"].get("native@interp")
            line += (f" || {row['interp_scale']:>12} "
                     f"{fmt_s(b.get(key) if b else None):>8}")
            for rt in interps:
                e = row["runtimes"].get(rt)
                if rt in report["unavailable"]:
                    cell = "n/a"
                else:
                    cell = (f"{fmt_s(e[key])} ({fmt_x(e.get(rkey))})" if e and key in e
                            else (e["status"].split(":")[0] if e else "-"))
                line += f" {cell:>18}"
        lines.append(line)
    g = report["geomean"][metric]
    line = f"{'geomean':<10} {'':>6}"
    for rt, _ in cols:
        cell = "1.00x" if rt == "native" else (
            "n/a" if rt in report["unavailable"] else fmt_x(g.get(rt)))
        line += f" | {cell:>20}"
    if interps:
        line += f" || {'':>12} {'':>8}"
        for rt in interps:
            cell = "n/a" if rt in report["unavailable"] else fmt_x(g.get(rt))
            line += f" {cell:>18}"
    lines.append(line)
    return "\n".join(lines)


def render_rest(report):
    lines = []
    if any(rt in report["runtimes"] for rt in INTERPRETERS):
        lines.append("The interpreter (--engine interp) runs at reduced scales: as 'interp' at "
                     f"'interp scale', as 'fast' at {FAST_FACTOR}x that; each ratio is against the "
                     "native build at the same scale (the 'native' column is native at 'interp "
                     "scale').")
    for rt, why in report["unavailable"].items():
        lines.append(f"n/a {rt}: {why}")
    shifts = report.get("aot_shifts") or []
    for engine in ("aot", "aot@base") if shifts else ():
        if engine not in report["runtimes"]:
            continue
        labels = [engine] + [f"{engine}+{x}" for x in shifts]
        lines.append("")
        lines.append(f"{engine}: CPU time ratio to native by code placement (bytes moved: "
                     f"0, {', '.join(map(str, shifts))}), and max/min over placements")
        for row in report["programs"] + [None]:
            if row is None:
                vals = [report["geomean"]["cpu"].get(lbl) for lbl in labels]
                name = "geomean"
            else:
                vals = [row["runtimes"].get(lbl, {}).get("ratio_cpu") for lbl in labels]
                name = row["program"]
            spread = (f"{max(vals) / min(vals):.2f}" if all(v for v in vals) else "-")
            lines.append(f"  {name:<10} " + " ".join(f"{fmt_x(v):>7}" for v in vals)
                         + f"   spread {spread}")
    for metric in ("cpu", "wall"):
        r = report["geomean"][metric].get("aot/aot@base, all placements")
        if r:
            lines.append(f"aot / aot@base over all (program, placement) pairs, {metric} time: "
                         f"{r:.3f}")
        r = report["geomean"][metric].get("aot/aot@base")
        if r:
            lines.append(f"aot / aot@base ({report.get('aot_baseline')}), geomean of the "
                         f"per-program {metric} time ratios: {r:.3f}")
        r = report["geomean"][metric].get("fast/fast@base")
        if r:
            lines.append(f"fast / fast@base ({report.get('fast_baseline')}), geomean of the "
                         f"per-program {metric} time ratios: {r:.3f}")
    if report["cold_start"]:
        lines.append("")
        lines.append(f"Cold start: `hello` wall time, median of {report['cold_reps']}")
    for c in report["cold_start"]:
        if c["status"] == "ok":
            lines.append(f"  {c['what']:<32} {c['wall_s'] * 1000:9.2f} ms")
        elif c["status"] == "n/a":
            lines.append(f"  {c['what']:<32} {'n/a':>9}    ({c['reason']})")
        else:
            lines.append(f"  {c['what']:<32} {c['status']}")
    if report["failures"]:
        lines.append("")
        lines.append("FAILURES:")
        lines.extend(f"  {f}" for f in report["failures"])
    else:
        lines.append("")
        lines.append("Every runtime printed the native checksum line for every program.")
    return "\n".join(lines)


def render_markdown(report):
    """The report as Markdown tables (for docs/performance.md): --markdown RESULT.json."""
    lines = []
    unavailable = report["unavailable"]
    for metric in ("wall", "cpu"):
        key, rkey = f"{metric}_s", f"ratio_{metric}"
        title = "Wall-clock" if metric == "wall" else "CPU (user+sys)"
        lines.append(f"**{title} seconds, median of {report['reps']}; ratio to native**\n")
        lines.append("| program | scale | native | wasmcap aot | node (V8) | interp scale "
                     "| native @ interp scale | wasmcap interp | fast scale "
                     "| native @ fast scale | wasmcap fast |")
        lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
                     "| ---: |")

        def cell(row, label):
            if label in unavailable:
                return "n/a"
            e = row["runtimes"].get(label)
            if not e:
                return "-"
            if key not in e:
                return e["status"].split(":")[0]
            if label.startswith("native"):
                return fmt_s(e[key])
            return f"{fmt_s(e[key])} ({fmt_x(e.get(rkey))})"

        for row in report["programs"]:
            lines.append(f"| {row['program']} | {row['scale']} | {cell(row, 'native')} | "
                         f"{cell(row, 'aot')} | {cell(row, 'node')} | {row['interp_scale']} | "
                         f"{cell(row, 'native@interp')} | {cell(row, 'interp')} | "
                         f"{row.get('fast_scale', '-')} | {cell(row, 'native@fast')} | "
                         f"{cell(row, 'fast')} |")
        g = report["geomean"][metric]

        def gm(rt):
            return "n/a" if rt in unavailable else f"**{fmt_x(g.get(rt))}**"
        lines.append(f"| **geomean** | | 1.00x | {gm('aot')} | {gm('node')} | | | "
                     f"{gm('interp')} | | | {gm('fast')} |")
        lines.append("")
    if report["cold_start"]:
        lines.append(f"**Cold start: `hello` wall time, median of {report['cold_reps']}**\n")
        lines.append("| what | ms |")
        lines.append("| --- | ---: |")
        for c in report["cold_start"]:
            v = (f"{c['wall_s'] * 1000:.2f}" if c["status"] == "ok"
                 else "n/a" if c["status"] == "n/a" else c["status"])
            lines.append(f"| {c['what']} | {v} |")
        lines.append("")
    for rt, why in unavailable.items():
        lines.append(f"n/a {rt}: {why}")
    return "\n".join(lines)


def machine_info():
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    def version(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True,
                                  timeout=30).stdout.splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return None
    return {"host": platform.node(), "cpu": cpu, "cores": os.cpu_count(),
            "kernel": platform.release(), "loadavg_at_start": os.getloadavg(),
            "gcc": version(["gcc", "--version"]), "clang": version(["clang-19", "--version"]),
            "node": version(["node", "--version"])}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"),
                    help="CMake build dir holding bin/wasmcap, bench/ and guest/ (default build)")
    ap.add_argument("--reps", type=int, default=5, help="repetitions per measurement (median)")
    ap.add_argument("--cold-reps", type=int, default=None,
                    help="repetitions of the cold-start runs (default 20; 3 with --quick)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: scales / %d, interpreter scale 1, 1 repetition" % QUICK_DIVISOR)
    ap.add_argument("--programs", default=",".join(PROGRAMS),
                    help="comma-separated subset of: " + ",".join(PROGRAMS))
    ap.add_argument("--runtimes", default=",".join(RUNTIMES),
                    help="comma-separated subset of: " + ",".join(RUNTIMES))
    ap.add_argument("--metric", choices=["wall", "cpu"], default="wall",
                    help="which table is printed first (both are printed; the JSON has both)")
    ap.add_argument("--no-cold", action="store_true", help="skip the cold-start figures")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per run before it is killed")
    ap.add_argument("--out", help="JSON output (default bench/results/DATE-HOST.json)")
    ap.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    ap.add_argument("--aot-baseline", metavar="BUILD_DIR",
                    help="also run the aot engine of another build (runtime aot@base, private "
                         "cache), interleaved with this build's")
    ap.add_argument("--fast-baseline", metavar="BUILD_DIR",
                    help="also run the fast engine of another build (runtime fast@base)")
    ap.add_argument("--aot-shifts", default="", metavar="N,N,...",
                    help="also run aot (and aot@base) with the generated code moved by N bytes "
                         "(runtimes aot+N; e.g. 16,32,48): code placement changes some programs' "
                         "speed by up to 1.5x on some CPUs (bench/notes/2026-11-23-aot-code-placement.md)")
    ap.add_argument("--markdown", metavar="RESULT.json",
                    help="print an earlier run's JSON as Markdown tables and exit")
    args = ap.parse_args()
    if args.markdown:
        with open(args.markdown) as f:
            print(render_markdown(json.load(f)))
        return 0
    if args.quick:
        args.reps = 1
    if args.cold_reps is None:
        args.cold_reps = 3 if args.quick else 20
    if args.reps < 1 or args.cold_reps < 1:
        ap.error("--reps and --cold-reps must be >= 1")
    try:
        args.aot_shifts = sorted({int(x) for x in args.aot_shifts.split(",") if x.strip()})
    except ValueError:
        ap.error("--aot-shifts takes comma-separated byte counts, e.g. 16,32,48")
    if any(x < 1 or x > 4096 for x in args.aot_shifts):
        ap.error("--aot-shifts: each shift must be 1..4096 bytes")
    programs = [p for p in args.programs.split(",") if p]
    for p in programs:
        if p not in PROGRAMS:
            ap.error(f"unknown program {p!r}; known: {', '.join(PROGRAMS)}")
    runtimes = [r for r in args.runtimes.split(",") if r]
    for r in runtimes:
        if r not in RUNTIMES:
            ap.error(f"unknown runtime {r!r}; known: {', '.join(RUNTIMES)}")
    if "native" not in runtimes:
        runtimes.insert(0, "native")  # every ratio needs it

    runner = Runner(args)
    missing = [p for p in programs
               if not os.access(os.path.join(runner.build, "bench", "native", p), os.X_OK)
               or not os.path.exists(os.path.join(runner.build, "bench", "wasm", p + ".wasm"))]
    if missing:
        print(f"error: benchmark programs not built in {runner.build}: {', '.join(missing)}. "
              "Build first: cmake --preset release && cmake --build build", file=sys.stderr)
        return 2
    try:
        started = datetime.datetime.now(datetime.timezone.utc)
        info = machine_info()
        reasons = runner.probe()
        unavailable = {rt: reasons[rt] for rt in runtimes if reasons.get(rt)}
        results = runner.measure_programs(programs, runtimes, reasons)
        cold = [] if args.no_cold else runner.measure_cold(runtimes, reasons)
        geo = {}
        for metric in ("wall", "cpu"):
            geo[metric] = {}
            shifted = [f"{rt}+{x}" for x in args.aot_shifts for rt in ("aot", "aot@base")]
            for rt in ("aot", "aot@base", "node", "interp", "fast", "fast@base", "wasm3", "wamr",
                       "wamr-aot", *shifted):
                vals = [row["runtimes"][rt].get(f"ratio_{metric}") for row in results
                        if rt in row["runtimes"]]
                if vals and all(v is not None for v in vals):
                    geo[metric][rt] = geomean(vals)
            # fast against the baseline build's fast engine, program by program.
            pairs = [(row["runtimes"]["fast"].get(f"{metric}_s"),
                      row["runtimes"]["fast@base"].get(f"{metric}_s")) for row in results
                     if "fast" in row["runtimes"] and "fast@base" in row["runtimes"]]
            if pairs and all(a and b for a, b in pairs):
                geo[metric]["fast/fast@base"] = geomean([a / b for a, b in pairs])
            pairs = [(row["runtimes"]["aot"].get(f"{metric}_s"),
                      row["runtimes"]["aot@base"].get(f"{metric}_s")) for row in results
                     if "aot" in row["runtimes"] and "aot@base" in row["runtimes"]]
            if pairs and all(a and b for a, b in pairs):
                geo[metric]["aot/aot@base"] = geomean([a / b for a, b in pairs])
            # The same over every placement (--aot-shifts): (program, placement) pairs.
            if args.aot_shifts:
                pairs = [(row["runtimes"].get(a, {}).get(f"{metric}_s"),
                          row["runtimes"].get(b, {}).get(f"{metric}_s")) for row in results
                         for a, b in [("aot", "aot@base")] + [
                             (f"aot+{x}", f"aot@base+{x}") for x in args.aot_shifts]]
                if pairs and all(a and b for a, b in pairs):
                    geo[metric]["aot/aot@base, all placements"] = geomean(
                        [a / b for a, b in pairs])
        report = {
            "schema": "wasmcap-bench/1",
            "date_utc": started.isoformat(timespec="seconds"),
            "duration_s": round((datetime.datetime.now(datetime.timezone.utc)
                                 - started).total_seconds(), 1),
            "machine": info, "quick": args.quick, "reps": args.reps,
            "cold_reps": args.cold_reps, "metric": args.metric,
            "runtimes": runtimes + (["fast@base"] if runner.base_cli and "fast" in runtimes else [])
                        + (["aot@base"] if runner.aot_base_cli and "aot" in runtimes else []),
            "fast_baseline": runner.base_cli, "aot_baseline": runner.aot_base_cli,
            "unavailable": unavailable, "aot_cache_flag": runner.aot_cache_flag,
            "aot_shifts": args.aot_shifts,
            "programs": results, "geomean": geo, "cold_start": cold,
            "failures": runner.failures,
            "notes": ("interp rows run at interp_scale, fast rows at fast_scale; each ratio is "
                      "against native at the same scale (runtimes['native@interp'], "
                      "runtimes['native@fast']). Times are per process, including "
                      "startup. cpu = user+sys of the process (all its threads)."),
        }
        print(render(report))
        out = args.out or os.path.join(
            HERE, "results", f"{started.strftime('%Y-%m-%d')}-{platform.node() or 'host'}"
            f"{'-quick' if args.quick else ''}.json")
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        with open(out, "w") as f:
            json.dump(report, f, indent=1)
            f.write("\n")
        print(f"\nJSON: {out}")
    finally:
        shutil.rmtree(runner.tmp, ignore_errors=True)
    return 1 if runner.failures else 0


if __name__ == "__main__":
    sys.exit(main())
