#!/usr/bin/env python3
"""Differential tests of the toolbox (guest/toolbox) against Debian's own binaries of the same
source packages, on generated inputs: awk = /usr/bin/mawk, jq = /usr/bin/jq, diff and cmp =
/usr/bin/diff and /usr/bin/cmp (diffutils), gzip, gunzip and zcat = /usr/bin/gzip (1.12) and
Debian's gunzip and zcat scripts around it, patch = /usr/bin/patch (GNU patch 2.7.6).

Each case runs twice on identical copies of a workspace:
  wasmcap run --engine E --dir WS::/work --argv0 TOOL toolbox.wasm ARGS...  (cwd = /work)
  /usr/bin/TOOL ARGS...                                                     (cwd = WS, LC_ALL=C)
and compares stdout, stderr and the exit status, and the files a case names as outputs (patch's
tree cases: every file and directory of the workspace). Then the
cases that cannot be differential: what WASI cannot do must fail with a message, never run a
host program (awk's system(), pipes; jq's regular expressions without oniguruma).

Usage: differential.py --wasmcap build/bin/wasmcap --module build/guest/toolbox/toolbox.wasm
                       [--engine interp|aot] [--tools awk,jq,diff,cmp,gzip,patch] [--seed N]
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(os.path.dirname(HERE), "support"))
import bundle_test  # noqa: E402
import gen  # noqa: E402

NATIVE_ENV = {"LC_ALL": "C", "TZ": "UTC", "PATH": "/usr/bin:/bin"}
NATIVE = {"awk": "/usr/bin/mawk", "jq": "/usr/bin/jq", "diff": "/usr/bin/diff", "cmp": "/usr/bin/cmp",
          "gzip": "/usr/bin/gzip", "gunzip": "/usr/bin/gunzip", "zcat": "/usr/bin/zcat",
          "patch": "/usr/bin/patch"}
# The guest runs as `mawk` so that messages name the same program as Debian's binary does.
ARGV0 = {"awk": "mawk", "jq": "jq", "diff": "diff", "cmp": "cmp", "gzip": "gzip", "gunzip": "gunzip",
         "zcat": "zcat", "patch": "patch"}

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

    def guest(self, tool, args, files, stdin, env=()):
        ws = self.workspace(files)
        p = subprocess.run(bundle_test.run_command(self.a, ws, ARGV0[tool], args, env), input=stdin or b"",
                           capture_output=True, timeout=300)
        return p.returncode, p.stdout, p.stderr, ws

    def native(self, tool, args, files, stdin, env=()):
        ws = self.workspace(files)
        p = subprocess.run([ARGV0[tool]] + list(args), executable=NATIVE[tool], input=stdin or b"",
                           capture_output=True, cwd=ws, env=dict(NATIVE_ENV, **dict(env)), timeout=120)
        return p.returncode, p.stdout, p.stderr, ws

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def read(ws, name):
    p = os.path.join(ws, name)
    if not os.path.exists(p):
        return None
    with open(p, "rb") as f:
        return f.read()


def tree(ws):
    """Every file and directory under WS: {relative path: bytes, or None for a directory}."""
    t = {}
    for root, dirs, names in os.walk(ws):
        for n in dirs:
            t[os.path.relpath(os.path.join(root, n), ws)] = None
        for n in names:
            t[os.path.relpath(os.path.join(root, n), ws)] = read(root, n)
    return t


def differential(c, r, tool, case):
    """A case's stdout, stderr, status and OUTS on both sides; with "tree", every file and
    directory of the workspace (nothing left behind, nothing missing); "env": (name, value)
    pairs for both sides."""
    args, files, stdin, outs = case["args"], case.get("files", {}), case.get("stdin"), case.get("outs", [])
    env = case.get("env", ())
    g = r.guest(tool, args, files, stdin, env)
    n = r.native(tool, args, files, stdin, env)
    label = "%s %s" % (tool, " ".join(repr(x) if " " in x or not x else x for x in args))[:200]
    if env:
        label += " (%s)" % " ".join("%s=%s" % kv for kv in env)
    same = g[0] == n[0] and g[1] == n[1] and g[2] == n[2]
    for o in outs:
        same = same and read(g[3], o) == read(n[3], o)
    detail = ""
    if case.get("tree"):
        gt, nt = tree(g[3]), tree(n[3])
        same = same and gt == nt
        detail = "\n  tree: only guest %s, only native %s, differ %s" % (
            sorted(set(gt) - set(nt)), sorted(set(nt) - set(gt)),
            sorted(k for k in set(gt) & set(nt) if gt[k] != nt[k]))
    c.check(label, same,
            "guest: %d %r %r\n  native: %d %r %r%s" % (g[0], g[1][:400], g[2][:400], n[0], n[1][:400],
                                                       n[2][:400], detail))


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


def patch_limits(c, r):
    """What patch needs processes or dup2 for is refused with a message, the target untouched."""
    files = {"f.txt": b"a\nb\n", "ed.diff": b"2c\nB\n.\n",
             "u.diff": b"--- a/f.txt\n+++ b/f.txt\n@@ -1,2 +1,2 @@\n a\n-b\n+B\n"}
    g = r.guest("patch", ["-e", "f.txt", "ed.diff"], files, None)
    c.check("patch: ed scripts are refused", g[0] == 2 and
            b"ed scripts cannot be applied: there are no processes in the WASI sandbox" in g[2] and
            read(g[3], "f.txt") == b"a\nb\n", "got %d %r %r" % (g[0], g[1][:300], g[2][:300]))
    g = r.guest("patch", ["-p1", "-o", "-", "f.txt", "u.diff"], files, None)
    c.check("patch: -o - is refused", g[0] == 2 and
            b"-o - (the output on standard output) is not supported in the WASI sandbox" in g[2] and
            read(g[3], "f.txt") == b"a\nb\n", "got %d %r %r" % (g[0], g[1][:300], g[2][:300]))
    # A version-controlled file (RCS/f.txt,v, f.txt missing) is checked out by running co:
    # refused with a message, as Debian's patch fails without co ("Can't get file"), nothing made.
    rcs = {"RCS/f.txt,v": b"head 1.1;\n", "u.diff": files["u.diff"]}
    g = r.guest("patch", ["-p1", "-g", "1", "-i", "u.diff"], rcs, None)
    c.check("patch: version-control checkouts are refused", g[0] == 2 and
            b"cannot run commands: there are no processes in the WASI sandbox" in g[1] and
            g[2] == b"patch: **** Can't get file f.txt from RCS\n" and read(g[3], "f.txt") is None,
            "got %d %r %r" % (g[0], g[1][:300], g[2][:300]))


def bombs(c, r):
    """A decompression bomb stops at the output bound: 64 MiB of zeros (65 KB compressed) through
    zcat with --max-output-bytes 1000000 ends the run (output_limit) at the bound."""
    import gzip as gz
    bomb = gz.compress(bytes(64 << 20), compresslevel=9, mtime=0)
    ws = r.workspace({"bomb.gz": bomb})
    p = subprocess.run(bundle_test.run_command(r.a, ws, "zcat", ["bomb.gz"],
                                               flags=["--max-output-bytes", "1000000"]),
                       capture_output=True, timeout=300)
    c.check("zcat: a bomb stops at --max-output-bytes",
            p.returncode != 0 and len(p.stdout) <= 1000000 and b"output_limit" in p.stderr,
            "%d %d %r" % (p.returncode, len(p.stdout), p.stderr[-300:]))


def main():
    ap = bundle_test.arg_parser(__doc__)
    ap.add_argument("--tools", default="awk,jq,diff,cmp,gzip,patch")
    ap.add_argument("--seed", type=int, default=20261125)
    a = ap.parse_args()
    tools = a.tools.split(",")
    for t in tools:
        if not os.path.exists(NATIVE[t]):
            print("FAIL: the reference %s is missing: run scripts/setup.sh" % NATIVE[t])
            return 1
    if not bundle_test.prepare_engine(a):
        return 1
    c = bundle_test.Checks()
    r = Runner(a)
    try:
        rng = random.Random(a.seed)
        for t in tools:
            if t in ("cmp", "gunzip", "zcat"):
                continue  # with diff's, gzip's cases
            cases = {"awk": gen.awk_cases, "jq": gen.jq_cases, "diff": gen.diff_cases,
                     "gzip": gen.gzip_cases, "patch": gen.patch_cases}[t](rng)
            for case in cases:
                differential(c, r, case.get("tool", t), case)
        if "awk" in tools and "jq" in tools:
            wasi_limits(c, r)
        if "gzip" in tools:
            bombs(c, r)
        if "patch" in tools:
            patch_limits(c, r)
    finally:
        r.close()
    return c.finish("engine %s, tools %s" % (a.engine, ",".join(tools)))


if __name__ == "__main__":
    sys.exit(main())
