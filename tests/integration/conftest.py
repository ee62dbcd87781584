"""Integration fixtures: the web served over real HTTP (pytest-django's live server),
a real Celery worker process on the real Redis, both on the real PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import SENDGRID_TEST_KEY
from tests.support import services
from tests.support.fake_sendgrid import FakeSendGrid
from tests.support.worker import WorkerProcess


@pytest.fixture
def worker_env(live_server, fake_sendgrid: FakeSendGrid, redis_client) -> dict[str, str]:
    """What the worker process sees: the test database, the fake SendGrid, fast retries."""
    from django.db import connection

    test_database = services.database_url(connection.settings_dict["NAME"])
    return {
        **os.environ,
        "DATABASE_URL": test_database,
        "REDIS_URL": services.REDIS_URL,
        "SENDGRID_API_KEY": SENDGRID_TEST_KEY,
        "SENDGRID_API_HOST": fake_sendgrid.host,
        "EMAIL_VERIFICATION_URL": f"{live_server.url}/api/auth/verify-email",
        "EMAIL_RETRY_BASE_SECONDS": "1",
    }


@pytest.fixture
def start_worker(
    worker_env: dict[str, str], tmp_path: Path
) -> Iterator[Callable[..., WorkerProcess]]:
    workers: list[WorkerProcess] = []

    def start(**overrides: str) -> WorkerProcess:
        log = tmp_path / f"worker-{len(workers)}.log"
        worker = WorkerProcess({**worker_env, **overrides}, log)
        workers.append(worker)
        return worker.wait_ready()

    yield start
    for worker in workers:
        worker.stop()
        print(f"--- {worker.log_path.name} ---\n{worker.log}")  # shown when a test fails
