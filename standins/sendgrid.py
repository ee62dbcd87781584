"""A local HTTP server that speaks SendGrid's v3 ``POST /v3/mail/send``.

The production code path (``emails.sendgrid.client``) is pointed here through
``SENDGRID_API_HOST``. Each request is recorded; answers come from a script of responses
(status, headers, delay) and default to SendGrid's 202 Accepted with an ``X-Message-Id``.
Like SendGrid, it can then report what became of each accepted email to an Event
Webhook (``report_events``): signed batches, posted from another thread a moment later,
retried while the webhook does not answer 2xx.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from servicespec.sendgrid import EMAIL_ID_ARG
from stack.http import Reply
from standins.local_api import JsonHandler, LocalServer
from standins.sendgrid_events import EventSigner, event

LINK = re.compile(r"https?://\S+")


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
    message_id: str = ""  # the X-Message-Id it was given, if accepted

    @property
    def to(self) -> str:
        return self.body["personalizations"][0]["to"][0]["email"]

    @property
    def text(self) -> str:
        return next(c["value"] for c in self.body["content"] if c["type"] == "text/plain")

    @property
    def html(self) -> str:
        return next(c["value"] for c in self.body["content"] if c["type"] == "text/html")

    @property
    def subject(self) -> str:
        personal = (self.body.get("personalizations") or [{}])[0]
        return str(personal.get("subject") or self.body.get("subject") or "")

    @property
    def first_link(self) -> str:
        found = LINK.search(self.text)
        return found.group(0) if found else ""

    def summary(self) -> str:
        """One line: recipient, subject, the first link."""
        return f"to {self.to}: {self.subject!r} {self.first_link}".rstrip()

    @property
    def email_id(self) -> str | None:
        return (self.body.get("custom_args") or {}).get(EMAIL_ID_ARG)


@dataclass(frozen=True)
class Reporting:
    """Where and how the fake reports events: the webhook's URL, SendGrid's key, and the
    events each accepted email gets (by recipient, else ``default``)."""

    url: str
    signer: EventSigner
    default: tuple[str, ...] = ("processed", "delivered")
    by_address: dict[str, tuple[str, ...]] = field(default_factory=dict)
    delay: float = 0.2
    attempts: int = 20


class FakeSendGrid(LocalServer):
    def __init__(
        self,
        api_key: str,
        *,
        port: int = 0,
        outbox: Path | None = None,
        on_message: Callable[[Request], None] | None = None,
    ):
        """``outbox``: a directory where every accepted message is kept, as JSON;
        ``on_message``: called with each accepted one (the rehearsal prints a line)."""
        self.api_key, self.outbox, self.on_message = api_key, outbox, on_message
        self.requests: list[Request] = []
        self.arrivals = 0  # requests received, including those not yet answered
        self._script: deque[Answer] = deque()
        self._default = Answer()
        self._changed = threading.Condition()
        # Set by reset(): a request still held (Answer.delay) is let go, and not recorded,
        # so a held request never reaches into the next test.
        self._released = threading.Event()
        self._reporting: Reporting | None = None
        self._message_ids = itertools.count(1)
        self.reports: list[Reply] = []  # the webhook's answers to the batches posted
        super().__init__(self._handler(), port=port)

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
            self._reporting = None
            self.reports.clear()

    def report_events(self, reporting: Reporting) -> None:
        """Post events about every email accepted from now on to ``reporting.url``."""
        with self._changed:
            self._reporting = reporting

    def wait_for_reports(self, count: int, timeout: float = 30.0) -> list[Reply]:
        """Wait until the webhook answered ``count`` batches 2xx."""
        with self._changed:
            done = self._changed.wait_for(
                lambda: sum(200 <= r.status < 300 for r in self.reports) >= count, timeout
            )
            if not done:
                raise AssertionError(
                    f"expected {count} batch(es) taken by the webhook within {timeout}s, got "
                    f"{[r.status for r in self.reports]}"
                )
            return list(self.reports)

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
            reporting = self._reporting
        accepted = 200 <= request.answered < 300
        if accepted and self.outbox is not None:
            self.outbox.mkdir(parents=True, exist_ok=True)
            (self.outbox / f"{request.message_id}.json").write_text(
                json.dumps(request.body, indent=2)
            )
        if accepted and self.on_message is not None:
            self.on_message(request)
        if reporting is not None and accepted and request.email_id:
            threading.Thread(target=self._report, args=(reporting, request), daemon=True).start()
        return True

    def _report(self, reporting: Reporting, request: Request) -> None:
        """SendGrid's side: a moment after accepting, a signed batch of the email's
        events, retried until the webhook takes it (SendGrid retries for 24 hours)."""
        kinds = reporting.by_address.get(request.to, reporting.default)
        categories = request.body.get("categories") or ["verification"]
        batch = [
            event(
                kind,
                email=request.to,
                email_id=request.email_id,
                message_id=request.message_id,
                category=categories[0],
            )
            for kind in kinds
        ]
        for _ in range(reporting.attempts):
            time.sleep(reporting.delay)
            try:
                reply = reporting.signer.post(reporting.url, batch)
            except OSError:
                continue
            with self._changed:
                self.reports.append(reply)
                self._changed.notify_all()
            if 200 <= reply.status < 300:
                return

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
                message_id = ""
                if 200 <= answer.status < 300 and "X-Message-Id" not in answer.headers:
                    message_id = f"fakeMsg{next(fake._message_ids):06d}QxR7"
                    answer = Answer(
                        answer.status,
                        answer.body,
                        {**answer.headers, "X-Message-Id": message_id},
                        answer.delay,
                    )
                request = Request(
                    self.path,
                    self.headers["Authorization"],
                    body,
                    answer.status,
                    arrived,
                    self.client_address[1],
                    message_id or answer.headers.get("X-Message-Id", ""),
                )
                if fake._record(request, released):
                    self._reply(answer)

            def _reply(self, answer: Answer) -> None:
                self.reply_json(answer.status, answer.body, answer.headers)

        return Handler
