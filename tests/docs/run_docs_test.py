#!/usr/bin/env python3
"""The docs runner's own rules (run_docs.py): a runnable block's `output` block is compared with
what it prints (`...` for any lines), a mismatch or an `output` block that follows no runnable
block fails, and a block that prints what the page shows passes. Each case is a small source tree
of its own, run through run_docs.py as CI runs the real one."""
import os
import pathlib
import subprocess
import sys
import tempfile

RUNNER = pathlib.Path(__file__).with_name("run_docs.py")


def run(readme, require="", built=()):
    with tempfile.TemporaryDirectory() as tmp:
        src = pathlib.Path(tmp) / "src"
        (src / "docs").mkdir(parents=True)
        (src / "README.md").write_text(readme)
        build = pathlib.Path(tmp) / "build"
        (build / "bin").mkdir(parents=True)
        for name in built:
            (build / name).write_text("")
        r = subprocess.run([sys.executable, str(RUNNER), str(src), str(build / "bin"), tmp, str(build)],
                           capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, WASMCAP_DOCS_REQUIRE=require))
        return r.returncode, r.stdout + r.stderr


def block(script, output=None, gap="\n"):
    text = "```sh runnable\n" + script + "\n```\n"
    if output is not None:
        text += gap + "```output\n" + output + "\n```\n"
    return text


NEEDS_BLOCK = "```sh runnable needs:build/x.wcb\nexit 3\n```\n"

CASES = [
    # (name, README text, expected exit status, text the report must hold)
    ("same output", block("printf 'a\\nb\\n'", "a\nb"), 0, "1/1 blocks ok"),
    ("no output shown", block("echo anything"), 0, "1/1 blocks ok"),
    ("different line", block("printf 'a\\nc\\n'", "a\nb"), 1, "its output is not what the page shows"),
    ("a line missing", block("printf 'a\\n'", "a\nb"), 1, "its output is not what the page shows"),
    ("a line more", block("printf 'a\\nb\\nc\\n'", "a\nb"), 1, "its output is not what the page shows"),
    ("... for the middle", block("printf 'a\\nx\\ny\\nb\\n'", "a\n...\nb"), 0, "1/1 blocks ok"),
    ("... for no lines", block("printf 'a\\nb\\n'", "a\n...\nb"), 0, "1/1 blocks ok"),
    ("... is not a wildcard inside a line", block("echo 'a x'", "a ..."), 1, "not what the page shows"),
    ("blank lines between", block("echo a", "a", gap="\n\n\n"), 0, "1/1 blocks ok"),
    ("text between: not its output", block("echo a") + "\nSome text.\n\n```output\nb\n```\n", 1,
     "an `output` block must follow"),
    ("stderr is not compared", block("echo a; echo b >&2", "a"), 0, "1/1 blocks ok"),
    # needs:PATH — run when PATH exists, skipped when not, failed when the build must have it
    ("needs: missing, optional", NEEDS_BLOCK, 0, "skipped README.md:1 (needs build/x.wcb"),
    ("needs: missing, required", NEEDS_BLOCK, 1, "which this build was configured to make",
     {"require": "build/x.wcb"}),
    ("needs: present, runs", NEEDS_BLOCK, 1, "README.md:1 (exit 3)", {"built": ["x.wcb"]}),
    ("needs: an absolute path is no mark", "```sh runnable needs:/etc/passwd\ntrue\n```\n", 1,
     "must be `sh runnable`"),
]


def main():
    failed = 0
    for name, readme, status, needle, *opts in CASES:
        code, report = run(readme, **(opts[0] if opts else {}))
        if code != status or needle not in report:
            failed += 1
            print(f"FAIL {name}: exit {code} (want {status}), report lacks {needle!r}:\n{report}")
        else:
            print(f"ok {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
