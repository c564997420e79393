"""What the tests of the bundles built from other projects' sources share (tests/toolbox,
tests/git: the guests guest/cross.sh builds): the command line, the AOT compile into the per-user
cache, the tally of checks, `wasmcap run` of the bundle's module in a workspace, and the loop of
the shell tests over (label, script, status, stdout, stderr substring) cases.

A test imports it after putting tests/support on its path:
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "support"))
    import bundle_test
"""
import argparse
import os
import subprocess
import sys
import tempfile

sys.path.append(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "shell"))
import shell_env  # noqa: E402

# AOT: a module is compiled once per machine into a persistent cache, like the python bundle's
# (keyed by content: only a new module, compiler or translator compiles again); a cold compile is
# minutes of CPU under `nice`.
COMPILE_TIMEOUT_MS = 1200000
# What every differential run of a guest gets: a fixed clock and random seed (so runs repeat) and
# an output bound well above any case's output.
RUN_FLAGS = ["--max-output-bytes", str(64 << 20), "--clock", "fixed=2026-01-01T00:00:00Z",
             "--random", "seed=7"]


def aot_cache_dir():
    """${XDG_CACHE_HOME:-~/.cache}/wasmcap/aot-ci: per user, outside the build dir (as the python
    bundle's AOT tests), so a fresh build dir on the same machine finds the module's object."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "wasmcap", "aot-ci")


def arg_parser(description):
    """The differential tests' common options; a test adds its own, then parse_args()."""
    ap = argparse.ArgumentParser(description=description,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wasmcap", required=True)
    ap.add_argument("--module", required=True)
    ap.add_argument("--engine", default="interp")
    ap.add_argument("--cache-dir", default=None, help="AOT cache (default for aot: per user)")
    return ap


def prepare_engine(a):
    """For --engine aot: a.cache_dir (per user unless given) holds the module's object, compiled
    now if it is not there. False after printing why not."""
    if a.engine != "aot":
        return True
    a.cache_dir = a.cache_dir or aot_cache_dir()
    os.makedirs(a.cache_dir, exist_ok=True)
    p = subprocess.run(["nice", "-n", "10", a.wasmcap, "compile", "--cache-dir", a.cache_dir,
                        "--compile-timeout-ms", str(COMPILE_TIMEOUT_MS), a.module],
                       capture_output=True, timeout=COMPILE_TIMEOUT_MS / 1000 + 60)
    if p.returncode != 0:
        print("FAIL: wasmcap compile: %r" % p.stderr[-2000:])
        return False
    return True


def run_command(a, ws, argv0, args, env=(), flags=RUN_FLAGS):
    """`wasmcap run` of the module as ARGV0 with the workspace WS as /work; ENV: (name, value)
    pairs granted with --env."""
    cmd = [a.wasmcap, "run", "--engine", a.engine, "--dir", ws + "::/work"] + list(flags)
    for k, v in env:
        cmd += ["--env", "%s=%s" % (k, v)]
    if a.cache_dir:
        cmd += ["--cache-dir", a.cache_dir]
    return cmd + ["--argv0", argv0, a.module] + list(args)


class Checks:
    def __init__(self):
        self.passed = 0
        self.failures = []

    def check(self, label, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failures.append(label)
            print("FAIL: %s\n  %s" % (label, detail))
            sys.stdout.flush()
        return ok

    def finish(self, what):
        """Prints the tally after WHAT (e.g. "engine interp"); the process's exit status."""
        print("%s: %d passed, %d failed" % (what, self.passed, len(self.failures)))
        return 1 if self.failures else 0


def shell_main(description, bundles, cases, prepare=None):
    """A shell test: BUNDLES (e.g. ["coreutils.wcb", "git.wcb"]) installed in a fresh
    $WASMCAP_HOME, then each case (label, script, status, stdout, stderr substring) run by
    `wasmcap sh -c SCRIPT` with a workspace as /work (PREPARE(ws) fills it first), in order.
    The exit status. For aot the module's object is the one the differential test compiled (its
    fixture, CMakeLists.txt)."""
    a = shell_env.parse_args(description)
    c = Checks()
    with tempfile.TemporaryDirectory(prefix="wasmcap-bundle-sh-") as tmp:
        env = shell_env.install_bundles(a, tmp, bundles)
        if env is None:
            return 1
        if a.engine == "aot":
            env["WASMCAP_CACHE_DIR"] = env.get("WASMCAP_CACHE_DIR") or aot_cache_dir()
        ws = os.path.join(tmp, "ws")
        os.makedirs(ws)
        if prepare:
            prepare(ws)
        for label, script, status, out, err in cases:
            p = subprocess.run([a.wasmcap, "sh", "--engine", a.engine, "--dir", ws + "::/work",
                                "-c", script], input=b"", capture_output=True, env=env,
                               timeout=300)
            c.check(label, p.returncode == status and p.stdout == out and err in p.stderr,
                    "%d %r %r" % (p.returncode, p.stdout, p.stderr[:500]))
    return c.finish("engine %s" % a.engine)
