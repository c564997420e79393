#!/usr/bin/env python3
"""`find ... -exec` in `wasmcap sh` (docs/shell.md "find -exec") against GNU find.

Differential: each script runs under `wasmcap sh` (the find guest walks, the shell runs the
commands) and under bash with Debian's GNU find, on copies of the same tree; stdout, the exit
status, stderr (byte for byte, or only empty-or-not for `class` cases: the guest's messages
quote names as in its C.UTF-8 locale, or as coreutils' find does) and the resulting tree must
agree. Then fixed expectations: what is refused (never approximated) and the bounds.

Two setups: coreutils alone (its own find, which walks in bytewise order where GNU walks in
directory order: scripts listing several paths sort them), and --toolbox (coreutils and the
toolbox, whose GNU find is then the command table's `find`): the same scripts, plus
TOOLBOX_CASES with the tests only GNU's find has (-newer, -size, -mtime, -prune, -empty, -regex)
compared unsorted: GNU's find in the sandbox reads directories in the host's order, as Debian's
does on the other copy, made by the same code in the same order.

Usage: find_exec.py --wasmcap build/bin/wasmcap --bundles build/bundles [--engine interp|aot]
                    [--toolbox]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import shell_env  # noqa: E402
from differential import snapshot  # noqa: E402

GNU_ENV = {"LC_ALL": "C", "TZ": "UTC", "PATH": "/usr/bin:/bin"}

CASES = [
    ("find . -name '*.txt' -exec cat {} \\; | sort", "exact"),
    ("find . -type f -exec echo x{}y \\; | sort", "exact"),
    ("find . -type f -exec echo {}{} \\; | sort", "exact"),
    ("find . -type f -exec grep -l foo {} + | sort", "exact"),
    ("find . -type f -exec wc -l {} + | sort", "exact"),
    ("find . -maxdepth 1 -type f -exec echo {} + | tr ' ' '\\n' | sort", "exact"),
    ("find sub -exec echo {} \\; | sort", "exact"),
    ("find sub -type f -exec cat {} + | sort", "exact"),
    ("find . sub -name 'c*' -exec echo {} \\; | sort", "exact"),
    ("find . -type f -name 'sp*' -exec cat {} \\;", "exact"),
    ("find . \\( -name a.txt -o -name b.txt \\) -exec echo {} \\; | sort", "exact"),
    ("find . -name a.txt -o -name '*.txt' -exec echo {} \\; | sort", "exact"),
    ("find . -name sub -o -type f -exec echo {} + -print | tr ' ' '\\n' | sort", "exact"),
    ("find . -type d -o -name 'b*' -o -name '*.txt' -exec echo {} \\; | sort", "exact"),
    ("find . ! -type d -exec echo {} \\; | sort", "exact"),
    ("find . -name '*.txt' -exec test -s {} \\; -print | sort", "exact"),
    ("find . -type f -exec grep -q foo {} \\; -exec echo has {} \\; | sort", "exact"),
    ("find . -type f -exec grep -q foo {} \\; -a -print0 | tr '\\0' '\\n' | sort", "exact"),
    ("find . -print -exec true \\; | sort", "exact"),
    ("find . -type f ! -name 'sp*' -exec echo {} + -print | tr ' ' '\\n' | sort", "exact"),
    ("find . -name '*.txt' -exec sh -c 'echo \"$1\" | tr a-z A-Z' _ {} \\; | sort", "exact"),
    ("find . -name '*.txt' -execdir echo {} \\; | sort", "exact"),
    ("find . -name '*.txt' -execdir cat {} \\; | sort", "exact"),
    ("find . -type d -execdir echo {} + | tr ' ' '\\n' | sort", "exact"),
    ("find . -type f -exec false \\; ; echo $?", "exact"),
    ("find . -type f -exec false {} + ; echo $?", "exact"),
    ("find . -type f -exec sh -c 'exit 255' \\; ; echo $?", "exact"),
    ("find . -type f -exec nosuch {} \\; 2>&1 | sort; echo $?", "exact"),
    ("find . -type f -exec nosuch {} + ; echo $?", "exact"),
    ("find . -exec echo x{} {} + ; echo $?", "exact"),
    ("find . -exec echo {} ; echo $?", "exact"),
    ("find . -exec ; echo $?", "exact"),
    ("find . -name a.txt -exec rm {} \\; ; find . -type f | sort", "exact"),
    ("find . -name '*.txt' -exec cp {} {}.bak \\; ; find . -name '*.bak' | sort", "exact"),
    ("find missing -exec echo {} \\; ; echo $?", "class"),
    ("find . -name nothing -exec echo {} + ; echo $?", "exact"),
    ("echo sub | xargs -I{} find {} -name '*.txt' -exec echo x {} \\; | sort", "exact"),
    ("find sub -type d -exec sh -c 'find \"$1\" -maxdepth 1 -type f -exec echo in {} \\;' _ {} \\; | sort",
     "exact"),
]


# GNU find as the table's `find` (--toolbox): its tests before the actions, output in directory
# order (not sorted).
TOOLBOX_CASES = [
    ("find . -name '*.txt' -exec echo {} \\;", "exact"),
    ("find . -newer a.txt -exec echo new {} \\;", "exact"),
    ("find . -type f -mmin -60 -exec cat {} +", "exact"),
    ("find . -type f -mtime +30 -exec echo old {} +", "exact"),
    ("find . -size +6c -type f -exec wc -c {} \\;", "exact"),
    ("find . -name sub -prune -o -type f -exec echo {} \\;", "exact"),
    ("find . -path ./sub/deep -prune -o -exec echo {} +", "exact"),
    ("find . -empty -exec echo empty {} \\;", "exact"),
    ("find . -regex '.*/[a-z]\\.txt' -execdir echo {} \\;", "exact"),
    ("find sub -mindepth 1 -maxdepth 1 -exec echo {} \\; -print", "exact"),
    ("find . -name '*.txt' -quit -exec echo {} \\;", "exact"),
    ("find . -type f -exec test -s {} \\; -print0 | tr '\\0' '\\n'", "exact"),
    ("find . -size -1k -name 'e*' -exec sh -c 'echo \"$1\"; rm \"$1\"' _ {} \\; ; find . -type f",
     "exact"),
    ("find missing . -maxdepth 0 -exec echo {} \\; ; echo $?", "class"),
    ("type find", None),
]


def build_tree(root):
    def w(rel, data):
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(data)
    w("a.txt", "foo one\n")
    w("b.txt", "bar\n")
    w("sp ace.txt", "spaced\n")
    w("sub/c.txt", "foo sub\n")
    w("sub/deep/e.txt", "deep\n")
    os.makedirs(os.path.join(root, "sub", "none"))
    # Fixed times (months old), b.txt ten minutes old: -newer, -mmin and -mtime answer the same
    # on both copies whenever the test runs.
    for dp, dns, fns in os.walk(root):
        for n in dns + fns:
            os.utime(os.path.join(dp, n), (1767225600, 1767225600))
    os.utime(root, (1767225600, 1767225600))
    now = time.time() - 600
    os.utime(os.path.join(root, "b.txt"), (now, now))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--wasmcap", required=True)
    ap.add_argument("--bundles", required=True)
    ap.add_argument("--engine", default=os.environ.get("WASMCAP_TEST_ENGINE", "interp"))
    ap.add_argument("--toolbox", action="store_true")
    a = ap.parse_args()
    failures = []
    with tempfile.TemporaryDirectory(prefix="wasmcap-find-exec-") as tmp:
        bundles = ["coreutils.wcb"] + (["toolbox.wcb"] if a.toolbox else [])
        extra = {}
        if a.toolbox and a.engine == "aot" and not os.environ.get("WASMCAP_CACHE_DIR"):
            # the toolbox module's object, compiled by toolbox/differential-aot
            sys.path.insert(0, os.path.join(os.path.dirname(HERE), "support"))
            import bundle_test
            extra["WASMCAP_CACHE_DIR"] = bundle_test.aot_cache_dir()
        env = shell_env.install_bundles(a, tmp, bundles, **extra)
        if env is None:
            return 1
        cases = CASES + (TOOLBOX_CASES if a.toolbox else [])

        def ours(script, ws, *flags):
            return subprocess.run([a.wasmcap, "sh", "--engine", a.engine, "--dir", ws + "::/work"]
                                  + list(flags) + ["-c", script], env=env, capture_output=True,
                                  timeout=300, stdin=subprocess.DEVNULL)
        for i, (script, mode) in enumerate(cases):
            if mode is None:
                continue  # a fixed expectation below
            w_dir, g_dir = os.path.join(tmp, "w%d" % i), os.path.join(tmp, "g%d" % i)
            build_tree(w_dir)
            build_tree(g_dir)
            w = ours(script, w_dir)
            g = subprocess.run(["bash", "-c", script], cwd=g_dir, env=GNU_ENV,
                               capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
            problems = []
            if w.stdout != g.stdout:
                problems.append("stdout\n  wasmcap: %r\n  GNU:     %r" % (w.stdout, g.stdout))
            if w.returncode != g.returncode:
                problems.append("exit %d != %d" % (w.returncode, g.returncode))
            if (w.stderr != g.stderr) if mode == "exact" else (bool(w.stderr) != bool(g.stderr)):
                problems.append("stderr\n  wasmcap: %r\n  GNU:     %r" % (w.stderr, g.stderr))
            if snapshot(w_dir) != snapshot(g_dir):
                problems.append("trees differ")
            if problems:
                failures.append(script)
                print("FAIL %r:\n  %s" % (script, "\n  ".join(problems)))
        n = sum(1 for _, m in cases if m)
        print("differential: %d/%d agree with GNU find" % (n - len(failures), n))

        ws = os.path.join(tmp, "fixed")
        build_tree(ws)
        many = os.path.join(ws, "many")
        os.makedirs(many)
        for k in range(2000):
            open(os.path.join(many, "%s%05d" % ("n" * 150, k)), "w").close()

        def check(label, ok, p):
            if not ok:
                failures.append(label)
                print("FAIL %s: exit %d %r %r" % (label, p.returncode, p.stdout[:300], p.stderr[:300]))
        refused = [
            ("-ok", "find . -ok echo {} \\;"),
            ("-okdir", "find . -okdir echo {} \\;"),
            ("a top-level ,", "find . -name a.txt , -name b.txt -exec echo {} \\;"),
            ("-exec inside ( )", "find . \\( -exec true \\; \\)"),
            ("a test after -exec", "find . -exec true \\; -name a.txt"),
            ("! -exec", "find . ! -exec false \\;"),
            ("-print inside ( )", "find . \\( -name a.txt -print \\) -exec true \\;"),
            ("-printf among the tests", "find . -printf '%p\\n' -exec true \\;"),
            ("-delete among the tests", "find . -name a.txt -delete -exec true \\;"),
            ("-ls among the tests", "find . -ls -exec true \\;"),
        ]
        for label, script in refused:
            p = ours(script + "; echo $?", ws)
            check("refused: " + label, p.stdout == b"1\n" and b"refused" in p.stderr, p)
        check("refused, nothing deleted", os.path.exists(os.path.join(ws, "a.txt")), p)
        p = ours("type find", ws)
        table = b"toolbox" if a.toolbox else b"coreutils"
        check("the table's find is %s's" % table.decode(), table in p.stdout, p)
        p = ours("find . -type f -exec true \\; ; echo after", ws, "--max-commands", "3")
        check("--max-commands counts the walk and each command", p.returncode == 81, p)
        p = ours("find many -exec true {} + ; echo $?", ws, "--max-shell-memory", "262144")
        check("--max-shell-memory bounds the paths read back",
              p.stdout == b"1\n" and b"out of shell memory" in p.stderr, p)
        p = ours("find many -exec true {} + ; echo $?", ws)
        check("the same walk fits the default budget", p.stdout == b"0\n", p)
        batches = "find many -exec echo {} + | while read -r l; do echo ${#l}; done"
        p = ours(batches, ws)
        g = subprocess.run(["bash", "-c", batches], cwd=ws, env=GNU_ENV, capture_output=True)
        check("-exec + batches as GNU's (2000 paths of 161 bytes: %r)" % g.stdout,
              p.stdout == g.stdout and g.stdout.count(b"\n") == 3, p)
        p = ours("find many -exec true {} + ; echo $?", ws, "--max-words", "100")
        check("--max-words bounds one batch", p.stdout == b"1\n" and b"--max-words" in p.stderr, p)
        p = ours("find . -exec true \\; | cat; echo $?", ws, "--max-live-commands", "2")
        check("--max-live-commands: the walk is a live command",
              b"--max-live-commands" in p.stderr, p)
        p = ours("f() { echo fn; }; find . -name a.txt -exec f \\; ; echo $?", ws)
        check("functions are not programs", p.stdout == b"0\n" and b"'f'" in p.stderr, p)
    print("engine %s: %d failures" % (a.engine, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
