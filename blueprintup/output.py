"""What a rehearsal prints: status lines (``==>``, as in Render's deploy log) and every
process's output, one line at a time, prefixed with its service and instance like Render's
log stream. The last lines of each process are kept, to show when it fails to start."""

from __future__ import annotations

import sys
import threading
from collections import deque
from typing import IO, TextIO

TAIL_LINES = 30


class Console:
    def __init__(self, stream: TextIO | None = None):
        self._stream = stream or sys.stdout
        self._lock = threading.Lock()
        self.width = 0  # the longest prefix so far: log lines line up

    def status(self, message: str) -> None:
        self._write(f"==> {message}")

    def line(self, prefix: str, text: str) -> None:
        self.width = max(self.width, len(prefix))
        self._write(f"{prefix.ljust(self.width)} | {text}")

    def _write(self, text: str) -> None:
        with self._lock:
            self._stream.write(text + "\n")
            self._stream.flush()


class Pump:
    """Copies one process's output to the console on a thread of its own."""

    def __init__(self, console: Console, prefix: str, stream: IO[bytes] | None):
        if stream is None:
            raise ValueError("a process's output is read from a pipe (stdout=PIPE)")
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self._console, self._prefix, self._stream = console, prefix, stream
        self._thread = threading.Thread(target=self._run, name=f"log {prefix}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for raw in iter(self._stream.readline, b""):
            text = raw.decode(errors="replace").rstrip("\r\n")
            self.tail.append(text)
            self._console.line(self._prefix, text)
        self._stream.close()

    @property
    def prefix(self) -> str:
        return self._prefix

    def join(self, timeout: float = 5.0) -> None:
        """Wait for the output a process wrote before it ended."""
        self._thread.join(timeout)
