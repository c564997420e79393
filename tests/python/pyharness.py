"""Shared helper of the python bundle's tests (tests/python/*.py).

Installs build/bundles/python.wcb into a fresh $WASMCAP_HOME that trusts the build's test key,
and runs `wasmcap run ... python ARGS` with a workspace granted at /work. Optionally starts the
loopback HTTPS test server (tests/https/support/https_server.py) with a throwaway PKI made by the
openssl CLI, and writes a host config whose network settings reach it.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))


class Checks:
    """ok/FAIL lines and a closing 'N passed, N failed' line."""

    def __init__(self):
        self.passed = 0
        self.failures = []

    def check(self, label, ok, detail=""):
        if ok:
            self.passed += 1
            print("ok:   " + label)
        else:
            self.failures.append(label)
            print("FAIL: %s\n  %s" % (label, detail))
        sys.stdout.flush()
        return ok

    def finish(self):
        print("%d passed, %d failed" % (self.passed, len(self.failures)))
        return 1 if self.failures else 0


class World:
    """A temp dir with WASMCAP_HOME (the python bundle installed), a workspace and helpers."""

    def __init__(self, wasmcap, bundles, engine="interp", aot_cache=None):
        self.wasmcap = os.path.abspath(wasmcap)
        self.bundles = os.path.abspath(bundles)
        self.engine = engine
        self.tmp = tempfile.mkdtemp(prefix="wasmcap-python-")
        self.home = os.path.join(self.tmp, "home")
        self.ws = os.path.join(self.tmp, "ws")
        os.makedirs(self.ws)
        os.makedirs(os.path.join(self.home, "trust"))
        for pub in glob.glob(os.path.join(self.bundles, "*.pub")):
            shutil.copy(pub, os.path.join(self.home, "trust"))
        self.env = dict(os.environ, WASMCAP_HOME=self.home)
        self.aot_cache = aot_cache
        self.server = None

    def close(self):
        if self.server is not None:
            self.server.stdin.close()
            self.server.wait(timeout=10)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def wasmcap_cmd(self, *args, timeout=600, input=None):
        return subprocess.run([self.wasmcap] + list(args), capture_output=True, env=self.env,
                              timeout=timeout, input=input)

    def install(self):
        p = self.wasmcap_cmd("bundle", "install", os.path.join(self.bundles, "python.wcb"))
        if p.returncode != 0:
            raise RuntimeError("bundle install failed: %r %r" % (p.stdout, p.stderr))

    def python(self, *args, config=None, extra=(), timeout=600, input=None):
        """Runs the installed python bundle with /work = the workspace (or the host config)."""
        cmd = ["run", "--engine", self.engine]
        if self.aot_cache:
            cmd += ["--cache-dir", self.aot_cache]
        if config:
            cmd += ["--config", config]
        else:
            cmd += ["--dir", self.ws + "::/work"]
        cmd += list(extra) + ["python"] + list(args)
        return self.wasmcap_cmd(*cmd, timeout=timeout, input=input)

    # --- the loopback HTTPS server -------------------------------------------------------------
    def start_https(self, names=("api.test", "other.test")):
        pki = os.path.join(self.tmp, "pki")
        os.makedirs(pki)
        san = ",".join("DNS:" + n for n in names) + ",IP:127.0.0.1"
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        def ossl(*a):
            subprocess.run(["openssl"] + list(a), check=True, capture_output=True, cwd=pki)
        ossl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=wasmcap python test CA")
        ossl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=" + names[0],
             "-addext", "subjectAltName=" + san)
        with open(os.path.join(pki, "ext.cnf"), "w") as f:
            f.write("subjectAltName=%s\n" % san)
        ossl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")
        self.ca_file = os.path.join(pki, "ca.pem")
        self.requests_log = os.path.join(self.tmp, "requests.jsonl")
        self.server = subprocess.Popen(
            [sys.executable, os.path.join(SOURCE, "tests/https/support/https_server.py"),
             "--cert", os.path.join(pki, "server.pem"), "--key", os.path.join(pki, "server.key"),
             "--log", self.requests_log],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.server.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError("the https test server did not start: %r" % line)
        self.port = int(line.split()[1])
        self.names = list(names)

    def url(self, host, path):
        return "https://%s:%d%s" % (host, self.port, path)

    def requests(self):
        if not os.path.exists(self.requests_log):
            return []
        with open(self.requests_log) as f:
            return [json.loads(l) for l in f if l.strip()]

    def host_config(self, https_grant=None, env=None):
        """A host config granting /work (+ https / env), with the loopback network settings."""
        grants = {"fs": [{"guest": "/work", "host": self.ws, "access": "rw"}]}
        if https_grant is not None:
            grants["host_api"] = {"https": https_grant}
        if env:
            grants["env"] = env
        cfg = {"plugins": {"python": {"grants": grants}}}
        if self.server is not None:
            cfg["network"] = {"resolve": {n: "127.0.0.1" for n in self.names},
                              "allow_private": ["127.0.0.1/32"], "ca_file": self.ca_file}
        path = os.path.join(self.tmp, "host-%d.json" % len(os.listdir(self.tmp)))
        with open(path, "w") as f:
            json.dump(cfg, f)
        return path


def common_args(argv=None):
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--wasmcap", required=True)
    ap.add_argument("--bundles", required=True)
    ap.add_argument("--engine", default="interp")
    ap.add_argument("--aot-cache", default=None)
    ap.add_argument("--tests", default=None, help="CPython's Lib/test (build/guest/python/tests/test)")
    return ap.parse_args(argv)


def aot_cache_dir(explicit=None):
    """The AOT cache of the python tests on the aot engine: --aot-cache, else
    $WASMCAP_PYTHON_AOT_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/wasmcap/aot-ci — per user and
    outside the build dir, so a fresh build dir on the same machine finds python.wasm's object
    (keyed by content: only a changed module, compiler, flag or translator compiles again)."""
    if explicit:
        return os.path.abspath(explicit)
    if os.environ.get("WASMCAP_PYTHON_AOT_CACHE"):
        return os.path.abspath(os.environ["WASMCAP_PYTHON_AOT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "wasmcap", "aot-ci")
