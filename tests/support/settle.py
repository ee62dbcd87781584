"""Waiting for an event instead of sleeping.

``settled``: the broker holds nothing for the project's queue, neither waiting nor handed
to a worker (kombu's ``unacked`` hash, where a running task and a retry waiting for its
countdown both sit until acknowledged). From then on nothing can be sent again unless a
test enqueues it: the moment "a duplicate would arrive now" stands for, reached as soon as
it is true rather than after a guess of seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import redis
from kombu.transport.redis import Channel

from operations import queues

QUEUE = "remosphere"


def held(client: redis.Redis) -> int:
    """Messages a worker has taken and not acknowledged yet."""
    return int(client.hlen(Channel.unacked_key))


def settled(redis_url: str, *, abandoned: int = 0, timeout: float = 30.0) -> None:
    """Return once the queue is empty and nothing is held, twice in a row (a message is
    between the list and the unacked hash for an instant when a worker takes it).
    ``abandoned``: messages a killed worker held, which stay in the hash until Redis's
    visibility timeout (an hour) hands them out again."""
    client = redis.Redis.from_url(redis_url)
    try:
        quiet, deadline = 0, time.monotonic() + timeout
        while time.monotonic() < deadline:
            [state] = queues.read(client, [QUEUE])
            quiet = quiet + 1 if state.empty and held(client) <= abandoned else 0
            if quiet >= 2:
                return
            time.sleep(0.2)
        raise AssertionError(f"the broker still holds work after {timeout}s")
    finally:
        client.close()


def logged(log: Path | Callable[[], str], text: str, *, timeout: float = 30.0) -> None:
    """Return once ``text`` appears in a process's log."""
    read = log if callable(log) else lambda: log.read_text(errors="replace")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in read():
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not logged within {timeout}s:\n{read()[-3000:]}")
