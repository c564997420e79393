#!/usr/bin/env python3
"""`wasmcap mcp --listen` under three attacks at once, by unauthenticated peers (docs/security-model.md,
"HTTP request reading"):

  - chunked: POSTs with `Transfer-Encoding: chunked` and a 300 MB body, over and over;
  - header flood: requests of 40,000 header lines of 8 KB, over and over;
  - slowloris: 40 connections that send a request line and one header, then a byte a second,
    reopened as the server closes them;

each from its own loopback address (another peer), while an authenticated client on 127.0.0.1
calls tools/list. Passes when every tools/list is answered (200) within a generous bound and
the server's peak RSS (VmHWM) stays under 100 MB. Prints the measured latencies and RSS.

    http_attacks_test.py WASMCAP [SECONDS [RSS_LIMIT_MB]]

RSS_LIMIT_MB 0 skips the RSS bound (sanitizer builds: their allocator and shadow memory dwarf it).
"""
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

WASMCAP = sys.argv[1]
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 8.0
TOKEN = "attack-test-token"
RSS_LIMIT_KB = int(sys.argv[3] if len(sys.argv) > 3 else 100) * 1024
# The done criterion is 100 ms; the assertion leaves room for a loaded CI machine (the measured
# figures are printed and recorded in bench/notes/2026-11-25-http-under-attack.md).
LATENCY_LIMIT_S = 2.0


def fail(msg):
    print("http_attacks_test: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def connect(port, source):
    s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
    s.settimeout(2)
    return s


stop = threading.Event()
stats = {"chunked_attempts": 0, "chunked_bytes": 0, "flood_attempts": 0, "flood_bytes": 0,
         "slowloris_opened": 0}
lock = threading.Lock()


def send_counted(s, pieces, key):
    """Sends each of `pieces` (bytes) in turn; stops at the first error. Counts the bytes sent."""
    sent = 0
    try:
        for piece in pieces:
            if stop.is_set():
                break
            s.sendall(piece)
            sent += len(piece)
    except OSError:
        pass
    with lock:
        stats[key] += sent
    return sent


def chunked_attacker(port):
    piece = b"x" * (1 << 20)
    chunk = b"%x\r\n" % len(piece) + piece + b"\r\n"
    head = (b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    while not stop.is_set():
        try:
            s = connect(port, "127.0.0.2")
        except OSError:
            time.sleep(0.05)
            continue
        with lock:
            stats["chunked_attempts"] += 1
        send_counted(s, [head] + [chunk] * 300, "chunked_bytes")  # a 300 MB body
        s.close()


def flood_attacker(port):
    lines = (b"X-Flood: " + b"v" * 8192 + b"\r\n") * 100
    head = b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    while not stop.is_set():
        try:
            s = connect(port, "127.0.0.3")
        except OSError:
            time.sleep(0.05)
            continue
        with lock:
            stats["flood_attempts"] += 1
        send_counted(s, [head] + [lines] * 400 + [b"\r\n"], "flood_bytes")  # 40,000 lines
        s.close()


def slowloris(port):
    conns = []
    while not stop.is_set():
        while len(conns) < 40 and not stop.is_set():
            try:
                s = connect(port, "127.0.0.4")
                s.setblocking(False)
                s.send(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-a: ")
                conns.append(s)
                with lock:
                    stats["slowloris_opened"] += 1
            except OSError:
                break
        time.sleep(1)
        alive = []
        for s in conns:
            try:
                s.send(b"b")
                alive.append(s)
            except OSError:
                s.close()
        conns = alive
    for s in conns:
        s.close()


def tools_list(port):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}})
    start = time.monotonic()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=("127.0.0.1", 0))
    try:
        c.request("POST", "/mcp", body, {"Authorization": "Bearer " + TOKEN,
                                         "Content-Type": "application/json"})
        r = c.getresponse()
        status, data = r.status, r.read()
    except OSError as e:  # no answer within 30 s, or the connection refused
        status, data = 0, str(e).encode()
    c.close()
    return status, time.monotonic() - start, data


def main():
    tmp = tempfile.mkdtemp()
    env = dict(os.environ, WASMCAP_HOME=os.path.join(tmp, "home"))
    os.makedirs(env["WASMCAP_HOME"])
    token_file = os.path.join(tmp, "token")
    with open(token_file, "w") as f:
        f.write(TOKEN + "\n")
    server = subprocess.Popen([WASMCAP, "mcp", "--listen", "127.0.0.1:0", "--token-file", token_file],
                              env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        # Notes may come first (with no --config: "serving no tools"); the address line follows.
        seen = ""
        m = None
        for _ in range(10):
            line = server.stderr.readline().decode()
            seen += line
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/mcp", line)
            if m or not line:
                break
        if not m:
            fail("the server did not start: " + seen)
        port = int(m.group(1))
        status, quiet_s, _ = tools_list(port)
        if status != 200:
            fail(f"tools/list before the attacks: HTTP {status}")
        rss_before = status_kb(server.pid, "VmRSS")
        threads = [threading.Thread(target=t, args=(port,), daemon=True)
                   for t in (chunked_attacker, flood_attacker, slowloris)]
        for t in threads:
            t.start()
        time.sleep(1.0)  # the attacks are under way
        latencies, failed = [], None
        end = time.monotonic() + SECONDS
        while time.monotonic() < end and failed is None:
            status, seconds, data = tools_list(port)
            latencies.append(seconds)
            if status != 200 or b'"tools"' not in data:
                failed = f"tools/list under attack: HTTP {status} after {seconds:.1f} s: {data[:200]!r}"
            time.sleep(0.2)
        stop.set()
        for t in threads:
            t.join(timeout=10)
        hwm = status_kb(server.pid, "VmHWM")
        latencies.sort()
        median = latencies[len(latencies) // 2]
        print(f"http_attacks_test: tools/list x{len(latencies)} under attack: median "
              f"{median * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms (quiet: {quiet_s * 1000:.1f} ms); "
              f"server RSS {rss_before // 1024} MB before, peak {hwm // 1024} MB (VmHWM); "
              f"attacks: {stats['chunked_attempts']} chunked POSTs ({stats['chunked_bytes'] >> 20} MiB "
              f"accepted by the kernel), {stats['flood_attempts']} header floods "
              f"({stats['flood_bytes'] >> 20} MiB), {stats['slowloris_opened']} slowloris connections")
        if failed is not None:
            fail(failed)
        if server.poll() is not None:
            fail("the server died")
        if latencies[-1] > LATENCY_LIMIT_S:
            fail(f"tools/list took {latencies[-1]:.2f} s under attack (bound {LATENCY_LIMIT_S} s)")
        if RSS_LIMIT_KB != 0 and hwm > RSS_LIMIT_KB:
            fail(f"server peak RSS {hwm // 1024} MB (bound {RSS_LIMIT_KB // 1024} MB)")
        print("http_attacks_test: ok")
    finally:
        stop.set()
        server.kill()
        server.wait()


main()
