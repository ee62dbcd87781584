"""The Redis transport the worker uses: kombu's, with one client reused where kombu
makes a new one for every acknowledgement.

With late acknowledgement, kombu's Redis transport records each message it hands out and
removes the record on ack, and for each of the two it builds a new ``redis.Redis`` object
(``Channel.conn_or_acquire``); building one copies redis-py's ~170 response callbacks, a
third of a millisecond of CPU, twice per email. A ``redis.Redis`` object is thread-safe
(each command takes a connection from the channel's pool), so one per channel does.
"""

from __future__ import annotations

from kombu.transport import redis


class Channel(redis.Channel):
    _sync_client = None

    def _create_client(self, asynchronous: bool = False):
        if asynchronous:
            return super()._create_client(asynchronous=True)
        client = self._sync_client
        if client is None or client.connection_pool is not self.pool:
            client = self._sync_client = super()._create_client()
        return client


class Transport(redis.Transport):
    Channel = Channel
