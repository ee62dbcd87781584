"""``GET /metrics``, read by prometheus-client's own parser as a Prometheus server would:
behind its token, never cached, and every figure read from the real Redis, PostgreSQL
and a real worker; under Gunicorn, one scrape sees every process of the instance."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from authentication import services
from emails.models import Email
from operations import autoscaler
from remosphere import cron_runs
from stack.http import call
from stack.ports import free as free_port

TOKEN = secrets.token_urlsafe(32)
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def labels_of(samples: Samples, name: str) -> list[dict[str, str]]:
    return [dict(labels) for (sample, labels) in samples if sample == name]


@pytest.fixture
def scrape(client, settings) -> Callable[[], Samples]:
    settings.METRICS_TOKEN = TOKEN

    def get() -> Samples:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200, response.content
        return parse(response.content.decode())

    return get


def wait_for(read: Callable[[], Samples], condition: Callable[[Samples], bool]) -> Samples:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if condition(samples := read()):
            return samples
        time.sleep(0.25)
    raise AssertionError(f"not within 30s; last scrape: {samples}")


# --- access -------------------------------------------------------------------------


def test_metrics_are_off_until_a_token_is_set(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Token {TOKEN}", f"Basic {TOKEN}", "Bearer"],
    # Named, not shown: the token is random, and xdist's workers must collect the same ids.
    ids=["none", "wrong-token", "token-scheme", "basic-scheme", "bearer-alone"],
)
def test_without_the_bearer_token_it_asks_for_one(client, settings, authorization):
    settings.METRICS_TOKEN = TOKEN
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = client.get("/metrics", **headers)
    assert (response.status_code, response["WWW-Authenticate"], TOKEN in str(response.content)) == (
        401,
        'Bearer realm="metrics"',
        False,
    )


@pytest.mark.django_db
def test_a_scrape_is_prometheus_text_and_never_cached(client, settings, redis_client):
    settings.METRICS_TOKEN = TOKEN
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert (
        response.status_code,
        response["Content-Type"].startswith("text/plain; version=0.0.4"),
        "no-store" in response["Cache-Control"],
    ) == (200, True, True)


# --- the system's figures ---------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_queue_grows_while_no_worker_takes_and_empties_as_one_drains_it(
    scrape, start_worker, fake_sendgrid
):
    for n in range(3):
        services.user_register(email=f"queued{n}@example.com", password="a-long-passphrase-1")
    time.sleep(0.05)  # the oldest message has an age
    waiting = scrape()

    worker = start_worker(RENDER_INSTANCE_ID="metrics-test")
    fake_sendgrid.wait_for(3, timeout=30)
    drained = wait_for(
        scrape, lambda s: value(s, "remosphere_emails_sent_total", kind="verification") == 3
    )
    [node] = [labels["hostname"] for labels in labels_of(drained, "celery_worker_up")]

    assert (
        value(waiting, "celery_queue_length", queue_name="remosphere"),
        value(waiting, "remosphere_queue_latency_seconds", queue_name="remosphere") > 0,
        value(waiting, "remosphere_outbox_emails", kind="verification", status="pending"),
        value(waiting, "remosphere_outbox_oldest_open_age_seconds") > 0,
        value(waiting, "celery_active_worker_count", queue_name="remosphere"),
    ) == (3, True, 3, True, 0)
    assert (
        value(drained, "celery_queue_length", queue_name="remosphere"),
        value(drained, "remosphere_queue_latency_seconds", queue_name="remosphere"),
        value(drained, "remosphere_outbox_emails", kind="verification", status="sent"),
        value(drained, "remosphere_outbox_oldest_open_age_seconds"),
        node.startswith("metrics-test@"),
        value(drained, "celery_worker_up", hostname=node),
        value(drained, "remosphere_worker_consuming", hostname=node),
        value(drained, "celery_active_consumer_count", queue_name="remosphere"),
    ) == (0, 0, 3, 0, True, 1, 1, 1), worker.log


@pytest.mark.django_db
def test_the_outbox_figures_are_its_rows(scrape, redis_client):
    now = timezone.now()
    Failed, Sent = Email.Status.FAILED, Email.Status.SENT

    def email(n: int, kind: str, status: str, **fields) -> Email:
        return Email.objects.create(kind=kind, address=f"r{n}@example.com", status=status, **fields)

    email(1, "verification", Sent, attempts=1, sent_at=now)
    email(2, "verification", Sent, attempts=3, sent_at=now)  # two retries
    email(3, "password_reset", Sent, attempts=1, sent_at=now)
    email(4, "verification", Failed, attempts=5, failed_at=now, last_error="refused: 400")
    email(5, "verification", Failed, attempts=1, failed_at=now - timezone.timedelta(hours=2))
    samples = scrape()

    assert {
        "sent": value(samples, "remosphere_emails_sent_total", kind="verification"),
        "reset sent": value(samples, "remosphere_emails_sent_total", kind="password_reset"),
        "failed": value(samples, "remosphere_emails_failed_total", kind="verification"),
        "retries": value(samples, "remosphere_email_retries_total", kind="verification"),
        "failed last hour": value(samples, "remosphere_emails_failed_last_hour"),
        "nothing open": value(samples, "remosphere_outbox_oldest_open_age_seconds"),
    } == {
        "sent": 2,
        "reset sent": 1,
        "failed": 2,
        "retries": 2 + 4,
        "failed last hour": 1,
        "nothing open": 0,
    }


@pytest.mark.django_db
def test_the_cron_jobs_last_runs_and_the_autoscalers_last_decision_are_shown(scrape, redis_client):
    cron_runs.record(cron_runs.SWEEP, ok=True, summary="re-enqueued 0 emails", client=redis_client)
    cron_runs.record(
        cron_runs.AUTOSCALE, ok=False, summary="Render answered 503", client=redis_client
    )
    decision = {
        **{"at": "2026-11-26T12:00:00+00:00", "acted": True, "dry_run": False},
        **{"instances_before": 1, "instances_after": 3},
        "reason": "latency 90s over the 30s target",
    }
    autoscaler.save_memory(redis_client, autoscaler.Memory(last_decision=decision))
    samples = scrape()

    [info] = labels_of(samples, "remosphere_autoscaler_last_decision_info")
    assert (
        value(samples, "remosphere_job_last_run_success", job="sweep"),
        value(samples, "remosphere_job_last_run_success", job="autoscale"),
        time.time() - value(samples, "remosphere_job_last_run_timestamp_seconds", job="sweep") < 60,
        value(samples, "remosphere_autoscaler_last_decision_instances", when="after"),
        info["reason"],
    ) == (1, 0, True, 3, "latency 90s over the 30s target")


@pytest.mark.django_db
def test_with_redis_unreachable_the_scrape_answers_and_says_which_source_is_down(scrape, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    samples = scrape()
    assert (
        value(samples, "remosphere_metrics_source_up", source="redis"),
        value(samples, "remosphere_metrics_source_up", source="postgresql"),
        value(samples, "celery_queue_length", queue_name="remosphere"),
        value(samples, "remosphere_emails_failed_last_hour"),
    ) == (0, 1, None, 0)


# --- the web's own requests, across Gunicorn's processes ------------------------------------


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_under_gunicorn_every_scrape_counts_the_requests_of_every_process(start_web, worker_env):
    web = start_web({**worker_env, "WEB_CONCURRENCY": "3", "METRICS_TOKEN": TOKEN})

    def counted() -> tuple[float | None, float | None]:
        reply = call("GET", f"{web.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        samples = parse(reply.json)
        return (
            value(samples, "remosphere_http_request_duration_seconds_count",
                  route="/healthz", method="GET", status="200"),
            value(samples, "remosphere_http_request_duration_seconds_count",
                  route="unmatched", method="GET", status="404"),
        )  # fmt: skip

    before, _ = counted()  # the start-up's own health checks
    for _ in range(30):
        assert call("GET", f"{web.url}/healthz").status == 200
    call("GET", f"{web.url}/no-such-page-{secrets.token_hex(4)}")

    # Each scrape lands on whichever process is free; each sees the instance's total.
    assert {counted() for _ in range(10)} == {(before + 30, 1)}


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_metrics_directory_the_entrypoint_made_goes_with_the_web(
    start_web, worker_env, tmp_path
):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    web = start_web({**worker_env, "TMPDIR": str(scratch)})
    [made] = scratch.glob("remosphere-metrics.*")
    assert call("GET", f"{web.url}/healthz").status == 200
    assert list(made.glob("*.db"))  # in use: the processes' metric files

    web.stop()

    assert web.process.returncode == 0
    assert list(scratch.iterdir()) == []


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_metrics_directory_the_operator_named_is_kept(start_web, worker_env, tmp_path):
    named = tmp_path / "metrics"
    web = start_web({**worker_env, "PROMETHEUS_MULTIPROC_DIR": str(named)})
    assert call("GET", f"{web.url}/healthz").status == 200

    web.stop()

    assert named.is_dir()
