"""wasmcap.https: outbound HTTPS through wasmcap's host API (docs/abi-https.md).

request(method, url, headers=None, body=b"", strict=False) -> Response

- headers: a mapping or a sequence of (name, value) pairs of str. A value "secret:NAME" is a
  reference to the operator's secret NAME: the host injects the value, which never enters this
  interpreter's memory.
- body: bytes-like, or str (sent as UTF-8).
- strict: a response over the operator's size cap raises (code "response_too_large") instead of
  being truncated (Response.truncated).

A request the host refuses or that fails raises HTTPSError (or a subclass) whose .code is the
host's stable error code: grant_denied, url_rejected, private_address, method_not_allowed,
request_too_large, redirect_denied, too_many_redirects, timeout, response_too_large, tls_error,
network_error, rate_limited; or the SDK's abi_error / out_of_memory.
"""
import json as _json

import _wasmcap

__all__ = ["request", "get", "post", "Response", "HTTPSError", "PolicyError", "HTTPSTimeout",
           "POLICY_CODES"]

# Codes meaning "the operator's policy refused this request" (nothing was sent).
POLICY_CODES = frozenset({"grant_denied", "url_rejected", "private_address",
                          "method_not_allowed", "request_too_large", "redirect_denied",
                          "rate_limited"})


class HTTPSError(Exception):
    """A request that produced no HTTP response. .code: the host's error code; .message: why."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class PolicyError(HTTPSError, PermissionError):
    """The host's policy refused the request (no grant, private address, ...)."""


class HTTPSTimeout(HTTPSError, TimeoutError):
    """The request ran past its deadline."""


def _error(code, message):
    if code in POLICY_CODES:
        return PolicyError(code, message)
    if code == "timeout":
        return HTTPSTimeout(code, message)
    return HTTPSError(code, message)


class Response:
    """An HTTP response (any status). headers: list of (name, value) in the order received."""

    __slots__ = ("status", "headers", "body", "truncated")

    def __init__(self, status, headers, body, truncated):
        self.status = status
        self.headers = headers
        self.body = body
        self.truncated = truncated

    def header(self, name, default=None):
        """The first header called `name` (case-insensitive), or `default`."""
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    def text(self, encoding="utf-8", errors="replace"):
        return self.body.decode(encoding, errors)

    def json(self):
        return _json.loads(self.body)

    def __repr__(self):
        return (f"<wasmcap.https.Response status={self.status} body={len(self.body)} bytes"
                f"{' truncated' if self.truncated else ''}>")


def _header_pairs(headers):
    if headers is None:
        return []
    items = headers.items() if hasattr(headers, "items") else headers
    pairs = []
    for item in items:
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise TypeError("headers must be a mapping or (name, value) pairs, got %r" % (item,))
        name, value = item
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError("header names and values must be str")
        pairs.append((name, value))
    return pairs


def request(method, url, headers=None, body=b"", strict=False):
    """Sends one HTTPS request through the host and returns its Response."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    elif body is None:
        body = b""
    result = _wasmcap.https_request(method, url, _header_pairs(headers), body, bool(strict))
    if result[0] == "error":
        raise _error(result[1], result[2])
    _, status, hdrs, data, truncated = result
    return Response(status, hdrs, data, truncated)


def get(url, headers=None, **kw):
    return request("GET", url, headers=headers, **kw)


def post(url, body=b"", headers=None, **kw):
    return request("POST", url, headers=headers, body=body, **kw)
