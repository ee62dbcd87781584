"""A local HTTP server that speaks the few calls of Render's public API the autoscaler
makes: ``GET /v1/services?name=``, ``GET /v1/services/<id>``, ``POST
/v1/services/<id>/scale``; and Render's "trigger a run" of a cron job, ``POST
/v1/cron-jobs/<id>/runs`` (a rehearsal's cron jobs by name too). The autoscaler's own
client is pointed here through ``RENDER_API_URL`` (the tests, the benchmark, and a
rehearsal of the blueprint).

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
from urllib.parse import parse_qs, urlsplit

from standins.local_api import JsonHandler, LocalServer


@dataclass(frozen=True)
class Answer:
    status: int
    body: object = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class FakeRender(LocalServer):
    def __init__(
        self,
        api_key: str,
        *,
        service_id: str = "srv-worker0001",
        name: str = "remosphere-worker",
        instances: int = 1,
        autoscaling: bool = False,
        on_scale: Callable[[int], None] | None = None,
        on_cron_run: Callable[[str], bool] | None = None,
        port: int = 0,
    ):
        self.api_key, self.service_id, self.name = api_key, service_id, name
        self.instances, self.autoscaling, self.on_scale = instances, autoscaling, on_scale
        self.on_cron_run = on_cron_run  # a cron job's id or name -> whether it runs
        self.scale_calls: list[int] = []
        self.scale_answer: Answer | None = None  # set: every scale call gets this answer
        self.requests: list[tuple[str, str, str]] = []  # method, path, Authorization
        self.history: list[tuple[float, int]] = [(time.monotonic(), instances)]
        self._script: deque[Answer] = deque()
        self._lock = threading.Lock()
        super().__init__(self._handler(), port=port)

    @property
    def url(self) -> str:
        return f"{self.base_url}/v1"

    def start(self) -> FakeRender:
        super().start()
        return self

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
        job = path.removeprefix("/cron-jobs/").removesuffix("/runs")
        if path == f"/cron-jobs/{job}/runs" and method == "POST":  # Render's "trigger run"
            if self.on_cron_run is not None and self.on_cron_run(job):
                return Answer(202, {"id": f"crn-run-{int(time.time())}", "status": "pending"})
            return Answer(404, {"id": "not_found", "message": "cron job not found"})
        return Answer(404, {"message": "not found"})

    def _handler(self) -> type[JsonHandler]:
        fake = self

        class Handler(JsonHandler):
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
                self.reply_json(answer.status, answer.body, answer.headers)

        return Handler
