#!/usr/bin/env python3
"""Differential tests for `wasmcap sh`: each script of the corpus runs twice on identical copies
of a test tree,
  wasmcap sh --dir TREE::/work -c SCRIPT        (tools from the coreutils bundle, cwd /work)
  bash -c SCRIPT                                (GNU tools, cwd TREE, LC_ALL=C)
and stdout, the exit status, the stderr class (empty or not) and the resulting tree must agree.
Scripts print no absolute paths (the two runs see different roots). The documented differences
(docs/shell.md "Differences from bash") are excluded by not putting them in the corpus: every
script here must agree exactly.

Usage: differential.py --wasmcap build/bin/wasmcap --bundles build/bundles
"""
import os
import subprocess
import sys
import tempfile

import shell_env

GNU_ENV = {"LC_ALL": "C", "TZ": "UTC", "PATH": "/usr/bin:/bin"}

CORPUS = [
    "echo hello world",
    "echo a; echo b; false; echo $?",
    "true && echo yes || echo no",
    "false && echo yes || echo no",
    "false || false || echo third",
    "X=value; echo $X \"$X\" '$X'",
    "X='a   b'; echo $X; echo \"$X\"",
    "echo a\\ b \"c\\\"d\" 'e\\f'",
    "echo *.txt",
    "echo sub/*.txt; echo nomatch*",
    "echo '*.txt' \"*.txt\"",
    "ls",
    "ls sub | wc -l",
    "cat a.txt | grep foo | wc -l",
    "grep -n foo a.txt b.txt",
    "grep -c o a.txt > count.txt; cat count.txt",
    "echo first > out.txt; echo second >> out.txt; cat out.txt",
    "cat < a.txt | head -n 2",
    "sed s/foo/FOO/g a.txt | tail -n 2",
    "mkdir -p new/dir && echo x > new/dir/f && ls new/dir",
    "cd sub && pwd | sed 's|.*/||' && cat c.txt",
    "cd sub; cd ..; ls | head -n 1",
    "test -f a.txt && echo file; test -d sub && echo dir; [ -e missing ] || echo missing",
    "[ 3 -gt 2 ] && [ a != b ] && echo ok",
    "nosuchcommand; echo $?",
    "cat missing.txt; echo $?",
    "cat missing.txt 2>&1 | wc -l",
    "ls missing 2>/dev/null; echo $?",
    "rm a.txt && ls",
    "cp a.txt copy.txt && mv copy.txt moved.txt && cat moved.txt",
    "find sub -name '*.txt' | sort_is_missing_so_head | head -n 5; echo $?",
    "grep -r foo sub | wc -l",
    "exit 7",
    "echo before; exit 3; echo after",
    "wc -l a.txt b.txt",
    "head -n 1 a.txt; tail -n 1 b.txt",
    "cat a.txt | sed -n 2p",
    # command substitution
    "echo $(echo hello)",
    "N=$(grep -c foo a.txt); echo count=$N",
    "echo \"$(cat a.txt | head -n 2)\"",
    "echo $(cat a.txt | head -n 2)",
    "echo [$(echo '  a   b  ')] [\"$(echo '  a   b  ')\"]",
    "echo \"$(echo \"nested $(echo deep)\")\"",
    "X=$(false); echo $?; X=$(grep nomatch a.txt) || echo none",
    "echo $(false); echo $?",
    "cat $(echo a.txt) | wc -l",
    "echo $(ls sub)",
    "echo x$(echo)y \"$(printf_missing 2>/dev/null)\"; echo $?",
    "echo $(cat missing.txt); echo $?",
    "D=$(echo sub); cd $D && pwd | sed 's|.*/||'",
    "echo $(cd sub; ls | head -n 1) $(ls | head -n 1)",
    "echo $(exit 3); X=$(exit 4); echo $?",
    "wc -l $(ls sub/*.txt | head -n 1)",
    "echo data > $(echo out.txt); cat out.txt",
    "echo \"$(echo a; echo; echo b; echo; echo)|\"",
]


def build_tree(root):
    def w(rel, data):
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(data)
    w("a.txt", "foo one\nbar two\nfoo three\nbaz\n")
    w("b.txt", "no foo here\nlast line\n")
    w("sub/c.txt", "foo\nsub line\n")
    w("sub/d.txt", "d\n")
    w("sub/deep/e.txt", "foo deep\n")


def snapshot(root):
    out = {}
    for dp, dns, fns in os.walk(root):
        for n in sorted(dns + fns):
            p = os.path.join(dp, n)
            rel = os.path.relpath(p, root)
            out[rel] = open(p, "rb").read() if os.path.isfile(p) else None
    return out


def main():
    a = shell_env.parse_args(__doc__)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        env = shell_env.install_coreutils(a, tmp)
        if env is None:
            return 0 if not os.path.exists(os.path.join(a.bundles, "coreutils.wcb")) else 1
        for i, script in enumerate(CORPUS):
            ours, theirs = os.path.join(tmp, "w%d" % i), os.path.join(tmp, "g%d" % i)
            build_tree(ours)
            build_tree(theirs)
            w = subprocess.run([a.wasmcap, "sh", "--engine", a.engine, "--dir", ours + "::/work",
                                "-c", script], env=env, capture_output=True, timeout=60,
                               stdin=subprocess.DEVNULL)
            g = subprocess.run(["bash", "-c", script], cwd=theirs, env=GNU_ENV,
                               capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
            problems = []
            if w.stdout != g.stdout:
                problems.append("stdout\n  wasmcap: %r\n  bash:    %r" % (w.stdout, g.stdout))
            if w.returncode != g.returncode:
                problems.append("exit %d != %d" % (w.returncode, g.returncode))
            if bool(w.stderr) != bool(g.stderr):
                problems.append("stderr class\n  wasmcap: %r\n  bash:    %r" % (w.stderr, g.stderr))
            if snapshot(ours) != snapshot(theirs):
                problems.append("trees differ")
            if problems:
                failures += 1
                print("FAIL %r:\n  %s" % (script, "\n  ".join(problems)))
            else:
                print("ok   %r" % script)
    print("%d/%d scripts agree" % (len(CORPUS) - failures, len(CORPUS)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
