#!/usr/bin/env python3
"""The python bundle under wasmcap's grants: the interpreter's entry points (-c, FILE ARGS, -m,
stdin), everything outside the grants failing the Python way (files outside /work, sockets,
subprocesses, host environment variables), the read-only root tree, os.utime(path) setting "now",
and the limits (deadline, memory) stopping Python.

Usage: sandbox.py --wasmcap build/bin/wasmcap --bundles build/bundles
"""
import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pyharness  # noqa: E402

OSERRORS = {"PermissionError", "FileNotFoundError", "OSError", "NotADirectoryError"}


def main():
    a = pyharness.common_args()
    c = pyharness.Checks()
    w = pyharness.World(a.wasmcap, a.bundles, a.engine, a.aot_cache)
    # A host variable that must not reach the guest.
    w.env["WASMCAP_PY_HOST_SECRET"] = "host-only"
    try:
        w.install()
        # --- entry points --------------------------------------------------------------------
        p = w.python("-c", "import sys; print(sum(range(10)), sys.argv)", "x", "y")
        c.check("python -c CODE ARGS", p.returncode == 0 and
                p.stdout == b"45 ['-c', 'x', 'y']\n", "%d %r %r" % (p.returncode, p.stdout, p.stderr))
        with open(os.path.join(w.ws, "hello.py"), "w") as f:
            f.write("import sys\nprint('hello', sys.argv[1:])\nsys.exit(3)\n")
        p = w.python("/work/hello.py", "a b", "c")
        c.check("python FILE ARGS (and its exit status)", p.returncode == 3 and
                p.stdout == b"hello ['a b', 'c']\n", "%d %r %r" % (p.returncode, p.stdout, p.stderr))
        p = w.python("hello.py", "rel")
        c.check("a relative FILE is found in /work (the working directory)", p.returncode == 3 and
                p.stdout == b"hello ['rel']\n", "%d %r %r" % (p.returncode, p.stdout, p.stderr))
        with open(os.path.join(w.ws, "data.json"), "w") as f:
            f.write('{"b": 1, "a": [1, 2]}')
        p = w.python("-m", "json.tool", "--sort-keys", "/work/data.json")
        c.check("python -m json.tool", p.returncode == 0 and json.loads(p.stdout) == {"a": [1, 2], "b": 1},
                "%d %r %r" % (p.returncode, p.stdout, p.stderr))
        p = w.python("-", input=b"print(6 * 7)\n")
        c.check("python - (program on stdin)", p.returncode == 0 and p.stdout == b"42\n",
                "%d %r %r" % (p.returncode, p.stdout, p.stderr))
        p = w.python("-c", "1/0")
        c.check("an uncaught exception: exit 1 and a traceback with the source line",
                p.returncode == 1 and b"ZeroDivisionError: division by zero" in p.stderr,
                "%d %r" % (p.returncode, p.stderr))
        p = w.python("-c", "import json.decoder as d; d.JSONDecoder().decode('[')")
        c.check("tracebacks show standard-library source lines from the zip",
                p.returncode == 1 and b"python311.zip/json/decoder.py" in p.stderr and
                b"obj, end = self.raw_decode(s, idx=_w(s, 0).end())" in p.stderr, p.stderr.decode(errors="replace"))

        # --- sandbox ---------------------------------------------------------------------------
        shutil.copy(os.path.join(os.path.dirname(os.path.abspath(__file__)), "sandbox_probe.py"), w.ws)
        os.symlink("/etc/passwd", os.path.join(w.ws, "link-out"))
        t0 = time.monotonic()
        p = w.python("/work/sandbox_probe.py")
        elapsed = time.monotonic() - t0
        try:
            r = json.loads(p.stdout)
        except ValueError:
            r = {}
        c.check("the probe ran", p.returncode == 0 and r, "%d %r %r" % (p.returncode, p.stdout, p.stderr))
        for key in ("read_etc_passwd", "read_dotdot", "read_via_link"):
            c.check("%s fails with FileNotFoundError or PermissionError" % key,
                    r.get(key, ["?"])[0] in ("FileNotFoundError", "PermissionError"), r.get(key))
        c.check("os.path.exists('/') (the bundle's read-only root)", r.get("root_exists") == ["ok", True], r.get("root_exists"))
        c.check("the root holds only the bundle's tree", r.get("root_listing") == ["ok", ["usr", "work"]] or
                r.get("root_listing") == ["ok", ["usr"]], r.get("root_listing"))
        for key in ("write_stdlib", "write_root"):
            c.check("%s fails with an OSError" % key, r.get(key, ["ok"])[0] in OSERRORS, r.get(key))
        c.check("the working directory is /work", r.get("cwd") == ["ok", "/work"], r.get("cwd"))
        c.check("os.makedirs in the workspace", r.get("makedirs") == ["ok", True] and
                os.path.isdir(os.path.join(w.ws, "a/b/c")), r.get("makedirs"))
        c.check("a relative path writes into the workspace", r.get("relative_write") == ["ok", 8] and
                open(os.path.join(w.ws, "rel.txt")).read() == "relative", r.get("relative_write"))
        c.check("os.utime(path) with no times sets the current time", r.get("utime_now") == ["ok", True],
                r.get("utime_now"))
        c.check("tempfile works (in the workspace)", r.get("tempfile") == ["ok", "/work"], r.get("tempfile"))
        c.check("os.environ is empty (nothing granted; the host's variables stay out)",
                r.get("environ") == ["ok", {}], r.get("environ"))
        for key in ("socket_connect", "getaddrinfo", "subprocess", "os_system", "urlopen"):
            c.check("%s is unavailable (an exception, nothing reached)" % key,
                    r.get(key, ["ok"])[0] != "ok", r.get(key))
        c.check("urlopen fails with a URLError", r.get("urlopen", ["?"])[0] == "URLError", r.get("urlopen"))
        c.check("os.system raises OSError (ENOTSUP), as subprocess does (not an AttributeError)",
                r.get("os_system") == ["OSError", 58], r.get("os_system"))
        c.check("threads cannot start (RuntimeError)", r.get("thread", ["?"])[0] == "RuntimeError", r.get("thread"))
        c.check("nothing leaked into stderr", p.stderr == b"", p.stderr[-2000:])
        print("(probe took %.1f s)" % elapsed)

        # --- limits ----------------------------------------------------------------------------
        p = w.python("-c", "while True: pass", extra=["--timeout-ms", "4000"], timeout=120)
        c.check("--timeout-ms stops an endless loop", p.returncode not in (0, 1) and b"timeout" in p.stderr.lower(),
                "%d %r" % (p.returncode, p.stderr))
        p = w.python("-c", "b = bytearray(1 << 30)", extra=["--max-memory-mb", "256"], timeout=120)
        c.check("--max-memory-mb: a large allocation is a MemoryError", p.returncode == 1 and
                b"MemoryError" in p.stderr, "%d %r" % (p.returncode, p.stderr))
    finally:
        w.close()
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
