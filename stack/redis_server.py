"""A redis-server of its own on a free loopback port: a Key Value instance of the blueprint
rehearsal, or a Redis a test may stop (the machine's Redis on 6379 serves everything else
and is never stopped)."""

from __future__ import annotations

import shutil
import subprocess  # nosec B404
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import redis

from stack import ownership, ports, processes

NO_PERSISTENCE = ("--save", "", "--appendonly", "no")


class StackError(RuntimeError):
    """Something local could not be started; the message says what to do."""


class RedisServer:
    def __init__(
        self,
        *,
        maxmemory_policy: str = "noeviction",
        memory_mb: int | None = None,
        persistence: Sequence[str] = NO_PERSISTENCE,
        directory: Path | None = None,
        output: int | IO[bytes] = subprocess.DEVNULL,
        also_on: Sequence[str] = (),
    ) -> None:
        """``output``: where its log goes (``subprocess.PIPE`` to read it); ``also_on``:
        addresses it listens on besides 127.0.0.1 (the gateway of a run's network)."""
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise StackError(
                "redis-server is not installed: Debian/Ubuntu: apt-get install redis-server; "
                "macOS: brew install redis"
            )
        self.port = ports.free()
        self.maxmemory_policy, self.memory_mb = maxmemory_policy, memory_mb
        self.persistence, self.directory, self.output = tuple(persistence), directory, output
        self.process: subprocess.Popen | None = None
        self.also_on = tuple(also_on)

    @property
    def url(self) -> str:
        return f"redis://{ports.HOST}:{self.port}/0"

    def launch(self) -> subprocess.Popen:
        """Start it, without waiting for it to answer (``ready`` waits)."""
        memory = ["--maxmemory", f"{self.memory_mb}mb"] if self.memory_mb else []
        where = ["--dir", str(self.directory)] if self.directory is not None else []
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
        self.process = ownership.popen(
            [
                str(self.binary), "--bind", ports.HOST, *self.also_on,
                # A run's network is this machine's own: its instances connect without a
                # password, as on Render's private network (protected mode would refuse).
                *(["--protected-mode", "no"] if self.also_on else []),
                "--port", str(self.port), *where,
                "--maxmemory-policy", self.maxmemory_policy, *memory, *self.persistence,
                "--loglevel", "warning",
            ],
            stdout=self.output,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        return self.process

    def ready(self, timeout: float = 15.0) -> bool:
        """Whether it answered a PING within ``timeout``; ``False`` at once if it exited."""
        client = redis.Redis(host=ports.HOST, port=self.port, socket_timeout=1)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if self.process is None or self.process.poll() is not None:
                    return False
                try:
                    client.ping()
                    return True
                except redis.RedisError:
                    time.sleep(0.05)
            return False
        finally:
            client.close()

    def start(self, timeout: float = 15.0) -> RedisServer:
        self.launch()
        if not self.ready(timeout):
            self.stop()
            raise StackError(f"redis-server did not answer on port {self.port} in {timeout}s")
        return self

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM, then SIGKILL if it has not exited within ``timeout``."""
        if self.process is not None:
            processes.terminate(self.process, timeout)
        self.process = None
