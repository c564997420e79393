#!/usr/bin/env python3
"""Runs the Oils spec tests (../shared/testsuites/oils-spec/) on `wasmcap sh` and on Debian's
bash and dash, side by side, and reports pass counts per file (docs/shell.md, "Conformance: the
Oils spec tests").

Case format: the oils-spec README. Result of a case for a shell, as in Oils' own harness
(test/sh_spec.py): every assertion of an expectation must hold (stdout and stderr only when the
case gives them; the status defaults to 0). A shell's result is
  pass  the default expectation holds, or an `OK` variant naming that shell holds (upstream's
        PASS and OK cells, both counted as passed there);
  N-I / BUG  a variant of that kind naming the shell holds: upstream counts these as known
        non-passes ("known unimplemented", "known bugs"), allowed but not passed; so do we;
  FAIL  nothing holds.
A variant overrides the default key by key (`## OK dash status: 2` keeps the default stdout).
wasmcap is named by no variant. Its reference is bash, so it is judged as bash's stand-in: it
passes on the default expectation, or on an `OK` variant naming bash (an output the case
accepts, and the one bash gives); that second kind of pass is reported as `pass-as-bash` and
counted separately in the table. `N-I` and `BUG` variants of bash never count for wasmcap.

Each case runs once per shell in a fresh temporary directory R, with the code on stdin (as
upstream does), a timeout, and at most --jobs cases at once:
  bash/dash  cwd R/case, TMP=HOME=R/tmp, SH=bash or dash, REPO_ROOT=the oils-spec dir, PATH = a
             directory of python3 helpers (argv.py, ...) then /usr/bin:/bin, LC_ALL=C.UTF-8.
  wasmcap    `wasmcap sh --dir R::/tmp --dir OILS::/oils:ro --cwd /tmp/case` (R made 01700: the
             sticky bit of the machine's /tmp that bash's cases see), with TMP=HOME=/tmp/tmp,
             SH=sh (the nested shell inside the sandbox), REPO_ROOT=/oils; the helpers are WASI
             tools of the oils-helpers test bundle, installed with coreutils and the toolbox
             (awk, diff, jq: what a user has; when built) in a test home.
With `legacy_tmp_dir: yes` in a file's header, its cases' working directory holds `_tmp`.

The ratchet (--ratchet FILE): FILE lists the wasmcap cases known to pass, one `FILE::NAME` a line.
A listed case that fails is a regression (exit 1); newly passing cases are printed with the
command that adds them (--update rewrites FILE with the current passes).
"""
import argparse
import concurrent.futures
import datetime
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OILS = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "testsuites",
                                             "oils-spec"))
SHELLS = ("bash", "dash", "wasmcap")

# Cases whose expected output is the order in which background jobs that sleep 10, 20 and 30 ms
# finish. On wasmcap each `sleep` is a WASI tool started in-process; when every core is busy
# (ctest -j runs this beside other suites) their start-up varies by more than 10 ms, so the order
# does too (seen: passes alone, fails under load). They are run and reported, but the ratchet
# neither asserts nor records them: a ratchet entry must pass on every run.
TIMING_CASES = frozenset({
    "background.test.sh::wait for N parallel jobs and check failure",
})
HELPERS = ("argv.py", "printenv.py", "read_from_fd.py", "stdout_stderr.py", "show_fd_table.py")

# --- the case format ---------------------------------------------------------------------------

# `## [QUAL[-N] SHELLS ]KEY: VALUE` or a block opener `## [QUAL SHELLS ]STDOUT:`.
DIRECTIVE_RE = re.compile(
    r"^## (?:(OK|N-I|BUG)(-\d+)? ([a-zA-Z0-9_/-]+) )?([A-Za-z_-]+):(?: (.*))?$")
KEYS = {"stdout": "stdout", "stderr": "stderr", "status": "status", "stdout-json": "stdout",
        "stderr-json": "stderr", "STDOUT": "stdout", "STDERR": "stderr", "code": "code"}


class FormatError(Exception):
    pass


def decode_value(key, raw):
    if key in ("stdout-json", "stderr-json"):
        return json.loads(raw).encode("utf-8")
    if key == "status":
        return int(raw)
    if key == "code":
        return raw
    return (raw + "\n").encode("utf-8")


def classify(line, in_block):
    """One line as upstream's tokenizer sees it: ('case', name), ('kv', groups), ('end',),
    ('plain', text) or None (skipped: a comment, or a blank line outside a block)."""
    if not in_block and not line.strip():
        return None
    if line.startswith("####"):
        return ("case", line[4:].strip())
    if line.rstrip().rstrip(":") == "## END":  # (one file closes a block with "## END:")
        return ("end",)
    d = DIRECTIVE_RE.match(line)
    if d:
        return ("kv", d.groups())
    if line.lstrip().startswith("#"):
        return None
    return ("plain", line)


def parse_file(path):
    """(header dict, [case]) of one .test.sh file, read as upstream's harness reads it: comment
    lines are dropped everywhere (code and expected blocks), blank lines are dropped except
    inside a STDOUT/STDERR block, and a block ends at `## END` or at the next directive.
    A case: name, line, code (bytes), default (key -> expected) and variants
    [(kind, tag, shells, key -> expected)]."""
    with open(path, "rb") as f:
        lines = f.read().decode("utf-8", "surrogateescape").split("\n")
    header, cases, case = {}, [], None
    i = 0
    while i < len(lines):
        tok = classify(lines[i], False)
        i += 1
        if tok is None:
            continue
        if tok[0] == "case":
            case = {"name": tok[1], "line": i, "code": [], "default": {}, "variants": {},
                    "code_done": False}
            cases.append(case)
            continue
        if case is None:
            if tok[0] == "kv":
                header[tok[1][3]] = tok[1][4] or ""
            continue
        if tok[0] == "plain":
            if not case["code_done"]:
                case["code"].append(tok[1])
            continue
        if tok[0] == "end":
            continue
        kind, tag, shells, key, value = tok[1]
        if case["code"]:
            case["code_done"] = True
        if key not in KEYS:
            raise FormatError("%s:%d: unknown key %r" % (path, i, key))
        if key in ("STDOUT", "STDERR"):
            block = []
            while i < len(lines):
                t = classify(lines[i], True)
                if t is not None and t[0] != "plain":
                    break
                if t is not None:
                    block.append(t[1] + "\n")
                i += 1
            if i < len(lines) and classify(lines[i], True)[0] == "end":
                i += 1
            expected = "".join(block).encode("utf-8", "surrogateescape")
        else:
            expected = decode_value(key, value or "")
        if key == "code":
            case["code"] = [expected]
            case["code_done"] = True
        elif kind is None:
            case["default"][KEYS[key]] = expected
        else:
            v = case["variants"].setdefault((kind, tag or "", shells), {})
            v[KEYS[key]] = expected
    for c in cases:
        c["code"] = "".join(l + "\n" for l in c["code"]).encode("utf-8", "surrogateescape")
        c["variants"] = [(kind, tag, shells.split("/"), exp)
                         for (kind, tag, shells), exp in c["variants"].items()]
        del c["code_done"]
    return header, unique_names(cases)


def unique_names(cases):
    seen = {}
    for c in cases:
        n = seen.get(c["name"], 0) + 1
        seen[c["name"]] = n
        if n > 1:
            c["name"] = "%s (%d)" % (c["name"], n)
    return cases


def holds(expected, actual):
    if "status" not in expected:
        expected = dict(expected, status=0)
    return all(actual.get(k) == v for k, v in expected.items())


PASSES = ("pass", "pass-as-bash")


def judge(case, shell, actual):
    """'pass', 'N-I', 'BUG' or 'FAIL' (upstream's PASS and OK are both 'pass'); for wasmcap also
    'pass-as-bash': an `OK` variant naming bash holds (see the module's docstring)."""
    if actual.get("timeout"):
        return "FAIL"
    if holds(case["default"], actual):
        return "pass"
    if shell == "wasmcap":
        for kind, _tag, shells, exp in case["variants"]:
            if kind == "OK" and "bash" in shells and holds(dict(case["default"], **exp), actual):
                return "pass-as-bash"
        return "FAIL"
    best = "FAIL"
    for kind, _tag, shells, exp in case["variants"]:
        if shell not in shells:
            continue
        merged = dict(case["default"])
        merged.update(exp)
        if holds(merged, actual):
            if kind == "OK":
                return "pass"
            best = kind if best == "FAIL" else best
    return best


# --- running -----------------------------------------------------------------------------------

def make_helper_bin(root, oils):
    """python3 equivalents of the helper programs for the host shells (upstream's are python2)."""
    d = os.path.join(root, "bin")
    os.makedirs(d)
    src = os.path.join(oils, "spec", "bin")
    for name in ("argv.py", "printenv.py", "stdout_stderr.py", "show_fd_table.py"):
        write_exec(os.path.join(d, name),
                   '#!/bin/sh\nexec python3 %s "$@"\n' % os.path.join(src, name))
    # Upstream's writes bytes to a text stream (python2 only): the same behaviour for python3.
    write_exec(os.path.join(d, "read_from_fd.py"), """#!/usr/bin/env python3
import os, sys
for arg in sys.argv[1:]:
    fd = int(arg)
    try:
        data = os.read(fd, 1024)
    except OSError as e:
        print('FATAL: Error reading from fd %d: %s' % (fd, e), file=sys.stderr)
        sys.exit(1)
    sys.stdout.buffer.write(b'%d: ' % fd + data)
    sys.stdout.flush()
""")
    return d


def write_exec(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)


class Runner:
    def __init__(self, args, work):
        self.a = args
        self.work = work
        self.bin = make_helper_bin(work, args.oils) if set(args.shells) - {"wasmcap"} else None
        self.shell_path = {s: shutil.which(s) for s in ("bash", "dash")}

    def run(self, shell, header, case):
        root = tempfile.mkdtemp(dir=self.work, prefix="c")
        try:
            os.makedirs(os.path.join(root, "case"))
            os.makedirs(os.path.join(root, "tmp"))
            if header.get("legacy_tmp_dir") == "yes":
                os.makedirs(os.path.join(root, "case", "_tmp"))
            if shell == "wasmcap":  # R is its /tmp: sticky, as the /tmp bash and dash see
                os.chmod(root, 0o1700)
            return self._run(shell, root, case["code"])
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def _run(self, shell, root, code):
        timeout = self.a.timeout
        if shell == "wasmcap":
            argv = [self.a.wasmcap, "sh", "--engine", self.a.engine, "--dir", root + "::/tmp",
                    "--dir", self.a.oils + "::/oils:ro", "--cwd", "/tmp/case",
                    "--env", "SH=sh", "--env", "TMP=/tmp/tmp", "--env", "HOME=/tmp/tmp",
                    "--env", "REPO_ROOT=/oils",
                    "--timeout-ms", str(int(timeout * 1000))]
            env = {"WASMCAP_HOME": self.a.home, "PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}
            cwd = root
        else:
            argv = [self.shell_path[shell]]
            # SH is the bare name, as upstream's cases expect (`case $SH in dash) ...`).
            env = {"PATH": self.bin + ":/usr/bin:/bin", "SH": shell,
                   "TMP": os.path.join(root, "tmp"), "REPO_ROOT": self.a.oils,
                   "LC_ALL": "C.UTF-8", "HOME": os.path.join(root, "tmp")}
            cwd = os.path.join(root, "case")
        try:
            # start_new_session: a timeout kills the whole group (a case's background jobs too).
            p = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 start_new_session=True)
        except OSError as e:
            return {"stdout": b"", "stderr": str(e).encode(), "status": -1, "timeout": False}
        try:
            out, err = p.communicate(code, timeout=timeout + 2)
            timed_out = False
        except subprocess.TimeoutExpired:
            kill_group(p)
            out, err = p.communicate()
            timed_out = True
        kill_group(p)  # background jobs left behind
        return {"stdout": out, "stderr": err, "status": p.returncode, "timeout": timed_out}


def kill_group(p):
    try:
        os.killpg(p.pid, 9)
    except (ProcessLookupError, PermissionError):
        pass


# --- reports -----------------------------------------------------------------------------------

def tally(files, results, shells):
    rows = []
    for fname, _header, cases in files:
        row = {"file": fname, "cases": len(cases)}
        for s in shells:
            row[s] = sum(1 for c in cases if results[(fname, c["name"], s)][0] in PASSES)
        if "bash" in shells and "wasmcap" in shells:
            row["wasmcap_of_bash"] = sum(
                1 for c in cases if results[(fname, c["name"], "bash")][0] == "pass"
                and results[(fname, c["name"], "wasmcap")][0] in PASSES)
            row["as_bash"] = sum(
                1 for c in cases if results[(fname, c["name"], "bash")][0] == "pass"
                and results[(fname, c["name"], "wasmcap")][0] == "pass-as-bash")
        rows.append(row)
    total = {"file": "total", "cases": sum(r["cases"] for r in rows)}
    for k in list(shells) + (["wasmcap_of_bash", "as_bash"]
                             if rows and "wasmcap_of_bash" in rows[0] else []):
        total[k] = sum(r[k] for r in rows)
    return rows, total


def ratio(row):
    if "wasmcap_of_bash" not in row or row.get("bash", 0) == 0:
        return "-"
    return "%.0f%%" % (100.0 * row["wasmcap_of_bash"] / row["bash"])


def columns(shells):
    cols = [("file", "file"), ("cases", "cases")] + [(s, s) for s in shells]
    if "bash" in shells and "wasmcap" in shells:
        cols += [("wasmcap_of_bash", "wasmcap of bash's"),
                 ("as_bash", "of which as bash's OK variant"), ("ratio", "ratio")]
    return cols


def cell(row, key):
    return ratio(row) if key == "ratio" else str(row.get(key, ""))


def print_table(rows, total, shells, out):
    cols = columns(shells)
    table = [[title for _, title in cols]] + [[cell(r, k) for k, _ in cols] for r in rows + [total]]
    widths = [max(len(t[i]) for t in table) for i in range(len(cols))]
    for t in table:
        out.write("  ".join(v.ljust(w) if i == 0 else v.rjust(w)
                            for i, (v, w) in enumerate(zip(t, widths))).rstrip() + "\n")


def markdown(rows, total, shells, meta):
    cols = columns(shells)
    lines = ["<!-- generated by tests/shell/oils_spec.py --markdown: %s -->" % meta, "",
             "| " + " | ".join(t for _, t in cols) + " |",
             "| --- | " + " | ".join("---:" for _ in cols[1:]) + " |"]
    for r in rows + [total]:
        vals = [cell(r, k) for k, _ in cols]
        if r is total:
            vals = ["**%s**" % v for v in vals]
        else:
            vals[0] = "`%s`" % vals[0]
        lines.append("| " + " | ".join(vals) + " |")
    return "\n".join(lines) + "\n"


def show(b):
    return b.decode("utf-8", "backslashreplace") if isinstance(b, bytes) else str(b)


def describe_failure(case, actual, out):
    exp = dict(case["default"])
    exp.setdefault("status", 0)
    if actual.get("timeout"):
        out.write("  timed out\n")
    for k in ("stdout", "stderr"):
        if k in exp and exp[k] != actual[k]:
            diff = difflib.unified_diff(show(exp[k]).splitlines(True),
                                        show(actual[k]).splitlines(True),
                                        "expected " + k, "wasmcap " + k)
            out.write("".join("  " + l if l.endswith("\n") else "  " + l + "\n" for l in diff))
    if exp["status"] != actual["status"]:
        out.write("  status: expected %s, got %s\n" % (exp["status"], actual["status"]))
    if actual["stderr"] and "stderr" not in exp:
        out.write("  wasmcap stderr: %s\n" % show(actual["stderr"][:600]).rstrip())


# --- main --------------------------------------------------------------------------------------

def load_files(a):
    spec = os.path.join(a.oils, "spec")
    names = sorted(n for n in os.listdir(spec) if n.endswith(".test.sh"))
    if a.file:
        wanted = {f if f.endswith(".test.sh") else f + ".test.sh" for f in a.file}
        unknown = wanted - set(names)
        if unknown:
            sys.exit("oils_spec: no such file: %s" % ", ".join(sorted(unknown)))
        names = [n for n in names if n in wanted]
    files = []
    case_re = re.compile(a.case) if a.case else None
    for n in names:
        header, cases = parse_file(os.path.join(spec, n))
        if case_re:
            cases = [c for c in cases if case_re.search(c["name"])]
        files.append((n, header, cases))
    return files


def read_ratchet(path):
    with open(path) as f:
        return [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")]


def write_ratchet(path, names):
    with open(path, "w") as f:
        f.write("# The Oils spec cases `wasmcap sh` passes (FILE::NAME), checked by the ctest\n"
                "# shell/oils_spec: a listed case that fails is a regression. Regenerate with\n"
                "# tests/shell/oils_spec.py --ratchet tests/shell/oils_passing.txt --update ...\n")
        for n in sorted(names):
            f.write(n + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--oils", default=DEFAULT_OILS, help="the oils-spec directory")
    ap.add_argument("--wasmcap", help="the wasmcap binary")
    ap.add_argument("--bundles", help="build/bundles: coreutils.wcb, oils_helpers.wcb, test key")
    ap.add_argument("--home", help="a wasmcap home with the bundles installed (default: made)")
    ap.add_argument("--engine", default="interp")
    ap.add_argument("--shells", default=",".join(SHELLS), help="comma-separated subset of %s"
                    % ",".join(SHELLS))
    ap.add_argument("--file", action="append", help="only this file (repeatable; NAME[.test.sh])")
    ap.add_argument("--case", help="only cases whose name matches this regex")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--timeout", type=float, default=5.0, help="seconds per case and shell")
    ap.add_argument("--json", action="store_true", help="print every result as JSON")
    ap.add_argument("--markdown", action="store_true", help="print the table as markdown")
    ap.add_argument("--show-failures", action="store_true",
                    help="print each wasmcap failure with a diff")
    ap.add_argument("--causes", action="store_true",
                    help="count wasmcap's failures among bash's passes by their first message")
    ap.add_argument("--ratchet", help="check (or with --update, write) this list of passes")
    ap.add_argument("--update", action="store_true")
    a = ap.parse_args()
    a.oils = os.path.abspath(a.oils)
    for k in ("wasmcap", "bundles", "home"):
        if getattr(a, k):
            setattr(a, k, os.path.abspath(getattr(a, k)))
    a.shells = [s for s in a.shells.split(",") if s]
    for s in a.shells:
        if s not in SHELLS:
            sys.exit("oils_spec: unknown shell %r" % s)
        if s != "wasmcap" and shutil.which(s) is None:
            sys.exit("oils_spec: %s is not installed (scripts/setup.sh)" % s)
    if "wasmcap" in a.shells and not a.wasmcap:
        sys.exit("oils_spec: --wasmcap is needed to run wasmcap sh")
    if not os.path.isdir(os.path.join(a.oils, "spec")):
        print("SKIP: no Oils spec tests at %s (give --oils)" % a.oils)
        return 77
    files = load_files(a)
    work = tempfile.mkdtemp(prefix="oils-spec-")
    try:
        if "wasmcap" in a.shells and not a.home:
            a.home = make_home(a, work)
        runner = Runner(a, work)
        started = time.monotonic()
        results = run_all(a, runner, files)
        elapsed = time.monotonic() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report(a, files, results, elapsed)


def make_home(a, work):
    """A wasmcap home with the test key trusted and the coreutils, oils-helpers and toolbox
    bundles (each one that was built)."""
    if not a.bundles:
        sys.exit("oils_spec: give --bundles (build/bundles) or --home")
    home = os.path.join(work, "home")
    os.makedirs(os.path.join(home, "trust"))
    shutil.copy(os.path.join(a.bundles, "wasmcap-test.pub"), os.path.join(home, "trust"))
    env = dict(os.environ, WASMCAP_HOME=home)
    for b in ("coreutils.wcb", "oils_helpers.wcb", "toolbox.wcb"):
        path = os.path.join(a.bundles, b)
        if not os.path.exists(path):
            print("oils_spec: note: %s not built, its commands are missing" % b, file=sys.stderr)
            continue
        p = subprocess.run([a.wasmcap, "bundle", "install", path], env=env, capture_output=True)
        if p.returncode != 0:
            sys.exit("oils_spec: bundle install %s: %s" % (b, p.stderr.decode()))
    return home


def run_all(a, runner, files):
    jobs = [(fname, header, c, s) for fname, header, cases in files for c in cases
            for s in a.shells]
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
        futs = {pool.submit(runner.run, s, header, c): (fname, c, s)
                for fname, header, c, s in jobs}
        for fut in concurrent.futures.as_completed(futs):
            fname, c, s = futs[fut]
            actual = fut.result()
            results[(fname, c["name"], s)] = (judge(c, s, actual), actual)
    return results


def report(a, files, results, elapsed):
    rows, total = tally(files, results, a.shells)
    out = sys.stdout
    if a.json:
        json.dump({"elapsed_s": round(elapsed, 1), "files": rows, "total": total,
                   "cases": [{"file": f, "case": c["name"], "line": c["line"],
                              **{s: results[(f, c["name"], s)][0] for s in a.shells}}
                             for f, _h, cases in files for c in cases]}, out, indent=1)
        out.write("\n")
    elif a.markdown:
        meta = "%s, commit %s, %s" % (datetime.date.today().isoformat(), git_commit(), a.engine)
        out.write(markdown(rows, total, a.shells, meta))
    else:
        print_table(rows, total, a.shells, out)
        out.write("%d cases x %d shells in %.1f s (--jobs %d, --timeout %g s)\n"
                  % (total["cases"], len(a.shells), elapsed, a.jobs, a.timeout))
    if a.show_failures and "wasmcap" in a.shells:
        for fname, _h, cases in files:
            for c in cases:
                verdict, actual = results[(fname, c["name"], "wasmcap")]
                if verdict not in PASSES:
                    out.write("\n%s::%s (line %d): %s\n" % (fname, c["name"], c["line"], verdict))
                    describe_failure(c, actual, out)
    if a.causes and {"wasmcap", "bash"} <= set(a.shells):
        print_causes(files, results, out)
    if a.ratchet and "wasmcap" in a.shells:
        return ratchet(a, files, results)
    return 0


CAUSE_NOISE = [(re.compile(r"^wasmcap: error: [a-z_]+: (line \d+: )?"), "parse: "),
               (re.compile(r"^wasmcap sh: "), ""),
               (re.compile(r"\(no compound commands.*$"), "")]


def cause(actual):
    """A failure's first message, without line numbers and the error code, or what differs."""
    if actual.get("timeout"):
        return "timeout"
    err = actual["stderr"].decode("utf-8", "replace").strip()
    if not err:
        return "no message: different output or status"
    first = err.splitlines()[0]
    for pattern, repl in CAUSE_NOISE:
        first = pattern.sub(repl, first)
    return first[:100].strip()


def print_causes(files, results, out):
    counts = {}
    for f, _h, cases in files:
        for c in cases:
            if results[(f, c["name"], "bash")][0] != "pass":
                continue
            verdict, actual = results[(f, c["name"], "wasmcap")]
            if verdict not in PASSES:
                k = cause(actual)
                counts[k] = counts.get(k, 0) + 1
    out.write("\nwasmcap's failures among bash's passes, by first message:\n")
    for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        out.write("%5d  %s\n" % (n, k))


def ratchet(a, files, results):
    passing = {"%s::%s" % (f, c["name"]) for f, _h, cases in files for c in cases
               if results[(f, c["name"], "wasmcap")][0] in PASSES} - TIMING_CASES
    ran = {"%s::%s" % (f, c["name"]) for f, _h, cases in files for c in cases}
    if a.update:
        # Only the cases that ran are rewritten: a filtered run keeps the rest of the list.
        old = set(read_ratchet(a.ratchet)) - TIMING_CASES if os.path.exists(a.ratchet) else set()
        write_ratchet(a.ratchet, (old - ran) | passing)
        print("oils_spec: wrote %s (%d passing)" % (a.ratchet, len((old - ran) | passing)))
        return 0
    return check_ratchet(read_ratchet(a.ratchet), ran, passing, a.ratchet,
                         {f for f, _h, _c in files} if not a.case else set())


def check_ratchet(listed, ran, passing, path, whole_files):
    """Exit status of the ratchet: 1 when a listed case that ran failed (a regression) or when
    the list names a case that does not exist in a file that ran whole (a renamed case would
    otherwise drop out of the ratchet unnoticed); newly passing cases are printed."""
    listed = set(listed)
    timing = sorted(listed & TIMING_CASES)
    if timing:
        print("\n%s lists timing-dependent cases (TIMING_CASES), which it must not:" % path)
        for n in timing:
            print("  " + n)
        return 1
    new = sorted(passing - listed)
    if new:
        print("\n%d newly passing case(s):" % len(new))
        for n in new:
            print("  " + n)
        print("add them: tests/shell/oils_spec.py --wasmcap WASMCAP --bundles BUNDLES "
              "--shells wasmcap --ratchet %s --update" % path)
    status = 0
    regressions = sorted((listed & ran) - passing)
    if regressions:
        print("\nREGRESSION: %d case(s) in %s no longer pass:" % (len(regressions), path))
        for n in regressions:
            print("  " + n)
        status = 1
    stale = sorted(n for n in listed - ran if n.split("::", 1)[0] in whole_files)
    if stale:
        print("\n%s names cases that do not exist:" % path)
        for n in stale:
            print("  " + n)
        status = 1
    return status


def git_commit():
    try:
        return subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip() or "?"
    except OSError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
