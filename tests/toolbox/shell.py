#!/usr/bin/env python3
"""The toolbox bundle's commands in `wasmcap sh` (docs/shell.md "Commands"): installed beside
coreutils in a fresh $WASMCAP_HOME (tests/shell/shell_env.py), found by name, in pipelines, in
the shell's working directory; what WASI cannot do fails with a message and no host program.

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


def main():
    a = shell_env.parse_args(__doc__)
    failures = []
    passed = 0
    with tempfile.TemporaryDirectory(prefix="wasmcap-toolbox-sh-") as tmp:
        env = shell_env.install_bundles(a, tmp, ["coreutils.wcb", "toolbox.wcb"])
        if env is None:
            return 1
        if a.engine == "aot":  # the object differential.py --engine aot compiled (a fixture)
            env["WASMCAP_CACHE_DIR"] = env.get("WASMCAP_CACHE_DIR") or aot_cache_dir()
        ws = os.path.join(tmp, "ws")
        os.makedirs(os.path.join(ws, "sub"))
        with open(os.path.join(ws, "sub", "n.txt"), "w") as f:
            f.write("3 x\n4 y\n")

        def sh(script, stdin=b""):
            return subprocess.run([a.wasmcap, "sh", "--engine", a.engine, "--dir", ws + "::/work",
                                   "-c", script], input=stdin, capture_output=True, env=env,
                                  timeout=300)

        cases = [
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
            ("awk's exit status reaches $?", "awk 'BEGIN { exit 7 }'; echo $?", 0, b"7\n", b""),
            ("jq -e's status reaches $?", "echo null | jq -e .; echo $?", 0, b"null\n1\n", b""),
            ("system() fails with a message, runs nothing",
             "awk 'BEGIN { system(\"touch /work/made\") }'; echo $?; test -e /work/made; echo $?",
             0, b"2\n1\n", b"cannot run commands: there are no processes in the WASI sandbox"),
            ("nothing outside the preopens", "awk '{ print }' /etc/passwd; echo $?",
             0, b"2\n", b"awk: cannot open /etc/passwd"),
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
