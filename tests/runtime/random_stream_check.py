#!/usr/bin/env python3
"""Checks that `wasmcap run --random seed=N` is the stream docs/wasi-support.md documents, with an
independent ChaCha20 (written here from the spec, not libsodium), and the CLI side of clocks and
random: --clock fixed=..., pins that only narrow, bad specs, and `wasmcap plan` showing them.

usage: random_stream_check.py WASMCAP_CLI GUEST_DIR
"""
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile

CLI, GUEST_DIR = sys.argv[1], sys.argv[2]
GUEST = os.path.abspath(os.path.join(GUEST_DIR, "time_random.wasm"))
EPOCH_2026_NS = 1767225600 * 10**9
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def rotl(v, n):
    return ((v << n) & 0xFFFFFFFF) | (v >> (32 - n))


def chacha20_block(key, counter, nonce8):
    """The original ChaCha20 block (64-bit counter in words 12-13, 64-bit nonce in 14-15)."""
    const = b"expand 32-byte k"
    state = list(struct.unpack("<4I", const)) + list(struct.unpack("<8I", key)) + \
        [counter & 0xFFFFFFFF, counter >> 32] + list(struct.unpack("<2I", nonce8))
    x = state[:]

    def qr(a, b, c, d):
        x[a] = (x[a] + x[b]) & 0xFFFFFFFF; x[d] = rotl(x[d] ^ x[a], 16)
        x[c] = (x[c] + x[d]) & 0xFFFFFFFF; x[b] = rotl(x[b] ^ x[c], 12)
        x[a] = (x[a] + x[b]) & 0xFFFFFFFF; x[d] = rotl(x[d] ^ x[a], 8)
        x[c] = (x[c] + x[d]) & 0xFFFFFFFF; x[b] = rotl(x[b] ^ x[c], 7)

    for _ in range(10):
        qr(0, 4, 8, 12); qr(1, 5, 9, 13); qr(2, 6, 10, 14); qr(3, 7, 11, 15)
        qr(0, 5, 10, 15); qr(1, 6, 11, 12); qr(2, 7, 8, 13); qr(3, 4, 9, 14)
    return struct.pack("<16I", *[(x[i] + state[i]) & 0xFFFFFFFF for i in range(16)])


def documented_stream(seed, n):
    key = hashlib.sha256(b"wasmcap-random-v1:" + str(seed).encode()).digest()
    out = b""
    block = 0
    while len(out) < n:
        out += chacha20_block(key, block, b"\0" * 8)
        block += 1
    return out[:n]


# The implementation itself: RFC 7539 section 2.3.2's test vector uses a 96-bit nonce; the
# 64-bit-nonce layout differs only in how words 12-15 are filled, so check the core rounds on
# the RFC's block (counter 1, nonce 00:00:00:09:00:00:00:4a:00:00:00:00 spread over words 13-15).
rfc_key = bytes(range(32))
st_counter = 1 | (0x09000000 << 32)  # words 12 = 1, 13 = 0x09000000
rfc = chacha20_block(rfc_key, st_counter, bytes.fromhex("0000004a00000000"))
check(rfc.hex().startswith("10f1e7e4d13b5915500fdd1fa32071c4"), "ChaCha20 core matches RFC 7539 2.3.2")


def run(args, **kw):
    return subprocess.run([CLI] + args, capture_output=True, text=True, timeout=120, **kw)


def kv_lines(text):
    return [line.split("=", 1) for line in text.splitlines() if "=" in line]


# (The same bytes on every engine: tests/runtime/determinism_test.cc.)
outs = {}
for engine in ("interp",):
    r = run(["run", "--engine", engine, "--clock", "fixed=2026-01-01T00:00:00Z", "--random",
             "seed=42", GUEST])
    check(r.returncode == 0, f"{engine}: pinned run exits 0 ({r.returncode}: {r.stderr})")
    outs[engine] = r.stdout
kv = dict(kv_lines(outs["interp"]))
stream = bytes.fromhex(kv.get("random32", "") + kv.get("random100", "") + kv.get("random200", ""))
check(len(stream) == 332, f"332 random bytes printed ({len(stream)})")
check(stream == documented_stream(42, 332), "random_get bytes are the documented ChaCha20 stream")
check(documented_stream(43, 32) != stream[:32], "another seed, another stream")
check(kv_lines(outs["interp"])[1] == ["realtime", str(EPOCH_2026_NS)],
      "the first wall-clock read is the pinned instant")

# Unpinned: the host's clock and random differ from the pinned run.
r = run(["run", GUEST])
check(dict(kv_lines(r.stdout)).get("random32") != kv["random32"], "unpinned random differs")

# --clock deny / --random deny: ENOTCAPABLE (76).
r = run(["run", "--clock", "deny", "--random", "deny", GUEST])
d = dict(kv_lines(r.stdout))
check(d.get("realtime_errno") == "76" and d.get("random32_errno") == "76",
      f"--clock deny / --random deny give ENOTCAPABLE: {r.stdout}")

# Bad specs: invalid_argument (exit 64), nothing runs.
for flag, spec in (("--clock", "fixed=2026-02-30T00:00:00Z"), ("--clock", "now"),
                   ("--random", "seed=01"), ("--random", "seed=-1")):
    r = run(["run", flag, spec, GUEST])
    check(r.returncode == 64 and "invalid_argument" in r.stderr and r.stdout == "",
          f"{flag} {spec}: refused with invalid_argument ({r.returncode}: {r.stderr.strip()})")

with tempfile.TemporaryDirectory() as tmp:
    def write(name, obj):
        p = os.path.join(tmp, name)
        with open(p, "w") as f:
            json.dump(obj, f)
        return p
    os.symlink(GUEST, os.path.join(tmp, "time_random.wasm"))
    bare = write("bare.json", {"name": "p", "version": "1.0.0", "module": "time_random.wasm"})
    asks = write("asks.json", {"name": "p", "version": "1.0.0", "module": "time_random.wasm",
                               "permissions": {"clocks": ["wall", "monotonic"], "random": True}})
    cfg = write("config.json", {"plugins": {"p": {"grants": {
        "clocks": "fixed=2030-06-01T12:00:00Z,step=1ms", "random": "seed=7"}}}})
    # A manifest that requests nothing: --clock/--random cannot turn clocks or random on.
    r = run(["run", "--manifest", bare, "--config", cfg, "--clock", "fixed=2026-01-01T00:00:00Z",
             "--random", "seed=1"])
    d = dict(kv_lines(r.stdout))
    check(d.get("realtime_errno") == "76" and d.get("random32_errno") == "76",
          f"pins do not widen an unrequested grant: {r.stdout} {r.stderr}")
    # The operator's pin, then a run-level pin replacing it.
    r = run(["run", "--manifest", asks, "--config", cfg])
    first = kv_lines(r.stdout)
    check(["realtime", str(1906545600 * 10**9)] in first, f"the host config's fixed clock: {r.stdout}")
    check(dict(first).get("random32") == documented_stream(7, 32).hex(), "the host config's seed")
    r = run(["run", "--manifest", asks, "--config", cfg, "--random", "seed=42", "--audit-stderr"])
    check(dict(kv_lines(r.stdout)).get("random32") == stream[:32].hex(), "--random replaces the seed")
    # The run_start audit record names what was served, after the pin (enough to replay).
    starts = [json.loads(l) for l in r.stderr.splitlines() if l.startswith("{") and "run_start" in l]
    check(len(starts) == 1 and starts[0].get("random") == "seed=42" and
          starts[0].get("clocks") == {"wall": True, "monotonic": True,
                                      "source": "fixed=2030-06-01T12:00:00Z,step=1ms"},
          f"run_start records the effective clocks and random: {r.stderr}")
    # wasmcap plan shows the clocks and random of the plan.
    r = run(["plan", "--manifest", asks, "--config", cfg])
    check(r.returncode == 0, f"plan ok: {r.stdout} {r.stderr}")
    check("clocks  wall, monotonic from fixed=2030-06-01T12:00:00Z,step=1ms (pinned)" in r.stdout,
          f"plan shows the clock: {r.stdout}")
    check("random  seed=7 (pinned: ChaCha20 stream)" in r.stdout, "plan shows the seed")
    deny = write("deny.json", {"plugins": {"p": {"grants": {"clocks": "deny"}}}})
    r = run(["plan", "--manifest", asks, "--config", deny])
    check(r.returncode == 77 and "clocks wall,monotonic: requested, not granted" in r.stdout,
          f"plan names the denial: {r.returncode} {r.stdout}")
    r = run(["run", "--manifest", asks, "--config", deny])
    check(r.returncode == 77, f"a denied clock refuses the run ({r.returncode})")

print("random_stream_check:", "FAILED" if failures else "ok", f"({len(failures)} failures)")
sys.exit(1 if failures else 0)
