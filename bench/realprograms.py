#!/usr/bin/env python3
"""Real programs from npm on wasmcap (bench/notes/2026-11-23-real-programs.md, "Real programs from npm").

Fetches esbuild's WASI build and the YoWASP FPGA tools with `npm pack` into a cache directory
(default ~/.cache/wasmcap/bench-npm; never into the repository) and measures, per module:

  run      `--engine interp` (the fast interpreter) on a real task with a correctness check:
           esbuild --version, esbuild bundling a generated JS project (the bundle is run with
           node when node is on PATH), yosys synthesising a small Verilog design for iCE40,
           nextpnr-ice40 placing and routing it, icepack packing the bitstream.
           Wall, CPU (user+sys) and peak RSS of the process (os.wait4), and with
           WASMCAP_FAST_STATS=1 (docs/fast-interp.md "Statistics for benchmarks") the time from
           spawn to the first guest function ready to run, and the translated code bytes against
           the wasm body bytes of the functions translated.
  nofuel   the same runs on a bench-only build without fuel metering (--nofuel-wasmcap, a build
           with -DWASMCAP_BENCH_FAST_NO_FUEL=ON), for the cost of metering.
  aot      nextpnr-ice40 and icepack on `--engine aot` (compiled first into a fresh cache): same
           checks, and nextpnr's bitstream must be byte-identical to the interpreter's.
  compile  `wasmcap compile` into a fresh cache directory, under nice, one at a time: wall, CPU
           seconds of wasmcap and every compiler it waited for, peak RSS of the biggest process.
  auto     the first run of a never-seen module under `--engine auto` (fresh cache): time to
           the first guest function, and what the detached background compile does under the
           default bounds (how long until its slot lock is released, what it leaves behind).
  autofirst  the start of that first run only, repeated (--autofirst-reps, fresh cache each
           time; the background compile each run starts is killed at once): wall, CPU and time
           to the first guest function of esbuild --version, interleaved with --before (another
           wasmcap, e.g. main's) when given; medians.
  autosecond  the same for the second run in that cache (the first, not measured, left the
           module's description and records; its background compile was killed, so there is no
           object and the second run interprets again and starts another compile, killed too).

  python3 bench/realprograms.py [--wasmcap build/bin/wasmcap] [--nofuel-wasmcap B/bin/wasmcap]
      [--only esbuild,yosys,nextpnr] [--steps run,nofuel,aot,compile,auto,autofirst,autosecond]
      [--before OTHER/bin/wasmcap] [--autofirst-reps 5]
      [--compile-timeout-ms N] [--json out.json]

Standard library only. Network: the npm registry, only when a package is not cached yet.
"""

import argparse
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

PACKAGES = {
    "esbuild": ("@esbuild/wasi-preview1", "0.27.2"),
    "yosys": ("@yowasp/yosys", "0.55.944"),
    "nextpnr": ("@yowasp/nextpnr-ice40", "0.8.621"),
}


def fetch(cache, key):
    """Unpacks the npm package `key` into cache/<name>-<version>/package; returns that path."""
    name, version = PACKAGES[key]
    base = name.lstrip("@").replace("/", "-") + "-" + version
    dest = os.path.join(cache, base)
    if os.path.isfile(os.path.join(dest, "package", "package.json")):
        return os.path.join(dest, "package")
    os.makedirs(cache, exist_ok=True)
    tgz = os.path.join(cache, base + ".tgz")
    if not os.path.exists(tgz):
        subprocess.run(["npm", "pack", "--silent", "%s@%s" % (name, version)], cwd=cache, check=True,
                       stdout=subprocess.DEVNULL)
    os.makedirs(dest, exist_ok=True)
    with tarfile.open(tgz) as t:
        t.extractall(dest, filter="data")
    return os.path.join(dest, "package")


def measured(argv, env=None, cwd=None, timeout=None):
    """Runs argv; returns dict(rc, out, err, wall_s, cpu_s, maxrss_mb, t0_ns)."""
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    t0_ns = time.time_ns()
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    deadline = None if timeout is None else time.time() + timeout
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid != 0:
            break
        if deadline is not None and time.time() > deadline:
            p.kill()
        time.sleep(0.005)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    err.seek(0)
    r = {"rc": p.returncode, "out": out.read().decode(errors="replace"),
         "err": err.read().decode(errors="replace"), "wall_s": round(wall, 3),
         "cpu_s": round(ru.ru_utime + ru.ru_stime, 3), "user_s": round(ru.ru_utime, 3),
         "sys_s": round(ru.ru_stime, 3), "maxrss_mb": round(ru.ru_maxrss / 1024.0, 1),
         "t0_ns": t0_ns}
    return r


def stats_of(r):
    """The fast engine's stats line (WASMCAP_FAST_STATS) from stderr, with derived figures."""
    for line in r["err"].splitlines():
        if line.startswith("wasmcap-fast-stats "):
            s = json.loads(line.split(" ", 1)[1])
            if s["first_func_ready_unix_ns"]:
                s["first_func_ready_ms"] = round((s["first_func_ready_unix_ns"] - r["t0_ns"]) / 1e6, 1)
            if s["wasm_body_bytes"]:
                s["code_ratio"] = round(s["code_bytes"] / s["wasm_body_bytes"], 2)
            return s
    return None


# A YoWASP package's resource files (yosys' techmap library, nextpnr's chip databases) are not
# all plain files in the package: resources-*.js exports `filesystem`, a tree whose leaves are
# file contents (strings or bytes) or URLs of files shipped next to it. The JS runtime mounts
# that tree at the root; here it is written out once as a directory (node imports the module).
MATERIALIZE_JS = r"""
import fs from "node:fs";
import path from "node:path";
import url from "node:url";
const [src, dest] = process.argv.slice(2);
const { filesystem } = await import(url.pathToFileURL(src).href);
function write(tree, dir) {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, v] of Object.entries(tree)) {
    const p = path.join(dir, name);
    if (v instanceof URL) fs.copyFileSync(url.fileURLToPath(v), p);
    else if (typeof v === "string" || v instanceof Uint8Array) fs.writeFileSync(p, v);
    else write(v, p);
  }
}
write(filesystem, dest);
"""


def yowasp_root(pkg):
    """The resource tree of a YoWASP package as a directory (made once, with node)."""
    dest = os.path.join(pkg, "wasmcap-root")
    if os.path.isdir(dest):
        return dest
    res = [f for f in os.listdir(os.path.join(pkg, "gen")) if f.startswith("resources-")][0]
    script = os.path.join(pkg, "materialize.mjs")
    with open(script, "w") as f:
        f.write(MATERIALIZE_JS)
    subprocess.run(["node", script, os.path.join(pkg, "gen", res), dest + ".tmp"], check=True)
    os.rename(dest + ".tmp", dest)
    return dest


# ---------------------------------------------------------------------------------------------
# The tasks. Each returns (argv tail, dirs, check(result, workdir) -> error string or None).

def esbuild_version(pkg, work):
    def check(r, _w):
        return None if r["out"].strip() == PACKAGES["esbuild"][1] else "unexpected version output"
    return pkg + "/esbuild.wasm", ["--version"], [], check


JS_MODULES = 40


def esbuild_bundle(pkg, work):
    src = os.path.join(work, "src")
    os.makedirs(src, exist_ok=True)
    # A small project: JS_MODULES modules in a chain, each exporting a function, plus an unused
    # export (tree shaking must drop it) and a JSON import.
    for i in range(JS_MODULES):
        nxt = "import { f%d } from './m%d.js';\n" % (i + 1, i + 1) if i + 1 < JS_MODULES else ""
        body = "f%d(x) + %d" % (i + 1, i) if i + 1 < JS_MODULES else "x"
        with open(os.path.join(src, "m%d.js" % i), "w") as f:
            f.write(nxt + "export function f%d(x) { return %s; }\n"
                    "export function unused%d() { return 'DEAD_CODE_%d'; }\n" % (i, body, i, i))
    with open(os.path.join(src, "data.json"), "w") as f:
        json.dump({"name": "wasmcap", "n": JS_MODULES}, f)
    with open(os.path.join(src, "index.js"), "w") as f:
        f.write("import { f0 } from './m0.js';\nimport data from './data.json';\n"
                "const greet = (who) => `hello ${who}`;\n"
                "console.log(greet(data.name), f0(1), data.n);\n")
    expected = "hello wasmcap %d %d" % (1 + sum(range(JS_MODULES - 1)), JS_MODULES)

    def check(r, w):
        path = os.path.join(w, "out.js")
        if not os.path.exists(path):
            return "no out.js"
        text = open(path).read()
        if "DEAD_CODE" in text:
            return "tree shaking did not drop the unused exports"
        if shutil.which("node"):
            p = subprocess.run(["node", path], capture_output=True, text=True)
            if p.stdout.strip() != expected:
                return "bundle printed %r, expected %r" % (p.stdout.strip(), expected)
        return None
    # The workspace is preopened as "/": esbuild walks up from the entry point to the root
    # (package.json, tsconfig.json, node_modules), and Go's wasip1 runtime answers EBADF for a
    # path under no preopen, which esbuild reports as an error ("Cannot read directory").
    args = ["--bundle", "/src/index.js", "--outfile=/out.js", "--minify",
            "--format=esm", "--log-level=warning"]
    return pkg + "/esbuild.wasm", args, [(work, "/")], check


VERILOG = """
module top(input clk, input rst, output [7:0] leds);
  reg [23:0] counter;
  reg [7:0] shift;
  always @(posedge clk) begin
    if (rst) begin counter <= 0; shift <= 8'b1; end
    else begin
      counter <= counter + 1;
      if (counter == 24'hffffff) shift <= {shift[6:0], shift[7]};
    end
  end
  assign leds = shift ^ counter[23:16];
endmodule
"""


def yosys_synth(pkg, work):
    with open(os.path.join(work, "top.v"), "w") as f:
        f.write(VERILOG)

    def check(r, w):
        try:
            j = json.load(open(os.path.join(w, "top.json")))
        except (OSError, ValueError) as e:
            return "no netlist: %s" % e
        cells = {}
        for c in j["modules"]["top"]["cells"].values():
            cells[c["type"]] = cells.get(c["type"], 0) + 1
        if not any(t.startswith("SB_DFF") for t in cells) or "SB_LUT4" not in cells:
            return "netlist lacks SB_DFF*/SB_LUT4 cells: %s" % cells
        return None
    args = ["-q", "-p", "read_verilog /work/top.v; synth_ice40 -top top -json /work/top.json"]
    # yosys' abc9 pass writes its scratch files under /tmp (the JS runtime's root is a writable
    # in-memory tree; here a directory of the workspace).
    os.makedirs(os.path.join(work, "tmp"), exist_ok=True)
    return (pkg + "/gen/yosys.core.wasm", args,
            [(work, "/work"), (os.path.join(work, "tmp"), "/tmp"),
             (yowasp_root(pkg) + "/share", "/share:ro")], check)


def nextpnr_pnr(pkg, work):
    def check(r, w):
        path = os.path.join(w, "top.asc")
        if not os.path.exists(path):
            return "no top.asc"
        text = open(path).read()
        if ".device 1k" not in text or ".logic_tile" not in text:
            return "top.asc is not an hx1k bitstream"
        return None
    args = ["--hx1k", "--package", "tq144", "--json", "/work/top.json", "--asc", "/work/top.asc",
            "--pcf-allow-unconstrained", "--seed", "1", "-q"]
    return (pkg + "/gen/nextpnr-ice40.core.wasm", args,
            [(work, "/work"), (yowasp_root(pkg) + "/share", "/share:ro")], check)


def asc_config(text):
    """The configuration bits of an .asc file: no comments, symbols or empty RAM blocks."""
    out = []
    for line in text.splitlines():
        line = line.rstrip()
        if not line or line.startswith((".comment", ".sym", ".ram_data")) or set(line) == {"0"}:
            continue
        out.append(line)
    return out


def icepack(pkg, work):
    def check(r, w):
        path = os.path.join(w, "top.bin")
        if not os.path.exists(path) or os.path.getsize(path) < 30000:
            return "no/short top.bin"
        # Round trip: unpacking the bitstream must give back nextpnr's configuration bits.
        u = measured(WASMCAP_ARGV[:1] + ["run", "--dir", w + "::/work", pkg + "/gen/icepack.core.wasm",
                                        "-u", "/work/top.bin", "/work/unpacked.asc"])
        if u["rc"] != 0:
            return "icepack -u failed: " + u["err"][-300:]
        if asc_config(open(os.path.join(w, "top.asc")).read()) != \
                asc_config(open(os.path.join(w, "unpacked.asc")).read()):
            return "icepack -u does not give back the configuration bits of top.asc"
        return None
    return (pkg + "/gen/icepack.core.wasm", ["/work/top.asc", "/work/top.bin"],
            [(work, "/work")], check)


# (name, package key, task, timeout s). Order matters: nextpnr reads yosys' netlist, icepack
# nextpnr's bitstream.
TASKS = [
    ("esbuild --version", "esbuild", esbuild_version, 120),
    ("esbuild bundle", "esbuild", esbuild_bundle, 600),
    ("yosys synth_ice40", "yosys", yosys_synth, 1800),
    ("nextpnr-ice40 hx1k", "nextpnr", nextpnr_pnr, 1800),
    ("icepack", "nextpnr", icepack, 600),
]


def wasmcap_argv(wasmcap, engine, module, args, dirs, extra=()):
    argv = [wasmcap, "run", "--engine", engine, "--max-memory-mb", "4096"] + list(extra)
    for host, guest in dirs:
        argv += ["--dir", host + "::" + guest]
    return argv + [module] + args


WASMCAP_ARGV = []  # [wasmcap] of the run being measured (icepack's check runs it again)


def run_tasks(wasmcap, keys, paths, work, label, engine="interp", extra=(), only=None):
    WASMCAP_ARGV[:] = [wasmcap]
    rows = []
    env = dict(os.environ, WASMCAP_FAST_STATS="1")
    for name, key, task, timeout in TASKS:
        if key not in keys or (key == "nextpnr" and "yosys" not in keys):
            continue
        if only is not None and name not in only:
            continue
        module, args, dirs, check = task(paths[key], work)
        r = measured(["nice"] + wasmcap_argv(wasmcap, engine, module, args, dirs, extra), env=env,
                     timeout=timeout)
        problem = "exit %d: %s" % (r["rc"], r["err"][-400:]) if r["rc"] != 0 else check(r, work)
        row = {"task": name, "build": label, "engine": engine, "ok": problem is None, "problem": problem,
               "module_mb": round(os.path.getsize(module) / 1e6, 2)}
        for k in ("wall_s", "cpu_s", "user_s", "sys_s", "maxrss_mb"):
            row[k] = r[k]
        row["stats"] = stats_of(r)
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def compile_module(wasmcap, module, timeout_ms):
    cache = tempfile.mkdtemp(prefix="wasmcap-bench-aot-")
    try:
        argv = ["nice", wasmcap, "compile", "--cache-dir", cache]
        if timeout_ms:
            argv += ["--compile-timeout-ms", str(timeout_ms)]
        r = measured(argv + [module])
        left = [d for d in os.listdir(cache) if d.startswith("tmp-")]
        row = {"module": os.path.basename(module), "module_mb": round(os.path.getsize(module) / 1e6, 2),
               "rc": r["rc"], "wall_s": r["wall_s"], "cpu_s": r["cpu_s"], "user_s": r["user_s"],
               "sys_s": r["sys_s"], "maxrss_mb": r["maxrss_mb"], "tmp_left": left,
               "timeout_ms": timeout_ms or "default", "err": r["err"].strip()[-300:]}
        print(json.dumps(row), flush=True)
        return row
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def bg_busy(cache):
    for i in range(2):
        path = os.path.join(cache, "bg-%d.lock" % i)
        if not os.path.exists(path):
            continue
        with open(path, "rb") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return True
    return False


def auto_first_run(wasmcap, module, args, dirs, check, work, limit_s):
    cache = tempfile.mkdtemp(prefix="wasmcap-bench-auto-")
    try:
        env = dict(os.environ, WASMCAP_FAST_STATS="1")
        argv = wasmcap_argv(wasmcap, "auto", module, args, dirs, ["--cache-dir", cache])
        r = measured(argv, env=env)
        s = stats_of(r)
        t_end = time.time()
        while bg_busy(cache) and time.time() - t_end < limit_s:
            time.sleep(0.5)
        row = {"module": os.path.basename(module), "rc": r["rc"],
               "ok": r["rc"] == 0 and check(r, work) is None, "wall_s": r["wall_s"],
               "first_func_ready_ms": s and s.get("first_func_ready_ms"),
               "notice": [l for l in r["err"].splitlines() if l.startswith("wasmcap:")][:3],
               "background_ended_after_s": round(time.time() - t_end, 1)
               if not bg_busy(cache) else None,
               "cache_after": sorted(os.listdir(cache))}
        print(json.dumps(row), flush=True)
        return row
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def stop_background(cache):
    """Kills the background compile a run started in `cache` (its pid is in KEY.bg) and waits
    until its slot lock is free (its compiler dies with it: docs/aot.md)."""
    import signal
    for n in os.listdir(cache):
        if n.endswith(".bg"):
            try:
                os.kill(int(open(os.path.join(cache, n)).read().split()[0]), signal.SIGKILL)
            except (OSError, ValueError, IndexError):
                pass
    t = time.time()
    while bg_busy(cache) and time.time() - t < 30:
        time.sleep(0.05)


def auto_first_starts(builds, module, args, dirs, check, work, reps, second=False):
    """The first --engine auto run of a never-seen module, `reps` times per build, interleaved
    (the order alternates), each in a fresh cache whose background compile is killed at once.
    `second`: measure the second run in that cache instead (the first one not measured)."""
    import statistics
    samples = {label: [] for label, _ in builds}
    for i in range(reps):
        for label, wasmcap in (builds if i % 2 == 0 else builds[::-1]):
            cache = tempfile.mkdtemp(prefix="wasmcap-bench-autofirst-")
            try:
                env = dict(os.environ, WASMCAP_FAST_STATS="1")
                argv = wasmcap_argv(wasmcap, "auto", module, args, dirs, ["--cache-dir", cache])
                if second:
                    r = measured(argv, env=env)
                    stop_background(cache)
                    if r["rc"] != 0:
                        raise SystemExit("%s: auto first run failed: %s" % (label, r["err"][-400:]))
                r = measured(argv, env=env)
                stop_background(cache)
                if r["rc"] != 0 or check(r, work) is not None:
                    raise SystemExit("%s: auto run failed: %s" % (label, r["err"][-400:]))
                s = stats_of(r) or {}
                samples[label].append((r["wall_s"], r["cpu_s"], s.get("first_func_ready_ms")))
            finally:
                shutil.rmtree(cache, ignore_errors=True)
    rows = []
    for label, _ in builds:
        xs = samples[label]
        ready = [x[2] for x in xs if x[2] is not None]
        row = {"build": label, "module": os.path.basename(module), "reps": len(xs),
               "wall_s": round(statistics.median(x[0] for x in xs), 3),
               "cpu_s": round(statistics.median(x[1] for x in xs), 3),
               "first_func_ready_ms": round(statistics.median(ready), 1) if ready else None,
               "wall_samples": [x[0] for x in xs], "cpu_samples": [x[1] for x in xs]}
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wasmcap", default=os.path.join(ROOT, "build", "bin", "wasmcap"))
    ap.add_argument("--nofuel-wasmcap", help="a -DWASMCAP_BENCH_FAST_NO_FUEL=ON build's wasmcap")
    ap.add_argument("--cache", default=os.path.expanduser("~/.cache/wasmcap/bench-npm"))
    ap.add_argument("--only", default="esbuild,yosys,nextpnr")
    ap.add_argument("--steps", default="run,nofuel,aot,compile,auto")
    ap.add_argument("--before", help="autofirst: another wasmcap measured interleaved with --wasmcap")
    ap.add_argument("--autofirst-reps", type=int, default=5)
    ap.add_argument("--compile-timeout-ms", type=int, default=0,
                    help="for `wasmcap compile` (0: wasmcap's default bound)")
    ap.add_argument("--compile-modules", default="nextpnr,esbuild",
                    help="which modules `compile` compiles, in order")
    ap.add_argument("--auto-wait-s", type=int, default=600,
                    help="how long to wait for the background compile of the auto step")
    ap.add_argument("--json", help="write all rows here")
    a = ap.parse_args()
    keys = a.only.split(",")
    steps = a.steps.split(",")
    paths = {k: fetch(a.cache, k) for k in keys}
    modules = {"esbuild": paths.get("esbuild", "") + "/esbuild.wasm",
               "yosys": paths.get("yosys", "") + "/gen/yosys.core.wasm",
               "nextpnr": paths.get("nextpnr", "") + "/gen/nextpnr-ice40.core.wasm"}
    out = {"host": os.uname().nodename, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "loadavg": os.getloadavg()}
    work = tempfile.mkdtemp(prefix="wasmcap-bench-real-")
    try:
        if "run" in steps:
            out["run"] = run_tasks(a.wasmcap, keys, paths, work, "default")
        if "nofuel" in steps and a.nofuel_wasmcap:
            shutil.rmtree(work)
            os.makedirs(work)
            out["nofuel"] = run_tasks(a.nofuel_wasmcap, keys, paths, work, "nofuel")
        if "aot" in steps and "nextpnr" in keys and "yosys" in keys:
            # nextpnr and icepack on --engine aot (compiled first, into a fresh cache), after the
            # interp run in the same workspace: the bitstream must be byte-identical.
            if not os.path.exists(os.path.join(work, "top.asc")):
                run_tasks(a.wasmcap, keys, paths, work, "default", only=("yosys synth_ice40",))
                run_tasks(a.wasmcap, keys, paths, work, "default", only=("nextpnr-ice40 hx1k",))
            interp_asc = open(os.path.join(work, "top.asc"), "rb").read()
            os.remove(os.path.join(work, "top.asc"))
            cache = tempfile.mkdtemp(prefix="wasmcap-bench-aotrun-")
            try:
                for m in ("nextpnr-ice40.core.wasm", "icepack.core.wasm"):
                    subprocess.run(["nice", a.wasmcap, "compile", "--cache-dir", cache,
                                    "--compile-timeout-ms", "1200000",
                                    os.path.join(paths["nextpnr"], "gen", m)], check=True)
                rows = run_tasks(a.wasmcap, keys, paths, work, "default", engine="aot",
                                 extra=("--cache-dir", cache),
                                 only=("nextpnr-ice40 hx1k", "icepack"))
            finally:
                shutil.rmtree(cache, ignore_errors=True)
            same = open(os.path.join(work, "top.asc"), "rb").read() == interp_asc
            out["aot"] = {"runs": rows, "asc_identical_to_interp": same}
            print(json.dumps({"aot_asc_identical_to_interp": same}), flush=True)
        if "compile" in steps:
            out["compile"] = [compile_module(a.wasmcap, modules[k], a.compile_timeout_ms)
                              for k in a.compile_modules.split(",") if k in keys]
        if "auto" in steps and "esbuild" in keys:
            module, args, dirs, check = esbuild_version(paths["esbuild"], work)
            out["auto"] = auto_first_run(a.wasmcap, module, args, dirs, check, work, a.auto_wait_s)
        if "autofirst" in steps and "esbuild" in keys:
            module, args, dirs, check = esbuild_version(paths["esbuild"], work)
            builds = [("this", a.wasmcap)] + ([("before", a.before)] if a.before else [])
            out["autofirst"] = auto_first_starts(builds, module, args, dirs, check, work,
                                                 a.autofirst_reps)
        if "autosecond" in steps and "esbuild" in keys:
            module, args, dirs, check = esbuild_version(paths["esbuild"], work)
            builds = [("this", a.wasmcap)] + ([("before", a.before)] if a.before else [])
            out["autosecond"] = auto_first_starts(builds, module, args, dirs, check, work,
                                                  a.autofirst_reps, second=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
    failed = [r["task"] for r in out.get("run", []) + out.get("nofuel", []) if not r["ok"]]
    if "aot" in out:
        failed += [r["task"] + " (aot)" for r in out["aot"]["runs"] if not r["ok"]]
        if not out["aot"]["asc_identical_to_interp"]:
            failed.append("nextpnr aot bitstream differs from interp")
    if failed:
        print("FAILED: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
