"""What the stand-ins for outside APIs (SendGrid, Render) share: a threaded HTTP server on
a free loopback port, and a request handler that answers JSON and logs nothing."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class JsonHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real APIs offer

    def reply_json(
        self, status: int, body: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        payload = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if payload:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass


class LocalServer:
    """Serves ``handler`` on 127.0.0.1 in a daemon thread, from ``start()`` to ``stop()``;
    on ``port``, or a free one. ``OSError`` when the port is taken."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], *, port: int = 0):
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> LocalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
