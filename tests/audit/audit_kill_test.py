#!/usr/bin/env python3
"""Record or refuse under kills (#37): `wasmcap sh`, `wasmcap run NAME`, `wasmcap tool call` and
`wasmcap mcp` (stdio) are killed at random moments within their measured duration (SIGKILL;
every fourth a SIGINT, as a Ctrl-C), KILLS times each, each writing to an audit file. After
every kill:

  - every file or directory the command made has its start record (shell_command_start /
    run_start / tool_call_start) in the audit file: no work without its record;
  - every MCP answer the client received has its tool_call record: answered only once recorded;
  - the audit file holds whole JSON lines, but for at most one torn last line (the killed
    record), and the next command's records start on a line of their own.

    audit_kill_test.py WASMCAP BUILD_DIR [KILLS]
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

WASMCAP = sys.argv[1]
BUILD = sys.argv[2]
KILLS = int(sys.argv[3]) if len(sys.argv) > 3 else 25
COMMANDS = 12  # work items per run: mkdir calls (tool call, MCP)
SH_COMMANDS = 400  # redirections per sh script (builtins are fast: kills must land mid-script)


def fail(msg):
    print("audit_kill_test: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def records(path):
    """The audit file's records and how many lines are torn (not one JSON record). A torn line
    is a record a kill cut short; no two records are ever glued together."""
    if not os.path.exists(path):
        return [], 0
    text = open(path, encoding="utf-8", errors="replace").read()
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out, torn = [], 0
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            if "}{" in line:
                fail("glued records: %r" % line[:200])
            torn += 1
    return out, torn


def kill_at(args, delay_s, sig, env, stdin_data=None):
    p = subprocess.Popen(args, env=env, stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    if stdin_data is not None:
        p.stdin.write(stdin_data)
        p.stdin.flush()
    time.sleep(delay_s)
    p.send_signal(sig)
    out = p.stdout.read()
    p.wait()
    if p.stdin:
        p.stdin.close()
    return p.returncode, out


def timed(fn, prepare=lambda: None):
    """The fastest of three uninterrupted runs (the first may pay for cold caches; on a loaded
    machine a slow one would put most signals after the end)."""
    times = []
    for _ in range(3):
        prepare()
        t = time.monotonic()
        fn()
        times.append(time.monotonic() - t)
    return min(times)


def check_after_kill(audit, run_once):
    """At most one torn line (the one killed process's record); the next command's records are
    whole lines of their own, the torn one ended before them."""
    before, torn = records(audit)
    if torn > 1:
        fail("%d torn lines after one kill" % torn)
    run_once()
    after, torn_after = records(audit)
    if torn_after != torn:
        fail("the record after a torn line is glued to it or torn itself")
    if len(after) <= len(before):
        fail("the next command wrote no record")
    with open(audit, "rb") as f:
        last = f.read().split(b"\n")[-2]
    json.loads(last)


def fresh_work(work, audit):
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    if os.path.exists(audit):
        os.unlink(audit)


def kill_loop(label, rng, args, env, work, audit, wall, check, next_cmd, stdin_data=None):
    """KILLS runs of `args`, each signalled at a random moment within `wall` seconds, each from an
    empty WORK and AUDIT; `check(records, made, stdout, sig)` then judges what the run left, and
    `next_cmd` must write whole records after it. Returns how many runs the signal ended."""
    killed = 0
    for k in range(KILLS):
        fresh_work(work, audit)
        sig = signal.SIGINT if k % 4 == 3 else signal.SIGKILL
        rc, out = kill_at(args, rng.uniform(0, wall), sig, env, stdin_data)
        killed += rc < 0
        recs, _ = records(audit)
        check(recs, sorted(os.listdir(work)), out, sig)
        check_after_kill(audit, lambda: subprocess.run(next_cmd, env=env, check=True, stdout=subprocess.DEVNULL))
    print("%s: %d runs, %d ended by the signal, ~%.0f ms each" % (label, KILLS, killed, wall * 1000))


def shell_case(tmp, rng):
    """Each command's shell_command_start record comes before its redirection makes a file."""
    env = dict(os.environ, WASMCAP_HOME=os.path.join(tmp, "home"))
    work, audit = os.path.join(tmp, "work"), os.path.join(tmp, "audit.jsonl")
    script = "; ".join("echo %d > f%d" % (i, i) for i in range(SH_COMMANDS))
    sh = [WASMCAP, "sh", "--dir", work + "::/work", "--audit-file", audit, "-c"]
    args = sh + ["cd /work; " + script]
    wall = timed(lambda: subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL),
                 lambda: fresh_work(work, audit))
    if sorted(os.listdir(work)) != sorted("f%d" % i for i in range(SH_COMMANDS)):
        fail("sh did not make its files: %s" % os.listdir(work))
    partial = [0]

    def check(recs, made, _out, sig):
        started = {tuple(r.get("argv", [])) for r in recs if r.get("event") == "shell_command_start"}
        partial[0] += 0 < len(made) < SH_COMMANDS
        for name in made:
            if ("echo", name[1:]) not in started:
                fail("sh: %s was made without its shell_command_start record (signal %d)" % (name, sig))

    kill_loop("sh", rng, args, env, work, audit, wall, check, sh + ["echo next > /work/next"])
    print("sh: %d of the runs stopped part-way through the script" % partial[0])


def coreutils_home(tmp):
    """A home with the core-utils bundle installed and a config granting WORK, audited to AUDIT."""
    home, work, audit = os.path.join(tmp, "home"), os.path.join(tmp, "work"), os.path.join(tmp, "audit.jsonl")
    os.makedirs(os.path.join(home, "trust"), exist_ok=True)
    shutil.copy(os.path.join(BUILD, "bundles", "wasmcap-test.pub"), os.path.join(home, "trust"))
    env = dict(os.environ, WASMCAP_HOME=home)
    subprocess.run([WASMCAP, "bundle", "install", os.path.join(BUILD, "bundles", "coreutils.wcb")], env=env,
                   check=True, stdout=subprocess.DEVNULL)
    config = os.path.join(tmp, "config.json")
    with open(config, "w") as f:
        json.dump({"plugins": {"coreutils": {"grants": {"fs": [{"guest": "/work", "host": work, "access": "rw"}]}}},
                   "audit": {"file": audit}}, f)
    return env, work, audit, config


def one_shot_case(label, tmp, rng, make_args, start_event):
    """A command that runs one plugin (`run NAME`, `tool call`): its start record comes before
    the guest makes anything. make_args(config, paths) -> argv."""
    env, work, audit, config = coreutils_home(tmp)
    args = make_args(config, ["/work/d%d" % i for i in range(COMMANDS)])
    wall = timed(lambda: subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL),
                 lambda: fresh_work(work, audit))

    def check(recs, made, _out, sig):
        if made and not any(r.get("event") == start_event for r in recs):
            fail("%s: %s made without a %s record (signal %d)" % (label, made, start_event, sig))

    kill_loop(label, rng, args, env, work, audit, wall, check, make_args(config, ["/work/next"]))


def run_case(tmp, rng):
    one_shot_case("run", tmp, rng, lambda config, paths: [WASMCAP, "run", "--config", config, "coreutils",
                                                          "mkdir"] + paths, "run_start")


def tool_call_case(tmp, rng):
    one_shot_case("tool call", tmp, rng,
                  lambda config, paths: [WASMCAP, "tool", "call", "mkdir", "--config", config, "--json",
                                         json.dumps({"paths": paths})], "tool_call_start")


def request_id_of(r):
    rid = r.get("request_id")
    return None if rid is None else str(rid).strip('"')


def mcp_case(tmp, rng):
    """Each call's tool_call_start comes before it makes anything, its tool_call before its answer."""
    env, work, audit, config = coreutils_home(tmp)
    msgs = [{"jsonrpc": "2.0", "id": "init", "method": "initialize",
             "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                        "clientInfo": {"name": "audit-kill-test", "version": "1"}}},
            {"jsonrpc": "2.0", "method": "notifications/initialized"}]
    for i in range(COMMANDS):
        msgs.append({"jsonrpc": "2.0", "id": "c%d" % i, "method": "tools/call",
                     "params": {"name": "mkdir", "arguments": {"paths": ["/work/d%d" % i]}}})
    stdin = "".join(json.dumps(m) + "\n" for m in msgs).encode()
    args = [WASMCAP, "mcp", "--config", config]

    def answered(out):
        ids = set()
        for line in out.decode(errors="replace").split("\n"):
            try:
                m = json.loads(line)
            except ValueError:
                continue
            if str(m.get("id", "")).startswith("c") and "result" in m:
                ids.add(m["id"])
        return ids

    # The uninterrupted server's time to answer every call (it serves until stdin closes).
    fresh_work(work, audit)
    t = time.monotonic()
    p = subprocess.Popen(args, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    p.stdin.write(stdin)
    p.stdin.flush()
    seen = b""
    while len(answered(seen)) < COMMANDS:
        chunk = p.stdout.readline()
        if not chunk:
            break
        seen += chunk
    wall = time.monotonic() - t
    p.stdin.close()
    p.wait()
    if len(answered(seen)) != COMMANDS:
        fail("mcp: the uninterrupted server answered %d of %d calls" % (len(answered(seen)), COMMANDS))

    def check(recs, made, out, sig):
        started = {request_id_of(r) for r in recs if r.get("event") == "tool_call_start"}
        ended = {request_id_of(r) for r in recs if r.get("event") == "tool_call"}
        for name in made:
            if "c" + name[1:] not in started:
                fail("mcp: %s was made without its call's tool_call_start record (signal %d)" % (name, sig))
        for rid in answered(out):
            if rid not in ended:
                fail("mcp: call %s was answered without its tool_call record (signal %d)" % (rid, sig))

    kill_loop("mcp", rng, args, env, work, audit, wall, check,
              [WASMCAP, "tool", "call", "mkdir", "--config", config, "--json", '{"paths": ["/work/next"]}'],
              stdin_data=stdin)


def main():
    rng = random.Random(37)
    for case in (shell_case, run_case, tool_call_case, mcp_case):
        tmp = tempfile.mkdtemp(prefix="wasmcap-audit-kill-")
        try:
            case(tmp, rng)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    print("audit_kill_test: ok")


if __name__ == "__main__":
    main()
