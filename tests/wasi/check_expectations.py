#!/usr/bin/env python3
"""Checks that every entry of the WASI test suite expectations file names an existing test
and gives a reason. Usage: check_expectations.py FILE TEST_ID..."""
import sys


def main():
    path, ids = sys.argv[1], set(sys.argv[2:])
    bad = 0
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, _, reason = line.partition(" ")
            if name not in ids:
                print("%s:%d: %s is not a test of the suite" % (path, n, name))
                bad += 1
            if not reason.strip():
                print("%s:%d: %s has no reason" % (path, n, name))
                bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
