#!/usr/bin/env python3
"""Load benchmark for `wasmcap mcp --listen`: N concurrent tools/call requests over HTTP on
loopback from a bounded client (N threads, one request each), every one must be answered, no
audit record lost, the server's peak RSS reported. Prints calls/s and latency percentiles.

    bench/mcp/load.py BUILD_DIR [--calls 200] [--concurrency 4] [--engine interp] [--settle-s 2.5]
"""
import argparse, http.client, json, os, shutil, statistics, subprocess, sys, tempfile, threading, time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=4, help="server --max-concurrency")
    ap.add_argument("--engine", default="interp")
    ap.add_argument("--settle-s", type=float, default=2.5,
                    help="wait after the install before the load: a server runs long after its bundles were "
                         "installed, and a bundle's files changed less than 2 s ago are verified in full at "
                         "every call (docs/bundles.md, 'Verification of installed bundles'); 0 measures that")
    a = ap.parse_args()
    wasmcap = os.path.join(a.build, "bin", "wasmcap")
    t = tempfile.mkdtemp()
    try:
        env = dict(os.environ, WASMCAP_HOME=os.path.join(t, "home"))
        os.makedirs(os.path.join(t, "home", "trust"))
        os.makedirs(os.path.join(t, "ws"))
        shutil.copy(os.path.join(a.build, "bundles", "wasmcap-test.pub"), os.path.join(t, "home", "trust"))
        with open(os.path.join(t, "ws", "notes.txt"), "w") as f:
            f.write("alpha\nbeta\n" * 100)
        subprocess.run([wasmcap, "bundle", "install", os.path.join(a.build, "bundles", "coreutils.wcb")],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        time.sleep(a.settle_s)
        audit = os.path.join(t, "audit.jsonl")
        cfg = {"plugins": {"coreutils": {"grants": {"fs": [{"guest": "/work", "host": os.path.join(t, "ws"),
                                                             "access": "rw"}]}}},
               "audit": {"file": audit}}
        with open(os.path.join(t, "config.json"), "w") as f:
            json.dump(cfg, f)
        srv = subprocess.Popen([wasmcap, "mcp", "--config", os.path.join(t, "config.json"), "--engine", a.engine,
                                "--listen", "127.0.0.1:0", "--max-concurrency", str(a.concurrency),
                                "--max-queue", str(a.calls)], env=env, stderr=subprocess.PIPE, text=True)
        line = srv.stderr.readline()
        port = int(line.rsplit(":", 1)[1].split("/")[0])
        lat, errors = [], []
        lock = threading.Lock()
        barrier = threading.Barrier(a.calls)

        def one(i):
            body = json.dumps({"jsonrpc": "2.0", "id": i, "method": "tools/call",
                               "params": {"name": "grep", "arguments": {"pattern": "beta", "paths": ["notes.txt"],
                                                                        "count": True}}})
            barrier.wait()
            t0 = time.perf_counter()
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
                c.request("POST", "/mcp", body, {"Content-Type": "application/json", "Accept": "application/json"})
                r = c.getresponse()
                data = json.loads(r.read())
                ok = r.status == 200 and data["result"]["content"][0]["text"] == "100\n"
            except Exception as e:  # noqa: BLE001
                ok, data = False, repr(e)
            dt = time.perf_counter() - t0
            with lock:
                lat.append(dt)
                if not ok:
                    errors.append(data)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(a.calls)]
        start = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.perf_counter() - start
        rss_kb = 0
        with open(f"/proc/{srv.pid}/status") as f:
            for l in f:
                if l.startswith("VmHWM:"):
                    rss_kb = int(l.split()[1])
        srv.terminate()
        srv.wait()
        # Baseline in the same run: what agents do without the server — one CLI process per call
        # (`wasmcap tool call`, same tool, same grants), sequentially.
        base_n = 20
        b0 = time.perf_counter()
        for _ in range(base_n):
            subprocess.run([wasmcap, "tool", "call", "grep", "--config", os.path.join(t, "config.json"),
                            "--engine", a.engine, "--json",
                            json.dumps({"pattern": "beta", "paths": ["notes.txt"], "count": True})],
                           env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base_rate = base_n / (time.perf_counter() - b0)
        records = [json.loads(l) for l in open(audit)] if os.path.exists(audit) else []
        calls = [r for r in records if r.get("event") == "tool_call"]
        lat.sort()
        q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000
        print(f"calls={a.calls} answered_ok={a.calls - len(errors)} audit_records={len(calls)} "
              f"engine={a.engine} max_concurrency={a.concurrency}")
        print(f"wall={wall:.2f}s calls/s={a.calls / wall:.1f} p50={q(0.50):.0f}ms p99={q(0.99):.0f}ms "
              f"max={lat[-1] * 1000:.0f}ms server_peak_rss={rss_kb / 1024:.1f}MiB")
        print(f"baseline: one `wasmcap tool call` process per call, sequential: {base_rate:.1f} calls/s; "
              f"server/baseline throughput = {a.calls / wall / base_rate:.2f}x")
        if errors or len(calls) != a.calls + base_n:
            print("FAIL:", errors[:3], file=sys.stderr)
            return 1
        return 0
    finally:
        shutil.rmtree(t, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
