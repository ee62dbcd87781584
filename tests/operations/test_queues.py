"""The one reader of the queue's backlog, on the real Redis, through real Celery publishes."""

from __future__ import annotations

import json
import time

import redis

from emails.tasks import send_email
from operations import queues
from stack.redis_server import RedisServer


def test_an_empty_queue_has_no_depth_and_no_latency(redis_client):
    assert queues.read(redis_client) == [queues.QueueState("remosphere", 0, None)]


def test_depth_counts_every_priority_and_latency_is_the_oldest_messages_age(redis_client):
    send_email.apply_async((1,))
    send_email.apply_async((2,), priority=5)
    send_email.apply_async((3,), priority=9)
    [state] = queues.read(redis_client, now=time.time() + 60)
    assert (state.depth, 59 < state.latency < 62) == (3, True)


def test_every_task_message_carries_its_publish_time(redis_client):
    before = time.time()
    send_email.apply_async((1,))
    raw = json.loads(redis_client.lindex("remosphere", -1))
    assert before <= raw["headers"]["published_at"] <= time.time()


def test_a_message_without_a_publish_time_leaves_the_latency_unknown(redis_client):
    redis_client.lpush("remosphere", json.dumps({"headers": {}, "body": ""}))
    assert queues.read(redis_client) == [queues.QueueState("remosphere", 1, None)]


def test_a_read_costs_eight_cheap_commands_whatever_the_depth():
    # A Redis server of its own: command statistics are the whole server's, and the
    # shared one serves the other test processes too.
    server = RedisServer().start()
    try:
        client = redis.Redis.from_url(server.url)
        for n in range(500):
            client.lpush("remosphere", json.dumps({"headers": {"published_at": n}}))
        client.config_resetstat()
        queues.read(client)
        stats = {
            name.removeprefix("cmdstat_"): value["calls"]
            for name, value in client.info("commandstats").items()
            if not name.removeprefix("cmdstat_").startswith(("config", "info"))
        }
        client.close()
    finally:
        server.stop()
    assert stats == {"llen": 4, "lindex": 4}
