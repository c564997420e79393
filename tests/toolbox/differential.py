#!/usr/bin/env python3
"""Differential tests of the toolbox (guest/toolbox) against Debian's own binaries of the same
source packages, on generated inputs: awk = /usr/bin/mawk, jq = /usr/bin/jq, diff and cmp =
/usr/bin/diff and /usr/bin/cmp (diffutils), gzip, gunzip and zcat = /usr/bin/gzip (1.12) and
Debian's gunzip and zcat scripts around it, patch = /usr/bin/patch (GNU patch 2.7.6), tar =
/usr/bin/tar (GNU tar 1.34), grep, egrep and fgrep = /usr/bin/grep (GNU grep 3.8) and Debian's
egrep and fgrep scripts around it, find = /usr/bin/find (GNU findutils 4.9.0), ls, dir, vdir and
cat = /bin/ls, /usr/bin/dir, /usr/bin/vdir and /bin/cat (GNU coreutils 9.1), xxd = /usr/bin/xxd
(package xxd, from vim's source), column = /usr/bin/column (bsdextrautils, from util-linux's),
tree = /usr/bin/tree (tree 2.1.0), bc = /usr/bin/bc (GNU bc 1.07.1).

Each case runs twice on identical copies of a workspace:
  wasmcap run --engine E --dir WS::/work --argv0 TOOL toolbox.wasm ARGS...  (cwd = /work)
  /usr/bin/TOOL ARGS...                                                     (cwd = WS, LC_ALL=C)
and compares stdout, stderr and the exit status, and the files a case names as outputs (patch's
tree cases: every file and directory of the workspace). Then the
cases that cannot be differential: what WASI cannot do must fail with a message, never run a
host program (awk's system(), pipes; jq's regular expressions without oniguruma), and tar's
hostile archives (a bomb at --max-memory-mb, -P's escapes) and its one intended difference
(symlinks pointing out of the workspace refused); xxd's and column's bounds (`xxd -r`'s zero
fill at --max-output-bytes, a table of a million columns at --max-memory-mb with column's
message); tree's (a directory 10,000 deep); bc's (an endless loop and 2^10000000 at the
deadline, a 100-million-digit scale at --max-memory-mb).

Usage: differential.py --wasmcap build/bin/wasmcap --module build/guest/toolbox/toolbox.wasm
                       [--engine interp|aot] [--tools awk,jq,diff,cmp,gzip,patch,tar,grep,find,ls,cat,xxd,column,tree,bc] [--seed N]
"""
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(os.path.dirname(HERE), "support"))
import bundle_test  # noqa: E402
import gen  # noqa: E402

NATIVE_ENV = {"LC_ALL": "C", "TZ": "UTC", "PATH": "/usr/bin:/bin"}
NATIVE = {"awk": "/usr/bin/mawk", "jq": "/usr/bin/jq", "diff": "/usr/bin/diff", "cmp": "/usr/bin/cmp",
          "gzip": "/usr/bin/gzip", "gunzip": "/usr/bin/gunzip", "zcat": "/usr/bin/zcat",
          "patch": "/usr/bin/patch", "tar": "/usr/bin/tar", "grep": "/usr/bin/grep",
          "egrep": "/usr/bin/egrep", "fgrep": "/usr/bin/fgrep",
          "find": "/usr/bin/find",
          "ls": "/bin/ls", "dir": "/usr/bin/dir", "vdir": "/usr/bin/vdir", "cat": "/bin/cat",
          "xxd": "/usr/bin/xxd", "column": "/usr/bin/column", "tree": "/usr/bin/tree",
          "bc": "/usr/bin/bc"}
# The guest runs as `mawk` so that messages name the same program as Debian's binary does.
ARGV0 = {"awk": "mawk", "jq": "jq", "diff": "diff", "cmp": "cmp", "gzip": "gzip", "gunzip": "gunzip",
         "zcat": "zcat", "patch": "patch", "tar": "tar", "grep": "grep", "egrep": "egrep",
         "fgrep": "fgrep", "find": "find", "ls": "ls", "dir": "dir", "vdir": "vdir", "cat": "cat",
         "xxd": "xxd", "column": "column", "tree": "tree", "bc": "bc"}

class Runner:
    def __init__(self, a):
        self.a = a
        self.tmp = tempfile.mkdtemp(prefix="wasmcap-toolbox-")
        self.n = 0

    def workspace(self, files, layout=None):
        """FILES ({name: bytes}) in a new folder; LAYOUT (a case's keys): "dirs", empty
        directories; "links", symlinks ({name: target}); "utimes", (atime, mtime) in ns for any
        name (the folder itself: "."); "ages", {path: seconds before now} (find's -mtime, -mmin,
        -newer: gen.find_cases); times set last; "owner", a uid given to everything as owner and
        group (find's stat cases: the sandbox's user, 1000)."""
        self.n += 1
        d = os.path.join(self.tmp, "ws%d" % self.n)
        os.makedirs(d)
        for name, data in files.items():
            p = os.path.join(d, name)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(data)
        layout = layout or {}
        for name in layout.get("dirs", ()):
            os.makedirs(os.path.join(d, name), 0o755, exist_ok=True)
        # One mtime for every input on both sides (diff's headers print it); the modes a umask of
        # 022 gives, which tar records where WASI has none (patches/tar/03), whatever the runner's.
        for root, dirs, names in os.walk(d):
            for n in names + dirs:
                os.chmod(os.path.join(root, n), 0o755 if n in dirs else 0o644)
                os.utime(os.path.join(root, n), (1767225600, 1767225600))
        for name, target in layout.get("links", {}).items():
            os.symlink(target, os.path.join(d, name))
        for name, ns in sorted(layout.get("utimes", {}).items(), key=lambda kv: -kv[0].count("/")):
            os.utime(os.path.join(d, name), ns=ns, follow_symlinks=False)
        now = time.time()
        for name, age in layout.get("ages", {}).items():
            os.utime(os.path.join(d, name), (now - age, now - age))
        if "owner" in layout:
            for root, dirs, names in os.walk(d):
                for n in [""] + names + dirs:
                    os.lchown(os.path.join(root, n), layout["owner"], layout["owner"])
        return d

    def guest(self, tool, args, files, stdin, env=(), layout=None):
        ws = self.workspace(files, layout)
        flags = list(bundle_test.RUN_FLAGS)
        layout = layout or {}
        if layout.get("host_clock"):  # the host's wall clock, not the pinned one: find's -mtime
            i = flags.index("--clock")
            flags = flags[:i] + flags[i + 2:]
        elif layout.get("clock"):  # the guest's clock pinned to this time (s)
            flags[flags.index("--clock") + 1] = time.strftime("fixed=%Y-%m-%dT%H:%M:%SZ",
                                                              time.gmtime(layout["clock"]))
        p = subprocess.run(bundle_test.run_command(self.a, ws, ARGV0[tool], args, env, flags),
                           input=stdin or b"", capture_output=True, timeout=300)
        return p.returncode, p.stdout, p.stderr, ws

    def native(self, tool, args, files, stdin, env=(), layout=None):
        ws = self.workspace(files, layout)
        p = subprocess.run([ARGV0[tool]] + list(args), executable=NATIVE[tool], input=stdin or b"",
                           capture_output=True, cwd=ws, env=dict(NATIVE_ENV, **dict(env)), timeout=120)
        return p.returncode, p.stdout, p.stderr, ws

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def owner_name(uid):
    """The host's name of UID as user and group (the guest's $USER names both), None when it has
    neither, False when the two differ or the workspace cannot be given to UID (not root)."""
    import grp
    import pwd
    if os.getuid() not in (0, uid):
        return False
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = None
    try:
        group = grp.getgrgid(uid).gr_name
    except KeyError:
        group = None
    return user if user == group else False


def read(ws, name):
    p = os.path.join(ws, name)
    if not os.path.exists(p):
        return None
    with open(p, "rb") as f:
        return f.read()


def tree(ws, times=False):
    """Every file, directory and symlink under WS: {relative path: bytes (with the mtime when
    TIMES: tar restores them), None for a directory, "-> TARGET" for a symlink}."""
    t = {}
    for root, dirs, names in os.walk(ws):
        for n in dirs + names:
            p = os.path.join(root, n)
            rel = os.path.relpath(p, ws)
            if os.path.islink(p):
                t[rel] = "-> " + os.readlink(p)
            elif os.path.isdir(p):
                t[rel] = None
            else:
                t[rel] = (read(root, n), int(os.stat(p).st_mtime)) if times else read(root, n)
    return t


def differential(c, r, tool, case):
    """A case's stdout, stderr, status and OUTS on both sides; with "tree", every file and
    directory of the workspace (nothing left behind, nothing missing); "env": (name, value)
    pairs for both sides."""
    args, files, stdin, outs = case["args"], case.get("files", {}), case.get("stdin"), case.get("outs", [])
    env = case.get("env", ())
    if "owner" in case:
        name = owner_name(case["owner"])
        if name is False:
            c.check("%s %s" % (tool, " ".join(args)), False,
                    "uid %d and gid %d are named differently on this host, or this runner cannot "
                    "chown (run as root)" % (case["owner"], case["owner"]))
            return
        if name:  # the guest's $USER names the sandbox's user as the host names the uid
            env = tuple(env) + (("USER", name),)
    g = r.guest(tool, args, files, stdin, env, case)
    n = r.native(tool, args, files, stdin, env, case)
    if case.get("inodes"):  # -ls: the inode (first field) is each copy's own
        g, n = [(x[0], re.sub(rb"(?m)^ *[0-9]+ ", b"INODE ", x[1])) + x[2:] for x in (g, n)]
    label = "%s %s" % (tool, " ".join(repr(x) if " " in x or not x else x for x in args))[:200]
    if env:
        label += " (%s)" % " ".join("%s=%s" % kv for kv in env)
    same = g[0] == n[0] and g[1] == n[1] and g[2] == n[2]
    for o in outs:
        same = same and read(g[3], o) == read(n[3], o)
    detail = ""
    if case.get("tree"):
        gt, nt = tree(g[3], case.get("times")), tree(n[3], case.get("times"))
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


def tar_bomb(c, r):
    """A tar bomb: one member of 512 MiB of zeros (about 500 KB gzip'd). `tar xzf` holds the
    uncompressed archive in memory (compat/tar/tar-wasi.c), so with --max-memory-mb 64 it stops
    at the memory bound with gzip's and tar's messages (exit 2) before writing anything."""
    import tarfile
    import zlib
    ti = tarfile.TarInfo("big")
    ti.size, ti.mtime = 512 << 20, 1767225600
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [z.compress(ti.tobuf(format=tarfile.GNU_FORMAT))]
    zeros = bytes(1 << 20)
    for _ in range(512):
        parts.append(z.compress(zeros))
    parts.append(z.compress(bytes(10240)))
    parts.append(z.flush())
    ws = r.workspace({"bomb.tgz": b"".join(parts)})
    p = subprocess.run(bundle_test.run_command(r.a, ws, "tar", ["xzf", "bomb.tgz"],
                                               flags=bundle_test.RUN_FLAGS + ["--max-memory-mb", "64"]),
                       capture_output=True, timeout=300)
    c.check("tar: a bomb stops at --max-memory-mb, nothing extracted",
            p.returncode == 2 and b"gzip: stdout: Out of memory" in p.stderr and b"Child returned status 1" in p.stderr
            and not os.path.exists(os.path.join(ws, "big")),
            "%d %r" % (p.returncode, p.stderr[-400:]))


def tar_symlinks_out(c, r):
    """The one intended difference from GNU tar: a symlink pointing out of the workspace (absolute,
    or with `..`) is refused by the sandbox (EPERM: docs/security-model.md, "Symlinks"), where
    GNU tar makes it. GNU tar itself extracts such links last, after placeholders, so a member
    written through one fails on both sides alike; the guest's run must be the native run's
    exactly (status, stdout, the rest of the tree, the other messages) but for one refusal per
    link and those links missing."""
    files = {"symout.tar": gen.tar_symout()}
    args = ["xvf", "symout.tar"]
    env = (("LC_ALL", "C"),)
    g = r.guest("tar", args, files, None, env)
    n = r.native("tar", args, files, None, env)
    refused = {"up": "..", "abs": "/tmp", "etc": "/etc"}
    lines = [b"tar: %s: Cannot create symlink to '%s': Operation not permitted" % (k.encode(), v.encode())
             for k, v in refused.items()]
    gl, nl = g[2].splitlines(), n[2].splitlines()
    gt, nt = tree(g[3], True), tree(n[3], True)
    ok = (g[0] == n[0] == 2 and g[1] == n[1] and all(gl.count(x) == 1 for x in lines)
          and [x for x in gl if x not in lines] == nl
          and all(nt.get(k) == "-> " + v for k, v in refused.items())
          and gt == {k: v for k, v in nt.items() if k not in refused}
          and gt.get("in") == "-> ok.txt"
          and not os.path.exists(os.path.join(os.path.dirname(g[3]), "sym-escape.txt")))
    c.check("tar xvf symout.tar: the links pointing out refused (EPERM), the rest as GNU's", ok,
            "guest: %d %r %r\n  native: %d %r %r\n  trees: %r\n  %r" % (g[0], g[1][:300], g[2][:900], n[0],
                                                                    n[1][:300], n[2][:900], gt, nt))


def tar_absolute(c, r):
    """-P (absolute names, no deferred links) is tar's own escape hatch: the sandbox refuses what
    it would write outside the grants (never run natively: it would write to the host's /)."""
    def run(label, files, args, ok, absent=()):
        ws = r.workspace(files)
        p = subprocess.run(bundle_test.run_command(r.a, ws, "tar", args, (("LC_ALL", "C"),)),
                           capture_output=True, timeout=300)
        c.check("tar %s: %s" % (" ".join(args), label),
                p.returncode == 2 and ok(p.stderr, ws) and not any(os.path.exists(x) for x in absent),
                "%d %r" % (p.returncode, p.stderr[-600:]))
    run("an absolute member outside the grants is refused",
        {"abs.tar": gen._tar([("/wasmcap-tar-escape.txt", b"x\n")])}, ["xPf", "abs.tar"],
        lambda e, ws: b"/wasmcap-tar-escape.txt: Cannot open: Capabilities insufficient" in e,
        ["/wasmcap-tar-escape.txt"])
    run("a hard link to a host file is refused",
        {"hard.tar": gen._tar([("h", ("hard", "/etc/passwd"))])}, ["xPf", "hard.tar"],
        lambda e, ws: b"tar: h: Cannot hard link to '/etc/passwd': Capabilities insufficient" in e
        and not os.path.exists(os.path.join(ws, "h")))
    # Made at once under -P, the links are refused; the members meant to go through them land
    # in directories tar makes inside the workspace.
    run("symlinks pointing out are refused, nothing written through them",
        {"symout.tar": gen.tar_symout()}, ["xPf", "symout.tar"],
        lambda e, ws: b"tar: up: Cannot create symlink to '..': Operation not permitted" in e
        and os.path.isfile(os.path.join(ws, "up", "sym-escape.txt"))
        and not os.path.islink(os.path.join(ws, "abs")),
        [os.path.join(r.tmp, "sym-escape.txt"), "/tmp/sym-abs.txt"])


def grep_perl(c, r):
    """The one intended difference: no PCRE in the sandbox's grep (built without it), so -P says
    so with grep's own message and status 2, as Debian's grep built that way would."""
    expect(c, r, "grep", "grep -P refused", ["-P", "x", "f"], 2,
           b"grep: Perl matching not supported in a --disable-perl-regexp build", files={"f": b"x\n"})


def find_exec_refused(c, r):
    """A WASI guest cannot start a process: GNU find in the sandbox refuses -exec, -execdir, -ok
    and -okdir when it parses the expression (status 1, nothing walked or printed), never a
    partial answer; in wasmcap sh the shell runs them (tests/shell/find_exec.py). A missing
    command keeps GNU's usage message."""
    files = {"a.c": b"x\n", "b.c": b"y\n"}
    for act in ("-exec", "-execdir", "-ok", "-okdir"):
        expect(c, r, "find", act + " refused", [".", "-print", act, "rm", "{}", ";"], 1,
               b"find: " + act.encode() + b": cannot run commands: there are no processes in the "
               b"WASI sandbox", files=files)
    expect(c, r, "find", "-exec ... + refused", [".", "-name", "*.c", "-exec", "cat", "{}", "+"], 1,
           b"cannot run commands", files=files)
    expect(c, r, "find", "-exec without a command", [".", "-exec"], 1,
           b"find: missing argument to `-exec'", files=files)
def ls_sandbox(c, r):
    """What ls shows that Debian's cannot be compared on (docs/toolbox.md, "ls and cat"): the
    sandbox's user as owner and group (uid/gid 1000, named by $USER), modes from the grant (a
    read-only grant: r--r--r--), and the grant's parent, listed as unknowable, not an error."""
    files = {"a.txt": b"abc\n", "sub/b": b"b\n"}

    def run(args, env=(), ro=False):
        ws = r.workspace(files)
        cmd = bundle_test.run_command(r.a, ws, "ls", args, env)
        if ro:
            cmd[cmd.index(ws + "::/work")] = ws + "::/work:ro"
        p = subprocess.run(cmd, capture_output=True, timeout=300)
        return p.returncode, p.stdout, p.stderr

    def check(label, got, ok):
        c.check("ls: " + label, got[0] == 0 and got[2] == b"" and ok(got[1]),
                "got %d %r %r" % (got[0], got[1][:400], got[2][:400]))
    check("owner and group are the sandbox's user, 1000", run(["-n", "a.txt"]),
          lambda o: o.startswith(b"-rw-r--r-- 1 1000 1000 4 "))
    check("named by $USER", run(["-l", "a.txt"], (("USER", "agent"),)),
          lambda o: o.startswith(b"-rw-r--r-- 1 agent agent 4 "))
    check("no name without a plain $USER", run(["-l", "a.txt"], (("USER", "Bad Name"),)),
          lambda o: o.startswith(b"-rw-r--r-- 1 1000 1000 4 "))
    check("a read-only grant shows r--", run(["-ld", "a.txt", "sub"], ro=True),
          lambda o: o.startswith(b"-r--r--r-- 1 1000 1000    4 ") and b"\ndr-xr-xr-x 2 1000 1000 4096 " in o)
    check("the grant's parent is listed as unknowable, not an error", run(["-la"]),
          lambda o: b"\nd????????? ? ?    ?       ?            ? ..\n" in o and b" a.txt\n" in o)


def column_usage(c, r):
    """An unknown option or a missing argument: column's usage status (1) and its hint, the
    message before it getopt_long's, which is wasi-libc's (musl's) wording, not glibc's
    (`unrecognized option: bogus` for `unrecognized option '--bogus'`)."""
    expect(c, r, "column", "an unknown option", ["--bogus"], 1,
           b"column: unrecognized option: bogus\nTry 'column --help' for more information.\n")
    expect(c, r, "column", "a missing argument", ["-c"], 1,
           b"\nTry 'column --help' for more information.\n")


def column_bound(c, r):
    """Hostile input: one line of a million cells (2 MB). column -t holds a column object per cell,
    so under --max-memory-mb 32 its allocation fails (wasi-libc's malloc returns NULL when the
    memory cannot grow) and column says so and exits 1, as natively when malloc fails: an error
    of the program, not a trap or the host's."""
    ws = r.workspace({"wide": b" ".join([b"x"] * 1000000) + b"\n"})
    p = subprocess.run(bundle_test.run_command(r.a, ws, "column", ["-t", "wide"],
                                               flags=bundle_test.RUN_FLAGS + ["--max-memory-mb", "32"]),
                       capture_output=True, timeout=300)
    c.check("column: a million columns end at --max-memory-mb with column's message",
            p.returncode == 1 and p.stderr.startswith(b"column: ") and p.stdout == b"",
            "%d %r %r" % (p.returncode, p.stdout[:200], p.stderr[-400:]))


def xxd_bound(c, r):
    """Hostile input: `xxd -r` fills the gap up to a line's address with zeros on a stream (its
    standard output cannot seek), so a 13-byte dump line at 0x7ffffff0 asks for 2 GiB of zeros.
    The run's output bound stops it (output_limit) at the bound, nothing past it written."""
    ws = r.workspace({})
    p = subprocess.run(bundle_test.run_command(r.a, ws, "xxd", ["-r"],
                                               flags=["--max-output-bytes", "1000000"]),
                       input=b"7ffffff0: 4142\n", capture_output=True, timeout=300)
    c.check("xxd: -r's zero fill stops at --max-output-bytes",
            p.returncode != 0 and len(p.stdout) <= 1000000 and b"output_limit" in p.stderr,
            "%d %d %r" % (p.returncode, len(p.stdout), p.stderr[-300:]))


def tree_locale(c, r):
    """The one locale difference: with no locale variable wasi-libc's setlocale(LC_CTYPE, "") is
    C.UTF-8 (musl's default), where glibc's is C: the toolbox's tree draws box-drawing lines and
    prints UTF-8 names as they are, Debian's ASCII lines and \\ooo escapes. Under LC_ALL=C (or
    LANG=C) and C.UTF-8 the two agree (tree_cases)."""
    files = {"sub/caf\u00e9": b"x"}
    expect(c, r, "tree", "no locale variable: C.UTF-8's lines and names", ["--noreport"], 0, b"",
           stdout=".\n\u2514\u2500\u2500 sub\n    \u2514\u2500\u2500 caf\u00e9\n".encode(), files=files)
    g = r.guest("tree", ["--noreport"], files, None, (("LANG", "C"),))
    c.check("tree: LANG=C: ASCII lines and escapes, as Debian's",
            g[0] == 0 and g[1] == b".\n`-- sub\n    `-- caf\\303\\251\n", "%d %r %r" % g[:3])


def tree_bound(c, r):
    """Hostile input: a directory 10,000 deep. tree recurses once per level and names each entry
    by its path from the start; a path longer than the host's bound of 4,096 bytes does not
    resolve (platform::kMaxPathBytes: ENAMETOOLONG, which tree skips silently, as Debian's does
    at Linux's PATH_MAX), so the walk ends in bounded memory and time: the deepest entry listed is
    2,048 levels down (Debian's tree: 2,047, PATH_MAX counting its "./" and NUL). -i -f keeps the
    output to the paths (4 MB); --max-memory-mb 32 bounds the run."""
    ws = r.workspace({})
    fd = os.open(ws, os.O_RDONLY)
    for _ in range(10000):  # by descriptor: the deep paths are too long for one mkdir
        os.mkdir("d", dir_fd=fd)
        nfd = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = nfd
    os.close(fd)
    t0 = time.monotonic()
    p = subprocess.run(bundle_test.run_command(r.a, ws, "tree", ["-i", "-f", "--noreport"],
                                               flags=bundle_test.RUN_FLAGS + ["--max-memory-mb", "32"]),
                       capture_output=True, timeout=300)
    # Python's rmtree recurses once per level: take the chain apart from the top instead.
    top, spare = os.path.join(ws, "d"), os.path.join(ws, "spare")
    while os.path.isdir(top):
        os.rename(top, spare)
        if os.path.isdir(os.path.join(spare, "d")):
            os.rename(os.path.join(spare, "d"), top)
        os.rmdir(spare)
    lines = p.stdout.split(b"\n")
    c.check("tree: a directory 10,000 deep ends at the 4,096-byte path bound, in 32 MiB",
            p.returncode == 0 and p.stderr == b"" and len(lines) == 2050
            and lines[-2] == b"./" + b"/".join([b"d"] * 2048),
            "%d lines, status %d, %.1f s, %r %r" % (len(lines), p.returncode, time.monotonic() - t0,
                                                    p.stdout[-100:], p.stderr[-300:]))


def bc_limits(c, r):
    """bc's one arithmetic difference: an exponent is a C long, 32 bits in wasm32 (64 on Debian's
    amd64), so `limits` shows MAX Exponent 2147483647 and a larger exponent is bc's own
    `exponent too large in raise` error (Debian's would compute it)."""
    g = r.guest("bc", [], {}, b"limits\n2 ^ 2147483648\n7\n", (("LC_ALL", "C"),))
    c.check("bc: limits and exponents are 32-bit",
            g[0] == 0 and b"MAX Exponent    = 2147483647\n" in g[1] and g[1].endswith(b"\n7\n")
            and g[2] == b"Runtime error (func=(main), adr=16): exponent too large in raise\n",
            "%d %r %r" % g[:3])


def bc_bounds(c, r):
    """Hostile programs end at the run's limits, as the run's errors, not the host's: an endless
    loop and 2^10000000 (3 million digits: minutes of CPU natively) at the wall-clock deadline
    (--timeout-ms: deadline_exceeded, status 82); a division to 100 million digits of scale (200
    MB natively) at --max-memory-mb 32, where wasi-libc's malloc returns NULL and bc says so
    (`Fatal error: Out of memory for malloc.`, status 1)."""
    for label, prog in (("an endless while (1) loop", b"while (1) { }\n"),
                        ("2^10000000", b"2 ^ 10000000\n")):
        ws = r.workspace({})
        t0 = time.monotonic()
        p = subprocess.run(bundle_test.run_command(r.a, ws, "bc", [],
                                                   flags=bundle_test.RUN_FLAGS + ["--timeout-ms", "1500"]),
                           input=prog, capture_output=True, timeout=120)
        took = time.monotonic() - t0
        c.check("bc: %s ends at the deadline" % label,
                p.returncode == 82 and b"deadline_exceeded" in p.stderr and took < 30,
                "%d %.1f s %r %r" % (p.returncode, took, p.stdout[-100:], p.stderr[-300:]))
    ws = r.workspace({})
    p = subprocess.run(bundle_test.run_command(r.a, ws, "bc", [],
                                               flags=bundle_test.RUN_FLAGS + ["--max-memory-mb", "32"]),
                       input=b"scale = 100000000; x = 1 / 3; 5\n", capture_output=True, timeout=120)
    c.check("bc: 100 million digits of scale end at --max-memory-mb with bc's message",
            p.returncode == 1 and p.stdout == b"" and p.stderr == b"Fatal error: Out of memory for malloc.\n",
            "%d %r %r" % (p.returncode, p.stdout[-100:], p.stderr[-300:]))


def main():
    ap = bundle_test.arg_parser(__doc__)
    ap.add_argument("--tools", default="awk,jq,diff,cmp,gzip,patch,tar,grep,find,ls,cat,xxd,column,tree,bc")
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
            if t in ("cmp", "gunzip", "zcat", "egrep", "fgrep", "dir", "vdir"):
                continue  # with diff's, gzip's, grep's cases
            cases = {"awk": gen.awk_cases, "jq": gen.jq_cases, "diff": gen.diff_cases,
                     "gzip": gen.gzip_cases, "patch": gen.patch_cases,
                     "tar": gen.tar_cases, "grep": gen.grep_cases,
                     "find": gen.find_cases, "ls": gen.ls_cases, "cat": gen.cat_cases,
                     "xxd": gen.xxd_cases, "column": gen.column_cases,
                     "tree": gen.tree_cases, "bc": gen.bc_cases}[t](rng)
            for case in cases:
                differential(c, r, case.get("tool", t), case)
        if "awk" in tools and "jq" in tools:
            wasi_limits(c, r)
        if "gzip" in tools:
            bombs(c, r)
        if "tar" in tools:
            tar_bomb(c, r)
            tar_symlinks_out(c, r)
            tar_absolute(c, r)
        if "patch" in tools:
            patch_limits(c, r)
        if "grep" in tools:
            grep_perl(c, r)
        if "find" in tools:
            find_exec_refused(c, r)
        if "ls" in tools:
            ls_sandbox(c, r)
        if "xxd" in tools:
            xxd_bound(c, r)
        if "column" in tools:
            column_usage(c, r)
            column_bound(c, r)
        if "tree" in tools:
            tree_locale(c, r)
            tree_bound(c, r)
        if "bc" in tools:
            bc_limits(c, r)
            bc_bounds(c, r)
    finally:
        r.close()
    return c.finish("engine %s, tools %s" % (a.engine, ",".join(tools)))


if __name__ == "__main__":
    sys.exit(main())
