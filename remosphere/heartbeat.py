"""Worker liveness for Render, which gives background workers no HTTP health check.

Each worker node writes ``remosphere:worker-heartbeat:<node>`` to Redis every
``INTERVAL`` seconds with a ``TTL`` a few intervals long; the key vanishes soon after a
node stops or hangs. ``/readyz`` reports the nodes alive (without failing on zero: the
web keeps accepting registrations while emails wait in Redis).
"""

from __future__ import annotations

import contextlib
import logging
import time

import redis
from celery import bootsteps

logger = logging.getLogger(__name__)

KEY_PREFIX = "remosphere:worker-heartbeat:"
INTERVAL = 10
TTL = 3 * INTERVAL


class Heartbeat(bootsteps.StartStopStep):
    """Celery worker bootstep writing the heartbeat on the worker's timer."""

    requires = ("celery.worker.components:Timer",)

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.timer_ref = None
        self.client = None

    def start(self, worker) -> None:
        url = worker.app.conf.broker_url
        if not url.startswith(("redis://", "rediss://")):
            return  # local file-system broker: nothing to report to
        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.key = KEY_PREFIX + worker.hostname
        self.beat()
        self.timer_ref = worker.timer.call_repeatedly(INTERVAL, self.beat, priority=10)

    def stop(self, worker) -> None:
        if self.timer_ref is not None:
            self.timer_ref.cancel()
        if self.client is not None:
            with contextlib.suppress(redis.RedisError):
                self.client.delete(self.key)
            self.client.close()

    def beat(self) -> None:
        try:
            self.client.set(self.key, f"{time.time():.0f}", ex=TTL)
        except redis.RedisError as error:
            logger.warning("worker heartbeat not written: %s", type(error).__name__)


def live_workers(client: redis.Redis) -> list[str]:
    """Names of the worker nodes whose heartbeat has not expired."""
    prefix = len(KEY_PREFIX)
    return sorted(key.decode()[prefix:] for key in client.scan_iter(f"{KEY_PREFIX}*"))
