#!/usr/bin/env python3
"""Sandbox tests for the core utilities: every attempt to reach outside the granted workspace
(.. , absolute paths, symlinks leading out, a $PWD outside, writes under a read-only grant)
fails cleanly -- a tool error on stderr and a non-zero tool exit status, never a runtime error
or crash -- the secret outside never reaches stdout or the workspace, and nothing outside
changes.

Usage: sandbox.py --wasmcap build/bin/wasmcap --module build/guest/coreutils.wasm
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

from treesnap import snapshot

SECRET = b"TOPSECRET-7f3a"




def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wasmcap", required=True)
    ap.add_argument("--module", required=True)
    a = ap.parse_args()
    wasmcap, module = os.path.abspath(a.wasmcap), os.path.abspath(a.module)
    tmp = tempfile.mkdtemp(prefix="wasmcap-coreutils-sandbox-")
    failures = []
    ran = 0
    try:
        outside = os.path.join(tmp, "outside")
        ws = os.path.join(tmp, "ws")
        os.makedirs(os.path.join(outside, "dir"))
        os.makedirs(os.path.join(ws, "inner"))
        for p in (os.path.join(outside, "secret.txt"), os.path.join(outside, "dir", "s2.txt")):
            with open(p, "wb") as f:
                f.write(SECRET + b"\n")
        with open(os.path.join(ws, "own.txt"), "wb") as f:
            f.write(b"mine\n")
        os.symlink("../outside/secret.txt", os.path.join(ws, "rel-out"))        # relative, leads out
        os.symlink(os.path.join(outside, "secret.txt"), os.path.join(ws, "abs-out"))  # absolute
        os.symlink(os.path.join(outside, "dir"), os.path.join(ws, "dir-out"))   # directory, absolute
        os.symlink("../../outside/dir", os.path.join(ws, "inner", "deep-out"))  # from a subdir
        out_abs = os.path.join(outside, "secret.txt")
        before = snapshot(outside)

        # (args, extra wasmcap flags). Every one must fail with a tool exit status.
        attempts = [
            (["cat", "../outside/secret.txt"], []),
            (["cat", out_abs], []),
            (["cat", "/etc/passwd"], []),
            (["cat", "rel-out"], []),
            (["cat", "abs-out"], []),
            (["cat", "dir-out/s2.txt"], []),
            (["cat", "inner/deep-out/s2.txt"], []),
            (["cat", "inner/../../outside/secret.txt"], []),
            (["head", "-n", "1", "rel-out"], []),
            (["tail", "abs-out"], []),
            (["wc", "-c", "../outside/secret.txt"], []),
            (["ls", ".."], []),
            (["ls", "-l", "dir-out/"], []),
            (["ls", "/"], []),
            (["ls", "-R", "inner/deep-out/"], []),
            (["grep", "-r", "TOPSECRET", ".."], []),
            (["grep", "TOPSECRET", "rel-out", "abs-out"], []),
            (["grep", "-R", "TOPSECRET", "."], []),
            (["find", ".."], []),
            (["find", "/", "-name", "secret.txt"], []),
            (["find", "dir-out/"], []),
            (["sed", "-n", "p", "../outside/secret.txt"], []),
            (["sed", "-i", "s/TOP/XXX/", "rel-out"], []),
            (["sed", "-i", "s/TOP/XXX/", "dir-out/s2.txt"], []),
            (["cp", "rel-out", "stolen.txt"], []),
            (["cp", "../outside/secret.txt", "stolen2.txt"], []),
            (["cp", "-r", "dir-out/", "stolen-dir"], []),
            (["cp", "own.txt", "../outside/planted.txt"], []),
            (["cp", "own.txt", "dir-out/planted.txt"], []),
            (["cp", "own.txt", "rel-out"], []),
            (["cp", "-r", "own.txt", "abs-out"], []),
            (["mv", "own.txt", "../outside/moved.txt"], []),
            (["mv", "../outside/secret.txt", "taken.txt"], []),
            (["mv", "dir-out/s2.txt", "taken2.txt"], []),
            (["rm", "../outside/secret.txt"], []),
            (["rm", "-rf", "dir-out/"], []),
            (["rm", "-f", out_abs], []),
            (["rm", "-rf", "inner/deep-out/"], []),
            (["mkdir", "../outside/new"], []),
            (["mkdir", "-p", "dir-out/new/deeper"], []),
            (["mkdir", "-p", os.path.join(outside, "new2")], []),
            (["pwd"], ["--env", "PWD=" + outside]),
            (["ls"], ["--env", "PWD=/work/../outside"]),
            # Read-only grant: every write fails; reads still work (checked below).
            (["rm", "own.txt"], [":ro"]),
            (["mkdir", "newdir"], [":ro"]),
            (["cp", "own.txt", "copy.txt"], [":ro"]),
            (["mv", "own.txt", "renamed.txt"], [":ro"]),
            (["sed", "-i", "s/mine/yours/", "own.txt"], [":ro"]),
        ]
        ws_before = snapshot(ws)
        for args, extra in attempts:
            ro = ":ro" in extra
            flags = [f for f in extra if f != ":ro"]
            cmd = [wasmcap, "run", "--dir", ws + "::/work" + (":ro" if ro else "")] + flags + [module] + args
            p = subprocess.run(cmd, capture_output=True, timeout=60)
            ran += 1
            label = " ".join(args) + (" (read-only grant)" if ro else "") + (" " + " ".join(flags) if flags else "")
            problems = []
            if p.returncode == 0:
                problems.append("exit status 0")
            if p.returncode not in (1, 2, 4, 125):
                problems.append("exit status %d is not a tool failure status" % p.returncode)
            if b"wasmcap: error" in p.stderr:
                problems.append("runtime error instead of a tool error: %r" % p.stderr)
            if SECRET in p.stdout or SECRET in p.stderr:
                problems.append("the secret leaked: %r" % p.stdout)
            tool = args[0]
            if not (p.stderr.startswith(tool.encode() + b": ") or p.stderr.startswith(b"coreutils: ")):
                problems.append("stderr is not a 'TOOL: ...' message: %r" % p.stderr)
            now = snapshot(outside)
            if now != before:
                problems.append("the outside tree changed")
                before = now  # later attempts are judged on their own
            if problems:
                failures.append(label)
                print("FAIL: %s\n  %s" % (label, "\n  ".join(problems)))
            else:
                print("ok:   %s -> %d: %s" % (label, p.returncode, p.stderr.decode(errors="replace").strip().splitlines()[0]))
        # Nothing of the secret entered the workspace, and the workspace is as it was, except for
        # what the (rw) attempts could legitimately create inside: nothing here should.
        after = snapshot(ws)
        for rel, (kind, data) in after.items():
            if kind == "f" and SECRET in data:
                failures.append("secret copied into " + rel)
                print("FAIL: the secret was copied into the workspace at %s" % rel)
        if after != ws_before:
            added = sorted(set(after) - set(ws_before))
            changed = sorted(k for k in ws_before if after.get(k) != ws_before[k])
            failures.append("workspace changed")
            print("FAIL: the workspace changed: added %r, changed/removed %r" % (added, changed))
        # Control: the same grant does work for what is inside (so the failures above are the
        # sandbox, not a broken tool).
        for args, ro in ((["cat", "own.txt"], True), (["ls", "inner"], False), (["cat", "inner/../own.txt"], True)):
            cmd = [wasmcap, "run", "--dir", ws + "::/work" + (":ro" if ro else ""), module] + args
            p = subprocess.run(cmd, capture_output=True, timeout=60)
            ran += 1
            if p.returncode != 0:
                failures.append("control " + " ".join(args))
                print("FAIL: control %s: exit %d %r" % (" ".join(args), p.returncode, p.stderr))
            else:
                print("ok:   control %s" % " ".join(args))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n%d sandbox checks, %d failed" % (ran, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
