#!/usr/bin/env python3
"""A 30-command agent transcript on `wasmcap sh` against bash with GNU tools (docs/shell.md,
"Performance"). Standard library only.

What an agent does in a session: look around, write files with here-documents, search, edit
with sed, count and sort, compare. Each command runs as its own process, as an agent's tool call
does: `wasmcap sh --dir TREE::/work -c CMD` (interp and aot) against `bash -c CMD` in a copy of
the same tree (LC_ALL=C, GNU tools from /usr/bin). Each round runs the whole transcript once per
shell, the shells interleaved command by command (load drift on a shared machine hits all of
them alike), each in a fresh copy of the tree. Reported: the transcript's total wall time per
shell (median of --rounds), per-command medians, and the overhead of four kinds of command over
bash's (a `true`, an `echo`, a one-stage tool, a 5-stage pipeline), and the CPU time (user +
system) of each shell's processes, which a loaded machine disturbs less than the wall time. Every command's stdout and
exit status must agree with bash's (its tree's path read as /work), or the run stops: a fast wrong answer is not measured.

With --mode session (or both, the default), the same transcript through one long-lived shell per
shell and round, as an agent harness holding a shell (or the MCP `bash` tool's session) runs
it: `wasmcap sh --dir TREE::/work` and `bash`, each reading the commands from a pipe it is fed
one command at a time; after each command a marker line (`printf` of a fixed word and `$?`)
ends its output; the time is from writing the command to reading its marker (wall only: the
processes live on).

  python3 bench/shell_transcript.py [--build-dir build] [--rounds 5] [--mode process|session|both]
                                    [--json out.json]
"""

import argparse
import json
import os
import resource
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# (kind, command). Kinds other than "" are the per-kind overheads reported.
TRANSCRIPT = [
    ("true", "true"),
    ("echo", "echo hello"),
    ("", "pwd"),
    ("", "ls"),
    ("", "ls -a src"),
    ("tool", "cat README.md"),
    ("", "wc -l src/*.py"),
    ("", "cat > src/util.py <<'EOF'\ndef add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\nEOF"),
    ("", "grep -n 'def ' src/*.py"),
    ("", "grep -rl TODO . | sort"),
    ("", "sed -i 's/return a + b/return b + a/' src/util.py && cat src/util.py"),
    ("", "head -n 3 src/app.py"),
    ("", "tail -n 2 notes.txt"),
    ("", "mkdir -p build/out && touch build/out/a.o && ls build/out"),
    ("", "find . -name '*.py' | sort"),
    ("pipeline", "cat notes.txt | tr 'a-z' 'A-Z' | sort | uniq -c | sort -rn"),
    ("", "for f in src/*.py; do echo \"$f: $(wc -l < \"$f\")\"; done"),
    ("", "if [ -d src ]; then echo yes; else echo no; fi"),
    ("", "export NAME=agent; echo \"hi $NAME\""),
    ("", "cp notes.txt notes.bak && diff notes.txt notes.bak && echo same"),
    ("", "echo 'extra line' >> notes.txt; diff notes.bak notes.txt; echo status=$?"),
    ("", "cut -d, -f2 data.csv | sort -n | tail -n 1"),
    ("", "awk -F, '{s += $2} END {print s}' data.csv"),
    ("", "sort -t, -k2 -n data.csv | head -n 2"),
    ("", "grep -c , data.csv"),
    ("", "seq 1 20 | paste -sd+"),
    ("", "x=$(grep -c def src/app.py); echo \"defs: $x\""),
    ("", "rm -r build && ls"),
    ("", "basename src/app.py .py; dirname src/app.py"),
    ("", "printf '%s\\n' b a c | sort | head -n 1"),
]

FILES = {
    "README.md": "# demo\n\nA small project an agent works on.\nTODO: write docs\n",
    "notes.txt": "alpha\nbeta\ngamma\nalpha\nbeta\nalpha\n",
    "data.csv": "a,3\nb,10\nc,7\nd,1\n",
    "src/app.py": "import util\n\n\ndef main():\n    # TODO: args\n    print(util.add(1, 2))\n\n\ndef helper():\n    pass\n",
    "src/cli.py": "def run():\n    return 0\n",
}


def make_tree(root):
    for rel, text in FILES.items():
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)


def timed(argv, cwd, env):
    """Wall ms and the process's result; timed.cpu: its CPU ms (user + system, with its
    children), which a loaded machine disturbs less than the wall time."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ms = (time.perf_counter() - t0) * 1000.0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    timed.cpu = ((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)) * 1000.0
    return ms, p


MARKER = b"__transcript_marker__"


class LiveShell:
    """A shell reading commands from a pipe: run(cmd) writes the command and a marker line, and
    returns (wall ms, stdout before the marker, the command's status)."""

    def __init__(self, argv, cwd, env):
        self.err = tempfile.TemporaryFile()
        self.p = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=self.err)
        self.buf = b""

    def run(self, cmd):
        line = cmd.encode() + b"\nprintf '\\n%s %s\\n' " + MARKER + b" \"$?\"\n"
        t0 = time.perf_counter()
        self.p.stdin.write(line)
        self.p.stdin.flush()
        fd = self.p.stdout.fileno()
        while True:
            k = self.buf.find(b"\n" + MARKER + b" ")
            if k >= 0:
                e = self.buf.find(b"\n", k + 1)
                if e >= 0:
                    break
            if not select.select([fd], [], [], 120)[0]:
                raise SystemExit("no marker after %r" % cmd)
            chunk = os.read(fd, 65536)
            if not chunk:
                self.err.seek(0)
                raise SystemExit("the shell ended at %r: %r" % (cmd, self.err.read()[-500:]))
            self.buf += chunk
        ms = (time.perf_counter() - t0) * 1000.0
        out = self.buf[:k]
        status = int(self.buf[k + 1 + len(MARKER) + 1:e])
        self.buf = self.buf[e + 1:]
        return ms, out, status

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=60)
        self.err.close()


def session_rounds(a, wasmcap, shells, scratch, wenv, benv):
    """--mode session: per command, the median wall ms of each shell over the rounds."""
    samples = {s: [[] for _ in TRANSCRIPT] for s in shells}
    for rnd in range(a.rounds + 1):  # round 0 untimed: the aot engine's cache warm
        live = {}
        trees = {}
        for s in shells:
            trees[s] = os.path.join(scratch, "s%d-%s" % (rnd, s))
            make_tree(trees[s])
            if s == "bash":
                live[s] = LiveShell(["bash"], trees[s], benv)
            else:
                live[s] = LiveShell([wasmcap, "sh", "--engine", s.split("-", 1)[1],
                                     "--timeout-ms", "0", "--dir", trees[s] + "::/work",
                                     "--cwd", "/work"], scratch, wenv)
            live[s].run("true")  # started, its command table built
        for i, (_, cmd) in enumerate(TRANSCRIPT):
            results = {}
            for s in shells:
                ms, out, status = live[s].run(cmd)
                results[s] = (out, status)
                if rnd > 0:
                    samples[s][i].append(ms)
            ref_out = results["bash"][0].replace(trees["bash"].encode(), b"/work")
            for s in shells[1:]:
                if results[s][0] != ref_out or results[s][1] != results["bash"][1]:
                    raise SystemExit("session: command %d differs from bash on %s: %r\nbash (%d): %r\n"
                                     "%s (%d): %r" % (i + 1, s, cmd, results["bash"][1],
                                                      ref_out[:300], s, results[s][1],
                                                      results[s][0][:300]))
        for s in shells:
            live[s].close()
    return {s: [statistics.median(x) for x in samples[s]] for s in shells}


def print_medians(med, shells, overhead, digits):
    """The per-kind table (each kind's overhead over bash also put in `overhead`: shell -> kind
    -> ms) and the per-command table of medians `med`, with `digits` decimals."""
    f = "%%.%df" % digits
    print("\nper kind of command: median ms, and the overhead over bash")
    print("%-10s %8s" % ("kind", "bash") + "".join(" %14s %9s" % (s, "over") for s in shells[1:]))
    for i, (kind, cmd) in enumerate(TRANSCRIPT):
        if not kind:
            continue
        line = "%-10s " % kind + ("%8s" % (f % med["bash"][i]))
        for s in shells[1:]:
            over = med[s][i] - med["bash"][i]
            overhead.setdefault(s, {})[kind] = over
            line += " %14s %9s" % (f % med[s][i], ("%+." + str(digits) + "f") % over)
        print(line)
    print("\nper command (median ms):")
    for i, (_, cmd) in enumerate(TRANSCRIPT):
        short = cmd.replace("\n", "\\n")
        short = short if len(short) <= 48 else short[:45] + "..."
        print("%2d %-48s" % (i + 1, short) + "".join(" %8s" % (f % med[s][i]) for s in shells))


def print_session(report, med, shells):
    totals = {s: sum(med[s]) for s in shells}
    report["session"] = {"total_ms": totals, "per_command_ms": med, "overhead_ms": {}}
    print("\nthe same transcript in one live shell per round (--mode session), median wall ms")
    print("%-16s %10s %8s" % ("shell", "total ms", "x bash"))
    for s in shells:
        print("%-16s %10.2f %8.2f" % (s, totals[s], totals[s] / totals["bash"]))
    print_medians(med, shells, report["session"]["overhead_ms"], 2)


def process_rounds(a, wasmcap, shells, scratch, wenv, benv):
    """--mode process: each command its own process; prints and returns the report."""
    samples = {s: [[] for _ in TRANSCRIPT] for s in shells}
    totals = {s: [] for s in shells}
    cpu_totals = {s: [] for s in shells}
    # One untimed round first: the aot engine compiles each tool once into its cache.
    for rnd in range(a.rounds + 1):
        trees = {}
        for s in shells:
            trees[s] = os.path.join(scratch, "r%d-%s" % (rnd, s))
            make_tree(trees[s])
        total = {s: 0.0 for s in shells}
        cpu = {s: 0.0 for s in shells}
        for i, (_, cmd) in enumerate(TRANSCRIPT):
            results = {}
            for s in shells:
                if s == "bash":
                    ms, p = timed(["bash", "-c", cmd], trees[s], benv)
                else:
                    argv = [wasmcap, "sh", "--engine", s.split("-", 1)[1], "--timeout-ms", "0",
                            "--dir", trees[s] + "::/work", "-c", cmd]
                    ms, p = timed(argv, scratch, wenv)
                results[s] = p
                if rnd > 0:
                    samples[s][i].append(ms)
                    total[s] += ms
                    cpu[s] += timed.cpu
            ref = results["bash"]
            ref_out = ref.stdout.replace(trees["bash"].encode(), b"/work")
            for s in shells[1:]:
                got = results[s]
                if got.stdout != ref_out or got.returncode != ref.returncode:
                    raise SystemExit("command %d differs from bash on %s: %r\nbash (%d): %r\n%s (%d): %r\n%s"
                                     % (i + 1, s, cmd, ref.returncode, ref_out[:300], s,
                                        got.returncode, got.stdout[:300], got.stderr[:300]))
        if rnd > 0:
            for s in shells:
                totals[s].append(total[s])
                cpu_totals[s].append(cpu[s])
    med = {s: [statistics.median(x) for x in samples[s]] for s in shells}
    report = {"commands": len(TRANSCRIPT), "rounds": a.rounds,
              "total_ms": {s: statistics.median(totals[s]) for s in shells},
              "total_cpu_ms": {s: statistics.median(cpu_totals[s]) for s in shells},
              "per_command_ms": {s: med[s] for s in shells}, "overhead_ms": {}}
    print("%d-command agent transcript, median of %d rounds (each command its own process)"
          % (len(TRANSCRIPT), a.rounds))
    print("%-16s %10s %8s %10s %8s" % ("shell", "wall ms", "x bash", "CPU ms", "x bash"))
    for s in shells:
        t = report["total_ms"][s]
        c = report["total_cpu_ms"][s]
        print("%-16s %10.1f %8.2f %10.1f %8.2f" % (s, t, t / report["total_ms"]["bash"], c,
                                                   c / report["total_cpu_ms"]["bash"]))
    print_medians(med, shells, report["overhead_ms"], 1)
    return report


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--engines", default="interp,aot")
    ap.add_argument("--mode", choices=("process", "session", "both"), default="both")
    ap.add_argument("--json")
    a = ap.parse_args()
    wasmcap = os.path.join(a.build_dir, "bin", "wasmcap")
    bundles = os.path.join(a.build_dir, "bundles")
    scratch = tempfile.mkdtemp(prefix="wasmcap-transcript-")
    try:
        home = os.path.join(scratch, "home")
        os.makedirs(home)
        wenv = {"WASMCAP_HOME": home, "PATH": "/usr/bin:/bin", "HOME": home}
        subprocess.run([wasmcap, "trust", "add", os.path.join(bundles, "wasmcap-test.pub")],
                       env=wenv, check=True, stdout=subprocess.DEVNULL)
        for b in ("coreutils", "toolbox"):
            subprocess.run([wasmcap, "bundle", "install", os.path.join(bundles, b + ".wcb")],
                           env=wenv, check=True, stdout=subprocess.DEVNULL)
        benv = {"LC_ALL": "C", "TZ": "UTC", "PATH": "/usr/bin:/bin", "HOME": home}
        shells = ["bash"] + ["wasmcap-" + e for e in a.engines.split(",") if e]
        if "wasmcap-aot" in shells:
            # A warm cache, as the target says: the tools compiled once per machine (the tests'
            # per-user AOT cache, which usually holds them already; a cold compile of the toolbox
            # takes minutes).
            base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
            wenv["WASMCAP_CACHE_DIR"] = os.path.join(base, "wasmcap", "aot-ci")
            for m in ("guest/coreutils.wasm", "guest/toolbox/toolbox.wasm"):
                subprocess.run([wasmcap, "compile", "--compile-timeout-ms", "1800000",
                                os.path.join(a.build_dir, m)], env=wenv, check=True,
                               stdout=subprocess.DEVNULL)
        report = {"commands": len(TRANSCRIPT), "rounds": a.rounds}
        if a.mode != "session":
            report.update(process_rounds(a, wasmcap, shells, scratch, wenv, benv))
        if a.mode != "process":
            print_session(report, session_rounds(a, wasmcap, shells, scratch, wenv, benv), shells)
        if a.json:
            with open(a.json, "w") as f:
                json.dump(report, f, indent=1)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
