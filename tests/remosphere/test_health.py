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


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_a_health_check_at_the_instance_s_own_address_is_answered(client, path):
    """Render's health check names the instance's address, not a host the web serves."""
    assert client.get(path, HTTP_HOST="10.213.7.2:10000").status_code == 200


def test_any_other_path_at_an_unknown_host_is_still_refused(client):
    assert client.get("/api/auth/me", HTTP_HOST="10.213.7.2:10000").status_code == 400


def test_a_health_check_answers_post_as_the_view_does(client):
    assert client.post("/healthz", HTTP_HOST="10.213.7.2:10000").status_code == 405
