"""Every fault the email pipeline must survive, caused for real: a worker killed or
stopped mid-send, Redis down at registration, SendGrid failing, PostgreSQL unreachable, a
burst on two workers. Each test says how it causes its fault (docs/RELIABILITY.md).

Every kind of email goes through the same outbox, so each test runs twice: for the
verification email a registration causes, and for the email a password reset asks for."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import yaml
from django.utils import timezone

from emails.models import Email
from emails.tasks import send_email
from stack.http import call
from stack.processes import with_venv_on_path
from stack.redis_server import RedisServer
from standins.sendgrid import Answer
from tests.conftest import SENDGRID_TEST_KEY
from tests.support import services
from tests.support.cron import sweep
from tests.support.settle import logged, settled
from tests.support.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a-long-and-unusual-passphrase"
Status = Email.Status


def register(base_url: str, email: str) -> int:
    body = {"email": email, "password": PASSWORD}
    return call("POST", f"{base_url}/api/auth/register", body).status


def reset(base_url: str, email: str) -> int:
    """Ask for a password-reset email for ``email``, whose verified account this makes."""
    from django.utils import timezone

    from authentication.models import User

    User.objects.get_or_create(email=email, defaults={"email_verified_at": timezone.now()})
    return call("POST", f"{base_url}/api/auth/password-reset", {"email": email}).status


@pytest.fixture(params=["verification", "password_reset"])
def ask(request) -> Callable[[str, str], int]:
    """What makes the web write an email to the outbox: a registration, or a reset."""
    return {"verification": register, "password_reset": reset}[request.param]


def status_of(email: str) -> str:
    return Email.objects.get(address=email).status


def worker_shutdown_delay() -> int:
    blueprint = yaml.safe_load((ROOT / "render.yaml").read_text())
    [worker] = [s for s in blueprint["services"] if s["type"] == "worker"]
    return worker["maxShutdownDelaySeconds"]


def eventually(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def database_proxy(worker_env) -> Iterator[TcpProxy]:
    parts = urlsplit(worker_env["DATABASE_URL"])
    proxy = TcpProxy(parts.hostname, parts.port)
    yield proxy
    proxy.close()


def through(proxy: TcpProxy, url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit(":", 1)[0] + f":{proxy.port}"
    return urlunsplit(parts._replace(netloc=netloc))


# --- 1. SIGKILL mid-send ---------------------------------------------------------------


def test_worker_killed_mid_send_is_replaced_and_the_email_sent_once(
    ask, live_server, fake_sendgrid, start_worker, worker_env
):
    fake_sendgrid.answer_next(Answer(202, delay=120))  # holds the first send
    doomed = start_worker()
    ask(live_server.url, "killed@example.com")
    fake_sendgrid.wait_for_arrival(1)
    doomed.kill()  # SIGKILL, pool included: nothing acknowledges or cleans up

    start_worker()
    # The dead worker's lease on the row runs out (moved into the past, rather than
    # waited for: servicespec.timeouts.lease is 35 s by default).
    Email.objects.filter(address="killed@example.com").update(
        claimed_until=timezone.now() - timedelta(seconds=1)
    )
    sweep(worker_env)
    fake_sendgrid.wait_for(1)
    # The killed worker's message, never acknowledged, comes back once Redis's visibility
    # timeout passes (an hour); enqueue it again now, as that redelivery would.
    email_id = Email.objects.get(address="killed@example.com").pk
    send_email.delay(email_id)
    sweep(worker_env)  # and the sweep runs again: the row is sent, nothing more goes out
    settled(services.REDIS_URL, abandoned=1)  # the killed worker's message stays held

    assert (status_of("killed@example.com"), fake_sendgrid.arrivals) == (Status.SENT, 2)


# --- 2. SIGTERM mid-send ---------------------------------------------------------------


def test_worker_stopped_mid_send_finishes_the_email_and_exits_0(
    ask, live_server, fake_sendgrid, start_worker
):
    fake_sendgrid.answer_next(Answer(202, delay=3))
    worker = start_worker()
    ask(live_server.url, "stopped@example.com")
    fake_sendgrid.wait_for_arrival(1)

    code = worker.stop(timeout=worker_shutdown_delay())

    assert (code, status_of("stopped@example.com")) == (0, Status.SENT)


def test_a_deploy_with_many_sends_in_flight_finishes_them_all_and_exits_0(
    live_server, fake_sendgrid, start_worker
):
    """The threads pool's warm shutdown: every send in flight when SIGTERM comes ends,
    and is marked, before the worker exits, inside the worker's shutdown delay."""
    addresses = [f"inflight{n}@example.com" for n in range(8)]
    fake_sendgrid.answer_next(*[Answer(202, delay=3)] * len(addresses))
    worker = start_worker()
    for address in addresses:
        register(live_server.url, address)
    fake_sendgrid.wait_for_arrival(len(addresses))

    code = worker.stop(timeout=worker_shutdown_delay())

    statuses = set(Email.objects.values_list("status", flat=True))
    assert (code, statuses, len(fake_sendgrid.requests)) == (0, {Status.SENT}, len(addresses))


# --- 3. Redis down at registration -------------------------------------------------------


def test_a_request_while_redis_is_down_is_answered_and_sent_after_it_returns(
    ask, fake_sendgrid, start_worker, start_web, worker_env, private_redis
):
    env = {**worker_env, "REDIS_URL": private_redis.url}
    web = start_web(env)
    start_worker(REDIS_URL=private_redis.url)
    private_redis.stop()

    answered = ask(web.url, "redisdown@example.com")
    private_redis.start()  # empty: whatever was queued before is gone
    sweep(env)
    [request] = fake_sendgrid.wait_for(1, timeout=60)

    assert (answered in (201, 202), request.to) == (True, "redisdown@example.com")


def test_a_worker_holding_tasks_survives_redis_going_away_and_consumes_after_it_returns(
    fake_sendgrid, start_worker, worker_env, private_redis
):
    """Redis dies while the worker has sends in flight (unacknowledged messages): the
    worker keeps running, finishes and records them, reconnects once Redis is back
    (empty), and takes new work. (celery 5.7 crashed here: remosphere/broker.py.)"""
    addresses = [f"held{n}@example.com" for n in range(6)]
    fake_sendgrid.answer_next(*[Answer(202, delay=3)] * len(addresses))
    worker = start_worker(REDIS_URL=private_redis.url)
    with _broker(private_redis.url) as publish:
        for address in addresses:
            publish(_reset_email(address))
    fake_sendgrid.wait_for_arrival(len(addresses))
    private_redis.stop()
    # The sends end and are recorded in PostgreSQL; the worker keeps trying Redis.
    eventually(lambda: all(status_of(a) == Status.SENT for a in addresses))
    logged(worker.log_path, "consumer: Cannot connect to")
    alive_while_down = worker.process.poll() is None
    private_redis.start()
    with _broker(private_redis.url) as publish:
        publish(_reset_email("after@example.com"))
    [*_, last] = fake_sendgrid.wait_for(len(addresses) + 1, timeout=60)

    assert (alive_while_down, worker.process.poll(), last.to, "Unrecoverable" in worker.log) == (
        True,
        None,
        "after@example.com",
        False,
    )
    assert eventually(lambda: set(Email.objects.values_list("status", flat=True)) == {Status.SENT})


def _reset_email(address: str) -> int:
    """A verified account with a pending password-reset email; its outbox id."""
    from authentication.models import User

    User.objects.create_user(address, "a-long-passphrase-1", email_verified_at=timezone.now())
    return Email.objects.create(kind=Email.Kind.PASSWORD_RESET, address=address).pk


@contextlib.contextmanager
def _broker(url: str) -> Iterator[Callable[[int], None]]:
    """Publish send_email tasks to the broker at ``url``, as the web does."""
    from celery import Celery

    app = Celery(broker=url, set_as_current=False)  # the project's app stays current
    try:
        yield lambda email_id: app.send_task(
            "authentication.send_email", args=[email_id], queue="remosphere"
        )
    finally:
        app.close()


# --- 4. SendGrid failing -----------------------------------------------------------------


def test_a_sendgrid_timeout_is_retried_until_delivered(
    ask, live_server, fake_sendgrid, start_worker
):
    fake_sendgrid.answer_next(Answer(202, delay=3))  # longer than SENDGRID_TIMEOUT
    start_worker(SENDGRID_TIMEOUT="1")
    ask(live_server.url, "slow@example.com")
    eventually(lambda: fake_sendgrid.arrivals >= 2)
    assert eventually(lambda: status_of("slow@example.com") == Status.SENT)


@pytest.mark.parametrize("refusal", [400, 401, 403])
def test_a_sendgrid_refusal_marks_the_email_failed_without_retrying(
    ask, live_server, fake_sendgrid, start_worker, refusal
):
    fake_sendgrid.answer_next(Answer(refusal, {"errors": [{"message": f"refused {refusal}"}]}))
    start_worker()
    ask(live_server.url, "refused@example.com")
    eventually(lambda: status_of("refused@example.com") == Status.FAILED)
    settled(services.REDIS_URL)  # a retry would be waiting in the broker now
    email = Email.objects.get(address="refused@example.com")
    assert (email.status, email.last_error, fake_sendgrid.arrivals) == (
        Status.FAILED,
        f"SendGrid refused the email ({refusal}): refused {refusal}",
        1,
    )


def test_the_api_key_never_reaches_a_log_line_or_the_outbox(
    ask, live_server, fake_sendgrid, start_worker
):
    fake_sendgrid.answer_next(
        Answer(500, {"errors": [{"message": f"echoing {SENDGRID_TEST_KEY}"}]}),
        Answer(401, {"errors": [{"message": f"bad key {SENDGRID_TEST_KEY}"}]}),
    )
    worker = start_worker()
    ask(live_server.url, "leak@example.com")
    eventually(lambda: status_of("leak@example.com") == Status.FAILED)
    last_error = Email.objects.get().last_error
    assert SENDGRID_TEST_KEY not in worker.log + last_error


# --- 5. PostgreSQL unreachable ------------------------------------------------------------


def test_readyz_answers_503_while_postgres_is_unreachable_and_200_after(
    start_web, worker_env, database_proxy
):
    web = start_web(
        {**worker_env, "DATABASE_URL": through(database_proxy, worker_env["DATABASE_URL"])}
    )
    database_proxy.cut()
    down = call("GET", f"{web.url}/readyz")
    database_proxy.restore()
    up = call("GET", f"{web.url}/readyz")
    assert (down.status, down.json["checks"]["database"], up.status) == (503, "unreachable", 200)


def test_the_api_answers_503_not_500_while_postgres_is_unreachable(
    start_web, worker_env, database_proxy
):
    web = start_web(
        {**worker_env, "DATABASE_URL": through(database_proxy, worker_env["DATABASE_URL"])}
    )
    database_proxy.cut()
    reply = call(
        "POST", f"{web.url}/api/auth/register", {"email": "a@example.com", "password": PASSWORD}
    )
    assert (reply.status, reply.json["code"]) == (503, "unavailable")


def test_worker_retries_while_postgres_is_unreachable_and_sends_when_it_returns(
    ask, live_server, fake_sendgrid, start_worker, worker_env, database_proxy
):
    worker = start_worker(DATABASE_URL=through(database_proxy, worker_env["DATABASE_URL"]))
    database_proxy.cut()  # the worker's way to PostgreSQL; the web's (live_server) stays up
    ask(live_server.url, "dbdown@example.com")  # enqueued on commit
    logged(worker.log_path, "database unreachable")  # it took the task, and waits to retry
    sent_while_down = fake_sendgrid.arrivals
    database_proxy.restore()
    [request] = fake_sendgrid.wait_for(1, timeout=60)
    # Recorded too, before the proxy closes at teardown (else the worker's shutdown would
    # spend its budget retrying the record against a database that is gone again).
    recorded = eventually(lambda: status_of("dbdown@example.com") == Status.SENT)
    assert (sent_while_down, request.to, recorded) == (0, "dbdown@example.com", True)


def test_a_postgres_blip_right_after_sendgrid_accepts_never_sends_it_twice(
    ask, live_server, fake_sendgrid, start_worker, worker_env, database_proxy
):
    """SendGrid accepts; marking the row sent then finds PostgreSQL gone. The write is
    retried, not the send: one email, the row sent, a sweep sends nothing."""
    fake_sendgrid.answer_next(Answer(202, delay=1))
    worker = start_worker(DATABASE_URL=through(database_proxy, worker_env["DATABASE_URL"]))
    ask(live_server.url, "blip@example.com")
    fake_sendgrid.wait_for_arrival(1)
    database_proxy.cut()  # while SendGrid is still answering
    fake_sendgrid.wait_for(1)
    logged(worker.log_path, "did not take the record")  # the record failed, and is retried
    database_proxy.restore()
    eventually(lambda: status_of("blip@example.com") == Status.SENT)
    sweep(worker_env)
    settled(services.REDIS_URL)  # a second send would be on its way now

    assert (status_of("blip@example.com"), fake_sendgrid.arrivals) == (Status.SENT, 1)


def test_a_worker_killed_while_postgres_is_down_after_sendgrid_accepted_sends_nothing_twice(
    live_server, fake_sendgrid, start_worker, worker_env, database_proxy
):
    """The worker dies before PostgreSQL returns: the acceptance it kept in Redis stops
    the next worker (through the sweep) from sending again."""
    fake_sendgrid.answer_next(Answer(202, delay=1))
    doomed = start_worker(DATABASE_URL=through(database_proxy, worker_env["DATABASE_URL"]))
    register(live_server.url, "dead@example.com")
    fake_sendgrid.wait_for_arrival(1)
    database_proxy.cut()
    fake_sendgrid.wait_for(1)
    # The record fails; the worker keeps the acceptance in Redis and retries the record.
    logged(doomed.log_path, "did not take the record")
    doomed.kill()
    database_proxy.restore()
    Email.objects.filter(address="dead@example.com").update(
        claimed_until=timezone.now() - timedelta(seconds=1)  # the dead worker's lease ends
    )
    start_worker()
    sweep(worker_env)
    eventually(lambda: status_of("dead@example.com") == Status.SENT)
    settled(services.REDIS_URL, abandoned=1)  # the killed worker's message stays held

    assert (status_of("dead@example.com"), fake_sendgrid.arrivals) == (Status.SENT, 1)


def test_the_sweep_blames_postgres_when_postgres_is_down(worker_env, database_proxy):
    database_proxy.cut()
    result = subprocess.run(
        ["docker/sweep-entrypoint.sh", "--stale-after", "0"],
        cwd=ROOT,
        env=with_venv_on_path(
            {**worker_env, "DATABASE_URL": through(database_proxy, worker_env["DATABASE_URL"])}
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    said = result.stdout + result.stderr
    assert (result.returncode, "PostgreSQL" in said, "REDIS_URL" in said, "Traceback" in said) == (
        1,
        True,
        False,
        False,
    )


# --- 6. A burst on two workers -------------------------------------------------------------


def test_a_burst_on_two_workers_sends_each_email_exactly_once(
    ask, live_server, fake_sendgrid, start_worker
):
    addresses = [f"burst{n}@example.com" for n in range(24)]
    fake_sendgrid.answer_next(*[Answer(202, delay=0.05)] * len(addresses))
    start_worker()
    start_worker()
    for address in addresses:
        ask(live_server.url, address)
    fake_sendgrid.wait_for(len(addresses), timeout=120)
    settled(services.REDIS_URL)  # a duplicate would be on its way now
    sent = sorted(r.to for r in fake_sendgrid.requests)
    assert (sent, set(Email.objects.values_list("status", flat=True))) == (
        sorted(addresses),
        {Status.SENT},
    )
