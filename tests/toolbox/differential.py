#!/usr/bin/env python3
"""Differential tests of the toolbox (guest/toolbox) against Debian's own binaries of the same
source packages, on generated inputs: awk = /usr/bin/mawk, jq = /usr/bin/jq, diff and cmp =
/usr/bin/diff and /usr/bin/cmp (diffutils).

Each case runs twice on identical copies of a workspace:
  wasmcap run --engine E --dir WS::/work --argv0 TOOL toolbox.wasm ARGS...  (cwd = /work)
  /usr/bin/TOOL ARGS...                                                     (cwd = WS, LC_ALL=C)
and compares stdout, stderr and the exit status, and the files a case names as outputs. Then the
cases that cannot be differential: what WASI cannot do must fail with a message, never run a
host program (awk's system(), pipes; jq's regular expressions without oniguruma).

Usage: differential.py --wasmcap build/bin/wasmcap --module build/guest/toolbox/toolbox.wasm
                       [--engine interp|aot] [--tools awk,jq,diff,cmp] [--seed N]
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402

NATIVE_ENV = {"LC_ALL": "C", "TZ": "UTC", "PATH": "/usr/bin:/bin"}
NATIVE = {"awk": "/usr/bin/mawk", "jq": "/usr/bin/jq", "diff": "/usr/bin/diff", "cmp": "/usr/bin/cmp"}
# The guest runs as `mawk` so that messages name the same program as Debian's binary does.
ARGV0 = {"awk": "mawk", "jq": "jq", "diff": "diff", "cmp": "cmp"}
# AOT: the module is compiled once per machine into a persistent cache, like the python bundle's
# (keyed by content: only a new toolbox.wasm, compiler or translator compiles again).
COMPILE_TIMEOUT_MS = 1200000


def aot_cache_dir():
    """${XDG_CACHE_HOME:-~/.cache}/wasmcap/aot-ci: per user, outside the build dir (as the python
    bundle's AOT tests), so a fresh build dir on the same machine finds toolbox.wasm's object."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "wasmcap", "aot-ci")


class Checks:
    def __init__(self):
        self.passed = 0
        self.failures = []

    def check(self, label, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failures.append(label)
            print("FAIL: %s\n  %s" % (label, detail))
            sys.stdout.flush()
        return ok

    def finish(self):
        print("%d passed, %d failed" % (self.passed, len(self.failures)))
        return 1 if self.failures else 0


class Runner:
    def __init__(self, a):
        self.a = a
        self.tmp = tempfile.mkdtemp(prefix="wasmcap-toolbox-")
        self.n = 0

    def workspace(self, files):
        self.n += 1
        d = os.path.join(self.tmp, "ws%d" % self.n)
        os.makedirs(d)
        for name, data in files.items():
            p = os.path.join(d, name)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(data)
        # One mtime for every input on both sides (diff's headers print it).
        for root, dirs, names in os.walk(d):
            for n in names + dirs:
                os.utime(os.path.join(root, n), (1767225600, 1767225600))
        return d

    def guest(self, tool, args, files, stdin):
        ws = self.workspace(files)
        cmd = [self.a.wasmcap, "run", "--engine", self.a.engine, "--dir", ws + "::/work",
               "--max-output-bytes", str(64 << 20), "--clock", "fixed=2026-01-01T00:00:00Z",
               "--random", "seed=7"]
        if self.a.cache_dir:
            cmd += ["--cache-dir", self.a.cache_dir]
        cmd += ["--argv0", ARGV0[tool], self.a.module] + list(args)
        p = subprocess.run(cmd, input=stdin or b"", capture_output=True, timeout=300)
        return p.returncode, p.stdout, p.stderr, ws

    def native(self, tool, args, files, stdin):
        ws = self.workspace(files)
        p = subprocess.run([ARGV0[tool]] + list(args), executable=NATIVE[tool], input=stdin or b"",
                           capture_output=True, cwd=ws, env=NATIVE_ENV, timeout=120)
        return p.returncode, p.stdout, p.stderr, ws

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def read(ws, name):
    p = os.path.join(ws, name)
    if not os.path.exists(p):
        return None
    with open(p, "rb") as f:
        return f.read()


def differential(c, r, tool, case):
    args, files, stdin, outs = case["args"], case.get("files", {}), case.get("stdin"), case.get("outs", [])
    g = r.guest(tool, args, files, stdin)
    n = r.native(tool, args, files, stdin)
    label = "%s %s" % (tool, " ".join(repr(x) if " " in x or not x else x for x in args))[:200]
    same = g[0] == n[0] and g[1] == n[1] and g[2] == n[2]
    for o in outs:
        same = same and read(g[3], o) == read(n[3], o)
    c.check(label, same,
            "guest: %d %r %r\n  native: %d %r %r" % (g[0], g[1][:400], g[2][:400], n[0], n[1][:400], n[2][:400]))


def expect(c, r, tool, label, args, status, stderr_has, stdout=b"", files=None, stdin=None, absent=()):
    g = r.guest(tool, args, files or {}, stdin)
    ok = g[0] == status and stderr_has in g[2] and g[1] == stdout
    for name in absent:  # nothing a host program would have made
        ok = ok and not os.path.exists(os.path.join(g[3], name))
    c.check("%s: %s" % (tool, label), ok, "got %d %r %r" % (g[0], g[1][:300], g[2][:300]))


def wasi_limits(c, r):
    """What WASI cannot do: a message and a failure status, never a host program."""
    no_proc = b"cannot run commands: there are no processes in the WASI sandbox"
    expect(c, r, "awk", "system() refuses", ["BEGIN { system(\"touch made\"); print \"after\" }"],
           2, b'mawk: run time error: system("touch made"): ' + no_proc, absent=["made"])
    expect(c, r, "awk", "print | cmd refuses", ["BEGIN { print \"x\" | \"cat > made\" }"],
           2, b'mawk: run time error: print | "cat > made": ' + no_proc, absent=["made"])
    expect(c, r, "awk", "cmd | getline refuses", ["BEGIN { \"touch made\" | getline x; print x }"],
           2, b'mawk: run time error: "touch made" | getline: ' + no_proc, absent=["made"])
    expect(c, r, "awk", "output before the refusal is kept", ["{ print } END { system(\"x\") }"],
           2, no_proc, stdout=b"a\nb\n", stdin=b"a\nb\n")
    no_re = b"jq was compiled without ONIGURUMA regex libary. match/test/sub and related functions are not available."
    for f in ['test("a")', 'match("a")', 'sub("a";"b")', 'gsub("a";"b")', 'capture("(?<x>a)")',
              'scan("a")', 'split("a";null)', 'splits("a")']:
        expect(c, r, "jq", f + " refuses", [f], 5, b"jq: error (at <stdin>:1): " + no_re,
               stdin=b'"abc"\n')
    expect(c, r, "diff", "-l (pagination through pr) refuses", ["-l", "a", "b"], 2,
           b"diff: pagination not supported on this host")
    # Plain split/1 is not a regular expression: it works.
    expect(c, r, "jq", "split/1 works", ["-c", 'split(",")'], 0, b"", stdout=b'["a","b"]\n',
           stdin=b'"a,b"\n')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wasmcap", required=True)
    ap.add_argument("--module", required=True)
    ap.add_argument("--engine", default="interp")
    ap.add_argument("--cache-dir", default=None, help="AOT cache (default for aot: per user)")
    ap.add_argument("--tools", default="awk,jq,diff,cmp")
    ap.add_argument("--seed", type=int, default=20261125)
    a = ap.parse_args()
    tools = a.tools.split(",")
    for t in tools:
        if not os.path.exists(NATIVE[t]):
            print("FAIL: the reference %s is missing: run scripts/setup.sh" % NATIVE[t])
            return 1
    if a.engine == "aot":
        a.cache_dir = a.cache_dir or aot_cache_dir()
        os.makedirs(a.cache_dir, exist_ok=True)
        p = subprocess.run(["nice", "-n", "10", a.wasmcap, "compile", "--cache-dir", a.cache_dir,
                            "--compile-timeout-ms", str(COMPILE_TIMEOUT_MS), a.module],
                           capture_output=True, timeout=COMPILE_TIMEOUT_MS / 1000 + 60)
        if p.returncode != 0:
            print("FAIL: wasmcap compile: %r" % p.stderr[-2000:])
            return 1
    c = Checks()
    r = Runner(a)
    try:
        rng = random.Random(a.seed)
        for t in tools:
            if t == "cmp":
                continue  # with diff's cases
            cases = {"awk": gen.awk_cases, "jq": gen.jq_cases, "diff": gen.diff_cases}[t](rng)
            for case in cases:
                differential(c, r, case.get("tool", t), case)
        if "awk" in tools and "jq" in tools:
            wasi_limits(c, r)
    finally:
        r.close()
    print("engine %s, tools %s" % (a.engine, ",".join(tools)))
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
