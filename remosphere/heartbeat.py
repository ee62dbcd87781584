"""Worker liveness for Render, which gives background workers no HTTP health check.

Each worker node writes a heartbeat every ``INTERVAL`` seconds that lasts ``TTL`` (a few
intervals); it vanishes soon after a node stops or hangs. ``/readyz`` reports the nodes
alive (without failing on zero: the web keeps accepting registrations while emails wait
in the broker).

Where: in Redis (``remosphere:worker-heartbeat:<node>``, with an expiry) when the broker
is Redis; locally, with the file-system broker, as files under
``LOCAL_DATA_DIR/heartbeats/`` whose age is their expiry, so ``make run`` lists its worker
too.
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path

import redis
from celery import bootsteps
from django.conf import settings

logger = logging.getLogger(__name__)

KEY_PREFIX = "remosphere:worker-heartbeat:"
INTERVAL = 10
TTL = 3 * INTERVAL


class RedisHeartbeats:
    def __init__(self, client: redis.Redis):
        self.client = client

    def beat(self, node: str) -> None:
        self.client.set(KEY_PREFIX + node, f"{time.time():.0f}", ex=TTL)

    def remove(self, node: str) -> None:
        self.client.delete(KEY_PREFIX + node)

    def alive(self) -> list[str]:
        prefix = len(KEY_PREFIX)
        return sorted(key.decode()[prefix:] for key in self.client.scan_iter(f"{KEY_PREFIX}*"))

    def close(self) -> None:
        self.client.close()


class FileHeartbeats:
    def __init__(self, folder: Path):
        self.folder = folder

    def beat(self, node: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / node).write_text(f"{time.time():.0f}")

    def remove(self, node: str) -> None:
        (self.folder / node).unlink(missing_ok=True)

    def alive(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        fresh_since = time.time() - TTL
        return sorted(p.name for p in self.folder.iterdir() if p.stat().st_mtime >= fresh_since)

    def close(self) -> None:
        pass


def heartbeats(client: redis.Redis | None = None) -> RedisHeartbeats | FileHeartbeats:
    """Where this deployment keeps heartbeats (``client``: a Redis client to reuse)."""
    if settings.REDIS_URL:
        return RedisHeartbeats(
            client
            or redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
        )
    return FileHeartbeats(settings.LOCAL_DATA_DIR / "heartbeats")


def live_workers(client: redis.Redis | None = None) -> list[str]:
    """Names of the worker nodes whose heartbeat has not expired."""
    return heartbeats(client).alive()


class Heartbeat(bootsteps.StartStopStep):
    """Celery worker bootstep writing the heartbeat on the worker's timer."""

    requires = ("celery.worker.components:Timer",)

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.timer_ref = None
        self.store = None

    def start(self, worker) -> None:
        self.store = heartbeats()
        self.node = worker.hostname
        self.beat()
        self.timer_ref = worker.timer.call_repeatedly(INTERVAL, self.beat, priority=10)

    def stop(self, worker) -> None:
        if self.timer_ref is not None:
            self.timer_ref.cancel()
        if self.store is not None:
            with contextlib.suppress(redis.RedisError, OSError):
                self.store.remove(self.node)
            self.store.close()

    def beat(self) -> None:
        try:
            self.store.beat(self.node)
        except (redis.RedisError, OSError) as error:
            logger.warning("worker heartbeat not written: %s", type(error).__name__)
