#!/usr/bin/env python3
"""`git` in `wasmcap sh` (docs/shell.md "Commands"): the git bundle installed beside coreutils in
a fresh $WASMCAP_HOME (tests/shell/shell_env.py), found by name, run in the shell's working
directory with the shell's exported variables, its status in $?, refusals with a message.

Usage: shell.py --wasmcap build/bin/wasmcap --bundles build/bundles [--engine interp|aot]
       (aot: the module's object is expected in differential.py's AOT cache: CMakeLists.txt)
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "support"))
import bundle_test  # noqa: E402

IDENT = ("export GIT_AUTHOR_NAME=A GIT_AUTHOR_EMAIL=a@example.com GIT_COMMITTER_NAME=A "
         "GIT_COMMITTER_EMAIL=a@example.com GIT_AUTHOR_DATE='@1700000000 +0000' "
         "GIT_COMMITTER_DATE='@1700000000 +0000'; ")

CASES = [
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
    ("a branch, a switch back, a range and a blame, in a pipeline",
     IDENT + "cd r && git switch -c topic2 && echo x >> src/a.txt && "
     "git commit -q -a -m third && git switch master && git log --oneline master..topic2 | wc -l && "
     "git blame -s -L 1,1 src/a.txt | cut -c1-8",
     0, b"1\n^5aed1d9\n", b"Switched to branch 'master'"),
    ("a refusal reaches $?", "git push origin master; echo $?", 0, b"1\n",
     b"git: 'push' is not supported in the sandbox"),
    ("outside a repository (/work; the repository is /work/r): git's message and status",
     "git status; echo $?", 0, b"128\n",
     b"fatal: not a git repository"),
    ("cd / (above the preopens): git starts there (guest SDK); -C through the preopen's name",
     "cd /; git -C work/r log --oneline | wc -l; git status; echo $?", 0, b"2\n128\n",
     b"fatal: not a git repository"),
]


if __name__ == "__main__":
    sys.exit(bundle_test.shell_main(__doc__, ["coreutils.wcb", "git.wcb"], CASES))
