"""The worker's Redis transport: kombu's, reusing one client where kombu builds one per
acknowledgement."""

from __future__ import annotations


def test_the_worker_uses_the_projects_transport():
    from remosphere.celery import app

    connection = app.connection_for_read()
    assert type(connection.transport).__module__ == "remosphere.broker"


def test_a_channel_reuses_one_client_for_its_acknowledgements(redis_client):
    from remosphere.celery import app

    with app.connection_for_read() as connection:
        channel = connection.default_channel
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
            assert first is second and first.ping()
