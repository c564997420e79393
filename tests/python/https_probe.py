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
print(json.dumps(out, sort_keys=True))
