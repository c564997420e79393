#!/usr/bin/env python3
"""The fast engine's validating reader against wabt's interp reader on every module of the core
spec suite (ctest engine/validate_equiv).

Converts every FILE.wast of --suite with wast2json (as tests/spec does; the files
spec-expectations.txt lists as unconvertible are skipped, any other conversion failure fails
the test) into --workdir, plus every --extra-wast with exceptions enabled, copies the
--extra-wasm files next to them, and runs the validate_equiv tool over all the .wasm files that
produced: commands `module`, `assert_invalid`, `assert_malformed` (binary form), `assert_trap`,
`assert_unlinkable`... — every binary module the suite has, plus --mutants seeded mutants of
each. The tool fails on the first module on which the two readers disagree (verdict, first
error message or its byte offset) and prints it.

Usage: validate_equiv.py --tool BIN --wast2json BIN --suite DIR --expectations FILE
                         --workdir DIR [--extra-wast F.wast ...] [--extra-wasm F.wasm ...]
                         [--mutants N] [--threads 1,2,4] [--describe]

--threads: a comma-separated list; the tool runs once per count (1: the sequential pass; more:
the parallel path, forced on every module of two bodies per thread or more).
--describe: then once more with --describe: the AOT engine's module descriptions
(src/engine/describe.h) against the wabt oracle's load, on the same modules and mutants.
"""
import argparse
import os
import shutil
import subprocess
import sys


def unconvertible(path):
    names = set()
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.split("#", 1)[0].strip()
            key, _, reason = line.partition(" ")
            if key and ":" not in key and "@" not in key and "unconvertible" in reason:
                names.add(key)
    return names


def convert(wast2json, wast, outdir, extra_args):
    os.makedirs(outdir, exist_ok=True)
    name = os.path.splitext(os.path.basename(wast))[0]
    return subprocess.run([wast2json, *extra_args, wast, "-o", os.path.join(outdir, name + ".json")],
                          capture_output=True, text=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    ap.add_argument("--wast2json", required=True)
    ap.add_argument("--suite", required=True)
    ap.add_argument("--expectations", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--extra-wast", nargs="*", default=[])
    ap.add_argument("--extra-wasm", nargs="*", default=[])
    ap.add_argument("--mutants", default="0")
    ap.add_argument("--threads", default="1")
    ap.add_argument("--describe", action="store_true",
                    help="also run the tool once with --describe (the AOT engine's descriptions)")
    a = ap.parse_args()

    skip = unconvertible(a.expectations)
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    wasts = sorted(f for f in os.listdir(a.suite) if f.endswith(".wast"))
    converted = 0
    for f in wasts:
        name = f[:-5]
        if name in skip:
            continue
        r = convert(a.wast2json, os.path.join(a.suite, f), os.path.join(a.workdir, "spec", name), [])
        if r.returncode != 0:
            print("wast2json failed on %s (not listed as unconvertible):\n%s" % (f, r.stderr[-2000:]))
            return 1
        converted += 1
    for w in a.extra_wast:
        name = os.path.splitext(os.path.basename(w))[0]
        r = convert(a.wast2json, w, os.path.join(a.workdir, "extra", name), ["--enable-exceptions"])
        if r.returncode != 0:
            print("wast2json failed on %s:\n%s" % (w, r.stderr[-2000:]))
            return 1
    extra = os.path.join(a.workdir, "extra", "wasm")
    os.makedirs(extra, exist_ok=True)
    for w in a.extra_wasm:
        shutil.copy(w, extra)
    simd = sum(1 for f in wasts if f.startswith("simd_") and f[:-5] not in skip)
    print("converted %d spec files (%d simd_*), %d extra .wast, %d extra .wasm"
          % (converted, simd, len(a.extra_wast), len(a.extra_wasm)))
    if converted < 100 or simd < 50:
        print("too few spec files converted: is --suite the core spec suite?")
        return 1
    for threads in a.threads.split(","):
        r = subprocess.run([a.tool, "--mutants", a.mutants, "--threads", threads, a.workdir],
                           cwd=a.workdir)
        if r.returncode != 0:
            return r.returncode
    if a.describe:
        r = subprocess.run([a.tool, "--describe", "--mutants", a.mutants, a.workdir], cwd=a.workdir)
        if r.returncode != 0:
            return r.returncode
    shutil.rmtree(a.workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
