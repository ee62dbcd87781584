"""Worker instances that come and go as Render's API is told to scale: each a real worker
process through docker/worker-entrypoint.sh with its own RENDER_INSTANCE_ID; scaling down
sends SIGTERM to the newest, as Render stops an instance. For the autoscaler's closed-loop
test and benchmark (``FakeRender(on_scale=fleet.scale)``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from stack.worker import WorkerProcess


class Fleet:
    def __init__(
        self,
        env: dict[str, str],
        log_dir: Path,
        *,
        started: Callable[[WorkerProcess], None] | None = None,
        stopped: Callable[[WorkerProcess], None] | None = None,
    ):
        """``started``/``stopped``: called as each instance starts and once it has exited
        (the benchmark puts each in a cgroup of its own, and removes it)."""
        self.env, self.log_dir = env, log_dir
        self.started, self.stopped = started, stopped
        self.running: list[WorkerProcess] = []
        self.logs: list[Path] = []
        self.spans: list[list[float]] = []  # [start, stop or None] per instance
        self._lock = threading.Lock()
        self._stoppers: list[threading.Thread] = []

    def scale(self, count: int) -> None:
        """What Render does on a scale call: start or stop instances, without waiting."""
        with self._lock:
            while len(self.running) < count:
                number = len(self.spans)
                log = self.log_dir / f"fleet-{number}.log"
                worker = WorkerProcess({**self.env, "RENDER_INSTANCE_ID": f"fleet-{number}"}, log)
                if self.started:
                    self.started(worker)
                self.running.append(worker)
                self.logs.append(log)
                self.spans.append([time.monotonic(), None])
            while len(self.running) > count:
                worker = self.running.pop()
                span = self.spans[self._index(worker)]
                stopper = threading.Thread(target=self._stop, args=(worker, span), daemon=True)
                stopper.start()
                self._stoppers.append(stopper)

    def _index(self, worker: WorkerProcess) -> int:
        return self.logs.index(worker.log_path)

    def _stop(self, worker: WorkerProcess, span: list[float]) -> None:
        worker.stop(timeout=60)
        span[1] = time.monotonic()
        if self.stopped:
            self.stopped(worker)

    def instance_seconds(self, since: float = 0.0, until: float | None = None) -> float:
        """Instance-seconds spent between ``since`` and ``until`` (monotonic; what Render
        bills), counting each instance from its start to its exit."""
        end = time.monotonic() if until is None else until
        return sum(
            max(0.0, min(stop or end, end) - max(start, since)) for start, stop in self.spans
        )

    def close(self) -> None:
        self.scale(0)
        for stopper in self._stoppers:
            stopper.join(timeout=90)
