"""A private redis-server on a port of its own, for the tests that must stop Redis (the
machine's Redis on 6379 serves everything else and is never stopped)."""

from __future__ import annotations

import shutil
import subprocess
import time

import redis

from tests.support.processes import free_port


class RedisServer:
    def __init__(self, *, maxmemory_policy: str = "noeviction") -> None:
        if shutil.which("redis-server") is None:
            raise AssertionError("redis-server is not installed (.ci/run installs it)")
        self.port = free_port()
        self.maxmemory_policy = maxmemory_policy
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--maxmemory-policy", self.maxmemory_policy],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
                return self
            except redis.ConnectionError:
                time.sleep(0.05)
        raise AssertionError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None
