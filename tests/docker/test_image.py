"""The image, built from the real Dockerfile with buildah, runs both entrypoints for real:
the web answers its health checks, the worker sends a verification email, both shut
down cleanly on SIGTERM, as the non-root user."""

from __future__ import annotations

import os
import secrets
import signal
import time
from pathlib import Path

import pytest
import yaml

from authentication import services as accounts
from stack import image
from stack.http import call
from stack.ports import free as free_port
from standins.sendgrid import Answer
from tests.conftest import SENDGRID_TEST_KEY
from tests.support import services

# One xdist worker runs the image's tests: the image is built once (tests/conftest.py).
pytestmark = [
    pytest.mark.image,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("image"),
]

ROOT = Path(__file__).resolve().parents[2]
APP_UID = 10001
PASSWORD = "a-long-and-unusual-passphrase"


def shutdown_delay(service_type: str) -> int:
    blueprint = yaml.safe_load((ROOT / "render.yaml").read_text())
    [service] = [s for s in blueprint["services"] if s.get("type") == service_type]
    return service["maxShutdownDelaySeconds"]


@pytest.fixture(scope="module")
def container(built_image) -> str:
    name = image.create_container()
    yield name
    image.remove_container(name)


@pytest.fixture
def production_env(transactional_db, redis_client) -> dict[str, str]:
    from django.db import connection

    return {
        "RENDER": "true",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": services.database_url(connection.settings_dict["NAME"]),
        "REDIS_URL": services.REDIS_URL,
    }


@pytest.fixture
def run(container, tmp_path):
    started: list[image.ContainerProcess] = []

    def start(entrypoint: str, env: dict[str, str]) -> image.ContainerProcess:
        process = image.ContainerProcess(
            container, [entrypoint], env, tmp_path / f"{Path(entrypoint).stem}-{len(started)}.log"
        )
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
        print(f"--- {process.log_path.name} ---\n{process.log}")


def wait_for_200(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if call("GET", url).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer 200 within {timeout}s")


@pytest.fixture
def web(run, production_env):
    port = free_port()
    process = run(
        "docker/web-entrypoint.sh",
        {**production_env, "PORT": str(port), "ALLOWED_HOSTS": "127.0.0.1"},
    )
    wait_for_200(f"http://127.0.0.1:{port}/healthz")
    return process, f"http://127.0.0.1:{port}"


@pytest.fixture
def worker(run, production_env, fake_sendgrid):
    process = run(
        "docker/worker-entrypoint.sh",
        {
            **production_env,
            "SENDGRID_API_KEY": SENDGRID_TEST_KEY,
            "SENDGRID_API_HOST": fake_sendgrid.host,
            "DEFAULT_FROM_EMAIL": "no-reply@example.com",
            "EMAIL_VERIFICATION_URL": "https://app.example.com/verify",
            "PASSWORD_RESET_URL": "https://app.example.com/reset-password",
            "RENDER_INSTANCE_ID": "image-test",
        },
    )
    deadline = time.monotonic() + 60
    while " ready." not in process.log:
        assert time.monotonic() < deadline, process.log
        time.sleep(0.1)
    return process


def test_image_runs_as_a_non_root_user(built_image):
    assert image.image_config(".Config.User") == f"{APP_UID}:{APP_UID}"


def test_web_entrypoint_serves_readyz_against_postgres_and_redis(web):
    _, base = web
    assert call("GET", f"{base}/readyz").json["checks"] == {"database": "ok", "redis": "ok"}


def test_web_processes_run_as_the_app_user(web):
    process, _ = web
    assert image.uid_of(process.main_pid("gunicorn")) == APP_UID


def test_web_exits_cleanly_on_sigterm_within_its_shutdown_delay(web):
    process, _ = web
    started = time.monotonic()
    os.kill(process.main_pid("gunicorn"), signal.SIGTERM)
    code = process.wait(shutdown_delay("web"))
    assert (code, time.monotonic() - started < shutdown_delay("web")) == (0, True)


def test_worker_entrypoint_sends_a_verification_email(worker, fake_sendgrid):
    accounts.user_register(email="image@example.com", password=PASSWORD)
    [request] = fake_sendgrid.wait_for(1, timeout=60)
    assert request.to == "image@example.com"


def test_worker_processes_run_as_the_app_user(worker):
    assert image.uid_of(worker.main_pid("celery")) == APP_UID


def test_worker_finishes_its_in_flight_email_on_sigterm_and_exits_0(worker, fake_sendgrid):
    fake_sendgrid.answer_next(Answer(202, delay=3))
    accounts.user_register(email="inflight@example.com", password=PASSWORD)
    fake_sendgrid.wait_for_arrival(1, timeout=60)

    os.kill(worker.main_pid("celery"), signal.SIGTERM)
    code = worker.wait(shutdown_delay("worker"))

    assert (code, [r.answered for r in fake_sendgrid.requests]) == (0, [202])


def test_web_entrypoint_stops_listing_missing_variables(run):
    process = run("docker/web-entrypoint.sh", {"RENDER": "true"})
    code = process.wait(60)
    assert (code, all(n in process.log for n in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL"))) == (
        1,
        True,
    )


def test_web_entrypoint_migrates_when_asked(run, production_env, tmp_path):
    import psycopg

    name = "remosphere_image_migrate"
    with psycopg.connect(services.DATABASE_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")
    try:
        port = free_port()
        run(
            "docker/web-entrypoint.sh",
            {
                **production_env,
                "DATABASE_URL": services.database_url(name),
                "MIGRATE_ON_START": "true",
                "PORT": str(port),
                "ALLOWED_HOSTS": "127.0.0.1",
            },
        )
        wait_for_200(f"http://127.0.0.1:{port}/readyz", timeout=120)
        with psycopg.connect(services.database_url(name)) as db:
            tables = db.execute("SELECT to_regclass('authentication_user')").fetchone()[0]
        assert tables == "authentication_user"
    finally:
        with psycopg.connect(services.DATABASE_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
