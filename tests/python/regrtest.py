#!/usr/bin/env python3
"""A slice of CPython's own regression tests (Lib/test of the same source tree the bundle was built
from) run under wasmcap in the installed python bundle, with a threshold per module: at least
MIN_PASSED tests pass and at most MAX_FAILED fail or error. Counts go to guest/python/README.md.

Usage: regrtest.py --wasmcap build/bin/wasmcap --bundles build/bundles
                   --tests build/guest/python/tests/test [--slice ci|full] [--engine interp|aot]
"""
import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pyharness  # noqa: E402

# module: (MIN_PASSED, MAX_FAILED) — the counts measured (guest/python/README.md has the table, with
# the skips and their reasons); a module falling below is a regression of the build, of an engine
# or of wasmcap's WASI host. Every module in the table passes everything it does not skip.
THRESHOLDS = {
    "test_string": (38, 0),
    "test_textwrap": (66, 0),
    "test_bisect": (42, 0),
    "test_shlex": (18, 0),
    "test_base64": (30, 0),
    "test_csv": (112, 0),
    "test_fractions": (33, 0),
    "test_json": (152, 0),
    "test_re": (153, 0),
    "test_math": (73, 0),
    "test_heapq": (51, 0),
    "test_difflib": (51, 0),
    "test_datetime": (902, 0),
}
SLICES = {
    # CI, on the fast engine (~1.5 min of CPU; test_math and test_json are most of it).
    "ci": ["test_string", "test_textwrap", "test_bisect", "test_shlex", "test_base64", "test_csv",
           "test_fractions", "test_json", "test_re", "test_math"],
    # By hand: the CI slice plus the modules that cost CI more than they add today.
    "full": list(THRESHOLDS),
}


def main():
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--slice", default="ci", choices=sorted(SLICES))
    ap.add_argument("--modules", nargs="*", default=None)
    a, rest = ap.parse_known_args()
    h = pyharness.common_args(rest)
    modules = a.modules or SLICES[a.slice]
    c = pyharness.Checks()
    w = pyharness.World(h.wasmcap, h.bundles, h.engine, h.aot_cache)
    try:
        w.install()
        shutil.copytree(h.tests, os.path.join(w.ws, "test"), symlinks=False)
        shutil.copy(os.path.join(os.path.dirname(os.path.abspath(__file__)), "regr_runner.py"), w.ws)
        print("%-16s %6s %6s %6s %6s %8s" % ("module", "run", "passed", "skip", "failed", "seconds"))
        t0 = time.monotonic()
        # One interpreter per module: each gets the bundle's own deadline, and a module that
        # crashes or hangs costs only its own result (start-up is ~1 s on the fast engine).
        for m in modules:
            p = w.python("/work/regr_runner.py", m, extra=["--max-output-bytes", str(64 << 20)],
                         timeout=1200)
            rec = None
            for line in p.stdout.decode(errors="replace").splitlines():
                try:
                    r = json.loads(line)
                    if r.get("module") == m:
                        rec = r
                except (ValueError, AttributeError):
                    pass
            if rec is None:
                c.check("%s ran" % m, False, "exit %d, no result line: %s" % (
                    p.returncode, p.stderr.decode(errors="replace")[-3000:]))
                continue
            failed = rec["failures"] + rec["errors"]
            passed = rec["run"] - failed - rec["skipped"]
            print("%-16s %6d %6d %6d %6d %8.1f" % (m, rec["run"], passed, rec["skipped"], failed,
                                                   rec["seconds"]))
            min_passed, max_failed = THRESHOLDS.get(m, (0, 0))
            ok = c.check("%s: >= %d passed, <= %d failed (exit %d)" % (m, min_passed, max_failed, p.returncode),
                         p.returncode == 0 and passed >= min_passed and failed <= max_failed,
                         "%r\n%s" % (rec.get("failed"), p.stderr.decode(errors="replace")[-4000:]))
            if not ok and p.stderr:
                sys.stdout.write(p.stderr.decode(errors="replace")[-4000:])
        print("(%d modules in %.0f s on %s)" % (len(modules), time.monotonic() - t0, h.engine))
    finally:
        w.close()
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
