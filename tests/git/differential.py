#!/usr/bin/env python3
"""Differential tests of the sandbox's git (guest/git) against Debian's /usr/bin/git: the same
sequence of commands and file edits runs in two fresh workspaces,
  wasmcap run --engine E --dir WS::/work --argv0 git git.wasm ARGS...   (cwd /work or below)
  /usr/bin/git ARGS...                                                  (cwd WS or below)
and every command's stdout, stderr and exit status must be the same (the native side's
workspace path is written /work, as the guest sees it). Identity and dates come from
GIT_AUTHOR_* / GIT_COMMITTER_* on both sides, so commit ids match too. Scenarios: fixed ones
(quoting, subdirectories, renames, ignored files, errors, a hostile repository) and seeded random walks (--seed N
explores others). Then the refusals, the module on a terminal (a pty: its output must be git's
escaped for a terminal) and the bounds (memory, output).

Usage: differential.py --wasmcap build/bin/wasmcap --module build/guest/git/git.wasm
                       [--engine interp|aot] [--seed N] [--walks N]
"""
import os
import calendar
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "support"))
import bundle_test  # noqa: E402

ENV = {
    "GIT_AUTHOR_NAME": "A U Thor", "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "C O Mitter", "GIT_COMMITTER_EMAIL": "committer@example.com",
}


class Side:
    """One workspace and how to run git in it."""

    def __init__(self, root, guest, a, home):
        self.root, self.guest, self.a, self.home = root, guest, a, home
        os.makedirs(root)

    def git(self, args, cwd, env):
        if self.guest:
            genv = [("PWD", os.path.join("/work", cwd).rstrip("/"))] + list(env.items())
            p = subprocess.run(bundle_test.run_command(self.a, self.root, "git", args, genv), capture_output=True, timeout=300)
            return p.returncode, p.stdout, p.stderr
        full = dict(env, LC_ALL="C", TZ="UTC", PATH="/usr/bin:/bin", HOME=self.home,
                    GIT_CONFIG_NOSYSTEM="1")
        p = subprocess.run(["git"] + list(args), executable="/usr/bin/git", capture_output=True,
                           cwd=os.path.join(self.root, cwd), env=full, timeout=120)
        out, err = (x.replace(self.root.encode(), b"/work") for x in (p.stdout, p.stderr))
        return p.returncode, out, err


def apply_edit(root, step):
    kind, path = step[0], os.path.join(os.fsencode(root), os.fsencode(step[1]))
    if kind == "write":
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(step[2])
    elif kind == "rm":
        os.remove(path)
    elif kind == "mkdir":
        os.makedirs(path, exist_ok=True)
    elif kind == "chmod":
        os.chmod(path, step[2])


def run_scenario(c, a, tmp, name, steps):
    """STEPS: ("git", [args], cwd, env-extra) or file edits; both sides, compared per command."""
    home = os.path.join(tmp, "home")
    os.makedirs(home, exist_ok=True)
    g = Side(os.path.join(tmp, name, "g"), True, a, home)
    n = Side(os.path.join(tmp, name, "n"), False, a, home)
    date = 1700000000
    for i, step in enumerate(steps):
        if step[0] == "host":  # Debian's git on both workspaces (a repository made by the host)
            if len(step) > 2:  # ("host", args, "now"): dated as the commands around it (merges)
                date += 60
            for side in (g, n):
                stamp = "@%d +0000" % (date if len(step) > 2 else 1700000000)
                env = dict(ENV, GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp)
                native = Side.__new__(Side)
                native.root, native.guest, native.a, native.home = side.root, False, a, home
                r = native.git(step[1], "", env)
                if r[0] != 0:
                    c.check(label_of(name, i, step[1], "") + " (host)", False, repr(r))
            continue
        if step[0] in ("ref", "packed", "reflog"):  # written into .git by hand (git refuses the names)
            for side in (g, n):
                write_refs(side.root, step)
            continue
        if step[0] != "git":
            apply_edit(g.root, step)
            apply_edit(n.root, step)
            continue
        args, cwd = step[1], step[2] if len(step) > 2 else ""
        date += 60
        env = dict(ENV, GIT_AUTHOR_DATE="@%d +0130" % date, GIT_COMMITTER_DATE="@%d -0700" % date)
        if len(step) > 3:
            env.update(step[3])
        rg, rn = g.git(args, cwd, env), n.git(args, cwd, env)
        if args and args[0] == "blame":
            label = label_of(name, i, args, cwd)
            rg = not_committed_now(c, label + " (guest)", rg, calendar.timegm(time.strptime(GUEST_NOW, "%Y-%m-%dT%H:%M:%SZ")))
            rn = not_committed_now(c, label + " (native)", rn, time.time())
        label = label_of(name, i, args, cwd)
        at = next((k for k in range(min(len(rg[1]), len(rn[1]))) if rg[1][k] != rn[1][k]),
                  min(len(rg[1]), len(rn[1])))
        at = max(0, at - 200)
        c.check(label, rg == rn, "guest:  %d %r %r\n  native: %d %r %r" % (
            rg[0], rg[1][at:at + 600], rg[2][:400], rn[0], rn[1][at:at + 600], rn[2][:400]))
        if args[:1] in (["checkout"], ["switch"]):  # the work trees themselves: files, contents, directories
            tg, tn = work_tree(g.root), work_tree(n.root)
            c.check(label + ": same work tree", tg == tn, "guest %r\n  native %r" % (tg, tn))


def write_refs(root, step):
    """What a hostile repository can hold and git refuses to write: ("ref", NAME, REV) a loose
    ref .git/NAME at REV; ("packed", [(NAME, REV)...]) .git/packed-refs; ("reflog", FROM, TO,
    MESSAGE) a line of HEAD's reflog. REV: resolved by the host's git in ROOT."""
    def rev(r):
        p = subprocess.run(["git", "rev-parse", "--verify", "-q", r], executable="/usr/bin/git",
                           cwd=root, capture_output=True, env={"PATH": "/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM": "1"})
        return p.stdout.strip()
    dot = os.path.join(os.fsencode(root), b".git")
    if step[0] == "ref":
        path = os.path.join(dot, step[1])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(rev(step[2]) + b"\n")
    elif step[0] == "packed":
        with open(os.path.join(dot, b"packed-refs"), "wb") as f:
            f.write(b"# pack-refs with: peeled fully-peeled sorted \n")
            for name, r in sorted(step[1]):
                f.write(rev(r) + b" " + name + b"\n")
    else:
        with open(os.path.join(dot, b"logs", b"HEAD"), "ab") as f:
            f.write(b"%s %s A U Thor <author@example.com> 1700000000 +0000\t%s\n" % (rev(step[1]), rev(step[2]), step[3]))


# the guest's clock, pinned by bundle_test.RUN_FLAGS
GUEST_NOW = next(f[6:] for f in bundle_test.RUN_FLAGS if f.startswith("fixed="))
NOW_DATE = re.compile(rb"(Not Committed Yet +|<not\.committed\.yet> +)(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \+0000")
NOW_TIME = re.compile(rb"^((?:author|committer)-time )(\d+)$", re.M)


def label_of(name, i, args, cwd):
    shown = " ".join(repr(x)[1:-1] if isinstance(x, str) else repr(x)[2:-1] for x in args)
    return "%s[%d] git %s%s" % (name, i, shown, " (in %s)" % cwd if cwd else "")


def not_committed_now(c, label, r, now):
    """git blame's work-tree lines carry the time of the run: each must be NOW (the guest's
    pinned clock, the host's time), then it is replaced by NOW on both sides."""
    out = r[1]
    for m in NOW_DATE.finditer(out):
        t = calendar.timegm(time.strptime(m.group(2).decode(), "%Y-%m-%d %H:%M:%S"))
        c.check(label + ": Not Committed Yet is now", abs(t - now) < 60, m.group(0))
    out = NOW_DATE.sub(rb"\1NOW", out)
    # porcelain: a time after the tests' commit dates (1700000000 + minutes) is the run's
    for m in NOW_TIME.finditer(out):
        if int(m.group(2)) > 1750000000:
            c.check(label + ": porcelain's time is now", abs(int(m.group(2)) - now) < 60, m.group(0))
    out = NOW_TIME.sub(lambda m: m.group(1) + b"NOW" if int(m.group(2)) > 1750000000 else m.group(0), out)
    return (r[0], out, r[2])


def work_tree(root):
    """Every directory and file under ROOT but .git, with the files' contents."""
    out = []
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if not (d == root and x == ".git"))
        rel = os.path.relpath(d, root)
        out.append((rel, None))
        for f in sorted(files):
            with open(os.path.join(d, f), "rb") as fh:
                out.append((os.path.join(rel, f), fh.read()))
    return out


def G(*args, cwd="", env=None):
    return ("git", list(args), cwd) + ((env,) if env else ())


FIXED = {
    "basic": [
        G("status"), G("init"), G("init"), G("status"), G("status", "-s"), G("log"),
        G("log", "--oneline"), G("commit", "-m", "nothing"),
        ("write", "a.txt", b"one\ntwo\n"), ("write", "d/b.txt", b"b\n"), ("mkdir", "empty"),
        G("status"), G("status", "--short"), G("status", "--porcelain"), G("status", "-sb"),
        G("add", "a.txt"), G("status"), G("status", "-s", "-b"), G("ls-files"), G("ls-files", "-s"),
        G("commit", "-m", "first\n\nbody\n\n  indented  \n\n\n"), G("log"), G("log", "--oneline"),
        G("status"), G("add", "."), G("commit", "-m", "second", "-m", "para two"),
        G("status"), G("log", "-n", "1"), G("log", "-1", "--oneline"), G("log", "--max-count=5"),
        ("write", "a.txt", b"one\n2\n3\n"), ("rm", "d/b.txt"), G("status"), G("status", "-s"),
        G("commit", "-a", "-m", "third"), G("log", "--oneline", "-n2"), G("status"),
        G("commit", "-m", "   "),
    ],
    "paths": [
        G("init", "-q"), ("write", "sp ace.txt", b"x\n"), ("write", "t\tab", b"y\n"),
        ("write", "q\"uote", b"z\n"), ("write", "caf\xc3\xa9", b"c\n"), ("write", "sub/deep/f", b"f\n"),
        ("write", "sub/g", b"g\n"), G("status"), G("status", "-s"), G("status", "--porcelain"),
        G("add", "-A"), G("status"), G("status", "-s"), G("ls-files"), G("ls-files", cwd="sub"),
        G("status", cwd="sub"), G("status", "-s", cwd="sub/deep"), G("status", "--porcelain", cwd="sub"),
        G("commit", "-m", "paths"), ("write", "sub/deep/f", b"F\n"), ("write", "new", b"n\n"),
        G("status", cwd="sub/deep"), G("add", ".", cwd="sub"), G("status", "-s", cwd="sub"),
        G("add", "../new", cwd="sub"), G("status"), G("add", "nope"), G("add"),
        G("commit", "-m", "sub"), G("ls-files", cwd="sub/deep"), G("log", "--oneline"),
        # git's warning for a missing leading directory, only below an existing top directory
        G("add", "sub/no/x"), G("add", "sub/no/x/y", "sub/no/z"), G("add", "zz/h/i"),
        G("add", "new/x/y"), G("add", "sub/no"),
    ],
    "renames": [
        G("init", "-q", "-b", "main"), ("write", "a", b"".join(b"line %d\n" % i for i in range(20))),
        ("write", "dir/x/c", b"c\n" * 10), G("add", "."), G("commit", "-q", "-m", "root"),
        G("status"), G("log", "--oneline"),
        ("rm", "a"), ("write", "b", b"".join(b"line %d\n" % i for i in range(20))),
        ("rm", "dir/x/c"), ("write", "dir/y/c", b"c\n" * 10), G("add", "-A"), G("status"),
        G("status", "-s"), G("commit", "-m", "move"), ("write", "b", b"changed\n"),
        G("add", "b"), ("rm", "b"), G("status"), G("status", "-s"), G("commit", "-m", "m2"),
        G("log"),
    ],
    "ignored-and-errors": [
        G("init", "-q"), ("write", ".gitignore", b"*.log\nbuild/\n"), ("write", "x.log", b"l\n"),
        ("write", "build/o", b"o\n"), ("write", "k", b"k\n"), G("status"), G("status", "-s"),
        G("add", "x.log"), G("status", "-s"), G("add", "k", ".gitignore"), G("commit", "-m", "k"),
        G("commit", "-m", "again"), G("log", "-n", "x"), G("log", "-n"), G("log", "--max-count"), G("status", cwd="build"),
        G("commit", "-m", "x", env={"GIT_AUTHOR_DATE": "yesterday-ish"}),
        ("write", "k", b"k2\n"), G("commit", "-am", "k2", env={"GIT_AUTHOR_NAME": "Someone Else"}),
        G("log", "-n", "1"),
    ],
}

LINES = b"".join(b"line %d\n" % i for i in range(40))
FUNC = b"int main(void)\n{\n  int a = 1;\n  int b = 2;\n  return a + b;\n}\n\nstatic void helper(void)\n{\n  one();\n  two();\n  three();\n  four();\n}\n"
DIFF = [
    G("init", "-q"), G("diff"), G("diff", "--cached"), G("diff", "--stat"),
    ("write", "a.txt", LINES), ("write", "f.c", FUNC), ("write", "bin", b"\x00\x01\x02" * 10),
    ("write", "sp ace", b"s\n"), ("write", "t\tab", b"t\n"), ("write", "noeol", b"x"),
    G("add", "."), G("diff"), G("diff", "--cached"), G("diff", "--cached", "--stat"),
    G("diff", "--staged", "--stat"), G("commit", "-q", "-m", "base"), G("show"), G("show", "--stat"),
    ("write", "a.txt", LINES.replace(b"line 5\n", b"five\n").replace(b"line 30\n", b"")),
    ("write", "f.c", FUNC.replace(b"  three();\n", b"  three();\n  three_and_a_half();\n")),
    ("write", "bin", b"\x00\x03" * 40), ("write", "noeol", b"y"), ("write", "sp ace", b"s\nmore\n"),
    G("diff"), G("diff", "--stat"), G("status", "-s"), G("add", "a.txt", "f.c"), G("diff"),
    G("diff", "--cached"), G("diff", "--stat"), G("commit", "-q", "-a", "-m", "edit"),
    G("show"), G("show", "HEAD~1", "--stat"), G("log", "-p"), G("log", "--stat", "-n", "1"),
    ("rm", "noeol"), ("write", "dir/moved.txt", LINES), ("rm", "a.txt"), G("add", "-A"),
    G("diff", "--cached"), G("diff", "--cached", "--stat"), G("commit", "-q", "-m", "move"), G("show"),
    ("write", "d/" + "very-long-directory-name/" * 3 + "file.txt", b"x\n" * 200),
    ("write", "many", b"m\n" * 120), G("add", "."), G("diff", "--cached", "--stat"),
    G("commit", "-q", "-m", "big"), G("show", "--stat"), G("log", "--stat"), G("show", "nope"),
    G("diff", "HEAD~2", "--", "*.c"), G("diff", "HEAD~3", "HEAD", "--stat", "--", "d", "many"),
    # the graph scaled (more changes than columns), deletions and additions both
    ("write", "many", b"n\n" * 40 + b"m\n" * 20), ("write", "small", b"s\n" * 3), G("diff", "--stat"),
    ("write", "bin", b"\x00" * 5000), G("diff", "--stat"), G("commit", "-q", "-a", "-m", "scaled"),
    G("show", "--stat"), G("log", "-p", "-n", "1"),
]

BRANCH = [
    G("init", "-q"), G("branch"), G("branch", "x"), G("branch", "--show-current"),
    G("checkout", "-b", "topic"), G("branch", "--show-current"), G("restore", "--staged", "a"),
    ("write", "a", b"a\n"), ("write", "sub/b", b"b\n"), G("add", "."), G("commit", "-q", "-m", "one"),
    G("branch"), G("branch", "feature"), G("branch", "feature"), G("branch", "bad..name"),
    G("branch", "-d", "nope"), G("branch", "-d", "topic"), G("branch"),
    G("checkout", "-b", "next"), G("checkout", "-b", "next"), G("status"),
    ("write", "a", b"changed\n"), ("write", "sub/b", b"changed too\n"), G("commit", "-q", "-a", "-m", "two"),
    G("branch", "-d", "feature"), G("checkout", "-b", "z"), G("branch", "-d", "next"),
    G("branch", "-D", "x"), G("branch"),
    ("write", "a", b"dirty\n"), ("write", "sub/b", b"dirty\n"), G("status", "-s"), G("restore", "a"),
    G("status", "-s"), G("restore", "b", cwd="sub"), G("status", "-s"), G("diff"),
    ("write", "a", b"staged\n"), G("add", "a"), G("restore", "--staged", "a"), G("status", "-s"),
    G("restore", "nope"), G("restore"), G("add", "a"), G("restore", "--staged", "--worktree", "a"),
    G("status"), ("write", "a", b"again\n"), ("write", "sub/b", b"again\n"), G("restore", "."),
    G("status", "-s"), G("log", "--oneline"),
]

# Revisions: HEAD~N, HEAD^, ^A, A..B, A...B (two branches), abbreviated ids, tags, REV:PATH;
# in log, diff and show; unknown revisions, paths that are files (pathspecs, refused), both.
REVS = [
    G("init", "-q", "-b", "main"), ("write", "a", b"1\n"), ("write", "d/b", b"b\n"), G("add", "."),
    G("commit", "-q", "-m", "one"), ("write", "a", b"1\n2\n"), G("commit", "-q", "-a", "-m", "two"),
    G("branch", "side"), ("write", "a", b"1\n2\n3\n"), G("commit", "-q", "-a", "-m", "three"),
    ("write", "d/b", b"b2\n"), G("commit", "-q", "-a", "-m", "four"),
    G("log", "--oneline", "HEAD~2"), G("log", "--oneline", "HEAD^"), G("log", "--oneline", "HEAD^^"),
    G("log", "--oneline", "HEAD~1..HEAD"), G("log", "--oneline", "HEAD~3..", "-n", "2"),
    G("log", "--oneline", "side..main"), G("log", "--oneline", "main..side"), G("log", "--oneline", "^side", "main"),
    G("log", "--oneline", "side...main"), G("log", "side..", "--stat"), G("log", "-p", "HEAD~1..HEAD"),
    G("log", "--oneline", "main", "--"), G("log", "nope", "--"), G("log", "nope"), G("log", "HEAD..nope"), G("log", "HEAD~9"),
    G("diff", "HEAD~2", "HEAD"), G("diff", "HEAD~2..HEAD"), G("diff", "HEAD~2..", "--stat"),
    G("diff", "HEAD", "HEAD~2"), G("diff", "side"), G("diff", "--cached", "side"), G("diff", "side...main"),
    G("diff", "main...side"), G("diff", "nope"), G("diff", "HEAD", "nope"), G("diff", "HEAD~1", "--stat"),
    ("write", "a", b"work\n"), ("write", "d/new", b"n\n"), G("add", "d/new"), G("diff", "HEAD"),
    G("diff", "HEAD~1"), G("diff", "--cached", "HEAD~1"), G("diff", "HEAD", "--stat"),
    # pathspecs: after "--", or files after the revisions
    G("diff", "a"), G("diff", "--", "a"), G("diff", "HEAD", "--", "d"), G("diff", "HEAD~3", "d"),
    G("diff", "--stat", "HEAD~3", "--", "d", "a"), G("diff", "--cached", "--", "d/new"), G("diff", "--", "nope"),
    G("diff", "nope2"), G("diff", "a", "HEAD"), G("diff", "nope", "--", "a"), G("diff", "."), G("diff", ".", cwd="d"),
    G("diff", "HEAD~3", "--", "../a", "new", cwd="d"), G("diff", "HEAD~2..HEAD", "--", "d/*"), G("diff", "--", "d/b"),
    G("restore", "a"),
    G("show", "HEAD~2"), G("show", "HEAD^", "--stat"), G("show", "side"), G("show", "HEAD~1:a"),
    G("show", "HEAD:d/b"), G("show", "main~3:d/b"), G("show", "HEAD:d"), G("show", "HEAD:"),
    G("show", "HEAD:./b", cwd="d"), G("show", "HEAD:nope"), G("show", "HEAD:d/new"), G("show", "nope:a"),
    G("show", "HEAD~7"), G("log", "--oneline", "HEAD~1..HEAD", cwd="d"),
]

# checkout BRANCH / switch BRANCH / switch -c: the work tree and index follow, local changes are
# carried (listed) or block the switch (git's refusal, nothing changed), untracked files in the
# way, the upstream's tracking line, what is not a branch.
SWITCH = [
    G("init", "-q", "-b", "main"), ("write", "a", b"a\n"), ("write", "b", b"b\n"), ("write", "d/c", b"c\n"),
    G("add", "."), G("commit", "-q", "-m", "one"), G("branch", "other"), ("write", "a", b"a2\n"),
    ("rm", "d/c"), ("write", "e/f", b"f\n"), G("add", "-A"), G("commit", "-q", "-m", "two"),
    G("checkout", "main"), G("switch", "main"), G("checkout", "other"), G("status"), G("ls-files"),
    G("log", "--oneline"), G("switch", "main"), G("status"), G("ls-files"), G("show", "HEAD:e/f"),
    ("write", "b", b"b local\n"), ("write", "new", b"n\n"), G("add", "new"), G("checkout", "other"),
    G("status", "-s"), G("switch", "main", cwd="d"), G("status", "-s"),
    ("write", "a", b"a local\n"), G("checkout", "other"), G("switch", "other"), G("status", "-s"),
    G("branch", "--show-current"), G("restore", "a"), ("write", "d/c", b"untracked in the way\n"),
    G("switch", "other"), G("status", "-s"), ("rm", "d/c"), ("write", "a", b"a staged\n"), G("add", "a"),
    G("checkout", "other"), ("write", "b", b"b unstaged\n"), ("write", "e/f", b"f unstaged\n"), G("switch", "other"),
    G("restore", "--staged", "--worktree", "a", "b", "e/f"),
    # checkout [--] PATHSPEC: from the index, "Updated N paths" without "--"
    ("write", "a", b"a dirty\n"), ("write", "b", b"b dirty\n"), ("rm", "e/f"), G("checkout", "a"),
    G("status", "-s"), G("checkout", "--", "b"), G("checkout", "."), G("status", "-s"), G("checkout", "a", "b"),
    ("write", "e/f", b"dirty\n"), G("checkout", "f", cwd="e"), G("checkout", "nope", "a", "nope2"),
    G("checkout", "--", "nope"), G("checkout", "e"), G("status", "-s"), G("checkout", "../a", cwd="e"),
    G("switch", "-c", "topic"), G("switch", "-c", "topic"), G("checkout", "-b", "t2"), G("switch", "main"),
    G("switch", "nope"), G("checkout", "nope"), G("switch", "HEAD~1"), G("switch", "main~1"),
    ("host", ["tag", "v1", "other"]), G("switch", "v1"),
    ("host", ["update-ref", "refs/remotes/origin/main", "HEAD~1"]), ("host", ["config", "branch.other.remote", "origin"]),
    ("host", ["config", "branch.other.merge", "refs/heads/main"]), G("checkout", "other"), G("status"),
    G("commit", "-q", "-a", "-m", "three"), G("switch", "main"), G("switch", "other"), G("log", "--oneline", "main..other"),
]

# git log -- PATH: history simplification (only the commits that change the paths; a merge
# TREESAME to a parent is followed through that parent only and hidden, a merge that differs from
# every parent shown), merges by the host's git, an empty commit ("-- ." hides it), a rename,
# paths without "--" (files, patterns), relative to a subdirectory, ranges, -p/--stat/-n.
def _merge(branch, msg):
    return ("host", ["merge", "-q", "--no-ff", "-m", msg, branch], "now")


LOGPATHS = [
    G("init", "-q", "-b", "main"), ("write", "a", b"a0\n"), ("write", "d/b", b"b0\n"), ("write", "c.txt", b"c0\n"),
    G("add", "."), G("commit", "-q", "-m", "root"), ("write", "a", b"a1\n"), G("commit", "-q", "-a", "-m", "a1"),
    ("write", "d/b", b"b1\n"), G("commit", "-q", "-a", "-m", "b1"), G("branch", "side"), G("branch", "other"),
    ("write", "a", b"a2\n"), G("commit", "-q", "-a", "-m", "a2"), G("switch", "side"),
    ("write", "d/b", b"b-side\n"), G("commit", "-q", "-a", "-m", "b side"), ("write", "e", b"e\n"),
    G("add", "e"), G("commit", "-q", "-m", "e side"), G("switch", "main"), _merge("side", "merge side"),
    G("switch", "other"), ("write", "c.txt", b"c-other\n"), G("commit", "-q", "-a", "-m", "c other"),
    ("write", "a", b"a2\n"), G("commit", "-q", "-a", "-m", "a2 again on other"), G("switch", "main"),
    _merge("other", "merge other"), ("host", ["commit", "-q", "--allow-empty", "-m", "empty"], "now"),
    ("rm", "c.txt"), ("write", "d/moved.txt", b"c-other\n"), G("add", "-A"), G("commit", "-q", "-m", "move c"),
    ("write", "a", b"a3\n"), G("commit", "-q", "-a", "-m", "a3"),
    G("log", "--oneline"), G("log", "--oneline", "--", "a"), G("log", "--oneline", "--", "d/b"),
    G("log", "--oneline", "--", "d"), G("log", "--oneline", "--", "e"), G("log", "--oneline", "--", "c.txt"),
    G("log", "--oneline", "--", "a", "d/b"), G("log", "--oneline", "--", "."), G("log", "--oneline", "--", "nope"),
    G("log", "--", "a"), G("log", "-p", "--", "d/b"), G("log", "--stat", "--", "d"), G("log", "-p", "--", "a", "e"),
    G("log", "--oneline", "-n", "2", "--", "a"), G("log", "--oneline", "-1", "--", "d/moved.txt"),
    G("log", "--oneline", "side", "--", "a"), G("log", "--oneline", "main..side", "--", "d"),
    G("log", "--oneline", "side..main", "--", "a"), G("log", "--oneline", "side...other", "--", "a", "c.txt"),
    G("log", "--oneline", "^other", "main", "--", "d/b", "c.txt"), G("log", "--oneline", "HEAD~2", "--", "a"),
    G("log", "a"), G("log", "--oneline", "a", "d/b"), G("log", "--oneline", "main", "e"), G("log", "--oneline", "*.txt"),
    G("log", "--oneline", "--", "*.txt"), G("log", "--oneline", "d/*"), G("log", "nope"), G("log", "--oneline", "a", "nope"),
    G("log", "a", "--oneline"), G("log", "--oneline", "b", cwd="d"), G("log", "--oneline", "--", "../a", "b", cwd="d"),
    G("log", "--oneline", ".", cwd="d"), G("log", "--stat", "-n", "1", "--", "b", cwd="d"), G("log", "--oneline", "HEAD", "--"),
    G("log", "--oneline", "nope", "--", "a"), G("log", "--oneline", "--", "c.txt", "d/moved.txt"),
    G("log", "--oneline", "--", "d/"), G("log", "--oneline", "./a"), G("log", "--oneline", "-n", "0", "--", "a"),
    G("log", "--oneline", "--", "d/b", "d/b"), G("log", "--oneline", "--", "a", "."), G("log", "--oneline", "other", "--", "e"),
    G("log", "--oneline", "--", "D"), G("log", "--oneline", "--", "d/?"), G("log", "--stat", "--", "d/moved.txt", "c.txt"),
    G("log", "--oneline", "other..", "--", "a"), G("log", "--oneline", "--", ".."), G("log", "--oneline", "--", "../nope", cwd="d"),
    # outside the work tree: git's message names it, for every command that reads paths
    G("add", ".."), G("diff", "--", ".."), G("restore", ".."), G("grep", "x", "--", ".."), G("checkout", "--", ".."),
    G("blame", "../x"), G("show", "HEAD:../x"), G("show", "HEAD:../../x", cwd="d"), G("blame", "../../x", cwd="d"),
    G("add", "../../x", cwd="d"),
]

# A detached HEAD: checkout of a commit or a tag (git's advice), switch --detach, status and
# branch ("HEAD detached at/from", from HEAD's reflog), log, commits on it, leaving it (the
# commits left behind listed, or "Previous HEAD position was"), checkout -/switch - back.
DETACHED = [
    G("init", "-q", "-b", "main"), G("switch", "--detach"), G("checkout", "--detach"), G("checkout", "-"),
    G("switch", "-"), ("write", "a", b"1\n"), G("add", "a"), G("commit", "-q", "-m", "one"),
    ("write", "a", b"2\n"), G("commit", "-q", "-a", "-m", "two"), ("write", "b", b"b\n"), G("add", "b"),
    G("commit", "-q", "-m", "three"), G("checkout", "HEAD~1"), G("status"), G("status", "-sb"),
    G("status", "--porcelain"), G("status", "-s"), G("branch"), G("branch", "--show-current"), G("log", "--oneline"),
    G("log", "-n", "1"), ("write", "c", b"c\n"), G("add", "c"), G("commit", "-m", "on detached"), G("status"),
    G("branch"), G("status", "-sb"), G("log", "--oneline", "-n", "2"), G("checkout", "main"), G("status"),
    G("checkout", "-"), G("status"), G("branch"), G("checkout", "-"), G("switch", "--detach"), G("status"),
    G("branch"), G("switch", "--detach", "main~2"), G("status"), G("checkout", "main~1"), G("checkout", "main~1"),
    ("host", ["tag", "v1", "main~1"]), G("checkout", "v1"), G("status"), G("branch"), G("status", "-sb"),
    G("checkout", "--detach", "main"), G("status"), G("branch"), G("switch", "main"),
    G("checkout", "main~2"), G("switch", "-"), ("write", "a", b"dirty\n"), G("checkout", "main~1"),
    G("status", "-s"), G("checkout", "main~2"), G("restore", "a"), G("checkout", "main~2"), G("switch", "main~1"),
    G("switch", "main"),
    # six commits left behind: git lists four, then "... and 2 more"
    G("checkout", "HEAD~1"),
] + [st for i in range(6) for st in (("write", "a", b"%d\n" % i), G("commit", "-q", "-a", "-m", "lost %d" % i))] + [
    G("status"), G("checkout", "main"), G("checkout", "-"), G("checkout", "-b", "kept"), G("status"), G("branch"),
    G("checkout", "main"), G("switch", "-"), G("branch", "-d", "kept"), G("switch", "--detach", "kept~2"),
    G("checkout", "main"), G("log", "--oneline", "-n", "1"),
    # "Already on" is logged too: "-" returns to the same branch
    G("checkout", "main"), G("checkout", "-"), G("switch", "-"), G("branch"),
]

# A repository the host's git made and packed: core.filemode = true and an executable file
# (WASI shows no permission bits: without the filemode override every such file is modified),
# objects in a pack (read without mmap).
HOSTREPO = [
    ("host", ["init", "-q"]), ("write", "run.sh", b"#!/bin/sh\necho hi\n"), ("chmod", "run.sh", 0o755),
    ("write", "plain", b"p\n"), ("host", ["add", "."]), ("host", ["commit", "-q", "-m", "host"]),
    ("write", "plain", b"p2\n"), ("host", ["commit", "-q", "-a", "-m", "host 2"]),
    ("host", ["gc", "-q"]), G("status"), G("status", "-s"), G("diff"), G("log"), G("ls-files", "-s"),
    ("write", "plain", b"p3\n"), G("commit", "-a", "-m", "guest"), G("show", "--stat"),
    G("log", "--oneline"), G("status"),
]

GREP = [
    G("init", "-q"), ("write", "w.txt", b"foo bar\nfoobar\nbar_foo\nFOO\n"), ("write", "binf", b"hello\nworld\x00bin\n"),
    ("write", "sub/s.c", b"int foo(void);\n  return foo + 1;\nnoeol foo"), ("write", "sp ace", b"x foo\n"),
    ("write", "t\tab", b"x\n"), ("write", "untracked", b"foo\n"), G("add", "w.txt", "binf", "sub", "sp ace", "t\tab"),
    G("grep", "foo"), G("grep", "-n", "foo"), G("grep", "-c", "o"), G("grep", "-l", "foo"), G("grep", "-w", "foo"),
    G("grep", "-wn", "bar"), G("grep", "-i", "foo"), G("grep", "-F", "-i", "FOO B"), G("grep", "-E", "fo+b|^bar"),
    G("grep", "fo\\+b"), G("grep", "-v", "-c", "o"), G("grep", "-e", "foo", "-e", "world", "-n"),
    G("grep", "nomatch"), G("grep", "-q", "foo"), G("grep", "-h", "foo"), G("grep", "foo", "--", "sub"),
    G("grep", "foo", "sub/s.c", "w.txt"), G("grep", "-n", "foo", cwd="sub"), G("grep", "x", "nofile"), G("grep", "-in", "foo"), G("grep", "-cv", "o"),
    G("grep", "^int [a-z]*(", "--", "*.c"), G("grep", "-E", "(bar|baz)$"), G("grep", "-n", "", "--", "sp ace"),
    ("rm", "w.txt"), G("grep", "foo"), G("grep", "-w", "o"), G("grep", "[[:upper:]]"),
]

# blame: the history's lines, a block that can slide (the indent heuristic), a rename, work-tree
# edits ("Not Committed Yet": its time is now on both sides, compared as such), -L, porcelain.
SLIDE_A = b"f {\n\n\n  x\nf {\n  x\n"
SLIDE_B = b"f {\n\n\n  x\n\n  x\nf {\n  x\n"
BLAME = [
    G("init", "-q"), G("blame", "f"), ("write", "f", b"one\ntwo\nthree\n"), G("blame", "f"),
    G("add", "f"), G("commit", "-q", "-m", "root"), G("blame", "f"), G("blame", "nope"),
    ("write", "f", b"one\n2\nthree\nfour\n"), G("commit", "-q", "-a", "-m", "second\n\nbody"),
    G("blame", "f"), G("blame", "-p", "f"), G("blame", "--porcelain", "f"),
    G("blame", "--line-porcelain", "f"), G("blame", "-s", "f"), G("blame", "-e", "f"),
    G("blame", "-n", "f"), G("blame", "-f", "f"), G("blame", "-l", "f"), G("blame", "-b", "f"),
    G("blame", "--root", "f"), G("blame", "-L", "2,3", "f"), G("blame", "-L2,+2", "f"),
    G("blame", "-L", "3,-2", "f"), G("blame", "-L", "2", "f"), G("blame", "-L", ",2", "f"),
    G("blame", "-L", "4,2", "f"), G("blame", "-L", "3,99", "f"), G("blame", "-L", "9", "f"),
    G("blame", "-L", "0", "f"), G("blame", "-L", "1,+0", "f"), G("blame", "-L", "2,0", "f"),
    G("blame", "HEAD~1", "f"), G("blame", "HEAD~1", "--", "f"), G("blame", "--", "f"),
    G("blame", "nope", "f"),
    ("write", "f", b"zero\none\n2\nfour\nfive"), G("blame", "f"), G("blame", "-p", "f"),
    G("blame", "-L", "2,4", "-p", "f"), G("blame", "HEAD", "f"),
    G("commit", "-q", "-a", "-m", "third", env={"GIT_AUTHOR_NAME": "S\u00e9cond Author"}),
    G("blame", "f"), G("blame", "-e", "f"), ("rm", "f"), G("blame", "f"), G("blame", "HEAD", "f"),
    G("restore", "f"), ("write", "s.c", SLIDE_A), G("add", "s.c"), G("commit", "-q", "-m", "s1"),
    ("write", "s.c", SLIDE_B), G("commit", "-q", "-a", "-m", "s2"), G("blame", "s.c"),
    ("write", "s.c", SLIDE_B + SLIDE_B), G("blame", "s.c"), G("restore", "s.c"),
    # a line added within a run of equal lines longer than 1 KiB: git's xdi_diff trims the common
    # tail (whole 1 KiB blocks) before diffing, which decides where the added line is
    ("write", "x", b"x\n" * 700), G("add", "x"), G("commit", "-q", "-m", "x"), ("write", "x", b"x\n" * 701),
    G("blame", "x"), G("blame", "-p", "-L", "180,200", "x"), G("commit", "-q", "-a", "-m", "x2"),
    G("blame", "-L", "180,200", "x"),
    ("write", "sub/g", b"".join(b"line %d\n" % i for i in range(30))), G("add", "sub"),
    G("commit", "-q", "-m", "g"), ("write", "sub/g", b"".join(b"line %d\n" % i for i in range(30) if i % 7)),
    G("commit", "-q", "-a", "-m", "g2"), G("blame", "g", cwd="sub"), G("blame", "sub/g"),
    G("blame", "-L", "5,8", "--porcelain", "g", cwd="sub"),
    ("rm", "sub/g"), ("write", "sub/h", b"".join(b"line %d\n" % i for i in range(30) if i % 7)),
    G("add", "-A"), G("commit", "-q", "-m", "rename"), G("blame", "sub/h"), G("blame", "-p", "sub/h"),
    G("blame", "-s", "-L", "1,3", "sub/h"),
]

# A hostile repository: file names, commit messages, author names, branch and tag names, HEAD's
# reflog carrying terminal controls (ESC sequences, CR, BS, BEL, C1 as UTF-8 and as a raw byte),
# newlines, quotes, backslashes, bidirectional controls and bytes that are not UTF-8. The names
# git refuses to create (check-ref-format) are written into .git by hand, as such a repository
# would hold them. A file name that is not UTF-8 exists only in the index and the trees (WASI's
# paths are UTF-8: the guest cannot open such a file, the sandbox's host refuses the name).
ESC, OSC = "\x1b[31m", "\x1b]0;title\x07"
HOSTILE_FILES = ["e" + ESC + "red", "cr\rx", "bel\x07", "nl\nx", "q\"b\\s", "c1\u009b", "bidi\u202e.txt",
                 "d" + ESC + "/f", "tab\tx"]
HOSTILE_MSG = "sub" + OSC + "ject\rCR\bBS \u009b[2J\n\nbody " + ESC + "x\x1b[0m\n"
HOSTILE = [
    G("init", "-q", "-b", "main"),
] + [("write", f, b"x\n") for f in HOSTILE_FILES] + [
    G("status"), G("status", "-s"), G("status", "--porcelain"), G("add", "-A"), G("status"), G("status", "-s"),
    G("ls-files"), G("ls-files", "-s"), G("diff", "--cached", "--stat"),
    G("commit", "-m", HOSTILE_MSG, env={"GIT_AUTHOR_NAME": "Ev" + ESC + "il\u202e", "GIT_AUTHOR_EMAIL": "e\x1b[1m@x"}),
    G("log"), G("log", "--oneline"), G("log", "--stat"), G("show"), G("show", "--stat"),
    ("write", HOSTILE_FILES[0], b"x\ny\n"), ("write", HOSTILE_FILES[2], b"z\n"), ("rm", HOSTILE_FILES[1]),
    ("write", "cr\rmoved", b"x\n"), G("status"), G("status", "-s"), G("diff"), G("diff", "--stat"), G("add", "-A"),
    G("status"), G("diff", "--cached"), G("commit", "-m", "two\x1b[2K"), G("log", "-p"), G("log", "--stat", "-n", "1"),
    G("log", "--oneline", "--", HOSTILE_FILES[0]), G("diff", "HEAD~1", "HEAD", "--stat"),
    G("show", "HEAD:" + HOSTILE_FILES[0]), G("show", "HEAD:d" + ESC), G("show", "HEAD:nope\x1bx"),
    G("grep", "-n", "x"), G("grep", "-l", "y"), G("grep", "-c", "x"), G("grep", "x", cwd="d" + ESC),
    G("blame", HOSTILE_FILES[0]), G("blame", "-f", HOSTILE_FILES[0]), G("blame", "-p", HOSTILE_FILES[0]),
    G("blame", "-e", HOSTILE_FILES[2]),
    ("write", HOSTILE_FILES[0], b"dirty\n"), ("write", HOSTILE_FILES[2], b"dirty\n"), G("branch", "other"),
    G("switch", "--detach", "HEAD~1"), G("switch", "main"),
    G("checkout", "nope" + ESC), G("log", "nope" + ESC), G("diff", "nope" + ESC, "--"),
    # refs whose names git refuses (ignored with a warning by git), one valid name with a C1 byte
    ("ref", b"refs/heads/bad\x1b[2Jname", "HEAD"), ("ref", b"refs/heads/ok\xc2\x9bc1", "HEAD~1"),
    ("ref", b"refs/heads/cr\rname", "HEAD"), ("ref", b"refs/tags/t\x07bell", "HEAD"),
    ("packed", [(b"refs/heads/pk\x1b[1mX", "HEAD~1"), (b"refs/tags/v1", "HEAD~1"), (b"refs/tags/t\x1bg", "HEAD")]),
    G("branch"), G("log", "--oneline", "-n", "1"), G("status", "-s", "-b"), G("checkout", "bad\x1b[2Jname"),
    G("switch", "bad\x1b[2Jname"), G("log", "--oneline", "bad\x1b[2Jname"),
    G("switch", "ok\u009bc1"), G("status"), G("branch"), G("switch", "main"), G("checkout", "v1"), G("status"),
    G("switch", "main"),
    # HEAD's reflog names where a detached HEAD came from
    G("checkout", "HEAD~1"),
    ("reflog", "main", "HEAD~0", b"checkout: moving from main to \x1b[31mevil"), G("status"), G("branch"),
    G("switch", "main"), ("reflog", "HEAD~1", "HEAD~1", b"checkout: moving from \x1b]0;t\x07x to main"), G("checkout", "-"),
    G("switch", "-"),
    # core.quotePath false (the repository's own setting): bytes >= 0x80 unquoted, controls quoted
    ("host", ["config", "core.quotePath", "false"]), ("write", "caf\u00e9 \u202e", b"new\n"), G("status"), G("status", "-s"),
    G("add", "-A"), G("ls-files"), G("diff", "--cached"), G("diff", "--cached", "--stat"), G("commit", "-m", "quotepath"),
    G("log", "--stat", "-n", "1"), G("grep", "-l", "x"), G("show", "HEAD:c1\u009b"), ("host", ["config", "--unset", "core.quotePath"]),
    # a name only the index and the trees have (not UTF-8; the host's git stages it)
    ("host", ["update-index", "--add", "--cacheinfo", b"100644,587be6b4c3f93f93c489c0111bba5596147a26cb,raw\xffname"]),
    G("ls-files"), G("diff", "--cached", "--stat"), G("commit", "-q", "-m", "raw name"), G("log", "--stat", "-n", "1"),
    G("show", "--stat"), G("ls-files", "-s"),
]

def term_escape(b):
    """The host's escape_for_terminal(kCaret) (src/common/escape.cc), in Python: C0 controls but
    tab and newline and DEL as ^X, C1 and bidirectional controls as <U+XXXX>, bytes that are not
    strict UTF-8 as \\xNN."""
    out, i = bytearray(), 0
    while i < len(b):
        c = b[i]
        if c < 0x80:
            out += (b"^" + bytes([0x3f if c == 0x7f else c + 0x40])) if (c < 0x20 or c == 0x7f) and c not in (9, 10) else bytes([c])
            i += 1
            continue
        n = 2 if 0xc2 <= c <= 0xdf else 3 if 0xe0 <= c <= 0xef else 4 if 0xf0 <= c <= 0xf4 else 0
        try:
            ch = b[i:i + n].decode("utf-8") if n and i + n <= len(b) else None
        except UnicodeDecodeError:
            ch = None
        if ch is None or len(ch) != 1:
            out += b"\\x%02x" % c
            i += 1
            continue
        cp = ord(ch)
        bidi = cp in (0x061C, 0x200E, 0x200F) or 0x202A <= cp <= 0x202E or 0x2066 <= cp <= 0x2069
        out += b"<U+%04X>" % cp if 0x80 <= cp <= 0x9F or bidi else b[i:i + n]
        i += n
    return bytes(out)


def run_on_tty(cmd, stream):
    """CMD with STREAM ("stdout" or "stderr") a terminal (a pty in raw mode: no CR added), the
    other a pipe: (status, stdout, stderr)."""
    import pty
    import tty
    master, slave = pty.openpty()
    tty.setraw(slave)
    kw = {stream: slave, ("stderr" if stream == "stdout" else "stdout"): subprocess.PIPE}
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, **kw)
    os.close(slave)
    got = bytearray()
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every writer closed
            break
        if not chunk:
            break
        got += chunk
    os.close(master)
    piped = (p.stderr if stream == "stdout" else p.stdout).read()
    p.wait(timeout=300)
    return (p.returncode, bytes(got), piped) if stream == "stdout" else (p.returncode, piped, bytes(got))


def terminal(c, a, tmp):
    """On a terminal, what the module prints of the repository is escaped as the host escapes
    text for one (README: "A hostile repository"): the same commands, Debian's git into a pipe
    on the other workspace; the module's output on a pty must be git's bytes escaped."""
    home = os.path.join(tmp, "home")
    os.makedirs(home, exist_ok=True)
    g, n = Side(os.path.join(tmp, "tty", "g"), True, a, home), Side(os.path.join(tmp, "tty", "n"), False, a, home)
    env = dict(ENV, GIT_AUTHOR_DATE="@1700000000 +0000", GIT_COMMITTER_DATE="@1700000000 +0000")
    content = b"l\x1b[2Jine\r\n\xff\xc2\x9b\xe2\x80\xae\x7f\n"
    setup = [("write", HOSTILE_FILES[0], b"x\n"), ("write", "f", b"one\n"), ("write", "c1\u009b\u202e", b"x\n")]
    for side in (g, n):
        for st in setup:
            apply_edit(side.root, st)
        for args, extra in [(["init", "-q", "-b", "main"], {}), (["add", "-A"], {}),
                            (["commit", "-q", "-m", HOSTILE_MSG], {"GIT_AUTHOR_NAME": "Ev" + ESC + "il\u202e"})]:
            side.git(args, "", dict(env, **extra))
        apply_edit(side.root, ("write", "f", content))
        for args in (["commit", "-q", "-a", "-m", "two\x1b]8;;http://x\x07"], ["branch", "ok\u009bc1"],
                     ["config", "remote.origin.url", "/nowhere"],
                     ["config", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*"], ["config", "branch.main.remote", "origin"], ["config", "branch.main.merge", "refs/heads/x\x1b[31my"]):
            native = Side.__new__(Side)
            native.root, native.guest, native.a, native.home = side.root, False, a, home
            native.git(args, "", env)
    for i, (args, stream) in enumerate([(["log"], "stdout"), (["log", "--oneline"], "stdout"), (["show"], "stdout"),
                         (["show", "HEAD:f"], "stdout"), (["diff", "HEAD~1", "HEAD"], "stdout"),
                         (["grep", "-n", "ine"], "stdout"), (["blame", "-p", "f"], "stdout"),
                         (["branch"], "stdout"), (["status"], "stdout"), (["status", "-sb"], "stdout"),
                         (["checkout", "HEAD~1"], "stderr"), (["status"], "stdout"), (["switch", "ok\u009bc1"], "stderr"),
                                         (["checkout", "nope\u202e\u009b\x1b"], "stderr"), (["ls-files"], "stdout"),
                                         (["config", "core.quotePath", "false"], None), (["ls-files"], "stdout"),
                                         (["show", "--stat", "HEAD~1"], "stdout"), (["status", "-s"], "stdout"),
                                         (["log", "-p", "-n", "1", "HEAD~1"], "stdout")]):
        if stream is None:  # the host's git on both workspaces
            for side in (g, n):
                native = Side.__new__(Side)
                native.root, native.guest, native.a, native.home = side.root, False, a, home
                native.git(args, "", env)
            continue
        rn = n.git(args, "", env)
        genv = [("PWD", "/work")] + list(env.items())
        rg = run_on_tty(bundle_test.run_command(a, g.root, "git", args, genv), stream)
        want = (rn[0], term_escape(rn[1]), rn[2]) if stream == "stdout" else (rn[0], rn[1], term_escape(rn[2]))
        if "--stat" in args:  # the columns follow the names as shown: escaped names pad differently
            rg, want = ((r[0], re.sub(rb" +\|", b" |", r[1]), r[2]) for r in (rg, want))
        c.check("%s (%s a terminal)" % (label_of("tty", i, args, ""), stream), rg == want,
                "guest  %r\n  wanted %r" % (rg, want))
        if args == ["log"]:  # the test has teeth: git's bytes differ from the terminal's
            c.check("tty: git log's output carries controls", rn[1] != want[1], repr(rn[1][:200]))
    # the sandbox's refusals too ('?' for C0 controls as in git's messages, then as above)
    cmd = bundle_test.run_command(a, g.root, "git", ["log", "x\u202e\x1b@{1}"], [("PWD", "/work")])
    r = run_on_tty(cmd, "stderr")
    c.check("tty: a refusal is escaped", r == (1, b"", b"git: 'the revision syntax @{ (in 'x<U+202E>?@{1}')' is not supported in the sandbox\n"), repr(r))


NAMES = ["a", "b", "c.txt", "d/e", "d/f g", "d/h/i", "j.log"]


def walk(rng, n):
    steps = [G("init", "-q"), ("write", ".gitignore", b"*.log\n"), ("mkdir", "d")]
    for _ in range(n):
        r = rng.random()
        name = rng.choice(NAMES)
        if r < 0.35:
            data = b"".join(b"%d\n" % rng.randrange(5) for _ in range(rng.randrange(0, 6)))
            steps.append(("write", name, data))
        elif r < 0.45:
            steps.append(("rm_maybe", name))
        else:
            cmd = rng.choice([
                ["status"], ["status", "-s"], ["status", "--porcelain"], ["status", "-sb"],
                ["add", "-A"], ["add", "."], ["add", name], ["add", "-u"],
                ["commit", "-m", "c%d" % rng.randrange(100)], ["commit", "-a", "-m", "a"],
                ["log", "--oneline"], ["log", "-n", "2"], ["ls-files"], ["ls-files", "-s"],
                ["diff"], ["diff", "--cached"], ["diff", "--stat"], ["diff", "--cached", "--stat"],
                ["show"], ["show", "--stat"], ["log", "-p", "-n", "3"], ["restore", name],
                ["restore", "--staged", name], ["branch"], ["branch", "b%d" % rng.randrange(3)],
                ["grep", "-n", "1"], ["grep", "-c", "[23]"], ["grep", "-l", "-w", "4"],
                ["blame", name], ["blame", "-p", name], ["log", "--oneline", "HEAD~1"], ["diff", "HEAD"],
                ["diff", "HEAD~1", "HEAD"], ["show", "HEAD:" + name],
                ["switch", "b%d" % rng.randrange(3)], ["checkout", "b%d" % rng.randrange(3)], ["checkout", "master"],
                ["checkout", name], ["checkout", "--", name], ["checkout", "."],
                ["diff", "--", name], ["diff", "HEAD", "--stat", "--", name, "d"], ["diff", "--cached", "--", "d"],
                ["log", "--oneline", "--", name], ["log", "-p", "-n", "2", "--", "d"], ["log", "--stat", "--", name, "b"],
                ["checkout", "HEAD~1"], ["switch", "--detach"], ["checkout", "-"], ["switch", "-"],
            ])
            steps.append(G(*cmd, cwd=rng.choice(["", "", "d"]) if cmd[0] != "add" else ""))
    return steps


def refusals(c, a, tmp):
    s = Side(os.path.join(tmp, "refuse"), True, a, tmp)
    env = dict(ENV, GIT_AUTHOR_DATE="@1700000000 +0000", GIT_COMMITTER_DATE="@1700000000 +0000")
    s.git(["init", "-q"], "", env)
    for args, what in [(["push"], "push"), (["clone", "https://example.com/x"], "clone"),
                       (["log", "--graph"], "log --graph"), (["status", "-uno"], "status -uno"),
                       (["checkout"], "checkout "), (["diff", "--", ":!a"], "pathspec magic (':!a')"),
                       (["add", ":(glob)*.c"], "pathspec magic (':(glob)*.c')"),
                       (["checkout", "-f", "x"], "checkout -f"), (["checkout", "HEAD", "--", "a"], "checkout REV -- PATHSPEC (from a commit)"), (["log", "--follow", "--", "a"], "log --follow"), (["log", "main@{1}"], "the revision syntax @{ (in 'main@{1}')"),
                       (["show", "HEAD@{yesterday}"], "the revision syntax @{ (in 'HEAD@{yesterday}')"),
                       (["log", ":/fix"], "the revision syntax :/ (in ':/fix')"), (["diff", "HEAD^!"], "the revision syntax ^! (in 'HEAD^!')"),
                       (["blame", "-M", "a"], "blame -M"), (["blame", "-L", "/re/", "a"], "blame -L /re/"),
                       (["blame", "-L", "1,2", "-L", "3,4", "a"], "blame with more than one -L"),
                       (["restore", "--source=HEAD", "a"], "restore --source=HEAD"),
                       (["branch", "-m", "x"], "branch -m"), (["stash"], "stash"),
                       (["grep", "-P", "x"], "grep -P"), (["grep", "--cached", "x"], "grep --cached"),
                       (["commit"], "commit without -m (no editor in the sandbox)"),
                       (["-c", "a=b", "status"], "-c")]:
        r = s.git(args, "", env)
        c.check("refuses git %s" % " ".join(args), r == (1, b"", b"git: '%s' is not supported in the sandbox\n" % what.encode()),
                "got %r" % (r,))
    # names git's check-ref-format refuses, written by hand: git deletes such a branch (and prints
    # its name raw), its commands fail each their own way on a HEAD naming one
    with open(os.path.join(s.root, "f"), "w") as f:
        f.write("f\n")
    s.git(["add", "f"], "", env)
    s.git(["commit", "-q", "-m", "c"], "", env)
    write_refs(s.root, ("ref", b"refs/heads/bad\x1b[2Jname", "HEAD"))
    r = s.git(["branch", "-d", "bad\x1b[2Jname"], "", env)
    c.check("refuses git branch -d of a broken name", r == (1, b"", b"git: 'branch -d of a branch whose name git's check-ref-format refuses' is not supported in the sandbox\n"), "got %r" % (r,))
    r = s.git(["log", "x\x1b]0;t\x07@{1}"], "", env)
    c.check("a refusal shows control characters as '?'", r == (1, b"", b"git: 'the revision syntax @{ (in 'x?]0;t?@{1}')' is not supported in the sandbox\n"), "got %r" % (r,))
    with open(os.path.join(s.root, ".git", "HEAD"), "wb") as f:
        f.write(b"ref: refs/heads/bad\x1b[2Jname\n")
    for args in (["status"], ["branch"], ["log"]):
        r = s.git(args, "", env)
        c.check("refuses git %s with HEAD naming a broken name" % args[0], r == (1, b"", b"git: 'a HEAD that names a branch whose name git's check-ref-format refuses' is not supported in the sandbox\n"), "got %r" % (r,))


def bounds(c, a, tmp):
    """The runtime's bounds hold for git: memory (a guest that needs more traps, the host does not
    grow), output (a log larger than the bound stops at it)."""
    s = Side(os.path.join(tmp, "bounds"), True, a, tmp)
    env = dict(ENV, GIT_AUTHOR_DATE="@1700000000 +0000", GIT_COMMITTER_DATE="@1700000000 +0000")
    s.git(["init", "-q"], "", env)
    for i in range(30):
        with open(os.path.join(s.root, "f"), "w") as f:
            f.write("%d\n" % i)
        s.git(["commit", "-q", "-a", "-m", "c%d" % i] if i else ["add", "f"], "", env)
        if i == 0:
            s.git(["commit", "-q", "-m", "c0"], "", env)
    full = s.git(["log"], "", env)
    c.check("bounds: the history is there", full[0] == 0 and full[1].count(b"\ncommit ") == 29, repr(full[:1]))
    cmd = bundle_test.run_command(a, s.root, "git", ["log"], flags=["--max-output-bytes", "1000"])
    p = subprocess.run(cmd, capture_output=True, timeout=300)
    c.check("bounds: output stops at --max-output-bytes", p.returncode != 0 and len(p.stdout) <= 1000,
            "%d %d %r" % (p.returncode, len(p.stdout), p.stderr[-300:]))
    cmd = bundle_test.run_command(a, s.root, "git", ["status"], flags=["--max-memory-mb", "2"])
    p = subprocess.run(cmd, capture_output=True, timeout=300)
    c.check("bounds: --max-memory-mb 2 is refused or traps, never runs past it",
            p.returncode != 0 and b"On branch" not in p.stdout, "%d %r" % (p.returncode, p.stderr[-300:]))


def main():
    ap = bundle_test.arg_parser(__doc__)
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument("--walks", type=int, default=3)
    ap.add_argument("--only", default=None, help="run only the fixed scenario NAME (or the walks: walks)")
    a = ap.parse_args()
    if not os.path.exists("/usr/bin/git"):
        print("FAIL: the reference /usr/bin/git is missing: run scripts/setup.sh")
        return 1
    if not bundle_test.prepare_engine(a):
        return 1
    c = bundle_test.Checks()
    tmp = tempfile.mkdtemp(prefix="wasmcap-git-")
    try:
        for name, steps in FIXED.items():
            if a.only is None or a.only == name:
                run_scenario(c, a, tmp, name, steps)
        if a.only in (None, "diff"):
            run_scenario(c, a, tmp, "diff", DIFF)
        if a.only in (None, "grep"):
            run_scenario(c, a, tmp, "grep", GREP)
        if a.only in (None, "hostrepo"):
            run_scenario(c, a, tmp, "hostrepo", HOSTREPO)
        if a.only in (None, "branch"):
            run_scenario(c, a, tmp, "branch", BRANCH)
        if a.only in (None, "revs"):
            run_scenario(c, a, tmp, "revs", REVS)
        if a.only in (None, "switch"):
            run_scenario(c, a, tmp, "switch", SWITCH)
        if a.only in (None, "blame"):
            run_scenario(c, a, tmp, "blame", BLAME)
        if a.only in (None, "logpaths"):
            run_scenario(c, a, tmp, "logpaths", LOGPATHS)
        if a.only in (None, "detached"):
            run_scenario(c, a, tmp, "detached", DETACHED)
        if a.only in (None, "hostile"):
            run_scenario(c, a, tmp, "hostile", HOSTILE)
        if a.only in (None, "walks"):
            rng = random.Random(a.seed)
            for w in range(a.walks):
                steps = walk(rng, 40)
                # rm_maybe: remove only when present on both sides (they hold the same files).
                fixed = []
                present = set()
                for st in steps:
                    if st[0] == "write":
                        present.add(st[1])
                    if st[0] == "rm_maybe":
                        if st[1] not in present:
                            continue
                        present.discard(st[1])
                        st = ("rm", st[1])
                    fixed.append(st)
                run_scenario(c, a, tmp, "walk%d" % w, fixed)
        if a.only in (None, "refusals"):
            refusals(c, a, tmp)
        if a.only in (None, "terminal"):
            terminal(c, a, tmp)
        if a.only is None:
            bounds(c, a, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return c.finish("engine %s" % a.engine)


if __name__ == "__main__":
    sys.exit(main())
