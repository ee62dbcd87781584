"""Requests to the web while the workers are busy: how many it serves, and how fast."""

from __future__ import annotations

import statistics
import threading
import time

from bench.stack import request


class WebLoad:
    """``threads`` clients calling ``GET /api/auth/me`` (token auth: a database read) in a
    loop, each pausing ``pause`` seconds between requests, until the block ends."""

    def __init__(self, url: str, token: str, *, threads: int = 2, pause: float = 0.0):
        self.url, self.token, self.pause = url, token, pause
        self.latencies: list[float] = []
        self.errors = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(threads)]
        self.seconds = 0.0

    def __enter__(self) -> WebLoad:
        self._started = time.perf_counter()
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self.seconds = time.perf_counter() - self._started

    def _loop(self) -> None:
        while not self._stop.is_set():
            answer = request("GET", f"{self.url}/api/auth/me", token=self.token, timeout=30)
            with self._lock:
                self.latencies.append(answer.seconds)
                self.errors += answer.status != 200
            if self.pause:
                self._stop.wait(self.pause)

    @property
    def requests_per_s(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    @property
    def p99_ms(self) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] * 1000 if self.latencies else 0.0
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[98] * 1000
