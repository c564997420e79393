#!/usr/bin/env python3
"""The interactive mode of `wasmcap sh`, driven through a pseudo-terminal: the prompt, state kept
across lines ($?, variables, cwd), continuation lines for open quotes, `$(`, `&&`, `if` and here-documents, a parse
error that leaves the session alive, a tool on the engine under test, `exit N` and EOF.

Usage: interactive.py --wasmcap build/bin/wasmcap --bundles build/bundles
"""
import os
import pty
import re
import select
import signal
import subprocess
import sys
import tempfile
import time

import shell_env


class Term:
    def __init__(self, argv, env):
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     close_fds=True, start_new_session=True)
        os.close(slave)
        self.buf = b""

    def expect(self, pattern, timeout=60):
        """Waits until `pattern` (regex bytes) appears after what was consumed; consumes it."""
        rx = re.compile(pattern)
        end = time.time() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            left = end - time.time()
            if left <= 0:
                raise AssertionError("timeout waiting for %r; have %r" % (pattern, self.buf))
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    data = os.read(self.master, 4096)
                except OSError:
                    data = b""
                if not data:
                    raise AssertionError("EOF waiting for %r; have %r" % (pattern, self.buf))
                self.buf += data

    def send(self, text):
        os.write(self.master, text.encode())

    def wait(self, timeout=30):
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            os.close(self.master)

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


PROMPT = rb"wasmcap\$ "


def session_state(argv, env):
    t = Term(argv, env)
    try:
        t.expect(PROMPT)
        t.send("X=hello; cd sub\n")
        t.expect(PROMPT)
        t.send("echo $X $(pwd) $?\n")
        t.expect(rb"hello /work/sub 0\r\n")
        t.expect(PROMPT)
        t.send("false\n")
        t.expect(PROMPT)
        t.send("echo st=$?\n")
        t.expect(rb"st=1\r\n")
        t.expect(PROMPT)
        # Continuation lines: an open quote, an open $(, a trailing &&, a trailing backslash.
        t.send("echo 'multi\n")
        t.expect(rb"\r\n> ")
        t.send("line'\n")
        t.expect(rb"multi\r\nline\r\n")
        t.expect(PROMPT)
        t.send("echo $(echo inner\n")
        t.expect(rb"\r\n> ")
        t.send(")\n")
        t.expect(rb"\r\ninner\r\n")
        t.expect(PROMPT)
        t.send("true &&\n")
        t.expect(rb"\r\n> ")
        t.send("echo cont\n")
        t.expect(rb"\r\ncont\r\n")
        t.expect(PROMPT)
        t.send("echo a \\\n")
        t.expect(rb"\r\n> ")
        t.send("b\n")
        t.expect(rb"\r\na b\r\n")
        t.expect(PROMPT)
        # Open compound commands and here-documents continue too; functions last.
        t.send("if true\n")
        t.expect(rb"\r\n> ")
        t.send("then echo in-if; fi\n")
        t.expect(rb"\r\nin-if\r\n")
        t.expect(PROMPT)
        t.send("f() { cat; }; f <<END\n")
        t.expect(rb"\r\n> ")
        t.send("doc line\n")
        t.expect(rb"\r\n> ")
        t.send("END\n")
        t.expect(rb"\r\ndoc line\r\n")
        t.expect(PROMPT)
        t.send("f <<< again\n")
        t.expect(rb"\r\nagain\r\n")
        t.expect(PROMPT)
        # A tool (on the engine under test) in the session's working directory.
        t.send("cat c.txt | wc -l\n")
        t.expect(rb"\r\n2\r\n")
        t.expect(PROMPT)
        # A parse error runs nothing, sets $? to 2 and the session goes on.
        t.send("echo ran > x; ls ;;\n")
        t.expect(rb"';;' outside a case")
        t.expect(PROMPT)
        t.send("echo st=$? $X; test -e x || echo nothing-ran\n")
        t.expect(rb"st=2 hello\r\nnothing-ran\r\n")
        t.expect(PROMPT)
        t.send("exit 5\n")
        code = t.wait()
        assert code == 5, "exit 5 gave %r" % code
    finally:
        t.kill()


def session_eof(argv, env):
    t = Term(argv, env)
    try:
        t.expect(PROMPT)
        t.send("false\n")
        t.expect(PROMPT)
        t.send("\x04")  # ^D at the start of a line: EOF
        code = t.wait()
        assert code == 1, "EOF after false gave %r" % code
    finally:
        t.kill()


def session_notes(argv, env):
    """Before the first prompt, a shell with no directory (and one with no commands) says so."""
    bare = [x for x in argv if x != "--dir" and not x.endswith("::/work")]
    t = Term(bare, env)
    try:
        t.expect(rb"no directory granted: commands reach no files; give --workspace NAME")
        t.expect(PROMPT)
        t.send("exit 0\n")
        assert t.wait() == 0
    finally:
        t.kill()
    empty_home = dict(env, WASMCAP_HOME=env["WASMCAP_HOME"] + "-empty")
    t = Term(argv, empty_home)
    try:
        before = t.expect(rb"(?s)(.*?)wasmcap\$ ").group(1)
        assert re.search(rb"no commands installed: .*wasmcap trust add SIGNER\.pub", before), before
        assert b"no directory granted" not in before, before
        t.send("exit 0\n")
        assert t.wait() == 0
    finally:
        t.kill()
    t = Term(argv, env)  # a directory and commands: no note
    try:
        before = t.expect(rb"(?s)(.*?)wasmcap\$ ").group(1)
        assert b"wasmcap sh: no " not in before, before
        t.send("exit 0\n")
        assert t.wait() == 0
    finally:
        t.kill()


def main():
    a = shell_env.parse_args(__doc__)
    with tempfile.TemporaryDirectory() as tmp:
        env = shell_env.install_coreutils(a, tmp, TERM="dumb")
        if env is None:
            return 0 if not os.path.exists(os.path.join(a.bundles, "coreutils.wcb")) else 1
        tree = os.path.join(tmp, "tree")
        os.makedirs(os.path.join(tree, "sub"))
        with open(os.path.join(tree, "sub", "c.txt"), "w") as f:
            f.write("one\ntwo\n")
        argv = [a.wasmcap, "sh", "--engine", a.engine, "--dir", tree + "::/work"]
        for test in (session_state, session_eof, session_notes):
            test(argv, env)
            print("ok  ", test.__name__)
        if os.path.exists(os.path.join(tree, "sub", "x")):
            print("FAIL: a line with a parse error ran")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
