#!/usr/bin/env python3
"""The python bundle's commands in `wasmcap sh` (docs/shell.md "Commands"): python3, python and
python3.11 from the bundle's manifest, on the shell's preopens and working directory, with the
standard library from the bundle's data tree; `python3 -c`, `python3 FILE` (relative to the
shell's working directory), `python3 - < FILE`, and `./tool.py` through its #! line.

Usage: shell.py --wasmcap build/bin/wasmcap --bundles build/bundles
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pyharness  # noqa: E402


def main():
    a = pyharness.common_args()
    c = pyharness.Checks()
    w = pyharness.World(a.wasmcap, a.bundles, a.engine, a.aot_cache)
    try:
        w.install()
        os.makedirs(os.path.join(w.ws, "sub"))
        with open(os.path.join(w.ws, "sub", "s.py"), "w") as f:
            f.write("import os, sys\nprint(os.getcwd(), sys.argv[1:])\n")
        tool = os.path.join(w.ws, "sub", "tool.py")
        with open(tool, "w") as f:
            f.write("#!/usr/bin/env python3\nimport sys\nprint('tool', sys.argv[1:])\n")
        os.chmod(tool, 0o755)

        def sh(script):
            return w.wasmcap_cmd("sh", "--engine", w.engine, "--dir", w.ws + "::/work", "-c",
                                 script, timeout=600)

        p = sh("type python3 python; cd sub; python3 -c 'import os; print(os.getcwd())'; "
               "python s.py a; python3.11 - < s.py; ./tool.py x; "
               "python3 -c 'open(\"out.txt\", \"w\").write(\"w\")'; "
               "python3 -c 'print(open(\"/work/sub/out.txt\").read())'")
        want = (b"python3 is python3 from bundle python@3.11.2\n"
                b"python is python from bundle python@3.11.2\n"
                b"/work/sub\n/work/sub ['a']\n/work/sub []\ntool ['x']\nw\n")
        # (stdout only: the python bundle's own messages on stderr are not this test's subject.)
        c.check("python3 -c, FILE, - < FILE and ./tool.py in the shell's working directory",
                p.returncode == 0 and p.stdout == want,
                "%d %r %r" % (p.returncode, p.stdout, p.stderr))
    finally:
        w.close()
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
