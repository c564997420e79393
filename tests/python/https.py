#!/usr/bin/env python3
"""wasmcap.https in the python bundle against the loopback HTTPS test server
(tests/https/support/https_server.py): a granted request, a secret reference (injected by the
host, never visible to Python), denied requests as Python exceptions carrying the ABI's error
codes, and the bundle running without any https grant (every request refused, the run goes on).

Usage: https.py --wasmcap build/bin/wasmcap --bundles build/bundles
"""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pyharness  # noqa: E402

SECRET = "s3cr3t-python-value-7731"


def main():
    a = pyharness.common_args()
    c = pyharness.Checks()
    w = pyharness.World(a.wasmcap, a.bundles, a.engine, a.aot_cache)
    try:
        w.install()
        w.start_https()
        shutil.copy(os.path.join(os.path.dirname(os.path.abspath(__file__)), "https_probe.py"), w.ws)
        secret_file = os.path.join(w.tmp, "tok")
        with open(secret_file, "w") as f:
            f.write(SECRET)
        audit = os.path.join(w.tmp, "audit.jsonl")
        grant = {"allow": [{"host": "api.test", "methods": ["GET", "POST", "PUT"], "path_prefix": "/"}],
                 "secrets": {"tok": {"file": secret_file, "hosts": ["api.test"]}}}
        cfg = w.host_config(https_grant=grant)
        with open(cfg) as f:
            doc = json.load(f)
        doc["audit"] = {"file": audit}
        with open(cfg, "w") as f:
            json.dump(doc, f)
        p = w.python("/work/https_probe.py", w.url("api.test", ""), w.url("other.test", ""), config=cfg)
        try:
            r = json.loads(p.stdout)
        except ValueError:
            r = {}
        c.check("the probe ran", p.returncode == 0 and r, "%d %r %r" % (p.returncode, p.stdout, p.stderr))
        c.check("a granted POST: status, headers, method, path, query and UTF-8 body",
                r.get("echo_post") == ["ok", [200, "application/json", "POST", "/echo", "q=1", "h\u00e9llo", ["yes"], False]],
                r.get("echo_post"))
        sec = r.get("secret", [None, [None, []]])
        c.check("a secret reference reaches the server (and Python never sees the value)",
                sec[0] == "ok" and sec[1][0] == 200 and SECRET not in json.dumps(sec),
                sec)
        seen = [q for q in w.requests() if q.get("path", "").startswith("/echo")]
        c.check("the server received the secret value in Authorization",
                any(SECRET in json.dumps(q.get("headers")) for q in seen), seen[-3:])
        c.check("a 404 is a response, not an exception", r.get("status_404") == ["ok", 404], r.get("status_404"))
        for key, code in (("denied_host", "grant_denied"), ("denied_method", "method_not_allowed"),
                          ("public_host", "grant_denied")):
            v = r.get(key, [])
            c.check("%s: PolicyError (a PermissionError) with code %s" % (key, code),
                    v[:3] == ["PolicyError", code, True], v)
        v = r.get("unknown_secret", [])
        c.check("an ungranted secret reference is refused with an ABI code",
                v[:1] == ["PolicyError"] and v[1] in ("grant_denied",), v)
        c.check("a NUL in a header is a ValueError (never cut short)",
                r.get("nul_header", [None])[0] == "ValueError", r.get("nul_header"))
        c.check("malformed headers are a TypeError", r.get("bad_headers", [None])[0] == "TypeError",
                r.get("bad_headers"))
        c.check("_wasmcap.ABI_VERSION is 1", r.get("abi_version") == ["ok", 1], r.get("abi_version"))
        # Ordinary code through the same host API (guest/python/lib/wasmcap/_http.py).
        c.check("urllib.request.urlopen GET over the grant: status, headers, body, final URL",
                r.get("urllib_get") == ["ok", [200, "application/json", "GET", "/echo", "via=urllib", True]],
                r.get("urllib_get"))
        c.check("urllib POST with a body and a secret reference (injected by the host)",
                r.get("urllib_post_secret", [None])[0] == "ok"
                and r["urllib_post_secret"][1][:2] == ["POST", '{"a": 1}'], r.get("urllib_post_secret"))
        c.check("urllib: an HTTP 404 is urllib's HTTPError(404)", r.get("urllib_404") == ["ok", ["HTTPError", 404]],
                r.get("urllib_404"))
        c.check("urllib: a host outside the grant is URLError(reason=PolicyError grant_denied)",
                r.get("urllib_denied") == ["ok", ["URLError", "PolicyError", "grant_denied", True]],
                r.get("urllib_denied"))
        c.check("urllib: plain http:// is refused with a message naming https",
                r.get("urllib_plain_http") == ["ok", ["URLError", True]], r.get("urllib_plain_http"))
        c.check("urllib: a redirect is followed by the host", r.get("urllib_redirect") == ["ok", [200, True]],
                r.get("urllib_redirect"))
        c.check("http.client.HTTPSConnection, low level (putrequest/putheader/endheaders/send)",
                r.get("http_client_low_level") == ["ok", [200, "OK", "PUT", "low=1", "abcde", ["level"]]],
                r.get("http_client_low_level"))
        seen = [q for q in w.requests() if q.get("path") == "/echo" and q.get("method") == "POST"
                and q.get("body") == '{"a": 1}']
        c.check("the urllib POST reached the server with the secret's value",
                any(SECRET in json.dumps(q.get("headers")) for q in seen), seen[-2:])
        c.check("no request reached other.test or a public host",
                all(q.get("host", "").split(":")[0] == "api.test" for q in w.requests()),
                [q.get("host") for q in w.requests()])
        c.check("the secret is in no output", SECRET.encode() not in p.stdout + p.stderr)
        audit_text = open(audit).read() if os.path.exists(audit) else ""
        c.check("the audit file records the requests and not the secret",
                "api.test" in audit_text and SECRET not in audit_text, audit_text[-500:])

        # Without any https grant: the bundle still runs; every request is refused.
        p = w.python("-c", "import wasmcap\ntry:\n wasmcap.https.get('%s')\nexcept wasmcap.https.PolicyError as e:\n"
                     " print(e.code)\n" % w.url("api.test", "/echo"))
        c.check("no https grant: the run goes ahead and a request raises PolicyError(grant_denied)",
                p.returncode == 0 and p.stdout == b"grant_denied\n", "%d %r %r" % (p.returncode, p.stdout, p.stderr))
    finally:
        w.close()
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
