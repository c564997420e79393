#!/usr/bin/env python3
"""The AOT compile's progress on stderr (docs/aot.md, "Compile at scale"), as a user sees it:

- stderr a terminal (a pty here): one line, updated in place from the first second on, and erased
  when the compile ends, so the guest's own output starts on a clean line;
- stderr not a terminal (a pipe: CI logs, agents): for a module of at least 2,000 functions, one
  line when the compile starts and then one every 5 s, each ending in a newline, never a control
  sequence; nothing for a smaller module.

A failpoint (`aot.compile.start=delayMS`, a build with WASMCAP_FAILPOINTS=ON) holds the compile
before its first unit starts, so a small module takes the seconds the rule is about, on any
machine. Each run has a cache directory of its own, so each compiles.

    aot_progress_test.py WASMCAP
"""
import os
import pty
import select
import subprocess
import sys
import tempfile


def module(functions):
    body = "".join("(func $f%d (result i32) i32.const %d)\n" % (i, i) for i in range(functions))
    return ('(module (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))\n'
            '(memory (export "memory") 1) (data (i32.const 16) "guest says hi\\n")\n' + body +
            '(func (export "_start") (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 14))\n'
            '  (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))\n')


def run(wasmcap, wat, cache, delay_ms, tty):
    argv = [wasmcap, "run", "--engine", "aot", "--cache-dir", cache, "--wait-for-compile", wat]
    env = dict(os.environ, WASMCAP_FAILPOINTS="aot.compile.start=delay%d" % delay_ms)
    if not tty:
        p = subprocess.run(argv, env=env, capture_output=True, timeout=300)
        return p.returncode, p.stdout, p.stderr
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    err = b""
    while True:
        r, _, _ = select.select([master], [], [], 300)
        if not r:
            p.kill()
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every writer closed the pty
            break
        if not chunk:
            break
        err += chunk
    out = p.stdout.read()
    p.wait(timeout=300)
    os.close(master)
    return p.returncode, out, err


def main():
    wasmcap = sys.argv[1]
    failures = []

    def check(name, ok, detail):
        print(("ok   " if ok else "FAIL ") + name)
        if not ok:
            failures.append(name)
            print("     " + repr(detail)[:600])

    with tempfile.TemporaryDirectory() as tmp:
        small = os.path.join(tmp, "small.wat")
        big = os.path.join(tmp, "big.wat")
        with open(small, "w") as f:
            f.write(module(10))
        with open(big, "w") as f:
            f.write(module(2100))

        # A terminal: the updating line, then erased; the guest's output is untouched. A small
        # module is one compile (a spinner and the seconds); a big one is split into units.
        code, out, err = run(wasmcap, small, os.path.join(tmp, "c0"), 1500, tty=True)
        check("tty, small module: the run succeeds", code == 0 and out == b"guest says hi\n", (code, out, err))
        check("tty, small module: a line updated in place",
              b"\r| wasmcap: compiling " in err and b" to native code (" in err, err)
        check("tty, small module: erased at the end, no newline left behind",
              err.endswith(b"\r\x1b[K") and b"\n" not in err, err)
        code, out, err = run(wasmcap, big, os.path.join(tmp, "c1"), 1500, tty=True)
        check("tty, big module: the run succeeds", code == 0 and out == b"guest says hi\n", (code, out, err))
        check("tty, big module: a progress line updated in place", b"\r\x1b[Kwasmcap: compiling " in err, err)
        check("tty, big module: the figures",
              b"/2101 functions, " in err and b" units, " in err and b"ETA" in err, err)
        check("tty, big module: erased at the end, no newline left behind",
              err.endswith(b"\r\x1b[K") and b"\n" not in err, err)

        # A pipe, a small module: nothing, however long the compile.
        code, out, err = run(wasmcap, small, os.path.join(tmp, "c2"), 1500, tty=False)
        check("pipe, small module: silent", code == 0 and err == b"", (code, err))

        # A pipe, a big module: the start line, then one line per 5 s, plain text.
        code, out, err = run(wasmcap, big, os.path.join(tmp, "c3"), 5600, tty=False)
        lines = err.decode(errors="replace").splitlines()
        check("pipe, big module: the run succeeds", code == 0 and out == b"guest says hi\n", (code, out, err))
        check("pipe, big module: a start line naming the size",
              bool(lines) and lines[0].startswith("wasmcap: compiling ") and "2101 functions in" in lines[0], lines)
        timed = [l for l in lines if "/2101 functions, " in l and " s, ETA " in l]
        # The i-th such line comes once 5*(i+1) s have passed (its seconds are rounded): one line
        # per 5 s, not one per tick.
        secs = [int(l.split(" s, ETA ")[0].rsplit(" ", 1)[1]) for l in timed]
        check("pipe, big module: a line every 5 s",
              len(timed) >= 1 and all(5 * (i + 1) <= t <= 5 * (i + 1) + 2 for i, t in enumerate(secs)),
              lines)
        check("pipe: no control sequences", b"\x1b" not in err and b"\r" not in err, err)

    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
