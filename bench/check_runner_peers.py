#!/usr/bin/env python3
"""ctest bench.runner_peers: bench/run.py finds the optional peers (wasm3, WAMR's iwasm and
wamrc) through their environment variables, runs them interleaved with the other runtimes,
checks their output and reports their ratios; a peer that is not there is "n/a", not an error.

No real peer is needed (none is in Debian or on npm): the stand-ins below run the module on
wasmcap's interpreter, and the stand-in wamrc copies the module to the .aot file it is asked
for, so every code path of the runner's peer support runs.

  check_runner_peers.py PYTHON RUN_PY BUILD_DIR WORK_DIR
"""
import json
import os
import shutil
import stat
import subprocess
import sys


def script(path, text):
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + text)
    os.chmod(path, stat.S_IRWXU)


def main():
    python, run_py, build, work = sys.argv[1:5]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    cli = os.path.join(build, "bin", "wasmcap")
    # Each stand-in leaves a mark, so the test also sees that the runner ran *it*.
    script(os.path.join(work, "wasm3"),
           f'touch "{work}/ran-wasm3"\nexec "{cli}" run --engine interp "$@"\n')
    script(os.path.join(work, "iwasm"),
           f'touch "{work}/ran-iwasm-$(basename "$1")"\nexec "{cli}" run --engine interp "$@"\n')
    script(os.path.join(work, "wamrc"),
           f'[ "$1" = "-o" ] || exit 9\ntouch "{work}/ran-wamrc"\nexec cp "$3" "$2"\n')
    env = dict(os.environ)
    env.update(WASMCAP_BENCH_WASM3=os.path.join(work, "wasm3"),
               WASMCAP_BENCH_IWASM=os.path.join(work, "iwasm"),
               WASMCAP_BENCH_WAMRC=os.path.join(work, "wamrc"))
    out = os.path.join(work, "peers.json")
    base = [python, run_py, "--quick", "--programs", "fib", "--build-dir", build,
            "--runtimes", "native,fast,wasm3,wamr,wamr-aot", "--cold-reps", "1", "--quiet"]
    r = subprocess.run(base + ["--out", out], env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"run.py with the stand-in peers failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    report = json.load(open(out))
    problems = []
    if report["unavailable"]:
        problems.append(f"peers reported unavailable: {report['unavailable']}")
    row = report["programs"][0]
    for rt in ("wasm3", "wamr", "wamr-aot"):
        e = row["runtimes"].get(rt)
        if not e or e.get("status") != "ok" or not e.get("ratio_cpu"):
            problems.append(f"{rt}: no measured ratio in the report: {e}")
        if rt not in report["geomean"]["cpu"]:
            problems.append(f"{rt}: no geomean")
    if row["runtimes"].get("wamr-aot", {}).get("scale") != row["scale"]:
        problems.append("wamr-aot did not run at full scale")
    if "wamrc_compile_s" not in row:
        problems.append("no wamrc compile time recorded")
    for mark in ("ran-wasm3", "ran-wamrc", "ran-iwasm-fib.wasm", "ran-iwasm-fib.aot"):
        if not os.path.exists(os.path.join(work, mark)):
            problems.append(f"the stand-in behind {mark} never ran")
    cold = {c["what"]: c for c in report["cold_start"]}
    if cold.get("wasm3", {}).get("status") != "ok":
        problems.append(f"no cold-start figure for wasm3: {cold.get('wasm3')}")
    # A peer that is not there: n/a with the reason, and still exit 0.
    env["WASMCAP_BENCH_WASM3"] = os.path.join(work, "no-such-wasm3")
    out2 = os.path.join(work, "missing.json")
    r = subprocess.run(base + ["--out", out2, "--no-cold"], env=env, capture_output=True,
                       text=True)
    if r.returncode != 0:
        problems.append(f"a missing peer made run.py fail ({r.returncode}): {r.stderr[-500:]}")
    else:
        missing = json.load(open(out2))
        if "wasm3" not in missing["unavailable"]:
            problems.append("a missing wasm3 was not reported unavailable")
        if "WASMCAP_BENCH_WASM3" not in missing["unavailable"].get("wasm3", ""):
            problems.append("the reason does not name the variable")
    if problems:
        sys.exit("FAIL:\n  " + "\n  ".join(problems))
    print("peers found, run, checked and reported; a missing one is n/a")


if __name__ == "__main__":
    main()
