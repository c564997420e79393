#!/usr/bin/env python3
"""Runs every command block marked runnable in README.md, docs/*.md and examples/*/README.md.

A block is runnable when its fence's info string is `sh runnable`:

    ```sh runnable
    wasmcap run "$WASMCAP_GUESTS/hello.wasm"
    ```

Every other shell block (info string starting with sh, bash, shell or console) says why it is not
run, so that no command in the docs silently rots:

    ```sh not-runnable: needs a host config of your own
    wasmcap run --manifest M --config /etc/wasmcap/config.json
    ```

A block that needs an optional part of the build says so, `sh runnable needs:PATH` (PATH as the
block sees it, e.g. `build/bundles/python.wcb`): it runs when PATH exists and is reported as
skipped when it does not, unless the build was configured with that part, which the test says by
listing PATH in $WASMCAP_DOCS_REQUIRE (colon-separated): then a missing PATH fails.

An unmarked shell block, or one marked without a reason, fails the test. The lab notebook
(bench/notes/*.md) is checked for the marks too, but never run.

A runnable block may show what it prints: an `output` block right after it (only blank lines
between) holds its expected stdout, compared line by line; a line that is exactly `...` stands
for any number of lines (none included), so a page can show the lines that matter:

    ```sh runnable
    wasmcap run "$WASMCAP_GUESTS/hello.wasm" arg1
    ```

    ```output
    hello from wasm
    arg[1]=arg1
    ```

Each block runs in bash with `set -euo pipefail`, in a fresh temporary directory that is also
$HOME and holds $WASMCAP_HOME, with the built `wasmcap` first on PATH and $WASMCAP_GUESTS set to
the built guests. The docs are written for a shell at the top of a checkout that has built into
`build/`: the directory links `build` to the build tree and the checkout's top-level directories
(`examples`, `guest`, `sdk`, `tests`, ...) to the source's, so `build/bundles/coreutils.wcb` or
`examples/fetch/manifest.json` work as written, while whatever a block creates (`ws/`,
`config.json`) lands in the fresh directory. A block that exits non-zero fails the test, naming
the file and line.

    run_docs.py SOURCE_DIR BIN_DIR GUEST_DIR [BUILD_DIR]

BUILD_DIR defaults to BIN_DIR's parent.
"""
import os
import pathlib
import re
import subprocess
import sys
import tempfile

FENCE = re.compile(r"^```(.*)$")
SHELLS = {"sh", "bash", "shell", "console"}
NOT_RUNNABLE = re.compile(r"^not-runnable:\s*\S.*\S")
NEEDS = re.compile(r"^needs:(\S+)$")


def runnable_info(info):
    """For a fence's info string: None when it is not `sh runnable [needs:PATH]`, else PATH or ""."""
    words = info.split()
    if words[:2] != ["sh", "runnable"] or len(words) > 3:
        return None
    if len(words) == 2:
        return ""
    m = NEEDS.match(words[2])
    return m.group(1) if m and not m.group(1).startswith("/") and ".." not in m.group(1).split("/") else None


def unmarked(path):
    """Line numbers of shell blocks marked neither runnable nor not-runnable with a reason."""
    out, inside = [], False
    for n, line in enumerate(path.read_text().splitlines(), 1):
        m = FENCE.match(line)
        if not m:
            continue
        if inside:
            inside = False
            continue
        inside = True
        words = m.group(1).split(None, 1)
        if words and words[0] in SHELLS:
            rest = words[1].strip() if len(words) > 1 else ""
            if runnable_info(m.group(1)) is None and not NOT_RUNNABLE.match(rest):
                out.append(n)
    return out


def blocks(path):
    """(line, text, expected, needs) of each runnable block in the file: `expected` is the lines
    of the `output` block that follows it, or None; `needs` the path it needs:, or ""."""
    lines = path.read_text().splitlines()
    out, n = [], 0
    while n < len(lines):
        m = FENCE.match(lines[n])
        needs = runnable_info(m.group(1)) if m else None
        if needs is None:
            n += 1
            continue
        start, end = n, n + 1
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        text = "\n".join(lines[start + 1:end]) + "\n"
        nxt = end + 1
        while nxt < len(lines) and not lines[nxt].strip():
            nxt += 1
        expected = None
        if nxt < len(lines) and lines[nxt].strip() == "```output":
            close = nxt + 1
            while close < len(lines) and not lines[close].startswith("```"):
                close += 1
            expected = lines[nxt + 1:close]
        out.append((start + 1, text, expected, needs))
        n = end + 1
    return out


def matches(expected, actual):
    """Whether `actual` (lines) is `expected` (lines, where a line `...` is any lines)."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(matches(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and actual[0] == expected[0] and matches(expected[1:], actual[1:])


def orphan_outputs(path):
    """Line numbers of `output` blocks that follow no runnable block (they would never be checked)."""
    lines = path.read_text().splitlines()
    checked = set()
    for start, text, expected, _ in blocks(path):
        if expected is not None:
            n = start + text.count("\n")
            while not lines[n].strip().startswith("```output"):
                n += 1
            checked.add(n + 1)
    return [n for n, line in enumerate(lines, 1) if line.strip() == "```output" and n not in checked]


def main():
    src, bindir, guests = (pathlib.Path(a).resolve() for a in sys.argv[1:4])
    build = pathlib.Path(sys.argv[4]).resolve() if len(sys.argv) > 4 else bindir.parent
    files = ([src / "README.md"] + sorted((src / "docs").glob("*.md")) +
             sorted((src / "examples").glob("*/README.md")))
    found = [(f, n, text, expected, needs) for f in files for n, text, expected, needs in blocks(f)]
    required = set(p for p in os.environ.get("WASMCAP_DOCS_REQUIRE", "").split(":") if p)
    bad = [(f, n) for f in files + sorted((src / "bench" / "notes").glob("*.md")) for n in unmarked(f)]
    for f, n in bad:
        print(f"run_docs: FAIL {f.relative_to(src)}:{n}: a shell block must be `sh runnable` or "
              f"`sh not-runnable: REASON`", file=sys.stderr)
    orphans = [(f, n) for f in files for n in orphan_outputs(f)]
    for f, n in orphans:
        print(f"run_docs: FAIL {f.relative_to(src)}:{n}: an `output` block must follow a "
              f"`sh runnable` block (only blank lines between)", file=sys.stderr)
    bad += orphans
    if not found:
        print("run_docs: no runnable blocks found", file=sys.stderr)
        return 1
    failed = skipped = 0
    for f, n, text, expected, needs in found:
        with tempfile.TemporaryDirectory() as tmp:
            os.symlink(build, os.path.join(tmp, "build"))
            for top in sorted(src.iterdir()):
                if top.is_dir() and not top.name.startswith(".") and top.name != "build":
                    os.symlink(top, os.path.join(tmp, top.name))
            where = f"{f.relative_to(src)}:{n}"
            if needs and not os.path.exists(os.path.join(tmp, needs)):
                if needs in required:
                    failed += 1
                    print(f"run_docs: FAIL {where}: it needs {needs}, which this build was "
                          f"configured to make, and it is missing", file=sys.stderr)
                else:
                    skipped += 1
                    print(f"run_docs: skipped {where} (needs {needs}, not in this build)")
                continue
            env = {
                "PATH": f"{bindir}:/usr/bin:/bin",
                "HOME": tmp,
                "WASMCAP_HOME": os.path.join(tmp, "wasmcap-home"),
                "WASMCAP_CACHE_DIR": os.path.join(tmp, "aot-cache"),
                "WASMCAP_GUESTS": str(guests),
                "LANG": "C.UTF-8",
            }
            r = subprocess.run(["bash", "-c", "set -euo pipefail\n" + text], cwd=tmp, env=env,
                               capture_output=True, text=True, timeout=120)
            if r.returncode != 0:
                failed += 1
                print(f"run_docs: FAIL {where} (exit {r.returncode})\n--- block ---\n{text}"
                      f"--- stdout ---\n{r.stdout[-2000:]}--- stderr ---\n{r.stderr[-2000:]}",
                      file=sys.stderr)
            elif expected is not None and not matches(expected, r.stdout.splitlines()):
                failed += 1
                shown = "\n".join(expected)
                print(f"run_docs: FAIL {where}: its output is not what the page shows\n"
                      f"--- block ---\n{text}--- the page shows ---\n{shown}\n"
                      f"--- stdout ---\n{r.stdout[-2000:]}--- stderr ---\n{r.stderr[-2000:]}",
                      file=sys.stderr)
            else:
                print(f"run_docs: ok {where}")
    print(f"run_docs: {len(found) - failed - skipped}/{len(found)} blocks ok, {skipped} skipped; "
          f"{len(bad)} shell blocks unmarked")
    return 1 if failed or bad else 0


if __name__ == "__main__":
    sys.exit(main())
