"""The Redis transport the worker uses: kombu's, with bounded sockets and three changes.

1. **Bounded sockets** (``SOCKET_OPTIONS``, Celery's ``broker_transport_options``). By
   default a Redis command waits forever on a connection whose peer went away without a
   FIN or RST (a failover, a proxy or NAT dropping the flow): the worker then answers
   pings and takes nothing, until a person restarts it (celery/celery#8030; kombu's own
   notes on ``socket_timeout``; hydroserver2/hydroserver#450 and readthedocs.org#12435
   set these same options for it). Here every command waits at most ``socket_timeout``
   (10 s: Redis answers in milliseconds, a failover takes seconds); kombu 5.7 drops a
   BRPOP whose reply is overdue by ``health_check_interval`` (10 s, so a consumer on a
   half-open connection reconnects within about 1 + 2 x 10 s instead of 51), and redis-py
   pings a pooled connection idle that long before using it; TCP keepalive (after 15 s
   idle, every 5 s, 3 probes) finds a dead peer on a connection nobody uses.

2. **A worker holding tasks survives Redis going away** (celery 5.7.0, kombu 5.7.0). On a
   lost connection Celery 5.7 first ``collect()``s the connection, which detaches the
   transport from it (``transport.client = None``), then ``close()``s it to release the
   socket. Closing the channel restores its unacknowledged messages, which needs a Redis
   pool, whose parameters come from ``transport.client.hostname``: an ``AttributeError``,
   not a connection error, so ``ignore_errors`` lets it through and the worker dies with
   "Unrecoverable error". Here a channel whose transport has been detached raises a
   connection error instead, which the close ignores; the worker then reconnects as it
   should. Nothing is lost: the unacknowledged messages stay in Redis's unacknowledged
   index, which kombu restores after the visibility timeout, and the outbox's sweep sends
   what Redis forgot (docs/RELIABILITY.md).

3. **One Redis client per channel.** With late acknowledgement, kombu records each message
   it hands out and removes the record on ack, and for each of the two it builds a new
   ``redis.Redis`` object; building one copies redis-py's ~170 response callbacks, a third
   of a millisecond of CPU, twice per email. A ``redis.Redis`` object is thread-safe (each
   command takes a connection from the channel's pool), so one per channel does.

4. **A quiet shutdown without a broker.** A message that cannot be acknowledged (Redis is
   unreachable while the worker stops, or after a reconnect) is one line saying what
   becomes of it, not a CRITICAL "Couldn't ack" with five chained tracebacks: Redis hands
   it out again after the visibility timeout, and if Redis lost it, the outbox's sweep
   enqueues its email again (docs/RELIABILITY.md).
"""

from __future__ import annotations

import logging
import socket
from typing import Any

import redis as redis_py
from kombu.transport import redis, virtual
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from servicespec import timeouts

logger = logging.getLogger(__name__)

SOCKET_OPTIONS: dict[str, Any] = {
    "socket_connect_timeout": 5,
    "socket_timeout": 10,
    "health_check_interval": 10,
    "socket_keepalive": True,
    "socket_keepalive_options": {
        getattr(socket, name): value
        for name, value in (("TCP_KEEPIDLE", 15), ("TCP_KEEPINTVL", 5), ("TCP_KEEPCNT", 3))
        if hasattr(socket, name)  # Linux has all three; others keep the system's
    },
}
# The cache's client (Django's RedisCache: the never-send-twice note, rate limits), bounded
# like the broker's and a little shorter, for requests: a connection idle for
# health_check_interval is pinged before use, so one silenced by a half-open episode is
# found before a write goes to it; and a command that fails on a connection (reset, timed
# out) is tried again on a fresh one before the caller sees the error.
# Bounded in servicespec/timeouts.py (CACHE_COMMAND_SECONDS, in the email task's budget).
CACHE_OPTIONS: dict[str, Any] = {
    **SOCKET_OPTIONS,
    "socket_connect_timeout": timeouts.CACHE_SOCKET_SECONDS,
    "socket_timeout": timeouts.CACHE_SOCKET_SECONDS,
    "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=timeouts.CACHE_ATTEMPTS - 1),
    "retry_on_error": [redis_py.ConnectionError, redis_py.TimeoutError],
}
NOT_ACKNOWLEDGED = (
    "task %s (%s) not acknowledged: the broker is unreachable (%s); Redis hands it out "
    "again after the visibility timeout, and if Redis lost it, the sweep enqueues its email"
)


class Message(virtual.Message):
    def ack_log_error(self, logger_: Any, errors: tuple, multiple: bool = False) -> None:
        try:
            self.ack(multiple=multiple)
        except (BrokenPipeError, *errors) as error:
            logger.warning(NOT_ACKNOWLEDGED, self._task_id(), self._task_name(), _name(error))

    def reject_log_error(self, logger_: Any, errors: tuple, requeue: bool = False) -> None:
        try:
            self.reject(requeue=requeue)
        except (BrokenPipeError, *errors) as error:
            logger.warning(NOT_ACKNOWLEDGED, self._task_id(), self._task_name(), _name(error))

    def _task_id(self) -> str:
        return str((self.headers or {}).get("id") or self.delivery_tag)

    def _task_name(self) -> str:
        return str((self.headers or {}).get("task") or "a message")


def redis_client() -> redis_py.Redis:
    """A client for the broker's Redis, for reading it (queues, heartbeats, cron runs),
    with timeouts a health check can live with."""
    from django.conf import settings

    return redis_py.Redis.from_url(settings.REDIS_URL, socket_timeout=3, socket_connect_timeout=3)


def _name(error: BaseException) -> str:
    return type(error).__name__


class Channel(redis.Channel):
    Message = Message
    _sync_client = None

    def _get_pool(self, asynchronous: bool = False):
        if self.connection is None or self.connection.client is None:
            raise redis_py.ConnectionError("the broker connection is closed")
        return super()._get_pool(asynchronous=asynchronous)

    def _create_client(self, asynchronous: bool = False):
        if asynchronous:
            return super()._create_client(asynchronous=True)
        client = self._sync_client
        if client is None or client.connection_pool is not self.pool:
            client = self._sync_client = super()._create_client()
        return client


class Transport(redis.Transport):
    Channel = Channel
