"""Render's edge for a web service, on one port: what a browser or a client reaches.

On Render, requests reach a web service's instances through a load balancer that ends TLS
and says so: ``X-Forwarded-Proto: https`` and the client's address appended to
``X-Forwarded-For``. A Django app in production mode redirects plain HTTP to HTTPS and
counts proxies for its rate limits, so the rehearsal's public URL does the same in front
of the live instances, in turn. A request that no instance answers gets 502, as on Render.
"""

from __future__ import annotations

import http.client
import itertools
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from blueprintup.variables import Endpoint
from stack.ports import HOST

HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
    "trailers", "transfer-encoding", "upgrade",
    "date", "server",  # the edge's own
}  # fmt: skip
TIMEOUT = 100  # Render's load balancer waits this long for a response


class Edge:
    def __init__(self, port: int):
        self._upstreams: list[int] = []
        self._lock = threading.Lock()
        self._turn = itertools.count()
        self._server = ThreadingHTTPServer((HOST, port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(HOST, self._server.server_address[1], scheme="http")

    def start(self) -> Edge:
        self._thread.start()
        return self

    def route_to(self, upstreams: list[tuple[str, int]]) -> None:
        """The live instances' addresses and ports: requests go to them in turn."""
        with self._lock:
            self._upstreams = list(upstreams)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self) -> tuple[str, int] | None:
        with self._lock:
            if not self._upstreams:
                return None
            return self._upstreams[next(self._turn) % len(self._upstreams)]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        edge = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                upstream_at = edge._next()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if upstream_at is None:
                    return self._plain(502, b"no live instance\n")
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                forwarded = self.headers.get("X-Forwarded-For")
                client = self.client_address[0]
                headers["X-Forwarded-For"] = f"{forwarded}, {client}" if forwarded else client
                headers["X-Forwarded-Proto"] = "https"
                upstream = http.client.HTTPConnection(*upstream_at, timeout=TIMEOUT)
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    content = answer.read()
                except OSError:
                    return self._plain(502, b"the instance did not answer\n")
                finally:
                    upstream.close()
                self.send_response(answer.status, answer.reason)
                for name, value in answer.getheaders():
                    if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(content)
                return None

            def _plain(self, status: int, text: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _forward

            def log_message(self, format: str, *args: object) -> None:
                """The web's own access log says it; the edge adds nothing."""

        return Handler
