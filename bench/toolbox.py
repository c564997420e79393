#!/usr/bin/env python3
"""The agent's toolbox against GNU (issue #31, "Performance"): the same command on the same
input under `wasmcap sh` (interp and aot) and under `bash -c` with Debian's GNU tools, in one
run, interleaved. Standard library only.

Workloads (generated, deterministic; --scale multiplies the sizes):
  sort     sort of 1,000,000 lines (30 MB) into a file           coreutils
  grep     grep -rn over a tree of 10,000 files (100 lines each)   toolbox (GNU grep)
  awk      awk field sum over 1,000,000 lines                    toolbox (mawk)
  diff     diff -u of two 10 MB files (800,000 lines)            toolbox (GNU diffutils)
  jq       jq over a 10 MB JSON array                            toolbox (jq 1.6)
  git      git status on a 5,000-file repository (1 change)      git bundle (libgit2)

Each workload runs `wasmcap sh --engine E --dir TREE::/work -c CMD` and `bash -c CMD` (cwd TREE,
LC_ALL=C) --reps times, the runtimes interleaved (rep 1 of each, then rep 2, ...): a new process
per command. With --mode session (or both), also `(CMD)` in one live shell per runtime (`wasmcap
sh` and `bash` reading commands from a pipe, as an agent harness or the MCP `bash` tool holds a
shell; bench/shell_transcript.py's driver), where the shell's start and its command table are
paid once; CPU there is the shell process's own and its children's (/proc, in clock ticks). The AOT engine
is warmed first (one untimed run per bundle module fills the cache), at the product's default
optimisation level (--aot-opt, `WASMCAP_AOT_OPT`, 2; the toolbox module takes minutes of CPU to
compile at it), into a cache directory of the run's own unless --cache-dir names one to reuse;
the bundles are installed --settle-s (2.5) seconds before the first run, as bundles installed
long before are (a module changed within 2 s is hashed by every process that checks it:
docs/bundles.md, "Verification of installed bundles"). Reported: median wall
seconds and median CPU seconds (user + system of the process tree, steadier than the wall time
on a loaded machine) per runtime, their ratios to GNU, and whether stdout and the status agreed
with GNU's (a wrong answer is flagged, not hidden). A bundle that is not built is "n/a".

  python3 bench/toolbox.py [--build-dir build] [--reps 3] [--only sort,grep] [--scale 1.0]
                           [--mode process|session|both] [--json out.json]
                           [--aot-opt 2] [--cache-dir DIR] [--settle-s 2.5]
"""

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GNU_ENV = {"LC_ALL": "C", "TZ": "UTC", "PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}

# name -> (bundle file, command). Output goes to a file or a count so that the terminal is
# never the bottleneck; the command's stdout is compared with GNU's.
WORKLOADS = {
    "sort": ("coreutils.wcb", "sort lines.txt -o sorted.txt && wc -c < sorted.txt && md5sum < sorted.txt"),
    "grep": ("toolbox.wcb", "grep -rn needle tree | sort | md5sum"),
    "awk": ("toolbox.wcb", "awk '{s += $2} END {print s}' fields.txt"),
    "diff": ("toolbox.wcb", "diff -u a.txt b.txt > d.txt; echo $?; wc -l < d.txt"),
    "jq": ("toolbox.wcb", "jq '[.[] | select(.ok) | .v] | add' data.json"),
    "git": ("git.wcb", "cd repo && git status --porcelain"),
}


def gen(root, only, scale):
    rnd = random.Random(31)
    n = lambda k: max(1, int(k * scale))
    if "sort" in only:
        words = ["alpha", "beta", "gamma", "delta", "Epsilon", "zeta", "eta", "theta"]
        with open(os.path.join(root, "lines.txt"), "w") as f:
            for i in range(n(1000000)):
                f.write("%s %08d %s\n" % (rnd.choice(words), rnd.randrange(10 ** 8), rnd.choice(words)))
    if "grep" in only:  # the 10k-file tree
        for d in range(n(100)):
            os.makedirs(os.path.join(root, "tree", "d%02d" % d))
            for k in range(100):
                with open(os.path.join(root, "tree", "d%02d" % d, "f%03d.txt" % k), "w") as f:
                    for i in range(100):
                        f.write("line %d of file %d%s\n" % (i, k, " needle" if rnd.random() < 0.01 else ""))
    if "awk" in only:
        with open(os.path.join(root, "fields.txt"), "w") as f:
            for i in range(n(1000000)):
                f.write("k%d %d %d\n" % (i % 97, rnd.randrange(1000), i))
    if "diff" in only:
        a = ["line %d %s\n" % (i, rnd.choice(["x", "y", "z"])) for i in range(n(800000))]  # 10 MB
        b = list(a)
        for _ in range(max(1, n(800000) // 100)):
            b[rnd.randrange(len(b))] = "changed %d\n" % rnd.randrange(10 ** 6)
        with open(os.path.join(root, "a.txt"), "w") as f:
            f.writelines(a)
        with open(os.path.join(root, "b.txt"), "w") as f:
            f.writelines(b)
    if "jq" in only:
        items = []
        size = 0
        while size < 10 * 1000 * 1000 * scale:
            s = json.dumps({"id": len(items), "name": "item%d" % len(items), "ok": rnd.random() < 0.5,
                            "v": rnd.randrange(1000), "tags": ["a", "b", "c"][: rnd.randrange(4)]})
            items.append(s)
            size += len(s) + 1
        with open(os.path.join(root, "data.json"), "w") as f:
            f.write("[\n" + ",\n".join(items) + "\n]\n")
    if "git" in only and shutil.which("git"):
        repo = os.path.join(root, "repo")
        for d in range(n(50)):
            os.makedirs(os.path.join(repo, "d%02d" % d))
            for k in range(100):
                with open(os.path.join(repo, "d%02d" % d, "f%03d.txt" % k), "w") as f:
                    f.write("file %d %d\n" % (d, k))
        env = dict(GNU_ENV, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@x", GIT_COMMITTER_NAME="b",
                   GIT_COMMITTER_EMAIL="b@x")
        for cmd in (["init", "-q"], ["add", "."], ["commit", "-qm", "init"]):
            subprocess.run(["git"] + cmd, cwd=repo, env=env, check=True, capture_output=True)
        with open(os.path.join(repo, "d00", "f000.txt"), "a") as f:
            f.write("changed\n")


def install(wasmcap, bundles, home, names):
    os.makedirs(os.path.join(home, "trust"), exist_ok=True)
    shutil.copy(os.path.join(bundles, "wasmcap-test.pub"), os.path.join(home, "trust"))
    env = dict(os.environ, WASMCAP_HOME=home)
    have = set()
    for b in names:
        path = os.path.join(bundles, b)
        if os.path.exists(path) and subprocess.run([wasmcap, "bundle", "install", path], env=env,
                                                   capture_output=True).returncode == 0:
            have.add(b)
    return env, have


def timed(cmd, **kw):
    """Wall seconds, CPU seconds (user + system of the process tree) and the result."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL, **kw)
    wall = time.monotonic() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), p


def shell_cpu_ms(pid):
    """CPU ms of process `pid` and its waited-for children (utime, stime, cutime, cstime)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) * 1000.0 / os.sysconf("SC_CLK_TCK")


def session_row(w, cmd, tree, wasmcap, env, engines, reps):
    """--mode session: CMD in one live shell per runtime, --reps times interleaved."""
    sys.path.insert(0, HERE)
    from shell_transcript import LiveShell  # the transcript benchmark's live-shell driver
    runtimes = ["gnu"] + engines
    shells = {"gnu": LiveShell(["bash"], tree, GNU_ENV)}
    for e in engines:
        shells[e] = LiveShell([wasmcap, "sh", "--engine", e, "--timeout-ms", "0", "--dir", tree + "::/work",
                               "--cwd", "/work"], tree, env)
    times = {r: [] for r in runtimes}
    cpus = {r: [] for r in runtimes}
    outs = {}
    try:
        for r in runtimes:
            shells[r].run("true")
            shells[r].run("(" + cmd + ") >/dev/null 2>&1")  # untimed: caches warm
        for _ in range(reps):
            for r in runtimes:
                c0 = shell_cpu_ms(shells[r].p.pid)
                ms, out, status = shells[r].run("(" + cmd + ")")
                cpus[r].append(shell_cpu_ms(shells[r].p.pid) - c0)
                times[r].append(ms / 1000.0)
                outs[r] = (status, out)
    finally:
        for sh in shells.values():
            sh.close()
    row = {}
    for r in runtimes:
        med = statistics.median(times[r])
        cpu = statistics.median(cpus[r]) / 1000.0
        row[r] = {"median_s": round(med, 4), "ratio": round(med / statistics.median(times["gnu"]), 2),
                  "cpu_s": round(cpu, 3),
                  "cpu_ratio": round(cpu / max(statistics.median(cpus["gnu"]) / 1000.0, 1e-3), 2),
                  "agrees": outs[r] == outs["gnu"]}
        if not row[r]["agrees"]:
            row[r]["output"] = repr(outs[r])[:400]
    print("%-5s session " % w + "  ".join(
        "%s %.3f s (x%.2f; cpu %.2f s x%.2f)%s" % (
            r, row[r]["median_s"], row[r]["ratio"], row[r]["cpu_s"], row[r]["cpu_ratio"],
            "" if row[r]["agrees"] else " DIFFERS") for r in runtimes))
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", default=",".join(WORKLOADS))
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--engines", default="interp,aot")
    ap.add_argument("--mode", choices=("process", "session", "both"), default="process")
    ap.add_argument("--json")
    ap.add_argument("--aot-opt", type=int, choices=range(4), default=2,
                    help="WASMCAP_AOT_OPT of the aot runs (default 2, the product's default)")
    ap.add_argument("--cache-dir", help="AOT cache directory to use and keep (default: a new one)")
    ap.add_argument("--settle-s", type=float, default=2.5,
                    help="seconds between installing the bundles and the first run")
    a = ap.parse_args()
    only = [w for w in a.only.split(",") if w]
    engines = [e for e in a.engines.split(",") if e]
    wasmcap = os.path.join(a.build_dir, "bin", "wasmcap")
    bundles = os.path.join(a.build_dir, "bundles")
    tmp = tempfile.mkdtemp(prefix="wasmcap-bench-toolbox-")
    try:
        tree = os.path.join(tmp, "tree")
        os.makedirs(tree)
        t0 = time.monotonic()
        gen(tree, only, a.scale)
        print("inputs generated in %.1f s" % (time.monotonic() - t0))
        env, have = install(wasmcap, bundles, os.path.join(tmp, "home"),
                            sorted({WORKLOADS[w][0] for w in only} | {"coreutils.wcb"}))  # wc, sort, md5sum
        env["WASMCAP_CACHE_DIR"] = a.cache_dir or os.path.join(tmp, "aot-cache")
        env["WASMCAP_AOT_OPT"] = str(a.aot_opt)
        time.sleep(a.settle_s)
        results = {}
        for w in only:
            bundle, cmd = WORKLOADS[w]
            if bundle not in have:
                results[w] = {"n/a": "%s not built" % bundle}
                print("%-5s n/a (%s not built)" % (w, bundle))
                continue
            runtimes = ["gnu"] + engines
            times = {r: [] for r in runtimes}
            cpus = {r: [] for r in runtimes}
            outs = {}

            def run(r):
                if r == "gnu":
                    return timed(["bash", "-c", cmd], cwd=tree, env=GNU_ENV, timeout=3600)
                return timed([wasmcap, "sh", "--engine", r, "--timeout-ms", "0", "--dir",
                              tree + "::/work", "-c", cmd], env=env, timeout=3600)
            if "aot" in engines:  # compile the bundle's module into the cache, untimed
                t, _, p = run("aot")
                print("%-5s aot warm-up (compile + run) %.1f s" % (w, t))
            if a.mode != "process":
                session = session_row(w, cmd, tree, wasmcap, env, engines, a.reps)
                if a.mode == "session":
                    results[w] = {"session": session}
                    continue
            for _ in range(a.reps):
                for r in runtimes:
                    t, c, p = run(r)
                    times[r].append(t)
                    cpus[r].append(c)
                    outs[r] = (p.returncode, p.stdout, p.stderr[-300:])
            row = {}
            for r in runtimes:
                med = statistics.median(times[r])
                cpu = statistics.median(cpus[r])
                row[r] = {"median_s": round(med, 3), "runs_s": [round(t, 3) for t in times[r]],
                          "ratio": round(med / statistics.median(times["gnu"]), 2),
                          "cpu_s": round(cpu, 3),
                          "cpu_ratio": round(cpu / max(statistics.median(cpus["gnu"]), 1e-3), 2),
                          "agrees": outs[r][:2] == outs["gnu"][:2]}
                if not row[r]["agrees"]:
                    row[r]["output"] = repr(outs[r])[:400]
            if a.mode == "both":
                row["session"] = session
            results[w] = row
            print("%-5s " % w + "  ".join(
                "%s %.2f s (x%.2f; cpu %.2f s x%.2f)%s" % (
                    r, row[r]["median_s"], row[r]["ratio"], row[r]["cpu_s"], row[r]["cpu_ratio"],
                    "" if row[r]["agrees"] else " DIFFERS") for r in runtimes))
            for r in runtimes:
                if not row[r]["agrees"]:
                    print("      %s output: %s\n      gnu output: %s" % (r, row[r]["output"], repr(outs["gnu"])[:400]))
        load = os.getloadavg()
        out = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "reps": a.reps,
               "scale": a.scale, "aot_opt": a.aot_opt, "loadavg": load, "results": results}
        print("load average at the end: %.1f %.1f %.1f" % load)
        if a.json:
            with open(a.json, "w") as f:
                json.dump(out, f, indent=1)
        def disagrees(row):
            return any(isinstance(v, dict) and (not v.get("agrees", True) or (k == "session" and disagrees(v)))
                       for k, v in row.items())
        return 1 if any(isinstance(r, dict) and disagrees(r) for r in results.values()) else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
