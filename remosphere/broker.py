"""The Redis transport the worker uses: kombu's, with two changes.

1. **A worker holding tasks survives Redis going away** (celery 5.7.0, kombu 5.7.0). On a
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

2. **One Redis client per channel.** With late acknowledgement, kombu records each message
   it hands out and removes the record on ack, and for each of the two it builds a new
   ``redis.Redis`` object; building one copies redis-py's ~170 response callbacks, a third
   of a millisecond of CPU, twice per email. A ``redis.Redis`` object is thread-safe (each
   command takes a connection from the channel's pool), so one per channel does.
"""

from __future__ import annotations

import redis as redis_py
from kombu.transport import redis


class Channel(redis.Channel):
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
