#!/usr/bin/env python3
"""The python bundle's stdlib snippet suite: snippets/suite.py runs once in the installed bundle
(`wasmcap run --dir WS::/work python /work/suite.py`) and its output must equal
snippets/expected.txt line for line (json, re, datetime, pathlib in the workspace, zipfile + zlib,
csv, hashlib, decimal, dataclasses, textwrap, ...).

Usage: snippets.py --wasmcap build/bin/wasmcap --bundles build/bundles [--engine interp|aot]
"""
import difflib
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pyharness  # noqa: E402


def main():
    a = pyharness.common_args()
    c = pyharness.Checks()
    # On aot, the persistent per-user cache that python/aot-compile filled (pyharness.aot_cache_dir).
    aot_cache = a.aot_cache or (pyharness.aot_cache_dir() if a.engine == "aot" else None)
    w = pyharness.World(a.wasmcap, a.bundles, a.engine, aot_cache)
    try:
        w.install()
        here = os.path.dirname(os.path.abspath(__file__))
        shutil.copy(os.path.join(here, "snippets", "suite.py"), w.ws)
        with open(os.path.join(here, "snippets", "expected.txt")) as f:
            expected = f.read()
        p = w.python("/work/suite.py")
        out = p.stdout.decode(errors="replace")
        c.check("suite.py exits 0 on %s" % a.engine, p.returncode == 0,
                "exit %d\n%s" % (p.returncode, p.stderr.decode(errors="replace")[-3000:]))
        # Per section, so one broken module names itself.
        def sections(text):
            out, name = {}, None
            for line in text.splitlines():
                if line.startswith("== "):
                    name = line[3:]
                    out[name] = []
                elif name is not None:
                    out[name].append(line)
            return out
        got, want = sections(out), sections(expected)
        for name in want:
            diff = "\n".join(difflib.unified_diff(want[name], got.get(name, []), "expected", "got",
                                                  lineterm=""))
            c.check("section %s matches expected.txt" % name, got.get(name) == want[name], diff)
        c.check("no stderr output", p.stderr == b"", p.stderr.decode(errors="replace")[-2000:])
        c.check("the suite cleaned the workspace up except its zip",
                sorted(os.listdir(w.ws)) == ["snippets.zip", "suite.py"], os.listdir(w.ws))
    finally:
        w.close()
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
