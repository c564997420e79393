#!/usr/bin/env python3
"""Differential tests: wasmcap's core utilities (guest/coreutils) against GNU coreutils, grep,
sed and findutils, on the same directory trees and inputs.

Each case runs twice on identical copies of a test tree:
  wasmcap run --dir TREE::/work coreutils.wasm TOOL ARGS...   (relative paths, cwd = /work)
  TOOL ARGS...                                               (GNU, cwd = TREE, LC_ALL=C TZ=UTC)
and compares stdout and the exit status, plus the resulting tree for tools that modify it.
The differences that are by design are listed in guest/coreutils/README.md; each is applied
here by a named normalizer, never by skipping a comparison.

Usage: differential.py --wasmcap build/bin/wasmcap --module build/guest/coreutils.wasm
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

from treesnap import snapshot

GNU_ENV = {"LC_ALL": "C", "TZ": "UTC", "PATH": "/usr/bin:/bin", "POSIXLY_CORRECT": ""}
del GNU_ENV["POSIXLY_CORRECT"]  # GNU option permutation stays on, as in the guest


def build_tree(root):
    """A tree with nested dirs, spaces and unicode in names, empty files, a file without a
    trailing newline, binary content, hidden files and symlinks that stay inside."""
    def w(rel, data):
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
    w("a.txt", "alpha\nbeta\nGamma\ndelta\nalphabet soup\n")
    w("b.txt", "one two  three\n\tfour\nfive")  # no trailing newline
    w("empty", "")
    w("with space.txt", "hello world\nHELLO again\n\nbye\n")
    w("\u00fcn\u00efc\u00f8d\u00e9.txt", "na\u00efve caf\u00e9\nplain line\n")
    w("bin.dat", b"ab\x00cd foo\nfoo bar\n\x01\x02\xff words \x80\n")
    w("lines.txt", "".join("line %d %s\n" % (i, "even" if i % 2 == 0 else "odd") for i in range(1, 31)))
    w(".hidden", "hidden foo\n")
    w("sub/c.txt", "foo\nbar\nfoo bar\nFOO\n")
    w("sub/deep/d.txt", "deep foo\n")
    w("sub/deep/e.log", "log line\nfoo=1\n")
    w("sub/.dot/x", "x\n")
    w("dir with space/f.txt", "spaced foo\n")
    w("crlf.txt", "dos line\r\nnext\r\n")
    # Lines of regex-significant words, for grep's literal prefilter (guest/coreutils/grep.c).
    words = ["foo", "bar", "Foo", "BAR", "a.b", "a*b", "x+y", "(p)", "[q]", "fooo", "ba", "^x",
             "x$", "a{2}", "tab\there", "\\"]
    w("patterns.txt", "".join(" ".join(words[(i * 7 + j * 3) % len(words)] for j in range(i % 5)) + "\n"
                              for i in range(120)))
    os.makedirs(os.path.join(root, "emptydir"))
    os.symlink("a.txt", os.path.join(root, "link"))
    os.symlink("sub", os.path.join(root, "dirlink"))
    os.symlink("missing-target", os.path.join(root, "dangling"))
    # Fixed, old and recent mtimes so ls -l shows both date forms deterministically.
    for dirpath, dirnames, filenames in os.walk(root):
        for n in filenames + dirnames:
            p = os.path.join(dirpath, n)
            if not os.path.islink(p):
                os.utime(p, (1600000000, 1600000000))
    os.utime(os.path.join(root, "a.txt"), None)  # now: the HH:MM form




# --- normalizers (each is a documented difference) ------------------------------------------

def sort_lines(out):
    """GNU grep -r and find walk directories in readdir order; the guest walks in bytewise
    order. Compared as sorted lines."""
    return b"\n".join(sorted(out.split(b"\n")))


def ls_long(out):
    """ls -l: WASI has no permission bits, owners, groups or block counts. Compared: file
    type, link count, size, date, name (and link target); the "total" line is dropped. The
    '..' of the granted root cannot be stat'ed through the sandbox: only its type and name."""
    rows = []
    for line in out.split(b"\n"):
        if line.startswith(b"total ") or not line.strip():
            rows.append(line if not line.startswith(b"total ") else b"total")
            continue
        if line.endswith(b":"):
            rows.append(line)
            continue
        if line.endswith(b" .."):
            rows.append(line[:1] + b" ..")
            continue
        f = line.split(None, 8)
        if len(f) < 9:
            rows.append(line)
            continue
        rows.append(b" ".join([f[0][:1], f[1], f[4], f[5], f[6], f[7], f[8]]))
    return b"\n".join(rows)


CASES = []


def case(tool, *args, stdin=None, norm=None, mutates=False, subdir=None, compare_tree=True):
    CASES.append(dict(tool=tool, args=list(args), stdin=stdin, norm=norm, mutates=mutates,
                      subdir=subdir, compare_tree=compare_tree))


# ls
case("ls")
case("ls", "-a")
case("ls", "-A")
case("ls", "-l", norm=ls_long)
case("ls", "-la", norm=ls_long)
case("ls", "-R")
case("ls", "-aR")
case("ls", "-lR", "sub", norm=ls_long)
case("ls", "sub", "a.txt", "emptydir")
case("ls", "-l", "link", "dangling", "dirlink", norm=ls_long)
case("ls", "dirlink")
case("ls", "-d", "sub", "a.txt")
case("ls", "nonexistent", "a.txt")
case("ls", "dir with space", "\u00fcn\u00efc\u00f8d\u00e9.txt")
case("ls", "deep", subdir="sub")
case("ls", "-R", "..", subdir="sub/deep")
# cat
case("cat", "a.txt")
case("cat", "b.txt", "empty", "a.txt")
case("cat", "bin.dat", "crlf.txt")
case("cat", "with space.txt", "\u00fcn\u00efc\u00f8d\u00e9.txt")
case("cat", "missing", "a.txt")
case("cat", "sub")
case("cat", stdin=b"from stdin\nno newline")
case("cat", "-", "a.txt", stdin=b"piped\n")
case("cat", "link", "dirlink/c.txt")
case("cat", "c.txt", "../a.txt", subdir="sub")
# grep
case("grep", "foo", "sub/c.txt")
case("grep", "-i", "foo", "sub/c.txt")
case("grep", "-n", "a", "a.txt")
case("grep", "-v", "foo", "sub/c.txt")
case("grep", "-c", "foo", "sub/c.txt", "a.txt", "empty")
case("grep", "-l", "foo", "sub/c.txt", "a.txt", "sub/deep/d.txt")
case("grep", "-r", "foo", norm=sort_lines)
case("grep", "-rn", "foo", "sub", norm=sort_lines)
case("grep", "-ri", "FOO", ".", norm=sort_lines)
case("grep", "-rl", "foo", norm=sort_lines)
case("grep", "-rc", "o", "sub", norm=sort_lines)
case("grep", "-E", "alpha|delta", "a.txt")
case("grep", "-E", "^(line [0-9]) odd$", "lines.txt")
case("grep", "-En", "l{2}|^t", "a.txt", "lines.txt")
case("grep", "^[a-c]", "a.txt")
case("grep", "a\\{2\\}", "a.txt", "lines.txt")
case("grep", "nomatch", "a.txt")
case("grep", "foo", "missing", "sub/c.txt")
case("grep", "foo", "sub")
case("grep", "-c", "foo", "bin.dat")
case("grep", "-l", "foo", "bin.dat", "a.txt")
case("grep", "five", "b.txt")
case("grep", "-x", "foo", "sub/c.txt")
case("grep", "-w", "foo", "sub/c.txt", "sub/deep/e.log")
case("grep", "-F", "a.b", "a.txt")
case("grep", "-e", "beta", "-e", "delta", "a.txt")
case("grep", "-q", "beta", "a.txt")
case("grep", "-h", "foo", "sub/c.txt", "sub/deep/d.txt")
case("grep", "-H", "beta", "a.txt")
case("grep", "-L", "foo", "a.txt", "sub/c.txt")
case("grep", "-n", "o", stdin=b"one\ntwo\nthree\nfour")
case("grep", "-i", "caf", "\u00fcn\u00efc\u00f8d\u00e9.txt")
case("grep", "-r", "foo", "link", "dirlink", norm=sort_lines)
case("grep", "-o", "fo*", "sub/c.txt", "a.txt")
case("grep", "-on", "-e", "a", "-e", "al", "a.txt")
case("grep", "-oi", "foo", "sub/c.txt")
case("grep", "-o", "x*", "a.txt")
case("grep", "-c", "-o", "a", "a.txt")
case("grep", "fo\\+", "sub/c.txt")
case("grep", "foo\\|bar", "sub/c.txt")
case("grep", "\\<bar", "sub/c.txt")
case("grep", "-E", "\\w+_?[0-9]", "lines.txt", "a.txt")
case("grep", "-E", "[[:space:]]{2}", "b.txt")
case("sed", "s/\\(o\\+\\)/[\\1]/", "sub/c.txt")
for flags, pat in ((["-c"], "fooo"), (["-n"], "a\\.b"), (["-c"], "a.b"), (["-in"], "bar"),
                   (["-vc"], "foo"), (["-n"], "a\\*b"), (["-cE"], "x\\+y"), (["-cE"], "x+y"),
                   (["-c"], "\\(p\\)"), (["-cE"], "\\(p\\)"), (["-c"], "\\[q\\]"), (["-cF"], "[q]"),
                   (["-ciF"], "FOO"), (["-c"], "o\\{2\\}"), (["-cE"], "a{2}"), (["-c"], "foo\\|bar"),
                   (["-cE"], "fo+ ba"), (["-cw"], "foo"), (["-cx"], "foo"), (["-co"], "[[:upper:]]AR"),
                   (["-cw"], ""), (["-c"], "^$"), (["-cn"], "\\\\"), (["-cE"], "(foo|bar) a")):
    case("grep", *flags, "-e", pat, "patterns.txt")
case("grep", "-E", "(", "a.txt")
case("grep")
# mkdir
case("mkdir", "newdir", mutates=True)
case("mkdir", "-p", "x/y/z", "sub/deep/new", mutates=True)
case("mkdir", "-p", "sub", "sub/deep", mutates=True)
case("mkdir", "sub", mutates=True)
case("mkdir", "nope/child", mutates=True)
case("mkdir", "a.txt/x", mutates=True)
case("mkdir", "-p", "a.txt/x", mutates=True)
case("mkdir", "new dir", "\u00e9t\u00e9", mutates=True)
# rm
case("rm", "a.txt", "empty", mutates=True)
case("rm", "sub", mutates=True)
case("rm", "-r", "sub", "dir with space", mutates=True)
case("rm", "-f", "missing", "b.txt", mutates=True)
case("rm", "missing", mutates=True)
case("rm", "-rf", "sub/deep", "nothere", mutates=True)
case("rm", "link", "dirlink", "dangling", mutates=True)
case("rm", "-r", ".", mutates=True)
case("rm", "-r", "emptydir", "sub/..", mutates=True)
# cp
case("cp", "a.txt", "copy.txt", mutates=True)
case("cp", "a.txt", "b.txt", "sub", mutates=True)
case("cp", "a.txt", "b.txt", mutates=True)
case("cp", "sub", "subcopy", mutates=True)
case("cp", "-r", "sub", "subcopy", mutates=True)
case("cp", "-r", "sub", "emptydir", mutates=True)
# Copying a directory into itself: both refuse (exit 1); GNU has by then copied the entries
# that readdir happened to return before the copy itself, the guest copies nothing.
case("cp", "-r", "sub", "sub/deep", mutates=True, compare_tree=False)
case("cp", "link", "fromlink", mutates=True)
case("cp", "-r", "link", "dirlink", "emptydir", mutates=True)
case("cp", "a.txt", "a.txt", mutates=True)
case("cp", "b.txt", "link", mutates=True)
case("cp", "-r", "b.txt", "link", mutates=True)
case("cp", "a.txt", "link", mutates=True)
case("cp", "b.txt", "dangling", mutates=True)
case("cp", "missing", "x", mutates=True)
case("cp", "a.txt", "b.txt", "nodir", mutates=True)
case("cp", "with space.txt", "\u00fcn\u00efc\u00f8d\u00e9.txt", "dir with space", mutates=True)
# mv
case("mv", "a.txt", "moved.txt", mutates=True)
case("mv", "a.txt", "b.txt", "emptydir", mutates=True)
case("mv", "sub", "renamed", mutates=True)
case("mv", "sub", "emptydir", mutates=True)
case("mv", "a.txt", "b.txt", mutates=True)
case("mv", "missing", "x", mutates=True)
case("mv", "sub", "sub/deep", mutates=True)
case("mv", "link", "newlink", mutates=True)

# ln: hard and symbolic links (targets below the link only: see EXPECT for the refusal)
for args in (["a.txt", "h"], ["-s", "a.txt", "s"], ["-sv", "a.txt", "s"], ["-v", "a.txt", "h"],
             ["a.txt", "b.txt"], ["-s", "a.txt", "b.txt"], ["-f", "a.txt", "b.txt"], ["-sf", "a.txt", "b.txt"],
             ["missing", "h"], ["-s", "missing", "h"], ["-s", "", "h"], ["sub", "h"], ["a.txt", "sub"],
             ["-s", "c.txt", "sub/"], ["a.txt", "b.txt", "emptydir"], ["a.txt", "b.txt", "lines.txt"],
             ["a.txt", "b.txt", "nodir"], ["a.txt"], ["emptydir/"], [], ["-x", "a.txt", "h"], ["link", "h"],
             ["--symbolic", "--force", "--verbose", "sub/c.txt", "dirlink"], ["a.txt", "nodir/h"],
             ["-s", "deep/d.txt", "sub/d"], ["with space.txt", "emptydir"], ["-sf", "a.txt", "a.txt"],
             ["-sf", "b.txt", "link"]):
    case("ln", *args, mutates=True)

# stat: what WASI's filestat reports (the tree's times are fixed by build_tree; a.txt's is now)
for args in (["-c", "%n|%s|%F|%h|%Y|%y|%X|%Z|%%", "b.txt", "empty", "sub", "link", "dangling"],
             ["-c", "%i", "a.txt"], ["-L", "-c", "%n %F %s", "link", "dirlink"], ["-c", "%N", "link", "b.txt", "with space.txt"],
             ["--printf=%n\\t%s\\n\\x41\\101\\q", "b.txt", "empty"], ["-c", "%5s|%-6n|%08s|%-4s|", "b.txt"],
             ["-c", "%q %", "b.txt"], ["-c", "%s", "missing", "b.txt"], ["-c", "%F", "missing"], ["-c", "%s"], ["-x", "a.txt"],
             ["--format=%n", "dir with space"]):
    case("stat", *args)
# head / tail
case("head", "lines.txt")
case("head", "-n", "3", "lines.txt")
case("head", "-n3", "a.txt", "b.txt")
case("head", "-5", "lines.txt")
case("head", "-n", "-27", "lines.txt")
case("head", "-n", "2", "b.txt", "empty", "missing")
case("head", "-c", "7", "a.txt")
case("head", "-n", "1", stdin=b"first\nsecond\n")
case("tail", "lines.txt")
case("tail", "-n", "3", "lines.txt", "b.txt")
case("tail", "-n", "+28", "lines.txt")
case("tail", "-2", "b.txt")
case("tail", "-n", "1", "empty", "crlf.txt")
case("tail", "-c", "5", "b.txt")
case("tail", "-n", "0", "a.txt")
case("tail", "-n", "2", stdin=b"a\nb\nc")
# wc
case("wc", "a.txt")
case("wc", "-l", "a.txt")
case("wc", "-w", "b.txt")
case("wc", "-c", "bin.dat")
case("wc", "a.txt", "b.txt", "empty", "bin.dat")
case("wc", "-lw", "lines.txt", "with space.txt")
case("wc", "-l", "missing", "a.txt")
case("wc", stdin=b"one two\nthree")
case("wc", "-c", stdin=b"12345")
case("wc", "-l", "-", "a.txt", stdin=b"x\ny\n")
case("wc", "\u00fcn\u00efc\u00f8d\u00e9.txt", "crlf.txt")
# find
case("find", norm=sort_lines)
case("find", ".", "-name", "*.txt", norm=sort_lines)
case("find", "sub", "-type", "f", norm=sort_lines)
case("find", ".", "-type", "d", norm=sort_lines)
case("find", ".", "-type", "l", norm=sort_lines)
case("find", ".", "-iname", "*.TXT", "-type", "f", norm=sort_lines)
case("find", ".", "-maxdepth", "1", "-type", "f", norm=sort_lines)
case("find", "sub", "-mindepth", "2", norm=sort_lines)
case("find", ".", "-name", "*.log", "-o", "-name", "d.*", norm=sort_lines)
case("find", ".", "!", "-type", "d", "-name", "*e*", norm=sort_lines)
case("find", "missing", "sub/deep", norm=sort_lines)
case("find", "dir with space", "emptydir", norm=sort_lines)
case("find", ".", "-path", "./sub/*", "-print", norm=sort_lines)
case("find", ".", "-bogus")
case("find", ".", "-name", "*.txt", "-print0", norm=lambda out: sorted(out.split(b"\0")))
# du: GNU runs with --apparent-size (run_gnu): WASI reports sizes, not blocks (README.md)
for args in ([], ["-a"], ["-b"], ["-ab"], ["-h", "-a"], ["-s"], ["-sb", "."], ["-c", "-b", "sub", "a.txt"],
             ["-d", "1", "-b"], ["--max-depth=0", "-a"], ["-b", "missing", "sub"], ["-b", "dir with space"],
             ["-ab", "sub/deep"], ["-b", "emptydir"], ["-m"], ["-kc", "sub", "sub"], ["-bl", "sub", "sub/deep"],
             ["-sb", "sub", "sub/deep"], ["-s", "-a"], ["-d", "x"], ["-b", "link", "dirlink", "dangling"]):
    case("du", *args, norm=sort_lines)
# sed
case("sed", "s/a/A/", "a.txt")
case("sed", "s/a/A/g", "a.txt")
case("sed", "-n", "s/foo/X/p", "sub/c.txt")
case("sed", "-e", "s/line/L/", "-e", "s/odd/ODD/", "lines.txt")
case("sed", "-n", "2,4p", "lines.txt")
case("sed", "3q", "lines.txt")
case("sed", "/even/d", "lines.txt")
case("sed", "-n", "/line 5 /,/line 8 /p", "lines.txt")
case("sed", "$!d", "lines.txt")
case("sed", "-n", "$=", "lines.txt", "a.txt")
case("sed", "s/\\(l[a-z]*\\) \\([0-9]*\\)/\\2-\\1/", "lines.txt")
case("sed", "-E", "s/(l[a-z]+) ([0-9]+)/[\\2|\\1|&]/", "lines.txt")
case("sed", "s/x*/-/g", stdin=b"abc\nbaaac\n")
case("sed", "s/a*/x/g", stdin=b"baaac\n")
case("sed", "s/o/0/2", "b.txt")
case("sed", "s|/|_|g", stdin=b"a/b/c\n")
case("sed", "s/GAMMA/g/I", "a.txt")
case("sed", "p", "b.txt")
case("sed", "s/e/E/", "b.txt", "a.txt")
case("sed", "1!s/^/> /", "with space.txt")
case("sed", "s/a/b/", "missing", "a.txt")
case("sed", "s/a/b", "a.txt")
case("sed", "k", "a.txt")
case("sed", "-i", "s/foo/FOO/g", "sub/c.txt", "sub/deep/d.txt", mutates=True)
case("sed", "-i", "-e", "2d", "b.txt", mutates=True)
case("sed", "-n", "/^$/=", "with space.txt")
case("sed", "s/\\t/T/;s/  / /", "b.txt")


# Cases with a fixed expectation instead of GNU: what the guest's working directory is, and
# the multi-call dispatch. (extra wasmcap flags, guest argv after the module, status, stdout)
EXPECT = [
    ([], ["pwd"], 0, b"/work\n"),
    (["--env", "PWD=/work/sub/deep"], ["pwd"], 0, b"/work/sub/deep\n"),
    (["--env", "PWD=/work/sub"], ["cat", "c.txt", "../a.txt"], 0, None),
    (["--dir", "{tree}/sub::/data"], ["pwd"], 0, b"/work\n"),  # the first grant
    (["--dir", "{tree}/sub::/data"], ["cat", "/data/deep/d.txt"], 0, b"deep foo\n"),
    (["--argv0", "ls"], ["-d", "sub"], 0, b"sub\n"),  # dispatch on argv[0]
    ([], [], 2, b""),
    ([], ["nosuchtool"], 2, b""),
    ([], ["--help"], 0, b""),
]


def run_guest(wasmcap, module, tree, tool, args, stdin, subdir):
    cmd = [wasmcap, "run", "--dir", tree + "::/work"]
    if subdir:
        cmd += ["--env", "PWD=/work/" + subdir]
    cmd += [module, tool] + args
    p = subprocess.run(cmd, input=stdin or b"", capture_output=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def run_gnu(tree, tool, args, stdin, subdir):
    cwd = os.path.join(tree, subdir) if subdir else tree
    if tool == "du":  # the guest's du reports apparent sizes (README.md, "du")
        args = ["--apparent-size"] + args
    p = subprocess.run([tool] + args, input=stdin or b"", capture_output=True, cwd=cwd,
                       env=GNU_ENV, timeout=60)
    return p.returncode, p.stdout, p.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wasmcap", required=True)
    ap.add_argument("--module", required=True)
    ap.add_argument("--list", action="store_true")
    ap.add_argument("-k", default=None, help="only cases whose command line contains this")
    a = ap.parse_args()
    wasmcap, module = os.path.abspath(a.wasmcap), os.path.abspath(a.module)
    for tool in sorted({c["tool"] for c in CASES}):
        if shutil.which(tool, path=GNU_ENV["PATH"]) is None:
            print("FAIL: GNU %s is not installed (scripts/setup.sh installs it)" % tool)
            return 1
    tmp = tempfile.mkdtemp(prefix="wasmcap-coreutils-")
    failures, ran = [], 0
    tools_seen = set()
    try:
        pristine = os.path.join(tmp, "pristine")
        os.makedirs(pristine)
        build_tree(pristine)
        shared = os.path.join(tmp, "shared")
        shutil.copytree(pristine, shared, symlinks=True)
        shared_snap = snapshot(shared)
        for i, c in enumerate(CASES):
            label = " ".join([c["tool"]] + c["args"]) + (" [cwd %s]" % c["subdir"] if c["subdir"] else "")
            if a.k and a.k not in label:
                continue
            if a.list:
                print(label)
                continue
            if c["mutates"]:
                tg = os.path.join(tmp, "g%d" % i)
                tn = os.path.join(tmp, "n%d" % i)
                shutil.copytree(pristine, tg, symlinks=True)
                shutil.copytree(pristine, tn, symlinks=True)
            else:
                tg = tn = shared
            grc, gout, gerr = run_guest(wasmcap, module, tg, c["tool"], c["args"], c["stdin"], c["subdir"])
            nrc, nout, nerr = run_gnu(tn, c["tool"], c["args"], c["stdin"], c["subdir"])
            ran += 1
            tools_seen.add(c["tool"])
            problems = []
            if b"wasmcap: error" in gerr:
                problems.append("the runtime reported an error: %r" % gerr)
            if grc != nrc:
                problems.append("exit status: guest %d, GNU %d" % (grc, nrc))
            norm = c["norm"] or (lambda x: x)
            if norm(gout) != norm(nout):
                problems.append("stdout differs:\n  guest: %r\n  GNU:   %r" % (gout, nout))
            if (gerr == b"") != (nerr == b""):
                problems.append("stderr: guest %r, GNU %r" % (gerr, nerr))
            if c["mutates"] and c["compare_tree"]:
                sg, sn = snapshot(tg), snapshot(tn)
                if sg != sn:
                    only_g = {k: v for k, v in sg.items() if sn.get(k) != v}
                    only_n = {k: v for k, v in sn.items() if sg.get(k) != v}
                    problems.append("tree differs:\n  guest: %r\n  GNU:   %r" % (only_g, only_n))
            if problems:
                failures.append(label)
                print("FAIL: %s\n  %s" % (label, "\n  ".join(problems)))
            else:
                print("ok:   %s" % label)
        for flags, argv, status, out in EXPECT if not a.list and not a.k else []:
            flags = [f.replace("{tree}", shared) for f in flags]
            label = "expect: wasmcap run %s coreutils.wasm %s" % (" ".join(flags).replace(shared, "TREE"), " ".join(argv))
            cmd = [wasmcap, "run", "--dir", shared + "::/work"] + flags + [module] + argv
            p = subprocess.run(cmd, capture_output=True, timeout=60)
            ran += 1
            problems = []
            if p.returncode != status:
                problems.append("exit status %d, expected %d (stderr %r)" % (p.returncode, status, p.stderr))
            if out is not None and p.stdout != out:
                problems.append("stdout %r, expected %r" % (p.stdout, out))
            if status != 0 and not p.stderr:
                problems.append("no message on stderr")
            if problems:
                failures.append(label)
                print("FAIL: %s\n  %s" % (label, "\n  ".join(problems)))
            else:
                print("ok:   %s" % label)
        if not a.list and snapshot(shared) != shared_snap:
            failures.append("read-only cases modified the shared tree")
            print("FAIL: a read-only case modified the shared tree")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if a.list:
        return 0
    print("\n%d comparisons over %d tools, %d failed" % (ran, len(tools_seen), len(failures)))
    if ran == 0:
        print("FAIL: no case ran")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
