#!/usr/bin/env python3
"""The shell's expr and which (docs/shell.md "Commands") against GNU coreutils' expr and
debianutils' which (Debian 12).

Differential: each script runs as `wasmcap sh --dir TREE::/work -c SCRIPT` (tools from the
coreutils bundle) and as `bash -c SCRIPT` with Debian's /usr/bin/expr and /usr/bin/which (cwd
TREE, LC_ALL=C, PATH=/usr/bin:/bin); stdout, the exit status and stderr must agree byte for byte (cases marked
`class` compare whether stderr is empty only: a regex's error message is glibc's there, RE2's
translator's here). Then fixed expectations for what GNU cannot be compared on: the 64-bit
refusal (GNU's expr computes with GMP), back-references, the nesting bound, `which` of the
bundles' commands (bare names, as `command -v`: there is no file to name), and the shell's
$HOSTNAME (the coreutils `hostname`'s answer) and `hash -r NAME` (refused).

Usage: expr_which.py --wasmcap build/bin/wasmcap --bundles build/bundles [--engine interp|aot]
"""
import os
import shutil
import subprocess
import sys
import tempfile

import shell_env

GNU_ENV = {"LC_ALL": "C", "TZ": "UTC", "PATH": "/usr/bin:/bin"}


def x(*words, stderr="exact"):
    """An expr case: `expr WORDS; echo "st $?"`."""
    quoted = " ".join("'%s'" % w.replace("'", "'\\''") for w in words)
    return ("EXPR %s; echo \"st $?\"" % quoted, stderr)


CASES = [
    # arithmetic, precedence, truncating division, signs, leading zeros
    x("1", "+", "2", "*", "3"), x("(", "1", "+", "2", ")", "*", "3"), x("-5", "/", "2"),
    x("5", "%", "-3"), x("-5", "%", "3"), x("007", "+", "1"), x("-0", "+", "0"), x("10", "-", "20"),
    x("9223372036854775807", "+", "0"), x("-9223372036854775808", "-", "0"),
    x("3037000499", "*", "3037000499"), x("-9223372036854775807", "/", "-1"),
    x("5", "/", "0"), x("5", "%", "0"), x("a", "+", "1"), x("1", "+", "+1"), x("", "+", "1"),
    x("1", "+"), x("1", "2"), x("(", "1"), x("(", "1", "2"), x(")"), x("--", "-5", "+", "1"),
    x("--"), x(), x("--foo"), x("-1"),
    # operands in messages quoted as GNU's (C escapes, \ooo: nothing reaches a terminal raw)
    x("1", "a\tb"), x("1", "it's"), x("1", "\u00e9"), x("1", "\x1b[31m\\x"), x("1", "a\nb"),
    # comparisons: integers of any length numerically, else bytes
    x("3", "<", "10"), x("a", "<", "b"), x("010", "=", "10"), x("-0", "=", "0"), x("10", "\\<", "9"),
    x("99999999999999999999", ">", "9223372036854775807"), x("-99999999999999999999", "<", "-1"),
    x("abc", "!=", "abd"), x("b", ">=", "a"), x("", "=", ""), x("2", "==", "2"), x("1", "<=", "a"),
    # | and &, short-circuit (no division by zero on the side not evaluated)
    x("", "|", "0"), x("0", "|", "b"), x("a", "|", "b"), x("0", "&", "1"), x("a", "&", "b"),
    x("0", "&", "1", "/", "0"), x("1", "|", "1", "/", "0"), x("0", "|", "1", "/", "0"),
    x("-00", "|", "7"), x("-", "&", "x"),
    # length, index, substr, match, + TOKEN
    x("length", "hello"), x("length", ""), x("length", "length"), x("index", "abcdef", "dc"),
    x("index", "abc", "x"), x("substr", "hello", "2", "3"), x("substr", "hello", "0", "1"),
    x("substr", "hello", "4", "99999999999999999999"), x("substr", "hello", "-1", "2"),
    x("substr", "hello", "2", "-1"), x("substr", "hello", "2", "18446744073709551615"),
    x("substr", "hello", "99999999999999999999", "1"), x("substr", "hello", "5", "1"), x("substr", "hello", "6", "1"), x("substr", "hello", "a", "1"),
    x("+", "match"), x("+", "length"), x("match", "+", "1"), x("length"), x("+"),
    x("match", "abcd", "a\\(b\\)"), x("length", "abc", "+", "1"),
    # STRING : REGEX (a GNU basic regex, anchored at the start)
    x("abc", ":", "a"), x("abc", ":", "b"), x("abcd", ":", "a\\|ab"), x("abc", ":", "*a"),
    x("a*c", ":", "a*c"), x("a+c", ":", "a+c"), x("aac", ":", "a\\+"), x("ab", ":", "a\\?b"),
    x("abab", ":", "\\(ab\\)*"), x("abc", ":", "x\\(b\\)"), x("abc", ":", "ab\\(c\\)\\{0,1\\}"),
    x("abc", ":", "\\(a\\)\\(b\\)"), x("ab$c", ":", "ab$c"), x("a^b", ":", "a^b"), x("abc", ":", "^abc"),
    x("abc", ":", ".*"), x("abc", ":", ".*c$"), x("abc", ":", "ab$"), x("x.y", ":", "x\\.y"),
    x("xzy", ":", "x\\.y"), x("a{1}", ":", "a{1}"), x("aaa", ":", "a\\{2\\}"), x("(a)", ":", "(a)"),
    x("a|b", ":", "a|b"), x("foo.c", ":", "\\(.*\\)\\.c"), x("a1b2", ":", "[a-z][0-9]*"),
    x("A", ":", "[[:upper:]]"), x("]x", ":", "[]]x"), x("a\nb", ":", "a.b"), x("^x", ":", "^^x"),
    x("*x", ":", "^*x"), x("a", ":", "\\(^a\\)"), x("ba", ":", "b\\(^a\\)"),
    x("a*", ":", "\\(*\\)"), x("+a", ":", "\\+a"), x("abc", ":", "\\(x\\)*"), x("1.5", ":", "[0-9]*\\.[0-9]*"),
    x("abc", ":", "[", stderr="class"), x("abc", ":", "a\\(b", stderr="class"),
    x("abc", ":", "\\(", stderr="class"), x("x", ":", "x\\", stderr="class"),
    # which: names with '/', PATH as debianutils' which reads it, -a, options
    ("which ./bin/tool; echo \"st $?\"", "exact"),
    ("which bin/plain; echo \"st $?\"", "exact"),
    ("which bin/nope; echo \"st $?\"", "exact"),
    ("PATH=bin which tool; echo \"st $?\"", "exact"),
    ("PATH=bin:bin2 which -a tool; echo \"st $?\"", "exact"),
    ("PATH=bin:bin2 which tool; echo \"st $?\"", "exact"),
    ("PATH=bin2:bin which tool plain nope; echo \"st $?\"", "exact"),
    ("PATH=bin which -a -- tool; echo \"st $?\"", "exact"),
    ("PATH=bin which; echo \"st $?\"", "exact"),
    ("PATH=bin which ''; echo \"st $?\"", "exact"),
    ("PATH=bin: which tool; echo \"st $?\"", "exact"),
]


def build_tree(root):
    for d in ("bin", "bin2"):
        os.makedirs(os.path.join(root, d))
    for rel, mode in (("bin/tool", 0o755), ("bin2/tool", 0o755), ("bin/plain", 0o644)):
        with open(os.path.join(root, rel), "w") as f:
            f.write("#!/bin/sh\necho hi\n")
        os.chmod(os.path.join(root, rel), mode)


def differential(a, env, tmp):
    failures = []
    for i, (script, stderr_mode) in enumerate(CASES):
        ours, theirs = os.path.join(tmp, "w%d" % i), os.path.join(tmp, "g%d" % i)
        build_tree(ours)
        build_tree(theirs)
        w = subprocess.run([a.wasmcap, "sh", "--engine", a.engine, "--dir", ours + "::/work",
                            "-c", script.replace("EXPR", "expr")], env=env, capture_output=True,
                           timeout=300, stdin=subprocess.DEVNULL)
        # (`PATH=bin which`: bash finds Debian's which by its path)
        g = subprocess.run(["bash", "-c", script.replace("EXPR", "expr").replace("which", "/usr/bin/which")],
                           cwd=theirs, env=GNU_ENV, capture_output=True, timeout=60,
                           stdin=subprocess.DEVNULL)
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
    print("differential: %d/%d agree with GNU expr and debianutils' which" % (
        len(CASES) - len(failures), len(CASES)))
    return failures


def fixed(a, env, tmp):
    ws = os.path.join(tmp, "fixed")
    build_tree(ws)

    def sh(script, *flags):
        return subprocess.run([a.wasmcap, "sh", "--engine", a.engine, "--dir", ws + "::/work"]
                              + list(flags) + ["-c", script], env=env, capture_output=True,
                              timeout=300, stdin=subprocess.DEVNULL)
    failures = []

    def check(label, ok, p):
        if not ok:
            failures.append(label)
            print("FAIL %s: exit %d %r %r" % (label, p.returncode, p.stdout[:300], p.stderr[:300]))

    for script in ("expr 9223372036854775807 + 1", "expr -9223372036854775808 - 1",
                   "expr 99999999999999999999 + 0", "expr 4294967296 '*' 4294967296",
                   "expr -9223372036854775808 / -1"):
        p = sh(script + "; echo $?")
        check("%s: refused beyond 64 bits (status 3), never wrapped" % script,
              p.stdout == b"3\n" and b"expr: integer beyond 64 bits" in p.stderr, p)
    p = sh("expr aa : '\\(a\\)\\1'; echo $?")
    check("a back-reference is refused (status 2)", p.stdout == b"2\n" and b"back-reference" in p.stderr, p)
    p = sh("set -- $(seq 1030); expr $(printf '( %.0s' \"$@\") 1 $(printf ') %.0s' \"$@\"); echo $?")
    check("nesting past 1024 levels is refused", p.stdout == b"2\n" and b"nested deeper than 1024" in p.stderr, p)
    p = sh("set -- $(seq 1000); expr $(printf '( %.0s' \"$@\") 1 $(printf ') %.0s' \"$@\"); echo $?")
    check("1000 levels are evaluated", p.stdout == b"1\n0\n", p)
    p = sh("expr \"$(printf 'a%.0s' $(seq 30))\" : '\\(a*\\)*b'; echo $?")
    check("a regex that would make a backtracking matcher explode ends at once", p.stdout == b"\n1\n", p)
    p = sh("expr x : \"$(printf 'a%.0s' $(seq 5000))\"; echo $?")
    check("a regex past regex.h's 4 KiB is refused", p.stdout == b"2\n" and p.stderr, p)
    p = sh("echo 3 | xargs expr 1 +; env expr 2 + 2; find . -maxdepth 0 -exec expr 5 + 5 \\;")
    check("expr is a program for xargs, env and find -exec", p.stdout == b"4\n4\n10\n", p)
    p = sh("which ls sh python3 echo; echo $?; command -v ls")
    check("which names a bundle's command as command -v does (PATH's first command directory)",
          p.stdout == b"/usr/bin/ls\n/usr/bin/sh\n/usr/bin/echo\n1\n/usr/bin/ls\n", p)  # python3: none here
    p = sh("which ls && $(which ls) -d bin")
    check("$(which NAME) runs NAME", p.stdout == b"/usr/bin/ls\nbin\n", p)
    p = sh("PATH=bin which -a cat tool; echo $?")
    check("which -a: the bundle's command, then the PATH matches", p.stdout == b"cat\nbin/tool\n0\n", p)
    p = sh("which -x ls; echo $?")
    check("which -x: debianutils' usage (status 2)",
          p.stdout == b"Usage: which [-a] args\n2\n" and p.stderr == b"Illegal option -x\n", p)
    p = sh("which 'a\x1b[31m'; echo $?")
    check("an unknown name is status 1, nothing printed", p.stdout == b"1\n" and p.stderr == b"", p)
    p = sh("echo \"$HOSTNAME\"; hostname; printenv HOSTNAME; echo $?")
    check("$HOSTNAME is the sandbox's hostname, not exported", p.stdout == b"localhost\nlocalhost\n1\n", p)
    p = sh("hash -r ls; echo $?; hash -r; echo $?")
    check("hash -r takes no names", p.stdout == b"1\n0\n" and b"-r takes no names" in p.stderr, p)
    print("fixed: %d checks failed" % len(failures))
    return failures


def main():
    a = shell_env.parse_args(__doc__)
    if not os.path.exists("/usr/bin/expr") or not os.path.exists("/usr/bin/which"):
        print("SKIP: no /usr/bin/expr or /usr/bin/which")
        return 77
    with tempfile.TemporaryDirectory(prefix="wasmcap-expr-which-") as tmp:
        env = shell_env.install_coreutils(a, tmp)
        if env is None:
            return 1
        failures = differential(a, env, tmp) + fixed(a, env, tmp)
    print("engine %s: %d failures" % (a.engine, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
