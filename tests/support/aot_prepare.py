#!/usr/bin/env python3
"""Compiles a bundle's module for the aot engine into the tests' per-user AOT cache
(bundle_test.prepare_engine: ${XDG_CACHE_HOME:-~/.cache}/wasmcap/aot-ci, keyed by content, so a
module compiled before is a cache hit in well under a second). The fixture that NAME/shell-aot
needs (tests/CMakeLists.txt wasmcap_bundle_tests): before, the fixture was NAME/differential-aot,
so a run that selected only shell-aot (the sanitizer pass) ran the whole differential too.

Usage: aot_prepare.py --wasmcap build/bin/wasmcap --module guest/NAME/NAME.wasm
"""
import sys

import bundle_test


def main():
    a = bundle_test.arg_parser(__doc__).parse_args()
    a.engine = "aot"
    return 0 if bundle_test.prepare_engine(a) else 1


if __name__ == "__main__":
    sys.exit(main())
