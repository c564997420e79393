# Runs inside the python bundle (tests/python/https.py) with argv[1] = the test server's base URL
# for api.test and argv[2] = the same for other.test. Prints one JSON object of outcomes.
import json
import sys

import wasmcap

api, other = sys.argv[1], sys.argv[2]
out = {}


def attempt(name, fn):
    try:
        out[name] = ["ok", fn()]
    except wasmcap.https.HTTPSError as e:
        out[name] = [type(e).__name__, e.code, isinstance(e, PermissionError), e.message[:200]]
    except Exception as e:  # noqa: BLE001
        out[name] = [type(e).__name__, str(e)[:200]]


def echo_post():
    r = wasmcap.https.request("POST", api + "/echo?q=1", headers={"X-Test": "yes"},
                              body="h\u00e9llo")
    j = r.json()
    # The server echoes the body's bytes as Latin-1 characters.
    return [r.status, r.header("content-type"), j["method"], j["path"], j["query"],
            j["body"].encode("latin-1").decode("utf-8"),
            [v for k, v in j["headers"] if k.lower() == "x-test"], r.truncated]


def secret():
    r = wasmcap.https.get(api + "/echo", headers=[("Authorization", "secret:tok")])
    j = r.json()
    return [r.status, [v for k, v in j["headers"] if k.lower() == "authorization"]]


attempt("echo_post", echo_post)
attempt("secret", secret)
attempt("status_404", lambda: wasmcap.https.get(api + "/status/404").status)
attempt("denied_host", lambda: wasmcap.https.get(other + "/echo").status)
attempt("denied_method", lambda: wasmcap.https.request("DELETE", api + "/echo").status)
attempt("unknown_secret", lambda: wasmcap.https.get(api + "/echo", headers={"A": "secret:nope"}).status)
attempt("public_host", lambda: wasmcap.https.get("https://example.com/").status)
attempt("nul_header", lambda: wasmcap.https.get(api + "/echo", headers={"A": "x\0y"}).status)
attempt("bad_headers", lambda: wasmcap.https.get(api + "/echo", headers=[("A",)]).status)
attempt("abi_version", lambda: __import__("_wasmcap").ABI_VERSION)


# Ordinary code: urllib.request and http.client over the same host API (wasmcap/_http.py).
def urllib_get():
    import urllib.request
    with urllib.request.urlopen(api + "/echo?via=urllib") as r:
        j = json.loads(r.read())
        return [r.status, r.headers.get("Content-Type"), j["method"], j["path"], j["query"],
                r.geturl().startswith("https://api.test")]


def urllib_post_secret():
    import urllib.request
    req = urllib.request.Request(api + "/echo", data=b'{"a": 1}', method="POST",
                                 headers={"Authorization": "secret:tok",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        j = json.loads(r.read())
    return [j["method"], j["body"], [v for k, v in j["headers"] if k.lower() == "authorization"]]


def urllib_404():
    import urllib.error
    import urllib.request
    try:
        urllib.request.urlopen(api + "/status/404")
    except urllib.error.HTTPError as e:
        return ["HTTPError", e.code]
    return ["no error"]


def urllib_denied():
    import urllib.error
    import urllib.request
    try:
        urllib.request.urlopen(other + "/echo")
    except urllib.error.URLError as e:
        r = e.reason
        return ["URLError", type(r).__name__, getattr(r, "code", None), isinstance(r, PermissionError)]
    return ["no error"]


def urllib_plain_http():
    import urllib.error
    import urllib.request
    try:
        urllib.request.urlopen("http://api.test/echo")
    except urllib.error.URLError as e:
        return ["URLError", "https" in str(e.reason) and "not available" in str(e.reason)]
    return ["no error"]


def urllib_redirect():
    import urllib.request
    with urllib.request.urlopen(api + "/redirect") as r:
        return [r.status, len(r.read()) > 0]


def http_client_low_level():
    import http.client
    host = api[len("https://"):]
    c = http.client.HTTPSConnection(host.split(":")[0], int(host.split(":")[1]))
    c.putrequest("PUT", "/echo?low=1")
    c.putheader("X-Low", "level")
    c.putheader("Content-Length", "5")
    c.endheaders()
    c.send(b"ab")
    c.send(b"cde")
    r = c.getresponse()
    j = json.loads(r.read())
    c.close()
    return [r.status, r.reason, j["method"], j["query"], j["body"],
            [v for k, v in j["headers"] if k.lower() == "x-low"]]


attempt("urllib_get", urllib_get)
attempt("urllib_post_secret", urllib_post_secret)
attempt("urllib_404", urllib_404)
attempt("urllib_denied", urllib_denied)
attempt("urllib_plain_http", urllib_plain_http)
attempt("urllib_redirect", urllib_redirect)
attempt("http_client_low_level", http_client_low_level)


def os_system():
    import os
    try:
        os.system("ls")
    except OSError as e:
        return ["OSError", "WASI has no processes" in str(e)]
    return ["no error"]


attempt("os_system", os_system)
print(json.dumps(out, sort_keys=True))
