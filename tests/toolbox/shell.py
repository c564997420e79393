#!/usr/bin/env python3
"""The toolbox bundle's commands in `wasmcap sh` (docs/shell.md "Commands"): installed beside
coreutils in a fresh $WASMCAP_HOME (tests/shell/shell_env.py), found by name, in pipelines, in
the shell's working directory; what WASI cannot do fails with a message and no host program.

Usage: shell.py --wasmcap build/bin/wasmcap --bundles build/bundles [--engine interp|aot]
       (aot: the module's object is expected in differential.py's AOT cache: CMakeLists.txt)
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "support"))
import bundle_test  # noqa: E402

CASES = [
    # (label, script, status, stdout, stderr substring)
    ("the pipeline of the issue", "printf '1\\n2\\n' | awk '{s+=$1} END {print s}'",
     0, b"3\n", b""),
    ("type names the bundle", "type awk jq diff",
     0, b"awk is awk from bundle toolbox@0.1.0\njq is jq from bundle toolbox@0.1.0\n"
        b"diff is diff from bundle toolbox@0.1.0\n", b""),
    ("jq in a pipeline, `jq` alone is `jq .`",
     "echo '{\"a\": [1, 2, 3]}' | jq -c '.a | map(. * 2)'; echo '[1]' | jq",
     0, b"[2,4,6]\n[\n  1\n]\n", b""),
    ("relative paths from the shell's working directory",
     "cd sub && awk '{ print $2 }' n.txt | grep y && awk -v OFS=, '{ $1 = $1 * 10; print > \"o.txt\" }' n.txt && cat o.txt",
     0, b"y\n30,x\n40,y\n", b""),
    ("diff -u and cmp in the workspace",
     "printf 'a\\nb\\n' > x; printf 'a\\nc\\n' > y; diff -u --label x --label y x y; echo $?; cmp -s x x; echo $?",
     0, b"--- x\n+++ y\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n1\n0\n", b""),
    ("gzip, zcat and gunzip in the workspace and in pipelines",
     "printf 'x\\ny\\n' > g.txt; gzip -k -9 g.txt; zcat g.txt.gz; printf 'p\\n' | gzip -n | gunzip; "
     "rm g.txt; gunzip g.txt.gz; cat g.txt; type zcat",
     0, b"x\ny\np\nx\ny\nzcat is zcat from bundle toolbox@0.1.0\n", b""),
    ("diff -ru, then patch -p1 from stdin in a subdirectory: no temporary file left behind",
     "mkdir -p p/a/s p/b/s; printf 'x\\ny\\n' > p/a/s/f; printf 'x\\nz\\n' > p/b/s/f; cd p; "
     "diff -ru a b > d.patch; cd a && patch -p1 < ../d.patch && cat s/f && ls -A . s; type patch",
     0, b"patching file s/f\nx\nz\n.:\ns\n\ns:\nf\npatch is patch from bundle toolbox@0.1.0\n", b""),
    ("tar czf, tzf and xzf in a subdirectory: a hard link made again (tar's linkat from the "
     "working directory)",
     "mkdir -p t/d; cd t; printf 'hi\\n' > d/a; ln d/a d/b; tar czf ../t.tgz --sort=name d; cd ..; "
     "tar tzf t.tgz; mkdir tx; cd tx; tar xzf ../t.tgz; cat d/b; echo hi >> d/a; cat d/b; type tar",
     0, b"d/\nd/a\nd/b\nhi\nhi\nhi\ntar is tar from bundle toolbox@0.1.0\n", b""),
    ("diff of two process substitutions: two pipes, told apart by their inodes",
     "diff <(printf 'a\\nb\\n') <(printf 'a\\nc\\n'); echo $?; diff <(echo same) <(echo same); echo $?; "
     "awk '{ print NR \": \" $0 }' <(printf 'p\\nq\\n')",
     0, b"2c2\n< b\n---\n> c\n1\n0\n1: p\n2: q\n", b""),
    ("awk's exit status reaches $?", "awk 'BEGIN { exit 7 }'; echo $?", 0, b"7\n", b""),
    ("jq -e's status reaches $?", "echo null | jq -e .; echo $?", 0, b"null\n1\n", b""),
    ("ls and cat are GNU coreutils' (the core-utils bundle's own, without -F or -A, are fallbacks)",
     "mkdir -p l/d; printf 'a\\tb\\n' > l/f; cd l; cat -A f; cat -n f | cat -A; ls -F; ls -m; type ls cat dir",
     0, b"a^Ib$\n     1^Ia^Ib$\nd/\nf\nd, f\nls is ls from bundle toolbox@0.1.0\n"
        b"cat is cat from bundle toolbox@0.1.0\ndir is dir from bundle toolbox@0.1.0\n", b""),
    ("xxd and column in pipelines",
     "printf 'ab\\0\\377' | xxd; printf 'hi' | xxd -p | xxd -r -p; echo; "
     "printf 'name size\\nalpha 10\\nb 2000\\n' | column -t -R 2; type xxd column",
     0, b"00000000: 6162 00ff                                ab..\nhi\n"
        b"name   size\nalpha    10\nb      2000\n"
        b"xxd is xxd from bundle toolbox@0.1.0\ncolumn is column from bundle toolbox@0.1.0\n", b""),
    ("tree of a made tree (the session's UTF-8 locale: box-drawing lines), and in a pipeline",
     "mkdir -p tt/a/b tt/c; touch tt/a/f tt/.h; ln -s a tt/l; tree tt; tree -a -i -f --noreport tt | wc -l; "
     "tree -J -L 1 tt | jq -r '.[0].contents[].name'; type tree",
     0, "tt\n\u251c\u2500\u2500 a\n\u2502\u00a0\u00a0 \u251c\u2500\u2500 b\n\u2502\u00a0\u00a0 "
        "\u2514\u2500\u2500 f\n\u251c\u2500\u2500 c\n\u2514\u2500\u2500 l -> a\n\n"
        "5 directories, 1 file\n7\na\nc\nl\ntree is tree from bundle toolbox@0.1.0\n".encode(), b""),
    ("bc on a pipe, with -l, and its errors on stderr",
     "echo 'scale=20; 4*a(1)' | bc -l; echo '2^100; obase=16; 255' | bc; echo '1/0' | bc; "
     "printf 'define sq(x) { return x*x }\\n' > sq.bc; echo 'sq(12)' | bc -q sq.bc; type bc",
     0, b"3.14159265358979323844\n1267650600228229401496703205376\nFF\n144\n"
        b"bc is bc from bundle toolbox@0.1.0\n", b"Runtime error (func=(main), adr=3): Divide by zero\n"),
    ("system() fails with a message, runs nothing",
     "awk 'BEGIN { system(\"touch /work/made\") }'; echo $?; test -e /work/made; echo $?",
     0, b"2\n1\n", b"cannot run commands: there are no processes in the WASI sandbox"),
    ("nothing outside the preopens", "awk '{ print }' /etc/passwd; echo $?",
     0, b"2\n", b"awk: cannot open /etc/passwd"),
    ("cd / (above the preopens): the tools start there, the preopens by their names (guest SDK)",
     "cd /; awk 'BEGIN { print 1 }'; awk '{ print $2 }' work/sub/n.txt; printf 'a\\n' | jq -R .; "
     "diff work/sub/n.txt /work/sub/n.txt; echo $?; cd work/sub && awk 'END { print NR }' n.txt",
     0, b"1\nx\ny\n\"a\"\n0\n2\n", b""),
]


def prepare(ws):
    os.makedirs(os.path.join(ws, "sub"))
    with open(os.path.join(ws, "sub", "n.txt"), "w") as f:
        f.write("3 x\n4 y\n")


if __name__ == "__main__":
    sys.exit(bundle_test.shell_main(__doc__, ["coreutils.wcb", "toolbox.wcb"], CASES, prepare))
