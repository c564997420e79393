#!/usr/bin/env python3
"""Writes a synthetic WASI command module with N functions, for AOT compile-time measurements
(bench/notes/2026-11-23-aot-compile-at-scale.md, "AOT compile at scale") and the chunked-translation tests.

    gen_many_funcs.py N OUT.wasm [--body K] [--noop-start]

Function i (0 <= i < N) runs a small loop over linear memory (K loads/adds/stores per iteration)
and calls function i-1 (so the call graph is a chain: no recursion, direct calls across
translation units). `_start` calls function N-1 and exits through proc_exit with the low byte of
a checksum, so both engines can be compared on the result. With --noop-start `_start` returns at
once (exit 0) without calling anything: the run then measures load and start-up cost alone
(bench/notes/2026-11-23-fast-load-lazy-bodies.md, "fast interpreter load path").
"""
import struct
import sys


def leb_u(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def leb_s(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if (n == 0 and not b & 0x40) or (n == -1 and b & 0x40):
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def vec(items):
    return leb_u(len(items)) + b"".join(items)


def section(sid, payload):
    return bytes([sid]) + leb_u(len(payload)) + payload


def name(s):
    b = s.encode()
    return leb_u(len(b)) + b


def module(n, body_k, noop_start=False):
    I32 = 0x7F
    types = [
        b"\x60" + vec([bytes([I32])]) + vec([]),  # 0: (i32) -> ()   proc_exit
        b"\x60" + vec([bytes([I32])]) + vec([bytes([I32])]),  # 1: (i32) -> i32  workers
        b"\x60" + vec([]) + vec([]),  # 2: () -> ()  _start
    ]
    imports = [name("wasi_snapshot_preview1") + name("proc_exit") + b"\x00" + leb_u(0)]
    funcs = [leb_u(1)] * n + [leb_u(2)]
    memory = [b"\x00" + leb_u(1)]
    start_index = 1 + n
    exports = [name("_start") + b"\x00" + leb_u(start_index), name("memory") + b"\x02" + leb_u(0)]
    codes = []
    for i in range(n):
        # locals: 1 param (x) + 1 local (j)
        c = bytearray()
        c += vec([leb_u(1) + bytes([I32])])
        # j = 8
        c += b"\x41" + leb_s(8) + b"\x21\x01"
        c += b"\x03\x40"  # loop
        for k in range(body_k):
            # mem[(x*4 + k*4) & 0xfffc] += x + k + i
            addr = b"\x20\x00\x41" + leb_s(4) + b"\x6c\x41" + leb_s(k * 4) + b"\x6a\x41" + leb_s(0xFFFC) + b"\x71"
            c += addr + addr + b"\x28\x02\x00"  # i32.load align=2 offset=0
            c += b"\x20\x00\x6a\x41" + leb_s(k + i) + b"\x6a"
            c += b"\x36\x02\x00"  # i32.store
        c += b"\x20\x01\x41\x01\x6b\x22\x01"  # j = j - 1 (tee)
        c += b"\x0d\x00"  # br_if 0
        c += b"\x0b"  # end loop
        if i > 0:
            c += b"\x20\x00\x41\x01\x6a\x10" + leb_u(1 + i - 1) + b"\x41" + leb_s(0) + b"\x28\x02\x00\x6a"
        else:
            c += b"\x20\x00\x41\x00\x28\x02\x00\x6a"
        c += b"\x0b"
        codes.append(leb_u(len(c)) + bytes(c))
    s = bytearray()
    if noop_start:
        s += b"\x0b"
    else:
        s += b"\x41\x03\x10" + leb_u(n) + b"\x41\xff\x01\x71\x10\x00\x0b"  # proc_exit(f(3) & 255)
    codes.append(leb_u(len(vec([])) + len(s)) + vec([]) + bytes(s))
    out = b"\x00asm\x01\x00\x00\x00"
    out += section(1, vec(types))
    out += section(2, vec(imports))
    out += section(3, vec(funcs))
    out += section(5, vec(memory))
    out += section(7, vec(exports))
    out += section(10, vec(codes))
    return out


def main():
    args = sys.argv[1:]
    body_k = 4
    if "--body" in args:
        at = args.index("--body")
        body_k = int(args[at + 1])
        del args[at : at + 2]
    noop_start = "--noop-start" in args
    if noop_start:
        args.remove("--noop-start")
    if len(args) != 2:
        sys.exit(__doc__)
    with open(args[1], "wb") as f:
        f.write(module(int(args[0]), body_k, noop_start))


if __name__ == "__main__":
    main()
