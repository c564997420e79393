#!/usr/bin/env python3
"""End to end: the core-utils bundle the build packs (build/bundles/coreutils.wcb) installs into a
fresh $WASMCAP_HOME that trusts the build's test key, then runs by name with the operator's
--dir grant -- and nothing runs without that trust or that grant.

Usage: bundle_e2e.py --wasmcap build/bin/wasmcap --bundles build/bundles
"""
import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wasmcap", required=True)
    ap.add_argument("--bundles", required=True)
    a = ap.parse_args()
    wasmcap = os.path.abspath(a.wasmcap)
    bundle = os.path.join(os.path.abspath(a.bundles), "coreutils.wcb")
    pubs = sorted(glob.glob(os.path.join(os.path.abspath(a.bundles), "*.pub")))
    failures = []
    checks = 0

    def check(label, ok, detail=""):
        nonlocal checks
        checks += 1
        if ok:
            print("ok:   " + label)
        else:
            failures.append(label)
            print("FAIL: %s\n  %s" % (label, detail))

    if not os.path.isfile(bundle) or not pubs:
        print("FAIL: %s or a *.pub beside it is missing (the build makes them)" % bundle)
        return 1
    tmp = tempfile.mkdtemp(prefix="wasmcap-coreutils-e2e-")
    try:
        home = os.path.join(tmp, "home")
        ws = os.path.join(tmp, "ws")
        os.makedirs(os.path.join(ws, "src"))
        with open(os.path.join(ws, "notes.txt"), "w") as f:
            f.write("TODO: ship it\ndone\n")
        with open(os.path.join(ws, "src", "main.c"), "w") as f:
            f.write("int main(void) { return 0; } /* TODO */\n")
        with open(os.path.join(tmp, "outside.txt"), "w") as f:
            f.write("not yours\n")
        env = dict(os.environ, WASMCAP_HOME=home)

        def wc(*args):
            return subprocess.run([wasmcap] + list(args), capture_output=True, env=env, timeout=120)

        # Without trust in the test key, the bundle does not install.
        os.makedirs(os.path.join(home, "trust"))
        p = wc("bundle", "install", bundle)
        check("install refused while the test key is not trusted (exit 77)", p.returncode == 77,
              "exit %d: %r" % (p.returncode, p.stderr))
        for pub in pubs:
            shutil.copy(pub, os.path.join(home, "trust"))
        p = wc("bundle", "install", bundle)
        check("install with build/bundles/*.pub trusted", p.returncode == 0,
              "exit %d: %r %r" % (p.returncode, p.stdout, p.stderr))
        p = wc("bundle", "list")
        check("bundle list shows coreutils 0.1.0",
              p.returncode == 0 and b"coreutils" in p.stdout and b"0.1.0" in p.stdout,
              "exit %d: %r" % (p.returncode, p.stdout))

        p = wc("run", "--dir", ws + "::/work", "coreutils", "ls", "-l")
        lines = p.stdout.decode(errors="replace").splitlines()
        check("run --dir WS::/work coreutils ls -l",
              p.returncode == 0 and len(lines) == 3 and lines[0].startswith("total ") and lines[1].startswith("-")
              and lines[1].endswith(" notes.txt") and lines[2].startswith("d") and lines[2].endswith(" src"),
              "exit %d: %r %r" % (p.returncode, p.stdout, p.stderr))
        p = wc("run", "--dir", ws + "::/work", "coreutils", "grep", "-rn", "TODO")
        check("run coreutils grep -rn TODO",
              p.returncode == 0 and sorted(p.stdout.splitlines()) ==
              [b"notes.txt:1:TODO: ship it", b"src/main.c:1:int main(void) { return 0; } /* TODO */"],
              "exit %d: %r %r" % (p.returncode, p.stdout, p.stderr))
        p = wc("run", "--dir", ws + "::/work", "coreutils", "sed", "-i", "s/TODO/DONE/", "notes.txt")
        with open(os.path.join(ws, "notes.txt")) as f:
            edited = f.read()
        check("run coreutils sed -i edits inside the workspace",
              p.returncode == 0 and edited == "DONE: ship it\ndone\n", "exit %d: %r" % (p.returncode, edited))
        p = wc("run", "--dir", ws + "::/work", "coreutils", "cat", "../outside.txt")
        check("run coreutils cat ../outside.txt fails cleanly",
              p.returncode == 1 and b"not yours" not in p.stdout and p.stderr.startswith(b"cat: "),
              "exit %d: %r %r" % (p.returncode, p.stdout, p.stderr))
        p = wc("run", "coreutils", "ls")
        check("run without the /work grant is refused before it starts (exit 77)",
              p.returncode == 77 and b"/work" in p.stderr, "exit %d: %r" % (p.returncode, p.stderr))
        # One read-only rule for run and sh (docs/manifest.md): a ro grant for the manifest's rw
        # request narrows; reads work, writes fail as on a read-only mount, the same way in both.
        p = wc("run", "--dir", ws + "::/work:ro", "coreutils", "cat", "notes.txt")
        check("run with a read-only grant for the rw request reads",
              p.returncode == 0 and p.stdout == b"DONE: ship it\ndone\n",
              "exit %d: %r %r" % (p.returncode, p.stdout, p.stderr))
        outcomes = []
        for argv in (["run", "--dir", ws + "::/work:ro", "coreutils", "rm", "notes.txt"],
                     ["run", "--degrade", "--dir", ws + "::/work:ro", "coreutils", "rm", "notes.txt"],
                     ["sh", "--dir", ws + "::/work:ro", "-c", "rm notes.txt"]):
            p = wc(*argv)
            outcomes.append((p.returncode, p.stderr))
            check("%s with a read-only grant: rm fails cleanly, the file stays" % argv[0],
                  p.returncode == 1 and p.stderr.count(b"rm: ") == 1
                  and os.path.exists(os.path.join(ws, "notes.txt")),
                  "exit %d: %r" % (p.returncode, p.stderr))
        check("run, run --degrade and sh give the same rm status and message under a ro grant",
              len(set(outcomes)) == 1, repr(outcomes))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n%d bundle end-to-end checks, %d failed" % (checks, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
