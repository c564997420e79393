#!/usr/bin/env python3
"""Differential tests of the text tools of guest/coreutils (sort, uniq, ...) against GNU
coreutils, on generated inputs, on one engine (--engine interp|aot; ctest runs both).

Each case runs
  wasmcap run --engine E --dir TREE::/work coreutils.wasm TOOL ARGS... < STDIN
  TOOL ARGS... < STDIN                        (GNU, cwd = TREE, LC_ALL=C TZ=UTC)
on identical copies of the input tree and compares stdout, the exit status and stderr (exactly,
except where a case says `err="any"`: getopt's wording of an unknown option differs between
wasi-libc and glibc, so only "non-empty" is compared there), plus the tree for cases that write.

Usage: textutils.py --wasmcap build/bin/wasmcap --module build/guest/coreutils.wasm [--engine aot]
"""
import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

from treesnap import snapshot

GNU_ENV = {"LC_ALL": "C", "TZ": "UTC", "PATH": "/usr/bin:/bin"}


def inputs():
    """name -> bytes: the generated inputs every tool is run on."""
    rnd = random.Random(31)
    d = {}
    d["empty"] = b""
    d["nonl"] = b"b\na\nc"
    d["nul"] = b"a\x00b\nb\x00a\na\x00a\na\nb\x00\n"
    d["crlf"] = b"b\r\na\r\nc\r\na\r\n\r\n"
    d["utf8"] = "\u00e9t\u00e9\nzebra\n\u00e4\nA\na\n\u20ac 5\nZ\n".encode()
    d["long"] = b"".join(bytes([97 + i]) * (70000 + i) + b"\n" for i in range(3)) + b"a" * 69999 + b"\n"
    words = ["apple", "Banana", "cherry", "date", "Elder", "fig", "grape", "", " lead", "\ttab",
             "z", "Z", "10", "9", "-3", "x y", "a-b", "A", "\x7f", "\xe9"]
    lines = []
    for i in range(100000):
        lines.append("%s %d\t%s:%d" % (rnd.choice(words), rnd.randint(-500, 500), rnd.choice(words),
                                       rnd.randint(0, 30)))
    d["big"] = ("\n".join(lines) + "\n").encode("latin-1")
    # Duplicate keys in field 1, distinct lines: stability shows in -s and -u.
    d["dups"] = b"".join(b"%s %d %s\n" % (rnd.choice([b"k1", b"k2", b"K1", b"k3"]), i,
                                          rnd.choice([b"x", b"y", b"X"])) for i in range(60))
    d["nums"] = b"\n".join([b"-0", b"0", b"+1", b" 1", b"1e3", b"-1.5", b".5", b"0.50", b"007",
                            b"1,000", b"  -2", b"abc", b"", b"1.", b"-.5", b"-", b"1e-3",
                            b"inf", b"-inf", b"nan", b"0x10", b"3\t", b"2.000001", b"2",
                            b"99999999999999999999", b"100000000000000000000", b"-0.0",
                            b"1K", b"1M", b"2k", b"1.5K", b"-1K", b"0K", b"1G", b"1T", b"3E",
                            b"12 apples", b"-12 apples", b"\t4"]) + b"\n"
    d["human"] = b"\n".join([b"1K", b"1M", b"2", b"1.5K", b"1k", b"500", b"0.1M", b"-1K",
                             b"-2M", b"1G", b"1024", b"0M", b"1Ki", b"2KB", b"1..5K", b"1.K",
                             b"  3M", b"1P", b"1E", b"1Z", b"1Y", b"-0K"]) + b"\n"
    d["versions"] = b"\n".join([b"a1", b"a10", b"a2", b"a1.2", b"a1.10", b"1.0~rc1", b"1.0",
                                b"1.0a", b"1.0.1", b"file.tar.gz", b"file-1.2.tar.gz",
                                b"file-1.10.tar.gz", b".hidden", b".", b"..", b"~x", b"0001",
                                b"1", b"x.1", b"x.01", b"x1y", b"x01y", b"", b"B", b"a"]) + b"\n"
    d["fields"] = b"".join(b"%s\t%s,%d\t%s\n" % (rnd.choice([b"b", b"a", b"c", b" a"]), rnd.choice([b"x", b"", b"y z"]),
                                                 rnd.randint(0, 20), rnd.choice([b"Q", b"q", b"", b"p q r"]))
                           for _ in range(80))
    d["months"] = b"\n".join([b"feb", b"JAN", b" dec", b"Mar 3", b"xyz", b"jUn", b"may", b"",
                              b"august", b"Sep", b"oct", b"nov", b"apr", b"Jul"]) + b"\n"
    d["sorted"] = b"a\nb\nb\nc\n"
    # sort compares the first 16 bytes of lines as two numbers (zero-padded) before the bytes:
    # prefixes of one another within and across 8 and 16 bytes, NULs and 0xff there, lines equal
    # in 16 bytes and different after, of 7, 8, 9, 15, 16, 17 bytes
    pre = [b"", b"a", b"a\0", b"a\0\0", b"abc", b"abc\0x", b"abcdefg", b"abcdefgh", b"abcdefgh\0",
           b"abcdefghi", b"abcdefgh\xff", b"abcdefghijklmno", b"abcdefghijklmnop", b"abcdefghijklmnop\0",
           b"abcdefghijklmnopq", b"abcdefghijklmnopa", b"abcdefghijklmnop" * 3, b"abcdefghijklmnop" * 3 + b"\xff",
           b"abcdefghijklmnop" * 3 + b"\x01", b"\xff" * 20, b"\xff" * 8, b"\x7f" * 17, b"\x80" * 17, b"ABC"]
    d["prefixes"] = b"\n".join(pre[i * 7 % len(pre)] for i in range(len(pre))) + b"\n" + b"\n".join(pre) + b"\n"
    d["blanks"] = b"  b 2\n a 1\n\tc 3\na  4\n  a 1\nb\t 0\n"
    d["mixed"] = b"Apple\napple\nAPPLE\nb-c\nb_c\nbc\n\x01ctl\nctl\nab\n\nA b\na B\n"
    uniq = []
    for i in range(200):
        uniq.append(rnd.choice([b"one", b"One", b"two", b"x one", b"y one", b"  one", b"\tone", b"ones"]))
    d["uniqin"] = b"\n".join(uniq) + b"\n"
    d["uniqnonl"] = b"a\na\nb\nb"
    d["uniqz"] = b"a\x00a\x00b\nx\x00b\ny\x00c"
    d["comm1"] = b"a\nb\nd\nf\nf\nz\n"
    d["comm2"] = b"b\nc\nd\nf\ng\n"
    d["unsorted"] = b"a\nc\nb\nd\n"
    d["sections"] = b"a\n\\:\\:\\:\nh1\n\\:\\:\nb1\n\nb2\n\n\n\n\\:\nf1\n\\:\\:\nb3\nx\n@@\ny\n"
    d["tabs"] = b"        a\n    b   c\n \tx\n  y  z       w\na\tb\tc\td\n\t\t x\nabcdefg h\nabcdefg   h\n" \
                b"a\bb\tc\n        \n \t \t\nab      cd\t  e\n"
    d["prose"] = (b"The quick brown fox jumps over the lazy dog. " * 5 + b"\n" + b"x" * 200 + b"\n" +
                  b"a\tb\tc\td\te\tf\tg\th\ti\tj\tk\tl\n" + b"back\bspace\rcarriage return line here\n" +
                  b"  leading   blanks and   more   words to wrap here\n" + b"end")
    d["b64"] = b"YWJj\nZGVm\nZ2g=\n"
    d["b64bad"] = b"YW@Jj\n"
    d["b64pad"] = b"YQ==YQ==\n"
    d["b64short"] = b"YWJ\n"
    d["b64space"] = b"Y W J j\n"
    d["binary"] = bytes(range(256)) * 40
    # join: sorted inputs with repeated keys, missing and empty fields, blanks, -t separators
    d["j1"] = b"a 1\nb 2\nb 3\nc 4\n  e  5  x\nf\ng\t7\n"
    d["j2"] = b"a x\nb y\nb z\nd w\ne v u\ng 8\n"
    d["jt1"] = b"a:1:\n:2:x\nb::y\nc:3\n"
    d["jt2"] = b":q\na:p\nb:r\nc:\n"
    d["junsorted"] = b"b 1\na 2\nc 3\n"
    d["jcase1"] = b"A 1\nb 2\nC 3\n"
    d["jcase2"] = b"a x\nB y\nc z\n"
    d["jhead1"] = b"key v\nb 2\na 1\n"
    d["jhead2"] = b"key w\na x\nb y\n"
    d["jf2"] = b"x a\ny b\nz b\n"
    keys = sorted(rnd.choice(["k%03d" % i for i in range(300)]) for _ in range(3000))
    d["jbig1"] = "".join("%s %d\n" % (k, i) for i, k in enumerate(keys)).encode()
    keys = sorted(rnd.choice(["k%03d" % i for i in range(0, 400, 2)]) for _ in range(2000))
    d["jbig2"] = "".join("%s v%d w\n" % (k, i) for i, k in enumerate(keys)).encode()
    return d


CASES = []


def case(tool, *args, stdin=None, err="exact", writes=False, genv=False, paths=False, env=None):
    """genv: the guest gets GNU's environment (env's cases); paths: the GNU run's tree path in
    its output reads /work (realpath/readlink print the guest's view); env: variables both get."""
    CASES.append(dict(tool=tool, args=list(args), stdin=stdin, err=err, writes=writes, genv=genv,
                      paths=paths, env=env or {}))


# --- sort ------------------------------------------------------------------------------------
for f in ["empty", "nonl", "nul", "crlf", "utf8", "long", "big", "dups", "nums", "mixed", "blanks", "prefixes"]:
    case("sort", f)
for opts in (["-r"], ["-u"], ["-ru"], ["-c"], ["-s"], ["-z"]):
    case("sort", *opts, "prefixes")
for opts in (["-r"], ["-n"], ["-nr"], ["-g"], ["-h"], ["-V"], ["-f"], ["-d"], ["-i"], ["-b"],
             ["-M"], ["-u"], ["-s"], ["-n", "-s"], ["-n", "-u"], ["-f", "-u"], ["-df"], ["-fi"],
             ["-bn"], ["-rn", "-s"], ["-gr"], ["-hr"], ["-Vr"]):
    for f in ["nums", "mixed", "versions", "human", "months", "blanks"]:
        case("sort", *opts, f)
for f in ["big"]:
    for opts in (["-n"], ["-k2,2n"], ["-k2n", "-s"], ["-t", "\t", "-k2"], ["-u", "-k1,1"],
                 ["-rk3"], ["-k1.2,1.3"], ["-f", "-k1,1", "-s"], ["-t", ":", "-k2n", "-k1,1r"],
                 ["-V"], ["-h"], ["-d"]):
        case("sort", *opts, f)
for opts in (["-k1,1"], ["-k1,1", "-s"], ["-k1,1", "-u"], ["-k1,1f", "-s"], ["-k1,1f", "-u"],
             ["-k2,2n"], ["-k2nr"], ["-k1,1", "-k2,2nr"], ["-k3", "-k1,1"], ["-r", "-k1,1"],
             ["-r", "-k1,1", "-s"], ["-k1.2"], ["-k1.2,1.2"], ["-k2.1b,2.2"], ["-k1,1.0"],
             ["-k3,3", "-k2n"], ["-fk1,1", "-u"], ["-k1,1", "-c"], ["-k1,1", "-C"]):
    case("sort", *opts, "dups")
for opts in (["-t", "\t", "-k2,2"], ["-t", "\t", "-k3"], ["-t", ",", "-k2n"], ["-t", "\t", "-k2.1,2.1", "-s"],
             ["-k2"], ["-k2b"], ["-b", "-k2"], ["-t", "\t", "-k3,3", "-k1,1r"], ["-t", "\t", "-k2,2", "-u"],
             ["-t", " ", "-k2"], ["-k1.3,1.1"], ["-t", "\t", "-k4"], ["-k1.5"], ["-k2.3b,2.4b"]):
    case("sort", *opts, "fields")
for opts in (["-k2n"], ["-k2bn"], ["-b", "-k1,1"], ["-k1b,1"], ["-k1,1b"], ["-k1.2b"], ["-bk1.2"],
             ["-t", " ", "-k2"]):
    case("sort", *opts, "blanks")
case("sort", "-z", "nul")
case("sort", "-zr", "nul")
case("sort", "-z", "-k2", "nul")
case("sort", "-z", "uniqz")
case("sort", "-t", "\\0", "-k2", "nul")
case("sort", "-c", "sorted")
case("sort", "-c", "nonl")
case("sort", "-C", "nonl")
case("sort", "-cu", "sorted")
case("sort", "-c", stdin="nonl")
case("sort", "--check=quiet", "nonl")
case("sort", "-c", "sorted", "nonl")
case("sort", "-c", "-o", "out", "sorted")
case("sort", "nonl", "sorted", "empty", "crlf")
case("sort", "-", "sorted", stdin="nonl")
case("sort", stdin="big")
case("sort", "-n", stdin="nums")
case("sort", "-o", "out", "nonl", writes=True)
case("sort", "-o", "nonl", "nonl", writes=True)
case("sort", "-o", "nodir/out", "nonl", writes=True)
case("sort", "missing")
case("sort", "sorted", "missing")
case("sort", "nodir/")
case("sort", "-k0", "sorted")
case("sort", "-k1.0", "sorted")
case("sort", "-k", "x", "sorted")
case("sort", "-k1,x", "sorted")
case("sort", "-k1,0", "sorted")
case("sort", "-k1y", "sorted")
case("sort", "-t", "ab", "sorted")
case("sort", "-t", "", "sorted")
case("sort", "-nd", "sorted")
case("sort", "-k1,1nM", "sorted")
case("sort", "-gh", "sorted")
case("sort", "-x", "sorted", err="any")
case("sort", "-S", "10M", "-n", "nums")
case("sort", "-S", "1x", "nums")
case("sort", "-T", "nodir", "-s", "dups")
case("sort", "--parallel=4", "dups")
case("sort", "-k2,2", "-k1", "--stable", "--reverse", "dups")
case("sort", "--numeric-sort", "--unique", "nums")
case("sort", "--key=1,1", "--field-separator=,", "fields")

# --- uniq ------------------------------------------------------------------------------------
for f in ["empty", "nonl", "nul", "crlf", "utf8", "sorted", "uniqin", "uniqnonl", "long"]:
    case("uniq", f)
for opts in (["-c"], ["-d"], ["-u"], ["-i"], ["-ic"], ["-f", "1"], ["-s", "2"], ["-w", "2"],
             ["-f1", "-s1", "-w3"], ["-cd"], ["-cu"], ["-du"], ["-D"], ["--all-repeated=none"],
             ["-iD"], ["-f", "9"], ["-s", "99"], ["-w", "0"], ["-1"], ["-c", "-f1"],
             ["--count", "--skip-chars=1"], ["-i", "-w", "1", "-c"]):
    case("uniq", *opts, "uniqin")
case("uniq", "-c", "dups")
case("uniq", "--", "-1", "uniqin")  # after "--", "-1" is an operand (a missing file)
case("uniq", "-c", "-f", "2", "dups")
case("uniq", "-z", "uniqz")
case("uniq", "-zc", "uniqz")
case("uniq", "-z", "-f1", "uniqz")
case("uniq", "-c", stdin="uniqin")
case("uniq", "-", stdin="uniqnonl")
case("uniq", "uniqin", "out", writes=True)
case("uniq", "missing")
case("uniq", "a", "b", "c")
case("uniq", "-f", "x", "uniqin")
case("uniq", "-Dc", "uniqin")
case("uniq", "-q", "uniqin", err="any")
case("uniq", "-c", "big")

# --- cut -------------------------------------------------------------------------------------
for f in ["fields", "empty", "nonl", "nul", "crlf", "utf8", "long", "blanks"]:
    case("cut", "-f2", f)
    case("cut", "-b2-4", f)
for opts in (["-f1"], ["-f2-"], ["-f-2"], ["-f1,3"], ["-f3,1"], ["-f2", "-s"], ["-d,", "-f2"],
             ["-d,", "-f1", "-s"], ["-f1,2", "--output-delimiter=::"], ["-f2", "--complement"],
             ["-f1-2,3", "--output-delimiter=|"], ["-d", " ", "-f2"], ["-f", "1 3"], ["-f99"],
             ["-c1-3"], ["-b1,3-4,9-"], ["-b-3", "--complement"], ["-b1-2,3-4", "--output-delimiter=:"],
             ["-b1-2,4-5,3", "--output-delimiter=:"], ["-b2-,1", "--output-delimiter=:"],
             ["-b3,1", "--complement", "--output-delimiter=:"], ["-b1-3,2-5", "--output-delimiter=:"],
             ["-f1,2", "--output-delimiter="], ["-nb2"], ["--fields=2", "--delimiter=,"],
             ["-f2", "-d,", "--only-delimited"], ["-c", "2", "-n"]):
    case("cut", *opts, "fields")
case("cut", "-z", "-f1", "-d", "b", "nul")
case("cut", "-d", "\t", "-f1", "fields")
case("cut", "-f1", stdin="fields")
case("cut", "-f1", "fields", "missing", "sorted")
for bad in (["-f0"], ["-f3-1"], ["-fa"], ["-f", ""], ["-f1-2-3"], ["-f-"], ["-f1,,2"], ["-b0"],
            ["-ba"], ["-b3-1"], ["-b-"], [], ["-b1", "-f1"], ["-d", "ab", "-f1"], ["-b1", "-d:"],
            ["-b1", "-s"], ["-f99999999999999999999"], ["-b99999999999999999999"]):
    case("cut", *bad, "fields")
case("cut", "-x", "fields", err="any")

# --- tr --------------------------------------------------------------------------------------
for sets in (["a-z", "A-Z"], ["[:lower:]", "[:upper:]"], ["[:upper:]", "[:lower:]"], ["abc", "xy"],
             ["aa", "xy"], ["a-", "XY"], ["[a", "XY"], ["abc", "[x*]"], ["abc", "[x*2]y"], ["a[b*2]", "c"],
             ["\\q", "Z"], ["\\n", "_"], ["\\t\\n", "TN"], ["\\101", "x"], ["\\0", "@"], ["[=a=]", "z"],
             ["a-z", "[:upper:]"], ["ab[:lower:]", "xy[:upper:]"], ["[:digit:]", "#"], ["[:space:]", "_"],
             ["[:punct:][:cntrl:]", "."], ["\\200-\\377", "?"], ["a-c", "[z*]"], ["abcd", "[x*0]yz"]):
    case("tr", *sets, stdin="mixed")
    case("tr", *sets, stdin="utf8")
for args in (["-d", "a-c"], ["-d", "[:space:]"], ["-dc", "a-z\\n"], ["-s", " "], ["-s", "[:alpha:]"],
             ["-s", "a-z", "A-Z"], ["-ds", "a", "b"], ["-c", "a-z", "_"], ["-cs", "[:alnum:]", "\\n"],
             ["-t", "abc", "xy"], ["-C", "[:print:]", "."], ["-d", "\\000"], ["-d", "\\r"],
             ["--delete", "e"], ["--squeeze-repeats", "p"]):
    case("tr", *args, stdin="mixed")
    case("tr", *args, stdin="nul")
case("tr", "-s", "\\n", stdin="blanks")
case("tr", "-d", "\\r", stdin="crlf")
case("tr", "a-z", "A-Z", stdin="big")
case("tr", "-d", "a", stdin="empty")
for bad in ([], ["a"], ["a", "b", "c"], ["z-a", "b"], ["a", "[:digit:]"], ["a", ""], ["-d", "a", "b"],
            ["-d"], ["a", "[:upper:]"], ["[:foo:]", "a"], ["[:lower:]a", "[:upper:]"],
            ["-c", "[:lower:]", "[:upper:]"], ["ab\\", "xy"], ["\\400", "y"], ["-ds", "a"], ["-s"],
            ["a[", "b"], ["[:alpha:", "x"], ["[==]", "x"], ["[=ab=]", "x"], ["[::]", "x"],
            ["[:abcdefghijklmnopqrstuvwxyz:]", "x"], ["-c", "[:lower:]", "xy"], ["-c", "[:lower:]", "a[x*]"],
            ["a", "[=b=]"], ["[a*]", "c"], ["-d", "[a*]"], ["-ds", "a", "[b*]"], ["-c", "[:lower:]", "[:upper:]"]):
    case("tr", *bad, stdin="mixed")
case("tr", "-x", "a", "b", stdin="mixed", err="any")

# --- tee, basename, dirname, seq, env, realpath, readlink, sleep ------------------------------
case("tee", stdin="nonl")
case("tee", "t1", "t2", stdin="nul", writes=True)
case("tee", "-a", "nonl", stdin="sorted", writes=True)
case("tee", "nodir/x", "t1", stdin="sorted", writes=True)
case("tee", "-", stdin="sorted", writes=True)
case("tee", "--append", "-i", "t1", stdin="empty", writes=True)
for args in (["a/b/c"], ["a/b/c/"], ["/"], ["//"], [""], ["a"], ["a/b.txt", ".txt"], ["b.txt", "b.txt"],
             ["-a", "x/y", "z/w/"], ["-s", ".c", "a.c", "b/d.c", ".c"], ["-z", "a/b"], ["--", "-x"],
             ["///a//"], ["a", "b", "c"], [], ["-q"]):
    case("basename", *args, err="any" if args == ["-q"] else "exact")
for args in (["a/b/c"], ["a/b/c/"], ["/"], ["//"], ["///a"], [""], ["a"], ["a/"], ["/a"], ["a//b//"],
             ["x/y", "z", "/u/v/"], ["-z", "a/b"], [], ["./a"], ["../a/b"]):
    case("dirname", *args)
for args in (["5"], ["3", "7"], ["1", "2", "10"], ["10", "-3", "1"], ["-2", "2"], ["0", "0.1", "0.5"],
             ["0.5", "1", "3"], ["-w", "1", "10"], ["-w", "-3", "1", "2"], ["-w", "0.5", "1", "3"],
             ["-w", "+1", "10"], ["-w", "01", "3"], ["-w", "1.", "3"], ["-w", ".5", "2"], ["-s", ",", "1", "3"],
             ["-s", "", "1", "3"], ["-f", "%05.1f", "1", "0.5", "2"], ["-f", "a%%b%gc", "1", "2"], ["-f", "%e", "1", "3"],
             ["-f", "%.3g", "0", "0.25", "1"], ["5", "1"], ["1", "0", "3"], ["a"], [], ["1", "2", "3", "4"],
             ["-f", "%d", "1", "2"], ["-f", "x", "1"], ["-f", "%f %f", "1", "2"], ["-w", "-f", "%g", "1", "2"],
             ["0", "0.000001", "0.000003"], ["1.5", "0.1", "2"], ["-1", "-0.25", "-2"], ["1", "1"], ["-s", "\n\n", "2"],
             ["100000", "100020"], ["-w", "98", "101"], ["0.1", "0.2"], ["1", "-1"], ["2", "-1", "-1"], ["-w", "-s", "--", "3.", "-1", ".5"],
             ["0", "0.3", "1"], ["-f", "x%.0fy", "0", "0.5", "1.5"], ["1", "0.1", "1.35"]):
    case("seq", *args)
case("seq", "100000")
for args in ([], ["-i", "A=1", "B=2"], ["-u", "TZ"], ["-0"], ["-i"], ["X=1"], ["TZ=UTC2"], ["-", "Q=1"],
             ["-i", "-0", "A=x y"]):
    case("env", *args, genv=True)
for args in (["sorted"], ["sub/f"], ["link"], ["dirlink/f"], ["sub/../sorted"], ["missing"], ["dangling"],
             ["-m", "no/such/x"], ["-e", "missing"], ["-e", "sorted", "link"], ["sub/missing/x"], ["-q", "missing"],
             ["loop1"], ["sorted/x"], ["-s", "link"], ["."], ["sub"], ["-z", "sorted"], ["-m", "sorted/x/.."],
             ["dirlink/../sorted"], ["sub//f/"]):
    case("realpath", *args, paths=True)
for args in (["link"], ["dirlink"], ["dangling"], ["sorted"], ["missing"], ["-f", "link"], ["-f", "dirlink/f"],
             ["-f", "missing"], ["-f", "no/such"], ["-e", "dangling"], ["-m", "no/such/x"], ["-n", "link"],
             ["-v", "sorted"], ["-f", "loop1"], ["-fv", "loop1"], ["-z", "link"], ["link", "dirlink"], ["-n", "link", "dirlink"]):
    case("readlink", *args, paths=True)
for args in (["0"], ["0.01"], ["0.001s", "0m"], ["x"], ["1x"], [], ["-1"], ["1", "y"], ["--", "0"], ["--x"]):
    case("sleep", *args)
for args in (["foo.XX"], ["a", "b"], ["-t", "a/bXXX"], ["-p", "nodir", "XXXX"], ["-q", "foo.XX"]):
    case("mktemp", *args)

# --- date (at fixed times: -d @N) ---------------------------------------------------------------
FORMATS = ["+%Y-%m-%d %H:%M:%S", "+%a %A %b %B %h %c", "+%-d %_m %05Y %^a %#b %#Z %10A|%-10A|%_5d|%-j",
           "+%N %3N %12N %s %z %:z %::z %:::z %Z", "+%j %U %W %V %G %g %u %w %q %C %y",
           "+%D %F %T %R %r %x %X %p %P %#p %^P %I %l %k %e %-e %_H %0e", "+%Q %n%t%% x", "+", "+%-s %_3S %^c",
           "+%10N|%-N|%4e|%-k|%_I"]
for t in ("@0", "@1700000000.123456789", "@-1", "@-86400.5", "@951782400", "@1609372800", "@1609632000",
          "@1735516800", "@4102444800", "@1234567890"):
    for f in FORMATS:
        case("date", "-u", "-d", t, f)
for args in (["-d", "@1700000000"], ["-d", "@1700000000", "-I"], ["-d", "@1700000000", "-Ihours"],
             ["-d", "@1700000000", "-Iminutes"], ["-d", "@1700000000", "--iso-8601=seconds"],
             ["-d", "@1700000000.5", "-Ins"], ["-d", "@1700000000", "-R"], ["-d", "@1700000000", "--rfc-3339=date"],
             ["-d", "@1700000000", "--rfc-3339=seconds"], ["-d", "@1700000000.25", "--rfc-3339=ns"],
             ["-d", "@1700000000", "--rfc-email"], ["-d", "@x"], ["-d", "@1700000000", "+%Y", "+%m"],
             ["-d", "@1700000000", "-R", "+%Y"], ["-d", "@1700000000", "-Ixx"], ["-d", "@1700000000", "--rfc-3339=x"],
             ["-d", " @1 ", "+%s"], ["-r", "sorted", "-d", "@1"], ["-r", "missing"], ["--utc", "-d", "@5", "+%T"],
             ["--date=@86399", "+%T"], ["-d", "@1700000000", "+%s", "extra"]):
    case("date", *args)

# --- tac: windows of 64 KiB read backwards; "long" has lines longer than a window, "big" is 2 MB
for f in ["nonl", "crlf", "empty", "sorted", "long", "big", "nul", "utf8"]:
    case("tac", f)
for args in (["-b", "nonl"], ["-s", "a", "nonl"], ["-b", "-s", "\t", "big"], ["-s", "\t1", "big"],
             ["-s", "", "nul"], ["--separator=\nb", "nul"], ["-s", "x", "sorted"], ["-bs", "aa", "long"],
             ["-s", "ab", "long"], ["sorted", "nonl", "sorted"], ["missing", "sorted"], ["it's"],
             ["a:b"], ["-x"], ["--separator"], ["-s"], ["-", "nonl"], ["--before", "--", "crlf"]):
    case("tac", *args, err="any" if args[0] in ("-x", "-s", "--separator") else "exact")
case("tac", stdin="big")
case("tac", "-b", stdin="long")
case("tac", "sorted", "-", stdin="nonl")

# --- od: "binary" and "long" repeat their lines ('*' unless -v) -------------------------------
for f in ["empty", "nonl", "nul", "utf8", "binary", "long", "crlf"]:
    case("od", f)
for args in (["-An", "-tx1"], ["-Ad", "-tx1", "-tc"], ["-Ax", "-td1", "-w4"], ["-tx2"], ["-to1"], ["-tc"],
             ["-td"], ["-tu"], ["-tx8", "-td2"], ["-tx1z"], ["-tx1", "-tx2", "-to1", "-tc"], ["-tdC"], ["-tuL", "-w8"],
             ["-td4", "-tx4", "-w12"], ["-b"], ["-c"], ["-d", "-o", "-x"], ["-v", "-tc"], ["-w", "-tx1"],
             ["-w5", "-tx2"], ["-w0"], ["-w", "-tc", "-v"], ["-N", "7", "-tx1"], ["-N0"], ["-j", "3", "-N", "5", "-c"],
             ["-j", "0x10", "-tx1"], ["-j", "1k", "-Ad"], ["-j", "10240"], ["-j", "10241"], ["-N", "x"], ["--read-bytes=-1"], ["-Aq"], ["-A", ""], ["-tcz", "-w7"], ["-tx2z", "-N", "9"],
             ["-A", "dx"], ["-tq"], ["-tx3"], ["-td16"], ["--format=x1", "--address-radix=n", "--width=8"],
             ["--skip-bytes=5", "--read-bytes=3", "--output-duplicates"]):
    case("od", *args, "binary")
case("od", "-c", "nonl", "sorted", "nonl")
case("od", "-j", "4", "-c", "nonl", "sorted")
case("od", "-c", "missing", "nonl")
case("od", "-c", "-j", "2", stdin="nonl")
case("od", "-x", stdin="nul")
case("od", "-tc", "-", "nonl", stdin="sorted")

# --- split: the files written are compared (the tree) -----------------------------------------
# "big" has 100k lines: 667 files of 150 widen past yz to zaaa, 100 of 1000 past 89 to 9000
for args in (["big"], ["-l", "150", "big"], ["-l", "1000", "-d", "big"], ["-l", "3", "sorted"], ["-l1", "-d", "-a1", "sorted", "p"], ["-b", "1000", "binary", "b-"],
             ["-b", "1K", "long", "k"], ["-b", "1KB", "-d", "binary"], ["-l", "7", "nonl", "n"], ["empty", "e"],
             ["-l", "1", "-a", "1", "uniqin", "u"], ["-l", "1", "uniqin", "w"], ["-l", "1", "-d", "uniqin", "d"],
             ["missing"], ["-l", "0", "sorted"], ["-b", "0", "sorted"], ["-b", "x", "sorted"], ["-l", "2", "-b", "3", "sorted"],
             ["sorted", "a", "b"], ["-a", "0", "sorted"], ["-a", "99", "sorted"], ["-q"], ["--lines=2", "--numeric-suffixes", "--suffix-length=3", "nul"],
             ["-l", "1", "sorted", "nodir/p"]):
    case("split", *args, writes=True, err="any" if args == ["-q"] else "exact")
case("split", "-l", "2", "-", "s", stdin="nonl", writes=True)

# --- rev, paste, comm, fold, expand, unexpand, nl ------------------------------------------------
for f in ["nonl", "crlf", "empty", "sorted", "long", "fields"]:
    case("rev", f)
case("rev", "utf8")
case("rev", "sorted", "utf8", "nonl")
case("rev", stdin="fields")
case("rev", "missing", "sorted")
case("rev", "-", stdin="sorted")
for args in (["sorted", "nonl"], ["nonl", "sorted"], ["-d", ",;", "sorted", "fields", "nonl"], ["-d", "", "sorted", "nonl"],
             ["-d", "\\0x", "sorted", "nonl", "sorted"], ["-s", "sorted", "nonl"], ["-s", "-d", ",", "nonl"], ["-s", "empty"],
             ["empty", "sorted"], ["-d", "\\n", "sorted", "nonl"], ["-d", "\\t\\\\", "sorted", "nonl", "sorted"],
             ["-z", "nul", "sorted"], ["-s", "-z", "nul"], ["sorted", "missing"], ["-s", "crlf", "utf8"], ["big", "dups"]):
    case("paste", *args)
case("paste", "-", "-", stdin="nonl")
case("paste", "sorted", "-", stdin="nonl")
case("paste", "-s", "-", stdin="fields")
for args in (["comm1", "comm2"], ["-1", "comm1", "comm2"], ["-2", "comm1", "comm2"], ["-3", "comm1", "comm2"],
             ["-12", "comm1", "comm2"], ["-13", "comm1", "comm2"], ["-23", "comm1", "comm2"], ["-123", "comm1", "comm2"],
             ["--output-delimiter=::", "comm1", "comm2"], ["comm2", "comm1"], ["unsorted", "comm2"], ["comm2", "unsorted"],
             ["--nocheck-order", "unsorted", "comm2"], ["--check-order", "unsorted", "comm2"], ["--check-order", "comm1", "comm2"],
             ["unsorted", "unsorted"], ["-z", "nul", "uniqz"], ["empty", "comm1"], ["nonl", "sorted"], ["comm1"],
             ["comm1", "comm2", "sorted"], ["comm1", "missing"], ["--output-delimiter=", "comm1", "comm2"]):
    case("comm", *args)
case("comm", "-", "comm2", stdin="comm1")
for args in (["j1", "j2"], ["-a1", "j1", "j2"], ["-a2", "j1", "j2"], ["-a1", "-a2", "j1", "j2"],
             ["-v1", "j1", "j2"], ["-v2", "j1", "j2"], ["-v1", "-v2", "j1", "j2"],
             ["-a1", "-a2", "-e", "X", "-o", "0,1.2,2.2", "j1", "j2"], ["-o", "1.1 2.1,2.3", "j1", "j2"],
             ["-a1", "-a2", "-e", "E", "-o", "auto", "j1", "j2"], ["-o", "auto", "j1", "j2"],
             ["-e", "E", "j1", "j2"], ["-j", "1", "j1", "j2"], ["-1", "1", "-2", "2", "j1", "jf2"],
             ["-2", "2", "-a2", "j1", "jf2"], ["-t", ":", "jt1", "jt2"],
             ["-t", ":", "-a1", "-a2", "-e", "E", "-o", "auto", "jt1", "jt2"], ["-t", ":", "-v2", "jt1", "jt2"],
             ["-i", "jcase1", "jcase2"], ["jcase1", "jcase2"], ["--ignore-case", "-a1", "jcase1", "jcase2"],
             ["junsorted", "j2"], ["--check-order", "junsorted", "j2"], ["--nocheck-order", "junsorted", "j2"],
             ["-a1", "junsorted", "j2"], ["j2", "junsorted"], ["junsorted", "junsorted"], ["--check-order", "j1", "j2"],
             ["--header", "jhead1", "jhead2"], ["--header", "-o", "auto", "jhead1", "empty"], ["nonl", "sorted"],
             ["-t", "", "j1", "j1"], ["-t", "\\0", "j1", "j2"], ["-z", "uniqz", "nul"], ["empty", "j1"], ["-a2", "empty", "j1"],
             ["jbig1", "jbig2"], ["-a1", "-a2", "-e", "-", "-o", "auto", "jbig1", "jbig2"], ["-v2", "jbig1", "jbig2"],
             ["-t", "ab", "j1", "j2"], ["-t", ":", "-t", ",", "j1", "j2"], ["-a", "3", "j1", "j2"], ["-1", "0", "j1", "j2"],
             ["-o", "3.1", "j1", "j2"], ["-o", "1.0", "j1", "j2"], ["-o", "x", "j1", "j2"], ["j1"], [], ["j1", "j2", "j2"],
             ["j1", "missing"], ["-", "-"]):
    case("join", *args)
case("join", "-", "j2", stdin="j1")
# du (the walks in tests/coreutils/differential.py): here on both engines; GNU with
# --apparent-size (run_gnu), sorted (the guest walks in bytewise order)
for args in (["-ab", "sub"], ["-h", "sub", "sorted"], ["-sc", "sub", "link", "dirlink"], ["-b", "dangling"],
             ["-b", "hl"], ["-lb", "hl"], ["-cb", "hl/x1", "hl/x2", "binary"], ["-clb", "hl/x1", "hl/x2"],
             ["-sb", "hl", "hl"], ["-b", "hl", "sub", "hl"]):
    case("du", *args)
case("join", "-k", "j1", "j2", err="any")
for args in ([], ["-w", "10"], ["-w10", "-s"], ["-b", "-w", "7"], ["-bs", "-w", "13"], ["-20"], ["-w", "1"],
             ["-w", "0"], ["-w", "x"], ["-s", "-w", "5"]):
    case("fold", *args, "prose")
case("fold", "-w", "30", "long")
case("fold", "--", "-3", "prose")  # after "--", "-3" is an operand, not the obsolete -w 3
case("fold", "-w", "5", "nul", "crlf", "utf8")
case("fold", "-w", "3", stdin="nonl")
for args in ([], ["-t", "4"], ["-t", "3,6"], ["-t", "3", "-i"], ["-i"], ["-t", "2,5,9"], ["-t", "1"], ["-t", "0"],
             ["-t", "4,2"], ["-t", "x"], ["--tabs=5"], ["-t", "4 8"]):
    case("expand", *args, "tabs")
case("expand", "prose", "nonl")
for args in ([], ["-a"], ["-t", "4"], ["-t", "3,6"], ["--first-only", "-t", "4"], ["-t", "2"], ["-a", "-t", "8,12"],
             ["-t", "0"]):
    case("unexpand", *args, "tabs")
case("unexpand", "-a", "prose", "nonl")
for args in ([], ["-ba"], ["-bn"], ["-ha", "-fa"], ["-p"], ["-ba", "-l", "2"], ["-n", "ln"], ["-n", "rz"], ["-w", "3"],
             ["-s", ": "], ["-v", "10", "-i", "5"], ["-bp^b"], ["-d", "@"], ["-bx"], ["-n", "xx"], ["-w", "0"],
             ["-v", "x"], ["-ba", "-n", "rz", "-w", "2"], ["-i", "0", "-ba"]):
    case("nl", *args, "sections")
case("nl", "nonl", "sorted")
case("nl", stdin="fields")
case("nl", "crlf", "empty", "nul")

# --- base64 and the checksums -----------------------------------------------------------------
for f in ["empty", "nonl", "binary", "long", "utf8"]:
    case("base64", f)
    case("base64", "-w", "0", f)
    case("base64", "-w", "10", f)
for f in ["b64", "b64bad", "b64pad", "b64short", "b64space", "empty"]:
    case("base64", "-d", f)
    case("base64", "-di", f)
case("base64", "-w", "x", "nonl")
case("base64", "missing")
case("base64", "a", "b")
case("base64", stdin="binary")
for t in ("md5sum", "sha1sum", "sha256sum"):
    case(t, "empty", "nonl", "binary", "long")
    case(t, stdin="big")
    case(t, "-b", "nonl", "-")
    case(t, "--tag", "nonl")
    case(t, "-z", "nonl")
    case(t, "missing", "nonl")
    case(t, "--quiet", "nonl")
    case(t, "--tag", "-c", "nonl")
case("md5sum", "-c", "sums.md5")
case("md5sum", "-c", "--quiet", "sums.md5")
case("md5sum", "-c", "--status", "sums.md5")
case("md5sum", "-c", "--strict", "sums.md5")
case("md5sum", "-c", "-w", "sums.md5")
case("md5sum", "-c", "--ignore-missing", "sums.md5")
case("md5sum", "-c", "sorted")
case("md5sum", "-c", "sums.rev")
case("md5sum", "-c", "-w", "sums.mixed")
# file names in messages are quoted as GNU's quotef does
for t, args in (("sort", ["no such"]), ("uniq", ["a:b"]), ("md5sum", ["it's"]), ("base64", ["\u00e9"]),
                ("cut", ["-f1", "x\ny"]), ("paste", ["~home"]), ("nl", ["it's $x"]), ("sort", ["-o", "no/such", "sorted"])):
    case(t, *args)
case("sha1sum", "-c", "sums.sha1")
# cksum (GNU coreutils 9.1): the CRC by default, every -a algorithm, -l, tags, -c of mixed lists
for alg in ([], ["-a", "crc"], ["-a", "sysv"], ["-a", "bsd"], ["-a", "md5"], ["-a", "sha1"],
            ["-a", "sha224"], ["-a", "sha256"], ["-a", "sha384"], ["-a", "sha512"],
            ["-a", "blake2b"], ["-a", "sm3"], ["-a", "blake2b", "-l", "8"],
            ["-a", "blake2b", "-l", "256"], ["-a", "blake2b", "-l", "0"]):
    case("cksum", *alg, "empty", "nonl", "binary", "long", "utf8")
    case("cksum", *alg, stdin="big")
    case("cksum", *alg, "-", stdin="nonl")
    case("cksum", *alg, "-z", "nonl", "missing")
    case("cksum", *alg, "--untagged", "nonl")
    case("cksum", *alg, "it's", "a\\b")
for args in (["sums.cksum"], ["-a", "sha384", "sums.cksum"], ["-a", "blake2b", "sums.cksum"],
             ["-a", "blake2b", "-l", "128", "sums.cksum"], ["-w", "sums.cksum"], ["--strict", "sums.cksum"],
             ["--status", "sums.cksum"], ["--quiet", "sums.cksum"], ["--tag", "sums.cksum"],
             ["-a", "md5", "sums.md5"], ["sums.md5"], ["-a", "sm3", "-w", "sums.cksum"],
             ["--ignore-missing", "sums.onlymissing.tag"], ["-a", "crc", "sums.cksum"], ["-a", "bsd", "sums.cksum"]):
    case("cksum", "-c", *args)
for args in (["-a", "x", "nonl"], ["-a", "md", "nonl"], ["-a", "SHA1", "nonl"], ["-l", "7", "-a", "blake2b", "nonl"],
             ["-l", "16", "nonl"], ["-a", "sha1", "-l", "16", "nonl"], ["-a", "blake2b", "-l", "1024", "nonl"],
             ["-a", "blake2b", "-l", "x", "nonl"], ["--quiet", "nonl"]):
    case("cksum", *args)
case("cksum", "-b", "nonl", err="any")
case("sha256sum", "-c", "sums.sha256")
case("sha256sum", "-c", "--ignore-missing", "sums.onlymissing")

# rmdir (the tree has the empty e/f/g and e2, and sub/ holding a file), printenv, nproc (GNU's
# OpenMP variables: without them the host's count and the sandbox's 1 differ, EXPECT below),
# true, false, and egrep/fgrep as Debian's scripts (grep -E / grep -F)
for args in (["e2"], ["sub"], ["--ignore-fail-on-non-empty", "sub"], ["-p", "e/f/g"], ["-pv", "e/f/g"],
             ["-p", "e/f/g/"], ["-v", "e2", "e2"], ["missing"], ["sorted"], [], ["-p", "e/f/g", "sub/"],
             ["-p", "--ignore-fail-on-non-empty", "e/f/g", "sub"], ["-x", "e2"], ["--", "e2"]):
    case("rmdir", *args, writes=True, err="any" if args[:1] == ["-x"] else "exact")
case("rmdir", "-p", "sub2/d", writes=True)
case("rmdir", "-p", "--ignore-fail-on-non-empty", "sub2/d", writes=True)
for args in ([], ["PATH"], ["-0", "PATH", "LC_ALL"], ["NOPE"], ["LC_ALL", "NOPE", "TZ"], ["A=B"], ["--null"]):
    case("printenv", *args, genv=True)
case("printenv", "-x", genv=True, err="any")
for env in ({"OMP_NUM_THREADS": "3"}, {"OMP_NUM_THREADS": "3,2"}, {"OMP_NUM_THREADS": " 5 "},
            {"OMP_NUM_THREADS": "8", "OMP_THREAD_LIMIT": "5"}, {"OMP_NUM_THREADS": "4", "OMP_THREAD_LIMIT": "x"}):
    case("nproc", env=env)
    case("nproc", "--ignore=2", env=env)
case("nproc", "--ignore=x", env={"OMP_NUM_THREADS": "3"})
case("nproc", "extra", env={"OMP_NUM_THREADS": "3"})
case("nproc", "--all", "--ignore=99")
# uname and arch: GNU's messages and statuses (what they print is the sandbox's: EXPECT below)
case("uname", "extra")
case("uname", "-a", "x", "y")
case("uname", "-z", err="any")
case("uname", "--bogus", err="any")
case("arch", "extra")
case("arch", "-m", err="any")
case("true")
case("true", "a", "-x")
case("false")
case("false", "a")
for t, args in (("egrep", ["a|z", "sorted"]), ("egrep", ["-c", "^(a|b)$", "nonl"]), ("egrep", ["-n", "(x", "sorted"]),
                ("fgrep", ["a.b", "sorted"]), ("fgrep", ["-c", "b", "nonl", "sorted"]), ("fgrep", ["-x", "", "crlf"]),
                ("egrep", ["-q", "x", "missing"]), ("fgrep", ["-e", "a", "-e", "c", "nonl"])):
    case(t, *args, err="any" if args[1:2] == ["(x"] else "exact")  # regcomp's words differ

# Bounds and refusals with a fixed expectation instead of GNU (GNU sort spills to temporary
# files; the guest holds its input and stops cleanly past its limit):
# (extra wasmcap flags, guest argv, stdin, status, stdout, a substring of stderr)
HUGE = b"x" * 5000000 + b"\n" + b"".join(b"%d\n" % i for i in range(100000)) + b"end"
HUGE_TAC = b"end" + b"".join(b"%d\n" % i for i in reversed(range(100000))) + b"x" * 5000000 + b"\n"
BIG = b"".join(b"%07d some padding to make the line longer\n" % i for i in range(60000))  # 2.8 MB
EXPECT = [
    ([], ["sort", "-S", "1M"], BIG, 2, b"", b"sort: the input needs more than 1048576 bytes"),
    ([], ["sort", "-S", "64M", "-r"], BIG, 0, b"".join(reversed(BIG.splitlines(True))), b""),
    (["--max-memory-mb", "4"], ["sort"], BIG, 2, b"", b"sort: memory exhausted"),
    ([], ["sort", "-R"], b"a\n", 2, b"", b"not supported"),
    ([], ["sort", "-m"], b"a\n", 2, b"", b"not supported"),
    # yes ends at the run's output limit; sleep at the deadline, or at once on a pinned clock
    (["--max-output-bytes", "100000"], ["yes"], b"", 84, b"y\n" * 50000, b"output_limit"),
    (["--max-output-bytes", "30"], ["yes", "ab", "c"], b"", 84, b"ab c\n" * 6, b"output_limit"),
    (["--timeout-ms", "300"], ["sleep", "10"], b"", 82, b"", b"deadline_exceeded"),
    (["--timeout-ms", "300"], ["sleep", "inf"], b"", 82, b"", b"deadline_exceeded"),
    (["--clock", "fixed=2026-01-01T00:00:00Z"], ["sleep", "100", "1d"], b"", 0, b"", b""),
    (["--clock", "deny"], ["sleep", "1"], b"", 1, b"", b"sleep: cannot sleep"),
    # mktemp: random names inside the grants only
    (["--env", "TMPDIR=/work"], ["mktemp"], b"", 0, re.compile(rb"/work/tmp\.[A-Za-z0-9]{10}\n"), b""),
    ([], ["mktemp", "-d", "-p", "/work"], b"", 0, re.compile(rb"/work/tmp\.[A-Za-z0-9]{10}\n"), b""),
    ([], ["mktemp", "f.XXXX", "--suffix=.txt"], b"", 0, re.compile(rb"f\.[A-Za-z0-9]{4}\.txt\n"), b""),
    ([], ["mktemp", "-u", "XXXXXX"], b"", 0, re.compile(rb"[A-Za-z0-9]{6}\n"), b""),
    ([], ["mktemp"], b"", 1, b"", b"(outside the granted directories)"),
    ([], ["mktemp", "-p", "/etc"], b"", 1, b"", b"outside the granted"),
    (["--random", "deny"], ["mktemp", "-p", "/work"], b"", 1, b"", b"mktemp: no random source"),
    # realpath and readlink stay inside the grants
    ([], ["realpath", "/etc/passwd"], b"", 1, b"", b"(outside the granted directories)"),
    ([], ["readlink", "-f", "out"], b"", 1, b"", b""),
    ([], ["readlink", "out"], b"", 0, b"/etc/passwd\n", b""),
    ([], ["realpath", "out"], b"", 1, b"", b"realpath: out:"),
    ([], ["env", "ls"], b"", 125, b"", b"not supported"),
    # the sandbox's answers where GNU's would show the host (README "Sandbox identity")
    ([], ["nproc"], b"", 0, b"1\n", b""),
    ([], ["nproc", "--all"], b"", 0, b"1\n", b""),
    (["--env", "OMP_THREAD_LIMIT=1"], ["nproc"], b"", 0, b"1\n", b""),
    ([], ["hostname"], b"", 0, b"localhost\n", b""),
    ([], ["hostname", "-s"], b"", 0, b"localhost\n", b""),
    ([], ["hostname", "evil"], b"", 1, b"", b"hostname: the host name cannot be set from the sandbox"),
    ([], ["hostname", "-I"], b"", 1, b"", b"only -s and -f"),
    # uname prints what uname(2) tells a WASI program (wasi-libc's), the sandbox's node name,
    # never the host's kernel; -p and -i are unknown and left out of -a, as GNU does
    ([], ["uname"], b"", 0, b"wasi\n", b""),
    ([], ["uname", "-a"], b"", 0, b"wasi localhost 0.0.0 0.0.0 wasm32 WASI\n", b""),
    ([], ["uname", "--all"], b"", 0, b"wasi localhost 0.0.0 0.0.0 wasm32 WASI\n", b""),
    ([], ["uname", "-o", "-m", "-s"], b"", 0, b"wasi wasm32 WASI\n", b""),
    ([], ["uname", "-snrvmpio"], b"", 0, b"wasi localhost 0.0.0 0.0.0 wasm32 unknown unknown WASI\n", b""),
    ([], ["uname", "--kernel-name", "--nodename", "--kernel-release", "--kernel-version", "--machine",
          "--processor", "--hardware-platform", "--operating-system"], b"", 0,
     b"wasi localhost 0.0.0 0.0.0 wasm32 unknown unknown WASI\n", b""),
    ([], ["uname", "-n"], b"", 0, b"localhost\n", b""),
    ([], ["arch"], b"", 0, b"wasm32\n", b""),
    ([], ["whoami"], b"", 1, b"", b"whoami: cannot find name for user ID 1000"),
    ([], ["whoami", "x"], b"", 1, b"", b"whoami: extra operand 'x'"),
    # the sandbox's user: uid/gid 1000, named only by the operator (USER; `wasmcap sh` gives the
    # host config's shell.user), never the host's
    ([], ["id"], b"", 0, b"uid=1000 gid=1000 groups=1000\n", b""),
    ([], ["id", "-u"], b"", 0, b"1000\n", b""),
    ([], ["id", "-un"], b"", 1, b"1000\n", b"id: cannot find name for user ID 1000"),
    (["--env", "USER=agent"], ["id"], b"", 0, b"uid=1000(agent) gid=1000(agent) groups=1000(agent)\n", b""),
    (["--env", "USER=agent"], ["id", "-gn"], b"", 0, b"agent\n", b""),
    (["--env", "USER=agent"], ["whoami"], b"", 0, b"agent\n", b""),
    (["--env", "USER=Bad\x1bName"], ["whoami"], b"", 1, b"", b"whoami: cannot find name for user ID 1000"),
    ([], ["id", "root"], b"", 1, b"", b"id: 'root': no such user"),
    # NUL bytes where the guest would answer differently: refused (util-linux rev's versions
    # disagree on them; regexec stops at a NUL)
    ([], ["rev"], b"ok\na\x00b\n", 1, b"ko\n", b"rev: stdin: 1: a NUL byte in a line is not supported"),
    ([], ["nl", "-bpa"], b"a\nb\x00a\n", 1, b"     1\ta\n", b"a NUL byte in a line matched by"),
    ([], ["nl", "-ba"], b"a\nb\x00a\n", 0, b"     1\ta\n     2\tb\x00a\n", b""),
    # date reads the wall clock (pinned here), or says it has none
    (["--clock", "fixed=2026-01-01T00:00:00Z"], ["date"], b"", 0, b"Thu Jan  1 00:00:00 UTC 2026\n", b""),
    (["--clock", "fixed=2026-01-01T00:00:00Z"], ["date", "-u", "+%s %N"], b"", 0, b"1767225600 000000000\n", b""),
    (["--clock", "deny"], ["date"], b"", 1, b"", b"date: cannot read the clock"),
    ([], ["date", "-d", "tomorrow"], b"", 1, b"", b"not 'tomorrow'"),
    # join holds one group of equal keys: past the run's memory it stops cleanly; the pairs of a
    # group are bounded by the output limit
    (["--max-memory-mb", "4"], ["join", "jgroupbig", "jgroupbig"], b"", 1, b"", b"join: out of memory"),
    ([], ["join", "jgroupbig", "empty"], b"", 0, b"", b""),
    (["--max-output-bytes", "1000"], ["join", "jgroup", "jgroup"], b"", 84,
     re.compile(rb"(k v v\n)*[kv ]*"), b"output_limit"),
    # tac streams a file (a 5 MB line and 100k short ones in 4 MiB of memory); a pipe is held
    # in memory, so past the limit it stops cleanly
    (["--max-memory-mb", "4"], ["tac", "huge"], b"", 0, HUGE_TAC, b""),
    (["--max-memory-mb", "4"], ["tac"], HUGE, 1, b"", b"tac: out of memory"),
    ([], ["tac", "-r", "sorted"], b"", 1, b"", b"not supported"),
    # ln: the sandbox accepts only symlink targets in the link's directory or below it
    # (host/wasi path_symlink; an absolute one there is stored relative)
    ([], ["ln", "-s", "../sorted", "up"], b"", 1, b"", b"ln: failed to create symbolic link 'up': Operation not permitted (the sandbox allows only"),
    ([], ["ln", "-s", "/etc/passwd", "abs"], b"", 1, b"", b"in the link's directory or below it, with no '..')"),
    # stat reports what WASI's filestat holds; the rest is refused, never invented
    ([], ["stat", "-c", "%n %a", "sorted"], b"", 1, b"", b"stat: %a is not supported in the sandbox (WASI reports no permission bits)"),
    ([], ["stat", "--printf=%U", "sorted"], b"", 1, b"", b"no owners"),
    ([], ["stat", "sorted"], b"", 1, b"", b"give -c FORMAT"),
    # split: a suffix longer than any file name is refused before anything is allocated
    ([], ["split", "-a", "4294967296", "sorted"], b"", 1, b"", b"split: invalid suffix length: '4294967296'"),
    # od holds two lines of -w bytes: a width the run cannot hold stops cleanly
    (["--max-memory-mb", "4"], ["od", "-w100000000", "sorted"], b"", 1, b"", b"od: out of memory"),
    ([], ["od", "-w8589934592", "sorted"], b"", 1, b"", b"od: out of memory"),
]


def build_tree(root, data):
    for name, content in data.items():
        with open(os.path.join(root, name), "wb") as f:
            f.write(content)
    os.makedirs(os.path.join(root, "sub"))
    with open(os.path.join(root, "sub", "f"), "wb") as f:
        f.write(b"in sub\n")
    os.makedirs(os.path.join(root, "e", "f", "g"))  # rmdir's
    os.makedirs(os.path.join(root, "e2"))
    os.makedirs(os.path.join(root, "sub2", "d"))
    with open(os.path.join(root, "sub2", "keep"), "wb") as f:
        f.write(b"x\n")
    os.makedirs(os.path.join(root, "hl"))  # du counts a file with several links once
    for k in range(40):
        os.link(os.path.join(root, "binary"), os.path.join(root, "hl", "x%d" % k))
    for name, target in (("link", "sorted"), ("dirlink", "sub"), ("dangling", "missing"),
                         ("loop1", "loop2"), ("loop2", "loop1")):
        os.symlink(target, os.path.join(root, name))
    # Checksum lists made by GNU: right, wrong, missing and malformed lines; cksum's mixes
    # algorithms, tagged and untagged lines and BLAKE2b's lengths.
    for name in ("it's", "a\\b"):
        with open(os.path.join(root, name), "wb") as f:
            f.write(name.encode() * 3)
    ck = b"".join(subprocess.run(["cksum"] + a + ["nonl", "binary"], cwd=root, capture_output=True,
                                 env=GNU_ENV).stdout
                  for a in (["-a", "sha512"], ["-a", "blake2b", "-l", "128"], ["--untagged", "-a", "sha384"],
                            ["-a", "blake2b"], ["-a", "sm3"], ["-a", "md5"]))
    with open(os.path.join(root, "sums.cksum"), "wb") as f:
        f.write(ck + b"SHA1 (sorted) = " + b"0" * 40 + b"\nBLAKE2b-64 (missing) = " + b"1" * 16 +
                b"\nBLAKE2b-7 (nonl) = 00\nnot a line\n")
    for tool, ext in (("md5sum", "md5"), ("sha1sum", "sha1"), ("sha256sum", "sha256")):
        good = subprocess.run([tool, "nonl", "binary", "sub/f"], cwd=root, capture_output=True, env=GNU_ENV).stdout
        hexlen = len(good.split(b" ")[0])
        bad = b"0" * hexlen + b"  sorted\n" + b"1" * hexlen + b" *missing\nnot a line\n"
        tag = subprocess.run([tool, "--tag", "long"], cwd=root, capture_output=True, env=GNU_ENV).stdout
        with open(os.path.join(root, "sums." + ext), "wb") as f:
            f.write(b"# a comment\n" + good + bad + tag + b"\r\n\n")
        if ext == "md5":  # the reversed BSD form, leading blanks, and the two forms mixed
            lines = good.split(b"\n")
            rev = b"".join(l.replace(b"  ", b" ", 1) + b"\n" for l in lines if l)
            with open(os.path.join(root, "sums.rev"), "wb") as f:
                f.write(rev + b"  \t" + lines[0] + b"\n" + b"0" * hexlen + b"  \n")
            with open(os.path.join(root, "sums.mixed"), "wb") as f:
                f.write(good + rev)
        if ext == "sha256":
            with open(os.path.join(root, "sums.onlymissing.tag"), "wb") as f:
                f.write(b"SHA256 (missing) = " + b"2" * hexlen + b"\n")
            with open(os.path.join(root, "sums.onlymissing"), "wb") as f:
                f.write(b"2" * hexlen + b"  missing\n")


def run_guest(a, tree, c, stdin):
    cmd = [a.wasmcap, "run", "--engine", a.engine, "--dir", tree + "::/work"]
    if c["genv"]:
        for k, v in GNU_ENV.items():  # the same order as GNU's environment
            cmd += ["--env", "%s=%s" % (k, v)]
    for k, v in c["env"].items():
        cmd += ["--env", "%s=%s" % (k, v)]
    cmd += [a.module, c["tool"]] + c["args"]
    p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def run_gnu(tree, c, stdin):
    extra = ["--apparent-size"] if c["tool"] == "du" else []  # WASI has sizes, not blocks
    p = subprocess.run([c["tool"]] + extra + c["args"], input=stdin, capture_output=True, cwd=tree,
                       env=dict(GNU_ENV, **c["env"]), timeout=300)
    return p.returncode, p.stdout, p.stderr


def short(b):
    return repr(b if len(b) < 400 else b[:400] + b"...")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wasmcap", required=True)
    ap.add_argument("--module", required=True)
    ap.add_argument("--engine", default=os.environ.get("WASMCAP_TEST_ENGINE", "interp"))
    ap.add_argument("-k", default=None, help="only cases whose command line contains this")
    a = ap.parse_args()
    a.wasmcap, a.module = os.path.abspath(a.wasmcap), os.path.abspath(a.module)
    for tool in sorted({c["tool"] for c in CASES}):
        if shutil.which(tool, path=GNU_ENV["PATH"]) is None:
            print("FAIL: GNU %s is not installed (scripts/setup.sh installs it)" % tool)
            return 1
    if a.engine == "aot":
        # Compiled once ahead: `wasmcap run`'s deadline (its default 60 s included) would count a
        # cold cache's compile of the whole module against the first case.
        p = subprocess.run([a.wasmcap, "compile", a.module], capture_output=True, timeout=1800)
        if p.returncode != 0:
            print("FAIL: wasmcap compile %s: %r" % (a.module, p.stderr))
            return 1
    data = inputs()
    tmp = tempfile.mkdtemp(prefix="wasmcap-textutils-")
    failures, ran, per_tool = [], 0, {}
    try:
        shared = os.path.join(tmp, "shared")
        os.makedirs(shared)
        build_tree(shared, data)
        pristine = snapshot(shared)
        for i, c in enumerate(CASES):
            label = " ".join([c["tool"]] + [repr(x) if (not x or not x.isprintable() or " " in x) else x for x in c["args"]])
            if c["stdin"]:
                label += " < " + c["stdin"]
            if a.k and a.k not in label:
                continue
            stdin = data[c["stdin"]] if c["stdin"] else b""
            if c["writes"]:
                tg, tn = os.path.join(tmp, "g%d" % i), os.path.join(tmp, "n%d" % i)
                for t in (tg, tn):
                    os.makedirs(t)
                    build_tree(t, data)
            else:
                tg = tn = shared
            grc, gout, gerr = run_guest(a, tg, c, stdin)
            nrc, nout, nerr = run_gnu(tn, c, stdin)
            if c["paths"]:  # GNU prints the host path of the tree; the guest sees it at /work
                real = os.path.realpath(tn).encode()
                nout = nout.replace(real, b"/work")
                nerr = nerr.replace(real, b"/work")
            ran += 1
            per_tool[c["tool"]] = per_tool.get(c["tool"], 0) + 1
            problems = []
            if b"wasmcap: error" in gerr or b"wasmcap:" in gerr.split(b"\n")[0]:
                problems.append("the runtime reported an error: %r" % gerr)
            if grc != nrc:
                problems.append("exit status: guest %d, GNU %d" % (grc, nrc))
            if gout != nout:
                problems.append("stdout differs:\n  guest: %s\n  GNU:   %s" % (short(gout), short(nout)))
            if c["err"] == "exact" and gerr != nerr:
                problems.append("stderr differs:\n  guest: %r\n  GNU:   %r" % (gerr, nerr))
            if c["err"] == "any" and (gerr == b"") != (nerr == b""):
                problems.append("stderr: guest %r, GNU %r" % (gerr, nerr))
            if c["writes"] and snapshot(tg) != snapshot(tn):
                sg, sn = snapshot(tg), snapshot(tn)
                problems.append("tree differs: guest %s, GNU %s" % (
                    short(repr({k: v for k, v in sg.items() if sn.get(k) != v}).encode()),
                    short(repr({k: v for k, v in sn.items() if sg.get(k) != v}).encode())))
            if problems:
                failures.append(label)
                print("FAIL: %s\n  %s" % (label, "\n  ".join(problems)))
            else:
                print("ok:   %s" % label)
        ex = os.path.join(tmp, "expect")  # mktemp writes here
        os.makedirs(ex)
        build_tree(ex, data)
        os.symlink("/etc/passwd", os.path.join(ex, "out"))
        with open(os.path.join(ex, "huge"), "wb") as f:
            f.write(HUGE)
        with open(os.path.join(ex, "jgroup"), "wb") as f:  # 4,000,000 pairs
            f.write(b"k v\n" * 2000)
        with open(os.path.join(ex, "jgroupbig"), "wb") as f:  # one group of 5.6 MB
            f.write(b"k %s\n" % (b"v" * 54) * 100000)
        for flags, argv, stdin, status, out, err in EXPECT:
            label = "expect: wasmcap run %s coreutils.wasm %s" % (" ".join(flags), " ".join(argv))
            if a.k and a.k not in label:
                continue
            cmd = [a.wasmcap, "run", "--engine", a.engine, "--dir", ex + "::/work"] + flags + [a.module] + argv
            p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=300)
            ran += 1
            problems = []
            if p.returncode != status:
                problems.append("exit status %d, expected %d (stderr %r)" % (p.returncode, status, p.stderr[:300]))
            if (p.stdout != out) if isinstance(out, bytes) else not out.fullmatch(p.stdout):
                problems.append("stdout %s, expected %s" % (short(p.stdout), short(out) if isinstance(out, bytes) else out.pattern))
            if err not in p.stderr or (not err and p.stderr):
                problems.append("stderr %r, expected it to contain %r" % (p.stderr[:300], err))
            if problems:
                failures.append(label)
                print("FAIL: %s\n  %s" % (label, "\n  ".join(problems)))
            else:
                print("ok:   %s" % label)
        if snapshot(shared) != pristine:
            failures.append("a case that only reads modified the shared tree")
            print("FAIL: a case that only reads modified the shared tree")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n%d comparisons (%s) on %s, %d failed" % (
        ran, ", ".join("%s %d" % kv for kv in sorted(per_tool.items())), a.engine, len(failures)))
    if ran == 0:
        print("FAIL: no case ran")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
