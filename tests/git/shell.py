#!/usr/bin/env python3
"""`git` in `wasmcap sh` (docs/shell.md "Commands"): the git bundle installed beside coreutils in
a fresh $WASMCAP_HOME (tests/shell/shell_env.py), found by name, run in the shell's working
directory with the shell's exported variables, its status in $?, refusals with a message.

Usage: shell.py --wasmcap build/bin/wasmcap --bundles build/bundles [--engine interp|aot]
       (aot: the module's object is expected in differential.py's AOT cache: CMakeLists.txt)
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(os.path.dirname(HERE), "shell"))  # after HERE: its differential.py
import shell_env  # noqa: E402
from differential import aot_cache_dir  # noqa: E402

IDENT = ("export GIT_AUTHOR_NAME=A GIT_AUTHOR_EMAIL=a@example.com GIT_COMMITTER_NAME=A "
         "GIT_COMMITTER_EMAIL=a@example.com GIT_AUTHOR_DATE='@1700000000 +0000' "
         "GIT_COMMITTER_DATE='@1700000000 +0000'; ")


def main():
    a = shell_env.parse_args(__doc__)
    failures = []
    passed = 0
    with tempfile.TemporaryDirectory(prefix="wasmcap-git-sh-") as tmp:
        env = shell_env.install_bundles(a, tmp, ["coreutils.wcb", "git.wcb"])
        if env is None:
            return 1
        if a.engine == "aot":  # the object differential.py --engine aot compiled (a fixture)
            env["WASMCAP_CACHE_DIR"] = env.get("WASMCAP_CACHE_DIR") or aot_cache_dir()
        ws = os.path.join(tmp, "ws")
        os.makedirs(ws)

        def sh(script):
            return subprocess.run([a.wasmcap, "sh", "--engine", a.engine, "--dir", ws + "::/work",
                                   "-c", script], capture_output=True, env=env, timeout=300)

        cases = [
            # (label, script, status, stdout, stderr substring)
            ("type names the bundle", "type git", 0, b"git is git from bundle git@0.1.0\n", b""),
            ("init, add, commit, status, log in the workspace",
             IDENT + "mkdir r && cd r && git init -q && mkdir -p src && echo hi > src/a.txt && git add . && "
             "git commit -q -m 'first' && git status && git log --oneline",
             0, b"On branch master\nnothing to commit, working tree clean\n"
                b"5aed1d9 first\n", b""),
            ("the shell's working directory is git's",
             "cd r/src && echo more >> a.txt && git status -s && git ls-files", 0,
             b" M a.txt\na.txt\n", b""),
            ("the identity comes from the shell's exported variables",
             IDENT + "export GIT_AUTHOR_NAME='Other Person'; cd r && git commit -a -m second | head -2", 0,
             b"[master a3cb985] second\n Author: Other Person <a@example.com>\n", b""),
            ("a refusal reaches $?", "git push origin master; echo $?", 0, b"1\n",
             b"git: 'push' is not supported in the sandbox"),
            ("outside a repository (/work; the repository is /work/r): git's message and status",
             "git status; echo $?", 0, b"128\n",
             b"fatal: not a git repository"),
        ]
        for label, script, status, out, err in cases:
            p = sh(script)
            ok = p.returncode == status and p.stdout == out and err in p.stderr
            if ok:
                passed += 1
            else:
                failures.append(label)
                print("FAIL: %s\n  %d %r %r" % (label, p.returncode, p.stdout, p.stderr[:500]))
    print("engine %s: %d passed, %d failed" % (a.engine, passed, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
