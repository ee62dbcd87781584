"""``python manage.py doctor`` run as an operator runs it from a service's shell, against
the real PostgreSQL, Redis and worker processes, each fault made for real: it names what
is wrong and what to fix, exits 1, and never prints a traceback or a secret."""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.utils import timezone

from emails.delivery_events import events_apply
from emails.models import Email
from emails.outcomes import DeliveryEvent
from remosphere import cron_runs
from stack.ports import free as free_port
from stack.processes import with_venv_on_path
from stack.redis_server import RedisServer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "pw-that-must-never-be-printed"


@dataclass(frozen=True)
class Report:
    code: int
    output: str  # stdout and stderr
    body: dict | None  # the JSON report

    @property
    def findings(self) -> dict[str, dict]:
        """check -> its finding"""
        return {f["check"]: f for f in (self.body or {}).get("findings", [])}

    def status(self, check: str) -> str | None:
        return self.findings.get(check, {}).get("status")

    def statuses(self) -> dict[str, str]:
        return {check: finding["status"] for check, finding in self.findings.items()}


@pytest.fixture
def doctor(worker_env) -> Callable[..., Report]:
    """Runs the command in a process of its own with the worker's environment (the test
    database, the tests' Redis), ``overrides`` on top; ``--format json`` unless told."""

    def run(*args: str, **overrides: str) -> Report:
        args = args or ("--format", "json")
        result = subprocess.run(
            [str(ROOT / ".venv/bin/python"), "manage.py", "doctor", *args],
            cwd=ROOT,
            env=with_venv_on_path({**worker_env, **overrides}),
            capture_output=True,
            text=True,
            timeout=60,
        )
        body = json.loads(result.stdout) if "json" in args else None
        return Report(result.returncode, result.stdout + result.stderr, body)

    return run


@pytest.fixture
def swept(redis_client) -> None:
    from django.core.management import call_command

    call_command("sweep_emails")


def test_a_healthy_deployment_is_all_ticks_and_exit_0(doctor, start_worker, swept):
    worker = start_worker(RENDER_INSTANCE_ID="doctor-test")
    report = doctor()
    assert (report.code, [c for c, s in report.statuses().items() if s != "ok"]) == (0, []), (
        report.output + worker.log
    )
    assert "doctor-test@" in report.findings["workers"]["detail"]


def test_the_text_report_ticks_each_check_and_says_how_to_fix_what_is_wrong(doctor):
    report = doctor("--format", "text")  # no worker: one thing wrong
    lines = report.output.splitlines()
    assert (
        report.code,
        any(line.startswith("✓ postgresql: reachable") for line in lines),
        any(line.startswith("✗ workers: no worker alive") for line in lines),
        any(line.strip().startswith("fix: check the worker service") for line in lines),
        lines[-1],
    ) == (1, True, True, True, "doctor: 1 problem(s) found")


def test_with_no_worker_it_says_emails_wait(doctor, swept):
    report = doctor()
    assert (report.code, report.status("workers"), report.status("email task")) == (1, "fail", None)


def test_redis_down_is_named_with_its_fix_and_no_password(doctor):
    url = f"redis://:{PASSWORD}@127.0.0.1:{free_port()}/0"
    report = doctor(REDIS_URL=url)
    assert {
        "code": report.code,
        "redis": report.status("redis"),
        "broker": report.status("broker"),
        "workers": report.status("workers"),
        "queue": report.status("queue"),
        "postgresql": report.status("postgresql"),
        "fix": "REDIS_URL" in report.findings["redis"]["fix"],
        "leaks": PASSWORD in report.output or "Traceback" in report.output,
    } == {
        "code": 1,
        "redis": "fail",
        "broker": "fail",
        "workers": "unknown",
        "queue": "unknown",
        "postgresql": "ok",
        "fix": True,
        "leaks": False,
    }


def test_postgresql_down_is_named_with_its_fix_and_no_password(doctor):
    report = doctor(DATABASE_URL=f"postgresql://root:{PASSWORD}@127.0.0.1:{free_port()}/test")
    assert {
        "code": report.code,
        "postgresql": report.status("postgresql"),
        "outbox": report.status("outbox"),
        "redis": report.status("redis"),
        "fix": "DATABASE_URL" in report.findings["postgresql"]["fix"],
        "leaks": PASSWORD in report.output or "Traceback" in report.output,
    } == {
        "code": 1,
        "postgresql": "fail",
        "outbox": "unknown",
        "redis": "ok",
        "fix": True,
        "leaks": False,
    }


def test_a_worker_alive_but_not_consuming_is_told_from_a_dead_one(doctor, start_worker, swept):
    from operations.liveness import live_workers
    from remosphere.celery import app

    start_worker(RENDER_INSTANCE_ID="stuck", WORKER_PROBE_SECONDS="1")
    [node] = live_workers()
    app.control.cancel_consumer("remosphere", destination=[node], reply=True, timeout=5)

    deadline = time.monotonic() + 30
    while (report := doctor()).status("workers") == "ok" and time.monotonic() < deadline:
        time.sleep(1)
    assert (report.code, report.status("workers"), "not consuming" in report.output) == (
        1,
        "fail",
        True,
    ), report.output


@pytest.fixture
def evicting_redis() -> Iterator[RedisServer]:
    server = RedisServer(maxmemory_policy="allkeys-lru").start()
    yield server
    server.stop()


def test_a_redis_that_evicts_keys_is_refused_for_the_tasks_it_would_drop(doctor, evicting_redis):
    report = doctor(REDIS_URL=evicting_redis.url)
    finding = report.findings["redis eviction policy"]
    assert (report.code, finding["status"], "noeviction" in finding["fix"]) == (1, "fail", True)


def test_emails_that_failed_in_the_last_hour_are_counted_with_their_reason(doctor, swept):
    for n in range(2):
        Email.objects.create(
            kind=Email.Kind.VERIFICATION,
            address=f"bounced{n}@example.com",
            status=Email.Status.FAILED,
            failed_at=timezone.now(),
            last_error="SendGrid refused it (400): invalid address",
        )
    finding = doctor().findings["outbox failures"]
    assert (finding["status"], "2x SendGrid refused it (400)" in finding["detail"]) == (
        "fail",
        True,
    )


def test_a_failed_sweep_run_is_reported_with_what_it_said(doctor, redis_client):
    cron_runs.record(
        cron_runs.SWEEP, ok=False, summary="could not reach PostgreSQL", client=redis_client
    )
    finding = doctor().findings["sweep"]
    assert (finding["status"], "could not reach PostgreSQL" in finding["detail"]) == (
        "fail",
        True,
    )


def test_in_production_it_checks_the_variables_of_the_service_it_runs_in(doctor):
    report = doctor(
        RENDER="true", RENDER_SERVICE_TYPE="worker", SECRET_KEY=secrets.token_urlsafe(50)
    )
    environment = report.findings["environment"]
    assert (
        report.body["process"],
        environment["status"],
        "DEFAULT_FROM_EMAIL" in environment["detail"],  # a worker's variable, unset here
        "SENDGRID_API_KEY" in environment["detail"],  # set by the test's environment
        "METRICS_TOKEN" in environment["detail"],  # the web's
    ) == ("worker", "fail", True, False, False)


def reported(outcome: str, count: int) -> None:
    """``count`` emails sent now, and SendGrid's news of each applied as the webhook does."""
    now = timezone.now()
    emails = Email.objects.bulk_create(
        Email(kind=Email.Kind.VERIFICATION, address=f"{outcome}{n}@example.com",
              status=Email.Status.SENT, sent_at=now)
        for n in range(count)
    )  # fmt: skip
    events_apply(
        DeliveryEvent(email.pk, email.address, Email.Outcome(outcome), now, "", None, False)
        for email in emails
    )


def test_a_wave_of_blocks_fails_delivery_with_advice_about_the_sender_not_the_addresses(
    doctor, swept
):
    reported(Email.Outcome.DELIVERED, 20)
    reported(Email.Outcome.BLOCKED, 10)
    finding = doctor().findings["email delivery"]
    assert (
        finding["status"],
        "10 blocked" in finding["detail"],
        "bounce rate 0.0%" in finding["detail"],  # blocks are not bounces
        "reputation" in finding["fix"] and "nothing is suppressed" in finding["fix"],
    ) == ("fail", True, True, True), finding
