#!/usr/bin/env python3
"""docs/c-api.md against include/wasmcap/wasmcap.h: every function the header declares is named
in the page, every wasmcap_* function the page names is declared, and where the page shows a
call's arguments their number is the declaration's (a method written `_x(a, b)` in an object's
row takes the object first: three parameters).

    api_docs_test.py SOURCE_DIR
"""
import re
import sys


def params(text):
    text = text.strip()
    if text in ("", "void"):
        return 0
    depth, n = 0, 1
    for c in text:
        depth += c == "("
        depth -= c == ")"
        n += c == "," and depth == 0
    return n


def main():
    src = sys.argv[1]
    header = open(f"{src}/include/wasmcap/wasmcap.h").read()
    doc = open(f"{src}/docs/c-api.md").read()
    declared = {}
    for m in re.finditer(r"^WASMCAP_API\b([^;{(]*?)\b(wasmcap_\w+)\s*\(([^;]*?)\)\s*;", header, re.S | re.M):
        declared[m.group(2)] = params(re.sub(r"\s+", " ", m.group(3)))
    problems = []
    named = set()
    shown = []  # (name, argument count, method shorthand)
    for line in doc.splitlines():
        row = re.match(r"^\| (\w+) \| (.*)\|\s*$", line)
        if not row or row.group(1) == "object":
            continue
        obj = "wasmcap_" + row.group(1)
        for tok in re.finditer(r"`(wasmcap_\w+|_\w+)(\(([^`()]*)\))?`", row.group(2)):
            short = tok.group(1).startswith("_")
            name = obj + tok.group(1) if short else tok.group(1)
            named.add(name)
            if tok.group(2) and tok.group(3) != "...":
                shown.append((name, params(tok.group(3)), short))
    for m in re.finditer(r"`(wasmcap_[a-z0-9_]+)(\(([^`()]*)\))?`", doc):
        named.add(m.group(1))
        if m.group(2) and m.group(3) != "...":
            shown.append((m.group(1), params(m.group(3)), False))
    for name in sorted(set(declared) - named):
        problems.append(f"{name} is declared in wasmcap.h but docs/c-api.md does not name it")
    for name, count, short in shown:
        if name not in declared:
            problems.append(f"docs/c-api.md shows {name}(...), which wasmcap.h does not declare")
            continue
        want = declared[name] - (1 if short and not name.endswith("_new") else 0)
        if count != want:
            problems.append(f"docs/c-api.md shows {name} with {count} argument(s), "
                            f"wasmcap.h declares {declared[name]}")
    for p in problems:
        print("api_docs_test: " + p)
    print(f"api_docs_test: {len(declared)} functions, {len(shown)} calls shown, "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
