"""Liveness and readiness against the real PostgreSQL and Redis."""

import time

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_answers_200(client):
    assert client.get("/healthz").status_code == 200


def test_readyz_answers_200_when_database_and_redis_answer(client):
    assert client.get("/readyz").json()["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_answers_503_naming_redis_when_it_is_unreachable(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"
    response = client.get("/readyz")
    assert (response.status_code, response.json()["checks"]["redis"]) == (503, "unreachable")


def test_readyz_lists_a_local_worker_without_redis(client, settings, tmp_path):
    """make run's worker uses the file-system broker; its heartbeat is a file."""
    from operations.liveness import FileHeartbeats, WorkerState

    settings.REDIS_URL = None
    settings.LOCAL_DATA_DIR = tmp_path
    state = WorkerState("local@machine", time.time(), started_at=time.time() - 600)
    FileHeartbeats(tmp_path / "heartbeats").beat(state, ttl=30)
    body = client.get("/readyz").json()
    assert (body["workers"], body["workers_not_consuming"]) == (["local@machine"], [])
