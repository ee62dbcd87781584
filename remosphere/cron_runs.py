"""When each cron job last ran, and how it went: the sweep and the autoscaler record every
run here, ``/metrics`` and ``doctor`` read them. Kept in Redis (one small key per job);
without Redis (``make run``) nothing is recorded.

Recording never fails a run: a job that did its work but could not say so is still done.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import redis
from django.conf import settings

from remosphere import broker

logger = logging.getLogger(__name__)

KEY_PREFIX = "remosphere:last-run:"
SWEEP = "sweep"
AUTOSCALE = "autoscale"
JOBS = (SWEEP, AUTOSCALE)


@dataclass(frozen=True)
class Run:
    job: str
    at: float  # seconds since the epoch
    ok: bool
    summary: str  # what it did, or why it failed; never a secret


def record(job: str, *, ok: bool, summary: str, client: redis.Redis | None = None) -> None:
    if not settings.REDIS_URL:
        return
    run = Run(job, time.time(), ok, summary[:500])
    try:
        with _client(client) as redis_client:
            redis_client.set(KEY_PREFIX + job, json.dumps(asdict(run)))
    except redis.RedisError as error:
        logger.warning("%s: its run was not recorded (%s)", job, type(error).__name__)


def last(job: str, client: redis.Redis | None = None) -> Run | None:
    """The job's last recorded run; ``None`` if it never recorded one. Raises
    ``redis.RedisError`` when Redis cannot be read (the caller says so)."""
    if not settings.REDIS_URL:
        return None
    with _client(client) as redis_client:
        raw = redis_client.get(KEY_PREFIX + job)
    if not raw:
        return None
    try:
        data = json.loads(raw)
        return Run(job, float(data["at"]), bool(data["ok"]), str(data.get("summary", "")))
    except (ValueError, KeyError, TypeError):
        return None


@contextlib.contextmanager
def _client(given: redis.Redis | None) -> Iterator[redis.Redis]:
    """The client given, or one of our own, closed after."""
    if given is not None:
        yield given
        return
    client = broker.redis_client()
    try:
        yield client
    finally:
        client.close()
