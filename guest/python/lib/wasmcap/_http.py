"""http.client.HTTPSConnection over wasmcap.https, so that ordinary code (urllib.request.urlopen,
http.client, libraries built on them) makes its https requests through the operator's grants.

This build has no `ssl` module (no OpenSSL in the sandbox: TLS is the host's, verified against
the operator's CA set), so CPython's http.client defines no HTTPSConnection and urllib knows no
https handler. install() (called by sitecustomize when http.client is first imported) adds this
one. A connection opens no socket: it collects the request (putrequest/putheader/endheaders/send,
or request()), makes it with wasmcap.https.request once the body is whole, and getresponse()
hands back a real http.client.HTTPResponse parsed from the host's answer. The host follows redirects itself (the
grant's max_redirects) and applies every rule (hosts, methods, paths, secrets, sizes, deadline).

Errors: a refusal or a failure with no HTTP response raises wasmcap.https's exceptions, which are
OSErrors (PolicyError is a PermissionError, HTTPSTimeout a TimeoutError, the rest an
HTTPSConnectionError, a ConnectionError), so urllib reports them as URLError(reason=that error).
A body over the operator's cap raises (strict requests: never a silently cut body). Plain http://
is refused with a message naming https: the host API makes https requests only.
"""
import http
import http.client as _client
import io

from . import https as _https

# Request headers the host owns (docs/https.md): http.client adds some of them itself; the host
# sets Host and the framing from the request it makes.
_HOST_OWNED = frozenset({"host", "content-length", "transfer-encoding", "connection",
                         "keep-alive", "te", "trailer", "expect", "upgrade"})


class HTTPSConnectionError(_https.HTTPSError, ConnectionError):
    """A request that got no HTTP response for a reason other than policy or a timeout."""


class _Replay:
    """The socket HTTPResponse reads from: the host's response, serialized once."""

    def __init__(self, data):
        self._data = data

    def makefile(self, mode, *args, **kwargs):
        return io.BytesIO(self._data)

    def close(self):
        pass


def _reason(status):
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _clean(text):
    # The host never passes CR/LF in a header (libcurl splits lines on them); kept out anyway so
    # a value can never add a line to the response parsed below.
    return text.replace("\r", " ").replace("\n", " ")


def _body_bytes(body):
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("iso-8859-1")  # http.client's rule for a str body
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("iso-8859-1") if isinstance(data, str) else bytes(data)
    return b"".join(c.encode("iso-8859-1") if isinstance(c, str) else bytes(c) for c in body)


class HTTPSConnection(_client.HTTPConnection):
    """http.client.HTTPSConnection's interface; the request is made by the host (see above).
    key_file, cert_file, context and check_hostname are accepted and ignored: the host does TLS
    with the operator's CA set and always checks the name."""

    default_port = 443

    def __init__(self, host, port=None, key_file=None, cert_file=None,
                 timeout=_client.socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None, *,
                 context=None, check_hostname=None, blocksize=8192):
        super().__init__(host, port, timeout, source_address, blocksize=blocksize)
        self._wc_reset()

    def _wc_reset(self):
        self._wc_method = None
        self._wc_url = None
        self._wc_headers = []
        self._wc_body = []
        self._wc_length = None   # the Content-Length the caller announced, if any
        self._wc_ended = False   # endheaders() was called
        self._wc_response = None

    def connect(self):
        pass  # no socket: the host connects when the request is made

    def close(self):
        super().close()
        self._wc_reset()

    def putrequest(self, method, url, skip_host=False, skip_accept_encoding=False):
        self._validate_method(method)
        self._validate_path(url)
        self._wc_reset()
        self._wc_method = method
        self._wc_url = url or "/"

    def putheader(self, header, *values):
        if self._wc_method is None or self._wc_ended:
            raise _client.CannotSendHeader()
        name = header.decode("latin-1") if isinstance(header, bytes) else str(header)
        parts = [v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in values]
        value = "\r\n\t".join(parts)
        if name.lower() == "content-length":
            try:
                self._wc_length = int(value)
            except ValueError:
                self._wc_length = None
        self._wc_headers.append((name, value))

    # The request is made as soon as its body is whole: at endheaders(body) (urllib and
    # request() pass the body there), or when send() has delivered the announced Content-Length,
    # else at getresponse(). So a refusal or a network failure surfaces where http.client's
    # would (request()/endheaders()/send(): urllib turns it into URLError).
    def endheaders(self, message_body=None, *, encode_chunked=False):
        if self._wc_method is None or self._wc_ended:
            raise _client.CannotSendHeader()
        self._wc_ended = True
        if message_body is not None:
            self._wc_body.append(_body_bytes(message_body))
        if message_body is not None or not self._wc_length:
            self._wc_perform()

    def send(self, data):
        if self._wc_method is None or not self._wc_ended or self._wc_response is not None:
            raise _client.CannotSendRequest()
        self._wc_body.append(_body_bytes(data))
        if self._wc_length and sum(map(len, self._wc_body)) >= self._wc_length:
            self._wc_perform()

    def request(self, method, url, body=None, headers={}, *, encode_chunked=False):
        self.putrequest(method, url)
        for name, value in headers.items():
            self.putheader(name, value)
        self.endheaders(body)

    def _wc_full_url(self):
        url = self._wc_url
        if url.startswith(("https://", "http://")):
            return url  # an absolute URL (as a proxy request would have it)
        host = self.host if ":" not in self.host else "[" + self.host + "]"
        port = "" if self.port in (None, 443) else ":%d" % self.port
        return "https://%s%s%s" % (host, port, url)

    def _wc_perform(self):
        if self._wc_response is not None:
            return
        method, url = self._wc_method, self._wc_full_url()
        headers = []
        for name, value in self._wc_headers:
            low = name.lower()
            if low in _HOST_OWNED:
                continue
            if low == "accept-encoding" and value.strip().lower() == "identity":
                continue  # http.client's default; the host asks for identity where it matters
            headers.append((name, value))
        body = b"".join(self._wc_body)
        self._wc_body = []
        try:
            r = _https.request(method, url, headers=headers, body=body, strict=True)
        except _https.HTTPSError as e:
            self._wc_reset()
            if isinstance(e, OSError):
                raise
            raise HTTPSConnectionError(e.code, e.message) from None
        lines = ["HTTP/1.1 %d %s" % (r.status, _reason(r.status))]
        for name, value in r.headers:
            if name.lower() in ("content-length", "transfer-encoding", "connection"):
                continue  # the body below is whole: framed by its own length
            lines.append("%s: %s" % (_clean(name), _clean(value)))
        lines.append("Content-Length: %d" % len(r.body))
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        self._wc_response = (method, url, head + r.body)

    def getresponse(self):
        if self._wc_method is None or not self._wc_ended:
            raise _client.ResponseNotReady("no request was made")
        self._wc_perform()
        method, url, data = self._wc_response
        self._wc_reset()
        resp = self.response_class(_Replay(data), self.debuglevel, method=method, url=url)
        resp.begin()
        return resp


class _PlainHTTPConnection(_client.HTTPConnection):
    def connect(self):
        raise PermissionError(
            "wasmcap: plain http://%s is not available in the sandbox: requests go through the "
            "host's https API only (use an https:// URL the operator grants)" % self.host)


def install(client):
    """Adds HTTPSConnection to the module http.client (once)."""
    if getattr(client, "_wasmcap_installed", False):
        return
    client.HTTPSConnection = HTTPSConnection
    if "HTTPSConnection" not in client.__all__:
        client.__all__.append("HTTPSConnection")
    # Plain http has no route out of the sandbox: say so instead of a bare socket error.
    client.HTTPConnection.connect = _PlainHTTPConnection.connect
    client._wasmcap_installed = True
