"""Test set-up: the real PostgreSQL and Redis of this machine, never a stand-in.

The environment is fixed here, before Django reads its settings: a developer's own
variables (``RENDER``, a production ``DATABASE_URL``...) never leak into a test.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from servicespec import envspec
from stack import image
from stack.web import WebProcess
from stack.worker import WorkerProcess
from standins.sendgrid import FakeSendGrid
from tests.support import services

SENDGRID_TEST_KEY = "SG.test-key-never-logged"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for name in envspec.BY_NAME:
        os.environ.pop(name, None)
    os.environ["DATABASE_URL"] = services.DATABASE_URL
    os.environ["REDIS_URL"] = services.REDIS_URL
    os.environ["DJANGO_SETTINGS_MODULE"] = "remosphere.settings"
    # Every test registers from 127.0.0.1; the rate-limit tests set their own limits.
    for scope in ("REGISTER", "LOGIN", "RESEND", "LOGIN_ACCOUNT"):
        os.environ[f"THROTTLE_RATE_{scope}"] = "100000/minute"
    problems = services.unreachable()
    if problems:
        pytest.exit("the tests need real services:\n  " + "\n  ".join(problems), returncode=3)
    from django.conf import settings

    settings.INSTALLED_APPS  # noqa: B018 - loads settings now, from this environment


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker more than the cores, at most eight. Most tests wait on real
    processes (a worker, Gunicorn, SendGrid's latency), so a third worker finds idle CPU
    on two cores; each worker needs a Redis database of its own (15 are free)."""
    return min((os.cpu_count() or 1) + 1, 8)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Under pytest-xdist, the workers start from this process's environment. With
    DJANGO_SETTINGS_MODULE in it, pytest-django would load the settings in each worker
    before the worker's pytest_configure points REDIS_URL at its own Redis database."""
    if not hasattr(session.config, "workerinput"):
        os.environ.pop("DJANGO_SETTINGS_MODULE", None)


PROCESS_FIXTURES = {"start_worker", "start_web"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that starts a real worker or web is an integration test, marked or not, so
    ``-m "not integration"`` leaves out every one of them."""
    for item in items:
        if PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    """PBKDF2 at one iteration in this process: what a test checks is which password is
    hashed and compared, not the hasher's cost (the processes the integration tests start
    hash as production does)."""
    settings.PASSWORD_HASHERS = ["tests.support.hashers.CountingHasher"]


@pytest.fixture
def redis_client() -> Iterator:
    """The tests' Redis database, emptied before and after each test that uses it."""
    import redis

    client = redis.Redis.from_url(services.REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture(scope="session")
def built_image() -> Iterator[image.Build]:
    """The project's image, built from the real Dockerfile once for every test that runs it
    (each such module is in the xdist group "image", so one worker builds it)."""
    missing = image.missing_tools()
    if missing:
        pytest.fail(
            f"the image tests need {', '.join(missing)}: run scripts/test-setup.sh as root "
            "(make test does)"
        )
    image.ensure_base_image()
    build = image.build_image()
    image.REPORT.update(
        build_seconds=build.seconds,
        image_mb=build.size_bytes / 1e6,
        base_mb=image.base_size_bytes() / 1e6,
    )
    yield build
    # The image is 280+ MB on vfs storage: it goes with the tests; the stand-in base stays
    # cached for the next run (README: where, and how to clear it).
    image.remove_image()
    assert not image.image_exists(image.IMAGE), "the test image was not removed"


@pytest.fixture(scope="session")
def fake_sendgrid_server() -> Iterator[FakeSendGrid]:
    server = FakeSendGrid(api_key=SENDGRID_TEST_KEY).start()
    yield server
    server.stop()


@pytest.fixture
def fake_sendgrid(fake_sendgrid_server: FakeSendGrid, settings) -> Iterator[FakeSendGrid]:
    """The fake SendGrid, with this process's settings pointed at it."""
    settings.SENDGRID_API_KEY = SENDGRID_TEST_KEY
    settings.SENDGRID_API_HOST = fake_sendgrid_server.host
    fake_sendgrid_server.reset()
    yield fake_sendgrid_server
    fake_sendgrid_server.reset()


@pytest.fixture
def start_web(tmp_path) -> Iterator[Callable[[dict[str, str]], WebProcess]]:
    """Start real web processes (Gunicorn through docker/web-entrypoint.sh) with the
    environment given; each is stopped, and its log shown, after the test."""
    webs: list[WebProcess] = []

    def start(env: dict[str, str]) -> WebProcess:
        web = WebProcess(env, tmp_path / f"web-{len(webs)}.log")
        webs.append(web)
        return web.wait_ready()

    yield start
    for web in webs:
        web.stop()
        print(f"--- {web.log_path.name} ---\n{web.log}")


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
        "EMAIL_VERIFICATION_URL": f"{live_server.url}/verify-email",
        "PASSWORD_RESET_URL": f"{live_server.url}/reset-password",
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


def pytest_terminal_summary(terminalreporter) -> None:
    from stack.image import REPORT

    if REPORT:
        terminalreporter.write_sep("-", "image")
        terminalreporter.write_line(
            f"built in {REPORT['build_seconds']:.1f}s; image {REPORT['image_mb']:.0f} MB "
            f"(stand-in base {REPORT['base_mb']:.0f} MB)"
        )
