"""A local HTTP server that speaks SendGrid's v3 ``POST /v3/mail/send``.

Test code only: the production code path is the official SDK, pointed here through
``SENDGRID_API_HOST``. Each request is recorded; answers come from a script of
responses (status, headers, delay) and default to SendGrid's 202 Accepted.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from tests.support.local_api import JsonHandler, LocalServer


@dataclass(frozen=True)
class Answer:
    status: int = 202
    body: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class Request:
    path: str
    authorization: str
    body: dict
    answered: int
    arrived: float = 0.0  # time.time() when the request arrived (before any delay)
    client_port: int = 0  # the same port twice: a kept-alive connection

    @property
    def to(self) -> str:
        return self.body["personalizations"][0]["to"][0]["email"]

    @property
    def text(self) -> str:
        return next(c["value"] for c in self.body["content"] if c["type"] == "text/plain")

    @property
    def html(self) -> str:
        return next(c["value"] for c in self.body["content"] if c["type"] == "text/html")


class FakeSendGrid(LocalServer):
    def __init__(self, api_key: str):
        self.api_key = api_key
        self.requests: list[Request] = []
        self.arrivals = 0  # requests received, including those not yet answered
        self._script: deque[Answer] = deque()
        self._default = Answer()
        self._changed = threading.Condition()
        # Set by reset(): a request still held (Answer.delay) is let go, and not recorded,
        # so a held request never reaches into the next test.
        self._released = threading.Event()
        super().__init__(self._handler())

    @property
    def host(self) -> str:
        return self.base_url

    def start(self) -> FakeSendGrid:
        super().start()
        return self

    def reset(self) -> None:
        with self._changed:
            self._released.set()
            self._released = threading.Event()
            self._default = Answer()
            self.requests.clear()
            self._script.clear()
            self.arrivals = 0

    def answer_always(self, answer: Answer) -> None:
        """Answer every request with ``answer`` from now on (the benchmarks' latency)."""
        with self._changed:
            self._default = answer

    def answer_next(self, *answers: Answer) -> None:
        """Answer the next requests with these, then 202 again."""
        with self._changed:
            self._script.extend(answers)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Request]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} request(s) to /v3/mail/send within {timeout}s, "
                        f"got {len(self.requests)}"
                    )
                self._changed.wait(left)
            return list(self.requests)

    def wait_for_arrival(self, count: int = 1, timeout: float = 30.0) -> None:
        """Wait until ``count`` requests have arrived, answered or not."""
        with self._changed:
            if not self._changed.wait_for(lambda: self.arrivals >= count, timeout):
                raise AssertionError(f"expected {count} request(s) within {timeout}s")

    def _next_answer(self) -> tuple[Answer, threading.Event]:
        with self._changed:
            self.arrivals += 1
            self._changed.notify_all()
            return (self._script.popleft() if self._script else self._default), self._released

    def _record(self, request: Request, released: threading.Event) -> bool:
        with self._changed:
            if released.is_set():
                return False
            self.requests.append(request)
            self._changed.notify_all()
            return True

    def _handler(self) -> type[JsonHandler]:
        fake = self

        class Handler(JsonHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.path != "/v3/mail/send":
                    return self._reply(Answer(404, {"errors": [{"message": "not found"}]}))
                if self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                    return self._reply(Answer(401, {"errors": [{"message": "bad key"}]}))
                try:
                    body = json.loads(raw)
                except ValueError:
                    return self._reply(Answer(400, {"errors": [{"message": "bad JSON"}]}))
                arrived = time.time()
                answer, released = fake._next_answer()
                released.wait(answer.delay)
                request = Request(
                    self.path,
                    self.headers["Authorization"],
                    body,
                    answer.status,
                    arrived,
                    self.client_address[1],
                )
                if fake._record(request, released):
                    self._reply(answer)

            def _reply(self, answer: Answer) -> None:
                self.reply_json(answer.status, answer.body, answer.headers)

        return Handler
