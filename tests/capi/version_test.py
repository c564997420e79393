#!/usr/bin/env python3
"""Every place that states wasmcap's version agrees with the CMake project version.

    version_test.py PROJECT_VERSION WASMCAP_CLI VERSION_PROBE SOURCE_DIR

The version is written once, in project(wasmcap VERSION ...) of CMakeLists.txt; wasmcap/version.h
is generated from it. Checked here: the header's macros and the C API's wasmcap_version() and
wasmcap_version_number() (through VERSION_PROBE, linked against the library), `wasmcap --version`,
the man page's title line, the MCP server's serverInfo, and the Rust SDK's Cargo.toml (a file
cargo reads, so it cannot include the header: it is compared instead).
"""
import json
import pathlib
import re
import subprocess
import sys


def main():
    version, cli, probe, src = sys.argv[1:5]
    major, minor, patch = (int(x) for x in version.split("."))
    number = major * 1000000 + minor * 1000 + patch
    failures = []

    def check(what, got, want):
        if got != want:
            failures.append(f"{what}: {got!r}, expected {want!r} (project version {version})")

    probed = dict(line.split("=", 1) for line in
                  subprocess.run([probe], capture_output=True, text=True, check=True).stdout.split("\n") if line)
    check("WASMCAP_VERSION (header)", probed.get("header"), version)
    check("WASMCAP_VERSION_MAJOR.MINOR.PATCH (header)", probed.get("header_parts"), version)
    check("WASMCAP_VERSION_NUMBER (header)", probed.get("header_number"), str(number))
    check("wasmcap_version() (C API)", probed.get("library"), version)
    check("wasmcap_version_number() (C API)", probed.get("library_number"), str(number))

    out = subprocess.run([cli, "--version"], capture_output=True, text=True, timeout=60)
    check("wasmcap --version", out.stdout.strip(), f"wasmcap {version}")

    man = subprocess.run([cli, "man"], capture_output=True, text=True, timeout=60).stdout
    th = next((l for l in man.splitlines() if l.startswith(".TH ")), "")
    check("wasmcap man (.TH)", re.search(r'"wasmcap ([^"]*)"', th).group(1) if '"wasmcap ' in th else th, version)

    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                       "clientInfo": {"name": "version_test", "version": "1"}}}
    mcp = subprocess.run([cli, "mcp"], input=json.dumps(init) + "\n", capture_output=True, text=True,
                         timeout=60, env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent",
                                          "WASMCAP_HOME": "/nonexistent/wasmcap-home"})
    reply = next((json.loads(l) for l in mcp.stdout.splitlines() if l.startswith("{")), {})
    check("MCP serverInfo.version", reply.get("result", {}).get("serverInfo", {}).get("version"), version)

    cargo = pathlib.Path(src, "sdk/rust/Cargo.toml").read_text()
    check("sdk/rust/Cargo.toml version", re.search(r'^version = "([^"]*)"', cargo, re.M).group(1), version)

    for f in failures:
        print("version_test: FAIL " + f, file=sys.stderr)
    print(f"version_test: {'FAIL' if failures else 'ok'}: {version}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
