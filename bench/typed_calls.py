#!/usr/bin/env python3
"""A component's small typed export called through each front end (issue #34, "Tests and
benchmarks"): `add(a: u32, b: u32) -> u32` of tests/component/wat/call.wat (made a binary by
npm's jco, installed into the build tree by the component tests), side by side in one run with
`jco transpile` on node, the reference host. Standard library only.

  C API     build/bench/typed_calls (bench/capi/typed_calls.c): wasmcap_call in one process, a
            fresh instance per call, arguments and result as value trees; interp and aot
  CLI       `wasmcap call call.wasm 'add(1, 2)'`: a new process per call; interp and aot
  MCP       `wasmcap mcp` over stdio serving the export as a component tool of an installed,
            signed bundle (manifest "component_tools"): tools/call one at a time from one client
            (the bundle re-verified and a fresh instance per call, one audit record each)
  jco       the component transpiled to JavaScript on node: one instance reused for every call,
            and a fresh instance per call (core modules compiled once) -- what wasmcap does

Reported: microseconds per call and calls per second (in-process rows: the best of 5 batches of
--calls; CLI: the median of --reps processes; MCP: the median of 5 batches of --calls), every
result checked.

  python3 bench/typed_calls.py [--build-dir build] [--calls 2000] [--reps 30] [--json out.json]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def mcp_rows(wasmcap, build, work, component, calls):
    """us per tools/call of `add` over stdio, one at a time (5 batches, the median)."""
    home = os.path.join(work, "home")
    os.makedirs(os.path.join(home, "trust"))
    shutil.copy(os.path.join(build, "bundles", "wasmcap-test.pub"), os.path.join(home, "trust"))
    src = os.path.join(work, "src")
    os.makedirs(src)
    shutil.copy(component, os.path.join(src, "call.wasm"))
    with open(os.path.join(src, "calc.json"), "w") as f:
        json.dump({"name": "calc", "version": "1.0.0", "module": "call.wasm", "component_tools": ["add"]}, f)
    env = dict(os.environ, WASMCAP_HOME=home)
    wcb = os.path.join(work, "calc.wcb")
    subprocess.run([wasmcap, "bundle", "pack", "--manifest", os.path.join(src, "calc.json"), "--key",
                    os.path.join(build, "bundles", "wasmcap-test.key"), "--out", wcb], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([wasmcap, "bundle", "install", wcb], env=env, check=True, stdout=subprocess.DEVNULL)
    cfg = os.path.join(work, "config.json")
    with open(cfg, "w") as f:
        json.dump({"plugins": {"calc": {}}, "audit": {"file": os.path.join(work, "audit.jsonl")}}, f)
    time.sleep(2.5)  # installed modules older than 2 s are not hashed at every check
    p = subprocess.Popen([wasmcap, "mcp", "--config", cfg], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env, text=True, bufsize=1)
    ident = [0]

    def rpc(method, params, notify=False):
        msg = {"jsonrpc": "2.0", "method": method, "params": params}
        if not notify:
            ident[0] += 1
            msg["id"] = ident[0]
        p.stdin.write(json.dumps(msg) + "\n")
        p.stdin.flush()
        if notify:
            return None
        return json.loads(p.stdout.readline())

    rpc("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                       "clientInfo": {"name": "typed_calls", "version": "1"}})
    rpc("notifications/initialized", {}, notify=True)
    right = True
    per = []
    for batch in range(6):
        t0 = time.perf_counter()
        for i in range(calls):
            r = rpc("tools/call", {"name": "add", "arguments": {"a": i, "b": 2}})
            right = right and r.get("result", {}).get("structuredContent") == {"result": i + 2}
        if batch > 0:  # the first batch warms the server (the module prepared once)
            per.append((time.perf_counter() - t0) / calls)
    p.stdin.close()
    p.wait(timeout=30)
    return {"via": "MCP tools/call over stdio (interp)", "us_per_call": round(statistics.median(per) * 1e6, 2),
            "right": right}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--json")
    a = ap.parse_args()
    build = os.path.abspath(a.build_dir)
    wasmcap = os.path.join(build, "bin", "wasmcap")
    jco = os.path.join(build, "node-jco", "node_modules", ".bin", "jco")
    calls_bin = os.path.join(build, "bench", "typed_calls")
    for path, what in ((wasmcap, "build/bin/wasmcap"), (calls_bin, "build/bench/typed_calls"),
                       (jco, "jco (run `ctest -R component_jco` once: it installs it)")):
        if not os.path.exists(path):
            sys.exit("typed_calls.py: %s is missing: %s" % (path, what))
    work = tempfile.mkdtemp(prefix="wasmcap-typed-calls-")
    try:
        component = os.path.join(work, "call.wasm")
        subprocess.run([jco, "parse", os.path.join(ROOT, "tests", "component", "wat", "call.wat"), "-o", component],
                       check=True)
        env = dict(os.environ, WASMCAP_CACHE_DIR=os.path.join(work, "aot"))
        rows = []
        for engine in ("interp", "aot"):
            r = subprocess.run([calls_bin, component, engine, str(a.calls)], capture_output=True, text=True,
                               env=env, check=True)
            rows.append(json.loads(r.stdout))
        for engine in ("interp", "aot"):
            cmd = [wasmcap, "call", "--engine", engine, component, "add(1, 2)"]
            subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)  # warm: the AOT object
            times, right = [], True
            for _ in range(a.reps):
                t = time.perf_counter()
                out = subprocess.run(cmd, env=env, capture_output=True, text=True)
                times.append(time.perf_counter() - t)
                right = right and out.returncode == 0 and out.stdout.strip() == "3"
            rows.append({"via": "CLI wasmcap call, a process per call (%s)" % engine,
                         "us_per_call": round(statistics.median(times) * 1e6, 2), "right": right})
        rows.append(mcp_rows(wasmcap, build, work, component, a.calls))
        js = os.path.join(work, "js")
        subprocess.run([jco, "transpile", component, "-o", os.path.join(js, "reused"), "--name", "call"], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([jco, "transpile", component, "-o", os.path.join(js, "fresh"), "--name", "call",
                        "--instantiation", "async"], check=True, stdout=subprocess.DEVNULL)
        r = subprocess.run(["node", os.path.join(HERE, "components", "typed_calls.mjs"), js, str(a.calls)],
                           capture_output=True, text=True, check=True)
        rows += [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
        print("add(a: u32, b: u32) -> u32 of tests/component/wat/call.wat, every call's result checked")
        print("%-48s %12s %12s" % ("via", "us/call", "calls/s"))
        for row in rows:
            print("%-48s %12.1f %12.0f%s" % (row["via"], row["us_per_call"], 1e6 / row["us_per_call"],
                                             "" if row["right"] else "  WRONG RESULT"))
        if a.json:
            with open(a.json, "w") as f:
                json.dump(rows, f, indent=1)
        if not all(row["right"] for row in rows):
            sys.exit(1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
