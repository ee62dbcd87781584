"""The one reader of the broker's queues: how many messages wait, and how long the
oldest has waited. The autoscaler, the metrics and ``doctor`` all read through it.

Celery's Redis transport (kombu) keeps a queue as Redis lists, one per priority step:
``<queue>`` for priority 0 and ``<queue>\\x06\\x16<step>`` for the others. A message is
``LPUSH``ed and taken with ``BRPOP``, so the oldest waiting message of each list is at its
tail (``LINDEX -1``). Every task message carries a ``published_at`` header, set when it is
published (``remosphere.celery``); the oldest message's is the queue's latency. One
pipelined round trip per read: ``LLEN`` and ``LINDEX -1`` for each list, never a scan.

Messages already handed to a worker (unacknowledged, in kombu's ``unacked`` hash) are not
waiting and are not counted.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from kombu.transport.redis import PRIORITY_STEPS, Channel

PUBLISHED_AT = "published_at"  # the message header (remosphere/celery.py)


@dataclass(frozen=True)
class QueueState:
    name: str
    depth: int  # messages waiting
    latency: float | None  # seconds the oldest has waited; None: empty, or no header

    @property
    def empty(self) -> bool:
        return self.depth == 0


def lists_of(queue: str) -> list[str]:
    """The Redis lists kombu keeps ``queue`` in, one per priority step."""
    return [queue if step == 0 else f"{queue}{Channel.sep}{step}" for step in PRIORITY_STEPS]


def read(
    client: redis.Redis, queues: list[str] | None = None, *, now: float | None = None
) -> list[QueueState]:
    """Depth and latency of each queue (the project's own by default)."""
    queues = queues or [settings.CELERY_TASK_DEFAULT_QUEUE]
    pipe = client.pipeline(transaction=False)
    for queue in queues:
        for key in lists_of(queue):
            pipe.llen(key)
            pipe.lindex(key, -1)
    replies = pipe.execute()
    now = time.time() if now is None else now
    states, per_queue = [], 2 * len(PRIORITY_STEPS)
    for index, queue in enumerate(queues):
        mine = replies[index * per_queue : (index + 1) * per_queue]
        depth = sum(int(n) for n in mine[0::2])
        published = [t for t in (published_at(raw) for raw in mine[1::2]) if t is not None]
        latency = max(0.0, now - min(published)) if published else None
        states.append(QueueState(queue, depth, latency if depth else None))
    return states


def stamp_published_at(headers: dict, **_: object) -> None:
    """Celery's ``before_task_publish`` receiver (connected in ``remosphere.celery``): the
    message's publish time, which ``read`` turns into the queue's latency."""
    headers.setdefault(PUBLISHED_AT, time.time())


def published_at(raw: bytes | None) -> float | None:
    """The ``published_at`` header of a raw kombu message, if it has one."""
    if raw is None:
        return None
    try:
        value = json.loads(raw)["headers"][PUBLISHED_AT]
        return float(value)
    except (ValueError, KeyError, TypeError):
        return None
