"""Every email's fate, end to end through the entrypoints: a real Gunicorn web
(docker/web-entrypoint.sh) takes SendGrid's signed Event Webhook, a real worker sends
through the local SendGrid, which reports back what became of each email in signed
batches, as SendGrid does. A registration is followed to ``delivered``; a bounce
suppresses the address and the next email to it is not sent, while the API answers as
for any address; every bad request to the webhook gets its own answer and changes
nothing; the figures show in /metrics and doctor."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from emails.models import Email, Suppression
from stack.http import call
from stack.processes import with_venv_on_path
from standins.sendgrid import Reporting
from standins.sendgrid_events import EventSigner, event

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a-long-and-unusual-passphrase"
METRICS_TOKEN = "metrics-token-for-the-delivery-test"
Outcome, Status = Email.Outcome, Email.Status


@pytest.fixture
def sendgrid_key() -> EventSigner:
    """SendGrid's signing key pair; the web gets the public half, as from the dashboard."""
    return EventSigner()


@pytest.fixture
def web(start_web, worker_env, sendgrid_key):
    return start_web(
        {
            **worker_env,
            "SENDGRID_WEBHOOK_PUBLIC_KEY": sendgrid_key.public_key,
            "METRICS_TOKEN": METRICS_TOKEN,
        }
    )


@pytest.fixture
def reporting(web, fake_sendgrid, sendgrid_key):
    """The local SendGrid reports every accepted email's events to the web's webhook."""

    def report(**by_address: tuple[str, ...]) -> None:
        fake_sendgrid.report_events(
            Reporting(f"{web.url}/webhooks/sendgrid", sendgrid_key, by_address=by_address)
        )

    return report


def register(web, address: str) -> None:
    body = {"email": address, "password": PASSWORD}
    assert call("POST", f"{web.url}/api/auth/register", body).status == 201


def row(address: str, kind: str = Email.Kind.VERIFICATION) -> Email:
    return Email.objects.filter(address=address, kind=kind).latest("id")


def eventually(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_a_registration_is_followed_to_delivered(web, reporting, start_worker, fake_sendgrid):
    reporting()  # processed, then delivered
    start_worker()
    register(web, "ada@example.com")
    [request] = fake_sendgrid.wait_for(1)
    [reply] = fake_sendgrid.wait_for_reports(1)
    email = row("ada@example.com")
    assert (email.status, email.message_id, email.outcome, reply.json["applied"],
            reply.json["untracked"]) == (Status.SENT, request.message_id, Outcome.DELIVERED,
                                         1, 1)  # fmt: skip


def test_a_bounce_suppresses_the_address_and_the_next_email_is_not_sent(
    web, reporting, start_worker, fake_sendgrid
):
    reporting(**{"gone@example.com": ("processed", "bounce")})
    start_worker()
    register(web, "gone@example.com")
    fake_sendgrid.wait_for_reports(1)
    bounced = row("gone@example.com")
    # Asking for the link again: the API answers exactly as for an address never seen.
    suppressed_reply = call(
        "POST", f"{web.url}/api/auth/resend-verification", {"email": "gone@example.com"}
    )
    unknown_reply = call(
        "POST", f"{web.url}/api/auth/resend-verification", {"email": "never@example.com"}
    )
    assert eventually(lambda: row("gone@example.com").status == Status.SUPPRESSED)
    again = row("gone@example.com")
    assert (
        bounced.outcome,
        Suppression.objects.get(lifted_at__isnull=True).address,
        (suppressed_reply.status, suppressed_reply.json),
        again.last_error.startswith("suppressed: it bounced"),
        [r.to for r in fake_sendgrid.requests],
    ) == (
        Outcome.BOUNCED,
        "gone@example.com",
        (unknown_reply.status, unknown_reply.json),
        True,
        ["gone@example.com"],
    )


def test_delivery_figures_show_in_metrics_and_doctor(
    web, reporting, start_worker, fake_sendgrid, worker_env
):
    reporting(**{"gone@example.com": ("bounce",)})
    start_worker()
    register(web, "ada@example.com")
    register(web, "gone@example.com")
    fake_sendgrid.wait_for_reports(2)
    scrape = call(
        "GET", f"{web.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    ).json
    doctor = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "manage.py", "doctor", "--format", "json"],
        cwd=ROOT,
        env=with_venv_on_path(worker_env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    [delivery] = [
        f for f in json.loads(doctor.stdout)["findings"] if f["check"] == "email delivery"
    ]
    lines = [line for line in scrape.splitlines() if not line.startswith("#")]
    assert (
        "remosphere_emails_delivered_last_hour 1.0" in lines,
        "remosphere_emails_bounced_last_hour 1.0" in lines,
        "remosphere_emails_bounce_rate_last_hour 0.5" in lines,
        "remosphere_suppressed_addresses 1.0" in lines,
        'remosphere_sendgrid_events_total{result="applied"} 2.0' in lines,
        "1 delivered, 1 bounced" in delivery["detail"],
    ) == (True, True, True, True, True, True), scrape + doctor.stdout


# --- bad requests: each its own answer, none changes anything -------------------------------


def post(web, body: bytes, headers: dict[str, str]):
    return call("POST", f"{web.url}/webhooks/sendgrid", raw=body, headers=headers)


def oversized_status(web, sendgrid_key) -> int:
    """A batch announcing 5 MB: the web answers 413 before reading it (the client may not
    even finish sending), so a raw socket sends the start and reads the answer."""
    url = urlsplit(web.url)
    headers = sendgrid_key.headers(b"[]")
    head = (
        "POST /webhooks/sendgrid HTTP/1.1\r\n"
        f"Host: {url.netloc}\r\nContent-Length: {5 * 1024 * 1024}\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        + "\r\n"
    )
    with socket.create_connection((url.hostname, url.port), timeout=10) as conn:
        conn.sendall(head.encode() + b"[" + b" " * 65536)
        status_line = conn.makefile("rb").readline().decode()
    return int(status_line.split()[1])


def test_bad_requests_get_their_answer_and_change_nothing(
    web, start_worker, fake_sendgrid, sendgrid_key
):
    start_worker()
    register(web, "ada@example.com")
    fake_sendgrid.wait_for(1)
    assert eventually(lambda: row("ada@example.com").status == Status.SENT)
    email = row("ada@example.com")
    mine = event("bounce", email=email.address, email_id=email.pk, message_id=email.message_id)
    good = json.dumps([mine]).encode()
    signed = sendgrid_key.headers(good)
    deep = b"[" * 5000 + b"]" * 5000
    cases = {
        "unsigned": (good, {"Content-Type": "application/json"}),
        "forged": (good, EventSigner().headers(good)),
        "tampered": (good.replace(b"bounce", b"delivered"), signed),
        "truncated": (good[:-5], signed),
        "replayed": (good, sendgrid_key.headers(good, timestamp=int(time.time()) - 25 * 3600)),
        "from the future": (good, sendgrid_key.headers(good, timestamp=int(time.time()) + 3600)),
        "not JSON": (b"delivered!", sendgrid_key.headers(b"delivered!")),
        "deeply nested": (deep, sendgrid_key.headers(deep)),
        "not a list": (b'{"event": "bounce"}', sendgrid_key.headers(b'{"event": "bounce"}')),
    }
    answers = {name: post(web, *case).status for name, case in cases.items()}
    answers["oversized"] = oversized_status(web, sendgrid_key)
    unsigned = post(web, *cases["unsigned"])
    typed = [1, "x", None, {**mine, "remosphere_email_id": {"$gt": 0}}, {**mine, "event": 3}]
    other_project = [{**mine, "sg_message_id": "anotherProjectsMessage.filter"}]
    counts = {
        "wrongly typed": post(web, json.dumps(typed).encode(), sendgrid_key.headers(
            json.dumps(typed).encode())).json,
        "another project's id": post(web, json.dumps(other_project).encode(),
                                     sendgrid_key.headers(json.dumps(other_project).encode())).json,
    }  # fmt: skip
    email.refresh_from_db()
    assert (
        answers,
        unsigned.headers.get("WWW-Authenticate"),
        call("GET", f"{web.url}/webhooks/sendgrid").status,
        counts["wrongly typed"]["malformed"],
        counts["another project's id"]["foreign"],
        (email.outcome, Suppression.objects.count()),
    ) == (
        {
            "unsigned": 401,
            "forged": 403,
            "tampered": 403,
            "truncated": 403,
            "replayed": 403,
            "from the future": 403,
            "oversized": 413,
            "not JSON": 400,
            "deeply nested": 400,
            "not a list": 400,
        },
        'Signature realm="sendgrid-events"',
        405,
        5,
        1,
        (Outcome.NONE, 0),
    )
    # and the genuine batch, after all that, is applied
    assert post(web, good, sendgrid_key.headers(good)).json["applied"] == 1


def test_without_the_key_the_webhook_is_off(start_web, worker_env, sendgrid_key):
    web = start_web(worker_env)
    body = b"[]"
    reply = call(
        "POST", f"{web.url}/webhooks/sendgrid", raw=body, headers=sendgrid_key.headers(body)
    )
    assert (reply.status, reply.json["code"]) == (404, "not_configured")


def test_a_key_that_is_not_a_public_key_stops_the_web_and_fails_the_validator(tmp_path):
    bad = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEnot-a-real-key"
    env = with_venv_on_path({"PATH": os.environ["PATH"], "SENDGRID_WEBHOOK_PUBLIC_KEY": bad})
    web = subprocess.run(
        ["docker/web-entrypoint.sh"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    env_file = tmp_path / "web.env"
    env_file.write_text(f"SENDGRID_WEBHOOK_PUBLIC_KEY={bad}\n")
    validator = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "scripts/validate_blueprint.py", "--env", "web",
         "--env-file", str(env_file), "--local"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    said = web.stdout + web.stderr
    assert (
        web.returncode != 0,
        "SENDGRID_WEBHOOK_PUBLIC_KEY" in said,
        "P-256 public key" in said,
        bad in said,
        validator.returncode,
        "E002 SENDGRID_WEBHOOK_PUBLIC_KEY" in validator.stdout,
    ) == (True, True, True, False, 1, True), said + validator.stdout


def test_a_batch_sendgrid_retries_hours_later_is_applied_once(
    web, fake_sendgrid, start_worker, sendgrid_key
):
    """SendGrid retries a batch the web did not take for up to 24 hours, perhaps with its
    first timestamp: one signed 6 hours ago is applied, and the same batch again (it was
    applied) changes nothing and is still answered 200."""
    start_worker()
    register(web, "late@example.com")
    fake_sendgrid.wait_for(1)
    assert eventually(lambda: row("late@example.com").message_id)
    email = row("late@example.com")
    batch = [
        event("delivered", email=email.address, email_id=email.pk, message_id=email.message_id)
    ]
    six_hours_ago = int(time.time()) - 6 * 3600
    url = f"{web.url}/webhooks/sendgrid"
    first, again = (sendgrid_key.post(url, batch, timestamp=six_hours_ago) for _ in range(2))
    email.refresh_from_db()
    assert (
        (first.status, first.json["applied"]),
        (again.status, again.json["unchanged"]),
        email.outcome,
    ) == ((200, 1), (200, 1), Outcome.DELIVERED)


def test_the_hour_s_figures_count_what_happened_not_the_rows_latest_outcome(
    web, fake_sendgrid, start_worker, sendgrid_key
):
    """Delivered, then reported as spam (two signed batches): the row keeps the spam
    report, and the hour counts both the delivery and the report."""
    start_worker()
    register(web, "ada@example.com")
    fake_sendgrid.wait_for(1)
    assert eventually(lambda: row("ada@example.com").message_id)
    email = row("ada@example.com")
    said = {"email": email.address, "email_id": email.pk, "message_id": email.message_id}
    url = f"{web.url}/webhooks/sendgrid"
    answers = [
        sendgrid_key.post(url, [event("delivered", **said)]).status,
        sendgrid_key.post(url, [event("spamreport", **said)]).status,
        sendgrid_key.post(url, [event("delivered", **said)]).status,  # a retry: once
    ]
    scrape = call(
        "GET", f"{web.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    ).json
    lines = [line for line in scrape.splitlines() if not line.startswith("#")]
    email.refresh_from_db()
    assert (
        answers,
        email.outcome,
        "remosphere_emails_delivered_last_hour 1.0" in lines,
        "remosphere_emails_spam_report_last_hour 1.0" in lines,
        "remosphere_emails_bounce_rate_last_hour 0.0" in lines,
    ) == ([200, 200, 200], Outcome.SPAM_REPORT, True, True, True), scrape
