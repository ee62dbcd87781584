"""A worker that heals itself, for real, through docker/worker-entrypoint.sh: a node whose
consumer stops while an email waits restarts itself within WORKER_STALL_SECONDS and a
fresh one sends the email; a node behind a connection that goes silent (half-open, no
RST) gets back to consuming within the bound; an idle node never restarts; a Redis outage
is not a stall; and a warm shutdown with Redis gone says, in one line per message, what
becomes of each unacknowledged one, with no traceback. /metrics counts the restarts."""

from __future__ import annotations

import json
import signal
import time
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from kombu import Connection

from operations import liveness, stall
from stack.http import call
from stack.redis_server import RedisServer
from standins.sendgrid import Answer
from tests.support import services
from tests.support.cron import sweep
from tests.support.settle import settled
from tests.support.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-and-unusual-passphrase"
FAST = {"WORKER_PROBE_SECONDS": "1", "WORKER_STALL_SECONDS": "6"}
# The bound, a heartbeat to notice it, and the warm shutdown of an idle node.
WITHIN = 6 + 1 + 10


def register(live_server, address: str) -> None:
    body = {"email": address, "password": PASSWORD}
    assert call("POST", f"{live_server.url}/api/auth/register", body).status == 201


def node_of(instance: str, url: str = services.REDIS_URL, timeout: float = 20) -> str:
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [n for n in liveness.live_workers(client) if n.startswith(f"{instance}@")]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no heartbeat from {instance}")


@pytest.fixture
def counted():
    """Self-restarts counted in the tests' database, by reason."""
    return stall.restarts


def test_a_worker_whose_consumer_stops_restarts_itself_and_a_fresh_one_sends_the_email(
    live_server, start_worker, fake_sendgrid, counted
):
    from remosphere.celery import app

    worker = start_worker(RENDER_INSTANCE_ID="stalls", **FAST)
    node = node_of("stalls")
    app.control.cancel_consumer("remosphere", destination=[node], reply=True, timeout=5)
    cancelled = time.monotonic()
    register(live_server, "waiting@example.com")
    code = worker.process.wait(timeout=60)
    took = time.monotonic() - cancelled
    nothing_sent = fake_sendgrid.requests == []
    start_worker(RENDER_INSTANCE_ID="fresh", **FAST)  # Render starts a fresh instance
    [request] = fake_sendgrid.wait_for(1)
    restarts = [line for line in worker.log.splitlines() if "restarts itself" in line]
    assert (code, took < WITHIN, nothing_sent, len(restarts), request.to, counted()["stalled"]) == (
        stall.EXIT_STALLED,
        True,
        True,
        1,
        "waiting@example.com",
        1,
    ), worker.log


HALF_OPEN_BOUND = 20


def consuming_since(instance: str, moment: float) -> bool:
    """Whether the node took a message (a probe, an email) after ``moment`` (time.time())."""
    client = redis.Redis.from_url(services.REDIS_URL)
    states = [s for s in liveness.worker_states(client) if s.node.startswith(f"{instance}@")]
    return any((s.consumed_at or 0) > moment for s in states)


def test_a_half_open_broker_connection_recovers_or_restarts_within_the_bound(
    live_server, start_worker, fake_sendgrid, worker_env
):
    """The proxy keeps the worker's connections open but passes nothing on them, as a NAT
    that forgot the flow does; new connections go through. Within the bound the worker
    either finds out and takes messages again (kombu drops a BRPOP overdue by
    health_check_interval), or restarts itself, and a fresh one, as Render would start,
    takes over. A BRPOP answered on the dead connection took its message out of Redis for
    nobody: the outbox's sweep enqueues that email again, and it is sent once."""
    parts = urlsplit(services.REDIS_URL)
    proxy = TcpProxy(parts.hostname, parts.port)
    through = urlunsplit(parts._replace(netloc=f"127.0.0.1:{proxy.port}"))
    bound = {"WORKER_PROBE_SECONDS": "2", "WORKER_STALL_SECONDS": str(HALF_OPEN_BOUND)}
    try:
        worker = start_worker(REDIS_URL=through, RENDER_INSTANCE_ID="halfopen", **bound)
        register(live_server, "before@example.com")
        fake_sendgrid.wait_for(1)
        proxy.silence()
        silenced, silenced_at = time.monotonic(), time.time()
        register(live_server, "during@example.com")
        deadline = silenced + HALF_OPEN_BOUND + 20  # the bound, then a warm shutdown
        while not (
            len(fake_sendgrid.requests) >= 2
            or worker.process.poll() is not None
            or consuming_since("halfopen", silenced_at)
        ):
            assert time.monotonic() < deadline, worker.log
            time.sleep(0.2)
        took = time.monotonic() - silenced
        recovered = worker.process.poll() is None
        if not recovered:
            start_worker(REDIS_URL=through, RENDER_INSTANCE_ID="replacement", **bound)
        sweep(worker_env)  # Render's cron job: the email whose message Redis gave away
        fake_sendgrid.wait_for(2, timeout=30)
        # The first email's acknowledgement was lost on the dead connection: its message
        # stays unacknowledged in Redis until the visibility timeout (and then finds its
        # row sent).
        settled(services.REDIS_URL, abandoned=1)
    finally:
        proxy.close()
    assert (sorted(r.to for r in fake_sendgrid.requests), took < HALF_OPEN_BOUND + 20,
            recovered or worker.process.returncode == stall.EXIT_STALLED) == (
        ["before@example.com", "during@example.com"], True, True), worker.log  # fmt: skip


def test_an_idle_worker_never_restarts_itself(live_server, start_worker, fake_sendgrid, counted):
    worker = start_worker(RENDER_INSTANCE_ID="idle", **FAST)
    time.sleep(3 * 6)  # three times the bound, with a probe every second
    register(live_server, "after-a-while@example.com")
    fake_sendgrid.wait_for(1)
    assert (worker.process.poll(), "restarts itself" in worker.log, counted()["stalled"]) == (
        None,
        False,
        0,
    ), worker.log


@contextmanager
def publishing(url: str):
    """Send the email task straight to a broker, as the web would."""
    with Connection(url) as connection:
        yield lambda email_id: connection.Producer().publish(
            {"args": [email_id], "kwargs": {}},
            routing_key="remosphere",
            serializer="json",
            headers={"id": f"test-{email_id}", "task": "authentication.send_email",
                     "lang": "py", "argsrepr": f"({email_id},)"},
        )  # fmt: skip


@pytest.fixture
def private_redis():
    server = RedisServer().start()
    yield server
    server.stop()


def test_a_redis_outage_of_a_few_seconds_is_not_a_stall(
    live_server, start_worker, fake_sendgrid, private_redis
):
    from authentication.models import User
    from emails.models import Email

    # a bound above the reconnection backoff, as the validator requires (C003)
    worker = start_worker(
        REDIS_URL=private_redis.url, RENDER_INSTANCE_ID="outage",
        **{**FAST, "WORKER_STALL_SECONDS": "40"},
    )  # fmt: skip
    node_of("outage", private_redis.url)
    private_redis.stop()
    time.sleep(5)  # no heartbeat meanwhile: Celery is reconnecting, the node waits
    private_redis.start()
    User.objects.create_user("back@example.com")
    email = Email.objects.create(kind=Email.Kind.VERIFICATION, address="back@example.com")
    with publishing(private_redis.url) as publish:
        publish(email.pk)
    [request] = fake_sendgrid.wait_for(1, timeout=60)
    assert (request.to, worker.process.poll(), "restarts itself" in worker.log) == (
        "back@example.com",
        None,
        False,
    ), worker.log


def test_a_warm_shutdown_without_redis_says_what_becomes_of_each_message_without_a_traceback(
    live_server, start_worker, fake_sendgrid, private_redis
):
    from authentication.models import User
    from emails.models import Email

    addresses = [f"inflight{n}@example.com" for n in range(3)]
    fake_sendgrid.answer_next(*[Answer(202, delay=3)] * len(addresses))
    worker = start_worker(REDIS_URL=private_redis.url, RENDER_INSTANCE_ID="quiet")
    with publishing(private_redis.url) as publish:
        for address in addresses:
            User.objects.create_user(address)
            publish(Email.objects.create(kind=Email.Kind.VERIFICATION, address=address).pk)
    fake_sendgrid.wait_for_arrival(len(addresses))
    private_redis.stop()
    worker.process.send_signal(signal.SIGTERM)
    code = worker.process.wait(timeout=60)
    log = worker.log
    unacknowledged = [line for line in log.splitlines() if "not acknowledged" in line]
    assert (code, len(unacknowledged), "Traceback" in log, "CRITICAL" in log,
            len(fake_sendgrid.wait_for(len(addresses)))) == (
        0, len(addresses), False, False, len(addresses)), log  # fmt: skip


def test_metrics_count_self_restarts_by_reason(client, settings):
    settings.METRICS_TOKEN = "token"
    stall.record(stall.STALLED, "a@node")
    stall.record(stall.STALLED, "b@node")
    stall.record(stall.NOT_RESUMED, "a@node")
    body = client.get("/metrics", HTTP_AUTHORIZATION="Bearer token").content.decode()
    lines = {line for line in body.splitlines() if line.startswith("remosphere_worker_self")}
    assert lines >= {
        'remosphere_worker_self_restarts_total{reason="stalled"} 2.0',
        'remosphere_worker_self_restarts_total{reason="not_resumed"} 1.0',
        'remosphere_worker_self_restarts_total{reason="main_loop"} 0.0',
        'remosphere_worker_self_restarts_total{reason="cut_off"} 0.0',
    }, json.dumps(sorted(lines))


@pytest.mark.parametrize("hanging", [False, True], ids=["connects-unanswered", "connects-hang"])
def test_a_network_partition_ends_the_worker_within_the_bound_and_a_fresh_one_loses_nothing(
    live_server, start_worker, fake_sendgrid, private_redis, counted, hanging
):
    """Redis answers nothing for twice WORKER_STALL_SECONDS, on open connections or new
    ones (connects accepted and never answered, or connects that hang): the loop's
    watchdog ends the worker within the bound, exit 70, whatever the loop is blocked in,
    and counts it in PostgreSQL (Redis cannot take it); once the network is back, the
    worker Render starts sends what waited, once."""
    from authentication.models import User
    from emails.models import Email

    bound = 8
    proxy = TcpProxy("127.0.0.1", private_redis.port)
    through_proxy = f"redis://127.0.0.1:{proxy.port}/0"
    env = {**FAST, "WORKER_STALL_SECONDS": str(bound)}
    worker = start_worker(REDIS_URL=through_proxy, RENDER_INSTANCE_ID="cut-off", **env)
    node_of("cut-off", private_redis.url)
    proxy.partition(hanging=hanging)
    partitioned_at = time.monotonic()
    code = worker.process.wait(timeout=4 * bound + 30)
    noticed_after = time.monotonic() - partitioned_at
    User.objects.create_user("waited@example.com")
    email = Email.objects.create(kind=Email.Kind.VERIFICATION, address="waited@example.com")
    with publishing(private_redis.url) as publish:
        publish(email.pk)
    time.sleep(max(0.0, 2 * bound - (time.monotonic() - partitioned_at)))
    proxy.heal()
    healed_at = time.monotonic()
    start_worker(REDIS_URL=through_proxy, RENDER_INSTANCE_ID="fresh", **env)
    [request] = fake_sendgrid.wait_for(1, timeout=60)
    sent_after_heal = time.monotonic() - healed_at
    time.sleep(2)  # nothing else comes
    assert (
        code,
        noticed_after <= bound + 2 * 1 + 5,  # the bound, a heartbeat or two, exiting
        "Redis does not answer" in worker.log,
        counted()[stall.CUT_OFF],
        request.to,
        len(fake_sendgrid.requests),
    ) == (70, True, True, 1, "waited@example.com", 1), worker.log[-3000:]
    print(f"noticed after {noticed_after:.1f}s; sent {sent_after_heal:.1f}s after the heal")
    proxy.close()
