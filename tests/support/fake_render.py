"""A local HTTP server that speaks the few calls of Render's public API the autoscaler
makes: ``GET /v1/services?name=``, ``GET /v1/services/<id>``, ``POST
/v1/services/<id>/scale``. Test code only: the autoscaler's own client is pointed here
through ``RENDER_API_URL``.

It keeps one worker service's instance count; ``on_scale`` lets a test (or the benchmark)
really start and stop worker processes when it changes, as Render would. Answers can be
scripted (a status, headers, a delay) to cause every failure of the API.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Answer:
    status: int
    body: object = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class FakeRender:
    def __init__(
        self,
        api_key: str,
        *,
        service_id: str = "srv-worker0001",
        name: str = "remosphere-worker",
        instances: int = 1,
        autoscaling: bool = False,
        on_scale: Callable[[int], None] | None = None,
    ):
        self.api_key, self.service_id, self.name = api_key, service_id, name
        self.instances, self.autoscaling, self.on_scale = instances, autoscaling, on_scale
        self.scale_calls: list[int] = []
        self.scale_answer: Answer | None = None  # set: every scale call gets this answer
        self.requests: list[tuple[str, str, str]] = []  # method, path, Authorization
        self.history: list[tuple[float, int]] = [(time.monotonic(), instances)]
        self._script: deque[Answer] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> FakeRender:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer_next(self, *answers: Answer) -> None:
        with self._lock:
            self._script.extend(answers)

    def _service(self) -> dict:
        return {
            "id": self.service_id,
            "name": self.name,
            "type": "background_worker",
            "serviceDetails": {
                "numInstances": self.instances,
                "autoscaling": {"enabled": self.autoscaling, "min": 1, "max": 3},
                "plan": "starter",
            },
        }

    def _answer(self, method: str, url: str, body: bytes) -> Answer:
        parts = urlsplit(url)
        path = parts.path.removeprefix("/v1")
        if path == "/services" and method == "GET":
            names = parse_qs(parts.query).get("name", [])
            found = [] if names and self.name not in names else [self._service()]
            return Answer(200, [{"cursor": "c1", "service": s} for s in found])
        if path == f"/services/{self.service_id}" and method == "GET":
            return Answer(200, self._service())
        if path == f"/services/{self.service_id}/scale" and method == "POST":
            count = int(json.loads(body)["numInstances"])
            self.scale_calls.append(count)
            if self.scale_answer is not None:
                return self.scale_answer
            if not self.autoscaling:
                self.instances = count
                self.history.append((time.monotonic(), count))
                if self.on_scale:
                    self.on_scale(count)
            return Answer(202)
        if path.startswith("/services/"):
            return Answer(404, {"id": "not_found", "message": "service not found"})
        return Answer(404, {"message": "not found"})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                authorization = self.headers.get("Authorization", "")
                with fake._lock:
                    fake.requests.append((method, self.path, authorization))
                    scripted = fake._script.popleft() if fake._script else None
                if scripted is not None:
                    time.sleep(scripted.delay)
                    return self._reply(scripted)
                if authorization != f"Bearer {fake.api_key}":
                    return self._reply(Answer(401, {"id": "unauthorized", "message": "bad key"}))
                self._reply(fake._answer(method, self.path, body))

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def _reply(self, answer: Answer) -> None:
                payload = json.dumps(answer.body).encode() if answer.body is not None else b""
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler
