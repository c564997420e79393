#!/usr/bin/env python3
"""Noisy-neighbour benchmark for `wasmcap mcp --listen` (docs/mcp.md "Tenants").

Eight benign principals call core-utils `cat` of a 1 KB file in a loop over kept-alive
connections, while one hostile principal keeps K calls outstanding that spin until their
deadline, grow memory to their cap, flood output past its bound, burst (spin for 40 ms each), or
run a `bash` loop of three-stage pipelines (the server's bash tool). Per scenario (a fresh server
each): benign calls/s, p50/p99 latency, benign calls refused, hostile calls answered, the
server's peak RSS and CPU (cores), the hostile client's CPU. Each client connects from a loopback
address of its own (127.0.0.2 the hostile one, 127.0.1.N the benign ones), so the server's
per-peer connection cap applies to each as it would to remote clients. `--without-tenancy` runs
every scenario a second time with the server as it was before tenancy: one shared token (one
principal), no CPU demotion. `--also KEY=VALUE` runs every scenario a second time, right after
the first, with that mcp.tenancy setting (e.g. `--also fair_cpu_window_ms=0`: same-run ratios of
one rule's effect). The benign clients keep their connections alive; `--hostile-keep-alive` makes
the hostile one do so too (by default it opens a connection per call).

    bench/mcp/noisy.py BUILD_DIR [--k 2,8,32] [--modes spin,grow,flood] [--seconds 5] [--also K=V]
"""
import argparse, http.client, json, multiprocessing, os, shutil, statistics, subprocess, sys, tempfile, threading, time

HOSTILE = {
    # mode: (module, tool argv); spin never ends (its deadline stops it), grow_to_cap grows to
    # 128 MiB, flood writes 10 MiB (the 1 MiB output bound stops it).
    "spin": "spin.wasm",
    "grow": "grow_to_cap.wasm",
    "flood": "flood.wasm",
    # burst: the spinning module with a 40 ms deadline (its host config limits): calls each too
    # short to be demoted on their own, together as much CPU as the hostile client can start.
    "burst": "spin.wasm",
}
# Host config entries of the hostile plugins, by mode.
PLUGIN_CONFIG = {"burst": {"limits": {"timeout_ms": 40}}}
# Modes served by the server's own `bash` tool (mcp.bash, a workspace of the benign file), not a
# plugin: the command line each hostile call runs. "bash": a loop starting three-stage
# pipelines until its deadline or the shell's command limit (every stage a tool instance on a
# thread of its own: CPU off the call's own thread).
BASH_MODES = {"bash": "while :; do echo x | sort | wc -l; done > /dev/null"}


def run(cmd, env):
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)


def setup(build, t):
    wasmcap = os.path.join(build, "bin", "wasmcap")
    env = dict(os.environ, WASMCAP_HOME=os.path.join(t, "home"))
    os.makedirs(os.path.join(t, "home", "trust"))
    os.makedirs(os.path.join(t, "ws"))
    shutil.copy(os.path.join(build, "bundles", "wasmcap-test.pub"), os.path.join(t, "home", "trust"))
    with open(os.path.join(t, "ws", "notes.txt"), "w") as f:
        f.write("x" * 1023 + "\n")
    run([wasmcap, "bundle", "install", os.path.join(build, "bundles", "coreutils.wcb")], env)
    run([wasmcap, "bundle", "keygen", "--out", os.path.join(t, "keys"), "--name", "bench"], env)
    shutil.copy(os.path.join(t, "keys", "bench.pub"), os.path.join(t, "home", "trust"))
    run([wasmcap, "ws", "create", "--from", os.path.join(t, "ws"), "--name", "proj"], env)
    for mode, module in HOSTILE.items():
        d = os.path.join(t, "src-" + mode)
        os.makedirs(d)
        shutil.copy(os.path.join(build, "guest", module), os.path.join(d, "plugin.wasm"))
        manifest = {"name": "hostile-" + mode, "version": "1.0.0", "module": "plugin.wasm",
                    "tools": [{"name": mode, "description": "a hostile call", "input_schema": {"type": "object"},
                               "invoke": {}}]}
        with open(os.path.join(d, "manifest.json"), "w") as f:
            json.dump(manifest, f)
        run([wasmcap, "bundle", "pack", "--manifest", os.path.join(d, "manifest.json"), "--key",
             os.path.join(t, "keys", "bench.key"), "--out", os.path.join(d, "b.wcb")], env)
        run([wasmcap, "bundle", "install", os.path.join(d, "b.wcb")], env)
    tokens = {}
    for name in ["benign%d" % i for i in range(8)] + ["hostile"]:
        tokens[name] = "%s-%s" % (name, os.urandom(8).hex())
        with open(os.path.join(t, name + ".token"), "w") as f:
            f.write(tokens[name] + "\n")
    with open(os.path.join(t, "shared.token"), "w") as f:
        f.write("shared-" + os.urandom(8).hex() + "\n")
    tokens["metrics"] = "metrics-" + os.urandom(8).hex()
    with open(os.path.join(t, "metrics.token"), "w") as f:
        f.write(tokens["metrics"] + "\n")
    return wasmcap, env, tokens


def serve(wasmcap, env, t, tenancy, extra, settings=None):
    plugins = {"coreutils": {"grants": {"fs": [{"guest": "/work", "host": os.path.join(t, "ws"), "access": "ro"}]}}}
    for mode in HOSTILE:
        plugins["hostile-" + mode] = PLUGIN_CONFIG.get(mode, {})
    cfg = {"plugins": plugins}
    args = []
    bash = {"workspace": "proj"}
    if tenancy:
        cfg["mcp"] = {"bash": bash, "tenancy": {"principals": {n: {"token_file": os.path.join(t, n + ".token")}
                                                 for n in ["benign%d" % i for i in range(8)] + ["hostile"]}}}
        cfg["mcp"]["tenancy"]["metrics_token_file"] = os.path.join(t, "metrics.token")
        cfg["mcp"]["tenancy"].update(settings or {})
    else:
        # Before tenancy: everyone presents the one token, and nothing is demoted.
        cfg["mcp"] = {"bash": bash, "tenancy": {"demote_after_cpu_ms": 0}}
        args = ["--token-file", os.path.join(t, "shared.token")]
    with open(os.path.join(t, "config.json"), "w") as f:
        json.dump(cfg, f)
    srv = subprocess.Popen([wasmcap, "mcp", "--config", os.path.join(t, "config.json"), "--listen", "127.0.0.1:0",
                            "--timeout-ms", "10000", "--max-memory-mb", "256"] + args + extra,
                           env=env, stderr=subprocess.PIPE, text=True)
    line = srv.stderr.readline()
    port = int(line.rsplit(":", 1)[1].split("/")[0])
    return srv, port


def peak_rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid):
    # utime + stime of a process (its threads included), from /proc.
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def benign_address(n):
    # Each client from an address of its own (any 127.x.y.z reaches the server on loopback), as
    # clients on other machines would be: the server's per-peer connection cap applies to each.
    return ("127.0.1.%d" % (n + 1), 0)


def call_body(i, tool, args):
    return json.dumps({"jsonrpc": "2.0", "id": i, "method": "tools/call",
                       "params": {"name": tool, "arguments": args}})


def scenario(wasmcap, env, t, tokens, tenancy, mode, k, seconds, settings=None, keep_alive=False):
    srv, port = serve(wasmcap, env, t, tenancy, [], settings)
    shared = open(os.path.join(t, "shared.token")).read().strip()
    stop = threading.Event()
    lock = threading.Lock()
    lat, refused, hostile_done = [], [0], [0]

    def token(name):
        return tokens[name] if tenancy else shared

    def benign(n):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=benign_address(n))
        h = {"Content-Type": "application/json", "Accept": "application/json",
             "Authorization": "Bearer " + token("benign%d" % n)}
        i = 0
        while not stop.is_set():
            i += 1
            t0 = time.perf_counter()
            try:
                c.request("POST", "/mcp", call_body(i, "cat", {"paths": ["notes.txt"]}), h)
                r = c.getresponse()
                data = r.read()
            except OSError:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=benign_address(n))
                continue
            dt = time.perf_counter() - t0
            ok = r.status == 200 and b'"isError":false' in data
            with lock:
                if ok:
                    lat.append((time.perf_counter(), dt))
                else:
                    refused[0] += 1
            if not ok:
                time.sleep(0.01)

    def hostile():
        h = {"Content-Type": "application/json", "Accept": "application/json",
             "Authorization": "Bearer " + token("hostile")}
        i = 0
        c = None
        while not nonlocal_stop[0].is_set():
            i += 1
            try:
                if c is None:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=seconds + 30,
                                                   source_address=("127.0.0.2", 0))
                if mode in BASH_MODES:
                    body = call_body(i, "bash", {"command": BASH_MODES[mode]})
                else:
                    body = call_body(i, mode, {})
                c.request("POST", "/mcp", body, h)
                r = c.getresponse()
                r.read()
                if not keep_alive or r.getheader("Connection", "").lower() == "close":
                    c.close()
                    c = None
                with lock:
                    hostile_done[0] += 1
                if r.status == 429:
                    time.sleep(0.01)
            except (OSError, http.client.HTTPException):
                if c is not None:
                    c.close()
                c = None
                time.sleep(0.01)

    # The hostile client in a process of its own, so its threads do not take the benign
    # clients' interpreter lock (what is measured is the server, not this script).
    def hostile_process(done_counter, cpu, stop_flag):
        local = threading.Event()
        def watch():
            while not stop_flag.is_set():
                time.sleep(0.05)
            local.set()
        threading.Thread(target=watch, daemon=True).start()
        nonlocal_stop[0] = local
        ths = [threading.Thread(target=hostile, daemon=True) for _ in range(k)]
        for th in ths:
            th.start()
        local.wait()
        done_counter.value = hostile_done[0]
        cpu.value = cpu_seconds(os.getpid())

    nonlocal_stop = [stop]
    proc_stop = multiprocessing.Event()
    counter = multiprocessing.Value("i", 0)
    hostile_cpu = multiprocessing.Value("d", 0.0)
    proc = None
    if k:
        proc = multiprocessing.Process(target=hostile_process, args=(counter, hostile_cpu, proc_stop), daemon=True)
        proc.start()
    time.sleep(0.5 if k else 0)  # the hostile calls first: they hold what they can
    server_cpu0 = cpu_seconds(srv.pid)
    start = time.perf_counter()
    bt = [threading.Thread(target=benign, args=(n,), daemon=True) for n in range(8)]
    for th in bt:
        th.start()
    time.sleep(seconds)
    stop.set()
    proc_stop.set()
    end = time.perf_counter()
    rss = peak_rss_mb(srv.pid)
    server_cpu = cpu_seconds(srv.pid) - server_cpu0
    # The hostile principal's part of the calls' CPU (the server's metrics), when it has a name.
    hostile_share = float("nan")
    if tenancy:
        m = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        m.request("GET", "/metrics", headers={"Authorization": "Bearer " + tokens["metrics"]})
        cpu = {}
        for line in m.getresponse().read().decode().splitlines():
            if line.startswith("wasmcap_mcp_principal_cpu_seconds_total{"):
                cpu[line.split('"')[1]] = float(line.rsplit(" ", 1)[1])
        if sum(cpu.values()) > 0:
            hostile_share = cpu.get("hostile", 0.0) / sum(cpu.values())
    srv.terminate()
    srv.wait()
    if proc is not None:
        proc.join(timeout=5)
        if proc.is_alive():
            proc.kill()
        hostile_done[0] = counter.value
    with lock:
        done = [d for (when, d) in lat if start <= when <= end]
    rate = len(done) / (end - start)
    p50 = statistics.median(done) * 1e3 if done else float("nan")
    p99 = sorted(done)[int(len(done) * 0.99) - 1] * 1e3 if len(done) >= 100 else (max(done) * 1e3 if done else float("nan"))
    return (rate, p50, p99, refused[0], hostile_done[0], rss, server_cpu / (end - start),
            hostile_cpu.value / (end - start + 0.5), hostile_share)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--k", default="2,8,32")
    ap.add_argument("--modes", default="spin,grow,flood")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--without-tenancy", action="store_true", help="also run each scenario as before tenancy")
    ap.add_argument("--hostile-keep-alive", action="store_true",
                    help="the hostile client keeps its connections alive (as the benign ones do)")
    ap.add_argument("--also", default="", help="KEY=VALUE: also run each scenario with this mcp.tenancy setting")
    a = ap.parse_args()
    variants = [("tenancy", None)]
    if a.also:
        key, value = a.also.split("=", 1)
        variants.append(("tenancy, " + a.also, {key: json.loads(value)}))
    t = tempfile.mkdtemp()
    try:
        wasmcap, env, tokens = setup(a.build, t)
        print("| server | hostile | K | benign calls/s | benign p50 / p99 ms | benign refused | hostile answered | server peak RSS MB | server CPU | hostile client CPU | hostile share of call CPU |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for tenancy in ([True, False] if a.without_tenancy else [True]):
            rows = [("none", 0)] + [(m, int(k)) for m in a.modes.split(",") for k in a.k.split(",")]
            for mode, k in rows:
                for label, settings in (variants if tenancy else [("one principal, no demotion", None)]):
                    rate, p50, p99, refused, hostile, rss, scpu, hcpu, share = scenario(
                        wasmcap, env, t, tokens, tenancy, mode if k else "spin", k, a.seconds, settings,
                        a.hostile_keep_alive)
                    print("| %s | %s | %d | %.0f | %.1f / %.1f | %d | %d | %.0f | %.2f | %.2f | %.0f%% |" %
                          (label, mode, k, rate, p50, p99, refused, hostile, rss, scpu, hcpu, share * 100), flush=True)
    finally:
        shutil.rmtree(t, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
