#!/usr/bin/env python3
"""A script on `wasmcap sh`'s stdin (not a terminal) is read as bash reads one: a complete
command at a time, each run before the next is read, never read past (src/shell/input.cc).

Checked against bash (same stdin, stdout and exit status compared): the commands read the rest
of the script (`read`, a `while read` loop, `cat`), from a pipe and from a regular file (read in
blocks, its offset put back); a syntax error ends the script with status 2 after the commands
before it ran; $LINENO counts on across commands; here-documents, functions longer than the
256 lines checked one at a time, aliases, `exit`, `set -e`, background jobs, a nested `bash`
reading its own stdin. Then wasmcap's own: a command over 16 MiB ends the script, a read error
is reported (io_error). Then what only a
live pipe shows: a command runs as soon as its line arrives, with the writer still holding the
pipe open (an agent harness driving a shell), and the deadline ends a wait for input that never
comes.

Usage: stdin_script.py --wasmcap build/bin/wasmcap --bundles build/bundles [--engine aot]
"""
import os
import select
import subprocess
import sys
import tempfile
import time

import shell_env

LONG_FUNCTION = "f() {\n" + "  x=$((x+1))\n" * 600 + "}\nf\necho \"x=$x lineno=$LINENO\"\n"

CASES = [
    ("read gets the next line", "read x\nhello\necho \"got $x\"\n"),
    ("a loop reads the rest", "while read l; do echo \"[$l]\"; done\nA\nB\n"),
    ("cat reads the rest", "echo first\ncat\nthis is data\nand more\n"),
    ("syntax error after commands", "echo a\necho x > g\nls ;;\necho never\n"),
    ("incomplete at the end", "echo a\nif true; then\n  echo b\n"),
    ("lineno", "echo $LINENO\n\necho $LINENO\ng() {\n  echo $LINENO\n}\ng\necho $LINENO; echo $LINENO\n"),
    ("here-document", "cat <<EOF\nline1 $((1+2))\nEOF\necho after\ncat <<'Q'\n$x\nQ\n"),
    ("continuation", "echo a \\\n  b\necho 'c\nd'\nx=$(echo e\n)\necho $x\n"),
    ("long function", LONG_FUNCTION),
    ("aliases", "shopt -s expand_aliases\nalias hi='echo hi'\nhi there\nalias b='echo b'; b\nb\n"),
    ("exit", "echo 1\nexit 3\necho 2\n"),
    ("errexit", "set -e\necho 1\nfalse\necho 2\n"),
    ("background job", "sleep 0.1 &\np=$!\nwait $p\necho st=$?\n(exit 4) &\nwait $!\necho st=$?\n"),
    ("exit trap", "trap 'echo bye' EXIT\necho hi\n"),
    ("no newline at the end", "echo a\necho b"),
    # (bash, not sh: Debian's sh is dash, which reads its stdin in blocks.)
    ("a nested bash reads its stdin as it runs",
     "printf 'read x\\nhello\\necho \"nested $x\"\\n' | bash\necho after\n"),
]


def run_bash(script, cwd, stdin_file=None):
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C"}
    if stdin_file:
        with open(stdin_file, "rb") as f:
            p = subprocess.run(["bash"], stdin=f, cwd=cwd, env=env, capture_output=True, timeout=60)
    else:
        p = subprocess.run(["bash"], input=script.encode(), cwd=cwd, env=env, capture_output=True,
                           timeout=60)
    return p


def main():
    a = shell_env.parse_args(__doc__)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        env = shell_env.install_coreutils(a, tmp)
        if env is None:
            return 1
        base = [a.wasmcap, "sh", "--engine", a.engine]
        n = 0
        for name, script in CASES:
            for source in ("pipe", "file"):
                n += 1
                ours = os.path.join(tmp, "w%d" % n)
                theirs = os.path.join(tmp, "b%d" % n)
                os.makedirs(ours)
                os.makedirs(theirs)
                script_file = os.path.join(tmp, "s%d.sh" % n)
                with open(script_file, "w") as f:
                    f.write(script)
                argv = base + ["--dir", ours + "::/work"]
                if source == "file":
                    with open(script_file, "rb") as f:
                        w = subprocess.run(argv, stdin=f, env=env, capture_output=True, timeout=120)
                    b = run_bash(script, theirs, script_file)
                else:
                    w = subprocess.run(argv, input=script.encode(), env=env, capture_output=True,
                                       timeout=120)
                    b = run_bash(script, theirs)
                same_tree = sorted(os.listdir(ours)) == sorted(os.listdir(theirs))
                if w.stdout != b.stdout or w.returncode != b.returncode or not same_tree:
                    failures += 1
                    print("FAIL %s (%s): wasmcap %d %r, bash %d %r; files %s / %s\n  stderr: %r"
                          % (name, source, w.returncode, w.stdout[:300], b.returncode,
                             b.stdout[:300], sorted(os.listdir(ours)), sorted(os.listdir(theirs)),
                             w.stderr[:300]))
                else:
                    print("ok   %s (%s)" % (name, source))

        # One command's text is at most 16 MiB: a longer line ends the script (status 2) after
        # the commands before it, without holding more than that (a file: read in blocks).
        work = os.path.join(tmp, "big")
        os.makedirs(work)
        big = os.path.join(tmp, "big.sh")
        with open(big, "w") as f:
            f.write("echo before\necho " + "x" * (17 << 20) + "\necho never\n")
        with open(big, "rb") as f:
            w = subprocess.run(base + ["--dir", work + "::/work"], stdin=f, env=env,
                               capture_output=True, timeout=120)
        if w.returncode == 2 and w.stdout == b"before\n" and b"longer than 16 MiB" in w.stderr:
            print("ok   a command over 16 MiB")
        else:
            failures += 1
            print("FAIL a command over 16 MiB: status %d, out %r, err %r"
                  % (w.returncode, w.stdout[:100], w.stderr[:300]))

        # A read error ends the input with io_error's status (74) and says so, as the CLI did
        # when it read stdin whole: a directory as stdin (read(2) is EISDIR).
        dfd = os.open(tmp, os.O_RDONLY | os.O_DIRECTORY)
        try:
            w = subprocess.run(base + ["--dir", work + "::/work"], stdin=dfd, env=env,
                               capture_output=True, timeout=120)
        finally:
            os.close(dfd)
        if w.returncode == 74 and b"cannot read the script" in w.stderr:
            print("ok   a read error")
        else:
            failures += 1
            print("FAIL a read error: status %d, err %r" % (w.returncode, w.stderr[:300]))

        # A live pipe: each command runs when its line arrives, the writer holding the pipe.
        work = os.path.join(tmp, "live")
        os.makedirs(work)
        p = subprocess.Popen(base + ["--dir", work + "::/work", "--timeout-ms", "0"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env)

        def expect(want, timeout=60):
            got = b""
            end = time.time() + timeout
            while not got.endswith(want):
                left = end - time.time()
                if left <= 0 or not select.select([p.stdout], [], [], left)[0]:
                    raise AssertionError("waited for %r, have %r" % (want, got))
                c = os.read(p.stdout.fileno(), 1)
                if not c:
                    raise AssertionError("the shell ended; waited for %r, have %r" % (want, got))
                got += c
            return got

        try:
            for line, want in ((b"echo one\n", b"one\n"),
                               (b"x=5; cd /work\n", None),
                               (b"echo $((x + 1)) $PWD\n", b"6 /work\n"),
                               (b"if true; then\n", None),
                               (b"  echo inside\n", None),
                               (b"fi\n", b"inside\n"),
                               (b"echo data > f; cat f\n", b"data\n")):
                p.stdin.write(line)
                p.stdin.flush()
                if want is not None:
                    expect(want)
            p.stdin.write(b"exit 7\n")
            p.stdin.flush()
            code = p.wait(timeout=60)
            if code != 7:
                raise AssertionError("exit 7 gave %d" % code)
            print("ok   live pipe")
        except AssertionError as e:
            failures += 1
            print("FAIL live pipe: %s" % e)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()

        # The deadline bounds a wait for input that never comes (the writer keeps the pipe).
        t0 = time.time()
        p = subprocess.Popen(base + ["--dir", work + "::/work", "--timeout-ms", "500"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env)
        try:
            p.stdin.write(b"echo waiting\n")
            p.stdin.flush()
            p.wait(timeout=30)  # stdin stays open: no EOF ends the script
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        out, err = p.stdout.read(), p.stderr.read()
        p.stdin.close()
        took = time.time() - t0
        if out == b"waiting\n" and p.returncode not in (0, -9) and b"deadline" in err:
            print("ok   deadline while waiting for input (%.1f s)" % took)
        else:
            failures += 1
            print("FAIL deadline: status %d after %.1f s, out %r err %r"
                  % (p.returncode, took, out, err[:300]))
    print("%d failed" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
