#!/usr/bin/env python3
"""Runs one .wast file of the WebAssembly core spec tests under wasmcap-spectest.

Converts FILE.wast with wabt's wast2json into a fresh work directory (the suite itself is
read-only test data in ../shared and is never copied into the repository), runs the converted
command list on the chosen engine and compares the failures with the expectations file.

Expectations file, one entry per line (`#` comments):
    NAME:LINE  reason        the command at FILE NAME.wast, line LINE is expected to fail
    NAME:LINE@E1,E2  reason  ... only on engines E1, E2 (it passes on the others)
    NAME  unconvertible: reason   wast2json (wabt 1.0.32) cannot convert NAME.wast
    NAME@ENGINE  unsupported: reason   on ENGINE, every module of NAME.wast is refused as
                                       module_unsupported (a feature the engine does not run
                                       yet); the file passes only if that is all that fails
Strict both ways: an unlisted failure fails the test, and so does a listed entry that passes
(so the list cannot go stale).

Usage: run_spec_suite.py --runner BIN --wast2json BIN --engine interp --wast FILE.wast
                         --expectations FILE --workdir DIR
       run_spec_suite.py --check-expectations FILE --suite DIR
"""
import argparse
import os
import re
import shutil
import subprocess
import sys


def load_expectations(path, engine=None):
    """(lines, files). A line entry NAME:LINE@E1,E2 applies only on engines E1, E2; with
    `engine` given, entries for other engines are left out (and the @ suffix is dropped)."""
    lines, files = {}, {}
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            key, _, reason = line.partition(" ")
            reason = reason.strip()
            if ":" in key:
                if "@" in key and engine is not None:
                    key, _, engines = key.partition("@")
                    if engine not in engines.split(","):
                        continue
                lines[key] = reason
            else:
                files[key] = reason
    return lines, files


def check_expectations(path, suite):
    lines, files = load_expectations(path)
    names = {os.path.splitext(n)[0] for n in os.listdir(suite) if n.endswith(".wast")}
    bad = [k for k in list(lines) + list(files) if k.split(":")[0].split("@")[0] not in names]
    for k in bad:
        print("expectations entry names no .wast in the suite: %s" % k)
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runner")
    ap.add_argument("--wast2json")
    ap.add_argument("--engine", default="interp")
    ap.add_argument("--wast")
    ap.add_argument("--expectations", required=False)
    ap.add_argument("--workdir")
    ap.add_argument("--check-expectations")
    ap.add_argument("--suite")
    ap.add_argument("--timeout", type=float, default=280,
                    help="seconds the runner may take for the file (aot compiles every module)")
    a = ap.parse_args()
    if a.check_expectations:
        return check_expectations(a.check_expectations, a.suite)

    name = os.path.splitext(os.path.basename(a.wast))[0]
    exp_lines, exp_files = (load_expectations(a.expectations, a.engine) if a.expectations
                            else ({}, {}))
    work = os.path.join(a.workdir, name)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    out_json = os.path.join(work, name + ".json")
    conv = subprocess.run([a.wast2json, a.wast, "-o", out_json], capture_output=True, text=True)
    if conv.returncode != 0:
        if name in exp_files:
            print("%s: not convertible by this wast2json, as expected (%s)" % (name, exp_files[name]))
            return 0
        print("%s: wast2json failed:\n%s" % (name, conv.stderr[-2000:]))
        return 1
    if name in exp_files:
        print("%s: listed as unconvertible but wast2json converted it; update %s"
              % (name, a.expectations))
        return 1

    run = subprocess.run([a.runner, "--engine", a.engine, out_json], capture_output=True,
                         text=True, timeout=a.timeout)
    sys.stdout.write(run.stdout)
    if run.returncode not in (0, 1):
        sys.stdout.write(run.stderr[-4000:])
        print("%s: runner crashed or failed to start (status %d)" % (name, run.returncode))
        return 1
    failed = set()
    for line in run.stdout.splitlines():
        m = re.match(r"^%s\.wast:(\d+): " % re.escape(name), line)
        if m:
            failed.add("%s:%s" % (name, m.group(1)))
    if not any(l.startswith("spec %s:" % name) for l in run.stdout.splitlines()):
        print("%s: runner printed no summary" % name)
        return 1
    unsupported_key = "%s@%s" % (name, a.engine)
    if unsupported_key in exp_files:
        # The engine must refuse the file's modules cleanly: module_unsupported at load, and
        # nothing else but the commands that needed those modules.
        other = [l for l in run.stdout.splitlines()
                 if re.match(r"^%s\.wast:\d+: " % re.escape(name), l)
                 and "module did not load: module_unsupported:" not in l
                 and not l.endswith(": no current module")]
        refused = any("module did not load: module_unsupported:" in l
                      for l in run.stdout.splitlines())
        for l in other:
            print("UNEXPECTED FAILURE (not a clean refusal) %s" % l)
        if not refused:
            print("%s is listed as unsupported on %s (%s) but no module was refused: update %s"
                  % (name, a.engine, exp_files[unsupported_key], a.expectations))
            return 1
        shutil.rmtree(work, ignore_errors=True)
        return 1 if other else 0
    expected = {k for k in exp_lines if k.split(":")[0] == name}
    unexpected = sorted(failed - expected)
    stale = sorted(expected - failed)
    for k in unexpected:
        print("UNEXPECTED FAILURE %s" % k)
    for k in stale:
        print("EXPECTED FAILURE PASSED %s (%s): remove it from %s"
              % (k, exp_lines[k], a.expectations))
    shutil.rmtree(work, ignore_errors=True)
    return 1 if unexpected or stale else 0


if __name__ == "__main__":
    sys.exit(main())
