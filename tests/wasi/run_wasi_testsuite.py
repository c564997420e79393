#!/usr/bin/env python3
"""Runs one test of the official WASI test suite (WebAssembly/wasi-testsuite) under wasmcap.

Follows the suite's doc/specification.md: the test's JSON (legacy or operation-based form)
gives args, env, dirs to preopen and the expected exit code, stdout and stderr. Each run gets a
fresh temporary copy of the test's `dirs` (never the shared suite itself, which is read-only
test data), with `*.cleanup` artifacts removed from the copy before the run.

Expected failures are listed in an expectations file (`LANG/NAME  reason`, one per line):
a listed test must fail (an unexpected pass is an error, so the list cannot go stale) and an
unlisted test must pass.

Usage: run_wasi_testsuite.py --wasmcap BIN --test SUITE/tests/LANG/.../NAME.wasm
                             --id LANG/NAME [--expectations FILE] [--timeout S]
       run_wasi_testsuite.py --wasmcap BIN --batch SUITE/tests/LANG/.../ --lang LANG
                             [--resolver openat2|fallback] [--expectations FILE]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile


def load_spec(wasm_path):
    """Returns (args, env, dirs, exit_code, stdout, stderr). stdout/stderr are None when the
    spec does not give them: like the suite's reference runner, only given streams are
    compared (a legacy spec is converted to run/read/wait, with a read per given stream)."""
    spec_path = os.path.splitext(wasm_path)[0] + ".json"
    spec = {}
    if os.path.exists(spec_path):
        with open(spec_path, encoding="utf-8") as f:
            spec = json.load(f)
    if "operations" not in spec:
        return (spec.get("args", []), spec.get("env", {}), spec.get("dirs", []),
                spec.get("exit_code", 0), spec.get("stdout"), spec.get("stderr"))
    # Operation-based form: one run/wait pair plus optional reads; network operations and
    # proposals are not supported by wasmcap (no ambient network), so such tests fail.
    if spec.get("proposals"):
        raise ValueError("proposals %r are not supported" % spec["proposals"])
    args, env, dirs, code, out, err = [], {}, [], 0, None, None
    for op in spec["operations"]:
        t = op.get("type")
        if t == "run":
            args, env, dirs = op.get("args", []), op.get("env", {}), op.get("dirs", [])
        elif t == "wait":
            code = op.get("exit_code", 0)
        elif t == "read":
            if op.get("id", "stdout") == "stdout":
                out = (out or "") + op.get("payload", "")
            else:
                err = (err or "") + op.get("payload", "")
        else:
            raise ValueError("operation %r is not supported" % t)
    return args, env, dirs, code, out, err


def load_expectations(path):
    expected = {}
    if not path:
        return expected
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, _, reason = line.partition(" ")
            expected[name] = reason.strip()
    return expected


def remove_cleanup_artifacts(root):
    for dirpath, dirnames, filenames in os.walk(root):
        for n in list(dirnames) + filenames:
            if n.endswith(".cleanup"):
                p = os.path.join(dirpath, n)
                if os.path.isdir(p) and not os.path.islink(p):
                    shutil.rmtree(p)
                    dirnames.remove(n)
                else:
                    os.unlink(p)


def child_env():
    # wasmcap gives the guest no host environment anyway; pass only what affects wasmcap
    # itself: WASMCAP_PATH_RESOLVER=fallback|openat2 runs the suite on one path resolver.
    env = {"PATH": os.environ.get("PATH", "")}
    # WASMCAP_AOT_OPT / WASMCAP_CC: the AOT engine's compile settings (--engine aot runs).
    for k in ("WASMCAP_PATH_RESOLVER", "ASAN_OPTIONS", "UBSAN_OPTIONS", "WASMCAP_AOT_OPT",
              "WASMCAP_CC"):
        if k in os.environ:
            env[k] = os.environ[k]
    return env


# Extra `wasmcap run` arguments selecting the engine (--engine/--cache-dir of this script).
ENGINE_ARGS = []


def run_test(wasmcap, wasm, timeout):
    """Returns a list of mismatch descriptions (empty when the test passed)."""
    args, env, dirs, want_code, want_out, want_err = load_spec(wasm)
    test_dir = os.path.dirname(os.path.abspath(wasm))
    work = tempfile.mkdtemp(prefix="wasmcap-wasi-")
    try:
        cmd = [wasmcap, "run"] + ENGINE_ARGS
        for d in dirs:
            src = os.path.join(test_dir, d)
            dst = os.path.join(work, d)
            shutil.copytree(src, dst, symlinks=True)
            remove_cleanup_artifacts(dst)
            cmd += ["--dir", "%s::%s" % (dst, d)]
        for k, v in env.items():
            cmd += ["--env", "%s=%s" % (k, v)]
        cmd += [wasm] + list(args)
        try:
            p = subprocess.run(cmd, cwd=work, stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=timeout, env=child_env())
        except subprocess.TimeoutExpired:
            return ["timed out after %ss" % timeout]
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        problems = []
        if p.returncode != want_code:
            problems.append("exit code %d, expected %d" % (p.returncode, want_code))
        if want_out is not None and out != want_out:
            problems.append("stdout %r, expected %r" % (out, want_out))
        if want_err is not None and err != want_err:
            problems.append("stderr %r, expected %r" % (err, want_err))
        if problems:
            problems.insert(0, "command: %s" % " ".join(cmd))
            if want_out is None and out:
                problems.append("stdout (not compared): %r" % out)
            if want_err is None and err:
                problems.append("stderr (not compared): %r" % err)
        return problems
    finally:
        shutil.rmtree(work, ignore_errors=True)


def judge(test_id, problems, expected, expectations_path):
    """Prints the verdict for one test; returns True if it is as expected."""
    if test_id in expected:
        if problems:
            print("XFAIL %s (expected failure: %s)" % (test_id, expected[test_id]))
            for p in problems:
                print("  " + p)
            return True
        print("XPASS %s: listed in %s as failing (%s) but it passes; remove the line"
              % (test_id, expectations_path, expected[test_id]))
        return False
    if problems:
        print("FAIL %s" % test_id)
        for p in problems:
            print("  " + p)
        return False
    print("PASS %s" % test_id)
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wasmcap", required=True)
    ap.add_argument("--test", help="path of the test's .wasm")
    ap.add_argument("--id", help="LANG/NAME, as in the expectations file")
    ap.add_argument("--batch", help="run every .wasm of this folder (ids LANG/NAME)")
    ap.add_argument("--lang", help="LANG for --batch")
    ap.add_argument("--resolver", choices=["openat2", "fallback"],
                    help="force wasmcap's path resolver (WASMCAP_PATH_RESOLVER)")
    ap.add_argument("--expectations")
    ap.add_argument("--engine", choices=["interp", "aot", "auto"],
                    help="wasmcap engine (default: wasmcap's default, interp)")
    ap.add_argument("--cache-dir", help="AOT cache directory (--engine aot)")
    ap.add_argument("--timeout", type=float, default=120)
    a = ap.parse_args()
    if a.engine:
        ENGINE_ARGS.extend(["--engine", a.engine])
    if a.cache_dir:
        ENGINE_ARGS.extend(["--cache-dir", a.cache_dir])
    if a.resolver:
        os.environ["WASMCAP_PATH_RESOLVER"] = a.resolver

    if a.batch:
        if not a.lang:
            ap.error("--batch needs --lang")
        tests = [("%s/%s" % (a.lang, n[:-5]), os.path.join(a.batch, n))
                 for n in sorted(os.listdir(a.batch)) if n.endswith(".wasm")]
    elif a.test and a.id:
        tests = [(a.id, a.test)]
    else:
        ap.error("give --test and --id, or --batch and --lang")

    expected = load_expectations(a.expectations)
    ok = True
    for test_id, wasm in tests:
        try:
            problems = run_test(a.wasmcap, wasm, a.timeout)
        except (OSError, ValueError) as e:
            problems = ["runner error: %s" % e]
        ok = judge(test_id, problems, expected, a.expectations) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
