#!/usr/bin/env python3
"""Every GoogleTest case that sleeps or polls carries the ctest label `timing` (tests/CMakeLists.txt).

A test sleeps or polls when its code, or a function of the same file that it calls (directly or
through others), waits on the wall clock: sleep_for, usleep, nanosleep, poll(), or a
wait_for/wait_gone/wait_until loop (comments and string literals are not code). A test whose wait
is out of sight (a guest or a stand-in program that sleeps) says so with a `// timing: REASON`
comment in its body; a wait that is only a safety net (a watchdog, a bounded wait for a server to
start, a condition variable's timeout) says so with `// not-timing: REASON` at the end of its
line or on a line of its own just above it. Under the sanitizers' slowdown such waits stop meaning what they assert, so
the sanitizer pass (scripts/test.sh) skips the label; a test that waits without the label would
run there and flake. The reverse is checked too: a labelled test that does not wait would be
skipped there for nothing.

    check_timing_labels.py SOURCE_DIR BUILD_DIR [CTEST]

Reads the test sources under SOURCE_DIR/tests and `ctest -N` in BUILD_DIR (all variants: the
aot: prefix names the same test).
"""
import pathlib
import re
import subprocess
import sys

WAITS = re.compile(r"\bsleep_for\b|\busleep\s*\(|\bnanosleep\s*\(|\bpoll\s*\(|"
                   r"(?<![.>])\bwait_for\s*\(|\bwait_gone\s*\(|(?<![.>])\bwait_until\s*\(")
MARKER = re.compile(r"//\s*timing:\s*\S")
SAFETY_NET = re.compile(r"^[ \t]*//\s*not-timing:\s*\S.*\n.*$|^.*//\s*not-timing:\s*\S.*$", re.M)
# Comments, string and character literals (raw strings included), to blank out before matching.
NOT_CODE = re.compile(r'//[^\n]*|/\*.*?\*/|R"(\w*)\(.*?\)\1"|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'',
                      re.S)
GTEST_NAME = re.compile(r"^\w+(?:/\w+)?\.\w+(?:/\w+)?")
TEST = re.compile(r"^TEST(?:_F|_P)?\(\s*(\w+)\s*,\s*(\w+)\s*\)", re.M)
FUNC = re.compile(r"^[ \t]*[A-Za-z][\w:<>,*& ]*?\b(\w+)\s*\([^;{()]*(?:\([^()]*\)[^;{()]*)*\)\s*"
                  r"(?:const\s*)?(?:->\s*[\w:<>]+\s*)?\{", re.M)


def bodies(text, pattern):
    """(match, start, end) of each definition matched by `pattern`: its body is text[start:end],
    up to the brace that closes it (counted; `text` has no comments or literals left)."""
    out = []
    for m in pattern.finditer(text):
        i = text.find("{", m.end() - 1)
        depth, j = 0, i
        while j < len(text):
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        out.append((m, i, j + 1))
    return out


def waiting_tests(source_dir):
    found = set()
    for path in sorted((source_dir / "tests").rglob("*.cc")):
        if "fuzz" in path.parts:
            continue
        raw = path.read_text(errors="replace")
        # Same length, so that offsets agree between the raw text and the code.
        blank = lambda m: re.sub(r"[^\n]", " ", m.group(0))
        code = NOT_CODE.sub(blank, SAFETY_NET.sub(blank, raw))
        funcs = [(m.group(1), code[i:j]) for m, i, j in bodies(code, FUNC)
                 if not m.group(0).lstrip().startswith("TEST")]
        helpers = set()
        while True:  # functions that wait, or call one that does
            calls = re.compile(r"\b(?:%s)\s*\(" % "|".join(sorted(helpers))) if helpers else None
            more = {name for name, body in funcs
                    if WAITS.search(body) or (calls and calls.search(body))}
            if more <= helpers:
                break
            helpers |= more
        for m, i, j in bodies(code, TEST):
            body = code[i:j]
            if WAITS.search(body) or (calls and calls.search(body)) or MARKER.search(raw[i:j]):
                found.add(m.group(1) + "." + m.group(2))
    return found


def ctest_names(build_dir, ctest, label=None):
    cmd = [ctest, "-N"] + (["-L", label] if label else [])
    out = subprocess.run(cmd, cwd=build_dir, capture_output=True, text=True, check=True).stdout
    names = set()
    for line in out.splitlines():
        m = re.match(r"\s*Test\s+#\d+:\s+(\S+)", line)
        if m:
            names.add(m.group(1))
    return names


def main():
    source_dir, build_dir = pathlib.Path(sys.argv[1]), sys.argv[2]
    ctest = sys.argv[3] if len(sys.argv) > 3 else "ctest"
    waiting = waiting_tests(source_dir)
    strip = re.compile(r"^aot:")
    registered = ctest_names(build_dir, ctest)
    labelled = ctest_names(build_dir, ctest, "^timing$")
    bad = []
    for name in sorted(registered):
        base = strip.sub("", name)
        if base in waiting and name not in labelled:
            bad.append(f"{name}: sleeps or polls, but has no `timing` label")
        # (The reverse only for GoogleTest cases, Suite.Name: a script test, such as audit_kill,
        # is labelled by hand in its CMakeLists.txt and not read here.)
        if name in labelled and base not in waiting and GTEST_NAME.match(base):
            bad.append(f"{name}: labelled `timing`, but neither sleeps nor polls")
    missing = sorted(w for w in waiting
                     if not any(strip.sub("", n) == w for n in registered))
    for w in missing:
        bad.append(f"{w}: sleeps or polls, but is not registered with ctest")
    for line in bad:
        print(line)
    print(f"{len(waiting)} tests sleep or poll; {len(labelled)} ctest cases labelled timing; "
          f"{len(bad)} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
