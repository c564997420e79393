#!/usr/bin/env python3
"""The shell's xargs builtin (docs/shell.md "xargs") against GNU findutils' xargs.

Differential: each script runs as `wasmcap sh --dir TREE::/work -c SCRIPT` (tools from the
coreutils bundle) and as `bash -c SCRIPT` with Debian's GNU xargs and coreutils (cwd TREE,
LC_ALL=C), on copies of the same tree; stdout, the exit status and stderr must agree byte for
byte (cases marked `class` compare whether stderr is empty only: the command's own message comes
from a different shell or tool). Then fixed expectations for the bounds GNU cannot be compared
on: --max-commands, --max-words, --max-shell-memory, --max-output-bytes, the deadline, and
--max-live-commands under -P (from the audit records' times).

Usage: xargs.py --wasmcap build/bin/wasmcap --bundles build/bundles [--engine interp|aot]
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import shell_env

GNU_ENV = {"LC_ALL": "C", "TZ": "UTC", "PATH": "/usr/bin:/bin"}

# (script, stderr comparison: "exact" or "class")
CASES = [
    # splitting without -0: blanks, newlines, quotes, backslashes (GNU's read_line)
    ("printf 'a b\\n\"c d\" e\\\\ f\\n' | xargs", "exact"),
    ("printf '  a\\t b  \\n\\n\\n c' | xargs echo x", "exact"),
    ("printf \"a ''\\n\" | xargs -n1 echo x", "exact"),
    ("printf \"a '' b\\n\" | xargs -n1 echo x", "exact"),
    ("printf \"a ''\" | xargs -n1 echo x", "exact"),
    ("printf 'a\\\\\\nb c\\n' | xargs -n1 echo x", "exact"),
    ("printf \"'it''s' \\\"x'y\\\"\\n\" | xargs -n1 echo", "exact"),
    ("printf \"a 'b\" | xargs echo; echo $?", "exact"),
    ("printf 'a \"b\\nc\"\\n' | xargs echo; echo $?", "exact"),
    ("printf 'a\\0b\\n' | xargs echo", "exact"),
    ("printf 'one\\ntwo\\nthree\\n' | xargs -E two echo", "exact"),
    ("printf 'one two\\nthree\\n' | xargs -e two echo", "exact"),
    # -0 and -d
    ("printf 'a\\0b c\\0' | xargs -0 -n1 echo", "exact"),
    ("printf 'a\\0\\0b' | xargs -0 -n1 echo x", "exact"),
    ("printf 'a:b:c\\n' | xargs -d: -n1 echo", "exact"),
    ("printf 'a b\\nc' | xargs -d'\\n' -n1 echo x", "exact"),
    ("printf 'xAyAz' | xargs -d '\\x41' echo", "exact"),
    ("printf 'aAb' | xargs -d '\\101' echo", "exact"),
    ("printf 'a\\tb' | xargs -d '\\t' echo", "exact"),
    ("echo a | xargs -d ab echo; echo $?", "exact"),
    ("echo a | xargs -d '\\q' echo; echo $?", "exact"),
    ("echo a | xargs -d '\\x41z' echo; echo $?", "exact"),
    ("echo a | xargs -d '\\777' echo; echo $?", "exact"),
    # -n, -L, -s: GNU's batches
    ("seq 10 | xargs -n3 echo x", "exact"),
    ("seq 10 | xargs -n 4", "exact"),
    ("printf 'a b \\nc\\nd\\n' | xargs -L1 echo", "exact"),
    ("printf 'a\\n\\nb\\n c\\n' | xargs -L1 echo x", "exact"),
    ("printf '1 2\\n3\\n4 5 6\\n7\\n' | xargs -L2 echo x", "exact"),
    ("printf '1\\n2\\n3\\n' | xargs -l echo x", "exact"),
    ("printf 'a\\0b\\0c\\0' | xargs -0 -L2 echo x", "exact"),
    ("seq 4 | xargs -n2 -L1 echo", "exact"),
    ("seq 4 | xargs -L1 -n2 echo", "exact"),
    ("yes aaaaaaaaaa | head -n 20 | xargs -s 92 echo", "exact"),
    ("yes aaaaaaaaaa | head -n 20 | xargs -s 93 echo", "exact"),
    ("yes aaaaaaaaaa | head -n 3 | xargs -s 20 echo; echo $?", "exact"),
    ("echo aaaaaaaaaaaaaaaaaa | xargs -s 15 echo; echo $?", "exact"),
    ("echo x | xargs -s 0 echo; echo $?", "exact"),
    ("seq 1 60000 | xargs echo x y | wc", "exact"),
    ("seq 1 60000 | xargs -n 7000 | wc", "exact"),
    # -I / -i
    ("printf '  a b \\n\\n  d\\n' | xargs -I{} echo [{}]", "exact"),
    ("printf 'abc\\n' | xargs -I{} echo {}{} x{}y {", "exact"),
    ("printf '\"q w\"\\n' | xargs -I@ echo @", "exact"),
    ("printf 'x\\ny\\n' | xargs -i echo {}.txt", "exact"),
    ("printf 'x\\ny\\n' | xargs -iZ echo Z-Z", "exact"),
    ("seq 3 | xargs -n1 -I{} echo {}", "exact"),
    ("echo | xargs -I{} echo x; echo $?", "exact"),
    ("printf 'a\\0b c\\0' | xargs -0 -I{} echo [{}]", "exact"),
    ("printf 'p\\nq\\n' | xargs -I{} sh -c 'echo {} {}'", "exact"),
    # -r, the default command, empty input, -t
    ("xargs echo hi < /dev/null", "exact"),
    ("xargs -r echo hi < /dev/null; echo $?", "exact"),
    ("xargs < /dev/null | od -c", "exact"),
    ("echo 'a  b' | xargs -t echo", "exact"),
    ("printf '\"a b\" c\\n' | xargs -t echo", "exact"),
    ("printf 'x\\n' | xargs -t -I{} echo {} ''", "exact"),
    ("printf \"it's\\n\" | xargs -d'\\n' -t echo", "exact"),
    ("printf 'a\\tb\\n' | xargs -d'\\n' -t echo", "exact"),
    ("xargs -t echo < /dev/null", "exact"),
    ("seq 3 | xargs -t -n1 echo", "exact"),
    # exit statuses: 123 (1-125), 124 (255), 127 (not found), 126, and usage errors (1)
    ("seq 3 | xargs -n1 sh -c 'exit 3'; echo $?", "exact"),
    ("seq 3 | xargs -n1 sh -c 'echo $0; exit 255'; echo $?", "exact"),
    ("seq 3 | xargs -n1 sh -c 'exit 127'; echo $?", "exact"),
    ("seq 3 | xargs -n1 sh -c 'exit 126'; echo $?", "exact"),
    ("echo a | xargs nosuchcommand; echo $?", "exact"),
    ("echo a b | xargs -n1 nosuchcommand; echo $?", "exact"),
    ("printf 'echo hi\\n' > s.sh; echo x | xargs ./s.sh; echo $?", "class"),
    ("seq 3 | xargs -n1 false; echo $?", "exact"),
    ("seq 3 | xargs -n1 test 2 -eq; echo $?", "exact"),
    ("echo x | xargs -k echo; echo $?", "exact"),
    ("echo x | xargs -n abc echo; echo $?", "exact"),
    ("echo x | xargs -n 0 echo; echo $?", "exact"),
    ("echo x | xargs -P -1 echo; echo $?", "exact"),
    ("echo x | xargs --max-args; echo $?", "exact"),
    ("echo x | xargs -n; echo $?", "exact"),
    ("echo x | xargs --bogus; echo $?", "exact"),
    # long options, option clusters, `--`
    ("seq 5 | xargs --max-args=2 --verbose echo", "exact"),
    ("seq 5 | xargs --max-args 2 --no-run-if-empty echo", "exact"),
    ("printf 'a\\0b\\0' | xargs --null --max-lines=1 echo", "exact"),
    ("seq 6 | xargs -rn2 echo", "exact"),
    ("seq 3 | xargs -- echo -n", "exact"),
    ("seq 3 | xargs echo -n; echo", "exact"),
    # tools from the command table, in the shell's working directory
    ("printf 'a.txt\\nb.txt\\n' | xargs cat", "exact"),
    ("printf 'a.txt b.txt' | xargs wc -l", "exact"),
    ("printf 'a.txt\\0b.txt\\0' | xargs -0 grep -c foo", "exact"),
    ("cd sub && echo c.txt | xargs cat", "exact"),
    ("echo new1 new2 | xargs touch && ls new1 new2", "exact"),
    ("echo missing.txt | xargs cat; echo $?", "class"),
    ("seq 20 | xargs -n1 -P4 echo | sort -n | paste -sd' '", "exact"),
    ("seq 12 | xargs -n3 -P0 echo | sort", "exact"),
    ("seq 5 | xargs -P3 -n1 sh -c 'exit $0'; echo $?", "exact"),
    ("f() { echo function; }; echo x | xargs f; echo $?", "exact"),
    ("echo x | xargs printf '<%s>\\n'", "exact"),
    ("echo x | xargs true; echo $?", "exact"),
    # -a FILE: the items from FILE; the commands keep xargs' stdin
    ("printf 'a b\\nc\\n' > l; xargs -a l echo", "exact"),
    ("printf 'p\\nq\\n' > l; echo in | xargs -a l -n1 sh -c 'read x; echo \"$0 [$x]\"'", "exact"),
    ("printf 'x\\0y\\0' > l; xargs --arg-file=l -0 -n1 echo", "exact"),
    ("xargs -a missing echo; echo $?", "exact"),
    ("printf 'a\\033[31mb\\n' | xargs -d'\\n' -t echo | od -c", "exact"),
]


def build_tree(root):
    def w(rel, data):
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(data)
    w("a.txt", "foo one\nbar two\nfoo three\n")
    w("b.txt", "no foo here\n")
    w("sub/c.txt", "sub line\n")


def differential(a, env, tmp):
    failures = []
    for i, (script, stderr_mode) in enumerate(CASES):
        ours, theirs = os.path.join(tmp, "w%d" % i), os.path.join(tmp, "g%d" % i)
        build_tree(ours)
        build_tree(theirs)
        w = subprocess.run([a.wasmcap, "sh", "--engine", a.engine, "--dir", ours + "::/work",
                            "-c", script], env=env, capture_output=True, timeout=300,
                           stdin=subprocess.DEVNULL)
        g = subprocess.run(["bash", "-c", script], cwd=theirs, env=GNU_ENV,
                           capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        problems = []
        if w.stdout != g.stdout:
            problems.append("stdout\n  wasmcap: %r\n  GNU:     %r" % (w.stdout[:600], g.stdout[:600]))
        if w.returncode != g.returncode:
            problems.append("exit %d != %d" % (w.returncode, g.returncode))
        same_err = w.stderr == g.stderr if stderr_mode == "exact" else bool(w.stderr) == bool(g.stderr)
        if not same_err:
            problems.append("stderr\n  wasmcap: %r\n  GNU:     %r" % (w.stderr[:600], g.stderr[:600]))
        if problems:
            failures.append(script)
            print("FAIL %r:\n  %s" % (script, "\n  ".join(problems)))
    print("differential: %d/%d agree with GNU xargs" % (len(CASES) - len(failures), len(CASES)))
    return failures


def max_overlap(audit_path, name):
    """The most commands named `name` running at once, from the audit records' times."""
    import datetime
    starts, events = {}, []
    with open(audit_path) as f:
        recs = [json.loads(line) for line in f]
    for r in recs:
        if not r.get("argv") or r["argv"][0] != name or r["event"] != "shell_command":
            continue
        end = datetime.datetime.strptime(r["time"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
        # (The record's time has millisecond precision: each interval is narrowed by 2 ms so
        # that one command starting as another ends is not counted as running beside it.)
        events.append((end - r["duration_ms"] / 1000.0 + 0.002, 1))
        events.append((end - 0.002, -1))
    live = most = 0
    for _, d in sorted(events, key=lambda e: (e[0], e[1])):
        live += d
        most = max(most, live)
    return most


def bounds(a, env, tmp):
    ws = os.path.join(tmp, "bounds")
    os.makedirs(ws)
    with open(os.path.join(ws, "nuls"), "wb") as f:
        f.write(b"\0" * 120000)
    with open(os.path.join(ws, "long"), "wb") as f:
        f.write(b"x" * 1500000)

    def sh(script, *flags):
        return subprocess.run([a.wasmcap, "sh", "--engine", a.engine, "--dir", ws + "::/work"]
                              + list(flags) + ["-c", script], env=env, capture_output=True,
                              timeout=300, stdin=subprocess.DEVNULL)
    failures = []

    def check(label, ok, p):
        if not ok:
            failures.append(label)
            print("FAIL %s: exit %d %r %r" % (label, p.returncode, p.stdout[:300], p.stderr[:300]))

    p = sh("seq 100 | xargs -n1 true; echo after", "--max-commands", "40")
    check("--max-commands stops the xargs commands", p.returncode == 81 and b"after" not in p.stdout, p)
    p = sh("xargs -0 true < nuls; echo $?")
    check("--max-words bounds one command line's words",
          p.stdout == b"1\n" and b"--max-words" in p.stderr, p)
    p = sh("seq 30 | xargs echo; echo $?", "--max-words", "10")
    check("--max-words (small)", p.stdout == b"1\n" and b"--max-words" in p.stderr, p)
    p = sh("xargs -s 2000000 echo < long | wc -c; echo $?", "--max-shell-memory", "1048576")
    check("--max-shell-memory bounds the item being read",
          b"out of shell memory" in p.stderr and p.stdout.endswith(b"0\n"), p)
    p = sh("xargs -s 2000000 echo < long | wc -c")
    check("the same item fits the default budget", p.stdout == b"1500001\n", p)
    p = sh("yes | head -n 100000 | xargs -n 5000 echo; echo $?", "--max-output-bytes", "1000")
    check("--max-output-bytes", p.returncode == 84, p)
    p = sh("sleep 30 | xargs echo; echo after", "--timeout-ms", "1500")
    check("the deadline ends xargs waiting for input", p.returncode == 82 and b"after" not in p.stdout, p)
    p = sh("seq 3 | xargs -P2 -n1 echo; echo $?", "--max-live-commands", "2")
    check("-P with no live command left: the bound's message, nothing run",
          p.stdout == b"1\n" and b"--max-live-commands" in p.stderr, p)
    audit = os.path.join(tmp, "audit.jsonl")
    p = sh("xargs -n1 -P6 sleep <<< '0.3 0.3 0.3 0.3 0.3 0.3'; echo $?", "--max-live-commands", "2",
           "--audit-file", audit)
    most = max_overlap(audit, "sleep")
    check("-P6 under --max-live-commands 2 runs all, at most 2 at once (%d)" % most,
          p.stdout == b"0\n" and 1 <= most <= 2, p)
    os.unlink(audit)
    p = sh("xargs -n1 -P3 sleep <<< '0.5 0.5 0.5'; echo $?", "--audit-file", audit)
    most = max_overlap(audit, "sleep")
    check("-P3 runs them at once (%d)" % most, p.stdout == b"0\n" and most >= 2, p)
    p = sh("echo x | xargs printf -v v %s; echo \"[$v]\"; echo / | xargs cd; echo $?")
    check("a command cannot change the shell; cd is not a program",
          p.stdout == b"[]\n127\n", p)
    p = sh("xargs -a /etc/passwd echo; echo $?")
    check("-a FILE is opened beneath the preopens only",
          p.stdout == b"1\n" and b"Cannot open input file '/etc/passwd'" in p.stderr, p)
    p = sh("echo x | xargs -p echo; echo $?")
    check("-p is refused", p.stdout == b"1\n" and b"refused" in p.stderr, p)
    p = sh("echo 'a\x1b[31m' | xargs -t nosuch\x1b")
    check("names are escaped in messages", b"\x1b" not in p.stderr, p)
    print("bounds: %d checks failed" % len(failures))
    return failures


def main():
    a = shell_env.parse_args(__doc__)
    if shutil.which("xargs") is None:
        print("SKIP: no GNU xargs")
        return 77
    with tempfile.TemporaryDirectory(prefix="wasmcap-xargs-") as tmp:
        env = shell_env.install_coreutils(a, tmp)
        if env is None:
            return 1
        failures = differential(a, env, tmp) + bounds(a, env, tmp)
    print("engine %s: %d failures" % (a.engine, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
