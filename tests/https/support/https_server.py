#!/usr/bin/env python3
"""A small HTTPS test server for wasmcap's https host API tests (loopback only).

Usage: https_server.py --cert server.pem --key server.key [--log requests.jsonl] [--host 127.0.0.1]

Listens on an ephemeral port of --host, prints "PORT <n>" on stdout, and serves until stdin is
closed (so it dies with the test process that started it). One thread per connection; TLS is
negotiated in that thread, so a stalled or failing client never blocks the others.

Behaviours, selected by path:
  /echo                   200, JSON {method, path, query, headers: [[name, value]...], body}
  /redirect?to=URL&code=N N (default 302) with Location: URL
  /loop                   302 with Location: /loop (a redirect loop)
  /stall?ms=N             sleeps N ms (default 10000) before answering 200
  /drip?ms=N              200 with a 4-byte body: its headers and "ab" at once, then "cd" after
                          N ms (default 10000)
  /big?n=N                200 with N bytes of 'x'
  /gzip                   200, Content-Encoding: gzip, a gzip body (never decoded by wasmcap)
  /huge-headers?n=N       200 with N response headers of ~100 bytes each
  /echo-header?name=H&pad=K
                          200, response header X-Echo: <value of request header H>, body: K bytes
                          of 'a' followed by the value twice, and a Content-MD5 of that body
  /echo-gzip              200, the /echo record gzip-compressed, Content-Encoding: gzip (whatever
                          the request's Accept-Encoding says: a server that ignores identity)
  /echo-partial           206, the /echo record with Content-Range: bytes 0-(n-1)/(n+100)
  /status/N               status N, empty body
Every request is appended to --log as one JSON line: {method, path, host, headers, body}.
"""
import argparse
import base64
import gzip
import hashlib
import json
import os
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LOG_LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "wasmcap-test"

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def _handle(self):
        body = self._body()
        url = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        record = {
            "method": self.command,
            "path": url.path,
            "query": url.query,
            "host": self.headers.get("Host", ""),
            "headers": [[k, v] for k, v in self.headers.items()],
            "body": body.decode("latin-1"),
        }
        if self.server.log_path:
            with LOG_LOCK, open(self.server.log_path, "a") as f:
                f.write(json.dumps(record) + "\n")
        p = url.path
        if p == "/echo":
            self._send(200, json.dumps(record).encode(), [("Content-Type", "application/json")])
        elif p == "/redirect":
            self._send(int(q.get("code", "302")), b"", [("Location", q.get("to", "/echo"))])
        elif p == "/loop":
            self._send(302, b"", [("Location", "/loop")])
        elif p == "/stall":
            time.sleep(int(q.get("ms", "10000")) / 1000.0)
            self._send(200, b"late")
        elif p == "/drip":
            self.send_response(200)
            self.send_header("Content-Length", "4")
            self.end_headers()
            self.wfile.write(b"ab")
            self.wfile.flush()
            time.sleep(int(q.get("ms", "10000")) / 1000.0)
            self.wfile.write(b"cd")
        elif p == "/big":
            self._send(200, b"x" * int(q.get("n", "0")))
        elif p == "/gzip":
            self._send(200, gzip.compress(b"hello " * 1000), [("Content-Encoding", "gzip")])
        elif p == "/huge-headers":
            n = int(q.get("n", "1000"))
            self._send(200, b"ok", [("X-Filler-%d" % i, "v" * 90) for i in range(n)])
        elif p == "/echo-header":
            value = self.headers.get(q.get("name", ""), "")
            pad = int(q.get("pad", "0"))
            body = b"a" * pad + (value + value).encode("latin-1")
            md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
            self._send(200, body, [("X-Echo", value), ("Content-MD5", md5)])
        elif p == "/echo-gzip":
            self._send(200, gzip.compress(json.dumps(record).encode()),
                       [("Content-Encoding", "gzip")])
        elif p == "/echo-partial":
            body = json.dumps(record).encode()
            self._send(206, body, [("Content-Range", "bytes 0-%d/%d" % (len(body) - 1, len(body) + 100))])
        elif p.startswith("/status/"):
            self._send(int(p[len("/status/"):]))
        else:
            self._send(404, b"not found")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _handle


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, ctx, log_path):
        self.ctx = ctx
        self.log_path = log_path
        super().__init__(addr, Handler)

    def finish_request(self, request, client_address):
        # Runs in the connection's own thread: the TLS handshake cannot block other clients.
        request.settimeout(30)
        # Headers and body go out in separate writes: without TCP_NODELAY, Nagle + the client's
        # delayed ACK add ~40 ms to every response.
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            request.close()
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        except (ssl.SSLError, OSError):
            pass

    def handle_error(self, request, client_address):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--log", default="")
    args = ap.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    server = Server((args.host, 0), ctx, args.log)
    print("PORT %d" % server.server_address[1], flush=True)

    def watch_stdin():
        # The parent holds our stdin open; EOF means it is gone.
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    server.serve_forever(poll_interval=0.1)


if __name__ == "__main__":
    main()
